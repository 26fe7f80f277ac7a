/* auth.c — request authentication for the API: Bearer access tokens (as
 * livekit-server's APIKeyAuthMiddleware reads them) and HTTP Basic API
 * key/secret pairs (tribune's REST token endpoint). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "auth/base64url.h"

static const char *lookupSecret(void *ctx, const char *api_key) {
    return tbConfigSecretFor((const tbConfig *)ctx, api_key);
}

/* Returns the credentials after `scheme ` in the Authorization header, or
 * NULL when the header uses another scheme. */
static const char *authParam(const char *header, const char *scheme) {
    size_t n = strlen(scheme);
    if (strncasecmp(header, scheme, n) != 0 || header[n] != ' ') return NULL;
    header += n;
    while (*header == ' ') header++;
    return header;
}

tbApiAuth tbApiBearer(tbApi *api, const tbHttpRequest *req, bool allow_query, tbClaims *claims,
                      char *why, size_t whylen) {
    const char *token = NULL;
    if (req->authorization) {
        token = authParam(req->authorization, "Bearer");
        if (!token) {
            snprintf(why, whylen, "invalid authorization header. Must start with Bearer ");
            tbMetricsCountToken(api->metrics, TB_TOKEN_MALFORMED);
            return TB_API_AUTH_INVALID;
        }
    } else if (allow_query) {
        token = tbHttpArgGet(req, "access_token");
    }
    if (!token || !*token) {
        tbMetricsCountToken(api->metrics, TB_TOKEN_RESULT_MISSING);
        return TB_API_AUTH_NONE;
    }
    char reason[256] = "";
    tbTokenStatus st = tbTokenVerify(token, lookupSecret, (void *)api->config,
                                     tbApiNowMs(api) / 1000, claims, reason, sizeof reason);
    tbMetricsCountToken(api->metrics, st);
    if (st == TB_TOKEN_OK) return TB_API_AUTH_OK;
    const char *r = strncmp(reason, "invalid token: ", 15) == 0 ? reason + 15 : reason;
    if (st == TB_TOKEN_UNKNOWN_KEY)
        snprintf(why, whylen, "invalid API key: %s", r);
    else
        snprintf(why, whylen, "invalid authorization token: %s", r);
    return TB_API_AUTH_INVALID;
}

tbApiAuth tbApiBasic(tbApi *api, const tbHttpRequest *req, const char **api_key, char *why,
                     size_t whylen) {
    const char *b64 = req->authorization ? authParam(req->authorization, "Basic") : NULL;
    if (!b64) return TB_API_AUTH_NONE;
    size_t len = 0;
    char *pair = (char *)tbBase64Decode(b64, strlen(b64), &len);
    char *colon = pair ? memchr(pair, ':', len) : NULL;
    if (!colon) {
        free(pair);
        snprintf(why, whylen, "malformed Basic credentials: expected base64(api_key:api_secret)");
        return TB_API_AUTH_INVALID;
    }
    *colon = '\0';
    const char *secret = colon + 1;
    for (size_t i = 0; i < api->config->keys.len; i++) {
        const tbKeyPair *k = &api->config->keys.items[i];
        if (strcmp(k->key, pair) != 0) continue;
        size_t sl = strlen(secret);
        bool ok = sl == strlen(k->value) && CRYPTO_memcmp(secret, k->value, sl) == 0;
        free(pair);
        if (!ok) {
            snprintf(why, whylen, "invalid API secret");
            return TB_API_AUTH_INVALID;
        }
        *api_key = k->key;
        return TB_API_AUTH_OK;
    }
    snprintf(why, whylen, "invalid API key: %s", pair);
    free(pair);
    return TB_API_AUTH_INVALID;
}
