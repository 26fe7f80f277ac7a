/* test_turn_auth.c — the TURN credential lookup (turn_auth.c): static users,
 * TURN REST names with expiry (Allocate only), rotated secrets tried in
 * order, the secret derived from the API secret, the TTL clamp; and the RFC
 * 5769 §2.4 long-term-credential sample request validated by libnice's
 * StunAgent with the password our lookup returns (the key is MD5 of
 * user:realm:password, as the core uses it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stun/stunagent.h>

#include "auth/turn_rest.h"
#include "config/config.h"
#include "turn/turn_auth.h"

#define NOW 1800000000

typedef struct fx {
    tbConfig cfg;
    tbTurnAuth auth;
    char pw[256];
} fx;

static int setup(void **state) {
    fx *f = test_calloc(1, sizeof *f);
    tbConfigInitDefaults(&f->cfg);
    tbKeyListSet(&f->cfg.keys, "APIkey", "api-secret-0123456789-abcdefghijkl");
    tbKeyListSet(&f->cfg.turn.users, "admin", "adminpw");
    tbKeyListSet(&f->cfg.turn.users, "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                                     "\xe3\x82\xb9",
                 "TheMatrIX");
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    tbConfigFree(&f->cfg);
    test_free(f);
    return 0;
}

static int look(fx *f, const char *user, unsigned index, bool allocate) {
    f->pw[0] = '\0';
    return tbTurnAuthLookup(&f->auth, user, index, allocate, NOW, f->pw, sizeof f->pw);
}

static void restPassword(const char *secret, const char *user, char *out, size_t cap) {
    assert_int_equal(tbTurnRestPassword(secret, user, out, cap), 0);
}

static void testStaticUsers(void **state) {
    fx *f = *state;
    assert_int_equal(tbTurnAuthInit(&f->auth, &f->cfg), 0);
    assert_int_equal(look(f, "admin", 0, true), 0);
    assert_string_equal(f->pw, "adminpw");
    assert_int_equal(look(f, "admin", 1, true), -1); /* one candidate only */
    assert_int_equal(look(f, "nobody", 0, true), -1);
    assert_int_equal(look(f, "", 0, true), -1);
}

/* With no turn.secrets the secret is hex(HMAC-SHA256(first API secret,
 * "tribune-turn")), and it is the one credentials are handed out with. */
static void testDerivedSecret(void **state) {
    fx *f = *state;
    uint8_t mac[32];
    unsigned n = 0;
    char want[65], pw[64];
    const char *api = "api-secret-0123456789-abcdefghijkl";
    HMAC(EVP_sha256(), api, (int)strlen(api), (const uint8_t *)"tribune-turn", 12, mac, &n);
    for (unsigned i = 0; i < n; i++) snprintf(want + 2 * i, 3, "%02x", mac[i]);
    assert_int_equal(tbTurnAuthInit(&f->auth, &f->cfg), 0);
    assert_string_equal(tbTurnAuthSecret(&f->auth), want);
    char user[64];
    snprintf(user, sizeof user, "%d:alice", NOW + 60);
    restPassword(want, user, pw, sizeof pw);
    assert_int_equal(look(f, user, 0, true), 0);
    assert_string_equal(f->pw, pw);
    assert_int_equal(look(f, user, 1, true), -1);
}

/* Every configured secret is a candidate, in order; the first one signs. */
static void testRotatedSecrets(void **state) {
    fx *f = *state;
    char pw[64];
    tbStrListAppend(&f->cfg.turn.secrets, "new-secret-0123456789abcdef");
    tbStrListAppend(&f->cfg.turn.secrets, "old-secret-0123456789abcdef");
    assert_int_equal(tbTurnAuthInit(&f->auth, &f->cfg), 0);
    assert_string_equal(tbTurnAuthSecret(&f->auth), "new-secret-0123456789abcdef");
    const char *user = "1800000600:bob";
    assert_int_equal(look(f, user, 0, true), 0);
    restPassword("new-secret-0123456789abcdef", user, pw, sizeof pw);
    assert_string_equal(f->pw, pw);
    assert_int_equal(look(f, user, 1, true), 0);
    restPassword("old-secret-0123456789abcdef", user, pw, sizeof pw);
    assert_string_equal(f->pw, pw);
    assert_int_equal(look(f, user, 2, true), -1);
}

