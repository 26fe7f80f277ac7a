/* srtp.h — thin wrapper over libsrtp 2 for one DTLS-SRTP transport: one
 * session = an inbound srtp_t (the remote's key, any inbound SSRC) and an
 * outbound srtp_t (our key, any outbound SSRC), protect/unprotect in place on
 * the caller's buffer (no allocation per packet; libsrtp allocates once per
 * new SSRC), and libsrtp's error codes folded into a few classes the caller
 * counts for /metrics.
 *
 * Profiles: SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764) and SRTP_AEAD_AES_128_GCM
 * (RFC 7714), the two Chromium offers. The enum values are the IANA DTLS-SRTP
 * protection profile ids. Keys come from tbDtlsSrtpKeys (dtls.h). */
#ifndef TB_SRTP_H
#define TB_SRTP_H

#include <stddef.h>
#include <stdint.h>

typedef enum tbSrtpProfile {
    TB_SRTP_PROFILE_NONE = 0,
    TB_SRTP_AES128_CM_SHA1_80 = 0x0001,  /* key 16, salt 14, tag 10 */
    TB_SRTP_AEAD_AES_128_GCM = 0x0007,   /* key 16, salt 12, tag 16 */
} tbSrtpProfile;

#define TB_SRTP_MAX_MASTER 30            /* longest key || salt (AES-CM: 16 + 14) */
#define TB_SRTP_MAX_OVERHEAD 20          /* largest growth of a packet (GCM RTCP) */
#define TB_SRTP_REPLAY_WINDOW 1024       /* packets; libsrtp's default is 128 */

typedef enum tbSrtpStatus {
    TB_SRTP_OK = 0,
    TB_SRTP_ERR_AUTH,                    /* bad tag: tampered, wrong key, garbage */
    TB_SRTP_ERR_REPLAY,                  /* index already seen or left the window */
    TB_SRTP_ERR_MALFORMED,               /* too short / not RTP or RTCP */
    TB_SRTP_ERR_NO_ROOM,                 /* protect: cap < len + overhead */
    TB_SRTP_ERR_OTHER,                   /* anything else libsrtp reports */
} tbSrtpStatus;

/* Master keys for one transport, as RFC 5764 §4.2 assigns them: `local` is
 * the key and salt we send with, `remote` the peer's. Each is key || salt,
 * the layout libsrtp expects. */
typedef struct tbSrtpKeys {
    tbSrtpProfile profile;
    size_t key_len;                      /* 16 for both profiles */
    size_t salt_len;                     /* 14 (AES-CM) or 12 (GCM) */
    uint8_t local[TB_SRTP_MAX_MASTER];   /* outbound master key || salt */
    uint8_t remote[TB_SRTP_MAX_MASTER];  /* inbound master key || salt */
} tbSrtpKeys;

struct srtp_ctx_t_;

typedef struct tbSrtpSession {
    struct srtp_ctx_t_ *in;              /* remote's key: unprotect */
    struct srtp_ctx_t_ *out;             /* our key: protect (allow_repeat_tx) */
    tbSrtpProfile profile;
} tbSrtpSession;

/* Initialises libsrtp (srtp_init) once per process; later calls return the
 * first result. Call it at server start-up, before worker threads use SRTP.
 * Returns 0 or -1. */
int tbSrtpInit(void);

/* Key and salt lengths of a profile; -1 for unknown profiles. */
int tbSrtpProfileLengths(tbSrtpProfile p, size_t *key_len, size_t *salt_len);

/* "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM", or "none". */
const char *tbSrtpProfileName(tbSrtpProfile p);

/* Bytes protect adds to an RTP (rtcp = 0) or RTCP (rtcp = 1) packet. */
size_t tbSrtpOverhead(tbSrtpProfile p, int rtcp);

/* Creates both directions from `k` (window TB_SRTP_REPLAY_WINDOW). Returns 0,
 * or -1 with *s zeroed. tbSrtpInit must have run. */
int tbSrtpSessionInit(tbSrtpSession *s, const tbSrtpKeys *k);

/* Frees both contexts; *s is zeroed and may be re-initialised. */
void tbSrtpSessionClear(tbSrtpSession *s);

/* RTP/RTCP in place: buf holds *len bytes and has room for cap bytes.
 * Protect grows *len by tbSrtpOverhead (cap must allow it), unprotect
 * shrinks it. On error *len is unchanged (the buffer may be scribbled). */
tbSrtpStatus tbSrtpProtect(tbSrtpSession *s, uint8_t *buf, size_t *len, size_t cap);
tbSrtpStatus tbSrtpUnprotect(tbSrtpSession *s, uint8_t *buf, size_t *len);
tbSrtpStatus tbSrtpProtectRtcp(tbSrtpSession *s, uint8_t *buf, size_t *len, size_t cap);
tbSrtpStatus tbSrtpUnprotectRtcp(tbSrtpSession *s, uint8_t *buf, size_t *len);

/* "ok", "auth", "replay", "malformed", "no_room", "other": metric labels. */
const char *tbSrtpStatusName(tbSrtpStatus st);

#endif
