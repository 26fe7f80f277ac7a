/* dcep.h — the WebRTC Data Channel Establishment Protocol (RFC 8832):
 * DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK messages, carried on an SCTP
 * stream with PPID 50, and the PPIDs of RFC 8831 for user data.
 *
 * Hand-written: two message formats of a few bytes; usrsctp carries SCTP but
 * leaves DCEP to its users. Pure code: no I/O, no allocation. */
#ifndef TB_DCEP_H
#define TB_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SCTP payload protocol identifiers (RFC 8831 §8, IANA). */
#define TB_PPID_DCEP 50
#define TB_PPID_STRING 51
#define TB_PPID_BINARY_PARTIAL 52 /* deprecated */
#define TB_PPID_BINARY 53
#define TB_PPID_STRING_PARTIAL 54 /* deprecated */
#define TB_PPID_STRING_EMPTY 56
#define TB_PPID_BINARY_EMPTY 57

#define TB_DCEP_OPEN 0x03
#define TB_DCEP_ACK 0x02

/* Channel types (RFC 8832 §5.1); 0x80 set = unordered. */
#define TB_DCEP_RELIABLE 0x00
#define TB_DCEP_REXMIT 0x01  /* partially reliable, by retransmissions */
#define TB_DCEP_TIMED 0x02   /* partially reliable, by lifetime (ms) */
#define TB_DCEP_UNORDERED 0x80

#define TB_DCEP_LABEL_MAX 256 /* longest label kept (NUL included) */

typedef struct tbDcepOpen {
    uint8_t channel_type;               /* TB_DCEP_* */
    uint16_t priority;
    uint32_t reliability;               /* retransmissions or ms, per type */
    char label[TB_DCEP_LABEL_MAX];      /* NUL-terminated (longer labels: error) */
    char protocol[TB_DCEP_LABEL_MAX];
} tbDcepOpen;

/* Parses a DATA_CHANNEL_OPEN. Returns 0, or -1 when truncated, not an OPEN,
 * of an unknown channel type, or with a label/protocol too long. */
int tbDcepParseOpen(const uint8_t *buf, size_t len, tbDcepOpen *out);
/* Writes a DATA_CHANNEL_OPEN; returns its length, or 0 if it does not fit. */
size_t tbDcepBuildOpen(const tbDcepOpen *o, uint8_t *buf, size_t cap);
/* True for a DATA_CHANNEL_ACK (one byte, 0x02). */
bool tbDcepIsAck(const uint8_t *buf, size_t len);
/* ordered / retransmission limit of a channel type: max_rtx -1 = reliable. */
bool tbDcepOrdered(uint8_t channel_type);

#endif
