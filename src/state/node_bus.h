/* node_bus.h — messages between nodes (bus_msg.h) over Redis pub/sub. Each
 * node subscribes to its own channel `tribune:node_bus:<node id>` on a
 * connection of its own (a subscribed connection takes no other command)
 * and publishes on the node registry's command connection. Messages from
 * one node to another arrive in the order they were sent; a message to a
 * node that is not listening is lost (the caller learns of dead nodes from
 * placement.h). Subscribes again whenever its connection comes back. */
#ifndef TB_STATE_NODE_BUS_H
#define TB_STATE_NODE_BUS_H

#include <uv.h>

#include "config/config.h"
#include "state/bus_msg.h"
#include "state/redis_conn.h"

typedef struct tbNodeBus tbNodeBus;
/* A message for this node (m->payload is valid during the call only). */
typedef void (*tbNodeBusFn)(void *ud, const tbBusMsg *m);

/* Subscribes as node_id; publishes through pub (borrowed, must outlive the
 * bus). NULL on allocation failure. */
tbNodeBus *tbNodeBusStart(uv_loop_t *loop, const tbConfig *cfg, const char *node_id,
                          tbRedis *pub, tbNodeBusFn fn, void *ud);
/* Fills m->from with this node's id and publishes m to node `to`.
 * 0 when handed to Redis, -1 when Redis is down. */
int tbNodeBusSend(tbNodeBus *b, const char *to, tbBusMsg *m);
const char *tbNodeBusId(const tbNodeBus *b);
/* Unsubscribes and frees once the connection has closed (run the loop). */
void tbNodeBusStop(tbNodeBus *b);

#endif
