/* test_srtp.c — unit tests for src/dtls/srtp.c: RTP and RTCP round trips for
 * both DTLS-SRTP profiles between two sessions holding mirrored keys, and the
 * error classes the transport counts (auth, replay, malformed, no room),
 * including the 1024-packet replay window and repeated transmissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dtls/srtp.h"

#define BUF_CAP 1500

typedef struct pair {
    tbSrtpSession a;                   /* local = k1, remote = k2 */
    tbSrtpSession b;                   /* local = k2, remote = k1 */
} pair;

static void makeKeys(tbSrtpKeys *k, tbSrtpProfile p, uint8_t local_seed, uint8_t remote_seed) {
    memset(k, 0, sizeof(*k));
    k->profile = p;
    assert_int_equal(tbSrtpProfileLengths(p, &k->key_len, &k->salt_len), 0);
    for (size_t i = 0; i < k->key_len + k->salt_len; i++) {
        k->local[i] = (uint8_t)(local_seed * 101 + i * 7);
        k->remote[i] = (uint8_t)(remote_seed * 101 + i * 7);
    }
}

static void pairInit(pair *p, tbSrtpProfile prof) {
    tbSrtpKeys ka, kb;
    makeKeys(&ka, prof, 1, 2);
    makeKeys(&kb, prof, 2, 1);
    assert_int_equal(tbSrtpSessionInit(&p->a, &ka), 0);
    assert_int_equal(tbSrtpSessionInit(&p->b, &kb), 0);
}

static void pairClear(pair *p) {
    tbSrtpSessionClear(&p->a);
    tbSrtpSessionClear(&p->b);
}

/* A 72-byte Opus-like RTP packet: 12-byte header + 60 bytes payload. */
static size_t makeRtp(uint8_t *buf, uint16_t seq, uint32_t ssrc) {
    buf[0] = 0x80;
    buf[1] = 111;
    buf[2] = (uint8_t)(seq >> 8), buf[3] = (uint8_t)seq;
    uint32_t ts = (uint32_t)seq * 960u;
    buf[4] = (uint8_t)(ts >> 24), buf[5] = (uint8_t)(ts >> 16);
    buf[6] = (uint8_t)(ts >> 8), buf[7] = (uint8_t)ts;
    buf[8] = (uint8_t)(ssrc >> 24), buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8), buf[11] = (uint8_t)ssrc;
    for (int i = 0; i < 60; i++)
        buf[12 + i] = (uint8_t)(i + seq);
    return 72;
}

/* RTCP receiver report with one report block (32 bytes). */
static size_t makeRtcp(uint8_t *buf, uint32_t ssrc) {
    memset(buf, 0, 32);
    buf[0] = 0x81;
    buf[1] = 201;
    buf[3] = 7;                        /* length in words minus one */
    buf[4] = (uint8_t)(ssrc >> 24), buf[5] = (uint8_t)(ssrc >> 16);
    buf[6] = (uint8_t)(ssrc >> 8), buf[7] = (uint8_t)ssrc;
    for (int i = 8; i < 32; i++)
        buf[i] = (uint8_t)(i * 3);
    return 32;
}

static int setupInit(void **state) {
    (void)state;
    return tbSrtpInit() == 0 ? 0 : -1;
}

/* ---- tests -------------------------------------------------------------- */

static void rtpRoundTrip(tbSrtpProfile prof) {
    pair p;
    pairInit(&p, prof);
    uint8_t plain[BUF_CAP], buf[BUF_CAP];
    size_t n = makeRtp(plain, 1000, 0x11223344);
    memcpy(buf, plain, n);
    size_t len = n;
    assert_int_equal(tbSrtpProtect(&p.a, buf, &len, sizeof(buf)), TB_SRTP_OK);
    assert_int_equal(len, n + tbSrtpOverhead(prof, 0));
    assert_memory_equal(buf, plain, 12);            /* header stays clear */
    assert_memory_not_equal(buf + 12, plain + 12, 60);
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_OK);
    assert_int_equal(len, n);
    assert_memory_equal(buf, plain, n);
    /* The reverse direction uses the other key. */
    len = makeRtp(buf, 7, 0x55667788);
    assert_int_equal(tbSrtpProtect(&p.b, buf, &len, sizeof(buf)), TB_SRTP_OK);
    assert_int_equal(tbSrtpUnprotect(&p.a, buf, &len), TB_SRTP_OK);
    assert_int_equal(len, 72);
    /* A session cannot read what it protected itself (different keys). */
    len = makeRtp(buf, 8, 0x55667788);
    assert_int_equal(tbSrtpProtect(&p.b, buf, &len, sizeof(buf)), TB_SRTP_OK);
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_ERR_AUTH);
    pairClear(&p);
}

