/* ice_lite.c — per-transport ICE-lite state machine and SDP candidate lines
 * (see ice_lite.h for the selection rules). Hand-written: libnice's agent is
 * a full agent with its own sockets, which cannot share one port among
 * participants; only its STUN codec is used (through stun.c). */
#include "ice/ice_lite.h"

#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 8839 ice-char = ALPHA / DIGIT / "+" / "/": 64 symbols, so a random byte
 * masked to 6 bits picks one uniformly. */
static const char iceChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static bool isIceChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

bool tbIceIsIceChars(const char *s, size_t minlen, size_t maxlen) {
    if (s == NULL) return false;
    size_t n = strnlen(s, maxlen + 1);
    if (n < minlen || n > maxlen) return false;
    for (size_t i = 0; i < n; i++)
        if (!isIceChar(s[i])) return false;
    return true;
}

static int genCreds(tbIceLite *ice) {
    uint8_t rnd[TB_ICE_LOCAL_UFRAG_LEN + TB_ICE_LOCAL_PWD_LEN];
    if (RAND_bytes(rnd, sizeof rnd) != 1) return -1;
    for (size_t i = 0; i < TB_ICE_LOCAL_UFRAG_LEN; i++) ice->local_ufrag[i] = iceChars[rnd[i] & 63];
    ice->local_ufrag[TB_ICE_LOCAL_UFRAG_LEN] = '\0';
    for (size_t i = 0; i < TB_ICE_LOCAL_PWD_LEN; i++)
        ice->local_pwd[i] = iceChars[rnd[TB_ICE_LOCAL_UFRAG_LEN + i] & 63];
    ice->local_pwd[TB_ICE_LOCAL_PWD_LEN] = '\0';
    return 0;
}

int tbIceLiteInit(tbIceLite *ice, uint64_t now_ms) {
    memset(ice, 0, sizeof *ice);
    ice->selected = -1;
    ice->state = TB_ICE_NEW;
    ice->created_ms = now_ms;
    ice->consent_timeout_ms = TB_ICE_CONSENT_TIMEOUT_MS;
    ice->disconnect_ms = TB_ICE_DISCONNECT_MS;
    ice->nominate_wait_ms = TB_ICE_NOMINATE_WAIT_MS;
    ice->connect_timeout_ms = TB_ICE_CONNECT_TIMEOUT_MS;
    return genCreds(ice);
}

int tbIceLiteSetRemote(tbIceLite *ice, const char *ufrag, const char *pwd) {
    if (!tbIceIsIceChars(ufrag, 4, TB_ICE_UFRAG_MAX)) return -1;
    if (pwd != NULL && !tbIceIsIceChars(pwd, 22, TB_ICE_PWD_MAX)) return -1;
    strcpy(ice->remote_ufrag, ufrag);
    if (pwd != NULL) strcpy(ice->remote_pwd, pwd);
    else ice->remote_pwd[0] = '\0';
    return 0;
}

static void setState(tbIceLite *ice, tbIceState st, unsigned *ev) {
    if (ice->state == st) return;
    ice->state = st;
    *ev |= TB_ICE_EV_STATE;
}

int tbIceLiteRestart(tbIceLite *ice, const char *remote_ufrag, const char *remote_pwd,
                     uint64_t now_ms) {
    unsigned ev = 0;
    if (ice->state == TB_ICE_CLOSED) return -1;
    if (remote_ufrag != NULL && tbIceLiteSetRemote(ice, remote_ufrag, remote_pwd) != 0)
        return -1;
    if (genCreds(ice) != 0) return -1;
    if (remote_ufrag == NULL) ice->remote_ufrag[0] = ice->remote_pwd[0] = '\0';
    for (int i = 0; i < TB_ICE_MAX_PAIRS; i++) ice->pairs[i].nominated = false;
    if (ice->state == TB_ICE_FAILED) {
        memset(ice->pairs, 0, sizeof ice->pairs);
        ice->selected = -1;
        setState(ice, TB_ICE_NEW, &ev);
    }
    ice->created_ms = now_ms;
    ice->generation++;
    return 0;
}

