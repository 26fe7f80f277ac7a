/* pbjson.c — proto3 JSON mapping for protobuf-c messages (see pbjson.h for
 * the rules). Everything is driven by the generated descriptors, so it works
 * for any message without per-type code.
 *
 * How protobuf-c lays a message out (protobuf-c 1.4.1), which this file relies
 * on. For a field descriptor f, the value lives at `msg + f->offset`:
 *  - singular scalar: the C value (enums are int-sized, bool is
 *    protobuf_c_boolean); strings are `char *` (proto3 default points at
 *    protobuf_c_empty_string, never freed); bytes are ProtobufCBinaryData;
 *    messages are `ProtobufCMessage *` (NULL = absent).
 *  - repeated: `size_t` count at f->quantifier_offset, malloc'ed array at
 *    f->offset (array of values, of `char *`, of ProtobufCBinaryData or of
 *    `ProtobufCMessage *`).
 *  - oneof member (PROTOBUF_C_FIELD_FLAG_ONEOF): the case word (uint32-sized
 *    enum) at f->quantifier_offset holds the id of the member that is set;
 *    members share a union. Our .protos also express proto3 `optional` this
 *    way, because protoc-c 1.4.1 cannot generate it.
 *  - PROTOBUF_C_LABEL_OPTIONAL (proto2-style): `protobuf_c_boolean has_x` at
 *    f->quantifier_offset for non-pointer types; pointers use NULL.
 *  - PROTOBUF_C_LABEL_NONE (proto3 implicit presence): set = non-default.
 *  - map<K,V>: a repeated field of a nested "XxxEntry" message with fields
 *    key = 1 and value = 2. Descriptors carry no map flag, so isMapEntry()
 *    recognises the entry by protoc's naming rule.
 *
 * Parsing allocates exactly as protobuf_c_message_free_unpacked(msg, NULL)
 * frees: malloc for strings, bytes, arrays and submessages (initialised with
 * the descriptor's message_init). Every allocation is hooked into the
 * message before it is filled, and counts are bumped before an element is
 * parsed (into zeroed memory), so on any error the partly built message is
 * freed by that one call.
 *
 * Leniencies, all in the direction of accepting what a newer peer sends:
 * unknown JSON keys are ignored; an unknown enum *name* leaves the field at
 * its default (a repeated element is dropped), as protobuf-es does with
 * ignoreUnknownFields; when both the lowerCamelCase and the snake_case key
 * are present, the lowerCamelCase one wins.
 *
 * No globals, no I/O. */
#include "proto/pbjson.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBJ_NAME_MAX 256 /* longer field names (none exist) match snake_case only */

/* ------------------------------------------------------------ shared ---- */

static void *fieldAt(const void *msg, unsigned offset) {
    return (char *)msg + offset;
}

/* protoc's json_name: drop each '_' and upper-case the letter after it
 * ("creation_time_ms" -> "creationTimeMs", "last_tl0_pic_idx" ->
 * "lastTl0PicIdx", "foo_1bar" -> "foo1bar"). False if it does not fit. */
static bool lowerCamel(const char *name, char *out, size_t outlen) {
    size_t n = 0;
    bool upNext = false;
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            upNext = true;
            continue;
        }
        if (n + 1 >= outlen) return false;
        out[n++] = (upNext && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        upNext = false;
    }
    out[n] = '\0';
    return true;
}

/* protoc names a map's entry message UpperCamel(field) + "Entry" and nests
 * it in the message that declares the field. */
