/* bus_msg.c — encoding of the messages between nodes; see bus_msg.h. */
#include "state/bus_msg.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "TBB1"
#define HEADER_LEN (4 + 1 + 1 + 2 + 8 + 1)

int tbBusEncode(const tbBusMsg *m, tbSbuf *out) {
    size_t fl = strlen(m->from);
    if (fl > TB_BUS_NODE_MAX) return -1;
    uint8_t h[HEADER_LEN];
    memcpy(h, MAGIC, 4);
    h[4] = (uint8_t)m->kind;
    h[5] = m->flags;
    h[6] = (uint8_t)(m->code >> 8);
    h[7] = (uint8_t)m->code;
    for (int i = 0; i < 8; i++) h[8 + i] = (uint8_t)(m->id >> (56 - 8 * i));
    h[16] = (uint8_t)fl;
    if (!tbSbufAppend(out, h, sizeof h) || !tbSbufAppend(out, m->from, fl)) return -1;
    if (m->payload_len && !tbSbufAppend(out, m->payload, m->payload_len)) return -1;
    return 0;
}

int tbBusDecode(const uint8_t *buf, size_t len, tbBusMsg *m) {
    memset(m, 0, sizeof *m);
    if (len < HEADER_LEN || memcmp(buf, MAGIC, 4) != 0) return -1;
    size_t fl = buf[16];
    if (fl > TB_BUS_NODE_MAX || len < HEADER_LEN + fl) return -1;
    if (buf[4] < TB_BUS_SIG_OPEN || buf[4] > TB_BUS_TWIRP_RESP) return -1;
    m->kind = (tbBusKind)buf[4];
    m->flags = buf[5];
    m->code = (uint16_t)(buf[6] << 8 | buf[7]);
    for (int i = 0; i < 8; i++) m->id = m->id << 8 | buf[8 + i];
    memcpy(m->from, buf + HEADER_LEN, fl);
    m->from[fl] = '\0';
    if (memchr(m->from, '\0', fl)) return -1;
    m->payload = buf + HEADER_LEN + fl;
    m->payload_len = len - HEADER_LEN - fl;
    return 0;
}

/* ---- requests ------------------------------------------------------------ */

static bool putStr(tbSbuf *out, const char *s) {
    return tbSbufAppend(out, s ? s : "", strlen(s ? s : "") + 1);
}

int tbBusEncodeRequest(const tbHttpRequest *req, tbSbuf *out) {
    uint8_t head[2] = {(uint8_t)req->method, (uint8_t)req->num_args};
    bool ok = tbSbufAppend(out, head, 2) && putStr(out, req->path) &&
              putStr(out, req->authorization) && putStr(out, req->content_type) &&
              putStr(out, req->host) && putStr(out, req->forwarded_proto);
    for (size_t i = 0; ok && i < req->num_args; i++)
        ok = putStr(out, req->args[i].name) && putStr(out, req->args[i].value);
    if (ok && req->body_len) ok = tbSbufAppend(out, req->body, req->body_len);
    return ok ? 0 : -1;
}

/* The next NUL-terminated string at *p, or NULL past end. */
static const char *takeStr(char **p, char *end) {
    char *nul = memchr(*p, '\0', (size_t)(end - *p));
    if (nul == NULL) return NULL;
    const char *s = *p;
    *p = nul + 1;
    return s;
}

static const char *orNull(const char *s) { return s && *s ? s : NULL; }

int tbBusDecodeRequest(const uint8_t *payload, size_t len, tbHttpRequest *req, char **storage) {
    memset(req, 0, sizeof *req);
    *storage = NULL;
    if (len < 2 || payload[1] > TB_HTTP_MAX_ARGS || payload[0] > TB_HTTP_OPTIONS) return -1;
    char *copy = malloc(len);
    if (!copy) return -1;
    memcpy(copy, payload, len);
    char *p = copy + 2, *end = copy + len;
    const char *f[5];
    for (int i = 0; i < 5; i++)
        if (!(f[i] = takeStr(&p, end))) goto err;
    req->method = (tbHttpMethod)payload[0];
    req->path = f[0];
    req->authorization = orNull(f[1]);
    req->content_type = orNull(f[2]);
    req->host = orNull(f[3]);
    req->forwarded_proto = orNull(f[4]);
    for (size_t i = 0; i < payload[1]; i++) {
        req->args[i].name = takeStr(&p, end);
        req->args[i].value = req->args[i].name ? takeStr(&p, end) : NULL;
        if (!req->args[i].value) goto err;
        req->num_args++;
    }
    req->body = (const uint8_t *)p;
    req->body_len = (size_t)(end - p);
    *storage = copy;
    return 0;
err:
    free(copy);
    memset(req, 0, sizeof *req);
    return -1;
}

/* ---- responses ----------------------------------------------------------- */

int tbBusEncodeResponse(const tbHttpResponse *resp, tbSbuf *out) {
    bool ok = putStr(out, resp->content_type);
    if (ok && resp->body.len) ok = tbSbufAppend(out, tbSbufData(&resp->body), resp->body.len);
    return ok ? 0 : -1;
}

int tbBusDecodeResponse(uint16_t status, const uint8_t *payload, size_t len,
                        tbHttpResponse *resp) {
    const uint8_t *nul = memchr(payload, '\0', len);
    if (!nul || status < 100 || status > 599 ||
        (size_t)(nul - payload) >= sizeof resp->content_type)
        return -1;
    resp->status = status;
    memcpy(resp->content_type, payload, (size_t)(nul - payload) + 1);
    resp->body.len = 0;
    size_t blen = len - (size_t)(nul - payload) - 1;
    return blen && !tbSbufAppend(&resp->body, nul + 1, blen) ? -1 : 0;
}
