/* sctp.c — data channel associations over usrsctp; see sctp.h.
 * SCTP itself is usrsctp's; hand-written here: the glue (registry, outbox,
 * reassembly), DCEP handling and the channel table. */
#include "data/sctp.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "data/dcep.h"
#include "util/log.h"

#define REG_SLOTS_MIN 64
#define TB_SCTP_MTU 1140 /* SCTP packet; + DTLS record overhead stays under 1200 */

typedef struct sctpPacket {
    struct sctpPacket *next;
    size_t len;
    uint8_t data[];
} sctpPacket;

typedef struct sctpChannel {
    bool used;
    uint16_t stream;
    bool ordered;
    int max_rtx;                  /* -1 = reliable */
    bool acked;                   /* ours: the peer acknowledged the OPEN */
    bool pending_open;            /* ours: OPEN not sent yet (association not up) */
    char label[TB_DCEP_LABEL_MAX];
} sctpChannel;

struct tbSctp {
    uint64_t id;                  /* registry key handed to usrsctp as its address */
    pthread_t owner;              /* the thread that created it and feeds it */
    struct socket *sock;
    tbSctpCallbacks cb;
    uint16_t remote_port;
    bool dtls_client;
    bool up;
    uint32_t max_message_size;
    sctpPacket *out, *out_tail;   /* guarded by the registry lock */
    uint8_t *rbuf;                /* a message being reassembled */
    size_t rlen, rcap;
    uint16_t rstream;
    uint32_t rppid;
    bool rdrop;                   /* the message being reassembled is too big */
    sctpChannel channels[TB_SCTP_MAX_CHANNELS];
    tbSctpStats stats;
};

/* ---- the process-wide registry ------------------------------------------ */

static pthread_once_t initOnce = PTHREAD_ONCE_INIT;
static int initRc = -1;
static pthread_mutex_t regLock = PTHREAD_MUTEX_INITIALIZER;
static tbSctp **reg;              /* slot → association */
static size_t regCap;
static uint32_t regGen;           /* bumped per registration: stale ids miss */

static uint64_t makeId(size_t slot, uint32_t gen) { return (uint64_t)gen << 32 | slot; }

/* The association of id, or NULL. Call with regLock held. */
static tbSctp *regFind(uint64_t id) {
    size_t slot = (size_t)(id & 0xffffffffu);
    return slot < regCap && reg[slot] && reg[slot]->id == id ? reg[slot] : NULL;
}

static int regAdd(tbSctp *s) {
    pthread_mutex_lock(&regLock);
    size_t slot = 0;
    while (slot < regCap && reg[slot]) slot++;
    if (slot == regCap) {
        size_t cap = regCap ? 2 * regCap : REG_SLOTS_MIN;
        tbSctp **n = realloc(reg, cap * sizeof *n);
        if (n == NULL) {
            pthread_mutex_unlock(&regLock);
            return -1;
        }
        memset(n + regCap, 0, (cap - regCap) * sizeof *n);
        reg = n;
        regCap = cap;
    }
    s->id = makeId(slot, ++regGen);
    reg[slot] = s;
    pthread_mutex_unlock(&regLock);
    return 0;
}

static void regRemove(tbSctp *s) {
    pthread_mutex_lock(&regLock);
    if (regFind(s->id) == s) reg[s->id & 0xffffffffu] = NULL;
    pthread_mutex_unlock(&regLock);
}

/* usrsctp → the wire: queue the packet on its association's outbox. */
static int connOutput(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df) {
    (void)tos;
    (void)set_df;
    sctpPacket *p = malloc(sizeof *p + len);
    if (p == NULL) return ENOMEM;
    p->next = NULL;
    p->len = len;
    memcpy(p->data, buf, len);
    pthread_mutex_lock(&regLock);
    tbSctp *s = regFind((uint64_t)(uintptr_t)addr);
    if (s == NULL) {
        pthread_mutex_unlock(&regLock);
        free(p);
        return 0;
    }
    if (s->out_tail)
        s->out_tail->next = p;
    else
        s->out = p;
    s->out_tail = p;
    if (s->cb.wake) s->cb.wake(s->cb.ud);
    pthread_mutex_unlock(&regLock);
    return 0;
}

