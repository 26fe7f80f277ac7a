/* test_rtcp.c — unit tests for src/rtp/rtcp.c, rtcp_build.c and
 * recv_stats.c: each RTCP packet type (SR, RR, SDES, BYE, APP, RTPFB NACK
 * and transport-cc, PSFB PLI/FIR/REMB, XR), malformed compounds (length past
 * the buffer, empty, wrong version, truncated report blocks, bad padding,
 * SDES without END), the builders round-tripped through the parser, and the
 * RFC 3550 receive statistics behind RR report blocks. Byte layouts follow
 * what Chromium sends (RR + SDES CNAME compounds, reduced-size NACK). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp/recv_stats.h"
#include "rtp/rtcp.h"

/* Chromium's receiver report for one audio stream plus its CNAME (16
 * random characters): RR (RC=1) then SDES (SC=1). */
static const uint8_t chromeRrSdes[] = {
    0x81, 0xc9, 0x00, 0x07,             /* RR, RC=1, 8 words */
    0x00, 0x00, 0x00, 0x01,             /* reporter SSRC 1 */
    0x6b, 0x8b, 0x45, 0x67,             /* source */
    0x05, 0x00, 0x00, 0x0c,             /* fraction 5/256, cumulative 12 */
    0x00, 0x01, 0x5a, 0x3c,             /* highest seq: 1 cycle + 23100 */
    0x00, 0x00, 0x01, 0x2c,             /* jitter 300 */
    0x3a, 0x00, 0x12, 0x34,             /* LSR */
    0x00, 0x01, 0x80, 0x00,             /* DLSR 1.5 s */
    0x81, 0xca, 0x00, 0x06,             /* SDES, SC=1, 7 words */
    0x00, 0x00, 0x00, 0x01,
    0x01, 0x10, 'Q', 'w', '4', 'r', 'T', 'y', '7', 'u', 'I', 'o', 'p', '9', 'a', 'S',
    'd', 'F',                           /* CNAME, 16 bytes */
    0x00, 0x00,                         /* END + pad */
};

/* Sender report with one block. */
static const uint8_t srPacket[] = {
    0x81, 0xc8, 0x00, 0x0c,             /* SR, RC=1, 13 words */
    0x6b, 0x8b, 0x45, 0x67,             /* SSRC */
    0xe9, 0x4e, 0x7a, 0x10,             /* NTP sec */
    0x80, 0x00, 0x00, 0x00,             /* NTP frac: .5 */
    0x1f, 0x5e, 0x3a, 0x00,             /* RTP ts */
    0x00, 0x00, 0x01, 0xf4,             /* 500 packets */
    0x00, 0x00, 0xea, 0x60,             /* 60000 octets */
    0x00, 0x00, 0x00, 0x01,             /* block: source 1 */
    0x00, 0xff, 0xff, 0xff,             /* fraction 0, cumulative -1 */
    0x00, 0x00, 0x00, 0x64,             /* highest 100 */
    0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
};

static int iterAll(const uint8_t *buf, size_t len, tbRtcpPacket *pkts, int max) {
    tbRtcpIter it;
    tbRtcpIterInit(&it, buf, len);
    int n = 0, rc;
    while ((rc = tbRtcpIterNext(&it, &pkts[n])) == 1) {
        if (++n == max)
            break;
    }
    return rc < 0 ? rc : n;
}

typedef struct sdesSeen {
    int items;
    uint32_t ssrc[4];
    uint8_t type[4];
    char value[4][32];
} sdesSeen;

static bool sdesCollect(void *ud, uint32_t ssrc, uint8_t type, const uint8_t *v, uint8_t len) {
    sdesSeen *s = ud;
    if (s->items == 4)
        return false;
    s->ssrc[s->items] = ssrc;
    s->type[s->items] = type;
    memcpy(s->value[s->items], v, len < 31 ? len : 31);
    s->value[s->items][len < 31 ? len : 31] = '\0';
    s->items++;
    return true;
}

