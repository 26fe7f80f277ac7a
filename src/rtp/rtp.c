/* rtp.c — RTP header parsing, RFC 8285 header extensions, RFC 6464 audio
 * level, RFC 5761 demux and the per-subscriber rewrite. Hand-written (see
 * rtp.h for why); pure functions over caller buffers. */
#include "rtp/rtp.h"

#include <string.h>

#include "rtp/bytes.h"

int tbRtpParse(const uint8_t *buf, size_t len, tbRtpHeader *h) {
    if (len < TB_RTP_HEADER_LEN)
        return TB_RTP_ERR_SHORT;
    if (len > TB_RTP_MAX_LEN)
        return TB_RTP_ERR_TOO_LONG;
    if ((buf[0] >> 6) != 2)
        return TB_RTP_ERR_VERSION;
    memset(h, 0, sizeof *h);
    h->marker = (buf[1] & 0x80) != 0;
    h->pt = buf[1] & 0x7f;
    h->seq = tbRd16(buf + 2);
    h->ts = tbRd32(buf + 4);
    h->ssrc = tbRd32(buf + 8);
    h->csrc_count = buf[0] & 0x0f;
    size_t off = TB_RTP_HEADER_LEN + 4u * h->csrc_count;
    if (off > len)
        return TB_RTP_ERR_CSRC;
    if (buf[0] & 0x10) {
        if (off + 4 > len)
            return TB_RTP_ERR_EXT;
        size_t extLen = 4u * tbRd16(buf + off + 2);
        if (off + 4 + extLen > len)
            return TB_RTP_ERR_EXT;
        h->has_ext = true;
        h->ext_profile = tbRd16(buf + off);
        h->ext_off = (uint16_t)(off + 4);
        h->ext_len = (uint16_t)extLen;
        off += 4 + extLen;
    }
    size_t end = len;
    if (buf[0] & 0x20) {
        uint8_t pad = buf[len - 1];
        if (pad == 0 || pad > len - off)
            return TB_RTP_ERR_PADDING;
        h->pad_len = pad;
        end -= pad;
    }
    h->payload_off = (uint16_t)off;
    h->payload_len = (uint16_t)(end - off);
    return TB_RTP_OK;
}

bool tbRtpIsRtcp(const uint8_t *buf, size_t len) {
    return len >= 2 && (buf[0] >> 6) == 2 && buf[1] >= 192 && buf[1] <= 223;
}

/* ---- header extensions (RFC 8285) -------------------------------------- */

bool tbRtpExtIterInit(tbRtpExtIter *it, const uint8_t *buf, const tbRtpHeader *h) {
    it->p = it->end = NULL;
    it->two_byte = false;
    if (!h->has_ext)
        return false;
    if (h->ext_profile == TB_RTP_EXT_ONE_BYTE)
        it->two_byte = false;
    else if ((h->ext_profile & 0xfff0) == TB_RTP_EXT_TWO_BYTE)
        it->two_byte = true;
    else
        return false;
    it->p = buf + h->ext_off;
    it->end = it->p + h->ext_len;
    return true;
}

int tbRtpExtIterNext(tbRtpExtIter *it, uint8_t *id, const uint8_t **data, uint8_t *len) {
    while (it->p != NULL && it->p < it->end) {
        uint8_t b = *it->p;
        if (b == 0) { /* padding byte, both forms */
            it->p++;
            continue;
        }
        size_t hdr, n;
        if (!it->two_byte) {
            if ((b >> 4) == 15) /* reserved id 15: stop processing */
                break;
            if ((b >> 4) == 0) { /* id 0 with non-zero length: treat as padding */
                it->p++;
                continue;
            }
            hdr = 1;
            n = (size_t)(b & 0x0f) + 1;
        } else {
            if (it->end - it->p < 2)
                goto err;
            hdr = 2;
            n = it->p[1];
        }
        if ((size_t)(it->end - it->p) < hdr + n)
            goto err;
        *id = it->two_byte ? b : (uint8_t)(b >> 4);
        *data = it->p + hdr;
        *len = (uint8_t)n;
        it->p += hdr + n;
        return 1;
    }
    it->p = it->end;
    return 0;
err:
    it->p = it->end;
    return -1;
}

bool tbRtpFindExt(const uint8_t *buf, const tbRtpHeader *h, uint8_t id, const uint8_t **data,
                  uint8_t *len) {
    tbRtpExtIter it;
    uint8_t eid;
    if (id == 0 || !tbRtpExtIterInit(&it, buf, h))
        return false;
    while (tbRtpExtIterNext(&it, &eid, data, len) == 1) {
        if (eid == id)
            return true;
    }
    return false;
}

bool tbRtpGetAudioLevel(const uint8_t *buf, const tbRtpHeader *h, uint8_t id, uint8_t *level,
                        bool *voice) {
    const uint8_t *d;
    uint8_t n;
    if (!tbRtpFindExt(buf, h, id, &d, &n) || n < 1)
        return false;
    *level = d[0] & 0x7f;
    *voice = (d[0] & 0x80) != 0;
    return true;
}