static void initUsrsctp(void) {
    usrsctp_init(0, connOutput, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    initRc = 0;
}

int tbSctpGlobalInit(void) {
    pthread_once(&initOnce, initUsrsctp);
    return initRc;
}

/* ---- channels ------------------------------------------------------------- */

static sctpChannel *channelByStream(tbSctp *s, uint16_t stream) {
    for (size_t i = 0; i < TB_SCTP_MAX_CHANNELS; i++)
        if (s->channels[i].used && s->channels[i].stream == stream) return &s->channels[i];
    return NULL;
}

static sctpChannel *channelByLabel(tbSctp *s, const char *label) {
    for (size_t i = 0; i < TB_SCTP_MAX_CHANNELS; i++)
        if (s->channels[i].used && strcmp(s->channels[i].label, label) == 0)
            return &s->channels[i];
    return NULL;
}

static sctpChannel *freeChannel(tbSctp *s) {
    for (size_t i = 0; i < TB_SCTP_MAX_CHANNELS; i++)
        if (!s->channels[i].used) return &s->channels[i];
    return NULL;
}

/* One message on stream with the given order and retransmission limit. */
static int sendRaw(tbSctp *s, uint16_t stream, uint32_t ppid, bool ordered, int max_rtx,
                   const uint8_t *data, size_t len) {
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof spa);
    spa.sendv_sndinfo.snd_sid = stream;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (ordered ? 0 : SCTP_UNORDERED);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    if (max_rtx >= 0) {
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
        spa.sendv_prinfo.pr_value = (uint32_t)max_rtx;
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    }
    /* an empty message goes as one zero byte with the "empty" PPID (RFC 8831 §6.6) */
    static const uint8_t zero = 0;
    if (len == 0) {
        data = &zero;
        len = 1;
        if (ppid == TB_PPID_STRING) spa.sendv_sndinfo.snd_ppid = htonl(TB_PPID_STRING_EMPTY);
        if (ppid == TB_PPID_BINARY) spa.sendv_sndinfo.snd_ppid = htonl(TB_PPID_BINARY_EMPTY);
    }
    ssize_t n = usrsctp_sendv(s->sock, data, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
    if (n < 0) {
        s->stats.send_failed++;
        return -1;
    }
    return 0;
}

static void sendOpen(tbSctp *s, sctpChannel *c) {
    tbDcepOpen o;
    uint8_t buf[12 + TB_DCEP_LABEL_MAX];
    memset(&o, 0, sizeof o);
    o.channel_type = (uint8_t)((c->max_rtx >= 0 ? TB_DCEP_REXMIT : TB_DCEP_RELIABLE) |
                               (c->ordered ? 0 : TB_DCEP_UNORDERED));
    o.reliability = c->max_rtx >= 0 ? (uint32_t)c->max_rtx : 0;
    snprintf(o.label, sizeof o.label, "%s", c->label);
    size_t n = tbDcepBuildOpen(&o, buf, sizeof buf);
    if (n > 0 && sendRaw(s, c->stream, TB_PPID_DCEP, true, -1, buf, n) == 0)
        c->pending_open = false;
}

/* DATA_CHANNEL_OPEN from the peer: record the channel, ACK it. */
static void onDcep(tbSctp *s, uint16_t stream, const uint8_t *data, size_t len) {
    tbDcepOpen o;
    if (tbDcepIsAck(data, len)) {
        sctpChannel *c = channelByStream(s, stream);
        if (c && !c->acked) {
            c->acked = true;
            if (s->cb.on_open) s->cb.on_open(s->cb.ud, stream, c->label);
        }
        return;
    }
    if (tbDcepParseOpen(data, len, &o) != 0) return;
    sctpChannel *c = channelByStream(s, stream);
    if (c == NULL && (c = freeChannel(s)) == NULL) return;
    memset(c, 0, sizeof *c);
    c->used = true;
    c->acked = true;
    c->stream = stream;
    c->ordered = tbDcepOrdered(o.channel_type);
    c->max_rtx = (o.channel_type & 0x7f) == TB_DCEP_REXMIT ? (int)o.reliability : -1;
    memcpy(c->label, o.label, sizeof c->label);
    static const uint8_t ack = TB_DCEP_ACK;
    sendRaw(s, stream, TB_PPID_DCEP, true, -1, &ack, 1);
    if (s->cb.on_open) s->cb.on_open(s->cb.ud, stream, c->label);
}

/* ---- receiving --------------------------------------------------------------- */

static void deliver(tbSctp *s, uint16_t stream, uint32_t ppid, const uint8_t *data, size_t len) {
    if (ppid == TB_PPID_DCEP) {
        onDcep(s, stream, data, len);
        return;
    }
    sctpChannel *c = channelByStream(s, stream);
    if (c == NULL) {
        s->stats.dropped_unknown++;
        return;
    }
    if (ppid == TB_PPID_STRING_EMPTY || ppid == TB_PPID_BINARY_EMPTY) {
        ppid = ppid == TB_PPID_STRING_EMPTY ? TB_PPID_STRING : TB_PPID_BINARY;
        len = 0;
    }
    s->stats.messages_in++;
    s->stats.bytes_in += len;
    if (s->cb.on_message) s->cb.on_message(s->cb.ud, stream, c->label, ppid, data, len);
}

/* Appends a part of a message; delivers it at its end. */
static void reassemble(tbSctp *s, uint16_t stream, uint32_t ppid, const uint8_t *data,
                       size_t len, bool end) {
    if (s->rlen == 0 && end) {
        deliver(s, stream, ppid, data, len); /* the common case: no copy */
        return;
    }
    if (s->rlen == 0) {
        s->rstream = stream;
        s->rppid = ppid;
        s->rdrop = false;
    }
    if (!s->rdrop && s->rlen + len > s->max_message_size) s->rdrop = true;
    if (!s->rdrop && s->rlen + len > s->rcap) {
        size_t cap = s->rcap ? s->rcap : 65536;
        while (cap < s->rlen + len) cap *= 2;
        uint8_t *n = realloc(s->rbuf, cap);
        if (n == NULL) {
            s->rdrop = true;
        } else {
            s->rbuf = n;
            s->rcap = cap;
        }
    }
    if (!s->rdrop) memcpy(s->rbuf + s->rlen, data, len);
    s->rlen += len; /* counted even when dropping, so `end` resets it */
    if (!end) return;
    if (s->rdrop)
        s->stats.dropped_oversize++;
    else
        deliver(s, s->rstream, s->rppid, s->rbuf, s->rlen);
    s->rlen = 0;
}

static void onStreamReset(tbSctp *s, const struct sctp_stream_reset_event *e) {
    if (!(e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)) return;
    size_t n = (e->strreset_length - sizeof *e) / sizeof(uint16_t);
    for (size_t i = 0; i < n; i++) {
        sctpChannel *c = channelByStream(s, e->strreset_stream_list[i]);
        if (c == NULL) continue;
        /* the peer closed the channel: close our direction too (RFC 8831 §6.7) */
        uint8_t buf[sizeof(struct sctp_reset_streams) + sizeof(uint16_t)];
        struct sctp_reset_streams *r = (struct sctp_reset_streams *)buf;
        memset(buf, 0, sizeof buf);
        r->srs_assoc_id = SCTP_ALL_ASSOC;
        r->srs_flags = SCTP_STREAM_RESET_OUTGOING;
        r->srs_number_streams = 1;
        r->srs_stream_list[0] = c->stream;
        usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, r, (socklen_t)sizeof buf);
        memset(c, 0, sizeof *c);
    }
}

