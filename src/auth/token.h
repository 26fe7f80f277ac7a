/* token.h — LiveKit access tokens: HS256 JWTs carrying a `video` grant.
 *
 * Verification follows livekit-server (protocol/auth): HS256 only, the key is
 * looked up by `iss`, `exp` is required, `nbf`/`exp` are checked with 60 s of
 * leeway, grant defaults (canPublish/canSubscribe default true,
 * canPublishData follows canPublish). Signing produces the same claim set as
 * livekit-server-sdk's AccessToken, so either side accepts the other's
 * tokens. JSON via jansson, HMAC via OpenSSL. No I/O. */
#ifndef TB_TOKEN_H
#define TB_TOKEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_TOKEN_LEEWAY_S 60
#define TB_MAX_ROOM_NAME 256

/* A tri-state boolean: unset claims take LiveKit's defaults. */
typedef enum tbOptBool { TB_UNSET = -1, TB_FALSE = 0, TB_TRUE = 1 } tbOptBool;

typedef struct tbVideoGrant {
    bool room_create;
    bool room_list;
    bool room_record;
    bool room_admin;
    bool room_join;
    char *room;                 /* NULL = any/none */
    tbOptBool can_publish;
    tbOptBool can_subscribe;
    tbOptBool can_publish_data;
    bool can_update_own_metadata;
    bool hidden;
    bool recorder;
    bool agent;
    bool ingress_admin;
    json_t *can_publish_sources; /* JSON array of strings, or NULL */
} tbVideoGrant;

typedef struct tbClaims {
    char *api_key;              /* iss */
    char *identity;             /* sub */
    char *name;
    char *metadata;
    char *kind;                 /* "standard", "agent", ... */
    char *sha256;               /* webhook body hash */
    json_t *attributes;         /* JSON object string->string, or NULL */
    int64_t nbf;                /* 0 = absent */
    int64_t exp;                /* 0 = absent */
    int64_t iat;
    tbVideoGrant video;
} tbClaims;

typedef enum tbTokenStatus {
    TB_TOKEN_OK = 0,
    TB_TOKEN_MALFORMED,         /* not three base64url parts, bad JSON */
    TB_TOKEN_BAD_ALG,           /* alg other than HS256 (none, HS512, RS256...) */
    TB_TOKEN_UNKNOWN_KEY,       /* iss missing or not configured */
    TB_TOKEN_BAD_SIGNATURE,
    TB_TOKEN_EXPIRED,
    TB_TOKEN_NOT_YET_VALID,
    TB_TOKEN_NO_EXPIRY,
    TB_TOKEN_BAD_CLAIMS,        /* wrong claim types, room name too long */
} tbTokenStatus;

/* Returns the secret for an API key, or NULL when unknown. */
typedef const char *(*tbSecretLookup)(void *ctx, const char *api_key);

/* Verify `token` at time `now` (unix seconds). On TB_TOKEN_OK, *out holds the
 * claims (free with tbClaimsFree). On failure, `why` (if non-NULL) receives a
 * short reason such as "token is expired (exp 1700000000)". */
tbTokenStatus tbTokenVerify(const char *token, tbSecretLookup lookup, void *ctx,
                            int64_t now, tbClaims *out, char *why, size_t whylen);

/* Sign claims with HS256 and header {"alg":"HS256","typ":"JWT"}. Unset
 * tri-states are omitted. Returns a malloc'ed token or NULL. */
char *tbTokenSign(const tbClaims *c, const char *secret);

/* Effective permissions after LiveKit's defaults. */
bool tbGrantCanPublish(const tbVideoGrant *g);
bool tbGrantCanSubscribe(const tbVideoGrant *g);
bool tbGrantCanPublishData(const tbVideoGrant *g);

void tbClaimsInit(tbClaims *c);
void tbClaimsFree(tbClaims *c);
const char *tbTokenStatusName(tbTokenStatus s);

#endif
