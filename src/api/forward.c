/* forward.c — RoomService on any node of several sharing one Redis. A call
 * about a room this node does not hold is deferred (the HTTP answer comes
 * later), the room's owner is asked of Redis (state/placement.h) — for
 * CreateRoom the room is placed, as a join would place it — and the call
 * is forwarded over the node bus to the owner, which serves it as if it had
 * arrived there and sends the HTTP response back. A room nobody holds is
 * served here (so the answer is this node's `not_found`). ListRooms adds
 * the other nodes' rooms, read from Redis, to this node's. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/twirp.h"
#include "livekit_room.pb-c.h"
#include "state/bus_msg.h"
#include "state/node_bus.h"
#include "state/node_registry.h"
#include "state/placement.h"
#include "util/log.h"

typedef struct tbApiCall {
    tbApi *api;
    tbHttpDeferred *deferred;
    tbSbuf request;             /* bus-encoded, to serve or forward later */
    uint64_t id;
    int64_t sent_ms;            /* forwarded at (0: still asking Redis) */
    char owner[TB_BUS_NODE_MAX + 1];
    struct tbApiCall *next;     /* api->calls */
} tbApiCall;

static void unlinkCall(tbApiCall *c) {
    for (tbApiCall **pp = &c->api->calls; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
}

static void finish(tbApiCall *c, const tbHttpResponse *resp) {
    unlinkCall(c);
    tbHttpDeferredFinish(c->deferred, resp);
    tbSbufFree(&c->request);
    free(c);
}

/* Serves an encoded request here, marked forwarded (never routed again). */
static void serveHere(tbApi *api, const uint8_t *enc, size_t len, tbHttpResponse *resp) {
    tbHttpRequest req;
    char *storage = NULL;
    if (tbBusDecodeRequest(enc, len, &req, &storage) != 0) {
        tbHttpRespondError(resp, 400, "malformed", "the forwarded request could not be decoded");
        return;
    }
    req.forwarded = true;
    tbApiDispatch(api, &req, resp);
    free(storage);
}

static void finishHere(tbApiCall *c) {
    tbHttpResponse resp;
    tbHttpResponseInit(&resp, 0);
    serveHere(c->api, tbSbufData(&c->request), c->request.len, &resp);
    finish(c, &resp);
    tbHttpResponseFree(&resp);
}

static void onOwner(void *ud, const char *owner) {
    tbApiCall *c = ud;
    tbApi *api = c->api;
    if (!api->bus || !owner || !*owner || strcmp(owner, tbNodeBusId(api->bus)) == 0) {
        finishHere(c);
        return;
    }
    snprintf(c->owner, sizeof c->owner, "%s", owner);
    c->sent_ms = tbApiNowMs(api);
    tbBusMsg m = {.kind = TB_BUS_TWIRP_REQ, .id = c->id, .payload = tbSbufData(&c->request),
                  .payload_len = c->request.len};
    if (tbNodeBusSend(api->bus, owner, &m) != 0)
        finishHere(c);
    else
        api->metrics->forward_out++;
}

/* ListRooms: KEYS the node set; ARGV the node key prefix, the node rooms
 * prefix, the room key prefix. Every live node's rooms: flat {name, sid,
 * metadata, created_ms, num_participants}. */
static const char listScript[] =
    "local out = {} "
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
    "  if redis.call('EXISTS', ARGV[1] .. id) == 1 then "
    "    for _, name in ipairs(redis.call('SMEMBERS', ARGV[2] .. id)) do "
    "      local h = redis.call('HMGET', ARGV[3] .. name, 'sid', 'metadata', 'created_ms', "
    "        'num_participants', 'node') "
    "      if h[1] and h[5] == id then "
    "        out[#out + 1] = {name, h[1], h[2] or '', h[3] or '0', h[4] or '0'} end "
    "    end "
    "  end "
    "end return out";

static const char *replyStr(const redisReply *r) {
    return r->type == REDIS_REPLY_STRING ? r->str : "";
}

static Livekit__Room *roomFromRedis(const redisReply *e) {
    Livekit__Room *room = calloc(1, sizeof *room);
    if (!room) return NULL;
    livekit__room__init(room);
    room->name = strdup(replyStr(e->element[0]));
    room->sid = strdup(replyStr(e->element[1]));
    room->metadata = strdup(replyStr(e->element[2]));
    room->creation_time = atoll(replyStr(e->element[3])) / 1000;
    room->creation_time_ms = atoll(replyStr(e->element[3]));
    room->num_participants = (uint32_t)atoi(replyStr(e->element[4]));
    return room;
}

static void onRooms(void *ud, redisReply *r) {
    tbApiCall *c = ud;
    tbApi *api = c->api;
    size_t n = r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    void **rooms = n ? calloc(n, sizeof *rooms) : NULL;
    size_t k = 0;
    for (size_t i = 0; rooms && i < n; i++) {
        redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 5 &&
            (rooms[k] = roomFromRedis(e)) != NULL)
            k++;
    }
    api->remote_rooms = rooms;
    api->n_remote_rooms = k;
    finishHere(c); /* listRooms adds them */
    api->remote_rooms = NULL;
    api->n_remote_rooms = 0;
    for (size_t i = 0; i < k; i++) livekit__room__free_unpacked(rooms[i], NULL);
    free(rooms);
}

