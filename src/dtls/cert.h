/* cert.h — the DTLS identity of a tribune process: a self-signed ECDSA P-256
 * certificate generated at start-up, and its SDP fingerprint
 * ("sha-256 AB:CD:..", RFC 8122 a=fingerprint value), plus the parser and
 * checker for the remote side's a=fingerprint value.
 *
 * One certificate per process is enough: browsers accept any self-signed
 * certificate whose digest matches the fingerprint in our SDP. A tbDtlsCert is
 * read-only after tbDtlsCertGenerate and may be shared by every worker thread
 * (the SSL_CTX built from it takes its own references, see dtls.h). */
#ifndef TB_DTLS_CERT_H
#define TB_DTLS_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "sha-512 " + 64 hex pairs with colons + NUL fits. */
#define TB_DTLS_FP_MAX 208

typedef struct tbDtlsCert {
    EVP_PKEY *pkey;                    /* ECDSA P-256 private key */
    X509 *x509;                        /* self-signed, CN=tribune, SHA-256 signature */
    char fingerprint[TB_DTLS_FP_MAX];  /* "sha-256 AB:CD:..." for a=fingerprint */
} tbDtlsCert;

/* A parsed a=fingerprint value: hash function and expected digest. */
typedef struct tbDtlsFingerprint {
    const EVP_MD *md;                  /* EVP_sha256() etc.; NULL = unset */
    uint8_t digest[EVP_MAX_MD_SIZE];
    size_t len;                        /* == EVP_MD_get_size(md) */
} tbDtlsFingerprint;

/* Generates a fresh key pair and a self-signed certificate valid from one day
 * ago for `days` days (0 = 365). Returns NULL on failure (OpenSSL error). */
tbDtlsCert *tbDtlsCertGenerate(unsigned days);

/* Frees the certificate (NULL is fine). Any SSL_CTX built from it keeps its
 * own references and stays valid. */
void tbDtlsCertFree(tbDtlsCert *c);

/* Writes "<alg> AB:CD:..." (uppercase hex) for `x` hashed with `md` into
 * out. `md` NULL means SHA-256. Returns 0, or -1 when out is too small. */
int tbDtlsFingerprintFormat(X509 *x, const EVP_MD *md, char *out, size_t outlen);

/* Parses an a=fingerprint value "sha-256 AB:CD:..." (hash names sha-1,
 * sha-224, sha-256, sha-384, sha-512, case-insensitive; hex either case;
 * surrounding blanks ignored). Returns 0, or -1 when malformed or when the
 * number of bytes does not match the hash. */
int tbDtlsFingerprintParse(const char *s, tbDtlsFingerprint *out);

/* True when the digest of `x` under fp->md equals fp->digest. */
bool tbDtlsFingerprintMatch(const tbDtlsFingerprint *fp, X509 *x);

#endif