static void testChromeRrSdes(void **state) {
    (void)state;
    tbRtcpPacket p[4];
    assert_int_equal(iterAll(chromeRrSdes, sizeof chromeRrSdes, p, 4), 2);
    assert_int_equal(tbRtcpValidate(chromeRrSdes, sizeof chromeRrSdes), 2);
    assert_int_equal(p[0].pt, TB_RTCP_RR);
    assert_int_equal(p[0].len, 32);
    tbRtcpRr rr;
    assert_int_equal(tbRtcpParseRr(&p[0], &rr), TB_RTCP_OK);
    assert_int_equal(rr.ssrc, 1);
    assert_int_equal(rr.nblocks, 1);
    assert_int_equal(rr.blocks[0].ssrc, 0x6b8b4567u);
    assert_int_equal(rr.blocks[0].fraction_lost, 5);
    assert_int_equal(rr.blocks[0].cumulative_lost, 12);
    assert_int_equal(rr.blocks[0].highest_seq, 65536 + 23100);
    assert_int_equal(rr.blocks[0].jitter, 300);
    assert_int_equal(rr.blocks[0].lsr, 0x3a001234u);
    assert_int_equal(rr.blocks[0].dlsr, 0x18000);
    assert_int_equal(p[1].pt, TB_RTCP_SDES);
    sdesSeen seen = {0};
    assert_int_equal(tbRtcpParseSdes(&p[1], sdesCollect, &seen), TB_RTCP_OK);
    assert_int_equal(seen.items, 1);
    assert_int_equal(seen.ssrc[0], 1);
    assert_int_equal(seen.type[0], TB_RTCP_SDES_CNAME);
    assert_string_equal(seen.value[0], "Qw4rTy7uIop9aSdF");
    /* a parser for another type refuses */
    assert_int_equal(tbRtcpParseSdes(&p[0], sdesCollect, &seen), TB_RTCP_ERR_TYPE);
}

static void testSr(void **state) {
    (void)state;
    tbRtcpPacket p[2];
    assert_int_equal(iterAll(srPacket, sizeof srPacket, p, 2), 1);
    tbRtcpSr sr;
    assert_int_equal(tbRtcpParseSr(&p[0], &sr), TB_RTCP_OK);
    assert_int_equal(sr.info.ssrc, 0x6b8b4567u);
    assert_int_equal(sr.info.ntp_sec, 0xe94e7a10u);
    assert_int_equal(sr.info.ntp_frac, 0x80000000u);
    assert_int_equal(sr.info.rtp_ts, 0x1f5e3a00u);
    assert_int_equal(sr.info.packet_count, 500);
    assert_int_equal(sr.info.octet_count, 60000);
    assert_int_equal(sr.nblocks, 1);
    assert_int_equal(sr.blocks[0].ssrc, 1);
    assert_int_equal(sr.blocks[0].cumulative_lost, -1);
    assert_int_equal(sr.blocks[0].highest_seq, 100);
    assert_int_equal(sr.blocks[0].jitter, 16);
    tbRtcpRr rr;
    assert_int_equal(tbRtcpParseRr(&p[0], &rr), TB_RTCP_ERR_TYPE);
}

static void testSdesTwoChunks(void **state) {
    (void)state;
    const uint8_t pkt[] = {
        0x82, 0xca, 0x00, 0x07,
        0x00, 0x00, 0x00, 0x0a, 0x01, 0x03, 'a', 'b', 'c', 0x00, /* CNAME "abc", END */
        0x00, 0x00,                                               /* to 32 bits */
        0x00, 0x00, 0x00, 0x0b, 0x01, 0x01, 'x', 0x02, 0x04, 'B', 'o', 'b', '!',
        0x00, 0x00, 0x00,                                         /* CNAME, NAME, END */
    };
    tbRtcpPacket p[2];
    assert_int_equal(iterAll(pkt, sizeof pkt, p, 2), 1);
    sdesSeen seen = {0};
    assert_int_equal(tbRtcpParseSdes(&p[0], sdesCollect, &seen), TB_RTCP_OK);
    assert_int_equal(seen.items, 3);
    assert_int_equal(seen.ssrc[0], 10);
    assert_string_equal(seen.value[0], "abc");
    assert_int_equal(seen.ssrc[1], 11);
    assert_string_equal(seen.value[1], "x");
    assert_int_equal(seen.type[2], 2);
    assert_string_equal(seen.value[2], "Bob!");
    /* the callback can stop the walk */
    sdesSeen one = {.items = 3};
    assert_int_equal(tbRtcpParseSdes(&p[0], sdesCollect, &one), TB_RTCP_OK);
    assert_int_equal(one.items, 4);
}

