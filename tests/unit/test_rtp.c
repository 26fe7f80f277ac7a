/* test_rtp.c — unit tests for src/rtp/rtp.c: RTP header parsing (CSRC,
 * extension, padding, every malformed form), RFC 8285 one-byte and two-byte
 * extensions, RFC 6464 audio level, RFC 5761 RTP/RTCP demux, and the
 * per-subscriber rewrite. Packets are laid out as Chromium sends Opus with
 * the extmap ids of the livekit-client 2.23 offer in
 * the brief's shared fixtures (1 ssrc-audio-level, 2 abs-send-time,
 * 3 transport-wide-cc, 4 sdes:mid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp/rtp.h"

/* Opus, PT 111, one-byte extensions: audio level (V=1, -32 dBov), abs-send-
 * time, transport-cc seq 42, mid "0", one padding byte; then a 20 ms hybrid
 * fullband Opus frame (TOC 0x78). */
static const uint8_t chromeOpus[] = {
    0x90, 0x6f, 0x5a, 0x3c,             /* V=2 X=1, PT 111, seq 23100 */
    0x1f, 0x5e, 0x3a, 0x00,             /* ts 526268928 */
    0x6b, 0x8b, 0x45, 0x67,             /* ssrc */
    0xbe, 0xde, 0x00, 0x03,             /* one-byte form, 3 words */
    0x10, 0xa0,                         /* id 1 L=0: V=1 level 32 */
    0x22, 0x4f, 0x1a, 0x2b,             /* id 2 L=2: abs-send-time */
    0x31, 0x00, 0x2a,                   /* id 3 L=1: twcc seq 42 */
    0x40, 0x30,                         /* id 4 L=0: mid "0" */
    0x00,                               /* padding */
    0x78, 0x0b, 0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x80, 0x81, 0x5a, 0x1f, 0x0c,
    0x93, 0x4e, 0xd2, 0x11, 0x6a, 0x09, 0x7b, 0x3d, 0xc4, 0x52, 0x8e, 0x17,
};
#define CHROME_PAYLOAD_OFF 28

/* Same media, two-byte form (0x1000, extmap-allow-mixed): audio level id 1,
 * padding, an id-20 element of 17 bytes, an empty id-5 element, mid id 4. */
static const uint8_t twoByteOpus[] = {
    0x90, 0x6f, 0x00, 0x07, 0x00, 0x00, 0x03, 0xc0, 0x00, 0x00, 0x00, 0x09,
    0x10, 0x00, 0x00, 0x08,             /* two-byte form, 8 words */
    0x01, 0x01, 0x05,                   /* id 1 len 1: V=0 level 5 */
    0x00,                               /* padding */
    0x14, 0x11, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q',                           /* id 20 len 17 */
    0x05, 0x00,                         /* id 5 len 0 */
    0x04, 0x02, 'm', '7',               /* id 4 len 2: mid "m7" */
    0x00, 0x00, 0x00,                   /* padding to 32 bytes */
    0x78, 0x01, 0x02, 0x03,
};

static void testParseChromeOpus(void **state) {
    (void)state;
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(chromeOpus, sizeof chromeOpus, &h), TB_RTP_OK);
    assert_false(h.marker);
    assert_int_equal(h.pt, 111);
    assert_int_equal(h.seq, 23100);
    assert_int_equal(h.ts, 526268928u);
    assert_int_equal(h.ssrc, 0x6b8b4567u);
    assert_int_equal(h.csrc_count, 0);
    assert_true(h.has_ext);
    assert_int_equal(h.ext_profile, TB_RTP_EXT_ONE_BYTE);
    assert_int_equal(h.ext_off, 16);
    assert_int_equal(h.ext_len, 12);
    assert_int_equal(h.payload_off, CHROME_PAYLOAD_OFF);
    assert_int_equal(h.payload_len, sizeof chromeOpus - CHROME_PAYLOAD_OFF);
    assert_int_equal(h.pad_len, 0);
    assert_int_equal(chromeOpus[h.payload_off], 0x78);
}

