/* turn_auth.c — TURN long-term credential lookup; see turn_auth.h. */
#include "turn/turn_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "auth/turn_rest.h"

int tbTurnAuthInit(tbTurnAuth *a, const tbConfig *cfg) {
    static const char label[] = "tribune-turn";
    memset(a, 0, sizeof *a);
    a->users = &cfg->turn.users;
    a->secrets = &cfg->turn.secrets;
    if (cfg->keys.len == 0) return a->secrets->len > 0 ? 0 : -1;
    const char *api = cfg->keys.items[0].value;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!HMAC(EVP_sha256(), api, (int)strlen(api), (const uint8_t *)label, sizeof label - 1, mac,
              &n))
        return -1;
    for (unsigned i = 0; i < n && 2 * i + 2 < sizeof a->derived; i++)
        snprintf(a->derived + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

const char *tbTurnAuthSecret(const tbTurnAuth *a) {
    return a->secrets->len > 0 ? a->secrets->items[0] : a->derived;
}

int tbTurnCredentialTtl(const tbTurnConfig *t) {
    if (t->ttl_seconds < 300) return 300;
    return t->ttl_seconds > 86400 ? 86400 : t->ttl_seconds;
}

static int copyPw(const char *p, char *pw, size_t cap) {
    size_t n = strlen(p);
    if (n >= cap) return -1;
    memcpy(pw, p, n + 1);
    return 0;
}

int tbTurnAuthLookup(const tbTurnAuth *a, const char *username, unsigned index, bool allocate,
                     int64_t now, char *pw, size_t cap) {
    for (size_t i = 0; i < a->users->len; i++)
        if (strcmp(a->users->items[i].key, username) == 0)
            return index == 0 ? copyPw(a->users->items[i].value, pw, cap) : -1;
    int64_t expiry = tbTurnRestExpiry(username);
    if (expiry < 0 || (allocate && expiry <= now)) return -1;
    const char *secret = NULL;
    if (a->secrets->len > 0) {
        if (index < a->secrets->len) secret = a->secrets->items[index];
    } else if (index == 0 && a->derived[0] != '\0') {
        secret = a->derived;
    }
    if (secret == NULL) return -1;
    return tbTurnRestPassword(secret, username, pw, cap);
}
