/* sbuf.h — a growable byte buffer for building response bodies (Prometheus
 * text, JSON) with printf-style appends. Reserves `headroom` bytes in front
 * of the data so the HTTP layer can hand it to lws_write() (LWS_PRE). */
#ifndef TB_SBUF_H
#define TB_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tbSbuf {
    uint8_t *mem;       /* allocation: headroom + cap */
    size_t headroom;
    size_t len;         /* bytes of data */
    size_t cap;         /* capacity for data (excl. headroom) */
    bool oom;           /* an append failed; contents are truncated */
} tbSbuf;

void tbSbufInit(tbSbuf *b, size_t headroom);
void tbSbufFree(tbSbuf *b);
uint8_t *tbSbufData(const tbSbuf *b);
bool tbSbufAppend(tbSbuf *b, const void *data, size_t len);
bool tbSbufPrintf(tbSbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
