/* lg_signal.c — the load generator's LiveKit signaling client: one lws
 * client context per libuv loop (foreign loop, LWS_SERVER_OPTION_LIBUV, as
 * src/http/server.c sets up tribune's server), one WebSocket per simulated
 * participant on /rtc/v1. Frames are encoded and decoded by tribune's own
 * codec (src/signal/codec.h), tokens signed by src/auth/token.c.
 *
 * Lifetimes. An lgSignal is owned by its context's list and reached from
 * its wsi through lws's opaque user data. When the socket ends the wsi is
 * detached (opaque data NULL, s->wsi NULL), so lws callbacks that come later
 * find nothing. Nothing frees at once: lgSignalClose, and on_closed once it
 * returns, mark the lgSignal closing (no more user callbacks) and the
 * context's tick frees closing lgSignals whose socket is gone, outside any
 * lws callback, so a handle stays valid until its callback has returned
 * and while its close handshake runs. Connect failures found
 * inside lws_client_connect_via_info are reported by the tick too, so
 * on_closed never runs before lgSignalConnect has returned. */
#include "lg_signal.h"

#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/token.h"
#include "signal/codec.h"
#include "util/sbuf.h"

#define LG_SIGNAL_PROTOCOL "lg-signal"       /* our lws protocol (local name only) */
#define LG_SIGNAL_MAX_MESSAGE ((size_t)8 << 20) /* a bigger server message: close 1009 */
#define LG_SIGNAL_TICK_MS 250               /* pings, deferred failures, reaping */
#define LG_SIGNAL_CLOSE_GRACE_S 5           /* a close that cannot be written ends anyway */
#define LG_SIGNAL_TEARDOWN_STEPS 8          /* loop iterations between the two destroys */
#define LG_SIGNAL_CLIENT_PROTOCOL 16        /* ClientInfo.protocol, as livekit-client 2.x */

/* One queued outgoing frame: buf has LWS_PRE bytes of headroom, then len. */
typedef struct lgFrame {
    struct lgFrame *next;
    uint8_t *buf;               /* from tbSignalEncodeRequest */
    size_t len;                 /* payload bytes after the headroom */
} lgFrame;

struct lgSignalCtx {
    uv_loop_t *loop;
    struct lws_context *lws;
    uv_timer_t tick;            /* every LG_SIGNAL_TICK_MS, or at once when kicked */
    uv_idle_t teardown;         /* lgSignalCtxFree: the two lws destroys */
    int teardown_step;          /* iterations of the teardown idle so far */
    int open_handles;           /* our uv handles not yet closed (tick, teardown) */
    bool freeing;               /* lgSignalCtxFree was called */
    uint64_t free_deadline;     /* uv_now() by which the teardown starts anyway */
    lgSignal *head;             /* every lgSignal not yet freed */
};

struct lgSignal {
    lgSignalCtx *ctx;
    lgSignal *prev, *next;      /* in ctx->head */
    struct lws *wsi;            /* NULL before the connect and once the socket is gone */
    lgSignalEvents ev;
    void *ud;
    tbSbuf rx;                  /* a message being reassembled from fragments */
    bool rx_binary;             /* opcode of the message's first fragment */
    bool rx_overflow;           /* over LG_SIGNAL_MAX_MESSAGE: dropped, socket closed */
    lgFrame *out_head, *out_tail; /* frames waiting for CLIENT_WRITEABLE */
    bool connecting;            /* inside lws_client_connect_via_info */
    bool open;                  /* upgraded, not ended */
    bool ended;                 /* the socket is gone or never came */
    bool end_reported;          /* on_closed delivered */
    bool closing;               /* lgSignalClose called: no callbacks, freed by the tick */
    bool close_sent;            /* our close frame is out: waiting for the server's */
    int end_code;               /* for on_closed; 0 = none yet */
    char end_reason[128];
    uint64_t ping_every_ms;     /* JoinResponse ping_interval; 0 = no keepalive */
    uint64_t next_ping;         /* uv_now() deadline of the next keepalive */
};

