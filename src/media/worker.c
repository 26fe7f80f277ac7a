/* worker.c — media worker threads, their command queues, and the event
 * queue back to the control loop; see worker.h and media.h. */
#include "media/worker.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtls/cert.h"
#include "media/handoff.h"
#include "media/ice_tcp.h"
#include "media/router.h"
#include "util/log.h"

#define TB_TICK_MS 10

typedef struct tbWorker {
    tbMedia *media;
    int index;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;            /* commands queued, or stop */
    uv_poll_t poll;             /* the UDP socket is readable */
    uv_async_t handoff;         /* other workers put datagrams in our rings */
    uint32_t wake_mask;         /* workers to wake after this batch (bit per index) */
    uint64_t handed_off;        /* datagrams put in other workers' rings */
    uv_timer_t tick;
    uv_mutex_t lock;            /* guards cmds, stopping and wakeable */
    tbMediaCmd *cmds, *cmds_tail;
    bool stopping;
    bool wakeable;              /* `wake` may be signalled (false once it closes) */
    tbUdp udp;
    tbIceTcp *tcp;              /* ICE-TCP on rtc.tcp_port, or NULL */
    tbRouter *router;
    struct tbOwnSocket *own;    /* transports' own sockets (port-range mode) */
    tbMediaStats stats;         /* snapshot, guarded by lock */
} tbWorker;

/* A transport's own socket (port-range mode), polled by its room's worker. */
typedef struct tbOwnSocket {
    uv_poll_t poll;
    struct tbWorker *worker;
    uint32_t transport_id;
    int fd;
    struct tbOwnSocket *next;
} tbOwnSocket;

typedef struct tbEventNode {
    tbMediaEvent ev;
    struct tbEventNode *next;
} tbEventNode;

struct tbMedia {
    tbWorker *workers;
    int num_workers;
    tbHandoffRing *rings;       /* [from * num_workers + to]: from -> to */
    _Atomic int quiesced;       /* workers that stopped taking input (shutdown) */
    tbDtlsCert *cert;
    uv_async_t events_async;    /* on the control loop */
    uv_mutex_t events_lock;
    tbEventNode *events, *events_tail;
    tbMediaEventFn fn;
    void *ctx;
};

static int64_t monotonicMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- worker thread --------------------------------------------------------- */

static tbHandoffRing *ringOf(tbMedia *m, int from, int to) {
    return &m->rings[from * m->num_workers + to];
}

/* Hands a datagram (or a TCP frame to send) to worker `to`; woken after the
 * batch. */
static void handOff(tbWorker *w, int to, tbHandoffKind kind, const tbIceTuple *peer,
                    const uint8_t *data, size_t len) {
    if (tbHandoffPush(ringOf(w->media, w->index, to), kind, peer, data, len)) {
        w->wake_mask |= 1u << to;
        w->handed_off++;
    }
}

static void flushAll(tbWorker *w) {
    tbUdpFlush(&w->udp);
    tbIceTcpFlush(w->tcp);
    for (int i = 0; w->wake_mask; i++) {
        if (!(w->wake_mask & (1u << i))) continue;
        w->wake_mask &= ~(1u << i);
        uv_async_send(&w->media->workers[i].handoff);
    }
}

/* Routes one datagram or ICE-TCP frame, handing it over when another worker
 * owns its transport. */
static void input(tbWorker *w, const tbIceTuple *from, uint8_t *data, size_t len, int64_t now) {
    int owner = tbRouterInput(w->router, from, data, len, now, true);
    if (owner >= 0) handOff(w, owner, TB_HANDOFF_RECV, from, data, len);
}

static void tcpInput(void *ud, const tbIceTuple *from, uint8_t *data, size_t len) {
    input(ud, from, data, len, monotonicMs());
}

static bool tcpForward(void *ud, const tbIceTuple *to, const uint8_t *data, size_t len) {
    tbWorker *w = ud;
    handOff(w, 0, TB_HANDOFF_TCP_SEND, to, data, len); /* worker 0 holds ICE-TCP */
    return true;
}