static void testByeApp(void **state) {
    (void)state;
    const uint8_t pkt[] = {
        0x82, 0xcb, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
        0x04, 'b', 'y', 'e', '!', 0x00, 0x00, 0x00,       /* BYE 1, 2 "bye!" */
        0x81, 0xcb, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03,   /* BYE 3, no reason */
        0x83, 0xcc, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 'L', 'K', 'I', 'T',
        0xde, 0xad, 0xbe, 0xef,                           /* APP subtype 3 */
    };
    tbRtcpPacket p[4];
    assert_int_equal(iterAll(pkt, sizeof pkt, p, 4), 3);
    tbRtcpBye bye;
    assert_int_equal(tbRtcpParseBye(&p[0], &bye), TB_RTCP_OK);
    assert_int_equal(bye.count, 2);
    assert_int_equal(bye.ssrcs[0], 1);
    assert_int_equal(bye.ssrcs[1], 2);
    assert_int_equal(bye.reason_len, 4);
    assert_memory_equal(bye.reason, "bye!", 4);
    assert_int_equal(tbRtcpParseBye(&p[1], &bye), TB_RTCP_OK);
    assert_int_equal(bye.count, 1);
    assert_int_equal(bye.reason_len, 0);
    assert_null(bye.reason);
    tbRtcpApp app;
    assert_int_equal(tbRtcpParseApp(&p[2], &app), TB_RTCP_OK);
    assert_int_equal(app.subtype, 3);
    assert_int_equal(app.ssrc, 9);
    assert_memory_equal(app.name, "LKIT", 4);
    assert_int_equal(app.data_len, 4);
    assert_int_equal(app.data[0], 0xde);
}

static void testNackParse(void **state) {
    (void)state;
    /* Chromium's reduced-size NACK: lost 1000, 1002, 1016 and 2000 */
    const uint8_t pkt[] = {0x81, 0xcd, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x6b, 0x8b,
                           0x45, 0x67, 0x03, 0xe8, 0x80, 0x02, 0x07, 0xd0, 0x00, 0x00};
    tbRtcpPacket p;
    assert_int_equal(iterAll(pkt, sizeof pkt, &p, 1), 1);
    tbRtcpFb fb;
    assert_int_equal(tbRtcpParseFb(&p, &fb), TB_RTCP_OK);
    assert_int_equal(fb.kind, TB_RTCP_FB_NACK);
    assert_int_equal(fb.sender_ssrc, 1);
    assert_int_equal(fb.media_ssrc, 0x6b8b4567u);
    uint16_t seqs[8];
    assert_int_equal(tbRtcpNackSeqs(&fb, seqs, 8), 4);
    assert_int_equal(seqs[0], 1000);
    assert_int_equal(seqs[1], 1002);
    assert_int_equal(seqs[2], 1016);
    assert_int_equal(seqs[3], 2000);
    /* a short output gets the first ones and the full count */
    assert_int_equal(tbRtcpNackSeqs(&fb, seqs, 2), 4);
    assert_int_equal(seqs[1], 1002);
}

