/* test_signal_codec.c — unit tests for src/signal/codec.c: the /rtc/v1
 * join_request parameter and the signaling WebSocket frames.
 *
 * The fixtures in tests/fixtures/signal/ were produced by
 * tests/fixtures/signal/make-fixtures.mjs with @livekit/protocol 1.52.1's own
 * classes, building each message as livekit-client 2.23.0 does (the join
 * request gzip'ed with CompressionStream('gzip'), like the SDK in a browser).
 * The SDP is the publisher offer the real SDK sent from Chromium
 * (tests/fixtures/sdp/livekit-client-2.23-v1-join-offer.sdp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "auth/base64url.h"
#include "livekit_rtc.pb-c.h"
#include "signal/codec.h"

#define SIG(name) TB_FIXTURES "/signal/" name
#define OFFER_SDP TB_FIXTURES "/sdp/livekit-client-2.23-v1-join-offer.sdp"

/* ---------------------------------------------------------- helpers ---- */

/* Whole file, malloc'ed and NUL-terminated; *len without the NUL. */
static uint8_t *readFile(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Packs any message into a new buffer. */
static uint8_t *packMsg(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

/* Asserts that two messages serialize to the same bytes. */
static void assertSameWire(const ProtobufCMessage *a, const ProtobufCMessage *b) {
    size_t la, lb;
    uint8_t *pa = packMsg(a, &la), *pb = packMsg(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
}

/* gzip (one member) of `len` bytes, as any gzip writer would produce. */
static uint8_t *gzipBytes(const uint8_t *in, size_t len, size_t *outlen) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t bound = deflateBound(&zs, len);
    uint8_t *out = malloc(bound);
    assert_non_null(out);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)bound;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *outlen = bound - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

/* base64url(WrappedJoinRequest{compression, join_request = payload}). */
static char *wrapJoin(int compression, const uint8_t *payload, size_t len) {
    Livekit__WrappedJoinRequest w;
    livekit__wrapped_join_request__init(&w);
    w.compression = (Livekit__WrappedJoinRequest__Compression)compression;
    w.join_request.data = (uint8_t *)payload;
    w.join_request.len = len;
    size_t n;
    uint8_t *raw = packMsg(&w.base, &n);
    char *s = tbBase64UrlEncode(raw, n);
    free(raw);
    return s;
}

/* Decoding `b64` must fail with exactly `want`. */
static void expectJoinError(const char *b64, size_t max, const char *want) {
    char err[128] = "";
    Livekit__JoinRequest *jr = (Livekit__JoinRequest *)1;
    assert_int_equal(tbSignalDecodeJoinRequest(b64, strlen(b64), max, &jr, err, sizeof err), -1);
    assert_null(jr);
    assert_string_equal(err, want);
}

static Livekit__JoinRequest *decodeJoinOk(const char *b64, size_t max) {
    char err[128] = "";
    Livekit__JoinRequest *jr = NULL;
    int rc = tbSignalDecodeJoinRequest(b64, strlen(b64), max, &jr, err, sizeof err);
    if (rc != 0) fail_msg("decode failed: %s", err);
    assert_non_null(jr);
    return jr;
}

/* Asserts the JoinRequest livekit-client 2.23.0 sends (see the trace). */
static void assertSdkJoin(const Livekit__JoinRequest *jr, const char *sdp) {
    assert_non_null(jr->client_info);
    assert_int_equal(jr->client_info->sdk, LIVEKIT__CLIENT_INFO__SDK__JS);
    assert_string_equal(jr->client_info->version, "2.23.0");
    assert_int_equal(jr->client_info->protocol, 17);
    assert_int_equal(jr->client_info->client_protocol, 2);
    assert_int_equal(jr->client_info->n_capabilities, 1);
    assert_int_equal(jr->client_info->capabilities[0],
                     LIVEKIT__CLIENT_INFO__CAPABILITY__CAP_COMPRESSION_DEFLATE_RAW);
    assert_non_null(jr->connection_settings);
    assert_true(jr->connection_settings->auto_subscribe);
    assert_false(jr->connection_settings->adaptive_stream);
    assert_int_equal(jr->connection_settings->optional_subscriber_allow_pause_case,
                     LIVEKIT__CONNECTION_SETTINGS__OPTIONAL_SUBSCRIBER_ALLOW_PAUSE__NOT_SET);
    assert_non_null(jr->publisher_offer);
    assert_string_equal(jr->publisher_offer->type, "offer");
    assert_int_equal(jr->publisher_offer->id, 1);
    assert_string_equal(jr->publisher_offer->sdp, sdp);
    assert_false(jr->reconnect);
    assert_string_equal(jr->participant_sid, "");
    assert_int_equal(jr->n_add_track_requests, 0);
}

/* The same JoinRequest, built in C the way the SDK builds it. */
typedef struct {
    Livekit__JoinRequest jr;
    Livekit__ClientInfo ci;
    Livekit__ConnectionSettings cs;
    Livekit__SessionDescription offer;
    Livekit__ClientInfo__Capability caps[1];
} SdkJoin;

static void buildSdkJoin(SdkJoin *j, char *sdp) {
    livekit__join_request__init(&j->jr);
    livekit__client_info__init(&j->ci);
    livekit__connection_settings__init(&j->cs);
    livekit__session_description__init(&j->offer);
    j->caps[0] = LIVEKIT__CLIENT_INFO__CAPABILITY__CAP_COMPRESSION_DEFLATE_RAW;
    j->ci.sdk = LIVEKIT__CLIENT_INFO__SDK__JS;
    j->ci.version = "2.23.0";
    j->ci.protocol = 17;
    j->ci.client_protocol = 2;
    j->ci.n_capabilities = 1;
    j->ci.capabilities = j->caps;
    j->cs.auto_subscribe = 1;
    j->offer.type = "offer";
    j->offer.sdp = sdp;
    j->offer.id = 1;
    j->jr.client_info = &j->ci;
    j->jr.connection_settings = &j->cs;
    j->jr.publisher_offer = &j->offer;
}

/* ------------------------------------------------- join_request tests ---- */

/* The join_request string @livekit/protocol + CompressionStream produced. */
static void testJoinFromSdk(void **state) {
    (void)state;
    size_t blen, slen;
    char *b64 = (char *)readFile(SIG("join_request.b64"), &blen);
    char *sdp = (char *)readFile(OFFER_SDP, &slen);
    assert_int_equal(slen, 18507);
    assert_int_equal(b64[blen - 1], '='); /* the SDK keeps btoa's padding */
    Livekit__JoinRequest *jr = decodeJoinOk(b64, 0);
    assertSdkJoin(jr, sdp);
    livekit__join_request__free_unpacked(jr, NULL);

    /* padding is optional */
    while (b64[blen - 1] == '=') b64[--blen] = '\0';
    jr = decodeJoinOk(b64, TB_SIGNAL_JOIN_MAX_INFLATED);
    assertSdkJoin(jr, sdp);
    livekit__join_request__free_unpacked(jr, NULL);
    free(b64);
    free(sdp);
}

/* The wrapper really is gzip, compression = GZIP (1), like the SDK's. */
static void testJoinFromSdkIsGzip(void **state) {
    (void)state;
    size_t blen, rawlen;
    char *b64 = (char *)readFile(SIG("join_request.b64"), &blen);
    uint8_t *raw = tbBase64UrlDecode(b64, blen, &rawlen);
    assert_non_null(raw);
    Livekit__WrappedJoinRequest *w = livekit__wrapped_join_request__unpack(NULL, rawlen, raw);
    assert_non_null(w);
    assert_int_equal(w->compression, 1);
    assert_true(w->join_request.len > 1000 && w->join_request.len < 3000);
    assert_int_equal(w->join_request.data[0], 0x1f); /* gzip magic */
    assert_int_equal(w->join_request.data[1], 0x8b);
    livekit__wrapped_join_request__free_unpacked(w, NULL);
    free(raw);
    free(b64);
}

/* Our C-built JoinRequest is byte-identical to the SDK's, and our encoder's
 * output (gzip and not) decodes back to it. */
static void testJoinEncodeRoundTrip(void **state) {
    (void)state;
    size_t blen, slen;
    char *b64 = (char *)readFile(SIG("join_request.b64"), &blen);
    char *sdp = (char *)readFile(OFFER_SDP, &slen);
    SdkJoin j;
    buildSdkJoin(&j, sdp);
    Livekit__JoinRequest *fromSdk = decodeJoinOk(b64, 0);
    assertSameWire(&j.jr.base, &fromSdk->base);

    for (int gz = 0; gz <= 1; gz++) {
        char *mine = tbSignalEncodeJoinRequest(&j.jr, gz);
        assert_non_null(mine);
        assert_int_equal(strlen(mine) % 4, 0); /* padded like the SDK's */
        assert_null(strpbrk(mine, "+/"));
        size_t rawlen;
        uint8_t *raw = tbBase64UrlDecode(mine, strlen(mine), &rawlen);
        Livekit__WrappedJoinRequest *w = livekit__wrapped_join_request__unpack(NULL, rawlen, raw);
        assert_non_null(w);
        assert_int_equal(w->compression, gz);
        livekit__wrapped_join_request__free_unpacked(w, NULL);
        free(raw);
        Livekit__JoinRequest *back = decodeJoinOk(mine, 0);
        assertSdkJoin(back, sdp);
        assertSameWire(&back->base, &fromSdk->base);
        livekit__join_request__free_unpacked(back, NULL);
        free(mine);
    }
    livekit__join_request__free_unpacked(fromSdk, NULL);
    free(b64);
    free(sdp);
}

/* max_inflated is inclusive, for both compressions. */
static void testJoinSizeLimit(void **state) {
    (void)state;
    size_t slen, plen;
    char *sdp = (char *)readFile(OFFER_SDP, &slen);
    SdkJoin j;
    buildSdkJoin(&j, sdp);
    uint8_t *plain = packMsg(&j.jr.base, &plen);
    size_t zlen;
    uint8_t *z = gzipBytes(plain, plen, &zlen);
    char *none = wrapJoin(0, plain, plen), *gz = wrapJoin(1, z, zlen);

    for (int i = 0; i < 2; i++) {
        const char *s = i ? gz : none;
        Livekit__JoinRequest *jr = decodeJoinOk(s, plen); /* exactly at the cap */
        assertSdkJoin(jr, sdp);
        livekit__join_request__free_unpacked(jr, NULL);
        expectJoinError(s, plen - 1, "join request too large");
        expectJoinError(s, 4096, "join request too large");
    }
    free(none);
    free(gz);
    free(z);
    free(plain);
    free(sdp);
}

/* 10 MB of zeros gzip to ~10 KB; the cap stops it at 1 MiB. */
static void testJoinGzipBomb(void **state) {
    (void)state;
    size_t n = 10u << 20, zlen;
    uint8_t *zeros = calloc(1, n);
    assert_non_null(zeros);
    uint8_t *z = gzipBytes(zeros, n, &zlen);
    assert_true(zlen < 64 * 1024);
    char *s = wrapJoin(1, z, zlen);
    expectJoinError(s, 0, "join request too large");
    expectJoinError(s, TB_SIGNAL_JOIN_MAX_INFLATED, "join request too large");
    free(s);
    free(z);
    free(zeros);
}

static void testJoinBadInput(void **state) {
    (void)state;
    char err[128] = "";
    Livekit__JoinRequest *jr = NULL;
    assert_int_equal(tbSignalDecodeJoinRequest("", 0, 0, &jr, err, sizeof err), -1);
    assert_string_equal(err, "join_request is required");
    expectJoinError("@@@@", 0, "cannot base64 decode wrapped join request");
    /* the caller URL-decodes; a percent-encoded '=' is not base64 */
    expectJoinError("QUJD%3D", 0, "cannot base64 decode wrapped join request");
    expectJoinError("A", 0, "cannot base64 decode wrapped join request");

    /* a truncated WrappedJoinRequest: the bytes field claims more than is there */
    size_t blen, rawlen;
    char *b64 = (char *)readFile(SIG("join_request.b64"), &blen);
    uint8_t *raw = tbBase64UrlDecode(b64, blen, &rawlen);
    char *cut = tbBase64UrlEncode(raw, rawlen / 2);
    expectJoinError(cut, 0, "cannot unmarshal wrapped join request");

    /* intact wrapper, gzip stream cut short (and not gzip at all) */
    Livekit__WrappedJoinRequest *w = livekit__wrapped_join_request__unpack(NULL, rawlen, raw);
    assert_non_null(w);
    char *shortGz = wrapJoin(1, w->join_request.data, w->join_request.len - 20);
    expectJoinError(shortGz, 0, "cannot read decompressed join request");
    char *notGz = wrapJoin(1, (const uint8_t *)"hello world", 11);
    expectJoinError(notGz, 0, "cannot read decompressed join request");
    char *emptyGz = wrapJoin(1, NULL, 0);
    expectJoinError(emptyGz, 0, "cannot read decompressed join request");
    /* trailing garbage after the gzip member */
    uint8_t *tail = malloc(w->join_request.len + 4);
    memcpy(tail, w->join_request.data, w->join_request.len);
    memcpy(tail + w->join_request.len, "junk", 4);
    char *junk = wrapJoin(1, tail, w->join_request.len + 4);
    expectJoinError(junk, 0, "cannot read decompressed join request");

    livekit__wrapped_join_request__free_unpacked(w, NULL);
    free(tail);
    free(junk);
    free(emptyGz);
    free(notGz);
    free(shortGz);
    free(cut);
    free(raw);
    free(b64);
}

/* Valid wrapper and gzip, but the inner bytes are not a JoinRequest; and a
 * compression value LiveKit does not define. */
static void testJoinBadInner(void **state) {
    (void)state;
    static const uint8_t bad[] = {0x0a, 0x7f, 0x01}; /* field 1, length 127, 1 byte */
    size_t zlen;
    uint8_t *z = gzipBytes(bad, sizeof bad, &zlen);
    char *gz = wrapJoin(1, z, zlen), *none = wrapJoin(0, bad, sizeof bad);
    expectJoinError(gz, 0, "cannot unmarshal join request");
    expectJoinError(none, 0, "cannot unmarshal join request");
    char *odd = wrapJoin(7, bad, sizeof bad);
    expectJoinError(odd, 0, "unsupported join request compression");
    free(odd);
    free(none);
    free(gz);
    free(z);
}

/* Two gzip members are one stream (Go's gzip.Reader reads both). */
static void testJoinGzipMultiMember(void **state) {
    (void)state;
    size_t slen, plen, z1, z2;
    char *sdp = (char *)readFile(OFFER_SDP, &slen);
    SdkJoin j;
    buildSdkJoin(&j, sdp);
    uint8_t *plain = packMsg(&j.jr.base, &plen);
    size_t half = plen / 2;
    uint8_t *a = gzipBytes(plain, half, &z1), *b = gzipBytes(plain + half, plen - half, &z2);
    uint8_t *both = malloc(z1 + z2);
    memcpy(both, a, z1);
    memcpy(both + z1, b, z2);
    char *s = wrapJoin(1, both, z1 + z2);
    Livekit__JoinRequest *jr = decodeJoinOk(s, 0);
    assertSdkJoin(jr, sdp);
    livekit__join_request__free_unpacked(jr, NULL);
    free(s);
    free(both);
    free(a);
    free(b);
    free(plain);
    free(sdp);
}

/* ---------------------------------------------------- request frames ---- */

/* Decodes tests/fixtures/signal/req_<name>.bin and .json, asserts both give
 * the same message, that re-encoding the binary gives the SDK's exact bytes,
 * and returns the binary decode. */
static Livekit__SignalRequest *loadRequest(const char *name) {
    char path[512], err[256] = "";
    size_t blen, jlen;
    snprintf(path, sizeof path, "%s/signal/req_%s.bin", TB_FIXTURES, name);
    uint8_t *bin = readFile(path, &blen);
    snprintf(path, sizeof path, "%s/signal/req_%s.json", TB_FIXTURES, name);
    uint8_t *json = readFile(path, &jlen);
    Livekit__SignalRequest *a = NULL, *b = NULL;
    if (tbSignalDecodeRequest(bin, blen, false, &a, err, sizeof err) != 0)
        fail_msg("%s.bin: %s", name, err);
    if (tbSignalDecodeRequest(json, jlen, true, &b, err, sizeof err) != 0)
        fail_msg("%s.json: %s", name, err);
    assertSameWire(&a->base, &b->base);
    size_t elen;
    uint8_t *enc = tbSignalEncodeRequest(a, false, 0, &elen);
    assert_non_null(enc);
    assert_int_equal(elen, blen);
    assert_memory_equal(enc, bin, blen);
    free(enc);
    livekit__signal_request__free_unpacked(b, NULL);
    free(bin);
    free(json);
    return a;
}

static void testRequestPing(void **state) {
    (void)state;
    Livekit__SignalRequest *r = loadRequest("ping");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING);
    assert_int_equal(r->ping, 1795311301053LL);
    livekit__signal_request__free_unpacked(r, NULL);
    r = loadRequest("ping_req");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING_REQ);
    assert_int_equal(r->ping_req->timestamp, 1795311301053LL);
    assert_int_equal(r->ping_req->rtt, 3);
    livekit__signal_request__free_unpacked(r, NULL);
}

