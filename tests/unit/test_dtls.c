/* test_dtls.c — unit tests for src/dtls (cert.c, dtls.c with srtp.c): two
 * tbDtls endpoints in memory, client and server, wired by shuttling their
 * datagrams. Handshakes in both role assignments, fingerprint checks both
 * ways (a wrong one fails), SRTP profile choice (GCM preferred, CM when
 * either side offers only CM), matching keys proved by protecting on one side
 * and unprotecting on the other, lost flights recovered by the retransmission
 * timer, the handshake deadline, small MTUs, garbage input, application data
 * and close_notify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "dtls/cert.h"
#include "dtls/dtls.h"
#include "dtls/srtp.h"

#define QMAX 64
#define DGRAM_MAX 2048
#define RTX_MS 100                     /* first retransmission in the loss tests */

/* One endpoint and what it sent/received. */
typedef struct peer {
    tbDtls *d;
    uint8_t q[QMAX][DGRAM_MAX];        /* datagrams not yet delivered */
    size_t qlen[QMAX];
    int n;
    int drop;                          /* drop this many next datagrams */
    size_t max_dgram;                  /* largest datagram sent */
    int sent;                          /* datagrams sent in total */
    uint8_t rx[4096];                  /* application data received */
    size_t rx_len;
    int rx_count;
    tbDtlsState states[8];             /* on_state history */
    int nstates;
} peer;

typedef struct fixture {
    tbDtlsCert *cert_a, *cert_b, *cert_c; /* c: a stranger */
    tbDtlsCtx *ctx_a, *ctx_b;
    peer *cli, *srv;
} fixture;

static void onSend(void *ud, const uint8_t *dgram, size_t len) {
    peer *p = ud;
    assert_true(len <= DGRAM_MAX);
    p->sent++;
    if (len > p->max_dgram)
        p->max_dgram = len;
    if (p->drop > 0) {
        p->drop--;
        return;
    }
    assert_true(p->n < QMAX);
    memcpy(p->q[p->n], dgram, len);
    p->qlen[p->n++] = len;
}

static void onData(void *ud, const uint8_t *data, size_t len) {
    peer *p = ud;
    assert_true(p->rx_len + len <= sizeof(p->rx));
    memcpy(p->rx + p->rx_len, data, len);
    p->rx_len += len;
    p->rx_count++;
}

static void onState(void *ud, tbDtlsState st) {
    peer *p = ud;
    assert_true(p->nstates < 8);
    p->states[p->nstates++] = st;
}

/* Delivers everything `from` queued to `to`; returns datagrams moved. */
static int deliver(peer *from, peer *to) {
    int n = from->n;
    from->n = 0;
    for (int i = 0; i < n; i++)
        (void)tbDtlsFeed(to->d, from->q[i], from->qlen[i]);
    return n;
}

static void pump(peer *a, peer *b) {
    for (int i = 0; i < 50; i++) {
        if (deliver(a, b) + deliver(b, a) == 0)
            return;
    }
    fail_msg("datagrams kept flowing");
}

static tbDtlsConfig baseConfig(tbDtlsRole role, peer *p, const char *fp) {
    tbDtlsConfig c = {0};
    c.role = role;
    c.remote_fingerprint = fp;
    c.send = onSend;
    c.on_data = onData;
    c.on_state = onState;
    c.ud = p;
    return c;
}

/* Client on ctx_a (cert a) expecting cert b, server on ctx_b expecting a,
 * unless the configs say otherwise. */
static void makePair(fixture *f, tbDtlsConfig *cc, tbDtlsConfig *sc) {
    f->cli = calloc(1, sizeof(peer));
    f->srv = calloc(1, sizeof(peer));
    assert_non_null(f->cli);
    assert_non_null(f->srv);
    tbDtlsConfig c = cc ? *cc : baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    tbDtlsConfig s = sc ? *sc : baseConfig(TB_DTLS_SERVER, NULL, f->cert_a->fingerprint);
    c.ud = f->cli, s.ud = f->srv;
    f->cli->d = tbDtlsNew(f->ctx_a, &c);
    f->srv->d = tbDtlsNew(f->ctx_b, &s);
    assert_non_null(f->cli->d);
    assert_non_null(f->srv->d);
}

static void freePair(fixture *f) {
    if (f->cli != NULL)
        tbDtlsFree(f->cli->d);
    if (f->srv != NULL)
        tbDtlsFree(f->srv->d);
    free(f->cli);
    free(f->srv);
    f->cli = f->srv = NULL;
}

