/* turn_engine.c — the TURN server's thread, sockets and relays; see
 * turn_engine.h. The protocol decisions are the core's (turn_server.c);
 * this file moves bytes between sockets and the core, and enforces the
 * per-allocation bandwidth limit. */
/* recvmmsg and struct in6_pktinfo need _GNU_SOURCE (set by meson.build) */
#include "turn/turn_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "turn/peer_policy.h"
#include "turn/turn_auth.h"
#include "turn/turn_server.h"
#include "turn/turn_stream.h"
#include "util/log.h"

#define RX_BATCH 32          /* datagrams per recvmmsg */
#define RX_MTU 2048          /* larger datagrams are truncated (and dropped) */
#define RX_ROUNDS 8          /* recvmmsg calls per readable event, then yield */
#define OUT_CAP (RX_MTU + 64) /* a Data indication wrapping a full datagram */
#define CMSG_CAP 64

typedef struct tbTurnEngine tbTurnEngine;

/* A relay socket: one per allocation. */
typedef struct turnRelay {
    uv_poll_t poll;
    tbTurnEngine *e;
    int fd;
    int fi;                            /* 0 = IPv4, 1 = IPv6 */
    struct sockaddr_storage advertised; /* the relayed address the core knows */
    double tokens;                     /* bytes it may still relay now */
    uint64_t refill_ms;                /* when tokens were last topped up */
} turnRelay;

/* A UDP listener (one per address family). */
typedef struct turnUdp {
    uv_poll_t poll;
    tbTurnEngine *e;
    int fd;
    int family;
} turnUdp;

struct tbTurnEngine {
    const tbConfig *cfg;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    uv_timer_t tick;
    tbTurnServer *core;
    tbPeerPolicy policy;
    tbTurnAuth auth;
    turnUdp udp[2];
    int nudp;
    tbTurnStreams *streams;
    SSL_CTX *tls;
    turnRelay **relays[2];             /* [family][port - range_start] */
    int range_start, range_len;
    struct sockaddr_storage node[2];   /* advertised relay IP by family */
    bool have_node[2];
    double bytes_per_ms;               /* turn.bandwidth_limit / 8000, 0 = none */
    double burst;                      /* token bucket depth, bytes */
    tbTurnStats stats;                 /* engine thread only */
    uv_mutex_t lock;                   /* guards snapshot */
    tbTurnStats snapshot;
    tbTurnOut out;
    uint8_t outbuf[OUT_CAP];
    uint8_t rx[RX_BATCH][RX_MTU];
    struct sockaddr_storage rxaddr[RX_BATCH];
    uint8_t rxcmsg[RX_BATCH][CMSG_CAP];
};

static const int errorCodes[TB_TURN_NERRORS - 1] = {TB_TURN_ERROR_CODES};

int tbTurnErrorCode(int i) {
    return i >= 0 && i < TB_TURN_NERRORS - 1 ? errorCodes[i] : 0;
}

const char *tbTurnDropName(tbTurnDrop d) {
    static const char *names[TB_TURN_DROP_COUNT] = {"not_turn", "ignored", "bandwidth",
                                                    "send_error"};
    return d < TB_TURN_DROP_COUNT ? names[d] : "unknown";
}

static uint64_t nowSec(void) { return uv_hrtime() / 1000000000u; }

