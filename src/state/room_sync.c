/* room_sync.c — rooms and participants in Redis; see room_sync.h. The
 * writes are two small Lua scripts so that pinning and writing (or
 * deleting) are one atomic step per room. */
#include "state/room_sync.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pbjson.h"
#include "room/room_proto.h"
#include "state/node_registry.h"
#include "util/log.h"

#define MAX_ARGS (16 + 2 * 512) /* room fields + identity/JSON pairs */

/* KEYS: pin, room, participants, the node's room set. ARGV: node, ttl,
 * sid, name, created_ms, num_participants, metadata, n, then n (identity,
 * json) pairs. Returns 1, or the id of the node that holds the pin. */
static const char writeScript[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and v ~= ARGV[1] then return v end "
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
    "redis.call('DEL', KEYS[2], KEYS[3]) "
    "redis.call('HSET', KEYS[2], 'sid', ARGV[3], 'name', ARGV[4], 'node', ARGV[1], "
    "'created_ms', ARGV[5], 'num_participants', ARGV[6], 'metadata', ARGV[7]) "
    "redis.call('EXPIRE', KEYS[2], ARGV[2]) "
    "local n = tonumber(ARGV[8]) "
    "for i = 0, n - 1 do redis.call('HSET', KEYS[3], ARGV[9 + 2 * i], ARGV[10 + 2 * i]) end "
    "if n > 0 then redis.call('EXPIRE', KEYS[3], ARGV[2]) end "
    "redis.call('SADD', KEYS[4], ARGV[4]) redis.call('EXPIRE', KEYS[4], ARGV[2]) "
    "return 1";

/* KEYS: pin, room, participants, the node's room set. ARGV: node, room.
 * Deletes them if ours. */
static const char deleteScript[] =
    "redis.call('SREM', KEYS[4], ARGV[2]) "
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end return 0";

typedef struct syncedRoom {
    char *name;
    bool warned;              /* another node holds its pin: said once */
    bool seen;                /* still hosted at this beat */
    struct syncedRoom *next;
} syncedRoom;

struct tbRoomSync {
    syncedRoom *rooms;        /* written at the last beat */
};

typedef struct pinReply {
    tbRoomSync *rs;
    char name[];
} pinReply;

tbRoomSync *tbRoomSyncNew(void) { return calloc(1, sizeof(tbRoomSync)); }

void tbRoomSyncFree(tbRoomSync *rs) {
    if (rs == NULL) return;
    while (rs->rooms) {
        syncedRoom *n = rs->rooms->next;
        free(rs->rooms->name);
        free(rs->rooms);
        rs->rooms = n;
    }
    free(rs);
}

static syncedRoom *findRoom(tbRoomSync *rs, const char *name) {
    for (syncedRoom *s = rs->rooms; s; s = s->next)
        if (strcmp(s->name, name) == 0) return s;
    return NULL;
}

static void keys(const char *room, char *pin, char *rk, char *pk, size_t cap) {
    snprintf(pin, cap, TB_REDIS_PREFIX "room_node:%s", room);
    snprintf(rk, cap, TB_REDIS_PREFIX "room:%s", room);
    snprintf(pk, cap, TB_REDIS_PREFIX "participants:%s", room);
}

static void nodeRoomsKey(const char *node, char *buf, size_t cap) {
    snprintf(buf, cap, TB_REDIS_PREFIX "node_rooms:%s", node);
}

/* The script's answer: 1, or the node that holds the pin. (The tbRoomSync
 * outlives every reply: it is freed once the connection has closed, after
 * hiredis has called back every pending command.) */
static void onWritten(void *ud, redisReply *reply) {
    pinReply *pr = ud;
    if (reply && reply->type == REDIS_REPLY_STRING) {
        syncedRoom *s = findRoom(pr->rs, pr->name);
        if (s && !s->warned)
            tbWarn("state", "room %s is pinned to node %s in Redis (it was made here while "
                            "Redis was away): this node keeps serving its own copy until it ends",
                   pr->name, reply->str);
        if (s) s->warned = true;
    }
    free(pr);
}

static void writeRoom(tbRoomSync *rs, tbRedis *r, const char *node, const tbRoom *room,
                      const char *ttl) {
    const char *argv[MAX_ARGS];
    char *owned[MAX_ARGS];
    size_t nowned = 0, argc = 0;
    char pin[600], rk[600], pk[600], nr[128], created[24], num[16], n[16];
    keys(room->name, pin, rk, pk, sizeof pin);
    nodeRoomsKey(node, nr, sizeof nr);
    snprintf(created, sizeof created, "%lld", (long long)room->creation_time_ms);
    snprintf(num, sizeof num, "%zu", room->num_participants);
    argv[argc++] = "EVAL";
    argv[argc++] = writeScript;
    argv[argc++] = "4";
    argv[argc++] = pin;
    argv[argc++] = rk;
    argv[argc++] = pk;
    argv[argc++] = nr;
    argv[argc++] = node;
    argv[argc++] = ttl;
    argv[argc++] = room->sid;
    argv[argc++] = room->name;
    argv[argc++] = created;
    argv[argc++] = num;
    argv[argc++] = room->metadata ? room->metadata : "";
    size_t nat = argc++, count = 0;
    for (const tbParticipant *p = room->participants; p && argc + 2 <= MAX_ARGS; p = p->next) {
        Livekit__ParticipantInfo *info = tbParticipantToProto(p);
        json_t *j = info ? tbPbToJson((const ProtobufCMessage *)info) : NULL;
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (info) livekit__participant_info__free_unpacked(info, NULL);
        if (!text) continue;
        argv[argc++] = p->identity;
        argv[argc++] = owned[nowned++] = text;
        count++;
    }
    snprintf(n, sizeof n, "%zu", count);
    argv[nat] = n;
    pinReply *pr = malloc(sizeof *pr + strlen(room->name) + 1);
    if (pr) {
        pr->rs = rs;
        strcpy(pr->name, room->name);
    }
    tbRedisCommandArgv(r, pr ? onWritten : NULL, pr, (int)argc, argv, NULL);
    for (size_t i = 0; i < nowned; i++) free(owned[i]);
}

static void deleteRoom(tbRedis *r, const char *node, const char *name) {
    char pin[600], rk[600], pk[600], nr[128];
    keys(name, pin, rk, pk, sizeof pin);
    nodeRoomsKey(node, nr, sizeof nr);
    const char *argv[] = {"EVAL", deleteScript, "4", pin, rk, pk, nr, node, name};
    tbRedisCommandArgv(r, NULL, NULL, 9, argv, NULL);
}

void tbRoomSyncBeat(tbRoomSync *rs, tbRedis *r, const char *node_id, const tbRegistry *reg,
                    int ttl_s) {
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ttl_s);
    for (syncedRoom *s = rs->rooms; s; s = s->next) s->seen = false;
    for (const tbRoom *room = reg->rooms; room; room = room->next) {
        syncedRoom *s = findRoom(rs, room->name);
        if (s == NULL && (s = calloc(1, sizeof *s)) != NULL) {
            s->name = strdup(room->name);
            s->next = rs->rooms;
            rs->rooms = s;
        }
        if (s) s->seen = true;
        writeRoom(rs, r, node_id, room, ttl);
    }
    for (syncedRoom **pp = &rs->rooms; *pp;) {
        syncedRoom *s = *pp;
        if (s->seen || !s->name) {
            pp = &s->next;
            continue;
        }
        deleteRoom(r, node_id, s->name); /* closed since the last beat */
        *pp = s->next;
        free(s->name);
        free(s);
    }
}

void tbRoomSyncClear(tbRoomSync *rs, tbRedis *r, const char *node_id) {
    for (syncedRoom *s = rs->rooms; s; s = s->next) deleteRoom(r, node_id, s->name);
}
