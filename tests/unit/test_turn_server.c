/* test_turn_server.c — the TURN server core driven as a client would: requests
 * built with libnice's STUN API (long-term credentials, FINGERPRINT), replies
 * parsed and MESSAGE-INTEGRITY checked with it. Relay sockets are a fake
 * callback; nothing is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <stun/stunagent.h>
#include <stun/stunmessage.h>
#include <stun/usages/turn.h>

#include "turn/peer_policy.h"
#include "turn/turn_server.h"

#define REALM "tribune.test"
#define T0 1000

static const uint16_t clientAttrs[] = {
    STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_ERROR_CODE,
    STUN_ATTRIBUTE_REALM, STUN_ATTRIBUTE_NONCE, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_SOFTWARE, STUN_ATTRIBUTE_FINGERPRINT, STUN_ATTRIBUTE_LIFETIME,
    STUN_ATTRIBUTE_XOR_PEER_ADDRESS, STUN_ATTRIBUTE_DATA, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS,
    STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, 0};

typedef struct fx {
    tbTurnServer *s;
    tbPeerPolicy pol;
    int opened, closed;  /* relay callback calls */
    bool no_port;        /* relay_open reports no free port */
    tbTurnTuple t;       /* the client's 5-tuple */
    uint8_t buf[2048];   /* reply buffer */
    tbTurnOut out;
    uint64_t now;
    char nonce[128];     /* from the first 401 */
    StunAgent agent;     /* client agent of the last request */
    StunMessage msg;     /* request being built */
    uint8_t req[1024];
    size_t req_len;
} fx;

static struct sockaddr_storage addr(const char *ip, uint16_t port) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
    } else {
        assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
    }
    return ss;
}

