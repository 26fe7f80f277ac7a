/* codec.c — LiveKit signaling messages to and from bytes; see codec.h.
 *
 * The join request path mirrors livekit-server's validateInternal
 * (pkg/service/rtcservice.go) and DecompressGzip (pkg/service/utils.go):
 * base64url -> WrappedJoinRequest -> (gzip, bounded) -> JoinRequest, with the
 * same error words. zlib inflates; the output is capped while inflating, so a
 * small "gzip bomb" never expands past the cap. Frames are protobuf-c packs
 * and unpacks, or pbjson.c for text frames. */
#include "signal/codec.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "auth/base64url.h"
#include "proto/pbjson.h"

/* zlib windowBits selecting the gzip wrapper (RFC 1952) instead of zlib's. */
#define GZIP_WBITS (16 + MAX_WBITS)
/* First guess at the inflated size, as a multiple of the compressed size
 * (the SDK's 18.5 KB offer compresses about 10:1). */
#define INFLATE_GUESS_RATIO 16
#define INFLATE_GUESS_MIN 4096

/* Outcomes of gunzipBounded. */
typedef enum {
    GZ_OK,        /* *out holds the whole inflated stream */
    GZ_TOO_LARGE, /* more than `max` bytes */
    GZ_CORRUPT,   /* not gzip, bad checksum, truncated */
    GZ_NOMEM,
} gzResult;

static int fail(char *err, size_t errlen, const char *msg) {
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

/* ------------------------------------------------------------- gzip ---- */

/* Next output capacity: doubles, never beyond max + 1 (one byte past the cap
 * is how "too large" is told apart from "exactly max"). */
static size_t growCap(size_t cap, size_t inlen, size_t max) {
    size_t next;
    if (cap == 0) {
        next = inlen > (SIZE_MAX - INFLATE_GUESS_MIN) / INFLATE_GUESS_RATIO
                   ? SIZE_MAX
                   : inlen * INFLATE_GUESS_RATIO + INFLATE_GUESS_MIN;
    } else {
        next = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    }
    return next > max ? max + 1 : next;
}

/* One inflate() step into buf[*total, cap); returns zlib's code and advances
 * *total. */
static int inflateStep(z_stream *zs, uint8_t *buf, size_t cap, size_t *total) {
    size_t room = cap - *total;
    if (room > UINT_MAX)
        room = UINT_MAX;
    zs->next_out = buf + *total;
    zs->avail_out = (uInt)room;
    int zr = inflate(zs, Z_NO_FLUSH);
    *total += room - zs->avail_out;
    return zr;
}

/* Inflates a gzip stream (one or more members, as Go's gzip.Reader reads
 * them) into a new malloc'ed buffer of at most `max` bytes. */
static gzResult gunzipBounded(const uint8_t *in, size_t inlen, size_t max, uint8_t **out,
                              size_t *outlen) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    uint8_t *buf = NULL;
    size_t cap = 0, total = 0;
    gzResult res = GZ_CORRUPT;

    if (inlen > UINT_MAX)
        return GZ_TOO_LARGE;
    if (max == SIZE_MAX)
        max = SIZE_MAX - 1; /* keep max + 1 representable */
    if (inflateInit2(&zs, GZIP_WBITS) != Z_OK)
        return GZ_NOMEM;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)inlen;
    for (;;) {
        if (total == cap) {
            if (cap > max) {
                res = GZ_TOO_LARGE;
                goto err;
            }
            size_t ncap = growCap(cap, inlen, max);
            uint8_t *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                res = GZ_NOMEM;
                goto err;
            }
            buf = nbuf;
            cap = ncap;
        }
        int zr = inflateStep(&zs, buf, cap, &total);
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            if (inflateReset(&zs) != Z_OK) /* another member follows */
                goto err;
        } else if (zr == Z_MEM_ERROR) {
            res = GZ_NOMEM;
            goto err;
        } else if (zr != Z_OK && !(zr == Z_BUF_ERROR && total == cap)) {
            goto err; /* corrupt, or input ended inside the stream */
        }
    }
    if (total > max) {
        res = GZ_TOO_LARGE;
        goto err;
    }
    inflateEnd(&zs);
    *out = buf;
    *outlen = total;
    return GZ_OK;
