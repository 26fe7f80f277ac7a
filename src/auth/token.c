/* token.c — LiveKit access tokens: verifies and signs HS256 JWTs carrying
 * LiveKit's claims (iss = API key, sub = identity, video grant, ...).
 *
 * Verification follows livekit/protocol's auth package (golang-jwt v5 with
 * HS256 as the only method, the issuer's secret, 60 s leeway, exp required),
 * in this order: shape (three base64url parts) → header alg → iss lookup →
 * signature → claim types → exp/nbf. Unknown claims are ignored; JSON null
 * counts as absent, as Go's decoder treats it. See token.h. */
#include "auth/token.h"

#include "auth/base64url.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define TOKEN_DATE_LIMIT 9007199254740992.0 /* 2^53: larger reals lose seconds */
#define TOKEN_ECHO_MAX 64                   /* longest untrusted text put in `why` */

/* The three parts of a compact JWS, pointing into the token string. */
typedef struct tokenParts {
    const char *header;
    size_t header_len;
    const char *payload;
    size_t payload_len;
    const char *sig;
    size_t sig_len;
    size_t signed_len; /* length of "header.payload", the HMAC input */
} tokenParts;

/* A claim stored at `off` bytes into a struct. */
typedef struct tokenField {
    const char *key;
    size_t off;
} tokenField;

/* ---- small helpers --------------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static tbTokenStatus tokenFail(char *why, size_t whylen, tbTokenStatus st,
                               const char *fmt, ...) {
    if (why == NULL || whylen == 0)
        return st;
    int n = snprintf(why, whylen, "invalid token: ");
    if (n < 0 || (size_t)n >= whylen)
        return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
    va_end(ap);
    return st;
}

/* Copies untrusted text for an error message: printable ASCII only, short. */
static void tokenSanitize(const char *s, char *dst, size_t dstlen) {
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < dstlen; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[i] = (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? (char)ch : '?';
    }
    dst[i] = '\0';
}

