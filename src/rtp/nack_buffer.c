/* nack_buffer.c — fixed-size retransmission history of one outgoing stream;
 * hand-written, see nack_buffer.h for the layout and the memory budget. */
#include "rtp/nack_buffer.h"

#include <string.h>

_Static_assert((TB_NACK_SLOTS & (TB_NACK_SLOTS - 1)) == 0, "TB_NACK_SLOTS: power of two");
/* The ring position wraps at 2^32, so the arena size must divide it. */
_Static_assert((TB_NACK_ARENA & (TB_NACK_ARENA - 1)) == 0, "TB_NACK_ARENA: power of two");
_Static_assert(TB_NACK_MAX_PACKET <= TB_NACK_ARENA, "a packet must fit the arena");

void tbNackBufferInit(tbNackBuffer *nb, uint32_t min_interval_ms, uint8_t max_resends) {
    memset(nb->slots, 0, sizeof nb->slots);
    nb->head = 0;
    nb->min_interval_ms = min_interval_ms;
    nb->max_resends = max_resends;
}

bool tbNackBufferPut(tbNackBuffer *nb, uint16_t seq, const uint8_t *pkt, size_t len,
                     uint64_t now_ms) {
    if (len == 0 || len > TB_NACK_MAX_PACKET)
        return false;
    uint32_t off = nb->head % TB_NACK_ARENA;
    if (off + len > TB_NACK_ARENA) { /* no room before the end: skip the tail */
        nb->head += TB_NACK_ARENA - off;
        off = 0;
    }
    memcpy(nb->arena + off, pkt, len);
    tbNackSlot *s = &nb->slots[seq % TB_NACK_SLOTS];
    s->pos = nb->head;
    s->seq = seq;
    s->len = (uint16_t)len;
    s->sent_ms = (uint32_t)now_ms;
    s->resends = 0;
    nb->head += (uint32_t)len;
    return true;
}

tbNackResult tbNackBufferGet(tbNackBuffer *nb, uint16_t seq, uint64_t now_ms,
                             const uint8_t **data, size_t *len) {
    tbNackSlot *s = &nb->slots[seq % TB_NACK_SLOTS];
    if (s->len == 0 || s->seq != seq)
        return TB_NACK_MISSING;
    if (nb->head - s->pos > TB_NACK_ARENA) /* the ring wrapped over it */
        return TB_NACK_MISSING;
    if (s->resends >= nb->max_resends)
        return TB_NACK_THROTTLED;
    if (s->resends > 0 && (uint32_t)now_ms - s->sent_ms < nb->min_interval_ms)
        return TB_NACK_THROTTLED;
    s->resends++;
    s->sent_ms = (uint32_t)now_ms;
    *data = nb->arena + s->pos % TB_NACK_ARENA;
    *len = s->len;
    return TB_NACK_OK;
}

tbNackResult tbNackBufferPeek(const tbNackBuffer *nb, uint16_t seq, const uint8_t **data,
                              size_t *len) {
    const tbNackSlot *s = &nb->slots[seq % TB_NACK_SLOTS];
    if (s->len == 0 || s->seq != seq || nb->head - s->pos > TB_NACK_ARENA)
        return TB_NACK_MISSING;
    *data = nb->arena + s->pos % TB_NACK_ARENA;
    *len = s->len;
    return TB_NACK_OK;
}

void tbNackMapInit(tbNackMap *m, uint32_t min_interval_ms, uint8_t max_resends) {
    memset(m, 0, sizeof *m);
    m->min_interval_ms = min_interval_ms;
    m->max_resends = max_resends;
}

void tbNackMapPut(tbNackMap *m, uint16_t out_seq, uint16_t in_seq, uint32_t out_ts,
                  bool marker, uint64_t now_ms) {
    m->slots[out_seq % TB_NACK_SLOTS] = (tbNackSent){.out_ts = out_ts,
                                                     .sent_ms = (uint32_t)now_ms,
                                                     .out_seq = out_seq,
                                                     .in_seq = in_seq,
                                                     .marker = marker,
                                                     .used = true};
}

tbNackResult tbNackMapGet(tbNackMap *m, uint16_t out_seq, uint64_t now_ms, tbNackSent *out) {
    tbNackSent *s = &m->slots[out_seq % TB_NACK_SLOTS];
    if (!s->used || s->out_seq != out_seq)
        return TB_NACK_MISSING;
    if (s->resends >= m->max_resends)
        return TB_NACK_THROTTLED;
    if (s->resends > 0 && (uint32_t)now_ms - s->sent_ms < m->min_interval_ms)
        return TB_NACK_THROTTLED;
    s->resends++;
    s->sent_ms = (uint32_t)now_ms;
    *out = *s;
    return TB_NACK_OK;
}
