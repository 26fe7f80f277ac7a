/* webhook.h — LiveKit's webhooks: room_started, room_finished,
 * participant_joined, participant_left, track_published and
 * track_unpublished POSTed as `application/webhook+json` to every URL of
 * `webhook.urls`, signed with the secret of `webhook.api_key` (see
 * webhook_event.h for the body and the signature).
 *
 * Delivery runs on the control thread's libuv loop with libcurl's multi
 * interface (curl_multi_socket_action driven by uv_poll and uv_timer), so
 * nothing here ever blocks the loop. Each URL has its own FIFO queue and at
 * most one request in flight, so one receiver sees events in the order
 * they happened. A request that fails (no connection, timeout, 5xx, 408,
 * 429) is retried after 1 s, 2 s and 4 s; after the last retry, or on any
 * other 4xx, it counts as failed. A queue holds at most
 * TB_WEBHOOK_QUEUE_MAX events: past that the oldest waiting one is dropped
 * (and the next event's numDropped says how many). Results are counted in
 * tbMetrics (tribune_webhook_requests_total{result="ok"|"failed"|"dropped"}).
 *
 * The emitters take a NULL notifier (webhooks off) and do nothing then. */
#ifndef TB_WEBHOOK_H
#define TB_WEBHOOK_H

#include <stdint.h>

#include "config/config.h"
#include "metrics/metrics.h"
#include "room/registry.h"

#define TB_WEBHOOK_QUEUE_MAX 1000  /* events waiting per URL */
#define TB_WEBHOOK_RETRIES 3       /* after 1 s, 2 s, 4 s */
#define TB_WEBHOOK_TIMEOUT_MS 5000 /* one request, connection included */

struct uv_loop_s;
typedef struct tbWebhook tbWebhook;

/* A notifier for cfg->webhook.urls signing with webhook.api_key (else the
 * first API key), or NULL when there is no URL or no usable key (logged). */
tbWebhook *tbWebhookNew(struct uv_loop_s *loop, const tbConfig *cfg, tbMetrics *metrics);
/* Stops delivery: requests in flight are abandoned, waiting events dropped
 * (not counted), and its handles closed; events emitted afterwards are
 * ignored. Free with tbWebhookFree once the loop has run its close
 * callbacks. NULL is accepted by both. */
void tbWebhookStop(tbWebhook *w);
void tbWebhookFree(tbWebhook *w);
/* Events waiting or in flight, all URLs together (tests, logs). */
size_t tbWebhookPending(const tbWebhook *w);

/* The events; `room`, `p` and `t` are read at once, not kept. */
void tbWebhookRoomStarted(tbWebhook *w, const tbRoom *room);
void tbWebhookRoomFinished(tbWebhook *w, const tbRoom *room);
void tbWebhookParticipantJoined(tbWebhook *w, const tbRoom *room, const tbParticipant *p);
/* Also sends track_unpublished for each of p's published tracks first, as
 * LiveKit does when a participant leaves. */
void tbWebhookParticipantLeft(tbWebhook *w, const tbRoom *room, const tbParticipant *p);
void tbWebhookTrackPublished(tbWebhook *w, const tbRoom *room, const tbParticipant *p,
                             const tbTrack *t);
void tbWebhookTrackUnpublished(tbWebhook *w, const tbRoom *room, const tbParticipant *p,
                               const tbTrack *t);

#endif
