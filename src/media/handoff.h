/* handoff.h — a single-producer single-consumer ring that carries datagrams
 * from one media worker to another. Every worker binds the shared UDP port
 * with SO_REUSEPORT and the kernel spreads client flows over the workers by
 * hash, while each room (and its transports) belongs to one worker: a
 * datagram that lands on the wrong worker is copied into the ring towards its
 * owner. The same ring carries ICE-TCP frames that an owner wants sent on a
 * connection held by worker 0. Lock-free (C11 atomics); slots are fixed, so
 * nothing is allocated per packet; a full ring drops (and counts). */
#ifndef TB_MEDIA_HANDOFF_H
#define TB_MEDIA_HANDOFF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice/ice_lite.h"

#define TB_HANDOFF_SLOTS 512        /* power of two */
#define TB_HANDOFF_MTU 1500

typedef enum tbHandoffKind {
    TB_HANDOFF_RECV = 0,            /* received from `peer`: route it */
    TB_HANDOFF_TCP_SEND = 1,        /* send on the ICE-TCP connection to `peer` */
} tbHandoffKind;

typedef struct tbHandoffSlot {
    tbHandoffKind kind;
    tbIceTuple peer;
    uint16_t len;
    uint8_t data[TB_HANDOFF_MTU];
} tbHandoffSlot;

typedef struct tbHandoffRing {
    _Atomic uint32_t head;          /* next slot to write (producer) */
    _Atomic uint32_t tail;          /* next slot to read (consumer) */
    uint64_t dropped;               /* pushes refused: ring full (producer's count) */
    tbHandoffSlot slots[TB_HANDOFF_SLOTS];
} tbHandoffRing;

void tbHandoffInit(tbHandoffRing *r);
/* Producer side. False (and counted) when the ring is full or len too big. */
bool tbHandoffPush(tbHandoffRing *r, tbHandoffKind kind, const tbIceTuple *peer,
                   const uint8_t *data, size_t len);
/* Consumer side: the oldest slot, or NULL; release it with tbHandoffPop. */
tbHandoffSlot *tbHandoffPeek(tbHandoffRing *r);
void tbHandoffPop(tbHandoffRing *r);

#endif
