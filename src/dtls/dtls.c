/* dtls.c — DTLS 1.2 state machine for one WebRTC transport over OpenSSL,
 * with memory-only I/O: a custom BIO hands OpenSSL the datagram being fed
 * and turns every BIO write into one outbound datagram (OpenSSL buffers a
 * handshake flight and flushes it in MTU-sized chunks, so each write is
 * already a whole datagram). Peer certificates are accepted when their
 * digest matches the SDP fingerprint; SRTP keys are exported per RFC 5764
 * §4.2. See dtls.h. */
#include "dtls/dtls.h"

#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DTLS_RECORD_HEADER 13          /* type, version, epoch+seq (8), length */
#define DTLS_EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
#define DTLS_RTX_LIMIT_MS 60000        /* longest retransmission timeout (OpenSSL's) */

struct tbDtlsCtx {
    SSL_CTX *ssl_ctx;                  /* shared, read-only after tbDtlsCtxNew */
    BIO_METHOD *bio_method;            /* our datagram BIO */
};

struct tbDtls {
    SSL *ssl;
    tbDtlsConfig cfg;                  /* callbacks and limits; strings cleared */
    tbDtlsState state;
    tbDtlsFingerprint remote_fp;       /* expected peer certificate digest */
    const uint8_t *in;                 /* datagram being fed, NULL once read */
    size_t in_len;
    bool deadline_set;                 /* handshake deadline armed */
    uint64_t deadline_ms;
    tbSrtpKeys keys;                   /* valid in CONNECTED */
    tbDtlsStats stats;
    char reason[160];                  /* why FAILED */
};

/* ---- state --------------------------------------------------------------- */

