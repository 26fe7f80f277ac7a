/* redis_conn.c — the Redis connection with reconnects; see redis_conn.h.
 * The protocol, parsing and event-loop glue are hiredis's (and its libuv
 * adapter); this file only sequences [Sentinel query →] connect → AUTH →
 * SELECT [→ ROLE] and back-off.
 *
 * With redis.sentinel_master_name every attempt starts by asking the
 * sentinels, in order, for the master's address (one context at a time,
 * each bounded by SENTINEL_TIMEOUT_MS); the sentinel that answered then
 * stays connected, subscribed to +switch-master, until the next attempt. */
#include "state/redis_conn.h"

#include <stdio.h>
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
#define CONNECT_TIMEOUT_MS 2000  /* a connect to the master */
#define SENTINEL_TIMEOUT_MS 2000 /* one sentinel's answer, its connect included */

struct tbRedis {
    uv_loop_t *loop;
    const tbRedisConfig *cfg;
    char host[256];           /* the master: redis.address or Sentinel's answer */
    int port;
    redisAsyncContext *ac;    /* the master; NULL while waiting to reconnect */
    bool up;                  /* connected, authenticated, db selected (a master) */
    bool warned;              /* the current outage was logged */
    bool closing;
    int handles;              /* open timer handles: r goes when 0 (closing) */
    void (*closed)(void *ud); /* closing: called when r is freed */
    void *closed_ud;
    uint64_t backoff_ms;
    uv_timer_t retry;         /* the back-off before the next attempt */
    uv_timer_t connecting;    /* bounds a connect to the master (CONNECT_TIMEOUT_MS) */
    tbRedisStateFn on_state;
    void *ud;
    tbRedisReplyFn sub_fn;    /* tbRedisSubscribe: every push of this connection */
    void *sub_ud;
    char label[320];          /* "host:port" / "master <name> at host:port", for logs */
    /* Sentinel (redis.sentinel_master_name set) */
    redisAsyncContext *sac;   /* the sentinel asked, then watching +switch-master */
    bool resolving;           /* sac's answer is awaited */
    size_t sidx;              /* sac's sentinel: index in sentinel_addresses */
    char shost[256];          /* that sentinel's address */
    int sport;
    char why[320];            /* why the last sentinel asked gave no master */
    uv_timer_t deadline;      /* bounds the answer of the sentinel asked */
};

static void scheduleRetry(tbRedis *r);
static void onRetry(uv_timer_t *t);
static void sentinelGone(tbRedis *r);
static void onSentinelConnect(const redisAsyncContext *ac, int status);
static void onSentinelDisconnect(const redisAsyncContext *ac, int status);

static bool sentinelMode(const tbRedis *r) { return r->cfg->sentinel_master_name != NULL; }

/* Closing: r goes once the timer handles and hiredis let go. */
static void maybeFree(tbRedis *r) {
    if (!r->closing || r->handles > 0 || r->ac != NULL || r->sac != NULL) return;
    if (r->closed) r->closed(r->closed_ud);
    free(r);
}

