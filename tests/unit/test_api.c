/* test_api.c — the HTTP API without sockets: routing (404/405/CORS
 * preflight/metrics-only listener), health and metrics, /rtc/validate and
 * /rtc/v1/validate, and the REST token endpoint with every error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api_fixture.h"

static int setup(void **state) {
    *state = fixNew();
    return 0;
}

static int teardown(void **state) {
    fixFree(*state);
    return 0;
}

static const char *header(const tbHttpResponse *r, const char *name) {
    for (size_t i = 0; i < r->num_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

/* ---- routing, health, metrics ------------------------------------------ */

static void test_root_and_healthz(void **state) {
    apiFixture *f = *state;
    fixReq r = {.req = {.method = TB_HTTP_GET, .path = "/"}};
    tbHttpResponse resp;
    assert_int_equal(fixCall(f, &r, &resp), 200);
    assert_string_equal(fixText(&resp), "OK");
    assert_string_equal(header(&resp, "Access-Control-Allow-Origin"), "*");
    tbHttpResponseFree(&resp);
    r.req.path = "/healthz";
    assert_int_equal(fixCall(f, &r, &resp), 200);
    json_t *j = fixJson(&resp);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(j, "rooms")), 0);
    json_decref(j);
    tbHttpResponseFree(&resp);
}

static void test_unknown_route_and_method(void **state) {
    apiFixture *f = *state;
    fixReq r = {.req = {.method = TB_HTTP_GET, .path = "/nope"}};
    tbHttpResponse resp;
    assert_int_equal(fixCall(f, &r, &resp), 404);
    json_t *j = fixJson(&resp);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "not_found");
    json_decref(j);
    tbHttpResponseFree(&resp);
    r.req.path = "/api/v1/rooms/x/tokens";
    assert_int_equal(fixCall(f, &r, &resp), 405);
    assert_string_equal(header(&resp, "Allow"), "POST");
    tbHttpResponseFree(&resp);
    r.req.method = TB_HTTP_OPTIONS;
    r.req.path = "/twirp/livekit.RoomService/ListRooms";
    assert_int_equal(fixCall(f, &r, &resp), 204);
    assert_non_null(strstr(header(&resp, "Access-Control-Allow-Headers"), "Authorization"));
    tbHttpResponseFree(&resp);
}

static void test_metrics_port_serves_metrics_only(void **state) {
    apiFixture *f = *state;
    fixReq r = {.req = {.method = TB_HTTP_GET, .path = "/metrics", .metrics_only = true}};
    tbHttpResponse resp;
    assert_int_equal(fixCall(f, &r, &resp), 200);
    tbHttpResponseFree(&resp);
    r.req.method = TB_HTTP_POST;
    r.req.path = "/twirp/livekit.RoomService/ListRooms";
    assert_int_equal(fixCall(f, &r, &resp), 404);
    tbHttpResponseFree(&resp);
}

static void test_metrics_count_requests_and_tokens(void **state) {
    apiFixture *f = *state;
    fixReq r = {.req = {.method = TB_HTTP_GET, .path = "/rtc/validate"}};
    tbHttpResponse resp;
    fixBearer(&r, "not.a.token");
    assert_int_equal(fixCall(f, &r, &resp), 401);
    tbHttpResponseFree(&resp);
    fixReq m = {.req = {.method = TB_HTTP_GET, .path = "/metrics"}};
    assert_int_equal(fixCall(f, &m, &resp), 200);
    const char *text = fixText(&resp);
    assert_non_null(strstr(text, "tribune_http_requests_total{route=\"/rtc/validate\","
                                 "status=\"401\"} 1\n"));
    assert_non_null(strstr(text, "tribune_token_validations_total{result=\"malformed\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE tribune_rooms gauge\ntribune_rooms 0\n"));
    assert_non_null(strstr(text, "tribune_build_info{version=\"test\""));
    tbHttpResponseFree(&resp);
}

/* ---- /rtc/validate ------------------------------------------------------- */

static int validate(apiFixture *f, const char *path, const char *token, const char *jr,
                    tbHttpResponse *resp) {
    fixReq r = {.req = {.method = TB_HTTP_GET, .path = path}};
    size_t n = 0;
    if (token) r.req.args[n++] = (tbHttpArg){"access_token", token};
    if (jr) r.req.args[n++] = (tbHttpArg){"join_request", jr};
    r.req.num_args = n;
    return fixCall(f, &r, resp);
}