const char *tbDtlsStateName(tbDtlsState st) {
    static const char *const names[] = {"new", "connecting", "connected", "failed", "closed"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

static void dtlsSetState(tbDtls *d, tbDtlsState st) {
    if (d->state == st)
        return;
    d->state = st;
    if (d->cfg.on_state != NULL)
        d->cfg.on_state(d->cfg.ud, st);
}

/* Records why (our text, else OpenSSL's last error) and moves to FAILED. */
static int dtlsFail(tbDtls *d, const char *why) {
    if (d->reason[0] == '\0') {
        unsigned long e = ERR_peek_last_error();
        if (why != NULL)
            snprintf(d->reason, sizeof(d->reason), "%s", why);
        else if (e != 0)
            ERR_error_string_n(e, d->reason, sizeof(d->reason));
        else
            snprintf(d->reason, sizeof(d->reason), "DTLS handshake failed");
    }
    ERR_clear_error();
    OPENSSL_cleanse(&d->keys, sizeof(d->keys));
    dtlsSetState(d, TB_DTLS_FAILED);
    return TB_DTLS_ERR_FATAL;
}

/* Sends what OpenSSL may still hold in its flight buffer. */
static void dtlsFlush(tbDtls *d) {
    BIO *w = SSL_get_wbio(d->ssl);
    if (w != NULL)
        (void)BIO_flush(w);
}

/* ---- the datagram BIO ---------------------------------------------------- */

static int dtlsBioWrite(BIO *b, const char *buf, int len) {
    tbDtls *d = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    d->stats.tx_datagrams++;
    d->cfg.send(d->cfg.ud, (const uint8_t *)buf, (size_t)len);
    return len;
}

/* Hands over the whole pending datagram once (datagram semantics). */
static int dtlsBioRead(BIO *b, char *buf, int len) {
    tbDtls *d = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (d->in == NULL) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = d->in_len < (size_t)len ? d->in_len : (size_t)len;
    memcpy(buf, d->in, n);
    d->in = NULL;
    d->in_len = 0;
    return (int)n;
}

static long dtlsBioCtrl(BIO *b, int cmd, long num, void *ptr) {
    tbDtls *d = BIO_get_data(b);
    (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return d != NULL && d->in != NULL ? (long)d->in_len : 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return d != NULL ? (long)d->cfg.mtu : TB_DTLS_DEFAULT_MTU;
    default:
        return 0;                      /* WPENDING, MTU overhead, peer, timeouts */
    }
}

static int dtlsBioCreate(BIO *b) {
    BIO_set_init(b, 1);
    return 1;
}

static int dtlsBioDestroy(BIO *b) {
    BIO_set_data(b, NULL);
    return 1;
}

static BIO_METHOD *dtlsBioMethodNew(void) {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tribune-dtls");
    if (m == NULL)
        return NULL;
    if (BIO_meth_set_write(m, dtlsBioWrite) != 1 || BIO_meth_set_read(m, dtlsBioRead) != 1 ||
        BIO_meth_set_ctrl(m, dtlsBioCtrl) != 1 || BIO_meth_set_create(m, dtlsBioCreate) != 1 ||
        BIO_meth_set_destroy(m, dtlsBioDestroy) != 1) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* ---- OpenSSL callbacks --------------------------------------------------- */

/* Self-signed certificates are the norm: the only check is that the leaf's
 * digest matches the a=fingerprint from the peer's SDP. */
static int dtlsVerifyCb(int preverify_ok, X509_STORE_CTX *xs) {
    (void)preverify_ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    tbDtls *d = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    if (d == NULL)
        return 0;
    if (X509_STORE_CTX_get_error_depth(xs) != 0)
        return 1;
    if (tbDtlsFingerprintMatch(&d->remote_fp, X509_STORE_CTX_get_current_cert(xs)))
        return 1;
    snprintf(d->reason, sizeof(d->reason), "%s",
             d->remote_fp.md == NULL ? "no remote fingerprint to check the peer against"
                                     : "peer certificate does not match the remote fingerprint");
    return 0;
}

/* Retransmission timeout: initial, then doubling up to rtx_max_ms. */
static unsigned int dtlsTimerCb(SSL *ssl, unsigned int prev_us) {
    tbDtls *d = SSL_get_app_data(ssl);
    if (prev_us == 0)
        return d->cfg.rtx_initial_ms * 1000u;
    unsigned long long next = (unsigned long long)prev_us * 2;
    unsigned long long cap = (unsigned long long)d->cfg.rtx_max_ms * 1000u;
    return (unsigned int)(next < cap ? next : cap);
}

/* ---- context ------------------------------------------------------------- */

static int dtlsCtxSetup(SSL_CTX *c, const tbDtlsCert *cert) {
    if (SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) != 1)
        return -1;
    if (SSL_CTX_use_certificate(c, cert->x509) != 1 ||
        SSL_CTX_use_PrivateKey(c, cert->pkey) != 1 || SSL_CTX_check_private_key(c) != 1)
        return -1;
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, dtlsVerifyCb);
    SSL_CTX_set_options(c, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    /* Note: returns 0 on success. */
    if (SSL_CTX_set_tlsext_use_srtp(c, TB_DTLS_DEFAULT_PROFILES) != 0)
        return -1;
    return 0;
}

tbDtlsCtx *tbDtlsCtxNew(const tbDtlsCert *cert) {
    tbDtlsCtx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL || cert == NULL)
        goto err;
    ctx->ssl_ctx = SSL_CTX_new(DTLS_method());
    ctx->bio_method = dtlsBioMethodNew();
    if (ctx->ssl_ctx == NULL || ctx->bio_method == NULL)
        goto err;
    if (dtlsCtxSetup(ctx->ssl_ctx, cert) != 0)
        goto err;
    return ctx;
err:
    ERR_clear_error();
    tbDtlsCtxFree(ctx);
    return NULL;
}

void tbDtlsCtxFree(tbDtlsCtx *ctx) {
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    BIO_meth_free(ctx->bio_method);
    free(ctx);
}

/* ---- transport ----------------------------------------------------------- */

static void dtlsDefaults(tbDtlsConfig *c) {
    if (c->mtu == 0)
        c->mtu = TB_DTLS_DEFAULT_MTU;
    if (c->rtx_initial_ms == 0)
        c->rtx_initial_ms = TB_DTLS_DEFAULT_RTX_INITIAL_MS;
    if (c->rtx_max_ms == 0)
        c->rtx_max_ms = TB_DTLS_DEFAULT_RTX_MAX_MS;
    if (c->rtx_initial_ms > DTLS_RTX_LIMIT_MS)
        c->rtx_initial_ms = DTLS_RTX_LIMIT_MS;
    if (c->rtx_max_ms > DTLS_RTX_LIMIT_MS)
        c->rtx_max_ms = DTLS_RTX_LIMIT_MS;
    if (c->rtx_max_ms < c->rtx_initial_ms)
        c->rtx_max_ms = c->rtx_initial_ms;
    if (c->handshake_timeout_ms == 0)
        c->handshake_timeout_ms = TB_DTLS_DEFAULT_HANDSHAKE_MS;
    c->remote_fingerprint = NULL;
    c->srtp_profiles = NULL;
}

/* Per-connection OpenSSL setup: BIO, MTU, timer, role, profiles. */
static int dtlsSslSetup(tbDtls *d, tbDtlsCtx *ctx, const char *profiles) {
    BIO *bio = BIO_new(ctx->bio_method);
    if (bio == NULL)
        return -1;
    BIO_set_data(bio, d);
    SSL_set_bio(d->ssl, bio, bio);      /* the SSL owns the one reference */
    SSL_set_app_data(d->ssl, d);
    if (SSL_set_mtu(d->ssl, d->cfg.mtu) <= 0)
        return -1;
    DTLS_set_timer_cb(d->ssl, dtlsTimerCb);
    /* Our records never exceed a datagram: this also shrinks OpenSSL's
     * write buffer from ~17 KB to about the MTU. */
    if (SSL_set_max_send_fragment(d->ssl, d->cfg.mtu < 512 ? 512 : d->cfg.mtu) != 1)
        return -1;
    if (profiles != NULL && SSL_set_tlsext_use_srtp(d->ssl, profiles) != 0)
        return -1;                      /* returns 0 on success */
    if (d->cfg.role == TB_DTLS_CLIENT)
        SSL_set_connect_state(d->ssl);
    else
        SSL_set_accept_state(d->ssl);
    return 0;
}

tbDtls *tbDtlsNew(tbDtlsCtx *ctx, const tbDtlsConfig *cfg) {
    if (ctx == NULL || cfg == NULL || cfg->send == NULL)
        return NULL;
    tbDtls *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->cfg = *cfg;
    dtlsDefaults(&d->cfg);
    if (cfg->remote_fingerprint != NULL &&
        tbDtlsFingerprintParse(cfg->remote_fingerprint, &d->remote_fp) != 0)
        goto err;
    d->ssl = SSL_new(ctx->ssl_ctx);
    if (d->ssl == NULL || dtlsSslSetup(d, ctx, cfg->srtp_profiles) != 0)
        goto err;
    return d;
err:
    ERR_clear_error();
    tbDtlsFree(d);
    return NULL;
}

void tbDtlsFree(tbDtls *d) {
    if (d == NULL)
        return;
    SSL_free(d->ssl);
    OPENSSL_cleanse(&d->keys, sizeof(d->keys));
    free(d);
}

int tbDtlsSetRemoteFingerprint(tbDtls *d, const char *fingerprint) {
    tbDtlsFingerprint fp;
    if (tbDtlsFingerprintParse(fingerprint, &fp) != 0)
        return TB_DTLS_ERR_ARG;
    d->remote_fp = fp;
    return TB_DTLS_OK;
}

tbDtlsState tbDtlsGetState(const tbDtls *d) { return d->state; }
tbDtlsRole tbDtlsGetRole(const tbDtls *d) { return d->cfg.role; }
const char *tbDtlsFailReason(const tbDtls *d) { return d->state == TB_DTLS_FAILED ? d->reason : ""; }
const tbDtlsStats *tbDtlsGetStats(const tbDtls *d) { return &d->stats; }

bool tbDtlsIsDtls(const uint8_t *buf, size_t len) {
    return len > 0 && buf[0] >= 20 && buf[0] <= 63;
}

/* ---- handshake completion ------------------------------------------------ */

/* RFC 5764 §4.2: client key | server key | client salt | server salt. */
static int dtlsExportKeys(tbDtls *d, tbSrtpProfile profile) {
    uint8_t km[2 * TB_SRTP_MAX_MASTER];
    size_t kl, sl;
    if (tbSrtpProfileLengths(profile, &kl, &sl) != 0)
        return -1;
    if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), DTLS_EXPORTER_LABEL,
                                   strlen(DTLS_EXPORTER_LABEL), NULL, 0, 0) != 1)
        return -1;
    bool client = d->cfg.role == TB_DTLS_CLIENT;
    const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl, *ss = km + 2 * kl + sl;
    d->keys.profile = profile;
    d->keys.key_len = kl;
    d->keys.salt_len = sl;
    memcpy(d->keys.local, client ? ck : sk, kl);
    memcpy(d->keys.local + kl, client ? cs : ss, sl);
    memcpy(d->keys.remote, client ? sk : ck, kl);
    memcpy(d->keys.remote + kl, client ? ss : cs, sl);
    OPENSSL_cleanse(km, sizeof(km));
    return 0;
}

