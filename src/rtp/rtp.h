/* rtp.h — the RTP packet layer of the SFU forwarding path: parse an RTP
 * header (RFC 3550 §5.1), read header extensions in the one-byte and
 * two-byte forms (RFC 8285), read the client-to-mixer audio level (RFC 6464),
 * demultiplex RTP from RTCP on one port (RFC 5761 §4), and write the packet
 * for one subscriber (new SSRC, payload type, sequence number, timestamp and
 * a rebuilt extension block carrying only what the subscriber negotiated).
 *
 * Hand-written: the C RTP libraries on Debian (ortp, ccrtp, libre) own
 * sockets and sessions and allocate per packet; the SFU needs pure functions
 * over caller buffers. No allocation, no I/O, no global state.
 *
 * Buffers are plaintext RTP (after srtp_unprotect / before srtp_protect). */
#ifndef TB_RTP_H
#define TB_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_RTP_HEADER_LEN 12       /* fixed header, no CSRC, no extension */
#define TB_RTP_MAX_LEN 65535       /* longest packet tbRtpParse accepts */
#define TB_RTP_EXT_ONE_BYTE 0xBEDE /* RFC 8285 §4.2 "defined by profile" value */
#define TB_RTP_EXT_TWO_BYTE 0x1000 /* RFC 8285 §4.3, low 4 bits: appbits */
#define TB_RTP_AUDIO_LEVEL_SILENT 127 /* -127 dBov: digital silence */

typedef enum tbRtpStatus {
    TB_RTP_OK = 0,
    TB_RTP_ERR_SHORT = -1,    /* shorter than the 12-byte fixed header */
    TB_RTP_ERR_VERSION = -2,  /* version field is not 2 */
    TB_RTP_ERR_CSRC = -3,     /* CSRC list runs past the end */
    TB_RTP_ERR_EXT = -4,      /* extension header or block runs past the end */
    TB_RTP_ERR_PADDING = -5,  /* P set but padding count 0 or past the payload */
    TB_RTP_ERR_TOO_LONG = -6, /* longer than TB_RTP_MAX_LEN */
    TB_RTP_ERR_SPACE = -7,    /* tbRtpWrite: output buffer too small */
    TB_RTP_ERR_ARG = -8,      /* tbRtpWrite: bad id or element length */
} tbRtpStatus;

/* A parsed header: values plus offsets into the caller's buffer. */
typedef struct tbRtpHeader {
    bool marker;          /* M bit */
    uint8_t pt;           /* payload type 0..127 */
    uint16_t seq;         /* sequence number */
    uint32_t ts;          /* RTP timestamp */
    uint32_t ssrc;
    uint8_t csrc_count;   /* CC: CSRCs at offset 12 */
    bool has_ext;         /* X bit */
    uint16_t ext_profile; /* "defined by profile": 0xBEDE, 0x100X, or other */
    uint16_t ext_off;     /* offset of the extension data (after its 4-byte header) */
    uint16_t ext_len;     /* bytes of extension data (a multiple of 4) */
    uint16_t payload_off; /* offset of the payload */
    uint16_t payload_len; /* payload bytes, padding excluded (0: padding-only packet) */
    uint8_t pad_len;      /* padding bytes at the end (P bit), 0 when none */
} tbRtpHeader;

/* Parses and bounds-checks buf[0..len). Returns TB_RTP_OK or a negative
 * tbRtpStatus; *h is only meaningful on TB_RTP_OK. The extension elements
 * are not walked here: the accessors below check them as they read. */
int tbRtpParse(const uint8_t *buf, size_t len, tbRtpHeader *h);

/* RFC 5761 §4 demux on a packet already known to be RTP or RTCP (first byte
 * 128..191 per RFC 7983): true when the second byte is 192..223, i.e. an
 * RTCP packet type (an RTP payload type 64..95 with the marker bit). */
bool tbRtpIsRtcp(const uint8_t *buf, size_t len);

/* Iterates over the elements of a one-byte (0xBEDE) or two-byte (0x100X)
 * extension block. Padding bytes are skipped; a one-byte id 15 ends the
 * walk (RFC 8285 §4.2). */