static void testRequestOfferAndTrickle(void **state) {
    (void)state;
    size_t slen;
    char *sdp = (char *)readFile(OFFER_SDP, &slen);
    Livekit__SignalRequest *r = loadRequest("offer");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_OFFER);
    assert_string_equal(r->offer->type, "offer");
    assert_int_equal(r->offer->id, 2);
    assert_string_equal(r->offer->sdp, sdp);
    livekit__signal_request__free_unpacked(r, NULL);
    r = loadRequest("trickle");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_TRICKLE);
    assert_int_equal(r->trickle->target, LIVEKIT__SIGNAL_TARGET__PUBLISHER);
    assert_false(r->trickle->final);
    assert_non_null(strstr(r->trickle->candidateinit, "\"candidate\":\"candidate:3442447574 1 udp "
                                                      "2122260223 127.0.0.1 54400 typ host"));
    assert_non_null(strstr(r->trickle->candidateinit, "\"sdpMid\":\"0\""));
    livekit__signal_request__free_unpacked(r, NULL);
    free(sdp);
}

static void testRequestTracks(void **state) {
    (void)state;
    Livekit__SignalRequest *r = loadRequest("add_track");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_ADD_TRACK);
    Livekit__AddTrackRequest *t = r->add_track;
    assert_string_equal(t->cid, "5d1c6a86-0a0f-4f32-9a3f-4a0c3b1e8e27");
    assert_int_equal(t->type, LIVEKIT__TRACK_TYPE__AUDIO);
    assert_int_equal(t->source, LIVEKIT__TRACK_SOURCE__MICROPHONE);
    assert_int_equal(t->n_audio_features, 3);
    assert_int_equal(t->audio_features[0], LIVEKIT__AUDIO_TRACK_FEATURE__TF_AUTO_GAIN_CONTROL);
    assert_int_equal(t->audio_features[1], LIVEKIT__AUDIO_TRACK_FEATURE__TF_ECHO_CANCELLATION);
    assert_int_equal(t->audio_features[2], LIVEKIT__AUDIO_TRACK_FEATURE__TF_NOISE_SUPPRESSION);
    assert_false(t->muted);
    livekit__signal_request__free_unpacked(r, NULL);
    r = loadRequest("mute");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_MUTE);
    assert_string_equal(r->mute->sid, "TR_261476bd");
    assert_true(r->mute->muted);
    livekit__signal_request__free_unpacked(r, NULL);
    r = loadRequest("subscription_permission");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_SUBSCRIPTION_PERMISSION);
    assert_true(r->subscription_permission->all_participants);
    livekit__signal_request__free_unpacked(r, NULL);
    r = loadRequest("leave");
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE_LEAVE);
    assert_int_equal(r->leave->reason, LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED);
    assert_int_equal(r->leave->action, LIVEKIT__LEAVE_REQUEST__ACTION__DISCONNECT);
    livekit__signal_request__free_unpacked(r, NULL);
}

