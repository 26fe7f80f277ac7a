/* dtls.h — DTLS 1.2 for one WebRTC transport (BUNDLE + rtcp-mux, one 5-tuple),
 * in either role, with the use_srtp extension (RFC 5764) and SRTP key export.
 *
 * Pure: no sockets, no clock. Datagrams come in through tbDtlsFeed and go
 * out through the `send` callback (each call = one UDP datagram of at most
 * `mtu` bytes); the caller's event loop drives retransmissions with
 * tbDtlsTimeoutMs / tbDtlsOnTimeout and passes its own monotonic clock (ms).
 *
 * Flow: tbDtlsCtxNew once (per process or per worker) from a tbDtlsCert;
 * tbDtlsNew per transport with the role our SDP answer chose (a=setup:active
 * → TB_DTLS_CLIENT, a=setup:passive → TB_DTLS_SERVER) and the peer's
 * a=fingerprint; tbDtlsStart when ICE connects (a client sends its
 * ClientHello; a server may also be fed a ClientHello before Start). On
 * TB_DTLS_CONNECTED the peer certificate has matched the fingerprint and
 * tbDtlsSrtpKeys gives the keys for tbSrtpSessionInit (srtp.h).
 *
 * Threads: a tbDtlsCtx is read-only once built, and SSL_new on a shared
 * OpenSSL 3 SSL_CTX is thread-safe, so all workers may share one (session
 * cache and tickets are off, so nothing in it is written per connection).
 * A tbDtls belongs to one thread. */
#ifndef TB_DTLS_H
#define TB_DTLS_H

#include "dtls/cert.h"
#include "dtls/srtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_DTLS_DEFAULT_MTU 1200
#define TB_DTLS_DEFAULT_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define TB_DTLS_DEFAULT_RTX_INITIAL_MS 200    /* first retransmission timeout */
#define TB_DTLS_DEFAULT_RTX_MAX_MS 3000       /* doubling stops here */
#define TB_DTLS_DEFAULT_HANDSHAKE_MS 15000    /* Start → CONNECTED, else FAILED */
#define TB_DTLS_MAX_RECORD 16384              /* largest record accepted from the peer */

typedef enum tbDtlsRole {
    TB_DTLS_CLIENT,                    /* we sent a=setup:active */
    TB_DTLS_SERVER,                    /* we sent a=setup:passive */
} tbDtlsRole;

typedef enum tbDtlsState {
    TB_DTLS_NEW,                       /* created, not started */
    TB_DTLS_CONNECTING,                /* handshake in progress */
    TB_DTLS_CONNECTED,                 /* fingerprint checked, SRTP keys ready */
    TB_DTLS_FAILED,                    /* fatal: see tbDtlsFailReason */
    TB_DTLS_CLOSED,                    /* close_notify sent or received */
} tbDtlsState;

/* Return values of the functions below that return int. */
enum {
    TB_DTLS_OK = 0,
    TB_DTLS_ERR_MALFORMED = -1,        /* not a well-formed DTLS datagram: dropped */
    TB_DTLS_ERR_STATE = -2,            /* not valid in this state: ignored */
    TB_DTLS_ERR_FATAL = -3,            /* this call moved the transport to FAILED */
    TB_DTLS_ERR_ARG = -4,              /* bad argument (fingerprint, length) */
};

/* Callbacks. `send` is called from inside OpenSSL and must not call back
 * into this tbDtls. `on_data` and `on_state` run outside OpenSSL and may call
 * tbDtlsSend, tbDtlsSrtpKeys or tbDtlsClose, but never tbDtlsFree. */
typedef void (*tbDtlsSendFn)(void *ud, const uint8_t *dgram, size_t len);
typedef void (*tbDtlsDataFn)(void *ud, const uint8_t *data, size_t len);
typedef void (*tbDtlsStateFn)(void *ud, tbDtlsState state);

typedef struct tbDtlsConfig {
    tbDtlsRole role;
    const char *remote_fingerprint;    /* peer's a=fingerprint value, or NULL to
                                          set it later; not retained */
    const char *srtp_profiles;         /* NULL = TB_DTLS_DEFAULT_PROFILES (server:
                                          first shared one wins); not retained */
    unsigned mtu;                      /* max datagram bytes, 256..16384; 0 = 1200 */
    unsigned rtx_initial_ms;           /* 0 = TB_DTLS_DEFAULT_RTX_INITIAL_MS; <= 60000 */
    unsigned rtx_max_ms;               /* 0 = TB_DTLS_DEFAULT_RTX_MAX_MS; <= 60000 */
    unsigned handshake_timeout_ms;     /* 0 = TB_DTLS_DEFAULT_HANDSHAKE_MS */
    tbDtlsSendFn send;                 /* required */
    tbDtlsDataFn on_data;              /* optional: application data (SCTP) */
    tbDtlsStateFn on_state;            /* optional: every state change */
    void *ud;                          /* passed to the callbacks */
} tbDtlsConfig;

