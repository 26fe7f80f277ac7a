/* cert.c — self-signed ECDSA P-256 certificate for DTLS-SRTP and RFC 8122
 * fingerprints (format ours, parse and match the peer's). OpenSSL 3 only,
 * no I/O. See cert.h. */
#include "dtls/cert.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CERT_SECONDS_PER_DAY 86400L

/* RFC 8122 hash function names (IANA "Hash Function Textual Names"). */
typedef struct certHashName {
    const char *name;
    const char *ossl;                  /* OpenSSL digest name */
} certHashName;

static const certHashName certHashes[] = {
    {"sha-1", "SHA1"},     {"sha-224", "SHA224"}, {"sha-256", "SHA256"},
    {"sha-384", "SHA384"}, {"sha-512", "SHA512"},
};

static const char *certHashNameOf(const EVP_MD *md) {
    for (size_t i = 0; i < sizeof(certHashes) / sizeof(certHashes[0]); i++) {
        if (EVP_MD_is_a(md, certHashes[i].ossl))
            return certHashes[i].name;
    }
    return NULL;
}

/* Random positive 63-bit serial number. */
static int certSetSerial(X509 *x) {
    uint64_t r;
    if (RAND_bytes((uint8_t *)&r, sizeof(r)) != 1)
        return -1;
    r &= INT64_MAX;
    if (r == 0)
        r = 1;
    ASN1_INTEGER *serial = X509_get_serialNumber(x);
    return ASN1_INTEGER_set_uint64(serial, r) == 1 ? 0 : -1;
}

/* Fills the fields of a self-signed certificate for pkey and signs it. */
static int certBuild(X509 *x, EVP_PKEY *pkey, unsigned days) {
    if (X509_set_version(x, X509_VERSION_3) != 1 || certSetSerial(x) != 0)
        return -1;
    if (X509_gmtime_adj(X509_getm_notBefore(x), -CERT_SECONDS_PER_DAY) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), (long)days * CERT_SECONDS_PER_DAY) == NULL)
        return -1;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)"tribune",
                                   -1, -1, 0) != 1)
        return -1;
    if (X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1)
        return -1;
    return X509_sign(x, pkey, EVP_sha256()) > 0 ? 0 : -1;
}

tbDtlsCert *tbDtlsCertGenerate(unsigned days) {
    tbDtlsCert *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->pkey = EVP_EC_gen("P-256");
    c->x509 = X509_new();
    if (c->pkey == NULL || c->x509 == NULL)
        goto err;
    if (certBuild(c->x509, c->pkey, days ? days : 365) != 0)
        goto err;
    if (tbDtlsFingerprintFormat(c->x509, NULL, c->fingerprint, sizeof(c->fingerprint)) != 0)
        goto err;
    return c;
err:
    tbDtlsCertFree(c);
    return NULL;
}

void tbDtlsCertFree(tbDtlsCert *c) {
    if (c == NULL)
        return;
    EVP_PKEY_free(c->pkey);
    X509_free(c->x509);
    free(c);
}

int tbDtlsFingerprintFormat(X509 *x, const EVP_MD *md, char *out, size_t outlen) {
    static const char hex[] = "0123456789ABCDEF";
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (md == NULL)
        md = EVP_sha256();
    const char *name = certHashNameOf(md);
    if (name == NULL || X509_digest(x, md, dig, &n) != 1)
        return -1;
    size_t pos = strlen(name) + 1;
    if (outlen < pos + (size_t)n * 3)
        return -1;
    memcpy(out, name, pos - 1);
    out[pos - 1] = ' ';
    for (unsigned i = 0; i < n; i++) {
        out[pos++] = hex[dig[i] >> 4];
        out[pos++] = hex[dig[i] & 15];
        out[pos++] = (i + 1 < n) ? ':' : '\0';
    }
    return 0;
}

static int certHexVal(int ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
}

/* Parses "AB:CD:..:EF" (exactly `want` bytes) followed only by blanks. */
static int certParseHex(const char *p, uint8_t *dst, size_t want) {
    for (size_t i = 0; i < want; i++) {
        int hi = certHexVal((unsigned char)p[0]);
        int lo = hi < 0 ? -1 : certHexVal((unsigned char)p[1]);
        if (lo < 0)
            return -1;
        dst[i] = (uint8_t)(hi << 4 | lo);
        p += 2;
        if (i + 1 < want && *p++ != ':')
            return -1;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return *p == '\0' ? 0 : -1;
}

int tbDtlsFingerprintParse(const char *s, tbDtlsFingerprint *out) {
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *sp = strchr(s, ' ');
    if (sp == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(certHashes) / sizeof(certHashes[0]); i++) {
        size_t nl = strlen(certHashes[i].name);
        if ((size_t)(sp - s) != nl || strncasecmp(s, certHashes[i].name, nl) != 0)
            continue;
        const EVP_MD *md = EVP_get_digestbyname(certHashes[i].ossl);
        if (md == NULL)
            return -1;
        while (*sp == ' ')
            sp++;
        size_t len = (size_t)EVP_MD_get_size(md);
        if (certParseHex(sp, out->digest, len) != 0)
            return -1;
        out->md = md;
        out->len = len;
        return 0;
    }
    return -1;
}

bool tbDtlsFingerprintMatch(const tbDtlsFingerprint *fp, X509 *x) {
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (fp == NULL || fp->md == NULL || x == NULL)
        return false;
    if (X509_digest(x, fp->md, dig, &n) != 1 || n != fp->len)
        return false;
    return CRYPTO_memcmp(dig, fp->digest, n) == 0;
}
