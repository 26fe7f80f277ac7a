/* turn_rest.c — TURN REST credentials; see turn_rest.h. */
#include "auth/turn_rest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/base64url.h"

int tbTurnRestPassword(const char *secret, const char *username, char *password, size_t plen) {
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)username,
              strlen(username), mac, &maclen))
        return -1;
    char *b64 = tbBase64Encode(mac, maclen);
    if (!b64 || strlen(b64) >= plen) {
        free(b64);
        return -1;
    }
    memcpy(password, b64, strlen(b64) + 1);
    free(b64);
    return 0;
}

int tbTurnRestCredentials(const char *secret, const char *identity, int64_t expiry,
                          char *username, size_t ulen, char *password, size_t plen) {
    int n = snprintf(username, ulen, "%lld:%s", (long long)expiry, identity);
    if (n < 0 || (size_t)n >= ulen) return -1;
    return tbTurnRestPassword(secret, username, password, plen);
}

int64_t tbTurnRestExpiry(const char *username) {
    int64_t v = 0;
    const char *p = username;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (*p - '0');
    }
    if (p == username || (*p != ':' && *p != '\0')) return -1;
    return v;
}
