/* relay.c — signaling between the node a client reached and the node that
 * holds its room; see relay.h. Two halves:
 *   front  a tbSignalSession with `relay` set, held by the WebSocket; it
 *          routes (placement), then passes frames to a session here
 *          (LOCAL) or over the bus to the owner (REMOTE);
 *   back   at the owner, the tbSignalIo of an ordinary session whose
 *          frames go over the bus to the front. */
#include "signal/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signal/session_internal.h"
#include "state/node_bus.h"
#include "state/placement.h"
#include "util/log.h"

#define TO_OWNER 0x08 /* bus flag: front → owner (else owner → front) */
#define TB_RELAY_GRACE_MS 6000 /* > a heartbeat: a new node is in every view by then */

typedef enum relayState {
    RELAY_WAITING,      /* accepted, the WebSocket not yet up */
    RELAY_ROUTING,      /* asked Redis who holds the room */
    RELAY_LOCAL,        /* the room is here: frames go to `local` */
    RELAY_REMOTE,       /* frames go to `owner` over the bus */
    RELAY_CLOSING,      /* the owner closed: waiting for the WebSocket to go */
} relayState;

typedef struct relayFrame {
    struct relayFrame *next;
    size_t len;
    bool text;
    uint8_t data[];
} relayFrame;

typedef struct tbSignalRelay {
    tbSignalSession *front;     /* the session object the WebSocket holds */
    tbSignalHub *hub;
    relayState state;
    uint64_t id;                /* names this relay on the bus */
    bool v1;
    bool gone;                  /* the client left while routing */
    char room[260];
    tbSbuf request;             /* the upgrade request, bus-encoded */
    char owner[TB_BUS_NODE_MAX + 1];
    tbSignalSession *local;     /* RELAY_LOCAL: the session here */
    relayFrame *queue, *queue_tail; /* client frames sent before routing ended */
    int64_t since_ms;           /* routed (the node view may not know the owner yet) */
    struct tbSignalRelay *next; /* hub->relays */
} tbSignalRelay;

typedef struct tbBackConn {
    tbSignalHub *hub;
    tbSignalSession *session;
    char front[TB_BUS_NODE_MAX + 1]; /* the node the client is connected to */
    uint64_t id;                /* the front's relay id */
    bool closed;                /* the session closed it: ends at the next sweep */
    int64_t since_ms;           /* opened (the node view may not know the front yet) */
    struct tbBackConn *next;    /* hub->backs */
} tbBackConn;

/* ---- bus helpers ------------------------------------------------------------- */

static void busSend(tbSignalHub *hub, const char *to, tbBusKind kind, uint8_t flags,
                    uint16_t code, uint64_t id, const void *payload, size_t len) {
    tbBusMsg m = {.kind = kind, .flags = flags, .code = code, .id = id, .payload = payload,
                  .payload_len = len};
    if (tbNodeBusSend(hub->api->bus, to, &m) != 0)
        tbDebug("signal", "bus message to %s lost: Redis is down", to);
}

/* ---- front ------------------------------------------------------------------- */

