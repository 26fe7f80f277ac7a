/* codec.h — LiveKit signaling messages to and from bytes: the /rtc/v1
 * `join_request` query parameter (base64url of a WrappedJoinRequest holding a
 * gzip-compressed JoinRequest) and the WebSocket frames (SignalRequest from
 * the client, SignalResponse from the server; binary protobuf, or proto3 JSON
 * in text frames). Pure functions over buffers: no I/O, no state.
 *
 * Messages are the protobuf-c types of src/proto/livekit_rtc.proto
 * (#include "livekit_rtc.pb-c.h"). A message returned by a decoder is freed
 * with livekit__<type>__free_unpacked(msg, NULL). Errors are written to
 * `err` (NUL-terminated, truncated to errlen) in LiveKit's words where
 * LiveKit has them; LiveKit answers every join-request error with HTTP 400. */
#ifndef TB_SIGNAL_CODEC_H
#define TB_SIGNAL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "livekit_rtc.pb-c.h"

/* LiveKit's cap on a join request, compressed or not, after decompression:
 * Go's http.DefaultMaxHeaderBytes (1 MiB). */
#define TB_SIGNAL_JOIN_MAX_INFLATED ((size_t)1 << 20)

/* Decodes the `join_request` query value (already URL-decoded: '=' padding
 * optional, '-' '_' or '+' '/' alphabets). A GZIP-compressed JoinRequest is
 * inflated to at most `max_inflated` bytes (0 means
 * TB_SIGNAL_JOIN_MAX_INFLATED); an uncompressed one may not exceed it either.
 * Returns 0 and *out (free with livekit__join_request__free_unpacked), or -1
 * with err set to one of:
 *   "cannot base64 decode wrapped join request"
 *   "cannot unmarshal wrapped join request"
 *   "unsupported join request compression"    (tribune's; LiveKit ignores it)
 *   "join request too large"
 *   "cannot read decompressed join request"   (corrupt or truncated gzip)
 *   "cannot unmarshal join request"
 *   "out of memory" */
int tbSignalDecodeJoinRequest(const char *b64url, size_t len, size_t max_inflated,
                              Livekit__JoinRequest **out, char *err, size_t errlen);

/* The reverse, as livekit-client 2.23 builds it: JoinRequest -> protobuf ->
 * gzip (when `gzip`, compression = GZIP; else NONE) -> WrappedJoinRequest ->
 * base64url keeping '=' padding (LiveKit's Go decoder requires it; the caller
 * percent-encodes the value when it puts it in a URL). Returns a malloc'ed
 * NUL-terminated string, or NULL when out of memory. */
char *tbSignalEncodeJoinRequest(const Livekit__JoinRequest *req, bool gzip);

/* Decodes one client frame: binary = protobuf, text = proto3 JSON (as
 * protobuf-es toJsonString() writes it). Returns 0 and *out (free with
 * livekit__signal_request__free_unpacked), or -1 with err set to
 * "cannot unmarshal signal request" (binary) or
 * "cannot parse signal request: <detail>" (text). A frame whose message is
 * one tribune does not model decodes fine with message_case NOT_SET. */
int tbSignalDecodeRequest(const uint8_t *frame, size_t len, bool is_text,
                          Livekit__SignalRequest **out, char *err, size_t errlen);

/* Encodes one server frame, binary protobuf or (as_text) compact proto3 JSON,
 * into a new malloc'ed buffer that starts with `headroom` unused bytes, so a
 * WebSocket writer that needs room in front of the payload (lws_write wants
 * LWS_PRE) sends buf + headroom directly. *len is the payload length (JSON
 * is not NUL-terminated). free() the buffer. Returns NULL when out of memory
 * or when the message cannot be written as JSON (a string that is not UTF-8). */
uint8_t *tbSignalEncodeResponse(const Livekit__SignalResponse *msg, bool as_text,
                                size_t headroom, size_t *len);

/* The client's side, for tests and the load generator: same contracts as
 * above with the roles swapped. tbSignalDecodeResponse's errors read
 * "cannot unmarshal signal response" / "cannot parse signal response: ...". */
uint8_t *tbSignalEncodeRequest(const Livekit__SignalRequest *msg, bool as_text, size_t headroom,
                               size_t *len);
int tbSignalDecodeResponse(const uint8_t *frame, size_t len, bool is_text,
                           Livekit__SignalResponse **out, char *err, size_t errlen);

#endif