static void lgTick(uv_timer_t *t);

/* ---- small helpers ---------------------------------------------------------------- */

static int64_t lgWallMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lgKick(lgSignalCtx *c) {
    if (!c->freeing) uv_timer_start(&c->tick, lgTick, 0, LG_SIGNAL_TICK_MS);
}

static void lgFreeQueue(lgSignal *s) {
    while (s->out_head) {
        lgFrame *f = s->out_head;
        s->out_head = f->next;
        free(f->buf);
        free(f);
    }
    s->out_tail = NULL;
}

/* Records why the socket ended (code for on_closed, reason of len bytes or,
 * with len SIZE_MAX, NUL-terminated); the first cause wins. */
static void lgSetEnd(lgSignal *s, int code, const char *reason, size_t len) {
    if (s->end_code != 0 || s->end_reason[0]) return;
    if (!reason) reason = "";
    if (len == SIZE_MAX) len = strlen(reason);
    if (len > sizeof s->end_reason - 1) len = sizeof s->end_reason - 1;
    s->end_code = code;
    memcpy(s->end_reason, reason, len);
    s->end_reason[len] = '\0';
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static char *lgUrlEncode(const char *in) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(in);
    char *out = malloc(n * 3 + 1), *w = out;
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *w++ = (char)*p;
        } else {
            *w++ = '%';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        }
    }
    *w = '\0';
    return out;
}

/* The join_request value: JoinRequest without a publisher offer, wrapped,
 * uncompressed, base64url with '=' padding (tbSignalEncodeJoinRequest). */
static char *lgJoinRequest(void) {
    Livekit__ClientInfo ci;
    Livekit__ConnectionSettings cs;
    Livekit__JoinRequest jr;
    livekit__client_info__init(&ci);
    livekit__connection_settings__init(&cs);
    livekit__join_request__init(&jr);
    ci.sdk = LIVEKIT__CLIENT_INFO__SDK__UNKNOWN;
    ci.version = "tribune-load";
    ci.protocol = LG_SIGNAL_CLIENT_PROTOCOL;
    ci.os = "linux";
    cs.auto_subscribe = true;
    jr.client_info = &ci;
    jr.connection_settings = &cs;
    return tbSignalEncodeJoinRequest(&jr, false);
}

/* "/rtc/v1?access_token=...&join_request=..." (malloc'ed) */
static char *lgRtcPath(const char *token) {
    char *jr = lgJoinRequest(), *tok = lgUrlEncode(token), *jre = NULL, *path = NULL;
    if (!jr || !tok || !(jre = lgUrlEncode(jr))) goto done;
    size_t n = strlen(tok) + strlen(jre) + 64;
    if ((path = malloc(n))) snprintf(path, n, "/rtc/v1?access_token=%s&join_request=%s", tok, jre);
done:
    free(jr);
    free(tok);
    free(jre);
    return path;
}

/* ---- the end of a socket ------------------------------------------------------------- */

/* on_closed, once; the handle is then the tick's to free */
static void lgReport(lgSignal *s) {
    if (s->end_reported || s->closing || s->connecting) return;
    s->end_reported = true;
    if (s->ev.on_closed)
        s->ev.on_closed(s->ud, s->end_code, s->end_reason[0] ? s->end_reason : "closed");
    s->closing = true;
}

/* The wsi is going away: detach it, then tell the user (unless closing). */
static void lgSocketEnded(lgSignal *s, struct lws *wsi) {
    lws_set_opaque_user_data(wsi, NULL);
    if (s->wsi == wsi) s->wsi = NULL;
    lgSetEnd(s, s->open ? 1006 : 0, s->open ? "connection lost" : "connection failed", SIZE_MAX);
    s->open = false;
    s->ended = true;
    s->ping_every_ms = 0;
    lgFreeQueue(s);
    if (s->connecting) return; /* lgSignalConnect kicks the tick */
    lgReport(s);
}