static socklen_t ssLen(const struct sockaddr_storage *ss) {
    return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static int ssPort(const struct sockaddr_storage *ss) {
    return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                          : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void ssSetPort(struct sockaddr_storage *ss, int port) {
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* ---- bandwidth ------------------------------------------------------------ */

/* Takes len bytes from the relay's bucket; false when over the limit. */
static bool spend(tbTurnEngine *e, turnRelay *r, size_t len) {
    if (e->bytes_per_ms <= 0) return true;
    uint64_t now = uv_now(&e->loop);
    r->tokens += (double)(now - r->refill_ms) * e->bytes_per_ms;
    r->refill_ms = now;
    if (r->tokens > e->burst) r->tokens = e->burst;
    if (r->tokens < (double)len) {
        e->stats.dropped[TB_TURN_DROP_BANDWIDTH]++;
        return false;
    }
    r->tokens -= (double)len;
    return true;
}

/* ---- sending ---------------------------------------------------------------- */

/* UDP from our address t->server (IP_PKTINFO / IPV6_PKTINFO picks the
 * source on a wildcard socket) to the client. */
static bool sendUdp(tbTurnEngine *e, const tbTurnTuple *t, const uint8_t *data, size_t len) {
    int fi = t->client.ss_family == AF_INET ? 0 : 1;
    if (fi >= e->nudp || e->udp[fi].family != t->client.ss_family) {
        for (fi = 0; fi < e->nudp && e->udp[fi].family != t->client.ss_family; fi++) {}
        if (fi == e->nudp) return false;
    }
    uint8_t cbuf[CMSG_CAP];
    struct iovec iov = {(void *)data, len};
    struct msghdr m = {.msg_name = (void *)&t->client, .msg_namelen = ssLen(&t->client),
                       .msg_iov = &iov, .msg_iovlen = 1};
    memset(cbuf, 0, sizeof cbuf);
    if (t->server.ss_family == AF_INET && t->client.ss_family == AF_INET) {
        m.msg_control = cbuf;
        m.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {.ipi_spec_dst = ((const struct sockaddr_in *)&t->server)->sin_addr};
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else if (t->server.ss_family == AF_INET6 && t->client.ss_family == AF_INET6) {
        m.msg_control = cbuf;
        m.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
        struct in6_pktinfo pi = {.ipi6_addr = ((const struct sockaddr_in6 *)&t->server)->sin6_addr};
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
    return sendmsg(e->udp[fi].fd, &m, MSG_DONTWAIT) == (ssize_t)len;
}

static bool sendClient(tbTurnEngine *e, const tbTurnTuple *t, const uint8_t *data, size_t len) {
    bool ok = t->proto == IPPROTO_UDP ? sendUdp(e, t, data, len)
                                      : tbTurnStreamsSend(e->streams, t, data, len);
    if (!ok) e->stats.dropped[TB_TURN_DROP_SEND_ERROR]++;
    return ok;
}

static turnRelay *relayAt(tbTurnEngine *e, const struct sockaddr_storage *adv) {
    int fi = adv->ss_family == AF_INET ? 0 : 1;
    int i = ssPort(adv) - e->range_start;
    if (i < 0 || i >= e->range_len) return NULL;
    return e->relays[fi][i];
}

static void toPeer(tbTurnEngine *e) {
    turnRelay *r = relayAt(e, &e->out.relay);
    if (r == NULL || !spend(e, r, e->out.len)) return;
    if (sendto(r->fd, e->out.data, e->out.len, MSG_DONTWAIT, (struct sockaddr *)&e->out.peer,
               ssLen(&e->out.peer)) != (ssize_t)e->out.len) {
        e->stats.dropped[TB_TURN_DROP_SEND_ERROR]++;
        return;
    }
    e->stats.to_peer_packets++;
    e->stats.to_peer_bytes += e->out.len;
}

static void countReply(tbTurnEngine *e, int code) {
    e->stats.requests++;
    if (code == 0) return;
    int i = 0;
    while (i < TB_TURN_NERRORS - 1 && errorCodes[i] != code) i++;
    e->stats.errors[i]++;
}

/* ---- input ---------------------------------------------------------------------- */

static void clientInput(tbTurnEngine *e, const tbTurnTuple *t, const uint8_t *msg, size_t len) {
    tbTurnAction a = tbTurnServerHandleClient(e->core, t, msg, len, nowSec(), &e->out);
    switch (a) {
    case TB_TURN_TO_CLIENT:
        countReply(e, e->out.error);
        sendClient(e, &e->out.tuple, e->out.data, e->out.len);
        break;
    case TB_TURN_TO_PEER: toPeer(e); break;
    case TB_TURN_NOT_TURN: e->stats.dropped[TB_TURN_DROP_NOT_TURN]++; break;
    case TB_TURN_NONE: e->stats.dropped[TB_TURN_DROP_IGNORED]++; break;
    }
}

static void streamInput(void *ud, const tbTurnTuple *t, const uint8_t *msg, size_t len) {
    clientInput(ud, t, msg, len);
}

static void streamClosed(void *ud, const tbTurnTuple *t) {
    tbTurnEngine *e = ud;
    tbTurnServerDropTuple(e->core, t);
}

/* The local address a datagram was sent to, from its pktinfo. */
static void localAddr(const struct msghdr *m, int port, struct sockaddr_storage *out) {
    memset(out, 0, sizeof *out);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            struct sockaddr_in *s4 = (struct sockaddr_in *)out;
            s4->sin_family = AF_INET;
            s4->sin_addr = pi.ipi_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
            s6->sin6_family = AF_INET6;
            s6->sin6_addr = pi.ipi6_addr;
        }
    }
    if (out->ss_family != 0) ssSetPort(out, port);
}

/* recvmmsg into the shared buffers; returns the count, hdrs filled. */
static int recvBatch(tbTurnEngine *e, int fd, struct mmsghdr *hdrs, struct iovec *iov,
                     bool cmsg) {
    memset(hdrs, 0, sizeof *hdrs * RX_BATCH);
    for (int i = 0; i < RX_BATCH; i++) {
        iov[i] = (struct iovec){e->rx[i], RX_MTU};
        hdrs[i].msg_hdr.msg_iov = &iov[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
        hdrs[i].msg_hdr.msg_name = &e->rxaddr[i];
        hdrs[i].msg_hdr.msg_namelen = sizeof e->rxaddr[i];
        if (cmsg) {
            hdrs[i].msg_hdr.msg_control = e->rxcmsg[i];
            hdrs[i].msg_hdr.msg_controllen = CMSG_CAP;
        }
    }
    int n = recvmmsg(fd, hdrs, RX_BATCH, MSG_DONTWAIT, NULL);
    return n < 0 ? 0 : n;
}

static void onUdpReadable(uv_poll_t *p, int status, int events) {
    turnUdp *u = p->data;
    tbTurnEngine *e = u->e;
    struct mmsghdr hdrs[RX_BATCH];
    struct iovec iov[RX_BATCH];
    if (status < 0 || !(events & UV_READABLE)) return;
    int port = e->cfg->turn.udp_port;
    for (int round = 0; round < RX_ROUNDS; round++) {
        int n = recvBatch(e, u->fd, hdrs, iov, true);
        for (int i = 0; i < n; i++) {
            if (hdrs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                e->stats.dropped[TB_TURN_DROP_IGNORED]++;
                continue;
            }
            tbTurnTuple t = {.proto = IPPROTO_UDP};
            memcpy(&t.client, &e->rxaddr[i], sizeof t.client);
            localAddr(&hdrs[i].msg_hdr, port, &t.server);
            clientInput(e, &t, e->rx[i], hdrs[i].msg_len);
        }
        if (n < RX_BATCH) break;
    }
}

static void onRelayReadable(uv_poll_t *p, int status, int events) {
    turnRelay *r = p->data;
    tbTurnEngine *e = r->e;
    struct mmsghdr hdrs[RX_BATCH];
    struct iovec iov[RX_BATCH];
    if (status < 0 || !(events & UV_READABLE)) return;
    uint64_t now = nowSec();
    for (int round = 0; round < RX_ROUNDS; round++) {
        int n = recvBatch(e, r->fd, hdrs, iov, false);
        for (int i = 0; i < n; i++) {
            size_t len = hdrs[i].msg_len;
            if ((hdrs[i].msg_hdr.msg_flags & MSG_TRUNC) || !spend(e, r, len)) continue;
            tbTurnAction a = tbTurnServerHandlePeer(e->core, &r->advertised, &e->rxaddr[i],
                                                    e->rx[i], len, now, &e->out);
            if (a != TB_TURN_TO_CLIENT) {
                e->stats.dropped[TB_TURN_DROP_IGNORED]++;
                continue;
            }
            if (sendClient(e, &e->out.tuple, e->out.data, e->out.len)) {
                e->stats.to_client_packets++;
                e->stats.to_client_bytes += len;
            }
        }
        if (n < RX_BATCH) break;
    }
}

/* ---- relays ------------------------------------------------------------------------ */

/* A UDP socket of family bound to port on all addresses, or -1. */
static int bindRelay(int family, int port) {
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET6) {
        int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    ssSetPort(&ss, port);
    if (bind(fd, (struct sockaddr *)&ss, ssLen(&ss)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The address to advertise for a relay of family fi: the configured one,
 * else the local address the client reached. False when there is none. */
static bool advertisedFor(tbTurnEngine *e, const tbTurnTuple *t, int family,
                          struct sockaddr_storage *out) {
    int fi = family == AF_INET ? 0 : 1;
    if (e->have_node[fi]) {
        *out = e->node[fi];
        return true;
    }
    if (t->server.ss_family != family) return false;
    *out = t->server;
    return true;
}

static int relayOpen(void *ud, const tbTurnTuple *t, int family, bool even,
                     struct sockaddr_storage *relay) {
    tbTurnEngine *e = ud;
    int fi = family == AF_INET ? 0 : 1;
    struct sockaddr_storage adv;
    if (!advertisedFor(e, t, family, &adv)) return -2;
    uint32_t first = 0;
    RAND_bytes((unsigned char *)&first, sizeof first);
    for (int k = 0; k < e->range_len && k < 1024; k++) {
        int i = (int)((first + (uint32_t)k) % (uint32_t)e->range_len);
        if (e->relays[fi][i] != NULL || (even && ((e->range_start + i) & 1))) continue;
        int fd = bindRelay(family, e->range_start + i);
        if (fd < 0) continue;
        turnRelay *r = calloc(1, sizeof *r);
        if (r == NULL || uv_poll_init(&e->loop, &r->poll, fd) != 0) {
            free(r);
            close(fd);
            return -1;
        }
        r->e = e;
        r->fd = fd;
        r->fi = fi;
        r->advertised = adv;
        ssSetPort(&r->advertised, e->range_start + i);
        r->tokens = e->burst;
        r->refill_ms = uv_now(&e->loop);
        r->poll.data = r;
        uv_poll_start(&r->poll, UV_READABLE, onRelayReadable);
        e->relays[fi][i] = r;
        e->stats.relays_opened++;
        *relay = r->advertised;
        return 0;
    }
    return -1;
}

static void onRelayClosed(uv_handle_t *h) {
    turnRelay *r = h->data;
    close(r->fd);
    free(r);
}

static void relayFree(tbTurnEngine *e, turnRelay *r) {
    e->relays[r->fi][ssPort(&r->advertised) - e->range_start] = NULL;
    uv_close((uv_handle_t *)&r->poll, onRelayClosed);
}

static void relayClose(void *ud, const struct sockaddr_storage *relay) {
    tbTurnEngine *e = ud;
    turnRelay *r = relayAt(e, relay);
    if (r != NULL) relayFree(e, r);
}

static int lookup(void *ud, const char *username, unsigned index, bool allocate, char *pw,
                  size_t cap) {
    tbTurnEngine *e = ud;
    return tbTurnAuthLookup(&e->auth, username, index, allocate, (int64_t)time(NULL), pw, cap);
}

/* ---- the thread ------------------------------------------------------------------------- */

static void publishStats(tbTurnEngine *e) {
    tbTurnStreamStats ss;
    tbTurnStreamsGetStats(e->streams, &ss);
    e->stats.allocations = tbTurnServerAllocationCount(e->core);
    e->stats.tcp_connections = ss.connections;
    e->stats.tls_failures = ss.tls_failures;
    uv_mutex_lock(&e->lock);
    e->snapshot = e->stats;
    e->snapshot.dropped[TB_TURN_DROP_SEND_ERROR] += ss.out_dropped;
    e->snapshot.dropped[TB_TURN_DROP_NOT_TURN] += ss.bad_framing;
    uv_mutex_unlock(&e->lock);
}

static void onTick(uv_timer_t *t) {
    tbTurnEngine *e = t->data;
    tbTurnServerTick(e->core, nowSec());
    publishStats(e);
}

static void onStop(uv_async_t *a) {
    tbTurnEngine *e = a->data;
    for (int i = 0; i < e->nudp; i++) uv_close((uv_handle_t *)&e->udp[i].poll, NULL);
    for (int fi = 0; fi < 2; fi++)
        for (int i = 0; i < e->range_len; i++)
            if (e->relays[fi][i] != NULL) relayFree(e, e->relays[fi][i]);
    tbTurnStreamsClose(e->streams);
    e->streams = NULL;
    uv_close((uv_handle_t *)&e->tick, NULL);
    uv_close((uv_handle_t *)&e->stop, NULL);
}

static void run(void *arg) {
    tbTurnEngine *e = arg;
    uv_run(&e->loop, UV_RUN_DEFAULT);
}

/* ---- start-up ------------------------------------------------------------------------------- */

/* A wildcard UDP listener of family on port with pktinfo, or -errno. */
static int openUdp(tbTurnEngine *e, int family, int port) {
    turnUdp *u = &e->udp[e->nudp];
    int fd = bindRelay(family, port);
    if (fd < 0) return -errno;
    int one = 1, buf = 4 << 20; /* small datagrams fill a default buffer fast */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (family == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    else
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    u->e = e;
    u->fd = fd;
    u->family = family;
    uv_poll_init(&e->loop, &u->poll, fd);
    u->poll.data = u;
    uv_poll_start(&u->poll, UV_READABLE, onUdpReadable);
    e->nudp++;
    return 0;
}

/* Own ports, the media port and the host's addresses for the peer policy. */
static int setupPolicy(tbTurnEngine *e) {
    const tbConfig *c = e->cfg;
    char err[160];
    if (tbPeerPolicyInit(&e->policy, (const char *const *)c->turn.allow_restricted_peer_cidrs.items,
                         c->turn.allow_restricted_peer_cidrs.len, err, sizeof err) != 0) {
        tbError("turn", "turn.allow_restricted_peer_cidrs: %s", err);
        return -1;
    }
    uint16_t ports[6];
    size_t n = 0;
    int cand[] = {c->port, c->prometheus_port, c->rtc.tcp_port, c->turn.udp_port,
                  c->turn.tls_port};
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        if (cand[i] > 0) ports[n++] = (uint16_t)cand[i];
    tbPeerPolicySetOwnPorts(&e->policy, ports, n, 0);
    if (c->rtc.udp_port > 0) /* one port, or "start-end" */
        tbPeerPolicySetMediaRange(&e->policy, (uint16_t)c->rtc.udp_port,
                                  (uint16_t)(c->rtc.udp_port_end > 0 ? c->rtc.udp_port_end
                                                                     : c->rtc.udp_port));
    else /* port-range mode: a port per transport */
        tbPeerPolicySetMediaRange(&e->policy, (uint16_t)c->rtc.port_range_start,
                                  (uint16_t)c->rtc.port_range_end);
    struct sockaddr_storage local[TB_PEER_POLICY_MAX_LOCAL];
    size_t nl = 0;
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i && nl < TB_PEER_POLICY_MAX_LOCAL - 2; i = i->ifa_next) {
            if (!i->ifa_addr) continue;
            int f = i->ifa_addr->sa_family;
            if (f != AF_INET && f != AF_INET6) continue;
            memset(&local[nl], 0, sizeof local[nl]);
            memcpy(&local[nl], i->ifa_addr,
                   f == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
            nl++;
        }
        freeifaddrs(ifs);
    }
    for (int fi = 0; fi < 2; fi++)
        if (e->have_node[fi]) local[nl++] = e->node[fi];
    tbPeerPolicySetLocalAddresses(&e->policy, local, nl);
    return 0;
}

/* The advertised IPs (one address, or a list) by family. */
static void parseAdvertise(tbTurnEngine *e, const char *ips) {
    while (ips && *ips) {
        char one[64];
        size_t n = strcspn(ips, ", ");
        if (n > 0 && n < sizeof one) {
            memcpy(one, ips, n);
            one[n] = '\0';
            struct sockaddr_in s4 = {.sin_family = AF_INET};
            struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
            if (!e->have_node[0] && inet_pton(AF_INET, one, &s4.sin_addr) == 1) {
                memcpy(&e->node[0], &s4, sizeof s4);
                e->have_node[0] = true;
            } else if (!e->have_node[1] && inet_pton(AF_INET6, one, &s6.sin6_addr) == 1) {
                memcpy(&e->node[1], &s6, sizeof s6);
                e->have_node[1] = true;
            }
        }
        ips += n;
        ips += strspn(ips, ", ");
    }
}

static int openListeners(tbTurnEngine *e) {
    const tbTurnConfig *t = &e->cfg->turn;
    tbTurnStreamCallbacks cb = {streamInput, streamClosed, e};
    e->streams = tbTurnStreamsNew(&e->loop, &cb);
    if (e->streams == NULL) return -1;
    if (t->udp_port > 0) {
        int rc = openUdp(e, AF_INET, t->udp_port);
        if (rc != 0) {
            tbError("turn", "cannot bind UDP port %d: %s", t->udp_port, strerror(-rc));
            return -1;
        }
        openUdp(e, AF_INET6, t->udp_port); /* a host without IPv6 still serves IPv4 */
        if (tbTurnStreamsListen(e->streams, t->udp_port, NULL) != 0) return -1;
    }
    if (t->tls_port > 0) {
        if (!t->external_tls) {
            e->tls = tbTurnTlsContextNew(t->cert_file, t->key_file);
            if (e->tls == NULL) return -1;
        }
        if (tbTurnStreamsListen(e->streams, t->tls_port, e->tls) != 0) return -1;
    }
    return 0;
}

static tbTurnServer *newCore(tbTurnEngine *e) {
    const tbTurnConfig *t = &e->cfg->turn;
    uint8_t secret[32];
    if (RAND_bytes(secret, sizeof secret) != 1) return NULL;
    tbTurnServerConfig c = {
        .realm = t->realm && *t->realm ? t->realm : t->domain && *t->domain ? t->domain : "tribune",
        .nonce_secret = secret, .nonce_secret_len = sizeof secret, .nonce_lifetime = 600,
        .default_lifetime = 600, .max_lifetime = 3600, .permission_lifetime = 300,
        .channel_lifetime = 600, .max_allocations = (size_t)t->max_allocations,
        .max_per_user = (size_t)t->per_user_relay_allocation_limit, .policy = &e->policy,
        .cb = {lookup, relayOpen, relayClose, e}};
    return tbTurnServerNew(&c);
}

static void freeEngine(tbTurnEngine *e) {
    tbTurnServerFree(e->core);
    free(e->relays[0]);
    free(e->relays[1]);
    if (e->tls) SSL_CTX_free(e->tls);
    uv_mutex_destroy(&e->lock);
    free(e);
}

/* Closes what openListeners opened when start-up fails half-way. */
static void abandon(tbTurnEngine *e) {
    onStop(&e->stop);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
    freeEngine(e);
}

tbTurnEngine *tbTurnEngineStart(const tbConfig *cfg, const char *advertise) {
    const tbTurnConfig *t = &cfg->turn;
    tbTurnEngine *e = calloc(1, sizeof *e);
    if (e == NULL) return NULL;
    e->cfg = cfg;
    uv_mutex_init(&e->lock);
    e->range_start = t->relay_range_start;
    e->range_len = t->relay_range_end - t->relay_range_start + 1;
    e->relays[0] = calloc((size_t)e->range_len, sizeof *e->relays[0]);
    e->relays[1] = calloc((size_t)e->range_len, sizeof *e->relays[1]);
    e->bytes_per_ms = t->bandwidth_limit / 8000.0;
    e->burst = e->bytes_per_ms * 250.0 > 16384 ? e->bytes_per_ms * 250.0 : 16384; /* 250 ms */
    parseAdvertise(e, advertise);
    if (tbTurnAuthInit(&e->auth, cfg) != 0 && t->users.len == 0)
        tbWarn("turn", "no TURN secret and no API key: only turn.users can authenticate");
    if (e->relays[0] == NULL || e->relays[1] == NULL || setupPolicy(e) != 0 ||
        (e->core = newCore(e)) == NULL) {
        freeEngine(e);
        return NULL;
    }
    uv_loop_init(&e->loop);
    uv_async_init(&e->loop, &e->stop, onStop);
    e->stop.data = e;
    uv_timer_init(&e->loop, &e->tick);
    e->tick.data = e;
    e->out.buf = e->outbuf;
    e->out.cap = sizeof e->outbuf;
    if (openListeners(e) != 0) {
        abandon(e);
        return NULL;
    }
    uv_timer_start(&e->tick, onTick, 1000, 1000);
    if (uv_thread_create(&e->thread, run, e) != 0) {
        abandon(e);
        return NULL;
    }
    tbInfo("turn", "TURN listening on UDP/TCP %d, %s %d; relay ports %d-%d; realm %s",
           t->udp_port, t->external_tls ? "TCP (TLS terminated outside)" : "TLS", t->tls_port,
           t->relay_range_start, t->relay_range_end, tbTurnServerRealm(e->core));
    return e;
}

void tbTurnEngineStop(tbTurnEngine *e) {
    if (e == NULL) return;
    uv_async_send(&e->stop);
    uv_thread_join(&e->thread);
    uv_loop_close(&e->loop);
    freeEngine(e);
}

void tbTurnEngineGetStats(tbTurnEngine *e, tbTurnStats *out) {
    if (e == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    uv_mutex_lock(&e->lock);
    *out = e->snapshot;
    uv_mutex_unlock(&e->lock);
}
