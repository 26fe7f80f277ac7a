/* ice_lite.h — per-transport ICE-lite state (RFC 8445 §2.5, §6.1.1, §7.3,
 * consent freshness RFC 7675) and the candidate lines of our SDP answer.
 *
 * A lite agent never sends checks. Each participant transport has its own
 * ufrag/pwd (they go in our SDP as a=ice-ufrag / a=ice-pwd with a=ice-lite);
 * clients send Binding requests to the one shared port; the media worker finds
 * the transport by the local ufrag in USERNAME (tbStunPeekLocalUfrag), hands
 * the packet to tbIceLiteHandleStun, sends back the reply it writes, and from
 * then on also maps the validated 5-tuple to the transport for non-STUN
 * packets (tbIceLiteIsValidTuple).
 *
 * Pair selection (the remote transport address media is sent to):
 *  - every authenticated check from a 5-tuple makes that tuple a valid pair;
 *  - a check with USE-CANDIDATE nominates its pair, and the most recently
 *    nominated pair becomes the selected pair (RFC 8445 §7.3.1.5). Chromium,
 *    facing a lite peer, sets USE-CANDIDATE only on the pair it has selected
 *    and is writing on, and renominates when it switches networks, so "most
 *    recent nomination wins" follows the client; aiortc nominates likewise;
 *  - if valid checks arrive but no nomination within nominate_wait_ms of the
 *    first one, tbIceLiteTick selects the fresh valid pair with the highest
 *    PRIORITY (ties: the earliest) — for agents that never nominate;
 *  - if the selected pair has been silent for disconnect_ms while another
 *    valid pair is fresh, tbIceLiteTick moves to the best fresh pair (the client
 *    changed networks but did not renominate);
 *  - before any selection, tbIceLiteSendTuple gives the most recently
 *    validated pair, so DTLS can be answered before nomination.
 * States: NEW (no valid check yet) → CHECKING (valid checks, nothing
 * selected) → CONNECTED (a pair selected) ⇄ DISCONNECTED (no valid check or
 * indication for disconnect_ms) → FAILED (consent lost: none for
 * consent_timeout_ms, 30 s per RFC 7675; or connect_timeout_ms without any
 * valid check) → CLOSED (tbIceLiteClose). Binding indications refresh consent
 * only when they come from a valid pair's 5-tuple. */
#ifndef TB_ICE_LITE_H
#define TB_ICE_LITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ice/stun.h"

#define TB_ICE_UFRAG_MAX 256     /* RFC 8839: ice-ufrag is 4..256 ice-chars */
#define TB_ICE_PWD_MAX 256       /* RFC 8839: ice-pwd is 22..256 ice-chars */
#define TB_ICE_LOCAL_UFRAG_LEN 16 /* what we generate (96 random bits) */
#define TB_ICE_LOCAL_PWD_LEN 32   /* what we generate (192 random bits) */
#define TB_ICE_MAX_PAIRS 8        /* valid remote 5-tuples kept per transport */

/* Defaults of the tunables in tbIceLite (milliseconds). */
#define TB_ICE_CONSENT_TIMEOUT_MS 30000 /* RFC 7675 §5.1 */
#define TB_ICE_DISCONNECT_MS 10000      /* > aiortc's 5 s ±20% consent interval, twice */
#define TB_ICE_NOMINATE_WAIT_MS 1000    /* auto-select when nobody nominates */
#define TB_ICE_CONNECT_TIMEOUT_MS 30000 /* NEW/CHECKING with no valid check at all */

/* RFC 8445 §5.1.2.1 type preferences; RFC 6544 §4.2 direction preference. */
#define TB_ICE_TYPE_PREF_HOST 126
#define TB_ICE_TCP_DIRECTION_PASSIVE 4

typedef enum tbIceState {
    TB_ICE_NEW = 0,
    TB_ICE_CHECKING,
    TB_ICE_CONNECTED,
    TB_ICE_DISCONNECTED,
    TB_ICE_FAILED,
    TB_ICE_CLOSED,
} tbIceState;

