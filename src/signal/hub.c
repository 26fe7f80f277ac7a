/* hub.c — the signaling hub: session registry, media ids, room-wide fan-out
 * (participant updates, speakers), participant removal, and the media plane's
 * events; see hub.h. */
#include "signal/hub.h"
#include "signal/relay.h"

#include <stdlib.h>
#include <string.h>

#include "room/room_proto.h"
#include "signal/session_internal.h"
#include "util/log.h"

tbSignalHub *tbSignalHubNew(tbApi *api, tbMedia *media) {
    tbSignalHub *hub = calloc(1, sizeof *hub);
    if (!hub) return NULL;
    hub->api = api;
    hub->media = media;
    hub->next_id = 1;
    if (tbLocalAddresses(api->config, &hub->addrs) == 0)
        tbWarn("signal", "no usable IP address for ICE candidates: set rtc.node_ip");
    for (size_t i = 0; i < hub->addrs.len; i++)
        tbInfo("signal", "ICE candidate address %s", hub->addrs.ip[i]);
    tbTurnAuthInit(&hub->turn_auth, api->config);
    return hub;
}

void tbSignalHubFree(tbSignalHub *hub) {
    if (!hub) return;
    /* sessions are freed as their connections close (lws closes them all
     * before the hub is freed); any left have no connection */
    while (hub->sessions) {
        tbSignalSession *s = hub->sessions;
        hub->sessions = s->next;
        if (s->join) livekit__join_request__free_unpacked(s->join, NULL);
        free(s);
    }
    tbRelayFreeAll(hub);
    free(hub);
}

uint32_t tbSignalHubNextId(tbSignalHub *hub) { return hub->next_id++; }

/* Calls fn for every attached session in `room` except `except`. */
static void forEachInRoom(tbSignalHub *hub, const char *room, const tbSignalSession *except,
                          void (*fn)(tbSignalSession *, void *), void *arg) {
    for (tbSignalSession *s = hub->sessions; s; s = s->next)
        if (s != except && s->conn && !s->closing && strcmp(s->room, room) == 0) fn(s, arg);
}

static void sendUpdate(tbSignalSession *s, void *arg) {
    Livekit__ParticipantInfo *info = arg;
    Livekit__ParticipantUpdate up;
    livekit__participant_update__init(&up);
    up.n_participants = 1;
    up.participants = &info;
    tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_UPDATE, &up);
}

void tbSignalHubBroadcastParticipant(tbSignalHub *hub, const char *room,
                                     const tbParticipant *p, const tbSignalSession *except) {
    if (p->permission.hidden) return;
    Livekit__ParticipantInfo *info = tbParticipantToProto(p);
    if (!info) return;
    forEachInRoom(hub, room, except, sendUpdate, info);
    livekit__participant_info__free_unpacked(info, NULL);
}

void tbSignalHubSendParticipant(tbSignalHub *hub, tbSignalSession *s, const tbParticipant *p) {
    (void)hub;
    if (p->permission.hidden) return;
    Livekit__ParticipantInfo *info = tbParticipantToProto(p);
    if (!info) return;
    sendUpdate(s, info);
    livekit__participant_info__free_unpacked(info, NULL);
}

static void dropTrack(tbSignalSession *s, void *arg) { tbSessionDropTrack(s, arg); }

/* The participant's tracks stop: the media plane unpublishes them and the
 * other sessions free the sections that carried them. */
static void unpublishAll(tbSignalHub *hub, const tbRoom *room, const tbParticipant *p) {
    for (const tbTrack *t = p->tracks; t; t = t->next) {
        if (!t->published) continue;
        tbMediaUnpublish(hub->media, room->media_id, t->media_id);
        forEachInRoom(hub, room->name, p->session, dropTrack, (void *)t->sid);
    }
}

void tbSignalHubRemoveParticipant(tbSignalHub *hub, const char *room_name,
                                  const char *identity, int reason) {
    tbRoom *room = tbRegistryFind(hub->api->registry, room_name);
    tbParticipant *p = room ? tbRoomFindParticipant(room, identity) : NULL;
    if (!p) return;
    tbSignalSession *s = p->session;
    if (s) {
        if (reason != LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED)
            tbSessionKick(s, (Livekit__DisconnectReason)reason);
        if (s->transport_added && hub->media)
            tbMediaRemoveTransport(hub->media, room->media_id, s->transport_id);
        s->transport_added = false;
    }
    if (hub->media) unpublishAll(hub, room, p);
    p->state = TB_PARTICIPANT_DISCONNECTED;
    p->version++;
    tbSignalHubBroadcastParticipant(hub, room_name, p, s);
    tbWebhookParticipantLeft(hub->api->webhook, room, p);
    tbRoomRemoveParticipant(room, identity, tbApiNowMs(hub->api));
}

