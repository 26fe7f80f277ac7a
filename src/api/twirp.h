/* twirp.h — a Twirp (v7) server-side dispatcher for protobuf-c services:
 * POST /twirp/<package>.<Service>/<Method> with application/json (protobuf
 * JSON, via proto/pbjson) or application/protobuf bodies, errors as
 * {"code": ..., "msg": ...} with the HTTP status Twirp assigns to the code. */
#ifndef TB_TWIRP_H
#define TB_TWIRP_H

#include <protobuf-c/protobuf-c.h>

#include "api/api.h"

typedef struct tbTwirpError {
    const char *code;           /* Twirp code: "not_found", "unauthenticated", ... */
    char msg[384];
} tbTwirpError;

/* Sets err and returns -1, for `return tbTwirpFail(err, ...)`. */
int tbTwirpFail(tbTwirpError *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A method handler: `claims` holds the caller's grants (empty when no token
 * was given). On success returns 0 and sets *out to a heap message freed with
 * protobuf_c_message_free_unpacked(*out, NULL). */
typedef int (*tbTwirpFn)(tbApi *api, const tbClaims *claims, const ProtobufCMessage *in,
                         ProtobufCMessage **out, tbTwirpError *err);

typedef struct tbTwirpMethod {
    const char *name;
    const char *route;          /* full path, the metrics label */
    const ProtobufCMessageDescriptor *input;
    tbTwirpFn fn;
} tbTwirpMethod;

typedef struct tbTwirpService {
    const char *prefix;         /* "/twirp/livekit.RoomService/" */
    const tbTwirpMethod *methods;
    size_t num_methods;
} tbTwirpService;

void tbTwirpServe(tbApi *api, const tbTwirpService *svc, const tbHttpRequest *req,
                  tbHttpResponse *resp);
int tbTwirpStatus(const char *code);
/* forward.c: with several nodes, a call about a room held elsewhere (and
 * ListRooms) is answered later; true when it was deferred so. */
bool tbApiForward(tbApi *api, const char *method, const ProtobufCMessage *in,
                  const tbHttpRequest *req);

/* The RoomService (api/room_service.c). */
extern const tbTwirpService tbRoomService;

#endif
