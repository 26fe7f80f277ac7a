/* test_stun.c — unit tests for src/ice/stun.c, the ICE-lite answer to STUN
 * Binding requests. The RFC 5769 sample request (§2.1) is validated through
 * our code path, tampered copies fail; checks built by libnice as a client
 * agent (as a full ICE agent would send them) are answered and the answers
 * are checked by libnice's own client-side validation (MESSAGE-INTEGRITY,
 * FINGERPRINT, XOR-MAPPED-ADDRESS), whose XOR-MAPPED-ADDRESS bytes must equal
 * those of the RFC 5769 sample responses (§2.2 IPv4, §2.3 IPv6). Error paths:
 * wrong password, wrong ufrag, garbage, truncation, missing credentials,
 * unknown attributes, role conflict, indications, plain STUN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <zlib.h>

#include "ice/stun.h"

/* RFC 5769 §2.1: sample request with short-term authentication. */
static const uint8_t rfcReq[] =
    "\x00\x01\x00\x58"
    "\x21\x12\xa4\x42"
    "\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae"
    "\x80\x22\x00\x10"
    "STUN test client"
    "\x00\x24\x00\x04"
    "\x6e\x00\x01\xff"
    "\x80\x29\x00\x08"
    "\x93\x2f\xf9\xb1\x51\x26\x3b\x36"
    "\x00\x06\x00\x09"
    "\x65\x76\x74\x6a\x3a\x68\x36\x76\x59\x20\x20\x20"
    "\x00\x08\x00\x14"
    "\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56\x78\x1e\xf2\xb5"
    "\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2"
    "\x80\x28\x00\x04"
    "\xe5\x7a\x3b\xcf";
#define RFC_REQ_LEN 108
static const char rfcPwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t rfcTxid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
/* XOR-MAPPED-ADDRESS values of RFC 5769 §2.2 (192.0.2.1:32853) and §2.3
 * ([2001:db8:1234:5678:11:2233:4455:6677]:32853). */
