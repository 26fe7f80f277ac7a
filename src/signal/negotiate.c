/* negotiate.c — SDP offer/answer for a session on /rtc/v1, where the client
 * is always the offerer:
 *  - the first offer creates the media transport (ICE credentials, DTLS
 *    fingerprint and role from the offer, ours in the answer);
 *  - a client sendonly audio section whose msid track id is an AddTrack cid
 *    publishes that track: the media plane forwards it and every other
 *    participant is asked to make room for it;
 *  - remote tracks go out on the client's recvonly audio sections, answered
 *    sendonly with msid "PA_x|TR_y" and our SSRC, listed in mid_to_track_id;
 *    when there are not enough such sections the client is sent
 *    media_sections_requirement and re-offers (as livekit-server does). */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice/ice_lite.h"
#include "media/udp.h"
#include "sdp/sdp.h"
#include "signal/session_internal.h"
#include "util/log.h"

uint32_t tbSessionRandomSsrc(void) {
    uint32_t v = 0;
    while (v == 0) RAND_bytes((unsigned char *)&v, sizeof v);
    return v;
}

static tbDownSection *downByMid(tbSignalSession *s, const char *mid) {
    for (size_t i = 0; i < s->num_down; i++)
        if (strcmp(s->down[i].mid, mid) == 0) return &s->down[i];
    return NULL;
}

static tbDownSection *downByTrack(tbSignalSession *s, const char *track_sid) {
    for (size_t i = 0; i < s->num_down; i++)
        if (strcmp(s->down[i].track_sid, track_sid) == 0) return &s->down[i];
    return NULL;
}

static void sendRequirement(tbSignalSession *s, uint32_t audios) {
    Livekit__MediaSectionsRequirement req;
    livekit__media_sections_requirement__init(&req);
    req.num_audios = audios;
    Livekit__SignalResponse r;
    livekit__signal_response__init(&r);
    r.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_MEDIA_SECTIONS_REQUIREMENT;
    r.media_sections_requirement = &req;
    s->requested += audios;
    tbSessionSend(s, &r);
}

/* Asks the client for a new offer with room for every pending track. */
static void renegotiate(tbSignalSession *s) {
    if (!s->conn || s->join) return; /* the join's offer is answered next */
    size_t have = s->free_recv + s->requested;
    sendRequirement(s, s->num_pending > have ? (uint32_t)(s->num_pending - have) : 0);
}

void tbSessionWantTrack(tbSignalSession *s, const tbParticipant *owner, const tbTrack *t) {
    if (!s->v1) {
        tbSubWantTrack(s, owner, t);
        return;
    }
    if (t->type != 0 || downByTrack(s, t->sid)) return; /* audio only */
    for (size_t i = 0; i < s->num_pending; i++)
        if (strcmp(s->pending[i], t->sid) == 0) return;
    if (s->num_pending == TB_MAX_DOWN) return;
    memcpy(s->pending[s->num_pending++], t->sid, TB_SID_LEN);
    renegotiate(s);
}

void tbSessionRequestPending(tbSignalSession *s) {
    if (!s->v1)
        tbSubOffer(s);
    else if (s->num_pending > 0)
        renegotiate(s);
}

void tbSessionDropTrack(tbSignalSession *s, const char *track_sid) {
    if (!s->v1) {
        tbSubDropTrack(s, track_sid);
        return;
    }
    for (size_t i = 0; i < s->num_pending; i++) {
        if (strcmp(s->pending[i], track_sid) != 0) continue;
        memmove(s->pending[i], s->pending[i + 1], (s->num_pending - i - 1) * TB_SID_LEN);
        s->num_pending--;
        return;
    }
    tbDownSection *d = downByTrack(s, track_sid);
    if (!d) return;
    if (d->subscribed)
        tbMediaUnsubscribe(s->hub->media, s->room_media_id, s->transport_id, d->track_media_id);
    d->track_sid[0] = d->participant_sid[0] = '\0';
    d->subscribed = false;
    renegotiate(s); /* the section goes inactive */
}

/* ---- the transport --------------------------------------------------------------- */

/* Our ICE credentials, drawn once per session (they go in every answer),
 * and in port-range mode (no rtc.udp_port) the session's own UDP port. */
static void drawCredentials(tbSignalSession *s) {
    tbIceLite tmp; /* only to draw fresh random credentials */
    if (tbIceLiteInit(&tmp, 0) != 0) return;
    snprintf(s->ice_ufrag, sizeof s->ice_ufrag, "%s", tmp.local_ufrag);
    snprintf(s->ice_pwd, sizeof s->ice_pwd, "%s", tmp.local_pwd);
    s->ice_ufrag[0] = tbMediaUfragTag(s->hub->media, s->room_media_id);
}

