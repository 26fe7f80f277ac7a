/* lg_peer.h — one simulated participant of the load generator: its
 * LiveKit signaling (lg_signal.h: join, AddTrack, one offer), then its
 * media on a UDP socket of its own: ICE as the controlling agent against
 * tribune's ICE-lite (STUN Binding requests with USE-CANDIDATE, then every
 * few seconds for consent), DTLS-SRTP (tribune's own DTLS and SRTP code,
 * in the role the answer leaves us), and RTP: a publisher sends its marked
 * Opus tone every 20 ms; every participant decrypts what it receives and
 * counts it against the publisher that sent it (lg_run.h). */
#ifndef LG_PEER_H
#define LG_PEER_H

#include "lg_run.h"
#include "lg_signal.h"

typedef enum lgPeerState {
    LG_PEER_NEW,
    LG_PEER_SIGNALING,          /* WebSocket open, waiting for the answer */
    LG_PEER_ICE,                /* checks sent, no response yet */
    LG_PEER_DTLS,               /* ICE answered, handshake running */
    LG_PEER_MEDIA,              /* SRTP keys: sending and receiving */
    LG_PEER_FAILED,
    LG_PEER_LEFT,
} lgPeerState;

typedef struct lgPeer lgPeer;

/* Participant `index` of run (room index / publishers first, then
 * subscribers). NULL on allocation failure. */
lgPeer *lgPeerNew(lgRun *run, lgSignalCtx *sig, size_t index);
void lgPeerFree(lgPeer *p);
/* Opens its signaling (and later its media, by itself). */
void lgPeerStart(lgPeer *p);
/* Every tick (about 20 ms): due packets, STUN retransmits and consent,
 * DTLS timers. */
void lgPeerTick(lgPeer *p, uint64_t now_ns);
/* Sends LeaveRequest and closes the signaling. */
void lgPeerLeave(lgPeer *p);
lgPeerState lgPeerGetState(const lgPeer *p);
/* Settled: it failed, or its media runs and every stream it must receive
 * has brought a packet (so the measured window starts with forwarding up). */
bool lgPeerReady(const lgPeer *p);
const char *lgPeerError(const lgPeer *p);      /* why it FAILED, else "" */
/* Its stream from publisher `pub` (global index), NULL if it has none. */
const lgStream *lgPeerStream(const lgPeer *p, uint32_t pub);
/* Publishers whose packets it must receive (its room's, but itself). */
size_t lgPeerNumStreams(const lgPeer *p);
const lgStream *lgPeerStreamAt(const lgPeer *p, size_t i, uint32_t *pub);

#endif
