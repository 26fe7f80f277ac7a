/* munger.h — per-(subscriber, track) sequence number / timestamp mapper.
 *
 * A subscriber sees one continuous RTP stream per subscribed track even
 * though what feeds it changes: the publisher mutes and unmutes, restarts its
 * track after an ICE restart or republish (new SSRC, new random seq/ts), or
 * the SFU stops forwarding for a while. The munger maps each incoming
 * (seq, ts) to an outgoing one by offsets; on a new source it re-anchors so
 * the outgoing seq continues at last+1 and the outgoing ts at the last one
 * plus the wall-clock time elapsed since (at the track's clock rate, at least
 * one frame). Gaps may appear, outgoing seq/ts never go backwards across a
 * re-anchor, and duplicates and packets too old to place are dropped.
 *
 * Hand-written; the idea follows the "RTP munger" of SFUs such as LiveKit and
 * mediasoup's SeqManager, and RFC 3550 A.1's restart detection. Fixed-size
 * state (80 bytes), no allocation, no clock: callers pass now_us (a
 * monotonic clock in microseconds, the packet's arrival time). */
#ifndef TB_RTP_MUNGER_H
#define TB_RTP_MUNGER_H

#include <stdbool.h>
#include <stdint.h>

#define TB_MUNGER_WINDOW 128      /* reorder/duplicate window, packets */
#define TB_MUNGER_MAX_DROPOUT 3000 /* larger forward seq jumps need confirmation */

typedef enum tbMungeResult {
    TB_MUNGE_FORWARD = 0, /* send it with the returned seq/ts */
    TB_MUNGE_DUP = 1,     /* duplicate of a packet already forwarded */
    TB_MUNGE_OLD = 2,     /* too old or from before the current anchor */
    TB_MUNGE_MUTED = 3,   /* forwarding is muted */
    TB_MUNGE_PROBE = 4,   /* seq jumped far: held until the next packet confirms */
} tbMungeResult;

typedef struct tbRtpMunged {
    uint16_t seq;  /* outgoing sequence number */
    uint32_t ts;   /* outgoing timestamp */
    bool marker;   /* first packet after a (re-)anchor: set M (talkspurt start) */
} tbRtpMunged;

typedef struct tbRtpMunger {
    uint32_t clock_rate;   /* Hz (48000 for Opus) */
    uint32_t min_ts_step;  /* smallest ts advance on a re-anchor: one 20 ms frame */
    bool started;          /* a packet has been forwarded */
    bool resync;           /* the next packet re-anchors (new source / unmute) */
    bool muted;            /* drop everything (TB_MUNGE_MUTED) */
    bool have_bad;         /* bad_seq holds a probation candidate */
    bool have_prev;        /* prev_ssrc is set */
    uint32_t in_ssrc;      /* SSRC of the current source */
    uint32_t prev_ssrc;    /* SSRC switched away from: its stragglers are dropped */
    uint16_t in_max_seq;   /* highest incoming seq of the current source */
    uint16_t anchor_seq;   /* incoming seq that started the current anchor */
    uint16_t bad_seq;      /* expected next seq after an out-of-range one */
    uint16_t seq_off;      /* out seq = in seq + seq_off (mod 2^16) */
    uint32_t ts_off;       /* out ts = in ts + ts_off (mod 2^32) */
    uint16_t first_seq;    /* outgoing seq of the very first packet */
    uint32_t first_ts;     /* outgoing ts of the very first packet */
    uint16_t last_seq;     /* highest outgoing seq sent */
    uint32_t last_ts;      /* outgoing ts of that packet */
    uint64_t last_us;      /* its arrival time */
    uint64_t seen[TB_MUNGER_WINDOW / 64]; /* bit i: in_max_seq - i was forwarded */
} tbRtpMunger;

/* first_seq/first_ts: the outgoing values of the first packet (random, as a
 * sender picks them, or the publisher's own). */
void tbRtpMungerInit(tbRtpMunger *m, uint32_t clock_rate, uint16_t first_seq, uint32_t first_ts);

/* Maps one incoming packet (after SRTP decrypt and tbRtpParse). A new SSRC
 * re-anchors by itself. Returns TB_MUNGE_FORWARD and fills *out, or why the
 * packet must not be forwarded. */
tbMungeResult tbRtpMungerProcess(tbRtpMunger *m, uint32_t ssrc, uint16_t seq, uint32_t ts,
                                 uint64_t now_us, tbRtpMunged *out);

/* The next packet comes from a new source even if its SSRC is unchanged
 * (publisher switch, track republished with the same SSRC). */
void tbRtpMungerSwitchSource(tbRtpMunger *m);

/* Mute: packets are dropped (TB_MUNGE_MUTED). Unmute: the next packet
 * re-anchors, so what was dropped leaves no sequence gap (no NACKs) and the
 * timestamp advances by the silence's duration. */
void tbRtpMungerSetMuted(tbRtpMunger *m, bool muted);

/* The outgoing RTP timestamp that corresponds to now_us (for an RTCP SR):
 * last_ts plus the elapsed time at the clock rate; first_ts before any
 * packet. */
uint32_t tbRtpMungerTsAt(const tbRtpMunger *m, uint64_t now_us);

#endif
