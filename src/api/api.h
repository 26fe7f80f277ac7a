/* api.h — the control plane's HTTP API: health, metrics, token validation,
 * the REST token endpoint, Twirp RoomService, the web app's static files
 * under /app/ and its dev-only token endpoint. tbApiDispatch routes one
 * parsed request (http/http.h) to its handler. Everything here runs on the
 * control-plane thread and does no socket I/O. */
#ifndef TB_API_H
#define TB_API_H

#include <stdint.h>

#include "auth/token.h"
#include "config/config.h"
#include "http/http.h"
#include "metrics/metrics.h"
#include "room/registry.h"
#include "webhook/webhook.h"

struct tbMediaStats;

typedef int64_t (*tbClockFn)(void *ctx); /* unix time in milliseconds */

/* How RoomService reaches the participants' sessions (signal/hub.c); any
 * hook may be NULL (no signaling: the registry alone is changed). */
typedef struct tbApiHooks {
    void *ctx;
    /* removes the participant (kicking its session) from the registry */
    void (*remove_participant)(void *ctx, const char *room, const char *identity);
    /* removes every participant of the room, before the room is deleted */
    void (*delete_room)(void *ctx, const char *room);
    void (*participant_changed)(void *ctx, const char *room, const tbParticipant *p);
    void (*track_muted)(void *ctx, const char *room, const tbParticipant *p, const tbTrack *t);
    void (*room_changed)(void *ctx, const tbRoom *room);
    /* RoomService.SendData: a UserPacket to the room's participants (or the
     * listed identities) over their data channels */
    void (*send_data)(void *ctx, const char *room, const uint8_t *data, size_t len,
                      bool reliable, const char *topic, char **identities, size_t n);
} tbApiHooks;

typedef struct tbApi {
    const tbConfig *config;
    tbRegistry *registry;
    tbMetrics *metrics;
    tbClockFn now_ms;
    void *clock_ctx;
    int64_t started_ms;
    const char *version;
    const char *srtp_backend;
    tbApiHooks hooks;
    /* media plane counters for /metrics (NULL = none) */
    void (*media_stats)(void *ctx, struct tbMediaStats *out);
    void *media_ctx;
    /* embedded TURN server counters for /metrics (NULL = TURN off) */
    void (*turn_stats)(void *ctx, struct tbTurnStats *out);
    void *turn_ctx;
    /* webhook notifier (webhook/webhook.h); NULL = no webhook.urls */
    tbWebhook *webhook;
    /* several nodes on one Redis (state/placement.h, state/node_bus.h);
     * NULL without redis */
    struct tbPlacement *placement;
    struct tbNodeBus *bus;
    struct tbApiCall *calls;    /* RoomService calls waiting on Redis or a node (forward.c) */
    uint64_t next_call_id;
    /* ListRooms: other nodes' rooms from Redis, added to the local ones
     * during one call (Livekit__Room *[]) */
    void **remote_rooms;
    size_t n_remote_rooms;
} tbApi;

void tbApiDispatch(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);

/* A RoomService call forwarded by another node, or the answer to one this
 * node forwarded (api/forward.c). */
struct tbBusMsg;
void tbApiOnBus(tbApi *api, const struct tbBusMsg *m);
/* Once a second: calls a node did not answer within TB_API_FORWARD_MS get
 * 503. */
void tbApiSweep(tbApi *api);
#define TB_API_FORWARD_MS 5000

static inline int64_t tbApiNowMs(const tbApi *api) { return api->now_ms(api->clock_ctx); }

/* Authentication shared by the handlers (api/auth.c). */
typedef enum tbApiAuth {
    TB_API_AUTH_NONE = 0,       /* no credentials presented */
    TB_API_AUTH_OK,
    TB_API_AUTH_INVALID,        /* presented but wrong; `why` says how */
} tbApiAuth;

/* Bearer JWT from `Authorization: Bearer`, or (when allow_query) the
 * access_token query argument. Counts the result in the metrics. */
tbApiAuth tbApiBearer(tbApi *api, const tbHttpRequest *req, bool allow_query, tbClaims *claims,
                      char *why, size_t whylen);
/* HTTP Basic api_key:api_secret. On success *api_key points into the config. */
tbApiAuth tbApiBasic(tbApi *api, const tbHttpRequest *req, const char **api_key, char *why,
                     size_t whylen);

/* May this request's token join a room (roomJoin grant, identity, room name
 * limits, room exists or auto_create)? Returns 200 and the claims in *out
 * (may be NULL; free with tbClaimsFree), or 400/401/404 with `why`. */
int tbApiCheckJoin(tbApi *api, const tbHttpRequest *req, tbClaims *out, char *why,
                   size_t whylen);

/* A token to sign, filled in by the token endpoints (api/tokens.c,
 * api/dev_token.c); strings are borrowed. */
typedef struct tbApiTokenRequest {
    const char *room;
    const char *identity;
    const char *name;
    const char *metadata;
    json_t *attributes;         /* borrowed from the parsed body */
    json_int_t ttl;             /* seconds */
    tbOptBool can_publish, can_subscribe, can_publish_data;
    bool hidden, room_admin;
} tbApiTokenRequest;

#define TB_API_TOKEN_DEFAULT_TTL 21600 /* 6 h, livekit-server-sdk's default */
#define TB_API_MAX_DATA (255 * 1024) /* RoomService.SendData payload: one data channel message */

/* Shared by the token endpoints (api/tokens.c). */
/* A LiveKit token for t (roomJoin, t->room and t's grants, nbf now, exp now +
 * ttl) signed with `key`'s secret; malloc'ed, NULL when key is unknown.
 * *exp (may be NULL) receives exp. */
char *tbApiSignToken(tbApi *api, const tbApiTokenRequest *t, const char *key, int64_t *exp);
/* The URL clients of this request reach signaling at: ws:// + Host, wss://
 * behind X-Forwarded-Proto: https, ws://127.0.0.1:<port> without a Host. */
void tbApiWsUrl(const tbApi *api, const tbHttpRequest *req, char *buf, size_t len);
/* The request's JSON body, or NULL after answering 413, 415 or 400;
 * `expected` completes "body is empty: expected ...". */
json_t *tbApiReadJsonBody(const tbHttpRequest *req, const char *expected, tbHttpResponse *resp);
/* A string field of `body` into *out (borrowed): required = present and
 * non-empty; max > 0 = at most max bytes. false after a 400 naming it. */
bool tbApiJsonString(json_t *body, const char *field, bool required, size_t max,
                     const char **out, tbHttpResponse *resp);

/* Handlers. */
void tbApiRoot(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiHealthz(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiMetrics(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiValidate(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiValidateV1(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiCreateToken(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiTwirp(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiStaticFiles(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);
void tbApiDevToken(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp);

#endif
