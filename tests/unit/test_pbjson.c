/* test_pbjson.c — unit tests for src/proto/pbjson.c (proto3 JSON mapping over
 * protobuf-c descriptors) and for the generated LiveKit messages.
 *
 * Reference outputs ("from protobuf-es") were produced with @livekit/protocol's
 * own classes (toJson()/toBinary(), as livekit-server-sdk 2.19.2 uses them),
 * so these tests pin both our JSON and our wire bytes to what the SDKs emit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "livekit_models.pb-c.h"
#include "livekit_room.pb-c.h"
#include "proto/pbjson.h"

/* ---------------------------------------------------------- helpers ---- */

static json_t *loadJson(const char *text) {
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL) fail_msg("bad test JSON (%s): %s", e.text, text);
    return j;
}

/* Parses `text` as `desc`; asserts success. */
static ProtobufCMessage *fromText(const ProtobufCMessageDescriptor *desc, const char *text) {
    char err[256] = "unset";
    json_t *j = loadJson(text);
    ProtobufCMessage *m = tbPbFromJson(desc, j, err, sizeof err);
    json_decref(j);
    if (m == NULL) fail_msg("tbPbFromJson(%s) failed: %s", text, err);
    return m;
}

/* Parses `text` as `desc`; asserts failure with an error containing `want`. */
static void expectError(const ProtobufCMessageDescriptor *desc, const char *text, const char *want) {
    char err[256] = "";
    json_t *j = loadJson(text);
    ProtobufCMessage *m = tbPbFromJson(desc, j, err, sizeof err);
    json_decref(j);
    if (m != NULL) {
        protobuf_c_message_free_unpacked(m, NULL);
        fail_msg("expected an error for %s", text);
    }
    if (strstr(err, want) == NULL) fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

/* Serialises msg and compares it with `expected` (as JSON values). */
static void expectJson(const ProtobufCMessage *msg, const char *expected) {
    json_t *got = tbPbToJson(msg);
    assert_non_null(got);
    json_t *want = loadJson(expected);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
        fprintf(stderr, "# got:  %s\n# want: %s\n", g, w);
        free(g);
        free(w);
        fail_msg("JSON mismatch");
    }
    json_decref(got);
    json_decref(want);
}

static char *toHex(const uint8_t *p, size_t n) {
    char *s = malloc(n * 2 + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[n * 2] = '\0';
    return s;
}

/* Packs msg and compares with the hex of the expected wire bytes. */
static void expectPacked(const ProtobufCMessage *msg, const char *hex) {
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(msg, buf), n);
    char *got = toHex(buf, n);
    assert_string_equal(got, hex);
    free(got);
    free(buf);
}

/* JSON -> message -> pack -> unpack -> JSON must give the same JSON back. */
static void expectWireRoundTrip(const ProtobufCMessageDescriptor *desc, const char *text) {
    ProtobufCMessage *m = fromText(desc, text);
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *u = protobuf_c_message_unpack(desc, NULL, n, buf);
    assert_non_null(u);
    expectJson(u, text);
    expectJson(m, text);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    free(buf);
}

/* Room as livekit-server-sdk's Room class writes it (toJson / toBinary). */
static const char roomJson[] =
    "{\"sid\":\"RM_abc\",\"name\":\"x\",\"emptyTimeout\":600,\"creationTime\":\"1700000000\","
    "\"enabledCodecs\":[{\"mime\":\"audio/opus\"}],\"numParticipants\":3,"
    "\"version\":{\"unixMicro\":\"1700000000123456\",\"ticks\":2},"
    "\"creationTimeMs\":\"1700000000123\"}";
static const char roomHex[] = "0a06524d5f61626312017818d8042880e2cfaa063a0c0a0a617564696f2f6f707573"
                              "48036a0b08c0c480c1c1c48203100278fbd095ffbc31";

/* ParticipantInfo with a track, permission and attributes (protobuf-es). */
static const char participantJson[] =
    "{\"sid\":\"PA_1\",\"identity\":\"alice\",\"state\":\"ACTIVE\",\"tracks\":[{\"sid\":\"TR_1\","
    "\"muted\":true,\"source\":\"MICROPHONE\",\"mimeType\":\"audio/opus\"}],\"joinedAt\":"
    "\"1700000000\",\"permission\":{\"canPublish\":true},\"isPublisher\":true,\"attributes\":"
    "{\"a\":\"1\"}}";
