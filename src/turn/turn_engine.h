/* turn_engine.h — the embedded TURN server's I/O engine: one thread with its
 * own libuv loop that owns the listeners (UDP and TCP on turn.udp_port, TLS
 * or plain TCP on turn.tls_port), the relay sockets (UDP, from
 * turn.relay_range_*), the protocol core (turn_server.h) and the credential
 * lookup (turn_auth.h). Nothing here is shared with the media workers; the
 * control thread only starts, stops and reads a stats snapshot. */
#ifndef TB_TURN_ENGINE_H
#define TB_TURN_ENGINE_H

#include <stdint.h>

#include "config/config.h"

/* STUN error codes counted in tbTurnStats.errors, in this order (the last
 * slot counts any other code). */
#define TB_TURN_ERROR_CODES 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 486, 508
#define TB_TURN_NERRORS 13

typedef enum tbTurnDrop {
    TB_TURN_DROP_NOT_TURN = 0,   /* neither STUN nor ChannelData on a TURN port */
    TB_TURN_DROP_IGNORED,        /* no allocation/permission/channel, or malformed */
    TB_TURN_DROP_BANDWIDTH,      /* over turn.bandwidth_limit */
    TB_TURN_DROP_SEND_ERROR,     /* the kernel refused, or a TCP buffer was full */
    TB_TURN_DROP_COUNT
} tbTurnDrop;

typedef struct tbTurnStats {
    uint64_t allocations;               /* live now */
    uint64_t relays_opened;             /* since start */
    uint64_t to_peer_packets, to_peer_bytes;       /* relayed client → peer */
    uint64_t to_client_packets, to_client_bytes;   /* relayed peer → client */
    uint64_t requests;                  /* STUN requests answered */
    uint64_t errors[TB_TURN_NERRORS];   /* error responses by code */
    uint64_t dropped[TB_TURN_DROP_COUNT];
    uint64_t tcp_connections;           /* open TCP/TLS connections */
    uint64_t tls_failures;
} tbTurnStats;

typedef struct tbTurnEngine tbTurnEngine;

/* Binds everything turn.* asks for and starts the thread. NULL (logged) when
 * a port cannot be bound or the TLS files are unusable. cfg must outlive the
 * engine. advertise: the relayed addresses' IPs ("a.b.c.d", or a list
 * separated by commas or spaces; the first of each family counts), NULL =
 * the local address each client reached. */
tbTurnEngine *tbTurnEngineStart(const tbConfig *cfg, const char *advertise);
/* Stops the thread, closes every socket, frees. NULL is a no-op. */
void tbTurnEngineStop(tbTurnEngine *e);
/* A snapshot (refreshed by the engine once a second). */
void tbTurnEngineGetStats(tbTurnEngine *e, tbTurnStats *out);
/* The code counted in errors[i] (0 for the "other" slot). */
int tbTurnErrorCode(int i);
const char *tbTurnDropName(tbTurnDrop d);

#endif
