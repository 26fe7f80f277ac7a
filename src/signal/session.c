/* session.c — a participant's signaling session: accept (token, join
 * request, room, duplicate identity), the JoinResponse, message dispatch
 * (offer, add_track, mute, leave, ping...) and teardown. SDP work is in
 * negotiate.c, room-wide fan-out in hub.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/pbjson.h"
#include "room/room_proto.h"
#include "signal/codec.h"
#include "signal/relay.h"
#include "signal/session_internal.h"
#include "tb_build_config.h"
#include "util/log.h"

#define TB_MAX_JOIN_REQUEST (1024 * 1024) /* inflated, as livekit-server caps it */

/* ---- helpers ---------------------------------------------------------------- */

tbRoom *tbSessionRoom(const tbSignalSession *s) {
    return tbRegistryFind(s->hub->api->registry, s->room);
}

tbParticipant *tbSessionParticipant(const tbSignalSession *s) {
    tbRoom *room = tbSessionRoom(s);
    tbParticipant *p = room ? tbRoomFindParticipant(room, s->identity) : NULL;
    return p && p->session == s ? p : NULL;
}

void tbSessionSend(tbSignalSession *s, Livekit__SignalResponse *msg) {
    if (!s->conn || s->closing) return;
    size_t len = 0;
    uint8_t *buf = tbSignalEncodeResponse(msg, s->text, 0, &len);
    if (buf) s->io->send(s->conn, buf, len, s->text);
    free(buf);
}

/* Every message arm of SignalResponse's oneof is a pointer in one union, so
 * any of them can carry `msg`. */
void tbSessionSendMessage(tbSignalSession *s, Livekit__SignalResponse__MessageCase c, void *msg) {
    Livekit__SignalResponse r;
    livekit__signal_response__init(&r);
    r.message_case = c;
    r.join = msg;
    tbSessionSend(s, &r);
}

static int64_t nowMs(const tbSignalSession *s) { return tbApiNowMs(s->hub->api); }

void tbSessionKick(tbSignalSession *s, Livekit__DisconnectReason reason) {
    Livekit__LeaveRequest leave;
    livekit__leave_request__init(&leave);
    leave.reason = reason;
    leave.action = LIVEKIT__LEAVE_REQUEST__ACTION__DISCONNECT;
    tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE, &leave);
    if (s->conn) s->io->close(s->conn, 1000, "leave");
    s->closing = true;
}

/* ---- accept ----------------------------------------------------------------- */

static tbPermission permissionFrom(const tbClaims *c) {
    tbPermission p = {
        .can_subscribe = tbGrantCanSubscribe(&c->video),
        .can_publish = tbGrantCanPublish(&c->video),
        .can_publish_data = tbGrantCanPublishData(&c->video),
        .hidden = c->video.hidden,
        .can_update_metadata = c->video.can_update_own_metadata,
    };
    return p;
}

static tbRoom *roomFor(tbSignalHub *hub, const char *name) {
    bool created = false;
    tbRoomOptions o = {.name = name};
    tbRoom *room = tbRegistryCreate(hub->api->registry, &o, tbApiNowMs(hub->api), &created);
    if (room && created) {
        room->media_id = tbSignalHubNextId(hub);
        hub->api->metrics->rooms_created++;
        tbInfo("room", "room %s (%s) created by a join", room->name, room->sid);
        tbWebhookRoomStarted(hub->api->webhook, room);
    }
    return room;
}

/* Kicks the session that holds `identity` in `room`, as livekit-server does
 * for a duplicate identity, and removes it from the room. */
static void replaceDuplicate(tbSignalHub *hub, tbRoom *room, const char *identity) {
    tbParticipant *old = tbRoomFindParticipant(room, identity);
    if (!old) return;
    tbSignalSession *os = old->session;
    tbInfo("signal", "identity %s joined %s again: closing the older session", identity,
           room->name);
    if (os) tbSessionKick(os, LIVEKIT__DISCONNECT_REASON__DUPLICATE_IDENTITY);
    tbSignalHubRemoveParticipant(hub, room->name, identity,
                                 LIVEKIT__DISCONNECT_REASON__DUPLICATE_IDENTITY);
}

