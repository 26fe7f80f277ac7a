/* node_bus.c — pub/sub between nodes; see node_bus.h. */
#include "state/node_bus.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/node_registry.h"
#include "util/log.h"

struct tbNodeBus {
    tbRedis *sub;               /* subscriber-mode connection */
    tbRedis *pub;               /* the registry's command connection (borrowed) */
    char id[TB_BUS_NODE_MAX + 1];
    char channel[128];          /* tribune:node_bus:<id> */
    tbNodeBusFn fn;
    void *ud;
    uint64_t bad;               /* undecodable messages dropped */
};

static void onPush(void *ud, redisReply *r) {
    tbNodeBus *b = ud;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0)
        return; /* the subscribe confirmation */
    tbBusMsg m;
    redisReply *payload = r->element[2];
    if (payload->type != REDIS_REPLY_STRING ||
        tbBusDecode((const uint8_t *)payload->str, payload->len, &m) != 0) {
        if (b->bad++ == 0) tbWarn("state", "undecodable message on %s dropped", b->channel);
        return;
    }
    b->fn(b->ud, &m);
}

static void onState(void *ud, bool up) {
    tbNodeBus *b = ud;
    if (up && tbRedisSubscribe(b->sub, b->channel, onPush, b) == 0)
        tbDebug("state", "listening on %s", b->channel);
}

tbNodeBus *tbNodeBusStart(uv_loop_t *loop, const tbConfig *cfg, const char *node_id,
                          tbRedis *pub, tbNodeBusFn fn, void *ud) {
    tbNodeBus *b = calloc(1, sizeof *b);
    if (b == NULL) return NULL;
    snprintf(b->id, sizeof b->id, "%s", node_id);
    snprintf(b->channel, sizeof b->channel, TB_REDIS_PREFIX "node_bus:%s", node_id);
    b->pub = pub;
    b->fn = fn;
    b->ud = ud;
    b->sub = tbRedisNew(loop, &cfg->redis, onState, b);
    if (b->sub == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

int tbNodeBusSend(tbNodeBus *b, const char *to, tbBusMsg *m) {
    char channel[128];
    snprintf(m->from, sizeof m->from, "%s", b->id);
    snprintf(channel, sizeof channel, TB_REDIS_PREFIX "node_bus:%s", to);
    tbSbuf buf;
    tbSbufInit(&buf, 0);
    int rc = -1;
    if (tbBusEncode(m, &buf) == 0) {
        const char *argv[] = {"PUBLISH", channel, (const char *)tbSbufData(&buf)};
        const size_t lens[] = {7, strlen(channel), buf.len};
        rc = tbRedisCommandArgv(b->pub, NULL, NULL, 3, argv, lens);
    }
    tbSbufFree(&buf);
    return rc;
}

const char *tbNodeBusId(const tbNodeBus *b) { return b->id; }

static void onClosed(void *ud) { free(ud); }

void tbNodeBusStop(tbNodeBus *b) {
    if (b == NULL) return;
    tbRedisClose(b->sub, onClosed, b);
}