static void testOneByteExtensions(void **state) {
    (void)state;
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(chromeOpus, sizeof chromeOpus, &h), TB_RTP_OK);
    uint8_t level = 0;
    bool voice = false;
    assert_true(tbRtpGetAudioLevel(chromeOpus, &h, 1, &level, &voice));
    assert_int_equal(level, 32);
    assert_true(voice);
    const uint8_t *d;
    uint8_t n;
    assert_true(tbRtpFindExt(chromeOpus, &h, 3, &d, &n));
    assert_int_equal(n, 2);
    assert_int_equal(d[0] << 8 | d[1], 42);
    assert_true(tbRtpFindExt(chromeOpus, &h, 2, &d, &n));
    assert_int_equal(n, 3);
    assert_int_equal(d[0], 0x4f);
    assert_true(tbRtpFindExt(chromeOpus, &h, 4, &d, &n));
    assert_int_equal(n, 1);
    assert_memory_equal(d, "0", 1);
    assert_false(tbRtpFindExt(chromeOpus, &h, 5, &d, &n));
    assert_false(tbRtpFindExt(chromeOpus, &h, 0, &d, &n));
    assert_false(tbRtpGetAudioLevel(chromeOpus, &h, 9, &level, &voice));

    /* the iterator yields the four elements in order, skipping padding */
    tbRtpExtIter it;
    assert_true(tbRtpExtIterInit(&it, chromeOpus, &h));
    uint8_t ids[8], id, k = 0;
    int rc;
    while ((rc = tbRtpExtIterNext(&it, &id, &d, &n)) == 1)
        ids[k++] = id;
    assert_int_equal(rc, 0);
    assert_int_equal(k, 4);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    assert_int_equal(ids[3], 4);
}