static bool sameAddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

bool tbIceTupleEqual(const tbIceTuple *a, const tbIceTuple *b) {
    return a->proto == b->proto && sameAddr(&a->addr, &b->addr);
}

int tbIceTupleSet(tbIceTuple *t, const struct sockaddr *sa, socklen_t len, tbIceProto proto) {
    memset(t, 0, sizeof *t);
    t->proto = proto;
    if (sa == NULL) return -1;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        memcpy(&t->addr, sa, sizeof(struct sockaddr_in));
        t->addrlen = sizeof(struct sockaddr_in);
        return 0;
    }
    if (sa->sa_family != AF_INET6 || len < (socklen_t)sizeof(struct sockaddr_in6)) return -1;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&t->addr;
        s4->sin_family = AF_INET;
        s4->sin_port = s6->sin6_port;
        memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
        t->addrlen = sizeof *s4;
        return 0;
    }
    memcpy(&t->addr, s6, sizeof *s6);
    t->addrlen = sizeof *s6;
    return 0;
}

static int findPair(const tbIceLite *ice, const tbIceTuple *t) {
    for (int i = 0; i < TB_ICE_MAX_PAIRS; i++)
        if (ice->pairs[i].used && tbIceTupleEqual(&ice->pairs[i].remote, t)) return i;
    return -1;
}

/* A slot for a new valid tuple: a free one, else the least recently heard
 * pair other than the selected one (reported as evicted). */
static int addPair(tbIceLite *ice, const tbIceTuple *t, uint64_t now, tbIceInput *res) {
    int slot = -1;
    for (int i = 0; i < TB_ICE_MAX_PAIRS && slot < 0; i++)
        if (!ice->pairs[i].used) slot = i;
    if (slot < 0) {
        for (int i = 0; i < TB_ICE_MAX_PAIRS; i++) {
            if (i == ice->selected) continue;
            if (slot < 0 || ice->pairs[i].last_ms < ice->pairs[slot].last_ms) slot = i;
        }
        res->evicted = ice->pairs[slot].remote;
        res->events |= TB_ICE_EV_EVICTED;
    }
    tbIcePair *p = &ice->pairs[slot];
    memset(p, 0, sizeof *p);
    p->remote = *t;
    p->used = true;
    p->first_ms = now;
    res->events |= TB_ICE_EV_NEW_TUPLE;
    return slot;
}

static void selectPair(tbIceLite *ice, int i, unsigned *ev) {
    if (ice->selected == i) return;
    ice->selected = i;
    *ev |= TB_ICE_EV_SELECTED;
}

/* State after a valid check or indication. */
static void onAlive(tbIceLite *ice, unsigned *ev) {
    setState(ice, ice->selected >= 0 ? TB_ICE_CONNECTED : TB_ICE_CHECKING, ev);
}

static void onValidCheck(tbIceLite *ice, const tbIceTuple *from, uint64_t now,
                         tbIceInput *res) {
    int i = findPair(ice, from);
    if (i < 0) i = addPair(ice, from, now, res);
    tbIcePair *p = &ice->pairs[i];
    p->priority = res->check.priority;
    p->last_ms = now;
    ice->last_valid_ms = now;
    if (res->check.use_candidate) {
        p->nominated = true;
        selectPair(ice, i, &res->events); /* the most recent nomination wins */
    }
    onAlive(ice, &res->events);
}

static void onIndication(tbIceLite *ice, const tbIceTuple *from, uint64_t now, tbIceInput *res) {
    int i = findPair(ice, from);
    if (i < 0) return; /* unauthenticated: only a known 5-tuple refreshes consent */
    ice->pairs[i].last_ms = now;
    ice->last_valid_ms = now;
    onAlive(ice, &res->events);
}

