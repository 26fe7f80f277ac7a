/* test_webhook.c — unit tests for src/webhook/webhook_event.c: the
 * WebhookEvent JSON of each event kind (names, room, the participant in
 * full or as sid + identity, the track, id, createdAt as a string) and the
 * Authorization JWT (verifies with auth/token.c, iss, nbf/exp 5 minutes
 * apart, sha256 = base64 of the body's SHA-256, computed here with OpenSSL).
 * The delivery (webhook.c) is tested end to end by
 * tests/interop/webhook.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "auth/base64url.h"
#include "auth/token.h"
#include "room/registry.h"
#include "webhook/webhook_event.h"

#define NOW INT64_C(1700000000)
#define KEY "whkey"
#define SECRET "webhook-secret-of-at-least-32-chars"

static const char *lookup(void *ctx, const char *api_key) {
    (void)ctx;
    return strcmp(api_key, KEY) == 0 ? SECRET : NULL;
}

typedef struct fixture {
    tbRegistry reg;
    tbRoom *room;
    tbParticipant *p;
    tbTrack *t;
} fixture;

static void setup(fixture *f) {
    tbRegistryInit(&f->reg, (tbRoomDefaults){300, 20, 0});
    bool created = false;
    tbRoomOptions o = {.name = "hooks"};
    f->room = tbRegistryCreate(&f->reg, &o, NOW * 1000, &created);
    assert_non_null(f->room);
    tbPermission perm = {.can_publish = true, .can_subscribe = true};
    f->p = tbRoomAddParticipant(f->room, "alice", "Alice", &perm, NOW * 1000);
    assert_non_null(f->p);
    f->t = tbParticipantAddTrack(f->p, "microphone", 0, 2, "audio/opus");
    assert_non_null(f->t);
}

static const char *str(json_t *o, const char *path1, const char *path2) {
    json_t *v = json_object_get(o, path1);
    if (path2) v = json_object_get(v, path2);
    return json_string_value(v);
}

static void test_event_json(void **state) {
    (void)state;
    fixture f;
    setup(&f);
    json_t *j = tbWebhookEventJson(TB_WEBHOOK_ROOM_STARTED, f.room, NULL, NULL, "EV_x", NOW);
    assert_non_null(j);
    assert_string_equal(str(j, "event", NULL), "room_started");
    assert_string_equal(str(j, "room", "name"), "hooks");
    assert_string_equal(str(j, "room", "sid"), f.room->sid);
    assert_string_equal(str(j, "id", NULL), "EV_x");
    assert_string_equal(str(j, "createdAt", NULL), "1700000000"); /* int64: a string */
    assert_null(json_object_get(j, "participant"));
    assert_null(json_object_get(j, "track"));
    json_decref(j);

    j = tbWebhookEventJson(TB_WEBHOOK_PARTICIPANT_JOINED, f.room, f.p, NULL, "EV_y", NOW);
    assert_string_equal(str(j, "event", NULL), "participant_joined");
    assert_string_equal(str(j, "participant", "identity"), "alice");
    assert_string_equal(str(j, "participant", "name"), "Alice");
    assert_string_equal(str(j, "participant", "sid"), f.p->sid);
    json_decref(j);

    j = tbWebhookEventJson(TB_WEBHOOK_TRACK_PUBLISHED, f.room, f.p, f.t, "EV_z", NOW);
    assert_string_equal(str(j, "event", NULL), "track_published");
    assert_string_equal(str(j, "participant", "identity"), "alice");
    assert_null(json_object_get(json_object_get(j, "participant"), "name")); /* sid+identity */
    assert_string_equal(str(j, "track", "sid"), f.t->sid);
    assert_string_equal(str(j, "track", "name"), "microphone");
    json_decref(j);

    assert_string_equal(tbWebhookEventName(TB_WEBHOOK_ROOM_FINISHED), "room_finished");
    assert_string_equal(tbWebhookEventName(TB_WEBHOOK_PARTICIPANT_LEFT), "participant_left");
    assert_string_equal(tbWebhookEventName(TB_WEBHOOK_TRACK_UNPUBLISHED), "track_unpublished");
    tbRegistryFree(&f.reg);
}

static void test_sign(void **state) {
    (void)state;
    const char *body = "{\"event\":\"room_started\"}";
    char *jwt = tbWebhookSign(body, strlen(body), KEY, SECRET, NOW);
    assert_non_null(jwt);
    tbClaims c;
    char why[128] = "";
    assert_int_equal(tbTokenVerify(jwt, lookup, NULL, NOW, &c, why, sizeof why), TB_TOKEN_OK);
    assert_string_equal(c.api_key, KEY);
    assert_int_equal(c.nbf, NOW);
    assert_int_equal(c.exp, NOW + TB_WEBHOOK_TOKEN_TTL_S);
    uint8_t sum[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, strlen(body), sum);
    char *b64 = tbBase64Encode(sum, sizeof sum);
    assert_non_null(c.sha256);
    assert_string_equal(c.sha256, b64);
    assert_int_equal(strlen(b64), 44); /* standard base64, padded */
    free(b64);
    tbClaimsFree(&c);
    /* expired after 5 minutes (+ the verifier's leeway) */
    assert_int_equal(tbTokenVerify(jwt, lookup, NULL, NOW + 400, &c, why, sizeof why),
                     TB_TOKEN_EXPIRED);
    free(jwt);
    assert_null(tbWebhookSign(NULL, 0, KEY, SECRET, NOW));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_sign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
