/* registry.c — the in-memory room registry; see registry.h. */
#include "room/registry.h"

#include <stdlib.h>
#include <string.h>

static char *dupOrEmpty(const char *s) { return strdup(s ? s : ""); }

static void replaceStr(char **dst, const char *s) {
    char *n = dupOrEmpty(s);
    if (!n) return;
    free(*dst);
    *dst = n;
}

void tbRegistryInit(tbRegistry *r, tbRoomDefaults defaults) {
    memset(r, 0, sizeof *r);
    r->defaults = defaults;
}

static void trackFree(tbTrack *t) {
    free(t->name);
    free(t->mime_type);
    free(t);
}

static void participantFree(tbParticipant *p) {
    tbTrack *t = p->tracks;
    while (t) {
        tbTrack *next = t->next;
        trackFree(t);
        t = next;
    }
    free(p->identity);
    free(p->name);
    free(p->metadata);
    json_decref(p->attributes);
    free(p);
}

static void roomFree(tbRoom *room) {
    tbParticipant *p = room->participants;
    while (p) {
        tbParticipant *next = p->next;
        participantFree(p);
        p = next;
    }
    free(room->name);
    free(room->metadata);
    free(room);
}

void tbRegistryFree(tbRegistry *r) {
    tbRoom *room = r->rooms;
    while (room) {
        tbRoom *next = room->next;
        roomFree(room);
        room = next;
    }
    r->rooms = NULL;
    r->num_rooms = 0;
}

tbRoom *tbRegistryFind(const tbRegistry *r, const char *name) {
    for (tbRoom *room = r->rooms; room; room = room->next)
        if (strcmp(room->name, name) == 0) return room;
    return NULL;
}

static uint32_t orDefault(uint32_t v, uint32_t def) { return v ? v : def; }

tbRoom *tbRegistryCreate(tbRegistry *r, const tbRoomOptions *o, int64_t now_ms, bool *created) {
    *created = false;
    tbRoom *room = tbRegistryFind(r, o->name);
    if (room) return room;
    room = calloc(1, sizeof *room);
    if (!room) return NULL;
    room->name = strdup(o->name);
    room->metadata = dupOrEmpty(o->metadata);
    if (!room->name || !room->metadata) goto err;
    tbNewSid("RM_", room->sid);
    room->empty_timeout = orDefault(o->empty_timeout, r->defaults.empty_timeout);
    room->departure_timeout = orDefault(o->departure_timeout, r->defaults.departure_timeout);
    room->max_participants = orDefault(o->max_participants, r->defaults.max_participants);
    room->creation_time_ms = now_ms;
    /* append, so listings come out in creation order */
    tbRoom **tail = &r->rooms;
    while (*tail) tail = &(*tail)->next;
    *tail = room;
    r->num_rooms++;
    *created = true;
    return room;
err:
    roomFree(room);
    return NULL;
}

bool tbRegistryDelete(tbRegistry *r, const char *name) {
    for (tbRoom **pp = &r->rooms; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) != 0) continue;
        tbRoom *room = *pp;
        *pp = room->next;
        roomFree(room);
        r->num_rooms--;
        return true;
    }
    return false;
}

size_t tbRegistryParticipantCount(const tbRegistry *r) {
    size_t n = 0;
    for (tbRoom *room = r->rooms; room; room = room->next) n += room->num_participants;
    return n;
}

/* LiveKit closes a room that nobody joined after empty_timeout, and one that
 * everybody left after departure_timeout. */
static bool roomExpired(const tbRoom *room, int64_t now_ms) {
    if (room->num_participants > 0) return false;
    if (room->last_left_ms > 0)
        return now_ms - room->last_left_ms >= (int64_t)room->departure_timeout * 1000;
    return now_ms - room->creation_time_ms >= (int64_t)room->empty_timeout * 1000;
}