static const char participantHex[] =
    "0a0450415f311205616c696365180222160a0454525f31200148025a0a617564696f2f6f7075733080e2cfaa06"
    "5a02100168017a060a0161120131";

/* ------------------------------------------------------------ tests ---- */

static void testRoomToJsonMatchesSdk(void **state) {
    (void)state;
    Livekit__Room room;
    Livekit__Codec opus;
    Livekit__TimedVersion ver;
    livekit__room__init(&room);
    livekit__codec__init(&opus);
    livekit__timed_version__init(&ver);
    opus.mime = "audio/opus";
    Livekit__Codec *codecs[] = {&opus};
    ver.unix_micro = 1700000000123456;
    ver.ticks = 2;
    room.sid = "RM_abc";
    room.name = "x";
    room.empty_timeout = 600;
    room.creation_time = 1700000000;
    room.creation_time_ms = 1700000000123;
    room.n_enabled_codecs = 1;
    room.enabled_codecs = codecs;
    room.num_participants = 3;
    room.version = &ver;

    expectJson(&room.base, roomJson);
    expectPacked(&room.base, roomHex);
}

static void testRoomRoundTrip(void **state) {
    (void)state;
    Livekit__Room *r = (Livekit__Room *)fromText(&livekit__room__descriptor, roomJson);
    assert_string_equal(r->sid, "RM_abc");
    assert_string_equal(r->name, "x");
    assert_int_equal(r->empty_timeout, 600);
    assert_true(r->creation_time == 1700000000);
    assert_true(r->creation_time_ms == 1700000000123);
    assert_int_equal(r->n_enabled_codecs, 1);
    assert_string_equal(r->enabled_codecs[0]->mime, "audio/opus");
    assert_string_equal(r->enabled_codecs[0]->fmtp_line, "");
    assert_non_null(r->version);
    assert_true(r->version->unix_micro == 1700000000123456);
    assert_int_equal(r->version->ticks, 2);
    assert_int_equal(r->num_participants, 3);
    expectPacked(&r->base, roomHex);
    expectJson(&r->base, roomJson);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    expectWireRoundTrip(&livekit__room__descriptor, roomJson);
}

static void testIntegersAsStringsAndNumbers(void **state) {
    (void)state;
    const char *forms[] = {
        "{\"emptyTimeout\":600,\"creationTime\":1700000000}",
        "{\"emptyTimeout\":\"600\",\"creationTime\":\"1700000000\"}",
        "{\"emptyTimeout\":600.0,\"creationTime\":1.7e9}",
        "{\"emptyTimeout\":\"6e2\",\"creationTime\":\"1700000000.0\"}",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        Livekit__Room *r = (Livekit__Room *)fromText(&livekit__room__descriptor, forms[i]);
        assert_int_equal(r->empty_timeout, 600);
        assert_true(r->creation_time == 1700000000);
        expectJson(&r->base, "{\"emptyTimeout\":600,\"creationTime\":\"1700000000\"}");
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }

    /* Extremes of each width. */
    Livekit__Room *r = (Livekit__Room *)fromText(
        &livekit__room__descriptor,
        "{\"maxParticipants\":4294967295,\"creationTime\":\"-9223372036854775808\","
        "\"creationTimeMs\":\"9223372036854775807\"}");
    assert_int_equal(r->max_participants, UINT32_MAX);
    assert_true(r->creation_time == INT64_MIN);
    assert_true(r->creation_time_ms == INT64_MAX);
    expectJson(&r->base, "{\"maxParticipants\":4294967295,\"creationTime\":\"-9223372036854775808\","
                         "\"creationTimeMs\":\"9223372036854775807\"}");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    Livekit__TimedVersion *tv =
        (Livekit__TimedVersion *)fromText(&livekit__timed_version__descriptor, "{\"ticks\":-5}");
    assert_int_equal(tv->ticks, -5);
    protobuf_c_message_free_unpacked(&tv->base, NULL);

    Livekit__UserPacket *up = (Livekit__UserPacket *)fromText(
        &livekit__user_packet__descriptor, "{\"startTime\":\"18446744073709551615\"}");
    assert_int_equal(up->optional_start_time_case,
                     LIVEKIT__USER_PACKET__OPTIONAL_START_TIME_START_TIME);
    assert_true(up->start_time == UINT64_MAX);
    expectJson(&up->base, "{\"startTime\":\"18446744073709551615\"}");
    protobuf_c_message_free_unpacked(&up->base, NULL);
}