static void expectRequestError(const void *frame, size_t len, bool text, const char *want) {
    char err[256] = "";
    Livekit__SignalRequest *r = (Livekit__SignalRequest *)1;
    assert_int_equal(tbSignalDecodeRequest(frame, len, text, &r, err, sizeof err), -1);
    assert_null(r);
    if (strncmp(err, want, strlen(want)) != 0) fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void testRequestBad(void **state) {
    (void)state;
    size_t blen;
    uint8_t *bin = readFile(SIG("req_trickle.bin"), &blen);
    expectRequestError(bin, blen - 5, false, "cannot unmarshal signal request");
    free(bin);
    expectRequestError("{", 1, true, "cannot parse signal request: ");
    expectRequestError("[1]", 3, true, "cannot parse signal request: expected a JSON object");
    const char *badPing = "{\"ping\":\"abc\"}";
    expectRequestError(badPing, strlen(badPing), true, "cannot parse signal request: ");
    const char *two = "{\"ping\":\"1\",\"leave\":{}}";
    expectRequestError(two, strlen(two), true, "cannot parse signal request: ");

    /* an arm tribune does not model (21 update_data_subscription) */
    static const uint8_t unknown[] = {0xaa, 0x01, 0x00};
    Livekit__SignalRequest *r = NULL;
    char err[64];
    assert_int_equal(tbSignalDecodeRequest(unknown, sizeof unknown, false, &r, err, sizeof err), 0);
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE__NOT_SET);
    livekit__signal_request__free_unpacked(r, NULL);
    const char *unknownJson = "{\"updateDataSubscription\":{\"updates\":[]}}";
    assert_int_equal(tbSignalDecodeRequest((const uint8_t *)unknownJson, strlen(unknownJson), true,
                                           &r, err, sizeof err), 0);
    assert_int_equal(r->message_case, LIVEKIT__SIGNAL_REQUEST__MESSAGE__NOT_SET);
    livekit__signal_request__free_unpacked(r, NULL);
}

