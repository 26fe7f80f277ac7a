/* stream_out.h — a fixed output buffer in front of a libuv stream, shared by
 * the TCP connections that carry packets (ICE-TCP, TURN over TCP/TLS):
 * callers append whole frames while there is room (a frame that does not fit
 * is theirs to drop, so a slow reader loses packets but the stream never
 * desynchronises), and tbStreamOutFlush writes what it can at once
 * (uv_try_write) and hands the rest to one uv_write at a time. No
 * allocation per write. */
#ifndef TB_UTIL_STREAM_OUT_H
#define TB_UTIL_STREAM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct tbStreamOut {
    uv_stream_t *stream;
    uint8_t *buf;               /* caller storage */
    size_t cap;
    size_t len;                 /* bytes waiting in buf */
    bool writing;               /* a uv_write of buf[0..inflight) is pending */
    size_t inflight;
    uv_write_t req;
    void (*on_error)(void *ud); /* a write failed: the owner closes the stream */
    void *ud;
} tbStreamOut;

void tbStreamOutInit(tbStreamOut *o, uv_stream_t *stream, uint8_t *buf, size_t cap,
                     void (*on_error)(void *ud), void *ud);
/* Room left at the end of the buffer, and where it starts. */
static inline size_t tbStreamOutRoom(const tbStreamOut *o) { return o->cap - o->len; }
static inline uint8_t *tbStreamOutTail(tbStreamOut *o) { return o->buf + o->len; }
/* Declares n bytes written at tbStreamOutTail. */
static inline void tbStreamOutCommit(tbStreamOut *o, size_t n) { o->len += n; }
/* Writes what is buffered (now, or once the pending write completes). */
void tbStreamOutFlush(tbStreamOut *o);

#endif