static void onNotification(tbSctp *s, const union sctp_notification *n, size_t len) {
    if (len < sizeof n->sn_header) return;
    switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        if (n->sn_assoc_change.sac_state == SCTP_COMM_UP && !s->up) {
            s->up = true;
            for (size_t i = 0; i < TB_SCTP_MAX_CHANNELS; i++)
                if (s->channels[i].used && s->channels[i].pending_open)
                    sendOpen(s, &s->channels[i]);
            if (s->cb.on_state) s->cb.on_state(s->cb.ud, true);
        } else if ((n->sn_assoc_change.sac_state == SCTP_COMM_LOST ||
                    n->sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP ||
                    n->sn_assoc_change.sac_state == SCTP_CANT_STR_ASSOC) && s->up) {
            s->up = false;
            if (s->cb.on_state) s->cb.on_state(s->cb.ud, false);
        }
        break;
    case SCTP_STREAM_RESET_EVENT:
        if (len >= sizeof(struct sctp_stream_reset_event))
            onStreamReset(s, &n->sn_strreset_event);
        break;
    default: break;
    }
}

/* usrsctp → us. Messages and most notifications arrive on the owner's
 * thread, inside tbSctpInput; what usrsctp's timer thread raises (an
 * association lost after retransmissions ran out) is dropped: the owner
 * may be freeing the association at that moment, and the transport's own
 * consent checks notice a dead peer anyway. */