static socklen_t ssLen(const struct sockaddr_storage *ss) {
    return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static bool sameSs(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    return a->ss_family == b->ss_family && memcmp(a, b, ssLen(a)) == 0;
}

/* alice and bob have one password; carol (or "<digits>:carol", a TURN REST
 * style name) has two, as with a rotated secret: old first, new second. */
static bool sameTupleClient(const tbTurnTuple *a, const tbTurnTuple *b) {
    return a->proto == b->proto && memcmp(&a->client, &b->client, sizeof a->client) == 0;
}

static int lookup(void *ud, const char *user, unsigned index, bool allocate, char *pw,
                  size_t cap) {
    (void)ud;
    (void)allocate;
    const char *c = strchr(user, ':') ? strchr(user, ':') + 1 : user;
    const char *p = strcmp(user, "alice") == 0 ? "alicepw" : strcmp(user, "bob") == 0 ? "bobpw" : NULL;
    if (strcmp(c, "carol") == 0) p = index == 0 ? "carol-old" : "carol-new";
    if (p == NULL || index > (strcmp(c, "carol") == 0 ? 1u : 0u)) return -1;
    snprintf(pw, cap, "%s", p);
    return 0;
}

static int relayOpen(void *ud, const tbTurnTuple *t, int family, bool even,
                     struct sockaddr_storage *relay) {
    fx *f = ud;
    (void)even;
    assert_true(sameTupleClient(t, &f->t));
    if (f->no_port) return -1;
    if (family != AF_INET) return -2;
    *relay = addr("198.51.100.1", (uint16_t)(50000 + f->opened));
    f->opened++;
    return 0;
}

static void relayClose(void *ud, const struct sockaddr_storage *relay) {
    fx *f = ud;
    (void)relay;
    f->closed++;
}

/* Reply class/code: 0 for a success response, the error code otherwise. */
static int replyCode(fx *f) {
    StunMessage r = {.buffer = f->buf, .buffer_len = f->out.len};
    int code = -1;
    assert_true(f->out.len >= 20);
    if (stun_message_get_class(&r) == STUN_RESPONSE) return 0;
    assert_int_equal(stun_message_get_class(&r), STUN_ERROR);
    assert_int_equal(stun_message_find_error(&r, &code), STUN_MESSAGE_RETURN_SUCCESS);
    return code;
}

static StunMessage *begin(fx *f, StunMethod m) {
    stun_agent_init(&f->agent, clientAttrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    assert_true(stun_agent_init_request(&f->agent, &f->msg, f->req, sizeof f->req, m));
    return &f->msg;
}

static tbTurnAction deliver(fx *f, const uint8_t *b, size_t n) {
    return tbTurnServerHandleClient(f->s, &f->t, b, n, f->now, &f->out);
}

/* Adds USERNAME/REALM/NONCE, signs with pass and hands it to the server. */
static tbTurnAction sendAuth(fx *f, const char *user, const char *pass) {
    StunMessage *m = &f->msg;
    assert_int_equal(stun_message_append_string(m, STUN_ATTRIBUTE_USERNAME, user), 0);
    assert_int_equal(stun_message_append_string(m, STUN_ATTRIBUTE_REALM, REALM), 0);
    assert_int_equal(stun_message_append_string(m, STUN_ATTRIBUTE_NONCE, f->nonce), 0);
    f->req_len = stun_agent_finish_message(&f->agent, m, (const uint8_t *)pass, strlen(pass));
    assert_true(f->req_len > 0);
    return deliver(f, f->req, f->req_len);
}

static void addPeer(StunMessage *m, const char *ip, uint16_t port) {
    struct sockaddr_storage p = addr(ip, port);
    assert_int_equal(stun_message_append_xor_addr(m, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &p,
                                                  ssLen(&p)),
                     0);
}

static int allocate(fx *f, const char *user, const char *pass, uint8_t proto) {
    StunMessage *m = begin(f, STUN_ALLOCATE);
    stun_message_append32(m, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, (uint32_t)proto << 24);
    assert_int_equal(sendAuth(f, user, pass), TB_TURN_TO_CLIENT);
    return replyCode(f);
}

static int createPermission(fx *f, const char *ip) {
    StunMessage *m = begin(f, STUN_CREATEPERMISSION);
    addPeer(m, ip, 0);
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    return replyCode(f);
}

static int channelBind(fx *f, uint16_t num, const char *ip, uint16_t port) {
    StunMessage *m = begin(f, STUN_CHANNELBIND);
    stun_message_append32(m, STUN_ATTRIBUTE_CHANNEL_NUMBER, (uint32_t)num << 16);
    addPeer(m, ip, port);
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    return replyCode(f);
}

static tbTurnAction sendIndication(fx *f, const char *ip, uint16_t port, const char *data) {
    StunMessage m;
    uint8_t *b = f->req; /* the server may point out->data into it */
    stun_agent_init(&f->agent, clientAttrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_USE_FINGERPRINT);
    assert_true(stun_agent_init_indication(&f->agent, &m, b, sizeof f->req, STUN_IND_SEND));
    addPeer(&m, ip, port);
    stun_message_append_bytes(&m, STUN_ATTRIBUTE_DATA, data, strlen(data));
    size_t n = stun_agent_finish_message(&f->agent, &m, NULL, 0);
    return deliver(f, b, n);
}

static int setup(void **state) {
    static const uint8_t secret[] = "nonce-secret";
    fx *f = calloc(1, sizeof *f);
    assert_int_equal(tbPeerPolicyInit(&f->pol, NULL, 0, NULL, 0), 0);
    tbTurnServerConfig c = {.realm = REALM, .nonce_secret = secret, .nonce_secret_len = 12,
                      .nonce_lifetime = 600, .default_lifetime = 600, .max_lifetime = 3600,
                      .permission_lifetime = 300, .channel_lifetime = 600,
                      .max_allocations = 4, .max_per_user = 2, .policy = &f->pol,
                      .cb = {lookup, relayOpen, relayClose, f}};
    f->s = tbTurnServerNew(&c);
    assert_non_null(f->s);
    f->t.client = addr("192.0.2.10", 40000);
    f->t.server = addr("192.0.2.1", 3478);
    f->t.proto = IPPROTO_UDP;
    f->out.buf = f->buf;
    f->out.cap = sizeof f->buf;
    f->now = T0;
    /* Unauthenticated request: 401 with REALM and NONCE, no state. */
    StunMessage *m = begin(f, STUN_ALLOCATE);
    stun_message_append32(m, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, 17u << 24);
    size_t n = stun_agent_finish_message(&f->agent, m, NULL, 0);
    assert_int_equal(deliver(f, f->req, n), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 401);
    StunMessage r = {.buffer = f->buf, .buffer_len = f->out.len};
    uint16_t len = 0;
    const char *nonce = stun_message_find(&r, STUN_ATTRIBUTE_NONCE, &len);
    assert_non_null(nonce);
    memcpy(f->nonce, nonce, len);
    assert_true(stun_message_find(&r, STUN_ATTRIBUTE_REALM, &len) != NULL);
    assert_int_equal(len, strlen(REALM));
    assert_false(stun_message_has_attribute(&r, STUN_ATTRIBUTE_MESSAGE_INTEGRITY));
    assert_int_equal(tbTurnServerAllocationCount(f->s), 0);
    assert_int_equal(f->opened, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    tbTurnServerFree(f->s);
    free(f);
    return 0;
}

/* libnice's own TURN client usage: 401 then authenticated Allocate. */
static void testAllocateWithLibniceUsage(void **state) {
    fx *f = *state;
    StunAgent ag;
    StunMessage req, prev;
    uint8_t b[1024];
    stun_agent_init(&ag, clientAttrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    size_t n = stun_usage_turn_create(&ag, &req, b, sizeof b, NULL,
                                      STUN_USAGE_TURN_REQUEST_PORT_NORMAL, -1, -1,
                                      (uint8_t *)"alice", 5, (uint8_t *)"alicepw", 7,
                                      STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
    assert_int_equal(deliver(f, b, n), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 401);
    assert_int_equal(stun_agent_validate(&ag, &prev, f->buf, f->out.len, NULL, NULL),
                     STUN_VALIDATION_SUCCESS);
    uint8_t saved[512];
    memcpy(saved, f->buf, f->out.len);
    prev.buffer = saved;
    n = stun_usage_turn_create(&ag, &req, b, sizeof b, &prev,
                               STUN_USAGE_TURN_REQUEST_PORT_NORMAL, -1, -1,
                               (uint8_t *)"alice", 5, (uint8_t *)"alicepw", 7,
                               STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
    assert_int_equal(deliver(f, b, n), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 0);
    /* Signed with MD5(alice:realm:alicepw): the client's agent accepts it. */
    StunMessage resp;
    /* A flipped bit is caught by the client. */
    f->buf[f->out.len - 30] ^= 1;
    assert_int_not_equal(stun_agent_validate(&ag, &resp, f->buf, f->out.len, NULL, NULL),
                         STUN_VALIDATION_SUCCESS);
    f->buf[f->out.len - 30] ^= 1;
    assert_int_equal(stun_agent_validate(&ag, &resp, f->buf, f->out.len, NULL, NULL),
                     STUN_VALIDATION_SUCCESS);
    assert_true(stun_message_has_attribute(&resp, STUN_ATTRIBUTE_MESSAGE_INTEGRITY));
    assert_true(stun_message_has_attribute(&resp, STUN_ATTRIBUTE_FINGERPRINT));
    struct sockaddr_storage relay, mapped;
    socklen_t rl = sizeof relay, ml = sizeof mapped;
    uint32_t life = 0;
    assert_int_equal(stun_message_find_xor_addr(&resp, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS,
                                                &relay, &rl), 0);
    assert_int_equal(stun_message_find_xor_addr(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                                &mapped, &ml), 0);
    struct sockaddr_storage want = addr("198.51.100.1", 50000);
    assert_true(sameSs(&relay, &want));
    assert_true(sameSs(&mapped, &f->t.client));
    assert_int_equal(stun_message_find32(&resp, STUN_ATTRIBUTE_LIFETIME, &life), 0);
    assert_int_equal(life, 600);
    uint16_t sl = 0;
    const char *sw = stun_message_find(&resp, STUN_ATTRIBUTE_SOFTWARE, &sl);
    assert_non_null(sw);
    assert_memory_equal(sw, "tribune", 7);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 1);
}

static void testAllocateRetransmitAnd437(void **state) {
    fx *f = *state;
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    /* Same transaction again: same success, no second relay. */
    assert_int_equal(deliver(f, f->req, f->req_len), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 0);
    assert_int_equal(f->opened, 1);
    /* A new Allocate on the same 5-tuple: 437. */
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 437);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 1);
}

static void testTcpTransport442AndNoPort508(void **state) {
    fx *f = *state;
    assert_int_equal(allocate(f, "alice", "alicepw", 6), 442);
    StunMessage *m = begin(f, STUN_ALLOCATE);
    stun_message_append32(m, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, 17u << 24);
    stun_message_append32(m, 0x0017, 2u << 24); /* REQUESTED-ADDRESS-FAMILY: IPv6 */
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 440);
    f->no_port = true;
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 508);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 0);
}