static bool isMapEntry(const ProtobufCMessageDescriptor *parent,
                       const ProtobufCFieldDescriptor *f) {
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) return false;
    const ProtobufCMessageDescriptor *e = f->descriptor;
    if (e == NULL || e->n_fields != 2) return false;
    const ProtobufCFieldDescriptor *k = protobuf_c_message_descriptor_get_field(e, 1);
    const ProtobufCFieldDescriptor *v = protobuf_c_message_descriptor_get_field(e, 2);
    if (k == NULL || v == NULL || strcmp(k->name, "key") != 0 || strcmp(v->name, "value") != 0)
        return false;

    char want[PBJ_NAME_MAX + 8];
    if (!lowerCamel(f->name, want, PBJ_NAME_MAX)) return false;
    if (want[0] >= 'a' && want[0] <= 'z') want[0] = (char)(want[0] - 'a' + 'A');
    strcat(want, "Entry");
    size_t plen = strlen(parent->name);
    return strcmp(e->short_name, want) == 0 && strncmp(e->name, parent->name, plen) == 0 &&
           e->name[plen] == '.' && strcmp(e->name + plen + 1, want) == 0;
}

/* Bytes one element of a field's type takes in a repeated array. */
static size_t elemSize(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return sizeof(uint32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int); /* generated enums are forced int-sized */
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static bool isSignedInt(ProtobufCType t) {
    return t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 ||
           t == PROTOBUF_C_TYPE_SFIXED32 || t == PROTOBUF_C_TYPE_INT64 ||
           t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64;
}

static bool is64Bit(ProtobufCType t) {
    return t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_SINT64 ||
           t == PROTOBUF_C_TYPE_SFIXED64 || t == PROTOBUF_C_TYPE_UINT64 ||
           t == PROTOBUF_C_TYPE_FIXED64;
}

/* ------------------------------------------------------------ base64 ---- */

static char b64Char(unsigned v) {
    if (v < 26) return (char)('A' + v);
    if (v < 52) return (char)('a' + v - 26);
    if (v < 62) return (char)('0' + v - 52);
    return v == 62 ? '+' : '/';
}

/* Value of a base64 digit in either alphabet (standard or url), or -1. */
static int b64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Standard alphabet, padded. Returns a malloc'ed C string or NULL. */
static char *b64Encode(const uint8_t *data, size_t len) {
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len) v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len) v |= data[i + 2];
        out[o++] = b64Char(v >> 18 & 63);
        out[o++] = b64Char(v >> 12 & 63);
        out[o++] = i + 1 < len ? b64Char(v >> 6 & 63) : '=';
        out[o++] = i + 2 < len ? b64Char(v & 63) : '=';
    }
    out[o] = '\0';
    return out;
}

/* Either alphabet, padding optional. False on a bad digit or length. The
 * result is malloc'ed (NULL when empty). */
static bool b64Decode(const char *s, ProtobufCBinaryData *out) {
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == '=') len--;
    if (len % 4 == 1 || strlen(s) - len > 2) return false;
    out->len = 0;
    out->data = NULL;
    if (len == 0) return true;
    uint8_t *buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL) return false;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64Value(s[i]);
        if (v < 0) {
            free(buf);
            return false;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    out->len = o;
    out->data = buf;
    return true;
}

/* ------------------------------------------------------ message -> JSON ---- */

static json_t *messageToJson(const ProtobufCMessage *msg);

/* JSON for one value of f's type stored at p (a field slot or array slot). */
static json_t *valueToJson(const ProtobufCFieldDescriptor *f, const void *p) {
    char num[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(num, sizeof num, "%" PRId64, *(const int64_t *)p);
        return json_string(num);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(num, sizeof num, "%" PRIu64, *(const uint64_t *)p);
        return json_string(num);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)p : *(const double *)p;
        if (isnan(d)) return json_string("NaN");
        if (isinf(d)) return json_string(d > 0 ? "Infinity" : "-Infinity");
        return json_real(d);
    }
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev ? json_string(ev->name) : json_integer(v); /* unknown value: its number */
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return json_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        char *s = b64Encode(b->data, b->len);
        json_t *j = s ? json_string(s) : NULL;
        free(s);
        return j;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? messageToJson(m) : json_object();
    }
    }
    return NULL;
}

/* Map keys are JSON strings whatever the key type. */
static json_t *mapKeyToString(const ProtobufCFieldDescriptor *k, const void *p) {
    if (k->type == PROTOBUF_C_TYPE_STRING) return valueToJson(k, p);
    if (k->type == PROTOBUF_C_TYPE_BOOL)
        return json_string(*(const protobuf_c_boolean *)p ? "true" : "false");
    json_t *v = valueToJson(k, p);
    if (v == NULL || json_is_string(v)) return v;
    char num[32];
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    json_decref(v);
    return json_string(num);
}