static void handshake(fixture *f) {
    assert_int_equal(tbDtlsStart(f->srv->d, 0), TB_DTLS_OK);
    assert_int_equal(tbDtlsStart(f->cli->d, 0), TB_DTLS_OK);
    pump(f->cli, f->srv);
}

static void sleepMs(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A 72-byte RTP packet. */
static size_t makeRtp(uint8_t *buf, uint16_t seq) {
    memset(buf, 0, 72);
    buf[0] = 0x80, buf[1] = 111;
    buf[2] = (uint8_t)(seq >> 8), buf[3] = (uint8_t)seq;
    buf[8] = 0x12, buf[9] = 0x34, buf[10] = 0x56, buf[11] = 0x78;
    for (int i = 12; i < 72; i++)
        buf[i] = (uint8_t)(i ^ seq);
    return 72;
}

/* Keys mirror each other; media protected on each side opens on the other. */
static void checkSrtp(fixture *f, tbSrtpProfile want) {
    tbSrtpKeys kc, ks;
    assert_int_equal(tbDtlsSrtpKeys(f->cli->d, &kc), TB_DTLS_OK);
    assert_int_equal(tbDtlsSrtpKeys(f->srv->d, &ks), TB_DTLS_OK);
    assert_int_equal(kc.profile, want);
    assert_int_equal(ks.profile, want);
    size_t n = kc.key_len + kc.salt_len;
    assert_int_equal(n, want == TB_SRTP_AEAD_AES_128_GCM ? 28 : 30);
    assert_memory_equal(kc.local, ks.remote, n);
    assert_memory_equal(kc.remote, ks.local, n);
    assert_memory_not_equal(kc.local, kc.remote, n);
    tbSrtpSession sc, ss;
    assert_int_equal(tbSrtpSessionInit(&sc, &kc), 0);
    assert_int_equal(tbSrtpSessionInit(&ss, &ks), 0);
    uint8_t buf[128], plain[72];
    size_t len = makeRtp(buf, 1);
    memcpy(plain, buf, 72);
    assert_int_equal(tbSrtpProtect(&sc, buf, &len, sizeof(buf)), TB_SRTP_OK);
    assert_int_equal(tbSrtpUnprotect(&ss, buf, &len), TB_SRTP_OK);
    assert_memory_equal(buf, plain, 72);
    len = makeRtp(buf, 2);
    assert_int_equal(tbSrtpProtect(&ss, buf, &len, sizeof(buf)), TB_SRTP_OK);
    assert_int_equal(tbSrtpUnprotect(&sc, buf, &len), TB_SRTP_OK);
    assert_int_equal(len, 72);
    tbSrtpSessionClear(&sc);
    tbSrtpSessionClear(&ss);
}

static void assertConnected(fixture *f) {
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_CONNECTED);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_CONNECTED);
    assert_string_equal(tbDtlsFailReason(f->cli->d), "");
}

/* ---- setup ------------------------------------------------------------- */

static int groupSetup(void **state) {
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || tbSrtpInit() != 0)
        return -1;
    f->cert_a = tbDtlsCertGenerate(0);
    f->cert_b = tbDtlsCertGenerate(0);
    f->cert_c = tbDtlsCertGenerate(30);
    if (f->cert_a == NULL || f->cert_b == NULL || f->cert_c == NULL)
        return -1;
    f->ctx_a = tbDtlsCtxNew(f->cert_a);
    f->ctx_b = tbDtlsCtxNew(f->cert_b);
    *state = f;
    return f->ctx_a && f->ctx_b ? 0 : -1;
}

static int groupTeardown(void **state) {
    fixture *f = *state;
    tbDtlsCtxFree(f->ctx_a);
    tbDtlsCtxFree(f->ctx_b);
    tbDtlsCertFree(f->cert_a);
    tbDtlsCertFree(f->cert_b);
    tbDtlsCertFree(f->cert_c);
    free(f);
    return 0;
}

static int testTeardown(void **state) {
    freePair(*state);
    return 0;
}

/* ---- certificate and fingerprints -------------------------------------- */

