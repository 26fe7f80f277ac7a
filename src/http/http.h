/* http.h — the HTTP request/response model the control plane's handlers work
 * on. libwebsockets parses the wire (http/server.c fills a tbHttpRequest from
 * an lws connection and writes the tbHttpResponse back); handlers never see
 * lws, so they run in unit tests without sockets. */
#ifndef TB_HTTP_H
#define TB_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sbuf.h"

#define TB_HTTP_MAX_ARGS 16
#define TB_HTTP_MAX_HEADERS 8
#define TB_HTTP_BODY_LIMIT (64 * 1024) /* larger request bodies get 413 */

typedef enum tbHttpMethod {
    TB_HTTP_OTHER = 0,
    TB_HTTP_GET,
    TB_HTTP_HEAD,
    TB_HTTP_POST,
    TB_HTTP_PUT,
    TB_HTTP_DELETE,
    TB_HTTP_PATCH,
    TB_HTTP_OPTIONS,
} tbHttpMethod;

typedef struct tbHttpArg {
    const char *name;           /* URL-decoded */
    const char *value;
} tbHttpArg;

typedef struct tbHttpRequest {
    tbHttpMethod method;
    const char *path;           /* URL-decoded path, no query */
    tbHttpArg args[TB_HTTP_MAX_ARGS];
    size_t num_args;
    const char *authorization;  /* header values, NULL when absent */
    const char *content_type;
    const char *host;
    const char *forwarded_proto; /* X-Forwarded-Proto */
    const char *if_none_match;  /* If-None-Match (static files' ETag check) */
    const uint8_t *body;
    size_t body_len;
    bool body_too_large;        /* the body exceeded TB_HTTP_BODY_LIMIT */
    bool metrics_only;          /* arrived on the prometheus.port listener */
    bool forwarded;             /* came from another node: answer here, never forward */
    /* Lets a handler answer later (NULL: it must answer now): returns a
     * handle for tbHttpDeferredFinish, and the response given to the
     * handler is then ignored. */
    struct tbHttpDeferred *(*defer)(void *defer_ctx);
    void *defer_ctx;
} tbHttpRequest;

typedef struct tbHttpHeader {
    char name[48];
    char value[208];
} tbHttpHeader;

typedef struct tbHttpResponse {
    int status;
    char content_type[64];
    tbSbuf body;                /* with LWS_PRE headroom when built by the server */
    tbHttpHeader headers[TB_HTTP_MAX_HEADERS];
    size_t num_headers;
    const char *route;          /* metrics label, set by the router */
} tbHttpResponse;

typedef struct tbHttpDeferred tbHttpDeferred;
/* The answer to a deferred request (copied; the handle is freed). When the
 * client has gone meanwhile, only the handle is freed. */
void tbHttpDeferredFinish(tbHttpDeferred *d, const tbHttpResponse *answer);

void tbHttpResponseInit(tbHttpResponse *r, size_t headroom);
void tbHttpResponseFree(tbHttpResponse *r);
void tbHttpAddHeader(tbHttpResponse *r, const char *name, const char *value);

/* Body setters (replace any body set before). */
void tbHttpRespondText(tbHttpResponse *r, int status, const char *text);
/* Takes ownership of `json` (decref'ed). */
void tbHttpRespondJson(tbHttpResponse *r, int status, json_t *json);
/* {"code": code, "msg": msg} — the error body of the REST API and Twirp. */
void tbHttpRespondError(tbHttpResponse *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

const char *tbHttpArgGet(const tbHttpRequest *req, const char *name);
const char *tbHttpMethodName(tbHttpMethod m);
const char *tbHttpStatusText(int status);
/* True when the Content-Type's media type (before ';') equals `type`. */
bool tbHttpContentTypeIs(const tbHttpRequest *req, const char *type);

#endif
