/* handoff.c — the worker-to-worker SPSC ring; see handoff.h. */
#include "media/handoff.h"

#include <string.h>

void tbHandoffInit(tbHandoffRing *r) {
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
    r->dropped = 0;
}

bool tbHandoffPush(tbHandoffRing *r, tbHandoffKind kind, const tbIceTuple *peer,
                   const uint8_t *data, size_t len) {
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail >= TB_HANDOFF_SLOTS || len > TB_HANDOFF_MTU) {
        r->dropped++;
        return false;
    }
    tbHandoffSlot *s = &r->slots[head & (TB_HANDOFF_SLOTS - 1)];
    s->kind = kind;
    s->peer = *peer;
    s->len = (uint16_t)len;
    memcpy(s->data, data, len);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return true;
}

tbHandoffSlot *tbHandoffPeek(tbHandoffRing *r) {
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    return tail == head ? NULL : &r->slots[tail & (TB_HANDOFF_SLOTS - 1)];
}

void tbHandoffPop(tbHandoffRing *r) {
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}