err:
    inflateEnd(&zs);
    free(buf);
    return res;
}

/* Compresses `in` as one gzip member; returns a malloc'ed buffer or NULL. */
static uint8_t *gzipAll(const uint8_t *in, size_t len, size_t *outlen) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (len > UINT_MAX / 2)
        return NULL;
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&zs, (uLong)len);
    uint8_t *buf = malloc(bound > 0 ? bound : 1);
    if (buf == NULL)
        goto err;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        goto err;
    *outlen = bound - zs.avail_out;
    deflateEnd(&zs);
    return buf;
err:
    deflateEnd(&zs);
    free(buf);
    return NULL;
}

/* ---------------------------------------------------- join request ---- */

/* Unpacks the (already inflated) JoinRequest bytes. */
static int unpackJoin(const uint8_t *data, size_t len, Livekit__JoinRequest **out, char *err,
                      size_t errlen) {
    *out = livekit__join_request__unpack(NULL, len, data);
    return *out != NULL ? 0 : fail(err, errlen, "cannot unmarshal join request");
}

/* GZIP branch: inflate within the cap, then unpack. */
static int unpackGzipJoin(const ProtobufCBinaryData *z, size_t max, Livekit__JoinRequest **out,
                          char *err, size_t errlen) {
    uint8_t *plain = NULL;
    size_t plen = 0;
    switch (gunzipBounded(z->data, z->len, max, &plain, &plen)) {
    case GZ_OK:
        break;
    case GZ_TOO_LARGE:
        return fail(err, errlen, "join request too large");
    case GZ_NOMEM:
        return fail(err, errlen, "out of memory");
    default:
        return fail(err, errlen, "cannot read decompressed join request");
    }
    int rc = unpackJoin(plain, plen, out, err, errlen);
    free(plain);
    return rc;
}

int tbSignalDecodeJoinRequest(const char *b64url, size_t len, size_t max_inflated,
                              Livekit__JoinRequest **out, char *err, size_t errlen) {
    Livekit__WrappedJoinRequest *w = NULL;
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    int rc = -1;

    *out = NULL;
    if (max_inflated == 0)
        max_inflated = TB_SIGNAL_JOIN_MAX_INFLATED;
    if (b64url == NULL || len == 0)
        return fail(err, errlen, "join_request is required");
    raw = tbBase64UrlDecode(b64url, len, &rawlen);
    if (raw == NULL)
        return fail(err, errlen, "cannot base64 decode wrapped join request");
    w = livekit__wrapped_join_request__unpack(NULL, rawlen, raw);
    if (w == NULL) {
        fail(err, errlen, "cannot unmarshal wrapped join request");
        goto done;
    }
    switch (w->compression) {
    case LIVEKIT__WRAPPED_JOIN_REQUEST__COMPRESSION__NONE:
        if (w->join_request.len > max_inflated)
            fail(err, errlen, "join request too large");
        else
            rc = unpackJoin(w->join_request.data, w->join_request.len, out, err, errlen);
        break;
    case LIVEKIT__WRAPPED_JOIN_REQUEST__COMPRESSION__GZIP:
        rc = unpackGzipJoin(&w->join_request, max_inflated, out, err, errlen);
        break;
    default:
        fail(err, errlen, "unsupported join request compression");
        break;
    }
done:
    if (w != NULL)
        livekit__wrapped_join_request__free_unpacked(w, NULL);
    free(raw);
    return rc;
}

/* base64url with '=' padding, the way the SDK writes it (btoa, then
 * '+' -> '-' and '/' -> '_'). */
static char *base64UrlPadded(const uint8_t *data, size_t len) {
    char *s = tbBase64UrlEncode(data, len);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s), pad = (4 - n % 4) % 4;
    char *p = realloc(s, n + pad + 1);
    if (p == NULL) {
        free(s);
        return NULL;
    }
    memset(p + n, '=', pad);
    p[n + pad] = '\0';
    return p;
}

