/* test_ice_lite.c — unit tests for src/ice/ice_lite.c: the per-transport
 * ICE-lite state machine driven by real connectivity checks (built by libnice
 * as the client's full agent would) and a fake millisecond clock: nomination,
 * switching pairs, auto-selection without nomination, consent freshness
 * (disconnect at 10 s, failure at 30 s of silence), indications, ICE restart,
 * pair eviction; and the SDP candidate lines with RFC 8445 priorities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stun/stunagent.h>

#include "ice/ice_lite.h"

#define CLI_UFRAG "cliA"
#define CLI_PWD "clientpassword0123456789"

typedef struct fx {
    tbStunCtx *ctx;
    StunAgent cli;  /* libnice as the client's full agent */
    tbIceLite ice;  /* the transport under test */
    const char *cli_ufrag;
} fx;

static int setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    f->ctx = tbStunCtxNew();
    stun_agent_init(&f->cli, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    assert_int_equal(tbIceLiteInit(&f->ice, 1000), 0);
    assert_int_equal(tbIceLiteSetRemote(&f->ice, CLI_UFRAG, CLI_PWD), 0);
    f->cli_ufrag = CLI_UFRAG;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    tbStunCtxFree(f->ctx);
    free(f);
    return 0;
}

static void tuple(tbIceTuple *t, const char *ip, uint16_t port, tbIceProto proto) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s6 = (void *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
        sl = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (void *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
        sl = sizeof *s4;
    }
    assert_int_equal(tbIceTupleSet(t, (struct sockaddr *)&ss, sl, proto), 0);
}

/* Builds a check with the given credentials; the transaction is forgotten
 * at once so the client agent never runs out of slots. */
static size_t buildCheck(fx *f, uint8_t *buf, size_t cap, const char *lufrag, const char *lpwd,
                         bool nominate, uint32_t prio) {
    char user[600];
    StunMessage m;
    StunTransactionId id;
    snprintf(user, sizeof user, "%s:%s", lufrag, f->cli_ufrag);
    assert_true(stun_agent_init_request(&f->cli, &m, buf, cap, STUN_BINDING));
    stun_message_append_bytes(&m, STUN_ATTRIBUTE_USERNAME, user, strlen(user));
    stun_message_append32(&m, STUN_ATTRIBUTE_PRIORITY, prio);
    if (nominate) stun_message_append_flag(&m, STUN_ATTRIBUTE_USE_CANDIDATE);
    stun_message_append64(&m, STUN_ATTRIBUTE_ICE_CONTROLLING, 42);
    size_t n = stun_agent_finish_message(&f->cli, &m, (const uint8_t *)lpwd, strlen(lpwd));
    assert_true(n > 0);
    stun_message_id(&m, id);
    stun_agent_forget_transaction(&f->cli, id);
    return n;
}

/* One check from ip:port (UDP) with the transport's current credentials. */
static tbStunStatus check(fx *f, const char *ip, uint16_t port, bool nominate, uint32_t prio,
                          uint64_t now, tbIceInput *res) {
    uint8_t req[256], out[TB_STUN_RESPONSE_MAX];
    tbIceTuple t;
    tuple(&t, ip, port, TB_ICE_UDP);
    size_t rl = buildCheck(f, req, sizeof req, f->ice.local_ufrag, f->ice.local_pwd, nominate, prio);
    tbStunStatus st = tbIceLiteHandleStun(&f->ice, f->ctx, req, rl, &t, now, out, sizeof out, res);
    if (st == TB_STUN_OK) assert_true(res->out_len > 0);
    return st;
}

static bool selectedIs(const tbIceLite *ice, const char *ip, uint16_t port) {
    tbIceTuple t;
    tuple(&t, ip, port, TB_ICE_UDP);
    const tbIceTuple *s = tbIceLiteSelected(ice);
    return s != NULL && tbIceTupleEqual(s, &t);
}

