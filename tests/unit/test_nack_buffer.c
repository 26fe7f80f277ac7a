/* test_nack_buffer.c — unit tests for src/rtp/nack_buffer.c: packets come
 * back byte for byte by outgoing seq, slot reuse and arena wraparound make
 * old ones MISSING (never stale bytes), resends are throttled, seq wraps,
 * the struct stays within the per-stream memory budget; and the shared
 * history's parts: Peek, and the per-subscriber tbNackMap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp/nack_buffer.h"

/* Fills a packet whose every byte depends on seq and position. */
static void fill(uint8_t *pkt, size_t len, uint16_t seq) {
    for (size_t i = 0; i < len; i++)
        pkt[i] = (uint8_t)(seq * 31 + i * 7 + (i >> 8));
}

static void expectPacket(tbNackBuffer *nb, uint16_t seq, size_t len, uint64_t now) {
    uint8_t want[TB_NACK_MAX_PACKET];
    const uint8_t *data = NULL;
    size_t got = 0;
    fill(want, len, seq);
    assert_int_equal(tbNackBufferGet(nb, seq, now, &data, &got), TB_NACK_OK);
    assert_int_equal(got, len);
    assert_memory_equal(data, want, len);
}

static void put(tbNackBuffer *nb, uint16_t seq, size_t len, uint64_t now) {
    uint8_t pkt[TB_NACK_MAX_PACKET];
    fill(pkt, len, seq);
    assert_true(tbNackBufferPut(nb, seq, pkt, len, now));
}

static tbNackBuffer nb; /* 18 KiB: static rather than on the test's stack */

static void testPutGet(void **state) {
    (void)state;
    tbNackBufferInit(&nb, 100, 3);
    for (uint16_t s = 500; s < 510; s++)
        put(&nb, s, 100 + s % 50, s);
    for (uint16_t s = 500; s < 510; s++)
        expectPacket(&nb, s, 100 + s % 50, 1000);
    const uint8_t *d;
    size_t n;
    assert_int_equal(tbNackBufferGet(&nb, 499, 1000, &d, &n), TB_NACK_MISSING);
    assert_int_equal(tbNackBufferGet(&nb, 510, 1000, &d, &n), TB_NACK_MISSING);
}

static void testSlotReuse(void **state) {
    (void)state;
    tbNackBufferInit(&nb, 100, 3);
    put(&nb, 7, 120, 0);
    put(&nb, 7 + TB_NACK_SLOTS, 120, 20);
    const uint8_t *d;
    size_t n;
    assert_int_equal(tbNackBufferGet(&nb, 7, 100, &d, &n), TB_NACK_MISSING);
    expectPacket(&nb, 7 + TB_NACK_SLOTS, 120, 100);
    /* a full history: the last 128 are all there */
    for (uint16_t s = 1000; s < 1000 + 3 * TB_NACK_SLOTS; s++)
        put(&nb, s, 120, s);
    for (uint16_t s = 1000 + 2 * TB_NACK_SLOTS; s < 1000 + 3 * TB_NACK_SLOTS; s++)
        expectPacket(&nb, s, 120, 5000);
    assert_int_equal(tbNackBufferGet(&nb, 1000 + 2 * TB_NACK_SLOTS - 1, 5000, &d, &n),
                     TB_NACK_MISSING);
}

static void testArenaWrap(void **state) {
    (void)state;
    tbNackBufferInit(&nb, 100, 3);
    /* 1200-byte packets: 13 fit in 16 KiB, the 14th goes to the start */
    for (uint16_t s = 0; s < 13; s++)
        put(&nb, s, 1200, s);
    expectPacket(&nb, 0, 1200, 100);
    put(&nb, 13, 1200, 13);
    const uint8_t *d;
    size_t n;
    assert_int_equal(tbNackBufferGet(&nb, 0, 100, &d, &n), TB_NACK_MISSING);
    expectPacket(&nb, 1, 1200, 100);
    expectPacket(&nb, 13, 1200, 100);
    put(&nb, 14, 1200, 14);
    assert_int_equal(tbNackBufferGet(&nb, 1, 200, &d, &n), TB_NACK_MISSING);
    expectPacket(&nb, 2, 1200, 200);
    /* mixed sizes: whatever is found is exact, and the newest always are */
    uint32_t rnd = 12345;
    size_t lens[65536 / 64];
    for (uint16_t s = 100; s < 900; s++) {
        rnd = rnd * 1103515245u + 12345u;
        lens[s] = 40 + (rnd >> 8) % (TB_NACK_MAX_PACKET - 40);
        put(&nb, s, lens[s], s);
        if (s >= 104)
            expectPacket(&nb, (uint16_t)(s - 4), lens[s - 4], 1000 + s);
    }
    int found = 0;
    for (uint16_t s = 900 - TB_NACK_SLOTS; s < 900; s++) {
        tbNackResult r = tbNackBufferGet(&nb, s, 100000, &d, &n);
        if (r == TB_NACK_OK) {
            uint8_t want[TB_NACK_MAX_PACKET];
            fill(want, lens[s], s);
            assert_int_equal(n, lens[s]);
            assert_memory_equal(d, want, n);
            found++;
        }
    }
    assert_in_range(found, 10, 30); /* ~16 KiB of ~770-byte packets */
}

