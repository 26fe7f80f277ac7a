/* turn_server.h — the protocol core of tribune's embedded TURN server
 * (RFC 8656, UDP relays only).
 *
 * No sockets: the I/O engine hands every datagram (or TCP-framed message)
 * from a client with its 5-tuple, and every datagram a relay socket received
 * from a peer, to this core together with the current time; the core answers
 * with one action written into a caller buffer (a reply towards the client, or
 * a datagram to send from a relay to a peer). Relay sockets are opened and
 * closed through callbacks. Expiry is driven by tbTurnServerTick.
 *
 * STUN parsing, MESSAGE-INTEGRITY (long-term key MD5(user:realm:pass)),
 * FINGERPRINT and SOFTWARE are libnice's STUN library; nonces are stateless
 * (expiry + HMAC-SHA256(secret, expiry), OpenSSL). Hand-written here: the
 * TURN allocation/permission/channel state machine and ChannelData framing.
 *
 * Not thread-safe: one server per thread. No allocation per packet: an
 * allocation is malloc'ed on Allocate, and found from a client 5-tuple or a
 * relayed address through hash chains sized once by max_allocations. */
#ifndef TB_TURN_SERVER_H
#define TB_TURN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "turn/peer_policy.h"

#define TB_TURN_MAX_PERMISSIONS 32 /* per allocation (IP addresses) */
#define TB_TURN_MAX_CHANNELS 32    /* per allocation */
#define TB_TURN_USERNAME_MAX 256   /* longest USERNAME accepted, NUL included */
#define TB_TURN_PASSWORD_MAX 256   /* longest password a lookup may return */
#define TB_TURN_MAX_KEYS 8          /* passwords tried per USERNAME (rotated secrets) */
#define TB_TURN_CHANNEL_MIN 0x4000
/* RFC 8656 narrowed channels to 0x4000-0x4FFF; RFC 5766 clients (coturn's
 * turnutils among them) still pick up to 0x7FFF, and ChannelData framing is
 * the same, so the older range is accepted. */
#define TB_TURN_CHANNEL_MAX 0x7FFF

/* The client side of an allocation: who sent, to which of our listeners. */
typedef struct tbTurnTuple {
    struct sockaddr_storage client; /* client address as seen by the server */
    struct sockaddr_storage server; /* our listening address it was sent to */
    int proto;                      /* IPPROTO_UDP, or IPPROTO_TCP (also TLS) */
} tbTurnTuple;

/* Callbacks into the engine. All receive `ud`. */
typedef struct tbTurnCallbacks {
    /* USERNAME (NUL-terminated) → its index-th candidate password copied
     * into pw (NUL-terminated); the core tries index 0, 1, ... (up to
     * TB_TURN_MAX_KEYS) until MESSAGE-INTEGRITY matches, so rotated secrets
     * each get a turn. allocate: the request is an Allocate (credential
     * expiry applies to new allocations only, as LiveKit does). Returns 0,
     * or -1 when there is no such candidate. */
    int (*lookup)(void *ud, const char *username, unsigned index, bool allocate, char *pw,
                  size_t pwcap);
    /* Binds a relay socket of family AF_INET/AF_INET6 (from turn.relay_range)
     * for the client on tuple and writes the relayed address to advertise;
     * even: the port must be even (EVEN-PORT). Returns 0, -1 when no port is
     * free (→ 508), -2 when the family is not offered (→ 440). */
    int (*relay_open)(void *ud, const tbTurnTuple *tuple, int family, bool even,
                      struct sockaddr_storage *relay);
    /* Closes a relay socket (allocation deleted or expired). */
    void (*relay_close)(void *ud, const struct sockaddr_storage *relay);
    void *ud;
} tbTurnCallbacks;