typedef struct tbRtpExtIter {
    const uint8_t *p;  /* next byte to read */
    const uint8_t *end;
    bool two_byte;     /* 0x100X form */
} tbRtpExtIter;

/* Returns false (and the iterator yields nothing) for a packet without an
 * extension or with a profile other than the two RFC 8285 forms. */
bool tbRtpExtIterInit(tbRtpExtIter *it, const uint8_t *buf, const tbRtpHeader *h);
/* 1: an element (*id, *data, *len); 0: end; -1: malformed (element runs past
 * the block). */
int tbRtpExtIterNext(tbRtpExtIter *it, uint8_t *id, const uint8_t **data, uint8_t *len);

/* Finds the first element with `id` (1..14 one-byte, 1..255 two-byte).
 * Returns false when absent or when the block is malformed before it. */
bool tbRtpFindExt(const uint8_t *buf, const tbRtpHeader *h, uint8_t id, const uint8_t **data,
                  uint8_t *len);

/* RFC 6464: reads the audio level element `id`: *level 0..127 (-dBov, 127 is
 * silence) and *voice (the V flag: the sender's VAD says speech). False when
 * the element is absent or empty. */
bool tbRtpGetAudioLevel(const uint8_t *buf, const tbRtpHeader *h, uint8_t id, uint8_t *level,
                        bool *voice);

/* What changes when a packet goes to one subscriber. Extension ids are the
 * subscriber's negotiated ones (its a=extmap); 0 leaves that element out.
 * Every other extension of the publisher is dropped: the SFU cannot vouch
 * for extensions the subscriber did not negotiate, and audio needs only
 * these (transport-cc numbers belong to the SFU->subscriber transport, not
 * to the publisher's, so the caller passes its own counter). */
typedef struct tbRtpRewrite {
    uint32_t ssrc;           /* subscriber-side SSRC */
    uint8_t pt;              /* subscriber-side payload type */
    uint16_t seq;            /* from tbRtpMunger */
    uint32_t ts;             /* from tbRtpMunger */
    bool set_marker;         /* force M=1 (first packet after a re-anchor) */
    uint8_t audio_level_id;  /* 0: omit */
    uint8_t audio_level;     /* 0..127, from tbRtpGetAudioLevel */
    bool voice;              /* V flag to write */
    uint8_t mid_id;          /* 0: omit */
    uint8_t mid_len;         /* bytes of mid (1..255; 1..16 in one-byte form) */
    const char *mid;         /* subscriber-side mid, not NUL-terminated */
    uint8_t twcc_id;         /* transport-wide cc sequence number, 0: omit */
    uint16_t twcc_seq;
} tbRtpRewrite;

/* Bytes of the extension block (4-byte header + elements + zero padding)
 * that tbRtpWrite would emit for `rw`; 0 when no element is asked for. */
size_t tbRtpRewriteExtLen(const tbRtpRewrite *rw);

/* RFC 2198 (RED): narrows h's payload to the primary encoding of a RED
 * packet (skipping the block headers and the redundant blocks), so the
 * packet can be forwarded as plain Opus to a subscriber without RED.
 * Returns TB_RTP_OK, or TB_RTP_ERR_SHORT when the RED headers or block
 * lengths run past the payload. */
int tbRtpRedPrimary(const uint8_t *buf, tbRtpHeader *h);
/* Rewrites the payload type inside every RED block header of a RED payload
 * (payload, len) from `from` to `to`: a subscriber may number Opus
 * differently from the publisher. Stops at the first malformed header. */
void tbRtpRedRenumber(uint8_t *payload, size_t len, uint8_t from, uint8_t to);

/* Writes the packet described by in/h, rewritten per rw, to out[0..cap):
 * fixed header (V=2, P=0, X as needed, CSRCs copied, M from the input or
 * rw->set_marker), the rebuilt extension block (one-byte form when every id
 * is 1..14 and every element 1..16 bytes, else two-byte form), then the
 * payload without padding. out must not overlap in. Leave room after the
 * packet for the SRTP trailer (SRTP_MAX_TRAILER_LEN). Returns the packet length or a negative tbRtpStatus. */
int tbRtpWrite(const uint8_t *in, const tbRtpHeader *h, const tbRtpRewrite *rw, uint8_t *out,
               size_t cap);

#endif