size_t tbRegistrySweep(tbRegistry *r, int64_t now_ms, tbRoomClosedFn closed, void *ctx) {
    size_t n = 0;
    tbRoom **pp = &r->rooms;
    while (*pp) {
        tbRoom *room = *pp;
        if (!roomExpired(room, now_ms)) {
            pp = &room->next;
            continue;
        }
        if (closed) closed(ctx, room);
        *pp = room->next;
        roomFree(room);
        r->num_rooms--;
        n++;
    }
    return n;
}

tbParticipant *tbRoomFindParticipant(const tbRoom *room, const char *identity) {
    for (tbParticipant *p = room->participants; p; p = p->next)
        if (strcmp(p->identity, identity) == 0) return p;
    return NULL;
}

bool tbRoomIsFull(const tbRoom *room) {
    return room->max_participants > 0 && room->num_participants >= room->max_participants;
}

tbParticipant *tbRoomAddParticipant(tbRoom *room, const char *identity, const char *name,
                                    const tbPermission *perm, int64_t now_ms) {
    if (tbRoomFindParticipant(room, identity)) return NULL;
    tbParticipant *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->identity = strdup(identity);
    p->name = dupOrEmpty(name);
    p->metadata = dupOrEmpty(NULL);
    p->attributes = json_object();
    if (!p->identity || !p->name || !p->metadata || !p->attributes) goto err;
    tbNewSid("PA_", p->sid);
    p->state = TB_PARTICIPANT_JOINED;
    p->joined_at_ms = now_ms;
    p->permission = *perm;
    p->version = 1;
    tbParticipant **tail = &room->participants;
    while (*tail) tail = &(*tail)->next;
    *tail = p;
    room->num_participants++;
    return p;
err:
    participantFree(p);
    return NULL;
}

bool tbRoomRemoveParticipant(tbRoom *room, const char *identity, int64_t now_ms) {
    for (tbParticipant **pp = &room->participants; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->identity, identity) != 0) continue;
        tbParticipant *p = *pp;
        *pp = p->next;
        participantFree(p);
        room->num_participants--;
        room->last_left_ms = now_ms > 0 ? now_ms : 1;
        return true;
    }
    return false;
}

void tbRoomSetMetadata(tbRoom *room, const char *metadata) { replaceStr(&room->metadata, metadata); }

tbTrack *tbParticipantAddTrack(tbParticipant *p, const char *name, int type, int source,
                               const char *mime_type) {
    tbTrack *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = dupOrEmpty(name);
    t->mime_type = dupOrEmpty(mime_type);
    if (!t->name || !t->mime_type) {
        trackFree(t);
        return NULL;
    }
    tbNewSid("TR_", t->sid);
    t->type = type;
    t->source = source;
    tbTrack **tail = &p->tracks;
    while (*tail) tail = &(*tail)->next;
    *tail = t;
    p->num_tracks++;
    p->version++;
    return t;
}

tbTrack *tbParticipantFindTrack(const tbParticipant *p, const char *track_sid) {
    for (tbTrack *t = p->tracks; t; t = t->next)
        if (strcmp(t->sid, track_sid) == 0) return t;
    return NULL;
}

bool tbParticipantRemoveTrack(tbParticipant *p, const char *track_sid) {
    for (tbTrack **pp = &p->tracks; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->sid, track_sid) != 0) continue;
        tbTrack *t = *pp;
        *pp = t->next;
        trackFree(t);
        p->num_tracks--;
        p->version++;
        return true;
    }
    return false;
}

void tbParticipantSetName(tbParticipant *p, const char *name) {
    replaceStr(&p->name, name);
    p->version++;
}

void tbParticipantSetMetadata(tbParticipant *p, const char *metadata) {
    replaceStr(&p->metadata, metadata);
    p->version++;
}

void tbParticipantMergeAttribute(tbParticipant *p, const char *key, const char *value) {
    if (!value || !*value)
        json_object_del(p->attributes, key);
    else
        json_object_set_new(p->attributes, key, json_string(value));
    p->version++;
}
