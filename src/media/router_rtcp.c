/* router_rtcp.c — RTCP for the forwarding engine: every second each
 * transport gets one compound SRTCP packet holding a sender report per track
 * we send it (so receivers can map RTP time to wall-clock time and compute
 * round-trip times) and a receiver report on the tracks it publishes to us
 * (loss, jitter); inbound RTCP is validated (malformed is counted and
 * dropped), publishers' sender reports feed our receiver statistics, and
 * subscribers' generic NACKs are answered from each downtrack's
 * retransmission buffer. */
#include <string.h>
#include <time.h>

#include "media/router_internal.h"
#include "rtp/rtcp.h"

#define TB_RTCP_MAX_PACKET 1200
#define TB_CNAME "tribune"

static uint64_t wallUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static tbDownTrack *downBySsrc(tbRouter *r, const tbTransport *sub, uint32_t ssrc,
                               tbUpTrack **up) {
    for (tbUpTrack *u = r->ups; u; u = u->next)
        for (tbDownTrack *d = u->downs; d; d = d->next)
            if (d->sub == sub && d->ssrc == ssrc) {
                *up = u;
                return d;
            }
    return NULL;
}

/* Rebuilds what d sent under one seq from the uptrack's history: the same
 * bytes as the first time (same seq, timestamp and key: a valid SRTP
 * resend), so the subscriber cannot tell it from the original. */
static void resend(tbRouter *r, tbTransport *t, tbUpTrack *u, tbDownTrack *d, uint16_t seq,
                   int64_t now) {
    tbNackSent e;
    const uint8_t *pkt;
    size_t plen;
    tbRtpHeader h;
    if (tbNackMapGet(&d->sent, seq, (uint64_t)now, &e) != TB_NACK_OK ||
        tbNackBufferPeek(&u->history, e.in_seq, &pkt, &plen) != TB_NACK_OK ||
        tbRtpParse(pkt, plen, &h) != TB_RTP_OK)
        return;
    uint8_t level = TB_RTP_AUDIO_LEVEL_SILENT;
    bool voice = false;
    if (u->audio_level_ext) tbRtpGetAudioLevel(pkt, &h, u->audio_level_ext, &level, &voice);
    uint8_t buf[TB_UDP_MTU], pt;
    if (!tbRouterDownFormat(u, d, pkt, &h, &pt)) return;
    size_t len = tbRouterDownPacket(u, d, pkt, &h, pt, level, voice, e.out_seq, e.out_ts,
                                    e.marker, buf, sizeof buf);
    if (len == 0) return;
    tbRouterSendTo(t, buf, len);
    r->stats.nack_resent++;
}

static void onNack(tbRouter *r, tbTransport *t, const tbRtcpFb *fb, int64_t now) {
    tbUpTrack *u = NULL;
    tbDownTrack *d = downBySsrc(r, t, fb->media_ssrc, &u);
    uint16_t seqs[64];
    int n = d ? tbRtcpNackSeqs(fb, seqs, sizeof seqs / sizeof seqs[0]) : 0;
    for (int i = 0; i < n; i++) resend(r, t, u, d, seqs[i], now);
}

/* Receive statistics run on the worker's monotonic clock, like arrivals. */
static void onSenderReport(tbRouter *r, tbTransport *t, const tbRtcpPacket *p, int64_t now) {
    tbRtcpSr sr;
    if (tbRtcpParseSr(p, &sr) != 0) return;
    for (tbUpTrack *u = r->ups; u; u = u->next)
        if (u->pub == t && u->stats_started && u->ssrc == sr.info.ssrc)
            tbRtpRecvStatsOnSr(&u->stats, sr.info.ntp_sec, sr.info.ntp_frac,
                               (uint64_t)now * 1000);
}

void tbRouterRtcpIn(tbRouter *r, tbTransport *t, const uint8_t *pkt, size_t len, int64_t now) {
    if (tbRtcpValidate(pkt, len) < 0) {
        r->stats.dropped_malformed++;
        return;
    }
    tbRtcpIter it;
    tbRtcpPacket p;
    tbRtcpIterInit(&it, pkt, len);
    while (tbRtcpIterNext(&it, &p) == 1) {
        tbRtcpFb fb;
        if (p.pt == TB_RTCP_SR) {
            onSenderReport(r, t, &p, now);
        } else if (p.pt == TB_RTCP_RTPFB && tbRtcpParseFb(&p, &fb) == 0 &&
                   fb.kind == TB_RTCP_FB_NACK) {
            onNack(r, t, &fb, now);
        }
        /* RR, SDES, BYE, PLI, REMB, TWCC: nothing to act on for audio yet */
    }
}

/* Appends one SR (+ SDES CNAME) per downtrack that sends into t. */
static size_t writeSenderReports(tbRouter *r, tbTransport *t, int64_t now, uint8_t *buf,
                                 size_t cap) {
    size_t off = 0;
    uint64_t wall = wallUs();
    for (tbUpTrack *u = r->ups; u; u = u->next) {
        for (tbDownTrack *d = u->downs; d; d = d->next) {
            if (d->sub != t || d->packets == 0) continue;
            tbRtcpSenderInfo info = {.ssrc = d->ssrc,
                                     .rtp_ts = tbRtpMungerTsAt(&d->munger, (uint64_t)now * 1000),
                                     .packet_count = (uint32_t)d->packets,
                                     .octet_count = (uint32_t)d->octets};
            tbRtcpNtpFromUnixUs(wall, &info.ntp_sec, &info.ntp_frac);
            int n = tbRtcpWriteReport(buf + off, cap - off, &info, d->ssrc, NULL, 0, TB_CNAME,
                                      strlen(TB_CNAME));
            if (n <= 0) return off;
            off += (size_t)n;
        }
    }
    return off;
}

/* Appends an RR on the tracks t publishes. */
static size_t writeReceiverReport(tbRouter *r, tbTransport *t, int64_t now, uint8_t *buf,
                                  size_t cap) {
    tbRtcpReportBlock blocks[TB_RTCP_MAX_BLOCKS];
    size_t n = 0;
    for (tbUpTrack *u = r->ups; u && n < TB_RTCP_MAX_BLOCKS; u = u->next)
        if (u->pub == t && u->stats_started && tbRtpRecvStatsReport(&u->stats, (uint64_t)now * 1000, &blocks[n]))
            n++;
    if (n == 0) return 0;
    int w = tbRtcpWriteReport(buf, cap, NULL, t->rtcp_ssrc, blocks, n, TB_CNAME,
                              strlen(TB_CNAME));
    return w > 0 ? (size_t)w : 0;
}

void tbRouterRtcpTick(tbRouter *r, tbTransport *t, int64_t now) {
    uint8_t buf[TB_RTCP_MAX_PACKET + TB_SRTP_MAX_OVERHEAD];
    size_t len = writeSenderReports(r, t, now, buf, TB_RTCP_MAX_PACKET);
    len += writeReceiverReport(r, t, now, buf + len, TB_RTCP_MAX_PACKET - len);
    if (len == 0) return;
    if (tbSrtpProtectRtcp(&t->srtp, buf, &len, sizeof buf) != TB_SRTP_OK) return;
    tbRouterSendTo(t, buf, len);
}
