/* test_token.c — unit tests for src/auth/token.c: sign/verify round trips,
 * LiveKit's verification rules (HS256 only, iss lookup, exp required, 60 s
 * leeway, claim types, room name limit), grant defaults, and a token minted
 * by livekit-server-sdk 2.19.2. Hostile tokens are built here by hand with
 * OpenSSL so the tests do not depend on the signer under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/base64url.h"
#include "auth/token.h"

#define NOW INT64_C(1700000000)
#define KEY "APIkey123"
#define SECRET "secret-of-at-least-32-chars-long-xyz"

/* ---- helpers ------------------------------------------------------------ */

typedef struct testKeys {
    const char *key;
    const char *secret;
} testKeys;

static const char *lookupKey(void *ctx, const char *api_key) {
    for (const testKeys *k = ctx; k->key != NULL; k++) {
        if (strcmp(k->key, api_key) == 0)
            return k->secret;
    }
    return NULL;
}

static const testKeys keyTable[] = {{KEY, SECRET}, {"otherkey", "other-secret"}, {NULL, NULL}};
#define keys ((void *)keyTable)

static char *enc(const char *s) {
    return tbBase64UrlEncode((const uint8_t *)s, strlen(s));
}

/* base64url(header).base64url(payload).base64url(HMAC-md(secret)). */
static char *makeToken(const char *header, const char *payload, const EVP_MD *md,
                       const char *secret) {
    char *h = enc(header), *p = enc(payload);
    size_t len = strlen(h) + strlen(p) + 1;
    char *out = malloc(len + 200);
    assert_non_null(out);
    snprintf(out, len + 1, "%s.%s", h, p);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    assert_non_null(HMAC(md, secret, (int)strlen(secret), (uint8_t *)out, len, mac, &maclen));
    char *s = tbBase64UrlEncode(mac, maclen);
    snprintf(out + len, 200, ".%s", s);
    free(h);
    free(p);
    free(s);
    return out;
}