static int onReceive(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
                     struct sctp_rcvinfo rcv, int flags, void *ulp) {
    (void)sock;
    (void)addr;
    pthread_mutex_lock(&regLock);
    tbSctp *s = regFind((uint64_t)(uintptr_t)ulp);
    if (s != NULL && !pthread_equal(s->owner, pthread_self())) s = NULL;
    pthread_mutex_unlock(&regLock);
    if (s != NULL && data != NULL) {
        if (flags & MSG_NOTIFICATION)
            onNotification(s, data, len);
        else
            reassemble(s, rcv.rcv_sid, ntohl(rcv.rcv_ppid), data, len, (flags & MSG_EOR) != 0);
    }
    free(data);
    return 1;
}

/* ---- the association ------------------------------------------------------------- */

static int setOptions(struct socket *so) {
    static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT,
                                      SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT};
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC,
                                  .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
    struct sctp_initmsg init = {.sinit_num_ostreams = 1024, .sinit_max_instreams = 1024};
    int on = 1, buf = 1 << 20;
    if (usrsctp_set_non_blocking(so, 1) != 0 ||
        usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0 ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof av) != 0 ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on) != 0 ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) != 0 ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init) != 0)
        return -1;
    usrsctp_setsockopt(so, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    usrsctp_setsockopt(so, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i], .se_on = 1};
        if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) != 0) return -1;
    }
    return 0;
}

static struct sockaddr_conn connAddr(const tbSctp *s, uint16_t port) {
    struct sockaddr_conn a;
    memset(&a, 0, sizeof a);
    a.sconn_family = AF_CONN;
    a.sconn_port = htons(port);
    a.sconn_addr = (void *)(uintptr_t)s->id;
    return a;
}

tbSctp *tbSctpNew(const tbSctpCallbacks *cb, uint16_t remote_port, bool dtls_client,
                  uint32_t max_message_size) {
    if (tbSctpGlobalInit() != 0) return NULL;
    tbSctp *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->cb = *cb;
    s->owner = pthread_self();
    s->remote_port = remote_port ? remote_port : TB_SCTP_PORT;
    s->dtls_client = dtls_client;
    s->max_message_size = max_message_size ? max_message_size : 262144;
    if (regAdd(s) != 0) {
        free(s);
        return NULL;
    }
    usrsctp_register_address((void *)(uintptr_t)s->id);
    s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, onReceive, NULL, 0,
                             (void *)(uintptr_t)s->id);
    struct sockaddr_conn local = connAddr(s, TB_SCTP_PORT);
    if (s->sock == NULL || setOptions(s->sock) != 0 ||
        usrsctp_bind(s->sock, (struct sockaddr *)&local, sizeof local) != 0) {
        tbWarn("data", "cannot create an SCTP socket: %s", strerror(errno));
        tbSctpFree(s);
        return NULL;
    }
    return s;
}