static void testTwoByteExtensions(void **state) {
    (void)state;
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(twoByteOpus, sizeof twoByteOpus, &h), TB_RTP_OK);
    assert_int_equal(h.ext_profile, 0x1000);
    assert_int_equal(h.ext_len, 32);
    assert_int_equal(h.payload_len, 4);
    uint8_t level;
    bool voice;
    assert_true(tbRtpGetAudioLevel(twoByteOpus, &h, 1, &level, &voice));
    assert_int_equal(level, 5);
    assert_false(voice);
    const uint8_t *d;
    uint8_t n;
    assert_true(tbRtpFindExt(twoByteOpus, &h, 20, &d, &n));
    assert_int_equal(n, 17);
    assert_memory_equal(d, "abcdefghijklmnopq", 17);
    assert_true(tbRtpFindExt(twoByteOpus, &h, 5, &d, &n));
    assert_int_equal(n, 0);
    assert_true(tbRtpFindExt(twoByteOpus, &h, 4, &d, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(d, "m7", 2);
    /* an empty audio-level element is "no level" */
    assert_false(tbRtpGetAudioLevel(twoByteOpus, &h, 5, &level, &voice));
}

static void testExtensionMalformedAndUnknown(void **state) {
    (void)state;
    uint8_t pkt[sizeof chromeOpus];
    tbRtpHeader h;
    const uint8_t *d;
    uint8_t n, id;
    /* element length running past the block: id 4 claims 16 bytes */
    memcpy(pkt, chromeOpus, sizeof pkt);
    pkt[25] = 0x4f;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    assert_true(tbRtpFindExt(pkt, &h, 1, &d, &n)); /* before the bad one: fine */
    assert_false(tbRtpFindExt(pkt, &h, 4, &d, &n));
    tbRtpExtIter it;
    assert_true(tbRtpExtIterInit(&it, pkt, &h));
    int rc;
    while ((rc = tbRtpExtIterNext(&it, &id, &d, &n)) == 1) {
    }
    assert_int_equal(rc, -1);
    /* id 15 stops the walk: nothing after it is seen */
    memcpy(pkt, chromeOpus, sizeof pkt);
    pkt[18] = 0xf2;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    assert_true(tbRtpFindExt(pkt, &h, 1, &d, &n));
    assert_false(tbRtpFindExt(pkt, &h, 3, &d, &n));
    /* an unknown profile has no RFC 8285 elements */
    memcpy(pkt, chromeOpus, sizeof pkt);
    pkt[12] = 0x12;
    pkt[13] = 0x34;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    assert_false(tbRtpExtIterInit(&it, pkt, &h));
    assert_false(tbRtpFindExt(pkt, &h, 1, &d, &n));
    /* a two-byte element header cut by the block end */
    uint8_t two[] = {0x90, 0x6f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x01,
                     0x00, 0x00, 0x00, 0x07, 0x78};
    assert_int_equal(tbRtpParse(two, sizeof two, &h), TB_RTP_OK);
    assert_false(tbRtpFindExt(two, &h, 7, &d, &n));
}

static void testCsrcAndPadding(void **state) {
    (void)state;
    /* CC=2, P=1 with 4 padding bytes, marker, no extension */
    const uint8_t pkt[] = {0xa2, 0xef, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x11, 0x22, 0x33,
                           0x44, 0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb, 0x78, 0x99,
                           0x98, 0x00, 0x00, 0x00, 0x04};
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    assert_true(h.marker);
    assert_int_equal(h.pt, 111);
    assert_int_equal(h.csrc_count, 2);
    assert_false(h.has_ext);
    assert_int_equal(h.payload_off, 20);
    assert_int_equal(h.payload_len, 3);
    assert_int_equal(h.pad_len, 4);
    /* padding-only packet (as a probe would be): payload_len 0 */
    const uint8_t probe[] = {0xa0, 0x6f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4};
    assert_int_equal(tbRtpParse(probe, sizeof probe, &h), TB_RTP_OK);
    assert_int_equal(h.payload_len, 0);
    assert_int_equal(h.pad_len, 4);
}

static void testParseMalformed(void **state) {
    (void)state;
    tbRtpHeader h;
    uint8_t pkt[sizeof chromeOpus];
    assert_int_equal(tbRtpParse(chromeOpus, 11, &h), TB_RTP_ERR_SHORT);
    assert_int_equal(tbRtpParse(chromeOpus, 0, &h), TB_RTP_ERR_SHORT);
    memcpy(pkt, chromeOpus, sizeof pkt);
    pkt[0] = 0x50; /* version 1 */
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_ERR_VERSION);
    /* extension header cut: X set but only 14 bytes */
    assert_int_equal(tbRtpParse(chromeOpus, 14, &h), TB_RTP_ERR_EXT);
    /* extension length beyond the packet */
    memcpy(pkt, chromeOpus, sizeof pkt);
    pkt[15] = 0x20;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_ERR_EXT);
    /* CSRC list beyond the packet: CC=15 needs 72 bytes */
    memcpy(pkt, chromeOpus, sizeof pkt);
    pkt[0] = 0x8f;
    assert_int_equal(tbRtpParse(pkt, 40, &h), TB_RTP_ERR_CSRC);
    /* padding count 0, and padding longer than the payload */
    memcpy(pkt, chromeOpus, sizeof pkt);
    pkt[0] |= 0x20;
    pkt[sizeof pkt - 1] = 0;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_ERR_PADDING);
    pkt[sizeof pkt - 1] = sizeof pkt - CHROME_PAYLOAD_OFF + 1;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_ERR_PADDING);
    pkt[sizeof pkt - 1] = sizeof pkt - CHROME_PAYLOAD_OFF; /* exactly the payload: ok */
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    assert_int_equal(h.payload_len, 0);
    static uint8_t huge[TB_RTP_MAX_LEN + 1];
    memcpy(huge, chromeOpus, sizeof chromeOpus);
    assert_int_equal(tbRtpParse(huge, sizeof huge, &h), TB_RTP_ERR_TOO_LONG);
}

