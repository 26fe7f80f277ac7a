/* lg_opus.c — the tone and the marks; see lg_opus.h. */
#include "lg_opus.h"

#include <math.h>
#include <opus/opus.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define FRAME (RATE / 50)

int lgToneInit(lgTone *t, int hz) {
    memset(t, 0, sizeof *t);
    int err = 0;
    OpusEncoder *enc = opus_encoder_create(RATE, 1, OPUS_APPLICATION_AUDIO, &err);
    if (!enc) return -1;
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
    int16_t pcm[FRAME];
    uint8_t buf[1500];
    int rc = 0;
    for (unsigned f = 0; f < LG_TONE_FRAMES && rc == 0; f++) {
        for (int i = 0; i < FRAME; i++)
            pcm[i] = (int16_t)(12000 * sin(2 * M_PI * hz * (double)(f * FRAME + i) / RATE));
        int n = opus_encode(enc, pcm, FRAME, buf, sizeof buf);
        if (n < 2 || (buf[0] & 3) != 0 || !(t->frames[f] = malloc((size_t)n))) {
            rc = -1; /* (a 1-byte packet is DTX: not expected for a tone) */
            break;
        }
        memcpy(t->frames[f], buf, (size_t)n);
        t->lens[f] = (size_t)n;
    }
    opus_encoder_destroy(enc);
    if (rc) lgToneFree(t);
    return rc;
}

void lgToneFree(lgTone *t) {
    for (unsigned f = 0; f < LG_TONE_FRAMES; f++) free(t->frames[f]);
    memset(t, 0, sizeof *t);
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t lgOpusMarked(const lgTone *t, unsigned i, uint32_t pub, uint32_t seq, uint8_t *out,
                    size_t cap) {
    const uint8_t *src = t->frames[i % LG_TONE_FRAMES];
    size_t flen = t->lens[i % LG_TONE_FRAMES] - 1, n = 3 + flen + LG_MARK_LEN;
    if (n > cap) return 0;
    out[0] = (uint8_t)(src[0] | 3); /* code 3: frame count byte follows */
    out[1] = 0x41;                  /* VBR 0, padding 1, one frame */
    out[2] = LG_MARK_LEN;           /* padding length */
    memcpy(out + 3, src + 1, flen);
    uint8_t *m = out + 3 + flen;
    m[0] = 'L', m[1] = 'G';
    put32(m + 2, pub);
    put32(m + 6, seq);
    return n;
}

bool lgOpusMark(const uint8_t *pkt, size_t len, uint32_t *pub, uint32_t *seq) {
    if (len < 3 + LG_MARK_LEN + 1 || (pkt[0] & 3) != 3 || pkt[1] != 0x41 ||
        pkt[2] != LG_MARK_LEN)
        return false;
    const uint8_t *m = pkt + len - LG_MARK_LEN;
    if (m[0] != 'L' || m[1] != 'G') return false;
    if (opus_packet_get_nb_samples(pkt, (opus_int32)len, RATE) != FRAME) return false;
    *pub = get32(m + 2);
    *seq = get32(m + 6);
    return true;
}