static void testCredentials(void **state) {
    (void)state;
    tbIceLite a, b;
    assert_int_equal(tbIceLiteInit(&a, 0), 0);
    assert_int_equal(tbIceLiteInit(&b, 0), 0);
    assert_true(tbIceIsIceChars(a.local_ufrag, 16, 16));
    assert_true(tbIceIsIceChars(a.local_pwd, 32, 32));
    assert_string_not_equal(a.local_ufrag, b.local_ufrag);
    assert_string_not_equal(a.local_pwd, b.local_pwd);
    assert_int_equal(a.state, TB_ICE_NEW);
    assert_null(tbIceLiteSelected(&a));
    assert_null(tbIceLiteSendTuple(&a));
    assert_int_equal(tbIceLiteSetRemote(&a, "abc", NULL), -1);                /* < 4 */
    assert_int_equal(tbIceLiteSetRemote(&a, "ab c", NULL), -1);               /* not ice-char */
    assert_int_equal(tbIceLiteSetRemote(&a, "abcd", "tooshortpassword"), -1); /* < 22 */
    assert_string_equal(a.remote_ufrag, "");
    assert_int_equal(tbIceLiteSetRemote(&a, "a+/9", "0123456789012345678901"), 0);
    assert_string_equal(a.remote_ufrag, "a+/9");
    assert_string_equal(a.remote_pwd, "0123456789012345678901");
}

/* A first check makes a valid pair (CHECKING); the nominating one selects it. */
static void testNominationConnects(void **state) {
    fx *f = *state;
    tbIceInput r;
    tbIceTuple a, b;
    tuple(&a, "192.0.2.10", 5000, TB_ICE_UDP);
    tuple(&b, "192.0.2.10", 5001, TB_ICE_UDP);
    assert_int_equal(check(f, "192.0.2.10", 5000, false, 100, 1010, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_NEW_TUPLE | TB_ICE_EV_STATE);
    assert_int_equal(f->ice.state, TB_ICE_CHECKING);
    assert_null(tbIceLiteSelected(&f->ice));
    assert_true(tbIceTupleEqual(tbIceLiteSendTuple(&f->ice), &a)); /* DTLS may go there */
    assert_true(tbIceLiteIsValidTuple(&f->ice, &a));
    assert_false(tbIceLiteIsValidTuple(&f->ice, &b));
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 1050, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_SELECTED | TB_ICE_EV_STATE);
    assert_true(r.check.use_candidate);
    assert_int_equal(f->ice.state, TB_ICE_CONNECTED);
    assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
    /* Chromium keeps USE-CANDIDATE on its selected pair: no new events. */
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 3550, &r), TB_STUN_OK);
    assert_int_equal(r.events, 0);
    assert_int_equal(f->ice.checks_ok, 3);
}

/* Checks from a second 5-tuple are answered but do not move media until
 * that pair is nominated; the most recent nomination wins. */
static void testSwitchOnNomination(void **state) {
    fx *f = *state;
    tbIceInput r;
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 1010, &r), TB_STUN_OK);
    assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
    assert_int_equal(check(f, "2001:db8::7", 6000, false, 300, 1100, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_NEW_TUPLE);
    assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
    assert_int_equal(check(f, "2001:db8::7", 6000, true, 300, 1200, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_SELECTED);
    tbIceTuple v6;
    tuple(&v6, "2001:db8::7", 6000, TB_ICE_UDP);
    assert_true(tbIceTupleEqual(tbIceLiteSelected(&f->ice), &v6));
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 1300, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_SELECTED);
    assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
    assert_int_equal(f->ice.state, TB_ICE_CONNECTED);
}

static void testBadCheckChangesNothing(void **state) {
    fx *f = *state;
    uint8_t req[256], out[TB_STUN_RESPONSE_MAX];
    tbIceInput r;
    tbIceTuple t;
    tuple(&t, "192.0.2.10", 5000, TB_ICE_UDP);
    size_t rl = buildCheck(f, req, sizeof req, f->ice.local_ufrag, "wrongwrongwrongwrongwrong", true, 1);
    assert_int_equal(tbIceLiteHandleStun(&f->ice, f->ctx, req, rl, &t, 1100, out, sizeof out, &r),
                     TB_STUN_UNAUTHORIZED);
    assert_true(r.out_len > 0); /* the 401 */
    assert_int_equal(r.events, 0);
    assert_int_equal(f->ice.state, TB_ICE_NEW);
    assert_false(tbIceLiteIsValidTuple(&f->ice, &t));
    assert_int_equal(f->ice.checks_bad, 1);
    /* Another client's remote ufrag (the remote ufrag is known) */
    f->cli_ufrag = "othr";
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 1, 1200, &r), TB_STUN_UNKNOWN_USER);
    assert_int_equal(f->ice.state, TB_ICE_NEW);
}

