/* room_service.c — LiveKit's Twirp RoomService on this node's registry:
 * CreateRoom, ListRooms, DeleteRoom, ListParticipants, GetParticipant,
 * RemoveParticipant, MutePublishedTrack, UpdateParticipant,
 * UpdateRoomMetadata. Grant rules as livekit-server's: roomCreate for
 * Create/Delete, roomList for List, roomAdmin for the named room otherwise;
 * a missing grant is `unauthenticated` (401), as LiveKit answers it. */
#include <stdlib.h>
#include <string.h>

#include "api/twirp.h"
#include "livekit_room.pb-c.h"
#include "room/room_proto.h"

#define DENIED "permissions denied"

static int needAdmin(const tbClaims *c, const char *room, tbTwirpError *err) {
    if (c->video.room_admin && c->video.room && strcmp(c->video.room, room) == 0) return 0;
    return tbTwirpFail(err, "unauthenticated", DENIED " (needs roomAdmin for room `%s`)", room);
}

static int checkMetadata(const tbApi *api, const char *md, tbTwirpError *err) {
    int max = api->config->limit.max_metadata_size;
    if (max > 0 && md && strlen(md) > (size_t)max)
        return tbTwirpFail(err, "invalid_argument", "metadata size exceeds limits: max %d bytes",
                           max);
    return 0;
}

static tbRoom *findRoom(tbApi *api, const char *name, tbTwirpError *err) {
    tbRoom *room = tbRegistryFind(api->registry, name);
    if (!room) tbTwirpFail(err, "not_found", "requested room does not exist: `%s`", name);
    return room;
}

static tbParticipant *findParticipant(tbApi *api, const char *room_name, const char *identity,
                                      tbTwirpError *err) {
    tbRoom *room = findRoom(api, room_name, err);
    if (!room) return NULL;
    tbParticipant *p = tbRoomFindParticipant(room, identity);
    if (!p) tbTwirpFail(err, "not_found", "participant does not exist: `%s`", identity);
    return p;
}

static ProtobufCMessage *roomMessage(tbApi *api, const tbRoom *room) {
    const tbStrList *codecs = &api->config->room.enabled_codecs;
    return (ProtobufCMessage *)tbRoomToProto(room, codecs->items, codecs->len);
}

static int createRoom(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                      ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__CreateRoomRequest *req = (const void *)m;
    int maxlen = api->config->limit.max_room_name_length;
    if (!c->video.room_create)
        return tbTwirpFail(err, "unauthenticated", DENIED " (needs roomCreate)");
    if (!*req->name) return tbTwirpFail(err, "invalid_argument", "no room name");
    if (maxlen > 0 && strlen(req->name) > (size_t)maxlen)
        return tbTwirpFail(err, "invalid_argument",
                           "room name length exceeds limits: max length %d", maxlen);
    if (checkMetadata(api, req->metadata, err)) return -1;
    tbRoomOptions o = {req->name, req->metadata, req->empty_timeout, req->departure_timeout,
                       req->max_participants};
    bool created = false;
    tbRoom *room = tbRegistryCreate(api->registry, &o, tbApiNowMs(api), &created);
    if (!room) return tbTwirpFail(err, "internal", "out of memory");
    if (created) api->metrics->rooms_created++;
    if (created) tbWebhookRoomStarted(api->webhook, room);
    *out = roomMessage(api, room);
    return 0;
}

static bool nameListed(const Livekit__ListRoomsRequest *req, const char *name) {
    if (req->n_names == 0) return true;
    for (size_t i = 0; i < req->n_names; i++)
        if (strcmp(req->names[i], name) == 0) return true;
    return false;
}

static int listRooms(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                     ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__ListRoomsRequest *req = (const void *)m;
    if (!c->video.room_list)
        return tbTwirpFail(err, "unauthenticated", DENIED " (needs roomList)");
    Livekit__ListRoomsResponse *res = malloc(sizeof *res);
    if (!res) return tbTwirpFail(err, "internal", "out of memory");
    livekit__list_rooms_response__init(res);
    *out = (ProtobufCMessage *)res;
    size_t n = api->registry->num_rooms + api->n_remote_rooms;
    if (n && !(res->rooms = calloc(n, sizeof *res->rooms)))
        return tbTwirpFail(err, "internal", "out of memory");
    for (tbRoom *room = api->registry->rooms; room; room = room->next)
        if (nameListed(req, room->name))
            res->rooms[res->n_rooms++] = (Livekit__Room *)roomMessage(api, room);
    /* with several nodes: the others' rooms, read from Redis (forward.c) */
    for (size_t i = 0; i < api->n_remote_rooms; i++) {
        const Livekit__Room *r = api->remote_rooms[i];
        if (!nameListed(req, r->name) || tbRegistryFind(api->registry, r->name)) continue;
        /* a deep copy (the response frees its rooms): through the wire form */
        size_t len = livekit__room__get_packed_size(r);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) return tbTwirpFail(err, "internal", "out of memory");
        livekit__room__pack(r, buf);
        Livekit__Room *copy = livekit__room__unpack(NULL, len, buf);
        free(buf);
        if (copy) res->rooms[res->n_rooms++] = copy;
    }
    return 0;
}

