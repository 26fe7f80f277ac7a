/* dcep.c — DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK (RFC 8832); see dcep.h. */
#include "data/dcep.h"

#include <string.h>

#define OPEN_HEADER 12

static bool knownType(uint8_t t) {
    uint8_t base = t & (uint8_t)~TB_DCEP_UNORDERED;
    return base == TB_DCEP_RELIABLE || base == TB_DCEP_REXMIT || base == TB_DCEP_TIMED;
}

int tbDcepParseOpen(const uint8_t *buf, size_t len, tbDcepOpen *out) {
    if (buf == NULL || out == NULL || len < OPEN_HEADER || buf[0] != TB_DCEP_OPEN) return -1;
    size_t llen = (size_t)(buf[8] << 8 | buf[9]), plen = (size_t)(buf[10] << 8 | buf[11]);
    if (!knownType(buf[1]) || OPEN_HEADER + llen + plen > len || llen >= TB_DCEP_LABEL_MAX ||
        plen >= TB_DCEP_LABEL_MAX)
        return -1;
    out->channel_type = buf[1];
    out->priority = (uint16_t)(buf[2] << 8 | buf[3]);
    out->reliability = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 |
                       buf[7];
    memcpy(out->label, buf + OPEN_HEADER, llen);
    out->label[llen] = '\0';
    memcpy(out->protocol, buf + OPEN_HEADER + llen, plen);
    out->protocol[plen] = '\0';
    return 0;
}

size_t tbDcepBuildOpen(const tbDcepOpen *o, uint8_t *buf, size_t cap) {
    size_t llen = strnlen(o->label, TB_DCEP_LABEL_MAX);
    size_t plen = strnlen(o->protocol, TB_DCEP_LABEL_MAX);
    if (llen >= TB_DCEP_LABEL_MAX || plen >= TB_DCEP_LABEL_MAX || !knownType(o->channel_type) ||
        OPEN_HEADER + llen + plen > cap)
        return 0;
    buf[0] = TB_DCEP_OPEN;
    buf[1] = o->channel_type;
    buf[2] = (uint8_t)(o->priority >> 8);
    buf[3] = (uint8_t)o->priority;
    buf[4] = (uint8_t)(o->reliability >> 24);
    buf[5] = (uint8_t)(o->reliability >> 16);
    buf[6] = (uint8_t)(o->reliability >> 8);
    buf[7] = (uint8_t)o->reliability;
    buf[8] = (uint8_t)(llen >> 8);
    buf[9] = (uint8_t)llen;
    buf[10] = (uint8_t)(plen >> 8);
    buf[11] = (uint8_t)plen;
    memcpy(buf + OPEN_HEADER, o->label, llen);
    memcpy(buf + OPEN_HEADER + llen, o->protocol, plen);
    return OPEN_HEADER + llen + plen;
}

bool tbDcepIsAck(const uint8_t *buf, size_t len) {
    return buf != NULL && len >= 1 && buf[0] == TB_DCEP_ACK;
}

bool tbDcepOrdered(uint8_t channel_type) { return (channel_type & TB_DCEP_UNORDERED) == 0; }
