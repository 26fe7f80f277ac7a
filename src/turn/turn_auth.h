/* turn_auth.h — who may use the embedded TURN server: the long-term
 * credential lookup behind tbTurnCallbacks.lookup, and the credentials
 * tribune hands to participants.
 *
 * Two kinds of users (as coturn has):
 *  - static users of turn.users (coturn's user=name:password);
 *  - TURN REST users (coturn's use-auth-secret): USERNAME "<expiry>:<id>",
 *    password base64(HMAC-SHA1(secret, USERNAME)), with every secret of
 *    turn.secrets tried in turn (rotation). When turn.secrets is empty one
 *    secret is derived from the first API secret: hex(HMAC-SHA256(api
 *    secret, "tribune-turn")), so an operator configures nothing and an API
 *    secret rotation also rotates TURN credentials. The expiry is checked on
 *    Allocate only: a live allocation may refresh past it (LiveKit does the
 *    same, so a long call keeps its relay).
 * Pure code (OpenSSL HMAC); the config must outlive the tbTurnAuth. */
#ifndef TB_TURN_AUTH_H
#define TB_TURN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define TB_TURN_DERIVED_SECRET_LEN 64 /* hex of a SHA-256 */

typedef struct tbTurnAuth {
    const tbKeyList *users;                          /* turn.users */
    const tbStrList *secrets;                        /* turn.secrets */
    char derived[TB_TURN_DERIVED_SECRET_LEN + 1];    /* used when secrets is empty */
} tbTurnAuth;

/* Binds the lists of cfg->turn and derives the fallback secret from the
 * first API key. Returns 0, or -1 when there is neither a secret nor an API
 * key (then only static users work). */
int tbTurnAuthInit(tbTurnAuth *a, const tbConfig *cfg);
/* The index-th candidate password for username at unix time now (see
 * tbTurnCallbacks.lookup). Returns 0 or -1. */
int tbTurnAuthLookup(const tbTurnAuth *a, const char *username, unsigned index, bool allocate,
                     int64_t now, char *pw, size_t cap);
/* The secret credentials are handed out with: the first of turn.secrets,
 * else the derived one; "" when there is none. */
const char *tbTurnAuthSecret(const tbTurnAuth *a);
/* turn.ttl_seconds clamped to [300, 86400] as LiveKit does. */
int tbTurnCredentialTtl(const tbTurnConfig *t);

#endif