static json_t *mapToJson(const ProtobufCFieldDescriptor *f, const void *msg) {
    size_t n = *(const size_t *)fieldAt(msg, f->quantifier_offset);
    ProtobufCMessage *const *entries = *(ProtobufCMessage *const *const *)fieldAt(msg, f->offset);
    const ProtobufCFieldDescriptor *kf = protobuf_c_message_descriptor_get_field(f->descriptor, 1);
    const ProtobufCFieldDescriptor *vf = protobuf_c_message_descriptor_get_field(f->descriptor, 2);
    json_t *obj = json_object();
    for (size_t i = 0; obj != NULL && i < n; i++) {
        json_t *k = mapKeyToString(kf, fieldAt(entries[i], kf->offset));
        json_t *v = valueToJson(vf, fieldAt(entries[i], vf->offset));
        /* json_object_set_new consumes v even when it fails */
        if (k == NULL || v == NULL || json_object_set_new(obj, json_string_value(k), v) != 0) {
            if (k == NULL) json_decref(v);
            json_decref(obj);
            obj = NULL;
        }
        json_decref(k);
    }
    return obj;
}

static json_t *repeatedToJson(const ProtobufCFieldDescriptor *f, const void *msg) {
    size_t n = *(const size_t *)fieldAt(msg, f->quantifier_offset);
    const char *arr = *(const char *const *)fieldAt(msg, f->offset);
    size_t sz = elemSize(f->type);
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, valueToJson(f, arr + i * sz)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* Is a proto3 implicit-presence value equal to its type's default? (-0.0
 * counts as 0, as protobuf-c's packer treats it, so JSON and wire agree.) */
static bool isDefault(const ProtobufCFieldDescriptor *f, const void *p) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p == NULL;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0.0f;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0.0;
    default: break;
    }
    size_t sz = elemSize(f->type);
    return sz == 4 ? *(const uint32_t *)p == 0 : *(const uint64_t *)p == 0;
}

/* Should a singular field appear in the output? */
static bool isPresent(const ProtobufCFieldDescriptor *f, const void *msg) {
    const void *p = fieldAt(msg, f->offset);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)fieldAt(msg, f->quantifier_offset) == f->id &&
               !(f->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage *const *)p == NULL);
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED: return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
            const void *ptr = *(const void *const *)p;
            return ptr != NULL && ptr != f->default_value;
        }
        return *(const protobuf_c_boolean *)fieldAt(msg, f->quantifier_offset);
    default: return !isDefault(f, p);
    }
}

