/* tokens.c — the REST token endpoint (tribune-only; LiveKit has none):
 *   POST /api/v1/rooms/{room}/tokens
 *   {identity, name?, metadata?, attributes?, ttl_seconds?,
 *    permissions?: {can_publish, can_subscribe, can_publish_data, hidden, room_admin}}
 * authenticated by HTTP Basic api_key:api_secret or a Bearer access token
 * with roomCreate, or roomAdmin for this room. Replies 201 with a
 * LiveKit-format token signed by the key that authenticated the call.
 * Also the pieces every token endpoint shares (the dev one, api/dev_token.c,
 * uses them): reading the JSON body, string fields, signing, the ws URL. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"

#define TB_TOKEN_MAX_TTL (30 * 86400)  /* 30 days */

/* Extracts {room} from /api/v1/rooms/{room}/tokens into buf. */
static bool roomFromPath(const char *path, char *buf, size_t buflen) {
    const char *prefix = "/api/v1/rooms/", *suffix = "/tokens";
    size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(path);
    if (n <= pl + sl || strcmp(path + n - sl, suffix) != 0) return false;
    size_t rl = n - pl - sl;
    if (rl >= buflen || memchr(path + pl, '/', rl)) return false;
    memcpy(buf, path + pl, rl);
    buf[rl] = '\0';
    return true;
}

/* The config's own copy of an API key (outlives the request's claims). */
static const char *configKey(const tbConfig *cfg, const char *api_key) {
    for (size_t i = 0; api_key && i < cfg->keys.len; i++)
        if (strcmp(cfg->keys.items[i].key, api_key) == 0) return cfg->keys.items[i].key;
    return NULL;
}

/* Who may mint: the API key itself (Basic) or a token with roomCreate, or
 * roomAdmin for this room. Returns the signing key, or NULL after answering. */
static const char *authorize(tbApi *api, const tbHttpRequest *req, const char *room,
                             tbHttpResponse *resp) {
    char why[384] = "";
    const char *key = NULL;
    tbApiAuth a = tbApiBasic(api, req, &key, why, sizeof why);
    if (a == TB_API_AUTH_OK) return key;
    if (a == TB_API_AUTH_NONE) {
        tbClaims c;
        tbClaimsInit(&c);
        a = tbApiBearer(api, req, false, &c, why, sizeof why);
        bool admin = c.video.room_admin && (!c.video.room || strcmp(c.video.room, room) == 0);
        if (a == TB_API_AUTH_OK && (c.video.room_create || admin))
            key = configKey(api->config, c.api_key);
        tbClaimsFree(&c);
        if (key) return key;
        if (a == TB_API_AUTH_OK) {
            tbHttpRespondError(resp, 403, "permission_denied",
                               "token needs the roomCreate grant, or roomAdmin for room `%s`",
                               room);
            return NULL;
        }
    }
    if (a == TB_API_AUTH_NONE)
        snprintf(why, sizeof why, "missing credentials: use HTTP Basic api_key:api_secret or "
                                  "a Bearer token with roomCreate or roomAdmin");
    tbHttpRespondError(resp, 401, "unauthenticated", "%s", why);
    tbHttpAddHeader(resp, "WWW-Authenticate", "Basic realm=\"tribune\"");
    return NULL;
}

static bool badField(tbHttpResponse *resp, const char *field, const char *what) {
    tbHttpRespondError(resp, 400, "invalid_argument", "field `%s`: %s", field, what);
    return false;
}

bool tbApiJsonString(json_t *body, const char *field, bool required, size_t max,
                     const char **out, tbHttpResponse *resp) {
    json_t *v = json_object_get(body, field);
    if (required && (!v || !json_is_string(v) || json_string_length(v) == 0))
        return badField(resp, field, "required, a non-empty string");
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v)) return badField(resp, field, "expected a string");
    if (max > 0 && json_string_length(v) > max) {
        char what[96];
        snprintf(what, sizeof what, "longer than the limit of %zu bytes", max);
        return badField(resp, field, what);
    }
    *out = json_string_value(v);
    return true;
}

