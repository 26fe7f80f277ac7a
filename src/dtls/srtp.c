/* srtp.c — libsrtp 2 wrapper: one inbound and one outbound srtp_t per
 * transport, built from DTLS-SRTP keys, with libsrtp's status codes folded
 * into tbSrtpStatus for counting. See srtp.h.
 *
 * libsrtp keeps process-wide state (its crypto kernel), so srtp_init must run
 * exactly once: the pthread_once guard below is the one deliberate piece of
 * mutable static state in this folder. */
#include "dtls/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <srtp2/srtp.h>
#include <string.h>

#define SRTP_RTP_MIN 12                  /* fixed RTP header */
#define SRTP_RTCP_MIN 8                  /* RTCP header + sender SSRC */

static pthread_once_t srtpOnce = PTHREAD_ONCE_INIT;
static int srtpInitResult = -1;

static void srtpInitOnce(void) {
    srtpInitResult = srtp_init() == srtp_err_status_ok ? 0 : -1;
}

int tbSrtpInit(void) {
    pthread_once(&srtpOnce, srtpInitOnce);
    return srtpInitResult;
}

int tbSrtpProfileLengths(tbSrtpProfile p, size_t *key_len, size_t *salt_len) {
    switch (p) {
    case TB_SRTP_AES128_CM_SHA1_80:
        *key_len = 16, *salt_len = 14;
        return 0;
    case TB_SRTP_AEAD_AES_128_GCM:
        *key_len = 16, *salt_len = 12;
        return 0;
    default:
        return -1;
    }
}

const char *tbSrtpProfileName(tbSrtpProfile p) {
    switch (p) {
    case TB_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
    case TB_SRTP_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
    default: return "none";
    }
}

size_t tbSrtpOverhead(tbSrtpProfile p, int rtcp) {
    size_t tag = p == TB_SRTP_AEAD_AES_128_GCM ? 16 : 10;
    return rtcp ? tag + 4 : tag;  /* SRTCP adds E-flag + index (4 bytes) */
}

const char *tbSrtpStatusName(tbSrtpStatus st) {
    static const char *const names[] = {"ok", "auth", "replay", "malformed", "no_room",
                                        "other"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "other";
}

static tbSrtpStatus srtpMapStatus(srtp_err_status_t e) {
    switch (e) {
    case srtp_err_status_ok: return TB_SRTP_OK;
    case srtp_err_status_auth_fail: return TB_SRTP_ERR_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return TB_SRTP_ERR_REPLAY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    case srtp_err_status_bad_mki: return TB_SRTP_ERR_MALFORMED;
    default: return TB_SRTP_ERR_OTHER;
    }
}

/* One direction's policy: both RTP and RTCP use the profile's transform. */
static void srtpPolicy(srtp_policy_t *p, tbSrtpProfile profile, const uint8_t *master,
                       int outbound) {
    memset(p, 0, sizeof(*p));
    if (profile == TB_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    }
    p->ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p->key = (unsigned char *)master;   /* copied into the stream by srtp_create */
    p->window_size = TB_SRTP_REPLAY_WINDOW;
    p->allow_repeat_tx = outbound;      /* NACK retransmissions resend the same index */
}

int tbSrtpSessionInit(tbSrtpSession *s, const tbSrtpKeys *k) {
    size_t kl, sl;
    srtp_policy_t in, out;
    memset(s, 0, sizeof(*s));
    if (tbSrtpProfileLengths(k->profile, &kl, &sl) != 0 || kl != k->key_len ||
        sl != k->salt_len)
        return -1;
    srtpPolicy(&in, k->profile, k->remote, 0);
    srtpPolicy(&out, k->profile, k->local, 1);
    if (srtp_create(&s->in, &in) != srtp_err_status_ok)
        goto err;
    if (srtp_create(&s->out, &out) != srtp_err_status_ok)
        goto err;
    s->profile = k->profile;
    return 0;
err:
    tbSrtpSessionClear(s);
    return -1;
}

void tbSrtpSessionClear(tbSrtpSession *s) {
    if (s->in != NULL)
        srtp_dealloc(s->in);
    if (s->out != NULL)
        srtp_dealloc(s->out);
    memset(s, 0, sizeof(*s));
}

/* Shared checks and call for the four directions. */
typedef srtp_err_status_t (*srtpFn)(srtp_t, void *, int *);

static tbSrtpStatus srtpRun(srtp_t ctx, srtpFn fn, uint8_t *buf, size_t *len, size_t min) {
    if (ctx == NULL)
        return TB_SRTP_ERR_OTHER;
    if (*len < min || *len > INT_MAX - TB_SRTP_MAX_OVERHEAD)
        return TB_SRTP_ERR_MALFORMED;
    int n = (int)*len;
    tbSrtpStatus st = srtpMapStatus(fn(ctx, buf, &n));
    if (st == TB_SRTP_OK)
        *len = (size_t)n;
    return st;
}

tbSrtpStatus tbSrtpProtect(tbSrtpSession *s, uint8_t *buf, size_t *len, size_t cap) {
    if (cap < *len + tbSrtpOverhead(s->profile, 0))
        return TB_SRTP_ERR_NO_ROOM;
    return srtpRun(s->out, srtp_protect, buf, len, SRTP_RTP_MIN);
}

tbSrtpStatus tbSrtpUnprotect(tbSrtpSession *s, uint8_t *buf, size_t *len) {
    return srtpRun(s->in, srtp_unprotect, buf, len, SRTP_RTP_MIN);
}

tbSrtpStatus tbSrtpProtectRtcp(tbSrtpSession *s, uint8_t *buf, size_t *len, size_t cap) {
    if (cap < *len + tbSrtpOverhead(s->profile, 1))
        return TB_SRTP_ERR_NO_ROOM;
    return srtpRun(s->out, srtp_protect_rtcp, buf, len, SRTP_RTCP_MIN);
}

tbSrtpStatus tbSrtpUnprotectRtcp(tbSrtpSession *s, uint8_t *buf, size_t *len) {
    return srtpRun(s->in, srtp_unprotect_rtcp, buf, len, SRTP_RTCP_MIN);
}
