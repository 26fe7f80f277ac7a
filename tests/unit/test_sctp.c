/* test_sctp.c — two data channel associations (src/data/sctp.c) wired back
 * to back in memory, each a real usrsctp association: INIT, channels opened
 * with DCEP by one side and announced to the other, ordered reliable
 * messages arriving in order, an unordered maxRetransmits-0 channel, empty
 * messages, a 100 KiB message reassembled, an oversize one dropped and
 * counted, and sends on unknown channels refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "data/dcep.h"
#include "data/sctp.h"

#define MAX_MSGS 256

typedef struct side {
    tbSctp *s;
    struct side *peer;
    bool up;
    int opened;
    char labels[8][32];
    int nmsgs;
    char mlabel[MAX_MSGS][32];
    uint32_t mppid[MAX_MSGS];
    size_t mlen[MAX_MSGS];
    uint8_t mfirst[MAX_MSGS];   /* first byte, or 0 */
    uint8_t mlast[MAX_MSGS];
} side;

static void onOpen(void *ud, uint16_t stream, const char *label) {
    side *x = ud;
    (void)stream;
    if (x->opened < 8) snprintf(x->labels[x->opened], 32, "%s", label);
    x->opened++;
}

static void onMessage(void *ud, uint16_t stream, const char *label, uint32_t ppid,
                      const uint8_t *data, size_t len) {
    side *x = ud;
    (void)stream;
    if (x->nmsgs >= MAX_MSGS) return;
    snprintf(x->mlabel[x->nmsgs], 32, "%s", label);
    x->mppid[x->nmsgs] = ppid;
    x->mlen[x->nmsgs] = len;
    x->mfirst[x->nmsgs] = len ? data[0] : 0;
    x->mlast[x->nmsgs] = len ? data[len - 1] : 0;
    x->nmsgs++;
}

static void onState(void *ud, bool up) { ((side *)ud)->up = up; }

static void toPeer(void *ud, const uint8_t *pkt, size_t len) {
    side *x = ud;
    tbSctpInput(x->peer->s, pkt, len);
}