static const uint8_t rfcXorV4[8] = {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
static const uint8_t rfcXorV6[20] = {0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3,
                                     0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9};

#define SRV_UFRAG "Srv0ufrag"
#define SRV_PWD "serverpassword0123456789"
#define CLI_UFRAG "cli1"

typedef struct fixture {
    tbStunCtx *ctx;  /* the code under test */
    StunAgent cli;   /* libnice as the client (full) agent */
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    f->ctx = tbStunCtxNew();
    stun_agent_init(&f->cli, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    *state = f;
    return f->ctx ? 0 : -1;
}

static int teardown(void **state) {
    fixture *f = *state;
    tbStunCtxFree(f->ctx);
    free(f);
    return 0;
}

static const tbStunCreds srvCreds = {SRV_UFRAG, SRV_PWD, NULL};

/* What a check should carry; builds it with libnice the way a full agent does. */
typedef struct checkSpec {
    const char *username;
    const char *pwd;        /* NULL: no MESSAGE-INTEGRITY */
    bool use_candidate;
    int role;               /* 1 ICE-CONTROLLING, -1 ICE-CONTROLLED, 0 none */
    uint32_t priority;
    const uint8_t *txid;    /* NULL: random */
    uint16_t extra_attr;    /* 0, or an extra 4-byte attribute */
} checkSpec;

static size_t buildCheck(StunAgent *agent, const checkSpec *s, uint8_t *buf, size_t cap) {
    StunMessage m;
    assert_true(stun_agent_init_request(agent, &m, buf, cap, STUN_BINDING));
    if (s->txid) memcpy(buf + 8, s->txid, 12);
    if (s->username)
        assert_int_equal(stun_message_append_bytes(&m, STUN_ATTRIBUTE_USERNAME, s->username,
                                                   strlen(s->username)),
                         STUN_MESSAGE_RETURN_SUCCESS);
    if (s->priority) stun_message_append32(&m, STUN_ATTRIBUTE_PRIORITY, s->priority);
    if (s->use_candidate) stun_message_append_flag(&m, STUN_ATTRIBUTE_USE_CANDIDATE);
    if (s->role > 0) stun_message_append64(&m, STUN_ATTRIBUTE_ICE_CONTROLLING, 0x1122334455667788ull);
    if (s->role < 0) stun_message_append64(&m, STUN_ATTRIBUTE_ICE_CONTROLLED, 0x1122334455667788ull);
    if (s->extra_attr) stun_message_append32(&m, (StunAttribute)s->extra_attr, 42);
    size_t n = stun_agent_finish_message(agent, &m, (const uint8_t *)s->pwd,
                                         s->pwd ? strlen(s->pwd) : 0);
    assert_true(n > 0);
    return n;
}

static socklen_t sockAddr(struct sockaddr_storage *ss, const char *ip, uint16_t port) {
    memset(ss, 0, sizeof *ss);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
    return sizeof *s4;
}

/* Frames a reply we wrote, without authenticating it. */
static void frameReply(const uint8_t *buf, size_t len, StunMessage *m) {
    assert_true(len >= 20);
    assert_int_equal(stun_message_validate_buffer_length(buf, len, true), (int)len);
    memset(m, 0, sizeof *m);
    m->buffer = (uint8_t *)buf;
    m->buffer_len = len;
}

static int replyError(const uint8_t *buf, size_t len) {
    StunMessage m;
    int code = 0;
    frameReply(buf, len, &m);
    assert_int_equal(stun_message_get_class(&m), STUN_ERROR);
    assert_int_equal(stun_message_find_error(&m, &code), STUN_MESSAGE_RETURN_SUCCESS);
    return code;
}

static bool replyHasIntegrity(const uint8_t *buf, size_t len) {
    StunMessage m;
    frameReply(buf, len, &m);
    return stun_message_has_attribute(&m, STUN_ATTRIBUTE_MESSAGE_INTEGRITY);
}

static void testIsStun(void **state) {
    (void)state;
    uint8_t pkt[RFC_REQ_LEN];
    memcpy(pkt, rfcReq, sizeof pkt);
    assert_true(tbStunIsStun(pkt, sizeof pkt));
    assert_false(tbStunIsStun(pkt, 19));
    pkt[0] = 0x80; /* RTP/RTCP range (RFC 7983: 128..191) */
    assert_false(tbStunIsStun(pkt, sizeof pkt));
    pkt[0] = 0x16; /* DTLS handshake (20..63) */
    assert_false(tbStunIsStun(pkt, sizeof pkt));
    pkt[0] = 0x00;
    pkt[5] ^= 1; /* wrong magic cookie */
    assert_false(tbStunIsStun(pkt, sizeof pkt));
}

static void testPeekUsername(void **state) {
    (void)state;
    char u[64];
    assert_int_equal(tbStunPeekUsername(rfcReq, RFC_REQ_LEN, u, sizeof u), 9);
    assert_string_equal(u, "evtj:h6vY");
    assert_int_equal(tbStunPeekLocalUfrag(rfcReq, RFC_REQ_LEN, u, sizeof u), 4);
    assert_string_equal(u, "evtj");
    assert_int_equal(tbStunPeekUsername(rfcReq, RFC_REQ_LEN, u, 9), -1); /* no room for NUL */
    assert_int_equal(tbStunPeekUsername(rfcReq, RFC_REQ_LEN - 4, u, sizeof u), -1);
    static const uint8_t garbage[40] = {0x90, 0x60, 1, 2, 3, 4, 5};
    assert_int_equal(tbStunPeekUsername(garbage, sizeof garbage, u, sizeof u), -1);
}

/* §2.1 through our validation: OK, with the attributes it carries. */
static void testRfc5769Request(void **state) {
    fixture *f = *state;
    tbStunCreds creds = {"evtj", rfcPwd, NULL};
    tbStunCheck c;
    assert_int_equal(tbStunValidateRequest(f->ctx, rfcReq, RFC_REQ_LEN, &creds, &c), TB_STUN_OK);
    assert_int_equal(c.username_len, 9);
    assert_memory_equal(c.username, "evtj:h6vY", 9);
    assert_int_equal(c.priority, 0x6e0001ff);
    assert_true(c.controlled);
    assert_false(c.controlling);
    assert_false(c.use_candidate);
    assert_true(c.tiebreaker == 0x932ff9b151263b36ull);
    assert_memory_equal(c.txid, rfcTxid, 12);
    creds.remote_ufrag = "h6vY";
    assert_int_equal(tbStunValidateRequest(f->ctx, rfcReq, RFC_REQ_LEN, &creds, NULL), TB_STUN_OK);
    creds.remote_ufrag = "h6vZ";
    assert_int_equal(tbStunValidateRequest(f->ctx, rfcReq, RFC_REQ_LEN, &creds, NULL),
                     TB_STUN_UNKNOWN_USER);
}

/* Rewrites the FINGERPRINT of a 108-byte RFC request after tampering. */
static void refingerprint(uint8_t *pkt) {
    uint32_t crc = (uint32_t)crc32(0L, pkt, RFC_REQ_LEN - 8) ^ 0x5354554eu;
    pkt[RFC_REQ_LEN - 4] = (uint8_t)(crc >> 24);
    pkt[RFC_REQ_LEN - 3] = (uint8_t)(crc >> 16);
    pkt[RFC_REQ_LEN - 2] = (uint8_t)(crc >> 8);
    pkt[RFC_REQ_LEN - 1] = (uint8_t)crc;
}

static void testRfc5769Tampered(void **state) {
    fixture *f = *state;
    tbStunCreds creds = {"evtj", rfcPwd, NULL};
    uint8_t pkt[RFC_REQ_LEN];
    memcpy(pkt, rfcReq, sizeof pkt);
    refingerprint(pkt); /* recomputing an intact message changes nothing */
    assert_memory_equal(pkt, rfcReq, RFC_REQ_LEN);
    pkt[45] ^= 0x01; /* a byte of the PRIORITY value */
    assert_int_equal(tbStunValidateRequest(f->ctx, pkt, sizeof pkt, &creds, NULL),
                     TB_STUN_BAD_REQUEST); /* FINGERPRINT catches it first */
    refingerprint(pkt);
    assert_int_equal(tbStunValidateRequest(f->ctx, pkt, sizeof pkt, &creds, NULL),
                     TB_STUN_UNAUTHORIZED); /* then MESSAGE-INTEGRITY */
    creds.local_pwd = "VOkJxbRl1RmTxUk/WvJxBr";
    assert_int_equal(tbStunValidateRequest(f->ctx, rfcReq, RFC_REQ_LEN, &creds, NULL),
                     TB_STUN_UNAUTHORIZED);
    creds.local_pwd = rfcPwd;
    creds.local_ufrag = "evt";
    assert_int_equal(tbStunValidateRequest(f->ctx, rfcReq, RFC_REQ_LEN, &creds, NULL),
                     TB_STUN_UNKNOWN_USER);
}

/* §2.1 carries ICE-CONTROLLED: a lite (controlled) agent answers 487,
 * signed with the password since the request was authenticated. */
static void testRfc5769RoleConflict(void **state) {
    fixture *f = *state;
    tbStunCreds creds = {"evtj", rfcPwd, NULL};
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 32853);
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    assert_int_equal(tbStunBindingResponse(f->ctx, rfcReq, RFC_REQ_LEN, &creds,
                                           (struct sockaddr *)&ss, sl, 0, out, sizeof out, &n,
                                           NULL),
                     TB_STUN_ROLE_CONFLICT);
    assert_int_equal(replyError(out, n), 487);
    assert_true(replyHasIntegrity(out, n));
    assert_memory_equal(out + 8, rfcTxid, 12);
}

/* Sends a check built from spec from ip:port, returns our status. */
static tbStunStatus exchange(fixture *f, const checkSpec *spec, const char *ip, uint16_t port,
                             uint8_t *out, size_t *n, tbStunCheck *c) {
    uint8_t req[512];
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, ip, port);
    size_t rl = buildCheck(&f->cli, spec, req, sizeof req);
    return tbStunBindingResponse(f->ctx, req, rl, &srvCreds, (struct sockaddr *)&ss, sl, 0, out,
                                 TB_STUN_RESPONSE_MAX, n, c);
}