static void testDemux(void **state) {
    (void)state;
    const uint8_t rr[] = {0x81, 0xc9, 0x00, 0x07};
    const uint8_t sr[] = {0x80, 0xc8, 0x00, 0x06};
    const uint8_t fb[] = {0x8f, 0xcd, 0x00, 0x05};
    const uint8_t opus[] = {0x90, 0x6f};
    const uint8_t opusMarker[] = {0x90, 0xef};     /* M + PT 111 = 239 */
    const uint8_t pt63Marker[] = {0x90, 0xbf};     /* M + PT 63 = 191 */
    const uint8_t pt95Marker[] = {0x80, 0xdf};     /* 223: inside RTCP's range */
    assert_true(tbRtpIsRtcp(rr, sizeof rr));
    assert_true(tbRtpIsRtcp(sr, sizeof sr));
    assert_true(tbRtpIsRtcp(fb, sizeof fb));
    assert_true(tbRtpIsRtcp(pt95Marker, 2));
    assert_false(tbRtpIsRtcp(opus, 2));
    assert_false(tbRtpIsRtcp(opusMarker, 2));
    assert_false(tbRtpIsRtcp(pt63Marker, 2));
    assert_false(tbRtpIsRtcp(rr, 1));
    const uint8_t stun[] = {0x00, 0x01};
    assert_false(tbRtpIsRtcp(stun, 2));
}

static tbRtpRewrite subscriberRewrite(void) {
    tbRtpRewrite rw = {
        .ssrc = 0xdeadbeef, .pt = 111, .seq = 1001, .ts = 960000, .audio_level_id = 10,
        .audio_level = 32, .voice = true, .mid_id = 2, .mid = "a1", .mid_len = 2,
    };
    return rw;
}

static void testRewriteOneByte(void **state) {
    (void)state;
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(chromeOpus, sizeof chromeOpus, &h), TB_RTP_OK);
    uint8_t level;
    bool voice;
    assert_true(tbRtpGetAudioLevel(chromeOpus, &h, 1, &level, &voice));
    tbRtpRewrite rw = subscriberRewrite();
    rw.audio_level = level;
    rw.voice = voice;
    rw.pt = 109;
    uint8_t out[256];
    int n = tbRtpWrite(chromeOpus, &h, &rw, out, sizeof out);
    size_t payload = sizeof chromeOpus - CHROME_PAYLOAD_OFF;
    assert_int_equal(n, 12 + 12 + payload);
    assert_int_equal(tbRtpRewriteExtLen(&rw), 12);
    const uint8_t hdr[] = {0x90, 0x6d, 0x03, 0xe9, 0x00, 0x0e, 0xa6, 0x00, 0xde, 0xad,
                           0xbe, 0xef, 0xbe, 0xde, 0x00, 0x02, 0xa0, 0xa0, 0x21, 'a',
                           '1', 0x00, 0x00, 0x00};
    /* exact header: audio level id 10 copied V|32, mid id 2 "a1", padded;
     * abs-send-time and transport-cc (not negotiated) are gone */
    assert_memory_equal(out, hdr, 12);
    assert_memory_equal(out + 12, hdr + 12, 12);
    assert_memory_equal(out + 24, chromeOpus + CHROME_PAYLOAD_OFF, payload);
    tbRtpHeader o;
    assert_int_equal(tbRtpParse(out, (size_t)n, &o), TB_RTP_OK);
    assert_int_equal(o.ssrc, 0xdeadbeef);
    assert_int_equal(o.seq, 1001);
    assert_int_equal(o.ts, 960000);
    assert_int_equal(o.pt, 109);
    assert_true(tbRtpGetAudioLevel(out, &o, 10, &level, &voice));
    assert_int_equal(level, 32);
    assert_true(voice);
    const uint8_t *d;
    uint8_t dl;
    assert_true(tbRtpFindExt(out, &o, 2, &d, &dl));
    assert_int_equal(dl, 2);
    assert_memory_equal(d, "a1", 2);
    assert_false(tbRtpFindExt(out, &o, 3, &d, &dl));
    assert_false(tbRtpFindExt(out, &o, 1, &d, &dl));
}

