/* test_speaker.c — unit tests for src/rtp/speaker.c: windowed levels from
 * RFC 6464 values (activity threshold, percentile, activity weighting, EMA),
 * gap handling, staleness, and the room's ranked list with 1/8 quantization,
 * change detection and the 400 ms report limit. Streams are 20 ms Opus
 * packets at 48 kHz. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp/speaker.h"

#define EPS 1e-4f

typedef struct talker {
    tbSpeakerLevel lv;
    uint32_t ts;
} talker;

static void talkerInit(talker *t, uint32_t ts0) {
    tbSpeakerConfig cfg;
    tbSpeakerConfigDefault(&cfg);
    tbSpeakerLevelInit(&t->lv, &cfg, 48000);
    t->ts = ts0;
}

/* n packets at `level`, one every 20 ms from *now. Each packet's 20 ms is
 * credited when the next one arrives. */
static void feed(talker *t, uint8_t level, int n, uint64_t now) {
    for (int i = 0; i < n; i++) {
        tbSpeakerLevelObserve(&t->lv, level, t->ts, now + 20u * (uint64_t)i);
        t->ts += 960;
    }
}

static float expectedLinear(float dbov) {
    return powf(10.0f, -dbov / 20.0f);
}

static void testConstantLoud(void **state) {
    (void)state;
    talker t;
    talkerInit(&t, 4000000000u); /* the RTP ts wraps on the way */
    bool active = true;
    feed(&t, 20, 20, 1000); /* 19 intervals credited: window not full yet */
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 1400, &active), 0.0f, EPS);
    assert_false(active);
    feed(&t, 20, 1, 1400); /* 20th interval closes the window */
    float lin = expectedLinear(20); /* whole window active: no weighting */
    float l1 = lin * 2.0f / 3.0f;
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 1400, &active), l1, EPS);
    assert_true(active);
    feed(&t, 20, 20, 1420);
    float l2 = l1 + (lin - l1) * 2.0f / 3.0f;
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 1800, &active), l2, EPS);
    /* stale: nothing for two intervals resets to 0 */
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 1800 + 800, &active), 0.0f, EPS);
    assert_false(active);
}

static void testPercentileAndWeight(void **state) {
    (void)state;
    talker t;
    talkerInit(&t, 0);
    /* 30 % of the window at -20 dBov, the rest silent: under 40 %: inactive */
    feed(&t, 20, 6, 0);
    feed(&t, 127, 15, 120);
    bool active = true;
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 420, &active), 0.0f, EPS);
    assert_false(active);
    /* 50 %: active, loudest level lowered by 20*log10(0.5) = -6 dB */
    talkerInit(&t, 0);
    feed(&t, 20, 10, 0);
    feed(&t, 127, 11, 200);
    float want = expectedLinear(20.0f - 20.0f * log10f(0.5f)) * 2.0f / 3.0f;
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 420, &active), want, EPS);
    assert_true(active);
    /* quieter than -35 dBov never counts */
    talkerInit(&t, 0);
    feed(&t, 40, 41, 0);
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 820, &active), 0.0f, EPS);
    assert_false(active);
}

static void testGapNotCountedAsSpeech(void **state) {
    (void)state;
    talker t;
    talkerInit(&t, 0);
    feed(&t, 127, 50, 0); /* 1 s of silence */
    /* 3 s of nothing (muted), then one loud packet and silence again */
    t.ts += 3 * 48000;
    feed(&t, 0, 1, 4000);
    feed(&t, 127, 30, 4020);
    bool active = true;
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 4600, &active), 0.0f, EPS);
    assert_false(active);
    /* the other way round: a loud packet, then 3 s muted, then silence */
    talkerInit(&t, 0);
    feed(&t, 127, 10, 0);
    feed(&t, 0, 1, 200);
    t.ts += 3 * 48000;
    feed(&t, 127, 11, 3220); /* closes the window: 400 ms of silence credited */
    assert_int_equal(t.lv.observed_ms, 0);
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 3420, &active), 0.0f, EPS);
    assert_false(active);
    /* reordered packets (older ts) are ignored */
    talkerInit(&t, 10000);
    feed(&t, 20, 21, 0);
    float before = tbSpeakerLevelGet(&t.lv, 420, NULL);
    tbSpeakerLevelObserve(&t.lv, 0, 5000, 421);
    assert_float_equal(tbSpeakerLevelGet(&t.lv, 421, NULL), before, EPS);
    assert_int_equal(t.lv.observed_ms, 0);
}

/* Feeds one 400 ms window to each talker at its level (127 = silent). */
static void window(talker *ts, const uint8_t *levels, int n, uint64_t now) {
    for (int i = 0; i < n; i++)
        feed(&ts[i], levels[i], 20, now);
}