static void testThrottle(void **state) {
    (void)state;
    tbNackBufferInit(&nb, 100, 2);
    put(&nb, 42, 150, 0);
    const uint8_t *d;
    size_t n;
    assert_int_equal(tbNackBufferGet(&nb, 42, 10, &d, &n), TB_NACK_OK);  /* first: always */
    assert_int_equal(tbNackBufferGet(&nb, 42, 60, &d, &n), TB_NACK_THROTTLED);
    assert_int_equal(tbNackBufferGet(&nb, 42, 110, &d, &n), TB_NACK_OK);
    assert_int_equal(tbNackBufferGet(&nb, 42, 500, &d, &n), TB_NACK_THROTTLED); /* max 2 */
    /* storing the seq again (a new packet) resets the count */
    put(&nb, 42, 150, 600);
    assert_int_equal(tbNackBufferGet(&nb, 42, 601, &d, &n), TB_NACK_OK);
}

static void testRejectAndWrap(void **state) {
    (void)state;
    tbNackBufferInit(&nb, 100, 3);
    uint8_t big[TB_NACK_MAX_PACKET + 1] = {0};
    assert_false(tbNackBufferPut(&nb, 1, big, sizeof big, 0));
    assert_false(tbNackBufferPut(&nb, 1, big, 0, 0));
    const uint8_t *d;
    size_t n;
    assert_int_equal(tbNackBufferGet(&nb, 1, 0, &d, &n), TB_NACK_MISSING);
    uint16_t s = 65530;
    for (int i = 0; i < 12; i++, s++)
        put(&nb, s, 90, (uint64_t)i);
    s = 65530;
    for (int i = 0; i < 12; i++, s++)
        expectPacket(&nb, s, 90, 100);
}

static void testBudget(void **state) {
    (void)state;
    /* brief: <= 64 KiB per subscribed stream, all state included */
    assert_true(sizeof(tbNackBuffer) <= 19 * 1024);
    assert_true(sizeof(tbNackBuffer) >= TB_NACK_ARENA);
}

/* Peek: the same bytes as Get, any number of times, never throttled, and
 * MISSING exactly where Get is. */
static void testPeek(void **state) {
    (void)state;
    tbNackBufferInit(&nb, 0, 0);
    for (uint16_t s = 65530; s != 6; s++) put(&nb, s, 120, 0);
    uint8_t want[120];
    for (int round = 0; round < 5; round++) {
        const uint8_t *d;
        size_t n;
        fill(want, sizeof want, 65535);
        assert_int_equal(tbNackBufferPeek(&nb, 65535, &d, &n), TB_NACK_OK);
        assert_int_equal(n, 120);
        assert_memory_equal(d, want, n);
        assert_int_equal(tbNackBufferPeek(&nb, 6, &d, &n), TB_NACK_MISSING);
    }
}

static tbNackMap map;

/* The outgoing map of a shared history: what was sent under an outgoing seq
 * comes back (incoming seq, timestamp, marker), slot reuse makes older
 * ones MISSING, and resends are throttled as in tbNackBuffer. */
static void testMap(void **state) {
    (void)state;
    tbNackMapInit(&map, 100, 2);
    for (uint16_t out = 1000; out < 1010; out++)
        tbNackMapPut(&map, out, (uint16_t)(out + 5000), out * 960u, out == 1003, 0);
    tbNackSent e;
    assert_int_equal(tbNackMapGet(&map, 1003, 0, &e), TB_NACK_OK);
    assert_int_equal(e.out_seq, 1003);
    assert_int_equal(e.in_seq, 6003);
    assert_int_equal(e.out_ts, 1003 * 960u);
    assert_true(e.marker);
    assert_int_equal(tbNackMapGet(&map, 1003, 50, &e), TB_NACK_THROTTLED);  /* too soon */
    assert_int_equal(tbNackMapGet(&map, 1003, 200, &e), TB_NACK_OK);
    assert_int_equal(tbNackMapGet(&map, 1003, 400, &e), TB_NACK_THROTTLED); /* twice already */
    assert_int_equal(tbNackMapGet(&map, 999, 0, &e), TB_NACK_MISSING);
    tbNackMapPut(&map, (uint16_t)(1004 + TB_NACK_SLOTS), 1, 0, false, 0); /* same slot */
    assert_int_equal(tbNackMapGet(&map, 1004, 0, &e), TB_NACK_MISSING);
    /* a subscriber's whole NACK state stays small */
    assert_true(sizeof(tbNackMap) <= 2 * 1024 + 64);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testPeek),
        cmocka_unit_test(testMap),
        cmocka_unit_test(testPutGet),
        cmocka_unit_test(testSlotReuse),
        cmocka_unit_test(testArenaWrap),
        cmocka_unit_test(testThrottle),
        cmocka_unit_test(testRejectAndWrap),
        cmocka_unit_test(testBudget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
