/* router.c — maps method + path to a handler, answers CORS preflights and
 * wrong methods, and counts every request by route and status. Dev-only
 * routes do not exist (404) unless `development` is set. */
#include <string.h>

#include "api/api.h"

typedef void (*tbApiHandler)(tbApi *, const tbHttpRequest *, tbHttpResponse *);

typedef struct tbRoute {
    const char *path;
    bool prefix;                /* match path as a prefix */
    tbHttpMethod method;
    tbApiHandler handler;
    const char *label;          /* metrics label */
    bool on_metrics_port;       /* also served on prometheus.port */
    bool dev_only;              /* 404 unless development mode */
} tbRoute;

static const tbRoute routes[] = {
    {"/", false, TB_HTTP_GET, tbApiRoot, "/", true},
    {"/healthz", false, TB_HTTP_GET, tbApiHealthz, "/healthz", true},
    {"/metrics", false, TB_HTTP_GET, tbApiMetrics, "/metrics", true},
    {"/rtc/validate", false, TB_HTTP_GET, tbApiValidate, "/rtc/validate", false},
    {"/rtc/v1/validate", false, TB_HTTP_GET, tbApiValidateV1, "/rtc/v1/validate", false},
    {"/api/v1/rooms/", true, TB_HTTP_POST, tbApiCreateToken, "/api/v1/rooms/tokens", false},
    {"/twirp/", true, TB_HTTP_POST, tbApiTwirp, "/twirp", false},
    /* before "/app/": the token endpoint shadows a file named `token` */
    {"/app/token", false, TB_HTTP_POST, tbApiDevToken, "/app/token", false, true},
    {"/app", false, TB_HTTP_GET, tbApiStaticFiles, "/app/", false},
    {"/app/", true, TB_HTTP_GET, tbApiStaticFiles, "/app/", false},
};

static const tbRoute *findRoute(const tbApi *api, const tbHttpRequest *req) {
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const tbRoute *r = &routes[i];
        if (req->metrics_only && !r->on_metrics_port) continue;
        bool match = r->prefix ? strncmp(req->path, r->path, strlen(r->path)) == 0
                               : strcmp(req->path, r->path) == 0;
        if (match) return r->dev_only && !api->config->development ? NULL : r;
    }
    return NULL;
}

/* LiveKit allows any origin (the SDK's page is usually served elsewhere). */
static void addCors(tbHttpResponse *resp) {
    tbHttpAddHeader(resp, "Access-Control-Allow-Origin", "*");
}

static void preflight(tbHttpResponse *resp) {
    tbHttpRespondText(resp, 204, "");
    tbHttpAddHeader(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    tbHttpAddHeader(resp, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Twirp-Version, X-Requested-With");
    tbHttpAddHeader(resp, "Access-Control-Max-Age", "86400");
}

void tbApiDispatch(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    const tbRoute *r = findRoute(api, req);
    addCors(resp);
    if (!r) {
        resp->route = "unmatched";
        tbHttpRespondError(resp, 404, "not_found", "no route for %s", req->path);
    } else if (req->method == TB_HTTP_OPTIONS) {
        resp->route = r->label;
        preflight(resp);
    } else if (req->method != r->method &&
               !(req->method == TB_HTTP_HEAD && r->method == TB_HTTP_GET)) {
        resp->route = r->label;
        tbHttpRespondError(resp, 405, "method_not_allowed", "%s is not allowed on %s",
                           tbHttpMethodName(req->method), req->path);
        tbHttpAddHeader(resp, "Allow", tbHttpMethodName(r->method));
    } else {
        resp->route = r->label;
        r->handler(api, req, resp);
    }
    tbMetricsCountHttp(api->metrics, resp->route, resp->status);
}