void tbSignalHubUnpublish(tbSignalHub *hub, const char *room_name, tbParticipant *p,
                          const char *track_sid) {
    tbRoom *room = tbRegistryFind(hub->api->registry, room_name);
    tbTrack *t = tbParticipantFindTrack(p, track_sid);
    if (!room || !t) return;
    char sid[TB_SID_LEN];
    memcpy(sid, t->sid, TB_SID_LEN);
    if (t->published && hub->media) tbMediaUnpublish(hub->media, room->media_id, t->media_id);
    forEachInRoom(hub, room_name, p->session, dropTrack, sid);
    if (t->published) tbWebhookTrackUnpublished(hub->api->webhook, room, p, t);
    tbParticipantRemoveTrack(p, sid);
    tbSignalSession *s = p->session;
    if (s) {
        Livekit__TrackUnpublishedResponse tu;
        livekit__track_unpublished_response__init(&tu);
        tu.track_sid = sid;
        tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRACK_UNPUBLISHED, &tu);
    }
    tbInfo("signal", "%s unpublished %s", p->identity, sid);
    tbSignalHubBroadcastParticipant(hub, room_name, p, NULL);
}

void tbSignalHubDeleteRoom(tbSignalHub *hub, const char *room_name) {
    tbRoom *room = tbRegistryFind(hub->api->registry, room_name);
    while (room && room->participants)
        tbSignalHubRemoveParticipant(hub, room_name, room->participants->identity,
                                     LIVEKIT__DISCONNECT_REASON__ROOM_DELETED);
}

/* ---- media events ------------------------------------------------------------------ */

static tbSignalSession *sessionByTransport(tbSignalHub *hub, uint32_t transport_id) {
    for (tbSignalSession *s = hub->sessions; s; s = s->next)
        if (s->transport_id == transport_id || (s->sub_added && s->sub_transport_id == transport_id))
            return s;
    return NULL;
}

static tbRoom *roomByMediaId(tbSignalHub *hub, uint32_t room_id) {
    for (tbRoom *r = hub->api->registry->rooms; r; r = r->next)
        if (r->media_id == room_id) return r;
    return NULL;
}

static tbParticipant *ownerOfTrack(const tbRoom *room, uint32_t track_id) {
    for (tbParticipant *p = room->participants; p; p = p->next)
        for (const tbTrack *t = p->tracks; t; t = t->next)
            if (t->media_id == track_id) return p;
    return NULL;
}

static void sendSpeakers(tbSignalSession *s, void *arg) {
    Livekit__SpeakersChanged *sc = arg;
    tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SPEAKERS_CHANGED, sc);
}

static void onLevels(tbSignalHub *hub, const tbMediaEvent *ev) {
    tbRoom *room = roomByMediaId(hub, ev->room_id);
    if (!room) return;
    Livekit__SpeakerInfo infos[TB_MEDIA_MAX_LEVELS], *ptrs[TB_MEDIA_MAX_LEVELS];
    Livekit__SpeakersChanged sc;
    livekit__speakers_changed__init(&sc);
    sc.speakers = ptrs;
    for (size_t i = 0; i < ev->num_levels; i++) {
        tbParticipant *p = ownerOfTrack(room, ev->levels[i].track_id);
        if (!p) continue;
        p->speaker_level = ev->levels[i].level;
        p->speaking = ev->levels[i].active;
        Livekit__SpeakerInfo *si = &infos[sc.n_speakers];
        livekit__speaker_info__init(si);
        si->sid = (char *)p->sid;
        si->level = ev->levels[i].level;
        si->active = ev->levels[i].active;
        ptrs[sc.n_speakers++] = si;
    }
    forEachInRoom(hub, room->name, NULL, sendSpeakers, &sc);
}

void tbSignalHubSendSpeakers(tbSignalHub *hub, tbSignalSession *s) {
    (void)hub;
    tbRoom *room = tbSessionRoom(s);
    if (!room) return;
    Livekit__SpeakerInfo infos[TB_MEDIA_MAX_LEVELS], *ptrs[TB_MEDIA_MAX_LEVELS];
    Livekit__SpeakersChanged sc;
    livekit__speakers_changed__init(&sc);
    sc.speakers = ptrs;
    for (tbParticipant *p = room->participants; p && sc.n_speakers < TB_MEDIA_MAX_LEVELS;
         p = p->next) {
        if (!p->speaking || p->session == s) continue;
        Livekit__SpeakerInfo *si = &infos[sc.n_speakers];
        livekit__speaker_info__init(si);
        si->sid = p->sid;
        si->level = p->speaker_level;
        si->active = true;
        ptrs[sc.n_speakers++] = si;
    }
    if (sc.n_speakers) sendSpeakers(s, &sc);
}