static bool tokenIsUrlChar(char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

/* HMAC-SHA256 of data with secret into mac (32 bytes). */
static bool tokenHmac(const char *secret, const char *data, size_t len,
                      uint8_t mac[EVP_MAX_MD_SIZE], unsigned *maclen) {
    size_t klen = strlen(secret);
    if (klen > INT32_MAX)
        return false;
    return HMAC(EVP_sha256(), secret, (int)klen, (const unsigned char *)data, len,
                mac, maclen) != NULL;
}

static bool tokenIsStringArray(const json_t *a) {
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

static bool tokenIsStringMap(const json_t *o) {
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return false;
    json_object_foreach((json_t *)o, k, v) {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

/* ---- verification: shape, header, signature ------------------------- */

/* Splits "h.p.s"; every part uses the url alphabet without padding. */
static tbTokenStatus tokenSplit(const char *token, tokenParts *p, char *why, size_t whylen) {
    const char *dot[2];
    int dots = 0;
    if (token == NULL)
        return tokenFail(why, whylen, TB_TOKEN_MALFORMED, "token is missing");
    for (const char *s = token; *s != '\0'; s++) {
        if (*s == '.') {
            if (dots == 2)
                return tokenFail(why, whylen, TB_TOKEN_MALFORMED,
                                 "token contains an invalid number of segments");
            dot[dots++] = s;
        } else if (!tokenIsUrlChar(*s)) {
            return tokenFail(why, whylen, TB_TOKEN_MALFORMED,
                             "token contains a character outside base64url");
        }
    }
    if (dots != 2)
        return tokenFail(why, whylen, TB_TOKEN_MALFORMED,
                         "token contains an invalid number of segments");
    p->header = token;
    p->header_len = (size_t)(dot[0] - token);
    p->payload = dot[0] + 1;
    p->payload_len = (size_t)(dot[1] - p->payload);
    p->sig = dot[1] + 1;
    p->sig_len = strlen(p->sig);
    p->signed_len = (size_t)(dot[1] - token);
    return TB_TOKEN_OK;
}

/* Decodes one base64url part and parses it as JSON. */
static tbTokenStatus tokenLoadPart(const char *s, size_t len, size_t flags, const char *what,
                                   json_t **out, char *why, size_t whylen) {
    size_t n = 0;
    json_error_t err;
    uint8_t *raw = tbBase64UrlDecode(s, len, &n);
    if (raw == NULL)
        return tokenFail(why, whylen, TB_TOKEN_MALFORMED, "could not base64 decode %s", what);
    *out = json_loadb((const char *)raw, n, flags | JSON_REJECT_DUPLICATES, &err);
    free(raw);
    if (*out == NULL)
        return tokenFail(why, whylen, TB_TOKEN_MALFORMED, "could not JSON decode %s", what);
    return TB_TOKEN_OK;
}

static tbTokenStatus tokenCheckAlg(const json_t *hdr, char *why, size_t whylen) {
    char shown[TOKEN_ECHO_MAX];
    if (!json_is_object(hdr))
        return tokenFail(why, whylen, TB_TOKEN_BAD_ALG, "token header is not a JSON object");
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (alg == NULL)
        return tokenFail(why, whylen, TB_TOKEN_BAD_ALG, "token header has no alg");
    if (strcmp(alg, "HS256") == 0)
        return TB_TOKEN_OK;
    tokenSanitize(alg, shown, sizeof shown);
    return tokenFail(why, whylen, TB_TOKEN_BAD_ALG,
                     "signing method %s is invalid (only HS256 is accepted)", shown);
}

/* Finds the secret for the token's iss. */
static tbTokenStatus tokenLookupKey(const json_t *claims, tbSecretLookup lookup, void *ctx,
                                    const char **secret, char *why, size_t whylen) {
    char shown[TOKEN_ECHO_MAX];
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (iss == NULL || *iss == '\0')
        return tokenFail(why, whylen, TB_TOKEN_UNKNOWN_KEY, "token has no API key (iss)");
    *secret = lookup != NULL ? lookup(ctx, iss) : NULL;
    if (*secret != NULL && **secret != '\0')
        return TB_TOKEN_OK;
    tokenSanitize(iss, shown, sizeof shown);
    return tokenFail(why, whylen, TB_TOKEN_UNKNOWN_KEY, "unknown API key %s", shown);
}

static tbTokenStatus tokenCheckSig(const tokenParts *p, const char *secret,
                                   char *why, size_t whylen) {
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    size_t siglen = 0;
    uint8_t *sig = tbBase64UrlDecode(p->sig, p->sig_len, &siglen);
    bool ok = sig != NULL && tokenHmac(secret, p->header, p->signed_len, mac, &maclen) &&
              siglen == maclen && CRYPTO_memcmp(sig, mac, maclen) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    free(sig);
    if (!ok)
        return tokenFail(why, whylen, TB_TOKEN_BAD_SIGNATURE, "token signature is invalid");
    return TB_TOKEN_OK;
}

/* ---- verification: claims -------------------------------------------- */

static tbTokenStatus tokenBadType(const char *prefix, const char *key, const char *type,
                                  char *why, size_t whylen) {
    return tokenFail(why, whylen, TB_TOKEN_BAD_CLAIMS, "claim %s%s must be %s",
                     prefix, key, type);
}

/* Optional string claim; NULL when absent. */
static bool tokenGetString(const json_t *obj, const char *key, char **dst) {
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    *dst = strdup(json_string_value(v));
    return *dst != NULL;
}

static bool tokenGetBool(const json_t *obj, const char *key, bool *dst) {
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_boolean(v))
        return false;
    *dst = json_is_true(v);
    return true;
}

static bool tokenGetOptBool(const json_t *obj, const char *key, tbOptBool *dst) {
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_boolean(v))
        return false;
    *dst = json_is_true(v) ? TB_TRUE : TB_FALSE;
    return true;
}

/* NumericDate: integer or real seconds, truncated to whole seconds (floor),
 * as golang-jwt does. *present tells absent from 0. */
static bool tokenGetDate(const json_t *obj, const char *key, int64_t *dst, bool *present) {
    const json_t *v = json_object_get(obj, key);
    *present = false;
    if (v == NULL || json_is_null(v))
        return true;
    if (json_is_integer(v)) {
        *dst = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d > -TOKEN_DATE_LIMIT && d < TOKEN_DATE_LIMIT))
            return false;
        *dst = (int64_t)d;
        if ((double)*dst > d)
            (*dst)--;
    } else {
        return false;
    }
    *present = true;
    return true;
}

