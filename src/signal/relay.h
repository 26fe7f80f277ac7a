/* relay.h — signaling for a room that lives on another node. tribune's
 * nodes share one Redis; a room is held by one node (state/placement.h),
 * and a client may reach any node (WebSockets cannot follow a redirect).
 *
 * The node the client reached (the front) answers the upgrade, then asks
 * Redis who holds the room, pinning it to the least-loaded node when nobody
 * does. If that is this node, the session is made here and the front just
 * passes frames through; otherwise the front relays every frame over the
 * node bus (state/node_bus.h) to the owner, which runs an ordinary session
 * whose connection is the bus (a "back" connection). Media never goes
 * through the front: the JoinResponse and answers carry the owner's
 * addresses, so the client's ICE and DTLS go straight to the owner.
 *
 * Ends: the client's close goes to the owner (a close frame means leave,
 * a broken connection leaves the session resumable, as at one node); the
 * owner's close or kick goes to the client; a node that dies (its Redis
 * key expired) takes its relays down (the SDK reconnects) and its
 * clients' sessions become resumable. */
#ifndef TB_SIGNAL_RELAY_H
#define TB_SIGNAL_RELAY_H

#include "signal/session.h"
#include "state/bus_msg.h"

/* A front session for req (already authorised) of a room this node does
 * not hold. Always 0 (or 500 when out of memory). */
int tbRelayAccept(tbSignalHub *hub, const tbHttpRequest *req, bool v1, const char *room,
                  tbSignalSession **out, char *why, size_t whylen);
/* The entry points of session.h for a front session. */
void tbRelayAttach(tbSignalSession *front);
void tbRelayOnMessage(tbSignalSession *front, const uint8_t *data, size_t len, bool text);
void tbRelayOnClosed(tbSignalSession *front, bool clean);
/* A SIG_* message from another node. */
void tbRelayOnBus(tbSignalHub *hub, const tbBusMsg *m);
/* Once a second: ends relays and back connections of dead nodes, and back
 * connections the owner closed. */
void tbRelaySweep(tbSignalHub *hub);
/* At exit: frees what is left. */
void tbRelayFreeAll(tbSignalHub *hub);

#endif