static void listRooms(tbApiCall *c) {
    const char *argv[] = {"EVAL", listScript, "1", TB_REDIS_PREFIX "nodes",
                          TB_REDIS_PREFIX "node:", TB_REDIS_PREFIX "node_rooms:",
                          TB_REDIS_PREFIX "room:"};
    tbRedisCommandArgv(tbPlacementRedis(c->api->placement), onRooms, c, 7, argv, NULL);
}

/* The room a RoomService request is about: field 1 of every request but
 * ListRooms (`room`, or CreateRoom's `name`). */
static const char *roomOf(const ProtobufCMessage *in) {
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(in->descriptor, 1);
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return *(char *const *)((const char *)in + f->offset);
}

bool tbApiForward(tbApi *api, const char *method, const ProtobufCMessage *in,
                  const tbHttpRequest *req) {
    if (!api->placement || req->forwarded || !req->defer ||
        !tbRedisUp(tbPlacementRedis(api->placement)))
        return false; /* alone, or Redis is away: this node's rooms only */
    bool list = strcmp(method, "ListRooms") == 0, create = strcmp(method, "CreateRoom") == 0;
    const char *room = list ? NULL : roomOf(in);
    if (!list && (!room || !*room || tbRegistryFind(api->registry, room))) return false;
    tbApiCall *c = calloc(1, sizeof *c);
    if (!c) return false;
    tbSbufInit(&c->request, 0);
    if (tbBusEncodeRequest(req, &c->request) != 0 || !(c->deferred = req->defer(req->defer_ctx))) {
        tbSbufFree(&c->request);
        free(c);
        return false;
    }
    c->api = api;
    c->id = ++api->next_call_id;
    c->next = api->calls;
    api->calls = c;
    if (list)
        listRooms(c);
    else if (create)
        tbPlacementClaim(api->placement, room, onOwner, c);
    else
        tbPlacementOwner(api->placement, room, onOwner, c);
    return true;
}

/* At the owner: serve a forwarded call and send the answer back. */
static void serveForwarded(tbApi *api, const tbBusMsg *m) {
    api->metrics->forward_in++;
    tbHttpResponse resp;
    tbHttpResponseInit(&resp, 0);
    serveHere(api, m->payload, m->payload_len, &resp);
    tbSbuf out;
    tbSbufInit(&out, 0);
    if (tbBusEncodeResponse(&resp, &out) == 0) {
        tbBusMsg r = {.kind = TB_BUS_TWIRP_RESP, .code = (uint16_t)resp.status, .id = m->id,
                      .payload = tbSbufData(&out), .payload_len = out.len};
        tbNodeBusSend(api->bus, m->from, &r);
    }
    tbSbufFree(&out);
    tbHttpResponseFree(&resp);
}

void tbApiOnBus(tbApi *api, const tbBusMsg *m) {
    if (m->kind == TB_BUS_TWIRP_REQ) {
        serveForwarded(api, m);
        return;
    }
    for (tbApiCall *c = api->calls; c; c = c->next) {
        if (c->id != m->id || !c->sent_ms || strcmp(c->owner, m->from) != 0) continue;
        tbHttpResponse resp;
        tbHttpResponseInit(&resp, 0);
        if (tbBusDecodeResponse(m->code, m->payload, m->payload_len, &resp) != 0)
            tbHttpRespondError(&resp, 502, "internal", "node %s answered garbage", m->from);
        finish(c, &resp);
        tbHttpResponseFree(&resp);
        return;
    }
}

void tbApiSweep(tbApi *api) {
    int64_t now = tbApiNowMs(api);
    for (tbApiCall *c = api->calls, *next; c; c = next) {
        next = c->next;
        if (!c->sent_ms || now - c->sent_ms < TB_API_FORWARD_MS) continue;
        tbWarn("api", "node %s did not answer a forwarded RoomService call", c->owner);
        api->metrics->forward_timeouts++;
        tbHttpResponse resp;
        tbHttpResponseInit(&resp, 0);
        tbHttpRespondError(&resp, 503, "unavailable", "the room's node (%s) did not answer",
                           c->owner);
        finish(c, &resp);
        tbHttpResponseFree(&resp);
    }
}