static bool parsePermissions(json_t *perms, tbApiTokenRequest *t, tbHttpResponse *resp) {
    if (!perms || json_is_null(perms)) return true;
    if (!json_is_object(perms)) return badField(resp, "permissions", "expected an object");
    const char *k;
    json_t *v;
    json_object_foreach(perms, k, v) {
        char field[96];
        snprintf(field, sizeof field, "permissions.%s", k);
        if (!json_is_boolean(v)) return badField(resp, field, "expected true or false");
        tbOptBool b = json_is_true(v) ? TB_TRUE : TB_FALSE;
        if (strcmp(k, "can_publish") == 0) t->can_publish = b;
        else if (strcmp(k, "can_subscribe") == 0) t->can_subscribe = b;
        else if (strcmp(k, "can_publish_data") == 0) t->can_publish_data = b;
        else if (strcmp(k, "hidden") == 0) t->hidden = b == TB_TRUE;
        else if (strcmp(k, "room_admin") == 0) t->room_admin = b == TB_TRUE;
        else return badField(resp, field, "unknown permission (can_publish, can_subscribe, "
                                          "can_publish_data, hidden, room_admin)");
    }
    return true;
}

static bool checkKnownFields(json_t *body, tbHttpResponse *resp) {
    static const char *known[] = {"identity", "name", "metadata", "attributes", "ttl_seconds",
                                  "permissions"};
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) ok |= !strcmp(k, known[i]);
        if (!ok) return badField(resp, k, "unknown field");
    }
    return true;
}

static bool parseAttributes(json_t *attrs, tbApiTokenRequest *t, tbHttpResponse *resp) {
    if (!attrs || json_is_null(attrs)) return true;
    if (!json_is_object(attrs)) return badField(resp, "attributes", "expected an object");
    const char *k;
    json_t *v;
    json_object_foreach(attrs, k, v) {
        if (json_is_string(v)) continue;
        char field[96];
        snprintf(field, sizeof field, "attributes.%s", k);
        return badField(resp, field, "expected a string");
    }
    t->attributes = attrs;
    return true;
}

static bool parseTtl(json_t *ttl, tbApiTokenRequest *t, tbHttpResponse *resp) {
    t->ttl = TB_API_TOKEN_DEFAULT_TTL;
    if (!ttl || json_is_null(ttl)) return true;
    if (!json_is_integer(ttl)) return badField(resp, "ttl_seconds", "expected an integer");
    t->ttl = json_integer_value(ttl);
    if (t->ttl < 1 || t->ttl > TB_TOKEN_MAX_TTL)
        return badField(resp, "ttl_seconds", "must be between 1 and 2592000 (30 days)");
    return true;
}

static bool parseBody(tbApi *api, json_t *body, tbApiTokenRequest *t, tbHttpResponse *resp) {
    const tbLimitConfig *lim = &api->config->limit;
    if (!json_is_object(body)) return badField(resp, "(body)", "expected a JSON object");
    if (!checkKnownFields(body, resp)) return false;
    return tbApiJsonString(body, "identity", true, (size_t)lim->max_participant_identity_length,
                           &t->identity, resp) &&
           tbApiJsonString(body, "name", false, 0, &t->name, resp) &&
           tbApiJsonString(body, "metadata", false, (size_t)lim->max_metadata_size, &t->metadata,
                           resp) &&
           parseAttributes(json_object_get(body, "attributes"), t, resp) &&
           parseTtl(json_object_get(body, "ttl_seconds"), t, resp) &&
           parsePermissions(json_object_get(body, "permissions"), t, resp);
}