static void applyClaims(tbParticipant *p, const tbClaims *c, const Livekit__JoinRequest *join) {
    if (c->metadata) tbParticipantSetMetadata(p, c->metadata);
    if (join && join->metadata && *join->metadata && p->permission.can_update_metadata)
        tbParticipantSetMetadata(p, join->metadata);
    const char *k;
    json_t *v;
    if (c->attributes) json_object_foreach(c->attributes, k, v) {
            json_object_set(p->attributes, k, v);
        }
    for (size_t i = 0; join && i < join->n_participant_attributes; i++)
        json_object_set_new(p->attributes, join->participant_attributes[i]->key,
                            json_string(join->participant_attributes[i]->value));
}

static int decodeJoin(const tbHttpRequest *req, Livekit__JoinRequest **join, char *why,
                      size_t whylen) {
    const char *jr = tbHttpArgGet(req, "join_request");
    if (!jr || !*jr) {
        snprintf(why, whylen, "join_request is required");
        return 400;
    }
    if (tbSignalDecodeJoinRequest(jr, strlen(jr), TB_MAX_JOIN_REQUEST, join, why, whylen) != 0)
        return 400;
    return 0;
}

static tbSignalSession *newSession(tbSignalHub *hub, tbRoom *room, tbParticipant *p) {
    tbSignalSession *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->hub = hub;
    s->v1 = true;
    snprintf(s->room, sizeof s->room, "%s", room->name);
    snprintf(s->identity, sizeof s->identity, "%s", p->identity);
    memcpy(s->participant_sid, p->sid, TB_SID_LEN);
    s->room_media_id = room->media_id;
    s->transport_id = tbSignalHubNextId(hub);
    s->sub_transport_id = tbSignalHubNextId(hub);
    s->udp_fd = -1;
    s->sub_udp_fd = -1;
    p->transport_id = s->transport_id;
    p->session = s;
    s->next = hub->sessions;
    hub->sessions = s;
    return s;
}

static int admit(tbSignalHub *hub, const tbClaims *c, Livekit__JoinRequest *join,
                 tbSignalSession **out, char *why, size_t whylen) {
    tbRoom *room = roomFor(hub, c->video.room);
    if (!room) return snprintf(why, whylen, "out of memory"), 500;
    replaceDuplicate(hub, room, c->identity);
    if (tbRoomIsFull(room)) {
        snprintf(why, whylen, "room has exceeded its max participants");
        return 403;
    }
    tbPermission perm = permissionFrom(c);
    tbParticipant *p = tbRoomAddParticipant(room, c->identity, c->name, &perm, tbApiNowMs(hub->api));
    if (!p) return snprintf(why, whylen, "cannot add participant"), 500;
    applyClaims(p, c, join);
    tbSignalSession *s = newSession(hub, room, p);
    if (!s) {
        tbRoomRemoveParticipant(room, c->identity, tbApiNowMs(hub->api));
        return snprintf(why, whylen, "out of memory"), 500;
    }
    s->join = join;
    *out = s;
    tbInfo("signal", "%s (%s) joins %s", p->identity, p->sid, room->name);
    return 0;
}

/* The SDK's resume (JoinRequest.reconnect with its participant sid): the
 * participant's session, kept while its connection was gone, moves to the
 * new connection; its room membership and media transport are untouched. */
static int resume(tbSignalHub *hub, const tbClaims *c, const char *sid, tbSignalSession **out,
                  char *why, size_t whylen) {
    tbRoom *room = tbRegistryFind(hub->api->registry, c->video.room);
    tbParticipant *p = room ? tbRoomFindParticipant(room, c->identity) : NULL;
    tbSignalSession *s = p ? p->session : NULL;
    if (!s || strcmp(p->sid, sid) != 0 || s->closing || !s->attached_once) {
        snprintf(why, whylen, "no session of %s to resume in %s", c->identity, c->video.room);
        return 404; /* the SDK then joins afresh */
    }
    if (s->conn) s->io->forget(s->conn); /* the old connection is still open */
    s->conn = NULL;
    s->resuming = true;
    *out = s;
    tbInfo("signal", "%s (%s) resumes in %s", p->identity, p->sid, room->name);
    return 0;
}

