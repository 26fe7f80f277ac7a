/* turn_stream.c — TURN over TCP/TLS listeners and connections; see
 * turn_stream.h. Hand-written: the message splitter (STUN length field,
 * ChannelData padding) and the glue between libuv streams and OpenSSL
 * memory BIOs; TLS itself is OpenSSL. */
#include "turn/turn_stream.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/stream_out.h"

#define STREAM_MAX_MSG 8192              /* longer messages close the stream */
#define STREAM_IN_CAP (2 * STREAM_MAX_MSG)
#define STREAM_OUT_CAP (64 * 1024)       /* unsent bytes kept per connection */
#define STREAM_MAX_CONNS 4096
#define STREAM_MAX_LISTENERS 2
#define STREAM_BUCKETS 1024

typedef struct turnConn {
    uv_tcp_t handle;
    tbTurnStreams *owner;
    tbTurnTuple tuple;           /* client and our address, proto TCP */
    SSL *ssl;                    /* NULL for plain TCP */
    BIO *rbio, *wbio;            /* ciphertext in / out (owned by ssl) */
    bool linked;                 /* in a hash bucket (tuple known) */
    size_t inlen;                /* plaintext bytes buffered in in */
    tbStreamOut out;             /* bytes (ciphertext for TLS) waiting */
    struct turnConn *next;       /* hash chain */
    uint8_t in[STREAM_IN_CAP];
    uint8_t outbuf[STREAM_OUT_CAP];
} turnConn;

typedef struct turnListener {
    uv_tcp_t handle;
    tbTurnStreams *owner;
    SSL_CTX *tls;
} turnListener;

struct tbTurnStreams {
    uv_loop_t *loop;
    tbTurnStreamCallbacks cb;
    turnListener listeners[STREAM_MAX_LISTENERS];
    size_t nlisteners;
    turnConn *buckets[STREAM_BUCKETS]; /* by client address */
    size_t open_handles;               /* listeners + connections not yet closed */
    bool closing;
    tbTurnStreamStats stats;
    uint8_t scratch[16384];            /* ciphertext read by libuv for TLS conns */
};

/* ---- lookup by client address ------------------------------------------- */

static size_t addrBytes(const struct sockaddr_storage *ss, const uint8_t **p) {
    if (ss->ss_family == AF_INET) {
        *p = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
        return 4;
    }
    *p = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    return 16;
}

static uint16_t addrPort(const struct sockaddr_storage *ss) {
    return ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                    : ((const struct sockaddr_in6 *)ss)->sin6_port;
}

static bool sameClient(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    const uint8_t *pa, *pb;
    if (a->ss_family != b->ss_family || addrPort(a) != addrPort(b)) return false;
    size_t n = addrBytes(a, &pa);
    addrBytes(b, &pb);
    return memcmp(pa, pb, n) == 0;
}

static turnConn **bucket(tbTurnStreams *s, const struct sockaddr_storage *client) {
    const uint8_t *p;
    size_t n = addrBytes(client, &p);
    uint32_t h = 2166136261u ^ addrPort(client);
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return &s->buckets[h & (STREAM_BUCKETS - 1)];
}