/* Expired names are refused for Allocate only; not-REST names never match
 * a secret; coturn's bare "<expiry>" form is accepted. */
static void testExpiry(void **state) {
    fx *f = *state;
    assert_int_equal(tbTurnAuthInit(&f->auth, &f->cfg), 0);
    assert_int_equal(look(f, "1799999999:carol", 0, true), -1);
    assert_int_equal(look(f, "1799999999:carol", 0, false), 0); /* Refresh keeps going */
    assert_int_equal(look(f, "1800000000:carol", 0, true), -1); /* expiry == now */
    assert_int_equal(look(f, "1800000001", 0, true), 0);
    assert_int_equal(look(f, "carol", 0, true), -1);
    assert_int_equal(look(f, ":carol", 0, true), -1);
    assert_int_equal(look(f, "12x:carol", 0, true), -1);
    assert_int_equal(look(f, "99999999999999999999999:carol", 0, false), -1); /* overflow */
}

static void testTtlClamp(void **state) {
    fx *f = *state;
    f->cfg.turn.ttl_seconds = 0;
    assert_int_equal(tbTurnCredentialTtl(&f->cfg.turn), 300);
    f->cfg.turn.ttl_seconds = -5;
    assert_int_equal(tbTurnCredentialTtl(&f->cfg.turn), 300);
    f->cfg.turn.ttl_seconds = 60;
    assert_int_equal(tbTurnCredentialTtl(&f->cfg.turn), 300);
    f->cfg.turn.ttl_seconds = 7200;
    assert_int_equal(tbTurnCredentialTtl(&f->cfg.turn), 7200);
    f->cfg.turn.ttl_seconds = 1000000;
    assert_int_equal(tbTurnCredentialTtl(&f->cfg.turn), 86400);
}

/* RFC 5769 §2.4: Binding request, USERNAME "マトリックス", NONCE, REALM
 * "example.org", MESSAGE-INTEGRITY with the long-term key of "TheMatrIX". */
static const uint8_t rfcLtc[] = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
    0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
    0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
    0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
    0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
    0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
    0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
    0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66};

static bool validater(StunAgent *agent, StunMessage *m, uint8_t *user, uint16_t ulen,
                      uint8_t **pw, size_t *pwlen, void *ud) {
    fx *f = ud;
    char name[64];
    (void)agent;
    (void)m;
    if (ulen >= sizeof name) return false;
    memcpy(name, user, ulen);
    name[ulen] = '\0';
    if (look(f, name, 0, true) != 0) return false;
    *pw = (uint8_t *)f->pw;
    *pwlen = strlen(f->pw);
    return true;
}

static StunValidationStatus validate(fx *f, const uint8_t *buf, size_t len) {
    static const uint16_t known[] = {STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_NONCE,
                                     STUN_ATTRIBUTE_REALM, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, 0};
    StunAgent agent;
    StunMessage m;
    stun_agent_init(&agent, known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS);
    return stun_agent_validate(&agent, &m, buf, len, validater, f);
}

static void testRfc5769LongTerm(void **state) {
    fx *f = *state;
    uint8_t bad[sizeof rfcLtc];
    assert_int_equal(tbTurnAuthInit(&f->auth, &f->cfg), 0);
    assert_int_equal(validate(f, rfcLtc, sizeof rfcLtc), STUN_VALIDATION_SUCCESS);
    memcpy(bad, rfcLtc, sizeof bad);
    bad[sizeof bad - 1] ^= 1; /* the HMAC */
    assert_int_not_equal(validate(f, bad, sizeof bad), STUN_VALIDATION_SUCCESS);
    memcpy(bad, rfcLtc, sizeof bad);
    bad[90] ^= 1;             /* "example.org" → another realm: another key */
    assert_int_not_equal(validate(f, bad, sizeof bad), STUN_VALIDATION_SUCCESS);
    tbKeyListSet(&f->cfg.turn.users, "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82"
                                     "\xaf\xe3\x82\xb9",
                 "TheMatrix"); /* wrong password */
    assert_int_not_equal(validate(f, rfcLtc, sizeof rfcLtc), STUN_VALIDATION_SUCCESS);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(testStaticUsers), T(testDerivedSecret), T(testRotatedSecrets), T(testExpiry),
        T(testTtlClamp), T(testRfc5769LongTerm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