static void testBadPasswordUnknownUserStaleNonce(void **state) {
    fx *f = *state;
    assert_int_equal(allocate(f, "alice", "wrong", 17), 401);
    StunMessage e = {.buffer = f->buf, .buffer_len = f->out.len};
    assert_false(stun_message_has_attribute(&e, STUN_ATTRIBUTE_MESSAGE_INTEGRITY));
    assert_true(stun_message_has_attribute(&e, STUN_ATTRIBUTE_NONCE));
    assert_int_equal(allocate(f, "mallory", "x", 17), 401);
    f->now = T0 + 601; /* nonce lifetime 600 s */
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 438);
    StunMessage r = {.buffer = f->buf, .buffer_len = f->out.len};
    uint16_t len = 0;
    const char *nonce = stun_message_find(&r, STUN_ATTRIBUTE_NONCE, &len);
    assert_non_null(nonce);
    assert_memory_not_equal(nonce, f->nonce, len);
    memset(f->nonce, 0, sizeof f->nonce);
    memcpy(f->nonce, nonce, len);
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
}

/* A second password (rotated secret) is tried when the first does not
 * match; the per-user quota counts "<expiry>:carol" names as one user. */
static void testRotatedPasswordAndQuotaKey(void **state) {
    fx *f = *state;
    assert_int_equal(allocate(f, "1000:carol", "carol-new", 17), 0);
    f->t.client = addr("192.0.2.10", 40001);
    assert_int_equal(allocate(f, "2000:carol", "carol-old", 17), 0);
    f->t.client = addr("192.0.2.10", 40002);
    assert_int_equal(allocate(f, "3000:carol", "carol-new", 17), 486);
    f->t.client = addr("192.0.2.10", 40003);
    assert_int_equal(allocate(f, "3000:carol", "neither", 17), 401);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 2);
}