static void lgConnectError(lgSignal *s, struct lws *wsi, const char *in, size_t len) {
    /* a refused upgrade: the HTTP status (401, 403, ...), else 0 */
    int status = (int)lws_http_client_http_response(wsi);
    if (status == 101) status = 0;
    if (in)
        lgSetEnd(s, status, in, strnlen(in, len ? len : sizeof s->end_reason));
    else
        lgSetEnd(s, status, "connection failed", SIZE_MAX);
    lgSocketEnded(s, wsi);
}

/* A close frame from the server: 2 bytes of code, then the reason. */
static void lgPeerClose(lgSignal *s, const uint8_t *in, size_t len) {
    if (len >= 2)
        lgSetEnd(s, (in[0] << 8) | in[1], (const char *)in + 2, len - 2);
    else
        lgSetEnd(s, 1005, "", 0);
}

/* ---- receiving ------------------------------------------------------------------------ */

static void lgDeliver(lgSignal *s, const Livekit__SignalResponse *r) {
    if (r->message_case == LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN && r->join &&
        r->join->ping_interval > 0) {
        s->ping_every_ms = (uint64_t)r->join->ping_interval * 1000;
        s->next_ping = uv_now(s->ctx->loop) + s->ping_every_ms;
    }
    if (!s->closing && s->ev.on_response) s->ev.on_response(s->ud, r);
}

static int lgReceive(lgSignal *s, struct lws *wsi, const void *in, size_t len) {
    if (s->closing) return 0; /* draining until the server's close */
    if (lws_is_first_fragment(wsi)) {
        s->rx.len = 0;
        s->rx_overflow = false;
        s->rx_binary = lws_frame_is_binary(wsi);
    }
    if (s->rx.len + len > LG_SIGNAL_MAX_MESSAGE || !tbSbufAppend(&s->rx, in, len))
        s->rx_overflow = true;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
    if (s->rx_overflow) {
        lgSetEnd(s, 1009, "message too big (client side)", SIZE_MAX);
        return -1;
    }
    Livekit__SignalResponse *r = NULL;
    char err[160];
    if (tbSignalDecodeResponse(tbSbufData(&s->rx), s->rx.len, !s->rx_binary, &r, err,
                               sizeof err) != 0) {
        fprintf(stderr, "lg_signal: dropped a %zu-byte frame: %s\n", s->rx.len, err);
        return 0;
    }
    lgDeliver(s, r);
    livekit__signal_response__free_unpacked(r, NULL);
    return 0;
}

/* ---- sending -------------------------------------------------------------------------- */

/* The close frame, written by hand as tribune's server does: Debian's lws
 * 4.1 on libuv drops the one lws_close_reason() queues. */
static void lgWriteClose(struct lws *wsi) {
    static const char reason[] = "client closed";
    uint8_t buf[LWS_PRE + 2 + sizeof reason];
    buf[LWS_PRE] = 1000 >> 8;
    buf[LWS_PRE + 1] = 1000 & 0xff;
    memcpy(buf + LWS_PRE + 2, reason, sizeof reason - 1);
    /* 4 is lws's private LWS_WRITE_CLOSE: a close opcode frame */
    lws_write(wsi, buf + LWS_PRE, 2 + sizeof reason - 1, (enum lws_write_protocol)4);
}

static int lgWriteable(lgSignal *s, struct lws *wsi) {
    lgFrame *f = s->out_head;
    if (f) {
        s->out_head = f->next;
        if (!s->out_head) s->out_tail = NULL;
        int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_BINARY);
        bool ok = n >= (int)f->len;
        free(f->buf);
        free(f);
        if (!ok) {
            lgSetEnd(s, 1006, "write failed", SIZE_MAX);
            return -1;
        }
        if (s->out_head || s->closing) lws_callback_on_writable(wsi);
        return 0;
    }
    if (s->closing && !s->close_sent) {
        /* then wait for the server's close (its echo, or EOF): closing the
         * TCP socket at once, with frames from the server still unread,
         * sends a reset, and the server may then never read our close */
        lgWriteClose(wsi);
        s->close_sent = true;
    }
    return 0;
}

