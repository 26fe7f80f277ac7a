/* sbuf.c — see sbuf.h. */
#include "util/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tbSbufInit(tbSbuf *b, size_t headroom) {
    memset(b, 0, sizeof *b);
    b->headroom = headroom;
}

void tbSbufFree(tbSbuf *b) {
    free(b->mem);
    memset(b, 0, sizeof *b);
}

uint8_t *tbSbufData(const tbSbuf *b) { return b->mem ? b->mem + b->headroom : NULL; }

static bool sbufReserve(tbSbuf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    uint8_t *m = realloc(b->mem, b->headroom + cap);
    if (!m) {
        b->oom = true;
        return false;
    }
    b->mem = m;
    b->cap = cap;
    return true;
}

bool tbSbufAppend(tbSbuf *b, const void *data, size_t len) {
    if (!sbufReserve(b, len)) return false;
    memcpy(tbSbufData(b) + b->len, data, len);
    b->len += len;
    tbSbufData(b)[b->len] = '\0';
    return true;
}

bool tbSbufPrintf(tbSbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sbufReserve(b, (size_t)n)) return false;
    va_start(ap, fmt);
    vsnprintf((char *)tbSbufData(b) + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}