static char *makeHs256(const char *payload) {
    return makeToken("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET);
}

/* Verifies at NOW; checks the status and that `why` is filled on failure. */
static tbTokenStatus verifyAt(const char *token, int64_t now, tbClaims *out) {
    char why[256];
    memset(why, 'x', sizeof why);
    tbTokenStatus st = tbTokenVerify(token, lookupKey, keys, now, out, why, sizeof why);
    if (st == TB_TOKEN_OK) {
        assert_string_equal(why, "");
    } else {
        assert_non_null(strstr(why, "invalid token: "));
        assert_true(strlen(why) < sizeof why);
    }
    return st;
}

static void expectStatus(const char *token, tbTokenStatus want) {
    tbClaims c;
    tbTokenStatus st = verifyAt(token, NOW, &c);
    if (st != want)
        print_error("token %s: got %s, want %s\n", token, tbTokenStatusName(st),
                    tbTokenStatusName(want));
    assert_int_equal(st, want);
    tbClaimsFree(&c);
}

static void expectPayload(const char *payload, tbTokenStatus want) {
    char *t = makeHs256(payload);
    expectStatus(t, want);
    free(t);
}

/* Claims valid at NOW that tests modify. */
static void baseClaims(tbClaims *c) {
    tbClaimsInit(c);
    c->api_key = strdup(KEY);
    c->identity = strdup("alice");
    c->nbf = NOW - 10;
    c->exp = NOW + 3600;
    c->video.room_join = true;
    c->video.room = strdup("study-42");
}

static char *signClaims(tbClaims *c) {
    char *t = tbTokenSign(c, SECRET);
    assert_non_null(t);
    if (t == NULL)
        abort(); /* tells the compiler what assert_non_null guarantees */
    return t;
}

/* Decodes part `idx` (0 = header, 1 = payload) of a token as JSON. */
static json_t *tokenPart(const char *token, int idx) {
    const char *s = token;
    for (int i = 0; i < idx; i++)
        s = strchr(s, '.') + 1;
    size_t n = 0;
    uint8_t *raw = tbBase64UrlDecode(s, strcspn(s, "."), &n);
    assert_non_null(raw);
    json_t *j = json_loadb((const char *)raw, n, 0, NULL);
    free(raw);
    assert_non_null(j);
    return j;
}

/* ---- sign and verify ------------------------------------------------------ */

static void testRoundTripAllClaims(void **state) {
    (void)state;
    tbClaims in, out;
    baseClaims(&in);
    in.name = strdup("Alice Ä");
    in.metadata = strdup("{\"role\":\"host\"}");
    in.kind = strdup("agent");
    in.sha256 = strdup("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=");
    in.attributes = json_pack("{s:s,s:s}", "team", "blue", "seat", "7");
    in.iat = NOW - 10;
    in.video.room_create = in.video.room_list = in.video.room_record = true;
    in.video.room_admin = in.video.can_update_own_metadata = in.video.hidden = true;
    in.video.recorder = in.video.agent = in.video.ingress_admin = true;
    in.video.can_publish = TB_FALSE;
    in.video.can_subscribe = TB_TRUE;
    in.video.can_publish_data = TB_UNSET;
    in.video.can_publish_sources = json_pack("[s,s]", "microphone", "screen_share_audio");
    char *t = signClaims(&in);

    assert_int_equal(verifyAt(t, NOW, &out), TB_TOKEN_OK);
    assert_string_equal(out.api_key, KEY);
    assert_string_equal(out.identity, "alice");
    assert_string_equal(out.name, "Alice Ä");
    assert_string_equal(out.metadata, in.metadata);
    assert_string_equal(out.kind, "agent");
    assert_string_equal(out.sha256, in.sha256);
    assert_true(json_equal(out.attributes, in.attributes));
    assert_int_equal(out.nbf, in.nbf);
    assert_int_equal(out.exp, in.exp);
    assert_int_equal(out.iat, in.iat);
    const tbVideoGrant *g = &out.video;
    assert_true(g->room_create && g->room_list && g->room_record && g->room_admin);
    assert_true(g->room_join && g->can_update_own_metadata && g->hidden && g->recorder);
    assert_true(g->agent && g->ingress_admin);
    assert_string_equal(g->room, "study-42");
    assert_int_equal(g->can_publish, TB_FALSE);
    assert_int_equal(g->can_subscribe, TB_TRUE);
    assert_int_equal(g->can_publish_data, TB_UNSET);
    assert_true(json_equal(g->can_publish_sources, in.video.can_publish_sources));
    assert_false(tbGrantCanPublishData(g)); /* follows canPublish */
    tbClaimsFree(&out);
    tbClaimsFree(&in);
    free(t);
}

static void testSignFormat(void **state) {
    (void)state;
    tbClaims c;
    baseClaims(&c);
    c.video.can_subscribe = TB_FALSE;
    char *t = signClaims(&c);
    json_t *hdr = tokenPart(t, 0);
    json_t *want = json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT");
    assert_true(json_equal(hdr, want));
    json_t *pl = tokenPart(t, 1);
    /* only claims that are set: false bools, unset tri-states, NULLs omitted */
    json_t *wantPl = json_pack("{s:s,s:s,s:I,s:I,s:{s:b,s:s,s:b}}", "iss", KEY, "sub", "alice",
                               "exp", (json_int_t)(NOW + 3600), "nbf", (json_int_t)(NOW - 10),
                               "video", "roomJoin", 1, "room", "study-42", "canSubscribe", 0);
    if (!json_equal(pl, wantPl)) {
        char *s = json_dumps(pl, 0);
        print_error("payload %s\n", s);
        free(s);
    }
    assert_true(json_equal(pl, wantPl));
    json_decref(hdr);
    json_decref(want);
    json_decref(pl);
    json_decref(wantPl);
    tbClaimsFree(&c);
    free(t);
}

static void testSignOmitsEmptyVideo(void **state) {
    (void)state;
    tbClaims c;
    tbClaimsInit(&c);
    c.api_key = strdup(KEY);
    c.exp = NOW + 600;
    char *t = signClaims(&c);
    json_t *pl = tokenPart(t, 1);
    assert_null(json_object_get(pl, "video"));
    assert_null(json_object_get(pl, "sub"));
    assert_int_equal(json_object_size(pl), 2);
    json_decref(pl);
    /* identity is not required by verify (RoomService tokens have no sub) */
    tbClaims out;
    assert_int_equal(verifyAt(t, NOW, &out), TB_TOKEN_OK);
    assert_null(out.identity);
    assert_null(out.video.room);
    assert_false(out.video.room_join);
    tbClaimsFree(&out);
    tbClaimsFree(&c);
    free(t);
}

static void testSignRefusesBadClaims(void **state) {
    (void)state;
    tbClaims c;
    baseClaims(&c);
    assert_null(tbTokenSign(&c, ""));
    assert_null(tbTokenSign(&c, NULL));
    assert_null(tbTokenSign(NULL, SECRET));
    c.attributes = json_pack("{s:i}", "n", 1);
    assert_null(tbTokenSign(&c, SECRET));
    json_decref(c.attributes);
    c.attributes = NULL;
    c.video.can_publish_sources = json_string("microphone");
    assert_null(tbTokenSign(&c, SECRET));
    json_decref(c.video.can_publish_sources);
    c.video.can_publish_sources = NULL;
    free(c.video.room);
    c.video.room = malloc(TB_MAX_ROOM_NAME + 2);
    memset(c.video.room, 'r', TB_MAX_ROOM_NAME + 1);
    c.video.room[TB_MAX_ROOM_NAME + 1] = '\0';
    assert_null(tbTokenSign(&c, SECRET));
    tbClaimsFree(&c);
}

/* ---- time rules ------------------------------------------------------------ */

static tbTokenStatus verifyTimes(int64_t nbf, int64_t exp) {
    tbClaims c, out;
    baseClaims(&c);
    c.nbf = nbf;
    c.exp = exp;
    char *t = signClaims(&c);
    tbTokenStatus st = verifyAt(t, NOW, &out);
    tbClaimsFree(&out);
    tbClaimsFree(&c);
    free(t);
    return st;
}

static void testExpired(void **state) {
    (void)state;
    assert_int_equal(verifyTimes(NOW - 3600, NOW - 61), TB_TOKEN_EXPIRED);
    assert_int_equal(verifyTimes(NOW - 3600, NOW - 7200), TB_TOKEN_EXPIRED);
    char why[128];
    tbClaims c, out;
    baseClaims(&c);
    c.exp = NOW - 100;
    char *t = signClaims(&c);
    assert_int_equal(tbTokenVerify(t, lookupKey, keys, NOW, &out, why, sizeof why),
                     TB_TOKEN_EXPIRED);
    assert_non_null(strstr(why, "invalid token: token is expired"));
    assert_null(out.identity); /* out is left empty on failure */
    tbClaimsFree(&c);
    free(t);
}

static void testExpWithinLeeway(void **state) {
    (void)state;
    assert_int_equal(verifyTimes(NOW - 3600, NOW - 60), TB_TOKEN_OK);
    assert_int_equal(verifyTimes(NOW - 3600, NOW - 1), TB_TOKEN_OK);
    assert_int_equal(verifyTimes(NOW - 3600, NOW), TB_TOKEN_OK);
}

static void testNbfInFuture(void **state) {
    (void)state;
    assert_int_equal(verifyTimes(NOW + 61, NOW + 3600), TB_TOKEN_NOT_YET_VALID);
    assert_int_equal(verifyTimes(NOW + 3600, NOW + 7200), TB_TOKEN_NOT_YET_VALID);
}

static void testNbfWithinLeeway(void **state) {
    (void)state;
    assert_int_equal(verifyTimes(NOW + 60, NOW + 3600), TB_TOKEN_OK);
    assert_int_equal(verifyTimes(NOW + 1, NOW + 3600), TB_TOKEN_OK);
    assert_int_equal(verifyTimes(0, NOW + 3600), TB_TOKEN_OK); /* nbf absent */
}

static void testNoExpiry(void **state) {
    (void)state;
    assert_int_equal(verifyTimes(NOW - 10, 0), TB_TOKEN_NO_EXPIRY);
    expectPayload("{\"iss\":\"" KEY "\",\"sub\":\"a\",\"exp\":null}", TB_TOKEN_NO_EXPIRY);
}

static void testRealDates(void **state) {
    (void)state;
    expectPayload("{\"iss\":\"" KEY "\",\"exp\":1700000000.75,\"nbf\":1699999999.5}",
                  TB_TOKEN_OK);
    expectPayload("{\"iss\":\"" KEY "\",\"exp\":1699999939.9}", TB_TOKEN_EXPIRED);
    expectPayload("{\"iss\":\"" KEY "\",\"exp\":1.7e9}", TB_TOKEN_OK);
    expectPayload("{\"iss\":\"" KEY "\",\"exp\":1e300}", TB_TOKEN_BAD_CLAIMS);
    tbClaims out;
    char *t = makeHs256("{\"iss\":\"" KEY "\",\"exp\":1700000100.75,\"nbf\":-0.5}");
    assert_int_equal(verifyAt(t, NOW, &out), TB_TOKEN_OK);
    assert_int_equal(out.exp, 1700000100);
    assert_int_equal(out.nbf, -1); /* floored, as golang-jwt truncates to the second */
    tbClaimsFree(&out);
    free(t);
}

/* ---- algorithms and keys ------------------------------------------------- */

#define GOOD_PAYLOAD "{\"iss\":\"" KEY "\",\"sub\":\"mallory\",\"exp\":1700003600," \
                     "\"video\":{\"roomJoin\":true,\"room\":\"r\",\"roomAdmin\":true}}"

static void testAlgNone(void **state) {
    (void)state;
    char *h = enc("{\"alg\":\"none\",\"typ\":\"JWT\"}"), *p = enc(GOOD_PAYLOAD);
    char t[1024];
    snprintf(t, sizeof t, "%s.%s.", h, p);
    expectStatus(t, TB_TOKEN_BAD_ALG);
    free(h);
    h = enc("{\"alg\":\"None\"}");
    snprintf(t, sizeof t, "%s.%s.", h, p);
    expectStatus(t, TB_TOKEN_BAD_ALG);
    free(h);
    free(p);
}

static void testAlgHs512(void **state) {
    (void)state;
    char *t = makeToken("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, EVP_sha512(),
                        SECRET);
    expectStatus(t, TB_TOKEN_BAD_ALG);
    free(t);
    t = makeToken("{\"alg\":\"HS384\"}", GOOD_PAYLOAD, EVP_sha384(), SECRET);
    expectStatus(t, TB_TOKEN_BAD_ALG);
    free(t);
}

static void testAlgRs256(void **state) {
    (void)state;
    /* An RS256 header carrying an HMAC made with the secret (key confusion). */
    char *t = makeToken("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, EVP_sha256(),
                        SECRET);
    expectStatus(t, TB_TOKEN_BAD_ALG);
    free(t);
}

static void testBadHeaders(void **state) {
    (void)state;
    static const char *headers[] = {
        "{\"typ\":\"JWT\"}", "{\"alg\":256}", "{\"alg\":null}", "{\"alg\":\"hs256\"}",
        "{\"alg\":\"HS256 \"}", "[\"HS256\"]", "\"HS256\"", "42", "null",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *t = makeToken(headers[i], GOOD_PAYLOAD, EVP_sha256(), SECRET);
        expectStatus(t, TB_TOKEN_BAD_ALG);
        free(t);
    }
    char *t = makeToken("{alg:HS256}", GOOD_PAYLOAD, EVP_sha256(), SECRET);
    expectStatus(t, TB_TOKEN_MALFORMED);
    free(t);
    /* header {"alg":"HS256"} alone, as livekit-server-sdk writes it */
    t = makeToken("{\"alg\":\"HS256\"}", GOOD_PAYLOAD, EVP_sha256(), SECRET);
    expectStatus(t, TB_TOKEN_OK);
    free(t);
}

static void testWrongSecret(void **state) {
    (void)state;
    char *t = makeToken("{\"alg\":\"HS256\"}", GOOD_PAYLOAD, EVP_sha256(), "not-the-secret");
    expectStatus(t, TB_TOKEN_BAD_SIGNATURE);
    free(t);
    /* signed with otherkey's secret but claiming KEY */
    t = makeToken("{\"alg\":\"HS256\"}", GOOD_PAYLOAD, EVP_sha256(), "other-secret");
    expectStatus(t, TB_TOKEN_BAD_SIGNATURE);
    free(t);
}

static void testUnknownIssuer(void **state) {
    (void)state;
    expectPayload("{\"iss\":\"nobody\",\"exp\":1700003600}", TB_TOKEN_UNKNOWN_KEY);
    expectPayload("{\"sub\":\"alice\",\"exp\":1700003600}", TB_TOKEN_UNKNOWN_KEY);
    expectPayload("{\"iss\":\"\",\"exp\":1700003600}", TB_TOKEN_UNKNOWN_KEY);
    expectPayload("{\"iss\":42,\"exp\":1700003600}", TB_TOKEN_UNKNOWN_KEY);
    char *t = makeHs256("{\"iss\":\"" KEY "\",\"exp\":1700003600}");
    char why[128];
    assert_int_equal(tbTokenVerify(t, NULL, NULL, NOW, NULL, why, sizeof why),
                     TB_TOKEN_UNKNOWN_KEY);
    /* a key whose secret is empty is treated as not configured */
    testKeys empty[] = {{KEY, ""}, {NULL, NULL}};
    assert_int_equal(tbTokenVerify(t, lookupKey, empty, NOW, NULL, why, sizeof why),
                     TB_TOKEN_UNKNOWN_KEY);
    free(t);
    t = makeHs256("{\"iss\":\"evil\\u0001\\\"key\",\"exp\":1700003600}");
    assert_int_equal(tbTokenVerify(t, lookupKey, keys, NOW, NULL, why, sizeof why),
                     TB_TOKEN_UNKNOWN_KEY);
    assert_null(strchr(why, '\001'));
    assert_null(strchr(why, '"'));
    free(t);
}

static void testTamperedPayload(void **state) {
    (void)state;
    tbClaims c;
    baseClaims(&c);
    char *t = signClaims(&c);
    /* swap the payload for one naming another room, keep the signature */
    json_t *pl = tokenPart(t, 1);
    json_object_set_new(json_object_get(pl, "video"), "room", json_string("other-room"));
    char *body = json_dumps(pl, JSON_COMPACT);
    char *p = enc(body);
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
    char forged[2048];
    snprintf(forged, sizeof forged, "%.*s.%s%s", (int)(dot1 - t), t, p, dot2);
    expectStatus(forged, TB_TOKEN_BAD_SIGNATURE);
    /* flip one bit in the last signature character's value */
    char *bad = strdup(t);
    char *last = bad + strlen(bad) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    expectStatus(bad, TB_TOKEN_BAD_SIGNATURE);
    /* truncated signature */
    bad[strlen(bad) - 4] = '\0';
    expectStatus(bad, TB_TOKEN_BAD_SIGNATURE);
    /* header swapped for an equivalent one: the signature covers the bytes */
    char *h = enc("{\"typ\":\"JWT\",\"alg\":\"HS256\"}");
    snprintf(forged, sizeof forged, "%s%s", h, dot1);
    expectStatus(forged, TB_TOKEN_BAD_SIGNATURE);
    expectStatus(t, TB_TOKEN_OK);
    free(h);
    free(bad);
    free(p);
    free(body);
    json_decref(pl);
    tbClaimsFree(&c);
    free(t);
}

/* ---- malformed tokens --------------------------------------------------- */

static void testMalformed(void **state) {
    (void)state;
    tbClaims c;
    baseClaims(&c);
    char *t = signClaims(&c);
    char buf[2048];
    char *dot2 = strrchr(t, '.');
    snprintf(buf, sizeof buf, "%.*s", (int)(dot2 - t), t); /* two parts */
    expectStatus(buf, TB_TOKEN_MALFORMED);
    snprintf(buf, sizeof buf, "%s.AAAA", t); /* four parts */
    expectStatus(buf, TB_TOKEN_MALFORMED);
    snprintf(buf, sizeof buf, "%s=", t); /* padding */
    expectStatus(buf, TB_TOKEN_MALFORMED);
    snprintf(buf, sizeof buf, "%s", t);
    buf[5] = '!'; /* bad base64 in the header */
    expectStatus(buf, TB_TOKEN_MALFORMED);
    snprintf(buf, sizeof buf, "%s", t);
    buf[strchr(t, '.') - t + 3] = '+'; /* std alphabet is not base64url */
    expectStatus(buf, TB_TOKEN_MALFORMED);
    snprintf(buf, sizeof buf, "A%s", t); /* header length 4n+1 cannot decode */
    expectStatus(buf, TB_TOKEN_MALFORMED);
    expectStatus("", TB_TOKEN_MALFORMED);
    expectStatus("..", TB_TOKEN_MALFORMED);
    expectStatus("a.b", TB_TOKEN_MALFORMED);
    expectStatus("Bearer x.y.z", TB_TOKEN_MALFORMED);
    assert_int_equal(tbTokenVerify(NULL, lookupKey, keys, NOW, NULL, NULL, 0),
                     TB_TOKEN_MALFORMED);
    tbClaimsFree(&c);
    free(t);
}

static void testNonJsonPayload(void **state) {
    (void)state;
    expectPayload("not json", TB_TOKEN_MALFORMED);
    expectPayload("", TB_TOKEN_MALFORMED);
    expectPayload("[1,2]", TB_TOKEN_MALFORMED);
    expectPayload("\"iss\"", TB_TOKEN_MALFORMED);
    expectPayload("{\"iss\":\"" KEY "\",\"exp\":1700003600", TB_TOKEN_MALFORMED);
    /* duplicate keys would let two parsers disagree */
    expectPayload("{\"iss\":\"" KEY "\",\"exp\":1700003600,\"exp\":1}", TB_TOKEN_MALFORMED);
    expectPayload("{\"iss\":\"" KEY "\",\"exp\":1700003600,\"sub\":\"a\\u0000b\"}",
                  TB_TOKEN_MALFORMED);
}

/* ---- claims ------------------------------------------------------------- */

static void testRoomNameLimit(void **state) {
    (void)state;
    char room[TB_MAX_ROOM_NAME + 2];
    char payload[1024];
    memset(room, 'r', sizeof room);
    room[TB_MAX_ROOM_NAME + 1] = '\0'; /* 257 bytes */
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" KEY "\",\"exp\":1700003600,\"video\":{\"room\":\"%s\"}}", room);
    expectPayload(payload, TB_TOKEN_BAD_CLAIMS);
    room[TB_MAX_ROOM_NAME] = '\0'; /* 256 bytes */
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" KEY "\",\"exp\":1700003600,\"video\":{\"room\":\"%s\"}}", room);
    expectPayload(payload, TB_TOKEN_OK);
}

