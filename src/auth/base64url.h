/* base64url.h — base64url (RFC 4648 §5, no padding) and standard base64
 * on top of OpenSSL's EVP encoder. Used by JWT, the join_request parameter
 * and TURN REST credentials. */
#ifndef TB_BASE64URL_H
#define TB_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

/* Encode len bytes; returns a malloc'ed NUL-terminated string (no padding). */
char *tbBase64UrlEncode(const uint8_t *data, size_t len);
/* Decode base64url (padding optional, '+'/'/' also accepted). Returns a
 * malloc'ed buffer (NUL-terminated for convenience) and sets *outlen, or NULL
 * on invalid input. */
uint8_t *tbBase64UrlDecode(const char *s, size_t slen, size_t *outlen);
/* Standard base64 with padding (TURN REST passwords, HTTP Basic). */
char *tbBase64Encode(const uint8_t *data, size_t len);
uint8_t *tbBase64Decode(const char *s, size_t slen, size_t *outlen);

#endif
