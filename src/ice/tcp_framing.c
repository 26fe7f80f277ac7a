/* tcp_framing.c — RFC 4571 length-prefixed framing for ICE-TCP (see
 * tcp_framing.h). Hand-written: two bytes of big-endian length per packet. */
#include "ice/tcp_framing.h"

#include <string.h>

int tbTcpDeframerInit(tbTcpDeframer *d, uint8_t *storage, size_t cap, size_t max_frame) {
    memset(d, 0, sizeof *d);
    if (storage == NULL || max_frame == 0 || max_frame > TB_TCP_FRAME_MAX ||
        cap < TB_TCP_FRAME_HDR + max_frame)
        return -1;
    d->buf = storage;
    d->cap = cap;
    d->max_frame = max_frame;
    return 0;
}

/* Moves the unconsumed tail to the front when the buffer is drained (free)
 * or when a frame starting at d->start might not fit before the end. */
static void compact(tbTcpDeframer *d) {
    if (d->start == 0) return;
    if (d->start != d->end && d->start + TB_TCP_FRAME_HDR + d->max_frame <= d->cap) return;
    size_t n = d->end - d->start;
    if (n > 0) memmove(d->buf, d->buf + d->start, n);
    d->start = 0;
    d->end = n;
}

uint8_t *tbTcpDeframerSpace(tbTcpDeframer *d, size_t *avail) {
    compact(d);
    *avail = d->cap - d->end;
    return d->buf + d->end;
}

void tbTcpDeframerCommit(tbTcpDeframer *d, size_t n) {
    if (n > d->cap - d->end) n = d->cap - d->end;
    d->end += n;
}

size_t tbTcpDeframerFeed(tbTcpDeframer *d, const uint8_t *data, size_t len) {
    size_t avail;
    uint8_t *dst = tbTcpDeframerSpace(d, &avail);
    size_t n = len < avail ? len : avail;
    if (n > 0) memcpy(dst, data, n);
    tbTcpDeframerCommit(d, n);
    return n;
}

int tbTcpDeframerNext(tbTcpDeframer *d, const uint8_t **frame, size_t *len) {
    for (;;) {
        size_t have = d->end - d->start;
        if (d->skip > 0) { /* discarding the body of an oversize frame */
            size_t k = d->skip < have ? d->skip : have;
            d->start += k;
            d->skip -= k;
            if (d->skip > 0) return 0;
            continue;
        }
        if (have < TB_TCP_FRAME_HDR) return 0;
        size_t flen = (size_t)d->buf[d->start] << 8 | d->buf[d->start + 1];
        if (flen == 0) { /* nothing to deliver */
            d->start += TB_TCP_FRAME_HDR;
            continue;
        }
        if (flen > d->max_frame) {
            d->oversize++;
            d->start += TB_TCP_FRAME_HDR;
            d->skip = flen;
            continue;
        }
        if (have < TB_TCP_FRAME_HDR + flen) return 0;
        *frame = d->buf + d->start + TB_TCP_FRAME_HDR;
        *len = flen;
        d->start += TB_TCP_FRAME_HDR + flen;
        d->frames++;
        return 1;
    }
}

size_t tbTcpDeframerPending(const tbTcpDeframer *d) {
    return d->end - d->start;
}

int tbTcpFrameHeader(uint8_t hdr[TB_TCP_FRAME_HDR], size_t len) {
    if (len > TB_TCP_FRAME_MAX) return -1;
    hdr[0] = (uint8_t)(len >> 8);
    hdr[1] = (uint8_t)len;
    return 0;
}

size_t tbTcpFrame(uint8_t *out, size_t out_cap, const uint8_t *payload, size_t len) {
    if (len == 0 || len > TB_TCP_FRAME_MAX || out_cap < TB_TCP_FRAME_HDR + len) return 0;
    tbTcpFrameHeader(out, len);
    memmove(out + TB_TCP_FRAME_HDR, payload, len);
    return TB_TCP_FRAME_HDR + len;
}