static void testRewriteTwoByteAndTwcc(void **state) {
    (void)state;
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(chromeOpus, sizeof chromeOpus, &h), TB_RTP_OK);
    tbRtpRewrite rw = subscriberRewrite();
    const char *longMid = "a-mid-of-twenty-chars"; /* > 16: needs two-byte form */
    rw.mid = longMid;
    rw.mid_len = (uint8_t)strlen(longMid);
    rw.twcc_id = 3;
    rw.twcc_seq = 0xabcd;
    uint8_t out[256];
    int n = tbRtpWrite(chromeOpus, &h, &rw, out, sizeof out);
    assert_true(n > 0);
    tbRtpHeader o;
    assert_int_equal(tbRtpParse(out, (size_t)n, &o), TB_RTP_OK);
    assert_int_equal(o.ext_profile, TB_RTP_EXT_TWO_BYTE);
    /* 3 + (2 + 21) + 4 = 30 bytes of elements -> 32 + 4 */
    assert_int_equal(o.ext_len, 32);
    const uint8_t *d;
    uint8_t dl;
    assert_true(tbRtpFindExt(out, &o, 2, &d, &dl));
    assert_int_equal(dl, rw.mid_len);
    assert_memory_equal(d, longMid, dl);
    assert_true(tbRtpFindExt(out, &o, 3, &d, &dl));
    assert_int_equal(dl, 2);
    assert_int_equal(d[0] << 8 | d[1], 0xabcd);
    uint8_t level;
    bool voice;
    assert_true(tbRtpGetAudioLevel(out, &o, 10, &level, &voice));
    assert_int_equal(level, 32);
    assert_memory_equal(out + o.payload_off, chromeOpus + CHROME_PAYLOAD_OFF, o.payload_len);
    /* an id above 14 also selects the two-byte form */
    rw = subscriberRewrite();
    rw.audio_level_id = 15;
    n = tbRtpWrite(chromeOpus, &h, &rw, out, sizeof out);
    assert_int_equal(tbRtpParse(out, (size_t)n, &o), TB_RTP_OK);
    assert_int_equal(o.ext_profile, TB_RTP_EXT_TWO_BYTE);
    assert_true(tbRtpGetAudioLevel(out, &o, 15, &level, &voice));
}

static void testRewriteNoExtCsrcPadding(void **state) {
    (void)state;
    const uint8_t pkt[] = {0xa1, 0x6f, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x11, 0x22,
                           0x33, 0x44, 0xaa, 0xbb, 0xcc, 0xdd, 0x78, 0x99, 0x98, 0x00, 0x02};
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    tbRtpRewrite rw = {.ssrc = 7, .pt = 111, .seq = 65535, .ts = 0xffffffff, .set_marker = true};
    uint8_t out[64];
    int n = tbRtpWrite(pkt, &h, &rw, out, sizeof out);
    assert_int_equal(n, 12 + 4 + 3);
    assert_int_equal(out[0], 0x81); /* no P, no X, CC=1 */
    assert_int_equal(out[1], 0xef); /* marker forced */
    assert_memory_equal(out + 12, pkt + 12, 4);
    assert_memory_equal(out + 16, pkt + 16, 3);
    tbRtpHeader o;
    assert_int_equal(tbRtpParse(out, (size_t)n, &o), TB_RTP_OK);
    assert_int_equal(o.seq, 65535);
    assert_int_equal(o.ts, 0xffffffffu);
    assert_int_equal(o.payload_len, 3);
}

