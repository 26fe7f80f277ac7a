/* room_proto.h — the room model (registry.h) as LiveKit protobuf messages
 * (livekit_models.proto): Room, ParticipantInfo, TrackInfo. Results are heap
 * messages freed with protobuf_c_message_free_unpacked(msg, NULL). Used by
 * RoomService now and by signaling (JoinResponse, ParticipantUpdate) later. */
#ifndef TB_ROOM_PROTO_H
#define TB_ROOM_PROTO_H

#include "livekit_models.pb-c.h"
#include "room/registry.h"

/* `codecs` (may be NULL) fills Room.enabled_codecs. */
Livekit__Room *tbRoomToProto(const tbRoom *room, char *const *codecs, size_t num_codecs);
Livekit__ParticipantInfo *tbParticipantToProto(const tbParticipant *p);
Livekit__TrackInfo *tbTrackToProto(const tbTrack *t);

#endif
