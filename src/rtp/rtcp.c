/* rtcp.c — RTCP compound packet framing and per-type parsers (RFC 3550 §6,
 * RFC 4585 §6). Hand-written (see rtcp.h); the builders are in
 * rtcp_build.c. Every read is bounds-checked against the packet's body. */
#include "rtp/rtcp.h"

#include <string.h>

#include "rtp/bytes.h"

#define RTCP_HDR 4
#define RTCP_BLOCK 24 /* report block */

/* ---- SDES walk (also the SDES shape check, with cb == NULL) ------------- */

/* Walks the items of one chunk starting at *pp; leaves *pp after its END
 * item and the alignment padding. */
static int sdesChunk(const uint8_t *body, const uint8_t **pp, const uint8_t *end,
                     tbRtcpSdesCb cb, void *ud, bool *stop) {
    const uint8_t *p = *pp;
    if (end - p < 4)
        return TB_RTCP_ERR_SHORT;
    uint32_t ssrc = tbRd32(p);
    p += 4;
    for (;;) {
        if (p >= end)
            return TB_RTCP_ERR_FORMAT; /* chunk without an END item */
        if (*p == 0)
            break;
        if (end - p < 2 || end - p < 2 + p[1])
            return TB_RTCP_ERR_FORMAT;
        if (cb != NULL && !*stop && !cb(ud, ssrc, p[0], p + 2, p[1]))
            *stop = true;
        p += 2 + p[1];
    }
    size_t used = (size_t)(p + 1 - body);
    used = (used + 3) & ~(size_t)3; /* END octet plus padding to 32 bits */
    if (used > (size_t)(end - body))
        return TB_RTCP_ERR_FORMAT;
    *pp = body + used;
    return TB_RTCP_OK;
}

static int sdesWalk(const tbRtcpPacket *p, tbRtcpSdesCb cb, void *ud) {
    const uint8_t *body = p->data + RTCP_HDR, *end = body + p->body_len, *q = body;
    bool stop = false;
    for (unsigned i = 0; i < p->count; i++) {
        int rc = sdesChunk(body, &q, end, cb, ud, &stop);
        if (rc != TB_RTCP_OK)
            return rc;
    }
    return TB_RTCP_OK;
}

/* ---- framing ------------------------------------------------------------ */

static int byeShape(const tbRtcpPacket *p) {
    size_t need = 4u * p->count;
    if (p->body_len < need)
        return TB_RTCP_ERR_SHORT;
    if (p->body_len > need && p->body_len < need + 1u + p->data[RTCP_HDR + need])
        return TB_RTCP_ERR_FORMAT; /* reason length past the end */
    return TB_RTCP_OK;
}

static int fbShape(const tbRtcpPacket *p) {
    if (p->body_len < 8)
        return TB_RTCP_ERR_SHORT;
    size_t fci = p->body_len - 8u;
    if (p->pt == TB_RTCP_RTPFB && p->count == 1 && (fci == 0 || fci % 4 != 0))
        return TB_RTCP_ERR_FORMAT; /* NACK: one or more 4-byte PID/BLP pairs */
    if (p->pt == TB_RTCP_PSFB && p->count == 4 && (fci == 0 || fci % 8 != 0))
        return TB_RTCP_ERR_FORMAT; /* FIR: 8-byte entries */
    return TB_RTCP_OK;
}

/* Per-type minimum sizes, so parsers never read past body_len. */
static int rtcpShape(const tbRtcpPacket *p) {
    switch (p->pt) {
    case TB_RTCP_SR:
        return p->body_len < 24u + RTCP_BLOCK * p->count ? TB_RTCP_ERR_SHORT : TB_RTCP_OK;
    case TB_RTCP_RR:
        return p->body_len < 4u + RTCP_BLOCK * p->count ? TB_RTCP_ERR_SHORT : TB_RTCP_OK;
    case TB_RTCP_SDES:
        return sdesWalk(p, NULL, NULL);
    case TB_RTCP_BYE:
        return byeShape(p);
    case TB_RTCP_APP:
        return p->body_len < 8 ? TB_RTCP_ERR_SHORT : TB_RTCP_OK;
    case TB_RTCP_RTPFB:
    case TB_RTCP_PSFB:
        return fbShape(p);
    case TB_RTCP_XR:
        return p->body_len < 4 ? TB_RTCP_ERR_SHORT : TB_RTCP_OK;
    default:
        return TB_RTCP_OK;
    }
}

