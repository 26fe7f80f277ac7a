/* rtcp_build.c — RTCP builders: SR, RR, SDES CNAME, BYE, generic NACK, PLI
 * and the SR/RR + SDES compound (RFC 3550 §6, RFC 4585 §6). Hand-written
 * (see rtcp.h); each builder checks its output space first. */
#include "rtp/rtcp.h"

#include <string.h>

#include "rtp/bytes.h"

#define RTCP_BLOCK 24
#define NTP_UNIX_OFFSET 2208988800u /* seconds from 1900 to 1970 */

/* Writes the common header: V=2, no padding, count, type, length in words - 1. */
static void rtcpHeader(uint8_t *out, uint8_t count, uint8_t pt, size_t len) {
    out[0] = (uint8_t)(0x80 | (count & 0x1f));
    out[1] = pt;
    tbWr16(out + 2, (uint16_t)(len / 4 - 1));
}

static void writeBlock(uint8_t *b, const tbRtcpReportBlock *rb) {
    int32_t lost = rb->cumulative_lost;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    tbWr32(b, rb->ssrc);
    b[4] = rb->fraction_lost;
    tbWr24(b + 5, (uint32_t)lost & 0xffffff);
    tbWr32(b + 8, rb->highest_seq);
    tbWr32(b + 12, rb->jitter);
    tbWr32(b + 16, rb->lsr);
    tbWr32(b + 20, rb->dlsr);
}

int tbRtcpWriteSr(uint8_t *out, size_t cap, const tbRtcpSenderInfo *info,
                  const tbRtcpReportBlock *blocks, size_t nblocks) {
    if (nblocks > TB_RTCP_MAX_BLOCKS || (nblocks > 0 && blocks == NULL))
        return TB_RTCP_ERR_ARG;
    size_t len = 28 + RTCP_BLOCK * nblocks;
    if (len > cap)
        return TB_RTCP_ERR_SPACE;
    rtcpHeader(out, (uint8_t)nblocks, TB_RTCP_SR, len);
    tbWr32(out + 4, info->ssrc);
    tbWr32(out + 8, info->ntp_sec);
    tbWr32(out + 12, info->ntp_frac);
    tbWr32(out + 16, info->rtp_ts);
    tbWr32(out + 20, info->packet_count);
    tbWr32(out + 24, info->octet_count);
    for (size_t i = 0; i < nblocks; i++)
        writeBlock(out + 28 + RTCP_BLOCK * i, &blocks[i]);
    return (int)len;
}

int tbRtcpWriteRr(uint8_t *out, size_t cap, uint32_t ssrc, const tbRtcpReportBlock *blocks,
                  size_t nblocks) {
    if (nblocks > TB_RTCP_MAX_BLOCKS || (nblocks > 0 && blocks == NULL))
        return TB_RTCP_ERR_ARG;
    size_t len = 8 + RTCP_BLOCK * nblocks;
    if (len > cap)
        return TB_RTCP_ERR_SPACE;
    rtcpHeader(out, (uint8_t)nblocks, TB_RTCP_RR, len);
    tbWr32(out + 4, ssrc);
    for (size_t i = 0; i < nblocks; i++)
        writeBlock(out + 8 + RTCP_BLOCK * i, &blocks[i]);
    return (int)len;
}

int tbRtcpWriteSdesCname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname,
                         size_t cname_len) {
    if (cname == NULL || cname_len == 0 || cname_len > 255)
        return TB_RTCP_ERR_ARG;
    /* header, SSRC, CNAME item, at least one END octet, padded to 32 bits */
    size_t len = 4 + 4 + ((2 + cname_len + 1 + 3) & ~(size_t)3);
    if (len > cap)
        return TB_RTCP_ERR_SPACE;
    memset(out, 0, len);
    rtcpHeader(out, 1, TB_RTCP_SDES, len);
    tbWr32(out + 4, ssrc);
    out[8] = TB_RTCP_SDES_CNAME;
    out[9] = (uint8_t)cname_len;
    memcpy(out + 10, cname, cname_len);
    return (int)len;
}

