/* node_registry.h — this node in Redis, so other nodes and operators see
 * it: a hash `tribune:node:<node id>` (fields id, ip, http_port, version,
 * started_ms, rooms, participants, heartbeat_ms) rewritten every
 * TB_NODE_HEARTBEAT_MS with an expiry of TB_NODE_TTL_S: a node that dies,
 * even by kill -9, is gone from Redis within the TTL, and a stale
 * heartbeat means a dead node. Re-registers as soon as the Redis
 * connection comes back. The node id is new at every start (like
 * livekit-server's), so a restarted node never inherits a dead one's
 * keys: those expire. See docs/redis.md. */
#ifndef TB_STATE_NODE_REGISTRY_H
#define TB_STATE_NODE_REGISTRY_H

#include <stdbool.h>
#include <uv.h>

#include "config/config.h"

#define TB_NODE_HEARTBEAT_MS 2000
#define TB_NODE_TTL_S 10
#define TB_REDIS_PREFIX "tribune:"

typedef struct tbNodeRegistry tbNodeRegistry;
/* The node's load right now (read at each heartbeat). */
typedef void (*tbNodeLoadFn)(void *ud, int *rooms, int *participants);

/* Connects to cfg->redis (see redis_conn.h) and starts the heartbeat.
 * NULL when redis.address is unusable (logged). */
tbNodeRegistry *tbNodeRegistryStart(uv_loop_t *loop, const tbConfig *cfg, const char *ip,
                                    tbNodeLoadFn load, void *ud);
const char *tbNodeRegistryId(const tbNodeRegistry *n);
bool tbNodeRegistryRedisUp(const tbNodeRegistry *n);
/* Deletes the node's key (when connected), stops, frees (run the loop). */
void tbNodeRegistryStop(tbNodeRegistry *n);

#endif