static void onOwnReadable(uv_poll_t *h, int status, int events) {
    tbOwnSocket *o = h->data;
    tbWorker *w = o->worker;
    (void)events;
    if (status < 0) return;
    int64_t now = monotonicMs();
    int n;
    do {
        n = tbUdpRecvFd(&w->udp, o->fd);
        for (int i = 0; i < n; i++) {
            tbUdpPacket *p = &w->udp.rx[i];
            tbIceTuple from;
            if (tbIceTupleSet(&from, (struct sockaddr *)&p->addr, p->addrlen, TB_ICE_UDP) == 0)
                input(w, &from, p->data, p->len, now);
        }
        flushAll(w);
    } while (n == TB_UDP_BATCH);
}

static void startOwnSocket(tbWorker *w, uint32_t transport_id, int fd) {
    tbOwnSocket *o = calloc(1, sizeof *o);
    if (!o) return;
    o->worker = w;
    o->transport_id = transport_id;
    o->fd = fd;
    o->poll.data = o;
    uv_poll_init(&w->loop, &o->poll, fd);
    uv_poll_start(&o->poll, UV_READABLE, onOwnReadable);
    o->next = w->own;
    w->own = o;
}

static void onOwnClosed(uv_handle_t *h) { free(h->data); }

/* Stops polling a transport's socket before the router closes it. */
static void stopOwnSocket(tbWorker *w, uint32_t transport_id) {
    for (tbOwnSocket **pp = &w->own; *pp; pp = &(*pp)->next) {
        if ((*pp)->transport_id != transport_id) continue;
        tbOwnSocket *o = *pp;
        *pp = o->next;
        uv_poll_stop(&o->poll);
        uv_close((uv_handle_t *)&o->poll, onOwnClosed);
        return;
    }
}

/* Commands that concern the worker's own handles, around the router's work. */
static void runCommand(tbWorker *w, const tbMediaCmd *c, int64_t now) {
    if (c->type == TB_CMD_REMOVE_TRANSPORT) stopOwnSocket(w, c->transport_id);
    tbRouterCommand(w->router, c, now);
    if (c->type == TB_CMD_ADD_TRANSPORT && c->u.transport.fd >= 0)
        startOwnSocket(w, c->transport_id, c->u.transport.fd);
}

static void onHandoff(uv_async_t *h) {
    tbWorker *w = h->data;
    tbMedia *m = w->media;
    int64_t now = monotonicMs();
    for (int from = 0; from < m->num_workers; from++) {
        if (from == w->index) continue;
        tbHandoffRing *ring = ringOf(m, from, w->index);
        tbHandoffSlot *s;
        while ((s = tbHandoffPeek(ring))) {
            if (s->kind == TB_HANDOFF_RECV)
                tbRouterInput(w->router, &s->peer, s->data, s->len, now, false);
            else if (w->tcp)
                tbIceTcpSend(w->tcp, &s->peer, s->data, s->len);
            tbHandoffPop(ring);
        }
    }
    flushAll(w);
}

static void flushAllCb(void *ud) { flushAll(ud); }

static void onReadable(uv_poll_t *h, int status, int events) {
    tbWorker *w = h->data;
    (void)events;
    if (status < 0) return;
    int64_t now = monotonicMs();
    int n;
    do {
        n = tbUdpRecv(&w->udp);
        for (int i = 0; i < n; i++) {
            tbUdpPacket *p = &w->udp.rx[i];
            tbIceTuple from;
            if (tbIceTupleSet(&from, (struct sockaddr *)&p->addr, p->addrlen, TB_ICE_UDP) != 0)
                continue;
            input(w, &from, p->data, p->len, now);
        }
        flushAll(w);
    } while (n == TB_UDP_BATCH);
}

/* Shutdown: stop taking input, wait until every worker has (so nobody hands
 * a datagram to a worker whose async handle is gone), then close. */