typedef enum tbIceProto { TB_ICE_UDP = 0, TB_ICE_TCP = 1 } tbIceProto;

/* Remote side of a 5-tuple (our side is the shared port of proto). */
typedef struct tbIceTuple {
    struct sockaddr_storage addr; /* remote IPv4/IPv6 address and port */
    socklen_t addrlen;            /* sizeof sockaddr_in or sockaddr_in6 */
    tbIceProto proto;             /* UDP or ICE-TCP (RFC 4571 framed) */
} tbIceTuple;

typedef struct tbIcePair {
    tbIceTuple remote;  /* where the checks came from */
    uint32_t priority;  /* PRIORITY of its latest check (a peer-reflexive priority) */
    uint64_t first_ms;  /* first valid check */
    uint64_t last_ms;   /* latest valid check or indication */
    bool nominated;     /* a USE-CANDIDATE check arrived since the last restart */
    bool used;          /* slot in use */
} tbIcePair;

/* Event bits reported by tbIceLiteHandleStun / tbIceLiteTick. */
#define TB_ICE_EV_STATE (1u << 0)    /* ice->state changed */
#define TB_ICE_EV_SELECTED (1u << 1) /* selected pair changed: send to tbIceLiteSelected() */
#define TB_ICE_EV_NEW_TUPLE (1u << 2) /* a new valid 5-tuple: map it to this transport */
#define TB_ICE_EV_EVICTED (1u << 3)  /* a 5-tuple was dropped (res->evicted): unmap it */

typedef struct tbIceLite {
    char local_ufrag[TB_ICE_LOCAL_UFRAG_LEN + 1]; /* ours, [A-Za-z0-9+/] */
    char local_pwd[TB_ICE_LOCAL_PWD_LEN + 1];     /* ours, [A-Za-z0-9+/] */
    char remote_ufrag[TB_ICE_UFRAG_MAX + 1];      /* theirs, "" until known */
    char remote_pwd[TB_ICE_PWD_MAX + 1];          /* theirs (unused by a lite agent) */
    tbIceState state;
    tbIcePair pairs[TB_ICE_MAX_PAIRS];            /* valid pairs */
    int selected;            /* index into pairs, -1 = none */
    uint64_t created_ms;     /* Init / Restart time: connect timeout base */
    uint64_t last_valid_ms;  /* latest valid check/indication: consent freshness */
    uint32_t generation;     /* number of restarts */
    unsigned stun_flags;     /* TB_STUN_* flags (TB_STUN_ALLOW_PLAIN) */
    uint32_t consent_timeout_ms; /* tunables, defaults TB_ICE_*_MS */
    uint32_t disconnect_ms;
    uint32_t nominate_wait_ms;
    uint32_t connect_timeout_ms;
    uint64_t checks_ok;      /* authenticated checks answered */
    uint64_t checks_bad;     /* checks rejected (auth, malformed, conflict) */
} tbIceLite;

/* Result of tbIceLiteHandleStun. */
typedef struct tbIceInput {
    size_t out_len;      /* bytes of reply written to out; 0 = send nothing */
    unsigned events;     /* TB_ICE_EV_* */
    tbIceTuple evicted;  /* with TB_ICE_EV_EVICTED: the tuple no longer valid */
    tbStunCheck check;   /* what the check carried */
} tbIceInput;

/* Fresh state with new random local credentials (OpenSSL RAND_bytes).
 * Returns 0, or -1 if the CSPRNG failed. */
int tbIceLiteInit(tbIceLite *ice, uint64_t now_ms);

/* Remote ufrag/pwd from the client's SDP (a=ice-ufrag/a=ice-pwd). pwd may be
 * NULL. Returns -1 (and changes nothing) if they are not ice-chars of legal
 * length (ufrag 4..256, pwd 22..256). Once set, checks must carry exactly
 * "<local>:<remote>" as USERNAME. */
int tbIceLiteSetRemote(tbIceLite *ice, const char *ufrag, const char *pwd);