static void testWrongClaimTypes(void **state) {
    (void)state;
    static const char *claims[] = {
        "\"exp\":\"1700003600\"",
        "\"exp\":true",
        "\"exp\":[1700003600]",
        "\"exp\":1700003600,\"nbf\":\"0\"",
        "\"exp\":1700003600,\"iat\":{}",
        "\"exp\":1700003600,\"sub\":42",
        "\"exp\":1700003600,\"name\":{}",
        "\"exp\":1700003600,\"metadata\":1",
        "\"exp\":1700003600,\"kind\":false",
        "\"exp\":1700003600,\"sha256\":[]",
        "\"exp\":1700003600,\"attributes\":\"team=blue\"",
        "\"exp\":1700003600,\"attributes\":{\"n\":1}",
        "\"exp\":1700003600,\"attributes\":[\"a\"]",
        "\"exp\":1700003600,\"video\":\"room\"",
        "\"exp\":1700003600,\"video\":[]",
        "\"exp\":1700003600,\"video\":true",
        "\"exp\":1700003600,\"video\":{\"roomJoin\":\"true\"}",
        "\"exp\":1700003600,\"video\":{\"roomJoin\":1}",
        "\"exp\":1700003600,\"video\":{\"roomAdmin\":0}",
        "\"exp\":1700003600,\"video\":{\"canPublish\":\"yes\"}",
        "\"exp\":1700003600,\"video\":{\"canSubscribe\":1}",
        "\"exp\":1700003600,\"video\":{\"canPublishData\":[]}",
        "\"exp\":1700003600,\"video\":{\"hidden\":\"false\"}",
        "\"exp\":1700003600,\"video\":{\"room\":7}",
        "\"exp\":1700003600,\"video\":{\"canPublishSources\":\"microphone\"}",
        "\"exp\":1700003600,\"video\":{\"canPublishSources\":[1]}",
        "\"exp\":1700003600,\"sub\":\"\",\"jti\":5",
    };
    char payload[512];
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        snprintf(payload, sizeof payload, "{\"iss\":\"" KEY "\",%s}", claims[i]);
        expectPayload(payload, TB_TOKEN_BAD_CLAIMS);
    }
}