/* What the logs call the node r talks to. */
static const char *label(tbRedis *r) {
    if (!sentinelMode(r))
        snprintf(r->label, sizeof r->label, "%s:%d", r->host, r->port);
    else if (r->host[0])
        snprintf(r->label, sizeof r->label, "master %s at %s:%d", r->cfg->sentinel_master_name,
                 r->host, r->port);
    else
        snprintf(r->label, sizeof r->label, "master %s", r->cfg->sentinel_master_name);
    return r->label;
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

/* Ends a context at once. Returns true when hiredis will not call its
 * disconnect callback (it was still connecting): *slot is then cleared here
 * and the caller goes on by itself. */
static bool dropContext(redisAsyncContext **slot) {
    redisAsyncContext *ac = *slot;
    if (ac == NULL) return false;
    bool connecting = !(ac->c.flags & REDIS_CONNECTED);
    if (connecting) *slot = NULL;
    redisAsyncFree(ac); /* connected: the disconnect callback clears *slot */
    return connecting;
}

/* Leaves the master (its node is no longer the master): down, then retry. */
static void dropMaster(tbRedis *r) {
    if (dropContext(&r->ac)) scheduleRetry(r); /* else onDisconnect does */
}

/* (fn, ud) of one command, carried through hiredis's callback. */
typedef struct replyBox {
    tbRedis *r;
    tbRedisReplyFn fn;
    void *ud;
} replyBox;

static bool isReadonly(const redisReply *rep) {
    return rep && rep->type == REDIS_REPLY_ERROR && rep->str &&
           strncmp(rep->str, "READONLY", 8) == 0;
}

/* Sentinel mode: a master demoted behind our back (a failover we did not
 * hear of) answers writes with READONLY: leave it, ask again. */
static void checkReadonly(tbRedis *r, redisAsyncContext *ac, const redisReply *rep) {
    if (!sentinelMode(r) || !isReadonly(rep) || r->closing || r->ac != ac) return;
    tbWarn("state", "Redis %s answered READONLY (a replica now): asking Sentinel again",
           label(r));
    dropMaster(r); /* in ac's callback: hiredis frees it on return, then onDisconnect */
}

static void trampoline(redisAsyncContext *ac, void *reply, void *priv) {
    replyBox *b = priv;
    tbRedis *r = b->r;
    b->fn(b->ud, reply); /* reply NULL when the connection went */
    free(b);
    checkReadonly(r, ac, reply);
}

/* A command sent without fn: only its READONLY matters. */
static void onNoReplyFn(redisAsyncContext *ac, void *reply, void *priv) {
    checkReadonly(priv, ac, reply);
}

static void setUp(tbRedis *r, bool up) {
    if (r->up == up) return;
    r->up = up;
    if (up) {
        if (r->warned) tbInfo("state", "Redis %s is back", label(r));
        r->warned = false;
        r->backoff_ms = BACKOFF_MIN_MS;
    }
    if (r->on_state) r->on_state(r->ud, up);
}

static void outage(tbRedis *r, const char *why) {
    if (!r->warned)
        tbWarn("state", "Redis %s unreachable (%s): serving from this node's own state, "
                        "retrying", label(r), why);
    r->warned = true;
}

static void ready(tbRedis *r) {
    tbInfo("state", "connected to Redis %s:%d (db %d)", r->host, r->port, r->cfg->db);
    setUp(r, true);
}

/* Sentinel mode: a stale answer can name a node that is a replica now. */
static void onRole(redisAsyncContext *ac, void *reply, void *priv) {
    tbRedis *r = priv;
    redisReply *rep = reply;
    if (rep == NULL) return; /* the connection went: onDisconnect retries */
    const redisReply *role = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0
                                 ? rep->element[0] : NULL;
    if (role && role->type == REDIS_REPLY_STRING && strcmp(role->str, "master") == 0) {
        ready(r);
        return;
    }
    char why[128];
    snprintf(why, sizeof why, "ROLE says %s, not master: a stale Sentinel answer",
             role && role->type == REDIS_REPLY_STRING ? role->str
                                                      : rep->str ? rep->str : "nothing");
    outage(r, why);
    redisAsyncDisconnect(ac); /* onDisconnect schedules the retry */
}

static void onSelected(redisAsyncContext *ac, void *reply, void *priv) {
    tbRedis *r = priv;
    redisReply *rep = reply;
    (void)ac;
    if (rep && rep->type != REDIS_REPLY_ERROR) {
        if (!sentinelMode(r)) ready(r);
        else if (redisAsyncCommand(r->ac, onRole, r, "ROLE") != REDIS_OK)
            redisAsyncDisconnect(r->ac);
        return;
    }
    outage(r, rep ? rep->str : "no reply to AUTH/SELECT");
    redisAsyncDisconnect(r->ac); /* onDisconnect schedules the retry */
}

static void onConnect(const redisAsyncContext *ac, int status) {
    tbRedis *r = ac->data;
    uv_timer_stop(&r->connecting);
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

/* A new async context on r's loop; NULL (why noted in err) when it failed. */
static redisAsyncContext *newContext(tbRedis *r, const char *host, int port, char *err,
                                     size_t cap) {
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (ac == NULL) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    if (ac->err || redisLibuvAttach(ac, r->loop) != REDIS_OK) {
        snprintf(err, cap, "%s", ac->err ? ac->errstr : "cannot watch its socket");
        ac->ev.cleanup = NULL; /* a failed attach left no adapter to clean up */
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = r;
    return ac;
}

/* A connect that did not finish in time. Also the only way a refused
 * connect ends: Debian 12's hiredis 0.14 libuv adapter drops the poll
 * error libuv reports for it, so hiredis never calls onConnect then. */
static void onConnectTimeout(uv_timer_t *t) {
    tbRedis *r = t->data;
    if (r->closing || r->ac == NULL || (r->ac->c.flags & REDIS_CONNECTED)) return;
    outage(r, "no connection within 2 s (refused, or nothing answers)");
    if (dropContext(&r->ac)) scheduleRetry(r);
}

static void connectMaster(tbRedis *r) {
    char err[128];
    r->ac = newContext(r, r->host, r->port, err, sizeof err);
    if (r->ac == NULL) {
        outage(r, err);
        scheduleRetry(r);
        return;
    }
    redisAsyncSetConnectCallback(r->ac, onConnect);
    redisAsyncSetDisconnectCallback(r->ac, onDisconnect);
    uv_timer_start(&r->connecting, onConnectTimeout, CONNECT_TIMEOUT_MS, 0);
}

/* ---- Sentinel ---------------------------------------------------------- */

static void noteWhy(tbRedis *r, const char *what) {
    snprintf(r->why, sizeof r->why, "%.100s:%d: %.180s", r->shost, r->sport, what);
}

/* Every sentinel failed: an outage like a refused connection. */
static void resolveFailed(tbRedis *r) {
    char why[400];
    r->resolving = false;
    r->host[0] = '\0'; /* the logs then say "master <name>" */
    snprintf(why, sizeof why, "no sentinel gave its address; last: %s",
             r->why[0] ? r->why : "no sentinel");
    outage(r, why);
    scheduleRetry(r);
}

static void onSentinelDeadline(uv_timer_t *t) {
    tbRedis *r = t->data;
    char what[64];
    if (!r->resolving || r->sac == NULL) return;
    snprintf(what, sizeof what, "no answer within %d ms", SENTINEL_TIMEOUT_MS);
    noteWhy(r, what);
    if (dropContext(&r->sac)) sentinelGone(r); /* else its disconnect callback does */
}

/* Starts asking sentinel r->sidx, else the next ones; none left: failed. */
static void askSentinel(tbRedis *r) {
    const tbStrList *l = &r->cfg->sentinel_addresses;
    char err[128];
    for (; r->sidx < l->len; r->sidx++) {
        if (parseAddress(l->items[r->sidx], r->shost, sizeof r->shost, &r->sport) != 0)
            continue; /* tbRedisNew checked them all */
        r->sac = newContext(r, r->shost, r->sport, err, sizeof err);
        if (r->sac == NULL) {
            noteWhy(r, err);
            continue;
        }
        redisAsyncSetConnectCallback(r->sac, onSentinelConnect);
        redisAsyncSetDisconnectCallback(r->sac, onSentinelDisconnect);
        uv_timer_start(&r->deadline, onSentinelDeadline, SENTINEL_TIMEOUT_MS, 0);
        return;
    }
    resolveFailed(r);
}

/* sac is gone (r->sac already NULL): go on with the next sentinel, or
 * nothing when it was only watching. */
static void sentinelGone(tbRedis *r) {
    if (r->closing) {
        maybeFree(r);
        return;
    }
    if (!r->resolving) return; /* the watch ends; the next attempt starts another */
    uv_timer_stop(&r->deadline);
    r->sidx++;
    askSentinel(r);
}

/* +switch-master "<name> <old ip> <old port> <new ip> <new port>". */
static void onSwitch(redisAsyncContext *ac, void *reply, void *priv) {
    tbRedis *r = priv;
    redisReply *rep = reply;
    char name[256], ip[256];
    int port;
    (void)ac;
    if (rep == NULL || r->closing || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[2]->type != REDIS_REPLY_STRING)
        return; /* the subscription's confirmation, or the end */
    if (sscanf(rep->element[2]->str, "%255s %*s %*s %255s %d", name, ip, &port) != 3 ||
        strcmp(name, r->cfg->sentinel_master_name) != 0)
        return;
    if (r->ac && port == r->port && strcmp(ip, r->host) == 0) return; /* there already */
    tbInfo("state", "Redis master %s switched to %s:%d (sentinel %s:%d): reconnecting", name,
           ip, port, r->shost, r->sport);
    dropMaster(r);
    if (r->ac == NULL && !r->closing) uv_timer_start(&r->retry, onRetry, 0, 0); /* now */
}

static void onMasterAddr(redisAsyncContext *ac, void *reply, void *priv) {
    tbRedis *r = priv;
    redisReply *rep = reply;
    char what[300];
    if (rep == NULL || !r->resolving || r->sac != ac) return; /* its end: sentinelGone */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING && rep->element[0]->len < sizeof r->host &&
        atoi(rep->element[1]->str) > 0 && atoi(rep->element[1]->str) < 65536) {
        uv_timer_stop(&r->deadline);
        r->resolving = false;
        memcpy(r->host, rep->element[0]->str, rep->element[0]->len + 1);
        r->port = atoi(rep->element[1]->str);
        tbInfo("state", "Redis master %s at %s:%d (via sentinel %s:%d)",
               r->cfg->sentinel_master_name, r->host, r->port, r->shost, r->sport);
        redisAsyncCommand(ac, onSwitch, r, "SUBSCRIBE +switch-master");
        connectMaster(r);
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR)
        snprintf(what, sizeof what, "%s", rep->str);
    else
        snprintf(what, sizeof what, "does not know master %s", r->cfg->sentinel_master_name);
    noteWhy(r, what);
    dropContext(&r->sac); /* in its callback: the disconnect callback follows */
}

static void onSentinelConnect(const redisAsyncContext *ac, int status) {
    tbRedis *r = ac->data;
    const tbRedisConfig *c = r->cfg;
    if (status != REDIS_OK) {
        noteWhy(r, ac->errstr);
        r->sac = NULL; /* hiredis frees it after this callback */
        sentinelGone(r);
        return;
    }
    if (c->sentinel_password && *c->sentinel_password) {
        if (c->sentinel_username && *c->sentinel_username)
            redisAsyncCommand(r->sac, NULL, NULL, "AUTH %s %s", c->sentinel_username,
                              c->sentinel_password);
        else
            redisAsyncCommand(r->sac, NULL, NULL, "AUTH %s", c->sentinel_password);
    }
    redisAsyncCommand(r->sac, onMasterAddr, r, "SENTINEL get-master-addr-by-name %s",
                      c->sentinel_master_name);
}

static void onSentinelDisconnect(const redisAsyncContext *ac, int status) {
    tbRedis *r = ac->data;
    if (r->sac != ac) return;
    r->sac = NULL;
    if (status != REDIS_OK && r->resolving) noteWhy(r, ac->errstr);
    sentinelGone(r);
}

/* A new attempt in Sentinel mode: ends the watch, asks from the first. */
static void resolveMaster(tbRedis *r) {
    dropContext(&r->sac); /* not resolving: its end changes nothing */
    r->resolving = true;
    r->sidx = 0;
    r->why[0] = '\0';
    askSentinel(r);
}

/* ---- attempts and back-off --------------------------------------------- */

static void connectNow(tbRedis *r) {
    if (sentinelMode(r)) resolveMaster(r);
    else connectMaster(r);
}

static void onRetry(uv_timer_t *t) {
    tbRedis *r = t->data;
    if (!r->closing && r->ac == NULL && !r->resolving) connectNow(r);
}

static void scheduleRetry(tbRedis *r) {
    if (r->closing) return;
    uv_timer_start(&r->retry, onRetry, r->backoff_ms, 0);
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

/* The addresses tbRedisNew needs, checked (and logged) up front. */
static int checkAddresses(tbRedis *r) {
    const tbRedisConfig *cfg = r->cfg;
    char host[256];
    int port;
    if (!sentinelMode(r)) {
        if (cfg->address && parseAddress(cfg->address, r->host, sizeof r->host, &r->port) == 0)
            return 0;
        tbError("state", "redis.address `%s` is not host:port", cfg->address ? cfg->address : "");
        return -1;
    }
    if (cfg->sentinel_addresses.len == 0) {
        tbError("state", "redis.sentinel_master_name needs redis.sentinel_addresses");
        return -1;
    }
    for (size_t i = 0; i < cfg->sentinel_addresses.len; i++) {
        if (parseAddress(cfg->sentinel_addresses.items[i], host, sizeof host, &port) != 0) {
            tbError("state", "redis.sentinel_addresses: `%s` is not host:port",
                    cfg->sentinel_addresses.items[i]);
            return -1;
        }
    }
    return 0;
}

bool tbRedisConfigured(const tbRedisConfig *cfg) {
    return cfg && (cfg->address || cfg->sentinel_master_name);
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
    if (checkAddresses(r) != 0) {
        free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->retry);
    uv_timer_init(loop, &r->deadline);
    uv_timer_init(loop, &r->connecting);
    r->retry.data = r->deadline.data = r->connecting.data = r;
    r->handles = 3;
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
        b->r = r;
        b->fn = fn;
        b->ud = ud;
    }
    if (redisAsyncCommandArgv(r->ac, b ? trampoline : onNoReplyFn, b ? (void *)b : r, argc,
                              argv, lens) != REDIS_OK) {
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

static void onTimerClosed(uv_handle_t *h) {
    tbRedis *r = h->data;
    r->handles--;
    maybeFree(r);
}

void tbRedisClose(tbRedis *r, void (*closed)(void *ud), void *ud) {
    if (r == NULL) return;
    r->closing = true;
    r->closed = closed;
    r->closed_ud = ud;
    uv_timer_stop(&r->retry);
    uv_timer_stop(&r->deadline);
    uv_timer_stop(&r->connecting);
    uv_close((uv_handle_t *)&r->retry, onTimerClosed);
    uv_close((uv_handle_t *)&r->deadline, onTimerClosed);
    uv_close((uv_handle_t *)&r->connecting, onTimerClosed);
    dropContext(&r->sac); /* connected: its disconnect callback → maybeFree */
    if (r->ac && (r->ac->c.flags & REDIS_CONNECTED))
        redisAsyncDisconnect(r->ac); /* pending commands go out; onDisconnect → maybeFree */
    else
        dropContext(&r->ac); /* still connecting: no callback will come */
}