static int deleteRoom(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                      ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__DeleteRoomRequest *req = (const void *)m;
    if (!c->video.room_create)
        return tbTwirpFail(err, "unauthenticated", DENIED " (needs roomCreate)");
    if (api->hooks.delete_room && tbRegistryFind(api->registry, req->room))
        api->hooks.delete_room(api->hooks.ctx, req->room);
    const tbRoom *gone = tbRegistryFind(api->registry, req->room);
    if (gone) tbWebhookRoomFinished(api->webhook, gone);
    if (!tbRegistryDelete(api->registry, req->room))
        return tbTwirpFail(err, "not_found", "requested room does not exist: `%s`", req->room);
    api->metrics->rooms_closed++;
    Livekit__DeleteRoomResponse *res = malloc(sizeof *res);
    if (!res) return tbTwirpFail(err, "internal", "out of memory");
    livekit__delete_room_response__init(res);
    *out = (ProtobufCMessage *)res;
    return 0;
}

static int listParticipants(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                            ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__ListParticipantsRequest *req = (const void *)m;
    if (needAdmin(c, req->room, err)) return -1;
    tbRoom *room = findRoom(api, req->room, err);
    if (!room) return -1;
    Livekit__ListParticipantsResponse *res = malloc(sizeof *res);
    if (!res) return tbTwirpFail(err, "internal", "out of memory");
    livekit__list_participants_response__init(res);
    *out = (ProtobufCMessage *)res;
    if (room->num_participants &&
        !(res->participants = calloc(room->num_participants, sizeof *res->participants)))
        return tbTwirpFail(err, "internal", "out of memory");
    for (tbParticipant *p = room->participants; p; p = p->next)
        res->participants[res->n_participants++] = tbParticipantToProto(p);
    return 0;
}

static int getParticipant(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                          ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__RoomParticipantIdentity *req = (const void *)m;
    if (needAdmin(c, req->room, err)) return -1;
    tbParticipant *p = findParticipant(api, req->room, req->identity, err);
    if (!p) return -1;
    *out = (ProtobufCMessage *)tbParticipantToProto(p);
    return *out ? 0 : tbTwirpFail(err, "internal", "out of memory");
}

static int removeParticipant(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                             ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__RoomParticipantIdentity *req = (const void *)m;
    if (needAdmin(c, req->room, err)) return -1;
    tbRoom *room = findRoom(api, req->room, err);
    if (!room) return -1;
    if (!tbRoomFindParticipant(room, req->identity))
        return tbTwirpFail(err, "not_found", "participant does not exist: `%s`", req->identity);
    if (api->hooks.remove_participant)
        api->hooks.remove_participant(api->hooks.ctx, req->room, req->identity);
    else
        tbRoomRemoveParticipant(room, req->identity, tbApiNowMs(api));
    Livekit__RemoveParticipantResponse *res = malloc(sizeof *res);
    if (!res) return tbTwirpFail(err, "internal", "out of memory");
    livekit__remove_participant_response__init(res);
    *out = (ProtobufCMessage *)res;
    return 0;
}

static int mutePublishedTrack(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                              ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__MuteRoomTrackRequest *req = (const void *)m;
    if (needAdmin(c, req->room, err)) return -1;
    tbParticipant *p = findParticipant(api, req->room, req->identity, err);
    if (!p) return -1;
    tbTrack *t = tbParticipantFindTrack(p, req->track_sid);
    if (!t) return tbTwirpFail(err, "not_found", "track is not found: `%s`", req->track_sid);
    /* LiveKit refuses remote unmute unless room.enable_remote_unmute */
    if (!req->muted && t->muted)
        return tbTwirpFail(err, "failed_precondition", "remote unmute not enabled");
    t->muted = req->muted;
    p->version++;
    if (api->hooks.track_muted) api->hooks.track_muted(api->hooks.ctx, req->room, p, t);
    Livekit__MuteRoomTrackResponse *res = malloc(sizeof *res);
    if (!res) return tbTwirpFail(err, "internal", "out of memory");
    livekit__mute_room_track_response__init(res);
    res->track = tbTrackToProto(t);
    *out = (ProtobufCMessage *)res;
    return 0;
}

static void applyAttributes(tbParticipant *p, const Livekit__UpdateParticipantRequest *req) {
    for (size_t i = 0; i < req->n_attributes; i++)
        tbParticipantMergeAttribute(p, req->attributes[i]->key, req->attributes[i]->value);
}

static void applyPermission(tbParticipant *p, const Livekit__ParticipantPermission *pp) {
    p->permission.can_subscribe = pp->can_subscribe;
    p->permission.can_publish = pp->can_publish;
    p->permission.can_publish_data = pp->can_publish_data;
    p->permission.hidden = pp->hidden;
    p->permission.can_update_metadata = pp->can_update_metadata;
    p->version++;
}