static void test_fingerprint_format(void **state) {
    fixture *f = *state;
    const char *fp = f->cert_a->fingerprint;
    assert_int_equal(strlen(fp), 8 + 32 * 3 - 1);
    assert_memory_equal(fp, "sha-256 ", 8);
    for (int i = 0; i < 32; i++) {
        const char *h = fp + 8 + i * 3;
        assert_true((h[0] >= '0' && h[0] <= '9') || (h[0] >= 'A' && h[0] <= 'F'));
        assert_true((h[1] >= '0' && h[1] <= '9') || (h[1] >= 'A' && h[1] <= 'F'));
        assert_true(i == 31 ? h[2] == '\0' : h[2] == ':');
    }
    /* Same digest as OpenSSL's own X509_digest. */
    uint8_t dig[32];
    unsigned n = 0;
    assert_int_equal(X509_digest(f->cert_a->x509, EVP_sha256(), dig, &n), 1);
    char hex[4];
    snprintf(hex, sizeof(hex), "%02X:", dig[5]);
    assert_memory_equal(fp + 8 + 5 * 3, hex, 3);
    assert_string_not_equal(fp, f->cert_b->fingerprint);
    /* The certificate is ECDSA P-256 and self-signed. */
    assert_int_equal(EVP_PKEY_get_base_id(f->cert_a->pkey), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_bits(f->cert_a->pkey), 256);
    assert_int_equal(X509_verify(f->cert_a->x509, f->cert_a->pkey), 1);
}

static void test_fingerprint_parse(void **state) {
    fixture *f = *state;
    tbDtlsFingerprint fp;
    assert_int_equal(tbDtlsFingerprintParse(f->cert_a->fingerprint, &fp), 0);
    assert_int_equal(fp.len, 32);
    assert_true(tbDtlsFingerprintMatch(&fp, f->cert_a->x509));
    assert_false(tbDtlsFingerprintMatch(&fp, f->cert_b->x509));
    /* Lowercase, upper-case hash name, surrounding blanks: the same value. */
    char lower[TB_DTLS_FP_MAX + 4];
    snprintf(lower, sizeof(lower), "  SHA-256 %s\r\n", f->cert_a->fingerprint + 8);
    for (char *p = lower + 10; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
    assert_int_equal(tbDtlsFingerprintParse(lower, &fp), 0);
    assert_true(tbDtlsFingerprintMatch(&fp, f->cert_a->x509));
    /* Other hash functions work too. */
    char s1[TB_DTLS_FP_MAX];
    assert_int_equal(tbDtlsFingerprintFormat(f->cert_a->x509, EVP_sha1(), s1, sizeof(s1)), 0);
    assert_memory_equal(s1, "sha-1 ", 6);
    assert_int_equal(tbDtlsFingerprintParse(s1, &fp), 0);
    assert_int_equal(fp.len, 20);
    assert_true(tbDtlsFingerprintMatch(&fp, f->cert_a->x509));
    assert_int_equal(tbDtlsFingerprintFormat(f->cert_a->x509, NULL, s1, 20), -1);
}

static void test_fingerprint_rejects(void **state) {
    fixture *f = *state;
    tbDtlsFingerprint fp;
    char buf[TB_DTLS_FP_MAX + 8];
    const char *hex = f->cert_a->fingerprint + 8;
    assert_int_equal(tbDtlsFingerprintParse("sha-256 AB:CD", &fp), -1);  /* short */
    assert_int_equal(tbDtlsFingerprintParse("sha-256", &fp), -1);
    assert_int_equal(tbDtlsFingerprintParse("", &fp), -1);
    assert_int_equal(tbDtlsFingerprintParse(NULL, &fp), -1);
    snprintf(buf, sizeof(buf), "md5 %s", hex);                          /* unknown hash */
    assert_int_equal(tbDtlsFingerprintParse(buf, &fp), -1);
    snprintf(buf, sizeof(buf), "sha-1 %s", hex);                        /* 32 bytes for sha-1 */
    assert_int_equal(tbDtlsFingerprintParse(buf, &fp), -1);
    snprintf(buf, sizeof(buf), "sha-256 %s:AA", hex);                   /* one byte too many */
    assert_int_equal(tbDtlsFingerprintParse(buf, &fp), -1);
    snprintf(buf, sizeof(buf), "sha-256 %s x", hex);                    /* trailing junk */
    assert_int_equal(tbDtlsFingerprintParse(buf, &fp), -1);
    snprintf(buf, sizeof(buf), "sha-256 %s", hex);
    buf[8] = 'G';                                                       /* not hex */
    assert_int_equal(tbDtlsFingerprintParse(buf, &fp), -1);
    assert_null(fp.md);
    assert_false(tbDtlsFingerprintMatch(&fp, f->cert_a->x509));         /* unset never matches */
}

static void test_is_dtls(void **state) {
    (void)state;
    uint8_t b[1];
    struct { uint8_t first; bool dtls; } cases[] = {
        {0, false}, {1, false}, {19, false}, {20, true}, {22, true},
        {63, true}, {64, false}, {0x80, false}, {0xbf, false}, {0xff, false}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b[0] = cases[i].first;
        assert_int_equal(tbDtlsIsDtls(b, 1), cases[i].dtls);
    }
    assert_false(tbDtlsIsDtls(b, 0));
}

/* ---- handshakes -------------------------------------------------------- */

static void test_handshake_gcm_default(void **state) {
    fixture *f = *state;
    makePair(f, NULL, NULL);
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_NEW);
    handshake(f);
    assertConnected(f);
    assert_int_equal(f->cli->nstates, 2);
    assert_int_equal(f->cli->states[0], TB_DTLS_CONNECTING);
    assert_int_equal(f->cli->states[1], TB_DTLS_CONNECTED);
    assert_int_equal(f->srv->states[1], TB_DTLS_CONNECTED);
    assert_true(f->cli->max_dgram <= TB_DTLS_DEFAULT_MTU);
    assert_true(f->srv->max_dgram <= TB_DTLS_DEFAULT_MTU);
    assert_int_equal(tbDtlsGetStats(f->cli->d)->tx_datagrams, (uint64_t)f->cli->sent);
    assert_int_equal(tbDtlsGetStats(f->cli->d)->rx_malformed, 0);
    assert_int_equal(tbDtlsTimeoutMs(f->cli->d, 0), -1);  /* nothing pending */
    checkSrtp(f, TB_SRTP_AEAD_AES_128_GCM);
}

