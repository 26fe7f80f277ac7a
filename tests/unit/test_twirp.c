/* test_twirp.c — Twirp RoomService over the registry: the JSON bodies
 * livekit-server-sdk sends (camelCase) and the JSON it gets back (proto3
 * mapping: int64 as strings, defaults omitted), application/protobuf,
 * LiveKit's grant rules, and Twirp's error codes and statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/twirp.h"
#include "api_fixture.h"
#include "livekit_room.pb-c.h"

typedef struct twFixture {
    apiFixture *f;
    char *creator;              /* roomCreate + roomList */
    char *admin;                /* roomAdmin for "debate" */
} twFixture;

static int setup(void **state) {
    twFixture *t = calloc(1, sizeof *t);
    t->f = fixNew();
    tbVideoGrant g = fixGrant();
    g.room_create = g.room_list = true;
    t->creator = fixToken("backend", &g, 600);
    g = fixGrant();
    g.room_admin = true;
    g.room = "debate";
    t->admin = fixToken("moderator", &g, 600);
    *state = t;
    return 0;
}

static int teardown(void **state) {
    twFixture *t = *state;
    fixFree(t->f);
    free(t->creator);
    free(t->admin);
    free(t);
    return 0;
}

/* POSTs a JSON Twirp call; returns the status, parsed body in *out. */
static int call(twFixture *t, const char *token, const char *method, const char *body,
                json_t **out) {
    char path[128];
    snprintf(path, sizeof path, "/twirp/livekit.RoomService/%s", method);
    fixReq r = {.req = {.method = TB_HTTP_POST, .path = path}};
    if (token) fixBearer(&r, token);
    fixBody(&r, "application/json", body);
    tbHttpResponse resp;
    int status = fixCall(t->f, &r, &resp);
    assert_string_equal(resp.content_type, "application/json");
    *out = fixJson(&resp);
    assert_non_null(*out);
    tbHttpResponseFree(&resp);
    return status;
}

static const char *str(json_t *j, const char *k) { return json_string_value(json_object_get(j, k)); }

static void expectTwirpError(twFixture *t, const char *token, const char *method,
                             const char *body, int status, const char *code) {
    json_t *j;
    assert_int_equal(call(t, token, method, body, &j), status);
    assert_string_equal(str(j, "code"), code);
    assert_non_null(str(j, "msg"));
    json_decref(j);
}

static void test_create_list_delete(void **state) {
    twFixture *t = *state;
    json_t *j;
    /* the body livekit-server-sdk 2.19.2 sends for createRoom({...}) */
    assert_int_equal(call(t, t->creator, "CreateRoom",
                          "{\"name\":\"debate\",\"emptyTimeout\":600,\"departureTimeout\":30,"
                          "\"maxParticipants\":20,\"metadata\":\"m\"}",
                          &j),
                     200);
    assert_string_equal(str(j, "name"), "debate");
    assert_int_equal(strncmp(str(j, "sid"), "RM_", 3), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "emptyTimeout")), 600);
    assert_int_equal(json_integer_value(json_object_get(j, "maxParticipants")), 20);
    char expect[32];
    snprintf(expect, sizeof expect, "%lld", (long long)(FIX_NOW_MS / 1000));
    assert_string_equal(str(j, "creationTime"), expect); /* int64 as a string */
    assert_null(json_object_get(j, "numParticipants"));   /* 0 is omitted */
    char *sid = strdup(str(j, "sid"));
    json_decref(j);
    /* creating it again returns the same room */
    assert_int_equal(call(t, t->creator, "CreateRoom", "{\"name\":\"debate\"}", &j), 200);
    assert_string_equal(str(j, "sid"), sid);
    json_decref(j);
    assert_int_equal(call(t, t->creator, "CreateRoom", "{\"name\":\"other\"}", &j), 200);
    json_decref(j);
    assert_int_equal(call(t, t->creator, "ListRooms", "{}", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "rooms")), 2);
    json_decref(j);
    assert_int_equal(call(t, t->creator, "ListRooms", "{\"names\":[\"other\"]}", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "rooms")), 1);
    assert_string_equal(str(json_array_get(json_object_get(j, "rooms"), 0), "name"), "other");
    json_decref(j);
    assert_int_equal(call(t, t->creator, "DeleteRoom", "{\"room\":\"debate\"}", &j), 200);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
    assert_null(tbRegistryFind(&t->f->reg, "debate"));
    expectTwirpError(t, t->creator, "DeleteRoom", "{\"room\":\"debate\"}", 404, "not_found");
    free(sid);
}