/* route: a room this node does not hold may be elsewhere (relay.h). */
static int acceptJoin(tbSignalHub *hub, const tbHttpRequest *req, bool v1, bool route,
                      tbSignalSession **out, char *why, size_t whylen) {
    *out = NULL;
    if (!hub->media) return snprintf(why, whylen, "the media plane is not running"), 503;
    tbClaims claims;
    tbClaimsInit(&claims);
    Livekit__JoinRequest *join = NULL;
    int status = tbApiCheckJoin(hub->api, req, &claims, why, whylen);
    if (status != 200) return status; /* claims were freed */
    if (route && hub->api->placement && !tbRegistryFind(hub->api->registry, claims.video.room)) {
        status = tbRelayAccept(hub, req, v1, claims.video.room, out, why, whylen);
        tbClaimsFree(&claims);
        return status;
    }
    if (!v1) { /* /rtc: the join is the query string, no publisher offer with it */
        const char *rc = tbHttpArgGet(req, "reconnect"), *sid = tbHttpArgGet(req, "sid");
        if (rc && strcmp(rc, "1") == 0) {
            status = resume(hub, &claims, sid ? sid : "", out, why, whylen);
        } else {
            status = admit(hub, &claims, NULL, out, why, whylen);
            if (status == 0) (*out)->v1 = false;
        }
        tbClaimsFree(&claims);
        return status;
    }
    status = decodeJoin(req, &join, why, whylen);
    if (status == 0 && join->reconnect && join->participant_sid && *join->participant_sid) {
        status = resume(hub, &claims, join->participant_sid, out, why, whylen);
        livekit__join_request__free_unpacked(join, NULL);
        join = NULL;
    } else if (status == 0) {
        status = admit(hub, &claims, join, out, why, whylen);
    }
    if (status != 0 && join) livekit__join_request__free_unpacked(join, NULL);
    tbClaimsFree(&claims);
    return status;
}

int tbSignalAccept(tbSignalHub *hub, const tbHttpRequest *req, bool v1, tbSignalSession **out,
                   char *why, size_t whylen) {
    return acceptJoin(hub, req, v1, true, out, why, whylen);
}

int tbSessionAcceptHere(tbSignalHub *hub, const tbHttpRequest *req, bool v1,
                        tbSignalSession **out, char *why, size_t whylen) {
    return acceptJoin(hub, req, v1, false, out, why, whylen);
}

/* ---- the JoinResponse ---------------------------------------------------------- */

static Livekit__ParticipantInfo **otherParticipants(const tbRoom *room, const char *self,
                                                    size_t *n) {
    Livekit__ParticipantInfo **v = calloc(room->num_participants + 1, sizeof *v);
    *n = 0;
    for (const tbParticipant *p = room->participants; v && p; p = p->next)
        if (strcmp(p->identity, self) != 0 && !p->permission.hidden)
            v[(*n)++] = tbParticipantToProto(p);
    return v;
}

