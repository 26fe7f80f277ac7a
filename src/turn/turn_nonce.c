/* turn_nonce.c — stateless TURN nonces (see turn_nonce.h). Hand-written
 * encoding around OpenSSL's HMAC. */
#include "turn/turn_nonce.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char hexdigits[] = "0123456789abcdef";

static void hexEncode(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
}

void tbTurnNonceMake(const uint8_t *secret, size_t secret_len, uint64_t expiry,
                     char out[TB_TURN_NONCE_LEN + 1]) {
    uint8_t be[8], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)(expiry >> (56 - 8 * i));
    if (HMAC(EVP_sha256(), secret, (int)secret_len, be, sizeof be, mac, &maclen) == NULL)
        memset(mac, 0, sizeof mac);
    hexEncode(be, 8, out);
    hexEncode(mac, 12, out + 16);
    out[TB_TURN_NONCE_LEN] = '\0';
}

int tbTurnNonceValid(const uint8_t *secret, size_t secret_len, const char *nonce, size_t len,
                     uint64_t now) {
    char want[TB_TURN_NONCE_LEN + 1];
    uint64_t expiry = 0;
    if (nonce == NULL || len != TB_TURN_NONCE_LEN) return 0;
    for (int i = 0; i < 16; i++) {
        const char *p = memchr(hexdigits, nonce[i], 16);
        if (p == NULL || nonce[i] == '\0') return 0;
        expiry = expiry << 4 | (uint64_t)(p - hexdigits);
    }
    tbTurnNonceMake(secret, secret_len, expiry, want);
    if (CRYPTO_memcmp(want, nonce, TB_TURN_NONCE_LEN) != 0) return 0;
    return now < expiry;
}