static void testIntegerRangeErrors(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *room = &livekit__room__descriptor;
    expectError(room, "{\"maxParticipants\":4294967296}", "field `maxParticipants`");
    expectError(room, "{\"maxParticipants\":4294967296}", "out of range");
    expectError(room, "{\"maxParticipants\":-1}", "field `maxParticipants`: -1 is out of range");
    expectError(room, "{\"emptyTimeout\":\"-1\"}", "field `emptyTimeout`");
    expectError(room, "{\"emptyTimeout\":1.5}", "field `emptyTimeout`: expected an integer");
    expectError(room, "{\"emptyTimeout\":\"12x\"}", "field `emptyTimeout`: expected an integer");
    expectError(room, "{\"emptyTimeout\":\" 12\"}", "field `emptyTimeout`");
    expectError(room, "{\"creationTime\":\"9223372036854775808\"}", "field `creationTime`");
    expectError(room, "{\"creationTime\":1e19}", "field `creationTime`: 1e+19 is out of range");
    expectError(&livekit__timed_version__descriptor, "{\"ticks\":2147483648}", "field `ticks`");
    expectError(&livekit__user_packet__descriptor, "{\"endTime\":\"18446744073709551616\"}",
                "field `endTime`");
}

static void testEnumsByNameAndNumber(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *pi = &livekit__participant_info__descriptor;
    Livekit__ParticipantInfo *p = (Livekit__ParticipantInfo *)fromText(pi, "{\"state\":\"ACTIVE\"}");
    assert_int_equal(p->state, LIVEKIT__PARTICIPANT_INFO__STATE__ACTIVE);
    protobuf_c_message_free_unpacked(&p->base, NULL);

    p = (Livekit__ParticipantInfo *)fromText(pi, "{\"state\":2,\"kind\":\"AGENT\"}");
    assert_int_equal(p->state, LIVEKIT__PARTICIPANT_INFO__STATE__ACTIVE);
    assert_int_equal(p->kind, LIVEKIT__PARTICIPANT_INFO__KIND__AGENT);
    expectJson(&p->base, "{\"state\":\"ACTIVE\",\"kind\":\"AGENT\"}");
    protobuf_c_message_free_unpacked(&p->base, NULL);

    /* A name from a newer schema is ignored (field stays default); an unknown
     * number is kept (proto3 enums are open) and written back as a number. */
    p = (Livekit__ParticipantInfo *)fromText(pi, "{\"state\":\"NOT_A_STATE\",\"kind\":99}");
    assert_int_equal(p->state, 0);
    assert_int_equal(p->kind, 99);
    expectJson(&p->base, "{\"kind\":99}");
    protobuf_c_message_free_unpacked(&p->base, NULL);

    /* Repeated enums. */
    Livekit__ParticipantPermission *perm = (Livekit__ParticipantPermission *)fromText(
        &livekit__participant_permission__descriptor,
        "{\"canPublishSources\":[\"MICROPHONE\",3,\"FUTURE_SOURCE\",\"CAMERA\"]}");
    assert_int_equal(perm->n_can_publish_sources, 3);
    assert_int_equal(perm->can_publish_sources[0], LIVEKIT__TRACK_SOURCE__MICROPHONE);
    assert_int_equal(perm->can_publish_sources[1], LIVEKIT__TRACK_SOURCE__SCREEN_SHARE);
    assert_int_equal(perm->can_publish_sources[2], LIVEKIT__TRACK_SOURCE__CAMERA);
    expectJson(&perm->base, "{\"canPublishSources\":[\"MICROPHONE\",\"SCREEN_SHARE\",\"CAMERA\"]}");
    protobuf_c_message_free_unpacked(&perm->base, NULL);

    expectError(pi, "{\"state\":true}", "field `state`: expected an enum name or number");
    expectError(pi, "{\"state\":1.5}", "field `state`");
}

