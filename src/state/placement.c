/* placement.c — rooms to nodes; see placement.h. */
#include "state/placement.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/node_registry.h"
#include "util/log.h"

/* KEYS: the node set. ARGV: node key prefix. Each live node as {id,
 * participants, rooms, cpu, draining}; ids whose hash expired leave the set. */
static const char nodesScript[] =
    "local out = {} "
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
    "  local h = redis.call('HMGET', ARGV[1] .. id, 'participants', 'rooms', 'cpu', 'draining') "
    "  if h[1] then out[#out + 1] = {id, h[1], h[2] or '0', h[3] or '0', h[4] or '0'} "
    "  else redis.call('SREM', KEYS[1], id) end "
    "end return out";

/* KEYS: the room's pin. ARGV: candidate, ttl, node key prefix. The live
 * owner, else the candidate (now pinned). */
static const char claimScript[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and redis.call('EXISTS', ARGV[3] .. v) == 1 then return v end "
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return ARGV[1]";

/* KEYS: the room's pin. ARGV: node key prefix. The live owner, or "". */
static const char ownerScript[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and redis.call('EXISTS', ARGV[1] .. v) == 1 then return v end return ''";

#define NODE_PREFIX TB_REDIS_PREFIX "node:"

struct tbPlacement {
    tbRedis *redis;
    const char *self;
    bool by_cpu;
    bool draining;
    tbNodeLoad nodes[TB_PLACEMENT_MAX_NODES]; /* the last view */
    size_t num_nodes;
};

typedef struct pending {
    tbPlacementFn fn;
    void *ud;
} pending;

tbPlacement *tbPlacementNew(tbRedis *r, const char *self_id, const char *selector) {
    tbPlacement *p = calloc(1, sizeof *p);
    if (p == NULL) return NULL;
    p->redis = r;
    p->self = self_id;
    p->by_cpu = selector && strcmp(selector, "cpu") == 0;
    return p;
}

void tbPlacementFree(tbPlacement *p) { free(p); }

static const char *str(const redisReply *r) {
    return r && r->type == REDIS_REPLY_STRING ? r->str : "0";
}

static void onNodes(void *ud, redisReply *r) {
    tbPlacement *p = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY) return; /* keep the last view */
    p->num_nodes = 0;
    for (size_t i = 0; i < r->elements && p->num_nodes < TB_PLACEMENT_MAX_NODES; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 5) continue;
        tbNodeLoad *n = &p->nodes[p->num_nodes++];
        snprintf(n->id, sizeof n->id, "%s", str(e->element[0]));
        n->participants = atoi(str(e->element[1]));
        n->rooms = atoi(str(e->element[2]));
        n->cpu = atof(str(e->element[3]));
        n->draining = strcmp(str(e->element[4]), "1") == 0;
    }
}

void tbPlacementRefresh(tbPlacement *p) {
    const char *argv[] = {"EVAL", nodesScript, "1", TB_REDIS_PREFIX "nodes", NODE_PREFIX};
    tbRedisCommandArgv(p->redis, onNodes, p, 5, argv, NULL);
}

bool tbPlacementNodeLive(const tbPlacement *p, const char *id) {
    if (strcmp(id, p->self) == 0) return true;
    for (size_t i = 0; i < p->num_nodes; i++)
        if (strcmp(p->nodes[i].id, id) == 0) return true;
    return false;
}

int tbPlacementChoose(const tbNodeLoad *nodes, size_t n, const char *self_id, bool by_cpu) {
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].draining) continue;
        if (best < 0) {
            best = (int)i;
            continue;
        }
        const tbNodeLoad *a = &nodes[i], *b = &nodes[best];
        double la = by_cpu ? a->cpu : a->participants, lb = by_cpu ? b->cpu : b->participants;
        if (la < lb || (la == lb && strcmp(a->id, self_id) == 0)) best = (int)i;
    }
    return best;
}

const char *tbPlacementPick(const tbPlacement *p) {
    int i = tbPlacementChoose(p->nodes, p->num_nodes, p->self, p->by_cpu);
    /* no view yet, or this node alone: here (a draining node still serves
     * rooms when no other node can take them) */
    return i >= 0 ? p->nodes[i].id : p->self;
}

tbRedis *tbPlacementRedis(tbPlacement *p) { return p->redis; }

void tbPlacementSetDraining(tbPlacement *p, bool draining) {
    p->draining = draining;
    for (size_t i = 0; i < p->num_nodes; i++) /* before the next view says so */
        if (strcmp(p->nodes[i].id, p->self) == 0) p->nodes[i].draining = draining;
}
bool tbPlacementDraining(const tbPlacement *p) { return p->draining; }

static void onOwner(void *ud, redisReply *r) {
    pending *q = ud;
    q->fn(q->ud, r && r->type == REDIS_REPLY_STRING ? r->str : NULL);
    free(q);
}

static void run(tbPlacement *p, const char **argv, int argc, tbPlacementFn fn, void *ud) {
    pending *q = malloc(sizeof *q);
    if (q == NULL) {
        fn(ud, NULL);
        return;
    }
    *q = (pending){fn, ud};
    tbRedisCommandArgv(p->redis, onOwner, q, argc, argv, NULL); /* NULL reply when down */
}

void tbPlacementClaim(tbPlacement *p, const char *room, tbPlacementFn fn, void *ud) {
    char pin[600], ttl[16];
    snprintf(pin, sizeof pin, TB_REDIS_PREFIX "room_node:%s", room);
    snprintf(ttl, sizeof ttl, "%d", TB_NODE_TTL_S);
    const char *argv[] = {"EVAL", claimScript, "1", pin, tbPlacementPick(p), ttl, NODE_PREFIX};
    run(p, argv, 7, fn, ud);
}

void tbPlacementOwner(tbPlacement *p, const char *room, tbPlacementFn fn, void *ud) {
    char pin[600];
    snprintf(pin, sizeof pin, TB_REDIS_PREFIX "room_node:%s", room);
    const char *argv[] = {"EVAL", ownerScript, "1", pin, NODE_PREFIX};
    run(p, argv, 5, fn, ud);
}
