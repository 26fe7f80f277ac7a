/* turn_nonce.h — stateless TURN nonces: 16 hex digits of expiry time then
 * 24 hex digits of HMAC-SHA256(secret, expiry), so a server recognises its own
 * nonces and tells a stale one (→ 438) without keeping state. OpenSSL HMAC. */
#ifndef TB_TURN_NONCE_H
#define TB_TURN_NONCE_H

#include <stddef.h>
#include <stdint.h>

#define TB_TURN_NONCE_LEN 40 /* characters, no NUL */

/* Writes a nonce valid until `expiry` into out (TB_TURN_NONCE_LEN chars + NUL). */
void tbTurnNonceMake(const uint8_t *secret, size_t secret_len, uint64_t expiry,
                     char out[TB_TURN_NONCE_LEN + 1]);
/* 1: ours and not expired at now; 0: ours but stale, or not ours. */
int tbTurnNonceValid(const uint8_t *secret, size_t secret_len, const char *nonce, size_t len,
                     uint64_t now);

#endif
