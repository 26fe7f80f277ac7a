/* stream_out.c — buffered output on a libuv stream; see stream_out.h. */
#include "util/stream_out.h"

#include <string.h>

void tbStreamOutInit(tbStreamOut *o, uv_stream_t *stream, uint8_t *buf, size_t cap,
                     void (*on_error)(void *ud), void *ud) {
    memset(o, 0, sizeof *o);
    o->stream = stream;
    o->buf = buf;
    o->cap = cap;
    o->on_error = on_error;
    o->ud = ud;
}

static void drop(tbStreamOut *o, size_t n) {
    memmove(o->buf, o->buf + n, o->len - n);
    o->len -= n;
}

static void onWritten(uv_write_t *req, int status) {
    tbStreamOut *o = req->data;
    o->writing = false;
    if (status < 0) {
        o->on_error(o->ud);
        return;
    }
    drop(o, o->inflight);
    o->inflight = 0;
    tbStreamOutFlush(o);
}

void tbStreamOutFlush(tbStreamOut *o) {
    if (o->writing || o->len == 0 || uv_is_closing((uv_handle_t *)o->stream)) return;
    uv_buf_t b = uv_buf_init((char *)o->buf, (unsigned)o->len);
    int n = uv_try_write(o->stream, &b, 1);
    if (n > 0) drop(o, (size_t)n);
    if (o->len == 0) return;
    o->writing = true; /* the socket is full: libuv finishes and tells us */
    o->inflight = o->len;
    o->req.data = o;
    b = uv_buf_init((char *)o->buf, (unsigned)o->len);
    if (uv_write(&o->req, o->stream, &b, 1, onWritten) != 0) o->on_error(o->ud);
}