/* RFC 7675: silence → DISCONNECTED at 10 s, FAILED at 30 s; a check in
 * between brings the transport back. */
static void testConsentTimeout(void **state) {
    fx *f = *state;
    tbIceInput r;
    unsigned ev = 99;
    const uint64_t t0 = 5000;
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, t0, &r), TB_STUN_OK);
    assert_false(tbIceLiteTick(&f->ice, t0 + 9999, &ev));
    assert_int_equal(ev, 0);
    assert_int_equal(f->ice.state, TB_ICE_CONNECTED);
    assert_false(tbIceLiteTick(&f->ice, t0 + 10000, &ev));
    assert_int_equal(ev, TB_ICE_EV_STATE);
    assert_int_equal(f->ice.state, TB_ICE_DISCONNECTED);
    assert_int_equal(check(f, "192.0.2.10", 5000, false, 100, t0 + 15000, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_STATE);
    assert_int_equal(f->ice.state, TB_ICE_CONNECTED);
    assert_false(tbIceLiteTick(&f->ice, t0 + 15000 + 29999, &ev));
    assert_int_equal(f->ice.state, TB_ICE_DISCONNECTED);
    assert_true(tbIceLiteTick(&f->ice, t0 + 15000 + 30000, &ev));
    assert_int_equal(ev, TB_ICE_EV_STATE);
    assert_int_equal(f->ice.state, TB_ICE_FAILED);
    assert_false(tbIceLiteTick(&f->ice, t0 + 50000, &ev)); /* reported once */
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, t0 + 50000, &r), TB_STUN_IGNORED);
    assert_int_equal(r.out_len, 0);
    tbIceLiteClose(&f->ice);
    assert_int_equal(f->ice.state, TB_ICE_CLOSED);
    assert_null(tbIceLiteSelected(&f->ice));
}

/* Binding indications keep consent only from a validated 5-tuple. */
static void testIndications(void **state) {
    fx *f = *state;
    tbIceInput r;
    uint8_t ind[64], out[TB_STUN_RESPONSE_MAX];
    StunMessage m;
    assert_true(stun_agent_init_indication(&f->cli, &m, ind, sizeof ind, STUN_BINDING));
    size_t il = stun_agent_finish_message(&f->cli, &m, NULL, 0);
    tbIceTuple a, c;
    tuple(&a, "192.0.2.10", 5000, TB_ICE_UDP);
    tuple(&c, "192.0.2.99", 5000, TB_ICE_UDP);
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 0, &r), TB_STUN_OK);
    /* From a stranger: accepted silently, no effect. */
    assert_int_equal(tbIceLiteHandleStun(&f->ice, f->ctx, ind, il, &c, 20000, out, sizeof out, &r),
                     TB_STUN_INDICATION);
    assert_int_equal(r.out_len, 0);
    assert_false(tbIceLiteIsValidTuple(&f->ice, &c));
    assert_int_equal(f->ice.last_valid_ms, 0);
    /* From the selected pair: consent refreshed. */
    assert_int_equal(tbIceLiteHandleStun(&f->ice, f->ctx, ind, il, &a, 25000, out, sizeof out, &r),
                     TB_STUN_INDICATION);
    assert_int_equal(r.out_len, 0);
    assert_false(tbIceLiteTick(&f->ice, 54999, NULL));
    assert_true(tbIceLiteTick(&f->ice, 55000, NULL));
}

/* An agent that never sends USE-CANDIDATE: after nominate_wait_ms the fresh
 * valid pair with the highest PRIORITY is selected; a later nomination still
 * wins. */
