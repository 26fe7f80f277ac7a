/* subscriber.c — the subscriber peer connection of LiveKit's two-peer-
 * connection protocol (/rtc): tribune offers it, the client answers.
 *
 * The first offer goes out at join with only the data channel section
 * ("0"; the media plane opens the server's `_reliable` and `_lossy` channels
 * on it once SCTP is up). Every remote track the participant should hear
 * gets a sendonly Opus section (mids "1", "2", ...; a freed section turns
 * inactive and the next track reuses it) and a re-offer; the answer's
 * payload type and extension ids set up the media plane's subscription.
 * One offer is outstanding at a time: changes meanwhile re-offer after the
 * answer. The publisher peer connection is negotiate.c's, as under /rtc/v1
 * (the client offers, we answer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice/ice_lite.h"
#include "media/udp.h"
#include "sdp/sdp.h"
#include "sdp/sdp_offer.h"
#include "signal/session_internal.h"
#include "util/log.h"

uint32_t tbSessionDataTransport(const tbSignalSession *s) {
    return !s->v1 && s->sub_added ? s->sub_transport_id : s->transport_id;
}

/* Our ICE credentials (and in port-range mode a UDP port) for the
 * subscriber transport; distinct from the publisher's (ufrags demux). */
static int subCredentials(tbSignalSession *s) {
    if (s->sub_ufrag[0]) return 0;
    const tbRtcConfig *rtc = &s->hub->api->config->rtc;
    s->sub_udp_port = rtc->udp_port;
    if (rtc->udp_port <= 0) {
        s->sub_udp_fd = tbUdpOpenInRange(rtc->port_range_start, rtc->port_range_end,
                                         &s->sub_udp_port);
        if (s->sub_udp_fd < 0) return -1;
    }
    tbIceLite tmp;
    if (tbIceLiteInit(&tmp, 0) != 0) return -1;
    snprintf(s->sub_ufrag, sizeof s->sub_ufrag, "%s", tmp.local_ufrag);
    snprintf(s->sub_pwd, sizeof s->sub_pwd, "%s", tmp.local_pwd);
    s->sub_ufrag[0] = tbMediaUfragTag(s->hub->media, s->room_media_id);
    return 0;
}

static void sendOffer(tbSignalSession *s, char *sdp) {
    tbSessionSendDescription(s, "offer", sdp, ++s->sub_offer_id);
    s->sub_offer_pending = true;
}

void tbSubOffer(tbSignalSession *s) {
    if (!s->conn || s->closing) return;
    if (s->sub_offer_pending) {
        s->sub_reoffer = true;
        return;
    }
    if (subCredentials(s) != 0) {
        tbWarn("signal", "%s: no subscriber transport (no free UDP port)", s->identity);
        return;
    }
    tbSdpOfferSection secs[TB_MAX_DOWN + 1];
    memset(secs, 0, sizeof secs);
    secs[0] = (tbSdpOfferSection){.mid = "0", .application = true};
    for (size_t i = 0; i < s->num_down; i++) {
        const tbDownSection *d = &s->down[i];
        secs[i + 1] = (tbSdpOfferSection){.mid = d->mid, .active = d->track_sid[0] != 0,
                                          .ssrc = d->ssrc, .participant_sid = d->participant_sid,
                                          .track_sid = d->track_sid};
    }
    char lines[2 * TB_MAX_LOCAL_ADDRS][128];
    const char *cands[2 * TB_MAX_LOCAL_ADDRS];
    size_t ncands = 0;
    tbSessionCandidates(s, s->sub_udp_port, lines, cands, &ncands);
    const char *fp = strchr(tbMediaFingerprint(s->hub->media), ' ');
    tbSdpOfferParams p = {.ice_ufrag = s->sub_ufrag, .ice_pwd = s->sub_pwd,
                          .fingerprint_sha256 = fp ? fp + 1 : "", .candidates = cands,
                          .num_candidates = ncands, .session_id = s->sub_transport_id,
                          .session_version = ++s->sub_version, .sections = secs,
                          .num_sections = s->num_down + 1};
    char *sdp = tbSdpBuildOffer(&p, NULL);
    if (sdp == NULL) {
        tbWarn("signal", "%s: could not build the subscriber offer", s->identity);
        return;
    }
    sendOffer(s, sdp);
    free(sdp);
}

static tbDownSection *sectionFor(tbSignalSession *s) {
    for (size_t i = 0; i < s->num_down; i++)
        if (!s->down[i].track_sid[0] && !s->down[i].subscribed) return &s->down[i];
    if (s->num_down == TB_MAX_DOWN) return NULL;
    tbDownSection *d = &s->down[s->num_down];
    memset(d, 0, sizeof *d);
    snprintf(d->mid, sizeof d->mid, "%zu", ++s->num_down);
    return d;
}

