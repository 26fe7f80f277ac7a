/* turn_server.c — TURN (RFC 8656) server core: allocations, permissions,
 * channels, relaying decisions (see turn_server.h).
 *
 * STUN codec, long-term MESSAGE-INTEGRITY, FINGERPRINT and SOFTWARE are
 * libnice's StunAgent. The state machine is hand-written: no library offers a
 * socket-free TURN server core. EVEN-PORT gets an even relay port, but its
 * R bit (reserve the next port) is not honoured: no RESERVATION-TOKEN is
 * returned, which RFC 8656 §7.2 lets a client cope with (it then allocates
 * its RTCP relay separately). DONT-FRAGMENT and RESERVATION-TOKEN are not
 * supported, so (being comprehension-required) they are absent from the
 * known-attribute list and get 420 from libnice. */
#include "turn/turn_server.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <stun/stunagent.h>
#include <stun/stunmessage.h>

#include "turn/turn_nonce.h"

#define ATTR_REQUESTED_ADDRESS_FAMILY 0x0017
#define ATTR_EVEN_PORT 0x0018
#define CHANNEL_DATA_HEADER 4

typedef struct turnPerm {
    tbPeerAddr addr;  /* canonical peer IP */
    uint64_t expires; /* 0: slot free */
} turnPerm;

typedef struct turnChan {
    uint16_t num;                 /* 0x4000..0x7FFF, 0: slot free */
    tbPeerAddr addr;              /* canonical peer IP */
    uint16_t port;                /* peer port, host order */
    struct sockaddr_storage peer; /* canonical peer, where data goes */
    uint64_t expires;
} turnChan;

typedef struct turnAlloc {
    tbTurnTuple tuple;                    /* client 5-tuple */
    struct sockaddr_storage relay;        /* relayed transport address */
    char username[TB_TURN_USERNAME_MAX];  /* owner (441 for others) */
    uint8_t txid[12];                     /* Allocate transaction (retransmits) */
    uint64_t expires;                     /* monotonic seconds */
    turnPerm perms[TB_TURN_MAX_PERMISSIONS];
    turnChan chans[TB_TURN_MAX_CHANNELS];
    uint32_t slot;                        /* index in allocs */
    uint32_t next_tuple, next_relay;      /* hash chains: slot + 1, 0 = end */
} turnAlloc;

struct tbTurnServer {
    tbTurnServerConfig cfg;                /* copy; realm/secret point below */
    char *realm;                     /* owned copy */
    uint8_t *secret;                 /* owned copy */
    StunAgent agent_fp;              /* requests with FINGERPRINT; all replies */
    StunAgent agent_nofp;            /* requests without FINGERPRINT */
    turnAlloc **allocs;              /* max_allocations slots, NULL = free */
    size_t live;                     /* used slots */
    uint32_t *by_tuple;              /* hash buckets on the client 5-tuple and */
    uint32_t *by_relay;              /* on the relayed address: slot + 1, 0 = empty */
    size_t nbuckets;                 /* power of two, >= 2 * max_allocations */
    char user[TB_TURN_USERNAME_MAX]; /* scratch: USERNAME of this request */
    char pw[TB_TURN_PASSWORD_MAX];   /* scratch: its password (libnice's key) */
    unsigned key_index;              /* scratch: which password lookup returns */
    bool allocating;                 /* scratch: the request is an Allocate */
};

/* One request being answered. */
typedef struct turnReq {
    StunMessage msg;       /* the request */
    const tbTurnTuple *t;  /* where it came from */
    uint64_t now;
    bool authed;           /* long-term credentials checked: sign replies */
    turnAlloc *alloc;      /* allocation on this 5-tuple, or NULL */
    tbTurnOut *out;
} turnReq;

static const uint16_t knownAttrs[] = {
    STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_ERROR_CODE,
    STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, STUN_ATTRIBUTE_REALM, STUN_ATTRIBUTE_NONCE,
    STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_SOFTWARE, STUN_ATTRIBUTE_FINGERPRINT,
    STUN_ATTRIBUTE_CHANNEL_NUMBER, STUN_ATTRIBUTE_LIFETIME, STUN_ATTRIBUTE_XOR_PEER_ADDRESS,
    STUN_ATTRIBUTE_DATA, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS, STUN_ATTRIBUTE_REQUESTED_TRANSPORT,
    ATTR_REQUESTED_ADDRESS_FAMILY, ATTR_EVEN_PORT, 0};

/* ---- addresses ---------------------------------------------------------- */

static socklen_t ssLen(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) return sizeof(struct sockaddr_in);
    if (ss->ss_family == AF_INET6) return sizeof(struct sockaddr_in6);
    return 0;
}