static void unlink_(turnConn *c) {
    if (!c->linked) return;
    for (turnConn **pp = bucket(c->owner, &c->tuple.client); *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    c->linked = false;
}

/* ---- closing -------------------------------------------------------------- */

static void handleClosed(tbTurnStreams *s) {
    if (--s->open_handles == 0 && s->closing) free(s);
}

static void onConnClosed(uv_handle_t *h) {
    turnConn *c = h->data;
    tbTurnStreams *s = c->owner;
    if (c->ssl) SSL_free(c->ssl);
    free(c);
    handleClosed(s);
}

static void closeConn(turnConn *c) {
    if (uv_is_closing((uv_handle_t *)&c->handle)) return;
    tbTurnStreams *s = c->owner;
    if (c->linked) {
        unlink_(c);
        s->stats.connections--;
        if (!s->closing && s->cb.on_close) s->cb.on_close(s->cb.ud, &c->tuple);
    }
    uv_close((uv_handle_t *)&c->handle, onConnClosed);
}

/* ---- output ---------------------------------------------------------------- */

static void outError(void *ud) { closeConn(ud); }

/* Moves the TLS records OpenSSL produced into out. False if they do not fit
 * (the connection is then unusable: records cannot be dropped). */
static bool drainTls(turnConn *c) {
    for (;;) {
        int pending = (int)BIO_ctrl_pending(c->wbio);
        if (pending <= 0) return true;
        if ((size_t)pending > tbStreamOutRoom(&c->out)) return false;
        int n = BIO_read(c->wbio, tbStreamOutTail(&c->out), pending);
        if (n <= 0) return true;
        tbStreamOutCommit(&c->out, (size_t)n);
    }
}

bool tbTurnStreamsSend(tbTurnStreams *s, const tbTurnTuple *t, const uint8_t *msg, size_t len) {
    turnConn *c = *bucket(s, &t->client);
    while (c && !sameClient(&c->tuple.client, &t->client)) c = c->next;
    if (c == NULL) return false;
    /* TLS adds a record header and tag (< 64 bytes for one record) */
    size_t need = len + (c->ssl ? 64 : 0);
    if (need > tbStreamOutRoom(&c->out) || (c->ssl && !SSL_is_init_finished(c->ssl))) {
        s->stats.out_dropped++;
        return false;
    }
    if (c->ssl == NULL) {
        memcpy(tbStreamOutTail(&c->out), msg, len);
        tbStreamOutCommit(&c->out, len);
    } else if (SSL_write(c->ssl, msg, (int)len) <= 0 || !drainTls(c)) {
        s->stats.tls_failures++;
        closeConn(c);
        return false;
    }
    tbStreamOutFlush(&c->out);
    return true;
}

/* ---- input ------------------------------------------------------------------ */

/* Length of the message at the head of buf: 0 = need more bytes, -1 = the
 * stream is not TURN (or the message is longer than STREAM_MAX_MSG: media
 * packets are far smaller). */
static long messageLen(const uint8_t *buf, size_t len) {
    if (len < 4) return 0;
    size_t n;
    if ((buf[0] & 0xC0) == 0x40)
        n = (4 + (size_t)(buf[2] << 8 | buf[3]) + 3) & ~(size_t)3; /* padded over TCP */
    else if ((buf[0] & 0xC0) == 0 && (buf[3] & 3) == 0)
        n = 20 + (size_t)(buf[2] << 8 | buf[3]);
    else
        return -1;
    if (n > STREAM_MAX_MSG) return -1;
    return len < n ? 0 : (long)n;
}

/* Hands every complete message in c->in to the engine. */
static void deliver(turnConn *c) {
    tbTurnStreams *s = c->owner;
    size_t off = 0;
    for (;;) {
        long n = messageLen(c->in + off, c->inlen - off);
        if (n < 0) {
            s->stats.bad_framing++;
            closeConn(c);
            return;
        }
        if (n == 0) break;
        s->cb.input(s->cb.ud, &c->tuple, c->in + off, (size_t)n);
        if (uv_is_closing((uv_handle_t *)&c->handle)) return;
        off += (size_t)n;
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
}

/* Ciphertext arrived: decrypt what OpenSSL can, then deliver. */
static void readTls(turnConn *c, const uint8_t *data, size_t len) {
    tbTurnStreams *s = c->owner;
    if (BIO_write(c->rbio, data, (int)len) != (int)len) goto fail;
    for (;;) {
        if (c->inlen == STREAM_IN_CAP) goto fail; /* cannot happen: deliver drains */
        int n = SSL_read(c->ssl, c->in + c->inlen, (int)(STREAM_IN_CAP - c->inlen));
        if (n > 0) {
            c->inlen += (size_t)n;
            deliver(c);
            if (uv_is_closing((uv_handle_t *)&c->handle)) return;
            continue;
        }
        int err = SSL_get_error(c->ssl, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) goto fail;
        break;
    }
    if (!drainTls(c)) goto fail;
    tbStreamOutFlush(&c->out);
    return;
fail:
    ERR_clear_error();
    s->stats.tls_failures++;
    closeConn(c);
}

static void onAlloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    turnConn *c = h->data;
    if (c->ssl)
        *buf = uv_buf_init((char *)c->owner->scratch, sizeof c->owner->scratch);
    else
        *buf = uv_buf_init((char *)c->in + c->inlen, (unsigned)(STREAM_IN_CAP - c->inlen));
}

static void onRead(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    turnConn *c = st->data;
    if (n < 0) {
        closeConn(c);
        return;
    }
    if (n == 0) return;
    if (c->ssl) {
        readTls(c, (const uint8_t *)buf->base, (size_t)n);
        return;
    }
    c->inlen += (size_t)n;
    deliver(c);
}

/* ---- accepting ----------------------------------------------------------------- */

static void unmapAddr(struct sockaddr_storage *ss) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) return;
    struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = s6->sin6_port};
    memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &s4, sizeof s4);
}

