/* redis_conn.h — tribune's connection to Redis: hiredis's async API on the
 * control loop (through hiredis's libuv adapter), so nothing here ever
 * blocks the loop and the media plane never waits on Redis.
 *
 * Connects to redis.address ("host:port"), authenticates (redis.username /
 * redis.password) and selects redis.db; when the connection fails or drops
 * it retries with back-off (1 s doubling to 30 s) for as long as tribune
 * runs, logging once per outage, and reports every up/down change to
 * on_state (the state store re-registers the node and re-publishes its
 * rooms on "up"). Commands sent while down fail at once (their callback
 * gets NULL).
 *
 * With redis.sentinel_master_name (redis.address is then ignored), every
 * attempt first asks the sentinels of redis.sentinel_addresses, in order,
 * for the master's address (SENTINEL get-master-addr-by-name, after AUTH
 * with redis.sentinel_username / sentinel_password); none answering is an
 * outage like any other. The node found must say it is a master (ROLE).
 * When the master connection drops, a sentinel announces +switch-master or
 * the node answers READONLY, the next attempt asks the sentinels again, so
 * a failover is followed. TLS is not handled (hiredis 0.14 has none; the
 * config validator refuses redis.use_tls). */
#ifndef TB_STATE_REDIS_CONN_H
#define TB_STATE_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "config/config.h"

struct redisReply;
typedef struct tbRedis tbRedis;

/* A command's reply (NULL when it failed or the connection is down). */
typedef void (*tbRedisReplyFn)(void *ud, struct redisReply *reply);
typedef void (*tbRedisStateFn)(void *ud, bool up);

/* Redis is asked for: redis.address or redis.sentinel_master_name is set. */
bool tbRedisConfigured(const tbRedisConfig *cfg);
/* Starts connecting (returns at once). NULL only when out of memory or the
 * address is unusable (logged). cfg must outlive the connection. */
tbRedis *tbRedisNew(uv_loop_t *loop, const tbRedisConfig *cfg, tbRedisStateFn on_state,
                    void *ud);
bool tbRedisUp(const tbRedis *r);
/* A command from an argument vector (binary safe); fn may be NULL. Returns
 * 0 when queued, -1 when down (fn is then called with NULL at once). */
int tbRedisCommandArgv(tbRedis *r, tbRedisReplyFn fn, void *ud, int argc, const char **argv,
                       const size_t *lens);
/* SUBSCRIBE channel: fn(ud, reply) for the confirmation and then for every
 * message (a 3-element array "message", channel, payload). The connection
 * is then in subscriber mode: use another one for commands. Subscriptions
 * end with the connection: subscribe again on the next "up". One fn per
 * connection (a later call replaces it). -1 when down. */
int tbRedisSubscribe(tbRedis *r, const char *channel, tbRedisReplyFn fn, void *ud);
/* Disconnects (pending commands are sent and their callbacks run) and frees
 * once hiredis and libuv let go; then closed(ud) runs (may be NULL). */
void tbRedisClose(tbRedis *r, void (*closed)(void *ud), void *ud);

#endif