static void test_rtp_round_trip_cm(void **state) {
    (void)state;
    rtpRoundTrip(TB_SRTP_AES128_CM_SHA1_80);
}

static void test_rtp_round_trip_gcm(void **state) {
    (void)state;
    rtpRoundTrip(TB_SRTP_AEAD_AES_128_GCM);
}

static void tamperedTag(tbSrtpProfile prof) {
    pair p;
    pairInit(&p, prof);
    uint8_t buf[BUF_CAP], copy[BUF_CAP];
    size_t len = makeRtp(buf, 42, 1);
    assert_int_equal(tbSrtpProtect(&p.a, buf, &len, sizeof(buf)), TB_SRTP_OK);
    memcpy(copy, buf, len);
    size_t clen = len;
    buf[len - 1] ^= 0x01;              /* last byte of the auth tag */
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_ERR_AUTH);
    assert_int_equal(len, clen);       /* unchanged on error */
    copy[20] ^= 0x80;                  /* payload bit flip */
    len = clen;
    memcpy(buf, copy, len);
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_ERR_AUTH);
    copy[20] ^= 0x80;                  /* the genuine packet still passes */
    memcpy(buf, copy, clen);
    len = clen;
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_OK);
    pairClear(&p);
}

static void test_tampered_tag_cm(void **state) {
    (void)state;
    tamperedTag(TB_SRTP_AES128_CM_SHA1_80);
}

static void test_tampered_tag_gcm(void **state) {
    (void)state;
    tamperedTag(TB_SRTP_AEAD_AES_128_GCM);
}

static void replay(tbSrtpProfile prof) {
    pair p;
    pairInit(&p, prof);
    uint8_t buf[BUF_CAP], copy[BUF_CAP];
    size_t len = makeRtp(buf, 500, 9);
    assert_int_equal(tbSrtpProtect(&p.a, buf, &len, sizeof(buf)), TB_SRTP_OK);
    memcpy(copy, buf, len);
    size_t clen = len;
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_OK);
    memcpy(buf, copy, clen);
    len = clen;
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_ERR_REPLAY);
    pairClear(&p);
}

static void test_replay_cm(void **state) {
    (void)state;
    replay(TB_SRTP_AES128_CM_SHA1_80);
}

static void test_replay_gcm(void **state) {
    (void)state;
    replay(TB_SRTP_AEAD_AES_128_GCM);
}

/* Window of 1024: a packet 500 behind is accepted late, 1100 behind is not. */
static void test_replay_window(void **state) {
    (void)state;
    pair p;
    pairInit(&p, TB_SRTP_AES128_CM_SHA1_80);
    static const uint16_t seqs[] = {900, 1500, 2000};
    uint8_t pkt[3][BUF_CAP];
    size_t len[3];
    for (int i = 0; i < 3; i++) {
        len[i] = makeRtp(pkt[i], seqs[i], 77);
        assert_int_equal(tbSrtpProtect(&p.a, pkt[i], &len[i], BUF_CAP), TB_SRTP_OK);
    }
    assert_int_equal(tbSrtpUnprotect(&p.b, pkt[2], &len[2]), TB_SRTP_OK);
    assert_int_equal(tbSrtpUnprotect(&p.b, pkt[1], &len[1]), TB_SRTP_OK);
    assert_int_equal(tbSrtpUnprotect(&p.b, pkt[0], &len[0]), TB_SRTP_ERR_REPLAY);
    pairClear(&p);
}

/* allow_repeat_tx: a NACKed packet can be protected again with its index. */
static void test_repeat_tx(void **state) {
    (void)state;
    pair p;
    pairInit(&p, TB_SRTP_AEAD_AES_128_GCM);
    uint8_t buf[BUF_CAP], again[BUF_CAP];
    size_t len = makeRtp(buf, 33, 5), len2 = makeRtp(again, 33, 5);
    assert_int_equal(tbSrtpProtect(&p.a, buf, &len, sizeof(buf)), TB_SRTP_OK);
    assert_int_equal(tbSrtpProtect(&p.a, again, &len2, sizeof(again)), TB_SRTP_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);  /* same index, same payload: same bytes */
    pairClear(&p);
}