/* The other role assignment: cert a's side is the server this time. */
static void test_handshake_roles_swapped(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_SERVER, NULL, f->cert_b->fingerprint);
    tbDtlsConfig s = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_a->fingerprint);
    makePair(f, &c, &s);               /* cli on ctx_a now serves, srv on ctx_b connects */
    assert_int_equal(tbDtlsGetRole(f->cli->d), TB_DTLS_SERVER);
    assert_int_equal(tbDtlsStart(f->srv->d, 0), TB_DTLS_OK);   /* the client sends first */
    assert_int_equal(f->srv->n, 1);
    pump(f->srv, f->cli);
    assertConnected(f);
    tbSrtpKeys a, b;
    assert_int_equal(tbDtlsSrtpKeys(f->cli->d, &a), TB_DTLS_OK);
    assert_int_equal(tbDtlsSrtpKeys(f->srv->d, &b), TB_DTLS_OK);
    assert_memory_equal(a.local, b.remote, 28);
    checkSrtp(f, TB_SRTP_AEAD_AES_128_GCM);
}

static void test_profile_cm_client_only(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    c.srtp_profiles = "SRTP_AES128_CM_SHA1_80";
    makePair(f, &c, NULL);
    handshake(f);
    assertConnected(f);
    checkSrtp(f, TB_SRTP_AES128_CM_SHA1_80);
}

static void test_profile_cm_server_only(void **state) {
    fixture *f = *state;
    tbDtlsConfig s = baseConfig(TB_DTLS_SERVER, NULL, f->cert_a->fingerprint);
    s.srtp_profiles = "SRTP_AES128_CM_SHA1_80";
    makePair(f, NULL, &s);
    handshake(f);
    assertConnected(f);
    checkSrtp(f, TB_SRTP_AES128_CM_SHA1_80);
}

/* The server's preference (GCM first) wins over the client's order. */
static void test_profile_server_prefers_gcm(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    c.srtp_profiles = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM";
    makePair(f, &c, NULL);
    handshake(f);
    assertConnected(f);
    checkSrtp(f, TB_SRTP_AEAD_AES_128_GCM);
}

static void test_no_common_profile(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    tbDtlsConfig s = baseConfig(TB_DTLS_SERVER, NULL, f->cert_a->fingerprint);
    c.srtp_profiles = "SRTP_AES128_CM_SHA1_80";
    s.srtp_profiles = "SRTP_AEAD_AES_128_GCM";
    makePair(f, &c, &s);
    handshake(f);
    /* The server completes without use_srtp, then refuses and says goodbye. */
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_FAILED);
    assert_non_null(strstr(tbDtlsFailReason(f->srv->d), "use_srtp"));
    assert_int_not_equal(tbDtlsGetState(f->cli->d), TB_DTLS_CONNECTED);
    tbSrtpKeys k;
    assert_int_equal(tbDtlsSrtpKeys(f->srv->d, &k), TB_DTLS_ERR_STATE);
}

