/* redis_conn.c — the Redis connection with reconnects; see redis_conn.h.
 * The protocol, parsing and event-loop glue are hiredis's (and its libuv
 * adapter); this file only sequences connect → AUTH → SELECT and back-off. */
#include "state/redis_conn.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "util/log.h"

/* hiredis's adapter: static functions in a header, compiled into this file */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <hiredis/adapters/libuv.h>
#pragma GCC diagnostic pop

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct tbRedis {
    uv_loop_t *loop;
    const tbRedisConfig *cfg;
    char host[256];
    int port;
    redisAsyncContext *ac;    /* NULL while waiting to reconnect */
    bool up;                  /* connected, authenticated, db selected */
    bool warned;              /* the current outage was logged */
    bool closing;
    bool timer_closed;        /* closing: the retry timer's handle is released */
    void (*closed)(void *ud); /* closing: called when r is freed */
    void *closed_ud;
    uint64_t backoff_ms;
    uv_timer_t retry;
    tbRedisStateFn on_state;
    void *ud;
    tbRedisReplyFn sub_fn;    /* tbRedisSubscribe: every push of this connection */
    void *sub_ud;
};

static void scheduleRetry(tbRedis *r);

/* Closing: r goes once both the timer handle and hiredis let go. */
static void maybeFree(tbRedis *r) {
    if (!r->closing || !r->timer_closed || r->ac != NULL) return;
    if (r->closed) r->closed(r->closed_ud);
    free(r);
}

/* (fn, ud) of one command, carried through hiredis's callback. */
typedef struct replyBox {
    tbRedisReplyFn fn;
    void *ud;
} replyBox;

static void trampoline(redisAsyncContext *ac, void *reply, void *priv) {
    replyBox *b = priv;
    (void)ac;
    b->fn(b->ud, reply); /* reply NULL when the connection went */
    free(b);
}

static void setUp(tbRedis *r, bool up) {
    if (r->up == up) return;
    r->up = up;
    if (up) {
        if (r->warned) tbInfo("state", "Redis %s:%d is back", r->host, r->port);
        r->warned = false;
        r->backoff_ms = BACKOFF_MIN_MS;
    }
    if (r->on_state) r->on_state(r->ud, up);
}

static void outage(tbRedis *r, const char *why) {
    if (!r->warned)
        tbWarn("state", "Redis %s:%d unreachable (%s): serving from this node's own state, "
                        "retrying", r->host, r->port, why);
    r->warned = true;
}

static void onSelected(redisAsyncContext *ac, void *reply, void *priv) {
    tbRedis *r = priv;
    redisReply *rep = reply;
    (void)ac;
    if (rep && rep->type != REDIS_REPLY_ERROR) {
        tbInfo("state", "connected to Redis %s:%d (db %d)", r->host, r->port, r->cfg->db);
        setUp(r, true);
        return;
    }
    outage(r, rep ? rep->str : "no reply to AUTH/SELECT");
    redisAsyncDisconnect(r->ac); /* onDisconnect schedules the retry */
}

static void onConnect(const redisAsyncContext *ac, int status) {
    tbRedis *r = ac->data;
    if (status != REDIS_OK) {
        outage(r, ac->errstr);
        r->ac = NULL; /* hiredis frees it after this callback */
        scheduleRetry(r);
        maybeFree(r);
        return;
    }
    char db[16];
    snprintf(db, sizeof db, "%d", r->cfg->db);
    if (r->cfg->password && *r->cfg->password) {
        if (r->cfg->username && *r->cfg->username)
            redisAsyncCommand(r->ac, NULL, NULL, "AUTH %s %s", r->cfg->username,
                              r->cfg->password);
        else
            redisAsyncCommand(r->ac, NULL, NULL, "AUTH %s", r->cfg->password);
    }
    redisAsyncCommand(r->ac, onSelected, r, "SELECT %s", db);
}

static void onDisconnect(const redisAsyncContext *ac, int status) {
    tbRedis *r = ac->data;
    r->ac = NULL;
    setUp(r, false);
    if (r->closing) {
        maybeFree(r);
        return;
    }
    if (status != REDIS_OK) outage(r, ac->errstr);
    scheduleRetry(r);
}