void tbRtcpIterInit(tbRtcpIter *it, const uint8_t *buf, size_t len) {
    it->buf = buf;
    it->len = len;
    it->off = 0;
    it->status = TB_RTCP_OK;
}

/* Frames the packet at it->off; fills *p or returns an error. */
static int rtcpFrame(const tbRtcpIter *it, tbRtcpPacket *p) {
    size_t rem = it->len - it->off;
    const uint8_t *b = it->buf + it->off;
    if (rem < RTCP_HDR)
        return TB_RTCP_ERR_SHORT;
    if ((b[0] >> 6) != 2)
        return TB_RTCP_ERR_VERSION;
    if (b[1] < 192 || b[1] > 223)
        return TB_RTCP_ERR_TYPE;
    size_t plen = 4u * ((size_t)tbRd16(b + 2) + 1);
    if (plen > rem || plen > UINT16_MAX)
        return TB_RTCP_ERR_LENGTH;
    size_t pad = 0;
    if (b[0] & 0x20) {
        pad = b[plen - 1];
        if (plen != rem || pad == 0 || pad > plen - RTCP_HDR)
            return TB_RTCP_ERR_PADDING;
    }
    p->pt = b[1];
    p->count = b[0] & 0x1f;
    p->data = b;
    p->len = (uint16_t)plen;
    p->body_len = (uint16_t)(plen - RTCP_HDR - pad);
    return rtcpShape(p);
}

int tbRtcpIterNext(tbRtcpIter *it, tbRtcpPacket *p) {
    if (it->status != TB_RTCP_OK)
        return it->status;
    if (it->off >= it->len) {
        if (it->len > 0)
            return 0;
        it->status = TB_RTCP_ERR_SHORT;
        return it->status;
    }
    int rc = rtcpFrame(it, p);
    if (rc != TB_RTCP_OK) {
        it->status = rc;
        return rc;
    }
    it->off += p->len;
    return 1;
}

int tbRtcpValidate(const uint8_t *buf, size_t len) {
    tbRtcpIter it;
    tbRtcpPacket p;
    int n = 0, rc;
    tbRtcpIterInit(&it, buf, len);
    while ((rc = tbRtcpIterNext(&it, &p)) == 1)
        n++;
    return rc < 0 ? rc : n;
}

/* ---- per-type parsers --------------------------------------------------- */

static void readBlock(const uint8_t *b, tbRtcpReportBlock *rb) {
    rb->ssrc = tbRd32(b);
    rb->fraction_lost = b[4];
    uint32_t lost = tbRd24(b + 5);
    rb->cumulative_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    rb->highest_seq = tbRd32(b + 8);
    rb->jitter = tbRd32(b + 12);
    rb->lsr = tbRd32(b + 16);
    rb->dlsr = tbRd32(b + 20);
}

int tbRtcpParseSr(const tbRtcpPacket *p, tbRtcpSr *out) {
    if (p->pt != TB_RTCP_SR)
        return TB_RTCP_ERR_TYPE;
    if (p->body_len < 24u + RTCP_BLOCK * p->count)
        return TB_RTCP_ERR_SHORT;
    const uint8_t *b = p->data + RTCP_HDR;
    out->info.ssrc = tbRd32(b);
    out->info.ntp_sec = tbRd32(b + 4);
    out->info.ntp_frac = tbRd32(b + 8);
    out->info.rtp_ts = tbRd32(b + 12);
    out->info.packet_count = tbRd32(b + 16);
    out->info.octet_count = tbRd32(b + 20);
    out->nblocks = p->count;
    for (unsigned i = 0; i < p->count; i++)
        readBlock(b + 24 + RTCP_BLOCK * i, &out->blocks[i]);
    return TB_RTCP_OK;
}