static void testAutoSelect(void **state) {
    fx *f = *state;
    tbIceInput r;
    unsigned ev;
    assert_int_equal(check(f, "192.0.2.10", 5000, false, 100, 2000, &r), TB_STUN_OK);
    assert_int_equal(check(f, "192.0.2.11", 5000, false, 200, 2010, &r), TB_STUN_OK);
    assert_int_equal(check(f, "192.0.2.12", 5000, false, 150, 2020, &r), TB_STUN_OK);
    assert_false(tbIceLiteTick(&f->ice, 2999, &ev));
    assert_int_equal(ev, 0);
    assert_null(tbIceLiteSelected(&f->ice));
    assert_int_equal(f->ice.state, TB_ICE_CHECKING);
    assert_false(tbIceLiteTick(&f->ice, 3000, &ev));
    assert_int_equal(ev, TB_ICE_EV_SELECTED | TB_ICE_EV_STATE);
    assert_true(selectedIs(&f->ice, "192.0.2.11", 5000));
    assert_int_equal(f->ice.state, TB_ICE_CONNECTED);
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 3100, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_SELECTED);
    assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
}

/* The selected pair goes silent while another valid pair keeps checking
 * (network change without renomination): move to the live one. */
static void testSilentSelectedReplaced(void **state) {
    fx *f = *state;
    tbIceInput r;
    unsigned ev;
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 0, &r), TB_STUN_OK);
    assert_int_equal(check(f, "198.51.100.1", 7000, false, 50, 1000, &r), TB_STUN_OK);
    for (uint64_t t = 3000; t < 10000; t += 2500) {
        assert_int_equal(check(f, "198.51.100.1", 7000, false, 50, t, &r), TB_STUN_OK);
        assert_false(tbIceLiteTick(&f->ice, t, &ev));
        assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
    }
    assert_int_equal(check(f, "198.51.100.1", 7000, false, 50, 10000, &r), TB_STUN_OK);
    assert_false(tbIceLiteTick(&f->ice, 10000, &ev));
    assert_int_equal(ev, TB_ICE_EV_SELECTED);
    assert_true(selectedIs(&f->ice, "198.51.100.1", 7000));
    assert_int_equal(f->ice.state, TB_ICE_CONNECTED);
}

static void testConnectTimeout(void **state) {
    fx *f = *state;
    unsigned ev;
    assert_false(tbIceLiteTick(&f->ice, 1000 + 29999, &ev));
    assert_int_equal(f->ice.state, TB_ICE_NEW);
    assert_true(tbIceLiteTick(&f->ice, 1000 + 30000, &ev));
    assert_int_equal(ev, TB_ICE_EV_STATE);
    assert_int_equal(f->ice.state, TB_ICE_FAILED);
}

/* ICE restart: new credentials on both sides; media stays on the old pair
 * until a check with the new credentials nominates. */
static void testRestart(void **state) {
    fx *f = *state;
    tbIceInput r;
    char old_ufrag[TB_ICE_LOCAL_UFRAG_LEN + 1], old_pwd[TB_ICE_LOCAL_PWD_LEN + 1];
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 2000, &r), TB_STUN_OK);
    strcpy(old_ufrag, f->ice.local_ufrag);
    strcpy(old_pwd, f->ice.local_pwd);
    assert_int_equal(tbIceLiteRestart(&f->ice, "cliB", "newclientpassword012345", 3000), 0);
    assert_string_not_equal(f->ice.local_ufrag, old_ufrag);
    assert_string_not_equal(f->ice.local_pwd, old_pwd);
    assert_string_equal(f->ice.remote_ufrag, "cliB");
    assert_int_equal(f->ice.generation, 1);
    assert_int_equal(f->ice.state, TB_ICE_CONNECTED);
    assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
    /* Checks with the old credentials are refused now. */
    uint8_t req[256], out[TB_STUN_RESPONSE_MAX];
    tbIceTuple a;
    tuple(&a, "192.0.2.10", 5000, TB_ICE_UDP);
    size_t rl = buildCheck(f, req, sizeof req, old_ufrag, old_pwd, true, 100);
    assert_int_equal(tbIceLiteHandleStun(&f->ice, f->ctx, req, rl, &a, 3100, out, sizeof out, &r),
                     TB_STUN_UNKNOWN_USER);
    assert_int_equal(check(f, "192.0.2.10", 5000, true, 100, 3200, &r), TB_STUN_UNKNOWN_USER);
    /* With the new ones (and the client's new ufrag) from a new address. */
    f->cli_ufrag = "cliB";
    assert_int_equal(check(f, "203.0.113.50", 9000, false, 100, 3300, &r), TB_STUN_OK);
    assert_true(selectedIs(&f->ice, "192.0.2.10", 5000));
    assert_int_equal(check(f, "203.0.113.50", 9000, true, 100, 3400, &r), TB_STUN_OK);
    assert_int_equal(r.events, TB_ICE_EV_SELECTED);
    assert_true(selectedIs(&f->ice, "203.0.113.50", 9000));
    assert_int_equal(tbIceLiteRestart(&f->ice, "x", NULL, 4000), -1); /* bad remote ufrag */
    tbIceLiteClose(&f->ice);
    assert_int_equal(tbIceLiteRestart(&f->ice, "cliC", NULL, 5000), -1);
}