void tbSignalHubOnMediaEvent(void *ctx, const tbMediaEvent *ev) {
    tbSignalHub *hub = ctx;
    tbSignalSession *s = sessionByTransport(hub, ev->transport_id);
    switch (ev->type) {
    case TB_MEDIA_TRANSPORT_CONNECTED:
        if (s) tbInfo("media", "%s: transport connected", s->identity);
        break;
    case TB_MEDIA_TRANSPORT_CLOSED:
        if (!s) break;
        tbInfo("media", "%s: transport closed (%s)", s->identity, ev->reason);
        if (s->sub_added && ev->transport_id == s->sub_transport_id)
            s->sub_added = false; /* the publisher's is removed with the session */
        else
            s->transport_added = false;
        tbSignalHubRemoveParticipant(hub, s->room, s->identity,
                                     LIVEKIT__DISCONNECT_REASON__CONNECTION_TIMEOUT);
        break;
    case TB_MEDIA_LEVELS:
        onLevels(hub, ev);
        break;
    case TB_MEDIA_DATA:
        if (s) tbSignalHubOnData(hub, s, ev);
        break;
    }
}

/* ---- RoomService hooks ------------------------------------------------------------------ */

static void hookRemove(void *ctx, const char *room, const char *identity) {
    tbSignalHubRemoveParticipant(ctx, room, identity,
                                 LIVEKIT__DISCONNECT_REASON__PARTICIPANT_REMOVED);
}

static void hookDeleteRoom(void *ctx, const char *room) { tbSignalHubDeleteRoom(ctx, room); }

/* UpdateParticipant may change permissions: a participant that may no
 * longer publish loses its tracks; one that may no longer subscribe stops
 * receiving (as livekit-server applies them). */
static void hookParticipant(void *ctx, const char *room, const tbParticipant *cp) {
    tbSignalHub *hub = ctx;
    tbParticipant *p = (tbParticipant *)cp;
    if (!p->permission.can_publish)
        while (p->tracks) tbSignalHubUnpublish(hub, room, p, p->tracks->sid);
    tbSignalSession *s = p->session;
    if (s && !p->permission.can_subscribe)
        for (size_t i = 0; i < s->num_down; i++)
            if (s->down[i].track_sid[0]) tbSessionDropTrack(s, s->down[i].track_sid);
    tbSignalHubBroadcastParticipant(hub, room, p, NULL);
}

/* The publisher is told its track was muted (SignalResponse.mute), the media
 * plane stops forwarding it, everyone sees the change. */
static void hookTrackMuted(void *ctx, const char *room, const tbParticipant *p, const tbTrack *t) {
    tbSignalHub *hub = ctx;
    tbSignalSession *s = p->session;
    tbRoom *r = tbRegistryFind(hub->api->registry, room);
    if (s) {
        Livekit__MuteTrackRequest m;
        livekit__mute_track_request__init(&m);
        m.sid = (char *)t->sid;
        m.muted = t->muted;
        tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_MUTE, &m);
    }
    if (r && hub->media && t->published) tbMediaSetMuted(hub->media, r->media_id, t->media_id, t->muted);
    tbSignalHubBroadcastParticipant(hub, room, p, NULL);
}

static void sendRoomUpdate(tbSignalSession *s, void *arg) {
    Livekit__RoomUpdate up;
    livekit__room_update__init(&up);
    up.room = arg;
    tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ROOM_UPDATE, &up);
}

static void hookRoomChanged(void *ctx, const tbRoom *room) {
    tbSignalHub *hub = ctx;
    const tbStrList *codecs = &hub->api->config->room.enabled_codecs;
    Livekit__Room *info = tbRoomToProto(room, codecs->items, codecs->len);
    if (!info) return;
    forEachInRoom(hub, room->name, NULL, sendRoomUpdate, info);
    livekit__room__free_unpacked(info, NULL);
}

static void hookSendData(void *ctx, const char *room, const uint8_t *data, size_t len,
                         bool reliable, const char *topic, char **identities, size_t n) {
    tbSignalHubSendData(ctx, room, data, len, reliable, topic, identities, n);
}

tbApiHooks tbSignalHubApiHooks(tbSignalHub *hub) {
    tbApiHooks h = {hub, hookRemove, hookDeleteRoom, hookParticipant, hookTrackMuted,
                    hookRoomChanged, hookSendData};
    return h;
}