/* Optional JSON claim checked by `valid`; stored as a deep copy. */
static bool tokenGetJson(const json_t *obj, const char *key, bool (*valid)(const json_t *),
                         json_t **dst) {
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return true;
    if (!valid(v))
        return false;
    *dst = json_deep_copy(v);
    return *dst != NULL;
}

static tbTokenStatus tokenParseVideoBools(const json_t *v, tbVideoGrant *g,
                                          char *why, size_t whylen) {
    static const tokenField bools[] = {
        {"roomCreate", offsetof(tbVideoGrant, room_create)},
        {"roomList", offsetof(tbVideoGrant, room_list)},
        {"roomRecord", offsetof(tbVideoGrant, room_record)},
        {"roomAdmin", offsetof(tbVideoGrant, room_admin)},
        {"roomJoin", offsetof(tbVideoGrant, room_join)},
        {"canUpdateOwnMetadata", offsetof(tbVideoGrant, can_update_own_metadata)},
        {"hidden", offsetof(tbVideoGrant, hidden)},
        {"recorder", offsetof(tbVideoGrant, recorder)},
        {"agent", offsetof(tbVideoGrant, agent)},
        {"ingressAdmin", offsetof(tbVideoGrant, ingress_admin)},
    };
    static const tokenField tris[] = {
        {"canPublish", offsetof(tbVideoGrant, can_publish)},
        {"canSubscribe", offsetof(tbVideoGrant, can_subscribe)},
        {"canPublishData", offsetof(tbVideoGrant, can_publish_data)},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        if (!tokenGetBool(v, bools[i].key, (bool *)((char *)g + bools[i].off)))
            return tokenBadType("video.", bools[i].key, "a boolean", why, whylen);
    }
    for (size_t i = 0; i < sizeof tris / sizeof tris[0]; i++) {
        if (!tokenGetOptBool(v, tris[i].key, (tbOptBool *)((char *)g + tris[i].off)))
            return tokenBadType("video.", tris[i].key, "a boolean", why, whylen);
    }
    return TB_TOKEN_OK;
}

static tbTokenStatus tokenParseVideo(const json_t *claims, tbVideoGrant *g,
                                     char *why, size_t whylen) {
    const json_t *v = json_object_get(claims, "video");
    if (v == NULL || json_is_null(v))
        return TB_TOKEN_OK;
    if (!json_is_object(v))
        return tokenBadType("", "video", "an object", why, whylen);
    tbTokenStatus st = tokenParseVideoBools(v, g, why, whylen);
    if (st != TB_TOKEN_OK)
        return st;
    if (!tokenGetString(v, "room", &g->room))
        return tokenBadType("video.", "room", "a string", why, whylen);
    if (g->room != NULL && strlen(g->room) > TB_MAX_ROOM_NAME)
        return tokenFail(why, whylen, TB_TOKEN_BAD_CLAIMS,
                         "room name is longer than %d bytes", TB_MAX_ROOM_NAME);
    if (!tokenGetJson(v, "canPublishSources", tokenIsStringArray, &g->can_publish_sources))
        return tokenBadType("video.", "canPublishSources", "an array of strings", why, whylen);
    return TB_TOKEN_OK;
}