tbStunStatus tbIceLiteHandleStun(tbIceLite *ice, tbStunCtx *ctx, const uint8_t *pkt,
                                 size_t len, const tbIceTuple *from, uint64_t now_ms,
                                 uint8_t *out, size_t out_cap, tbIceInput *res) {
    memset(res, 0, sizeof *res);
    if (ice->state == TB_ICE_CLOSED || ice->state == TB_ICE_FAILED) return TB_STUN_IGNORED;
    tbStunCreds creds = {ice->local_ufrag, ice->local_pwd, ice->remote_ufrag};
    tbStunStatus st = tbStunBindingResponse(ctx, pkt, len, &creds,
                                            (const struct sockaddr *)&from->addr, from->addrlen,
                                            ice->stun_flags, out, out_cap, &res->out_len,
                                            &res->check);
    switch (st) {
    case TB_STUN_OK:
        ice->checks_ok++;
        onValidCheck(ice, from, now_ms, res);
        break;
    case TB_STUN_INDICATION: onIndication(ice, from, now_ms, res); break;
    case TB_STUN_PLAIN_BINDING:
    case TB_STUN_NOT_STUN:
    case TB_STUN_IGNORED: break;
    default: ice->checks_bad++; break;
    }
    return st;
}

/* The fresh valid pair to select: highest PRIORITY, ties to the earliest. */
static int bestFreshPair(const tbIceLite *ice, uint64_t now) {
    int best = -1;
    for (int i = 0; i < TB_ICE_MAX_PAIRS; i++) {
        const tbIcePair *p = &ice->pairs[i];
        if (!p->used || now - p->last_ms >= ice->disconnect_ms) continue;
        if (best < 0 || p->priority > ice->pairs[best].priority ||
            (p->priority == ice->pairs[best].priority && p->first_ms < ice->pairs[best].first_ms))
            best = i;
    }
    return best;
}

/* Earliest first_ms of the valid pairs, or UINT64_MAX if there is none. */
static uint64_t firstValidMs(const tbIceLite *ice) {
    uint64_t first = UINT64_MAX;
    for (int i = 0; i < TB_ICE_MAX_PAIRS; i++)
        if (ice->pairs[i].used && ice->pairs[i].first_ms < first) first = ice->pairs[i].first_ms;
    return first;
}

/* Auto-selection: nobody nominated in time, or the selected pair went silent
 * while another one is alive. */
static void tickSelect(tbIceLite *ice, uint64_t now, unsigned *ev) {
    if (ice->selected < 0) {
        if (now - firstValidMs(ice) < ice->nominate_wait_ms) return;
    } else if (now - ice->pairs[ice->selected].last_ms < ice->disconnect_ms) {
        return;
    }
    int best = bestFreshPair(ice, now);
    if (best >= 0) selectPair(ice, best, ev);
}

bool tbIceLiteTick(tbIceLite *ice, uint64_t now_ms, unsigned *events) {
    unsigned ev = 0;
    bool failed = false;
    if (ice->state == TB_ICE_CLOSED || ice->state == TB_ICE_FAILED) goto done;
    uint64_t first = firstValidMs(ice);
    if (first == UINT64_MAX) {
        failed = now_ms - ice->created_ms >= ice->connect_timeout_ms;
    } else {
        failed = now_ms - ice->last_valid_ms >= ice->consent_timeout_ms;
    }
    if (failed) {
        setState(ice, TB_ICE_FAILED, &ev);
        goto done;
    }
    if (first == UINT64_MAX) goto done;
    tickSelect(ice, now_ms, &ev);
    if (ice->selected < 0) setState(ice, TB_ICE_CHECKING, &ev);
    else if (now_ms - ice->last_valid_ms >= ice->disconnect_ms)
        setState(ice, TB_ICE_DISCONNECTED, &ev);
    else setState(ice, TB_ICE_CONNECTED, &ev);
done:
    if (events != NULL) *events = ev;
    return failed;
}

