/* turn_stream.h — TURN over TCP and TLS (RFC 8656 §3.1, RFC 6062 framing
 * not needed: TCP carries STUN messages and ChannelData back to back): the
 * listeners and connections of the TURN engine's loop.
 *
 * Each listener is plain TCP or TLS (OpenSSL with memory BIOs, so libuv
 * does all socket I/O). A connection cuts its byte stream into STUN messages
 * (20-byte header + length) and ChannelData frames (4-byte header + length,
 * padded to 4 bytes) and hands each to the input callback with the
 * connection's 5-tuple. A stream that is neither is closed. Output goes
 * through a fixed per-connection buffer: when a slow reader lets it fill,
 * whole messages are dropped (counted), never half-written. When a
 * connection closes, on_close gets its tuple (the engine deletes the
 * allocation bound to it, RFC 8656 §3.1). */
#ifndef TB_TURN_STREAM_H
#define TB_TURN_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "turn/turn_server.h"

typedef struct tbTurnStreams tbTurnStreams;
typedef struct ssl_ctx_st SSL_CTX;

typedef struct tbTurnStreamStats {
    uint64_t connections;        /* open now */
    uint64_t accepted;           /* since start */
    uint64_t refused;            /* over the connection limit */
    uint64_t tls_failures;       /* handshakes or records OpenSSL refused */
    uint64_t bad_framing;        /* streams closed for not being STUN/ChannelData */
    uint64_t out_dropped;        /* messages dropped: output buffer full */
} tbTurnStreamStats;

typedef struct tbTurnStreamCallbacks {
    void (*input)(void *ud, const tbTurnTuple *t, const uint8_t *msg, size_t len);
    void (*on_close)(void *ud, const tbTurnTuple *t);
    void *ud;
} tbTurnStreamCallbacks;

tbTurnStreams *tbTurnStreamsNew(uv_loop_t *loop, const tbTurnStreamCallbacks *cb);
/* Listens on port (all addresses, dual-stack when the host has IPv6); tls:
 * a TLS context (owned by the caller, outliving the streams) or NULL for
 * plain TCP. Returns 0 or a libuv error code (logged). */
int tbTurnStreamsListen(tbTurnStreams *s, int port, SSL_CTX *tls);
/* Queues msg on the connection of t->client. False when there is none or
 * its buffer is full (the message is dropped and counted). */
bool tbTurnStreamsSend(tbTurnStreams *s, const tbTurnTuple *t, const uint8_t *msg, size_t len);
/* Closes listeners and connections; the object frees itself once libuv has
 * closed every handle (run the loop afterwards). on_close is not called. */
void tbTurnStreamsClose(tbTurnStreams *s);
void tbTurnStreamsGetStats(const tbTurnStreams *s, tbTurnStreamStats *out);

/* A TLS server context from PEM files, or NULL (logged). */
SSL_CTX *tbTurnTlsContextNew(const char *cert_file, const char *key_file);

#endif