typedef struct tbTurnServerConfig {
    const char *realm;           /* REALM, e.g. the TURN domain */
    const uint8_t *nonce_secret; /* HMAC key for stateless nonces */
    size_t nonce_secret_len;
    uint32_t nonce_lifetime;      /* seconds, e.g. 600 */
    uint32_t default_lifetime;    /* allocation, seconds (600) */
    uint32_t max_lifetime;        /* allocation, seconds (3600) */
    uint32_t permission_lifetime; /* seconds (300) */
    uint32_t channel_lifetime;    /* seconds (600) */
    size_t max_allocations;       /* total quota (→ 486) */
    size_t max_per_user;          /* per-user quota (→ 486), 0 = none; TURN REST
                                   * names "<expiry>:<id>" count by <id> */
    const tbPeerPolicy *policy;   /* judged on CreatePermission/ChannelBind/Send;
                                   * must outlive the server */
    tbTurnCallbacks cb;
} tbTurnServerConfig;

/* What the caller must do after a call. */
typedef enum tbTurnAction {
    TB_TURN_NONE = 0,   /* nothing to send (consumed, or dropped silently) */
    TB_TURN_TO_CLIENT,  /* send out->buf[0..len) to out->tuple's client from
                         * its server address (over its transport) */
    TB_TURN_TO_PEER,    /* send out->data[0..len) from the relay socket
                         * out->relay to out->peer */
    TB_TURN_NOT_TURN,   /* neither STUN nor ChannelData: not for us */
} tbTurnAction;

typedef struct tbTurnOut {
    uint8_t *buf;                  /* caller buffer for replies (≥ 1500 + 36) */
    size_t cap;                    /* its size */
    const uint8_t *data;           /* TO_CLIENT: == buf; TO_PEER: points into
                                    * the caller's input (no copy) */
    size_t len;                    /* bytes to send */
    tbTurnTuple tuple;             /* TO_CLIENT: where to */
    struct sockaddr_storage relay; /* TO_PEER: from which relay socket */
    struct sockaddr_storage peer;  /* TO_PEER: to which peer */
    int error;                     /* STUN error code answered, 0 if none */
} tbTurnOut;

typedef struct tbTurnServer tbTurnServer;

/* Copies cfg (the strings and the secret are copied too; policy is not).
 * Returns NULL on a bad config or out of memory. */
tbTurnServer *tbTurnServerNew(const tbTurnServerConfig *cfg);
/* Frees everything; does NOT call relay_close (the engine closes its own). */
void tbTurnServerFree(tbTurnServer *s);

/* A message from a client (one UDP datagram, or one STUN message/ChannelData
 * frame cut from a TCP stream). now: monotonic seconds. */
tbTurnAction tbTurnServerHandleClient(tbTurnServer *s, const tbTurnTuple *t, const uint8_t *msg,
                                      size_t len, uint64_t now, tbTurnOut *out);
/* A datagram the relay socket `relay` received from `peer`: becomes a
 * ChannelData message (channel bound) or a Data indication (permission), or is
 * dropped. */
tbTurnAction tbTurnServerHandlePeer(tbTurnServer *s, const struct sockaddr_storage *relay,
                                    const struct sockaddr_storage *peer, const uint8_t *data,
                                    size_t len, uint64_t now, tbTurnOut *out);
/* Expires allocations (calling relay_close), permissions and channels.
 * Call about once a second. Returns the number of allocations deleted. */
size_t tbTurnServerTick(tbTurnServer *s, uint64_t now);
/* The client's TCP/TLS connection on t closed: its allocation is deleted
 * (RFC 8656 §3.1), calling relay_close. */
void tbTurnServerDropTuple(tbTurnServer *s, const tbTurnTuple *t);
/* The realm in use. */
const char *tbTurnServerRealm(const tbTurnServer *s);
/* Live allocations (for metrics and tests). */
size_t tbTurnServerAllocationCount(const tbTurnServer *s);

/* Length of a ChannelData frame at the head of buf (header, data and, over
 * TCP, padding to 4 bytes), 0 if not ChannelData, -1 if incomplete. For the
 * engine's TCP stream splitter. */
long tbTurnChannelDataFrameLen(const uint8_t *buf, size_t len, bool tcp);

#endif