void tbIceLiteClose(tbIceLite *ice) {
    ice->state = TB_ICE_CLOSED;
    ice->selected = -1;
    memset(ice->pairs, 0, sizeof ice->pairs);
}

const tbIceTuple *tbIceLiteSelected(const tbIceLite *ice) {
    return ice->selected >= 0 ? &ice->pairs[ice->selected].remote : NULL;
}

const tbIceTuple *tbIceLiteSendTuple(const tbIceLite *ice) {
    if (ice->selected >= 0) return &ice->pairs[ice->selected].remote;
    int last = -1;
    for (int i = 0; i < TB_ICE_MAX_PAIRS; i++)
        if (ice->pairs[i].used && (last < 0 || ice->pairs[i].last_ms > ice->pairs[last].last_ms))
            last = i;
    return last >= 0 ? &ice->pairs[last].remote : NULL;
}

bool tbIceLiteIsValidTuple(const tbIceLite *ice, const tbIceTuple *t) {
    return findPair(ice, t) >= 0;
}

const char *tbIceStateName(tbIceState st) {
    switch (st) {
    case TB_ICE_NEW: return "new";
    case TB_ICE_CHECKING: return "checking";
    case TB_ICE_CONNECTED: return "connected";
    case TB_ICE_DISCONNECTED: return "disconnected";
    case TB_ICE_FAILED: return "failed";
    case TB_ICE_CLOSED: return "closed";
    }
    return "unknown";
}

uint32_t tbIceCandidatePriority(unsigned type_pref, unsigned local_pref, unsigned component) {
    if (type_pref > 126) type_pref = 126;
    if (local_pref > 65535) local_pref = 65535;
    if (component < 1) component = 1;
    if (component > 256) component = 256;
    return ((uint32_t)type_pref << 24) + ((uint32_t)local_pref << 8) + (256 - component);
}

unsigned tbIceLocalPreference(tbIceProto proto, unsigned ip_index) {
    if (proto == TB_ICE_TCP) {
        if (ip_index > 8191) ip_index = 8191;
        return (TB_ICE_TCP_DIRECTION_PASSIVE << 13) + (8191 - ip_index);
    }
    if (ip_index > 65535) ip_index = 65535;
    return 65535 - ip_index;
}

/* An address token for a candidate line: printable, no spaces (IPv4, IPv6
 * without brackets, or an mDNS/FQDN name). */
static bool validAddrToken(const char *s) {
    size_t n = s ? strnlen(s, 256) : 0;
    if (n == 0 || n > 255) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~') return false;
    return true;
}

static bool oneOf(const char *s, const char *const *set) {
    for (; s != NULL && *set != NULL; set++)
        if (strcasecmp(s, *set) == 0) return true;
    return false;
}

int tbIceCandidateFormat(char *out, size_t outlen, const char *foundation, unsigned component,
                         const char *transport, uint32_t priority, const char *ip,
                         uint16_t port, const char *type, const char *tcptype) {
    static const char *const types[] = {"host", "srflx", "prflx", "relay", NULL};
    static const char *const tcptypes[] = {"active", "passive", "so", NULL};
    static const char *const udp[] = {"udp", NULL}, *const tcp[] = {"tcp", NULL};
    bool is_tcp = oneOf(transport, tcp);
    if (out == NULL || !tbIceIsIceChars(foundation, 1, 32) || component < 1 ||
        component > 256 || !(is_tcp || oneOf(transport, udp)) || !validAddrToken(ip) ||
        port == 0 || !oneOf(type, types))
        return -1;
    if (is_tcp ? !oneOf(tcptype, tcptypes) : (tcptype != NULL && tcptype[0] != '\0'))
        return -1;
    int n = snprintf(out, outlen, "candidate:%s %u %s %u %s %u typ %s%s%s", foundation,
                     component, transport, (unsigned)priority, ip, (unsigned)port, type,
                     is_tcp ? " tcptype " : "", is_tcp ? tcptype : "");
    if (n < 0 || (size_t)n >= outlen) return -1;
    return n;
}