/* Moves packets both ways until cond holds (or ~3 s pass). */
static bool pump(side *a, side *b, bool (*cond)(side *, side *)) {
    for (int i = 0; i < 3000; i++) {
        tbSctpDrain(a->s, toPeer, a);
        tbSctpDrain(b->s, toPeer, b);
        if (cond(a, b)) return true;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static bool bothUp(side *a, side *b) { return a->up && b->up; }
static bool twoOpened(side *a, side *b) { return a->opened >= 2 && b->opened >= 2; }

typedef struct pair {
    side a, b;
} pair;

static int setup(void **state) {
    pair *p = test_calloc(1, sizeof *p);
    p->a.peer = &p->b;
    p->b.peer = &p->a;
    tbSctpCallbacks ca = {onOpen, onMessage, onState, NULL, &p->a};
    tbSctpCallbacks cb = {onOpen, onMessage, onState, NULL, &p->b};
    p->a.s = tbSctpNew(&ca, 5000, true, 262144);
    p->b.s = tbSctpNew(&cb, 5000, false, 4096); /* b accepts at most 4 KiB */
    assert_non_null(p->a.s);
    assert_non_null(p->b.s);
    assert_int_equal(tbSctpConnect(p->a.s), 0);
    assert_int_equal(tbSctpConnect(p->b.s), 0);
    assert_true(pump(&p->a, &p->b, bothUp));
    *state = p;
    return 0;
}

static int teardown(void **state) {
    pair *p = *state;
    tbSctpFree(p->a.s);
    tbSctpFree(p->b.s);
    test_free(p);
    return 0;
}

static bool bGot(side *a, side *b) {
    (void)a;
    return b->nmsgs >= 103;
}

static void testChannelsAndMessages(void **state) {
    pair *p = *state;
    uint16_t rel, lossy;
    assert_int_equal(tbSctpOpenChannel(p->a.s, "_reliable", true, -1, &rel), 0);
    assert_int_equal(tbSctpOpenChannel(p->a.s, "_lossy", false, 0, &lossy), 0);
    assert_int_equal(rel % 2, 0); /* the DTLS client's streams are even */
    assert_int_not_equal(rel, lossy);
    assert_true(pump(&p->a, &p->b, twoOpened));
    assert_string_equal(p->b.labels[0], "_reliable");
    assert_string_equal(p->b.labels[1], "_lossy");
    /* 100 ordered messages, then one on the lossy channel, two empty ones */
    for (int i = 0; i < 100; i++) {
        uint8_t m[3] = {(uint8_t)i, 'x', (uint8_t)(255 - i)};
        assert_int_equal(tbSctpSendLabel(p->a.s, "_reliable", TB_PPID_BINARY, m, sizeof m), 0);
    }
    assert_int_equal(tbSctpSendLabel(p->a.s, "_lossy", TB_PPID_STRING,
                                     (const uint8_t *)"hi", 2), 0);
    assert_int_equal(tbSctpSendLabel(p->a.s, "_reliable", TB_PPID_STRING, NULL, 0), 0);
    assert_int_equal(tbSctpSendLabel(p->a.s, "_reliable", TB_PPID_BINARY, NULL, 0), 0);
    assert_true(pump(&p->a, &p->b, bGot));
    int seen = 0;
    for (int i = 0; i < p->b.nmsgs; i++) {
        if (strcmp(p->b.mlabel[i], "_reliable") || p->b.mlen[i] != 3) continue;
        assert_int_equal(p->b.mfirst[i], seen); /* in order */
        assert_int_equal(p->b.mlast[i], 255 - seen);
        seen++;
    }
    assert_int_equal(seen, 100);
    bool lossySeen = false, emptyString = false, emptyBinary = false;
    for (int i = 0; i < p->b.nmsgs; i++) {
        if (!strcmp(p->b.mlabel[i], "_lossy")) lossySeen = p->b.mppid[i] == TB_PPID_STRING;
        if (p->b.mlen[i] == 0 && p->b.mppid[i] == TB_PPID_STRING) emptyString = true;
        if (p->b.mlen[i] == 0 && p->b.mppid[i] == TB_PPID_BINARY) emptyBinary = true;
    }
    assert_true(lossySeen);
    assert_true(emptyString);
    assert_true(emptyBinary);
    /* the answering side can send on the channel it was offered */
    assert_int_equal(tbSctpSendLabel(p->b.s, "_reliable", TB_PPID_STRING,
                                     (const uint8_t *)"back", 4), 0);
    assert_int_equal(tbSctpSendLabel(p->b.s, "nope", TB_PPID_STRING,
                                     (const uint8_t *)"x", 1), -1);
}

static bool aGotBig(side *a, side *b) {
    (void)b;
    return a->nmsgs >= 1;
}

static bool bDropped(side *a, side *b) {
    (void)a;
    tbSctpStats st;
    tbSctpGetStats(b->s, &st);
    return st.dropped_oversize >= 1 && b->nmsgs >= 1;
}

/* b → a: 100 KiB arrive whole; above TB_SCTP_MAX_SEND is refused; a → b:
 * above b's 4 KiB limit, dropped and counted, and the next small message
 * still arrives. */
static void testLargeMessages(void **state) {
    pair *p = *state;
    static uint8_t big[100 * 1024];
    uint16_t rel;
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    assert_int_equal(tbSctpOpenChannel(p->a.s, "_reliable", true, -1, &rel), 0);
    assert_true(pump(&p->a, &p->b, twoOpened) || (p->a.opened >= 1 && p->b.opened >= 1));
    assert_int_equal(tbSctpSendLabel(p->b.s, "_reliable", TB_PPID_BINARY, big, sizeof big), 0);
    assert_true(pump(&p->a, &p->b, aGotBig));
    assert_int_equal(p->a.mlen[0], sizeof big); /* reassembled whole */
    assert_int_equal(p->a.mfirst[0], big[0]);
    assert_int_equal(p->a.mlast[0], big[sizeof big - 1]);
    static uint8_t huge[TB_SCTP_MAX_SEND + 1];
    assert_int_equal(tbSctpSend(p->b.s, rel, TB_PPID_BINARY, huge, sizeof huge), -1);
    assert_int_equal(tbSctpSendLabel(p->a.s, "_reliable", TB_PPID_BINARY, big, sizeof big), 0);
    assert_int_equal(tbSctpSendLabel(p->a.s, "_reliable", TB_PPID_BINARY, big, 10), 0);
    assert_true(pump(&p->a, &p->b, bDropped));
    assert_int_equal(p->b.nmsgs, 1);
    assert_int_equal(p->b.mlen[0], 10);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {T(testChannelsAndMessages), T(testLargeMessages)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
