/* node_registry.c — the node's heartbeat in Redis; see node_registry.h. */
#include "state/node_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "room/registry.h"
#include "state/redis_conn.h"
#include "state/room_sync.h"
#include "tb_build_config.h"
#include "util/ids.h"
#include "util/log.h"

struct tbNodeRegistry {
    tbRedis *redis;
    const tbConfig *cfg;
    uv_timer_t beat;
    char id[TB_SID_LEN];
    char key[64 + TB_SID_LEN];
    char ip[64];
    int64_t started_ms;
    const tbRegistry *reg;
    tbRoomSync *sync;
    bool beat_closed, redis_closed; /* stopping: freed when both are done */
};

static int64_t wallMs(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* HSET key field value ... then EXPIRE key ttl (pipelined). */
static void heartbeat(tbNodeRegistry *n) {
    int rooms = (int)n->reg->num_rooms;
    int participants = (int)tbRegistryParticipantCount(n->reg);
    char port[16], started[24], now[24], r[16], p[16], ttl[16];
    snprintf(port, sizeof port, "%d", n->cfg->port);
    snprintf(started, sizeof started, "%lld", (long long)n->started_ms);
    snprintf(now, sizeof now, "%lld", (long long)wallMs());
    snprintf(r, sizeof r, "%d", rooms);
    snprintf(p, sizeof p, "%d", participants);
    snprintf(ttl, sizeof ttl, "%d", TB_NODE_TTL_S);
    const char *hset[] = {"HSET", n->key, "id", n->id, "ip", n->ip, "http_port", port,
                          "version", TB_VERSION, "started_ms", started, "heartbeat_ms", now,
                          "rooms", r, "participants", p};
    const char *expire[] = {"EXPIRE", n->key, ttl};
    tbRedisCommandArgv(n->redis, NULL, NULL, (int)(sizeof hset / sizeof hset[0]), hset, NULL);
    tbRedisCommandArgv(n->redis, NULL, NULL, 3, expire, NULL);
    tbRoomSyncBeat(n->sync, n->redis, n->id, n->reg, TB_NODE_TTL_S);
}

static void onBeat(uv_timer_t *t) {
    tbNodeRegistry *n = t->data;
    if (tbRedisUp(n->redis)) heartbeat(n);
}

static void onRedisState(void *ud, bool up) {
    tbNodeRegistry *n = ud;
    if (!up) return;
    heartbeat(n); /* (re-)register at once */
    tbInfo("state", "node %s registered in Redis (%s)", n->id, n->key);
}

tbNodeRegistry *tbNodeRegistryStart(uv_loop_t *loop, const tbConfig *cfg, const char *ip,
                                    const tbRegistry *reg) {
    tbNodeRegistry *n = calloc(1, sizeof *n);
    if (n == NULL) return NULL;
    n->cfg = cfg;
    n->reg = reg;
    n->sync = tbRoomSyncNew();
    n->started_ms = wallMs();
    tbNewSid("ND_", n->id);
    snprintf(n->key, sizeof n->key, TB_REDIS_PREFIX "node:%s", n->id);
    snprintf(n->ip, sizeof n->ip, "%s", ip ? ip : "");
    n->redis = tbRedisNew(loop, &cfg->redis, onRedisState, n);
    if (n->redis == NULL || n->sync == NULL) {
        tbRedisClose(n->redis, NULL, NULL);
        tbRoomSyncFree(n->sync);
        free(n);
        return NULL;
    }
    uv_timer_init(loop, &n->beat);
    n->beat.data = n;
    uv_timer_start(&n->beat, onBeat, TB_NODE_HEARTBEAT_MS, TB_NODE_HEARTBEAT_MS);
    return n;
}

const char *tbNodeRegistryId(const tbNodeRegistry *n) { return n ? n->id : ""; }

bool tbNodeRegistryRedisUp(const tbNodeRegistry *n) { return n && tbRedisUp(n->redis); }

static void maybeFree(tbNodeRegistry *n) {
    if (!n->beat_closed || !n->redis_closed) return;
    tbRoomSyncFree(n->sync);
    free(n);
}

static void onBeatClosed(uv_handle_t *h) {
    tbNodeRegistry *n = h->data;
    n->beat_closed = true;
    maybeFree(n);
}

static void onRedisClosed(void *ud) {
    tbNodeRegistry *n = ud;
    n->redis_closed = true;
    maybeFree(n);
}

void tbNodeRegistryStop(tbNodeRegistry *n) {
    if (n == NULL) return;
    const char *del[] = {"DEL", n->key};
    tbRedisCommandArgv(n->redis, NULL, NULL, 2, del, NULL); /* a clean stop leaves nothing */
    tbRoomSyncClear(n->sync, n->redis, n->id);
    tbRedisClose(n->redis, onRedisClosed, n); /* the DELs go out before the disconnect */
    uv_timer_stop(&n->beat);
    uv_close((uv_handle_t *)&n->beat, onBeatClosed);
}
