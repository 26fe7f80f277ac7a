/* worker.c — media worker threads, their command queues, and the event
 * queue back to the control loop; see worker.h and media.h. */
#include "media/worker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtls/cert.h"
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
    uv_timer_t tick;
    uv_mutex_t lock;            /* guards cmds and stopping */
    tbMediaCmd *cmds, *cmds_tail;
    bool stopping;
    tbUdp udp;
    tbIceTcp *tcp;              /* ICE-TCP on rtc.tcp_port, or NULL */
    tbRouter *router;
    tbMediaStats stats;         /* snapshot, guarded by lock */
} tbWorker;

typedef struct tbEventNode {
    tbMediaEvent ev;
    struct tbEventNode *next;
} tbEventNode;

struct tbMedia {
    tbWorker *workers;
    int num_workers;
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

static void flushAll(tbWorker *w) {
    tbUdpFlush(&w->udp);
    tbIceTcpFlush(w->tcp);
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
        for (int i = 0; i < n; i++) tbRouterPacket(w->router, &w->udp.rx[i], now);
        flushAll(w);
    } while (n == TB_UDP_BATCH);
}

static void closeWorkerHandles(tbWorker *w) {
    tbIceTcpStop(w->tcp);
    w->tcp = NULL;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, NULL);
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
        tbRouterCommand(w->router, c, now);
        free(c);
        c = next;
    }
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
    int rc = tbUdpOpen(&w->udp, cfg->bind_ip, cfg->udp_port, cfg->workers > 1);
    if (rc) {
        tbError("media", "cannot bind UDP %s:%d: %s", cfg->bind_ip ? cfg->bind_ip : "*",
                cfg->udp_port, uv_strerror(rc));
        return -1;
    }
    w->router = tbRouterNew(m, &w->udp, m->cert);
    if (!w->router) return -1;
    uv_loop_init(&w->loop);
    uv_mutex_init(&w->lock);
    uv_async_init(&w->loop, &w->wake, onWake);
    uv_poll_init(&w->loop, &w->poll, w->udp.fd);
    uv_timer_init(&w->loop, &w->tick);
    w->wake.data = w->poll.data = w->tick.data = w;
    if (cfg->tcp_port > 0) {
        w->tcp = tbIceTcpStart(&w->loop, cfg->bind_ip, cfg->tcp_port, w->router, flushAllCb, w);
        tbRouterSetTcp(w->router, w->tcp);
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
        free(n);
        n = next;
    }
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
    /* One worker for now: all transports share one socket, and handing
     * packets between workers is the performance issue's work. */
    m->num_workers = 1;
    if (cfg->workers > 1)
        tbWarn("media", "rtc.workers = %d: more than one media worker is not implemented yet; "
                        "using 1", cfg->workers);
    m->workers = calloc((size_t)m->num_workers, sizeof *m->workers);
    if (!m->workers || workerInit(m, &m->workers[0], 0, cfg) != 0) goto err;
    uv_mutex_init(&m->events_lock);
    uv_async_init(control_loop, &m->events_async, onEvents);
    m->events_async.data = m;
    for (int i = 0; i < m->num_workers; i++)
        uv_thread_create(&m->workers[i].thread, workerMain, &m->workers[i]);
    tbInfo("media", "UDP media on port %d, %d worker(s), DTLS %s", cfg->udp_port,
           m->num_workers, tbMediaFingerprint(m));
    return m;
err:
    if (m->workers && m->workers[0].router) tbRouterFree(m->workers[0].router);
    if (m->workers) tbUdpClose(&m->workers[0].udp);
    free(m->workers);
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
        uv_thread_join(&w->thread);
        uv_loop_close(&w->loop);
        tbRouterFree(w->router);
        tbUdpClose(&w->udp);
        uv_mutex_destroy(&w->lock);
        for (tbMediaCmd *c = w->cmds; c;) {
            tbMediaCmd *next = c->next;
            free(c);
            c = next;
        }
    }
    uv_close((uv_handle_t *)&m->events_async, NULL);
    /* events still queued are dropped; the control loop is shutting down */
    for (tbEventNode *n = m->events; n;) {
        tbEventNode *next = n->next;
        free(n);
        n = next;
    }
    m->events = NULL;
    free(m->workers);
    m->workers = NULL;
    tbDtlsCertFree(m->cert);
    /* m itself is freed by tbMediaFree after the loop closed the async */
}

void tbMediaFree(tbMedia *m) {
    if (!m) return;
    uv_mutex_destroy(&m->events_lock);
    free(m);
}

void tbMediaSetEventContext(tbMedia *m, void *ctx) { m->ctx = ctx; }

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

void tbMediaGetStats(tbMedia *m, tbMediaStats *out) {
    memset(out, 0, sizeof *out);
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
        out->transports += s->transports;
        uv_mutex_unlock(&w->lock);
    }
}