void tbSubWantTrack(tbSignalSession *s, const tbParticipant *owner, const tbTrack *t) {
    if (t->type != 0) return; /* audio only */
    for (size_t i = 0; i < s->num_down; i++)
        if (strcmp(s->down[i].track_sid, t->sid) == 0) return;
    tbDownSection *d = sectionFor(s);
    if (d == NULL) return;
    memcpy(d->track_sid, t->sid, TB_SID_LEN);
    memcpy(d->participant_sid, owner->sid, TB_SID_LEN);
    d->track_media_id = t->media_id;
    d->ssrc = tbSessionRandomSsrc();
    d->subscribed = false;
    tbSubOffer(s);
}

void tbSubDropTrack(tbSignalSession *s, const char *track_sid) {
    for (size_t i = 0; i < s->num_down; i++) {
        tbDownSection *d = &s->down[i];
        if (strcmp(d->track_sid, track_sid) != 0) continue;
        if (d->subscribed)
            tbMediaUnsubscribe(s->hub->media, s->room_media_id, s->sub_transport_id,
                               d->track_media_id);
        d->track_sid[0] = d->participant_sid[0] = '\0';
        d->subscribed = false;
        tbSubOffer(s); /* the section goes inactive */
        return;
    }
}

/* The first answer creates the media transport (its DTLS role from the
 * answer's a=setup: active makes us the server). */
static int addTransport(tbSignalSession *s, const tbSdp *answer) {
    tbSdpTransportInfo ti;
    if (!tbSdpTransport(answer, &ti) || !ti.fingerprint || !ti.fingerprint->alg) return -1;
    tbMediaTransportSpec spec;
    tbSessionTransportSpec(s, s->sub_transport_id, s->sub_ufrag, s->sub_pwd, &ti, &spec);
    spec.dtls_role = ti.setup == TB_SDP_SETUP_PASSIVE ? TB_MEDIA_DTLS_CLIENT : TB_MEDIA_DTLS_SERVER;
    spec.fd = s->sub_udp_fd;
    s->sub_udp_fd = -1;
    const tbSdpSection *app = tbSdpFindMid(answer, "0");
    spec.data = app && app->port != 0;
    spec.sctp_port = app ? app->sctp_port : 0;
    spec.server_channels = true;
    tbMediaAddTransport(s->hub->media, &spec);
    s->sub_added = true;
    return 0;
}

static uint8_t extId(const tbSdpSection *sec, const char *uri) {
    for (size_t i = 0; i < sec->num_extmaps; i++)
        if (strcmp(sec->extmaps[i].uri, uri) == 0 && sec->extmaps[i].id < 15)
            return (uint8_t)sec->extmaps[i].id;
    return 0;
}

void tbSubOnAnswer(tbSignalSession *s, const Livekit__SessionDescription *answer) {
    if (!answer || !answer->sdp || answer->id != s->sub_offer_id) return; /* stale */
    s->sub_offer_pending = false; /* answered, usable or not: the next change re-offers */
    tbSdpError err;
    tbSdp *sdp = tbSdpParse(answer->sdp, strlen(answer->sdp), &err);
    if (!sdp) {
        tbWarn("signal", "%s: bad subscriber answer: %s (line %d)", s->identity, err.msg,
               err.line);
        return;
    }
    if (s->sub_added || addTransport(s, sdp) == 0) {
        for (size_t i = 0; i < s->num_down; i++) {
            tbDownSection *d = &s->down[i];
            const tbSdpSection *sec = tbSdpFindMid(sdp, d->mid);
            if (!d->track_sid[0] || d->subscribed || !sec || sec->port == 0) continue;
            const tbSdpCodec *opus = tbSdpFindCodec(sec, "opus", 48000, 2);
            d->pt = opus ? opus->pt : TB_SDP_OFFER_OPUS_PT;
            d->red_pt = 0;
            d->audio_level_ext = extId(sec, TB_SDP_URI_AUDIO_LEVEL);
            d->mid_ext = extId(sec, TB_SDP_URI_MID);
            tbSessionMediaSubscribe(s, d, s->sub_transport_id);
        }
    } else {
        tbWarn("signal", "%s: subscriber answer without ICE credentials or fingerprint",
               s->identity);
    }
    tbSdpFree(sdp);
    if (s->sub_reoffer) {
        s->sub_reoffer = false;
        tbSubOffer(s);
    }
}