static void testFeedbackKinds(void **state) {
    (void)state;
    const uint8_t pkt[] = {
        /* transport-cc (fmt 15): base seq 5, status count 1, ref time, 1 chunk */
        0x8f, 0xcd, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, 0x05, 0x00, 0x01,
        0x00, 0x00, 0x10, 0x00, 0x20, 0x01, 0x04, 0x00,
        /* PLI */
        0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2,
        /* FIR: one entry (SSRC, seq nr) */
        0x84, 0xce, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x07, 0, 0, 0,
        /* REMB: 'REMB', 1 SSRC, exp 2 mantissa 0x3e800 -> 1 Mbit/s */
        0x8f, 0xce, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B',
        0x01, 0x0b, 0xe8, 0x00, 0, 0, 0, 2,
        /* XR with an RRTR block */
        0x80, 0xcf, 0x00, 0x04, 0, 0, 0, 1, 0x04, 0x00, 0x00, 0x02, 0xe9, 0x4e, 0x7a, 0x10,
        0x80, 0, 0, 0,
        /* some other PSFB fmt (SLI, 2) */
        0x82, 0xce, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0,
    };
    tbRtcpPacket p[8];
    assert_int_equal(iterAll(pkt, sizeof pkt, p, 8), 6);
    tbRtcpFb fb;
    assert_int_equal(tbRtcpParseFb(&p[0], &fb), TB_RTCP_OK);
    assert_int_equal(fb.kind, TB_RTCP_FB_TWCC);
    assert_int_equal(fb.fci_len, 12);
    uint16_t seqs[4];
    assert_int_equal(tbRtcpNackSeqs(&fb, seqs, 4), TB_RTCP_ERR_TYPE);
    assert_int_equal(tbRtcpParseFb(&p[1], &fb), TB_RTCP_OK);
    assert_int_equal(fb.kind, TB_RTCP_FB_PLI);
    assert_int_equal(fb.media_ssrc, 2);
    assert_int_equal(tbRtcpParseFb(&p[2], &fb), TB_RTCP_OK);
    assert_int_equal(fb.kind, TB_RTCP_FB_FIR);
    assert_int_equal(tbRtcpParseFb(&p[3], &fb), TB_RTCP_OK);
    assert_int_equal(fb.kind, TB_RTCP_FB_REMB);
    assert_int_equal(p[4].pt, TB_RTCP_XR);
    assert_int_equal(tbRtcpParseFb(&p[4], &fb), TB_RTCP_ERR_TYPE);
    assert_int_equal(tbRtcpParseFb(&p[5], &fb), TB_RTCP_OK);
    assert_int_equal(fb.kind, TB_RTCP_FB_OTHER);
    assert_int_equal(fb.fmt, 2);
}