/* ---- fingerprint verification ------------------------------------------ */

static void test_wrong_fingerprint_at_server(void **state) {
    fixture *f = *state;
    tbDtlsConfig s = baseConfig(TB_DTLS_SERVER, NULL, f->cert_c->fingerprint);
    makePair(f, NULL, &s);
    handshake(f);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_FAILED);
    assert_non_null(strstr(tbDtlsFailReason(f->srv->d), "does not match"));
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_FAILED);  /* got the alert */
    assert_non_null(strstr(tbDtlsFailReason(f->cli->d), "alert"));
    assert_int_equal(f->srv->states[f->srv->nstates - 1], TB_DTLS_FAILED);
}

static void test_wrong_fingerprint_at_client(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_c->fingerprint);
    makePair(f, &c, NULL);
    handshake(f);
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_FAILED);
    assert_non_null(strstr(tbDtlsFailReason(f->cli->d), "does not match"));
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_FAILED);
    /* Failed transports ignore further input and have no timer. */
    uint8_t rec[13] = {22, 0xfe, 0xfd};
    assert_int_equal(tbDtlsFeed(f->cli->d, rec, sizeof(rec)), TB_DTLS_ERR_STATE);
    assert_int_equal(tbDtlsGetStats(f->cli->d)->rx_ignored, 1);
    assert_int_equal(tbDtlsTimeoutMs(f->cli->d, 0), -1);
}

/* No fingerprint at all: refused; setting it later (before the handshake)
 * works. */
static void test_fingerprint_set_later(void **state) {
    fixture *f = *state;
    tbDtlsConfig s = baseConfig(TB_DTLS_SERVER, NULL, NULL);
    makePair(f, NULL, &s);
    assert_int_equal(tbDtlsSetRemoteFingerprint(f->srv->d, "sha-256 00"), TB_DTLS_ERR_ARG);
    assert_int_equal(tbDtlsSetRemoteFingerprint(f->srv->d, f->cert_a->fingerprint), TB_DTLS_OK);
    handshake(f);
    assertConnected(f);
    freePair(f);
    makePair(f, NULL, &s);
    handshake(f);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_FAILED);
    assert_non_null(strstr(tbDtlsFailReason(f->srv->d), "no remote fingerprint"));
}

static void test_new_rejects_bad_config(void **state) {
    fixture *f = *state;
    peer p = {0};
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, &p, "sha-256 12:34");
    assert_null(tbDtlsNew(f->ctx_a, &c));
    c = baseConfig(TB_DTLS_CLIENT, &p, NULL);
    c.srtp_profiles = "SRTP_NOPE";
    assert_null(tbDtlsNew(f->ctx_a, &c));
    c = baseConfig(TB_DTLS_CLIENT, &p, NULL);
    c.mtu = 100;
    assert_null(tbDtlsNew(f->ctx_a, &c));
    c.mtu = 20000;
    assert_null(tbDtlsNew(f->ctx_a, &c));
    c = baseConfig(TB_DTLS_CLIENT, &p, NULL);
    c.send = NULL;
    assert_null(tbDtlsNew(f->ctx_a, &c));
    assert_null(tbDtlsCtxNew(NULL));
}

/* ---- loss and timers --------------------------------------------------- */

/* The ClientHello is lost: the client's timer resends it. */
static void test_retransmit_client_hello(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    c.rtx_initial_ms = RTX_MS;
    makePair(f, &c, NULL);
    f->cli->drop = 1;
    handshake(f);
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_CONNECTING);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_CONNECTING);
    int64_t t = tbDtlsTimeoutMs(f->cli->d, 0);
    assert_true(t >= 0 && t <= RTX_MS);
    if (t > 50) {                      /* not stalled past the timer: too early */
        assert_int_equal(tbDtlsOnTimeout(f->cli->d, 1), TB_DTLS_OK);
        assert_int_equal(f->cli->n, 0);
    }
    sleepMs(RTX_MS + 10);
    assert_int_equal(tbDtlsTimeoutMs(f->cli->d, 30), 0);
    assert_int_equal(tbDtlsOnTimeout(f->cli->d, 30), TB_DTLS_OK);
    assert_int_equal(tbDtlsGetStats(f->cli->d)->retransmits, 1);
    assert_int_equal(f->cli->n, 1);
    pump(f->cli, f->srv);
    assertConnected(f);
    checkSrtp(f, TB_SRTP_AEAD_AES_128_GCM);
}

