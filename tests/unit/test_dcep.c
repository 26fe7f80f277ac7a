/* test_dcep.c — DATA_CHANNEL_OPEN/ACK (RFC 8832): the OPEN the SDK sends
 * for `_lossy` (unordered, maxRetransmits 0) byte for byte, round trips,
 * and every malformed form refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/dcep.h"

/* OPEN as a browser sends it for createDataChannel("_lossy", {ordered: false,
 * maxRetransmits: 0}): type 0x81, priority 256, reliability 0, label. */
static const uint8_t lossyOpen[] = {0x03, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x06, 0x00, 0x00, '_',  'l',  'o',  's',  's',  'y'};

static void testParseBrowserOpen(void **state) {
    (void)state;
    tbDcepOpen o;
    assert_int_equal(tbDcepParseOpen(lossyOpen, sizeof lossyOpen, &o), 0);
    assert_int_equal(o.channel_type, TB_DCEP_REXMIT | TB_DCEP_UNORDERED);
    assert_int_equal(o.priority, 256);
    assert_int_equal(o.reliability, 0);
    assert_string_equal(o.label, "_lossy");
    assert_string_equal(o.protocol, "");
    assert_false(tbDcepOrdered(o.channel_type));
}

static void testRoundTrip(void **state) {
    (void)state;
    tbDcepOpen o = {.channel_type = TB_DCEP_RELIABLE, .priority = 512, .reliability = 0};
    uint8_t buf[64];
    strcpy(o.label, "_reliable");
    strcpy(o.protocol, "proto");
    size_t n = tbDcepBuildOpen(&o, buf, sizeof buf);
    assert_int_equal(n, 12 + 9 + 5);
    tbDcepOpen back;
    assert_int_equal(tbDcepParseOpen(buf, n, &back), 0);
    assert_string_equal(back.label, "_reliable");
    assert_string_equal(back.protocol, "proto");
    assert_int_equal(back.priority, 512);
    assert_true(tbDcepOrdered(back.channel_type));
    assert_int_equal(tbDcepBuildOpen(&o, buf, 20), 0); /* does not fit */
}

static void testMalformed(void **state) {
    (void)state;
    tbDcepOpen o;
    uint8_t bad[sizeof lossyOpen];
    assert_int_equal(tbDcepParseOpen(lossyOpen, 11, &o), -1);                   /* header */
    assert_int_equal(tbDcepParseOpen(lossyOpen, sizeof lossyOpen - 1, &o), -1); /* label */
    memcpy(bad, lossyOpen, sizeof bad);
    bad[0] = TB_DCEP_ACK;
    assert_int_equal(tbDcepParseOpen(bad, sizeof bad, &o), -1);
    memcpy(bad, lossyOpen, sizeof bad);
    bad[1] = 0x05; /* unknown channel type */
    assert_int_equal(tbDcepParseOpen(bad, sizeof bad, &o), -1);
    memcpy(bad, lossyOpen, sizeof bad);
    bad[10] = 0xff; /* protocol length past the end */
    assert_int_equal(tbDcepParseOpen(bad, sizeof bad, &o), -1);
    assert_int_equal(tbDcepParseOpen(NULL, 0, &o), -1);
    const uint8_t ack = TB_DCEP_ACK;
    assert_true(tbDcepIsAck(&ack, 1));
    assert_false(tbDcepIsAck(lossyOpen, sizeof lossyOpen));
    assert_false(tbDcepIsAck(&ack, 0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testParseBrowserOpen),
        cmocka_unit_test(testRoundTrip),
        cmocka_unit_test(testMalformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