/* Handshake finished: re-check the peer, export keys, go CONNECTED. A
 * failure here sends close_notify, since the peer believes it is connected. */
static int dtlsOnHandshakeDone(tbDtls *d) {
    const char *why = NULL;
    X509 *peer = SSL_get0_peer_certificate(d->ssl);
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    if (!tbDtlsFingerprintMatch(&d->remote_fp, peer))
        why = "peer certificate does not match the remote fingerprint";
    else if (p == NULL)
        why = "peer did not negotiate use_srtp";
    else if (dtlsExportKeys(d, (tbSrtpProfile)p->id) != 0)
        why = "SRTP keying material export failed (unsupported profile?)";
    if (why != NULL) {
        (void)SSL_shutdown(d->ssl);
        dtlsFlush(d);
        return dtlsFail(d, why);
    }
    dtlsSetState(d, TB_DTLS_CONNECTED);
    return TB_DTLS_OK;
}

/* Classifies a non-positive OpenSSL return. */
static int dtlsCheck(tbDtls *d, int r) {
    switch (SSL_get_error(d->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return TB_DTLS_OK;
    case SSL_ERROR_ZERO_RETURN:        /* close_notify: answer it */
        (void)SSL_shutdown(d->ssl);
        dtlsFlush(d);
        ERR_clear_error();
        dtlsSetState(d, TB_DTLS_CLOSED);
        return TB_DTLS_OK;
    default:
        return dtlsFail(d, NULL);
    }
}

static int dtlsHandshake(tbDtls *d) {
    int r = SSL_do_handshake(d->ssl);
    return r == 1 ? dtlsOnHandshakeDone(d) : dtlsCheck(d, r);
}

/* Delivers every application record OpenSSL has decrypted. */
static int dtlsReadApp(tbDtls *d) {
    uint8_t buf[TB_DTLS_MAX_RECORD];
    while (d->state == TB_DTLS_CONNECTED) {
        int n = SSL_read(d->ssl, buf, sizeof(buf));
        if (n <= 0)
            return dtlsCheck(d, n);
        d->stats.rx_app_records++;
        if (d->cfg.on_data != NULL)
            d->cfg.on_data(d->cfg.ud, buf, (size_t)n);
    }
    return TB_DTLS_OK;
}

/* ---- driving ------------------------------------------------------------- */

static void dtlsArmDeadline(tbDtls *d, uint64_t now_ms) {
    if (d->deadline_set)
        return;
    d->deadline_set = true;
    d->deadline_ms = now_ms + d->cfg.handshake_timeout_ms;
}

int tbDtlsStart(tbDtls *d, uint64_t now_ms) {
    if (d->state != TB_DTLS_NEW)
        return TB_DTLS_ERR_STATE;
    dtlsArmDeadline(d, now_ms);
    dtlsSetState(d, TB_DTLS_CONNECTING);
    if (d->cfg.role == TB_DTLS_SERVER)
        return TB_DTLS_OK;
    ERR_clear_error();
    int rc = dtlsHandshake(d);
    dtlsFlush(d);
    return rc;
}

/* Walks the records of a datagram: each has a known content type, a DTLS
 * version and a length inside the datagram, and together they fill it. */
static bool dtlsWellFormed(const uint8_t *p, size_t len) {
    if (len == 0)
        return false;
    while (len > 0) {
        if (len < DTLS_RECORD_HEADER || p[0] < 20 || p[0] > 25 || p[1] != 0xfe)
            return false;
        size_t rl = (size_t)p[11] << 8 | p[12];
        if (rl > len - DTLS_RECORD_HEADER)
            return false;
        p += DTLS_RECORD_HEADER + rl;
        len -= DTLS_RECORD_HEADER + rl;
    }
    return true;
}

int tbDtlsFeed(tbDtls *d, const uint8_t *in, size_t len) {
    d->stats.rx_datagrams++;
    if (in == NULL || !dtlsWellFormed(in, len)) {
        d->stats.rx_malformed++;
        return TB_DTLS_ERR_MALFORMED;
    }
    if (d->state == TB_DTLS_NEW && d->cfg.role == TB_DTLS_SERVER)
        dtlsSetState(d, TB_DTLS_CONNECTING);   /* deadline armed by the next timer call */
    if (d->state != TB_DTLS_CONNECTING && d->state != TB_DTLS_CONNECTED) {
        d->stats.rx_ignored++;
        return TB_DTLS_ERR_STATE;
    }
    d->in = in;
    d->in_len = len;
    ERR_clear_error();
    int rc = d->state == TB_DTLS_CONNECTING ? dtlsHandshake(d) : TB_DTLS_OK;
    if (rc == TB_DTLS_OK && d->state == TB_DTLS_CONNECTED)
        rc = dtlsReadApp(d);
    d->in = NULL;
    d->in_len = 0;
    if (d->state != TB_DTLS_FAILED)
        dtlsFlush(d);
    return rc;
}

int64_t tbDtlsTimeoutMs(tbDtls *d, uint64_t now_ms) {
    struct timeval tv;
    int64_t t = -1;
    if (d->state != TB_DTLS_CONNECTING && d->state != TB_DTLS_CONNECTED)
        return -1;
    if (DTLSv1_get_timeout(d->ssl, &tv) == 1)
        t = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    if (d->state == TB_DTLS_CONNECTING) {
        dtlsArmDeadline(d, now_ms);
        int64_t left = d->deadline_ms > now_ms ? (int64_t)(d->deadline_ms - now_ms) : 0;
        if (t < 0 || left < t)
            t = left;
    }
    return t;
}

int tbDtlsOnTimeout(tbDtls *d, uint64_t now_ms) {
    if (d->state != TB_DTLS_CONNECTING && d->state != TB_DTLS_CONNECTED)
        return TB_DTLS_ERR_STATE;
    if (d->state == TB_DTLS_CONNECTING) {
        dtlsArmDeadline(d, now_ms);
        if (now_ms >= d->deadline_ms) {
            char why[80];
            snprintf(why, sizeof(why), "DTLS handshake timed out after %u ms",
                     d->cfg.handshake_timeout_ms);
            return dtlsFail(d, why);
        }
    }
    ERR_clear_error();
    int r = DTLSv1_handle_timeout(d->ssl);
    if (r < 0)
        return dtlsFail(d, NULL);
    if (r > 0)
        d->stats.retransmits++;
    dtlsFlush(d);
    return TB_DTLS_OK;
}

int tbDtlsSend(tbDtls *d, const uint8_t *data, size_t len) {
    if (d->state != TB_DTLS_CONNECTED)
        return TB_DTLS_ERR_STATE;
    if (len == 0 || len > d->cfg.mtu)
        return TB_DTLS_ERR_ARG;          /* OpenSSL would fail the connection */
    ERR_clear_error();
    int n = SSL_write(d->ssl, data, (int)len);
    if (n <= 0)
        return dtlsCheck(d, n);
    return TB_DTLS_OK;
}

int tbDtlsClose(tbDtls *d) {
    if (d->state == TB_DTLS_CLOSED || d->state == TB_DTLS_FAILED)
        return TB_DTLS_ERR_STATE;
    if (d->state == TB_DTLS_CONNECTED) {
        ERR_clear_error();
        (void)SSL_shutdown(d->ssl);
        dtlsFlush(d);
        ERR_clear_error();
    }
    OPENSSL_cleanse(&d->keys, sizeof(d->keys));
    dtlsSetState(d, TB_DTLS_CLOSED);
    return TB_DTLS_OK;
}

int tbDtlsSrtpKeys(const tbDtls *d, tbSrtpKeys *out) {
    if (d->state != TB_DTLS_CONNECTED)
        return TB_DTLS_ERR_STATE;
    *out = d->keys;
    return TB_DTLS_OK;
}