static void testUnknownFieldsIgnored(void **state) {
    (void)state;
    Livekit__Room *r = (Livekit__Room *)fromText(
        &livekit__room__descriptor,
        "{\"name\":\"x\",\"bogus\":{\"a\":[1,2,{}]},\"alsoBogus\":null,\"n\":\"\"}");
    assert_string_equal(r->name, "x");
    expectJson(&r->base, "{\"name\":\"x\"}");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void testSnakeCaseAccepted(void **state) {
    (void)state;
    Livekit__CreateRoomRequest *c = (Livekit__CreateRoomRequest *)fromText(
        &livekit__create_room_request__descriptor,
        "{\"name\":\"r\",\"empty_timeout\":5,\"max_participants\":7,\"node_id\":\"n\","
        "\"departure_timeout\":9,\"sync_streams\":true}");
    assert_int_equal(c->empty_timeout, 5);
    assert_int_equal(c->max_participants, 7);
    assert_int_equal(c->departure_timeout, 9);
    assert_string_equal(c->node_id, "n");
    assert_true(c->sync_streams);
    expectJson(&c->base, "{\"name\":\"r\",\"emptyTimeout\":5,\"maxParticipants\":7,"
                         "\"nodeId\":\"n\",\"departureTimeout\":9,\"syncStreams\":true}");
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void testDefaultsOmitted(void **state) {
    (void)state;
    Livekit__Room room;
    livekit__room__init(&room);
    expectJson(&room.base, "{}");
    room.name = "x";
    expectJson(&room.base, "{\"name\":\"x\"}");

    /* Explicit defaults and nulls in the input read as absent. */
    Livekit__Room *r = (Livekit__Room *)fromText(
        &livekit__room__descriptor,
        "{\"sid\":\"\",\"name\":null,\"emptyTimeout\":0,\"creationTime\":\"0\","
        "\"activeRecording\":false,\"enabledCodecs\":[],\"version\":null}");
    assert_string_equal(r->name, "");
    assert_null(r->version);
    expectJson(&r->base, "{}");
    expectPacked(&r->base, "");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* An empty submessage is present: written as {}. */
    Livekit__ParticipantInfo p;
    Livekit__ParticipantPermission perm;
    livekit__participant_info__init(&p);
    livekit__participant_permission__init(&perm);
    p.permission = &perm;
    expectJson(&p.base, "{\"permission\":{}}");
}

static void testRepeatedMessages(void **state) {
    (void)state;
    static const char text[] =
        "{\"rooms\":[{\"sid\":\"RM_1\",\"name\":\"a\",\"numParticipants\":2},"
        "{\"sid\":\"RM_2\",\"name\":\"b\",\"metadata\":\"{\\\"k\\\":1}\","
        "\"enabledCodecs\":[{\"mime\":\"audio/opus\"},{\"mime\":\"audio/red\",\"fmtpLine\":\"x\"}]}]}";
    Livekit__ListRoomsResponse *l =
        (Livekit__ListRoomsResponse *)fromText(&livekit__list_rooms_response__descriptor, text);
    assert_int_equal(l->n_rooms, 2);
    assert_string_equal(l->rooms[0]->name, "a");
    assert_int_equal(l->rooms[0]->num_participants, 2);
    assert_string_equal(l->rooms[1]->metadata, "{\"k\":1}");
    assert_int_equal(l->rooms[1]->n_enabled_codecs, 2);
    assert_string_equal(l->rooms[1]->enabled_codecs[1]->fmtp_line, "x");
    expectJson(&l->base, text);
    protobuf_c_message_free_unpacked(&l->base, NULL);
    expectWireRoundTrip(&livekit__list_rooms_response__descriptor, text);

    /* Empty list: the field is omitted. */
    Livekit__ListRoomsResponse empty;
    livekit__list_rooms_response__init(&empty);
    expectJson(&empty.base, "{}");

    /* Repeated strings. */
    expectWireRoundTrip(&livekit__list_rooms_request__descriptor, "{\"names\":[\"a\",\"b\",\"\"]}");
}

static void testMapField(void **state) {
    (void)state;
    static const char text[] = "{\"identity\":\"bob\",\"attributes\":{\"a\":\"1\",\"b\":\"\",\"c d\":\"é\"}}";
    Livekit__ParticipantInfo *p =
        (Livekit__ParticipantInfo *)fromText(&livekit__participant_info__descriptor, text);
    assert_int_equal(p->n_attributes, 3);
    int seen = 0;
    for (size_t i = 0; i < p->n_attributes; i++) {
        if (strcmp(p->attributes[i]->key, "a") == 0 && strcmp(p->attributes[i]->value, "1") == 0)
            seen |= 1;
        if (strcmp(p->attributes[i]->key, "b") == 0 && strcmp(p->attributes[i]->value, "") == 0)
            seen |= 2;
        if (strcmp(p->attributes[i]->key, "c d") == 0) seen |= 4;
    }
    assert_int_equal(seen, 7);
    expectJson(&p->base, text);
    protobuf_c_message_free_unpacked(&p->base, NULL);
    expectWireRoundTrip(&livekit__participant_info__descriptor, text);

    /* Built in C, serialised as an object. */
    Livekit__UpdateParticipantRequest u;
    Livekit__UpdateParticipantRequest__AttributesEntry e;
    livekit__update_participant_request__init(&u);
    livekit__update_participant_request__attributes_entry__init(&e);
    e.key = "k";
    e.value = "v";
    Livekit__UpdateParticipantRequest__AttributesEntry *entries[] = {&e};
    u.room = "r";
    u.n_attributes = 1;
    u.attributes = entries;
    expectJson(&u.base, "{\"room\":\"r\",\"attributes\":{\"k\":\"v\"}}");

    expectError(&livekit__participant_info__descriptor, "{\"attributes\":{\"a\":1}}",
                "field `attributes.a`: expected a string, got a number");
    expectError(&livekit__participant_info__descriptor, "{\"attributes\":[\"a\"]}",
                "field `attributes`: expected an object");
}

static void testBytesBase64(void **state) {
    (void)state;
    /* As livekit-server-sdk 2.19.2 sends SendData. */
    static const char sdk[] =
        "{\"room\":\"r\",\"data\":\"+/8BAgM=\",\"topic\":\"t\",\"destinationIdentities\":[\"a\"],"
        "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}";
    static const uint8_t data[] = {0xfb, 0xff, 0x01, 0x02, 0x03};
    Livekit__SendDataRequest *s =
        (Livekit__SendDataRequest *)fromText(&livekit__send_data_request__descriptor, sdk);
    assert_int_equal(s->data.len, sizeof data);
    assert_memory_equal(s->data.data, data, sizeof data);
    assert_int_equal(s->nonce.len, 16);
    assert_int_equal(s->optional_topic_case, LIVEKIT__SEND_DATA_REQUEST__OPTIONAL_TOPIC_TOPIC);
    assert_string_equal(s->topic, "t");
    assert_int_equal(s->kind, LIVEKIT__DATA_PACKET__KIND__RELIABLE);
    expectJson(&s->base, sdk);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    expectWireRoundTrip(&livekit__send_data_request__descriptor, sdk);

    /* url-safe alphabet and missing padding are accepted; output is standard. */
    const char *forms[] = {"{\"data\":\"-_8BAgM\"}", "{\"data\":\"+/8BAgM\"}",
                           "{\"data\":\"-_8BAgM=\"}"};
    for (size_t i = 0; i < 3; i++) {
        s = (Livekit__SendDataRequest *)fromText(&livekit__send_data_request__descriptor, forms[i]);
        assert_int_equal(s->data.len, sizeof data);
        assert_memory_equal(s->data.data, data, sizeof data);
        expectJson(&s->base, "{\"data\":\"+/8BAgM=\"}");
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }

    /* RFC 4648 lengths 0..6 round trip through JSON. */
    const char *rfc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"data\":\"%s\"}", rfc[i]);
        s = (Livekit__SendDataRequest *)fromText(&livekit__send_data_request__descriptor, text);
        assert_int_equal(s->data.len, i);
        assert_memory_equal(s->data.data, "foobar", i);
        expectJson(&s->base, i == 0 ? "{}" : text);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }

    expectError(&livekit__send_data_request__descriptor, "{\"data\":\"!!!!\"}",
                "field `data`: expected base64");
    expectError(&livekit__send_data_request__descriptor, "{\"data\":\"A\"}", "field `data`");
    expectError(&livekit__send_data_request__descriptor, "{\"data\":[1,2]}",
                "field `data`: expected a base64 string");
}

