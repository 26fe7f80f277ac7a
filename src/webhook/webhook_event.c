/* webhook_event.c — builds the WebhookEvent JSON body from the room model
 * (through room/room_proto.c and proto/pbjson.c) and signs it with a LiveKit
 * token (auth/token.c) carrying the body's SHA-256; see webhook_event.h. */
#include "webhook/webhook_event.h"

#include <openssl/sha.h>
#include <stdlib.h>

#include "auth/base64url.h"
#include "auth/token.h"
#include "livekit_webhook.pb-c.h"
#include "proto/pbjson.h"
#include "room/room_proto.h"

static const char *const kNames[] = {
    [TB_WEBHOOK_ROOM_STARTED] = "room_started",
    [TB_WEBHOOK_ROOM_FINISHED] = "room_finished",
    [TB_WEBHOOK_PARTICIPANT_JOINED] = "participant_joined",
    [TB_WEBHOOK_PARTICIPANT_LEFT] = "participant_left",
    [TB_WEBHOOK_TRACK_PUBLISHED] = "track_published",
    [TB_WEBHOOK_TRACK_UNPUBLISHED] = "track_unpublished",
};

const char *tbWebhookEventName(tbWebhookEventType type) {
    if ((unsigned)type >= sizeof kNames / sizeof kNames[0]) return "unknown";
    return kNames[type];
}

json_t *tbWebhookEventJson(tbWebhookEventType type, const tbRoom *room, const tbParticipant *p,
                           const tbTrack *t, const char *id, int64_t created_at_s) {
    bool track_event = type == TB_WEBHOOK_TRACK_PUBLISHED || type == TB_WEBHOOK_TRACK_UNPUBLISHED;
    Livekit__WebhookEvent ev;
    livekit__webhook_event__init(&ev);
    ev.event = (char *)tbWebhookEventName(type);
    ev.id = (char *)(id ? id : "");
    ev.created_at = created_at_s;
    /* track_* carry only who published, as LiveKit's do */
    Livekit__ParticipantInfo who;
    livekit__participant_info__init(&who);
    Livekit__ParticipantInfo *full = NULL;
    Livekit__TrackInfo *track = NULL;
    json_t *out = NULL;
    ev.room = tbRoomToProto(room, NULL, 0);
    if (!ev.room) goto done;
    if (p && track_event) {
        who.sid = (char *)p->sid;
        who.identity = p->identity;
        ev.participant = &who;
    } else if (p) {
        if (!(full = tbParticipantToProto(p))) goto done;
        ev.participant = full;
    }
    if (t && track_event) {
        if (!(track = tbTrackToProto(t))) goto done;
        ev.track = track;
    }
    out = tbPbToJson((const ProtobufCMessage *)&ev);
done:
    if (ev.room) protobuf_c_message_free_unpacked((ProtobufCMessage *)ev.room, NULL);
    if (full) protobuf_c_message_free_unpacked((ProtobufCMessage *)full, NULL);
    if (track) protobuf_c_message_free_unpacked((ProtobufCMessage *)track, NULL);
    return out;
}

char *tbWebhookSign(const char *body, size_t len, const char *api_key, const char *secret,
                    int64_t now_s) {
    uint8_t sum[SHA256_DIGEST_LENGTH];
    if (!body || !api_key || !secret) return NULL;
    SHA256((const unsigned char *)body, len, sum);
    char *b64 = tbBase64Encode(sum, sizeof sum);
    if (!b64) return NULL;
    tbClaims c;
    tbClaimsInit(&c);
    c.api_key = (char *)api_key;
    c.sha256 = b64;
    c.nbf = now_s;
    c.exp = now_s + TB_WEBHOOK_TOKEN_TTL_S;
    char *jwt = tbTokenSign(&c, secret);
    free(b64); /* c's strings are borrowed: no tbClaimsFree */
    return jwt;
}