static void test_grants(void **state) {
    twFixture *t = *state;
    expectTwirpError(t, NULL, "ListRooms", "{}", 401, "unauthenticated");
    expectTwirpError(t, t->admin, "CreateRoom", "{\"name\":\"x\"}", 401, "unauthenticated");
    expectTwirpError(t, t->admin, "ListRooms", "{}", 401, "unauthenticated");
    expectTwirpError(t, t->creator, "ListParticipants", "{\"room\":\"debate\"}", 401,
                     "unauthenticated");
    expectTwirpError(t, t->admin, "ListParticipants", "{\"room\":\"elsewhere\"}", 401,
                     "unauthenticated");
    expectTwirpError(t, t->admin, "ListParticipants", "{\"room\":\"debate\"}", 404, "not_found");
    expectTwirpError(t, "bad.token.here", "ListRooms", "{}", 401, "unauthenticated");
}

static void test_errors(void **state) {
    twFixture *t = *state;
    expectTwirpError(t, t->creator, "Explode", "{}", 404, "bad_route");
    expectTwirpError(t, t->creator, "CreateRoom", "{\"name\":", 400, "malformed");
    expectTwirpError(t, t->creator, "CreateRoom", "{\"name\":5}", 400, "malformed");
    expectTwirpError(t, t->creator, "CreateRoom", "{}", 400, "invalid_argument");
    expectTwirpError(t, t->admin, "UpdateSubscriptions", "{\"room\":\"debate\"}", 501,
                     "unimplemented");
    expectTwirpError(t, t->admin, "SendData", "{\"room\":\"debate\"}", 404, "not_found");
    expectTwirpError(t, t->creator, "SendData", "{\"room\":\"debate\"}", 401, "unauthenticated");
    /* unknown fields are ignored, as protobuf JSON parsers do */
    json_t *j;
    assert_int_equal(call(t, t->creator, "CreateRoom", "{\"name\":\"u\",\"fancy\":1}", &j), 200);
    json_decref(j);
    /* wrong content type is a bad route in Twirp */
    fixReq r = {.req = {.method = TB_HTTP_POST, .path = "/twirp/livekit.RoomService/ListRooms"}};
    fixBearer(&r, t->creator);
    fixBody(&r, "text/plain", "{}");
    tbHttpResponse resp;
    assert_int_equal(fixCall(t->f, &r, &resp), 404);
    tbHttpResponseFree(&resp);
}

/* A room with two participants, one publishing a track, as signaling will
 * create them (media issue). */
static tbTrack *populate(twFixture *t) {
    bool created;
    tbRoom *room = tbRegistryCreate(&t->f->reg, &(tbRoomOptions){.name = "debate"}, FIX_NOW_MS,
                                    &created);
    tbPermission perm = {true, true, true, false, false};
    tbParticipant *a = tbRoomAddParticipant(room, "alice", "Alice", &perm, FIX_NOW_MS);
    tbRoomAddParticipant(room, "bob", "Bob", &perm, FIX_NOW_MS);
    json_object_set_new(a->attributes, "team", json_string("red"));
    return tbParticipantAddTrack(a, "mic", 0, 2, "audio/opus");
}

static void test_participants(void **state) {
    twFixture *t = *state;
    tbTrack *track = populate(t);
    json_t *j;
    assert_int_equal(call(t, t->admin, "ListParticipants", "{\"room\":\"debate\"}", &j), 200);
    json_t *ps = json_object_get(j, "participants");
    assert_int_equal(json_array_size(ps), 2);
    json_t *alice = json_array_get(ps, 0);
    assert_string_equal(str(alice, "identity"), "alice");
    assert_string_equal(str(alice, "state"), "JOINED");
    assert_true(json_is_true(json_object_get(alice, "isPublisher")));
    assert_true(json_is_true(
        json_object_get(json_object_get(alice, "permission"), "canPublish")));
    assert_string_equal(str(json_object_get(alice, "attributes"), "team"), "red");
    json_t *tr = json_array_get(json_object_get(alice, "tracks"), 0);
    assert_string_equal(str(tr, "sid"), track->sid);
    assert_string_equal(str(tr, "source"), "MICROPHONE");
    assert_string_equal(str(tr, "mimeType"), "audio/opus");
    json_decref(j);

    assert_int_equal(call(t, t->admin, "GetParticipant",
                          "{\"room\":\"debate\",\"identity\":\"bob\"}", &j), 200);
    assert_string_equal(str(j, "name"), "Bob");
    json_decref(j);
    expectTwirpError(t, t->admin, "GetParticipant", "{\"room\":\"debate\",\"identity\":\"eve\"}",
                     404, "not_found");
}

