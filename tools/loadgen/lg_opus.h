/* lg_opus.h — what the load generator's publishers send: one second of a
 * sine tone encoded once with libopus (20 ms frames), and a mark in each
 * packet that names its publisher and sequence number, so a subscriber can
 * match what it receives to the moment it was sent whatever the SFU did to
 * the RTP header (SSRC and sequence numbers are rewritten).
 *
 * The mark rides in Opus padding (RFC 6716 §3.2.5): the packet becomes a
 * code 3 packet of one frame with 10 padding bytes "LG" | publisher u32 |
 * sequence u32, which every Opus decoder ignores. */
#ifndef LG_OPUS_H
#define LG_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_TONE_FRAMES 50   /* 1 s of 20 ms frames, sent in a loop */
#define LG_MARK_LEN 10

typedef struct lgTone {
    uint8_t *frames[LG_TONE_FRAMES]; /* code 0 Opus packets */
    size_t lens[LG_TONE_FRAMES];
} lgTone;

/* 1 s of a sine at hz, 48 kHz mono, 32 kbit/s. 0, or -1 (libopus failed). */
int lgToneInit(lgTone *t, int hz);
void lgToneFree(lgTone *t);
/* Frame i (mod LG_TONE_FRAMES) marked with (pub, seq) into out. Its length,
 * or 0 when cap is too small. */
size_t lgOpusMarked(const lgTone *t, unsigned i, uint32_t pub, uint32_t seq, uint8_t *out,
                    size_t cap);
/* The mark of a received Opus packet; false when it has none (or the packet
 * is not a well-formed marked packet of 20 ms). */
bool lgOpusMark(const uint8_t *pkt, size_t len, uint32_t *pub, uint32_t *seq);

#endif
