/* test_tcp_framing.c — unit tests for src/ice/tcp_framing.c (RFC 4571
 * framing for ICE-TCP): byte-by-byte partial reads, several frames in one
 * read, oversize frames skipped and counted without losing sync, zero-copy
 * Space/Commit with buffer compaction, and framer output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ice/tcp_framing.h"

/* Appends one framed payload of len bytes, each byte = seed + index. */
static size_t putFrame(uint8_t *out, size_t len, uint8_t seed) {
    out[0] = (uint8_t)(len >> 8);
    out[1] = (uint8_t)len;
    for (size_t i = 0; i < len; i++) out[2 + i] = (uint8_t)(seed + i);
    return 2 + len;
}

static void expectFrame(tbTcpDeframer *d, size_t len, uint8_t seed) {
    const uint8_t *f = NULL;
    size_t n = 0;
    assert_int_equal(tbTcpDeframerNext(d, &f, &n), 1);
    assert_int_equal(n, len);
    for (size_t i = 0; i < len; i++) assert_int_equal(f[i], (uint8_t)(seed + i));
}

static void expectNone(tbTcpDeframer *d) {
    const uint8_t *f;
    size_t n;
    assert_int_equal(tbTcpDeframerNext(d, &f, &n), 0);
}

static void testInitLimits(void **state) {
    (void)state;
    uint8_t buf[100];
    tbTcpDeframer d;
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 98), 0);
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 99), -1); /* no room for header */
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 0), -1);
    assert_int_equal(tbTcpDeframerInit(&d, NULL, sizeof buf, 10), -1);
    uint8_t *big = malloc(70000);
    assert_int_equal(tbTcpDeframerInit(&d, big, 70000, 65536), -1);
    assert_int_equal(tbTcpDeframerInit(&d, big, 70000, 65535), 0);
    free(big);
}

/* A STUN-sized frame delivered one byte per read. */
static void testByteByByte(void **state) {
    (void)state;
    uint8_t buf[2 + 1500], wire[200];
    tbTcpDeframer d;
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 1500), 0);
    size_t w = putFrame(wire, 100, 7);
    for (size_t i = 0; i < w - 1; i++) {
        assert_int_equal(tbTcpDeframerFeed(&d, wire + i, 1), 1);
        expectNone(&d);
    }
    assert_int_equal(tbTcpDeframerFeed(&d, wire + w - 1, 1), 1);
    expectFrame(&d, 100, 7);
    expectNone(&d);
    assert_int_equal(tbTcpDeframerPending(&d), 0);
    assert_int_equal(d.frames, 1);
}

/* Three frames and the first half of a fourth in one read; the split falls
 * inside the length header. */
static void testManyPerRead(void **state) {
    (void)state;
    uint8_t buf[2 + 1500], wire[4000];
    tbTcpDeframer d;
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 1500), 0);
    size_t w = 0;
    w += putFrame(wire + w, 20, 1);
    w += putFrame(wire + w, 1, 50);
    w += putFrame(wire + w, 300, 9);
    size_t cut = w + 1; /* one byte of the 4th frame's header */
    w += putFrame(wire + w, 1200, 3);
    assert_int_equal(tbTcpDeframerFeed(&d, wire, cut), cut);
    expectFrame(&d, 20, 1);
    expectFrame(&d, 1, 50);
    expectFrame(&d, 300, 9);
    expectNone(&d);
    assert_int_equal(tbTcpDeframerPending(&d), 1);
    /* The rest arrives; the partial frame is moved to the front to fit. */
    size_t off = cut;
    while (off < w) {
        size_t took = tbTcpDeframerFeed(&d, wire + off, w - off);
        assert_true(took > 0);
        off += took;
    }
    expectFrame(&d, 1200, 3);
    expectNone(&d);
    assert_int_equal(d.frames, 4);
}

/* Frames above max are skipped (also when their body spans reads), counted,
 * and the frames around them still come out intact. Empty frames vanish. */
