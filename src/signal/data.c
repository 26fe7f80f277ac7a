/* data.c — LiveKit DataPackets between the participants of a room, over
 * the data channels the media plane carries (TB_MEDIA_DATA events in,
 * tbMediaSendData out).
 *
 * As livekit-server does: a participant without can_publish_data is not
 * heard; the packet is decoded (undecodable ones are dropped and counted),
 * its kind is taken from the channel it came on (_reliable / _lossy), the
 * sender's identity and sid are stamped on it (and on a UserPacket), a
 * reliable packet whose sequence does not advance is dropped, and it goes
 * to every other participant of the room, or only to its
 * destination_identities, on the channel of the same kind. Transcriptions
 * and metrics (agents' business) are not forwarded. RoomService.SendData
 * enters through tbSignalHubSendData. */
#include <stdlib.h>
#include <string.h>

#include "data/dcep.h"
#include "livekit_models.pb-c.h"
#include "signal/session_internal.h"
#include "util/log.h"

#define FIELD_METRICS 8 /* DataPacket.metrics, omitted from our .proto */

static const char *labelOf(Livekit__DataPacket__Kind kind) {
    return kind == LIVEKIT__DATA_PACKET__KIND__LOSSY ? "_lossy" : "_reliable";
}

static bool listed(char **ids, size_t n, const char *identity) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], identity) == 0) return true;
    return false;
}

/* Packs dp and sends it to the room's sessions other than `from`. */
static size_t route(tbSignalHub *hub, const char *room, const tbSignalSession *from,
                    const Livekit__DataPacket *dp) {
    size_t len = livekit__data_packet__get_packed_size(dp), sent = 0;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) return 0;
    livekit__data_packet__pack(dp, buf);
    for (tbSignalSession *s = hub->sessions; s; s = s->next) {
        if (s == from || !s->transport_added || s->closing || strcmp(s->room, room) != 0)
            continue;
        if (dp->n_destination_identities > 0 &&
            !listed(dp->destination_identities, dp->n_destination_identities, s->identity))
            continue;
        tbMediaSendData(hub->media, s->room_media_id, tbSessionDataTransport(s), labelOf(dp->kind),
                        TB_PPID_BINARY, buf, len);
        sent++;
    }
    free(buf);
    return sent;
}

static bool hasUnknownField(const Livekit__DataPacket *dp, uint32_t tag) {
    for (size_t i = 0; i < dp->base.n_unknown_fields; i++)
        if (dp->base.unknown_fields[i].tag == tag) return true;
    return false;
}

/* What livekit-server forwards from a participant. */
static bool forwardable(const Livekit__DataPacket *dp) {
    switch (dp->value_case) {
    case LIVEKIT__DATA_PACKET__VALUE_SPEAKER:       /* the server's own */
    case LIVEKIT__DATA_PACKET__VALUE_TRANSCRIPTION: /* agents only */
        return false;
    case LIVEKIT__DATA_PACKET__VALUE__NOT_SET: return !hasUnknownField(dp, FIELD_METRICS);
    default: return true;
    }
}

void tbSignalHubOnData(tbSignalHub *hub, tbSignalSession *s, const tbMediaEvent *ev) {
    tbParticipant *p = tbSessionParticipant(s);
    if (p == NULL || !p->permission.can_publish_data || strcmp(ev->label, "_data_track") == 0) {
        hub->api->metrics->data_dropped++;
        return;
    }
    Livekit__DataPacket *dp = livekit__data_packet__unpack(NULL, ev->data_len, ev->data);
    if (dp == NULL) {
        hub->api->metrics->data_dropped++;
        return;
    }
    dp->kind = strcmp(ev->label, "_lossy") == 0 ? LIVEKIT__DATA_PACKET__KIND__LOSSY
                                                 : LIVEKIT__DATA_PACKET__KIND__RELIABLE;
    if (dp->kind == LIVEKIT__DATA_PACKET__KIND__RELIABLE && dp->sequence > 0) {
        if (dp->sequence <= s->last_data_seq) { /* a duplicate after a reconnect */
            livekit__data_packet__free_unpacked(dp, NULL);
            return;
        }
        s->last_data_seq = dp->sequence;
    }
    if (!forwardable(dp)) {
        livekit__data_packet__free_unpacked(dp, NULL);
        return;
    }
    /* stamp the sender (restored before freeing: these strings are ours) */
    char *identity = dp->participant_identity, *sid = dp->participant_sid;
    char *u_identity = NULL, *u_sid = NULL;
    char **dest = dp->destination_identities;
    size_t ndest = dp->n_destination_identities;
    Livekit__UserPacket *u = dp->value_case == LIVEKIT__DATA_PACKET__VALUE_USER ? dp->user : NULL;
    dp->participant_identity = s->identity;
    dp->participant_sid = s->participant_sid;
    if (u) {
        u_identity = u->participant_identity;
        u_sid = u->participant_sid;
        u->participant_identity = s->identity;
        u->participant_sid = s->participant_sid;
        if (ndest == 0) { /* older SDKs name the recipients in the UserPacket */
            dp->destination_identities = u->destination_identities;
            dp->n_destination_identities = u->n_destination_identities;
        }
    }
    route(hub, s->room, s, dp);
    hub->api->metrics->data_forwarded++;
    dp->participant_identity = identity;
    dp->participant_sid = sid;
    dp->destination_identities = dest;
    dp->n_destination_identities = ndest;
    if (u) {
        u->participant_identity = u_identity;
        u->participant_sid = u_sid;
    }
    livekit__data_packet__free_unpacked(dp, NULL);
}

size_t tbSignalHubSendData(tbSignalHub *hub, const char *room, const uint8_t *payload,
                           size_t len, bool reliable, const char *topic,
                           char **destination_identities, size_t n_destinations) {
    Livekit__DataPacket dp = LIVEKIT__DATA_PACKET__INIT;
    Livekit__UserPacket up = LIVEKIT__USER_PACKET__INIT;
    up.payload.data = (uint8_t *)payload;
    up.payload.len = len;
    if (topic && *topic) {
        up.optional_topic_case = LIVEKIT__USER_PACKET__OPTIONAL_TOPIC_TOPIC;
        up.topic = (char *)topic;
    }
    up.destination_identities = destination_identities;
    up.n_destination_identities = n_destinations;
    dp.kind = reliable ? LIVEKIT__DATA_PACKET__KIND__RELIABLE : LIVEKIT__DATA_PACKET__KIND__LOSSY;
    dp.destination_identities = destination_identities;
    dp.n_destination_identities = n_destinations;
    dp.value_case = LIVEKIT__DATA_PACKET__VALUE_USER;
    dp.user = &up;
    return route(hub, room, NULL, &dp);
}