/* More 5-tuples than slots: the least recently heard, unselected one goes. */
static void testEviction(void **state) {
    fx *f = *state;
    tbIceInput r;
    assert_int_equal(check(f, "192.0.2.1", 1000, true, 1, 10, &r), TB_STUN_OK); /* selected */
    for (int i = 1; i < TB_ICE_MAX_PAIRS; i++) {
        assert_int_equal(check(f, "192.0.2.1", (uint16_t)(1000 + i), false, 1, 10 + (uint64_t)i, &r),
                         TB_STUN_OK);
        assert_int_equal(r.events & TB_ICE_EV_EVICTED, 0);
    }
    assert_int_equal(check(f, "192.0.2.1", 2000, false, 1, 100, &r), TB_STUN_OK);
    assert_true(r.events & TB_ICE_EV_EVICTED);
    assert_true(r.events & TB_ICE_EV_NEW_TUPLE);
    tbIceTuple gone, sel;
    tuple(&gone, "192.0.2.1", 1001, TB_ICE_UDP);
    tuple(&sel, "192.0.2.1", 1000, TB_ICE_UDP);
    assert_true(tbIceTupleEqual(&r.evicted, &gone));
    assert_false(tbIceLiteIsValidTuple(&f->ice, &gone));
    assert_true(tbIceLiteIsValidTuple(&f->ice, &sel));
    assert_true(selectedIs(&f->ice, "192.0.2.1", 1000));
}

/* Same address over UDP and ICE-TCP are different 5-tuples; IPv4-mapped
 * IPv6 equals plain IPv4. */
static void testTuples(void **state) {
    (void)state;
    tbIceTuple u, t, m;
    tuple(&u, "192.0.2.1", 1000, TB_ICE_UDP);
    tuple(&t, "192.0.2.1", 1000, TB_ICE_TCP);
    tuple(&m, "::ffff:192.0.2.1", 1000, TB_ICE_UDP);
    assert_false(tbIceTupleEqual(&u, &t));
    assert_true(tbIceTupleEqual(&u, &m));
    assert_int_equal(m.addr.ss_family, AF_INET);
    assert_int_equal(m.addrlen, sizeof(struct sockaddr_in));
    struct sockaddr_in short4 = {.sin_family = AF_INET};
    assert_int_equal(tbIceTupleSet(&m, (struct sockaddr *)&short4, 4, TB_ICE_UDP), -1);
}