static void testOversize(void **state) {
    (void)state;
    uint8_t buf[2 + 200], wire[3000];
    tbTcpDeframer d;
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 200), 0);
    size_t w = 0;
    w += putFrame(wire + w, 50, 11);
    w += putFrame(wire + w, 1000, 0); /* oversize: 5x the buffer */
    w += putFrame(wire + w, 0, 0);    /* empty */
    w += putFrame(wire + w, 200, 22); /* exactly max */
    w += putFrame(wire + w, 201, 0);  /* max + 1 */
    w += putFrame(wire + w, 3, 33);
    size_t off = 0, got = 0;
    const uint8_t *f;
    size_t n;
    uint8_t seeds[3] = {11, 22, 33};
    size_t lens[3] = {50, 200, 3};
    while (off < w) {
        size_t chunk = w - off < 37 ? w - off : 37;
        size_t took = tbTcpDeframerFeed(&d, wire + off, chunk);
        assert_true(took > 0); /* a drained de-framer always has room */
        off += took;
        while (tbTcpDeframerNext(&d, &f, &n) == 1) {
            assert_true(got < 3);
            assert_int_equal(n, lens[got]);
            for (size_t i = 0; i < n; i++) assert_int_equal(f[i], (uint8_t)(seeds[got] + i));
            got++;
        }
    }
    assert_int_equal(got, 3);
    assert_int_equal(d.oversize, 2);
    assert_int_equal(d.frames, 3);
    assert_int_equal(tbTcpDeframerPending(&d), 0);
}

/* Zero-copy path: write straight into Space(), Commit, drain. */
static void testSpaceCommit(void **state) {
    (void)state;
    uint8_t buf[2 + 100], wire[400];
    tbTcpDeframer d;
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 100), 0);
    size_t w = 0;
    for (int i = 0; i < 5; i++) w += putFrame(wire + w, 60, (uint8_t)(i * 10));
    size_t off = 0;
    int seen = 0;
    while (off < w) {
        size_t avail;
        uint8_t *dst = tbTcpDeframerSpace(&d, &avail);
        assert_true(avail > 0);
        size_t n = w - off < avail ? w - off : avail;
        if (n > 45) n = 45;
        memcpy(dst, wire + off, n);
        tbTcpDeframerCommit(&d, n);
        off += n;
        const uint8_t *f;
        size_t fl;
        while (tbTcpDeframerNext(&d, &f, &fl) == 1) {
            assert_int_equal(fl, 60);
            assert_int_equal(f[0], (uint8_t)(seen * 10));
            assert_int_equal(f[59], (uint8_t)(seen * 10 + 59));
            seen++;
        }
    }
    assert_int_equal(seen, 5);
}

static void testFramer(void **state) {
    (void)state;
    uint8_t out[1600], payload[1500], hdr[2];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
    assert_int_equal(tbTcpFrame(out, sizeof out, payload, 1500), 1502);
    assert_int_equal(out[0], 0x05);
    assert_int_equal(out[1], 0xdc);
    assert_memory_equal(out + 2, payload, 1500);
    assert_int_equal(tbTcpFrame(out, 1501, payload, 1500), 0); /* does not fit */
    assert_int_equal(tbTcpFrame(out, sizeof out, payload, 0), 0);
    assert_int_equal(tbTcpFrameHeader(hdr, 65535), 0);
    assert_int_equal(hdr[0], 0xff);
    assert_int_equal(hdr[1], 0xff);
    assert_int_equal(tbTcpFrameHeader(hdr, 65536), -1);
    /* In place: payload already at out + 2. */
    memcpy(out + 2, "\x00\x01\x00\x00", 4);
    assert_int_equal(tbTcpFrame(out, sizeof out, out + 2, 4), 6);
    assert_memory_equal(out, "\x00\x04\x00\x01\x00\x00", 6);
    /* Round trip through the de-framer. */
    uint8_t buf[2 + 1500];
    tbTcpDeframer d;
    assert_int_equal(tbTcpDeframerInit(&d, buf, sizeof buf, 1500), 0);
    size_t w = tbTcpFrame(out, sizeof out, payload, 1500);
    assert_int_equal(tbTcpDeframerFeed(&d, out, w), w);
    const uint8_t *f;
    size_t n;
    assert_int_equal(tbTcpDeframerNext(&d, &f, &n), 1);
    assert_int_equal(n, 1500);
    assert_memory_equal(f, payload, 1500);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testInitLimits),  cmocka_unit_test(testByteByByte),
        cmocka_unit_test(testManyPerRead), cmocka_unit_test(testOversize),
        cmocka_unit_test(testSpaceCommit), cmocka_unit_test(testFramer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
