/* pbjson.h — protobuf JSON mapping (proto3 canonical JSON) for protobuf-c
 * messages, driven by the generated descriptors. protobuf-c has no JSON
 * support and no maintained library adds it, so this is written here.
 *
 * Rules (https://protobuf.dev/programming-guides/proto3/#json):
 *  - output field names are lowerCamelCase; input accepts lowerCamelCase or
 *    the original snake_case name; unknown input fields are ignored.
 *  - proto3 fields equal to their default are omitted on output.
 *  - 64-bit integers are written as strings; accepted as strings or numbers.
 *  - enums are written as their value name; accepted as name or number.
 *  - bytes are base64 (standard, padded) on output; base64 or base64url in.
 *  - map<k,v> fields are JSON objects; repeated fields are arrays.
 *  - null input for a field means "default".
 * No I/O. Messages returned by tbPbFromJson are freed with
 * protobuf_c_message_free_unpacked(msg, NULL). */
#ifndef TB_PBJSON_H
#define TB_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Message -> new JSON object (caller owns the reference). */
json_t *tbPbToJson(const ProtobufCMessage *msg);

/* JSON object -> newly allocated message, or NULL with `err` describing the
 * offending field ("field `maxParticipants`: expected a number"). */
ProtobufCMessage *tbPbFromJson(const ProtobufCMessageDescriptor *desc, const json_t *json,
                               char *err, size_t errlen);

#endif
