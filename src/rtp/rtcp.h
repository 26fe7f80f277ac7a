/* rtcp.h — RTCP parsing and building for the SFU: compound packets (RFC
 * 3550 §6: SR, RR, SDES, BYE, APP), transport and payload-specific feedback
 * (RFC 4585: generic NACK; transport-cc, PLI, FIR, REMB recognised), and the
 * builders the SFU needs: SR for the streams it sends, RR from
 * tbRtpRecvStats (recv_stats.h), SDES CNAME, generic NACK, PLI, and the
 * RR/SR + SDES compound RFC 3550 requires (reduced-size RTCP, RFC 5506, is
 * just a lone feedback packet).
 *
 * Hand-written: pure functions over caller buffers, no allocation, no I/O.
 * Every length is checked against the buffer before it is read. Buffers are
 * plaintext RTCP (after srtcp_unprotect / before srtcp_protect). */
#ifndef TB_RTCP_H
#define TB_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TB_RTCP_SR = 200,
    TB_RTCP_RR = 201,
    TB_RTCP_SDES = 202,
    TB_RTCP_BYE = 203,
    TB_RTCP_APP = 204,
    TB_RTCP_RTPFB = 205, /* RFC 4585 transport layer feedback */
    TB_RTCP_PSFB = 206,  /* RFC 4585 payload-specific feedback */
    TB_RTCP_XR = 207,    /* RFC 3611 (Chromium's rcvr-rtt): framed, not parsed */
};

#define TB_RTCP_MAX_BLOCKS 31  /* RC/SC is 5 bits */
#define TB_RTCP_SDES_CNAME 1   /* SDES item type */

typedef enum tbRtcpStatus {
    TB_RTCP_OK = 0,
    TB_RTCP_ERR_SHORT = -1,   /* fewer bytes than the header or the type's body needs */
    TB_RTCP_ERR_VERSION = -2, /* version field is not 2 */
    TB_RTCP_ERR_LENGTH = -3,  /* length field runs past the buffer */
    TB_RTCP_ERR_PADDING = -4, /* bad padding count, or P on a non-final packet */
    TB_RTCP_ERR_TYPE = -5,    /* packet type outside 192..223, or wrong parser */
    TB_RTCP_ERR_FORMAT = -6,  /* body inconsistent (SDES chunk, NACK FCI size, ...) */
    TB_RTCP_ERR_SPACE = -7,   /* builder: output buffer too small */
    TB_RTCP_ERR_ARG = -8,     /* builder: bad argument */
} tbRtcpStatus;

/* One RTCP packet of a compound packet, as framed by the iterator. */
typedef struct tbRtcpPacket {
    uint8_t pt;           /* packet type, 192..223 */
    uint8_t count;        /* the 5-bit field: RC, SC or FMT */
    const uint8_t *data;  /* the packet, from its 4-byte header */
    uint16_t len;         /* bytes of the packet, padding included */
    uint16_t body_len;    /* bytes after the 4-byte header, padding excluded */
} tbRtcpPacket;

typedef struct tbRtcpIter {
    const uint8_t *buf;
    size_t len;
    size_t off;   /* next packet's offset */
    int status;   /* sticky: first error seen, or TB_RTCP_OK */
} tbRtcpIter;

void tbRtcpIterInit(tbRtcpIter *it, const uint8_t *buf, size_t len);
/* 1: *p is the next packet (framed and shape-checked for known types);
 * 0: end of the compound packet; <0: a tbRtcpStatus. After an error the
 * iterator stays at that error (the rest cannot be framed reliably). An
 * empty buffer is TB_RTCP_ERR_SHORT. Unknown types 192..223 are framed and
 * returned for the caller to skip. */
int tbRtcpIterNext(tbRtcpIter *it, tbRtcpPacket *p);
/* Walks a whole compound packet: the number of packets (>= 1), or the first
 * error. Use before acting on any of it to drop malformed compounds whole. */
int tbRtcpValidate(const uint8_t *buf, size_t len);

/* ---- parsed bodies ------------------------------------------------------ */

typedef struct tbRtcpReportBlock {
    uint32_t ssrc;            /* source this block reports on */
    uint8_t fraction_lost;    /* lost fraction since the last report, /256 */
    int32_t cumulative_lost;  /* 24-bit signed on the wire */
    uint32_t highest_seq;     /* extended highest sequence number received */
    uint32_t jitter;          /* interarrival jitter, timestamp units */
    uint32_t lsr;             /* middle 32 bits of the last SR's NTP time */
    uint32_t dlsr;            /* delay since that SR, 1/65536 s */
} tbRtcpReportBlock;

/* Sender info of an SR (RFC 3550 §6.4.1). */
typedef struct tbRtcpSenderInfo {
    uint32_t ssrc;
    uint32_t ntp_sec;      /* NTP timestamp, seconds since 1900 */
    uint32_t ntp_frac;     /* and fraction, 1/2^32 s */
    uint32_t rtp_ts;       /* RTP time of the same instant */
    uint32_t packet_count; /* packets sent since the stream started */
    uint32_t octet_count;  /* payload octets sent */
} tbRtcpSenderInfo;

typedef struct tbRtcpSr {
    tbRtcpSenderInfo info;
    uint8_t nblocks;
    tbRtcpReportBlock blocks[TB_RTCP_MAX_BLOCKS];
} tbRtcpSr;

