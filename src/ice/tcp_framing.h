/* tcp_framing.h — RFC 4571 framing for ICE-TCP (RFC 6544): every STUN,
 * DTLS, RTP or RTCP packet on the TCP stream is preceded by its length as a
 * 16-bit big-endian integer.
 *
 * Hand-written (two bytes of framing; no library carries it on its own).
 * The de-framer works over one caller-provided buffer per connection, copes
 * with partial reads and several frames per read, and skips (without
 * buffering) frames longer than a configured maximum, counting them, so the
 * stream stays in sync. Pure code: the caller does the read()/write(). */
#ifndef TB_ICE_TCP_FRAMING_H
#define TB_ICE_TCP_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#define TB_TCP_FRAME_HDR 2
#define TB_TCP_FRAME_MAX 65535 /* what 16 bits can say */

typedef struct tbTcpDeframer {
    uint8_t *buf;       /* caller storage, at least TB_TCP_FRAME_HDR + max_frame */
    size_t cap;         /* size of buf */
    size_t start;       /* first unconsumed byte */
    size_t end;         /* one past the last buffered byte */
    size_t max_frame;   /* longest frame accepted (e.g. 1500 for media, max 65535) */
    size_t skip;        /* bytes of an oversize frame still to discard */
    uint64_t frames;    /* frames delivered */
    uint64_t oversize;  /* frames dropped for exceeding max_frame */
} tbTcpDeframer;

/* Returns 0, or -1 if cap < TB_TCP_FRAME_HDR + max_frame or max_frame is 0
 * or above TB_TCP_FRAME_MAX. */
int tbTcpDeframerInit(tbTcpDeframer *d, uint8_t *storage, size_t cap, size_t max_frame);

/* Zero-copy reading: where the next read() may write and how much (the
 * buffered tail is moved to the front first when that makes room). Frames
 * returned by tbTcpDeframerNext are invalid after this call. */
uint8_t *tbTcpDeframerSpace(tbTcpDeframer *d, size_t *avail);
/* Declares that n bytes were written at tbTcpDeframerSpace(). */
void tbTcpDeframerCommit(tbTcpDeframer *d, size_t n);

/* Copying alternative to Space/Commit: appends up to len bytes and returns
 * how many were taken (fewer only if the buffer is full: drain it with
 * tbTcpDeframerNext and feed the rest). */
size_t tbTcpDeframerFeed(tbTcpDeframer *d, const uint8_t *data, size_t len);

/* Next complete frame: returns 1 and sets *frame and *len (pointing into the
 * buffer, valid until the next Space/Feed call), or 0 when more bytes are
 * needed. Oversize and empty frames are skipped, never returned. */
int tbTcpDeframerNext(tbTcpDeframer *d, const uint8_t **frame, size_t *len);

/* Bytes buffered but not yet returned as frames. */
size_t tbTcpDeframerPending(const tbTcpDeframer *d);

/* Writes the 2-byte header for a payload of len bytes (for writev).
 * Returns -1 if len > TB_TCP_FRAME_MAX. */
int tbTcpFrameHeader(uint8_t hdr[TB_TCP_FRAME_HDR], size_t len);

/* Writes header + payload into out. Returns the framed length, or 0 if len
 * is 0, above TB_TCP_FRAME_MAX, or does not fit in out_cap. */
size_t tbTcpFrame(uint8_t *out, size_t out_cap, const uint8_t *payload, size_t len);

#endif