static void testRewriteErrors(void **state) {
    (void)state;
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(chromeOpus, sizeof chromeOpus, &h), TB_RTP_OK);
    tbRtpRewrite rw = subscriberRewrite();
    uint8_t out[256];
    int need = tbRtpWrite(chromeOpus, &h, &rw, out, sizeof out);
    assert_true(need > 0);
    assert_int_equal(tbRtpWrite(chromeOpus, &h, &rw, out, (size_t)need - 1), TB_RTP_ERR_SPACE);
    assert_int_equal(tbRtpWrite(chromeOpus, &h, &rw, out, (size_t)need), need);
    rw.mid_len = 0;
    assert_int_equal(tbRtpWrite(chromeOpus, &h, &rw, out, sizeof out), TB_RTP_ERR_ARG);
    rw = subscriberRewrite();
    rw.pt = 128;
    assert_int_equal(tbRtpWrite(chromeOpus, &h, &rw, out, sizeof out), TB_RTP_ERR_ARG);
}

/* RFC 2198: one redundant block (5 bytes) and the primary (7 bytes). */
static void testRedPrimary(void **state) {
    (void)state;
    uint8_t pkt[12 + 4 + 1 + 5 + 7] = {0x80, 63, 0, 1, 0, 0, 0x03, 0xc0, 1, 2, 3, 4};
    uint8_t *p = pkt + 12;
    /* F=1 pt 111, ts offset 960 (14 bits), length 5 (10 bits) */
    p[0] = 0x80 | 111;
    p[1] = (uint8_t)(960 >> 6);
    p[2] = (uint8_t)(((960 & 0x3f) << 2) | (5 >> 8));
    p[3] = 5;
    p[4] = 111; /* F=0: the primary's header */
    memset(p + 5, 0xaa, 5);
    memset(p + 10, 0xbb, 7);
    tbRtpHeader h;
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    assert_int_equal(tbRtpRedPrimary(pkt, &h), TB_RTP_OK);
    assert_int_equal(h.payload_off, 12 + 10);
    assert_int_equal(h.payload_len, 7);
    assert_int_equal(pkt[h.payload_off], 0xbb);
    /* a block length running past the payload */
    assert_int_equal(tbRtpParse(pkt, sizeof pkt, &h), TB_RTP_OK);
    p[3] = 200;
    assert_int_equal(tbRtpRedPrimary(pkt, &h), TB_RTP_ERR_SHORT);
    /* a block header cut short, and no final header */
    assert_int_equal(tbRtpParse(pkt, 14, &h), TB_RTP_OK);
    assert_int_equal(tbRtpRedPrimary(pkt, &h), TB_RTP_ERR_SHORT);
    pkt[12] = 0x80 | 111;
    assert_int_equal(tbRtpParse(pkt, 16, &h), TB_RTP_OK);
    assert_int_equal(tbRtpRedPrimary(pkt, &h), TB_RTP_ERR_SHORT);
    /* renumbering Opus 111 -> 109 in both block headers, F bit kept */
    p[3] = 5;
    tbRtpRedRenumber(p, 4 + 1 + 5 + 7, 111, 109);
    assert_int_equal(p[0], 0x80 | 109);
    assert_int_equal(p[4], 109);
    assert_int_equal(p[5], 0xaa); /* block data untouched */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testParseChromeOpus),
        cmocka_unit_test(testOneByteExtensions),
        cmocka_unit_test(testTwoByteExtensions),
        cmocka_unit_test(testExtensionMalformedAndUnknown),
        cmocka_unit_test(testCsrcAndPadding),
        cmocka_unit_test(testParseMalformed),
        cmocka_unit_test(testDemux),
        cmocka_unit_test(testRewriteOneByte),
        cmocka_unit_test(testRewriteTwoByteAndTwcc),
        cmocka_unit_test(testRewriteNoExtCsrcPadding),
        cmocka_unit_test(testRewriteErrors),
        cmocka_unit_test(testRedPrimary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
