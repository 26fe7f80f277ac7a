/* placement.h — which node holds a room, among the live nodes sharing one
 * Redis. The live nodes and their load come from the registry's hashes
 * (node_registry.h), read again at every heartbeat; a room is pinned to a
 * node by `tribune:room_node:<room>` (room_sync.h keeps it alive while the
 * node hosts the room).
 *
 * tbPlacementClaim answers the owner of a room, pinning it first when it
 * is free or its node is dead: to the least-loaded live node that is not
 * draining (`node_selector`: fewest participants, or lowest CPU load; ties
 * go to this node). The check and the pin are one Lua script, so two nodes
 * claiming a new room at once agree on one owner. */
#ifndef TB_STATE_PLACEMENT_H
#define TB_STATE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "state/bus_msg.h"
#include "state/redis_conn.h"

#define TB_PLACEMENT_MAX_NODES 64

typedef struct tbNodeLoad {
    char id[TB_BUS_NODE_MAX + 1];
    int participants;
    int rooms;
    double cpu;                 /* 0..1, the machine's CPU use over the last beat */
    bool draining;              /* takes no new rooms (SIGTERM) */
} tbNodeLoad;

typedef struct tbPlacement tbPlacement;
/* owner: a node id, "" when the room has no live owner (tbPlacementOwner),
 * NULL when Redis could not answer (down, error). */
typedef void (*tbPlacementFn)(void *ud, const char *owner);

/* selector: "participants" or "cpu". r and self_id are borrowed. */
tbPlacement *tbPlacementNew(tbRedis *r, const char *self_id, const char *selector);
/* Frees; only once r has closed (pending replies point to p). */
void tbPlacementFree(tbPlacement *p);
/* Reads the live nodes again (called at each heartbeat). */
void tbPlacementRefresh(tbPlacement *p);
/* In the last view (this node always is). */
bool tbPlacementNodeLive(const tbPlacement *p, const char *id);
/* The node a new room would go to now. */
const char *tbPlacementPick(const tbPlacement *p);
/* The command connection it uses (for other cluster reads). */
tbRedis *tbPlacementRedis(tbPlacement *p);
void tbPlacementSetDraining(tbPlacement *p, bool draining);
bool tbPlacementDraining(const tbPlacement *p);
void tbPlacementClaim(tbPlacement *p, const char *room, tbPlacementFn fn, void *ud);
void tbPlacementOwner(tbPlacement *p, const char *room, tbPlacementFn fn, void *ud);

/* Pure: the index in nodes[0..n) of the node a new room goes to, or -1
 * when every node drains. Exposed for the unit test. */
int tbPlacementChoose(const tbNodeLoad *nodes, size_t n, const char *self_id, bool by_cpu);

#endif
