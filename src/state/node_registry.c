/* node_registry.c — the node's heartbeat in Redis; see node_registry.h. */
#include "state/node_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "room/registry.h"
#include "state/node_bus.h"
#include "state/placement.h"
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
    tbPlacement *placement;     /* rooms to nodes; freed after the connection */
    tbNodeBus *bus;             /* messages from other nodes */
    bool draining;
    uint64_t cpu_busy, cpu_total; /* /proc/stat at the last beat */
    double cpu;                 /* CPU use over the last beat, 0..1 */
    bool beat_closed, redis_closed; /* stopping: freed when both are done */
};

/* The machine's CPU use since the last call, from /proc/stat's first line. */
static void sampleCpu(tbNodeRegistry *n) {
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    int got = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                         &v[3], &v[4], &v[5], &v[6], &v[7])
                : 0;
    if (f) fclose(f);
    if (got < 4) return;
    uint64_t total = 0;
    for (int i = 0; i < 8; i++) total += v[i];
    uint64_t busy = total - v[3] - v[4]; /* minus idle and iowait */
    if (n->cpu_total && total > n->cpu_total)
        n->cpu = (double)(busy - n->cpu_busy) / (double)(total - n->cpu_total);
    n->cpu_busy = busy;
    n->cpu_total = total;
}

static int64_t wallMs(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* HSET key field value ... then EXPIRE key ttl (pipelined). */
static void heartbeat(tbNodeRegistry *n) {
    int rooms = (int)n->reg->num_rooms;
    int participants = (int)tbRegistryParticipantCount(n->reg);
    char port[16], started[24], now[24], r[16], p[16], ttl[16], cpu[16];
    sampleCpu(n);
    snprintf(cpu, sizeof cpu, "%.3f", n->cpu);
    snprintf(port, sizeof port, "%d", n->cfg->port);
    snprintf(started, sizeof started, "%lld", (long long)n->started_ms);
    snprintf(now, sizeof now, "%lld", (long long)wallMs());
    snprintf(r, sizeof r, "%d", rooms);
    snprintf(p, sizeof p, "%d", participants);
    snprintf(ttl, sizeof ttl, "%d", TB_NODE_TTL_S);
    const char *hset[] = {"HSET", n->key, "id", n->id, "ip", n->ip, "http_port", port,
                          "version", TB_VERSION, "started_ms", started, "heartbeat_ms", now,
                          "rooms", r, "participants", p, "cpu", cpu,
                          "draining", n->draining ? "1" : "0"};
    const char *expire[] = {"EXPIRE", n->key, ttl};
    const char *sadd[] = {"SADD", TB_REDIS_PREFIX "nodes", n->id};
    tbRedisCommandArgv(n->redis, NULL, NULL, (int)(sizeof hset / sizeof hset[0]), hset, NULL);
    tbRedisCommandArgv(n->redis, NULL, NULL, 3, expire, NULL);
    tbRedisCommandArgv(n->redis, NULL, NULL, 3, sadd, NULL);
    tbRoomSyncBeat(n->sync, n->redis, n->id, n->reg, TB_NODE_TTL_S);
    tbPlacementRefresh(n->placement);
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
                                    const tbRegistry *reg, tbNodeBusFn on_bus, void *bus_ud) {
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
    n->placement = tbPlacementNew(n->redis, n->id, cfg->node_selector);
    n->bus = n->redis ? tbNodeBusStart(loop, cfg, n->id, n->redis, on_bus, bus_ud) : NULL;
    if (n->redis == NULL || n->sync == NULL || n->placement == NULL || n->bus == NULL) {
        tbNodeBusStop(n->bus);
        tbRedisClose(n->redis, NULL, NULL);
        tbRoomSyncFree(n->sync);
        tbPlacementFree(n->placement);
        free(n);
        return NULL;
    }
    sampleCpu(n);
    uv_timer_init(loop, &n->beat);
    n->beat.data = n;
    uv_timer_start(&n->beat, onBeat, TB_NODE_HEARTBEAT_MS, TB_NODE_HEARTBEAT_MS);
    return n;
}

const char *tbNodeRegistryId(const tbNodeRegistry *n) { return n ? n->id : ""; }

bool tbNodeRegistryRedisUp(const tbNodeRegistry *n) { return n && tbRedisUp(n->redis); }

tbPlacement *tbNodeRegistryPlacement(tbNodeRegistry *n) { return n ? n->placement : NULL; }

tbNodeBus *tbNodeRegistryBus(tbNodeRegistry *n) { return n ? n->bus : NULL; }

void tbNodeRegistryDrain(tbNodeRegistry *n) {
    if (n == NULL || n->draining) return;
    n->draining = true;
    tbPlacementSetDraining(n->placement, true);
    if (tbRedisUp(n->redis)) heartbeat(n); /* tell the others now */
}

static void maybeFree(tbNodeRegistry *n) {
    if (!n->beat_closed || !n->redis_closed) return;
    tbRoomSyncFree(n->sync);
    tbPlacementFree(n->placement);
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
    const char *srem[] = {"SREM", TB_REDIS_PREFIX "nodes", n->id};
    tbRedisCommandArgv(n->redis, NULL, NULL, 2, del, NULL); /* a clean stop leaves nothing */
    tbRedisCommandArgv(n->redis, NULL, NULL, 3, srem, NULL);
    tbNodeBusStop(n->bus);
    tbRoomSyncClear(n->sync, n->redis, n->id);
    tbRedisClose(n->redis, onRedisClosed, n); /* the DELs go out before the disconnect */
    uv_timer_stop(&n->beat);
    uv_close((uv_handle_t *)&n->beat, onBeatClosed);
}