static void sendJoinResponse(tbSignalSession *s, const tbRoom *room, const tbParticipant *p) {
    const tbConfig *cfg = s->hub->api->config;
    Livekit__JoinResponse jr;
    livekit__join_response__init(&jr);
    Livekit__ServerInfo si;
    livekit__server_info__init(&si);
    si.version = TB_LIVEKIT_COMPAT;
    si.protocol = TB_PROTOCOL_VERSION;
    si.node_id = "tribune";
    si.debug_info = "tribune " TB_VERSION;
    jr.room = tbRoomToProto(room, cfg->room.enabled_codecs.items, cfg->room.enabled_codecs.len);
    jr.participant = tbParticipantToProto(p);
    jr.other_participants = otherParticipants(room, p->identity, &jr.n_other_participants);
    jr.server_version = TB_LIVEKIT_COMPAT;
    jr.server_info = &si;
    jr.ping_interval = 5;
    jr.ping_timeout = 15;
    /* /rtc: publisher-primary (subscriber_primary false): the client offers its
     * publisher PC with its data channels at once; we offer the subscriber PC
     * at join too. (subscriber_primary true left livekit-client 2.23 unable to
     * send data in tests/browser/data.test.mjs.) */
    jr.ice_servers = tbSessionIceServers(s, &jr.n_ice_servers);
    tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN, &jr);
    livekit__room__free_unpacked(jr.room, NULL);
    livekit__participant_info__free_unpacked(jr.participant, NULL);
    for (size_t i = 0; i < jr.n_other_participants; i++)
        livekit__participant_info__free_unpacked(jr.other_participants[i], NULL);
    free(jr.other_participants);
    for (size_t i = 0; i < jr.n_ice_servers; i++)
        livekit__iceserver__free_unpacked(jr.ice_servers[i], NULL);
    free(jr.ice_servers);
}

/* Queue every track already published in the room for the newcomer. */
static void subscribeToRoom(tbSignalSession *s, const tbRoom *room) {
    if (!tbSessionParticipant(s) || !tbSessionParticipant(s)->permission.can_subscribe) return;
    for (const tbParticipant *p = room->participants; p; p = p->next) {
        if (p->session == s) continue;
        for (const tbTrack *t = p->tracks; t; t = t->next)
            if (t->published) tbSessionWantTrack(s, p, t);
    }
}

/* After a resume: ReconnectResponse, then the room as it is now (what the
 * client missed while it was away), and any remote track still waiting. */
static void sendReconnectResponse(tbSignalSession *s, const tbRoom *room) {
    Livekit__ReconnectResponse rr;
    livekit__reconnect_response__init(&rr);
    rr.ice_servers = tbSessionIceServers(s, &rr.n_ice_servers);
    tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_RECONNECT, &rr);
    for (size_t i = 0; i < rr.n_ice_servers; i++)
        livekit__iceserver__free_unpacked(rr.ice_servers[i], NULL);
    free(rr.ice_servers);
    for (const tbParticipant *p = room->participants; p; p = p->next)
        if (p->session != s) tbSignalHubSendParticipant(s->hub, s, p);
    s->sub_offer_pending = false; /* an offer sent while away is lost */
    tbSessionRequestPending(s);
}

void tbSignalAttach(tbSignalSession *s, const tbSignalIo *io, void *conn) {
    s->io = io;
    s->conn = conn;
    s->detached_ms = 0;
    if (s->relay) {
        tbRelayAttach(s);
        return;
    }
    tbRoom *room = tbSessionRoom(s);
    tbParticipant *p = tbSessionParticipant(s);
    if (!room || !p) {
        tbSessionKick(s, LIVEKIT__DISCONNECT_REASON__STATE_MISMATCH);
        return;
    }
    if (s->resuming) {
        s->resuming = false;
        sendReconnectResponse(s, room);
        return;
    }
    s->attached_once = true;
    sendJoinResponse(s, room, p);
    if (!s->v1) tbSubOffer(s); /* the subscriber PC with its data channels */
    subscribeToRoom(s, room);
    if (s->join && s->join->publisher_offer) tbSessionAnswer(s, s->join->publisher_offer);
    if (s->join) livekit__join_request__free_unpacked(s->join, NULL);
    s->join = NULL;
    p->state = TB_PARTICIPANT_ACTIVE;
    tbSignalHubBroadcastParticipant(s->hub, s->room, p, s);
    tbSignalHubSendSpeakers(s->hub, s);
    tbWebhookParticipantJoined(s->hub->api->webhook, room, p);
}

/* ---- messages ------------------------------------------------------------------ */