/* An offer with new ICE credentials on a running transport is an ICE
 * restart (the SDK sends one after a resume): both sides change
 * credentials (RFC 8839 §4.4.1.1.1); DTLS and SRTP carry on. */
static void maybeIceRestart(tbSignalSession *s, const tbSdp *offer) {
    tbSdpTransportInfo ti;
    if (!s->transport_added || !tbSdpTransport(offer, &ti) ||
        strcmp(ti.ice_ufrag, s->remote_ufrag) == 0)
        return;
    drawCredentials(s);
    snprintf(s->remote_ufrag, sizeof s->remote_ufrag, "%s", ti.ice_ufrag);
    tbInfo("signal", "%s: ICE restart", s->identity);
    tbMediaIceRestart(s->hub->media, s->room_media_id, s->transport_id, s->ice_ufrag, s->ice_pwd,
                      ti.ice_ufrag, ti.ice_pwd);
}

static int ensureCredentials(tbSignalSession *s) {
    if (s->ice_ufrag[0]) return 0;
    const tbRtcConfig *rtc = &s->hub->api->config->rtc;
    s->udp_port = rtc->udp_port;
    if (rtc->udp_port <= 0) {
        s->udp_fd = tbUdpOpenInRange(rtc->port_range_start, rtc->port_range_end, &s->udp_port);
        if (s->udp_fd < 0) {
            tbWarn("signal", "%s: no free UDP port in %d-%d", s->identity,
                   rtc->port_range_start, rtc->port_range_end);
            return -1;
        }
    }
    drawCredentials(s);
    return s->ice_ufrag[0] ? 0 : -1;
}

void tbSessionTransportSpec(const tbSignalSession *s, uint32_t transport_id, const char *ufrag,
                            const char *pwd, const tbSdpTransportInfo *remote,
                            tbMediaTransportSpec *spec) {
    memset(spec, 0, sizeof *spec);
    spec->transport_id = transport_id;
    spec->room_id = s->room_media_id;
    snprintf(spec->local_ufrag, sizeof spec->local_ufrag, "%s", ufrag);
    snprintf(spec->local_pwd, sizeof spec->local_pwd, "%s", pwd);
    snprintf(spec->remote_ufrag, sizeof spec->remote_ufrag, "%s", remote->ice_ufrag);
    snprintf(spec->remote_pwd, sizeof spec->remote_pwd, "%s", remote->ice_pwd);
    snprintf(spec->remote_fingerprint, sizeof spec->remote_fingerprint, "%s %s",
             remote->fingerprint->alg, remote->fingerprint->hex);
}

/* The first answer creates the media transport, with the DTLS role the
 * answer took (active to the browsers' actpass: we are the DTLS client). */
static int ensureTransport(tbSignalSession *s, const tbSdp *offer, const tbSdpAnswer *a) {
    tbSdpTransportInfo ti;
    if (!tbSdpTransport(offer, &ti)) {
        tbWarn("signal", "%s: offer without ICE credentials or DTLS fingerprint", s->identity);
        return -1;
    }
    if (s->transport_added) return 0; /* ICE restarts: maybeIceRestart */
    snprintf(s->remote_ufrag, sizeof s->remote_ufrag, "%s", ti.ice_ufrag);
    tbMediaTransportSpec spec;
    tbSessionTransportSpec(s, s->transport_id, s->ice_ufrag, s->ice_pwd, &ti, &spec);
    spec.dtls_role =
        a->setup == TB_SDP_SETUP_PASSIVE ? TB_MEDIA_DTLS_SERVER : TB_MEDIA_DTLS_CLIENT;
    spec.fd = s->udp_fd;
    s->udp_fd = -1; /* the media plane owns it now */
    for (size_t i = 0; i < a->num_mids; i++) {
        if (a->mids[i].kind == TB_SDP_KIND_APPLICATION && a->mids[i].accepted) {
            spec.data = true;
            spec.sctp_port = a->mids[i].sctp_port;
        }
    }
    tbMediaAddTransport(s->hub->media, &spec);
    s->transport_added = true;
    return 0;
}

/* ---- planning the answer ----------------------------------------------------------- */