/* The client side (libnice) accepts our success response and decodes the
 * mapped address; the XOR-MAPPED-ADDRESS bytes match RFC 5769. */
static void checkSuccess(fixture *f, const uint8_t *out, size_t n, const char *ip, uint16_t port,
                         const uint8_t *rfcXor, size_t rfcXorLen) {
    StunMessage resp;
    struct sockaddr_storage got, want;
    socklen_t gl = sizeof got, wl = sockAddr(&want, ip, port);
    assert_int_equal(stun_agent_validate(&f->cli, &resp, out, n, NULL, NULL),
                     STUN_VALIDATION_SUCCESS); /* MESSAGE-INTEGRITY and FINGERPRINT */
    assert_int_equal(stun_message_get_class(&resp), STUN_RESPONSE);
    assert_true(stun_message_has_attribute(&resp, STUN_ATTRIBUTE_MESSAGE_INTEGRITY));
    assert_true(stun_message_has_attribute(&resp, STUN_ATTRIBUTE_FINGERPRINT));
    assert_int_equal(stun_usage_ice_conncheck_process(&resp, &got, &gl,
                                                      STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
                     STUN_USAGE_ICE_RETURN_SUCCESS);
    assert_int_equal(gl, wl);
    assert_int_equal(got.ss_family, want.ss_family);
    if (want.ss_family == AF_INET) {
        struct sockaddr_in *a = (void *)&got, *b = (void *)&want;
        assert_int_equal(a->sin_port, b->sin_port);
        assert_memory_equal(&a->sin_addr, &b->sin_addr, 4);
    } else {
        struct sockaddr_in6 *a = (void *)&got, *b = (void *)&want;
        assert_int_equal(a->sin6_port, b->sin6_port);
        assert_memory_equal(&a->sin6_addr, &b->sin6_addr, 16);
    }
    if (rfcXor) {
        uint16_t alen = 0;
        const uint8_t *x = stun_message_find(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &alen);
        assert_non_null(x);
        assert_int_equal(alen, rfcXorLen);
        assert_memory_equal(x, rfcXor, rfcXorLen);
    }
}

static void testResponseIpv4(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, false, 1, 0x6e0001ff, rfcTxid, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    tbStunCheck c;
    assert_int_equal(exchange(f, &s, "192.0.2.1", 32853, out, &n, &c), TB_STUN_OK);
    assert_int_equal(n, 20 + 12 + 24 + 8); /* XOR-MAPPED-ADDRESS, M-I, FINGERPRINT */
    assert_memory_equal(out + 8, rfcTxid, 12);
    checkSuccess(f, out, n, "192.0.2.1", 32853, rfcXorV4, sizeof rfcXorV4);
    assert_true(c.controlling);
    assert_false(c.use_candidate);
}

static void testResponseIpv6(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, false, 1, 0x6e0001ff, rfcTxid, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    const char *ip = "2001:db8:1234:5678:11:2233:4455:6677";
    assert_int_equal(exchange(f, &s, ip, 32853, out, &n, NULL), TB_STUN_OK);
    assert_int_equal(n, 20 + 24 + 24 + 8);
    checkSuccess(f, out, n, ip, 32853, rfcXorV6, sizeof rfcXorV6);
}

/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d: answer IPv4. */
static void testV4MappedSource(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, true, 1, 1000, rfcTxid, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    assert_int_equal(exchange(f, &s, "::ffff:192.0.2.1", 32853, out, &n, NULL), TB_STUN_OK);
    checkSuccess(f, out, n, "192.0.2.1", 32853, rfcXorV4, sizeof rfcXorV4);
}

static void testUseCandidate(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, true, 1, 1853817087u, NULL, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    tbStunCheck c;
    assert_int_equal(exchange(f, &s, "198.51.100.7", 50000, out, &n, &c), TB_STUN_OK);
    assert_true(c.use_candidate);
    assert_true(c.controlling);
    assert_false(c.controlled);
    assert_int_equal(c.priority, 1853817087u);
    assert_true(c.tiebreaker == 0x1122334455667788ull);
    assert_int_equal(c.username_len, strlen(SRV_UFRAG ":" CLI_UFRAG));
    checkSuccess(f, out, n, "198.51.100.7", 50000, NULL, 0);
}

static void testWrongPassword(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, "wrongpassword0123456789x", true, 1, 1, NULL, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_UNAUTHORIZED);
    assert_int_equal(replyError(out, n), 401);
    assert_false(replyHasIntegrity(out, n)); /* we do not know their key */
}