static void onPing(tbSignalSession *s, const Livekit__SignalRequest *req) {
    Livekit__SignalResponse r;
    livekit__signal_response__init(&r);
    Livekit__Pong pong;
    if (req->message_case == LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING) {
        r.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG;
        r.pong = nowMs(s);
    } else {
        livekit__pong__init(&pong);
        pong.last_ping_timestamp = req->ping_req ? req->ping_req->timestamp : 0;
        pong.timestamp = nowMs(s);
        r.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG_RESP;
        r.pong_resp = &pong;
    }
    tbSessionSend(s, &r);
}

static void onAddTrack(tbSignalSession *s, const Livekit__AddTrackRequest *req) {
    tbParticipant *p = tbSessionParticipant(s);
    int max = s->hub->api->config->limit.num_tracks;
    if (!p || !p->permission.can_publish) {
        tbWarn("signal", "%s may not publish: add_track ignored", s->identity);
        return;
    }
    if (max > 0 && p->num_tracks >= (size_t)max) {
        tbWarn("signal", "%s: limit.num_tracks (%d) reached", s->identity, max);
        return;
    }
    bool audio = req->type == LIVEKIT__TRACK_TYPE__AUDIO;
    tbTrack *t = tbParticipantAddTrack(p, req->name, req->type, req->source,
                                       audio ? "audio/opus" : "");
    if (!t) return;
    snprintf(t->cid, sizeof t->cid, "%s", req->cid);
    t->muted = req->muted;
    t->media_id = tbSignalHubNextId(s->hub);
    Livekit__TrackPublishedResponse tp;
    livekit__track_published_response__init(&tp);
    tp.cid = req->cid;
    tp.track = tbTrackToProto(t);
    tbSessionSendMessage(s, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRACK_PUBLISHED, &tp);
    livekit__track_info__free_unpacked(tp.track, NULL);
}

static void onMute(tbSignalSession *s, const Livekit__MuteTrackRequest *req) {
    tbParticipant *p = tbSessionParticipant(s);
    tbTrack *t = p ? tbParticipantFindTrack(p, req->sid) : NULL;
    if (!t || t->muted == req->muted) return;
    t->muted = req->muted;
    p->version++;
    tbMediaSetMuted(s->hub->media, s->room_media_id, t->media_id, t->muted);
    tbSignalHubBroadcastParticipant(s->hub, s->room, p, NULL);
}

static void onUpdateMetadata(tbSignalSession *s, const Livekit__UpdateParticipantMetadata *req) {
    tbParticipant *p = tbSessionParticipant(s);
    if (!p || !p->permission.can_update_metadata) return;
    if (req->metadata && *req->metadata) tbParticipantSetMetadata(p, req->metadata);
    if (req->name && *req->name) tbParticipantSetName(p, req->name);
    for (size_t i = 0; i < req->n_attributes; i++)
        tbParticipantMergeAttribute(p, req->attributes[i]->key, req->attributes[i]->value);
    tbSignalHubBroadcastParticipant(s->hub, s->room, p, NULL);
}

static void onSubscription(tbSignalSession *s, const Livekit__UpdateSubscription *req) {
    for (size_t i = 0; i < req->n_track_sids; i++)
        tbSessionSetSubscribed(s, req->track_sids[i], req->subscribe);
    for (size_t i = 0; i < req->n_participant_tracks; i++) {
        const Livekit__ParticipantTracks *pt = req->participant_tracks[i];
        for (size_t j = 0; j < pt->n_track_sids; j++)
            tbSessionSetSubscribed(s, pt->track_sids[j], req->subscribe);
    }
}