static void test_validate(void **state) {
    apiFixture *f = *state;
    tbHttpResponse resp;
    tbVideoGrant g = fixGrant();
    g.room_join = true;
    g.room = "debate";
    char *ok = fixToken("alice", &g, 600);
    assert_int_equal(validate(f, "/rtc/validate", ok, NULL, &resp), 200);
    assert_string_equal(fixText(&resp), "success");
    assert_string_equal(header(&resp, "Access-Control-Allow-Origin"), "*");
    tbHttpResponseFree(&resp);

    assert_int_equal(validate(f, "/rtc/validate", NULL, NULL, &resp), 401);
    tbHttpResponseFree(&resp);
    char bad[2048];
    snprintf(bad, sizeof bad, "%sx", ok);
    assert_int_equal(validate(f, "/rtc/validate", bad, NULL, &resp), 401);
    assert_non_null(strstr(fixText(&resp), "invalid authorization token"));
    tbHttpResponseFree(&resp);

    /* /rtc/v1 needs the join_request */
    assert_int_equal(validate(f, "/rtc/v1/validate", ok, NULL, &resp), 400);
    assert_string_equal(fixText(&resp), "join_request is required");
    tbHttpResponseFree(&resp);
    assert_int_equal(validate(f, "/rtc/v1/validate", ok, "***", &resp), 400);
    tbHttpResponseFree(&resp);
    assert_int_equal(validate(f, "/rtc/v1/validate", ok, "CgA", &resp), 200);
    tbHttpResponseFree(&resp);
    free(ok);
}

static void test_validate_refusals(void **state) {
    apiFixture *f = *state;
    tbHttpResponse resp;
    tbVideoGrant g = fixGrant();
    g.room = "debate";
    char *nojoin = fixToken("alice", &g, 600);
    assert_int_equal(validate(f, "/rtc/validate", nojoin, NULL, &resp), 401);
    assert_non_null(strstr(fixText(&resp), "permissions"));
    tbHttpResponseFree(&resp);
    g.room_join = true;
    char *noid = fixToken(NULL, &g, 600);
    assert_int_equal(validate(f, "/rtc/validate", noid, NULL, &resp), 400);
    assert_string_equal(fixText(&resp), "identity cannot be empty");
    tbHttpResponseFree(&resp);
    char *expired = fixToken("alice", &g, -120);
    assert_int_equal(validate(f, "/rtc/validate", expired, NULL, &resp), 401);
    assert_non_null(strstr(fixText(&resp), "expired"));
    tbHttpResponseFree(&resp);
    /* auto_create off: the room must exist */
    f->cfg.room.auto_create = false;
    char *ok = fixToken("alice", &g, 600);
    assert_int_equal(validate(f, "/rtc/validate", ok, NULL, &resp), 404);
    assert_string_equal(fixText(&resp), "requested room does not exist");
    tbHttpResponseFree(&resp);
    bool created;
    tbRegistryCreate(&f->reg, &(tbRoomOptions){.name = "debate"}, FIX_NOW_MS, &created);
    assert_int_equal(validate(f, "/rtc/validate", ok, NULL, &resp), 200);
    tbHttpResponseFree(&resp);
    free(nojoin);
    free(noid);
    free(expired);
    free(ok);
}

/* ---- REST token endpoint ------------------------------------------------- */

static int postToken(apiFixture *f, fixReq *r, const char *room, const char *body,
                     tbHttpResponse *resp) {
    char path[512];
    snprintf(path, sizeof path, "/api/v1/rooms/%s/tokens", room);
    r->req.method = TB_HTTP_POST;
    r->req.path = path;
    if (body)
        fixBody(r, r->req.content_type ? r->req.content_type : "application/json", body);
    return fixCall(f, r, resp);
}

static const char *lookup(void *ctx, const char *key) {
    return tbConfigSecretFor(ctx, key);
}

static void test_token_basic_auth(void **state) {
    apiFixture *f = *state;
    fixReq r = {0};
    r.req.host = "sfu.example.org:7880";
    r.req.forwarded_proto = "https";
    fixBasic(&r, FIX_KEY, FIX_SECRET);
    tbHttpResponse resp;
    const char *body = "{\"identity\":\"alice\",\"name\":\"Alice\",\"metadata\":\"{}\","
                       "\"attributes\":{\"team\":\"red\"},\"ttl_seconds\":600,"
                       "\"permissions\":{\"can_publish\":false,\"room_admin\":true}}";
    assert_int_equal(postToken(f, &r, "debate", body, &resp), 201);
    json_t *j = fixJson(&resp);
    assert_string_equal(json_string_value(json_object_get(j, "ws_url")),
                        "wss://sfu.example.org:7880");
    assert_string_equal(json_string_value(json_object_get(j, "room")), "debate");
    assert_int_equal(json_integer_value(json_object_get(j, "expires_at")),
                     FIX_NOW_MS / 1000 + 600);
    tbClaims c;
    tbClaimsInit(&c);
    const char *token = json_string_value(json_object_get(j, "token"));
    assert_int_equal(tbTokenVerify(token, lookup, &f->cfg, FIX_NOW_MS / 1000, &c, NULL, 0),
                     TB_TOKEN_OK);
    assert_string_equal(c.identity, "alice");
    assert_string_equal(c.name, "Alice");
    assert_string_equal(c.video.room, "debate");
    assert_true(c.video.room_join);
    assert_true(c.video.room_admin);
    assert_false(tbGrantCanPublish(&c.video));
    assert_true(tbGrantCanSubscribe(&c.video));
    assert_string_equal(json_string_value(json_object_get(c.attributes, "team")), "red");
    assert_int_equal(c.exp - c.nbf, 600);
    tbClaimsFree(&c);
    json_decref(j);
    tbHttpResponseFree(&resp);
}