static void testTypeErrors(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *room = &livekit__room__descriptor;
    expectError(room, "{\"name\":5}", "field `name`: expected a string, got a number");
    expectError(room, "{\"activeRecording\":\"yes\"}",
                "field `activeRecording`: expected true or false, got a string");
    expectError(room, "{\"activeRecording\":1}", "field `activeRecording`");
    expectError(room, "{\"enabledCodecs\":{}}", "field `enabledCodecs`: expected an array");
    expectError(room, "{\"enabledCodecs\":[{\"mime\":\"a\"},7]}",
                "field `enabledCodecs[1]`: expected an object, got a number");
    expectError(room, "{\"enabledCodecs\":[null]}", "field `enabledCodecs[0]`");
    expectError(room, "{\"version\":\"1\"}", "field `version`: expected an object, got a string");
    expectError(room, "{\"max_participants\":true}", "field `max_participants`");
    expectError(&livekit__participant_info__descriptor,
                "{\"sid\":\"PA\",\"permission\":{\"canPublish\":\"x\"}}",
                "field `permission.canPublish`: expected true or false");
    expectError(&livekit__list_participants_response__descriptor,
                "{\"participants\":[{\"tracks\":[{\"sid\":\"a\"},{\"muted\":1}]}]}",
                "field `participants[0].tracks[1].muted`");

    /* Not an object at the top. */
    char err[128] = "";
    json_t *arr = loadJson("[1]");
    assert_null(tbPbFromJson(room, arr, err, sizeof err));
    assert_non_null(strstr(err, "expected a JSON object"));
    json_decref(arr);
    assert_null(tbPbFromJson(room, NULL, NULL, 0)); /* no err buffer: still safe */
}