static void testUnknownAndNullClaimsIgnored(void **state) {
    (void)state;
    tbClaims out;
    char *t = makeHs256(
        "{\"iss\":\"" KEY "\",\"exp\":1700003600,\"sub\":\"bob\",\"aud\":[\"x\"],"
        "\"roomConfig\":{\"agents\":[{\"agentName\":\"a\"}]},\"roomPreset\":\"p\","
        "\"sip\":{\"admin\":true},\"kindDetails\":[\"cloud_agent\"],\"name\":null,"
        "\"video\":{\"roomJoin\":true,\"room\":\"r\",\"destinationRoom\":\"d\","
        "\"canSubscribeMetrics\":true,\"canPublish\":null,\"canPublishSources\":null}}");
    assert_int_equal(verifyAt(t, NOW, &out), TB_TOKEN_OK);
    assert_string_equal(out.identity, "bob");
    assert_null(out.name);
    assert_true(out.video.room_join);
    assert_int_equal(out.video.can_publish, TB_UNSET);
    assert_null(out.video.can_publish_sources);
    tbClaimsFree(&out);
    free(t);
}

static void testIdentityFromJti(void **state) {
    (void)state;
    tbClaims out;
    char *t = makeHs256("{\"iss\":\"" KEY "\",\"exp\":1700003600,\"jti\":\"legacy\"}");
    assert_int_equal(verifyAt(t, NOW, &out), TB_TOKEN_OK);
    assert_string_equal(out.identity, "legacy");
    tbClaimsFree(&out);
    free(t);
    t = makeHs256("{\"iss\":\"" KEY "\",\"exp\":1700003600,\"jti\":\"j\",\"sub\":\"s\"}");
    assert_int_equal(verifyAt(t, NOW, &out), TB_TOKEN_OK);
    assert_string_equal(out.identity, "s");
    tbClaimsFree(&out);
    free(t);
}

