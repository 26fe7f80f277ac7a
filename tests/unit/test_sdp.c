/* test_sdp.c — src/sdp: parsing real offers (livekit-client 2.23 join and
 * publish offers, aiortc 1.4), building answers (ICE-lite, Opus only,
 * rejected video out of BUNDLE, data channel, sendonly remote tracks with
 * LiveKit msids), parsing our answers back, and refusing malformed input
 * with line-numbered errors (truncations, garbage, limits, random bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp/sdp.h"

#define FIX(name) TB_FIXTURES "/sdp/" name
#define JOIN_OFFER FIX("livekit-client-2.23-v1-join-offer.sdp")
#define PUBLISH_OFFER FIX("livekit-client-2.23-v1-publish-offer.sdp")
#define AIORTC_OFFER FIX("aiortc-1.4-offer.sdp")
#define CHROMIUM_REOFFER FIX("chromium-156-reoffer-after-reject.sdp")

#define OUR_UFRAG "tRiB"
#define OUR_PWD "0123456789abcdefABCDEF+/"
#define OUR_FP "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:" \
               "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
#define OUR_CAND "candidate:1 1 udp 2130706431 192.0.2.10 7882 typ host"

#define OUR_CAND_TCP "candidate:2 1 tcp 1671430143 192.0.2.10 7881 typ host tcptype passive"

static const char *const ourCands[] = {OUR_CAND, "a=" OUR_CAND_TCP};

static char *readFile(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static tbSdp *parseFile(const char *path) {
    size_t len;
    char *text = readFile(path, &len);
    tbSdpError err;
    tbSdp *sdp = tbSdpParse(text, len, &err);
    if (!sdp) print_error("%s: line %d: %s\n", path, err.line, err.msg);
    assert_non_null(sdp);
    free(text);
    return sdp;
}

static void initParams(tbSdpAnswerParams *p) {
    tbSdpAnswerParamsInit(p);
    p->ice_ufrag = OUR_UFRAG;
    p->ice_pwd = OUR_PWD;
    p->fingerprint_sha256 = OUR_FP;
    p->candidates = ourCands;
    p->num_candidates = 2;
    p->session_id = 4242;
    p->session_version = 2;
}

static tbSdpAnswer *answer(const tbSdp *offer, const tbSdpAnswerParams *p) {
    tbSdpError err;
    tbSdpAnswer *a = tbSdpBuildAnswer(offer, p, &err);
    if (!a) print_error("answer: %s\n", err.msg);
    assert_non_null(a);
    assert_int_equal(strlen(a->sdp), a->sdp_len);
    return a;
}

/* Every line ends in CRLF, no bare CR or LF anywhere. */
static void assertCrlf(const char *s, size_t len) {
    assert_true(len >= 2);
    assert_memory_equal(s + len - 2, "\r\n", 2);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') assert_int_equal(s[i - 1], '\r');
        if (s[i] == '\r') assert_int_equal(s[i + 1], '\n');
    }
}

static bool hasLine(const char *sdp, const char *line) {
    size_t n = strlen(line);
    for (const char *p = sdp; (p = strstr(p, line)); p++)
        if ((p == sdp || p[-1] == '\n') && p[n] == '\r') return true;
    return false;
}

static tbSdp *parseAnswer(const tbSdpAnswer *a) {
    tbSdpError err;
    tbSdp *sdp = tbSdpParse(a->sdp, a->sdp_len, &err);
    if (!sdp) print_error("answer does not parse: line %d: %s\n%s", err.line, err.msg, a->sdp);
    assert_non_null(sdp);
    return sdp;
}

static void assertBundle(const tbSdp *sdp, const char *const *mids, size_t n) {
    assert_int_equal(sdp->num_bundle_mids, n);
    for (size_t i = 0; i < n; i++) assert_string_equal(sdp->bundle_mids[i], mids[i]);
}

/* ---- parsing ------------------------------------------------------------ */

static void checkJoinOffer(const tbSdp *sdp) {
    static const tbSdpKind kinds[] = {TB_SDP_KIND_AUDIO, TB_SDP_KIND_AUDIO, TB_SDP_KIND_AUDIO,
                                      TB_SDP_KIND_VIDEO, TB_SDP_KIND_VIDEO, TB_SDP_KIND_VIDEO,
                                      TB_SDP_KIND_APPLICATION};
    static const char *const mids[] = {"0", "1", "2", "3", "4", "5", "6"};
    assert_int_equal(sdp->num_sections, 7);
    assert_string_equal(sdp->origin_sess_id, "7236253873457204858");
    assert_string_equal(sdp->origin_sess_version, "2");
    assert_true(sdp->extmap_allow_mixed);
    assert_string_equal(sdp->msid_semantic, "WMS");
    assert_false(sdp->ice_lite);
    assertBundle(sdp, mids, 7);
    assert_int_equal(sdp->bundle_line, 7);
    for (size_t i = 0; i < 7; i++) {
        const tbSdpSection *s = &sdp->sections[i];
        assert_int_equal(s->kind, kinds[i]);
        assert_string_equal(s->mid, mids[i]);
        assert_int_equal(s->port, 9);
        assert_int_equal(s->direction, i < 6 ? TB_SDP_DIR_RECVONLY : TB_SDP_DIR_SENDRECV);
        assert_string_equal(s->ice_ufrag, "CsjW");
        assert_string_equal(s->ice_pwd, "iO6BZC/3oRaOinnjrWTeGo/d");
        assert_string_equal(s->ice_options, "trickle");
        assert_string_equal(s->fingerprint.alg, "sha-256");
        assert_int_equal(s->fingerprint.len, 32);
        assert_int_equal(s->fingerprint.bytes[0], 0x9F);
        assert_int_equal(s->fingerprint.bytes[31], 0x9B);
        assert_int_equal(s->setup, TB_SDP_SETUP_ACTPASS);
        assert_int_equal(s->proto, i < 6 ? TB_SDP_PROTO_RTP : TB_SDP_PROTO_SCTP);
        assert_int_equal(s->rtcp_mux, i < 6);
        assert_int_equal(s->rtcp_rsize, i < 6);
        assert_string_equal(s->conn_addr, "0.0.0.0");
    }
}

