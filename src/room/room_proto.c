/* room_proto.c — registry structs to LiveKit protobuf messages; see
 * room_proto.h. Every string is strdup'ed so the generic protobuf-c free
 * releases the whole tree. */
#include "room/room_proto.h"

#include <stdlib.h>
#include <string.h>

/* strdup, or protobuf-c's shared empty string (never freed) for "". */
static char *pbStr(const char *s) {
    if (!s || !*s) return (char *)protobuf_c_empty_string;
    char *d = strdup(s);
    return d ? d : (char *)protobuf_c_empty_string;
}

Livekit__Room *tbRoomToProto(const tbRoom *room, char *const *codecs, size_t num_codecs) {
    Livekit__Room *r = malloc(sizeof *r);
    if (!r) return NULL;
    livekit__room__init(r);
    r->sid = pbStr(room->sid);
    r->name = pbStr(room->name);
    r->metadata = pbStr(room->metadata);
    r->empty_timeout = room->empty_timeout;
    r->departure_timeout = room->departure_timeout;
    r->max_participants = room->max_participants;
    r->creation_time = room->creation_time_ms / 1000;
    r->creation_time_ms = room->creation_time_ms;
    r->num_participants = (uint32_t)room->num_participants;
    for (const tbParticipant *p = room->participants; p; p = p->next)
        if (p->num_tracks > 0) r->num_publishers++;
    if (num_codecs > 0) r->enabled_codecs = calloc(num_codecs, sizeof *r->enabled_codecs);
    for (size_t i = 0; r->enabled_codecs && i < num_codecs; i++) {
        Livekit__Codec *c = malloc(sizeof *c);
        if (!c) break;
        livekit__codec__init(c);
        c->mime = pbStr(codecs[i]);
        r->enabled_codecs[r->n_enabled_codecs++] = c;
    }
    return r;
}

Livekit__TrackInfo *tbTrackToProto(const tbTrack *t) {
    Livekit__TrackInfo *ti = malloc(sizeof *ti);
    if (!ti) return NULL;
    livekit__track_info__init(ti);
    ti->sid = pbStr(t->sid);
    ti->name = pbStr(t->name);
    ti->mime_type = pbStr(t->mime_type);
    ti->type = (Livekit__TrackType)t->type;
    ti->source = (Livekit__TrackSource)t->source;
    ti->muted = t->muted;
    return ti;
}

static Livekit__ParticipantPermission *permissionToProto(const tbPermission *perm) {
    Livekit__ParticipantPermission *pp = malloc(sizeof *pp);
    if (!pp) return NULL;
    livekit__participant_permission__init(pp);
    pp->can_subscribe = perm->can_subscribe;
    pp->can_publish = perm->can_publish;
    pp->can_publish_data = perm->can_publish_data;
    pp->hidden = perm->hidden;
    pp->can_update_metadata = perm->can_update_metadata;
    return pp;
}

static void attributesToProto(const json_t *attrs, Livekit__ParticipantInfo *pi) {
    size_t n = json_object_size(attrs);
    if (n == 0 || !(pi->attributes = calloc(n, sizeof *pi->attributes))) return;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)attrs, k, v) {
        Livekit__ParticipantInfo__AttributesEntry *e = malloc(sizeof *e);
        if (!e) return;
        livekit__participant_info__attributes_entry__init(e);
        e->key = pbStr(k);
        e->value = pbStr(json_string_value(v));
        pi->attributes[pi->n_attributes++] = e;
    }
}

Livekit__ParticipantInfo *tbParticipantToProto(const tbParticipant *p) {
    Livekit__ParticipantInfo *pi = malloc(sizeof *pi);
    if (!pi) return NULL;
    livekit__participant_info__init(pi);
    pi->sid = pbStr(p->sid);
    pi->identity = pbStr(p->identity);
    pi->name = pbStr(p->name);
    pi->metadata = pbStr(p->metadata);
    pi->state = (Livekit__ParticipantInfo__State)p->state;
    pi->joined_at = p->joined_at_ms / 1000;
    pi->joined_at_ms = p->joined_at_ms;
    pi->version = p->version;
    pi->is_publisher = p->num_tracks > 0;
    pi->permission = permissionToProto(&p->permission);
    if (p->num_tracks > 0) pi->tracks = calloc(p->num_tracks, sizeof *pi->tracks);
    for (const tbTrack *t = p->tracks; pi->tracks && t; t = t->next) {
        Livekit__TrackInfo *ti = tbTrackToProto(t);
        if (ti) pi->tracks[pi->n_tracks++] = ti;
    }
    attributesToProto(p->attributes, pi);
    return pi;
}