static void testGrantDefaults(void **state) {
    (void)state;
    tbVideoGrant g = {0};
    g.can_publish = g.can_subscribe = g.can_publish_data = TB_UNSET;
    assert_true(tbGrantCanPublish(&g));
    assert_true(tbGrantCanSubscribe(&g));
    assert_true(tbGrantCanPublishData(&g));
    g.can_publish = TB_FALSE;
    assert_false(tbGrantCanPublish(&g));
    assert_false(tbGrantCanPublishData(&g)); /* follows canPublish */
    g.can_publish_data = TB_TRUE;
    assert_true(tbGrantCanPublishData(&g));
    g.can_publish = TB_TRUE;
    g.can_publish_data = TB_FALSE;
    assert_true(tbGrantCanPublish(&g));
    assert_false(tbGrantCanPublishData(&g));
    g.can_publish_data = TB_UNSET;
    assert_true(tbGrantCanPublishData(&g));
    g.can_subscribe = TB_FALSE;
    assert_false(tbGrantCanSubscribe(&g));
    g.can_subscribe = TB_TRUE;
    assert_true(tbGrantCanSubscribe(&g));

    /* the same rules after a verify */
    tbClaims out;
    char *t = makeHs256("{\"iss\":\"" KEY "\",\"exp\":1700003600,"
                        "\"video\":{\"canPublish\":false}}");
    assert_int_equal(verifyAt(t, NOW, &out), TB_TOKEN_OK);
    assert_false(tbGrantCanPublish(&out.video));
    assert_true(tbGrantCanSubscribe(&out.video));
    assert_false(tbGrantCanPublishData(&out.video));
    tbClaimsFree(&out);
    free(t);
}