static void test_token_bearer_grants(void **state) {
    apiFixture *f = *state;
    tbHttpResponse resp;
    tbVideoGrant g = fixGrant();
    struct {
        bool create, admin, join;
        const char *room;
        int status;
    } cases[] = {
        {true, false, false, NULL, 201},   /* roomCreate: any room */
        {false, true, false, "debate", 201}, /* roomAdmin for this room */
        {false, true, false, "other", 403},  /* roomAdmin elsewhere */
        {false, false, true, "debate", 403}, /* a participant token */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g.room_create = cases[i].create;
        g.room_admin = cases[i].admin;
        g.room_join = cases[i].join;
        g.room = (char *)cases[i].room;
        char *t = fixToken("backend", &g, 600);
        fixReq r = {0};
        fixBearer(&r, t);
        assert_int_equal(postToken(f, &r, "debate", "{\"identity\":\"bob\"}", &resp),
                         cases[i].status);
        tbHttpResponseFree(&resp);
        free(t);
    }
}

/* Each bad request gets its status and a {code, msg} naming the problem. */
static void expectError(apiFixture *f, fixReq *r, const char *room, const char *body,
                        int status, const char *needle) {
    tbHttpResponse resp;
    assert_int_equal(postToken(f, r, room, body, &resp), status);
    json_t *j = fixJson(&resp);
    assert_non_null(j);
    const char *msg = json_string_value(json_object_get(j, "msg"));
    assert_non_null(json_string_value(json_object_get(j, "code")));
    if (!strstr(msg, needle)) fail_msg("`%s` does not mention `%s`", msg, needle);
    json_decref(j);
    tbHttpResponseFree(&resp);
}

static void test_token_errors(void **state) {
    apiFixture *f = *state;
    fixReq r = {0};
    fixBasic(&r, FIX_KEY, FIX_SECRET);
    expectError(f, &r, "a", "{\"identity\":", 400, "JSON");
    expectError(f, &r, "a", "[]", 400, "object");
    expectError(f, &r, "a", "{}", 400, "identity");
    expectError(f, &r, "a", "{\"identity\":7}", 400, "identity");
    expectError(f, &r, "a", "{\"identity\":\"x\",\"ttl_seconds\":0}", 400, "ttl_seconds");
    expectError(f, &r, "a", "{\"identity\":\"x\",\"ttl_seconds\":\"1h\"}", 400, "ttl_seconds");
    expectError(f, &r, "a", "{\"identity\":\"x\",\"colour\":1}", 400, "colour");
    expectError(f, &r, "a", "{\"identity\":\"x\",\"permissions\":{\"fly\":true}}", 400,
                "permissions.fly");
    expectError(f, &r, "a", "{\"identity\":\"x\",\"permissions\":{\"hidden\":1}}", 400,
                "permissions.hidden");
    expectError(f, &r, "a", "{\"identity\":\"x\",\"attributes\":{\"k\":1}}", 400,
                "attributes.k");
    f->cfg.limit.max_metadata_size = 4;
    expectError(f, &r, "a", "{\"identity\":\"x\",\"metadata\":\"12345\"}", 400, "metadata");
    char longroom[300];
    memset(longroom, 'r', 299);
    longroom[299] = '\0';
    expectError(f, &r, longroom, "{\"identity\":\"x\"}", 400, "room name");
    expectError(f, &r, "", "{\"identity\":\"x\"}", 404, "/api/v1/rooms/{room}/tokens");
    fixReq t = r;
    fixBody(&t, "text/plain", "{\"identity\":\"x\"}");
    expectError(f, &t, "a", NULL, 415, "application/json");
    fixReq big = r;
    big.req.body_too_large = true;
    expectError(f, &big, "a", "{}", 413, "exceeds");
}

static void test_token_auth_errors(void **state) {
    apiFixture *f = *state;
    tbHttpResponse resp;
    fixReq none = {0};
    assert_int_equal(postToken(f, &none, "a", "{\"identity\":\"x\"}", &resp), 401);
    assert_non_null(header(&resp, "WWW-Authenticate"));
    tbHttpResponseFree(&resp);
    fixReq wrong = {0};
    fixBasic(&wrong, FIX_KEY, "not-the-secret");
    expectError(f, &wrong, "a", "{\"identity\":\"x\"}", 401, "secret");
    fixReq unknown = {0};
    fixBasic(&unknown, "nokey", FIX_SECRET);
    expectError(f, &unknown, "a", "{\"identity\":\"x\"}", 401, "API key");
    fixReq garbage = {0};
    garbage.req.authorization = "Basic !!!";
    expectError(f, &garbage, "a", "{\"identity\":\"x\"}", 401, "Basic");
    fixReq scheme = {0};
    scheme.req.authorization = "Digest abc";
    expectError(f, &scheme, "a", "{\"identity\":\"x\"}", 401, "Bearer");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root_and_healthz, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_route_and_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_port_serves_metrics_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_count_requests_and_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_basic_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_bearer_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_auth_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