static bool setupConn(turnConn *c, turnListener *l) {
    int n = sizeof c->tuple.client;
    if (uv_tcp_getpeername(&c->handle, (struct sockaddr *)&c->tuple.client, &n) != 0) return false;
    n = sizeof c->tuple.server;
    if (uv_tcp_getsockname(&c->handle, (struct sockaddr *)&c->tuple.server, &n) != 0) return false;
    unmapAddr(&c->tuple.client);
    unmapAddr(&c->tuple.server);
    c->tuple.proto = IPPROTO_TCP;
    tbStreamOutInit(&c->out, (uv_stream_t *)&c->handle, c->outbuf, sizeof c->outbuf, outError, c);
    if (l->tls) {
        c->ssl = SSL_new(l->tls);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
            BIO_free(c->rbio);
            BIO_free(c->wbio);
            return false;
        }
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
    }
    return true;
}

static void onConnection(uv_stream_t *server, int status) {
    turnListener *l = server->data;
    tbTurnStreams *s = l->owner;
    if (status < 0 || s->closing) return;
    turnConn *c = calloc(1, sizeof *c);
    if (c == NULL) return;
    c->owner = s;
    uv_tcp_init(s->loop, &c->handle);
    c->handle.data = c;
    s->open_handles++;
    if (uv_accept(server, (uv_stream_t *)&c->handle) != 0) {
        closeConn(c);
        return;
    }
    if (s->stats.connections >= STREAM_MAX_CONNS || !setupConn(c, l)) {
        s->stats.refused++;
        closeConn(c);
        return;
    }
    turnConn **b = bucket(s, &c->tuple.client);
    c->next = *b;
    *b = c;
    c->linked = true;
    s->stats.connections++;
    s->stats.accepted++;
    uv_tcp_nodelay(&c->handle, 1);
    uv_read_start((uv_stream_t *)&c->handle, onAlloc, onRead);
}

/* ---- the module ------------------------------------------------------------------ */

tbTurnStreams *tbTurnStreamsNew(uv_loop_t *loop, const tbTurnStreamCallbacks *cb) {
    tbTurnStreams *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->loop = loop;
    s->cb = *cb;
    return s;
}

static void onListenerClosed(uv_handle_t *h) {
    turnListener *l = h->data;
    handleClosed(l->owner);
}

/* True when the host can open IPv6 sockets (else listeners use 0.0.0.0). */
static bool haveIpv6(void) {
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    close(fd);
    return true;
}

int tbTurnStreamsListen(tbTurnStreams *s, int port, SSL_CTX *tls) {
    if (s->nlisteners == STREAM_MAX_LISTENERS) return UV_EINVAL;
    turnListener *l = &s->listeners[s->nlisteners++];
    struct sockaddr_storage ss;
    l->owner = s;
    l->tls = tls;
    uv_tcp_init(s->loop, &l->handle);
    l->handle.data = l;
    s->open_handles++;
    if (haveIpv6())
        uv_ip6_addr("::", port, (struct sockaddr_in6 *)&ss); /* dual-stack */
    else
        uv_ip4_addr("0.0.0.0", port, (struct sockaddr_in *)&ss);
    int rc = uv_tcp_bind(&l->handle, (struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&l->handle, 256, onConnection);
    if (rc != 0)
        tbError("turn", "cannot listen on TCP port %d%s: %s", port, tls ? " (TLS)" : "",
                uv_strerror(rc));
    return rc;
}

void tbTurnStreamsClose(tbTurnStreams *s) {
    if (s == NULL) return;
    s->closing = true;
    for (size_t i = 0; i < s->nlisteners; i++)
        uv_close((uv_handle_t *)&s->listeners[i].handle, onListenerClosed);
    for (size_t b = 0; b < STREAM_BUCKETS; b++)
        while (s->buckets[b]) closeConn(s->buckets[b]); /* unlinks it */
    if (s->open_handles == 0) free(s);
}

void tbTurnStreamsGetStats(const tbTurnStreams *s, tbTurnStreamStats *out) {
    if (s == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = s->stats;
}

SSL_CTX *tbTurnTlsContextNew(const char *cert_file, const char *key_file) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        unsigned long e = ERR_get_error();
        tbError("turn", "TLS certificate %s / key %s: %s", cert_file, key_file,
                e ? ERR_reason_error_string(e) : "unusable");
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
