/* bus_msg.h — the messages nodes send each other over Redis pub/sub (each
 * node listens on `tribune:node_bus:<node id>`, node_bus.h): signaling
 * relayed for a client connected to another node than its room's, and
 * RoomService calls forwarded to the node that holds the room.
 *
 * Wire format (big-endian), written here because it is eight fields:
 *   "TBB1" | kind u8 | flags u8 | code u16 | id u64 | from_len u8 | from |
 *   payload (the rest)
 * `from` is the sender's node id (replies go to its channel); `id` names
 * the relayed connection or the forwarded call on the sender's side.
 * Pure: no I/O, no allocation but where a function says so. */
#ifndef TB_STATE_BUS_MSG_H
#define TB_STATE_BUS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "util/sbuf.h"

typedef enum tbBusKind {
    TB_BUS_SIG_OPEN = 1,    /* front → owner: a client's signaling request (payload: request) */
    TB_BUS_SIG_MSG = 2,     /* either way: one WebSocket frame (flags: TB_BUS_TEXT) */
    TB_BUS_SIG_CLOSE = 3,   /* either way: the connection ends (code, payload: reason;
                             * flags: TB_BUS_CLEAN when the client meant to leave) */
    TB_BUS_SIG_FORGET = 4,  /* owner → front: the session resumed elsewhere; close */
    TB_BUS_TWIRP_REQ = 5,   /* a RoomService call (payload: request) */
    TB_BUS_TWIRP_RESP = 6,  /* its answer (code: HTTP status, payload: response) */
} tbBusKind;

#define TB_BUS_TEXT 0x01    /* SIG_MSG: a text (JSON) frame */
#define TB_BUS_CLEAN 0x02   /* SIG_CLOSE: a close frame from the client */
#define TB_BUS_V1 0x04      /* SIG_OPEN: /rtc/v1 (else /rtc) */

#define TB_BUS_NODE_MAX 63

typedef struct tbBusMsg {
    tbBusKind kind;
    uint8_t flags;
    uint16_t code;
    uint64_t id;
    char from[TB_BUS_NODE_MAX + 1];
    const uint8_t *payload; /* borrowed from the buffer decoded */
    size_t payload_len;
} tbBusMsg;

/* Appends m (with its payload) to out. 0, or -1 when from is too long. */
int tbBusEncode(const tbBusMsg *m, tbSbuf *out);
/* Parses buf into m (payload points into buf). 0, or -1 when malformed. */
int tbBusDecode(const uint8_t *buf, size_t len, tbBusMsg *m);

/* The parts of an HTTP request a forwarded call or a relayed join needs:
 * path, Authorization, Content-Type, Host, the query arguments and the
 * body, as NUL-separated strings and a length-prefixed body. */
int tbBusEncodeRequest(const tbHttpRequest *req, tbSbuf *out);
/* Fills req from payload; the strings point into *storage, a malloc'ed
 * copy the caller frees. -1 when malformed. */
int tbBusDecodeRequest(const uint8_t *payload, size_t len, tbHttpRequest *req, char **storage);

/* An HTTP response: status in the message's code; payload = content type,
 * NUL, body. */
int tbBusEncodeResponse(const tbHttpResponse *resp, tbSbuf *out);
/* Fills resp (initialised by the caller) from status and payload. */
int tbBusDecodeResponse(uint16_t status, const uint8_t *payload, size_t len,
                        tbHttpResponse *resp);

#endif
