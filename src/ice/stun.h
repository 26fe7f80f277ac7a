/* stun.h — the STUN side of tribune's ICE-lite agent (RFC 8445 §2.5).
 *
 * tribune never sends connectivity checks: it only answers the Binding
 * requests clients send to the one shared media port. This module classifies
 * an incoming datagram (RFC 7983 demultiplexing), extracts the USERNAME for
 * the transport lookup, validates a check (short-term credentials: USERNAME
 * "<our ufrag>:<their ufrag>", MESSAGE-INTEGRITY keyed with our password,
 * FINGERPRINT) and writes the reply into a caller buffer.
 *
 * The STUN codec itself (parsing, HMAC-SHA1, CRC32, XOR-MAPPED-ADDRESS) is
 * libnice's STUN library; this file only holds the ICE-lite decisions around
 * it. Pure code: no sockets, no allocation per packet. */
#ifndef TB_ICE_STUN_H
#define TB_ICE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TB_STUN_HEADER_LEN 20
#define TB_STUN_MAGIC_COOKIE 0x2112A442u
#define TB_STUN_USERNAME_MAX 513 /* RFC 5389: < 513 bytes, plus NUL */
#define TB_STUN_RESPONSE_MAX 128 /* room for any reply this module writes */

/* Outcome of tbStunBindingResponse / tbStunValidateRequest. When a reply is
 * worth sending, *out_len > 0 (see each value). */
typedef enum tbStunStatus {
    TB_STUN_OK = 0,            /* valid authenticated Binding request: 200 written */
    TB_STUN_INDICATION,        /* Binding indication (keepalive): nothing to send */
    TB_STUN_PLAIN_BINDING,     /* unauthenticated Binding request answered
                                * (only with TB_STUN_ALLOW_PLAIN): not an ICE check */
    TB_STUN_NOT_STUN,          /* not STUN at all (RTP, DTLS, garbage): nothing written */
    TB_STUN_BAD_REQUEST,       /* malformed/truncated, bad FINGERPRINT, missing
                                * credentials, not a Binding request; a 400 is
                                * written when the message was a parseable request */
    TB_STUN_UNAUTHORIZED,      /* MESSAGE-INTEGRITY does not match our password: 401 */
    TB_STUN_UNKNOWN_USER,      /* USERNAME is not "<local ufrag>:<remote ufrag>": 401 */
    TB_STUN_ROLE_CONFLICT,     /* authenticated, but carries ICE-CONTROLLED: we are
                                * lite, hence always controlled (RFC 8445 §6.1.1), so
                                * per §7.3.1.1 we keep our role and answer 487 */
    TB_STUN_UNKNOWN_ATTRIBUTE, /* authenticated, with an unknown comprehension-
                                * required attribute: 420 written */
    TB_STUN_IGNORED,           /* a STUN response/error (we send no requests): dropped */
    TB_STUN_NO_SPACE,          /* out buffer too small (use TB_STUN_RESPONSE_MAX) */
} tbStunStatus;

/* Flags for tbStunBindingResponse. */
#define TB_STUN_ALLOW_PLAIN (1u << 0) /* answer Binding requests carrying neither
                                       * USERNAME nor MESSAGE-INTEGRITY (address
                                       * discovery, turnutils_stunclient) with a bare
                                       * XOR-MAPPED-ADDRESS, as LiveKit/pion does */

/* The credentials a check is validated against. */
typedef struct tbStunCreds {
    const char *local_ufrag;  /* our ufrag: USERNAME must start with "<this>:" */
    const char *local_pwd;    /* our ice-pwd: the MESSAGE-INTEGRITY key */
    const char *remote_ufrag; /* their ufrag, or NULL/"" when not yet known; when
                               * set, USERNAME must be exactly "<local>:<remote>" */
} tbStunCreds;

/* What a request carried (filled as far as parsing got). */
typedef struct tbStunCheck {
    const char *username;   /* USERNAME bytes inside the request (not NUL-terminated) */
    size_t username_len;    /* 0 if absent */
    uint32_t priority;      /* PRIORITY, 0 if absent */
    uint64_t tiebreaker;    /* value of ICE-CONTROLLING/ICE-CONTROLLED */
    bool use_candidate;     /* USE-CANDIDATE present (nomination) */
    bool controlling;       /* ICE-CONTROLLING present */
    bool controlled;        /* ICE-CONTROLLED present */
    uint8_t txid[12];       /* transaction id (after the magic cookie) */
} tbStunCheck;

/* One per media worker: holds libnice's StunAgent (~13 KB, so heap-allocated
 * once, never per packet). Not thread-safe: one per thread. */
typedef struct tbStunCtx tbStunCtx;

tbStunCtx *tbStunCtxNew(void);
void tbStunCtxFree(tbStunCtx *ctx);

/* RFC 7983 demux + RFC 5389 header sanity: at least 20 bytes, first byte in
 * 0..3 and the magic cookie at offset 4. Cheap; looks at no attribute. */
bool tbStunIsStun(const uint8_t *buf, size_t len);

/* Copies the USERNAME of a well-formed (not yet authenticated) STUN message
 * into out as a NUL-terminated string. Returns its length, or -1 if the message
 * is malformed, has no USERNAME, or out is too small. */
int tbStunPeekUsername(const uint8_t *buf, size_t len, char *out, size_t outlen);

/* Same, but copies only the part before the first ':' — our local ufrag, the
 * key of the per-worker ufrag → transport map. -1 if there is no ':'. */
int tbStunPeekLocalUfrag(const uint8_t *buf, size_t len, char *out, size_t outlen);

/* Authenticates a Binding request against creds without building a reply and
 * without the role rules. Returns TB_STUN_OK, NOT_STUN, BAD_REQUEST,
 * UNAUTHORIZED, UNKNOWN_USER, UNKNOWN_ATTRIBUTE, INDICATION or IGNORED.
 * check may be NULL. */
tbStunStatus tbStunValidateRequest(tbStunCtx *ctx, const uint8_t *req, size_t req_len,
                                   const tbStunCreds *creds, tbStunCheck *check);

/* Handles one STUN message received from src on the ICE-lite port:
 * - authenticated Binding request → TB_STUN_OK and a success response
 *   (XOR-MAPPED-ADDRESS = src, IPv4 or IPv6, an IPv4-mapped IPv6 source is
 *   reported as IPv4; MESSAGE-INTEGRITY with local_pwd; FINGERPRINT);
 * - the error cases of tbStunStatus with the error response they name;
 * - Binding indications → TB_STUN_INDICATION, nothing written.
 * creds may be NULL when the USERNAME's ufrag matched no transport: plain
 * requests are still answered (with TB_STUN_ALLOW_PLAIN), checks then give
 * TB_STUN_UNKNOWN_USER (a 401 is written; dropping it is fine too).
 * out/out_cap: reply buffer (TB_STUN_RESPONSE_MAX is always enough);
 * *out_len is set to the reply length, 0 when nothing is to be sent.
 * check may be NULL. */
tbStunStatus tbStunBindingResponse(tbStunCtx *ctx, const uint8_t *req, size_t req_len,
                                   const tbStunCreds *creds, const struct sockaddr *src,
                                   socklen_t srclen, unsigned flags, uint8_t *out,
                                   size_t out_cap, size_t *out_len, tbStunCheck *check);

/* Constant name of a status, for logs and metrics labels. */
const char *tbStunStatusName(tbStunStatus st);

#endif