/* Another realm is a 401 (with ours and a fresh nonce); a message cut short
 * or whose attribute runs past its end is dropped without an answer and
 * leaves no state. */
static void testWrongRealmAndTruncated(void **state) {
    fx *f = *state;
    StunMessage *m = begin(f, STUN_ALLOCATE);
    stun_message_append32(m, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, 17u << 24);
    assert_int_equal(stun_message_append_string(m, STUN_ATTRIBUTE_USERNAME, "alice"), 0);
    assert_int_equal(stun_message_append_string(m, STUN_ATTRIBUTE_REALM, "other.realm"), 0);
    assert_int_equal(stun_message_append_string(m, STUN_ATTRIBUTE_NONCE, f->nonce), 0);
    f->req_len = stun_agent_finish_message(&f->agent, m, (const uint8_t *)"alicepw", 7);
    assert_int_equal(deliver(f, f->req, f->req_len), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 401);
    StunMessage r = {.buffer = f->buf, .buffer_len = f->out.len};
    uint16_t len = 0;
    const char *realm = stun_message_find(&r, STUN_ATTRIBUTE_REALM, &len);
    assert_non_null(realm);
    assert_memory_equal(realm, REALM, strlen(REALM));
    /* the same request cut short: the header promises more than arrives */
    for (size_t n = 20; n < f->req_len; n += 7)
        assert_int_not_equal(deliver(f, f->req, n), TB_TURN_TO_CLIENT);
    /* an attribute whose length runs past the end of the message */
    uint8_t bad[28] = {0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42};
    memset(bad + 8, 7, 12);
    bad[20] = 0x00, bad[21] = 0x06, bad[22] = 0x00, bad[23] = 0x64; /* USERNAME, 100 bytes */
    assert_int_not_equal(deliver(f, bad, sizeof bad), TB_TURN_TO_CLIENT);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 0);
}

static void testDontFragment420(void **state) {
    fx *f = *state;
    StunMessage *m = begin(f, STUN_ALLOCATE);
    stun_message_append32(m, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, 17u << 24);
    stun_message_append_flag(m, STUN_ATTRIBUTE_DONT_FRAGMENT);
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 420);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 0);
}