static void closeWorkerHandles(tbWorker *w) {
    tbIceTcpStop(w->tcp);
    w->tcp = NULL;
    uv_poll_stop(&w->poll);
    uv_timer_stop(&w->tick);
    while (w->own) stopOwnSocket(w, w->own->transport_id);
    atomic_fetch_add(&w->media->quiesced, 1);
    while (atomic_load(&w->media->quiesced) < w->media->num_workers) sched_yield();
    uv_mutex_lock(&w->lock); /* usrsctp's thread may be about to wake us */
    w->wakeable = false;
    uv_mutex_unlock(&w->lock);
    uv_close((uv_handle_t *)&w->poll, NULL);
    uv_close((uv_handle_t *)&w->handoff, NULL);
    uv_close((uv_handle_t *)&w->tick, NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
}

static void onWake(uv_async_t *h) {
    tbWorker *w = h->data;
    uv_mutex_lock(&w->lock);
    tbMediaCmd *c = w->cmds;
    bool stop = w->stopping;
    w->cmds = w->cmds_tail = NULL;
    uv_mutex_unlock(&w->lock);
    int64_t now = monotonicMs();
    while (c) {
        tbMediaCmd *next = c->next;
        runCommand(w, c, now);
        free(c->data);
        free(c);
        c = next;
    }
    tbRouterDrainData(w->router); /* SCTP packets usrsctp's thread produced */
    flushAll(w);
    if (stop) closeWorkerHandles(w);
}

static void onTick(uv_timer_t *h) {
    tbWorker *w = h->data;
    tbRouterTick(w->router, monotonicMs());
    flushAll(w);
    tbMediaStats s;
    memset(&s, 0, sizeof s);
    tbRouterStats(w->router, &s);
    s.dropped_malformed += w->udp.truncated;
    s.handed_off = w->handed_off;
    for (int to = 0; to < w->media->num_workers; to++)
        s.handoff_dropped += ringOf(w->media, w->index, to)->dropped;
    uv_mutex_lock(&w->lock);
    w->stats = s;
    uv_mutex_unlock(&w->lock);
}

static void workerMain(void *arg) {
    tbWorker *w = arg;
    uv_poll_start(&w->poll, UV_READABLE, onReadable);
    uv_timer_start(&w->tick, onTick, TB_TICK_MS, TB_TICK_MS);
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

static int workerInit(tbMedia *m, tbWorker *w, int index, const tbMediaConfig *cfg) {
    w->media = m;
    w->index = index;
    int rc = tbUdpOpen(&w->udp, cfg->bind_ip, cfg->udp_port, m->num_workers > 1);
    if (rc) {
        tbError("media", "cannot bind UDP %s:%d: %s", cfg->bind_ip ? cfg->bind_ip : "*",
                cfg->udp_port, uv_strerror(rc));
        return -1;
    }
    w->router = tbRouterNew(m, &w->udp, m->cert, index, m->num_workers);
    if (!w->router) return -1;
    uv_loop_init(&w->loop);
    uv_mutex_init(&w->lock);
    uv_async_init(&w->loop, &w->wake, onWake);
    uv_async_init(&w->loop, &w->handoff, onHandoff);
    uv_poll_init(&w->loop, &w->poll, w->udp.fd);
    uv_timer_init(&w->loop, &w->tick);
    w->wake.data = w->handoff.data = w->poll.data = w->tick.data = w;
    w->wakeable = true;
    if (cfg->tcp_port > 0 && index == 0) {
        w->tcp = tbIceTcpStart(&w->loop, cfg->bind_ip, cfg->tcp_port, tcpInput, flushAllCb, w);
        tbRouterSetTcp(w->router, w->tcp);
    } else if (cfg->tcp_port > 0) {
        tbRouterSetTcpForward(w->router, tcpForward, w);
    }
    return 0;
}

static void workerPush(tbWorker *w, tbMediaCmd *c) {
    c->next = NULL;
    uv_mutex_lock(&w->lock);
    if (w->cmds_tail)
        w->cmds_tail->next = c;
    else
        w->cmds = c;
    w->cmds_tail = c;
    uv_mutex_unlock(&w->lock);
    uv_async_send(&w->wake);
}

/* ---- events back to the control loop --------------------------------------- */

void tbMediaPostEvent(tbMedia *m, const tbMediaEvent *ev) {
    tbEventNode *n = malloc(sizeof *n);
    if (!n) return;
    n->ev = *ev;
    n->next = NULL;
    uv_mutex_lock(&m->events_lock);
    if (m->events_tail)
        m->events_tail->next = n;
    else
        m->events = n;
    m->events_tail = n;
    uv_mutex_unlock(&m->events_lock);
    uv_async_send(&m->events_async);
}

static void onEvents(uv_async_t *h) {
    tbMedia *m = h->data;
    uv_mutex_lock(&m->events_lock);
    tbEventNode *n = m->events;
    m->events = m->events_tail = NULL;
    uv_mutex_unlock(&m->events_lock);
    while (n) {
        tbEventNode *next = n->next;
        m->fn(m->ctx, &n->ev);
        free(n->ev.data);
        free(n);
        n = next;
    }
}

void tbMediaWakeWorker(tbMedia *m, int index) {
    tbWorker *w = &m->workers[index];
    uv_mutex_lock(&w->lock);
    if (w->wakeable) uv_async_send(&w->wake);
    uv_mutex_unlock(&w->lock);
}

/* ---- control-thread API ------------------------------------------------------ */

tbMedia *tbMediaStart(const tbMediaConfig *cfg, uv_loop_t *control_loop, tbMediaEventFn fn,
                      void *ctx) {
    tbMedia *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->fn = fn;
    m->ctx = ctx;
    m->cert = tbDtlsCertGenerate(0);
    if (!m->cert) goto err;
    /* rtc.workers, else one per core: each binds the port (SO_REUSEPORT) */
    m->num_workers = cfg->workers > 0 ? cfg->workers : (int)uv_available_parallelism();
    if (m->num_workers > TB_MAX_WORKERS) m->num_workers = TB_MAX_WORKERS;
    if (m->num_workers < 1) m->num_workers = 1;
    m->workers = calloc((size_t)m->num_workers, sizeof *m->workers);
    m->rings = calloc((size_t)(m->num_workers * m->num_workers), sizeof *m->rings);
    if (!m->workers || !m->rings) goto err;
    for (int i = 0; i < m->num_workers * m->num_workers; i++) tbHandoffInit(&m->rings[i]);
    /* SO_REUSEPORT would let another process (same user) share the port
     * silently: make sure it is free first */
    if (m->num_workers > 1 && cfg->udp_port > 0) {
        tbUdp *probe = malloc(sizeof *probe);
        int rc = probe ? tbUdpOpen(probe, cfg->bind_ip, cfg->udp_port, false) : -1;
        if (rc != 0) {
            tbError("media", "UDP port %d is in use: %s", cfg->udp_port, uv_strerror(rc));
            free(probe);
            goto err;
        }
        tbUdpClose(probe);
        free(probe);
    }
    for (int i = 0; i < m->num_workers; i++)
        if (workerInit(m, &m->workers[i], i, cfg) != 0) goto err;
    uv_mutex_init(&m->events_lock);
    uv_async_init(control_loop, &m->events_async, onEvents);
    m->events_async.data = m;
    for (int i = 0; i < m->num_workers; i++)
        uv_thread_create(&m->workers[i].thread, workerMain, &m->workers[i]);
    tbInfo("media", "UDP media on port %d, %d worker(s), DTLS %s", cfg->udp_port,
           m->num_workers, tbMediaFingerprint(m));
    return m;
err:
    for (int i = 0; m->workers && i < m->num_workers; i++) {
        /* loops and handles of initialised workers were never run: a failed
         * start exits the process, so only the sockets and routers matter */
        if (m->workers[i].router) tbRouterFree(m->workers[i].router);
        if (m->workers[i].udp.fd > 0) tbUdpClose(&m->workers[i].udp);
    }
    free(m->workers);
    free(m->rings);
    if (m->cert) tbDtlsCertFree(m->cert);
    free(m);
    return NULL;
}

void tbMediaStop(tbMedia *m) {
    if (!m) return;
    for (int i = 0; i < m->num_workers; i++) {
        tbWorker *w = &m->workers[i];
        uv_mutex_lock(&w->lock);
        w->stopping = true;
        uv_mutex_unlock(&w->lock);
        uv_async_send(&w->wake);
    }
    for (int i = 0; i < m->num_workers; i++) {
        tbWorker *w = &m->workers[i];
        uv_thread_join(&w->thread);
        uv_loop_close(&w->loop);
        tbRouterFree(w->router);
        tbUdpClose(&w->udp);
        uv_mutex_destroy(&w->lock);
        for (tbMediaCmd *c = w->cmds; c;) {
            tbMediaCmd *next = c->next;
            free(c->data);
            free(c);
            c = next;
        }
    }
    uv_close((uv_handle_t *)&m->events_async, NULL);
    /* events still queued are dropped; the control loop is shutting down */
    for (tbEventNode *n = m->events; n;) {
        tbEventNode *next = n->next;
        free(n->ev.data);
        free(n);
        n = next;
    }
    m->events = NULL;
    free(m->workers);
    m->workers = NULL;
    free(m->rings);
    m->rings = NULL;
    tbDtlsCertFree(m->cert);
    /* m itself is freed by tbMediaFree after the loop closed the async */
}

void tbMediaFree(tbMedia *m) {
    if (!m) return;
    uv_mutex_destroy(&m->events_lock);
    free(m);
}

void tbMediaSetEventContext(tbMedia *m, void *ctx) { m->ctx = ctx; }

bool tbMediaTcpActive(const tbMedia *m) { return m->workers[0].tcp != NULL; }

char tbMediaUfragTag(const tbMedia *m, uint32_t room_id) {
    return TB_WORKER_TAGS[room_id % (uint32_t)m->num_workers];
}

const char *tbMediaFingerprint(const tbMedia *m) { return m->cert->fingerprint; }

static tbWorker *workerFor(tbMedia *m, uint32_t room_id) {
    return &m->workers[room_id % (uint32_t)m->num_workers];
}

static tbMediaCmd *newCmd(tbMediaCmdType type, uint32_t room_id) {
    tbMediaCmd *c = calloc(1, sizeof *c);
    if (c) {
        c->type = type;
        c->room_id = room_id;
    }
    return c;
}

void tbMediaAddTransport(tbMedia *m, const tbMediaTransportSpec *spec) {
    tbMediaCmd *c = newCmd(TB_CMD_ADD_TRANSPORT, spec->room_id);
    if (!c) return;
    c->transport_id = spec->transport_id;
    c->u.transport = *spec;
    workerPush(workerFor(m, spec->room_id), c);
}

void tbMediaRemoveTransport(tbMedia *m, uint32_t room_id, uint32_t transport_id) {
    tbMediaCmd *c = newCmd(TB_CMD_REMOVE_TRANSPORT, room_id);
    if (!c) return;
    c->transport_id = transport_id;
    workerPush(workerFor(m, room_id), c);
}

void tbMediaPublish(tbMedia *m, uint32_t room_id, const tbMediaPublishSpec *spec) {
    tbMediaCmd *c = newCmd(TB_CMD_PUBLISH, room_id);
    if (!c) return;
    c->transport_id = spec->transport_id;
    c->track_id = spec->track_id;
    c->u.publish = *spec;
    workerPush(workerFor(m, room_id), c);
}

void tbMediaUnpublish(tbMedia *m, uint32_t room_id, uint32_t track_id) {
    tbMediaCmd *c = newCmd(TB_CMD_UNPUBLISH, room_id);
    if (!c) return;
    c->track_id = track_id;
    workerPush(workerFor(m, room_id), c);
}

void tbMediaSubscribe(tbMedia *m, uint32_t room_id, const tbMediaSubscribeSpec *spec) {
    tbMediaCmd *c = newCmd(TB_CMD_SUBSCRIBE, room_id);
    if (!c) return;
    c->transport_id = spec->transport_id;
    c->track_id = spec->track_id;
    c->u.subscribe = *spec;
    workerPush(workerFor(m, room_id), c);
}

void tbMediaUnsubscribe(tbMedia *m, uint32_t room_id, uint32_t transport_id, uint32_t track_id) {
    tbMediaCmd *c = newCmd(TB_CMD_UNSUBSCRIBE, room_id);
    if (!c) return;
    c->transport_id = transport_id;
    c->track_id = track_id;
    workerPush(workerFor(m, room_id), c);
}

void tbMediaSetMuted(tbMedia *m, uint32_t room_id, uint32_t track_id, bool muted) {
    tbMediaCmd *c = newCmd(TB_CMD_SET_MUTED, room_id);
    if (!c) return;
    c->track_id = track_id;
    c->muted = muted;
    workerPush(workerFor(m, room_id), c);
}

void tbMediaIceRestart(tbMedia *m, uint32_t room_id, uint32_t transport_id,
                       const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
                       const char *remote_pwd) {
    tbMediaCmd *c = newCmd(TB_CMD_ICE_RESTART, room_id);
    if (!c) return;
    c->transport_id = transport_id;
    c->u.transport.fd = -1;
    snprintf(c->u.transport.local_ufrag, sizeof c->u.transport.local_ufrag, "%s", local_ufrag);
    snprintf(c->u.transport.local_pwd, sizeof c->u.transport.local_pwd, "%s", local_pwd);
    snprintf(c->u.transport.remote_ufrag, sizeof c->u.transport.remote_ufrag, "%s", remote_ufrag);
    snprintf(c->u.transport.remote_pwd, sizeof c->u.transport.remote_pwd, "%s", remote_pwd);
    workerPush(workerFor(m, room_id), c);
}

void tbMediaSendData(tbMedia *m, uint32_t room_id, uint32_t transport_id, const char *label,
                     uint32_t ppid, const uint8_t *data, size_t len) {
    tbMediaCmd *c = newCmd(TB_CMD_SEND_DATA, room_id);
    if (!c) return;
    c->data = malloc(len ? len : 1);
    if (!c->data) {
        free(c);
        return;
    }
    if (len) memcpy(c->data, data, len);
    c->data_len = len;
    c->transport_id = transport_id;
    c->ppid = ppid;
    snprintf(c->label, sizeof c->label, "%s", label);
    workerPush(workerFor(m, room_id), c);
}

void tbMediaGetStats(tbMedia *m, tbMediaStats *out) {
    memset(out, 0, sizeof *out);
    out->workers = (uint64_t)m->num_workers;
    for (int i = 0; i < m->num_workers; i++) {
        tbWorker *w = &m->workers[i];
        uv_mutex_lock(&w->lock);
        const tbMediaStats *s = &w->stats;
        out->packets_in += s->packets_in;
        out->packets_out += s->packets_out;
        out->bytes_in += s->bytes_in;
        out->bytes_out += s->bytes_out;
        out->dropped_malformed += s->dropped_malformed;
        out->dropped_unknown_source += s->dropped_unknown_source;
        out->stun_bad_auth += s->stun_bad_auth;
        out->srtp_auth_failed += s->srtp_auth_failed;
        out->nack_resent += s->nack_resent;
        out->handed_off += s->handed_off;
        out->handoff_dropped += s->handoff_dropped;
        out->transports += s->transports;
        out->data_in += s->data_in;
        out->data_out += s->data_out;
        out->data_dropped += s->data_dropped;
        uv_mutex_unlock(&w->lock);
    }
}