int tbRtcpParseRr(const tbRtcpPacket *p, tbRtcpRr *out) {
    if (p->pt != TB_RTCP_RR)
        return TB_RTCP_ERR_TYPE;
    if (p->body_len < 4u + RTCP_BLOCK * p->count)
        return TB_RTCP_ERR_SHORT;
    const uint8_t *b = p->data + RTCP_HDR;
    out->ssrc = tbRd32(b);
    out->nblocks = p->count;
    for (unsigned i = 0; i < p->count; i++)
        readBlock(b + 4 + RTCP_BLOCK * i, &out->blocks[i]);
    return TB_RTCP_OK;
}

int tbRtcpParseSdes(const tbRtcpPacket *p, tbRtcpSdesCb cb, void *ud) {
    if (p->pt != TB_RTCP_SDES)
        return TB_RTCP_ERR_TYPE;
    return sdesWalk(p, cb, ud);
}

int tbRtcpParseBye(const tbRtcpPacket *p, tbRtcpBye *out) {
    if (p->pt != TB_RTCP_BYE)
        return TB_RTCP_ERR_TYPE;
    int rc = byeShape(p);
    if (rc != TB_RTCP_OK)
        return rc;
    const uint8_t *b = p->data + RTCP_HDR;
    size_t need = 4u * p->count;
    out->count = p->count;
    for (unsigned i = 0; i < p->count; i++)
        out->ssrcs[i] = tbRd32(b + 4 * i);
    out->reason = NULL;
    out->reason_len = 0;
    if (p->body_len > need) {
        out->reason_len = b[need];
        out->reason = b + need + 1;
    }
    return TB_RTCP_OK;
}

int tbRtcpParseApp(const tbRtcpPacket *p, tbRtcpApp *out) {
    if (p->pt != TB_RTCP_APP)
        return TB_RTCP_ERR_TYPE;
    if (p->body_len < 8)
        return TB_RTCP_ERR_SHORT;
    const uint8_t *b = p->data + RTCP_HDR;
    out->subtype = p->count;
    out->ssrc = tbRd32(b);
    memcpy(out->name, b + 4, 4);
    out->data = b + 8;
    out->data_len = (uint16_t)(p->body_len - 8);
    return TB_RTCP_OK;
}

static tbRtcpFbKind fbKind(const tbRtcpFb *fb) {
    if (fb->pt == TB_RTCP_RTPFB) {
        if (fb->fmt == 1)
            return TB_RTCP_FB_NACK;
        if (fb->fmt == 15)
            return TB_RTCP_FB_TWCC;
        return TB_RTCP_FB_OTHER;
    }
    if (fb->fmt == 1)
        return TB_RTCP_FB_PLI;
    if (fb->fmt == 4)
        return TB_RTCP_FB_FIR;
    if (fb->fmt == 15 && fb->fci_len >= 4 && memcmp(fb->fci, "REMB", 4) == 0)
        return TB_RTCP_FB_REMB;
    return TB_RTCP_FB_OTHER;
}

int tbRtcpParseFb(const tbRtcpPacket *p, tbRtcpFb *out) {
    if (p->pt != TB_RTCP_RTPFB && p->pt != TB_RTCP_PSFB)
        return TB_RTCP_ERR_TYPE;
    int rc = fbShape(p);
    if (rc != TB_RTCP_OK)
        return rc;
    const uint8_t *b = p->data + RTCP_HDR;
    out->pt = p->pt;
    out->fmt = p->count;
    out->sender_ssrc = tbRd32(b);
    out->media_ssrc = tbRd32(b + 4);
    out->fci = b + 8;
    out->fci_len = (uint16_t)(p->body_len - 8);
    out->kind = fbKind(out);
    return TB_RTCP_OK;
}

int tbRtcpNackSeqs(const tbRtcpFb *fb, uint16_t *seqs, size_t cap) {
    if (fb->kind != TB_RTCP_FB_NACK)
        return TB_RTCP_ERR_TYPE;
    size_t n = 0;
    for (size_t off = 0; off + 4 <= fb->fci_len; off += 4) {
        uint16_t pid = tbRd16(fb->fci + off), blp = tbRd16(fb->fci + off + 2);
        if (n < cap)
            seqs[n] = pid;
        n++;
        for (unsigned i = 0; i < 16; i++) {
            if (!(blp >> i & 1))
                continue;
            if (n < cap)
                seqs[n] = (uint16_t)(pid + i + 1);
            n++;
        }
    }
    return (int)n;
}
