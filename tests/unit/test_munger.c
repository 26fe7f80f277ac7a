/* test_munger.c — unit tests for src/rtp/munger.c: outgoing seq/ts stay
 * continuous for a subscriber across mute/unmute, silence, SSRC changes and
 * restarts; reordering, duplicates, 16-bit seq and 32-bit ts wraparound. The
 * stream is Opus at 48 kHz, 20 ms packets (960 ticks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp/munger.h"

#define FRAME 960u
#define FRAME_US 20000u

/* A fake publisher: ssrc, next seq/ts, arrival clock. */
typedef struct pub {
    uint32_t ssrc;
    uint16_t seq;
    uint32_t ts;
    uint64_t now_us;
} pub;

/* Sends the publisher's next packet through the munger. */
static tbMungeResult step(tbRtpMunger *m, pub *p, tbRtpMunged *out) {
    tbMungeResult r = tbRtpMungerProcess(m, p->ssrc, p->seq, p->ts, p->now_us, out);
    p->seq++;
    p->ts += FRAME;
    p->now_us += FRAME_US;
    return r;
}

/* Runs n packets, checking each is forwarded exactly one seq and one frame
 * after the previous output; returns the last output. */
static tbRtpMunged run(tbRtpMunger *m, pub *p, int n, const tbRtpMunged *prev) {
    tbRtpMunged out = {0}, last = prev ? *prev : out;
    for (int i = 0; i < n; i++) {
        assert_int_equal(step(m, p, &out), TB_MUNGE_FORWARD);
        if (prev != NULL || i > 0) {
            assert_int_equal(out.seq, (uint16_t)(last.seq + 1));
            assert_int_equal(out.ts, last.ts + FRAME);
        }
        last = out;
    }
    return last;
}

static void testFirstPacketAndSteady(void **state) {
    (void)state;
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 1000, 50000);
    pub p = {.ssrc = 0x1111, .seq = 31000, .ts = 777777, .now_us = 1000000};
    tbRtpMunged out;
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, 1000);
    assert_int_equal(out.ts, 50000);
    assert_true(out.marker);
    tbRtpMunged last = run(&m, &p, 100, &out);
    assert_int_equal(last.seq, 1100);
    assert_int_equal(last.ts, 50000 + 100 * FRAME);
    assert_false(last.marker);
}

static void testUnmuteAfterThreeSeconds(void **state) {
    (void)state;
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 0, 0);
    pub p = {.ssrc = 0x2222, .seq = 500, .ts = 90000, .now_us = 5000000};
    tbRtpMunged last = run(&m, &p, 50, NULL);
    /* muted: 3 s of packets (150) are dropped by the SFU */
    tbRtpMungerSetMuted(&m, true);
    tbRtpMunged out;
    for (int i = 0; i < 150; i++)
        assert_int_equal(step(&m, &p, &out), TB_MUNGE_MUTED);
    tbRtpMungerSetMuted(&m, false);
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_FORWARD);
    /* no seq gap (nothing for the subscriber to NACK) ... */
    assert_int_equal(out.seq, (uint16_t)(last.seq + 1));
    /* ... and the ts moved by the wall-clock time since the last packet
     * sent: 151 frames = 3.02 s */
    assert_int_equal(out.ts - last.ts, 151 * FRAME);
    assert_true(out.ts - last.ts >= 3 * 48000);
    assert_true(out.marker);
    run(&m, &p, 10, &out);
}

static void testPublisherSilenceSameSsrc(void **state) {
    (void)state;
    /* The publisher itself stops sending for 3 s (DTX, track disabled) and
     * resumes with seq+1 and ts advanced by 3 s: forwarded as-is. */
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 7, 0);
    pub p = {.ssrc = 0x3333, .seq = 10, .ts = 1000, .now_us = 0};
    tbRtpMunged last = run(&m, &p, 5, NULL);
    p.ts += 3 * 48000;
    p.now_us += 3000000;
    tbRtpMunged out;
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, (uint16_t)(last.seq + 1));
    assert_int_equal(out.ts - last.ts, FRAME + 3 * 48000);
    assert_false(out.marker);
}