/* The server's first flight is lost: its own timer resends it. */
static void test_retransmit_server_flight(void **state) {
    fixture *f = *state;
    tbDtlsConfig s = baseConfig(TB_DTLS_SERVER, NULL, f->cert_a->fingerprint);
    s.rtx_initial_ms = RTX_MS;
    makePair(f, NULL, &s);
    f->srv->drop = 1000;
    handshake(f);
    f->srv->drop = 0;
    assert_true(f->srv->sent >= 1);
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_CONNECTING);
    sleepMs(RTX_MS + 10);
    assert_int_equal(tbDtlsOnTimeout(f->srv->d, 30), TB_DTLS_OK);
    assert_int_equal(tbDtlsGetStats(f->srv->d)->retransmits, 1);
    pump(f->cli, f->srv);
    assertConnected(f);
    checkSrtp(f, TB_SRTP_AEAD_AES_128_GCM);
}

/* The server's last flight (ChangeCipherSpec + Finished) is lost: the server
 * is connected, the client resends its flight on timeout, and the connected
 * server answers it with its last flight again. */
static void test_retransmit_final_flight(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    c.rtx_initial_ms = RTX_MS;
    makePair(f, &c, NULL);
    assert_int_equal(tbDtlsStart(f->srv->d, 0), TB_DTLS_OK);
    assert_int_equal(tbDtlsStart(f->cli->d, 0), TB_DTLS_OK);
    deliver(f->cli, f->srv);           /* ClientHello */
    deliver(f->srv, f->cli);           /* ServerHello..Done */
    deliver(f->cli, f->srv);           /* Certificate..Finished */
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_CONNECTED);
    assert_true(f->srv->n > 0);
    f->srv->n = 0;                     /* lose CCS + Finished */
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_CONNECTING);
    sleepMs(RTX_MS + 10);
    assert_int_equal(tbDtlsOnTimeout(f->cli->d, 30), TB_DTLS_OK);
    assert_int_equal(tbDtlsGetStats(f->cli->d)->retransmits, 1);
    pump(f->cli, f->srv);
    assertConnected(f);
    checkSrtp(f, TB_SRTP_AEAD_AES_128_GCM);
}

static void test_handshake_deadline(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    c.handshake_timeout_ms = 5000;
    c.rtx_initial_ms = 60000;          /* the deadline comes first */
    makePair(f, &c, NULL);
    assert_int_equal(tbDtlsStart(f->cli->d, 1000), TB_DTLS_OK);
    assert_int_equal(tbDtlsTimeoutMs(f->cli->d, 1000), 5000);
    assert_int_equal(tbDtlsTimeoutMs(f->cli->d, 5999), 1);
    assert_int_equal(tbDtlsOnTimeout(f->cli->d, 5999), TB_DTLS_OK);
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_CONNECTING);
    assert_int_equal(tbDtlsOnTimeout(f->cli->d, 6000), TB_DTLS_ERR_FATAL);
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_FAILED);
    assert_non_null(strstr(tbDtlsFailReason(f->cli->d), "timed out"));
    assert_int_equal(tbDtlsTimeoutMs(f->cli->d, 6000), -1);
    assert_int_equal(tbDtlsOnTimeout(f->cli->d, 7000), TB_DTLS_ERR_STATE);
    /* A server never fed and never started has no timer. */
    assert_int_equal(tbDtlsTimeoutMs(f->srv->d, 0), -1);
}

/* A server fed a ClientHello before Start starts itself; its deadline is
 * armed by the first timer call. A client fed before Start ignores it. */
static void test_feed_before_start(void **state) {
    fixture *f = *state;
    makePair(f, NULL, NULL);
    assert_int_equal(tbDtlsStart(f->cli->d, 0), TB_DTLS_OK);
    deliver(f->cli, f->srv);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_CONNECTING);
    assert_int_equal(tbDtlsStart(f->srv->d, 0), TB_DTLS_ERR_STATE);
    assert_true(tbDtlsTimeoutMs(f->srv->d, 100) >= 0);
    pump(f->cli, f->srv);
    assertConnected(f);
    tbDtls *fresh = NULL;
    peer p = {0};
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, &p, f->cert_b->fingerprint);
    fresh = tbDtlsNew(f->ctx_a, &c);
    assert_non_null(fresh);
    uint8_t rec[13] = {22, 0xfe, 0xfd};
    assert_int_equal(tbDtlsFeed(fresh, rec, sizeof(rec)), TB_DTLS_ERR_STATE);
    assert_int_equal(tbDtlsGetState(fresh), TB_DTLS_NEW);
    tbDtlsFree(fresh);
}

