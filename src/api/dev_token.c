/* dev_token.c — POST /app/token, in development mode only (the router
 * answers 404 otherwise): the web app's page gets its own join token without
 * an API secret. Anyone who reaches the port can mint tokens for any room,
 * which is why it exists only with `development: true` (--dev).
 *   {"room": "...", "identity": "...", "name"?: "...", "admin"?: true|false}
 *   -> 200 {"token": "<JWT>", "url": "<ws url>"}
 * The token is signed with the first API key: roomJoin for `room`,
 * canPublish, canSubscribe, canPublishData, roomAdmin when `admin` is true,
 * valid 6 h. `room` and `identity` follow the REST token endpoint's rules
 * (non-empty strings within limit.max_room_name_length and
 * limit.max_participant_identity_length); unknown fields are refused. The
 * signing, ws URL and body checks are api/tokens.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static bool badField(tbHttpResponse *resp, const char *field, const char *what) {
    tbHttpRespondError(resp, 400, "invalid_argument", "field `%s`: %s", field, what);
    return false;
}

static bool parseBody(const tbLimitConfig *lim, json_t *body, tbApiTokenRequest *t,
                      tbHttpResponse *resp) {
    static const char *known[] = {"room", "identity", "name", "admin"};
    if (!json_is_object(body)) return badField(resp, "(body)", "expected a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) ok |= !strcmp(k, known[i]);
        if (!ok) return badField(resp, k, "unknown field (room, identity, name, admin)");
    }
    json_t *admin = json_object_get(body, "admin");
    if (admin && !json_is_null(admin) && !json_is_boolean(admin))
        return badField(resp, "admin", "expected true or false");
    t->room_admin = json_is_true(admin);
    return tbApiJsonString(body, "room", true, (size_t)lim->max_room_name_length, &t->room,
                           resp) &&
           tbApiJsonString(body, "identity", true, (size_t)lim->max_participant_identity_length,
                           &t->identity, resp) &&
           tbApiJsonString(body, "name", false, 0, &t->name, resp);
}

void tbApiDevToken(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    const tbConfig *cfg = api->config;
    if (!cfg->development) { /* the router hides the route; never mint outside dev */
        tbHttpRespondError(resp, 404, "not_found", "no route for %s", req->path);
        return;
    }
    json_t *body = tbApiReadJsonBody(req, "a JSON object with `room` and `identity`", resp);
    if (!body) return;
    tbApiTokenRequest t = {.ttl = TB_API_TOKEN_DEFAULT_TTL, .can_publish = TB_TRUE,
                           .can_subscribe = TB_TRUE, .can_publish_data = TB_TRUE};
    if (!parseBody(&cfg->limit, body, &t, resp)) {
        json_decref(body);
        return;
    }
    const char *key = cfg->keys.len ? cfg->keys.items[0].key : NULL;
    char *token = key ? tbApiSignToken(api, &t, key, NULL) : NULL;
    json_decref(body); /* t's strings point into it */
    if (!token) {
        tbHttpRespondError(resp, 500, "internal", "could not sign the token (no API key?)");
        return;
    }
    char url[300];
    tbApiWsUrl(api, req, url, sizeof url);
    json_t *j = json_pack("{s:s, s:s}", "token", token, "url", url);
    free(token);
    tbHttpRespondJson(resp, 200, j);
}
