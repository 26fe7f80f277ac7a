/* api_fixture.h — a tbApi over a dev config, a registry and a fixed clock,
 * plus helpers to build requests and mint tokens, shared by the API tests.
 * Handlers run without sockets: these tests drive tbApiDispatch directly. */
#ifndef TB_TEST_API_FIXTURE_H
#define TB_TEST_API_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/base64url.h"

#define FIX_NOW_MS INT64_C(1800000000000)
#define FIX_KEY "devkey"
#define FIX_SECRET "secret"

typedef struct apiFixture {
    tbConfig cfg;
    tbRegistry reg;
    tbMetrics metrics;
    tbApi api;
    int64_t now_ms;
} apiFixture;

static int64_t fixClock(void *ctx) { return ((apiFixture *)ctx)->now_ms; }

static inline apiFixture *fixNew(void) {
    apiFixture *f = calloc(1, sizeof *f);
    tbConfigInitDev(&f->cfg);
    tbRegistryInit(&f->reg, (tbRoomDefaults){300, 20, 0});
    f->now_ms = FIX_NOW_MS;
    f->api = (tbApi){.config = &f->cfg, .registry = &f->reg, .metrics = &f->metrics,
                     .now_ms = fixClock, .clock_ctx = f, .started_ms = FIX_NOW_MS,
                     .version = "test", .srtp_backend = "test"};
    return f;
}

static inline void fixFree(apiFixture *f) {
    tbRegistryFree(&f->reg);
    tbConfigFree(&f->cfg);
    free(f);
}

/* A token signed with the dev key; grants set by the caller via `g`. */
static inline char *fixToken(const char *identity, const tbVideoGrant *g, int64_t ttl_s) {
    tbClaims c;
    tbClaimsInit(&c);
    c.api_key = FIX_KEY;
    c.identity = (char *)identity;
    c.nbf = FIX_NOW_MS / 1000;
    c.exp = FIX_NOW_MS / 1000 + ttl_s;
    c.video = *g;
    return tbTokenSign(&c, FIX_SECRET);
}

static inline tbVideoGrant fixGrant(void) {
    tbVideoGrant g;
    memset(&g, 0, sizeof g);
    g.can_publish = g.can_subscribe = g.can_publish_data = TB_UNSET;
    return g;
}

typedef struct fixReq {
    tbHttpRequest req;
    char auth[2048];
} fixReq;

static inline void fixBearer(fixReq *r, const char *token) {
    snprintf(r->auth, sizeof r->auth, "Bearer %s", token);
    r->req.authorization = r->auth;
}

static inline void fixBasic(fixReq *r, const char *key, const char *secret) {
    char pair[256];
    snprintf(pair, sizeof pair, "%s:%s", key, secret);
    char *b = tbBase64Encode((const uint8_t *)pair, strlen(pair));
    snprintf(r->auth, sizeof r->auth, "Basic %s", b);
    free(b);
    r->req.authorization = r->auth;
}

static inline void fixBody(fixReq *r, const char *ctype, const char *body) {
    r->req.content_type = ctype;
    r->req.body = (const uint8_t *)body;
    r->req.body_len = strlen(body);
}

/* Dispatches and returns the status; the response stays in *resp. */
static inline int fixCall(apiFixture *f, fixReq *r, tbHttpResponse *resp) {
    tbHttpResponseInit(resp, 0);
    tbApiDispatch(&f->api, &r->req, resp);
    return resp->status;
}

static inline const char *fixText(const tbHttpResponse *resp) {
    return resp->body.len ? (const char *)tbSbufData(&resp->body) : "";
}

static inline json_t *fixJson(const tbHttpResponse *resp) {
    return json_loadb(fixText(resp), resp->body.len, 0, NULL);
}

#endif