static int updateParticipant(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                             ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__UpdateParticipantRequest *req = (const void *)m;
    if (needAdmin(c, req->room, err)) return -1;
    if (checkMetadata(api, req->metadata, err)) return -1;
    tbParticipant *p = findParticipant(api, req->room, req->identity, err);
    if (!p) return -1;
    if (*req->metadata) tbParticipantSetMetadata(p, req->metadata);
    if (*req->name) tbParticipantSetName(p, req->name);
    if (req->permission) applyPermission(p, req->permission);
    applyAttributes(p, req);
    if (api->hooks.participant_changed)
        api->hooks.participant_changed(api->hooks.ctx, req->room, p);
    *out = (ProtobufCMessage *)tbParticipantToProto(p);
    return *out ? 0 : tbTwirpFail(err, "internal", "out of memory");
}

static int updateRoomMetadata(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                              ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__UpdateRoomMetadataRequest *req = (const void *)m;
    if (needAdmin(c, req->room, err)) return -1;
    if (checkMetadata(api, req->metadata, err)) return -1;
    tbRoom *room = findRoom(api, req->room, err);
    if (!room) return -1;
    tbRoomSetMetadata(room, req->metadata);
    if (api->hooks.room_changed) api->hooks.room_changed(api->hooks.ctx, room);
    *out = roomMessage(api, room);
    return 0;
}

/* SendData: a UserPacket from the server (no sender identity) to the room,
 * or to destination_identities; destination_sids are not supported. */
static int sendData(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                    ProtobufCMessage **out, tbTwirpError *err) {
    const Livekit__SendDataRequest *req = (const void *)m;
    if (needAdmin(c, req->room, err)) return -1;
    if (!findRoom(api, req->room, err)) return -1;
    if (req->data.len > TB_API_MAX_DATA)
        return tbTwirpFail(err, "invalid_argument", "data is %zu bytes, above the %d limit",
                           req->data.len, TB_API_MAX_DATA);
    const char *topic =
        req->optional_topic_case == LIVEKIT__SEND_DATA_REQUEST__OPTIONAL_TOPIC_TOPIC ? req->topic
                                                                                    : NULL;
    if (api->hooks.send_data)
        api->hooks.send_data(api->hooks.ctx, req->room, req->data.data, req->data.len,
                             req->kind != LIVEKIT__DATA_PACKET__KIND__LOSSY, topic,
                             req->destination_identities, req->n_destination_identities);
    Livekit__SendDataResponse *resp = malloc(sizeof *resp);
    if (!resp) return tbTwirpFail(err, "internal", "out of memory");
    livekit__send_data_response__init(resp);
    *out = (ProtobufCMessage *)resp;
    return 0;
}

/* Methods of the service that tribune does not offer yet answer
 * `unimplemented` (501) instead of `bad_route`, so callers can tell. */
static int notYet(tbApi *api, const tbClaims *c, const ProtobufCMessage *m,
                  ProtobufCMessage **out, tbTwirpError *err) {
    (void)api, (void)out;
    /* both requests start with `string room = 1`; check the grant first */
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(m->descriptor, 1);
    const char *room = f ? *(char *const *)((const char *)m + f->offset) : "";
    if (needAdmin(c, room, err)) return -1;
    const char *name = m->descriptor->short_name; /* "SendDataRequest" */
    return tbTwirpFail(err, "unimplemented", "RoomService.%.*s is not implemented by tribune yet",
                       (int)(strlen(name) - strlen("Request")), name);
}

#define METHOD(name, desc, fn) {name, "/twirp/livekit.RoomService/" name, &desc, fn}

static const tbTwirpMethod roomMethods[] = {
    METHOD("CreateRoom", livekit__create_room_request__descriptor, createRoom),
    METHOD("ListRooms", livekit__list_rooms_request__descriptor, listRooms),
    METHOD("DeleteRoom", livekit__delete_room_request__descriptor, deleteRoom),
    METHOD("ListParticipants", livekit__list_participants_request__descriptor, listParticipants),
    METHOD("GetParticipant", livekit__room_participant_identity__descriptor, getParticipant),
    METHOD("RemoveParticipant", livekit__room_participant_identity__descriptor, removeParticipant),
    METHOD("MutePublishedTrack", livekit__mute_room_track_request__descriptor, mutePublishedTrack),
    METHOD("UpdateParticipant", livekit__update_participant_request__descriptor, updateParticipant),
    METHOD("UpdateRoomMetadata", livekit__update_room_metadata_request__descriptor, updateRoomMetadata),
    METHOD("UpdateSubscriptions", livekit__update_subscriptions_request__descriptor, notYet),
    METHOD("SendData", livekit__send_data_request__descriptor, sendData),
};

const tbTwirpService tbRoomService = {
    "/twirp/livekit.RoomService/",
    roomMethods,
    sizeof roomMethods / sizeof roomMethods[0],
};
