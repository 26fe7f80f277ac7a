/* sdp_answer.c — tribune's SDP answer to a WebRTC offer (see sdp.h):
 * per-mid decisions (Opus audio, rejected video, SCTP data channel), the
 * BUNDLE group of accepted sections, ICE-lite and DTLS parameters, and the
 * msid/ssrc lines of remote tracks sent to the client, which livekit-client
 * maps by msid "PA_xxx|TR_xxx". Hand-written (see sdp.c). Pure code. */
#include "ice/ice_lite.h"  /* tbIceIsIceChars: RFC 8839 ice-chars */
#include "sdp/sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/sbuf.h"

typedef struct sdpBuild {
    const tbSdp *offer;
    const tbSdpAnswerParams *p;
    tbSdpAnswer *ans;
    tbSbuf out;
    bool overflow;                  /* a line did not fit */
    size_t cand_section;            /* the tagged section, SIZE_MAX = no answer group */
} sdpBuild;

static int ansErr(tbSdpError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int ansErr(tbSdpError *err, const char *fmt, ...) {
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    err->line = 0;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Appends one line and its CRLF. */
static void out(sdpBuild *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(sdpBuild *b, const char *fmt, ...) {
    char line[TB_SDP_MAX_LINE + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        b->overflow = true;
        return;
    }
    tbSbufAppend(&b->out, line, (size_t)n);
    tbSbufAppend(&b->out, "\r\n", 2);
}

/* ---- params ------------------------------------------------------------- */

void tbSdpAnswerParamsInit(tbSdpAnswerParams *p) {
    memset(p, 0, sizeof *p);
    p->setup = TB_SDP_SETUP_ACTIVE;
    p->ice_lite = true;
    p->sctp_port = 5000;
    p->max_message_size = 262144;
}

void tbSdpAnswerParamsFree(tbSdpAnswerParams *p) {
    free(p->plans);
    p->plans = NULL;
    p->num_plans = p->cap_plans = 0;
}

/* Non-empty, shorter than max, printable ASCII without spaces. */
static bool ansToken(const char *s, size_t max) {
    size_t n = 0;
    if (!s) return false;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f) return false;
    return n > 0 && n < max;
}

static const tbSdpMidPlan *planFind(const tbSdpAnswerParams *p, const char *mid) {
    for (size_t i = 0; mid && i < p->num_plans; i++)
        if (strcmp(p->plans[i].mid, mid) == 0) return &p->plans[i];
    return NULL;
}

static tbSdpMidPlan *planFor(tbSdpAnswerParams *p, const char *mid) {
    if (!ansToken(mid, TB_SDP_MAX_MID)) return NULL;
    tbSdpMidPlan *found = (tbSdpMidPlan *)planFind(p, mid);
    if (found) return found;
    if (p->num_plans == p->cap_plans) {
        size_t cap = p->cap_plans ? p->cap_plans * 2 : 8;
        tbSdpMidPlan *np = realloc(p->plans, cap * sizeof *np);
        if (!np) return NULL;
        p->plans = np;
        p->cap_plans = cap;
    }
    tbSdpMidPlan *plan = &p->plans[p->num_plans++];
    memset(plan, 0, sizeof *plan);
    memcpy(plan->mid, mid, strlen(mid) + 1);
    return plan;
}

int tbSdpAnswerSetSend(tbSdpAnswerParams *p, const char *mid, uint32_t ssrc,
                       const char *participant_sid, const char *track_sid, const char *cname) {
    if (ssrc == 0 || !ansToken(participant_sid, TB_SDP_MAX_ID) ||
        !ansToken(track_sid, TB_SDP_MAX_ID) || !ansToken(cname, TB_SDP_MAX_ID))
        return -1;
    tbSdpMidPlan *plan = planFor(p, mid);
    if (!plan) return -1;
    plan->send = true;
    plan->ssrc = ssrc;
    memcpy(plan->participant_sid, participant_sid, strlen(participant_sid) + 1);
    memcpy(plan->track_sid, track_sid, strlen(track_sid) + 1);
    memcpy(plan->cname, cname, strlen(cname) + 1);
    return 0;
}

int tbSdpAnswerSetRecv(tbSdpAnswerParams *p, const char *mid, bool recv) {
    tbSdpMidPlan *plan = planFor(p, mid);
    if (!plan) return -1;
    plan->no_recv = !recv;
    return 0;
}

int tbSdpAnswerSetReject(tbSdpAnswerParams *p, const char *mid) {
    tbSdpMidPlan *plan = planFor(p, mid);
    if (!plan) return -1;
    plan->reject = true;
    return 0;
}

/* "XX:XX:...": 32 hex pairs. */
static bool ansFingerprint(const char *s) {
    if (!s || strlen(s) != 32 * 3 - 1) return false;
    for (size_t i = 0; i < 32 * 3 - 1; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (i % 3 == 2 ? c != ':' : !hex) return false;
    }
    return true;
}

/* A candidate string without "a=" / "candidate:", NULL if unusable. */
static const char *ansCandidate(const char *c) {
    if (!c) return NULL;
    if (strncmp(c, "a=", 2) == 0) c += 2;
    if (strncmp(c, "candidate:", 10) == 0) c += 10;
    size_t n = strlen(c);
    if (n == 0 || n > 1024) return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] >= 0x7f) return NULL;
    return c;
}

