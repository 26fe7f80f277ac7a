/* room_sync.h — this node's rooms and participants in Redis, so they are
 * visible from every node: written at each heartbeat of the node registry
 * (a snapshot, not a log: after a Redis outage the next beat restores it),
 * with the same expiry as the node key, so a dead node's rooms vanish.
 *
 * Keys (docs/redis.md): `tribune:room_node:<room>` pins the room to the node
 * hosting it (set only when free or already ours, atomically in a Lua
 * script); `tribune:room:<room>` (hash) and `tribune:participants:<room>`
 * (hash identity → ParticipantInfo as proto3 JSON) are written only by the
 * pinning node. A room this node hosts but another live node has pinned is
 * reported once (routing between nodes is not done yet) and left alone in
 * Redis. Rooms that closed since the last beat are deleted (if ours). */
#ifndef TB_STATE_ROOM_SYNC_H
#define TB_STATE_ROOM_SYNC_H

#include "room/registry.h"
#include "state/redis_conn.h"

typedef struct tbRoomSync tbRoomSync;

tbRoomSync *tbRoomSyncNew(void);
void tbRoomSyncFree(tbRoomSync *rs);
/* One snapshot of reg under node_id, every key expiring after ttl_s. */
void tbRoomSyncBeat(tbRoomSync *rs, tbRedis *r, const char *node_id, const tbRegistry *reg,
                    int ttl_s);
/* A clean stop: deletes the keys of every room last written (if ours). */
void tbRoomSyncClear(tbRoomSync *rs, tbRedis *r, const char *node_id);

#endif