static void testNestedParticipant(void **state) {
    (void)state;
    Livekit__ParticipantInfo *p = (Livekit__ParticipantInfo *)fromText(
        &livekit__participant_info__descriptor, participantJson);
    assert_string_equal(p->sid, "PA_1");
    assert_string_equal(p->identity, "alice");
    assert_int_equal(p->state, LIVEKIT__PARTICIPANT_INFO__STATE__ACTIVE);
    assert_true(p->joined_at == 1700000000);
    assert_true(p->is_publisher);
    assert_non_null(p->permission);
    assert_true(p->permission->can_publish);
    assert_false(p->permission->can_subscribe);
    assert_int_equal(p->n_tracks, 1);
    Livekit__TrackInfo *t = p->tracks[0];
    assert_string_equal(t->sid, "TR_1");
    assert_int_equal(t->type, LIVEKIT__TRACK_TYPE__AUDIO);
    assert_int_equal(t->source, LIVEKIT__TRACK_SOURCE__MICROPHONE);
    assert_true(t->muted);
    assert_string_equal(t->mime_type, "audio/opus");
    assert_int_equal(p->n_attributes, 1);
    expectPacked(&p->base, participantHex);
    expectJson(&p->base, participantJson);
    protobuf_c_message_free_unpacked(&p->base, NULL);
    expectWireRoundTrip(&livekit__participant_info__descriptor, participantJson);

    /* A fuller track: audio features, version, codecs with layers. */
    expectWireRoundTrip(
        &livekit__track_info__descriptor,
        "{\"sid\":\"TR_2\",\"type\":\"VIDEO\",\"width\":640,\"height\":480,\"simulcast\":true,"
        "\"layers\":[{\"quality\":\"HIGH\",\"width\":640,\"height\":480,\"bitrate\":500000,"
        "\"ssrc\":4294967295,\"spatialLayer\":-1,\"rid\":\"f\"}],\"mid\":\"1\",\"codecs\":[{"
        "\"mimeType\":\"video/VP8\",\"videoLayerMode\":\"MULTIPLE_SPATIAL_LAYERS_PER_STREAM\"}],"
        "\"stereo\":true,\"disableRed\":true,\"encryption\":\"GCM\",\"stream\":\"s\","
        "\"version\":{\"unixMicro\":\"-1\"},\"audioFeatures\":[\"TF_STEREO\",\"TF_NO_DTX\"],"
        "\"backupCodecPolicy\":\"SIMULCAST\"}");
}

