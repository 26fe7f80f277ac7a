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
    /* The session resumed on another connection: this one must drop its
     * reference (no tbSignalOnClosed for it) and close. */
    void (*forget)(void *conn);
} tbSignalIo;

/* Returns 0 and a new session, or an HTTP status (400/401/404/...) with
 * `why` filled. `v1`: /rtc/v1 (single peer connection). */
int tbSignalAccept(tbSignalHub *hub, const tbHttpRequest *req, bool v1, tbSignalSession **out,
                   char *why, size_t whylen);
void tbSignalAttach(tbSignalSession *s, const tbSignalIo *io, void *conn);
void tbSignalOnMessage(tbSignalSession *s, const uint8_t *data, size_t len, bool text);
/* The connection is gone. clean: the client closed it with a close frame
 * (a tab closing, a page leaving): the participant leaves. Otherwise (the
 * connection broke) a session that joined stays detached for
 * TB_SIGNAL_RESUME_MS, so the SDK can resume it on a new connection (join
 * request with reconnect=true and its participant sid); then, or if it never
 * joined, it is freed. `conn` must not be used afterwards. */
void tbSignalOnClosed(tbSignalSession *s, bool clean);
/* Frees sessions detached for longer than the grace period (their
 * participants leave). Call about once a second. */
void tbSignalHubSweep(tbSignalHub *hub, int64_t now_ms);

#define TB_SIGNAL_RESUME_MS 20000

#endif