static tbTokenStatus tokenParseStrings(const json_t *claims, tbClaims *c,
                                       char *why, size_t whylen) {
    static const tokenField strs[] = {
        {"iss", offsetof(tbClaims, api_key)},   {"sub", offsetof(tbClaims, identity)},
        {"name", offsetof(tbClaims, name)},     {"metadata", offsetof(tbClaims, metadata)},
        {"kind", offsetof(tbClaims, kind)},     {"sha256", offsetof(tbClaims, sha256)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (!tokenGetString(claims, strs[i].key, (char **)((char *)c + strs[i].off)))
            return tokenBadType("", strs[i].key, "a string", why, whylen);
    }
    /* livekit/protocol falls back to jti when sub is empty (older SDKs). */
    if (c->identity == NULL || *c->identity == '\0') {
        char *jti = NULL;
        if (!tokenGetString(claims, "jti", &jti))
            return tokenBadType("", "jti", "a string", why, whylen);
        if (jti != NULL) {
            free(c->identity);
            c->identity = jti;
        }
    }
    if (!tokenGetJson(claims, "attributes", tokenIsStringMap, &c->attributes))
        return tokenBadType("", "attributes", "an object of strings", why, whylen);
    return TB_TOKEN_OK;
}

/* Reads exp/nbf/iat and checks them against now with the leeway. */
static tbTokenStatus tokenParseTimes(const json_t *claims, tbClaims *c, int64_t now,
                                     char *why, size_t whylen) {
    bool has_exp = false, has_nbf = false, has_iat = false;
    if (!tokenGetDate(claims, "exp", &c->exp, &has_exp))
        return tokenBadType("", "exp", "a number", why, whylen);
    if (!tokenGetDate(claims, "nbf", &c->nbf, &has_nbf))
        return tokenBadType("", "nbf", "a number", why, whylen);
    if (!tokenGetDate(claims, "iat", &c->iat, &has_iat))
        return tokenBadType("", "iat", "a number", why, whylen);
    if (!has_exp)
        return tokenFail(why, whylen, TB_TOKEN_NO_EXPIRY,
                         "token is missing required claim: exp");
    if (c->exp < now - TB_TOKEN_LEEWAY_S)
        return tokenFail(why, whylen, TB_TOKEN_EXPIRED, "token is expired (exp %lld, now %lld)",
                         (long long)c->exp, (long long)now);
    if (has_nbf && c->nbf > now + TB_TOKEN_LEEWAY_S)
        return tokenFail(why, whylen, TB_TOKEN_NOT_YET_VALID,
                         "token is not valid yet (nbf %lld, now %lld)",
                         (long long)c->nbf, (long long)now);
    return TB_TOKEN_OK;
}

static tbTokenStatus tokenParseClaims(const json_t *claims, tbClaims *c, int64_t now,
                                      char *why, size_t whylen) {
    tbTokenStatus st = tokenParseStrings(claims, c, why, whylen);
    if (st == TB_TOKEN_OK)
        st = tokenParseVideo(claims, &c->video, why, whylen);
    if (st == TB_TOKEN_OK)
        st = tokenParseTimes(claims, c, now, why, whylen);
    return st;
}

tbTokenStatus tbTokenVerify(const char *token, tbSecretLookup lookup, void *ctx,
                            int64_t now, tbClaims *out, char *why, size_t whylen) {
    tbClaims local;
    tbClaims *c = out != NULL ? out : &local;
    json_t *hdr = NULL, *claims = NULL;
    const char *secret = NULL;
    tokenParts p = {0};
    tbTokenStatus st;

    tbClaimsInit(c);
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if ((st = tokenSplit(token, &p, why, whylen)) != TB_TOKEN_OK)
        goto done;
    if ((st = tokenLoadPart(p.header, p.header_len, JSON_DECODE_ANY, "header", &hdr,
                            why, whylen)) != TB_TOKEN_OK)
        goto done;
    if ((st = tokenCheckAlg(hdr, why, whylen)) != TB_TOKEN_OK)
        goto done;
    if ((st = tokenLoadPart(p.payload, p.payload_len, 0, "claims", &claims,
                            why, whylen)) != TB_TOKEN_OK)
        goto done;
    if (!json_is_object(claims)) {
        st = tokenFail(why, whylen, TB_TOKEN_MALFORMED, "claims are not a JSON object");
        goto done;
    }
    if ((st = tokenLookupKey(claims, lookup, ctx, &secret, why, whylen)) != TB_TOKEN_OK)
        goto done;
    if ((st = tokenCheckSig(&p, secret, why, whylen)) != TB_TOKEN_OK)
        goto done;
    st = tokenParseClaims(claims, c, now, why, whylen);
done:
    json_decref(hdr);
    json_decref(claims);
    if (st != TB_TOKEN_OK || out == NULL)
        tbClaimsFree(c);
    return st;
}

/* ---- signing ---------------------------------------------------------- */

static int tokenPutString(json_t *obj, const char *key, const char *val) {
    return val == NULL ? 0 : json_object_set_new(obj, key, json_string(val));
}

static int tokenPutDate(json_t *obj, const char *key, int64_t val) {
    return val == 0 ? 0 : json_object_set_new(obj, key, json_integer((json_int_t)val));
}

static int tokenPutBool(json_t *obj, const char *key, bool val) {
    return !val ? 0 : json_object_set_new(obj, key, json_true());
}

static int tokenPutOptBool(json_t *obj, const char *key, tbOptBool val) {
    return val == TB_UNSET ? 0 : json_object_set_new(obj, key, json_boolean(val == TB_TRUE));
}

static int tokenPutCopy(json_t *obj, const char *key, const json_t *val) {
    return val == NULL ? 0 : json_object_set_new(obj, key, json_deep_copy(val));
}

/* The video grant in livekit-server-sdk's key order; NULL on error. */
static json_t *tokenBuildVideo(const tbVideoGrant *g) {
    json_t *v = json_object();
    if (v == NULL)
        return NULL;
    int rc = 0;
    rc |= tokenPutBool(v, "roomCreate", g->room_create);
    rc |= tokenPutBool(v, "roomList", g->room_list);
    rc |= tokenPutBool(v, "roomRecord", g->room_record);
    rc |= tokenPutBool(v, "roomAdmin", g->room_admin);
    rc |= tokenPutBool(v, "roomJoin", g->room_join);
    rc |= tokenPutString(v, "room", g->room);
    rc |= tokenPutOptBool(v, "canPublish", g->can_publish);
    rc |= tokenPutOptBool(v, "canSubscribe", g->can_subscribe);
    rc |= tokenPutOptBool(v, "canPublishData", g->can_publish_data);
    rc |= tokenPutCopy(v, "canPublishSources", g->can_publish_sources);
    rc |= tokenPutBool(v, "canUpdateOwnMetadata", g->can_update_own_metadata);
    rc |= tokenPutBool(v, "ingressAdmin", g->ingress_admin);
    rc |= tokenPutBool(v, "hidden", g->hidden);
    rc |= tokenPutBool(v, "recorder", g->recorder);
    rc |= tokenPutBool(v, "agent", g->agent);
    if (rc != 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static json_t *tokenBuildClaims(const tbClaims *c) {
    json_t *video = tokenBuildVideo(&c->video);
    json_t *o = json_object();
    if (video == NULL || o == NULL)
        goto err;
    int rc = 0;
    rc |= tokenPutString(o, "iss", c->api_key);
    rc |= tokenPutString(o, "sub", c->identity);
    rc |= tokenPutDate(o, "exp", c->exp);
    rc |= tokenPutDate(o, "nbf", c->nbf);
    rc |= tokenPutDate(o, "iat", c->iat);
    rc |= tokenPutString(o, "name", c->name);
    rc |= tokenPutString(o, "kind", c->kind);
    rc |= tokenPutString(o, "metadata", c->metadata);
    rc |= tokenPutCopy(o, "attributes", c->attributes);
    rc |= tokenPutString(o, "sha256", c->sha256);
    if (json_object_size(video) > 0)
        rc |= json_object_set(o, "video", video);
    if (rc != 0)
        goto err;
    json_decref(video);
    return o;
err:
    json_decref(video);
    json_decref(o);
    return NULL;
}

/* Claims that would not verify are refused rather than signed. */
static bool tokenSignable(const tbClaims *c) {
    if (c->attributes != NULL && !tokenIsStringMap(c->attributes))
        return false;
    if (c->video.can_publish_sources != NULL &&
        !tokenIsStringArray(c->video.can_publish_sources))
        return false;
    return c->video.room == NULL || strlen(c->video.room) <= TB_MAX_ROOM_NAME;
}

/* base64url(header) "." base64url(body) "." base64url(HMAC-SHA256). */
static char *tokenAssemble(const char *header, const char *body, const char *secret) {
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    char *h = tbBase64UrlEncode((const uint8_t *)header, strlen(header));
    char *b = tbBase64UrlEncode((const uint8_t *)body, strlen(body));
    char *s = NULL, *out = NULL;
    if (h == NULL || b == NULL)
        goto err;
    size_t hl = strlen(h), bl = strlen(b);
    out = malloc(hl + bl + 2 + (EVP_MAX_MD_SIZE + 2) / 3 * 4 + 1);
    if (out == NULL)
        goto err;
    memcpy(out, h, hl);
    out[hl] = '.';
    memcpy(out + hl + 1, b, bl);
    if (!tokenHmac(secret, out, hl + 1 + bl, mac, &maclen))
        goto err;
    s = tbBase64UrlEncode(mac, maclen);
    if (s == NULL)
        goto err;
    out[hl + 1 + bl] = '.';
    strcpy(out + hl + 2 + bl, s);
    free(h);
    free(b);
    free(s);
    return out;
err:
    free(h);
    free(b);
    free(out);
    return NULL;
}

char *tbTokenSign(const tbClaims *c, const char *secret) {
    json_t *claims = NULL;
    char *body = NULL, *tok = NULL;
    if (c == NULL || secret == NULL || *secret == '\0' || !tokenSignable(c))
        return NULL;
    claims = tokenBuildClaims(c);
    if (claims == NULL)
        goto done;
    body = json_dumps(claims, JSON_COMPACT);
    if (body == NULL)
        goto done;
    tok = tokenAssemble(TOKEN_HEADER, body, secret);
done:
    free(body);
    json_decref(claims);
    return tok;
}

/* ---- grants and claim lifetime ---------------------------------------- */

bool tbGrantCanPublish(const tbVideoGrant *g) {
    return g->can_publish != TB_FALSE;
}

bool tbGrantCanSubscribe(const tbVideoGrant *g) {
    return g->can_subscribe != TB_FALSE;
}

bool tbGrantCanPublishData(const tbVideoGrant *g) {
    if (g->can_publish_data == TB_UNSET)
        return tbGrantCanPublish(g);
    return g->can_publish_data == TB_TRUE;
}

void tbClaimsInit(tbClaims *c) {
    memset(c, 0, sizeof *c);
    c->video.can_publish = TB_UNSET;
    c->video.can_subscribe = TB_UNSET;
    c->video.can_publish_data = TB_UNSET;
}

void tbClaimsFree(tbClaims *c) {
    if (c == NULL)
        return;
    free(c->api_key);
    free(c->identity);
    free(c->name);
    free(c->metadata);
    free(c->kind);
    free(c->sha256);
    json_decref(c->attributes);
    free(c->video.room);
    json_decref(c->video.can_publish_sources);
    tbClaimsInit(c);
}

const char *tbTokenStatusName(tbTokenStatus s) {
    switch (s) {
    case TB_TOKEN_OK: return "ok";
    case TB_TOKEN_MALFORMED: return "malformed";
    case TB_TOKEN_BAD_ALG: return "bad_alg";
    case TB_TOKEN_UNKNOWN_KEY: return "unknown_key";
    case TB_TOKEN_BAD_SIGNATURE: return "bad_signature";
    case TB_TOKEN_EXPIRED: return "expired";
    case TB_TOKEN_NOT_YET_VALID: return "not_yet_valid";
    case TB_TOKEN_NO_EXPIRY: return "no_expiry";
    case TB_TOKEN_BAD_CLAIMS: return "bad_claims";
    }
    return "unknown";
}