static int ansCheckParams(const tbSdpAnswerParams *p, tbSdpError *err) {
    if (!tbIceIsIceChars(p->ice_ufrag, 4, 256))
        return ansErr(err, "ice_ufrag: need 4-256 ice-chars");
    if (!tbIceIsIceChars(p->ice_pwd, 22, 256)) return ansErr(err, "ice_pwd: need 22-256 ice-chars");
    if (!ansFingerprint(p->fingerprint_sha256))
        return ansErr(err, "fingerprint_sha256: need 32 colon-separated hex bytes");
    if (p->setup != TB_SDP_SETUP_ACTIVE && p->setup != TB_SDP_SETUP_PASSIVE)
        return ansErr(err, "setup: must be active or passive");
    for (size_t i = 0; i < p->num_candidates; i++)
        if (!ansCandidate(p->candidates ? p->candidates[i] : NULL))
            return ansErr(err, "candidate %zu: empty, too long or has control characters", i);
    return 0;
}

/* ---- decisions ---------------------------------------------------------- */

static tbSdpDirection ansDirection(tbSdpDirection offer, const tbSdpMidPlan *plan) {
    bool client_sends = offer == TB_SDP_DIR_SENDRECV || offer == TB_SDP_DIR_SENDONLY;
    bool client_recvs = offer == TB_SDP_DIR_SENDRECV || offer == TB_SDP_DIR_RECVONLY;
    bool we_send = client_recvs && plan && plan->send;
    bool we_recv = client_sends && !(plan && plan->no_recv);
    if (we_send && we_recv) return TB_SDP_DIR_SENDRECV;
    if (we_send) return TB_SDP_DIR_SENDONLY;
    if (we_recv) return TB_SDP_DIR_RECVONLY;
    return TB_SDP_DIR_INACTIVE;
}

static bool ansSends(tbSdpDirection d) {
    return d == TB_SDP_DIR_SENDRECV || d == TB_SDP_DIR_SENDONLY;
}

static bool ansRecvs(tbSdpDirection d) {
    return d == TB_SDP_DIR_SENDRECV || d == TB_SDP_DIR_RECVONLY;
}

