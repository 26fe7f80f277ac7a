/* recv_stats.h — receive statistics of one inbound RTP stream, from which
 * the SFU builds RTCP RR report blocks (RFC 3550 §6.4.1): extended highest
 * sequence number and restart detection (RFC 3550 A.1), expected/lost counts
 * and the fraction lost per interval (A.3), interarrival jitter (A.8), and
 * LSR/DLSR from the sender's last SR.
 *
 * Hand-written from the RFC's algorithms. Differences: no probation for a
 * new source (SRTP already authenticates every packet, so the first one
 * starts the statistics), and jitter is fed by in-order packets only (as
 * libwebrtc does: a reordered packet's transit says nothing new). Fixed
 * size, no allocation; callers pass arrival times as a monotonic clock in
 * microseconds. */
#ifndef TB_RTP_RECV_STATS_H
#define TB_RTP_RECV_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "rtp/rtcp.h"

typedef struct tbRtpRecvStats {
    uint32_t ssrc;           /* the stream's SSRC (report block's SSRC) */
    uint32_t clock_rate;     /* Hz, converts arrival times to RTP units */
    bool started;            /* first packet seen */
    bool have_transit;       /* transit holds the previous in-order packet's */
    bool have_bad;           /* bad_seq holds a restart candidate */
    bool have_sr;            /* lsr/lsr_us are set */
    uint16_t max_seq;        /* highest seq seen (low 16 bits) */
    uint16_t bad_seq;        /* seq that would confirm a restart */
    uint32_t cycles;         /* seq wraparounds << 16 */
    uint32_t base_seq;       /* first seq of this numbering */
    uint32_t received;       /* packets received (duplicates included, per A.3) */
    uint32_t expected_prior; /* expected at the last report */
    uint32_t received_prior; /* received at the last report */
    uint32_t transit;        /* arrival (RTP units) - RTP ts, previous packet */
    uint32_t jitter_q4;      /* jitter estimate, RTP units << 4 (A.8) */
    uint32_t lsr;            /* middle 32 bits of the last SR's NTP time */
    uint64_t lsr_us;         /* when that SR arrived */
    uint64_t last_us;        /* arrival of the newest packet */
} tbRtpRecvStats;

void tbRtpRecvStatsInit(tbRtpRecvStats *s, uint32_t ssrc, uint32_t clock_rate);

/* One received packet. Returns false for a packet whose seq is far out of
 * range (a possible restart: the next in-sequence packet confirms it and
 * restarts the statistics); such a packet is not counted. */
bool tbRtpRecvStatsUpdate(tbRtpRecvStats *s, uint16_t seq, uint32_t rtp_ts, uint64_t arrival_us);

/* The sender's SR arrived (its NTP time), for LSR/DLSR. */
void tbRtpRecvStatsOnSr(tbRtpRecvStats *s, uint32_t ntp_sec, uint32_t ntp_frac,
                        uint64_t arrival_us);

/* Fills a report block as of now_us and starts a new interval for the
 * fraction lost. Returns false (block untouched) before the first packet. */
bool tbRtpRecvStatsReport(tbRtpRecvStats *s, uint64_t now_us, tbRtcpReportBlock *rb);

#endif