static void testMalformed(void **state) {
    (void)state;
    uint8_t buf[sizeof chromeRrSdes] = {0};
    /* empty */
    assert_int_equal(tbRtcpValidate(buf, 0), TB_RTCP_ERR_SHORT);
    /* length field beyond the buffer (the SDES claims 8 words) */
    memcpy(buf, chromeRrSdes, sizeof buf);
    buf[35] = 0x07;
    assert_int_equal(tbRtcpValidate(buf, sizeof buf), TB_RTCP_ERR_LENGTH);
    /* the whole compound cut short */
    assert_int_equal(tbRtcpValidate(chromeRrSdes, sizeof chromeRrSdes - 4), TB_RTCP_ERR_LENGTH);
    /* trailing bytes too few for a header */
    uint8_t tail[sizeof chromeRrSdes + 3];
    memcpy(tail, chromeRrSdes, sizeof chromeRrSdes);
    memset(tail + sizeof chromeRrSdes, 0x80, 3);
    assert_int_equal(tbRtcpValidate(tail, sizeof tail), TB_RTCP_ERR_SHORT);
    /* zero-length RR: header only, no reporter SSRC */
    const uint8_t rr0[] = {0x80, 0xc9, 0x00, 0x00};
    assert_int_equal(tbRtcpValidate(rr0, sizeof rr0), TB_RTCP_ERR_SHORT);
    /* wrong version in the second packet */
    memcpy(buf, chromeRrSdes, sizeof buf);
    buf[32] = 0x41;
    assert_int_equal(tbRtcpValidate(buf, sizeof buf), TB_RTCP_ERR_VERSION);
    /* the iterator yields the first packet, then stops at the error */
    tbRtcpIter it;
    tbRtcpPacket p;
    tbRtcpIterInit(&it, buf, sizeof buf);
    assert_int_equal(tbRtcpIterNext(&it, &p), 1);
    assert_int_equal(tbRtcpIterNext(&it, &p), TB_RTCP_ERR_VERSION);
    assert_int_equal(tbRtcpIterNext(&it, &p), TB_RTCP_ERR_VERSION);
    /* truncated report blocks: RC=2 with room for one */
    memcpy(buf, chromeRrSdes, sizeof buf);
    buf[0] = 0x82;
    assert_int_equal(tbRtcpValidate(buf, sizeof buf), TB_RTCP_ERR_SHORT);
    uint8_t sr[sizeof srPacket];
    memcpy(sr, srPacket, sizeof sr);
    sr[0] = 0x82;
    assert_int_equal(tbRtcpValidate(sr, sizeof sr), TB_RTCP_ERR_SHORT);
    /* not an RTCP type (RTP PT 111 with marker) */
    const uint8_t rtp[] = {0x80, 0xef, 0x00, 0x00};
    assert_int_equal(tbRtcpValidate(rtp, sizeof rtp), TB_RTCP_ERR_TYPE);
    /* padding on a packet that is not the last one (its last byte would be
     * a plausible count of 4) */
    memcpy(buf, chromeRrSdes, sizeof buf);
    buf[0] |= 0x20;
    buf[31] = 4;
    assert_int_equal(tbRtcpValidate(buf, sizeof buf), TB_RTCP_ERR_PADDING);
    /* SDES chunk without an END item */
    memcpy(buf, chromeRrSdes, sizeof buf);
    buf[41] = 0x12; /* CNAME length 18: runs over the END octets */
    assert_int_equal(tbRtcpValidate(buf, sizeof buf), TB_RTCP_ERR_FORMAT);
    /* SDES claiming two chunks with one present */
    memcpy(buf, chromeRrSdes, sizeof buf);
    buf[32] = 0x82;
    assert_int_equal(tbRtcpValidate(buf, sizeof buf), TB_RTCP_ERR_SHORT);
    /* NACK without FCI */
    const uint8_t nack0[] = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    assert_int_equal(tbRtcpValidate(nack0, sizeof nack0), TB_RTCP_ERR_FORMAT);
    /* feedback shorter than its two SSRCs */
    const uint8_t pli1[] = {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1};
    assert_int_equal(tbRtcpValidate(pli1, sizeof pli1), TB_RTCP_ERR_SHORT);
    /* BYE whose reason length runs past the packet */
    const uint8_t bye[] = {0x81, 0xcb, 0x00, 0x02, 0, 0, 0, 1, 0x09, 'x', 'y', 'z'};
    assert_int_equal(tbRtcpValidate(bye, sizeof bye), TB_RTCP_ERR_FORMAT);
}

static void testPadding(void **state) {
    (void)state;
    /* RR without blocks, padded with 4 bytes (P on the last packet) */
    const uint8_t pkt[] = {0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 4};
    tbRtcpPacket p;
    assert_int_equal(iterAll(pkt, sizeof pkt, &p, 1), 1);
    assert_int_equal(p.body_len, 4);
    tbRtcpRr rr;
    assert_int_equal(tbRtcpParseRr(&p, &rr), TB_RTCP_OK);
    assert_int_equal(rr.ssrc, 7);
    uint8_t bad[sizeof pkt];
    memcpy(bad, pkt, sizeof bad);
    bad[11] = 0;
    assert_int_equal(tbRtcpValidate(bad, sizeof bad), TB_RTCP_ERR_PADDING);
    bad[11] = 9;
    assert_int_equal(tbRtcpValidate(bad, sizeof bad), TB_RTCP_ERR_PADDING);
    bad[11] = 8; /* eats the SSRC: the RR is then too short */
    assert_int_equal(tbRtcpValidate(bad, sizeof bad), TB_RTCP_ERR_SHORT);
}

/* ---- builders ------------------------------------------------------------ */