static void ansCopyId(char dst[TB_SDP_MAX_ID], const char *src, size_t n) {
    if (src && n < TB_SDP_MAX_ID) {
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
}

/* The client's msid: a=msid, else the msid of its media SSRC. */
static void ansClientMsid(const tbSdpSection *s, tbSdpMidInfo *mi) {
    const char *stream = s->msid_stream, *track = s->msid_track;
    for (size_t i = 0; !stream && i < s->num_ssrcs; i++) {
        const tbSdpSsrc *x = &s->ssrcs[i];
        if (x->ssrc != mi->client_ssrc || strcmp(x->attr, "msid") != 0 || !x->value) continue;
        const char *sp = strchr(x->value, ' ');
        ansCopyId(mi->client_stream_id, x->value, sp ? (size_t)(sp - x->value) : strlen(x->value));
        if (sp) ansCopyId(mi->client_track_id, sp + 1, strlen(sp + 1));
        return;
    }
    if (stream) ansCopyId(mi->client_stream_id, stream, strlen(stream));
    if (track) ansCopyId(mi->client_track_id, track, strlen(track));
}

static bool ansAudio(const tbSdpAnswerParams *p, const tbSdpSection *s, const tbSdpMidPlan *plan,
                     tbSdpMidInfo *mi) {
    const tbSdpCodec *opus = tbSdpFindCodec(s, "opus", 48000, 2);
    const tbSdpCodec *red = p->allow_red ? tbSdpFindCodec(s, "red", 48000, 2) : NULL;
    if (!opus || s->proto != TB_SDP_PROTO_RTP || !s->rtcp_mux) return false;
    mi->opus_pt = opus->pt;
    mi->red_pt = red ? red->pt : -1;
    mi->audio_level_ext = (uint8_t)tbSdpFindExtmap(s, TB_SDP_URI_AUDIO_LEVEL);
    mi->mid_ext = (uint8_t)tbSdpFindExtmap(s, TB_SDP_URI_MID);
    mi->twcc_ext = p->allow_transport_cc ? (uint8_t)tbSdpFindExtmap(s, TB_SDP_URI_TWCC) : 0;
    mi->answer_dir = ansDirection(s->direction, plan);
    if (ansRecvs(mi->answer_dir)) {
        mi->client_ssrc = tbSdpMediaSsrc(s);
        ansClientMsid(s, mi);
    }
    if (ansSends(mi->answer_dir)) mi->send_ssrc = plan->ssrc;
    return true;
}

/* The codec an inactive video answer names: the first real one. */
static const tbSdpCodec *ansVideoCodec(const tbSdpSection *s) {
    static const char *skip[] = {"", "rtx", "red", "ulpfec", "flexfec-03"};
    for (size_t i = 0; i < s->num_codecs; i++) {
        bool ok = true;
        for (size_t j = 0; j < sizeof skip / sizeof skip[0]; j++)
            if (strcasecmp(s->codecs[i].name, skip[j]) == 0) ok = false;
        if (ok) return &s->codecs[i];
    }
    return NULL;
}

/* Clears what was negotiated: the section is answered with port 0. */
static void ansReject(tbSdpMidInfo *mi) {
    tbSdpMidInfo keep = *mi;
    memset(mi, 0, sizeof *mi);
    memcpy(mi->mid, keep.mid, sizeof mi->mid);
    mi->kind = keep.kind;
    mi->offer_dir = keep.offer_dir;
    mi->answer_dir = TB_SDP_DIR_INACTIVE;
    mi->opus_pt = mi->red_pt = -1;
}

static void ansDecide(const tbSdpAnswerParams *p, const tbSdpSection *s, tbSdpMidInfo *mi) {
    const tbSdpMidPlan *plan = planFind(p, s->mid);
    bool ok = s->mid && (s->port || s->bundle_only) && !(plan && plan->reject);
    if (s->mid) memcpy(mi->mid, s->mid, strlen(s->mid) + 1); /* < TB_SDP_MAX_MID: parser */
    mi->kind = s->kind;
    mi->offer_dir = s->direction;
    mi->answer_dir = TB_SDP_DIR_INACTIVE;
    mi->opus_pt = mi->red_pt = -1;
    switch (s->kind) {
    case TB_SDP_KIND_AUDIO: ok = ok && ansAudio(p, s, plan, mi); break;
    case TB_SDP_KIND_VIDEO:
        ok = ok && p->video_inactive && s->proto == TB_SDP_PROTO_RTP && s->rtcp_mux &&
             ansVideoCodec(s);
        if (ok) mi->mid_ext = (uint8_t)tbSdpFindExtmap(s, TB_SDP_URI_MID);
        break;
    case TB_SDP_KIND_APPLICATION:
        ok = ok && (s->proto == TB_SDP_PROTO_SCTP || s->proto == TB_SDP_PROTO_SCTP_LEGACY);
        mi->sctp_port = s->sctp_port;
        mi->max_message_size = s->max_message_size;
        if (ok) mi->answer_dir = TB_SDP_DIR_SENDRECV;
        break;
    default: ok = false; break;
    }
    if (ok) mi->accepted = true;
    else ansReject(mi);
}

static bool ansInBundle(const tbSdp *offer, const char *mid) {
    for (size_t i = 0; mid && i < offer->num_bundle_mids; i++)
        if (strcmp(offer->bundle_mids[i], mid) == 0) return true;
    return false;
}

/* RFC 8843 7.3.3: rejected sections leave the group; rejecting the
 * offerer-tagged section rejects every section of the group. */
static void ansBundle(sdpBuild *b) {
    const tbSdp *offer = b->offer;
    tbSdpAnswer *a = b->ans;
    b->cand_section = SIZE_MAX;
    if (!offer->num_bundle_mids) return;
    const tbSdpSection *tagged = tbSdpFindMid(offer, offer->bundle_mids[0]);
    size_t ti = (size_t)(tagged - offer->sections);
    for (size_t i = 0; i < a->num_mids; i++) {
        tbSdpMidInfo *mi = &a->mids[i];
        if (!ansInBundle(offer, offer->sections[i].mid)) continue;
        if (!a->mids[ti].accepted) ansReject(mi);
        mi->bundled = mi->accepted;
    }
    if (a->mids[ti].accepted) b->cand_section = ti;
}

/* ---- output ------------------------------------------------------------- */

static void outSession(sdpBuild *b) {
    const tbSdp *offer = b->offer;
    const tbSdpAnswerParams *p = b->p;
    char group[TB_SDP_MAX_LINE];
    size_t n = (size_t)snprintf(group, sizeof group, "a=group:BUNDLE");
    bool any = false;
    out(b, "v=0");
    out(b, "o=- %llu %llu IN IP4 127.0.0.1",
        (unsigned long long)(p->session_id ? p->session_id : 1),
        (unsigned long long)p->session_version);
    out(b, "s=-");
    out(b, "t=0 0");
    for (size_t i = 0; i < offer->num_bundle_mids; i++) {
        const tbSdpSection *s = tbSdpFindMid(offer, offer->bundle_mids[i]);
        const tbSdpMidInfo *mi = &b->ans->mids[s - offer->sections];
        if (!mi->bundled || n >= sizeof group) continue;
        n += (size_t)snprintf(group + n, sizeof group - n, " %s", mi->mid);
        any = true;
    }
    if (n >= sizeof group) b->overflow = true;
    else if (any) out(b, "%s", group);
    if (offer->extmap_allow_mixed) out(b, "a=extmap-allow-mixed");
    out(b, "a=msid-semantic: WMS");
    if (p->ice_lite) out(b, "a=ice-lite");
}

static void outTransport(sdpBuild *b, const tbSdpMidInfo *mi) {
    out(b, "a=ice-ufrag:%s", b->p->ice_ufrag);
    out(b, "a=ice-pwd:%s", b->p->ice_pwd);
    out(b, "a=fingerprint:sha-256 %s", b->p->fingerprint_sha256);
    out(b, "a=setup:%s", tbSdpSetupName(b->ans->setup));
    out(b, "a=mid:%s", mi->mid);
}

static void outCandidates(sdpBuild *b, size_t idx) {
    /* bundled sections share the tagged section's transport */
    if (b->cand_section != SIZE_MAX && b->cand_section != idx && b->ans->mids[idx].bundled) return;
    for (size_t i = 0; i < b->p->num_candidates; i++)
        out(b, "a=candidate:%s", ansCandidate(b->p->candidates[i]));
    out(b, "a=end-of-candidates");
}

static void outCodec(sdpBuild *b, const tbSdpSection *s, const tbSdpCodec *c, bool fbs) {
    if (c->channels) out(b, "a=rtpmap:%u %s/%u/%u", c->pt, c->name, c->clock, c->channels);
    else out(b, "a=rtpmap:%u %s/%u", c->pt, c->name, c->clock);
    for (size_t i = 0; fbs && i < s->num_rtcp_fbs; i++) {
        const tbSdpRtcpFb *fb = &s->rtcp_fbs[i];
        if (fb->pt != c->pt && fb->pt != TB_SDP_PT_ANY) continue;
        bool nack = strcmp(fb->type, "nack") == 0 && !fb->param;
        bool twcc = b->p->allow_transport_cc && strcmp(fb->type, "transport-cc") == 0;
        if (nack || twcc) out(b, "a=rtcp-fb:%u %s", c->pt, fb->type);
    }
    if (c->fmtp) out(b, "a=fmtp:%u %s", c->pt, c->fmtp);
}

static void outAudio(sdpBuild *b, const tbSdpSection *s, const tbSdpMidInfo *mi, size_t idx) {
    const tbSdpMidPlan *plan = planFind(b->p, s->mid);
    char pts[16];
    /* the offer's order: the client's preference between Opus and RED */
    if (mi->red_pt < 0) snprintf(pts, sizeof pts, "%d", mi->opus_pt);
    else if (tbSdpFindCodec(s, "opus", 48000, 2) < tbSdpFindCodec(s, "red", 48000, 2))
        snprintf(pts, sizeof pts, "%d %d", mi->opus_pt, mi->red_pt);
    else snprintf(pts, sizeof pts, "%d %d", mi->red_pt, mi->opus_pt);
    out(b, "m=audio 9 %s %s", s->proto_str, pts);
    out(b, "c=IN IP4 0.0.0.0");
    outTransport(b, mi);
    for (size_t i = 0; i < s->num_extmaps; i++) {
        const tbSdpExtmap *e = &s->extmaps[i];
        if (e->id == mi->audio_level_ext || e->id == mi->mid_ext || e->id == mi->twcc_ext)
            out(b, "a=extmap:%u %s", e->id, e->uri);
    }
    out(b, "a=%s", tbSdpDirectionName(mi->answer_dir));
    bool send = ansSends(mi->answer_dir);
    if (send) out(b, "a=msid:%s|%s %s", plan->participant_sid, plan->track_sid, plan->track_sid);
    out(b, "a=rtcp-mux");
    if (s->rtcp_rsize) out(b, "a=rtcp-rsize");
    for (size_t i = 0; i < s->num_codecs; i++)
        if (s->codecs[i].pt == mi->opus_pt || s->codecs[i].pt == mi->red_pt)
            outCodec(b, s, &s->codecs[i], true);
    if (send) {
        out(b, "a=ssrc:%u cname:%s", plan->ssrc, plan->cname);
        out(b, "a=ssrc:%u msid:%s|%s %s", plan->ssrc, plan->participant_sid, plan->track_sid,
            plan->track_sid);
    }
    outCandidates(b, idx);
}

static void outVideo(sdpBuild *b, const tbSdpSection *s, const tbSdpMidInfo *mi, size_t idx) {
    const tbSdpCodec *c = ansVideoCodec(s);
    out(b, "m=video 9 %s %u", s->proto_str, c->pt);
    out(b, "c=IN IP4 0.0.0.0");
    outTransport(b, mi);
    if (mi->mid_ext) out(b, "a=extmap:%u %s", mi->mid_ext, TB_SDP_URI_MID);
    out(b, "a=inactive");
    out(b, "a=rtcp-mux");
    if (s->rtcp_rsize) out(b, "a=rtcp-rsize");
    outCodec(b, s, c, false);
    outCandidates(b, idx);
}

static void outApplication(sdpBuild *b, const tbSdpSection *s, const tbSdpMidInfo *mi, size_t idx) {
    const tbSdpAnswerParams *p = b->p;
    bool legacy = s->proto == TB_SDP_PROTO_SCTP_LEGACY;
    if (legacy) out(b, "m=application 9 %s %u", s->proto_str, p->sctp_port);
    else out(b, "m=application 9 %s %s", s->proto_str, s->fmt);
    out(b, "c=IN IP4 0.0.0.0");
    outTransport(b, mi);
    if (legacy) out(b, "a=sctpmap:%u webrtc-datachannel 65535", p->sctp_port);
    else out(b, "a=sctp-port:%u", p->sctp_port);
    out(b, "a=max-message-size:%u", p->max_message_size);
    outCandidates(b, idx);
}

static void outRejected(sdpBuild *b, const tbSdpSection *s, const tbSdpMidInfo *mi) {
    out(b, "m=%s 0 %s %s", s->media, s->proto_str, s->fmt);
    out(b, "c=IN IP4 0.0.0.0");
    if (s->mid) out(b, "a=mid:%s", mi->mid);
    if (s->kind == TB_SDP_KIND_AUDIO || s->kind == TB_SDP_KIND_VIDEO) out(b, "a=inactive");
}

static void outSection(sdpBuild *b, size_t i) {
    const tbSdpSection *s = &b->offer->sections[i];
    const tbSdpMidInfo *mi = &b->ans->mids[i];
    if (!mi->accepted) outRejected(b, s, mi);
    else if (s->kind == TB_SDP_KIND_AUDIO) outAudio(b, s, mi, i);
    else if (s->kind == TB_SDP_KIND_VIDEO) outVideo(b, s, mi, i);
    else outApplication(b, s, mi, i);
}

/* Our DTLS role: the caller's choice against actpass, else the complement. */
static tbSdpSetup ansSetup(const tbSdp *offer, tbSdpSetup wanted) {
    tbSdpTransportInfo t;
    tbSdpTransport(offer, &t);
    if (t.setup == TB_SDP_SETUP_ACTIVE) return TB_SDP_SETUP_PASSIVE;
    if (t.setup == TB_SDP_SETUP_PASSIVE) return TB_SDP_SETUP_ACTIVE;
    return wanted;
}

tbSdpAnswer *tbSdpBuildAnswer(const tbSdp *offer, const tbSdpAnswerParams *p, tbSdpError *err) {
    sdpBuild b = {.offer = offer, .p = p};
    if (err) memset(err, 0, sizeof *err);
    if (!offer || !p) {
        ansErr(err, "no offer or params");
        return NULL;
    }
    if (ansCheckParams(p, err) < 0) return NULL;
    tbSbufInit(&b.out, 0);
    b.ans = calloc(1, sizeof *b.ans + offer->num_sections * sizeof(tbSdpMidInfo));
    if (!b.ans) goto oom;
    b.ans->num_mids = offer->num_sections;
    b.ans->setup = ansSetup(offer, p->setup);
    for (size_t i = 0; i < offer->num_sections; i++)
        ansDecide(p, &offer->sections[i], &b.ans->mids[i]);
    ansBundle(&b);
    outSession(&b);
    for (size_t i = 0; i < offer->num_sections; i++) outSection(&b, i);
    if (b.out.oom || !b.out.mem) goto oom;
    if (b.overflow) {
        ansErr(err, "answer line too long");
        goto fail;
    }
    b.ans->sdp = (char *)b.out.mem;
    b.ans->sdp_len = b.out.len;
    return b.ans;

oom:
    ansErr(err, "out of memory");
fail:
    tbSbufFree(&b.out);
    free(b.ans);
    return NULL;
}

void tbSdpAnswerFree(tbSdpAnswer *a) {
    if (!a) return;
    free(a->sdp);
    free(a);
}

const tbSdpMidInfo *tbSdpAnswerFindMid(const tbSdpAnswer *a, const char *mid) {
    for (size_t i = 0; a && mid && *mid && i < a->num_mids; i++)
        if (strcmp(a->mids[i].mid, mid) == 0) return &a->mids[i];
    return NULL;
}