static void testWrongUfrag(void **state) {
    fixture *f = *state;
    checkSpec s = {"Other:" CLI_UFRAG, SRV_PWD, true, 1, 1, NULL, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_UNKNOWN_USER);
    assert_int_equal(replyError(out, n), 401);
    s.username = SRV_UFRAG; /* no ':' */
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_UNKNOWN_USER);
    s.username = SRV_UFRAG "x:" CLI_UFRAG; /* prefix of a longer ufrag */
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_UNKNOWN_USER);
    /* No transport matched the ufrag: creds NULL. */
    uint8_t req[256];
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 1234);
    s.username = SRV_UFRAG ":" CLI_UFRAG;
    size_t rl = buildCheck(&f->cli, &s, req, sizeof req);
    assert_int_equal(tbStunBindingResponse(f->ctx, req, rl, NULL, (struct sockaddr *)&ss, sl,
                                           TB_STUN_ALLOW_PLAIN, out, sizeof out, &n, NULL),
                     TB_STUN_UNKNOWN_USER);
    assert_int_equal(replyError(out, n), 401);
}

/* Once the remote ufrag is known, the part after ':' must match it. */
static void testRemoteUfragEnforced(void **state) {
    fixture *f = *state;
    uint8_t req[256], out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 1234);
    tbStunCreds creds = {SRV_UFRAG, SRV_PWD, "cli2"};
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, true, 1, 1, NULL, 0};
    size_t rl = buildCheck(&f->cli, &s, req, sizeof req);
    assert_int_equal(tbStunBindingResponse(f->ctx, req, rl, &creds, (struct sockaddr *)&ss, sl, 0,
                                           out, sizeof out, &n, NULL),
                     TB_STUN_UNKNOWN_USER);
    creds.remote_ufrag = CLI_UFRAG;
    assert_int_equal(tbStunBindingResponse(f->ctx, req, rl, &creds, (struct sockaddr *)&ss, sl, 0,
                                           out, sizeof out, &n, NULL),
                     TB_STUN_OK);
}