typedef struct tbRtcpRr {
    uint32_t ssrc;         /* reporter */
    uint8_t nblocks;
    tbRtcpReportBlock blocks[TB_RTCP_MAX_BLOCKS];
} tbRtcpRr;

typedef struct tbRtcpBye {
    uint8_t count;                        /* SSRCs leaving */
    uint32_t ssrcs[TB_RTCP_MAX_BLOCKS];
    const uint8_t *reason;                /* optional, not NUL-terminated */
    uint8_t reason_len;                   /* 0 when absent */
} tbRtcpBye;

typedef struct tbRtcpApp {
    uint8_t subtype;       /* the 5-bit field */
    uint32_t ssrc;
    char name[4];          /* four ASCII characters, not NUL-terminated */
    const uint8_t *data;   /* application data */
    uint16_t data_len;
} tbRtcpApp;

typedef enum tbRtcpFbKind {
    TB_RTCP_FB_OTHER = 0, /* some other RTPFB/PSFB FMT: skip */
    TB_RTCP_FB_NACK,      /* RTPFB FMT 1, generic NACK (RFC 4585 §6.2.1) */
    TB_RTCP_FB_TWCC,      /* RTPFB FMT 15, transport-cc feedback */
    TB_RTCP_FB_PLI,       /* PSFB FMT 1 (RFC 4585 §6.3.1) */
    TB_RTCP_FB_FIR,       /* PSFB FMT 4 (RFC 5104 §4.3.1) */
    TB_RTCP_FB_REMB,      /* PSFB FMT 15 with "REMB" (draft-alvestrand-rmcat-remb) */
} tbRtcpFbKind;

typedef struct tbRtcpFb {
    tbRtcpFbKind kind;
    uint8_t pt;            /* TB_RTCP_RTPFB or TB_RTCP_PSFB */
    uint8_t fmt;
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci;    /* feedback control information */
    uint16_t fci_len;
} tbRtcpFb;

int tbRtcpParseSr(const tbRtcpPacket *p, tbRtcpSr *out);
int tbRtcpParseRr(const tbRtcpPacket *p, tbRtcpRr *out);
/* Calls cb for every SDES item (chunk SSRC, item type, value); cb returns
 * false to stop early. Returns TB_RTCP_OK or an error. */
typedef bool (*tbRtcpSdesCb)(void *ud, uint32_t ssrc, uint8_t type, const uint8_t *value,
                             uint8_t len);
int tbRtcpParseSdes(const tbRtcpPacket *p, tbRtcpSdesCb cb, void *ud);
int tbRtcpParseBye(const tbRtcpPacket *p, tbRtcpBye *out);
int tbRtcpParseApp(const tbRtcpPacket *p, tbRtcpApp *out);
/* RTPFB or PSFB: common header plus kind. */
int tbRtcpParseFb(const tbRtcpPacket *p, tbRtcpFb *out);
/* Expands a generic NACK's PID/BLP pairs into lost sequence numbers, in
 * packet order. Writes at most cap; returns how many the packet lists (may
 * exceed cap) or a negative tbRtcpStatus for a non-NACK. */
int tbRtcpNackSeqs(const tbRtcpFb *fb, uint16_t *seqs, size_t cap);

/* ---- builders: each writes one packet at out[0..cap) and returns its
 * length, or a negative tbRtcpStatus. Concatenate them for a compound. ---- */

int tbRtcpWriteSr(uint8_t *out, size_t cap, const tbRtcpSenderInfo *info,
                  const tbRtcpReportBlock *blocks, size_t nblocks);
int tbRtcpWriteRr(uint8_t *out, size_t cap, uint32_t ssrc, const tbRtcpReportBlock *blocks,
                  size_t nblocks);
/* One chunk with one CNAME item (1..255 bytes). */
int tbRtcpWriteSdesCname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname,
                         size_t cname_len);
int tbRtcpWriteBye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n);
/* Generic NACK for `seqs` (any order; ascending order packs best: each FCI
 * covers a PID and the 16 following numbers). TB_RTCP_ERR_SPACE when the
 * FCIs do not fit in cap (at most 1024 FCIs). */
int tbRtcpWriteNack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n);
int tbRtcpWritePli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* The regular compound (RFC 3550 §6.1): an SR when `info` is non-NULL (we
 * send media on info->ssrc), else an RR from `ssrc`, carrying the report
 * blocks, then an SDES CNAME for the same SSRC. Append feedback packets
 * after it, or send them alone when rtcp-rsize was negotiated. */
int tbRtcpWriteReport(uint8_t *out, size_t cap, const tbRtcpSenderInfo *info, uint32_t ssrc,
                      const tbRtcpReportBlock *blocks, size_t nblocks, const char *cname,
                      size_t cname_len);

/* NTP time (RFC 5905: seconds since 1900 and 1/2^32 fractions) from Unix
 * time in microseconds; and the middle 32 bits an RR echoes as LSR. */
void tbRtcpNtpFromUnixUs(uint64_t unix_us, uint32_t *ntp_sec, uint32_t *ntp_frac);
uint32_t tbRtcpNtpMiddle(uint32_t ntp_sec, uint32_t ntp_frac);

#endif
