/* webhook.c — the webhook notifier: per-URL event queues and their HTTP
 * delivery with libcurl's multi interface on the control loop (uv_poll for
 * curl's sockets, a uv_timer for curl's timeouts, one uv_timer per URL for
 * the retry back-off); see webhook.h. Bodies and signatures come from
 * webhook_event.c. */
#include "webhook/webhook.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "tb_build_config.h"
#include "util/ids.h"
#include "util/log.h"
#include "webhook/webhook_event.h"

#define TB_WEBHOOK_CONNECT_TIMEOUT_MS 3000

typedef struct tbWebhookJob {
    struct tbWebhookJob *next;
    json_t *event;              /* shared by the URLs' jobs of one event */
    char *body;                 /* serialized at the first attempt, kept for retries */
    size_t len;
    int attempts;               /* requests started so far */
    tbWebhookEventType type;
} tbWebhookJob;

typedef struct tbWebhookTarget {
    struct tbWebhook *w;
    char *url;
    tbWebhookJob *head, *tail;  /* the head is the one in flight or backing off */
    size_t len;
    bool busy;                  /* the head's request is in flight */
    bool backing_off;           /* the head waits on `retry` */
    uv_timer_t retry;
    CURL *easy;
    struct curl_slist *headers;
    int32_t dropped;            /* since the last event sent: its numDropped */
} tbWebhookTarget;

struct tbWebhook {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timeout;         /* curl's CURLMOPT_TIMERFUNCTION */
    char *api_key;
    char *secret;
    tbMetrics *metrics;
    tbWebhookTarget *targets;
    size_t num_targets;
    bool stopped;
};

typedef struct tbWebhookSock {
    uv_poll_t poll;
    curl_socket_t fd;
    tbWebhook *w;
} tbWebhookSock;

/* ---- the queues ------------------------------------------------------------------- */

static void jobFree(tbWebhookJob *j) {
    if (!j) return;
    json_decref(j->event);
    free(j->body);
    free(j);
}

static void popHead(tbWebhookTarget *t) {
    tbWebhookJob *j = t->head;
    if (!j) return;
    t->head = j->next;
    if (!t->head) t->tail = NULL;
    t->len--;
    jobFree(j);
}

/* Drops the oldest event that is not being delivered right now. */
static void dropOldest(tbWebhookTarget *t) {
    tbWebhookJob *prev = NULL, *j = t->head;
    if (j && (t->busy || t->backing_off)) prev = j, j = j->next;
    if (!j) return;
    if (prev) prev->next = j->next;
    else t->head = j->next;
    if (t->tail == j) t->tail = prev;
    t->len--;
    t->dropped++;
    t->w->metrics->webhook_dropped++;
    tbWarn("webhook", "%s: queue full (%d events), dropped %s", t->url, TB_WEBHOOK_QUEUE_MAX,
           tbWebhookEventName(j->type));
    jobFree(j);
}

static void enqueue(tbWebhookTarget *t, json_t *event, tbWebhookEventType type) {
    tbWebhookJob *j = calloc(1, sizeof *j);
    if (!j) return;
    j->event = json_incref(event);
    j->type = type;
    if (t->len >= TB_WEBHOOK_QUEUE_MAX) dropOldest(t);
    if (t->tail) t->tail->next = j;
    else t->head = j;
    t->tail = j;
    t->len++;
}

/* ---- one request ------------------------------------------------------------------ */

static size_t discardBody(char *ptr, size_t size, size_t n, void *ctx) {
    (void)ptr;
    (void)ctx;
    return size * n;
}

/* The head's body: the event with this URL's numDropped, serialized once. */
static bool ensureBody(tbWebhookTarget *t, tbWebhookJob *j) {
    if (j->body) return true;
    json_t *ev = j->event;
    json_t *copy = NULL;
    if (t->dropped > 0 && (copy = json_copy(ev))) {
        json_object_set_new(copy, "numDropped", json_integer(t->dropped));
        ev = copy;
    }
    j->body = json_dumps(ev, JSON_COMPACT);
    json_decref(copy);
    if (!j->body) return false;
    j->len = strlen(j->body);
    t->dropped = 0;
    return true;
}

