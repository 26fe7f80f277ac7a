/* ids.c — see ids.h. Randomness from OpenSSL's CSPRNG. */
#include "util/ids.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void tbNewSid(const char *prefix, char out[TB_SID_LEN]) {
    uint8_t rnd[12];
    size_t p = strnlen(prefix, 3);
    memcpy(out, prefix, p);
    if (RAND_bytes(rnd, sizeof rnd) != 1) memset(rnd, 0, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++) out[p + i] = b62[rnd[i] % 62];
    out[p + sizeof rnd] = '\0';
}