/* --------------------------------------------------- response frames ---- */

/* Encodes `res` both ways with headroom and compares with the fixtures
 * resp_<name>.bin (byte for byte) and resp_<name>.json (as JSON values);
 * then decodes the fixture back and compares wire bytes. */
static void expectResponse(const Livekit__SignalResponse *res, const char *name) {
    enum { HEAD = 16 };
    char path[512], err[128];
    size_t flen, len;
    snprintf(path, sizeof path, "%s/signal/resp_%s.bin", TB_FIXTURES, name);
    uint8_t *want = readFile(path, &flen);
    uint8_t *buf = tbSignalEncodeResponse(res, false, HEAD, &len);
    assert_non_null(buf);
    assert_int_equal(len, flen);
    assert_memory_equal(buf + HEAD, want, flen);
    free(buf);
    Livekit__SignalResponse *back = NULL;
    if (tbSignalDecodeResponse(want, flen, false, &back, err, sizeof err) != 0) fail_msg("%s", err);
    assertSameWire(&back->base, &res->base);
    livekit__signal_response__free_unpacked(back, NULL);
    free(want);

    snprintf(path, sizeof path, "%s/signal/resp_%s.json", TB_FIXTURES, name);
    uint8_t *wantJson = readFile(path, &flen);
    buf = tbSignalEncodeResponse(res, true, HEAD, &len);
    assert_non_null(buf);
    json_t *got = json_loadb((const char *)buf + HEAD, len, 0, NULL);
    json_t *exp = json_loadb((const char *)wantJson, flen, 0, NULL);
    assert_non_null(got);
    assert_non_null(exp);
    if (!json_equal(got, exp))
        fail_msg("%s: got %.*s want %s", name, (int)len, buf + HEAD, wantJson);
    json_decref(got);
    json_decref(exp);
    free(buf);
    free(wantJson);
}

