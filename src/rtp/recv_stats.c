/* recv_stats.c — per-inbound-stream receive statistics for RTCP RR (RFC
 * 3550 A.1, A.3, A.8); hand-written, see recv_stats.h. */
#include "rtp/recv_stats.h"

#include <string.h>

#define SEQ_MOD 65536u
#define MAX_DROPOUT 3000u
#define MAX_MISORDER 100u

void tbRtpRecvStatsInit(tbRtpRecvStats *s, uint32_t ssrc, uint32_t clock_rate) {
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_rate = clock_rate ? clock_rate : 48000;
}

/* (Re)starts the sequence state at seq (A.1 init_seq). */
static void statsInitSeq(tbRtpRecvStats *s, uint16_t seq) {
    s->base_seq = seq;
    s->max_seq = seq;
    s->cycles = 0;
    s->received = 0;
    s->expected_prior = 0;
    s->received_prior = 0;
    s->have_bad = false;
    s->have_transit = false;
    s->started = true;
}

/* Arrival time in RTP units (mod 2^32), from microseconds. */
static uint32_t statsArrivalTicks(const tbRtpRecvStats *s, uint64_t us) {
    uint64_t sec = us / 1000000, rem = us % 1000000;
    return (uint32_t)(sec * s->clock_rate + rem * s->clock_rate / 1000000);
}

/* A.8: J += (|D| - J) / 16, kept scaled by 16. */
static void statsJitter(tbRtpRecvStats *s, uint32_t rtp_ts, uint64_t arrival_us) {
    uint32_t transit = statsArrivalTicks(s, arrival_us) - rtp_ts;
    if (s->have_transit) {
        int32_t d = (int32_t)(transit - s->transit);
        uint32_t ad = d < 0 ? (uint32_t)-(int64_t)d : (uint32_t)d;
        s->jitter_q4 += ad - ((s->jitter_q4 + 8) >> 4);
    }
    s->transit = transit;
    s->have_transit = true;
}

bool tbRtpRecvStatsUpdate(tbRtpRecvStats *s, uint16_t seq, uint32_t rtp_ts, uint64_t arrival_us) {
    if (!s->started) {
        statsInitSeq(s, seq);
        s->received = 1;
        s->last_us = arrival_us;
        statsJitter(s, rtp_ts, arrival_us);
        return true;
    }
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta == 0) {
        /* duplicate of the newest: counted (A.3), no jitter */
    } else if (udelta < MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += SEQ_MOD;
        s->max_seq = seq;
        s->have_bad = false;
        statsJitter(s, rtp_ts, arrival_us);
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
        if (!(s->have_bad && seq == s->bad_seq)) {
            s->bad_seq = (uint16_t)(seq + 1);
            s->have_bad = true;
            return false;
        }
        statsInitSeq(s, seq); /* two sequential packets: the source restarted */
        statsJitter(s, rtp_ts, arrival_us);
    } /* else: reordered or duplicate within MAX_MISORDER */
    s->received++;
    s->last_us = arrival_us;
    return true;
}

void tbRtpRecvStatsOnSr(tbRtpRecvStats *s, uint32_t ntp_sec, uint32_t ntp_frac,
                        uint64_t arrival_us) {
    s->lsr = tbRtcpNtpMiddle(ntp_sec, ntp_frac);
    s->lsr_us = arrival_us;
    s->have_sr = true;
}

bool tbRtpRecvStatsReport(tbRtpRecvStats *s, uint64_t now_us, tbRtcpReportBlock *rb) {
    if (!s->started)
        return false;
    uint32_t ext_max = s->cycles + s->max_seq;
    uint32_t expected = ext_max - s->base_seq + 1;
    int64_t lost = (int64_t)expected - (int64_t)s->received;
    uint32_t exp_int = expected - s->expected_prior;
    uint32_t rec_int = s->received - s->received_prior;
    int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
    s->expected_prior = expected;
    s->received_prior = s->received;
    rb->ssrc = s->ssrc;
    rb->fraction_lost = 0;
    if (exp_int > 0 && lost_int > 0) {
        int64_t f = (lost_int << 8) / exp_int;
        rb->fraction_lost = (uint8_t)(f > 255 ? 255 : f);
    }
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    rb->cumulative_lost = (int32_t)lost;
    rb->highest_seq = ext_max;
    rb->jitter = s->jitter_q4 >> 4;
    rb->lsr = s->have_sr ? s->lsr : 0;
    rb->dlsr = 0;
    if (s->have_sr && now_us > s->lsr_us)
        rb->dlsr = (uint32_t)((now_us - s->lsr_us) * 65536 / 1000000);
    return true;
}