static void test_participant_changes(void **state) {
    twFixture *t = *state;
    tbTrack *track = populate(t);
    json_t *j;
    char body[256];
    snprintf(body, sizeof body,
             "{\"room\":\"debate\",\"identity\":\"alice\",\"trackSid\":\"%s\",\"muted\":true}",
             track->sid);
    assert_int_equal(call(t, t->admin, "MutePublishedTrack", body, &j), 200);
    assert_true(json_is_true(json_object_get(json_object_get(j, "track"), "muted")));
    json_decref(j);
    assert_true(track->muted);
    snprintf(body, sizeof body,
             "{\"room\":\"debate\",\"identity\":\"alice\",\"trackSid\":\"%s\",\"muted\":false}",
             track->sid);
    expectTwirpError(t, t->admin, "MutePublishedTrack", body, 412, "failed_precondition");

    assert_int_equal(call(t, t->admin, "UpdateParticipant",
                          "{\"room\":\"debate\",\"identity\":\"alice\",\"metadata\":\"md\","
                          "\"name\":\"Al\",\"attributes\":{\"team\":\"\",\"seat\":\"3\"},"
                          "\"permission\":{\"canSubscribe\":true}}",
                          &j),
                     200);
    assert_string_equal(str(j, "metadata"), "md");
    assert_string_equal(str(j, "name"), "Al");
    json_t *attrs = json_object_get(j, "attributes");
    assert_null(json_object_get(attrs, "team")); /* empty value deletes */
    assert_string_equal(str(attrs, "seat"), "3");
    assert_null(json_object_get(json_object_get(j, "permission"), "canPublish"));
    json_decref(j);

    assert_int_equal(call(t, t->admin, "UpdateRoomMetadata",
                          "{\"room\":\"debate\",\"metadata\":\"topic: C vs Rust\"}", &j), 200);
    assert_string_equal(str(j, "metadata"), "topic: C vs Rust");
    assert_int_equal(json_integer_value(json_object_get(j, "numParticipants")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "numPublishers")), 1);
    json_decref(j);

    assert_int_equal(call(t, t->admin, "RemoveParticipant",
                          "{\"room\":\"debate\",\"identity\":\"bob\"}", &j), 200);
    json_decref(j);
    assert_null(tbRoomFindParticipant(tbRegistryFind(&t->f->reg, "debate"), "bob"));
    expectTwirpError(t, t->admin, "RemoveParticipant", "{\"room\":\"debate\",\"identity\":\"bob\"}",
                     404, "not_found");
}

static void test_protobuf_content_type(void **state) {
    twFixture *t = *state;
    Livekit__CreateRoomRequest req;
    livekit__create_room_request__init(&req);
    req.name = "pb-room";
    req.max_participants = 7;
    uint8_t buf[64];
    size_t n = livekit__create_room_request__pack(&req, buf);
    fixReq r = {.req = {.method = TB_HTTP_POST, .path = "/twirp/livekit.RoomService/CreateRoom",
                        .content_type = "application/protobuf", .body = buf, .body_len = n}};
    fixBearer(&r, t->creator);
    tbHttpResponse resp;
    assert_int_equal(fixCall(t->f, &r, &resp), 200);
    assert_string_equal(resp.content_type, "application/protobuf");
    Livekit__Room *room = livekit__room__unpack(NULL, resp.body.len, tbSbufData(&resp.body));
    assert_non_null(room);
    assert_string_equal(room->name, "pb-room");
    assert_int_equal(room->max_participants, 7);
    livekit__room__free_unpacked(room, NULL);
    tbHttpResponseFree(&resp);
    /* garbage protobuf is malformed */
    r.req.body = (const uint8_t *)"\xff\xff\xff";
    r.req.body_len = 3;
    assert_int_equal(fixCall(t->f, &r, &resp), 400);
    tbHttpResponseFree(&resp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_participants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_participant_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protobuf_content_type, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