static void dispatch(tbSignalSession *s, const Livekit__SignalRequest *req) {
    switch (req->message_case) {
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_OFFER: tbSessionAnswer(s, req->offer); break;
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_ANSWER:
        if (!s->v1) tbSubOnAnswer(s, req->answer);
        break;
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_ADD_TRACK: onAddTrack(s, req->add_track); break;
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_MUTE: onMute(s, req->mute); break;
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_SUBSCRIPTION: onSubscription(s, req->subscription); break;
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING:
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING_REQ: onPing(s, req); break;
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_UPDATE_METADATA:
        onUpdateMetadata(s, req->update_metadata);
        break;
    case LIVEKIT__SIGNAL_REQUEST__MESSAGE_LEAVE:
        tbInfo("signal", "%s leaves %s", s->identity, s->room);
        tbSignalHubRemoveParticipant(s->hub, s->room, s->identity,
                                     LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED);
        if (s->conn) s->io->close(s->conn, 1000, "leave");
        s->closing = true;
        break;
    default:
        /* trickle (ICE-lite learns addresses from checks), track settings
         * (video quality) and subscription permissions: nothing to do for an
         * audio SFU yet */
        tbDebug("signal", "%s: message %d ignored", s->identity, (int)req->message_case);
        break;
    }
}

void tbSignalOnMessage(tbSignalSession *s, const uint8_t *data, size_t len, bool text) {
    Livekit__SignalRequest *req = NULL;
    char err[256] = "";
    if (s->relay) {
        tbRelayOnMessage(s, data, len, text);
        return;
    }
    if (s->closing) return;
    s->text = text;
    if (tbSignalDecodeRequest(data, len, text, &req, err, sizeof err) != 0) {
        s->hub->api->metrics->signal_bad_messages++;
        tbWarn("signal", "%s: undecodable %s message of %zu bytes dropped: %s", s->identity,
               text ? "text" : "binary", len, err);
        return;
    }
    dispatch(s, req);
    livekit__signal_request__free_unpacked(req, NULL);
}

/* ---- teardown ------------------------------------------------------------------- */

static void unlinkSession(tbSignalHub *hub, tbSignalSession *s) {
    for (tbSignalSession **pp = &hub->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            return;
        }
    }
}

static void freeSession(tbSignalSession *s);

void tbSignalOnClosed(tbSignalSession *s, bool clean) {
    s->conn = NULL;
    if (s->relay) {
        tbRelayOnClosed(s, clean);
        return;
    }
    if (!clean && tbSessionParticipant(s) && s->attached_once && !s->closing) {
        /* kept for a resume; tbSignalHubSweep ends it after the grace period */
        if (!s->detached_ms) s->detached_ms = nowMs(s);
        s->resuming = false;
        tbInfo("signal", "%s lost its signaling connection: kept %d s for a resume",
               s->identity, TB_SIGNAL_RESUME_MS / 1000);
        return;
    }
    freeSession(s);
}

void tbSignalHubSweep(tbSignalHub *hub, int64_t now_ms) {
    tbRelaySweep(hub);
    for (tbSignalSession *s = hub->sessions, *next; s; s = next) {
        next = s->next;
        if (s->conn || !s->detached_ms || now_ms - s->detached_ms < TB_SIGNAL_RESUME_MS)
            continue;
        tbInfo("signal", "%s did not resume within %d s", s->identity,
               TB_SIGNAL_RESUME_MS / 1000);
        s->closing = true;
        freeSession(s);
    }
}

static void freeSession(tbSignalSession *s) {
    tbSignalHub *hub = s->hub;
    if (tbSessionParticipant(s)) {
        tbInfo("signal", "%s disconnected from %s", s->identity, s->room);
        tbSignalHubRemoveParticipant(hub, s->room, s->identity,
                                     LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED);
    }
    if (s->transport_added) tbMediaRemoveTransport(hub->media, s->room_media_id, s->transport_id);
    if (s->sub_added)
        tbMediaRemoveTransport(hub->media, s->room_media_id, s->sub_transport_id);
    if (s->udp_fd >= 0) close(s->udp_fd); /* never handed to the media plane */
    if (s->sub_udp_fd >= 0) close(s->sub_udp_fd);
    if (s->join) livekit__join_request__free_unpacked(s->join, NULL);
    unlinkSession(hub, s);
    free(s);
}
