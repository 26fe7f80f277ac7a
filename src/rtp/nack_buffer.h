/* nack_buffer.h — retransmission history of one outgoing RTP stream, for
 * answering a subscriber's generic NACK (RFC 4585 §6.2.1; audio is resent
 * as-is on its own SSRC, no RTX).
 *
 * Fixed size, no allocation: packets are appended to a 16 KiB byte ring
 * (variable-length entries, so 120-byte Opus packets do not pay for 1500-byte
 * slots) and indexed by outgoing seq in 128 slots (seq % 128). A packet can
 * be found while its slot still holds its seq and the ring has not wrapped
 * over its bytes. Store the SRTP-protected packet: resending the identical
 * ciphertext is valid (same index, same keystream, same plaintext) and
 * saves an encryption; or store the plaintext and protect again.
 *
 * Memory: 16 KiB arena + 128 x 16-byte slots = 18,444 bytes. The media
 * router keeps one per published track (its packets as received) and a
 * 2 KiB tbNackMap per subscriber (below), not one of these per subscriber. History: 128 packets = 2.56 s of 20 ms
 * Opus, or ~1 s when packets average 160 bytes (a 64 kb/s stream) — longer
 * than any useful NACK for audio, since NetEq gives up on a packet after
 * roughly its jitter-buffer delay. Tune with TB_NACK_SLOTS/TB_NACK_ARENA.
 *
 * Hand-written. Not thread-safe: owned by the media worker of the stream. */
#ifndef TB_RTP_NACK_BUFFER_H
#define TB_RTP_NACK_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_NACK_SLOTS 128       /* index entries (power of two) */
#define TB_NACK_ARENA 16384     /* bytes of packet storage */
#define TB_NACK_MAX_PACKET 1500 /* longer packets are not kept */

typedef enum tbNackResult {
    TB_NACK_OK = 0,        /* data and len: resend it */
    TB_NACK_MISSING = 1,   /* never stored, or already overwritten */
    TB_NACK_THROTTLED = 2, /* resent too recently or too often */
} tbNackResult;

typedef struct tbNackSlot {
    uint32_t pos;      /* absolute ring position of the first byte */
    uint32_t sent_ms;  /* last (re)transmission, ms (mod 2^32) */
    uint16_t seq;      /* outgoing sequence number */
    uint16_t len;      /* bytes; 0: empty slot */
    uint8_t resends;   /* retransmissions so far */
} tbNackSlot;

typedef struct tbNackBuffer {
    uint32_t head;            /* absolute write position (mod 2^32) */
    uint32_t min_interval_ms; /* between two resends of one packet */
    uint8_t max_resends;      /* per packet */
    tbNackSlot slots[TB_NACK_SLOTS];
    uint8_t arena[TB_NACK_ARENA];
} tbNackBuffer;

/* min_interval_ms: e.g. the RTT or 100; max_resends: e.g. 3. The first
 * retransmission is never throttled. */
void tbNackBufferInit(tbNackBuffer *nb, uint32_t min_interval_ms, uint8_t max_resends);

/* Keeps a copy of the packet just sent with outgoing `seq`. Returns false
 * (nothing kept) when len is 0 or above TB_NACK_MAX_PACKET. */
bool tbNackBufferPut(tbNackBuffer *nb, uint16_t seq, const uint8_t *pkt, size_t len,
                     uint64_t now_ms);

/* Looks up outgoing `seq` for a NACK. On TB_NACK_OK, *data points into the
 * ring (valid until the next Put) and the resend is recorded. */
tbNackResult tbNackBufferGet(tbNackBuffer *nb, uint16_t seq, uint64_t now_ms,
                             const uint8_t **data, size_t *len);
/* The packet stored under `seq`, without throttling or recording anything
 * (a history shared by several outgoing streams: see tbNackMap). */
tbNackResult tbNackBufferPeek(const tbNackBuffer *nb, uint16_t seq, const uint8_t **data,
                              size_t *len);

/* ---- a shared history ------------------------------------------------------
 * An SFU sends one incoming stream to many subscribers, each with its own
 * sequence numbers and timestamps. Rather than a tbNackBuffer per
 * subscriber (18 KiB each), the incoming packets are kept once, in the
 * publisher's tbNackBuffer under their incoming seq, and each subscriber
 * keeps a tbNackMap (2 KiB): for each outgoing seq it sent, the incoming seq
 * and the outgoing timestamp and marker, so a NACKed packet can be rebuilt,
 * with the same throttling as tbNackBuffer. */

typedef struct tbNackSent {
    uint32_t out_ts;          /* outgoing RTP timestamp */
    uint32_t sent_ms;         /* last (re)transmission, ms (mod 2^32) */
    uint16_t out_seq;
    uint16_t in_seq;          /* where the packet is in the shared history */
    uint8_t resends;
    bool marker;
    bool used;                /* the slot holds a packet */
} tbNackSent;

typedef struct tbNackMap {
    uint32_t min_interval_ms;
    uint8_t max_resends;
    tbNackSent slots[TB_NACK_SLOTS];
} tbNackMap;

void tbNackMapInit(tbNackMap *m, uint32_t min_interval_ms, uint8_t max_resends);
void tbNackMapPut(tbNackMap *m, uint16_t out_seq, uint16_t in_seq, uint32_t out_ts,
                  bool marker, uint64_t now_ms);
/* On TB_NACK_OK, *out is what was sent under out_seq and the resend is
 * recorded. */
tbNackResult tbNackMapGet(tbNackMap *m, uint16_t out_seq, uint64_t now_ms, tbNackSent *out);

#endif
