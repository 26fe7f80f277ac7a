/* server.c — libwebsockets glue: listeners on the libuv loop, request
 * capture (method, path, args, the few headers handlers read, body up to
 * TB_HTTP_BODY_LIMIT), and writing a tbHttpResponse back in chunks from
 * LWS_CALLBACK_HTTP_WRITEABLE. No HTTP parsing happens here: lws does it. */
#include "http/server.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char *authorization, *content_type, *host, *forwarded_proto;
    tbSbuf body;
    bool too_large;
    bool close_after;           /* body not read: close once answered */
    bool dispatched;
    tbHttpResponse resp;
    bool headers_sent;
    size_t sent;                /* body bytes written */
} tbHttpSession;

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
    tbSbufInit(&ss->body, 0);
    tbHttpResponseInit(&ss->resp, LWS_PRE);
}

static void releaseRequest(tbHttpSession *ss) {
    if (!ss->active) return;
    free(ss->path);
    free(ss->argbuf);
    free(ss->authorization);
    free(ss->content_type);
    free(ss->host);
    free(ss->forwarded_proto);
    tbSbufFree(&ss->body);
    tbHttpResponseFree(&ss->resp);
    memset(ss, 0, sizeof *ss);
}

static void dispatch(struct lws *wsi, tbHttpSession *ss) {
    const tbVhostInfo *vi = lws_get_vhost_user(lws_get_vhost(wsi));
    tbApi *api = lws_context_user(lws_get_context(wsi));
    tbHttpRequest req = {
        .method = ss->method,
        .path = ss->path ? ss->path : "/",
        .num_args = ss->num_args,
        .authorization = ss->authorization,
        .content_type = ss->content_type,
        .host = ss->host,
        .forwarded_proto = ss->forwarded_proto,
        .body = tbSbufData(&ss->body),
        .body_len = ss->body.len,
        .body_too_large = ss->too_large,
        .metrics_only = vi && vi->metrics_only,
    };
    memcpy(req.args, ss->args, sizeof req.args);
    tbApiDispatch(api, &req, &ss->resp);
    tbDebug("http", "%s %s -> %d", tbHttpMethodName(ss->method), req.path, ss->resp.status);
    ss->dispatched = true;
    lws_callback_on_writable(wsi);
}

static int writeHeaders(struct lws *wsi, tbHttpSession *ss) {
    uint8_t buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    tbHttpResponse *r = &ss->resp;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status,
                                    r->content_type[0] ? r->content_type : NULL,
                                    r->body.len, &p, end))
        return -1;
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

static int onHttp(struct lws *wsi, tbHttpSession *ss, const char *path) {
    releaseRequest(ss);
    captureRequest(wsi, ss, path);
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

static int httpCallback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len) {
    tbHttpSession *ss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return onHttp(wsi, ss, in);
    case LWS_CALLBACK_HTTP_BODY:
        onBody(ss, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (ss->active && !ss->dispatched) dispatch(wsi, ss);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!ss || !ss->active || !ss->dispatched) return 0;
        return writeResponse(wsi, ss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (ss) releaseRequest(ss);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
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

int tbHttpServerStart(tbHttpServer *s, uv_loop_t *loop, tbApi *api) {
    const tbConfig *cfg = api->config;
    struct lws_context_creation_info info;
    void *loops[1] = {loop};
    memset(&info, 0, sizeof info);
    lws_set_log_level(LLL_ERR | LLL_WARN | (tbLogGetLevel() == TB_LOG_DEBUG ? LLL_NOTICE : 0),
                      lwsLogEmit);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    info.user = api;
    /* /rtc/v1's join_request rides in the URL: the SDK's is ~2-8 KB */
    info.max_http_header_data = 32768;
    info.max_http_header_pool = 256; /* header buffers are taken per connection */
    info.timeout_secs = 10;          /* idle connections that never finish headers */
    s->api = api;
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
    if (!s->lws) return;
    lws_context_destroy(s->lws);
    s->lws = NULL;
}
