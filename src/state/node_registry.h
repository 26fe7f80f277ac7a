/* node_registry.h — this node in Redis, so other nodes and operators see
 * it: a hash `tribune:node:<node id>` (fields id, ip, http_port, version,
 * started_ms, rooms, participants, cpu, draining, heartbeat_ms; the id
 * is also in the set `tribune:nodes`) rewritten every
 * TB_NODE_HEARTBEAT_MS with an expiry of TB_NODE_TTL_S: a node that dies,
 * even by kill -9, is gone from Redis within the TTL, and a stale
 * heartbeat means a dead node. Re-registers as soon as the Redis
 * connection comes back. The node id is new at every start (like
 * livekit-server's), so a restarted node never inherits a dead one's
 * keys: those expire. Each heartbeat also writes the node's rooms and
 * participants (room_sync.h). See docs/redis.md. */
#ifndef TB_STATE_NODE_REGISTRY_H
#define TB_STATE_NODE_REGISTRY_H

#include <stdbool.h>
#include <uv.h>

#include "config/config.h"
#include "state/node_bus.h"
#include "state/placement.h"

#define TB_NODE_HEARTBEAT_MS 2000
#define TB_NODE_TTL_S 10
#define TB_REDIS_PREFIX "tribune:"

struct tbRegistry;
typedef struct tbNodeRegistry tbNodeRegistry;

/* Connects to cfg->redis (see redis_conn.h) and starts the heartbeat, which
 * also writes reg's rooms and participants (room_sync.h). NULL when
 * redis.address is unusable (logged). cfg and reg must outlive it. */
tbNodeRegistry *tbNodeRegistryStart(uv_loop_t *loop, const tbConfig *cfg, const char *ip,
                                    const struct tbRegistry *reg, tbNodeBusFn on_bus,
                                    void *bus_ud);
/* The room placement and the bus to other nodes (placement.h, node_bus.h);
 * NULL when n is NULL. */
tbPlacement *tbNodeRegistryPlacement(tbNodeRegistry *n);
tbNodeBus *tbNodeRegistryBus(tbNodeRegistry *n);
/* SIGTERM: this node takes no new rooms (said in Redis at once). */
void tbNodeRegistryDrain(tbNodeRegistry *n);
const char *tbNodeRegistryId(const tbNodeRegistry *n);
bool tbNodeRegistryRedisUp(const tbNodeRegistry *n);
/* Deletes the node's keys and its rooms' (when connected), stops, frees
 * once the connection closed (run the loop). */
void tbNodeRegistryStop(tbNodeRegistry *n);

#endif