/* ICE restart (RFC 8445 §9): new local ufrag/pwd, the client's new remote
 * ufrag/pwd (may be NULL: learnt later via SetRemote). Media keeps flowing on
 * the current selected pair and the valid 5-tuples stay mapped; nominations
 * are forgotten, so the first nomination with the new credentials selects.
 * The caller must re-key its ufrag → transport map (old ufrag out, new in).
 * A FAILED transport goes back to CHECKING/NEW. Returns 0 or -1. */
int tbIceLiteRestart(tbIceLite *ice, const char *remote_ufrag, const char *remote_pwd,
                     uint64_t now_ms);

/* Handles one STUN message that the worker routed to this transport
 * (tbStunIsStun was true). Validates it against our credentials, writes the
 * reply (success, 400/401/420/487) into out (TB_STUN_RESPONSE_MAX bytes are
 * enough) and updates pairs, selection, consent and state. */
tbStunStatus tbIceLiteHandleStun(tbIceLite *ice, tbStunCtx *ctx, const uint8_t *pkt,
                                 size_t len, const tbIceTuple *from, uint64_t now_ms,
                                 uint8_t *out, size_t out_cap, tbIceInput *res);

/* Timers: DISCONNECTED/CONNECTED transitions, auto-selection, consent expiry.
 * Call every few hundred ms. Returns true when the transport just failed
 * (consent expired or never connected): the owner should close it. */
bool tbIceLiteTick(tbIceLite *ice, uint64_t now_ms, unsigned *events);

void tbIceLiteClose(tbIceLite *ice);

/* The selected pair's remote tuple, or NULL. */
const tbIceTuple *tbIceLiteSelected(const tbIceLite *ice);

/* Where to send now: the selected tuple, else the most recently validated
 * one (e.g. to answer DTLS before nomination), else NULL. */
const tbIceTuple *tbIceLiteSendTuple(const tbIceLite *ice);

/* True if t has passed a valid check on this transport (accept its
 * non-STUN packets). */
bool tbIceLiteIsValidTuple(const tbIceLite *ice, const tbIceTuple *t);

/* Fills t from a socket address (an IPv4-mapped IPv6 address becomes IPv4).
 * Returns 0, or -1 for an unsupported family/length. */
int tbIceTupleSet(tbIceTuple *t, const struct sockaddr *sa, socklen_t len, tbIceProto proto);
bool tbIceTupleEqual(const tbIceTuple *a, const tbIceTuple *b);

const char *tbIceStateName(tbIceState st);

/* True if s is 4..256 (ufrag) ice-chars: [A-Za-z0-9+/]. */
bool tbIceIsIceChars(const char *s, size_t minlen, size_t maxlen);

/* Candidate priority, RFC 8445 §5.1.2.1:
 * 2^24 * type_pref + 2^8 * local_pref + (256 - component). */
uint32_t tbIceCandidatePriority(unsigned type_pref, unsigned local_pref, unsigned component);

/* Local preference for our ip_index-th address (0 = most preferred):
 * UDP: 65535 - ip_index; ICE-TCP passive (RFC 6544 §4.2):
 * 2^13 * TB_ICE_TCP_DIRECTION_PASSIVE + (8191 - ip_index), so with equal type
 * preference every UDP candidate outranks every TCP one. */
unsigned tbIceLocalPreference(tbIceProto proto, unsigned ip_index);

/* Writes the value of an a=candidate attribute (without "a="), e.g.
 * "candidate:1 1 udp 2130706431 203.0.113.5 7882 typ host" or, with
 * tcptype "passive", "... 7881 typ host tcptype passive" (RFC 8839 §5.1,
 * RFC 6544 §4.5). The same string is what trickle ICE carries.
 * transport: "udp" or "tcp"; type: "host" (or "srflx"/"relay"); tcptype may be
 * NULL (UDP). Returns the length, or -1 if an argument is invalid or out is
 * too small. */
int tbIceCandidateFormat(char *out, size_t outlen, const char *foundation, unsigned component,
                         const char *transport, uint32_t priority, const char *ip,
                         uint16_t port, const char *type, const char *tcptype);

#endif
