/* server.c — libwebsockets glue: listeners on the libuv loop, request
 * capture (method, path, args, the few headers handlers read, body up to
 * TB_HTTP_BODY_LIMIT), and writing a tbHttpResponse back in chunks from
 * LWS_CALLBACK_HTTP_WRITEABLE. No HTTP parsing happens here: lws does it. */
#include "http/server.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/log.h"

#define TB_HTTP_CHUNK 16384

/* Per-connection state (lws allocates and zeroes it). */
typedef struct tbHttpSession {
    bool active;                /* a request is being handled */
    tbHttpMethod method;
    char *path;
    char *argbuf;               /* "name\0value\0..." storage for req.args */
    tbHttpArg args[TB_HTTP_MAX_ARGS];
    size_t num_args;
    char *authorization, *content_type, *host, *forwarded_proto, *if_none_match;
    tbSbuf body;
    bool too_large;
    bool close_after;           /* body not read: close once answered */
    bool dispatched;
    tbHttpResponse resp;
    struct tbHttpDeferred *deferred; /* the handler answers later */
    bool headers_sent;
    size_t sent;                /* body bytes written */
    /* WebSocket signaling (after the upgrade) */
    tbSignalSession *signal;
    struct tbWsFrame *out_head, *out_tail; /* frames waiting for WRITEABLE */
    tbSbuf rx;                  /* a message being reassembled from fragments */
    bool rx_overflow;
    int close_code;             /* != 0: close once the queue is flushed */
    bool peer_closed;           /* the client sent a close frame (it meant to go) */
    char close_reason[120];
} tbHttpSession;

/* One queued outgoing WebSocket frame; data has LWS_PRE bytes of headroom. */
typedef struct tbWsFrame {
    struct tbWsFrame *next;
    size_t len;
    bool text;
    uint8_t data[];
} tbWsFrame;

/* Per-vhost flag: the prometheus.port listener serves metrics only. */
typedef struct tbVhostInfo {
    bool metrics_only;
} tbVhostInfo;

static const tbVhostInfo mainVhost = {false}, metricsVhost = {true};