static void testParseJoinOffer(void **state) {
    (void)state;
    tbSdp *sdp = parseFile(JOIN_OFFER);
    checkJoinOffer(sdp);
    const tbSdpSection *a = &sdp->sections[0], *v = &sdp->sections[3], *d = &sdp->sections[6];
    /* audio: 8 payload types, opus 111 with its fmtp, red 63, static PCMU */
    assert_int_equal(a->num_codecs, 8);
    const tbSdpCodec *opus = tbSdpFindCodec(a, "opus", 48000, 2);
    assert_non_null(opus);
    assert_int_equal(opus->pt, 111);
    assert_string_equal(opus->fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(tbSdpFindCodec(a, "red", 48000, 2)->pt, 63);
    assert_string_equal(tbSdpFindCodec(a, "red", 48000, 0)->fmtp, "111/111");
    assert_int_equal(tbSdpFindCodec(a, "PCMU", 8000, 1)->pt, 0);
    assert_null(tbSdpFindCodec(a, "opus", 48000, 1));
    assert_int_equal(a->num_extmaps, 4);
    assert_int_equal(tbSdpFindExtmap(a, TB_SDP_URI_AUDIO_LEVEL), 1);
    assert_int_equal(tbSdpFindExtmap(a, TB_SDP_URI_TWCC), 3);
    assert_int_equal(tbSdpFindExtmap(a, TB_SDP_URI_MID), 4);
    assert_int_equal(a->num_rtcp_fbs, 1);
    assert_true(tbSdpHasRtcpFb(a, 111, "transport-cc", NULL));
    assert_false(tbSdpHasRtcpFb(a, 111, "nack", NULL));
    assert_int_equal(a->num_ssrcs, 0);
    assert_int_equal(tbSdpMediaSsrc(a), 0);
    /* video: 34 payload types, 12 extmaps, per-codec feedback */
    assert_int_equal(v->num_codecs, 34);
    assert_int_equal(v->codecs[0].pt, 96);
    assert_string_equal(v->codecs[0].name, "VP8");
    assert_int_equal(v->num_extmaps, 12);
    assert_int_equal(tbSdpFindExtmap(v, "urn:ietf:params:rtp-hdrext:toffset"), 14);
    assert_true(tbSdpHasRtcpFb(v, 96, "nack", "pli"));
    assert_true(tbSdpHasRtcpFb(v, 96, "nack", NULL));
    assert_true(tbSdpHasRtcpFb(v, 96, "ccm", "fir"));
    assert_false(tbSdpHasRtcpFb(v, 97, "nack", NULL));
    /* data channel */
    assert_string_equal(d->fmt, "webrtc-datachannel");
    assert_int_equal(d->num_codecs, 0);
    assert_int_equal(d->sctp_port, 5000);
    assert_int_equal(d->max_message_size, 262144);
    tbSdpTransportInfo t;
    assert_true(tbSdpTransport(sdp, &t));
    assert_string_equal(t.ice_ufrag, "CsjW");
    assert_int_equal(t.setup, TB_SDP_SETUP_ACTPASS);
    assert_ptr_equal(t.section, a);
    assert_ptr_equal(tbSdpFindMid(sdp, "5"), &sdp->sections[5]);
    assert_null(tbSdpFindMid(sdp, "7"));
    tbSdpFree(sdp);
}

/* The same offer with bare LF line ends parses to the same description. */
static void testParseLfOnly(void **state) {
    (void)state;
    size_t len, j = 0;
    char *text = readFile(JOIN_OFFER, &len);
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\r') text[j++] = text[i];
    assert_true(j < len);
    tbSdpError err;
    tbSdp *sdp = tbSdpParse(text, j, &err);
    assert_non_null(sdp);
    checkJoinOffer(sdp);
    assert_string_equal(tbSdpFindCodec(&sdp->sections[1], "opus", 48000, 2)->fmtp,
                        "minptime=10;useinbandfec=1");
    tbSdpFree(sdp);
    /* ... and without a final line end */
    sdp = tbSdpParse(text, j - 1, &err);
    assert_non_null(sdp);
    assert_int_equal(sdp->sections[6].max_message_size, 262144);
    tbSdpFree(sdp);
    free(text);
}

static void testParsePublishOffer(void **state) {
    (void)state;
    tbSdp *sdp = parseFile(PUBLISH_OFFER);
    assert_int_equal(sdp->num_sections, 8);
    const tbSdpSection *s = tbSdpFindMid(sdp, "7");
    assert_non_null(s);
    assert_int_equal(s->kind, TB_SDP_KIND_AUDIO);
    assert_int_equal(s->direction, TB_SDP_DIR_SENDONLY);
    assert_int_equal(s->codecs[0].pt, 63);
    assert_string_equal(s->msid_stream, "-");
    assert_string_equal(s->msid_track, "0b1f3c5e-8d2a-4f6b-9c7e-1a2b3c4d5e6f");
    assert_int_equal(s->num_ssrcs, 2);
    assert_string_equal(s->ssrcs[0].attr, "cname");
    assert_string_equal(s->ssrcs[0].value, "Vv7gGkC1kTQ4Qk3y");
    assert_string_equal(s->ssrcs[1].value, "- 0b1f3c5e-8d2a-4f6b-9c7e-1a2b3c4d5e6f");
    assert_int_equal(tbSdpMediaSsrc(s), 3735928559u);
    tbSdpFree(sdp);
}

static void testParseAiortcOffer(void **state) {
    (void)state;
    tbSdp *sdp = parseFile(AIORTC_OFFER);
    assert_int_equal(sdp->num_sections, 2);
    const tbSdpSection *a = &sdp->sections[0], *d = &sdp->sections[1];
    assert_string_equal(sdp->msid_semantic, "WMS *");
    assert_int_equal(a->direction, TB_SDP_DIR_SENDRECV);
    assert_int_equal(a->num_codecs, 3);
    assert_int_equal(tbSdpFindCodec(a, "opus", 48000, 2)->pt, 96);
    assert_int_equal(tbSdpFindCodec(a, "pcma", 8000, 1)->pt, 8);
    assert_null(tbSdpFindCodec(a, "opus", 48000, 2)->fmtp);
    assert_int_equal(tbSdpFindExtmap(a, TB_SDP_URI_MID), 1);
    assert_int_equal(tbSdpFindExtmap(a, TB_SDP_URI_AUDIO_LEVEL), 2);
    assert_true(a->rtcp_mux);
    assert_false(a->rtcp_rsize);
    assert_int_equal(a->num_candidates, 1);
    assert_true(strncmp(a->candidates[0], "16572de626da4e5384a0ce2d0d93678a 1 udp ", 39) == 0);
    assert_true(a->end_of_candidates);
    assert_int_equal(tbSdpMediaSsrc(a), 1626521992u);
    assert_int_equal(d->proto, TB_SDP_PROTO_SCTP_LEGACY);
    assert_string_equal(d->fmt, "5000");
    assert_int_equal(d->sctp_port, 5000);
    assert_int_equal(d->max_message_size, 65536);
    assert_string_equal(d->ice_ufrag, "8RF8");
    tbSdpTransportInfo t;
    assert_true(tbSdpTransport(sdp, &t));
    assert_string_equal(t.ice_ufrag, "PdeV");
    tbSdpFree(sdp);
}

/* ---- answering ---------------------------------------------------------- */

static void checkOurTransport(const tbSdpSection *s) {
    assert_string_equal(s->ice_ufrag, OUR_UFRAG);
    assert_string_equal(s->ice_pwd, OUR_PWD);
    assert_string_equal(s->fingerprint.hex, OUR_FP);
    assert_int_equal(s->fingerprint.bytes[0], 0xAA);
    assert_int_equal(s->setup, TB_SDP_SETUP_ACTIVE);
}

static void checkOpusOnly(const tbSdpSection *s) {
    assert_int_equal(s->num_codecs, 1);
    assert_int_equal(s->codecs[0].pt, 111);
    assert_string_equal(s->codecs[0].name, "opus");
    assert_int_equal(s->codecs[0].clock, 48000);
    assert_int_equal(s->codecs[0].channels, 2);
    assert_string_equal(s->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(s->num_extmaps, 2);
    assert_int_equal(tbSdpFindExtmap(s, TB_SDP_URI_AUDIO_LEVEL), 1);
    assert_int_equal(tbSdpFindExtmap(s, TB_SDP_URI_MID), 4);
    assert_int_equal(s->num_rtcp_fbs, 0); /* transport-cc not allowed, nack not offered */
    assert_true(s->rtcp_mux);
    assert_true(s->rtcp_rsize);
}

static void testAnswerJoinOffer(void **state) {
    (void)state;
    static const char *const bundle[] = {"0", "1", "2", "6"};
    tbSdp *offer = parseFile(JOIN_OFFER);
    tbSdpAnswerParams p;
    initParams(&p);
    assert_int_equal(tbSdpAnswerSetSend(&p, "1", 0x11223344, "PA_abc", "TR_def", "PA_abc"), 0);
    tbSdpAnswer *a = answer(offer, &p);
    assertCrlf(a->sdp, a->sdp_len);
    assert_true(hasLine(a->sdp, "a=ice-lite"));
    assert_true(hasLine(a->sdp, "a=group:BUNDLE 0 1 2 6"));
    assert_true(hasLine(a->sdp, "o=- 4242 2 IN IP4 127.0.0.1"));
    assert_true(hasLine(a->sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111"));
    assert_true(hasLine(a->sdp, "m=video 0 UDP/TLS/RTP/SAVPF 96"));
    assert_true(hasLine(a->sdp, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
    assert_true(hasLine(a->sdp, "a=msid:PA_abc|TR_def TR_def"));
    assert_true(hasLine(a->sdp, "a=ssrc:287454020 cname:PA_abc"));
    assert_true(hasLine(a->sdp, "a=ssrc:287454020 msid:PA_abc|TR_def TR_def"));
    assert_true(hasLine(a->sdp, "a=" OUR_CAND_TCP));
    assert_int_equal(a->setup, TB_SDP_SETUP_ACTIVE);

    tbSdp *back = parseAnswer(a);
    assert_true(back->ice_lite);
    assert_true(back->extmap_allow_mixed);
    assertBundle(back, bundle, 4);
    assert_int_equal(back->num_sections, 7);
    for (size_t i = 0; i < 3; i++) {
        const tbSdpSection *s = &back->sections[i];
        checkOurTransport(s);
        checkOpusOnly(s);
        assert_int_equal(s->port, 9);
        assert_int_equal(s->direction, i == 1 ? TB_SDP_DIR_SENDONLY : TB_SDP_DIR_INACTIVE);
        assert_int_equal(s->num_candidates, i == 0 ? 2 : 0); /* the tagged section only */
        assert_int_equal(s->end_of_candidates, i == 0);
    }
    const tbSdpSection *send = &back->sections[1];
    assert_string_equal(send->msid_stream, "PA_abc|TR_def");
    assert_string_equal(send->msid_track, "TR_def");
    assert_int_equal(tbSdpMediaSsrc(send), 0x11223344);
    assert_string_equal(back->sections[0].candidates[0], OUR_CAND + 10);
    assert_null(back->sections[0].msid_stream);
    assert_int_equal(back->sections[0].num_ssrcs, 0);
    for (size_t i = 3; i < 6; i++) {
        const tbSdpSection *s = &back->sections[i];
        assert_int_equal(s->kind, TB_SDP_KIND_VIDEO);
        assert_int_equal(s->port, 0);
        assert_int_equal(s->direction, TB_SDP_DIR_INACTIVE);
        assert_string_equal(s->mid, offer->sections[i].mid);
        assert_int_equal(s->num_candidates, 0);
        assert_null(s->ice_ufrag);
    }
    const tbSdpSection *d = &back->sections[6];
    assert_int_equal(d->kind, TB_SDP_KIND_APPLICATION);
    assert_int_equal(d->port, 9);
    assert_int_equal(d->sctp_port, 5000);
    assert_int_equal(d->max_message_size, 262144);
    checkOurTransport(d);
    tbSdpTransportInfo t;
    assert_true(tbSdpTransport(back, &t));
    assert_string_equal(t.ice_ufrag, OUR_UFRAG);
    assert_int_equal(t.setup, TB_SDP_SETUP_ACTIVE);

    /* per-mid info */
    assert_int_equal(a->num_mids, 7);
    const tbSdpMidInfo *m1 = tbSdpAnswerFindMid(a, "1");
    assert_non_null(m1);
    assert_true(m1->accepted && m1->bundled);
    assert_int_equal(m1->kind, TB_SDP_KIND_AUDIO);
    assert_int_equal(m1->offer_dir, TB_SDP_DIR_RECVONLY);
    assert_int_equal(m1->answer_dir, TB_SDP_DIR_SENDONLY);
    assert_int_equal(m1->opus_pt, 111);
    assert_int_equal(m1->red_pt, -1);
    assert_int_equal(m1->audio_level_ext, 1);
    assert_int_equal(m1->mid_ext, 4);
    assert_int_equal(m1->twcc_ext, 0);
    assert_int_equal(m1->send_ssrc, 0x11223344);
    assert_int_equal(m1->client_ssrc, 0);
    const tbSdpMidInfo *m0 = tbSdpAnswerFindMid(a, "0");
    assert_int_equal(m0->answer_dir, TB_SDP_DIR_INACTIVE);
    assert_int_equal(m0->send_ssrc, 0);
    const tbSdpMidInfo *m3 = tbSdpAnswerFindMid(a, "3");
    assert_false(m3->accepted || m3->bundled);
    assert_int_equal(m3->opus_pt, -1);
    const tbSdpMidInfo *m6 = tbSdpAnswerFindMid(a, "6");
    assert_true(m6->accepted && m6->bundled);
    assert_int_equal(m6->sctp_port, 5000);
    assert_null(tbSdpAnswerFindMid(a, "9"));

    tbSdpFree(back);
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
}

static void testAnswerRedAndTwcc(void **state) {
    (void)state;
    tbSdp *offer = parseFile(JOIN_OFFER);
    tbSdpAnswerParams p;
    initParams(&p);
    p.allow_red = true;
    p.allow_transport_cc = true;
    tbSdpAnswer *a = answer(offer, &p);
    assert_true(hasLine(a->sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63"));
    tbSdp *back = parseAnswer(a);
    const tbSdpSection *s = &back->sections[2];
    assert_int_equal(s->num_codecs, 2);
    assert_string_equal(tbSdpFindCodec(s, "red", 48000, 2)->fmtp, "111/111");
    assert_int_equal(s->num_extmaps, 3);
    assert_int_equal(tbSdpFindExtmap(s, TB_SDP_URI_TWCC), 3);
    assert_true(tbSdpHasRtcpFb(s, 111, "transport-cc", NULL));
    assert_int_equal(s->num_rtcp_fbs, 1);
    assert_int_equal(a->mids[2].red_pt, 63);
    assert_int_equal(a->mids[2].twcc_ext, 3);
    tbSdpFree(back);
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
}

static void testAnswerPublishOffer(void **state) {
    (void)state;
    static const char *const bundle[] = {"0", "1", "2", "6", "7"};
    tbSdp *offer = parseFile(PUBLISH_OFFER);
    tbSdpAnswerParams p;
    initParams(&p);
    p.allow_red = true;
    tbSdpAnswer *a = answer(offer, &p);
    assertCrlf(a->sdp, a->sdp_len);
    assert_true(hasLine(a->sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 63 111")); /* client's order */
    const tbSdpMidInfo *m7 = tbSdpAnswerFindMid(a, "7");
    assert_int_equal(m7->answer_dir, TB_SDP_DIR_RECVONLY);
    assert_int_equal(m7->client_ssrc, 3735928559u);
    assert_string_equal(m7->client_stream_id, "-");
    assert_string_equal(m7->client_track_id, "0b1f3c5e-8d2a-4f6b-9c7e-1a2b3c4d5e6f");
    assert_int_equal(m7->opus_pt, 111);
    assert_int_equal(m7->red_pt, 63);
    tbSdp *back = parseAnswer(a);
    assertBundle(back, bundle, 5);
    const tbSdpSection *s = tbSdpFindMid(back, "7");
    assert_int_equal(s->direction, TB_SDP_DIR_RECVONLY);
    assert_string_equal(tbSdpFindCodec(s, "opus", 48000, 2)->fmtp,
                        "minptime=10;useinbandfec=1;usedtx=1");
    assert_null(s->msid_stream);
    assert_int_equal(s->num_ssrcs, 0);
    tbSdpFree(back);
    tbSdpAnswerFree(a);

    /* no RED; refuse the client's media on 7 (e.g. no publish permission) */
    p.allow_red = false;
    assert_int_equal(tbSdpAnswerSetRecv(&p, "7", false), 0);
    a = answer(offer, &p);
    back = parseAnswer(a);
    s = tbSdpFindMid(back, "7");
    assert_int_equal(s->num_codecs, 1);
    assert_int_equal(s->codecs[0].pt, 111);
    assert_int_equal(s->direction, TB_SDP_DIR_INACTIVE);
    assert_int_equal(tbSdpAnswerFindMid(a, "7")->client_ssrc, 0);
    tbSdpFree(back);
    tbSdpAnswerFree(a);

    /* a send plan on a sendonly offer section is ignored */
    assert_int_equal(tbSdpAnswerSetRecv(&p, "7", true), 0);
    assert_int_equal(tbSdpAnswerSetSend(&p, "7", 99, "PA_a", "TR_b", "c"), 0);
    a = answer(offer, &p);
    assert_int_equal(tbSdpAnswerFindMid(a, "7")->answer_dir, TB_SDP_DIR_RECVONLY);
    assert_int_equal(tbSdpAnswerFindMid(a, "7")->send_ssrc, 0);
    assert_null(strstr(a->sdp, "a=msid:"));
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
}

static void testAnswerAiortc(void **state) {
    (void)state;
    static const char *const bundle[] = {"0", "1"};
    tbSdp *offer = parseFile(AIORTC_OFFER);
    tbSdpAnswerParams p;
    initParams(&p);
    assert_int_equal(tbSdpAnswerSetSend(&p, "0", 5555, "PA_x", "TR_y", "PA_x"), 0);
    tbSdpAnswer *a = answer(offer, &p);
    assertCrlf(a->sdp, a->sdp_len);
    assert_true(hasLine(a->sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 96"));
    assert_true(hasLine(a->sdp, "a=sendrecv"));
    assert_true(hasLine(a->sdp, "m=application 9 DTLS/SCTP 5000"));
    assert_true(hasLine(a->sdp, "a=sctpmap:5000 webrtc-datachannel 65535"));
    assert_null(strstr(a->sdp, "a=rtcp-rsize")); /* not offered */
    assert_null(strstr(a->sdp, "a=extmap-allow-mixed"));
    const tbSdpMidInfo *m0 = &a->mids[0];
    assert_int_equal(m0->answer_dir, TB_SDP_DIR_SENDRECV);
    assert_int_equal(m0->opus_pt, 96);
    assert_int_equal(m0->mid_ext, 1);
    assert_int_equal(m0->audio_level_ext, 2);
    assert_int_equal(m0->client_ssrc, 1626521992u);
    assert_string_equal(m0->client_track_id, "d4cf943c-d51f-483e-9e24-a52ba07c44f8");
    assert_int_equal(m0->send_ssrc, 5555);
    assert_int_equal(a->mids[1].max_message_size, 65536);
    tbSdp *back = parseAnswer(a);
    assertBundle(back, bundle, 2);
    assert_int_equal(back->sections[0].num_codecs, 1);
    assert_null(back->sections[0].codecs[0].fmtp);
    assert_string_equal(back->sections[0].msid_stream, "PA_x|TR_y");
    assert_int_equal(back->sections[1].proto, TB_SDP_PROTO_SCTP_LEGACY);
    assert_int_equal(back->sections[1].sctp_port, 5000);
    assert_int_equal(back->sections[1].num_candidates, 0);
    tbSdpFree(back);
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
}

/* Chromium 156's real re-offer after our first answer rejected video and a
 * microphone track was added: the new audio (mid 7) recycles index 3. */
static void testAnswerChromiumReoffer(void **state) {
    (void)state;
    static const char *const bundle[] = {"0", "1", "2", "7", "6"};
    tbSdp *offer = parseFile(CHROMIUM_REOFFER);
    assert_int_equal(offer->num_sections, 7);
    assertBundle(offer, bundle, 5);
    const tbSdpSection *mic = &offer->sections[3];
    assert_string_equal(mic->mid, "7");
    assert_int_equal(mic->direction, TB_SDP_DIR_SENDONLY);
    assert_int_equal(offer->sections[4].port, 0);
    assert_string_equal(offer->sections[4].mid, "4");
    tbSdpAnswerParams p;
    initParams(&p);
    assert_int_equal(tbSdpAnswerSetSend(&p, "1", 1234, "PA_abc", "TR_def", "PA_abc"), 0);
    tbSdpAnswer *a = answer(offer, &p);
    assert_true(hasLine(a->sdp, "a=group:BUNDLE 0 1 2 7 6"));
    const tbSdpMidInfo *m7 = &a->mids[3];
    assert_string_equal(m7->mid, "7");
    assert_int_equal(m7->answer_dir, TB_SDP_DIR_RECVONLY);
    assert_int_equal(m7->client_ssrc, 1370817049u);
    assert_string_equal(m7->client_track_id, "d1b4d43e-2594-4a56-9e99-7fea629f8a8b");
    assert_false(a->mids[4].accepted || a->mids[5].accepted);
    assert_int_equal(a->mids[1].answer_dir, TB_SDP_DIR_SENDONLY);
    tbSdp *back = parseAnswer(a);
    assertBundle(back, bundle, 5);
    assert_string_equal(back->sections[3].mid, "7");
    assert_int_equal(back->sections[3].direction, TB_SDP_DIR_RECVONLY);
    assert_int_equal(back->sections[4].port, 0);
    tbSdpFree(back);
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
}

/* Replaces the first `from` in text (with room to grow) by `to`. */
static void replace(char *text, size_t *len, const char *from, const char *to) {
    char *at = strstr(text, from);
    assert_non_null(at);
    size_t fl = strlen(from), tl = strlen(to);
    memmove(at + tl, at + fl, *len - (size_t)(at - text) - fl + 1);
    memcpy(at, to, tl);
    *len = *len - fl + tl;
}

static char *joinOfferWith(const char *from, const char *to, size_t *len) {
    char *text = readFile(JOIN_OFFER, len);
    text = realloc(text, *len + 256);
    replace(text, len, from, to);
    return text;
}

/* What Chromium re-offers after video was rejected: port 0, out of BUNDLE. */
static void testAnswerRejectedInOffer(void **state) {
    (void)state;
    size_t len;
    char *text = joinOfferWith("a=group:BUNDLE 0 1 2 3 4 5 6", "a=group:BUNDLE 0 1 2 6", &len);
    replace(text, &len, "m=video 9 ", "m=video 0 ");
    tbSdpError err;
    tbSdpAnswerParams p;
    initParams(&p);
    p.video_inactive = true; /* would accept video, but port 0 = rejected by the client */
    tbSdp *offer = tbSdpParse(text, len, &err);
    assert_non_null(offer);
    tbSdpAnswer *a = answer(offer, &p);
    assert_true(hasLine(a->sdp, "a=group:BUNDLE 0 1 2 6"));
    assert_false(a->mids[3].accepted);
    assert_true(a->mids[4].accepted); /* still port 9 in the offer: accepted inactive */
    assert_false(a->mids[4].bundled);  /* the offer left it out of the group */
    tbSdp *back = parseAnswer(a);
    assert_int_equal(back->sections[3].port, 0);
    assert_int_equal(back->sections[4].port, 9);
    assert_int_equal(back->sections[4].num_codecs, 1);
    assert_string_equal(back->sections[4].codecs[0].name, "VP8");
    assert_int_equal(back->sections[4].direction, TB_SDP_DIR_INACTIVE);
    assert_int_equal(back->sections[4].num_candidates, 2); /* own transport: not bundled */
    assert_int_equal(back->sections[1].num_candidates, 0);
    tbSdpFree(back);
    tbSdpAnswerFree(a);
    tbSdpFree(offer);
    tbSdpAnswerParamsFree(&p);
    free(text);
}

/* Rejecting the offerer-tagged section rejects the whole group (RFC 8843). */
static void testAnswerTaggedRejected(void **state) {
    (void)state;
    size_t len;
    char *text =
        joinOfferWith("a=group:BUNDLE 0 1 2 3 4 5 6", "a=group:BUNDLE 3 0 1 2 4 5 6", &len);
    tbSdpError err;
    tbSdp *offer = tbSdpParse(text, len, &err);
    assert_non_null(offer);
    tbSdpAnswerParams p;
    initParams(&p);
    tbSdpAnswer *a = answer(offer, &p);
    assert_null(strstr(a->sdp, "a=group:"));
    for (size_t i = 0; i < a->num_mids; i++) assert_false(a->mids[i].accepted);
    tbSdp *back = parseAnswer(a);
    for (size_t i = 0; i < back->num_sections; i++) assert_int_equal(back->sections[i].port, 0);
    tbSdpFree(back);
    tbSdpAnswerFree(a);
    /* with video accepted as inactive the group survives, tagged by mid 3 */
    p.video_inactive = true;
    a = answer(offer, &p);
    assert_true(hasLine(a->sdp, "a=group:BUNDLE 3 0 1 2 4 5 6"));
    back = parseAnswer(a);
    assert_int_equal(back->sections[3].num_candidates, 2);
    assert_int_equal(back->sections[0].num_candidates, 0);
    tbSdpFree(back);
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
    free(text);
}

static void testAnswerRejects(void **state) {
    (void)state;
    size_t len;
    /* mid 2 without rtcp-mux, mid 1 rejected by the caller, mid 0 without opus */
    char *text = joinOfferWith("a=mid:2\r\na=recvonly\r\na=ice-ufrag:CsjW\r\n"
                               "a=ice-pwd:iO6BZC/3oRaOinnjrWTeGo/d\r\n",
                               "a=mid:2\r\na=recvonly\r\na=ice-ufrag:CsjW\r\n"
                               "a=ice-pwd:iO6BZC/3oRaOinnjrWTeGo/d\r\na=x-no-mux\r\n", &len);
    char *mux = strstr(strstr(text, "a=x-no-mux"), "a=rtcp-mux\r\n");
    mux[6] = 'X'; /* a=rtcpXmux: unknown attribute, ignored */
    replace(text, &len, "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/1");
    tbSdpError err;
    tbSdp *offer = tbSdpParse(text, len, &err);
    assert_non_null(offer);
    assert_false(offer->sections[2].rtcp_mux);
    tbSdpAnswerParams p;
    initParams(&p);
    p.setup = TB_SDP_SETUP_PASSIVE;
    assert_int_equal(tbSdpAnswerSetReject(&p, "1"), 0);
    tbSdpAnswer *a = answer(offer, &p);
    /* the tagged mid 0 has no opus/48000/2: the whole group goes */
    assert_false(a->mids[0].accepted);
    assert_false(a->mids[6].accepted);
    tbSdpAnswerFree(a);
    tbSdpFree(offer);
    /* restore opus, drop mid 0 from the group: mid 1 (caller) and 2 (mux) rejected */
    replace(text, &len, "a=rtpmap:111 opus/48000/1", "a=rtpmap:111 opus/48000/2");
    replace(text, &len, "a=group:BUNDLE 0 1 2 3 4 5 6", "a=group:BUNDLE 0 1 2 6");
    offer = tbSdpParse(text, len, &err);
    assert_non_null(offer);
    a = answer(offer, &p);
    assert_true(a->mids[0].accepted);
    assert_false(a->mids[1].accepted);
    assert_false(a->mids[2].accepted);
    assert_true(hasLine(a->sdp, "a=group:BUNDLE 0 6"));
    assert_true(hasLine(a->sdp, "a=setup:passive"));
    assert_int_equal(a->setup, TB_SDP_SETUP_PASSIVE);
    tbSdpAnswerFree(a);
    tbSdpFree(offer);
    tbSdpAnswerParamsFree(&p);
    free(text);
}

/* An offer that already chose a DTLS role gets the complement. */
static void testAnswerSetupComplement(void **state) {
    (void)state;
    static const char offer_text[] =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
        "a=fingerprint:sha-256 " OUR_FP "\r\na=setup:active\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=sendonly\r\n"
        "a=rtcp-mux\r\na=rtpmap:111 OPUS/48000/2\r\na=rtcp-fb:* nack\r\na=rtcp-fb:111 nack pli\r\n"
        "a=ssrc-group:FID 7 8\r\na=ssrc:8 cname:x\r\na=ssrc:7 cname:x\r\n";
    tbSdpError err;
    tbSdp *offer = tbSdpParse(offer_text, sizeof offer_text - 1, &err);
    assert_non_null(offer);
    assert_int_equal(tbSdpMediaSsrc(&offer->sections[0]), 7); /* 8 is the FID repair SSRC */
    tbSdpTransportInfo t;
    assert_true(tbSdpTransport(offer, &t));
    assert_string_equal(t.ice_ufrag, "abcd"); /* session-level fallback */
    tbSdpAnswerParams p;
    initParams(&p);
    p.ice_lite = false;
    tbSdpAnswer *a = answer(offer, &p);
    assert_int_equal(a->setup, TB_SDP_SETUP_PASSIVE);
    assert_true(hasLine(a->sdp, "a=setup:passive"));
    assert_true(hasLine(a->sdp, "a=rtcp-fb:111 nack")); /* from '*' */
    assert_null(strstr(a->sdp, "nack pli"));
    assert_null(strstr(a->sdp, "a=ice-lite"));
    assert_null(strstr(a->sdp, "a=group:"));
    assert_true(hasLine(a->sdp, "a=rtpmap:111 OPUS/48000/2"));
    assert_int_equal(a->mids[0].client_ssrc, 7);
    tbSdp *back = parseAnswer(a);
    assert_int_equal(back->sections[0].num_candidates, 2); /* no BUNDLE: every section */
    tbSdpFree(back);
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
}

static void testAnswerParamChecks(void **state) {
    (void)state;
    tbSdp *offer = parseFile(JOIN_OFFER);
    tbSdpAnswerParams p;
    tbSdpError err;
    const char *evil[] = {"candidate:1 1 udp 1 1.2.3.4 5 typ host\r\na=ice-lite"};
    initParams(&p);
    p.ice_ufrag = "abc";
    assert_null(tbSdpBuildAnswer(offer, &p, &err));
    assert_non_null(strstr(err.msg, "ice_ufrag"));
    initParams(&p);
    p.ice_pwd = "short";
    assert_null(tbSdpBuildAnswer(offer, &p, &err));
    initParams(&p);
    p.fingerprint_sha256 = "AA:BB";
    assert_null(tbSdpBuildAnswer(offer, &p, &err));
    assert_non_null(strstr(err.msg, "fingerprint"));
    initParams(&p);
    p.setup = TB_SDP_SETUP_ACTPASS;
    assert_null(tbSdpBuildAnswer(offer, &p, &err));
    initParams(&p);
    p.candidates = evil;
    p.num_candidates = 1;
    assert_null(tbSdpBuildAnswer(offer, &p, &err));
    assert_non_null(strstr(err.msg, "candidate 0"));
    initParams(&p);
    assert_int_equal(tbSdpAnswerSetSend(&p, "1", 1, "PA_a\r\na=x", "TR_b", "c"), -1);
    assert_int_equal(tbSdpAnswerSetSend(&p, "1", 1, "PA a", "TR_b", "c"), -1);
    assert_int_equal(tbSdpAnswerSetSend(&p, "1", 0, "PA_a", "TR_b", "c"), -1);
    assert_int_equal(tbSdpAnswerSetSend(&p, "", 1, "PA_a", "TR_b", "c"), -1);
    assert_int_equal(tbSdpAnswerSetSend(&p, "1", 1, "PA_a", "TR_b", ""), -1);
    assert_int_equal(p.num_plans, 0);
    /* many plans grow the array; the last Set for a mid wins */
    char mid[8];
    for (int i = 0; i < 300; i++) {
        snprintf(mid, sizeof mid, "%d", i);
        assert_int_equal(tbSdpAnswerSetSend(&p, mid, (uint32_t)i + 1, "PA_a", "TR_b", "c"), 0);
    }
    assert_int_equal(tbSdpAnswerSetSend(&p, "1", 77, "PA_z", "TR_z", "z"), 0);
    assert_int_equal(p.num_plans, 300);
    tbSdpAnswer *a = answer(offer, &p);
    assert_int_equal(a->mids[1].send_ssrc, 77);
    assert_int_equal(a->mids[2].send_ssrc, 3);
    tbSdpAnswerFree(a);
    tbSdpAnswerParamsFree(&p);
    tbSdpFree(offer);
}

/* ---- malformed input ---------------------------------------------------- */

typedef struct badCase {
    const char *text;
    int line;
    const char *msg;                /* substring of the error */
} badCase;

/* v= and one audio section: the prefix of most cases below */
#define MA "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"

static const badCase badCases[] = {
    {"", 0, "empty"},
    {"\r\n\r\n", 0, "empty"},
    {"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", 1, "v=0"},
    {"v=1\r\n", 1, "v=0"},
    {"v=0\r\no=- 1 2 IN IP4\r\n", 2, "o= needs"},
    {"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF\r\n", 2, "m= needs"},
    {"v=0\r\nm=aud", 2, "m= needs"},
    {"v=0\r\nm=audio 99999 UDP/TLS/RTP/SAVPF 111\r\n", 2, "bad port"},
    {"v=0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n", 2, "bad port"},
    {"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 300\r\n", 2, "payload type"},
    {MA "a=rtpmap:111 opus\r\n", 3, "rtpmap"},
    {MA "a=rtpmap:111 opus/48000/0\r\n", 3, "rtpmap"},
    {MA "a=rtpmap:111", 3, "a=rtpmap: expected"},
    {MA "a=rtpmap", 3, "needs a value"},
    {MA "a=fingerprint:sha-256 9F:2D:D\r\n", 3, "fingerprint"},
    {"v=0\r\na=fingerprint:sha-256 9F::2D\r\n", 2, "fingerprint"},
    {"v=0\r\na=fingerprint:sha-256\r\n", 2, "fingerprint"},
    {MA "a=extmap:0 urn:x\r\n", 3, "extmap"},
    {MA "a=extmap:1/sideways urn:x\r\n", 3, "direction"},
    {MA "a=extmap:\r\n", 3, "needs a value"},
    {MA "a=ssrc:12\r\n", 3, "ssrc"},
    {MA "a=ssrc:4294967296 cname:x\r\n", 3, "ssrc"},
    {MA "a=ssrc-group:FID 1 x\r\n", 3, "SSRC"},
    {MA "a=ssrc-group:FID 1 2 3 4 5 6 7 8 9\r\n", 3, "too many"},
    {MA "a=candidate: \r\n", 3, "needs a value"},
    {MA "a=rtcp-fb:111\r\n", 3, "rtcp-fb"},
    {MA "a=setup:server\r\n", 3, "setup"},
    {MA "a=ice-ufrag:a b\r\n", 3, "ice-ufrag"},
    {MA "a=ice-pwd:p@ss\r\n", 3, "ice-pwd"},
    {"v=0\r\nm=application 9 UDP/DTLS/SCTP x\r\na=sctp-port:70000\r\n", 3, "sctp-port"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n", 4,
     "duplicate mid"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=mid:1\r\n", 4, "second a=mid"},
    {"v=0\r\na=group:BUNDLE 0 1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n", 2, "unknown mid '1'"},
    {"v=0\r\ns=a\rb\r\n", 2, "stray CR"},
    {"v=0\r\ns=a\x01\r\n", 2, "control character"},
    {"v=0\r\nhello\r\n", 2, "<letter>="},
    {"v=0\r\nA=b\r\n", 2, "<letter>="},
    {"v=0\r\n=\r\n", 2, "<letter>="},
    {"\x89PNG\r\n\x1a\n", 1, "<letter>="},
    {"v=0\n\x89PNG\r\n\x1a\n", 2, "<letter>="},
};

static void testMalformed(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof badCases / sizeof badCases[0]; i++) {
        const badCase *c = &badCases[i];
        tbSdpError err;
        tbSdp *sdp = tbSdpParse(c->text, strlen(c->text), &err);
        if (sdp || err.line != c->line || !strstr(err.msg, c->msg))
            print_error("case %zu: got %s line %d '%s', want line %d '%s'\n", i,
                        sdp ? "success" : "error", err.line, err.msg, c->line, c->msg);
        assert_null(sdp);
        assert_int_equal(err.line, c->line);
        assert_non_null(strstr(err.msg, c->msg));
    }
    /* NUL inside, which strlen-based cases cannot express */
    tbSdpError err;
    assert_null(tbSdpParse("v=0\r\ns=a\0b\r\n", 12, &err));
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "NUL"));
    assert_null(tbSdpParse(NULL, 0, &err));
    assert_null(tbSdpParse("x", 1, NULL)); /* no error struct: fine */
    tbSdp *ok = tbSdpParse("v=0", 3, &err);  /* a bare v=0 is a valid empty description */
    assert_non_null(ok);
    assert_int_equal(ok->num_sections, 0);
    tbSdpFree(ok);
}

static void testLimits(void **state) {
    (void)state;
    tbSdpError err;
    /* 10000 m-lines (210 KB, under TB_SDP_MAX_LEN): refused at the first one
     * over the section limit */
    static const char mline[] = "m=audio 0 RTP/AVP 0\r\n";
    size_t cap = 8 + 10000 * (sizeof mline - 1), len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text, cap, "v=0\r\n");
    for (int i = 0; i < 10000; i++) len += (size_t)snprintf(text + len, cap - len, "%s", mline);
    assert_true(len <= TB_SDP_MAX_LEN);
    assert_null(tbSdpParse(text, len, &err));
    assert_non_null(strstr(err.msg, "too many m= sections"));
    assert_int_equal(err.line, TB_SDP_MAX_SECTIONS + 2);
    /* exactly the limit is fine */
    size_t at = 5 + (size_t)TB_SDP_MAX_SECTIONS * (sizeof mline - 1);
    tbSdp *sdp = tbSdpParse(text, at, &err);
    assert_non_null(sdp);
    assert_int_equal(sdp->num_sections, TB_SDP_MAX_SECTIONS);
    tbSdpFree(sdp);
    /* the whole thing twice over is refused for its size */
    text = realloc(text, 2 * len);
    memcpy(text + len, text + 5, len - 5);
    assert_null(tbSdpParse(text, 2 * len - 5, &err));
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.msg, "too large"));
    free(text);
    /* a line over TB_SDP_MAX_LINE */
    text = malloc(TB_SDP_MAX_LINE + 64);
    len = (size_t)snprintf(text, 16, "v=0\r\ns=");
    memset(text + len, 'x', TB_SDP_MAX_LINE);
    len += TB_SDP_MAX_LINE;
    assert_null(tbSdpParse(text, len, &err));
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "too long"));
    free(text);
}

/* Deterministic random bytes, truncations and byte flips of a real offer:
 * never a crash (run under ASan/UBSan), every refusal explained, and
 * anything that parses can be answered. */
static uint32_t rng(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void tryParse(const char *buf, size_t len, const tbSdpAnswerParams *p) {
    tbSdpError err;
    tbSdp *sdp = tbSdpParse(buf, len, &err);
    if (!sdp) {
        assert_true(err.msg[0] != '\0');
        return;
    }
    tbSdpAnswer *a = tbSdpBuildAnswer(sdp, p, &err);
    if (a) {
        tbSdp *back = tbSdpParse(a->sdp, a->sdp_len, &err);
        assert_non_null(back);
        tbSdpFree(back);
    }
    tbSdpAnswerFree(a);
    tbSdpFree(sdp);
}

static void testFuzzish(void **state) {
    (void)state;
    size_t len;
    char *orig = readFile(PUBLISH_OFFER, &len);
    char *buf = malloc(len); /* exact sizes: ASan sees any over-read */
    uint32_t seed = 12345;
    tbSdpAnswerParams p;
    initParams(&p);
    assert_int_equal(tbSdpAnswerSetSend(&p, "2", 9, "PA_a", "TR_b", "c"), 0);
    size_t parsed = 0;
    for (size_t cut = 0; cut <= len; cut += 1 + rng(&seed) % 97) {
        char *prefix = malloc(cut ? cut : 1);
        memcpy(prefix, orig, cut);
        tbSdpError err;
        tbSdp *sdp = tbSdpParse(prefix, cut, &err);
        parsed += sdp != NULL;
        tbSdpFree(sdp);
        tryParse(prefix, cut, &p);
        free(prefix);
    }
    assert_true(parsed > 0);
    for (int round = 0; round < 400; round++) {
        memcpy(buf, orig, len);
        for (int k = 0; k < 1 + round % 8; k++) buf[rng(&seed) % len] = (char)(rng(&seed) & 0xff);
        tryParse(buf, len, &p);
    }
    for (int round = 0; round < 400; round++) {
        size_t n = rng(&seed) % 512;
        char *junk = malloc(n + 1);
        for (size_t i = 0; i < n; i++) junk[i] = (char)(rng(&seed) & 0xff);
        if (n > 4 && round % 2) memcpy(junk, "v=0\n", 4);
        tryParse(junk, n, &p);
        free(junk);
    }
    tbSdpAnswerParamsFree(&p);
    free(buf);
    free(orig);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testParseJoinOffer),
        cmocka_unit_test(testParseLfOnly),
        cmocka_unit_test(testParsePublishOffer),
        cmocka_unit_test(testParseAiortcOffer),
        cmocka_unit_test(testAnswerJoinOffer),
        cmocka_unit_test(testAnswerRedAndTwcc),
        cmocka_unit_test(testAnswerPublishOffer),
        cmocka_unit_test(testAnswerAiortc),
        cmocka_unit_test(testAnswerChromiumReoffer),
        cmocka_unit_test(testAnswerRejectedInOffer),
        cmocka_unit_test(testAnswerTaggedRejected),
        cmocka_unit_test(testAnswerRejects),
        cmocka_unit_test(testAnswerSetupComplement),
        cmocka_unit_test(testAnswerParamChecks),
        cmocka_unit_test(testMalformed),
        cmocka_unit_test(testLimits),
        cmocka_unit_test(testFuzzish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