static void testGarbage(void **state) {
    fixture *f = *state;
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 99;
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 1234);
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 37 + 0x80);
    assert_int_equal(tbStunBindingResponse(f->ctx, junk, sizeof junk, &srvCreds,
                                           (struct sockaddr *)&ss, sl, 0, out, sizeof out, &n,
                                           NULL),
                     TB_STUN_NOT_STUN);
    assert_int_equal(n, 0);
    assert_int_equal(tbStunBindingResponse(f->ctx, junk, 0, &srvCreds, (struct sockaddr *)&ss, sl,
                                           0, out, sizeof out, &n, NULL),
                     TB_STUN_NOT_STUN);
    /* Header-valid but attributes overrunning the stated length. */
    uint8_t bad[28] = {0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42};
    bad[20] = 0x00, bad[21] = 0x06, bad[22] = 0x00, bad[23] = 0x40; /* USERNAME of 64 bytes */
    assert_int_equal(tbStunBindingResponse(f->ctx, bad, sizeof bad, &srvCreds,
                                           (struct sockaddr *)&ss, sl, 0, out, sizeof out, &n,
                                           NULL),
                     TB_STUN_BAD_REQUEST);
    assert_int_equal(n, 0);
}

static void testTruncated(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, true, 1, 1, NULL, 0};
    uint8_t req[256], out[TB_STUN_RESPONSE_MAX];
    size_t n = 99;
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 1234);
    size_t rl = buildCheck(&f->cli, &s, req, sizeof req);
    for (size_t cut = 20; cut < rl; cut += 4) {
        assert_int_equal(tbStunBindingResponse(f->ctx, req, cut, &srvCreds,
                                               (struct sockaddr *)&ss, sl, 0, out, sizeof out, &n,
                                               NULL),
                         TB_STUN_BAD_REQUEST);
        assert_int_equal(n, 0);
    }
    /* A trailing byte (not a STUN length) is malformed too. */
    req[rl] = 0;
    assert_int_equal(tbStunBindingResponse(f->ctx, req, rl + 1, &srvCreds, (struct sockaddr *)&ss,
                                           sl, 0, out, sizeof out, &n, NULL),
                     TB_STUN_BAD_REQUEST);
}

/* USERNAME without MESSAGE-INTEGRITY: 400 (RFC 5389 §10.1.2). */
static void testMissingIntegrity(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, NULL, true, 1, 1, NULL, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_BAD_REQUEST);
    assert_int_equal(replyError(out, n), 400);
}