const tbParticipant *tbSessionTrackOwner(const tbRoom *room, const char *track_sid,
                                        const tbTrack **track) {
    for (const tbParticipant *p = room->participants; p; p = p->next)
        for (const tbTrack *t = p->tracks; t; t = t->next)
            if (strcmp(t->sid, track_sid) == 0) {
                *track = t;
                return p;
            }
    return NULL;
}

/* Gives the next pending track a free recvonly section `mid`. */
static tbDownSection *assignPending(tbSignalSession *s, const tbRoom *room, const char *mid) {
    while (s->num_pending > 0 && s->num_down < TB_MAX_DOWN) {
        char sid[TB_SID_LEN];
        memcpy(sid, s->pending[0], TB_SID_LEN);
        memmove(s->pending[0], s->pending[1], (s->num_pending - 1) * TB_SID_LEN);
        s->num_pending--;
        const tbTrack *t = NULL;
        const tbParticipant *owner = tbSessionTrackOwner(room, sid, &t);
        if (!owner || !t->published) continue; /* gone meanwhile */
        tbDownSection *d = downByMid(s, mid);
        if (!d) d = &s->down[s->num_down++];
        memset(d, 0, sizeof *d);
        snprintf(d->mid, sizeof d->mid, "%s", mid);
        memcpy(d->track_sid, t->sid, TB_SID_LEN);
        memcpy(d->participant_sid, owner->sid, TB_SID_LEN);
        d->track_media_id = t->media_id;
        d->ssrc = tbSessionRandomSsrc();
        return d;
    }
    return NULL;
}

/* Decides, for each recvonly audio section of the offer, what we send on it. */
static void planSections(tbSignalSession *s, const tbRoom *room, const tbSdp *offer,
                         tbSdpAnswerParams *p) {
    s->free_recv = 0;
    for (size_t i = 0; i < offer->num_sections; i++) {
        const tbSdpSection *sec = &offer->sections[i];
        if (sec->kind != TB_SDP_KIND_AUDIO || !sec->mid || sec->port == 0) continue;
        if (sec->direction != TB_SDP_DIR_RECVONLY && sec->direction != TB_SDP_DIR_SENDRECV)
            continue;
        tbDownSection *d = downByMid(s, sec->mid);
        if (!d || !d->track_sid[0]) d = assignPending(s, room, sec->mid);
        if (d)
            tbSdpAnswerSetSend(p, sec->mid, d->ssrc, d->participant_sid, d->track_sid,
                               d->participant_sid); /* cname: the publisher */
        else if (sec->direction == TB_SDP_DIR_RECVONLY)
            s->free_recv++;
    }
}

/* A host candidate per address: UDP on rtc.udp_port, passive ICE-TCP on
 * rtc.tcp_port (RFC 6544) when set. */
void tbSessionCandidates(tbSignalSession *s, int udp, char lines[][128], const char **ptrs,
                         size_t *n) {
    const tbConfig *cfg = s->hub->api->config;
    *n = 0;
    for (int proto = 0; proto < 2; proto++) {
        if (proto == TB_ICE_TCP && (cfg->rtc.tcp_port <= 0 || !tbMediaTcpActive(s->hub->media)))
            break;
        for (size_t i = 0; i < s->hub->addrs.len; i++) {
            uint32_t prio = tbIceCandidatePriority(
                TB_ICE_TYPE_PREF_HOST, tbIceLocalPreference((tbIceProto)proto, (unsigned)i), 1);
            char found[8];
            snprintf(found, sizeof found, "%u", (unsigned)(proto * 100 + i + 1) % 1000);
            int len = proto == TB_ICE_UDP
                          ? tbIceCandidateFormat(lines[*n], 128, found, 1, "udp", prio,
                                                 s->hub->addrs.ip[i], (uint16_t)udp, "host", NULL)
                          : tbIceCandidateFormat(lines[*n], 128, found, 1, "tcp", prio,
                                                 s->hub->addrs.ip[i],
                                                 (uint16_t)cfg->rtc.tcp_port, "host", "passive");
            if (len > 0) {
                ptrs[*n] = lines[*n];
                (*n)++;
            }
        }
    }
}

/* ---- after the answer: publishing and subscribing ----------------------------------- */

static tbTrack *trackByCid(tbParticipant *p, const char *cid) {
    for (tbTrack *t = p->tracks; t; t = t->next)
        if (cid && *cid && strcmp(t->cid, cid) == 0) return t;
    return NULL;
}

