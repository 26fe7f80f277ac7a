/* webhook_event.h — the bodies and signatures of webhook requests, as
 * LiveKit's notifier makes them: the body is a livekit.WebhookEvent
 * (proto/livekit_webhook.proto) in proto3 JSON, and the `Authorization`
 * header is an HS256 JWT (auth/token.c) with iss = the API key, nbf/exp
 * (valid 5 minutes) and `sha256` = standard base64 of the body's SHA-256,
 * which is what livekit-server-sdk's WebhookReceiver checks. Pure code, no
 * I/O, no clock: callers pass the time. */
#ifndef TB_WEBHOOK_EVENT_H
#define TB_WEBHOOK_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "room/registry.h"

#define TB_WEBHOOK_TOKEN_TTL_S 300 /* as LiveKit's notifier: 5 minutes */

typedef enum tbWebhookEventType {
    TB_WEBHOOK_ROOM_STARTED = 0,
    TB_WEBHOOK_ROOM_FINISHED,
    TB_WEBHOOK_PARTICIPANT_JOINED,
    TB_WEBHOOK_PARTICIPANT_LEFT,
    TB_WEBHOOK_TRACK_PUBLISHED,
    TB_WEBHOOK_TRACK_UNPUBLISHED,
} tbWebhookEventType;

/* "room_started", ... */
const char *tbWebhookEventName(tbWebhookEventType type);

/* The WebhookEvent as a JSON object (caller owns the reference), or NULL on
 * OOM. `room` is required; `p` is set for participant_* and track_*, `t` for
 * track_* (either may be NULL otherwise). For track_* the participant carries
 * only sid and identity, as LiveKit's does. `id` is the event id. */
json_t *tbWebhookEventJson(tbWebhookEventType type, const tbRoom *room, const tbParticipant *p,
                           const tbTrack *t, const char *id, int64_t created_at_s);

/* The Authorization header's value for `body`: a JWT signed with `secret`,
 * iss `api_key`, nbf now_s, exp now_s + TB_WEBHOOK_TOKEN_TTL_S, sha256 of
 * the body. malloc'ed; NULL on failure. */
char *tbWebhookSign(const char *body, size_t len, const char *api_key, const char *secret,
                    int64_t now_s);

#endif