static void testUnknownAttribute(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, true, 1, 1, NULL, 0x0026};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_UNKNOWN_ATTRIBUTE);
    assert_int_equal(replyError(out, n), 420);
    StunMessage m;
    uint16_t alen = 0;
    frameReply(out, n, &m);
    const uint8_t *u = stun_message_find(&m, STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, &alen);
    assert_non_null(u);
    assert_int_equal(alen, 2);
    assert_int_equal(u[0] << 8 | u[1], 0x0026);
    /* An unknown comprehension-optional attribute (>= 0x8000, like Chromium's
     * GOOG-NETWORK-INFO 0xC057) is fine. */
    s.extra_attr = 0xC057;
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_OK);
}

/* A check with ICE-CONTROLLED (full agent that thinks it is controlled):
 * 487, signed; libnice's client side reads it as a role conflict. */
static void testRoleConflict(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, false, -1, 1, NULL, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    tbStunCheck c;
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, &c), TB_STUN_ROLE_CONFLICT);
    assert_true(c.controlled);
    StunMessage resp;
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    assert_int_equal(stun_agent_validate(&f->cli, &resp, out, n, NULL, NULL),
                     STUN_VALIDATION_SUCCESS);
    assert_int_equal(stun_usage_ice_conncheck_process(&resp, &a, &al,
                                                      STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
                     STUN_USAGE_ICE_RETURN_ROLE_CONFLICT);
}

/* Binding indications (keepalives) are accepted silently. */
static void testIndication(void **state) {
    fixture *f = *state;
    uint8_t ind[64], out[TB_STUN_RESPONSE_MAX];
    StunMessage m;
    size_t n = 99;
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 1234);
    assert_true(stun_agent_init_indication(&f->cli, &m, ind, sizeof ind, STUN_BINDING));
    size_t il = stun_agent_finish_message(&f->cli, &m, NULL, 0);
    assert_true(il > 0);
    assert_int_equal(tbStunBindingResponse(f->ctx, ind, il, &srvCreds, (struct sockaddr *)&ss, sl,
                                           0, out, sizeof out, &n, NULL),
                     TB_STUN_INDICATION);
    assert_int_equal(n, 0);
}

/* A response arriving at a lite agent (which sends no requests) is dropped;
 * so is a non-Binding request, with a 400. */
static void testResponsesAndMethods(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, false, 1, 1, NULL, 0};
    uint8_t out[TB_STUN_RESPONSE_MAX], out2[TB_STUN_RESPONSE_MAX];
    size_t n = 0, n2 = 99;
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 1234);
    assert_int_equal(exchange(f, &s, "192.0.2.1", 1234, out, &n, NULL), TB_STUN_OK);
    assert_int_equal(tbStunBindingResponse(f->ctx, out, n, &srvCreds, (struct sockaddr *)&ss, sl,
                                           0, out2, sizeof out2, &n2, NULL),
                     TB_STUN_IGNORED);
    assert_int_equal(n2, 0);
    /* TURN Allocate on the media port. */
    uint8_t alloc[64];
    StunMessage m;
    assert_true(stun_agent_init_request(&f->cli, &m, alloc, sizeof alloc, STUN_ALLOCATE));
    size_t al = stun_agent_finish_message(&f->cli, &m, NULL, 0);
    assert_int_equal(tbStunBindingResponse(f->ctx, alloc, al, &srvCreds, (struct sockaddr *)&ss,
                                           sl, 0, out2, sizeof out2, &n2, NULL),
                     TB_STUN_BAD_REQUEST);
    assert_int_equal(replyError(out2, n2), 400);
}

/* Requests with neither USERNAME nor MESSAGE-INTEGRITY: answered (without
 * integrity) only with TB_STUN_ALLOW_PLAIN; even without FINGERPRINT. */