/* An MTU of 300 forces the certificate flight into several datagrams. */
static void test_small_mtu(void **state) {
    fixture *f = *state;
    tbDtlsConfig c = baseConfig(TB_DTLS_CLIENT, NULL, f->cert_b->fingerprint);
    tbDtlsConfig s = baseConfig(TB_DTLS_SERVER, NULL, f->cert_a->fingerprint);
    c.mtu = s.mtu = 300;
    makePair(f, &c, &s);
    handshake(f);
    assertConnected(f);
    assert_true(f->cli->max_dgram <= 300);
    assert_true(f->srv->max_dgram <= 300);
    assert_true(f->srv->sent >= 3);
    checkSrtp(f, TB_SRTP_AEAD_AES_128_GCM);
}

/* ---- garbage, data, close ---------------------------------------------- */

static void test_garbage(void **state) {
    fixture *f = *state;
    makePair(f, NULL, NULL);
    uint8_t junk[200];
    assert_int_equal(RAND_bytes(junk, sizeof(junk)), 1);
    junk[0] = 22;                      /* looks like DTLS at first glance */
    junk[1] = 0xfe;
    junk[11] = 0x7f;                   /* record longer than the datagram */
    assert_int_equal(tbDtlsFeed(f->srv->d, junk, sizeof(junk)), TB_DTLS_ERR_MALFORMED);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_NEW);
    handshake(f);
    assertConnected(f);
    /* Malformed datagrams of every shape are dropped and counted. */
    uint8_t rtp[72];
    size_t n = makeRtp(rtp, 9);
    assert_int_equal(tbDtlsFeed(f->srv->d, rtp, n), TB_DTLS_ERR_MALFORMED);
    assert_int_equal(tbDtlsFeed(f->srv->d, junk, 5), TB_DTLS_ERR_MALFORMED);
    assert_int_equal(tbDtlsFeed(f->srv->d, junk, 0), TB_DTLS_ERR_MALFORMED);
    assert_int_equal(tbDtlsFeed(f->srv->d, NULL, 10), TB_DTLS_ERR_MALFORMED);
    junk[0] = 30;                      /* unknown content type */
    junk[11] = 0, junk[12] = 187;      /* exact length */
    assert_int_equal(tbDtlsFeed(f->srv->d, junk, sizeof(junk)), TB_DTLS_ERR_MALFORMED);
    assert_int_equal(tbDtlsGetStats(f->srv->d)->rx_malformed, 6);
    /* A well-formed application record with a forged body is discarded by
     * OpenSSL (bad MAC records are dropped silently in DTLS). */
    junk[0] = 23, junk[1] = 0xfe, junk[2] = 0xfd;
    junk[3] = 0, junk[4] = 1;          /* epoch 1 */
    assert_int_equal(tbDtlsFeed(f->srv->d, junk, sizeof(junk)), TB_DTLS_OK);
    assert_int_equal(f->srv->rx_count, 0);
    assertConnected(f);
    /* And the connection still carries data both ways. */
    assert_int_equal(tbDtlsSend(f->cli->d, (const uint8_t *)"ping", 4), TB_DTLS_OK);
    pump(f->cli, f->srv);
    assert_int_equal(f->srv->rx_count, 1);
    assert_memory_equal(f->srv->rx, "ping", 4);
    assert_int_equal(tbDtlsGetStats(f->srv->d)->rx_malformed, 6);
}

/* A well-formed record carrying a broken ClientHello is a protocol error,
 * not noise: OpenSSL answers with a fatal alert and the transport fails
 * with a readable reason (only the peer's 5-tuple reaches this point). */
static void test_garbage_handshake_record(void **state) {
    fixture *f = *state;
    makePair(f, NULL, NULL);
    uint8_t rec[13 + 40];
    assert_int_equal(RAND_bytes(rec, sizeof(rec)), 1);
    rec[0] = 22, rec[1] = 0xfe, rec[2] = 0xfd;
    rec[3] = rec[4] = 0;               /* epoch 0 */
    rec[11] = 0, rec[12] = 40;
    rec[13] = 1;                       /* "ClientHello" with a random length */
    rec[14] = 0x7f;                    /* ... longer than any real one */
    assert_int_equal(tbDtlsFeed(f->srv->d, rec, sizeof(rec)), TB_DTLS_ERR_FATAL);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_FAILED);
    assert_true(strlen(tbDtlsFailReason(f->srv->d)) > 5);
    assert_int_equal(f->srv->n, 1);    /* the alert */
    assert_int_equal(f->srv->q[0][0], 21);
    assert_int_equal(f->srv->qlen[0], 13 + 2);
    assert_int_equal(tbDtlsFeed(f->srv->d, rec, sizeof(rec)), TB_DTLS_ERR_STATE);
}

