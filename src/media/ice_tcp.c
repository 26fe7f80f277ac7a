/* ice_tcp.c — passive ICE-TCP listener and connections; see ice_tcp.h. */
#include "media/ice_tcp.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ice/ice_lite.h"
#include "ice/tcp_framing.h"
#include "util/log.h"
#include "util/stream_out.h"

#define TB_TCP_MAX_FRAME 1500            /* media frames: STUN, DTLS, SRTP */
#define TB_TCP_OUTBUF (64 * 1024)        /* unsent bytes kept per connection */
#define TB_TCP_MAX_CONNS 4096

typedef struct tbTcpConn {
    uv_tcp_t handle;
    tbIceTcp *owner;
    tbIceTuple peer;                     /* the remote side, proto TCP */
    tbTcpDeframer in;
    uint8_t inbuf[TB_TCP_FRAME_HDR + TB_TCP_MAX_FRAME];
    tbStreamOut out;                     /* frames waiting to be written */
    uint8_t outbuf[TB_TCP_OUTBUF];
    struct tbTcpConn *next;
} tbTcpConn;

struct tbIceTcp {
    uv_tcp_t listener;
    void (*input)(void *ud, const tbIceTuple *from, uint8_t *data, size_t len);
    tbTcpConn *conns;
    size_t num_conns;
    void (*after_batch)(void *ud);
    void *ud;
    bool stopping;              /* freed once the listener and every conn closed */
    bool listener_closed;
};

static void maybeFree(tbIceTcp *t) {
    if (t->stopping && t->listener_closed && t->num_conns == 0) free(t);
}

static void onListenerClosed(uv_handle_t *h) {
    tbIceTcp *t = h->data;
    t->listener_closed = true;
    maybeFree(t);
}

/* ---- connections ------------------------------------------------------------ */

static void onConnClosed(uv_handle_t *h) {
    tbTcpConn *c = h->data;
    tbIceTcp *t = c->owner;
    for (tbTcpConn **pp = &t->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            t->num_conns--;
            break;
        }
    }
    free(c);
    maybeFree(t);
}

static void closeConn(tbTcpConn *c) {
    if (!uv_is_closing((uv_handle_t *)&c->handle))
        uv_close((uv_handle_t *)&c->handle, onConnClosed);
}

static void onAlloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    tbTcpConn *c = h->data;
    size_t avail = 0;
    uint8_t *space = tbTcpDeframerSpace(&c->in, &avail);
    *buf = uv_buf_init((char *)space, (unsigned)avail);
}

static void onRead(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    (void)buf;
    tbTcpConn *c = s->data;
    if (n < 0) {
        closeConn(c);
        return;
    }
    tbTcpDeframerCommit(&c->in, (size_t)n);
    const uint8_t *frame;
    size_t len;
    /* frames point into c->inbuf, which is ours: the router may decrypt in place */
    while (tbTcpDeframerNext(&c->in, &frame, &len) == 1)
        c->owner->input(c->owner->ud, &c->peer, (uint8_t *)frame, len);
    c->owner->after_batch(c->owner->ud);
}

static void outError(void *ud) { closeConn(ud); }

static void onConnection(uv_stream_t *server, int status) {
    tbIceTcp *t = server->data;
    if (status < 0) return;
    tbTcpConn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->owner = t;
    uv_tcp_init(server->loop, &c->handle);
    c->handle.data = c;
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_accept(server, (uv_stream_t *)&c->handle) != 0 || t->num_conns >= TB_TCP_MAX_CONNS ||
        uv_tcp_getpeername(&c->handle, (struct sockaddr *)&ss, &sl) != 0 ||
        tbIceTupleSet(&c->peer, (struct sockaddr *)&ss, (socklen_t)sl, TB_ICE_TCP) != 0) {
        c->next = t->conns; /* unlinked by onConnClosed */
        t->conns = c;
        t->num_conns++;
        closeConn(c);
        return;
    }
    tbTcpDeframerInit(&c->in, c->inbuf, sizeof c->inbuf, TB_TCP_MAX_FRAME);
    tbStreamOutInit(&c->out, (uv_stream_t *)&c->handle, c->outbuf, sizeof c->outbuf, outError, c);
    uv_tcp_nodelay(&c->handle, 1);
    c->next = t->conns;
    t->conns = c;
    t->num_conns++;
    uv_read_start((uv_stream_t *)&c->handle, onAlloc, onRead);
}

/* ---- the module ---------------------------------------------------------------- */

tbIceTcp *tbIceTcpStart(uv_loop_t *loop, const char *ip, int port,
                        void (*input)(void *ud, const tbIceTuple *from, uint8_t *data,
                                      size_t len),
                        void (*after_batch)(void *ud), void *ud) {
    tbIceTcp *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->input = input;
    t->after_batch = after_batch;
    t->ud = ud;
    struct sockaddr_storage ss;
    int rc = ip ? uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss) : -1;
    if (rc != 0 && ip) rc = uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss);
    if (!ip) rc = uv_ip6_addr("::", port, (struct sockaddr_in6 *)&ss); /* dual-stack */
    uv_tcp_init(loop, &t->listener);
    t->listener.data = t;
    if (rc == 0) rc = uv_tcp_bind(&t->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&t->listener, 128, onConnection);
    if (rc != 0) {
        tbError("media", "cannot listen for ICE-TCP on port %d: %s", port, uv_strerror(rc));
        t->stopping = true;
        uv_close((uv_handle_t *)&t->listener, onListenerClosed);
        return NULL;
    }
    tbInfo("media", "ICE-TCP on port %d", port);
    return t;
}

void tbIceTcpStop(tbIceTcp *t) {
    if (!t) return;
    t->stopping = true;
    for (tbTcpConn *c = t->conns; c; c = c->next) closeConn(c);
    uv_close((uv_handle_t *)&t->listener, onListenerClosed);
}

static tbTcpConn *connFor(tbIceTcp *t, const tbIceTuple *to) {
    for (tbTcpConn *c = t->conns; c; c = c->next)
        if (tbIceTupleEqual(&c->peer, to) && !uv_is_closing((uv_handle_t *)&c->handle))
            return c;
    return NULL;
}

bool tbIceTcpSend(tbIceTcp *t, const tbIceTuple *to, const uint8_t *data, size_t len) {
    tbTcpConn *c = connFor(t, to);
    if (!c || len > TB_TCP_MAX_FRAME || TB_TCP_FRAME_HDR + len > tbStreamOutRoom(&c->out))
        return false;
    tbStreamOutCommit(&c->out,
                      tbTcpFrame(tbStreamOutTail(&c->out), tbStreamOutRoom(&c->out), data, len));
    return true;
}

void tbIceTcpFlush(tbIceTcp *t) {
    if (!t) return;
    for (tbTcpConn *c = t->conns; c; c = c->next) tbStreamOutFlush(&c->out);
}

size_t tbIceTcpConnections(const tbIceTcp *t) { return t ? t->num_conns : 0; }