static void testQuota486(void **state) {
    fx *f = *state;
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    f->t.client = addr("192.0.2.10", 40001);
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    f->t.client = addr("192.0.2.10", 40002);
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 486); /* per user: 2 */
    assert_int_equal(allocate(f, "bob", "bobpw", 17), 0);
    f->t.client = addr("192.0.2.10", 40003);
    assert_int_equal(allocate(f, "bob", "bobpw", 17), 0);
    f->t.client = addr("192.0.2.10", 40004);
    assert_int_equal(allocate(f, "bob", "bobpw", 17), 486); /* total: 4 */
    assert_int_equal(tbTurnServerAllocationCount(f->s), 4);
}

static void testPermissionPolicy(void **state) {
    fx *f = *state;
    assert_int_equal(createPermission(f, "203.0.113.7"), 437); /* no allocation yet */
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    assert_int_equal(createPermission(f, "203.0.113.7"), 0);
    assert_int_equal(createPermission(f, "127.0.0.1"), 403);
    StunMessage e = {.buffer = f->buf, .buffer_len = f->out.len};
    assert_true(stun_message_has_attribute(&e, STUN_ATTRIBUTE_MESSAGE_INTEGRITY));
    uint16_t elen = 0;
    const uint8_t *ec = stun_message_find(&e, STUN_ATTRIBUTE_ERROR_CODE, &elen);
    assert_int_equal(elen, 4 + strlen("Forbidden")); /* RFC 8656's phrase, not libnice's */
    assert_memory_equal(ec + 4, "Forbidden", elen - 4);
    assert_int_equal(createPermission(f, "::ffff:127.0.0.1"), 403);
    assert_int_equal(createPermission(f, "0.0.0.0"), 403);
    assert_int_equal(createPermission(f, "169.254.169.254"), 403);
    /* One refused address refuses the whole request. */
    StunMessage *m = begin(f, STUN_CREATEPERMISSION);
    addPeer(m, "203.0.113.20", 0);
    addPeer(m, "10.0.0.1", 0);
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 403);
    assert_int_equal(sendIndication(f, "203.0.113.20", 9, "x"), TB_TURN_NONE);
    /* Another user cannot touch alice's allocation. */
    m = begin(f, STUN_CREATEPERMISSION);
    addPeer(m, "203.0.113.7", 0);
    assert_int_equal(sendAuth(f, "bob", "bobpw"), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 441);
}

/* Every forbidden peer form of the issue, on CreatePermission and on
 * ChannelBind: 403, and no permission is left behind (a Send to it is
 * dropped). Includes the CVE-2020-26262 forms (0.0.0.0, [::], [::1]) and
 * IPv4-mapped, IPv4-compatible, NAT64 and 6to4 spellings of loopback. */
static void testEveryForbiddenPeer403(void **state) {
    static const char *const forbidden[] = {
        "0.0.0.0", "::", "::1", "127.0.0.1", "127.1.2.3", "::ffff:127.0.0.1", "::127.0.0.1",
        "64:ff9b::7f00:1", "2002:7f00:1::", "::ffff:10.0.0.1", "10.0.0.1", "172.16.0.1",
        "192.168.1.1", "100.64.0.1", "169.254.169.254", "fe80::1", "fc00::1", "fd12::1",
        "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1"};
    fx *f = *state;
    uint16_t chan = 0x4000;
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        print_message("peer %s\n", forbidden[i]);
        assert_int_equal(createPermission(f, forbidden[i]), 403);
        assert_int_equal(channelBind(f, chan++, forbidden[i], 5000), 403);
        assert_int_equal(sendIndication(f, forbidden[i], 5000, "x"), TB_TURN_NONE);
    }
    /* and an allowed one still works afterwards */
    assert_int_equal(channelBind(f, chan, "203.0.113.9", 5000), 0);
}