static void connectNow(tbRedis *r) {
    r->ac = redisAsyncConnect(r->host, r->port);
    if (r->ac == NULL) {
        scheduleRetry(r);
        return;
    }
    if (r->ac->err) {
        outage(r, r->ac->errstr);
        redisAsyncFree(r->ac);
        r->ac = NULL;
        scheduleRetry(r);
        return;
    }
    r->ac->data = r;
    redisLibuvAttach(r->ac, r->loop);
    redisAsyncSetConnectCallback(r->ac, onConnect);
    redisAsyncSetDisconnectCallback(r->ac, onDisconnect);
}

static void onRetry(uv_timer_t *t) {
    tbRedis *r = t->data;
    if (!r->closing) connectNow(r);
}

static void scheduleRetry(tbRedis *r) {
    if (r->closing) return;
    uv_timer_start(&r->retry, onRetry, r->backoff_ms, 0);
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

/* "host:port", "[v6]:port" or "host" (6379). */
static int parseAddress(const char *a, char *host, size_t cap, int *port) {
    const char *colon = a[0] == '[' ? strstr(a, "]:") : strrchr(a, ':');
    size_t n = colon ? (size_t)(colon - a) : strlen(a);
    if (a[0] == '[') a++, n = colon ? n - 1 : n;
    if (n == 0 || n >= cap) return -1;
    memcpy(host, a, n);
    host[n] = '\0';
    *port = colon ? atoi(colon + (colon[0] == ']' ? 2 : 1)) : 6379;
    return *port > 0 && *port < 65536 ? 0 : -1;
}

tbRedis *tbRedisNew(uv_loop_t *loop, const tbRedisConfig *cfg, tbRedisStateFn on_state,
                    void *ud) {
    tbRedis *r = calloc(1, sizeof *r);
    if (r == NULL) return NULL;
    r->loop = loop;
    r->cfg = cfg;
    r->on_state = on_state;
    r->ud = ud;
    r->backoff_ms = BACKOFF_MIN_MS;
    if (!cfg->address || parseAddress(cfg->address, r->host, sizeof r->host, &r->port) != 0) {
        tbError("state", "redis.address `%s` is not host:port", cfg->address ? cfg->address : "");
        free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->retry);
    r->retry.data = r;
    connectNow(r);
    return r;
}

bool tbRedisUp(const tbRedis *r) { return r && r->up; }

int tbRedisCommandArgv(tbRedis *r, tbRedisReplyFn fn, void *ud, int argc, const char **argv,
                       const size_t *lens) {
    if (!r || !r->up || !r->ac) {
        if (fn) fn(ud, NULL);
        return -1;
    }
    replyBox *b = NULL;
    if (fn) {
        b = malloc(sizeof *b);
        if (!b) {
            fn(ud, NULL);
            return -1;
        }
        b->fn = fn;
        b->ud = ud;
    }
    if (redisAsyncCommandArgv(r->ac, b ? trampoline : NULL, b, argc, argv, lens) !=
        REDIS_OK) {
        free(b);
        if (fn) fn(ud, NULL);
        return -1;
    }
    return 0;
}

/* hiredis keeps a subscription's callback for every message; r outlives it
 * (freed only after hiredis let go of the context). */
static void onPush(redisAsyncContext *ac, void *reply, void *priv) {
    tbRedis *r = priv;
    (void)ac;
    if (r->sub_fn && reply) r->sub_fn(r->sub_ud, reply);
}

int tbRedisSubscribe(tbRedis *r, const char *channel, tbRedisReplyFn fn, void *ud) {
    if (!r || !r->up || !r->ac) return -1;
    r->sub_fn = fn;
    r->sub_ud = ud;
    const char *argv[] = {"SUBSCRIBE", channel};
    return redisAsyncCommandArgv(r->ac, onPush, r, 2, argv, NULL) == REDIS_OK ? 0 : -1;
}

static void onRetryClosed(uv_handle_t *h) {
    tbRedis *r = h->data;
    r->timer_closed = true;
    maybeFree(r);
}

void tbRedisClose(tbRedis *r, void (*closed)(void *ud), void *ud) {
    if (r == NULL) return;
    r->closing = true;
    r->closed = closed;
    r->closed_ud = ud;
    uv_timer_stop(&r->retry);
    uv_close((uv_handle_t *)&r->retry, onRetryClosed);
    if (r->ac) redisAsyncDisconnect(r->ac); /* onDisconnect → maybeFree */
}