static void testSsrcChange(void **state) {
    (void)state;
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 40000, 123456);
    pub a = {.ssrc = 0xaaaa, .seq = 100, .ts = 5000, .now_us = 1000000};
    tbRtpMunged last = run(&m, &a, 20, NULL);
    /* ICE restart: the publisher comes back 200 ms later with a new SSRC and
     * new random seq/ts */
    pub b = {.ssrc = 0xbbbb, .seq = 61000, .ts = 4000000000u, .now_us = a.now_us + 200000};
    tbRtpMunged out;
    assert_int_equal(step(&m, &b, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, (uint16_t)(last.seq + 1));
    assert_int_equal(out.ts - last.ts, (20000 + 200000) * 48 / 1000);
    assert_true(out.marker);
    last = run(&m, &b, 20, &out);
    /* a late packet of the old SSRC does not flip the mapping back */
    assert_int_equal(tbRtpMungerProcess(&m, 0xaaaa, 119, 5000 + 19 * FRAME, b.now_us, &out),
                     TB_MUNGE_OLD);
    last = run(&m, &b, 5, &last);
    /* an explicit switch with an unchanged SSRC also re-anchors: 60 ms
     * since the last packet sent */
    tbRtpMungerSwitchSource(&m);
    b.seq += 5000;
    b.ts += 77777;
    b.now_us += 40000;
    assert_int_equal(step(&m, &b, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, (uint16_t)(last.seq + 1));
    assert_int_equal(out.ts - last.ts, 3 * FRAME);
    run(&m, &b, 5, &out);
}

static void testSwitchTsAtLeastOneFrame(void **state) {
    (void)state;
    /* a switch with no elapsed time still advances ts by one frame */
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 0, 0);
    tbRtpMunged out;
    assert_int_equal(tbRtpMungerProcess(&m, 1, 10, 100, 1000, &out), TB_MUNGE_FORWARD);
    assert_int_equal(tbRtpMungerProcess(&m, 2, 900, 7, 1000, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, 1);
    assert_int_equal(out.ts, FRAME);
}

static void testReorderByOne(void **state) {
    (void)state;
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 200, 0);
    tbRtpMunged out;
    const uint16_t order[] = {10, 11, 13, 12, 14, 16, 15};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        uint16_t s = order[i];
        uint32_t ts = 1000 + (uint32_t)(s - 10) * FRAME;
        assert_int_equal(tbRtpMungerProcess(&m, 9, s, ts, 20000 * i, &out), TB_MUNGE_FORWARD);
        /* each packet keeps its place: outgoing = incoming + constant */
        assert_int_equal(out.seq, 200 + s - 10);
        assert_int_equal(out.ts, (uint32_t)(s - 10) * FRAME);
    }
    assert_int_equal(m.last_seq, 206);
}

static void testDuplicates(void **state) {
    (void)state;
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 0, 0);
    tbRtpMunged out;
    assert_int_equal(tbRtpMungerProcess(&m, 9, 100, 0, 0, &out), TB_MUNGE_FORWARD);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 101, 960, 1, &out), TB_MUNGE_FORWARD);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 101, 960, 2, &out), TB_MUNGE_DUP);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 103, 2880, 3, &out), TB_MUNGE_FORWARD);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 100, 0, 4, &out), TB_MUNGE_DUP);
    /* the hole at 102 is filled once (a NACK retransmission), then a dup */
    assert_int_equal(tbRtpMungerProcess(&m, 9, 102, 1920, 5, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, 2);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 102, 1920, 6, &out), TB_MUNGE_DUP);
    /* older than the window: dropped */
    for (uint16_t s = 104; s < 104 + TB_MUNGER_WINDOW; s++)
        assert_int_equal(tbRtpMungerProcess(&m, 9, s, s * 960u, 7, &out), TB_MUNGE_FORWARD);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 103, 2880, 8, &out), TB_MUNGE_OLD);
}

static void testReorderAcrossUnmuteDropped(void **state) {
    (void)state;
    /* a packet from before a re-anchor must not reuse an outgoing seq */
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 0, 0);
    tbRtpMunged out;
    assert_int_equal(tbRtpMungerProcess(&m, 9, 10, 0, 0, &out), TB_MUNGE_FORWARD);
    tbRtpMungerSetMuted(&m, true);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 11, 960, 20000, &out), TB_MUNGE_MUTED);
    tbRtpMungerSetMuted(&m, false);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 13, 2880, 60000, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, 1);
    assert_int_equal(tbRtpMungerProcess(&m, 9, 12, 1920, 61000, &out), TB_MUNGE_OLD);
}

static void testSeqWraparound(void **state) {
    (void)state;
    /* incoming and outgoing seq both wrap */
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 65533, 0);
    pub p = {.ssrc = 5, .seq = 65530, .ts = 0, .now_us = 0};
    tbRtpMunged out = run(&m, &p, 3, NULL);
    assert_int_equal(out.seq, 65535);
    out = run(&m, &p, 20, &out); /* incoming crosses 65535 -> 0 at packet 6 */
    assert_int_equal(out.seq, 19);
    /* reorder across the incoming wrap */
    tbRtpMungerInit(&m, 48000, 100, 0);
    assert_int_equal(tbRtpMungerProcess(&m, 5, 65534, 0, 0, &out), TB_MUNGE_FORWARD);
    assert_int_equal(tbRtpMungerProcess(&m, 5, 0, 1920, 1, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, 102);
    assert_int_equal(tbRtpMungerProcess(&m, 5, 65535, 960, 2, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, 101);
    assert_int_equal(tbRtpMungerProcess(&m, 5, 65535, 960, 3, &out), TB_MUNGE_DUP);
}

static void testTsWraparound(void **state) {
    (void)state;
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 0, 0xffffffffu - 2 * FRAME + 1);
    pub p = {.ssrc = 5, .seq = 1, .ts = 0xfffff000u, .now_us = 0};
    tbRtpMunged out = run(&m, &p, 6, NULL); /* both in and out ts wrap */
    assert_int_equal(out.ts, 3 * FRAME);
    /* a switch right after the wrap still moves forward */
    tbRtpMungerSwitchSource(&m);
    p.ts = 12345;
    tbRtpMunged prev = out;
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_FORWARD);
    assert_true((int32_t)(out.ts - prev.ts) > 0);
    assert_int_equal(out.ts - prev.ts, FRAME);
}