int lgSignalSend(lgSignal *s, const Livekit__SignalRequest *req) {
    if (!s || !req || s->closing || s->ended) return -1;
    lgFrame *f = calloc(1, sizeof *f);
    if (!f || !(f->buf = tbSignalEncodeRequest(req, false, LWS_PRE, &f->len))) {
        free(f);
        return -1;
    }
    if (s->out_tail)
        s->out_tail->next = f;
    else
        s->out_head = f;
    s->out_tail = f;
    if (s->open && s->wsi) lws_callback_on_writable(s->wsi);
    return 0;
}

int lgSignalAddTrack(lgSignal *s, const char *cid, const char *name) {
    Livekit__SignalRequest req;
    Livekit__AddTrackRequest at;
    livekit__signal_request__init(&req);
    livekit__add_track_request__init(&at);
    at.cid = (char *)cid;
    at.name = (char *)(name ? name : "");
    at.type = LIVEKIT__TRACK_TYPE__AUDIO;
    at.source = LIVEKIT__TRACK_SOURCE__MICROPHONE;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_ADD_TRACK;
    req.add_track = &at;
    return cid ? lgSignalSend(s, &req) : -1;
}

int lgSignalOffer(lgSignal *s, const char *sdp, uint32_t id) {
    Livekit__SignalRequest req;
    Livekit__SessionDescription sd;
    livekit__signal_request__init(&req);
    livekit__session_description__init(&sd);
    sd.type = "offer";
    sd.sdp = (char *)sdp;
    sd.id = id;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_OFFER;
    req.offer = &sd;
    return sdp ? lgSignalSend(s, &req) : -1;
}

int lgSignalLeave(lgSignal *s) {
    Livekit__SignalRequest req;
    Livekit__LeaveRequest lr;
    livekit__signal_request__init(&req);
    livekit__leave_request__init(&lr);
    lr.reason = LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED;
    lr.action = LIVEKIT__LEAVE_REQUEST__ACTION__DISCONNECT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_LEAVE;
    req.leave = &lr;
    return lgSignalSend(s, &req);
}

int lgSignalPing(lgSignal *s, int64_t rtt_ms) {
    Livekit__SignalRequest req;
    Livekit__Ping ping;
    int64_t now = lgWallMs();
    livekit__signal_request__init(&req);
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING;
    req.ping = now;
    if (lgSignalSend(s, &req) != 0) return -1;
    livekit__ping__init(&ping);
    ping.timestamp = now;
    ping.rtt = rtt_ms;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING_REQ;
    req.ping_req = &ping;
    return lgSignalSend(s, &req);
}

bool lgSignalIsOpen(const lgSignal *s) {
    return s && s->open && !s->closing;
}

/* ---- the lws callback ----------------------------------------------------------------- */