static uint16_t ssPort(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

static void ssSetPort(struct sockaddr_storage *ss, uint16_t port) {
    if (ss->ss_family == AF_INET) ((struct sockaddr_in *)ss)->sin_port = htons(port);
    if (ss->ss_family == AF_INET6) ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Canonical IP of ss (IPv4-mapped and friends become IPv4). */
static tbPeerAddr ssAddr(const struct sockaddr_storage *ss) {
    tbPeerAddr a;
    memset(&a, 0, sizeof a);
    a.family = ss->ss_family;
    if (ss->ss_family == AF_INET)
        memcpy(a.b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    else if (ss->ss_family == AF_INET6)
        memcpy(a.b, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    tbPeerAddrCanonical(&a);
    return a;
}

static bool sameIp(const tbPeerAddr *a, const tbPeerAddr *b) {
    return a->family == b->family && memcmp(a->b, b->b, a->family == AF_INET ? 4 : 16) == 0;
}

static bool sameAddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    tbPeerAddr x = ssAddr(a), y = ssAddr(b);
    return sameIp(&x, &y) && ssPort(a) == ssPort(b);
}

static bool sameTuple(const tbTurnTuple *a, const tbTurnTuple *b) {
    return a->proto == b->proto && sameAddr(&a->client, &b->client) &&
           sameAddr(&a->server, &b->server);
}

/* A plain-IPv4 copy of an IPv4-mapped address, so XOR-MAPPED-ADDRESS shows
 * what the client sent from. */
static void ssUnmap(const struct sockaddr_storage *in, struct sockaddr_storage *out) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;
    *out = *in;
    if (in->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) return;
    struct sockaddr_in *s4 = (struct sockaddr_in *)out;
    memset(out, 0, sizeof *out);
    s4->sin_family = AF_INET;
    s4->sin_port = s6->sin6_port;
    memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
}

/* ---- lifecycle ---------------------------------------------------------- */

tbTurnServer *tbTurnServerNew(const tbTurnServerConfig *cfg) {
    if (cfg == NULL || cfg->realm == NULL || cfg->nonce_secret == NULL ||
        cfg->nonce_secret_len == 0 || cfg->max_allocations == 0 || cfg->cb.lookup == NULL ||
        cfg->cb.relay_open == NULL || cfg->policy == NULL || cfg->default_lifetime == 0 ||
        cfg->max_lifetime < cfg->default_lifetime)
        return NULL;
    tbTurnServer *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->cfg = *cfg;
    s->realm = strdup(cfg->realm);
    s->secret = malloc(cfg->nonce_secret_len);
    s->allocs = calloc(cfg->max_allocations, sizeof *s->allocs);
    for (s->nbuckets = 16; s->nbuckets < 2 * cfg->max_allocations; s->nbuckets *= 2) {}
    s->by_tuple = calloc(s->nbuckets, sizeof *s->by_tuple);
    s->by_relay = calloc(s->nbuckets, sizeof *s->by_relay);
    if (s->realm == NULL || s->secret == NULL || s->allocs == NULL || s->by_tuple == NULL ||
        s->by_relay == NULL)
        goto err;
    memcpy(s->secret, cfg->nonce_secret, cfg->nonce_secret_len);
    s->cfg.realm = s->realm;
    s->cfg.nonce_secret = s->secret;
    stun_agent_init(&s->agent_fp, knownAttrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    stun_agent_init(&s->agent_nofp, knownAttrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS);
    stun_agent_set_software(&s->agent_fp, "tribune");
    return s;
err:
    tbTurnServerFree(s);
    return NULL;
}

void tbTurnServerFree(tbTurnServer *s) {
    if (s == NULL) return;
    free(s->realm);
    free(s->secret);
    for (size_t i = 0; s->allocs != NULL && i < s->cfg.max_allocations; i++) free(s->allocs[i]);
    free(s->allocs);
    free(s->by_tuple);
    free(s->by_relay);
    free(s);
}

const char *tbTurnServerRealm(const tbTurnServer *s) { return s ? s->realm : ""; }

size_t tbTurnServerAllocationCount(const tbTurnServer *s) {
    return s ? s->live : 0;
}

/* ---- allocation index --------------------------------------------------- */

/* FNV-1a over an address and port (family-aware, padding excluded). */
static uint32_t hashAddr(uint32_t h, const struct sockaddr_storage *ss) {
    tbPeerAddr a = ssAddr(ss);
    uint16_t port = ssPort(ss);
    size_t n = a.family == AF_INET6 ? 16 : 4;
    for (size_t i = 0; i < n; i++) h = (h ^ a.b[i]) * 16777619u;
    h = (h ^ (uint8_t)(port >> 8)) * 16777619u;
    return (h ^ (uint8_t)port) * 16777619u;
}

static uint32_t *tupleBucket(tbTurnServer *s, const tbTurnTuple *t) {
    uint32_t h = hashAddr(2166136261u ^ (uint32_t)t->proto, &t->client);
    return &s->by_tuple[h & (s->nbuckets - 1)];
}

static uint32_t *relayBucket(tbTurnServer *s, const struct sockaddr_storage *relay) {
    return &s->by_relay[hashAddr(2166136261u, relay) & (s->nbuckets - 1)];
}

static void indexInsert(tbTurnServer *s, turnAlloc *a) {
    uint32_t *b = tupleBucket(s, &a->tuple);
    a->next_tuple = *b;
    *b = a->slot + 1;
    b = relayBucket(s, &a->relay);
    a->next_relay = *b;
    *b = a->slot + 1;
}

/* Unlinks a from the chain starting at *b (next field chosen by `tuple`). */
static void chainRemove(tbTurnServer *s, uint32_t *b, const turnAlloc *a, bool tuple) {
    while (*b != 0) {
        turnAlloc *x = s->allocs[*b - 1];
        uint32_t *next = tuple ? &x->next_tuple : &x->next_relay;
        if (x == a) {
            *b = *next;
            return;
        }
        b = next;
    }
}

static void allocFree(tbTurnServer *s, turnAlloc *a) {
    if (s->cfg.cb.relay_close) s->cfg.cb.relay_close(s->cfg.cb.ud, &a->relay);
    chainRemove(s, tupleBucket(s, &a->tuple), a, true);
    chainRemove(s, relayBucket(s, &a->relay), a, false);
    s->allocs[a->slot] = NULL;
    free(a);
    s->live--;
}

static turnAlloc *findByTuple(tbTurnServer *s, const tbTurnTuple *t, uint64_t now) {
    for (uint32_t i = *tupleBucket(s, t); i != 0; i = s->allocs[i - 1]->next_tuple) {
        turnAlloc *a = s->allocs[i - 1];
        if (a->expires > now && sameTuple(&a->tuple, t)) return a;
    }
    return NULL;
}

static turnAlloc *findByRelay(tbTurnServer *s, const struct sockaddr_storage *relay,
                              uint64_t now) {
    for (uint32_t i = *relayBucket(s, relay); i != 0; i = s->allocs[i - 1]->next_relay) {
        turnAlloc *a = s->allocs[i - 1];
        if (a->expires > now && sameAddr(&a->relay, relay)) return a;
    }
    return NULL;
}

void tbTurnServerDropTuple(tbTurnServer *s, const tbTurnTuple *t) {
    turnAlloc *a = s && t ? findByTuple(s, t, 0) : NULL;
    if (a != NULL) allocFree(s, a);
}

static turnPerm *findPerm(turnAlloc *a, const tbPeerAddr *ip, uint64_t now) {
    for (size_t i = 0; i < TB_TURN_MAX_PERMISSIONS; i++)
        if (a->perms[i].expires > now && sameIp(&a->perms[i].addr, ip)) return &a->perms[i];
    return NULL;
}

/* Installs or refreshes the permission for ip. Returns false when full. */
static bool installPerm(tbTurnServer *s, turnAlloc *a, const tbPeerAddr *ip, uint64_t now) {
    turnPerm *p = findPerm(a, ip, now);
    for (size_t i = 0; p == NULL && i < TB_TURN_MAX_PERMISSIONS; i++)
        if (a->perms[i].expires <= now) p = &a->perms[i];
    if (p == NULL) return false;
    p->addr = *ip;
    p->expires = now + s->cfg.permission_lifetime;
    return true;
}

size_t tbTurnServerTick(tbTurnServer *s, uint64_t now) {
    size_t n = 0;
    for (size_t i = 0; s != NULL && i < s->cfg.max_allocations; i++) {
        turnAlloc *a = s->allocs[i];
        if (a == NULL) continue;
        if (a->expires <= now) {
            allocFree(s, a);
            n++;
            continue;
        }
        for (size_t j = 0; j < TB_TURN_MAX_PERMISSIONS; j++)
            if (a->perms[j].expires <= now) memset(&a->perms[j], 0, sizeof a->perms[j]);
        for (size_t j = 0; j < TB_TURN_MAX_CHANNELS; j++)
            if (a->chans[j].expires <= now) memset(&a->chans[j], 0, sizeof a->chans[j]);
    }
    return n;
}

/* ---- message helpers ---------------------------------------------------- */

/* Decodes one XOR-PEER-ADDRESS value (hand-written: libnice only finds the
 * first occurrence, CreatePermission may carry several). */
static bool xorDecode(const uint8_t *hdr, const uint8_t *v, uint16_t vlen,
                      struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (vlen < 4) return false;
    uint16_t port = (uint16_t)((v[2] << 8 | v[3]) ^ 0x2112);
    if (v[1] == 1 && vlen == 8) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        uint8_t *ip = (uint8_t *)&s4->sin_addr;
        for (int i = 0; i < 4; i++) ip[i] = v[4 + i] ^ hdr[4 + i];
    } else if (v[1] == 2 && vlen == 20) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        for (int i = 0; i < 16; i++) s6->sin6_addr.s6_addr[i] = v[4 + i] ^ hdr[4 + i];
    } else {
        return false;
    }
    ssSetPort(ss, port);
    return true;
}

/* Collects every XOR-PEER-ADDRESS before MESSAGE-INTEGRITY. Returns how
 * many, or -1 if one is malformed or there are more than max. */
static int findPeers(const StunMessage *m, struct sockaddr_storage *out, int max) {
    const uint8_t *b = m->buffer;
    size_t end = 20 + (size_t)(b[2] << 8 | b[3]), off = 20;
    int n = 0;
    while (off + 4 <= end) {
        uint16_t type = (uint16_t)(b[off] << 8 | b[off + 1]);
        uint16_t alen = (uint16_t)(b[off + 2] << 8 | b[off + 3]);
        if (off + 4 + alen > end || type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY) break;
        if (type == STUN_ATTRIBUTE_XOR_PEER_ADDRESS) {
            if (n == max || !xorDecode(b, b + off + 4, alen, &out[n])) return -1;
            n++;
        }
        off += 4 + (((size_t)alen + 3) & ~(size_t)3);
    }
    return n;
}

/* Points m at buf if it is a whole STUN message. */
static bool frameStun(tbTurnServer *s, StunMessage *m, const uint8_t *buf, size_t len) {
    memset(m, 0, sizeof *m);
    if (len < 20 || len > STUN_MAX_MESSAGE_SIZE || (buf[0] & 0xC0) != 0) return false;
    if (!(buf[4] == 0x21 && buf[5] == 0x12 && buf[6] == 0xA4 && buf[7] == 0x42)) return false;
    int mlen = stun_message_validate_buffer_length(buf, len, true);
    if (mlen <= 0 || (size_t)mlen != len) return false;
    m->agent = &s->agent_fp;
    m->buffer = (uint8_t *)buf;
    m->buffer_len = len;
    return true;
}

static size_t finishReply(tbTurnServer *s, turnReq *r, StunMessage *resp) {
    if (!r->authed) {
        resp->key = NULL;
        resp->key_len = 0;
        resp->long_term_valid = false;
    }
    size_t n = stun_agent_finish_message(&s->agent_fp, resp, NULL, 0);
    r->out->len = n;
    r->out->data = r->out->buf;
    return n;
}

static bool appendRealmNonce(tbTurnServer *s, StunMessage *resp, uint64_t now) {
    char nonce[TB_TURN_NONCE_LEN + 1];
    tbTurnNonceMake(s->secret, s->cfg.nonce_secret_len, now + s->cfg.nonce_lifetime, nonce);
    return stun_message_append_string(resp, STUN_ATTRIBUTE_REALM, s->realm) ==
               STUN_MESSAGE_RETURN_SUCCESS &&
           stun_message_append_string(resp, STUN_ATTRIBUTE_NONCE, nonce) ==
               STUN_MESSAGE_RETURN_SUCCESS;
}

/* Error response; 401/438 carry REALM and a fresh NONCE and are unsigned. */
/* RFC 8656 reason phrases libnice's table lacks (it says "Unknown error"). */
static const char *turnReason(int code) {
    switch (code) {
    case 403: return "Forbidden";
    case 437: return "Allocation Mismatch";
    case 440: return "Address Family not Supported";
    case 441: return "Wrong Credentials";
    case 442: return "Unsupported Transport Protocol";
    case 443: return "Peer Address Family Mismatch";
    case 486: return "Allocation Quota Reached";
    case 508: return "Insufficient Capacity";
    default: return NULL;
    }
}

/* An error response to r with ERROR-CODE code (and a TURN reason phrase). */
static bool initError(tbTurnServer *s, turnReq *r, StunMessage *resp, int code) {
    if (!stun_agent_init_error(&s->agent_fp, resp, r->out->buf, r->out->cap, &r->msg,
                               (StunError)code))
        return false;
    const char *reason = turnReason(code);
    if (reason == NULL) return true;
    /* drop libnice's ERROR-CODE (the only attribute so far) and write ours */
    uint8_t v[4 + 64] = {0, 0, (uint8_t)(code / 100), (uint8_t)(code % 100)};
    size_t n = strlen(reason);
    memcpy(v + 4, reason, n);
    r->out->buf[2] = 0;
    r->out->buf[3] = 0;
    return stun_message_append_bytes(resp, STUN_ATTRIBUTE_ERROR_CODE, v, 4 + n) ==
           STUN_MESSAGE_RETURN_SUCCESS;
}

static tbTurnAction writeError(tbTurnServer *s, turnReq *r, int code) {
    StunMessage resp;
    size_t n;
    r->out->error = code;
    if (code == STUN_ERROR_UNAUTHORIZED || code == STUN_ERROR_STALE_NONCE ||
        code == STUN_ERROR_BAD_REQUEST)
        r->authed = false;
    if (code == STUN_ERROR_UNKNOWN_ATTRIBUTE) {
        n = stun_agent_build_unknown_attributes_error(&s->agent_fp, &resp, r->out->buf,
                                                      r->out->cap, &r->msg);
        r->out->len = n;
        r->out->data = r->out->buf;
    } else {
        if (!initError(s, r, &resp, code)) return TB_TURN_NONE;
        if ((code == STUN_ERROR_UNAUTHORIZED || code == STUN_ERROR_STALE_NONCE) &&
            !appendRealmNonce(s, &resp, r->now))
            return TB_TURN_NONE;
        n = finishReply(s, r, &resp);
    }
    if (n == 0) return TB_TURN_NONE;
    r->out->tuple = *r->t;
    return TB_TURN_TO_CLIENT;
}

/* ---- authentication ----------------------------------------------------- */

/* libnice validater: USERNAME → password via the engine's lookup. libnice
 * then derives MD5(username:realm:password) itself. */
static bool validater(StunAgent *agent, StunMessage *m, uint8_t *user, uint16_t ulen,
                      uint8_t **pw, size_t *pwlen, void *ud) {
    tbTurnServer *s = ud;
    (void)agent;
    (void)m;
    if (ulen == 0 || ulen >= sizeof s->user || memchr(user, '\0', ulen) != NULL) return false;
    memcpy(s->user, user, ulen);
    s->user[ulen] = '\0';
    s->pw[0] = '\0';
    if (s->cfg.cb.lookup(s->cfg.cb.ud, s->user, s->key_index, s->allocating, s->pw,
                         sizeof s->pw) != 0)
        return false;
    s->pw[sizeof s->pw - 1] = '\0';
    *pw = (uint8_t *)s->pw;
    *pwlen = strlen(s->pw);
    return true;
}

/* RFC 8489 §9.2.4 checks. Returns 0 (authenticated), a STUN error code to
 * answer, or -1 to drop silently (bad FINGERPRINT). */
static int authenticate(tbTurnServer *s, turnReq *r) {
    StunMessage *m = &r->msg;
    uint16_t rlen = 0, nlen = 0;
    if (!stun_message_has_attribute(m, STUN_ATTRIBUTE_MESSAGE_INTEGRITY))
        return STUN_ERROR_UNAUTHORIZED;
    const char *realm = stun_message_find(m, STUN_ATTRIBUTE_REALM, &rlen);
    const char *nonce = stun_message_find(m, STUN_ATTRIBUTE_NONCE, &nlen);
    if (realm == NULL || nonce == NULL ||
        !stun_message_has_attribute(m, STUN_ATTRIBUTE_USERNAME))
        return STUN_ERROR_BAD_REQUEST;
    if (rlen != strlen(s->realm) || memcmp(realm, s->realm, rlen) != 0)
        return STUN_ERROR_UNAUTHORIZED;
    bool fp = stun_message_has_attribute(m, STUN_ATTRIBUTE_FINGERPRINT);
    const uint8_t *buf = m->buffer;
    size_t len = m->buffer_len;
    /* one password per candidate (rotated TURN REST secrets), until one fits */
    StunValidationStatus v = STUN_VALIDATION_UNAUTHORIZED;
    s->allocating = stun_message_get_method(m) == STUN_ALLOCATE;
    for (s->key_index = 0; s->key_index < TB_TURN_MAX_KEYS; s->key_index++) {
        v = stun_agent_validate(fp ? &s->agent_fp : &s->agent_nofp, m, buf, len, validater, s);
        if (v != STUN_VALIDATION_UNAUTHORIZED || s->pw[0] == '\0') break;
    }
    m->agent = &s->agent_fp;
    switch (v) {
    case STUN_VALIDATION_SUCCESS: break;
    case STUN_VALIDATION_UNAUTHORIZED: return STUN_ERROR_UNAUTHORIZED;
    case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST: return STUN_ERROR_BAD_REQUEST;
    case STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE:
        r->authed = true;
        return STUN_ERROR_UNKNOWN_ATTRIBUTE;
    default: return -1;
    }
    if (!tbTurnNonceValid(s->secret, s->cfg.nonce_secret_len, nonce, nlen, r->now))
        return STUN_ERROR_STALE_NONCE;
    r->authed = true;
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

static bool beginSuccess(tbTurnServer *s, turnReq *r, StunMessage *resp) {
    return stun_agent_init_response(&s->agent_fp, resp, r->out->buf, r->out->cap, &r->msg);
}

static int endSuccess(tbTurnServer *s, turnReq *r, StunMessage *resp) {
    return finishReply(s, r, resp) > 0 ? 0 : -1;
}

static int allocSuccess(tbTurnServer *s, turnReq *r, turnAlloc *a) {
    StunMessage resp;
    struct sockaddr_storage mapped;
    ssUnmap(&r->t->client, &mapped);
    uint32_t left = (uint32_t)(a->expires - r->now);
    if (!beginSuccess(s, r, &resp) ||
        stun_message_append_xor_addr(&resp, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS, &a->relay,
                                     ssLen(&a->relay)) != STUN_MESSAGE_RETURN_SUCCESS ||
        stun_message_append32(&resp, STUN_ATTRIBUTE_LIFETIME, left) !=
            STUN_MESSAGE_RETURN_SUCCESS ||
        stun_message_append_xor_addr(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &mapped,
                                     ssLen(&mapped)) != STUN_MESSAGE_RETURN_SUCCESS)
        return -1;
    return endSuccess(s, r, &resp);
}

/* REQUESTED-ADDRESS-FAMILY → AF_INET/AF_INET6 (default IPv4), 0 if unknown. */
static int requestedFamily(const StunMessage *m) {
    uint32_t v;
    if (stun_message_find32(m, ATTR_REQUESTED_ADDRESS_FAMILY, &v) != STUN_MESSAGE_RETURN_SUCCESS)
        return AF_INET;
    if (v >> 24 == 1) return AF_INET;
    if (v >> 24 == 2) return AF_INET6;
    return 0;
}

/* The part of a USERNAME a per-user quota counts: TURN REST names
 * "<expiry>:<identity>" count by identity, so fresh credentials of one
 * participant share its quota (as LiveKit counts per participant). */
static const char *quotaKey(const char *user) {
    const char *p = user;
    while (*p >= '0' && *p <= '9') p++;
    return (p != user && *p == ':') ? p + 1 : user;
}

/* A free slot index, or -1 when a quota is reached. */
static long quotaSlot(tbTurnServer *s, uint64_t now) {
    size_t mine = 0;
    long slot = -1;
    const char *key = quotaKey(s->user);
    for (size_t i = 0; i < s->cfg.max_allocations; i++) {
        const turnAlloc *a = s->allocs[i];
        if (a == NULL) {
            if (slot < 0) slot = (long)i;
        } else if (a->expires > now && strcmp(quotaKey(a->username), key) == 0) {
            mine++;
        }
    }
    if (s->cfg.max_per_user > 0 && mine >= s->cfg.max_per_user) return -1;
    return slot;
}

static int doAllocate(tbTurnServer *s, turnReq *r) {
    turnAlloc *a = r->alloc;
    uint32_t v;
    if (a != NULL) {
        bool retransmit = memcmp(a->txid, r->msg.buffer + 8, 12) == 0 &&
                          strcmp(a->username, s->user) == 0;
        return retransmit ? allocSuccess(s, r, a) : STUN_ERROR_ALLOCATION_MISMATCH;
    }
    if (stun_message_find32(&r->msg, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, &v) !=
        STUN_MESSAGE_RETURN_SUCCESS)
        return STUN_ERROR_BAD_REQUEST;
    if (v >> 24 != IPPROTO_UDP) return STUN_ERROR_UNSUPPORTED_TRANSPORT;
    int family = requestedFamily(&r->msg);
    if (family == 0) return STUN_ERROR_UNSUPPORTED_FAMILY;
    long slot = quotaSlot(s, r->now);
    if (slot < 0) return STUN_ERROR_ALLOCATION_QUOTA_REACHED;
    a = calloc(1, sizeof *a);
    if (a == NULL) return STUN_ERROR_INSUFFICIENT_CAPACITY;
    bool even = stun_message_has_attribute(&r->msg, ATTR_EVEN_PORT);
    int rc = s->cfg.cb.relay_open(s->cfg.cb.ud, r->t, family, even, &a->relay);
    if (rc != 0) {
        free(a);
        return rc == -2 ? STUN_ERROR_UNSUPPORTED_FAMILY : STUN_ERROR_INSUFFICIENT_CAPACITY;
    }
    a->slot = (uint32_t)slot;
    s->allocs[slot] = a;
    uint32_t life = s->cfg.default_lifetime;
    if (stun_message_find32(&r->msg, STUN_ATTRIBUTE_LIFETIME, &v) ==
            STUN_MESSAGE_RETURN_SUCCESS && v > life)
        life = v < s->cfg.max_lifetime ? v : s->cfg.max_lifetime;
    a->tuple = *r->t;
    memcpy(a->username, s->user, sizeof a->username);
    memcpy(a->txid, r->msg.buffer + 8, 12);
    a->expires = r->now + life;
    indexInsert(s, a);
    s->live++;
    return allocSuccess(s, r, a);
}

/* 437 without an allocation, 441 when another user asks. */
static int ownerCheck(tbTurnServer *s, turnReq *r) {
    if (r->alloc == NULL) return STUN_ERROR_ALLOCATION_MISMATCH;
    if (strcmp(r->alloc->username, s->user) != 0) return STUN_ERROR_WRONG_CREDENTIALS;
    return 0;
}

static int doRefresh(tbTurnServer *s, turnReq *r) {
    StunMessage resp;
    uint32_t v, life = s->cfg.default_lifetime;
    int code = ownerCheck(s, r);
    if (code != 0) return code;
    if (stun_message_find32(&r->msg, STUN_ATTRIBUTE_LIFETIME, &v) ==
        STUN_MESSAGE_RETURN_SUCCESS)
        life = v < s->cfg.max_lifetime ? v : s->cfg.max_lifetime;
    if (life == 0)
        allocFree(s, r->alloc);
    else
        r->alloc->expires = r->now + life;
    r->alloc = NULL;
    if (!beginSuccess(s, r, &resp) ||
        stun_message_append32(&resp, STUN_ATTRIBUTE_LIFETIME, life) !=
            STUN_MESSAGE_RETURN_SUCCESS)
        return -1;
    return endSuccess(s, r, &resp);
}

/* Judges peer (port 0 = address only): 0 and the canonical peer, 403, or
 * 443 when its family differs from the relay's. */
static int judgePeer(tbTurnServer *s, const turnAlloc *a, const struct sockaddr_storage *peer,
                     bool with_port, struct sockaddr_storage *canon) {
    struct sockaddr_storage p = *peer;
    if (!with_port) ssSetPort(&p, 0);
    if (tbPeerPolicyCheck(s->cfg.policy, (const struct sockaddr *)&p, ssLen(&p), canon) !=
        TB_PEER_ALLOWED)
        return STUN_ERROR_FORBIDDEN;
    if (canon->ss_family != a->relay.ss_family) return STUN_ERROR_INVALID_IP;
    if (!with_port) ssSetPort(canon, ssPort(peer));
    return 0;
}

static int doCreatePermission(tbTurnServer *s, turnReq *r) {
    struct sockaddr_storage peers[TB_TURN_MAX_PERMISSIONS], canon[TB_TURN_MAX_PERMISSIONS];
    StunMessage resp;
    int code = ownerCheck(s, r);
    if (code != 0) return code;
    int n = findPeers(&r->msg, peers, TB_TURN_MAX_PERMISSIONS);
    if (n <= 0) return STUN_ERROR_BAD_REQUEST;
    for (int i = 0; i < n; i++)
        if ((code = judgePeer(s, r->alloc, &peers[i], false, &canon[i])) != 0) return code;
    for (int i = 0; i < n; i++) {
        tbPeerAddr ip = ssAddr(&canon[i]);
        if (!installPerm(s, r->alloc, &ip, r->now)) return STUN_ERROR_INSUFFICIENT_CAPACITY;
    }
    if (!beginSuccess(s, r, &resp)) return -1;
    return endSuccess(s, r, &resp);
}

/* Finds the binding for num or for (ip, port); *conflict when the two do not
 * name the same binding (RFC 8656 §11.2 rebinding rules). */
static turnChan *findChan(turnAlloc *a, uint16_t num, const tbPeerAddr *ip, uint16_t port,
                          uint64_t now, bool *conflict) {
    turnChan *hit = NULL;
    *conflict = false;
    for (size_t i = 0; i < TB_TURN_MAX_CHANNELS; i++) {
        turnChan *c = &a->chans[i];
        if (c->num == 0 || c->expires <= now) continue;
        bool same_num = c->num == num, same_peer = sameIp(&c->addr, ip) && c->port == port;
        if (same_num != same_peer) *conflict = true;
        if (same_num && same_peer) hit = c;
    }
    return hit;
}

static int doChannelBind(tbTurnServer *s, turnReq *r) {
    struct sockaddr_storage peer, canon;
    StunMessage resp;
    uint32_t v;
    bool conflict;
    int code = ownerCheck(s, r);
    if (code != 0) return code;
    if (stun_message_find32(&r->msg, STUN_ATTRIBUTE_CHANNEL_NUMBER, &v) !=
            STUN_MESSAGE_RETURN_SUCCESS ||
        findPeers(&r->msg, &peer, 1) != 1)
        return STUN_ERROR_BAD_REQUEST;
    uint16_t num = (uint16_t)(v >> 16);
    if (num < TB_TURN_CHANNEL_MIN || num > TB_TURN_CHANNEL_MAX) return STUN_ERROR_BAD_REQUEST;
    if ((code = judgePeer(s, r->alloc, &peer, true, &canon)) != 0) return code;
    tbPeerAddr ip = ssAddr(&canon);
    turnChan *c = findChan(r->alloc, num, &ip, ssPort(&canon), r->now, &conflict);
    if (conflict) return STUN_ERROR_BAD_REQUEST;
    for (size_t i = 0; c == NULL && i < TB_TURN_MAX_CHANNELS; i++)
        if (r->alloc->chans[i].num == 0 || r->alloc->chans[i].expires <= r->now)
            c = &r->alloc->chans[i];
    if (c == NULL || !installPerm(s, r->alloc, &ip, r->now))
        return STUN_ERROR_INSUFFICIENT_CAPACITY;
    c->num = num;
    c->addr = ip;
    c->port = ssPort(&canon);
    c->peer = canon;
    c->expires = r->now + s->cfg.channel_lifetime;
    if (!beginSuccess(s, r, &resp)) return -1;
    return endSuccess(s, r, &resp);
}

/* Plain STUN Binding (a TURN server doubles as a STUN server, RFC 8656 §4):
 * answered without credentials with XOR-MAPPED-ADDRESS. */
static tbTurnAction doBinding(tbTurnServer *s, turnReq *r) {
    StunMessage resp;
    struct sockaddr_storage mapped;
    ssUnmap(&r->t->client, &mapped);
    if (!beginSuccess(s, r, &resp) ||
        stun_message_append_xor_addr(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &mapped,
                                     ssLen(&mapped)) != STUN_MESSAGE_RETURN_SUCCESS ||
        finishReply(s, r, &resp) == 0)
        return TB_TURN_NONE;
    r->out->tuple = *r->t;
    return TB_TURN_TO_CLIENT;
}

static tbTurnAction handleRequest(tbTurnServer *s, turnReq *r) {
    if (stun_message_get_method(&r->msg) == STUN_BINDING) return doBinding(s, r);
    int code = authenticate(s, r);
    if (code < 0) return TB_TURN_NONE;
    if (code == 0) {
        r->alloc = findByTuple(s, r->t, r->now);
        switch (stun_message_get_method(&r->msg)) {
        case STUN_ALLOCATE: code = doAllocate(s, r); break;
        case STUN_REFRESH: code = doRefresh(s, r); break;
        case STUN_CREATEPERMISSION: code = doCreatePermission(s, r); break;
        case STUN_CHANNELBIND: code = doChannelBind(s, r); break;
        default: code = STUN_ERROR_BAD_REQUEST; break;
        }
    }
    if (code < 0) return TB_TURN_NONE;
    if (code > 0) return writeError(s, r, code);
    r->out->tuple = *r->t;
    return TB_TURN_TO_CLIENT;
}

/* ---- data path ---------------------------------------------------------- */

/* Fills out for a datagram from a's relay to peer, if permitted. */
static tbTurnAction relayToPeer(tbTurnServer *s, turnAlloc *a,
                                const struct sockaddr_storage *peer, const uint8_t *data,
                                size_t len, uint64_t now, tbTurnOut *out) {
    struct sockaddr_storage canon;
    if (judgePeer(s, a, peer, true, &canon) != 0) return TB_TURN_NONE;
    tbPeerAddr ip = ssAddr(&canon);
    if (findPerm(a, &ip, now) == NULL) return TB_TURN_NONE;
    out->relay = a->relay;
    out->peer = canon;
    out->data = data;
    out->len = len;
    return TB_TURN_TO_PEER;
}

static tbTurnAction handleSend(tbTurnServer *s, const tbTurnTuple *t, StunMessage *m,
                               uint64_t now, tbTurnOut *out) {
    struct sockaddr_storage peer;
    uint16_t dlen = 0;
    bool fp = stun_message_has_attribute(m, STUN_ATTRIBUTE_FINGERPRINT);
    if (stun_agent_validate(fp ? &s->agent_fp : &s->agent_nofp, m, m->buffer, m->buffer_len,
                            NULL, NULL) != STUN_VALIDATION_SUCCESS)
        return TB_TURN_NONE;
    turnAlloc *a = findByTuple(s, t, now);
    const uint8_t *data = stun_message_find(m, STUN_ATTRIBUTE_DATA, &dlen);
    if (a == NULL || data == NULL || findPeers(m, &peer, 1) != 1) return TB_TURN_NONE;
    return relayToPeer(s, a, &peer, data, dlen, now, out);
}

long tbTurnChannelDataFrameLen(const uint8_t *buf, size_t len, bool tcp) {
    if (buf == NULL || len < 1 || (buf[0] & 0xC0) != 0x40) return 0;
    if (len < CHANNEL_DATA_HEADER) return -1;
    size_t n = CHANNEL_DATA_HEADER + (size_t)(buf[2] << 8 | buf[3]);
    if (tcp) n = (n + 3) & ~(size_t)3;
    return len < n ? -1 : (long)n;
}

static tbTurnAction handleChannelData(tbTurnServer *s, const tbTurnTuple *t,
                                      const uint8_t *msg, size_t len, uint64_t now,
                                      tbTurnOut *out) {
    uint16_t num = (uint16_t)(msg[0] << 8 | msg[1]);
    size_t dlen = (size_t)(msg[2] << 8 | msg[3]);
    if (len < CHANNEL_DATA_HEADER + dlen || num > TB_TURN_CHANNEL_MAX) return TB_TURN_NONE;
    turnAlloc *a = findByTuple(s, t, now);
    if (a == NULL) return TB_TURN_NONE;
    for (size_t i = 0; i < TB_TURN_MAX_CHANNELS; i++) {
        turnChan *c = &a->chans[i];
        if (c->num == num && c->expires > now)
            return relayToPeer(s, a, &c->peer, msg + CHANNEL_DATA_HEADER, dlen, now, out);
    }
    return TB_TURN_NONE;
}

static void resetOut(tbTurnOut *out) {
    out->data = NULL;
    out->len = 0;
    out->error = 0;
}

tbTurnAction tbTurnServerHandleClient(tbTurnServer *s, const tbTurnTuple *t, const uint8_t *msg,
                                      size_t len, uint64_t now, tbTurnOut *out) {
    turnReq r;
    if (s == NULL || t == NULL || msg == NULL || out == NULL || out->buf == NULL)
        return TB_TURN_NONE;
    resetOut(out);
    if (len >= CHANNEL_DATA_HEADER && (msg[0] & 0xC0) == 0x40)
        return handleChannelData(s, t, msg, len, now, out);
    memset(&r, 0, sizeof r);
    if (!frameStun(s, &r.msg, msg, len)) return TB_TURN_NOT_TURN;
    StunClass cls = stun_message_get_class(&r.msg);
    if (cls == STUN_INDICATION)
        return stun_message_get_method(&r.msg) == STUN_IND_SEND
                   ? handleSend(s, t, &r.msg, now, out)
                   : TB_TURN_NONE;
    if (cls != STUN_REQUEST) return TB_TURN_NONE;
    r.t = t;
    r.now = now;
    r.out = out;
    return handleRequest(s, &r);
}

/* ChannelData towards the client: padded to 4 bytes over TCP (RFC 8656
 * §12.5), unpadded over UDP. */
static tbTurnAction toClientChannel(const turnAlloc *a, const turnChan *c, const uint8_t *data,
                                    size_t len, tbTurnOut *out) {
    size_t n = CHANNEL_DATA_HEADER + len;
    if (a->tuple.proto == IPPROTO_TCP) n = (n + 3) & ~(size_t)3;
    if (len > 0xFFFF || n > out->cap) return TB_TURN_NONE;
    out->buf[0] = (uint8_t)(c->num >> 8);
    out->buf[1] = (uint8_t)c->num;
    out->buf[2] = (uint8_t)(len >> 8);
    out->buf[3] = (uint8_t)len;
    memcpy(out->buf + CHANNEL_DATA_HEADER, data, len);
    memset(out->buf + CHANNEL_DATA_HEADER + len, 0, n - CHANNEL_DATA_HEADER - len);
    out->data = out->buf;
    out->len = n;
    out->tuple = a->tuple;
    return TB_TURN_TO_CLIENT;
}

static tbTurnAction toClientData(tbTurnServer *s, const turnAlloc *a,
                                 const struct sockaddr_storage *peer, const uint8_t *data,
                                 size_t len, tbTurnOut *out) {
    StunMessage m;
    struct sockaddr_storage p;
    ssUnmap(peer, &p);
    if (!stun_agent_init_indication(&s->agent_fp, &m, out->buf, out->cap, STUN_IND_DATA) ||
        stun_message_append_xor_addr(&m, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &p, ssLen(&p)) !=
            STUN_MESSAGE_RETURN_SUCCESS ||
        stun_message_append_bytes(&m, STUN_ATTRIBUTE_DATA, data, len) !=
            STUN_MESSAGE_RETURN_SUCCESS)
        return TB_TURN_NONE;
    size_t n = stun_agent_finish_message(&s->agent_fp, &m, NULL, 0);
    if (n == 0) return TB_TURN_NONE;
    out->data = out->buf;
    out->len = n;
    out->tuple = a->tuple;
    return TB_TURN_TO_CLIENT;
}

tbTurnAction tbTurnServerHandlePeer(tbTurnServer *s, const struct sockaddr_storage *relay,
                                    const struct sockaddr_storage *peer, const uint8_t *data,
                                    size_t len, uint64_t now, tbTurnOut *out) {
    if (s == NULL || relay == NULL || peer == NULL || out == NULL || out->buf == NULL)
        return TB_TURN_NONE;
    resetOut(out);
    turnAlloc *a = findByRelay(s, relay, now);
    if (a == NULL) return TB_TURN_NONE;
    tbPeerAddr ip = ssAddr(peer);
    if (findPerm(a, &ip, now) == NULL) return TB_TURN_NONE;
    uint16_t port = ssPort(peer);
    for (size_t i = 0; i < TB_TURN_MAX_CHANNELS; i++) {
        const turnChan *c = &a->chans[i];
        if (c->num != 0 && c->expires > now && c->port == port && sameIp(&c->addr, &ip))
            return toClientChannel(a, c, data, len, out);
    }
    return toClientData(s, a, peer, data, len, out);
}
