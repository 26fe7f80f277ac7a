/* hub.h — the control plane's signaling hub: every participant session of
 * this node, the ids handed to the media plane, and the fan-out of room
 * events (participant updates, speakers, track changes) to the sessions of a
 * room. Runs on the control thread only. */
#ifndef TB_SIGNAL_HUB_H
#define TB_SIGNAL_HUB_H

#include "api/api.h"
#include "media/addresses.h"
#include "media/media.h"
#include "signal/session.h"
#include "turn/turn_auth.h"

#define TB_PROTOCOL_VERSION 16     /* LiveKit ServerInfo.protocol we speak */
#define TB_LIVEKIT_COMPAT "1.9.0"  /* server version the SDK compares features against */

struct tbSignalHub {
    tbApi *api;                 /* config, registry, metrics, clock */
    tbMedia *media;             /* NULL: joins are refused (no media plane) */
    tbLocalAddrs addrs;         /* ICE candidate addresses */
    tbTurnAuth turn_auth;       /* signs the embedded TURN's credentials */
    tbSignalSession *sessions;  /* every open session */
    uint32_t next_id;           /* media ids: rooms, transports, tracks */
    struct tbSignalRelay *relays; /* fronts of clients whose room is elsewhere (relay.h) */
    struct tbBackConn *backs;   /* sessions here of clients on other nodes */
    uint64_t next_relay_id;
};

tbSignalHub *tbSignalHubNew(tbApi *api, tbMedia *media);
void tbSignalHubFree(tbSignalHub *hub);
uint32_t tbSignalHubNextId(tbSignalHub *hub);

/* Media plane events (tbMediaEventFn). */
void tbSignalHubOnMediaEvent(void *ctx, const tbMediaEvent *ev);

/* An update with participant p, to session s only. */
void tbSignalHubSendParticipant(tbSignalHub *hub, tbSignalSession *s, const tbParticipant *p);

/* data.c: a DataPacket from session s's data channel (TB_MEDIA_DATA). */
void tbSignalHubOnData(tbSignalHub *hub, tbSignalSession *s, const tbMediaEvent *ev);
/* RoomService.SendData: a UserPacket from the server to the room (or the
 * listed identities). Returns the number of participants it was sent to. */
size_t tbSignalHubSendData(tbSignalHub *hub, const char *room, const uint8_t *payload,
                           size_t len, bool reliable, const char *topic,
                           char **destination_identities, size_t n_destinations);

/* Room events, also called by RoomService (api hooks). */
void tbSignalHubBroadcastParticipant(tbSignalHub *hub, const char *room,
                                     const tbParticipant *p, const tbSignalSession *except);
void tbSignalHubRemoveParticipant(tbSignalHub *hub, const char *room, const char *identity,
                                  int reason);
void tbSignalHubDeleteRoom(tbSignalHub *hub, const char *room);
/* The track stops: media unpublished, subscribers' sections freed, the
 * publisher told (track_unpublished), everyone updated; then it is removed
 * from the participant. */
void tbSignalHubUnpublish(tbSignalHub *hub, const char *room, tbParticipant *p,
                          const char *track_sid);
/* Tells a newcomer who is speaking right now (changes alone would leave it
 * unaware of a steady speaker). */
void tbSignalHubSendSpeakers(tbSignalHub *hub, tbSignalSession *s);
/* RoomService's view of the hub (api->hooks). */
tbApiHooks tbSignalHubApiHooks(tbSignalHub *hub);

#endif