static void testCandidates(void **state) {
    (void)state;
    char line[256];
    /* The familiar host priority: 126 << 24 | 65535 << 8 | 255. */
    uint32_t pu = tbIceCandidatePriority(TB_ICE_TYPE_PREF_HOST, tbIceLocalPreference(TB_ICE_UDP, 0), 1);
    assert_int_equal(pu, 2130706431u);
    assert_int_equal(tbIceLocalPreference(TB_ICE_UDP, 1), 65534);
    assert_int_equal(tbIceLocalPreference(TB_ICE_TCP, 0), (4 << 13) + 8191);
    uint32_t pt = tbIceCandidatePriority(TB_ICE_TYPE_PREF_HOST, tbIceLocalPreference(TB_ICE_TCP, 0), 1);
    assert_int_equal(pt, 2124414975u);
    uint32_t pu2 = tbIceCandidatePriority(TB_ICE_TYPE_PREF_HOST, tbIceLocalPreference(TB_ICE_UDP, 1), 1);
    assert_true(pu2 < pu && pu2 > pt); /* second IP below the first, all UDP above TCP */
    assert_int_equal(tbIceCandidatePriority(126, 65535, 2), 2130706430u);

    int n = tbIceCandidateFormat(line, sizeof line, "1", 1, "udp", pu, "203.0.113.5", 7882, "host",
                                 NULL);
    assert_string_equal(line, "candidate:1 1 udp 2130706431 203.0.113.5 7882 typ host");
    assert_int_equal(n, (int)strlen(line));
    n = tbIceCandidateFormat(line, sizeof line, "2", 1, "tcp", pt, "203.0.113.5", 7881, "host",
                             "passive");
    assert_string_equal(line,
                        "candidate:2 1 tcp 2124414975 203.0.113.5 7881 typ host tcptype passive");
    n = tbIceCandidateFormat(line, sizeof line, "3", 1, "udp", pu2, "2001:db8::1", 7882, "host", "");
    assert_string_equal(line, "candidate:3 1 udp 2130706175 2001:db8::1 7882 typ host");
    /* Invalid arguments. */
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "2", 1, "tcp", pt, "203.0.113.5",
                                          7881, "host", NULL), -1); /* TCP needs tcptype */
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "1", 1, "udp", pu, "203.0.113.5",
                                          7882, "host", "passive"), -1);
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "a b", 1, "udp", pu, "203.0.113.5",
                                          7882, "host", NULL), -1);
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "1", 0, "udp", pu, "203.0.113.5",
                                          7882, "host", NULL), -1);
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "1", 1, "sctp", pu, "203.0.113.5",
                                          7882, "host", NULL), -1);
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "1", 1, "udp", pu, "203.0.113.5 x",
                                          7882, "host", NULL), -1);
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "1", 1, "udp", pu, "203.0.113.5",
                                          0, "host", NULL), -1);
    assert_int_equal(tbIceCandidateFormat(line, sizeof line, "1", 1, "udp", pu, "203.0.113.5",
                                          7882, "bogus", NULL), -1);
    assert_int_equal(tbIceCandidateFormat(line, 20, "1", 1, "udp", pu, "203.0.113.5", 7882,
                                          "host", NULL), -1); /* too small */
}

static void testStateNames(void **state) {
    (void)state;
    assert_string_equal(tbIceStateName(TB_ICE_NEW), "new");
    assert_string_equal(tbIceStateName(TB_ICE_CHECKING), "checking");
    assert_string_equal(tbIceStateName(TB_ICE_CONNECTED), "connected");
    assert_string_equal(tbIceStateName(TB_ICE_DISCONNECTED), "disconnected");
    assert_string_equal(tbIceStateName(TB_ICE_FAILED), "failed");
    assert_string_equal(tbIceStateName(TB_ICE_CLOSED), "closed");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testCredentials),
        cmocka_unit_test_setup_teardown(testNominationConnects, setup, teardown),
        cmocka_unit_test_setup_teardown(testSwitchOnNomination, setup, teardown),
        cmocka_unit_test_setup_teardown(testBadCheckChangesNothing, setup, teardown),
        cmocka_unit_test_setup_teardown(testConsentTimeout, setup, teardown),
        cmocka_unit_test_setup_teardown(testIndications, setup, teardown),
        cmocka_unit_test_setup_teardown(testAutoSelect, setup, teardown),
        cmocka_unit_test_setup_teardown(testSilentSelectedReplaced, setup, teardown),
        cmocka_unit_test_setup_teardown(testConnectTimeout, setup, teardown),
        cmocka_unit_test_setup_teardown(testRestart, setup, teardown),
        cmocka_unit_test_setup_teardown(testEviction, setup, teardown),
        cmocka_unit_test(testTuples),
        cmocka_unit_test(testCandidates),
        cmocka_unit_test(testStateNames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