int tbSctpConnect(tbSctp *s) {
    struct sockaddr_conn remote = connAddr(s, s->remote_port);
    int rc = usrsctp_connect(s->sock, (struct sockaddr *)&remote, sizeof remote);
    if (rc != 0 && errno != EINPROGRESS) return -1;
    /* packets must fit one DTLS record in one datagram: no path MTU discovery */
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    memcpy(&pp.spp_address, &remote, sizeof remote);
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = TB_SCTP_MTU;
    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
    return 0;
}

void tbSctpInput(tbSctp *s, const uint8_t *pkt, size_t len) {
    if (s != NULL && len > 0) usrsctp_conninput((void *)(uintptr_t)s->id, pkt, len, 0);
}

void tbSctpDrain(tbSctp *s, void (*fn)(void *ud, const uint8_t *pkt, size_t len), void *ud) {
    pthread_mutex_lock(&regLock);
    sctpPacket *p = s->out;
    s->out = s->out_tail = NULL;
    pthread_mutex_unlock(&regLock);
    while (p) {
        sctpPacket *next = p->next;
        fn(ud, p->data, p->len);
        free(p);
        p = next;
    }
}

int tbSctpSend(tbSctp *s, uint16_t stream, uint32_t ppid, const uint8_t *data, size_t len) {
    sctpChannel *c = channelByStream(s, stream);
    if (c == NULL || !s->up || len > TB_SCTP_MAX_SEND) {
        s->stats.send_failed++;
        return -1;
    }
    /* until the peer ACKs our OPEN, messages must be ordered (RFC 8832 §6) */
    if (sendRaw(s, stream, ppid, c->ordered || !c->acked, c->max_rtx, data, len) != 0) return -1;
    s->stats.messages_out++;
    s->stats.bytes_out += len;
    return 0;
}

int tbSctpSendLabel(tbSctp *s, const char *label, uint32_t ppid, const uint8_t *data,
                    size_t len) {
    sctpChannel *c = channelByLabel(s, label);
    if (c == NULL) {
        s->stats.send_failed++;
        return -1;
    }
    return tbSctpSend(s, c->stream, ppid, data, len);
}

int tbSctpOpenChannel(tbSctp *s, const char *label, bool ordered, int max_retransmits,
                      uint16_t *stream) {
    sctpChannel *c = channelByLabel(s, label);
    if (c != NULL) {
        *stream = c->stream;
        return 0;
    }
    if ((c = freeChannel(s)) == NULL || strlen(label) >= sizeof c->label) return -1;
    /* RFC 8832 §6: the DTLS client uses even stream ids, the server odd ones */
    uint16_t sid = s->dtls_client ? 0 : 1;
    while (channelByStream(s, sid)) sid = (uint16_t)(sid + 2);
    memset(c, 0, sizeof *c);
    c->used = true;
    c->stream = sid;
    c->ordered = ordered;
    c->max_rtx = max_retransmits;
    c->pending_open = true;
    snprintf(c->label, sizeof c->label, "%s", label);
    if (s->up) sendOpen(s, c);
    *stream = sid;
    return 0;
}

bool tbSctpIsUp(const tbSctp *s) { return s && s->up; }

void tbSctpGetStats(const tbSctp *s, tbSctpStats *out) {
    if (s)
        *out = s->stats;
    else
        memset(out, 0, sizeof *out);
}

void tbSctpFree(tbSctp *s) {
    if (s == NULL) return;
    regRemove(s); /* from here on usrsctp's thread finds nothing */
    if (s->sock) usrsctp_close(s->sock);
    usrsctp_deregister_address((void *)(uintptr_t)s->id);
    sctpPacket *p = s->out;
    while (p) {
        sctpPacket *next = p->next;
        free(p);
        p = next;
    }
    free(s->rbuf);
    free(s);
}