/* ---- per-subscriber rewrite --------------------------------------------- */

/* True when every requested element fits the one-byte form. */
static bool rwOneByte(const tbRtpRewrite *rw) {
    if (rw->audio_level_id > 14 || rw->mid_id > 14 || rw->twcc_id > 14)
        return false;
    return rw->mid_id == 0 || rw->mid_len <= 16;
}

size_t tbRtpRewriteExtLen(const tbRtpRewrite *rw) {
    size_t hdr = rwOneByte(rw) ? 1 : 2, n = 0;
    if (rw->audio_level_id)
        n += hdr + 1;
    if (rw->mid_id)
        n += hdr + rw->mid_len;
    if (rw->twcc_id)
        n += hdr + 2;
    if (n == 0)
        return 0;
    return 4 + (n + 3) / 4 * 4;
}

/* Appends one element at p; returns the byte after it. */
static uint8_t *rwElement(uint8_t *p, bool one, uint8_t id, const uint8_t *data, uint8_t n) {
    if (one) {
        *p++ = (uint8_t)(id << 4 | (n - 1));
    } else {
        *p++ = id;
        *p++ = n;
    }
    memcpy(p, data, n);
    return p + n;
}

/* Writes the extension block (header + elements + padding) at out. */
static void rwWriteExt(const tbRtpRewrite *rw, uint8_t *out, size_t extLen) {
    bool one = rwOneByte(rw);
    tbWr16(out, one ? TB_RTP_EXT_ONE_BYTE : TB_RTP_EXT_TWO_BYTE);
    tbWr16(out + 2, (uint16_t)((extLen - 4) / 4));
    memset(out + 4, 0, extLen - 4);
    uint8_t *p = out + 4;
    if (rw->audio_level_id) {
        uint8_t b = (uint8_t)((rw->voice ? 0x80 : 0) | (rw->audio_level & 0x7f));
        p = rwElement(p, one, rw->audio_level_id, &b, 1);
    }
    if (rw->mid_id)
        p = rwElement(p, one, rw->mid_id, (const uint8_t *)rw->mid, rw->mid_len);
    if (rw->twcc_id) {
        uint8_t s[2];
        tbWr16(s, rw->twcc_seq);
        rwElement(p, one, rw->twcc_id, s, 2);
    }
}

int tbRtpWrite(const uint8_t *in, const tbRtpHeader *h, const tbRtpRewrite *rw, uint8_t *out,
               size_t cap) {
    if (rw->pt > 127 || (rw->mid_id && (rw->mid_len == 0 || rw->mid == NULL)))
        return TB_RTP_ERR_ARG;
    size_t csrcLen = 4u * h->csrc_count;
    size_t extLen = tbRtpRewriteExtLen(rw);
    size_t total = TB_RTP_HEADER_LEN + csrcLen + extLen + h->payload_len;
    if (total > cap)
        return TB_RTP_ERR_SPACE;
    if (total > TB_RTP_MAX_LEN)
        return TB_RTP_ERR_TOO_LONG;
    out[0] = (uint8_t)(0x80 | (extLen ? 0x10 : 0) | h->csrc_count);
    out[1] = (uint8_t)(((h->marker || rw->set_marker) ? 0x80 : 0) | rw->pt);
    tbWr16(out + 2, rw->seq);
    tbWr32(out + 4, rw->ts);
    tbWr32(out + 8, rw->ssrc);
    memcpy(out + TB_RTP_HEADER_LEN, in + TB_RTP_HEADER_LEN, csrcLen);
    size_t off = TB_RTP_HEADER_LEN + csrcLen;
    if (extLen)
        rwWriteExt(rw, out + off, extLen);
    off += extLen;
    memcpy(out + off, in + h->payload_off, h->payload_len);
    return (int)total;
}

int tbRtpRedPrimary(const uint8_t *buf, tbRtpHeader *h) {
    size_t off = h->payload_off, end = (size_t)h->payload_off + h->payload_len, skip = 0;
    while (off < end && (buf[off] & 0x80)) { /* F=1: a 4-byte block header */
        if (off + 4 > end) return TB_RTP_ERR_SHORT;
        skip += ((size_t)(buf[off + 2] & 0x03) << 8) | buf[off + 3];
        off += 4;
    }
    if (off >= end) return TB_RTP_ERR_SHORT; /* the final 1-byte header is missing */
    off += 1;
    if (off + skip > end) return TB_RTP_ERR_SHORT;
    h->payload_off = (uint16_t)(off + skip);
    h->payload_len = (uint16_t)(end - off - skip);
    return TB_RTP_OK;
}

void tbRtpRedRenumber(uint8_t *payload, size_t len, uint8_t from, uint8_t to) {
    size_t off = 0;
    while (off < len) {
        bool more = payload[off] & 0x80;
        if ((payload[off] & 0x7f) == from) payload[off] = (uint8_t)((payload[off] & 0x80) | to);
        if (!more) return;
        off += 4;
    }
}