static void testBuildSrRoundTrip(void **state) {
    (void)state;
    tbRtcpSenderInfo info = {.ssrc = 0x6b8b4567, .rtp_ts = 0x1f5e3a00, .packet_count = 500,
                             .octet_count = 60000};
    tbRtcpNtpFromUnixUs(1700000000500000ull, &info.ntp_sec, &info.ntp_frac);
    assert_int_equal(info.ntp_sec, 1700000000u + 2208988800u);
    assert_int_equal(info.ntp_frac, 0x80000000u);
    tbRtcpReportBlock rb = {.ssrc = 1, .cumulative_lost = -1, .highest_seq = 100, .jitter = 16};
    uint8_t out[128];
    int n = tbRtcpWriteSr(out, sizeof out, &info, &rb, 1);
    assert_int_equal(n, 52);
    /* same layout as the hand-written packet, NTP aside */
    assert_memory_equal(out, srPacket, 8);
    assert_memory_equal(out + 16, srPacket + 16, 36);
    tbRtcpPacket p;
    assert_int_equal(iterAll(out, (size_t)n, &p, 1), 1);
    tbRtcpSr sr;
    assert_int_equal(tbRtcpParseSr(&p, &sr), TB_RTCP_OK);
    assert_int_equal(sr.info.ntp_sec, info.ntp_sec);
    assert_int_equal(sr.blocks[0].cumulative_lost, -1);
    assert_int_equal(tbRtcpWriteSr(out, 51, &info, &rb, 1), TB_RTCP_ERR_SPACE);
    assert_int_equal(tbRtcpWriteSr(out, sizeof out, &info, &rb, 32), TB_RTCP_ERR_ARG);
}

static void testBuildCompoundReport(void **state) {
    (void)state;
    tbRtcpReportBlock rb = {.ssrc = 0x6b8b4567, .fraction_lost = 5, .cumulative_lost = 12,
                            .highest_seq = 65536 + 23100, .jitter = 300, .lsr = 0x3a001234,
                            .dlsr = 0x18000};
    uint8_t out[128];
    const char *cname = "Qw4rTy7uIop9aSdF";
    int n = tbRtcpWriteReport(out, sizeof out, NULL, 1, &rb, 1, cname, strlen(cname));
    /* byte for byte what Chromium sends */
    assert_int_equal(n, sizeof chromeRrSdes);
    assert_memory_equal(out, chromeRrSdes, sizeof chromeRrSdes);
    /* as a sender: SR + SDES for the SR's SSRC */
    tbRtcpSenderInfo info = {.ssrc = 77};
    n = tbRtcpWriteReport(out, sizeof out, &info, 1, NULL, 0, "ab", 2);
    assert_int_equal(n, 28 + 16);
    tbRtcpPacket p[3];
    assert_int_equal(iterAll(out, (size_t)n, p, 3), 2);
    assert_int_equal(p[0].pt, TB_RTCP_SR);
    sdesSeen seen = {0};
    assert_int_equal(tbRtcpParseSdes(&p[1], sdesCollect, &seen), TB_RTCP_OK);
    assert_int_equal(seen.ssrc[0], 77);
    assert_string_equal(seen.value[0], "ab");
    /* the item, its END octet and padding to 32 bits: every length parses */
    for (size_t len = 1; len <= 40; len++) {
        char name[41];
        memset(name, 'c', len);
        n = tbRtcpWriteSdesCname(out, sizeof out, 5, name, len);
        assert_true(n > 0 && n % 4 == 0);
        assert_int_equal(tbRtcpValidate(out, (size_t)n), 1);
        assert_int_equal(out[10 + len], 0); /* END */
    }
    assert_int_equal(tbRtcpWriteSdesCname(out, sizeof out, 5, "", 0), TB_RTCP_ERR_ARG);
    assert_int_equal(tbRtcpWriteReport(out, 40, NULL, 1, &rb, 1, cname, 16), TB_RTCP_ERR_SPACE);
}

static void testBuildNack(void **state) {
    (void)state;
    uint8_t out[64];
    const uint16_t seqs[] = {1000, 1002, 1016, 2000};
    int n = tbRtcpWriteNack(out, sizeof out, 1, 0x6b8b4567, seqs, 4);
    const uint8_t want[] = {0x81, 0xcd, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x6b, 0x8b,
                            0x45, 0x67, 0x03, 0xe8, 0x80, 0x02, 0x07, 0xd0, 0x00, 0x00};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    /* across the seq wrap, unordered, with a duplicate */
    const uint16_t wrap[] = {65534, 65535, 0, 15, 16, 0, 40};
    n = tbRtcpWriteNack(out, sizeof out, 1, 2, wrap, 7);
    assert_int_equal(n, 12 + 4 * 3); /* PIDs 65534, 15, 40 */
    tbRtcpPacket p;
    assert_int_equal(iterAll(out, (size_t)n, &p, 1), 1);
    tbRtcpFb fb;
    assert_int_equal(tbRtcpParseFb(&p, &fb), TB_RTCP_OK);
    uint16_t got[16];
    assert_int_equal(tbRtcpNackSeqs(&fb, got, 16), 6);
    const uint16_t expect[] = {65534, 65535, 0, 15, 16, 40};
    assert_memory_equal(got, expect, sizeof expect);
    /* out of space */
    const uint16_t spread[] = {0, 100, 200};
    assert_int_equal(tbRtcpWriteNack(out, 20, 1, 2, spread, 3), TB_RTCP_ERR_SPACE);
    assert_int_equal(tbRtcpWriteNack(out, sizeof out, 1, 2, spread, 0), TB_RTCP_ERR_ARG);
}

