/* test_handoff.c — the worker-to-worker SPSC ring: order, a full ring drops
 * and counts, oversize refused, and a two-thread run where every datagram
 * arrives once, in order, intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <cmocka.h>

#include "media/handoff.h"

static tbIceTuple peer(uint16_t port) {
    tbIceTuple t;
    memset(&t, 0, sizeof t);
    struct sockaddr_in *a = (struct sockaddr_in *)&t.addr;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(0x7f000001);
    t.addrlen = sizeof *a;
    return t;
}

static void test_order_and_full(void **state) {
    (void)state;
    tbHandoffRing *r = calloc(1, sizeof *r);
    tbHandoffInit(r);
    assert_null(tbHandoffPeek(r));
    uint8_t data[8];
    for (uint32_t i = 0; i < TB_HANDOFF_SLOTS; i++) {
        memcpy(data, &i, sizeof i);
        tbIceTuple p = peer((uint16_t)i);
        assert_true(tbHandoffPush(r, TB_HANDOFF_RECV, &p, data, sizeof data));
    }
    tbIceTuple p = peer(1);
    assert_false(tbHandoffPush(r, TB_HANDOFF_RECV, &p, data, sizeof data));
    assert_int_equal(r->dropped, 1);
    for (uint32_t i = 0; i < TB_HANDOFF_SLOTS; i++) {
        tbHandoffSlot *s = tbHandoffPeek(r);
        assert_non_null(s);
        uint32_t v;
        memcpy(&v, s->data, sizeof v);
        assert_int_equal(v, i);
        assert_int_equal(ntohs(((struct sockaddr_in *)&s->peer.addr)->sin_port), (uint16_t)i);
        tbHandoffPop(r);
    }
    assert_null(tbHandoffPeek(r));
    uint8_t big[TB_HANDOFF_MTU + 1] = {0};
    assert_false(tbHandoffPush(r, TB_HANDOFF_TCP_SEND, &p, big, sizeof big));
    free(r);
}

#define N_ITEMS 200000

static void producer(void *arg) {
    tbHandoffRing *r = arg;
    tbIceTuple p = peer(9);
    for (uint32_t i = 0; i < N_ITEMS;) {
        uint8_t data[64];
        memset(data, (int)(i & 0xff), sizeof data);
        memcpy(data, &i, sizeof i);
        if (tbHandoffPush(r, TB_HANDOFF_RECV, &p, data, 16 + i % 48)) i++;
    }
}

static void test_two_threads(void **state) {
    (void)state;
    tbHandoffRing *r = calloc(1, sizeof *r);
    tbHandoffInit(r);
    uv_thread_t t;
    uv_thread_create(&t, producer, r);
    for (uint32_t i = 0; i < N_ITEMS;) {
        tbHandoffSlot *s = tbHandoffPeek(r);
        if (!s) continue;
        uint32_t v;
        memcpy(&v, s->data, sizeof v);
        assert_int_equal(v, i);
        assert_int_equal(s->len, 16 + i % 48);
        assert_int_equal(s->data[s->len - 1], i & 0xff);
        tbHandoffPop(r);
        i++;
    }
    uv_thread_join(&t);
    assert_null(tbHandoffPeek(r));
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_full),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