static void testResponsePongs(void **state) {
    (void)state;
    Livekit__SignalResponse res;
    livekit__signal_response__init(&res);
    res.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG;
    res.pong = 1795311301055LL;
    expectResponse(&res, "pong");

    Livekit__Pong pong;
    livekit__pong__init(&pong);
    pong.last_ping_timestamp = 1795311301053LL;
    pong.timestamp = 1795311301057LL;
    res.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG_RESP;
    res.pong_resp = &pong;
    expectResponse(&res, "pong_resp");
}

static void testResponseTrackPublishedAndAnswer(void **state) {
    (void)state;
    Livekit__SignalResponse res;
    Livekit__TrackPublishedResponse tp;
    Livekit__TrackInfo ti;
    livekit__signal_response__init(&res);
    livekit__track_published_response__init(&tp);
    livekit__track_info__init(&ti);
    ti.sid = "TR_261476bd";
    ti.type = LIVEKIT__TRACK_TYPE__AUDIO;
    ti.source = LIVEKIT__TRACK_SOURCE__MICROPHONE;
    ti.mime_type = "audio/opus";
    ti.mid = "7";
    tp.cid = "5d1c6a86-0a0f-4f32-9a3f-4a0c3b1e8e27";
    tp.track = &ti;
    res.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRACK_PUBLISHED;
    res.track_published = &tp;
    expectResponse(&res, "track_published");

    Livekit__SessionDescription sd;
    Livekit__SessionDescription__MidToTrackIdEntry e;
    Livekit__SessionDescription__MidToTrackIdEntry *entries[] = {&e};
    livekit__session_description__init(&sd);
    livekit__session_description__mid_to_track_id_entry__init(&e);
    e.key = "7";
    e.value = "TR_261476bd";
    sd.type = "answer";
    sd.sdp = "v=0\r\n";
    sd.id = 3;
    sd.n_mid_to_track_id = 1;
    sd.mid_to_track_id = entries;
    res.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ANSWER;
    res.answer = &sd;
    expectResponse(&res, "answer");
}

