/* server.h — the control plane's HTTP listeners: libwebsockets on the
 * server's libuv loop (one vhost per bind address on `port`, plus one on
 * `prometheus.port` that serves only /, /healthz and /metrics). Requests
 * are turned into tbHttpRequest and handed to tbApiDispatch. */
#ifndef TB_HTTP_SERVER_H
#define TB_HTTP_SERVER_H

#include <uv.h>

#include "api/api.h"
#include "signal/session.h"

typedef struct tbHttpServer {
    struct lws_context *lws;    /* NULL until started */
    tbApi *api;
    tbSignalHub *hub;           /* WebSocket signaling; NULL = refuse upgrades */
    size_t max_ws_message;      /* larger signaling frames close the socket */
    bool stopping;
} tbHttpServer;

/* Creates the lws context on `loop` and its listeners. Returns 0, or -1 after
 * logging why (port in use, bad bind address). */
int tbHttpServerStart(tbHttpServer *s, uv_loop_t *loop, tbApi *api, tbSignalHub *hub);
/* Closes every listener and connection; the loop must run afterwards until
 * lws has closed its handles. */
void tbHttpServerStop(tbHttpServer *s);
/* After the loop has run out: frees what lws keeps until then. */
void tbHttpServerFinish(tbHttpServer *s);

#endif