static void test_app_data(void **state) {
    fixture *f = *state;
    makePair(f, NULL, NULL);
    assert_int_equal(tbDtlsSend(f->cli->d, (const uint8_t *)"x", 1), TB_DTLS_ERR_STATE);
    handshake(f);
    assertConnected(f);
    uint8_t big[1100];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 31);
    assert_int_equal(tbDtlsSend(f->cli->d, big, sizeof(big)), TB_DTLS_OK);
    assert_int_equal(tbDtlsSend(f->srv->d, (const uint8_t *)"pong", 4), TB_DTLS_OK);
    assert_int_equal(tbDtlsSend(f->srv->d, big, 0), TB_DTLS_ERR_ARG);
    uint8_t huge[TB_DTLS_DEFAULT_MTU + 1] = {0};   /* larger than a datagram */
    assert_int_equal(tbDtlsSend(f->srv->d, huge, sizeof(huge)), TB_DTLS_ERR_ARG);
    assert_true(f->cli->max_dgram <= TB_DTLS_DEFAULT_MTU);
    pump(f->cli, f->srv);
    assert_int_equal(f->srv->rx_count, 1);
    assert_int_equal(f->srv->rx_len, sizeof(big));
    assert_memory_equal(f->srv->rx, big, sizeof(big));
    assert_int_equal(f->cli->rx_count, 1);
    assert_memory_equal(f->cli->rx, "pong", 4);
    assert_int_equal(tbDtlsGetStats(f->srv->d)->rx_app_records, 1);
}

static void test_close_notify(void **state) {
    fixture *f = *state;
    makePair(f, NULL, NULL);
    handshake(f);
    assertConnected(f);
    assert_int_equal(tbDtlsClose(f->cli->d), TB_DTLS_OK);
    assert_int_equal(tbDtlsGetState(f->cli->d), TB_DTLS_CLOSED);
    assert_int_equal(f->cli->n, 1);    /* the close_notify alert */
    deliver(f->cli, f->srv);
    assert_int_equal(tbDtlsGetState(f->srv->d), TB_DTLS_CLOSED);
    assert_int_equal(f->srv->states[f->srv->nstates - 1], TB_DTLS_CLOSED);
    assert_string_equal(tbDtlsFailReason(f->srv->d), "");
    tbSrtpKeys k;
    assert_int_equal(tbDtlsSrtpKeys(f->cli->d, &k), TB_DTLS_ERR_STATE);
    assert_int_equal(tbDtlsSend(f->srv->d, (const uint8_t *)"x", 1), TB_DTLS_ERR_STATE);
    assert_int_equal(tbDtlsClose(f->cli->d), TB_DTLS_ERR_STATE);
    /* The server's reply close_notify reaches a closed client: ignored. */
    deliver(f->srv, f->cli);
    assert_int_equal(tbDtlsGetStats(f->cli->d)->rx_ignored, 1);
    assert_string_equal(tbDtlsStateName(TB_DTLS_CLOSED), "closed");
    assert_string_equal(tbDtlsStateName(TB_DTLS_CONNECTED), "connected");
}

#define T(fn) cmocka_unit_test_teardown(fn, testTeardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_fingerprint_format),
        T(test_fingerprint_parse),
        T(test_fingerprint_rejects),
        T(test_is_dtls),
        T(test_handshake_gcm_default),
        T(test_handshake_roles_swapped),
        T(test_profile_cm_client_only),
        T(test_profile_cm_server_only),
        T(test_profile_server_prefers_gcm),
        T(test_no_common_profile),
        T(test_wrong_fingerprint_at_server),
        T(test_wrong_fingerprint_at_client),
        T(test_fingerprint_set_later),
        T(test_new_rejects_bad_config),
        T(test_retransmit_client_hello),
        T(test_retransmit_server_flight),
        T(test_retransmit_final_flight),
        T(test_handshake_deadline),
        T(test_feed_before_start),
        T(test_small_mtu),
        T(test_garbage),
        T(test_garbage_handshake_record),
        T(test_app_data),
        T(test_close_notify),
    };
    return cmocka_run_group_tests(tests, groupSetup, groupTeardown);
}
