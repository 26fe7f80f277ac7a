/* test_bus_msg.c — the messages nodes exchange over Redis pub/sub
 * (state/bus_msg.h): envelopes, relayed requests and forwarded responses
 * round-trip byte for byte, and every truncated or malformed form is
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/bus_msg.h"

static void testEnvelopeRoundTrip(void **state) {
    (void)state;
    tbSbuf b;
    tbSbufInit(&b, 0);
    const uint8_t frame[] = {0x0a, 0x00, 0xff, 0x10};
    tbBusMsg m = {.kind = TB_BUS_SIG_MSG, .flags = TB_BUS_TEXT, .code = 1008,
                  .id = 0x0102030405060708ull, .payload = frame, .payload_len = sizeof frame};
    strcpy(m.from, "ND_abcdef");
    assert_int_equal(tbBusEncode(&m, &b), 0);
    tbBusMsg d;
    assert_int_equal(tbBusDecode(tbSbufData(&b), b.len, &d), 0);
    assert_int_equal(d.kind, TB_BUS_SIG_MSG);
    assert_int_equal(d.flags, TB_BUS_TEXT);
    assert_int_equal(d.code, 1008);
    assert_true(d.id == 0x0102030405060708ull);
    assert_string_equal(d.from, "ND_abcdef");
    assert_int_equal(d.payload_len, sizeof frame);
    assert_memory_equal(d.payload, frame, sizeof frame);
    /* every truncation is refused, or decodes with a shorter payload */
    for (size_t n = 0; n < b.len - sizeof frame; n++)
        assert_int_equal(tbBusDecode(tbSbufData(&b), n, &d), -1);
    tbSbufFree(&b);
}

static void testEnvelopeRefused(void **state) {
    (void)state;
    tbBusMsg d;
    uint8_t bad[40] = "TBB1";
    bad[4] = 9; /* unknown kind */
    assert_int_equal(tbBusDecode(bad, sizeof bad, &d), -1);
    bad[4] = TB_BUS_SIG_OPEN;
    bad[16] = 200; /* node id longer than the message */
    assert_int_equal(tbBusDecode(bad, sizeof bad, &d), -1);
    memcpy(bad, "XBB1", 4);
    bad[16] = 0;
    assert_int_equal(tbBusDecode(bad, sizeof bad, &d), -1);
    tbBusMsg m = {.kind = TB_BUS_SIG_OPEN};
    memset(m.from, 'x', TB_BUS_NODE_MAX);
    tbSbuf b;
    tbSbufInit(&b, 0);
    assert_int_equal(tbBusEncode(&m, &b), 0);
    assert_int_equal(tbBusDecode(tbSbufData(&b), b.len, &d), 0);
    assert_int_equal(strlen(d.from), TB_BUS_NODE_MAX);
    tbSbufFree(&b);
}

static void testRequestRoundTrip(void **state) {
    (void)state;
    const uint8_t body[] = "{\"room\":\"r\"}";
    tbHttpRequest req = {.method = TB_HTTP_POST, .path = "/twirp/livekit.RoomService/ListRooms",
                         .authorization = "Bearer abc", .content_type = "application/json",
                         .host = "127.0.0.1:7880", .num_args = 2, .body = body,
                         .body_len = sizeof body - 1};
    req.args[0] = (tbHttpArg){"access_token", "t.o.k"};
    req.args[1] = (tbHttpArg){"join_request", ""};
    tbSbuf b;
    tbSbufInit(&b, 0);
    assert_int_equal(tbBusEncodeRequest(&req, &b), 0);
    tbHttpRequest d;
    char *storage;
    assert_int_equal(tbBusDecodeRequest(tbSbufData(&b), b.len, &d, &storage), 0);
    assert_int_equal(d.method, TB_HTTP_POST);
    assert_string_equal(d.path, req.path);
    assert_string_equal(d.authorization, "Bearer abc");
    assert_string_equal(d.content_type, "application/json");
    assert_string_equal(d.host, "127.0.0.1:7880");
    assert_null(d.forwarded_proto);
    assert_int_equal(d.num_args, 2);
    assert_string_equal(d.args[0].name, "access_token");
    assert_string_equal(d.args[0].value, "t.o.k");
    assert_string_equal(d.args[1].value, "");
    assert_int_equal(d.body_len, sizeof body - 1);
    assert_memory_equal(d.body, body, d.body_len);
    free(storage);
    /* cut inside the strings: refused, nothing allocated */
    for (size_t n = 0; n < 60; n++) {
        assert_int_equal(tbBusDecodeRequest(tbSbufData(&b), n, &d, &storage), -1);
        assert_null(storage);
    }
    uint8_t *raw = tbSbufData(&b);
    raw[1] = TB_HTTP_MAX_ARGS + 1; /* too many arguments */
    assert_int_equal(tbBusDecodeRequest(raw, b.len, &d, &storage), -1);
    tbSbufFree(&b);
}

static void testResponseRoundTrip(void **state) {
    (void)state;
    tbHttpResponse r, d;
    tbHttpResponseInit(&r, 0);
    tbHttpRespondError(&r, 404, "not_found", "requested room does not exist");
    tbSbuf b;
    tbSbufInit(&b, 0);
    assert_int_equal(tbBusEncodeResponse(&r, &b), 0);
    tbHttpResponseInit(&d, 16);
    assert_int_equal(tbBusDecodeResponse(404, tbSbufData(&b), b.len, &d), 0);
    assert_int_equal(d.status, 404);
    assert_string_equal(d.content_type, r.content_type);
    assert_int_equal(d.body.len, r.body.len);
    assert_memory_equal(tbSbufData(&d.body), tbSbufData(&r.body), r.body.len);
    assert_int_equal(tbBusDecodeResponse(42, tbSbufData(&b), b.len, &d), -1);
    assert_int_equal(tbBusDecodeResponse(200, (const uint8_t *)"no-nul", 6, &d), -1);
    tbHttpResponseFree(&d);
    tbHttpResponseFree(&r);
    tbSbufFree(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testEnvelopeRoundTrip),
        cmocka_unit_test(testEnvelopeRefused),
        cmocka_unit_test(testRequestRoundTrip),
        cmocka_unit_test(testResponseRoundTrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
