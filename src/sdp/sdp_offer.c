/* sdp_offer.c — the subscriber offers tribune makes; see sdp_offer.h.
 * Hand-written like the rest of src/sdp (no SDP library fits a C server). */
#include "sdp/sdp_offer.h"

#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"
#include "util/sbuf.h"

static bool token(const char *s) {
    if (s == NULL || *s == '\0' || strlen(s) > 128) return false; /* sha-256: 95 */
    for (const char *c = s; *c; c++)
        if (*c <= ' ' || *c == 0x7f) return false;
    return true;
}

static bool valid(const tbSdpOfferParams *p) {
    if (!token(p->ice_ufrag) || !token(p->ice_pwd) || !token(p->fingerprint_sha256) ||
        p->num_sections == 0)
        return false;
    for (size_t i = 0; i < p->num_sections; i++) {
        const tbSdpOfferSection *s = &p->sections[i];
        if (!token(s->mid)) return false;
        if (!s->application && s->active &&
            (!token(s->participant_sid) || !token(s->track_sid) || s->ssrc == 0))
            return false;
    }
    return true;
}

static void transport(tbSbuf *b, const tbSdpOfferParams *p, const char *mid) {
    tbSbufPrintf(b, "c=IN IP4 0.0.0.0\r\n");
    tbSbufPrintf(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", p->ice_ufrag, p->ice_pwd);
    tbSbufPrintf(b, "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:%s\r\n",
                 p->fingerprint_sha256, mid);
}

static void candidates(tbSbuf *b, const tbSdpOfferParams *p) {
    for (size_t i = 0; i < p->num_candidates; i++) {
        const char *c = p->candidates[i];
        if (strncmp(c, "a=", 2) == 0) c += 2;
        if (strncmp(c, "candidate:", 10) == 0) c += 10;
        tbSbufPrintf(b, "a=candidate:%s\r\n", c);
    }
    tbSbufPrintf(b, "a=end-of-candidates\r\n");
}

static void audio(tbSbuf *b, const tbSdpOfferParams *p, const tbSdpOfferSection *s) {
    const int pt = TB_SDP_OFFER_OPUS_PT;
    tbSbufPrintf(b, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", pt);
    transport(b, p, s->mid);
    tbSbufPrintf(b, "a=extmap:%d %s\r\na=extmap:%d %s\r\n", TB_SDP_OFFER_EXT_AUDIO_LEVEL,
                 TB_SDP_URI_AUDIO_LEVEL, TB_SDP_OFFER_EXT_MID, TB_SDP_URI_MID);
    tbSbufPrintf(b, "a=%s\r\n", s->active ? "sendonly" : "inactive");
    if (s->active)
        tbSbufPrintf(b, "a=msid:%s|%s %s\r\n", s->participant_sid, s->track_sid, s->track_sid);
    tbSbufPrintf(b, "a=rtcp-mux\r\na=rtpmap:%d opus/48000/2\r\na=rtcp-fb:%d nack\r\n", pt, pt);
    tbSbufPrintf(b, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", pt);
    if (s->active) {
        tbSbufPrintf(b, "a=ssrc:%u cname:%s\r\n", s->ssrc, s->participant_sid);
        tbSbufPrintf(b, "a=ssrc:%u msid:%s|%s %s\r\n", s->ssrc, s->participant_sid,
                     s->track_sid, s->track_sid);
    }
}

static void application(tbSbuf *b, const tbSdpOfferParams *p, const tbSdpOfferSection *s) {
    tbSbufPrintf(b, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
    transport(b, p, s->mid);
    tbSbufPrintf(b, "a=sctp-port:5000\r\na=max-message-size:262144\r\n");
}

char *tbSdpBuildOffer(const tbSdpOfferParams *p, size_t *len) {
    if (p == NULL || !valid(p)) return NULL;
    tbSbuf b;
    tbSbufInit(&b, 0);
    tbSbufPrintf(&b, "v=0\r\no=- %llu %llu IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                 (unsigned long long)(p->session_id ? p->session_id : 1),
                 (unsigned long long)p->session_version);
    tbSbufPrintf(&b, "a=group:BUNDLE");
    for (size_t i = 0; i < p->num_sections; i++) tbSbufPrintf(&b, " %s", p->sections[i].mid);
    tbSbufPrintf(&b, "\r\na=msid-semantic: WMS *\r\na=ice-lite\r\n");
    for (size_t i = 0; i < p->num_sections; i++) {
        const tbSdpOfferSection *s = &p->sections[i];
        if (s->application)
            application(&b, p, s);
        else
            audio(&b, p, s);
        if (i == 0) candidates(&b, p); /* the BUNDLE-tagged section carries them */
    }
    tbSbufAppend(&b, "", 1); /* NUL */
    char *out = malloc(b.len);
    if (out) {
        memcpy(out, tbSbufData(&b), b.len);
        if (len) *len = b.len - 1;
    }
    tbSbufFree(&b);
    return out;
}