char *tbSignalEncodeJoinRequest(const Livekit__JoinRequest *req, bool gzip) {
    Livekit__WrappedJoinRequest w;
    uint8_t *plain = NULL, *packed = NULL, *wrapped = NULL;
    size_t plen = protobuf_c_message_get_packed_size(&req->base), wlen = 0;
    char *out = NULL;

    livekit__wrapped_join_request__init(&w);
    plain = malloc(plen > 0 ? plen : 1);
    if (plain == NULL)
        goto done;
    protobuf_c_message_pack(&req->base, plain);
    w.join_request.data = plain;
    w.join_request.len = plen;
    if (gzip) {
        size_t zlen = 0;
        packed = gzipAll(plain, plen, &zlen);
        if (packed == NULL)
            goto done;
        w.compression = LIVEKIT__WRAPPED_JOIN_REQUEST__COMPRESSION__GZIP;
        w.join_request.data = packed;
        w.join_request.len = zlen;
    }
    wlen = livekit__wrapped_join_request__get_packed_size(&w);
    wrapped = malloc(wlen > 0 ? wlen : 1);
    if (wrapped == NULL)
        goto done;
    livekit__wrapped_join_request__pack(&w, wrapped);
    out = base64UrlPadded(wrapped, wlen);
done:
    free(plain);
    free(packed);
    free(wrapped);
    return out;
}

/* ----------------------------------------------------------- frames ---- */

/* Packs msg (protobuf or compact JSON) after `headroom` spare bytes. */
static uint8_t *encodeFrame(const ProtobufCMessage *msg, bool as_text, size_t headroom,
                            size_t *len) {
    uint8_t *buf = NULL;
    if (!as_text) {
        size_t n = protobuf_c_message_get_packed_size(msg);
        if (headroom > SIZE_MAX - n - 1 || (buf = malloc(headroom + n + 1)) == NULL)
            return NULL;
        *len = protobuf_c_message_pack(msg, buf + headroom);
        return buf;
    }
    json_t *j = tbPbToJson(msg);
    if (j == NULL)
        return NULL;
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
    if (n > 0 && headroom <= SIZE_MAX - n - 1 && (buf = malloc(headroom + n + 1)) != NULL)
        *len = json_dumpb(j, (char *)buf + headroom, n, JSON_COMPACT);
    json_decref(j);
    return buf;
}

/* Unpacks one frame as `desc`; `what` names it in errors. */
static ProtobufCMessage *decodeFrame(const ProtobufCMessageDescriptor *desc, const char *what,
                                     const uint8_t *frame, size_t len, bool is_text, char *err,
                                     size_t errlen) {
    if (!is_text) {
        ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, frame);
        if (m == NULL && err != NULL && errlen > 0)
            snprintf(err, errlen, "cannot unmarshal %s", what);
        return m;
    }
    char detail[160] = "";
    json_error_t jerr;
    ProtobufCMessage *m = NULL;
    json_t *j = json_loadb((const char *)frame, len, 0, &jerr);
    if (j == NULL)
        snprintf(detail, sizeof detail, "%s", jerr.text);
    else if (!json_is_object(j))
        snprintf(detail, sizeof detail, "expected a JSON object");
    else
        m = tbPbFromJson(desc, j, detail, sizeof detail);
    json_decref(j);
    if (m == NULL && err != NULL && errlen > 0)
        snprintf(err, errlen, "cannot parse %s: %s", what, detail);
    return m;
}

int tbSignalDecodeRequest(const uint8_t *frame, size_t len, bool is_text,
                          Livekit__SignalRequest **out, char *err, size_t errlen) {
    *out = (Livekit__SignalRequest *)decodeFrame(&livekit__signal_request__descriptor,
                                                 "signal request", frame, len, is_text, err,
                                                 errlen);
    return *out != NULL ? 0 : -1;
}

int tbSignalDecodeResponse(const uint8_t *frame, size_t len, bool is_text,
                           Livekit__SignalResponse **out, char *err, size_t errlen) {
    *out = (Livekit__SignalResponse *)decodeFrame(&livekit__signal_response__descriptor,
                                                  "signal response", frame, len, is_text, err,
                                                  errlen);
    return *out != NULL ? 0 : -1;
}

uint8_t *tbSignalEncodeResponse(const Livekit__SignalResponse *msg, bool as_text,
                                size_t headroom, size_t *len) {
    return encodeFrame(&msg->base, as_text, headroom, len);
}

uint8_t *tbSignalEncodeRequest(const Livekit__SignalRequest *msg, bool as_text, size_t headroom,
                               size_t *len) {
    return encodeFrame(&msg->base, as_text, headroom, len);
}