static void testRestartSameSsrc(void **state) {
    (void)state;
    /* the publisher restarts numbering without changing SSRC: the first
     * far-off packet is held, the next in sequence confirms and re-anchors */
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 0, 0);
    pub p = {.ssrc = 5, .seq = 40000, .ts = 0, .now_us = 0};
    tbRtpMunged last = run(&m, &p, 10, NULL);
    p.seq = 30000;
    tbRtpMunged out;
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_OLD);
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, (uint16_t)(last.seq + 1));
    assert_int_equal(out.ts - last.ts, 2 * FRAME); /* 40 ms since the last sent */
    tbRtpMunged fwd = out;
    /* a far forward jump: held once, then confirmed */
    p.seq += 20000;
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_PROBE);
    assert_int_equal(step(&m, &p, &out), TB_MUNGE_FORWARD);
    assert_int_equal(out.seq, (uint16_t)(fwd.seq + 1));
    /* a single stray old packet does not disturb the stream */
    tbRtpMunged before = out;
    assert_int_equal(tbRtpMungerProcess(&m, 5, (uint16_t)(p.seq - 1000), 0, p.now_us, &out),
                     TB_MUNGE_OLD);
    run(&m, &p, 3, &before);
}

static void testTsAt(void **state) {
    (void)state;
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 0, 1000);
    assert_int_equal(tbRtpMungerTsAt(&m, 5), 1000);
    tbRtpMunged out;
    assert_int_equal(tbRtpMungerProcess(&m, 1, 1, 1, 1000000, &out), TB_MUNGE_FORWARD);
    assert_int_equal(tbRtpMungerTsAt(&m, 1500000), 1000 + 24000);
}

/* Random publisher behaviour (loss, reordering, duplicates, mute, SSRC
 * switches, restarts): no outgoing seq is ever used twice within the
 * subscriber's 16-bit horizon (SRTP would reject the replay), and the newest
 * outgoing seq and its timestamp never move backwards. */
static void testRandomInvariants(void **state) {
    (void)state;
    static uint8_t used[65536];
    memset(used, 0, sizeof used);
    tbRtpMunger m;
    tbRtpMungerInit(&m, 48000, 60000, 4294000000u);
    uint32_t rnd = 99, ssrc = 1;
    uint16_t seq = 1000, newest = 0;
    uint32_t ts = 0, newestTs = 0;
    uint64_t now = 0;
    bool any = false, muted = false;
    int forwarded = 0;
    for (int i = 0; i < 40000; i++) {
        rnd = rnd * 1103515245u + 12345u;
        unsigned r = (rnd >> 8) % 1000;
        uint16_t s = seq;
        if (r < 30)
            s = (uint16_t)(seq - 1 - (rnd >> 20) % 5); /* late or duplicate */
        else if (r < 32)
            ssrc++, seq = (uint16_t)(rnd >> 4), ts = rnd; /* new source */
        else if (r < 34)
            seq = (uint16_t)(seq + 20000); /* restart, same SSRC */
        else if (r < 40)
            tbRtpMungerSetMuted(&m, muted = !muted);
        else if (r < 100)
            seq++, ts += FRAME; /* loss */
        if (r >= 30)
            s = seq;
        tbRtpMunged out;
        uint32_t pts = ts - (uint32_t)(uint16_t)(seq - s) * FRAME;
        tbMungeResult res = tbRtpMungerProcess(&m, ssrc, s, pts, now, &out);
        if (res == TB_MUNGE_FORWARD) {
            assert_int_equal(used[out.seq], 0); /* < 65536 forwarded in all */
            used[out.seq] = 1;
            forwarded++;
            if (!any || (int16_t)(out.seq - newest) > 0) {
                if (any)
                    assert_true((int32_t)(out.ts - newestTs) >= 0);
                newest = out.seq;
                newestTs = out.ts;
                any = true;
            }
        }
        if (r >= 30) {
            seq++;
            ts += FRAME;
        }
        now += FRAME_US;
    }
    assert_in_range(forwarded, 10000, 40000); /* about half the time muted */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testFirstPacketAndSteady),
        cmocka_unit_test(testUnmuteAfterThreeSeconds),
        cmocka_unit_test(testPublisherSilenceSameSsrc),
        cmocka_unit_test(testSsrcChange),
        cmocka_unit_test(testSwitchTsAtLeastOneFrame),
        cmocka_unit_test(testReorderByOne),
        cmocka_unit_test(testDuplicates),
        cmocka_unit_test(testReorderAcrossUnmuteDropped),
        cmocka_unit_test(testSeqWraparound),
        cmocka_unit_test(testTsWraparound),
        cmocka_unit_test(testRestartSameSsrc),
        cmocka_unit_test(testTsAt),
        cmocka_unit_test(testRandomInvariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
