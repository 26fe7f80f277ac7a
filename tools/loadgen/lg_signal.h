/* lg_signal.h — one load-generator participant's LiveKit signaling over a
 * WebSocket (/rtc/v1 of tribune or livekit-server), on a libuv loop through
 * libwebsockets' client API.
 *
 * One lgSignalCtx (one lws client context) per loop carries any number of
 * lgSignal connections (hundreds at once: the process's open-file limit is
 * the bound, one descriptor each). Messages are the protobuf-c types of
 * src/proto/livekit_rtc.proto, framed as binary protobuf both ways.
 *
 * Life of an lgSignal: lgSignalConnect -> on_response per SignalResponse
 * (the first is `join`) -> either on_closed once (the socket ended, or the
 * connect failed) or lgSignalClose. Each ends the handle: after on_closed
 * returns, or after lgSignalClose returns, no callback fires for it and it
 * must not be used again (lgSignalClose on it included); the memory is
 * freed later, on the loop. lgSignalClose may be called from inside the
 * lgSignal's own callbacks, on_closed included (then it changes nothing).
 *
 * Keepalive: once the JoinResponse is in, every lgSignal sends `ping` and
 * `ping_req` every ping_interval seconds, as livekit-client does
 * (livekit-server drops clients that stop pinging); their `pong` and
 * `pong_resp` reach on_response like every other message. */
#ifndef LG_SIGNAL_H
#define LG_SIGNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "livekit_rtc.pb-c.h"

typedef struct lgSignalCtx lgSignalCtx;   /* one lws client context per loop */
typedef struct lgSignal lgSignal;

/* every SignalResponse received (binary protobuf), and the end of the socket */
typedef struct lgSignalEvents {
    /* r is freed after the callback returns: copy what must outlive it */
    void (*on_response)(void *ud, const Livekit__SignalResponse *r);
    /* Once per lgSignal, also when connect fails. code: the WebSocket close
     * code the server sent (1000 after a leave), 1005 for a close frame
     * without one, 1006 when the socket broke without a close frame; for a
     * failed connect, the HTTP status of a refused upgrade (401, 403, ...)
     * or 0 when no HTTP answer came (refused, unreachable, timed out).
     * reason: the close reason or lws's error text (never NULL). */
    void (*on_closed)(void *ud, int code, const char *reason);
} lgSignalEvents;

/* NULL when the lws context cannot be created (the libuv event-lib plugin,
 * Debian's libwebsockets-evlib-uv, missing). Sets lws logging to errors and
 * warnings. */
lgSignalCtx *lgSignalCtxNew(uv_loop_t *loop);
/* After every lgSignal is closed or has had its on_closed (any left open
 * are closed here; none of them may be used afterwards); run the loop after. The close handshakes
 * under way finish first, so servers see clean closes (at most ~6 s), then
 * lws is torn down and the memory freed, and no handle of the context is
 * left on the loop. No callback fires after it returns. May be called from
 * inside a callback. */
void lgSignalCtxFree(lgSignalCtx *c);

/* Connects to ws://host:port/rtc/v1?access_token=...&join_request=... with a
 * JoinRequest (client_info sdk UNKNOWN, protocol 16, auto_subscribe, no
 * publisher offer) wrapped in WrappedJoinRequest (no compression) and
 * base64url-encoded, as livekit-client does. host: a name, an IPv4 literal
 * or an IPv6 literal without brackets. NULL only when out of memory or
 * after lgSignalCtxFree; any other failure arrives as on_closed (never from
 * inside this call). */
lgSignal *lgSignalConnect(lgSignalCtx *c, const char *host, int port, const char *token,
                          const lgSignalEvents *ev, void *ud);
/* Packs req and queues it as one binary frame, written on
 * LWS_CALLBACK_CLIENT_WRITEABLE (frames sent before the socket is up wait
 * for it). 0, or -1 when out of memory or the socket is gone or closing. */
int lgSignalSend(lgSignal *s, const Livekit__SignalRequest *req);

/* helpers built on lgSignalSend */
int lgSignalAddTrack(lgSignal *s, const char *cid, const char *name); /* audio, microphone */
int lgSignalOffer(lgSignal *s, const char *sdp, uint32_t id);
int lgSignalLeave(lgSignal *s);           /* CLIENT_INITIATED, DISCONNECT */
/* `ping` (ms since the epoch) and `ping_req` {timestamp, rtt}, as the
 * automatic keepalive sends them; rtt_ms is the caller's last measure. */
int lgSignalPing(lgSignal *s, int64_t rtt_ms);

/* Closes: queued frames go out first, then a close frame (1000 "client
 * closed"), and the socket ends when the server answers it (at most ~5 s),
 * so the server sees a clean close; a socket not up yet is dropped. No more
 * callbacks after it returns; the handle must not be used again. */
void lgSignalClose(lgSignal *s);

/* true once the WebSocket upgrade succeeded and until the socket ends */
bool lgSignalIsOpen(const lgSignal *s);

/* A LiveKit HS256 token for identity in room with roomJoin, canPublish,
 * canSubscribe, valid ttl_s seconds from now (tbTokenSign; malloc'ed, NULL
 * on bad arguments or out of memory). */
char *lgSignalToken(const char *api_key, const char *secret, const char *identity,
                    const char *room, int ttl_s);

#endif