static void testRoomRanking(void **state) {
    (void)state;
    talker tk[3];
    for (int i = 0; i < 3; i++) {
        talkerInit(&tk[i], (uint32_t)i * 1000);
        feed(&tk[i], 127, 1, 0); /* prime */
    }
    tbSpeakerInput in[3] = {{.id = 101, .level = &tk[0].lv}, {.id = 102, .level = &tk[1].lv},
                            {.id = 103, .level = &tk[2].lv}};
    tbSpeakerConfig cfg;
    tbSpeakerConfigDefault(&cfg);
    tbSpeakerRoom room;
    tbSpeakerRoomInit(&room, &cfg);
    tbSpeakerInfo ranked[TB_SPEAKER_MAX], changed[TB_SPEAKER_MAX_CHANGES];
    size_t nr, nc;
    /* B (-30 dBov) listed first in the input, A (-10) second: A ranks first */
    in[0].level = &tk[1].lv;
    in[0].id = 102;
    in[1].level = &tk[0].lv;
    in[1].id = 101;
    const uint8_t lv1[] = {10, 30, 127};
    window(tk, lv1, 3, 20);
    assert_int_equal(tbSpeakerRoomUpdate(&room, in, 3, 420, ranked, &nr, changed, &nc), 1);
    assert_int_equal(nr, 2);
    assert_int_equal(ranked[0].id, 101);
    assert_true(ranked[0].active);
    /* A: 0.316 * 2/3 = 0.211 -> ceil to 2/8; B: 0.0211 -> 1/8 */
    assert_float_equal(ranked[0].level, 0.25f, EPS);
    assert_int_equal(ranked[1].id, 102);
    assert_float_equal(ranked[1].level, 0.125f, EPS);
    assert_int_equal(nc, 2);
    /* too soon: nothing evaluated */
    assert_int_equal(tbSpeakerRoomUpdate(&room, in, 3, 520, ranked, &nr, changed, &nc), 0);
    assert_int_equal(nr, 0);
    assert_int_equal(nc, 0);
    /* second window: A rises to 0.281 -> 3/8, B stays at 1/8: only A changed */
    window(tk, lv1, 3, 420);
    assert_int_equal(tbSpeakerRoomUpdate(&room, in, 3, 820, ranked, &nr, changed, &nc), 1);
    assert_int_equal(nc, 1);
    assert_int_equal(changed[0].id, 101);
    assert_float_equal(changed[0].level, 0.375f, EPS);
    /* third window: 0.304 -> still 3/8: no change to report */
    window(tk, lv1, 3, 820);
    assert_int_equal(tbSpeakerRoomUpdate(&room, in, 3, 1220, ranked, &nr, changed, &nc), 1);
    assert_int_equal(nr, 2);
    assert_int_equal(nc, 0);
    /* B goes silent: reported as stopped (level 0, inactive) */
    const uint8_t lv2[] = {10, 127, 127};
    window(tk, lv2, 3, 1220);
    assert_int_equal(tbSpeakerRoomUpdate(&room, in, 3, 1620, ranked, &nr, changed, &nc), 1);
    assert_int_equal(nr, 1);
    assert_int_equal(ranked[0].id, 101);
    assert_int_equal(nc, 1);
    assert_int_equal(changed[0].id, 102);
    assert_false(changed[0].active);
    assert_float_equal(changed[0].level, 0.0f, EPS);
    /* everyone stops sending: A goes stale and is reported stopped */
    assert_int_equal(tbSpeakerRoomUpdate(&room, in, 3, 2500, ranked, &nr, changed, &nc), 1);
    assert_int_equal(nr, 0);
    assert_int_equal(nc, 1);
    assert_int_equal(changed[0].id, 101);
    assert_false(changed[0].active);
}

static void testRoomManySpeakers(void **state) {
    (void)state;
    /* more active participants than TB_SPEAKER_MAX: the loudest are kept */
    enum { N = TB_SPEAKER_MAX + 6 };
    static talker tk[N];
    static tbSpeakerInput in[N];
    for (int i = 0; i < N; i++) {
        talkerInit(&tk[i], 0);
        feed(&tk[i], (uint8_t)(i % 30), 21, 0);
        in[i].id = (uint32_t)i;
        in[i].level = &tk[i].lv;
    }
    tbSpeakerConfig cfg;
    tbSpeakerConfigDefault(&cfg);
    tbSpeakerRoom room;
    tbSpeakerRoomInit(&room, &cfg);
    tbSpeakerInfo ranked[TB_SPEAKER_MAX], changed[TB_SPEAKER_MAX_CHANGES];
    size_t nr, nc;
    assert_int_equal(tbSpeakerRoomUpdate(&room, in, N, 400, ranked, &nr, changed, &nc), 1);
    assert_int_equal(nr, TB_SPEAKER_MAX);
    assert_int_equal(ranked[0].id, 0); /* level 0: the loudest */
    for (size_t i = 1; i < nr; i++)
        assert_true(ranked[i - 1].level >= ranked[i].level);
    /* the quietest ones (level 29: ids 29 and 59) are the ones left out */
    for (size_t i = 0; i < nr; i++)
        assert_true(ranked[i].id != 29 && ranked[i].id != 59);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testConstantLoud),
        cmocka_unit_test(testPercentileAndWeight),
        cmocka_unit_test(testGapNotCountedAsSpeech),
        cmocka_unit_test(testRoomRanking),
        cmocka_unit_test(testRoomManySpeakers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