static json_t *messageToJson(const ProtobufCMessage *msg) {
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    json_t *obj = json_object();
    for (unsigned i = 0; obj != NULL && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_t *v = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (*(const size_t *)fieldAt(msg, f->quantifier_offset) == 0) continue;
            v = isMapEntry(d, f) ? mapToJson(f, msg) : repeatedToJson(f, msg);
        } else {
            if (!isPresent(f, msg)) continue;
            v = valueToJson(f, fieldAt(msg, f->offset));
        }
        char name[PBJ_NAME_MAX];
        if (!lowerCamel(f->name, name, sizeof name)) snprintf(name, sizeof name, "%s", f->name);
        if (v == NULL || json_object_set_new(obj, name, v) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

json_t *tbPbToJson(const ProtobufCMessage *msg) {
    return msg ? messageToJson(msg) : NULL;
}

/* ------------------------------------------------------ JSON -> message ---- */

/* Parse state: where the error goes, and the JSON path of the value being
 * read ("participants[0].permission.canPublish") so errors can name it. */
typedef struct PbjCtx {
    char *err;
    size_t errlen;
    char path[256];
    size_t pathLen;
} PbjCtx;

/* What parsing one value did. SKIP: nothing stored (unknown enum name). */
typedef enum PbjRes { PBJ_ERR = -1, PBJ_SKIP = 0, PBJ_SET = 1 } PbjRes;

__attribute__((format(printf, 2, 3))) static PbjRes fail(PbjCtx *c, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err != NULL && c->errlen > 0) {
        if (c->pathLen > 0)
            snprintf(c->err, c->errlen, "field `%s`: %s", c->path, msg);
        else
            snprintf(c->err, c->errlen, "%s", msg);
    }
    return PBJ_ERR;
}

/* Appends ".name" (or "name" at the top, or "[i]" style when `sep` is "")
 * to the path; returns the old length for pathPop. Truncates silently. */
static size_t pathPush(PbjCtx *c, const char *sep, const char *seg) {
    size_t old = c->pathLen;
    int n = snprintf(c->path + old, sizeof c->path - old, "%s%s", old > 0 ? sep : "", seg);
    c->pathLen = n < 0 ? old : old + (size_t)n;
    if (c->pathLen >= sizeof c->path) c->pathLen = sizeof c->path - 1;
    return old;
}

static void pathPop(PbjCtx *c, size_t old) {
    c->pathLen = old;
    c->path[old] = '\0';
}

static const char *jsonTypeName(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* A whole string as a double ("1.5", "1e3", "NaN", "Infinity", "-Infinity"). */
static bool parseDoubleString(const char *s, double *out) {
    if (strcmp(s, "NaN") == 0) *out = NAN;
    else if (strcmp(s, "Infinity") == 0) *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0) *out = -INFINITY;
    else {
        char *end;
        if (s[0] == '\0' || s[0] == ' ' || s[0] == '\t' || s[0] == '\n') return false;
        errno = 0;
        *out = strtod(s, &end);
        if (*end != '\0' || errno == ERANGE || !isfinite(*out)) return false;
    }
    return true;
}

/* A whole string as a base-10 integer: 1 ok, 0 not an integer literal,
 * -1 out of range. Leading whitespace and '+' are refused. */
static int parseInt64String(const char *s, int64_t *out) {
    if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0') return 0;
    if (errno == ERANGE) return -1;
    *out = v;
    return 1;
}

static int parseUint64String(const char *s, uint64_t *out) {
    if (!(s[0] >= '0' && s[0] <= '9')) return 0; /* strtoull would wrap "-1" */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') return 0;
    if (errno == ERANGE) return -1;
    *out = v;
    return 1;
}

/* The fallback for integers written as 1.0, 1e3 or "1e3": the value as a
 * double if it is a whole number; otherwise an error naming what was seen. */
static PbjRes integralDouble(PbjCtx *c, const json_t *j, double *d) {
    if (json_is_real(j)) {
        *d = json_real_value(j);
    } else if (json_is_string(j)) {
        if (!parseDoubleString(json_string_value(j), d))
            return fail(c, "expected an integer, got \"%s\"", json_string_value(j));
    } else {
        return fail(c, "expected an integer (number or string), got %s", jsonTypeName(j));
    }
    if (!isfinite(*d) || *d != floor(*d)) return fail(c, "expected an integer, got %g", *d);
    return PBJ_SET;
}

/* A JSON integer, or a string holding one, for a signed type with range
 * [min, max]. 64-bit values keep full precision only as strings or integers. */
static PbjRes readSigned(PbjCtx *c, const json_t *j, int64_t min, int64_t max, int64_t *out) {
    int64_t v = 0;
    int rc = json_is_string(j) ? parseInt64String(json_string_value(j), &v) : 0;
    if (rc < 0) return fail(c, "\"%s\" is out of range", json_string_value(j));
    if (json_is_integer(j)) {
        v = json_integer_value(j);
    } else if (rc == 0) {
        double d;
        if (integralDouble(c, j, &d) != PBJ_SET) return PBJ_ERR;
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return fail(c, "%g is out of range", d);
        v = (int64_t)d;
    }
    if (v < min || v > max) return fail(c, "%" PRId64 " is out of range", v);
    *out = v;
    return PBJ_SET;
}

/* Same for unsigned types; negative input is out of range. */
static PbjRes readUnsigned(PbjCtx *c, const json_t *j, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    int rc = json_is_string(j) ? parseUint64String(json_string_value(j), &v) : 0;
    if (rc < 0) return fail(c, "\"%s\" is out of range", json_string_value(j));
    if (json_is_integer(j)) {
        if (json_integer_value(j) < 0)
            return fail(c, "%" JSON_INTEGER_FORMAT " is out of range", json_integer_value(j));
        v = (uint64_t)json_integer_value(j);
    } else if (rc == 0) {
        double d;
        if (integralDouble(c, j, &d) != PBJ_SET) return PBJ_ERR;
        if (d < 0 || d >= 18446744073709551616.0) return fail(c, "%g is out of range", d);
        v = (uint64_t)d;
    }
    if (v > max) return fail(c, "%" PRIu64 " is out of range", v);
    *out = v;
    return PBJ_SET;
}

static PbjRes readDouble(PbjCtx *c, const json_t *j, double *out) {
    if (json_is_number(j)) {
        *out = json_number_value(j);
        return PBJ_SET;
    }
    if (json_is_string(j) && parseDoubleString(json_string_value(j), out)) return PBJ_SET;
    if (json_is_string(j)) return fail(c, "expected a number, got \"%s\"", json_string_value(j));
    return fail(c, "expected a number, got %s", jsonTypeName(j));
}

static PbjRes readEnum(PbjCtx *c, const ProtobufCFieldDescriptor *f, const json_t *j, int *out) {
    if (json_is_string(j)) {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(j));
        if (ev == NULL) return PBJ_SKIP; /* a name from a newer schema: ignore */
        *out = ev->value;
        return PBJ_SET;
    }
    if (!json_is_number(j))
        return fail(c, "expected an enum name or number, got %s", jsonTypeName(j));
    int64_t v = 0;
    if (readSigned(c, j, INT32_MIN, INT32_MAX, &v) != PBJ_SET) return PBJ_ERR;
    *out = (int)v;
    return PBJ_SET;
}

