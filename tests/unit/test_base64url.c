/* test_base64url.c — unit tests for src/auth/base64url.c: RFC 4648 vectors,
 * the url alphabet, optional padding, round trips at every length 0..64 and
 * rejection of invalid input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/base64url.h"

typedef struct b64Vector {
    const char *raw;
    const char *std;
    const char *url;
} b64Vector;

/* RFC 4648 §10. */
static const b64Vector rfcVectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

#define N_VECTORS (sizeof rfcVectors / sizeof rfcVectors[0])

/* Decodes s (whole string) and checks the result equals raw/rawlen. */
static void expectDecode(uint8_t *(*dec)(const char *, size_t, size_t *), const char *s,
                         const void *raw, size_t rawlen) {
    size_t n = 12345;
    uint8_t *out = dec(s, strlen(s), &n);
    assert_non_null(out);
    assert_int_equal(n, rawlen);
    assert_memory_equal(out, raw, rawlen);
    assert_int_equal(out[n], 0); /* NUL-terminated for convenience */
    free(out);
}

static void expectReject(uint8_t *(*dec)(const char *, size_t, size_t *), const char *s,
                         size_t slen) {
    size_t n = 0;
    uint8_t *out = dec(s, slen, &n);
    if (out != NULL)
        print_error("accepted invalid input \"%.*s\"\n", (int)slen, s);
    assert_null(out);
}

static void testRfcVectorsStd(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const b64Vector *v = &rfcVectors[i];
        char *enc = tbBase64Encode((const uint8_t *)v->raw, strlen(v->raw));
        assert_non_null(enc);
        assert_string_equal(enc, v->std);
        free(enc);
        expectDecode(tbBase64Decode, v->std, v->raw, strlen(v->raw));
        expectDecode(tbBase64Decode, v->url, v->raw, strlen(v->raw)); /* padding optional */
    }
}

static void testRfcVectorsUrl(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const b64Vector *v = &rfcVectors[i];
        char *enc = tbBase64UrlEncode((const uint8_t *)v->raw, strlen(v->raw));
        assert_non_null(enc);
        assert_string_equal(enc, v->url);
        free(enc);
        expectDecode(tbBase64UrlDecode, v->url, v->raw, strlen(v->raw));
        expectDecode(tbBase64UrlDecode, v->std, v->raw, strlen(v->raw)); /* padding accepted */
    }
}

static void testUrlAlphabet(void **state) {
    (void)state;
    const uint8_t raw[] = {0xfb, 0xff, 0xbf, 0xfb, 0xef};
    char *url = tbBase64UrlEncode(raw, sizeof raw);
    char *std = tbBase64Encode(raw, sizeof raw);
    assert_string_equal(url, "-_-_--8");
    assert_string_equal(std, "+/+/++8=");
    expectDecode(tbBase64UrlDecode, "-_-_--8", raw, sizeof raw);
    expectDecode(tbBase64UrlDecode, "+/+/++8=", raw, sizeof raw); /* '+' '/' accepted */
    expectDecode(tbBase64Decode, "+/+/++8=", raw, sizeof raw);
    expectReject(tbBase64Decode, "-_-_--8=", 8); /* std rejects the url alphabet */
    free(url);
    free(std);
}

/* Every length 0..64, with bytes covering the whole range. */
static void testRoundTrips(void **state) {
    (void)state;
    uint8_t raw[64];
    for (size_t len = 0; len <= sizeof raw; len++) {
        for (size_t i = 0; i < len; i++)
            raw[i] = (uint8_t)(i * 67 + len * 13 + 0xf0);
        char *url = tbBase64UrlEncode(raw, len);
        char *std = tbBase64Encode(raw, len);
        assert_non_null(url);
        assert_non_null(std);
        assert_null(strpbrk(url, "+/="));
        assert_null(strpbrk(std, "-_"));
        assert_int_equal(strlen(std), (len + 2) / 3 * 4);
        assert_int_equal(strlen(url), (len * 4 + 2) / 3);
        expectDecode(tbBase64UrlDecode, url, raw, len);
        expectDecode(tbBase64UrlDecode, std, raw, len);
        expectDecode(tbBase64Decode, std, raw, len);
        free(url);
        free(std);
    }
}

static void testUsesSlen(void **state) {
    (void)state;
    size_t n = 0;
    uint8_t *out = tbBase64UrlDecode("Zm9vYmFyXXXX", 8, &n);
    assert_non_null(out);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "foobar", 6);
    free(out);
    out = tbBase64Decode("Zm9vYg==garbage", 8, &n);
    assert_non_null(out);
    assert_int_equal(n, 4);
    free(out);
}

static void testRejectsInvalid(void **state) {
    (void)state;
    static const char *bad[] = {
        "Zm9v!",      /* character outside the alphabet */
        "Z",          /* a single trailing character cannot encode a byte */
        "Zm9vY",      /* ditto after a full group */
        "Zm9=v",      /* '=' inside the data */
        "Zg===",      /* too much padding */
        "Z===",       /* padding where data must be */
        "Zg=",        /* padding not to a multiple of 4 */
        "=",          /* padding only */
        "==",
        " Zm9v",      /* whitespace is not base64 */
        "Zm9v\n",
        "Zm 9v",
        "Zm9v.",
        "Zm9v\xc3\xa4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expectReject(tbBase64UrlDecode, bad[i], strlen(bad[i]));
        expectReject(tbBase64Decode, bad[i], strlen(bad[i]));
    }
    expectReject(tbBase64UrlDecode, "Zm\0v", 4); /* embedded NUL */
    size_t n = 0;
    assert_null(tbBase64UrlDecode(NULL, 0, &n));
    assert_null(tbBase64UrlDecode("Zm9v", 4, NULL));
}

static void testEmpty(void **state) {
    (void)state;
    size_t n = 99;
    uint8_t *out = tbBase64UrlDecode("", 0, &n);
    assert_non_null(out);
    assert_int_equal(n, 0);
    assert_int_equal(out[0], 0);
    free(out);
    char *enc = tbBase64UrlEncode(NULL, 0);
    assert_non_null(enc);
    assert_string_equal(enc, "");
    free(enc);
}

/* Typical standard base64 uses: HTTP Basic and a TURN REST password. */
static void testStdVectors(void **state) {
    (void)state;
    char *enc = tbBase64Encode((const uint8_t *)"devkey:secret", 13);
    assert_string_equal(enc, "ZGV2a2V5OnNlY3JldA==");
    free(enc);
    const uint8_t sha1[20] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0xfe, 0xff,
                              0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0};
    enc = tbBase64Encode(sha1, sizeof sha1);
    assert_string_equal(enc, "3q2+7wABAgP+/xAgMEBQYHCAkKA=");
    expectDecode(tbBase64Decode, enc, sha1, sizeof sha1);
    free(enc);
    expectDecode(tbBase64Decode, "TWFu", "Man", 3);
    expectDecode(tbBase64Decode, "bGlnaHQgd29yay4=", "light work.", 11);
    expectDecode(tbBase64Decode, "bGlnaHQgd29yaw==", "light work", 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testRfcVectorsStd),
        cmocka_unit_test(testRfcVectorsUrl),
        cmocka_unit_test(testUrlAlphabet),
        cmocka_unit_test(testRoundTrips),
        cmocka_unit_test(testUsesSlen),
        cmocka_unit_test(testRejectsInvalid),
        cmocka_unit_test(testEmpty),
        cmocka_unit_test(testStdVectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