static void testPlainBinding(void **state) {
    fixture *f = *state;
    uint8_t out[TB_STUN_RESPONSE_MAX];
    size_t n = 0;
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "203.0.113.9", 40000);
    uint8_t bare[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6,
                        7, 8, 9, 10, 11, 12};
    assert_int_equal(tbStunBindingResponse(f->ctx, bare, sizeof bare, &srvCreds,
                                           (struct sockaddr *)&ss, sl, 0, out, sizeof out, &n,
                                           NULL),
                     TB_STUN_BAD_REQUEST);
    assert_int_equal(replyError(out, n), 400);
    assert_int_equal(tbStunBindingResponse(f->ctx, bare, sizeof bare, &srvCreds,
                                           (struct sockaddr *)&ss, sl, TB_STUN_ALLOW_PLAIN, out,
                                           sizeof out, &n, NULL),
                     TB_STUN_PLAIN_BINDING);
    StunMessage m;
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    frameReply(out, n, &m);
    assert_int_equal(stun_message_get_class(&m), STUN_RESPONSE);
    assert_memory_equal(out + 8, bare + 8, 12);
    assert_false(stun_message_has_attribute(&m, STUN_ATTRIBUTE_MESSAGE_INTEGRITY));
    assert_int_equal(stun_message_find_xor_addr(&m, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &got, &gl),
                     STUN_MESSAGE_RETURN_SUCCESS);
    assert_int_equal(((struct sockaddr_in *)&got)->sin_port, htons(40000));
    assert_int_equal(((struct sockaddr_in *)&got)->sin_addr.s_addr, inet_addr("203.0.113.9"));
    /* Also with no transport at all (no USERNAME to look one up by). */
    assert_int_equal(tbStunBindingResponse(f->ctx, bare, sizeof bare, NULL, (struct sockaddr *)&ss,
                                           sl, TB_STUN_ALLOW_PLAIN, out, sizeof out, &n, NULL),
                     TB_STUN_PLAIN_BINDING);
}

static void testNoSpace(void **state) {
    fixture *f = *state;
    checkSpec s = {SRV_UFRAG ":" CLI_UFRAG, SRV_PWD, true, 1, 1, NULL, 0};
    uint8_t req[256], out[TB_STUN_RESPONSE_MAX];
    size_t n = 99;
    struct sockaddr_storage ss;
    socklen_t sl = sockAddr(&ss, "192.0.2.1", 1234);
    size_t rl = buildCheck(&f->cli, &s, req, sizeof req);
    assert_int_equal(tbStunBindingResponse(f->ctx, req, rl, &srvCreds, (struct sockaddr *)&ss, sl,
                                           0, out, 40, &n, NULL),
                     TB_STUN_NO_SPACE);
    assert_int_equal(n, 0);
    assert_string_equal(tbStunStatusName(TB_STUN_NO_SPACE), "no_space");
    assert_string_equal(tbStunStatusName(TB_STUN_OK), "ok");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testIsStun),
        cmocka_unit_test(testPeekUsername),
        cmocka_unit_test_setup_teardown(testRfc5769Request, setup, teardown),
        cmocka_unit_test_setup_teardown(testRfc5769Tampered, setup, teardown),
        cmocka_unit_test_setup_teardown(testRfc5769RoleConflict, setup, teardown),
        cmocka_unit_test_setup_teardown(testResponseIpv4, setup, teardown),
        cmocka_unit_test_setup_teardown(testResponseIpv6, setup, teardown),
        cmocka_unit_test_setup_teardown(testV4MappedSource, setup, teardown),
        cmocka_unit_test_setup_teardown(testUseCandidate, setup, teardown),
        cmocka_unit_test_setup_teardown(testWrongPassword, setup, teardown),
        cmocka_unit_test_setup_teardown(testWrongUfrag, setup, teardown),
        cmocka_unit_test_setup_teardown(testRemoteUfragEnforced, setup, teardown),
        cmocka_unit_test_setup_teardown(testGarbage, setup, teardown),
        cmocka_unit_test_setup_teardown(testTruncated, setup, teardown),
        cmocka_unit_test_setup_teardown(testMissingIntegrity, setup, teardown),
        cmocka_unit_test_setup_teardown(testUnknownAttribute, setup, teardown),
        cmocka_unit_test_setup_teardown(testRoleConflict, setup, teardown),
        cmocka_unit_test_setup_teardown(testIndication, setup, teardown),
        cmocka_unit_test_setup_teardown(testResponsesAndMethods, setup, teardown),
        cmocka_unit_test_setup_teardown(testPlainBinding, setup, teardown),
        cmocka_unit_test_setup_teardown(testNoSpace, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