static void unlinkRelay(tbSignalRelay *r) {
    for (tbSignalRelay **pp = &r->hub->relays; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
}

static void freeRelay(tbSignalRelay *r) {
    unlinkRelay(r);
    while (r->queue) {
        relayFrame *f = r->queue;
        r->queue = f->next;
        free(f);
    }
    tbSbufFree(&r->request);
    free(r->front);
    free(r);
}

int tbRelayAccept(tbSignalHub *hub, const tbHttpRequest *req, bool v1, const char *room,
                  tbSignalSession **out, char *why, size_t whylen) {
    tbSignalSession *front = calloc(1, sizeof *front);
    tbSignalRelay *r = calloc(1, sizeof *r);
    if (!front || !r) goto err;
    tbSbufInit(&r->request, 0);
    if (tbBusEncodeRequest(req, &r->request) != 0) goto err;
    front->hub = hub;
    front->relay = r;
    front->udp_fd = front->sub_udp_fd = -1;
    snprintf(front->room, sizeof front->room, "%s", room);
    r->front = front;
    r->hub = hub;
    r->v1 = v1;
    r->id = ++hub->next_relay_id;
    snprintf(r->room, sizeof r->room, "%s", room);
    r->next = hub->relays;
    hub->relays = r;
    *out = front;
    return 0;
err:
    if (r) tbSbufFree(&r->request);
    free(r);
    free(front);
    snprintf(why, whylen, "out of memory");
    return 500;
}

/* io of the local session: its frames go out on the front's WebSocket */
static void localSend(void *conn, const uint8_t *data, size_t len, bool text) {
    tbSignalRelay *r = conn;
    if (r->front->conn) r->front->io->send(r->front->conn, data, len, text);
}

static void localClose(void *conn, int code, const char *reason) {
    tbSignalRelay *r = conn;
    if (r->front->conn) r->front->io->close(r->front->conn, code, reason);
}

/* The local session resumed on another connection. */
static void localForget(void *conn) {
    tbSignalRelay *r = conn;
    r->local = NULL;
    if (r->front->conn) r->front->io->forget(r->front->conn); /* no OnClosed follows */
    freeRelay(r);
}

static const tbSignalIo localIo = {localSend, localClose, localForget};

static void closeFront(tbSignalRelay *r, int code, const char *reason) {
    r->state = RELAY_CLOSING;
    if (r->front->conn) r->front->io->close(r->front->conn, code, reason);
}

/* Frames the client sent while routing, now that they have somewhere to go. */
static void flushQueue(tbSignalRelay *r) {
    while (r->queue && (r->state == RELAY_LOCAL || r->state == RELAY_REMOTE)) {
        relayFrame *f = r->queue;
        r->queue = f->next;
        tbRelayOnMessage(r->front, f->data, f->len, f->text);
        free(f);
    }
    if (!r->queue) r->queue_tail = NULL;
}

static void startLocal(tbSignalRelay *r) {
    tbHttpRequest req;
    char *storage = NULL, why[384] = "";
    tbSignalSession *s = NULL;
    int status = 500;
    if (tbBusDecodeRequest(tbSbufData(&r->request), r->request.len, &req, &storage) == 0)
        status = tbSessionAcceptHere(r->hub, &req, r->v1, &s, why, sizeof why);
    free(storage);
    if (status != 0) {
        tbInfo("signal", "join to %s refused: %d %s", r->room, status, why);
        closeFront(r, 1008, why);
        return;
    }
    r->state = RELAY_LOCAL;
    r->local = s;
    tbSignalAttach(s, &localIo, r);
}

static void onRouted(void *ud, const char *owner) {
    tbSignalRelay *r = ud;
    if (r->gone) {
        freeRelay(r);
        return;
    }
    const char *self = tbNodeBusId(r->hub->api->bus);
    if (!owner || !*owner || strcmp(owner, self) == 0) {
        /* ours, or Redis could not say: serve it here (single-node mode) */
        startLocal(r);
    } else {
        snprintf(r->owner, sizeof r->owner, "%s", owner);
        r->state = RELAY_REMOTE;
        r->since_ms = tbApiNowMs(r->hub->api);
        tbInfo("signal", "room %s is on node %s: relaying a client's signaling there", r->room,
               owner);
        r->hub->api->metrics->relay_out++;
        busSend(r->hub, owner, TB_BUS_SIG_OPEN, (uint8_t)(TO_OWNER | (r->v1 ? TB_BUS_V1 : 0)),
                0, r->id, tbSbufData(&r->request), r->request.len);
    }
    flushQueue(r);
}

void tbRelayAttach(tbSignalSession *front) {
    tbSignalRelay *r = front->relay;
    if (r->state != RELAY_WAITING) return;
    r->state = RELAY_ROUTING;
    tbPlacementClaim(r->hub->api->placement, r->room, onRouted, r);
}

void tbRelayOnMessage(tbSignalSession *front, const uint8_t *data, size_t len, bool text) {
    tbSignalRelay *r = front->relay;
    if (r->state == RELAY_LOCAL && r->local) {
        tbSignalOnMessage(r->local, data, len, text);
    } else if (r->state == RELAY_REMOTE) {
        busSend(r->hub, r->owner, TB_BUS_SIG_MSG, (uint8_t)(TO_OWNER | (text ? TB_BUS_TEXT : 0)),
                0, r->id, data, len);
    } else if (r->state == RELAY_WAITING || r->state == RELAY_ROUTING) {
        relayFrame *f = malloc(sizeof *f + len);
        if (!f) return;
        *f = (relayFrame){NULL, len, text};
        memcpy(f->data, data, len);
        if (r->queue_tail)
            r->queue_tail->next = f;
        else
            r->queue = f;
        r->queue_tail = f;
    }
}

void tbRelayOnClosed(tbSignalSession *front, bool clean) {
    tbSignalRelay *r = front->relay;
    front->conn = NULL;
    switch (r->state) {
    case RELAY_ROUTING:
        r->gone = true; /* freed when Redis answers */
        return;
    case RELAY_LOCAL:
        if (r->local) tbSignalOnClosed(r->local, clean);
        break;
    case RELAY_REMOTE:
        busSend(r->hub, r->owner, TB_BUS_SIG_CLOSE, TO_OWNER | (clean ? TB_BUS_CLEAN : 0), 0,
                r->id, NULL, 0);
        break;
    default: break;
    }
    freeRelay(r);
}

static tbSignalRelay *findRelay(tbSignalHub *hub, const char *owner, uint64_t id) {
    for (tbSignalRelay *r = hub->relays; r; r = r->next)
        if (r->id == id && r->state == RELAY_REMOTE && strcmp(r->owner, owner) == 0) return r;
    return NULL;
}

/* The owner's side of a relayed connection speaks. */
static void frontOnBus(tbSignalHub *hub, const tbBusMsg *m) {
    tbSignalRelay *r = findRelay(hub, m->from, m->id);
    if (!r || !r->front->conn) return;
    tbSignalSession *front = r->front;
    char reason[124];
    switch (m->kind) {
    case TB_BUS_SIG_MSG:
        front->io->send(front->conn, m->payload, m->payload_len, m->flags & TB_BUS_TEXT);
        break;
    case TB_BUS_SIG_CLOSE:
        snprintf(reason, sizeof reason, "%.*s", (int)m->payload_len, (const char *)m->payload);
        closeFront(r, m->code ? m->code : 1000, reason);
        break;
    case TB_BUS_SIG_FORGET:
        front->io->forget(front->conn); /* the session resumed elsewhere */
        freeRelay(r);
        break;
    default: break;
    }
}

/* ---- back (at the owner) -------------------------------------------------------- */

static void backSend(void *conn, const uint8_t *data, size_t len, bool text) {
    tbBackConn *b = conn;
    if (!b->closed)
        busSend(b->hub, b->front, TB_BUS_SIG_MSG, text ? TB_BUS_TEXT : 0, 0, b->id, data, len);
}

static void backClose(void *conn, int code, const char *reason) {
    tbBackConn *b = conn;
    if (b->closed) return;
    b->closed = true; /* the session learns it is closed at the next sweep */
    busSend(b->hub, b->front, TB_BUS_SIG_CLOSE, 0, (uint16_t)code, b->id, reason,
            reason ? strlen(reason) : 0);
}

static void unlinkBack(tbBackConn *b) {
    for (tbBackConn **pp = &b->hub->backs; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
}

static void backForget(void *conn) {
    tbBackConn *b = conn;
    busSend(b->hub, b->front, TB_BUS_SIG_FORGET, 0, 0, b->id, NULL, 0);
    unlinkBack(b);
    free(b);
}

static const tbSignalIo backIo = {backSend, backClose, backForget};

static tbBackConn *findBack(tbSignalHub *hub, const char *front, uint64_t id) {
    for (tbBackConn *b = hub->backs; b; b = b->next)
        if (b->id == id && strcmp(b->front, front) == 0) return b;
    return NULL;
}

static void backOpen(tbSignalHub *hub, const tbBusMsg *m) {
    tbHttpRequest req;
    char *storage = NULL, why[384] = "bad request";
    tbSignalSession *s = NULL;
    int status = 400;
    if (tbBusDecodeRequest(m->payload, m->payload_len, &req, &storage) == 0)
        status = tbSessionAcceptHere(hub, &req, m->flags & TB_BUS_V1, &s, why, sizeof why);
    free(storage);
    tbBackConn *b = status == 0 ? calloc(1, sizeof *b) : NULL;
    if (!b) {
        if (s) tbSignalOnClosed(s, true);
        tbInfo("signal", "relayed join from node %s refused: %d %s", m->from, status, why);
        busSend(hub, m->from, TB_BUS_SIG_CLOSE, 0, 1008, m->id, why, strlen(why));
        return;
    }
    hub->api->metrics->relay_in++;
    b->hub = hub;
    b->session = s;
    b->id = m->id;
    b->since_ms = tbApiNowMs(hub->api);
    snprintf(b->front, sizeof b->front, "%s", m->from);
    b->next = hub->backs;
    hub->backs = b;
    tbSignalAttach(s, &backIo, b);
}

/* The front of a relayed connection speaks. */
static void backOnBus(tbSignalHub *hub, const tbBusMsg *m) {
    if (m->kind == TB_BUS_SIG_OPEN) {
        backOpen(hub, m);
        return;
    }
    tbBackConn *b = findBack(hub, m->from, m->id);
    if (!b || b->closed) return;
    if (m->kind == TB_BUS_SIG_MSG) {
        tbSignalOnMessage(b->session, m->payload, m->payload_len, m->flags & TB_BUS_TEXT);
    } else if (m->kind == TB_BUS_SIG_CLOSE) {
        tbSignalSession *s = b->session;
        unlinkBack(b);
        free(b);
        tbSignalOnClosed(s, m->flags & TB_BUS_CLEAN);
    }
}

void tbRelayOnBus(tbSignalHub *hub, const tbBusMsg *m) {
    if (m->flags & TO_OWNER)
        backOnBus(hub, m);
    else
        frontOnBus(hub, m);
}

/* ---- sweep ------------------------------------------------------------------------ */

/* A node absent from the view for long enough to have been in it. */
static bool deadNode(tbSignalHub *hub, const char *id, int64_t since_ms) {
    return tbApiNowMs(hub->api) - since_ms > TB_RELAY_GRACE_MS &&
           !tbPlacementNodeLive(hub->api->placement, id);
}

void tbRelaySweep(tbSignalHub *hub) {
    if (!hub->api->placement) return;
    for (tbBackConn *b = hub->backs, *next; b; b = next) {
        next = b->next;
        bool dead = deadNode(hub, b->front, b->since_ms), clean = b->closed && !dead;
        if (!b->closed && !dead) continue;
        if (dead) tbInfo("signal", "node %s is gone: its client's session waits for a resume",
                         b->front);
        tbSignalSession *s = b->session;
        unlinkBack(b);
        free(b);
        tbSignalOnClosed(s, clean);
    }
    for (tbSignalRelay *r = hub->relays; r; r = r->next)
        if (r->state == RELAY_REMOTE && deadNode(hub, r->owner, r->since_ms)) {
            tbInfo("signal", "node %s holding room %s is gone: closing its relayed client",
                   r->owner, r->room);
            closeFront(r, 1001, "the room's node is gone");
        }
}

void tbRelayFreeAll(tbSignalHub *hub) {
    while (hub->relays) freeRelay(hub->relays);
    while (hub->backs) {
        tbBackConn *b = hub->backs;
        hub->backs = b->next;
        free(b);
    }
}