int tbRtcpWriteBye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n) {
    if (n == 0 || n > TB_RTCP_MAX_BLOCKS || ssrcs == NULL)
        return TB_RTCP_ERR_ARG;
    size_t len = 4 + 4 * n;
    if (len > cap)
        return TB_RTCP_ERR_SPACE;
    rtcpHeader(out, (uint8_t)n, TB_RTCP_BYE, len);
    for (size_t i = 0; i < n; i++)
        tbWr32(out + 4 + 4 * i, ssrcs[i]);
    return (int)len;
}

/* Adds seq to the FCIs at fci[0..*nfci): into an existing PID/BLP pair when
 * it falls in one, else as a new pair. Returns false when out of space. */
static bool nackAdd(uint8_t *fci, size_t *nfci, size_t maxfci, uint16_t seq) {
    for (size_t i = 0; i < *nfci; i++) {
        uint8_t *f = fci + 4 * i;
        uint16_t d = (uint16_t)(seq - tbRd16(f));
        if (d == 0)
            return true;
        if (d <= 16) {
            tbWr16(f + 2, (uint16_t)(tbRd16(f + 2) | 1u << (d - 1)));
            return true;
        }
    }
    if (*nfci == maxfci)
        return false;
    uint8_t *f = fci + 4 * (*nfci)++;
    tbWr16(f, seq);
    tbWr16(f + 2, 0);
    return true;
}

int tbRtcpWriteNack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n) {
    if (n == 0 || seqs == NULL)
        return TB_RTCP_ERR_ARG;
    if (cap < 16)
        return TB_RTCP_ERR_SPACE;
    size_t maxfci = (cap - 12) / 4, nfci = 0;
    if (maxfci > 1024) /* keeps the packet within one datagram */
        maxfci = 1024;
    for (size_t i = 0; i < n; i++) {
        if (!nackAdd(out + 12, &nfci, maxfci, seqs[i]))
            return TB_RTCP_ERR_SPACE;
    }
    size_t len = 12 + 4 * nfci;
    rtcpHeader(out, 1, TB_RTCP_RTPFB, len);
    tbWr32(out + 4, sender_ssrc);
    tbWr32(out + 8, media_ssrc);
    return (int)len;
}

int tbRtcpWritePli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc) {
    if (cap < 12)
        return TB_RTCP_ERR_SPACE;
    rtcpHeader(out, 1, TB_RTCP_PSFB, 12);
    tbWr32(out + 4, sender_ssrc);
    tbWr32(out + 8, media_ssrc);
    return 12;
}

int tbRtcpWriteReport(uint8_t *out, size_t cap, const tbRtcpSenderInfo *info, uint32_t ssrc,
                      const tbRtcpReportBlock *blocks, size_t nblocks, const char *cname,
                      size_t cname_len) {
    int n = info != NULL ? tbRtcpWriteSr(out, cap, info, blocks, nblocks)
                         : tbRtcpWriteRr(out, cap, ssrc, blocks, nblocks);
    if (n < 0)
        return n;
    int m = tbRtcpWriteSdesCname(out + n, cap - (size_t)n, info != NULL ? info->ssrc : ssrc,
                                 cname, cname_len);
    if (m < 0)
        return m;
    return n + m;
}

void tbRtcpNtpFromUnixUs(uint64_t unix_us, uint32_t *ntp_sec, uint32_t *ntp_frac) {
    *ntp_sec = (uint32_t)(unix_us / 1000000 + NTP_UNIX_OFFSET);
    *ntp_frac = (uint32_t)(((unix_us % 1000000) << 32) / 1000000);
}

uint32_t tbRtcpNtpMiddle(uint32_t ntp_sec, uint32_t ntp_frac) {
    return ntp_sec << 16 | ntp_frac >> 16;
}