char *tbApiSignToken(tbApi *api, const tbApiTokenRequest *t, const char *key, int64_t *exp) {
    int64_t now = tbApiNowMs(api) / 1000;
    tbClaims c;
    tbClaimsInit(&c);
    c.api_key = (char *)key;
    c.identity = (char *)t->identity;
    c.name = (char *)t->name;
    c.metadata = (char *)t->metadata;
    c.attributes = t->attributes;
    c.nbf = now;
    c.exp = now + t->ttl;
    c.video.room_join = true;
    c.video.room = (char *)t->room;
    c.video.can_publish = t->can_publish;
    c.video.can_subscribe = t->can_subscribe;
    c.video.can_publish_data = t->can_publish_data;
    c.video.hidden = t->hidden;
    c.video.room_admin = t->room_admin;
    const char *secret = tbConfigSecretFor(api->config, key);
    if (exp) *exp = c.exp;
    return secret ? tbTokenSign(&c, secret) : NULL;
}

void tbApiWsUrl(const tbApi *api, const tbHttpRequest *req, char *buf, size_t len) {
    bool tls = req->forwarded_proto && strcmp(req->forwarded_proto, "https") == 0;
    if (req->host && *req->host && !strpbrk(req->host, "\"\\ /"))
        snprintf(buf, len, "%s://%s", tls ? "wss" : "ws", req->host);
    else
        snprintf(buf, len, "ws://127.0.0.1:%d", api->config->port);
}

static void issue(tbApi *api, const tbHttpRequest *req, const tbApiTokenRequest *t,
                  const char *key, tbHttpResponse *resp) {
    int64_t exp = 0;
    char *token = tbApiSignToken(api, t, key, &exp);
    if (!token) {
        tbHttpRespondError(resp, 500, "internal", "could not sign the token");
        return;
    }
    char ws_url[300];
    tbApiWsUrl(api, req, ws_url, sizeof ws_url);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "token", token, "ws_url", ws_url, "room",
                          t->room, "identity", t->identity, "expires_at", (json_int_t)exp);
    free(token);
    tbHttpRespondJson(resp, 201, j);
}

json_t *tbApiReadJsonBody(const tbHttpRequest *req, const char *expected, tbHttpResponse *resp) {
    if (req->body_too_large) {
        tbHttpRespondError(resp, 413, "payload_too_large", "request body exceeds %d bytes",
                           TB_HTTP_BODY_LIMIT);
        return NULL;
    }
    if (!tbHttpContentTypeIs(req, "application/json")) {
        tbHttpRespondError(resp, 415, "unsupported_media_type",
                           "Content-Type must be application/json, got `%s`",
                           req->content_type ? req->content_type : "(none)");
        return NULL;
    }
    if (req->body_len == 0) {
        tbHttpRespondError(resp, 400, "invalid_argument", "body is empty: expected %s",
                           expected);
        return NULL;
    }
    json_error_t jerr;
    json_t *body = json_loadb((const char *)req->body, req->body_len, 0, &jerr);
    if (!body)
        tbHttpRespondError(resp, 400, "invalid_argument",
                           "body is not valid JSON: %s (line %d, column %d)", jerr.text,
                           jerr.line, jerr.column);
    return body;
}

void tbApiCreateToken(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    char room[1024];
    const tbLimitConfig *lim = &api->config->limit;
    if (!roomFromPath(req->path, room, sizeof room) || !*room) {
        tbHttpRespondError(resp, 404, "not_found",
                           "expected POST /api/v1/rooms/{room}/tokens, got %s", req->path);
        return;
    }
    if (lim->max_room_name_length > 0 && strlen(room) > (size_t)lim->max_room_name_length) {
        tbHttpRespondError(resp, 400, "invalid_argument",
                           "room name is longer than %d bytes", lim->max_room_name_length);
        return;
    }
    const char *key = authorize(api, req, room, resp);
    if (!key) return;
    json_t *body = tbApiReadJsonBody(req, "a JSON object with `identity`", resp);
    if (!body) return;
    tbApiTokenRequest t = {.room = room, .can_publish = TB_UNSET, .can_subscribe = TB_UNSET,
                        .can_publish_data = TB_UNSET};
    if (parseBody(api, body, &t, resp)) issue(api, req, &t, key, resp);
    json_decref(body);
}