static void rtcpRoundTrip(tbSrtpProfile prof) {
    pair p;
    pairInit(&p, prof);
    uint8_t plain[64], buf[BUF_CAP], copy[BUF_CAP];
    size_t n = makeRtcp(plain, 0xcafef00d);
    memcpy(buf, plain, n);
    size_t len = n;
    assert_int_equal(tbSrtpProtectRtcp(&p.a, buf, &len, sizeof(buf)), TB_SRTP_OK);
    assert_int_equal(len, n + tbSrtpOverhead(prof, 1));
    memcpy(copy, buf, len);
    size_t clen = len;
    assert_int_equal(tbSrtpUnprotectRtcp(&p.b, buf, &len), TB_SRTP_OK);
    assert_int_equal(len, n);
    assert_memory_equal(buf, plain, n);
    memcpy(buf, copy, clen);           /* replayed SRTCP */
    len = clen;
    assert_int_equal(tbSrtpUnprotectRtcp(&p.b, buf, &len), TB_SRTP_ERR_REPLAY);
    len = makeRtcp(buf, 0xcafef00d);
    assert_int_equal(tbSrtpProtectRtcp(&p.a, buf, &len, sizeof(buf)), TB_SRTP_OK);
    buf[len - 1] ^= 0x10;              /* tag */
    assert_int_equal(tbSrtpUnprotectRtcp(&p.b, buf, &len), TB_SRTP_ERR_AUTH);
    pairClear(&p);
}

static void test_rtcp_round_trip_cm(void **state) {
    (void)state;
    rtcpRoundTrip(TB_SRTP_AES128_CM_SHA1_80);
}

static void test_rtcp_round_trip_gcm(void **state) {
    (void)state;
    rtcpRoundTrip(TB_SRTP_AEAD_AES_128_GCM);
}

static void test_no_room_and_malformed(void **state) {
    (void)state;
    pair p;
    pairInit(&p, TB_SRTP_AES128_CM_SHA1_80);
    uint8_t buf[BUF_CAP];
    size_t len = makeRtp(buf, 1, 1);
    assert_int_equal(tbSrtpProtect(&p.a, buf, &len, len + 9), TB_SRTP_ERR_NO_ROOM);
    assert_int_equal(len, 72);
    assert_int_equal(tbSrtpProtect(&p.a, buf, &len, len + 10), TB_SRTP_OK);
    len = makeRtcp(buf, 1);
    assert_int_equal(tbSrtpProtectRtcp(&p.a, buf, &len, len + 13), TB_SRTP_ERR_NO_ROOM);
    len = 5;
    assert_int_equal(tbSrtpUnprotect(&p.b, buf, &len), TB_SRTP_ERR_MALFORMED);
    len = 4;
    assert_int_equal(tbSrtpUnprotectRtcp(&p.b, buf, &len), TB_SRTP_ERR_MALFORMED);
    pairClear(&p);
    tbSrtpSession empty = {0};         /* cleared sessions fail cleanly */
    len = makeRtp(buf, 1, 1);
    assert_int_equal(tbSrtpUnprotect(&empty, buf, &len), TB_SRTP_ERR_OTHER);
}

static void test_bad_keys_and_names(void **state) {
    (void)state;
    tbSrtpKeys k;
    tbSrtpSession s;
    makeKeys(&k, TB_SRTP_AES128_CM_SHA1_80, 1, 2);
    k.salt_len = 12;                   /* wrong for AES-CM */
    assert_int_equal(tbSrtpSessionInit(&s, &k), -1);
    assert_null(s.in);
    k.profile = (tbSrtpProfile)2;      /* AES128_CM_SHA1_32: not supported */
    assert_int_equal(tbSrtpSessionInit(&s, &k), -1);
    assert_string_equal(tbSrtpProfileName(TB_SRTP_AEAD_AES_128_GCM), "SRTP_AEAD_AES_128_GCM");
    assert_string_equal(tbSrtpProfileName(TB_SRTP_AES128_CM_SHA1_80), "SRTP_AES128_CM_SHA1_80");
    assert_string_equal(tbSrtpStatusName(TB_SRTP_ERR_REPLAY), "replay");
    assert_string_equal(tbSrtpStatusName(TB_SRTP_ERR_AUTH), "auth");
    assert_int_equal(tbSrtpInit(), 0); /* idempotent */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtp_round_trip_cm),
        cmocka_unit_test(test_rtp_round_trip_gcm),
        cmocka_unit_test(test_tampered_tag_cm),
        cmocka_unit_test(test_tampered_tag_gcm),
        cmocka_unit_test(test_replay_cm),
        cmocka_unit_test(test_replay_gcm),
        cmocka_unit_test(test_replay_window),
        cmocka_unit_test(test_repeat_tx),
        cmocka_unit_test(test_rtcp_round_trip_cm),
        cmocka_unit_test(test_rtcp_round_trip_gcm),
        cmocka_unit_test(test_no_room_and_malformed),
        cmocka_unit_test(test_bad_keys_and_names),
    };
    return cmocka_run_group_tests(tests, setupInit, NULL);
}