/* Integer types: range-checked by width and sign, stored at dst. */
static PbjRes readInteger(PbjCtx *c, ProtobufCType t, const json_t *j, void *dst) {
    if (isSignedInt(t)) {
        int64_t v = 0;
        bool wide = is64Bit(t);
        if (readSigned(c, j, wide ? INT64_MIN : INT32_MIN, wide ? INT64_MAX : INT32_MAX, &v) !=
            PBJ_SET)
            return PBJ_ERR;
        if (wide) *(int64_t *)dst = v;
        else *(int32_t *)dst = (int32_t)v;
    } else {
        uint64_t v = 0;
        bool wide = is64Bit(t);
        if (readUnsigned(c, j, wide ? UINT64_MAX : UINT32_MAX, &v) != PBJ_SET) return PBJ_ERR;
        if (wide) *(uint64_t *)dst = v;
        else *(uint32_t *)dst = (uint32_t)v;
    }
    return PBJ_SET;
}

static PbjRes parseMessage(PbjCtx *c, const json_t *obj, ProtobufCMessage *msg);

/* Allocates and initialises an empty message of type d. */
static ProtobufCMessage *newMessage(const ProtobufCMessageDescriptor *d) {
    ProtobufCMessage *m = malloc(d->sizeof_message);
    if (m != NULL) protobuf_c_message_init(d, m);
    return m;
}

/* One JSON value of f's type into dst (a field slot or a zeroed array slot).
 * On error dst is left freeable (NULL pointers / unchanged). */