/* ---- interop with livekit-server-sdk ------------------------------------ */

/* Minted by livekit-server-sdk 2.19.2 (AccessToken, key APIkey123, ttl 1h):
 * identity alice, name "Alice Ä", metadata, attributes, kind standard,
 * video {room study-42, roomJoin, canPublish true, canSubscribe true,
 * canPublishData false, canPublishSources [microphone], canUpdateOwnMetadata}.
 * nbf 1795317419, exp 1795321019. */
#define SDK_TOKEN                                                                        \
    "eyJhbGciOiJIUzI1NiJ9.eyJtZXRhZGF0YSI6IntcInJvbGVcIjpcImhvc3RcIn0iLCJhdHRyaWJ1dGVz" \
    "Ijp7InRlYW0iOiJibHVlIiwic2VhdCI6IjcifSwibmFtZSI6IkFsaWNlIMOEIiwia2luZCI6InN0YW5k"  \
    "YXJkIiwidmlkZW8iOnsicm9vbSI6InN0dWR5LTQyIiwicm9vbUpvaW4iOnRydWUsImNhblB1Ymxpc2gi" \
    "OnRydWUsImNhblN1YnNjcmliZSI6dHJ1ZSwiY2FuUHVibGlzaERhdGEiOmZhbHNlLCJjYW5QdWJsaXNo" \
    "U291cmNlcyI6WyJtaWNyb3Bob25lIl0sImNhblVwZGF0ZU93bk1ldGFkYXRhIjp0cnVlfSwiaXNzIjoi" \
    "QVBJa2V5MTIzIiwiZXhwIjoxNzk1MzIxMDE5LCJuYmYiOjE3OTUzMTc0MTksInN1YiI6ImFsaWNlIn0."  \
    "Js4FkBJHAlbgoPTdcv-GFav4gellXGLzvTGraRO7DOs"