static int lgCallback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len) {
    (void)user;
    lgSignal *s = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (s) lgConnectError(s, wsi, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!s) return -1; /* closed while connecting */
        s->open = true;
        if (s->out_head || s->closing) lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!s) return 0;
        if (lgReceive(s, wsi, in, len) != 0) return -1;
        /* lgSignalClose from inside on_response: send the close now */
        if (lws_get_opaque_user_data(wsi) == s && s->closing && !s->close_sent)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return s ? lgWriteable(s, wsi) : -1;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (s) lgPeerClose(s, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (s) lgSocketEnded(s, wsi);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols lgProtocols[] = {
    /* no per-session data (opaque user data points to the lgSignal);
     * rx_buffer_size 0: lws default, big messages come in fragments */
    {LG_SIGNAL_PROTOCOL, lgCallback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- connect and close ---------------------------------------------------------------- */

static void lgLink(lgSignalCtx *c, lgSignal *s) {
    s->ctx = c;
    s->next = c->head;
    if (c->head) c->head->prev = s;
    c->head = s;
}

static void lgUnlinkFree(lgSignal *s) {
    lgSignalCtx *c = s->ctx;
    if (s->prev) s->prev->next = s->next;
    else c->head = s->next;
    if (s->next) s->next->prev = s->prev;
    lgFreeQueue(s);
    tbSbufFree(&s->rx);
    free(s);
}

static struct lws *lgStartConnect(lgSignal *s, const char *host, int port, const char *token) {
    struct lws_client_connect_info i;
    char hosthdr[300];
    char *path = lgRtcPath(token);
    struct lws *wsi = NULL;
    if (!path) {
        lgSetEnd(s, 0, "out of memory", SIZE_MAX);
        return NULL;
    }
    if (strchr(host, ':'))
        snprintf(hosthdr, sizeof hosthdr, "[%s]:%d", host, port);
    else
        snprintf(hosthdr, sizeof hosthdr, "%s:%d", host, port);
    memset(&i, 0, sizeof i);
    i.context = s->ctx->lws;
    i.address = host;
    i.port = port;
    i.path = path;
    i.host = hosthdr;
    i.origin = hosthdr;
    i.local_protocol_name = LG_SIGNAL_PROTOCOL;
    i.opaque_user_data = s;
    s->connecting = true;
    wsi = lws_client_connect_via_info(&i);
    s->connecting = false;
    free(path); /* lws keeps its own copy */
    if (!wsi) lgSetEnd(s, 0, "cannot start the connection", SIZE_MAX);
    return wsi;
}

lgSignal *lgSignalConnect(lgSignalCtx *c, const char *host, int port, const char *token,
                          const lgSignalEvents *ev, void *ud) {
    if (!c || c->freeing || !host || !token || !ev) return NULL;
    lgSignal *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ev = *ev;
    s->ud = ud;
    tbSbufInit(&s->rx, 0);
    lgLink(c, s);
    struct lws *wsi = lgStartConnect(s, host, port, token);
    if (wsi && !s->ended) {
        s->wsi = wsi;
        return s;
    }
    if (wsi) lws_set_opaque_user_data(wsi, NULL);
    s->ended = true; /* on_closed from the tick, after we have returned */
    lgKick(c);
    return s;
}

void lgSignalClose(lgSignal *s) {
    if (!s || s->closing) return;
    s->closing = true;
    s->ping_every_ms = 0;
    if (!s->wsi) {
        lgKick(s->ctx); /* nothing on the wire: the tick frees it */
        return;
    }
    if (s->open) {
        /* flush, then the close frame (lgWriteable), then the server's
         * close; bounded in time */
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LG_SIGNAL_CLOSE_GRACE_S);
        lws_callback_on_writable(s->wsi);
        return;
    }
    /* still connecting: drop it */
    struct lws *wsi = s->wsi;
    lws_set_opaque_user_data(wsi, NULL);
    s->wsi = NULL;
    s->ended = true;
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    lgKick(s->ctx);
}

/* ---- the context ---------------------------------------------------------------------- */

static void lgTeardown(uv_idle_t *h);
static void lgHandleClosed(uv_handle_t *h);

static void lgTick(uv_timer_t *t) {
    lgSignalCtx *c = t->data;
    uint64_t now = uv_now(c->loop);
    uv_timer_start(t, lgTick, LG_SIGNAL_TICK_MS, LG_SIGNAL_TICK_MS); /* back to the period */
    for (lgSignal *s = c->head, *next; s; s = next) { /* frees only here */
        next = s->next;
        if (s->closing && !s->wsi) lgUnlinkFree(s);
    }
    if (c->freeing) {
        /* lgSignalCtxFree: the closes under way finish first (bounded) */
        if (c->head && now < c->free_deadline) return;
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, lgHandleClosed);
        uv_idle_start(&c->teardown, lgTeardown);
        return;
    }
    /* callbacks may close (never frees) or connect (adds at the head) */
    for (lgSignal *s = c->head; s && !c->freeing; s = s->next) {
        if (s->closing) continue;
        if (s->ended) {
            lgReport(s);
        } else if (s->open && s->ping_every_ms && now >= s->next_ping) {
            s->next_ping = now + s->ping_every_ms;
            lgSignalPing(s, 0);
        }
    }
}

static void lgHandleClosed(uv_handle_t *h) {
    lgSignalCtx *c = h->data;
    if (--c->open_handles == 0) free(c);
}

/* lws 4.1 on a foreign libuv loop frees its context in two steps: the first
 * lws_context_destroy closes every wsi, whose close callbacks then close lws's
 * own handles; the second, once those are closed, frees the memory. Both run
 * here, outside any lws callback, some loop iterations apart. */
static void lgTeardown(uv_idle_t *h) {
    lgSignalCtx *c = h->data;
    c->teardown_step++;
    if (c->teardown_step == 1) {
        while (c->head) { /* closes that did not finish in time */
            if (c->head->wsi) lws_set_opaque_user_data(c->head->wsi, NULL);
            lgUnlinkFree(c->head);
        }
        lws_context_destroy(c->lws);
    } else if (c->teardown_step >= LG_SIGNAL_TEARDOWN_STEPS) {
        lws_context_destroy(c->lws);
        c->lws = NULL;
        uv_idle_stop(h);
        uv_close((uv_handle_t *)h, lgHandleClosed);
    }
}

lgSignalCtx *lgSignalCtxNew(uv_loop_t *loop) {
    struct lws_context_creation_info info;
    void *loops[1] = {loop};
    lgSignalCtx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->loop = loop;
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = lgProtocols;
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = loops;
    info.user = c;
    /* the client's request line (token + join_request) lives in a header
     * buffer, and is built in the per-thread service buffer */
    info.max_http_header_data = 16384;
    info.pt_serv_buf_size = 16384;
    c->lws = lws_create_context(&info);
    if (!c->lws) {
        free(c);
        return NULL;
    }
    uv_timer_init(loop, &c->tick);
    uv_idle_init(loop, &c->teardown);
    c->tick.data = c->teardown.data = c;
    c->open_handles = 2;
    uv_timer_start(&c->tick, lgTick, LG_SIGNAL_TICK_MS, LG_SIGNAL_TICK_MS);
    return c;
}

/* The tick waits (at most the close grace) for the close frames under way,
 * so the servers see clean closes, then starts the teardown. */
void lgSignalCtxFree(lgSignalCtx *c) {
    if (!c || c->freeing) return;
    for (lgSignal *s = c->head; s; s = s->next) lgSignalClose(s); /* those left open */
    c->freeing = true;
    c->free_deadline = uv_now(c->loop) + (LG_SIGNAL_CLOSE_GRACE_S + 1) * 1000;
    uv_timer_start(&c->tick, lgTick, 0, LG_SIGNAL_TICK_MS);
}

/* ---- tokens ----------------------------------------------------------------------------- */

char *lgSignalToken(const char *api_key, const char *secret, const char *identity,
                    const char *room, int ttl_s) {
    tbClaims cl;
    if (!api_key || !secret || !identity || !*identity || !room || !*room || ttl_s <= 0)
        return NULL;
    tbClaimsInit(&cl); /* borrows the strings: not tbClaimsFree'd */
    cl.api_key = (char *)api_key;
    cl.identity = (char *)identity;
    cl.exp = (int64_t)time(NULL) + ttl_s;
    cl.video.room_join = true;
    cl.video.room = (char *)room;
    cl.video.can_publish = TB_TRUE;
    cl.video.can_subscribe = TB_TRUE;
    return tbTokenSign(&cl, secret);
}