static PbjRes readValue(PbjCtx *c, const ProtobufCFieldDescriptor *f, const json_t *j, void *dst) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d;
        if (readDouble(c, j, &d) != PBJ_SET) return PBJ_ERR;
        if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
            *(double *)dst = d;
        } else {
            if (isfinite(d) && fabs(d) > FLT_MAX) return fail(c, "%g is out of range for float", d);
            *(float *)dst = (float)d;
        }
        return PBJ_SET;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(j)) return fail(c, "expected true or false, got %s", jsonTypeName(j));
        *(protobuf_c_boolean *)dst = json_is_true(j);
        return PBJ_SET;
    case PROTOBUF_C_TYPE_ENUM: return readEnum(c, f, j, (int *)dst);
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(j)) return fail(c, "expected a string, got %s", jsonTypeName(j));
        char *s = strdup(json_string_value(j));
        if (s == NULL) return fail(c, "out of memory");
        *(char **)dst = s;
        return PBJ_SET;
    }
    case PROTOBUF_C_TYPE_BYTES:
        if (!json_is_string(j)) return fail(c, "expected a base64 string, got %s", jsonTypeName(j));
        if (!b64Decode(json_string_value(j), (ProtobufCBinaryData *)dst))
            return fail(c, "expected base64, got \"%s\"", json_string_value(j));
        return PBJ_SET;
    case PROTOBUF_C_TYPE_MESSAGE: {
        if (!json_is_object(j)) return fail(c, "expected an object, got %s", jsonTypeName(j));
        ProtobufCMessage *m = newMessage(f->descriptor);
        if (m == NULL) return fail(c, "out of memory");
        *(ProtobufCMessage **)dst = m; /* owned by the parent from here on */
        return parseMessage(c, j, m) == PBJ_ERR ? PBJ_ERR : PBJ_SET;
    }
    default: return readInteger(c, f->type, j, dst);
    }
}

/* A map key arrives as a JSON object key (always a string). */
static PbjRes readMapKey(PbjCtx *c, const ProtobufCFieldDescriptor *kf, const char *key, void *dst) {
    if (kf->type == PROTOBUF_C_TYPE_STRING) {
        json_t *j = json_string(key);
        PbjRes r = j ? readValue(c, kf, j, dst) : fail(c, "out of memory");
        json_decref(j);
        return r;
    }
    if (kf->type == PROTOBUF_C_TYPE_BOOL) {
        if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0)
            return fail(c, "map key \"%s\" is not true or false", key);
        *(protobuf_c_boolean *)dst = key[0] == 't';
        return PBJ_SET;
    }
    json_t *j = json_string(key);
    PbjRes r = j ? readInteger(c, kf->type, j, dst) : fail(c, "out of memory");
    json_decref(j);
    return r;
}

static PbjRes readMap(PbjCtx *c, const ProtobufCFieldDescriptor *f, const json_t *j, void *msg) {
    if (!json_is_object(j)) return fail(c, "expected an object (map), got %s", jsonTypeName(j));
    size_t n = json_object_size(j);
    if (n == 0) return PBJ_SET;
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    const ProtobufCFieldDescriptor *kf = protobuf_c_message_descriptor_get_field(ed, 1);
    const ProtobufCFieldDescriptor *vf = protobuf_c_message_descriptor_get_field(ed, 2);
    ProtobufCMessage **arr = calloc(n, sizeof *arr);
    if (arr == NULL) return fail(c, "out of memory");
    size_t *count = fieldAt(msg, f->quantifier_offset);
    *(ProtobufCMessage ***)fieldAt(msg, f->offset) = arr;

    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        size_t old = pathPush(c, ".", key);
        ProtobufCMessage *e = newMessage(ed);
        if (e == NULL) return fail(c, "out of memory");
        arr[(*count)++] = e;
        if (json_is_null(val)) return fail(c, "null is not a valid map value");
        if (readMapKey(c, kf, key, fieldAt(e, kf->offset)) == PBJ_ERR) return PBJ_ERR;
        PbjRes r = readValue(c, vf, val, fieldAt(e, vf->offset));
        if (r == PBJ_ERR) return PBJ_ERR;
        if (r == PBJ_SKIP) { /* unknown enum name: drop the entry */
            protobuf_c_message_free_unpacked(e, NULL);
            arr[--*count] = NULL;
        }
        pathPop(c, old);
    }
    return PBJ_SET;
}