#define SDK_NOW INT64_C(1795317500)

/* A RoomService token from the same SDK: no identity, roomCreate/List/Admin. */
#define SDK_ADMIN_TOKEN                                                                  \
    "eyJhbGciOiJIUzI1NiJ9.eyJ2aWRlbyI6eyJyb29tQ3JlYXRlIjp0cnVlLCJyb29tTGlzdCI6dHJ1ZSwi" \
    "cm9vbUFkbWluIjp0cnVlLCJyb29tIjoieCJ9LCJpc3MiOiJBUElrZXkxMjMiLCJleHAiOjE3OTUzMTgw"  \
    "MTksIm5iZiI6MTc5NTMxNzQxOX0.cLs0qClRe1OPTKJd7BNMRg0XTJMpSGa4YQG4mRcRbcI"

static void testLivekitServerSdkToken(void **state) {
    (void)state;
    tbClaims c;
    assert_int_equal(verifyAt(SDK_TOKEN, SDK_NOW, &c), TB_TOKEN_OK);
    assert_string_equal(c.api_key, "APIkey123");
    assert_string_equal(c.identity, "alice");
    assert_string_equal(c.name, "Alice Ä");
    assert_string_equal(c.metadata, "{\"role\":\"host\"}");
    assert_string_equal(c.kind, "standard");
    assert_string_equal(json_string_value(json_object_get(c.attributes, "team")), "blue");
    assert_string_equal(json_string_value(json_object_get(c.attributes, "seat")), "7");
    assert_int_equal(c.nbf, 1795317419);
    assert_int_equal(c.exp, 1795321019);
    assert_int_equal(c.iat, 0);
    assert_string_equal(c.video.room, "study-42");
    assert_true(c.video.room_join);
    assert_false(c.video.room_admin);
    assert_true(c.video.can_update_own_metadata);
    assert_int_equal(c.video.can_publish, TB_TRUE);
    assert_int_equal(c.video.can_subscribe, TB_TRUE);
    assert_int_equal(c.video.can_publish_data, TB_FALSE);
    assert_false(tbGrantCanPublishData(&c.video));
    assert_int_equal(json_array_size(c.video.can_publish_sources), 1);
    assert_string_equal(json_string_value(json_array_get(c.video.can_publish_sources, 0)),
                        "microphone");
    tbClaimsFree(&c);
    assert_int_equal(verifyAt(SDK_TOKEN, 1795321019 + 61, &c), TB_TOKEN_EXPIRED);
    assert_int_equal(verifyAt(SDK_TOKEN, 1795317419 - 61, &c), TB_TOKEN_NOT_YET_VALID);
    testKeys wrong[] = {{"APIkey123", "secret"}, {NULL, NULL}};
    assert_int_equal(tbTokenVerify(SDK_TOKEN, lookupKey, wrong, SDK_NOW, &c, NULL, 0),
                     TB_TOKEN_BAD_SIGNATURE);

    assert_int_equal(verifyAt(SDK_ADMIN_TOKEN, SDK_NOW, &c), TB_TOKEN_OK);
    assert_null(c.identity);
    assert_true(c.video.room_create && c.video.room_list && c.video.room_admin);
    assert_false(c.video.room_join);
    assert_string_equal(c.video.room, "x");
    tbClaimsFree(&c);
}