static void wantEverywhere(tbSignalSession *s, const tbParticipant *p, const tbTrack *t) {
    for (tbSignalSession *o = s->hub->sessions; o; o = o->next) {
        if (o == s || strcmp(o->room, s->room) != 0 || o->closing) continue;
        tbParticipant *op = tbSessionParticipant(o);
        if (op && op->permission.can_subscribe) tbSessionWantTrack(o, p, t);
    }
}

static void publishSection(tbSignalSession *s, tbParticipant *p, const tbSdpMidInfo *mi) {
    tbTrack *t = trackByCid(p, mi->client_track_id);
    if (!t || t->published || mi->opus_pt < 0) return;
    tbMediaPublishSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.transport_id = s->transport_id;
    spec.track_id = t->media_id;
    spec.ssrc = mi->client_ssrc;
    snprintf(spec.mid, sizeof spec.mid, "%s", mi->mid);
    spec.payload_type = (uint8_t)mi->opus_pt;
    spec.red_pt = mi->red_pt > 0 ? (uint8_t)mi->red_pt : 0;
    spec.audio_level_ext = mi->audio_level_ext;
    spec.mid_ext = mi->mid_ext;
    tbMediaPublish(s->hub->media, s->room_media_id, &spec);
    t->published = true;
    snprintf(t->mid, sizeof t->mid, "%s", mi->mid);
    p->version++;
    tbInfo("signal", "%s publishes %s on mid %s (ssrc %u)", s->identity, t->sid, mi->mid,
           mi->client_ssrc);
    tbSignalHubBroadcastParticipant(s->hub, s->room, p, s);
    tbWebhookTrackPublished(s->hub->api->webhook, tbSessionRoom(s), p, t);
    wantEverywhere(s, p, t);
}

void tbSessionMediaSubscribe(tbSignalSession *s, tbDownSection *d, uint32_t transport_id) {
    tbMediaSubscribeSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.transport_id = transport_id;
    spec.track_id = d->track_media_id;
    spec.ssrc = d->ssrc;
    snprintf(spec.mid, sizeof spec.mid, "%s", d->mid);
    spec.payload_type = d->pt;
    spec.red_pt = d->red_pt;
    spec.audio_level_ext = d->audio_level_ext;
    spec.mid_ext = d->mid_ext;
    tbMediaSubscribe(s->hub->media, s->room_media_id, &spec);
    d->subscribed = true;
}

static void subscribeSection(tbSignalSession *s, const tbSdpMidInfo *mi) {
    tbDownSection *d = downByMid(s, mi->mid);
    if (!d || !d->track_sid[0] || d->subscribed || !mi->accepted) return;
    d->pt = mi->opus_pt >= 0 ? (uint8_t)mi->opus_pt : 111;
    d->red_pt = mi->red_pt > 0 ? (uint8_t)mi->red_pt : 0;
    d->audio_level_ext = mi->audio_level_ext;
    d->mid_ext = mi->mid_ext;
    tbSessionMediaSubscribe(s, d, s->transport_id);
}

/* As livekit-server does it: unsubscribing frees the track's section (the
 * next answer leaves it inactive, the SDK sees TrackUnsubscribed);
 * subscribing again queues the track like a new one. */
void tbSessionSetSubscribed(tbSignalSession *s, const char *track_sid, bool on) {
    if (!on) {
        tbSessionDropTrack(s, track_sid);
        return;
    }
    tbRoom *room = tbSessionRoom(s);
    tbParticipant *me = tbSessionParticipant(s);
    const tbTrack *t = NULL;
    const tbParticipant *owner = room ? tbSessionTrackOwner(room, track_sid, &t) : NULL;
    if (!me || !me->permission.can_subscribe) return; /* UpdateParticipant may revoke it */
    if (owner && t->published && owner->session != s) tbSessionWantTrack(s, owner, t);
}

/* A published track whose section no longer sends (the client removed it). */
static void unpublishGone(tbSignalSession *s, tbParticipant *p, const tbSdpAnswer *a) {
    tbTrack *t = p->tracks;
    while (t) {
        tbTrack *next = t->next;
        const tbSdpMidInfo *mi = t->published ? tbSdpAnswerFindMid(a, t->mid) : NULL;
        if (t->published && (!mi || mi->answer_dir != TB_SDP_DIR_RECVONLY || !mi->accepted))
            tbSignalHubUnpublish(s->hub, s->room, p, t->sid);
        t = next;
    }
}