static void testResponseLeaveAndSections(void **state) {
    (void)state;
    Livekit__SignalResponse res;
    Livekit__LeaveRequest leave;
    Livekit__MediaSectionsRequirement msr;
    livekit__signal_response__init(&res);
    livekit__leave_request__init(&leave);
    livekit__media_sections_requirement__init(&msr);
    leave.reason = LIVEKIT__DISCONNECT_REASON__ROOM_DELETED;
    leave.action = LIVEKIT__LEAVE_REQUEST__ACTION__DISCONNECT;
    res.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE;
    res.leave = &leave;
    expectResponse(&res, "leave");
    msr.num_audios = 2;
    res.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_MEDIA_SECTIONS_REQUIREMENT;
    res.media_sections_requirement = &msr;
    expectResponse(&res, "media_sections");
}

/* Headroom is left untouched and the JSON form is compact. */
static void testResponseHeadroom(void **state) {
    (void)state;
    Livekit__SignalResponse res;
    livekit__signal_response__init(&res);
    res.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_REFRESH_TOKEN;
    res.refresh_token = "eyJ.x.y";
    size_t len;
    uint8_t *buf = tbSignalEncodeResponse(&res, true, 0, &len);
    assert_non_null(buf);
    assert_int_equal(len, strlen("{\"refreshToken\":\"eyJ.x.y\"}"));
    assert_memory_equal(buf, "{\"refreshToken\":\"eyJ.x.y\"}", len);
    free(buf);
    buf = tbSignalEncodeResponse(&res, false, 4096, &len);
    assert_non_null(buf);
    assert_int_equal(len, 2 + 7 + 1); /* tag 16 is two bytes */
    assert_int_equal(buf[4096], 0x82);
    assert_int_equal(buf[4097], 0x01);
    assert_int_equal(buf[4098], 7);
    assert_memory_equal(buf + 4099, "eyJ.x.y", 7);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testJoinFromSdk),
        cmocka_unit_test(testJoinFromSdkIsGzip),
        cmocka_unit_test(testJoinEncodeRoundTrip),
        cmocka_unit_test(testJoinSizeLimit),
        cmocka_unit_test(testJoinGzipBomb),
        cmocka_unit_test(testJoinBadInput),
        cmocka_unit_test(testJoinBadInner),
        cmocka_unit_test(testJoinGzipMultiMember),
        cmocka_unit_test(testRequestPing),
        cmocka_unit_test(testRequestOfferAndTrickle),
        cmocka_unit_test(testRequestTracks),
        cmocka_unit_test(testRequestBad),
        cmocka_unit_test(testResponsePongs),
        cmocka_unit_test(testResponseTrackPublishedAndAnswer),
        cmocka_unit_test(testResponseLeaveAndSections),
        cmocka_unit_test(testResponseHeadroom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