static char *copyHeader(struct lws *wsi, enum lws_token_indexes h) {
    int n = lws_hdr_total_length(wsi, h);
    if (n <= 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s && lws_hdr_copy(wsi, s, n + 1, h) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

static char *copyCustomHeader(struct lws *wsi, const char *name) {
    int n = lws_hdr_custom_length(wsi, name, (int)strlen(name));
    if (n <= 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s && lws_hdr_custom_copy(wsi, s, n + 1, name, (int)strlen(name)) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

static tbHttpMethod methodOf(struct lws *wsi) {
    static const struct {
        enum lws_token_indexes tok;
        tbHttpMethod m;
    } map[] = {
        {WSI_TOKEN_GET_URI, TB_HTTP_GET},         {WSI_TOKEN_POST_URI, TB_HTTP_POST},
        {WSI_TOKEN_OPTIONS_URI, TB_HTTP_OPTIONS}, {WSI_TOKEN_PUT_URI, TB_HTTP_PUT},
        {WSI_TOKEN_PATCH_URI, TB_HTTP_PATCH},     {WSI_TOKEN_DELETE_URI, TB_HTTP_DELETE},
        {WSI_TOKEN_HEAD_URI, TB_HTTP_HEAD},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (lws_hdr_total_length(wsi, map[i].tok) > 0) return map[i].m;
    return TB_HTTP_OTHER;
}

/* URI args arrive URL-decoded, one fragment per "name=value". */
static void captureArgs(struct lws *wsi, tbHttpSession *ss) {
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (total <= 0 || !(ss->argbuf = malloc((size_t)total + TB_HTTP_MAX_ARGS * 2 + 2))) return;
    char *w = ss->argbuf;
    for (int i = 0; ss->num_args < TB_HTTP_MAX_ARGS; i++) {
        int n = lws_hdr_copy_fragment(wsi, w, total + 2, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) break;
        char *eq = strchr(w, '=');
        tbHttpArg *a = &ss->args[ss->num_args++];
        a->name = w;
        a->value = eq ? eq + 1 : "";
        if (eq) *eq = '\0';
        w += n + 1;
    }
}

static void captureRequest(struct lws *wsi, tbHttpSession *ss, const char *path) {
    memset(ss, 0, sizeof *ss);
    ss->active = true;
    ss->method = methodOf(wsi);
    ss->path = strdup(path && *path ? path : "/");
    captureArgs(wsi, ss);
    ss->authorization = copyHeader(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    ss->content_type = copyHeader(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    ss->host = copyHeader(wsi, WSI_TOKEN_HOST);
    ss->forwarded_proto = copyCustomHeader(wsi, "x-forwarded-proto:");
    ss->if_none_match = copyHeader(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    tbSbufInit(&ss->body, 0);
    tbHttpResponseInit(&ss->resp, LWS_PRE);
}

/* A request answered later (a call forwarded to another node). */
struct tbHttpDeferred {
    struct lws *wsi;            /* NULL once the connection is gone */
};

static tbHttpDeferred *deferRequest(void *ctx) {
    struct lws *wsi = ctx;
    tbHttpSession *ss = lws_wsi_user(wsi);
    tbHttpDeferred *d = ss && !ss->deferred ? calloc(1, sizeof *d) : NULL;
    if (!d) return NULL;
    d->wsi = wsi;
    ss->deferred = d;
    return d;
}

void tbHttpDeferredFinish(tbHttpDeferred *d, const tbHttpResponse *answer) {
    tbHttpSession *ss = d->wsi ? lws_wsi_user(d->wsi) : NULL;
    if (ss && ss->deferred == d) {
        ss->deferred = NULL;
        ss->resp.status = answer->status;
        memcpy(ss->resp.content_type, answer->content_type, sizeof ss->resp.content_type);
        memcpy(ss->resp.headers, answer->headers, sizeof ss->resp.headers);
        ss->resp.num_headers = answer->num_headers;
        ss->resp.body.len = 0;
        tbSbufAppend(&ss->resp.body, tbSbufData(&answer->body), answer->body.len);
        ss->dispatched = true;
        lws_callback_on_writable(d->wsi);
    }
    free(d);
}

static void releaseRequest(tbHttpSession *ss) {
    if (!ss->active) return;
    if (ss->deferred) ss->deferred->wsi = NULL; /* answered into the void */
    free(ss->path);
    free(ss->argbuf);
    free(ss->authorization);
    free(ss->content_type);
    free(ss->host);
    free(ss->forwarded_proto);
    free(ss->if_none_match);
    tbSbufFree(&ss->body);
    tbHttpResponseFree(&ss->resp);
    memset(ss, 0, sizeof *ss);
}

static void dispatch(struct lws *wsi, tbHttpSession *ss) {
    const tbVhostInfo *vi = lws_get_vhost_user(lws_get_vhost(wsi));
    tbHttpServer *srv = lws_context_user(lws_get_context(wsi));
    tbApi *api = srv->api;
    tbHttpRequest req = {
        .method = ss->method,
        .path = ss->path ? ss->path : "/",
        .num_args = ss->num_args,
        .authorization = ss->authorization,
        .content_type = ss->content_type,
        .host = ss->host,
        .forwarded_proto = ss->forwarded_proto,
        .if_none_match = ss->if_none_match,
        .body = tbSbufData(&ss->body),
        .body_len = ss->body.len,
        .body_too_large = ss->too_large,
        .metrics_only = vi && vi->metrics_only,
        .defer = deferRequest,
        .defer_ctx = wsi,
    };
    memcpy(req.args, ss->args, sizeof req.args);
    tbApiDispatch(api, &req, &ss->resp);
    if (ss->deferred) return; /* tbHttpDeferredFinish answers */
    tbDebug("http", "%s %s -> %d", tbHttpMethodName(ss->method), req.path, ss->resp.status);
    ss->dispatched = true;
    lws_callback_on_writable(wsi);
}

static int writeHeaders(struct lws *wsi, tbHttpSession *ss) {
    uint8_t buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    tbHttpResponse *r = &ss->resp;
    if (r->status == 304) {
        /* no body and no Content-Length (RFC 9110 8.6); the common-headers
         * helper would add `connection: close` without one */
        if (lws_add_http_header_status(wsi, 304, &p, end)) return -1;
    } else if (lws_add_http_common_headers(wsi, (unsigned)r->status,
                                           r->content_type[0] ? r->content_type : NULL,
                                           r->body.len, &p, end)) {
        return -1;
    }
    for (size_t i = 0; i < r->num_headers; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s:", r->headers[i].name);
        if (lws_add_http_header_by_name(wsi, (const uint8_t *)name,
                                        (const uint8_t *)r->headers[i].value,
                                        (int)strlen(r->headers[i].value), &p, end))
            return -1;
    }
    if (ss->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const uint8_t *)"close", 5, &p,
                                     end))
        return -1;
    ss->headers_sent = true;
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* Headers first, then the body in TB_HTTP_CHUNK pieces, one lws_write per
 * writeable callback. Returns -1 to close the connection. */
static int writeResponse(struct lws *wsi, tbHttpSession *ss) {
    tbHttpResponse *r = &ss->resp;
    if (!ss->headers_sent) {
        if (writeHeaders(wsi, ss)) return -1;
        if (r->body.len > 0 && ss->method != TB_HTTP_HEAD) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        size_t n = r->body.len - ss->sent;
        if (n > TB_HTTP_CHUNK) n = TB_HTTP_CHUNK;
        bool last = ss->sent + n == r->body.len;
        uint8_t *data = tbSbufData(&r->body) + ss->sent;
        if (lws_write(wsi, data, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        ss->sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    bool close = ss->close_after;
    releaseRequest(ss);
    if (close) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int onHttp(struct lws *wsi, tbHttpSession *ss, const char *path, size_t len) {
    releaseRequest(ss);
    captureRequest(wsi, ss, path);
    if (path && memchr(path, '\0', len)) {
        /* a %00 in the URL: the C-string path would end early there (so
         * /app/x.html%00.png would name x.html); no route takes it */
        ss->close_after = true;
        tbHttpAddHeader(&ss->resp, "Access-Control-Allow-Origin", "*");
        tbHttpRespondError(&ss->resp, 400, "invalid_argument", "the path contains a NUL (%%00)");
        ss->dispatched = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (ss->method != TB_HTTP_POST && ss->method != TB_HTTP_PUT && ss->method != TB_HTTP_PATCH) {
        dispatch(wsi, ss);
        return 0;
    }
    char cl[32] = "";
    bool has_cl = lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    if (!has_cl && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* chunked request bodies are not read: ask for a length */
        ss->close_after = true;
        tbHttpAddHeader(&ss->resp, "Access-Control-Allow-Origin", "*");
        tbHttpRespondError(&ss->resp, 411, "length_required",
                           "send the body with a Content-Length (chunked bodies are refused)");
        ss->dispatched = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    unsigned long long n = has_cl ? strtoull(cl, NULL, 10) : 0;
    if (n > TB_HTTP_BODY_LIMIT) ss->too_large = ss->close_after = true;
    /* no Content-Length means an empty body (RFC 9112 6.3) */
    if (n == 0 || ss->too_large) dispatch(wsi, ss);
    return 0; /* wait for LWS_CALLBACK_HTTP_BODY(_COMPLETION) */
}

static void onBody(tbHttpSession *ss, const void *in, size_t len) {
    if (ss->too_large || ss->dispatched) return;
    if (ss->body.len + len > TB_HTTP_BODY_LIMIT) {
        ss->too_large = true;
        tbSbufFree(&ss->body);
        tbSbufInit(&ss->body, 0);
        return;
    }
    tbSbufAppend(&ss->body, in, len);
}


/* ---- WebSocket signaling ------------------------------------------------ */

static void wsSend(void *conn, const uint8_t *data, size_t len, bool text) {
    struct lws *wsi = conn;
    tbHttpSession *ss = lws_wsi_user(wsi);
    tbWsFrame *f = malloc(sizeof *f + LWS_PRE + len);
    if (!ss || !f) {
        free(f);
        return;
    }
    f->next = NULL;
    f->len = len;
    f->text = text;
    memcpy(f->data + LWS_PRE, data, len);
    if (ss->out_tail)
        ss->out_tail->next = f;
    else
        ss->out_head = f;
    ss->out_tail = f;
    lws_callback_on_writable(wsi);
}

static void wsClose(void *conn, int code, const char *reason) {
    struct lws *wsi = conn;
    tbHttpSession *ss = lws_wsi_user(wsi);
    if (!ss) return;
    ss->close_code = code ? code : 1000;
    snprintf(ss->close_reason, sizeof ss->close_reason, "%s", reason ? reason : "");
    lws_callback_on_writable(wsi);
}

/* The session moved to a new connection (a resume): this one forgets it
 * and closes. */
static void wsForget(void *conn) {
    struct lws *wsi = conn;
    tbHttpSession *ss = lws_wsi_user(wsi);
    if (!ss) return;
    ss->signal = NULL;
    wsClose(conn, 1000, "resumed on another connection");
}

static const tbSignalIo wsIo = {wsSend, wsClose, wsForget};

static void wsFreeQueue(tbHttpSession *ss) {
    while (ss->out_head) {
        tbWsFrame *f = ss->out_head;
        ss->out_head = f->next;
        free(f);
    }
    ss->out_tail = NULL;
    tbSbufFree(&ss->rx);
}

/* The upgrade request: authenticate and create the session now, so a refusal
 * is an HTTP status (401, 404, ...) as livekit-server answers it. */
static int wsConfirmUpgrade(struct lws *wsi) {
    tbHttpServer *srv = lws_context_user(lws_get_context(wsi));
    /* no per-session memory exists yet: work on a stack copy and keep the new
     * signaling session on the wsi until LWS_CALLBACK_ESTABLISHED */
    tbHttpSession tmp, *ss = &tmp;
    tbSignalSession *session = NULL;
    char path[64] = "";
    lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI);
    bool v1 = strcmp(path, "/rtc/v1") == 0;
    char why[384] = "not found";
    int status = 404;
    if (!srv->hub || (!v1 && strcmp(path, "/rtc") != 0)) goto refuse;
    captureRequest(wsi, ss, path);
    tbHttpRequest req = {.method = TB_HTTP_GET, .path = ss->path, .num_args = ss->num_args,
                         .authorization = ss->authorization, .host = ss->host};
    memcpy(req.args, ss->args, sizeof req.args);
    status = tbSignalAccept(srv->hub, &req, v1, &session, why, sizeof why);
    releaseRequest(ss);
    if (status == 0) {
        lws_set_opaque_user_data(wsi, session);
        return 0;
    }
refuse:
    tbMetricsCountHttp(srv->api->metrics, v1 ? "/rtc/v1" : "/rtc", status);
    srv->api->metrics->signal_refused++;
    tbInfo("signal", "refused %s: %d %s", path, status, why);
    if (lws_return_http_status(wsi, (unsigned)status, why)) return -1;
    return 1;
}

static void wsReceive(struct lws *wsi, tbHttpSession *ss, const void *in, size_t len) {
    tbHttpServer *srv = lws_context_user(lws_get_context(wsi));
    if (!ss->signal) return;
    if (lws_is_first_fragment(wsi)) {
        ss->rx.len = 0;
        ss->rx_overflow = false;
    }
    if (ss->rx.len + len > srv->max_ws_message) ss->rx_overflow = true;
    if (!ss->rx_overflow) tbSbufAppend(&ss->rx, in, len);
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return;
    if (ss->rx_overflow) {
        tbWarn("signal", "signaling message over %zu bytes: closing", srv->max_ws_message);
        srv->api->metrics->signal_oversize++;
        wsClose(wsi, 1009, "message too big");
        return;
    }
    tbSignalOnMessage(ss->signal, tbSbufData(&ss->rx), ss->rx.len, !lws_frame_is_binary(wsi));
}

static int wsWriteable(struct lws *wsi, tbHttpSession *ss) {
    tbWsFrame *f = ss->out_head;
    if (f) {
        ss->out_head = f->next;
        if (!ss->out_head) ss->out_tail = NULL;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len, f->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
        bool ok = n >= (int)f->len;
        free(f);
        if (!ok) return -1;
        if (ss->out_head || ss->close_code) lws_callback_on_writable(wsi);
        return 0;
    }
    if (ss->close_code) {
        /* the close frame is written here: Debian's lws 4.1 (on libuv) drops
         * the one lws_close_reason() queues, and clients see 1006 */
        uint8_t buf[LWS_PRE + 2 + sizeof ss->close_reason];
        size_t rl = strnlen(ss->close_reason, 123);
        buf[LWS_PRE] = (uint8_t)(ss->close_code >> 8);
        buf[LWS_PRE + 1] = (uint8_t)ss->close_code;
        memcpy(buf + LWS_PRE + 2, ss->close_reason, rl);
        /* 4 is lws's private LWS_WRITE_CLOSE: a close opcode frame */
        lws_write(wsi, buf + LWS_PRE, 2 + rl, (enum lws_write_protocol)4);
        return -1;
    }
    return 0;
}

static void wsClosed(tbHttpSession *ss) {
    /* a close either side meant (a close frame from the client, or ours:
     * oversize, kick) ends the participant; a broken connection may resume */
    if (ss->signal) tbSignalOnClosed(ss->signal, ss->peer_closed || ss->close_code != 0);
    ss->signal = NULL;
    wsFreeQueue(ss);
}

static int httpCallback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len) {
    tbHttpSession *ss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return onHttp(wsi, ss, in, len);
    case LWS_CALLBACK_HTTP_BODY:
        onBody(ss, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (ss->active && !ss->dispatched) dispatch(wsi, ss);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!ss || !ss->active || !ss->dispatched) return 0;
        return writeResponse(wsi, ss);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return wsConfirmUpgrade(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        memset(ss, 0, sizeof *ss);
        ss->signal = lws_get_opaque_user_data(wsi);
        lws_set_opaque_user_data(wsi, NULL);
        if (!ss->signal) return -1;
        tbSignalAttach(ss->signal, &wsIo, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        wsReceive(wsi, ss, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return wsWriteable(wsi, ss);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (ss) ss->peer_closed = true;
        return 0;
    case LWS_CALLBACK_CLOSED:
        wsClosed(ss);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY: {
        /* accepted at the upgrade but never established */
        tbSignalSession *orphan = lws_get_opaque_user_data(wsi);
        lws_set_opaque_user_data(wsi, NULL);
        if (orphan) tbSignalOnClosed(orphan, false);
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (ss) releaseRequest(ss);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    /* rx_buffer_size 0: lws default; big messages arrive in fragments */
    {"tribune-http", httpCallback, sizeof(tbHttpSession), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lwsLogEmit(int level, const char *line) {
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n') n--;
    tbLog(level == LLL_ERR ? TB_LOG_ERROR : level == LLL_WARN ? TB_LOG_WARN : TB_LOG_DEBUG, "lws",
          "%.*s", (int)n, line);
}

static int addVhost(tbHttpServer *s, const char *name, const char *iface, int port,
                    const tbVhostInfo *vi) {
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = name;
    info.iface = iface;
    info.port = port;
    info.protocols = protocols;
    info.user = (void *)vi;
    info.keepalive_timeout = 30;
    /* lws 4.1 binds an IPv4 literal on an IPv6 socket as "::" (all
     * interfaces); an IPv4-only vhost binds the address itself. */
    if (iface && strchr(iface, '.') && !strchr(iface, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (!lws_create_vhost(s->lws, &info)) {
        tbError("http", "cannot listen on %s port %d (in use, or address not local?)",
                iface ? iface : "*", port);
        return -1;
    }
    tbInfo("http", "listening on %s:%d%s", iface ? iface : "*", port,
           vi->metrics_only ? " (metrics)" : "");
    return 0;
}

int tbHttpServerStart(tbHttpServer *s, uv_loop_t *loop, tbApi *api, tbSignalHub *hub) {
    const tbConfig *cfg = api->config;
    struct lws_context_creation_info info;
    void *loops[1] = {loop};
    memset(&info, 0, sizeof info);
    lws_set_log_level(LLL_ERR | LLL_WARN | (tbLogGetLevel() == TB_LOG_DEBUG ? LLL_NOTICE : 0),
                      lwsLogEmit);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    info.user = s;
    /* /rtc/v1's join_request rides in the URL: the SDK's is ~2-8 KB */
    info.max_http_header_data = 32768;
    info.max_http_header_pool = 256; /* header buffers are taken per connection */
    info.timeout_secs = 10;          /* idle connections that never finish headers */
    s->api = api;
    s->hub = hub;
    s->max_ws_message = cfg->limit.signal_message_size_limit > 0
                            ? (size_t)cfg->limit.signal_message_size_limit
                            : 1024 * 1024;
    s->lws = lws_create_context(&info);
    if (!s->lws) {
        tbError("http", "cannot create the libwebsockets context (libuv event-lib plugin "
                        "missing? install libwebsockets-evlib-uv)");
        return -1;
    }
    for (size_t i = 0; i < cfg->bind_addresses.len; i++)
        if (addVhost(s, "main", cfg->bind_addresses.items[i], cfg->port, &mainVhost)) goto err;
    if (cfg->bind_addresses.len == 0 && addVhost(s, "main", NULL, cfg->port, &mainVhost))
        goto err;
    if (cfg->prometheus_port > 0 && cfg->prometheus_port != cfg->port) {
        for (size_t i = 0; i < cfg->bind_addresses.len; i++)
            if (addVhost(s, "metrics", cfg->bind_addresses.items[i], cfg->prometheus_port,
                         &metricsVhost))
                goto err;
        if (cfg->bind_addresses.len == 0 &&
            addVhost(s, "metrics", NULL, cfg->prometheus_port, &metricsVhost))
            goto err;
    }
    return 0;
err:
    tbHttpServerStop(s);
    return -1;
}

void tbHttpServerStop(tbHttpServer *s) {
    if (!s->lws || s->stopping) return;
    s->stopping = true;
    lws_context_destroy(s->lws); /* closes everything; handles close on the loop */
}

void tbHttpServerFinish(tbHttpServer *s) {
    /* with a foreign loop, lws frees the rest of the context on a second
     * destroy, once the loop has closed its handles */
    if (s->lws) lws_context_destroy(s->lws);
    s->lws = NULL;
}