static void applyAnswer(tbSignalSession *s, const tbSdpAnswer *a) {
    tbParticipant *p = tbSessionParticipant(s);
    if (p) unpublishGone(s, p, a);
    for (size_t i = 0; p && i < a->num_mids; i++) {
        const tbSdpMidInfo *mi = &a->mids[i];
        if (mi->kind != TB_SDP_KIND_AUDIO || !mi->accepted) continue;
        if (mi->answer_dir == TB_SDP_DIR_RECVONLY) publishSection(s, p, mi);
        if (mi->answer_dir == TB_SDP_DIR_SENDONLY) subscribeSection(s, mi);
    }
}

/* ---- the answer message --------------------------------------------------------------- */

void tbSessionSendDescription(tbSignalSession *s, const char *type, char *sdp, uint32_t id) {
    Livekit__SessionDescription sd;
    livekit__session_description__init(&sd);
    sd.type = (char *)type;
    sd.sdp = sdp;
    sd.id = id;
    Livekit__SessionDescription__MidToTrackIdEntry entries[TB_MAX_DOWN], *ptrs[TB_MAX_DOWN];
    for (size_t i = 0; i < s->num_down; i++) {
        if (!s->down[i].track_sid[0]) continue;
        Livekit__SessionDescription__MidToTrackIdEntry *e = &entries[sd.n_mid_to_track_id];
        livekit__session_description__mid_to_track_id_entry__init(e);
        e->key = s->down[i].mid;
        e->value = s->down[i].track_sid;
        ptrs[sd.n_mid_to_track_id++] = e;
    }
    sd.mid_to_track_id = ptrs;
    tbSessionSendMessage(s, strcmp(type, "offer") == 0 ? LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER
                                                       : LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ANSWER,
                         &sd);
}

static tbSdpAnswer *buildAnswer(tbSignalSession *s, const tbRoom *room, const tbSdp *offer) {
    tbSdpAnswerParams p;
    tbSdpAnswerParamsInit(&p);
    const char *fp = tbMediaFingerprint(s->hub->media);
    const char *space = strchr(fp, ' ');
    char lines[2 * TB_MAX_LOCAL_ADDRS][128];
    const char *cands[2 * TB_MAX_LOCAL_ADDRS];
    size_t ncands;
    tbSessionCandidates(s, s->udp_port, lines, cands, &ncands);
    p.ice_ufrag = s->ice_ufrag;
    p.ice_pwd = s->ice_pwd;
    p.fingerprint_sha256 = space ? space + 1 : fp;
    p.setup = TB_SDP_SETUP_ACTIVE;
    /* a rejected (port 0) section stops its transceiver, and livekit-client then
     * fails its next createOffer ("Transceiver not found based on m-line
     * index"): video is answered inactive instead, carrying nothing */
    p.video_inactive = true;
    p.allow_red = true; /* forwarded as RED, or unwrapped for clients without it */
    p.candidates = cands;
    p.num_candidates = ncands;
    p.session_id = s->transport_id;
    p.session_version = ++s->answer_version;
    planSections(s, room, offer, &p);
    tbSdpError err;
    tbSdpAnswer *a = tbSdpBuildAnswer(offer, &p, &err);
    if (!a) tbWarn("signal", "%s: cannot answer: %s (line %d)", s->identity, err.msg, err.line);
    tbSdpAnswerParamsFree(&p);
    return a;
}

int tbSessionAnswer(tbSignalSession *s, const Livekit__SessionDescription *offer) {
    tbRoom *room = tbSessionRoom(s);
    if (!room || !offer || !offer->sdp) return -1;
    tbSdpError err;
    tbSdp *sdp = tbSdpParse(offer->sdp, strlen(offer->sdp), &err);
    if (!sdp) {
        tbWarn("signal", "%s: bad offer: %s (line %d)", s->identity, err.msg, err.line);
        return -1;
    }
    s->requested = 0; /* whatever we asked for is in this offer (or never will be) */
    maybeIceRestart(s, sdp);
    tbSdpAnswer *a = ensureCredentials(s) == 0 ? buildAnswer(s, room, sdp) : NULL;
    if (a && ensureTransport(s, sdp, a) != 0) {
        tbSdpAnswerFree(a);
        a = NULL;
    }
    int rc = a ? 0 : -1;
    if (a) {
        tbDebug("signal", "%s: answer %u:\n%s", s->identity, offer->id, a->sdp);
        tbSessionSendDescription(s, "answer", a->sdp, offer->id);
        applyAnswer(s, a);
        if (s->v1 && s->num_pending > s->free_recv) renegotiate(s);
    }
    tbSdpAnswerFree(a);
    tbSdpFree(sdp);
    return rc;
}