static void testCreateRoomAsSdkSendsIt(void **state) {
    (void)state;
    /* new CreateRoomRequest(options).toJson() in livekit-server-sdk 2.19.2 */
    Livekit__CreateRoomRequest *c = (Livekit__CreateRoomRequest *)fromText(
        &livekit__create_room_request__descriptor,
        "{\"name\":\"x\",\"emptyTimeout\":600,\"maxParticipants\":20,\"metadata\":\"m\"}");
    assert_string_equal(c->name, "x");
    assert_int_equal(c->empty_timeout, 600);
    assert_int_equal(c->max_participants, 20);
    assert_string_equal(c->metadata, "m");
    assert_int_equal(c->departure_timeout, 0);
    assert_string_equal(c->node_id, "");
    protobuf_c_message_free_unpacked(&c->base, NULL);

    /* Every option, including agents (a type we omit: ignored). */
    c = (Livekit__CreateRoomRequest *)fromText(
        &livekit__create_room_request__descriptor,
        "{\"name\":\"x\",\"emptyTimeout\":600,\"maxParticipants\":20,\"nodeId\":\"n\","
        "\"metadata\":\"m\",\"minPlayoutDelay\":1,\"maxPlayoutDelay\":2,\"syncStreams\":true,"
        "\"departureTimeout\":20,\"agents\":[{\"agentName\":\"a\",\"metadata\":\"q\"}],"
        "\"egress\":{\"room\":{\"roomName\":\"x\"}},\"tags\":{\"t\":\"1\"}}");
    assert_int_equal(c->departure_timeout, 20);
    assert_int_equal(c->min_playout_delay, 1);
    assert_int_equal(c->max_playout_delay, 2);
    assert_true(c->sync_streams);
    assert_string_equal(c->node_id, "n");
    assert_int_equal(c->n_tags, 1);
    protobuf_c_message_free_unpacked(&c->base, NULL);

    /* Other RoomService requests as the SDK writes them. */
    Livekit__UpdateParticipantRequest *u = (Livekit__UpdateParticipantRequest *)fromText(
        &livekit__update_participant_request__descriptor,
        "{\"room\":\"r\",\"identity\":\"i\",\"permission\":{\"canSubscribe\":true,"
        "\"canPublish\":true,\"canPublishSources\":[\"MICROPHONE\"]},\"attributes\":{\"k\":\"v\"}}");
    assert_true(u->permission->can_subscribe);
    assert_int_equal(u->permission->n_can_publish_sources, 1);
    protobuf_c_message_free_unpacked(&u->base, NULL);
    expectWireRoundTrip(&livekit__room_participant_identity__descriptor,
                        "{\"room\":\"r\",\"identity\":\"i\"}");
    expectWireRoundTrip(&livekit__mute_room_track_request__descriptor,
                        "{\"room\":\"r\",\"identity\":\"i\",\"trackSid\":\"TR_1\",\"muted\":true}");
    expectWireRoundTrip(&livekit__update_subscriptions_request__descriptor,
                        "{\"room\":\"r\",\"identity\":\"i\",\"trackSids\":[\"TR_1\"],"
                        "\"subscribe\":true,\"participantTracks\":[{\"participantSid\":\"PA_1\","
                        "\"trackSids\":[\"TR_2\"]}]}");
    expectWireRoundTrip(&livekit__delete_room_response__descriptor, "{}");
}

static void testOneofAndOptional(void **state) {
    (void)state;
    static const char text[] =
        "{\"kind\":\"LOSSY\",\"participantIdentity\":\"p\",\"user\":{\"payload\":\"aGk=\","
        "\"topic\":\"\",\"startTime\":\"0\"},\"sequence\":7}";
    Livekit__DataPacket *d = (Livekit__DataPacket *)fromText(&livekit__data_packet__descriptor, text);
    assert_int_equal(d->value_case, LIVEKIT__DATA_PACKET__VALUE_USER);
    assert_int_equal(d->kind, LIVEKIT__DATA_PACKET__KIND__LOSSY);
    assert_int_equal(d->user->payload.len, 2);
    /* proto3 `optional`: an empty topic and a zero start time are present. */
    assert_int_equal(d->user->optional_topic_case, LIVEKIT__USER_PACKET__OPTIONAL_TOPIC_TOPIC);
    assert_string_equal(d->user->topic, "");
    assert_int_equal(d->user->optional_start_time_case,
                     LIVEKIT__USER_PACKET__OPTIONAL_START_TIME_START_TIME);
    assert_int_equal(d->user->optional_id_case, LIVEKIT__USER_PACKET__OPTIONAL_ID__NOT_SET);
    expectJson(&d->base, text);
    protobuf_c_message_free_unpacked(&d->base, NULL);
    expectWireRoundTrip(&livekit__data_packet__descriptor, text);

    /* A oneof member that is all defaults is still written ({}, "" ...). */
    expectWireRoundTrip(&livekit__data_packet__descriptor, "{\"rpcAck\":{}}");
    expectWireRoundTrip(&livekit__rpc_response__descriptor, "{\"requestId\":\"q\",\"payload\":\"\"}");
    expectWireRoundTrip(&livekit__rpc_response__descriptor,
                        "{\"requestId\":\"q\",\"error\":{\"code\":1500,\"message\":\"boom\"}}");
    expectWireRoundTrip(&livekit__rpc_response__descriptor, "{\"compressedPayload\":\"AAE=\"}");
    expectWireRoundTrip(
        &livekit__data_packet__descriptor,
        "{\"streamHeader\":{\"streamId\":\"s\",\"timestamp\":\"5\",\"totalLength\":\"10\","
        "\"attributes\":{\"x\":\"y\"},\"textHeader\":{\"operationType\":\"UPDATE\","
        "\"attachedStreamIds\":[\"a\"]},\"inlineContent\":\"\"}}");
    expectWireRoundTrip(&livekit__data_track_frame_encoding__descriptor,
                        "{\"wellKnown\":\"WELL_KNOWN_FRAME_ENCODING_UNSPECIFIED\"}");
    expectWireRoundTrip(&livekit__data_track_frame_encoding__descriptor, "{\"custom\":\"c\"}");

    expectError(&livekit__data_packet__descriptor, "{\"user\":{},\"rpcAck\":{}}",
                "another field of the same oneof");
    expectError(&livekit__data_packet__descriptor, "{\"user\":{\"payload\":5}}",
                "field `user.payload`");
    expectError(&livekit__data_packet__descriptor, "{\"speaker\":[]}",
                "field `speaker`: expected an object");
}