typedef struct tbDtlsStats {
    uint64_t rx_datagrams;             /* everything given to tbDtlsFeed */
    uint64_t rx_malformed;             /* dropped before OpenSSL saw them */
    uint64_t rx_ignored;               /* arrived in NEW (client), FAILED, CLOSED */
    uint64_t rx_app_records;           /* application records delivered */
    uint64_t tx_datagrams;             /* datagrams handed to `send` */
    uint64_t retransmits;              /* flights resent on timeout */
} tbDtlsStats;

typedef struct tbDtlsCtx tbDtlsCtx;
typedef struct tbDtls tbDtls;

/* SSL_CTX for DTLS 1.2+ with our certificate, peer certificate required and
 * checked by fingerprint only, use_srtp TB_DTLS_DEFAULT_PROFILES, no
 * session cache/tickets/renegotiation. The cert may be freed afterwards.
 * Returns NULL on failure. */
tbDtlsCtx *tbDtlsCtxNew(const tbDtlsCert *cert);
void tbDtlsCtxFree(tbDtlsCtx *ctx);   /* after every tbDtls made from it */

/* A transport in state NEW. Returns NULL on allocation/OpenSSL failure, a
 * malformed remote_fingerprint or srtp_profiles, an mtu outside 256..16384,
 * or no send. */
tbDtls *tbDtlsNew(tbDtlsCtx *ctx, const tbDtlsConfig *cfg);
void tbDtlsFree(tbDtls *d);           /* no alert is sent; NULL is fine */

/* Sets/replaces the expected peer fingerprint before the peer's certificate
 * arrives. TB_DTLS_OK or TB_DTLS_ERR_ARG. */
int tbDtlsSetRemoteFingerprint(tbDtls *d, const char *fingerprint);

/* NEW → CONNECTING and arms the handshake deadline (now_ms + timeout). A
 * client sends its first flight. TB_DTLS_OK, _ERR_STATE or _ERR_FATAL. */
int tbDtlsStart(tbDtls *d, uint64_t now_ms);

/* Processes one received datagram (RFC 7983: first byte 20..63). Records of
 * a malformed datagram reach no state (TB_DTLS_ERR_MALFORMED, counted); a
 * server in NEW starts itself. Returns TB_DTLS_OK (check tbDtlsGetState:
 * this call may have connected or closed), or an error above. */
int tbDtlsFeed(tbDtls *d, const uint8_t *in, size_t len);

/* Milliseconds until tbDtlsOnTimeout should run (0 = now), or -1 when no
 * timer is pending. Covers the retransmission timer and the handshake
 * deadline. */
int64_t tbDtlsTimeoutMs(tbDtls *d, uint64_t now_ms);

/* Retransmits the last flight if its timer expired, fails the handshake
 * past the deadline or after OpenSSL's retransmission limit. TB_DTLS_OK,
 * _ERR_STATE or _ERR_FATAL. Calling it early does nothing. */
int tbDtlsOnTimeout(tbDtls *d, uint64_t now_ms);

/* Sends one application record (one SCTP packet) as one datagram. len must
 * be 1..mtu (else TB_DTLS_ERR_ARG); to keep the datagram within the MTU, keep
 * len <= mtu - 40 (record header, explicit nonce/IV, tag/MAC+padding).
 * CONNECTED only. */
int tbDtlsSend(tbDtls *d, const uint8_t *data, size_t len);

/* Sends close_notify (when connected) and moves to CLOSED. */
int tbDtlsClose(tbDtls *d);

tbDtlsState tbDtlsGetState(const tbDtls *d);
tbDtlsRole tbDtlsGetRole(const tbDtls *d);
const char *tbDtlsStateName(tbDtlsState st);  /* "new", "connecting", ... */
const char *tbDtlsFailReason(const tbDtls *d); /* "" unless FAILED */
const tbDtlsStats *tbDtlsGetStats(const tbDtls *d);

/* The negotiated profile and the master keys (local = ours to send with).
 * TB_DTLS_OK when CONNECTED, else TB_DTLS_ERR_STATE. */
int tbDtlsSrtpKeys(const tbDtls *d, tbSrtpKeys *out);

/* RFC 7983 demultiplexing: true when the first byte is 20..63 (DTLS). */
bool tbDtlsIsDtls(const uint8_t *buf, size_t len);

#endif