static void testSendAndData(void **state) {
    fx *f = *state;
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    assert_int_equal(createPermission(f, "203.0.113.7"), 0);
    assert_int_equal(sendIndication(f, "203.0.113.7", 9000, "hello"), TB_TURN_TO_PEER);
    struct sockaddr_storage peer = addr("203.0.113.7", 9000);
    struct sockaddr_storage relay = addr("198.51.100.1", 50000);
    assert_int_equal(f->out.len, 5);
    assert_memory_equal(f->out.data, "hello", 5);
    assert_true(sameSs(&f->out.peer, &peer));
    assert_true(sameSs(&f->out.relay, &relay));
    assert_int_equal(sendIndication(f, "203.0.113.8", 9000, "hello"), TB_TURN_NONE);
    /* Peer → client: Data indication. */
    assert_int_equal(tbTurnServerHandlePeer(f->s, &relay, &peer, (const uint8_t *)"pong", 4,
                                            f->now, &f->out),
                     TB_TURN_TO_CLIENT);
    assert_true(sameSs(&f->out.tuple.client, &f->t.client));
    StunMessage r = {.buffer = f->buf, .buffer_len = f->out.len};
    assert_int_equal(stun_message_get_class(&r), STUN_INDICATION);
    assert_int_equal(stun_message_get_method(&r), STUN_IND_DATA);
    uint16_t dl = 0;
    const uint8_t *d = stun_message_find(&r, STUN_ATTRIBUTE_DATA, &dl);
    assert_int_equal(dl, 4);
    assert_memory_equal(d, "pong", 4);
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    assert_int_equal(stun_message_find_xor_addr(&r, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &got, &gl),
                     0);
    assert_true(sameSs(&got, &peer));
    struct sockaddr_storage other = addr("203.0.113.99", 9000);
    assert_int_equal(tbTurnServerHandlePeer(f->s, &relay, &other, (const uint8_t *)"x", 1,
                                            f->now, &f->out),
                     TB_TURN_NONE);
}

static void testChannels(void **state) {
    fx *f = *state;
    struct sockaddr_storage relay = addr("198.51.100.1", 50000);
    struct sockaddr_storage peer = addr("203.0.113.9", 7000);
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    assert_int_equal(channelBind(f, 0x3FFF, "203.0.113.9", 7000), 400);
    assert_int_equal(channelBind(f, 0x8000, "203.0.113.9", 7000), 400);
    assert_int_equal(channelBind(f, 0x3FFF, "203.0.113.9", 7000), 400);
    assert_int_equal(channelBind(f, 0x4001, "127.0.0.1", 7000), 403);
    assert_int_equal(channelBind(f, 0x4001, "203.0.113.9", 7000), 0);
    assert_int_equal(channelBind(f, 0x4001, "203.0.113.9", 7000), 0); /* refresh */
    assert_int_equal(channelBind(f, 0x4001, "203.0.113.9", 7001), 400);
    assert_int_equal(channelBind(f, 0x4002, "203.0.113.9", 7000), 400);
    /* Client → peer over the channel (UDP: no padding required). */
    const uint8_t cd[] = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c'};
    assert_int_equal(deliver(f, cd, sizeof cd), TB_TURN_TO_PEER);
    assert_int_equal(f->out.len, 3);
    assert_memory_equal(f->out.data, "abc", 3);
    assert_true(sameSs(&f->out.peer, &peer));
    const uint8_t unbound[] = {0x40, 0x09, 0x00, 0x01, 'a'};
    assert_int_equal(deliver(f, unbound, sizeof unbound), TB_TURN_NONE);
    const uint8_t truncated[] = {0x40, 0x01, 0x00, 0x09, 'a'};
    assert_int_equal(deliver(f, truncated, sizeof truncated), TB_TURN_NONE);
    /* Peer → client: ChannelData, 4 + 5 bytes over UDP. */
    assert_int_equal(tbTurnServerHandlePeer(f->s, &relay, &peer, (const uint8_t *)"hello", 5,
                                            f->now, &f->out),
                     TB_TURN_TO_CLIENT);
    const uint8_t want[] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
    assert_int_equal(f->out.len, sizeof want);
    assert_memory_equal(f->out.data, want, sizeof want);
    /* Another port on the permitted address: no channel, Data indication. */
    struct sockaddr_storage p2 = addr("203.0.113.9", 7002);
    assert_int_equal(tbTurnServerHandlePeer(f->s, &relay, &p2, (const uint8_t *)"x", 1, f->now,
                                            &f->out),
                     TB_TURN_TO_CLIENT);
    assert_int_equal(f->buf[0], 0x00);
}

