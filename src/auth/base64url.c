/* base64url.c — base64url (RFC 4648 §5) and standard base64 (§4) on top of
 * OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock. The url alphabet is translated
 * to the standard one and back; padding is optional on input and validated
 * by hand, because EVP_DecodeBlock tolerates surrounding whitespace and
 * does not subtract padding from its result. See base64url.h. */
#include "auth/base64url.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Largest input EVP_EncodeBlock/EVP_DecodeBlock take (their lengths are int). */
#define B64_MAX_RAW ((size_t)INT_MAX / 4 * 3 - 3)

/* Standard base64 with padding; the result is malloc'ed. */
static char *b64EncodeStd(const uint8_t *data, size_t len) {
    if (len > B64_MAX_RAW || (data == NULL && len > 0))
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[n] = '\0';
    return out;
}

char *tbBase64Encode(const uint8_t *data, size_t len) {
    return b64EncodeStd(data, len);
}

char *tbBase64UrlEncode(const uint8_t *data, size_t len) {
    char *out = b64EncodeStd(data, len);
    if (out == NULL)
        return NULL;
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '=')
        out[--n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

/* Maps one input character to the standard alphabet, or returns 0 when it
 * is not allowed in this flavour. */
static char b64MapChar(char c, bool url) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return c;
    if (c == '+' || c == '/')
        return c;
    if (url && c == '-')
        return '+';
    if (url && c == '_')
        return '/';
    return 0;
}

/* Length of s without its trailing '=' (at most two), or SIZE_MAX when the
 * padding is invalid. */
static size_t b64DataLen(const char *s, size_t slen) {
    size_t n = slen;
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (slen - n > 2 || n % 4 == 1)
        return SIZE_MAX;
    if (slen != n && slen % 4 != 0)
        return SIZE_MAX; /* padding present but not to a multiple of 4 */
    return n;
}

/* Copies s[0..n) into a standard-alphabet buffer padded to a multiple of 4;
 * returns NULL on an invalid character. */
static char *b64Normalize(const char *s, size_t n, bool url, size_t *padded) {
    size_t total = (n + 3) / 4 * 4;
    char *buf = malloc(total + 1);
    if (buf == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        buf[i] = b64MapChar(s[i], url);
        if (buf[i] == 0)
            goto err;
    }
    memset(buf + n, '=', total - n);
    buf[total] = '\0';
    *padded = total;
    return buf;
err:
    free(buf);
    return NULL;
}

static uint8_t *b64Decode(const char *s, size_t slen, size_t *outlen, bool url) {
    char *norm = NULL;
    uint8_t *out = NULL;
    size_t padded = 0;
    if (s == NULL || outlen == NULL)
        return NULL;
    size_t n = b64DataLen(s, slen);
    if (n == SIZE_MAX || n > (size_t)INT_MAX - 4)
        return NULL;
    norm = b64Normalize(s, n, url, &padded);
    if (norm == NULL)
        goto err;
    out = malloc(padded / 4 * 3 + 1);
    if (out == NULL)
        goto err;
    int got = padded ? EVP_DecodeBlock(out, (unsigned char *)norm, (int)padded) : 0;
    if (got < 0)
        goto err;
    *outlen = (size_t)got - (padded - n); /* each '=' stands for one byte */
    out[*outlen] = '\0';
    free(norm);
    return out;
err:
    free(norm);
    free(out);
    return NULL;
}

uint8_t *tbBase64UrlDecode(const char *s, size_t slen, size_t *outlen) {
    return b64Decode(s, slen, outlen, true);
}

uint8_t *tbBase64Decode(const char *s, size_t slen, size_t *outlen) {
    return b64Decode(s, slen, outlen, false);
}