static void testFloatsAndDoubles(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *sd = &livekit__speaker_info__descriptor;
    Livekit__SpeakerInfo *s = (Livekit__SpeakerInfo *)fromText(sd, "{\"level\":0.5,\"active\":true}");
    assert_true(s->level == 0.5f);
    expectJson(&s->base, "{\"level\":0.5,\"active\":true}");
    protobuf_c_message_free_unpacked(&s->base, NULL);

    s = (Livekit__SpeakerInfo *)fromText(sd, "{\"level\":\"0.25\"}");
    assert_true(s->level == 0.25f);
    protobuf_c_message_free_unpacked(&s->base, NULL);

    s = (Livekit__SpeakerInfo *)fromText(sd, "{\"level\":1}");
    assert_true(s->level == 1.0f);
    expectJson(&s->base, "{\"level\":1.0}");
    protobuf_c_message_free_unpacked(&s->base, NULL);

    const char *special[] = {"NaN", "Infinity", "-Infinity"};
    for (size_t i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"level\":\"%s\"}", special[i]);
        s = (Livekit__SpeakerInfo *)fromText(sd, text);
        expectJson(&s->base, text);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }

    expectError(sd, "{\"level\":1e39}", "field `level`: 1e+39 is out of range for float");
    expectError(sd, "{\"level\":\"loud\"}", "field `level`: expected a number");
    expectError(sd, "{\"level\":[]}", "field `level`: expected a number, got an array");
}

static void testServiceDescriptor(void **state) {
    (void)state;
    /* Twirp routes by method name; input/output descriptors drive pbjson. */
    const ProtobufCServiceDescriptor *svc = &livekit__room_service__descriptor;
    assert_string_equal(svc->name, "livekit.RoomService");
    const ProtobufCMethodDescriptor *m =
        protobuf_c_service_descriptor_get_method_by_name(svc, "CreateRoom");
    assert_non_null(m);
    assert_ptr_equal(m->input, &livekit__create_room_request__descriptor);
    assert_ptr_equal(m->output, &livekit__room__descriptor);
    m = protobuf_c_service_descriptor_get_method_by_name(svc, "MutePublishedTrack");
    assert_non_null(m);
    assert_ptr_equal(m->input, &livekit__mute_room_track_request__descriptor);
    assert_non_null(protobuf_c_service_descriptor_get_method_by_name(svc, "UpdateRoomMetadata"));
    assert_null(protobuf_c_service_descriptor_get_method_by_name(svc, "Nope"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testRoomToJsonMatchesSdk),
        cmocka_unit_test(testRoomRoundTrip),
        cmocka_unit_test(testIntegersAsStringsAndNumbers),
        cmocka_unit_test(testIntegerRangeErrors),
        cmocka_unit_test(testEnumsByNameAndNumber),
        cmocka_unit_test(testUnknownFieldsIgnored),
        cmocka_unit_test(testSnakeCaseAccepted),
        cmocka_unit_test(testDefaultsOmitted),
        cmocka_unit_test(testRepeatedMessages),
        cmocka_unit_test(testMapField),
        cmocka_unit_test(testBytesBase64),
        cmocka_unit_test(testTypeErrors),
        cmocka_unit_test(testNestedParticipant),
        cmocka_unit_test(testCreateRoomAsSdkSendsIt),
        cmocka_unit_test(testOneofAndOptional),
        cmocka_unit_test(testFloatsAndDoubles),
        cmocka_unit_test(testServiceDescriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
