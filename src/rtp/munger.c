/* munger.c — per-(subscriber, track) seq/ts continuity mapper; see munger.h.
 * Hand-written: offsets plus a 128-packet window of forwarded sequence
 * numbers, re-anchored on a new source. */
#include "rtp/munger.h"

#include <string.h>

#define MUNGER_WORDS (TB_MUNGER_WINDOW / 64)

void tbRtpMungerInit(tbRtpMunger *m, uint32_t clock_rate, uint16_t first_seq, uint32_t first_ts) {
    memset(m, 0, sizeof *m);
    m->clock_rate = clock_rate ? clock_rate : 48000;
    m->min_ts_step = m->clock_rate / 50; /* 20 ms */
    if (m->min_ts_step == 0)
        m->min_ts_step = 1;
    m->first_seq = first_seq;
    m->first_ts = first_ts;
}

/* Elapsed time since the last forwarded packet, in clock ticks. */
static uint32_t mungerElapsedTicks(const tbRtpMunger *m, uint64_t now_us) {
    if (now_us <= m->last_us)
        return 0;
    uint64_t us = now_us - m->last_us;
    if (us > 24ull * 3600 * 1000000) /* a day: anything more is nonsense */
        us = 24ull * 3600 * 1000000;
    return (uint32_t)(us * m->clock_rate / 1000000);
}

/* Shifts the window by n newer packets (bit 0 is always the newest). */
static void mungerShift(tbRtpMunger *m, unsigned n) {
    if (n >= TB_MUNGER_WINDOW) {
        memset(m->seen, 0, sizeof m->seen);
        return;
    }
    while (n > 0) {
        unsigned k = n < 63 ? n : 63;
        for (int w = MUNGER_WORDS - 1; w > 0; w--)
            m->seen[w] = m->seen[w] << k | m->seen[w - 1] >> (64 - k);
        m->seen[0] <<= k;
        n -= k;
    }
}

static bool mungerSeen(const tbRtpMunger *m, unsigned age) {
    return (m->seen[age / 64] >> (age % 64)) & 1;
}

static void mungerMark(tbRtpMunger *m, unsigned age) {
    m->seen[age / 64] |= 1ull << (age % 64);
}

/* Records a forwarded packet as the newest one sent. */
static void mungerSent(tbRtpMunger *m, const tbRtpMunged *out, uint64_t now_us) {
    m->last_seq = out->seq;
    m->last_ts = out->ts;
    m->last_us = now_us;
}

/* Starts a new mapping at this packet: the very first one gets first_seq/ts,
 * later ones continue from the last packet sent. */
static void mungerAnchor(tbRtpMunger *m, uint32_t ssrc, uint16_t seq, uint32_t ts,
                         uint64_t now_us, tbRtpMunged *out) {
    if (!m->started) {
        m->seq_off = (uint16_t)(m->first_seq - seq);
        m->ts_off = m->first_ts - ts;
    } else {
        uint32_t step = mungerElapsedTicks(m, now_us);
        if (step < m->min_ts_step)
            step = m->min_ts_step;
        m->seq_off = (uint16_t)(m->last_seq + 1 - seq);
        m->ts_off = m->last_ts + step - ts;
    }
    if (m->started && ssrc != m->in_ssrc) {
        m->prev_ssrc = m->in_ssrc;
        m->have_prev = true;
    }
    m->started = true;
    m->resync = false;
    m->have_bad = false;
    m->in_ssrc = ssrc;
    m->in_max_seq = seq;
    m->anchor_seq = seq;
    memset(m->seen, 0, sizeof m->seen);
    m->seen[0] = 1;
    out->seq = (uint16_t)(seq + m->seq_off);
    out->ts = ts + m->ts_off;
    out->marker = true;
    mungerSent(m, out, now_us);
}

/* A newer packet of the current source, diff packets ahead of the newest. */
static void mungerAdvance(tbRtpMunger *m, uint16_t seq, uint32_t ts, unsigned diff,
                          uint64_t now_us, tbRtpMunged *out) {
    mungerShift(m, diff);
    m->seen[0] |= 1;
    m->in_max_seq = seq;
    m->have_bad = false;
    out->seq = (uint16_t)(seq + m->seq_off);
    out->ts = ts + m->ts_off;
    out->marker = false;
    if ((int32_t)(out->ts - m->last_ts) < 0) {
        /* Newer packet, older timestamp: the source reset its clock. Keep
         * the outgoing timestamp moving forward. */
        m->ts_off = m->last_ts + m->min_ts_step - ts;
        out->ts = ts + m->ts_off;
    }
    mungerSent(m, out, now_us);
}

/* Out-of-range seq: RFC 3550 A.1 style, two consecutive packets confirm a
 * restart of the source's numbering. */
static tbMungeResult mungerProbe(tbRtpMunger *m, uint16_t seq, uint32_t ts, uint64_t now_us,
                                 tbRtpMunged *out, tbMungeResult verdict) {
    if (m->have_bad && seq == m->bad_seq) {
        mungerAnchor(m, m->in_ssrc, seq, ts, now_us, out);
        return TB_MUNGE_FORWARD;
    }
    m->have_bad = true;
    m->bad_seq = (uint16_t)(seq + 1);
    return verdict;
}

tbMungeResult tbRtpMungerProcess(tbRtpMunger *m, uint32_t ssrc, uint16_t seq, uint32_t ts,
                                 uint64_t now_us, tbRtpMunged *out) {
    if (m->muted)
        return TB_MUNGE_MUTED;
    if (!m->started || m->resync) {
        mungerAnchor(m, ssrc, seq, ts, now_us, out);
        return TB_MUNGE_FORWARD;
    }
    if (ssrc != m->in_ssrc) {
        if (m->have_prev && ssrc == m->prev_ssrc)
            return TB_MUNGE_OLD; /* a straggler of the source we switched away from */
        mungerAnchor(m, ssrc, seq, ts, now_us, out);
        return TB_MUNGE_FORWARD;
    }
    int diff = (int16_t)(uint16_t)(seq - m->in_max_seq);
    if (diff > 0 && diff < TB_MUNGER_MAX_DROPOUT) {
        mungerAdvance(m, seq, ts, (unsigned)diff, now_us, out);
        return TB_MUNGE_FORWARD;
    }
    if (diff == 0)
        return TB_MUNGE_DUP;
    if (diff > 0)
        return mungerProbe(m, seq, ts, now_us, out, TB_MUNGE_PROBE);
    unsigned age = (unsigned)-diff;
    if (age >= TB_MUNGER_WINDOW)
        return mungerProbe(m, seq, ts, now_us, out, TB_MUNGE_OLD);
    if (mungerSeen(m, age))
        return TB_MUNGE_DUP;
    if ((int16_t)(uint16_t)(seq - m->anchor_seq) < 0)
        return TB_MUNGE_OLD; /* before the re-anchor: its slot is taken */
    mungerMark(m, age);
    out->seq = (uint16_t)(seq + m->seq_off);
    out->ts = ts + m->ts_off;
    out->marker = false;
    return TB_MUNGE_FORWARD;
}

void tbRtpMungerSwitchSource(tbRtpMunger *m) {
    m->resync = true;
}

void tbRtpMungerSetMuted(tbRtpMunger *m, bool muted) {
    if (m->muted && !muted)
        m->resync = true;
    m->muted = muted;
}

uint32_t tbRtpMungerTsAt(const tbRtpMunger *m, uint64_t now_us) {
    if (!m->started)
        return m->first_ts;
    return m->last_ts + mungerElapsedTicks(m, now_us);
}
