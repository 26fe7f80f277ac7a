/* lg_sdp.c — offers and answers of the load generator; see lg_sdp.h. */
#include "lg_sdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"
#include "util/sbuf.h"

#define OPUS_PT 111

static void section(tbSbuf *b, const lgOfferParams *p, unsigned mid, bool send) {
    tbSbufPrintf(b,
                 "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n"
                 "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                 "a=fingerprint:%s\r\na=setup:actpass\r\na=mid:%u\r\n"
                 "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
                 "a=%s\r\na=rtcp-mux\r\na=rtpmap:%d opus/48000/2\r\n"
                 "a=fmtp:%d minptime=10;useinbandfec=1\r\n",
                 OPUS_PT, p->ufrag, p->pwd, p->fingerprint, mid, send ? "sendonly" : "recvonly",
                 OPUS_PT, OPUS_PT);
    if (send)
        tbSbufPrintf(b, "a=msid:lg %s\r\na=ssrc:%u cname:lg\r\na=ssrc:%u msid:lg %s\r\n",
                     p->cid, p->ssrc, p->ssrc, p->cid);
}

char *lgSdpOffer(const lgOfferParams *p) {
    tbSbuf b;
    tbSbufInit(&b, 0);
    unsigned n = (p->publish ? 1 : 0) + p->recv;
    tbSbufPrintf(&b, "v=0\r\no=- 4611731400430051336 %llu IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                     "a=group:BUNDLE",
                 (unsigned long long)p->version);
    for (unsigned i = 0; i < n; i++) tbSbufPrintf(&b, " %u", i);
    tbSbufPrintf(&b, "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS lg\r\n");
    for (unsigned i = 0; i < n; i++) section(&b, p, i, p->publish && i == 0);
    if (b.oom) {
        tbSbufFree(&b);
        return NULL;
    }
    char *out = malloc(b.len + 1);
    if (out) {
        memcpy(out, tbSbufData(&b), b.len);
        out[b.len] = '\0';
    }
    tbSbufFree(&b);
    return out;
}

/* "foundation component transport priority ip port typ type ..." */
static bool hostCandidate(const char *c, char *ip, size_t iplen, int *port) {
    char transport[16], addr[64], typ[8], type[16];
    unsigned comp;
    unsigned long prio;
    if (sscanf(c, "%*s %u %15s %lu %63s %d %7s %15s", &comp, transport, &prio, addr, port, typ,
               type) != 7)
        return false;
    if (strcasecmp(transport, "udp") != 0 || strcmp(type, "host") != 0) return false;
    snprintf(ip, iplen, "%s", addr);
    return true;
}

static void findCandidate(const tbSdp *a, lgAnswer *out) {
    for (size_t i = 0; i < a->num_sections; i++) {
        const tbSdpSection *s = &a->sections[i];
        for (size_t j = 0; j < s->num_candidates; j++) {
            char ip[64];
            int port;
            if (!hostCandidate(s->candidates[j], ip, sizeof ip, &port)) continue;
            bool v4 = strchr(ip, ':') == NULL;
            if (out->port == 0 || (v4 && strchr(out->ip, ':'))) {
                snprintf(out->ip, sizeof out->ip, "%s", ip);
                out->port = port;
            }
        }
    }
}

static uint8_t opusPt(const tbSdp *a) {
    for (size_t i = 0; i < a->num_sections; i++)
        for (size_t j = 0; j < a->sections[i].num_codecs; j++)
            if (strcasecmp(a->sections[i].codecs[j].name, "opus") == 0)
                return a->sections[i].codecs[j].pt;
    return OPUS_PT;
}

int lgSdpReadAnswer(const char *sdp, lgAnswer *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    tbSdpError perr;
    tbSdp *a = tbSdpParse(sdp, strlen(sdp), &perr);
    if (!a) {
        snprintf(err, errlen, "answer, line %d: %s", perr.line, perr.msg);
        return -1;
    }
    tbSdpTransportInfo t;
    int rc = -1;
    if (!tbSdpTransport(a, &t) || !t.fingerprint || !t.fingerprint->alg) {
        snprintf(err, errlen, "answer without ICE credentials or fingerprint");
        goto done;
    }
    snprintf(out->ufrag, sizeof out->ufrag, "%s", t.ice_ufrag);
    snprintf(out->pwd, sizeof out->pwd, "%s", t.ice_pwd);
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s %s", t.fingerprint->alg,
             t.fingerprint->hex);
    out->dtls_client = t.setup == TB_SDP_SETUP_ACTIVE;
    out->opus_pt = opusPt(a);
    findCandidate(a, out);
    if (out->port == 0) {
        snprintf(err, errlen, "answer without a UDP host candidate");
        goto done;
    }
    rc = 0;
done:
    tbSdpFree(a);
    return rc;
}
