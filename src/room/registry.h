/* registry.h — the in-memory room registry of one node: rooms, their
 * participants and the tracks those publish. It is the model RoomService
 * reads and changes, and (from the media issue on) what signaling fills.
 *
 * Pure data structure, no I/O, no clock: callers pass `now_ms`. Owned by the
 * control-plane thread. Rooms and participants are kept in insertion order
 * in singly linked lists: a node holds at most a few thousand rooms and the
 * control plane touches them at human rates, so a linear scan is cheaper to
 * read than a hash table and fast enough. */
#ifndef TB_REGISTRY_H
#define TB_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ids.h"

typedef enum tbParticipantState {
    TB_PARTICIPANT_JOINING = 0, /* LiveKit ParticipantInfo.State values */
    TB_PARTICIPANT_JOINED = 1,
    TB_PARTICIPANT_ACTIVE = 2,
    TB_PARTICIPANT_DISCONNECTED = 3,
} tbParticipantState;

typedef struct tbPermission {
    bool can_subscribe;
    bool can_publish;
    bool can_publish_data;
    bool hidden;
    bool can_update_metadata;
} tbPermission;

typedef struct tbTrack {
    char sid[TB_SID_LEN];       /* TR_... */
    char *name;
    char *mime_type;            /* "audio/opus" */
    int type;                   /* LiveKit TrackType: 0 audio */
    int source;                 /* LiveKit TrackSource: 2 microphone */
    bool muted;
    uint32_t media_id;          /* the media plane's track id (0 = none yet) */
    char cid[64];               /* client's MediaStreamTrack id (AddTrackRequest.cid) */
    char mid[32];               /* the publisher's m-section once published */
    bool published;             /* the media plane forwards it */
    struct tbTrack *next;
} tbTrack;

typedef struct tbParticipant {
    char sid[TB_SID_LEN];       /* PA_... */
    char *identity;
    char *name;
    char *metadata;
    json_t *attributes;         /* object string->string, never NULL */
    tbParticipantState state;
    int64_t joined_at_ms;
    tbPermission permission;
    tbTrack *tracks;
    size_t num_tracks;
    uint32_t version;           /* bumped on every change (ParticipantInfo.version) */
    void *session;              /* signaling session, owned by the signal hub */
    uint32_t transport_id;      /* media plane transport (0 = none) */
    float speaker_level;        /* last reported by the media plane, 0..1 */
    bool speaking;              /* an active speaker right now */
    struct tbParticipant *next;
} tbParticipant;

typedef struct tbRoom {
    char sid[TB_SID_LEN];       /* RM_... */
    char *name;
    char *metadata;
    uint32_t empty_timeout;     /* s: closed when nobody joined within it */
    uint32_t departure_timeout; /* s: closed this long after the last one left */
    uint32_t max_participants;  /* 0 = unlimited */
    int64_t creation_time_ms;
    int64_t last_left_ms;       /* 0 = nobody has left yet */
    uint32_t media_id;          /* the media plane's room id */
    tbParticipant *participants;
    size_t num_participants;
    struct tbRoom *next;
} tbRoom;

/* Defaults a new room takes when the request leaves a field at 0. */
typedef struct tbRoomDefaults {
    uint32_t empty_timeout;
    uint32_t departure_timeout;
    uint32_t max_participants;
} tbRoomDefaults;

typedef struct tbRegistry {
    tbRoom *rooms;
    size_t num_rooms;
    tbRoomDefaults defaults;
} tbRegistry;

typedef struct tbRoomOptions {
    const char *name;
    const char *metadata;       /* NULL = "" */
    uint32_t empty_timeout;     /* 0 = default */
    uint32_t departure_timeout; /* 0 = default */
    uint32_t max_participants;  /* 0 = default */
} tbRoomOptions;

void tbRegistryInit(tbRegistry *r, tbRoomDefaults defaults);
void tbRegistryFree(tbRegistry *r);

tbRoom *tbRegistryFind(const tbRegistry *r, const char *name);
/* Returns the existing room (and *created = false) or a new one. NULL on OOM. */
tbRoom *tbRegistryCreate(tbRegistry *r, const tbRoomOptions *o, int64_t now_ms, bool *created);
/* Removes and frees the room; false when it does not exist. */
bool tbRegistryDelete(tbRegistry *r, const char *name);
size_t tbRegistryParticipantCount(const tbRegistry *r);

/* Rooms whose empty/departure timeout has passed; each is passed to `closed`
 * (may be NULL) before being freed. Returns how many were closed. */
typedef void (*tbRoomClosedFn)(void *ctx, const tbRoom *room);
size_t tbRegistrySweep(tbRegistry *r, int64_t now_ms, tbRoomClosedFn closed, void *ctx);

tbParticipant *tbRoomFindParticipant(const tbRoom *room, const char *identity);
/* Adds a participant in state JOINED. NULL when the identity exists or OOM. */
tbParticipant *tbRoomAddParticipant(tbRoom *room, const char *identity, const char *name,
                                    const tbPermission *perm, int64_t now_ms);
bool tbRoomRemoveParticipant(tbRoom *room, const char *identity, int64_t now_ms);
bool tbRoomIsFull(const tbRoom *room);
void tbRoomSetMetadata(tbRoom *room, const char *metadata);

tbTrack *tbParticipantAddTrack(tbParticipant *p, const char *name, int type, int source,
                               const char *mime_type);
tbTrack *tbParticipantFindTrack(const tbParticipant *p, const char *track_sid);
bool tbParticipantRemoveTrack(tbParticipant *p, const char *track_sid);
void tbParticipantSetName(tbParticipant *p, const char *name);
void tbParticipantSetMetadata(tbParticipant *p, const char *metadata);
/* Sets one attribute; an empty value deletes it (LiveKit's merge rule). */
void tbParticipantMergeAttribute(tbParticipant *p, const char *key, const char *value);

#endif
