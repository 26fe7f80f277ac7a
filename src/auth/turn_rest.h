/* turn_rest.h — TURN REST credentials (draft-uberti-behave-turn-rest, as
 * coturn's use-auth-secret implements them): username "<expiry>:<identity>",
 * password base64(HMAC-SHA1(secret, username)). A TURN server that shares the
 * secret accepts them until the expiry time. OpenSSL HMAC; no I/O. */
#ifndef TB_TURN_REST_H
#define TB_TURN_REST_H

#include <stddef.h>
#include <stdint.h>

/* Writes the username for identity valid until `expiry` (unix seconds) and
 * its password. Returns 0, or -1 when a buffer is too small. */
int tbTurnRestCredentials(const char *secret, const char *identity, int64_t expiry,
                          char *username, size_t ulen, char *password, size_t plen);

/* password = base64(HMAC-SHA1(secret, username)) for any username.
 * Returns 0, or -1 when the buffer is too small. */
int tbTurnRestPassword(const char *secret, const char *username, char *password, size_t plen);
/* The expiry of a TURN REST username ("<expiry>" or "<expiry>:<anything>",
 * coturn accepts both), or -1 when it is not one. */
int64_t tbTurnRestExpiry(const char *username);

#endif