static void testBuildPliBye(void **state) {
    (void)state;
    uint8_t out[16];
    assert_int_equal(tbRtcpWritePli(out, sizeof out, 1, 2), 12);
    const uint8_t pli[] = {0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    assert_memory_equal(out, pli, 12);
    const uint32_t ssrcs[] = {5, 6};
    assert_int_equal(tbRtcpWriteBye(out, sizeof out, ssrcs, 2), 12);
    tbRtcpPacket p;
    assert_int_equal(iterAll(out, 12, &p, 1), 1);
    tbRtcpBye bye;
    assert_int_equal(tbRtcpParseBye(&p, &bye), TB_RTCP_OK);
    assert_int_equal(bye.count, 2);
    assert_int_equal(bye.ssrcs[1], 6);
    assert_int_equal(tbRtcpWritePli(out, 11, 1, 2), TB_RTCP_ERR_SPACE);
}

/* ---- receive statistics (RFC 3550 A.1, A.3, A.8) ------------------------- */

static void testRecvStatsLoss(void **state) {
    (void)state;
    tbRtpRecvStats s;
    tbRtpRecvStatsInit(&s, 0x6b8b4567, 48000);
    tbRtcpReportBlock rb;
    assert_false(tbRtpRecvStatsReport(&s, 0, &rb));
    uint64_t t = 1000000;
    for (uint16_t seq = 1; seq <= 10; seq++, t += 20000) {
        if (seq == 4 || seq == 7)
            continue;
        assert_true(tbRtpRecvStatsUpdate(&s, seq, seq * 960u, t));
    }
    assert_true(tbRtpRecvStatsReport(&s, t, &rb));
    assert_int_equal(rb.ssrc, 0x6b8b4567u);
    assert_int_equal(rb.highest_seq, 10);
    assert_int_equal(rb.cumulative_lost, 2);
    assert_int_equal(rb.fraction_lost, 2 * 256 / 10);
    assert_int_equal(rb.jitter, 0); /* perfectly paced */
    assert_int_equal(rb.lsr, 0);
    assert_int_equal(rb.dlsr, 0);
    /* next interval: no loss; the late 7 arrives (reordered) */
    assert_true(tbRtpRecvStatsUpdate(&s, 7, 7 * 960u, t));
    for (uint16_t seq = 11; seq <= 20; seq++, t += 20000)
        assert_true(tbRtpRecvStatsUpdate(&s, seq, seq * 960u, t));
    assert_true(tbRtpRecvStatsReport(&s, t, &rb));
    assert_int_equal(rb.highest_seq, 20);
    assert_int_equal(rb.cumulative_lost, 1);
    assert_int_equal(rb.fraction_lost, 0);
    /* duplicates make the cumulative count negative, as A.3 says */
    assert_true(tbRtpRecvStatsUpdate(&s, 20, 20 * 960u, t));
    assert_true(tbRtpRecvStatsUpdate(&s, 20, 20 * 960u, t));
    assert_true(tbRtpRecvStatsReport(&s, t, &rb));
    assert_int_equal(rb.cumulative_lost, -1);
    uint8_t out[64];
    int n = tbRtcpWriteRr(out, sizeof out, 1, &rb, 1);
    assert_memory_equal(out + 13, "\xff\xff\xff", 3);
    tbRtcpPacket p;
    assert_int_equal(iterAll(out, (size_t)n, &p, 1), 1);
    tbRtcpRr rr;
    assert_int_equal(tbRtcpParseRr(&p, &rr), TB_RTCP_OK);
    assert_int_equal(rr.blocks[0].cumulative_lost, -1);
}

static void testRecvStatsWrapAndRestart(void **state) {
    (void)state;
    tbRtpRecvStats s;
    tbRtpRecvStatsInit(&s, 9, 48000);
    uint64_t t = 0;
    uint16_t seq = 65530;
    for (int i = 0; i < 12; i++, seq++, t += 20000)
        assert_true(tbRtpRecvStatsUpdate(&s, seq, (uint32_t)i * 960, t));
    tbRtcpReportBlock rb;
    assert_true(tbRtpRecvStatsReport(&s, t, &rb));
    assert_int_equal(rb.highest_seq, 65536 + 5);
    assert_int_equal(rb.cumulative_lost, 0);
    /* a far jump: not counted until the next in-sequence packet confirms */
    assert_false(tbRtpRecvStatsUpdate(&s, 30000, 0, t));
    assert_true(tbRtpRecvStatsUpdate(&s, 30001, 960, t + 20000));
    assert_true(tbRtpRecvStatsUpdate(&s, 30002, 1920, t + 40000));
    assert_true(tbRtpRecvStatsReport(&s, t, &rb));
    assert_int_equal(rb.highest_seq, 30002);
    assert_int_equal(rb.cumulative_lost, 0);
}

static void testRecvStatsJitter(void **state) {
    (void)state;
    tbRtpRecvStats s;
    tbRtpRecvStatsInit(&s, 9, 48000);
    /* packets every 20 ms of media, arriving alternately 10 ms late: each
     * transit difference is 480 ticks */
    uint64_t t0 = 5000000;
    assert_true(tbRtpRecvStatsUpdate(&s, 1, 0, t0));
    assert_true(tbRtpRecvStatsUpdate(&s, 2, 960, t0 + 30000));
    tbRtcpReportBlock rb;
    assert_true(tbRtpRecvStatsReport(&s, t0, &rb));
    assert_int_equal(rb.jitter, 30); /* J = 0 + (480 - 0) / 16 */
    for (uint16_t k = 3; k < 400; k++) {
        uint64_t late = (k % 2 == 0) ? 10000 : 0;
        assert_true(tbRtpRecvStatsUpdate(&s, k, (uint32_t)(k - 1) * 960, t0 + (k - 1) * 20000ull + late));
    }
    assert_true(tbRtpRecvStatsReport(&s, t0, &rb));
    assert_in_range(rb.jitter, 470, 480); /* converges to |D| */
}

static void testRecvStatsLsrDlsr(void **state) {
    (void)state;
    tbRtpRecvStats s;
    tbRtpRecvStatsInit(&s, 9, 48000);
    assert_true(tbRtpRecvStatsUpdate(&s, 1, 0, 1000000));
    tbRtpRecvStatsOnSr(&s, 0x12345678, 0x9abcdef0, 2000000);
    tbRtcpReportBlock rb;
    assert_true(tbRtpRecvStatsReport(&s, 3500000, &rb));
    assert_int_equal(rb.lsr, 0x56789abcu);
    assert_int_equal(rb.dlsr, 98304); /* 1.5 s in 1/65536 s */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testChromeRrSdes),
        cmocka_unit_test(testSr),
        cmocka_unit_test(testSdesTwoChunks),
        cmocka_unit_test(testByeApp),
        cmocka_unit_test(testNackParse),
        cmocka_unit_test(testFeedbackKinds),
        cmocka_unit_test(testMalformed),
        cmocka_unit_test(testPadding),
        cmocka_unit_test(testBuildSrRoundTrip),
        cmocka_unit_test(testBuildCompoundReport),
        cmocka_unit_test(testBuildNack),
        cmocka_unit_test(testBuildPliBye),
        cmocka_unit_test(testRecvStatsLoss),
        cmocka_unit_test(testRecvStatsWrapAndRestart),
        cmocka_unit_test(testRecvStatsJitter),
        cmocka_unit_test(testRecvStatsLsrDlsr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