static PbjRes readRepeated(PbjCtx *c, const ProtobufCFieldDescriptor *f, const json_t *j,
                           void *msg) {
    if (!json_is_array(j)) return fail(c, "expected an array, got %s", jsonTypeName(j));
    size_t n = json_array_size(j);
    if (n == 0) return PBJ_SET;
    size_t sz = elemSize(f->type);
    char *arr = calloc(n, sz);
    if (arr == NULL) return fail(c, "out of memory");
    size_t *count = fieldAt(msg, f->quantifier_offset);
    *(char **)fieldAt(msg, f->offset) = arr;

    for (size_t i = 0; i < n; i++) {
        char idx[24];
        snprintf(idx, sizeof idx, "[%zu]", i);
        size_t old = pathPush(c, "", idx);
        const json_t *el = json_array_get(j, i);
        if (json_is_null(el)) return fail(c, "null is not a valid array element");
        char *slot = arr + *count * sz;
        (*count)++; /* the slot is zeroed: freeable even if its parse fails */
        PbjRes r = readValue(c, f, el, slot);
        if (r == PBJ_ERR) return PBJ_ERR;
        if (r == PBJ_SKIP) (*count)--; /* nothing was stored; reuse the slot */
        pathPop(c, old);
    }
    return PBJ_SET;
}

/* A singular field, including oneof members and proto2-style optionals. */
static PbjRes readSingular(PbjCtx *c, const ProtobufCFieldDescriptor *f, const json_t *j,
                           void *msg) {
    void *dst = fieldAt(msg, f->offset);
    uint32_t *oneofCase = NULL;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        oneofCase = fieldAt(msg, f->quantifier_offset);
        if (*oneofCase != 0 && *oneofCase != f->id)
            return fail(c, "another field of the same oneof is already set");
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && oneofCase != NULL) {
        /* Set the case first so that the message, once attached, is freed
         * with the parent if its own parse fails. */
        *oneofCase = f->id;
        PbjRes r = readValue(c, f, j, dst);
        if (*(void **)dst == NULL) *oneofCase = 0;
        return r;
    }
    PbjRes r = readValue(c, f, j, dst);
    if (r != PBJ_SET) return r;
    if (oneofCase != NULL) *oneofCase = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)fieldAt(msg, f->quantifier_offset) = 1;
    return PBJ_SET;
}

/* Fills msg (freshly initialised) from a JSON object. Looks each descriptor
 * field up by lowerCamelCase name, then by its proto name; other keys are
 * ignored. */
static PbjRes parseMessage(PbjCtx *c, const json_t *obj, ProtobufCMessage *msg) {
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char camel[PBJ_NAME_MAX];
        const char *key = lowerCamel(f->name, camel, sizeof camel) ? camel : f->name;
        const json_t *j = json_object_get(obj, key);
        if (j == NULL) {
            key = f->name;
            j = json_object_get(obj, key);
        }
        if (j == NULL || json_is_null(j)) continue;

        size_t old = pathPush(c, ".", key);
        PbjRes r;
        if (f->label != PROTOBUF_C_LABEL_REPEATED) r = readSingular(c, f, j, msg);
        else if (isMapEntry(d, f)) r = readMap(c, f, j, msg);
        else r = readRepeated(c, f, j, msg);
        if (r == PBJ_ERR) return PBJ_ERR;
        pathPop(c, old);
    }
    return PBJ_SET;
}

ProtobufCMessage *tbPbFromJson(const ProtobufCMessageDescriptor *desc, const json_t *json,
                               char *err, size_t errlen) {
    PbjCtx c = {.err = err, .errlen = errlen};
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (desc == NULL || json == NULL || !json_is_object(json)) {
        fail(&c, "expected a JSON object, got %s", json ? jsonTypeName(json) : "nothing");
        return NULL;
    }
    ProtobufCMessage *msg = newMessage(desc);
    if (msg == NULL) {
        fail(&c, "out of memory");
        return NULL;
    }
    if (parseMessage(&c, json, msg) == PBJ_ERR) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return NULL;
    }
    return msg;
}