static void testChannelDataTcpPadding(void **state) {
    fx *f = *state;
    f->t.proto = IPPROTO_TCP;
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    assert_int_equal(channelBind(f, 0x4ABC, "203.0.113.9", 7000), 0);
    struct sockaddr_storage relay = addr("198.51.100.1", 50000);
    struct sockaddr_storage peer = addr("203.0.113.9", 7000);
    assert_int_equal(tbTurnServerHandlePeer(f->s, &relay, &peer, (const uint8_t *)"hello", 5,
                                            f->now, &f->out),
                     TB_TURN_TO_CLIENT);
    const uint8_t want[] = {0x4A, 0xBC, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
    assert_int_equal(f->out.len, 12);
    assert_memory_equal(f->out.data, want, sizeof want);
    assert_int_equal(tbTurnChannelDataFrameLen(want, sizeof want, true), 12);
    assert_int_equal(tbTurnChannelDataFrameLen(want, 9, false), 9);
    assert_int_equal(tbTurnChannelDataFrameLen(want, 10, true), -1);
    assert_int_equal(tbTurnChannelDataFrameLen(f->req, 20, true), 0);
}

static void testRefreshZeroDeletes(void **state) {
    fx *f = *state;
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    StunMessage *m = begin(f, STUN_REFRESH);
    stun_message_append32(m, STUN_ATTRIBUTE_LIFETIME, 7200);
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 0);
    StunMessage r = {.buffer = f->buf, .buffer_len = f->out.len};
    uint32_t life = 0;
    assert_int_equal(stun_message_find32(&r, STUN_ATTRIBUTE_LIFETIME, &life), 0);
    assert_int_equal(life, 3600); /* capped at max */
    m = begin(f, STUN_REFRESH);
    stun_message_append32(m, STUN_ATTRIBUTE_LIFETIME, 0);
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 0);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 0);
    assert_int_equal(f->closed, 1);
    m = begin(f, STUN_REFRESH);
    assert_int_equal(sendAuth(f, "alice", "alicepw"), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 437);
}

static void testExpiryByTick(void **state) {
    fx *f = *state;
    struct sockaddr_storage relay = addr("198.51.100.1", 50000);
    struct sockaddr_storage peer = addr("203.0.113.7", 9000);
    assert_int_equal(allocate(f, "alice", "alicepw", 17), 0);
    assert_int_equal(createPermission(f, "203.0.113.7"), 0);
    f->now = T0 + 299;
    assert_int_equal(tbTurnServerTick(f->s, f->now), 0);
    assert_int_equal(sendIndication(f, "203.0.113.7", 9000, "a"), TB_TURN_TO_PEER);
    f->now = T0 + 300; /* permission lifetime 300 s */
    assert_int_equal(tbTurnServerTick(f->s, f->now), 0);
    assert_int_equal(sendIndication(f, "203.0.113.7", 9000, "a"), TB_TURN_NONE);
    assert_int_equal(tbTurnServerHandlePeer(f->s, &relay, &peer, (const uint8_t *)"x", 1,
                                            f->now, &f->out),
                     TB_TURN_NONE);
    f->now = T0 + 599;
    assert_int_equal(tbTurnServerTick(f->s, f->now), 0);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 1);
    f->now = T0 + 600;
    assert_int_equal(tbTurnServerTick(f->s, f->now), 1);
    assert_int_equal(tbTurnServerAllocationCount(f->s), 0);
    assert_int_equal(f->closed, 1);
}

static void testNotTurn(void **state) {
    fx *f = *state;
    /* Plain Binding: answered without credentials. */
    StunMessage *m = begin(f, STUN_BINDING);
    size_t n = stun_agent_finish_message(&f->agent, m, NULL, 0);
    assert_int_equal(deliver(f, f->req, n), TB_TURN_TO_CLIENT);
    assert_int_equal(replyCode(f), 0);
    StunMessage r = {.buffer = f->buf, .buffer_len = f->out.len};
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    assert_int_equal(stun_message_find_xor_addr(&r, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &got, &gl),
                     0);
    assert_true(sameSs(&got, &f->t.client));
    const uint8_t rtp[] = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(deliver(f, rtp, sizeof rtp), TB_TURN_NOT_TURN);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(testAllocateWithLibniceUsage), T(testAllocateRetransmitAnd437),
        T(testTcpTransport442AndNoPort508), T(testBadPasswordUnknownUserStaleNonce),
        T(testDontFragment420), T(testRotatedPasswordAndQuotaKey), T(testWrongRealmAndTruncated), T(testQuota486), T(testPermissionPolicy),
        T(testEveryForbiddenPeer403), T(testSendAndData), T(testChannels), T(testChannelDataTcpPadding),
        T(testRefreshZeroDeletes), T(testExpiryByTick), T(testNotTurn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