/* ---- misc ----------------------------------------------------------------- */

static void testWhyBuffer(void **state) {
    (void)state;
    char why[12];
    assert_int_equal(tbTokenVerify("a.b", lookupKey, keys, NOW, NULL, why, sizeof why),
                     TB_TOKEN_MALFORMED);
    assert_int_equal(strlen(why), sizeof why - 1); /* truncated, terminated */
    assert_int_equal(tbTokenVerify("a.b", lookupKey, keys, NOW, NULL, NULL, 0),
                     TB_TOKEN_MALFORMED);
    tbClaims c;
    baseClaims(&c);
    char *t = signClaims(&c);
    assert_int_equal(tbTokenVerify(t, lookupKey, keys, NOW, NULL, NULL, 0), TB_TOKEN_OK);
    tbClaimsFree(&c);
    free(t);
}

static void testStatusNames(void **state) {
    (void)state;
    assert_string_equal(tbTokenStatusName(TB_TOKEN_OK), "ok");
    assert_string_equal(tbTokenStatusName(TB_TOKEN_EXPIRED), "expired");
    assert_string_equal(tbTokenStatusName(TB_TOKEN_BAD_CLAIMS), "bad_claims");
    assert_string_equal(tbTokenStatusName((tbTokenStatus)99), "unknown");
    tbClaims c;
    tbClaimsInit(&c);
    assert_int_equal(c.video.can_publish, TB_UNSET);
    tbClaimsFree(&c);
    tbClaimsFree(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testRoundTripAllClaims),
        cmocka_unit_test(testSignFormat),
        cmocka_unit_test(testSignOmitsEmptyVideo),
        cmocka_unit_test(testSignRefusesBadClaims),
        cmocka_unit_test(testExpired),
        cmocka_unit_test(testExpWithinLeeway),
        cmocka_unit_test(testNbfInFuture),
        cmocka_unit_test(testNbfWithinLeeway),
        cmocka_unit_test(testNoExpiry),
        cmocka_unit_test(testRealDates),
        cmocka_unit_test(testAlgNone),
        cmocka_unit_test(testAlgHs512),
        cmocka_unit_test(testAlgRs256),
        cmocka_unit_test(testBadHeaders),
        cmocka_unit_test(testWrongSecret),
        cmocka_unit_test(testUnknownIssuer),
        cmocka_unit_test(testTamperedPayload),
        cmocka_unit_test(testMalformed),
        cmocka_unit_test(testNonJsonPayload),
        cmocka_unit_test(testRoomNameLimit),
        cmocka_unit_test(testWrongClaimTypes),
        cmocka_unit_test(testUnknownAndNullClaimsIgnored),
        cmocka_unit_test(testIdentityFromJti),
        cmocka_unit_test(testGrantDefaults),
        cmocka_unit_test(testLivekitServerSdkToken),
        cmocka_unit_test(testWhyBuffer),
        cmocka_unit_test(testStatusNames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