static void endRequest(tbWebhookTarget *t) {
    if (t->easy) {
        curl_multi_remove_handle(t->w->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    t->easy = NULL;
    t->headers = NULL;
    t->busy = false;
}

static bool startRequest(tbWebhookTarget *t) {
    tbWebhook *w = t->w;
    tbWebhookJob *j = t->head;
    if (!ensureBody(t, j)) return false;
    char *jwt = tbWebhookSign(j->body, j->len, w->api_key, w->secret, (int64_t)time(NULL));
    if (!jwt) return false;
    size_t alen = strlen(jwt) + sizeof "Authorization: ";
    char *auth = malloc(alen);
    if (auth) snprintf(auth, alen, "Authorization: %s", jwt);
    free(jwt);
    if (!auth) return false;
    struct curl_slist *h = curl_slist_append(NULL, auth);
    free(auth);
    if (h) h = curl_slist_append(h, "Content-Type: application/webhook+json");
    if (h) h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    if (!h) return false;
    CURL *e = curl_easy_init();
    if (!e) {
        curl_slist_free_all(h);
        return false;
    }
    curl_easy_setopt(e, CURLOPT_URL, t->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tribune/" TB_VERSION);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)TB_WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)TB_WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discardBody);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    t->easy = e;
    t->headers = h;
    t->busy = true;
    j->attempts++;
    if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
        endRequest(t);
        return false;
    }
    return true;
}

/* Starts the head's request when the URL is idle. */
static void pump(tbWebhookTarget *t) {
    while (!t->w->stopped && t->head && !t->busy && !t->backing_off) {
        if (startRequest(t)) return;
        tbWarn("webhook", "%s: could not build the %s request", t->url,
               tbWebhookEventName(t->head->type));
        t->w->metrics->webhook_failed++;
        popHead(t);
    }
}

static void onRetry(uv_timer_t *h) {
    tbWebhookTarget *t = h->data;
    t->backing_off = false;
    pump(t);
}

static void requestDone(tbWebhookTarget *t, CURLcode res, long status) {
    tbWebhookJob *j = t->head;
    endRequest(t);
    if (!j) return;
    bool ok = res == CURLE_OK && status >= 200 && status < 300;
    bool retryable = res != CURLE_OK || status >= 500 || status == 408 || status == 429;
    char what[160];
    if (res != CURLE_OK) snprintf(what, sizeof what, "%s", curl_easy_strerror(res));
    else snprintf(what, sizeof what, "HTTP %ld", status);
    if (ok) {
        t->w->metrics->webhook_ok++;
        tbDebug("webhook", "%s: %s delivered", t->url, tbWebhookEventName(j->type));
        popHead(t);
    } else if (retryable && j->attempts <= TB_WEBHOOK_RETRIES) {
        uint64_t delay = 1000u << (j->attempts - 1);
        tbWarn("webhook", "%s: %s failed (%s), retry in %llu s", t->url,
               tbWebhookEventName(j->type), what, (unsigned long long)(delay / 1000));
        t->backing_off = true;
        uv_timer_start(&t->retry, onRetry, delay, 0);
    } else {
        t->w->metrics->webhook_failed++;
        tbWarn("webhook", "%s: %s failed (%s) after %d attempt%s: given up", t->url,
               tbWebhookEventName(j->type), what, j->attempts, j->attempts == 1 ? "" : "s");
        popHead(t);
    }
}

/* Finished transfers; their URLs start their next request afterwards. */
static void checkDone(tbWebhook *w) {
    CURLMsg *msg;
    int left = 0;
    while (w->multi && (msg = curl_multi_info_read(w->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *e = msg->easy_handle;
        CURLcode res = msg->data.result;
        tbWebhookTarget *t = NULL;
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (t && t->easy == e) requestDone(t, res, status);
    }
    for (size_t i = 0; i < w->num_targets; i++) pump(&w->targets[i]);
}

/* ---- libcurl on libuv ------------------------------------------------------------- */

static void onPoll(uv_poll_t *h, int status, int events) {
    tbWebhookSock *s = h->data;
    tbWebhook *w = s->w;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    int running = 0;
    curl_multi_socket_action(w->multi, s->fd, flags, &running);
    checkDone(w);
}

static void freeSock(uv_handle_t *h) { free(h->data); }

static int onSocket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)e;
    tbWebhook *w = userp;
    tbWebhookSock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(w->multi, fd, NULL);
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, freeSock);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return -1;
        if (uv_poll_init_socket(w->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->w = w;
        s->poll.data = s;
        curl_multi_assign(w->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, onPoll);
    return 0;
}

static void onTimeout(uv_timer_t *h) {
    tbWebhook *w = h->data;
    int running = 0;
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    checkDone(w);
}

static int onTimer(CURLM *m, long timeout_ms, void *userp) {
    (void)m;
    tbWebhook *w = userp;
    if (timeout_ms < 0) uv_timer_stop(&w->timeout);
    else uv_timer_start(&w->timeout, onTimeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- lifecycle -------------------------------------------------------------------- */

tbWebhook *tbWebhookNew(struct uv_loop_s *loop, const tbConfig *cfg, tbMetrics *metrics) {
    const tbWebhookConfig *wc = &cfg->webhook;
    if (wc->urls.len == 0) return NULL;
    const char *key = wc->api_key ? wc->api_key : cfg->keys.len ? cfg->keys.items[0].key : NULL;
    const char *secret = key ? tbConfigSecretFor(cfg, key) : NULL;
    if (!secret || !*secret) {
        tbError("webhook", "no secret for webhook.api_key %s: webhooks are off",
                key ? key : "(none)");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        tbError("webhook", "libcurl initialisation failed: webhooks are off");
        return NULL;
    }
    tbWebhook *w = calloc(1, sizeof *w);
    if (!w) goto fail;
    w->loop = loop;
    w->metrics = metrics;
    w->api_key = strdup(key);
    w->secret = strdup(secret);
    w->targets = calloc(wc->urls.len, sizeof *w->targets);
    w->multi = curl_multi_init();
    if (!w->api_key || !w->secret || !w->targets || !w->multi) goto fail;
    for (size_t i = 0; i < wc->urls.len; i++) {
        tbWebhookTarget *t = &w->targets[i];
        t->w = w;
        if (!(t->url = strdup(wc->urls.items[i]))) goto fail;
        w->num_targets++;
    }
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, onSocket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, onTimer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    uv_timer_init(loop, &w->timeout);
    w->timeout.data = w;
    for (size_t i = 0; i < w->num_targets; i++) {
        uv_timer_init(loop, &w->targets[i].retry);
        w->targets[i].retry.data = &w->targets[i];
        tbInfo("webhook", "sending events to %s (signed with key %s)", w->targets[i].url, key);
    }
    return w;
fail:
    tbError("webhook", "out of memory: webhooks are off");
    if (w) {
        for (size_t i = 0; i < w->num_targets; i++) free(w->targets[i].url);
        if (w->multi) curl_multi_cleanup(w->multi);
        free(w->targets);
        free(w->api_key);
        free(w->secret);
        free(w);
    }
    curl_global_cleanup();
    return NULL;
}

void tbWebhookStop(tbWebhook *w) {
    if (!w || w->stopped) return;
    w->stopped = true;
    size_t pending = tbWebhookPending(w);
    if (pending) tbWarn("webhook", "stopping with %zu event(s) undelivered", pending);
    for (size_t i = 0; i < w->num_targets; i++) {
        tbWebhookTarget *t = &w->targets[i];
        endRequest(t);
        t->backing_off = false;
        while (t->head) popHead(t);
        uv_close((uv_handle_t *)&t->retry, NULL);
    }
    curl_multi_cleanup(w->multi); /* closes cached connections: polls closed via onSocket */
    w->multi = NULL;
    uv_close((uv_handle_t *)&w->timeout, NULL);
}

void tbWebhookFree(tbWebhook *w) {
    if (!w) return;
    tbWebhookStop(w);
    for (size_t i = 0; i < w->num_targets; i++) free(w->targets[i].url);
    free(w->targets);
    free(w->api_key);
    free(w->secret);
    free(w);
    curl_global_cleanup();
}

size_t tbWebhookPending(const tbWebhook *w) {
    size_t n = 0;
    for (size_t i = 0; w && i < w->num_targets; i++) n += w->targets[i].len;
    return n;
}

/* ---- events ----------------------------------------------------------------------- */

static void emit(tbWebhook *w, tbWebhookEventType type, const tbRoom *room,
                 const tbParticipant *p, const tbTrack *t) {
    if (!w || w->stopped || !room) return;
    char id[TB_SID_LEN];
    tbNewSid("EV_", id);
    json_t *ev = tbWebhookEventJson(type, room, p, t, id, (int64_t)time(NULL));
    if (!ev) {
        tbWarn("webhook", "could not build the %s event", tbWebhookEventName(type));
        return;
    }
    for (size_t i = 0; i < w->num_targets; i++) {
        enqueue(&w->targets[i], ev, type);
        pump(&w->targets[i]);
    }
    json_decref(ev);
}

void tbWebhookRoomStarted(tbWebhook *w, const tbRoom *room) {
    emit(w, TB_WEBHOOK_ROOM_STARTED, room, NULL, NULL);
}

void tbWebhookRoomFinished(tbWebhook *w, const tbRoom *room) {
    emit(w, TB_WEBHOOK_ROOM_FINISHED, room, NULL, NULL);
}

void tbWebhookParticipantJoined(tbWebhook *w, const tbRoom *room, const tbParticipant *p) {
    emit(w, TB_WEBHOOK_PARTICIPANT_JOINED, room, p, NULL);
}

void tbWebhookParticipantLeft(tbWebhook *w, const tbRoom *room, const tbParticipant *p) {
    if (!p) return;
    for (const tbTrack *t = p->tracks; t; t = t->next)
        if (t->published) emit(w, TB_WEBHOOK_TRACK_UNPUBLISHED, room, p, t);
    emit(w, TB_WEBHOOK_PARTICIPANT_LEFT, room, p, NULL);
}

void tbWebhookTrackPublished(tbWebhook *w, const tbRoom *room, const tbParticipant *p,
                             const tbTrack *t) {
    emit(w, TB_WEBHOOK_TRACK_PUBLISHED, room, p, t);
}

void tbWebhookTrackUnpublished(tbWebhook *w, const tbRoom *room, const tbParticipant *p,
                               const tbTrack *t) {
    emit(w, TB_WEBHOOK_TRACK_UNPUBLISHED, room, p, t);
}
