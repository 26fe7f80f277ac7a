/* session.h — one participant's signaling session: the LiveKit protocol on a
 * WebSocket (/rtc/v1), driving the room model and the media plane. The
 * transport (lws) is behind tbSignalIo so this code never sees a socket.
 *
 * Life: tbSignalAccept (at the WebSocket upgrade, with the HTTP request:
 * validates the token and the join request) -> tbSignalAttach (the socket is
 * up: the JoinResponse and the answer go out) -> tbSignalOnMessage per frame
 * -> tbSignalOnClosed. The hub (signal/hub.h) owns every session. */
#ifndef TB_SIGNAL_SESSION_H
#define TB_SIGNAL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

typedef struct tbSignalHub tbSignalHub;
typedef struct tbSignalSession tbSignalSession;

typedef struct tbSignalIo {
    /* Queue one frame (binary protobuf, or text JSON). */
    void (*send)(void *conn, const uint8_t *data, size_t len, bool text);
    /* Close the WebSocket with a code (1000 normal, 1008 policy) and reason. */
    void (*close)(void *conn, int code, const char *reason);
} tbSignalIo;

/* Returns 0 and a new session, or an HTTP status (400/401/404/...) with
 * `why` filled. `v1`: /rtc/v1 (single peer connection). */
int tbSignalAccept(tbSignalHub *hub, const tbHttpRequest *req, bool v1, tbSignalSession **out,
                   char *why, size_t whylen);
void tbSignalAttach(tbSignalSession *s, const tbSignalIo *io, void *conn);
void tbSignalOnMessage(tbSignalSession *s, const uint8_t *data, size_t len, bool text);
/* The connection is gone; the session is freed (now or after the
 * departure grace period). `conn` must not be used afterwards. */
void tbSignalOnClosed(tbSignalSession *s);

#endif
