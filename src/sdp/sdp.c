/* sdp.c — the SDP parser (see sdp.h). Hand-written, for input straight from
 * the network: pass 1 (sdpScan) validates every byte and line shape and
 * counts what pass 2 will store; then one calloc holds the tbSdp, the
 * sections, every per-section array and a copy of the text, and pass 2
 * (sdpParseLines) cuts the copy into NUL-terminated strings in place.
 * Unknown lines and attributes are ignored; malformed known ones are errors
 * carrying their line number. */
#include "ice/ice_lite.h"  /* tbIceIsIceChars: RFC 8839 ice-chars */
#include "sdp/sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How many entries pass 2 may store; pass 1 counts them exactly. */
typedef struct sdpCounts {
    size_t sections;
    size_t codecs;                  /* payload types on m= lines */
    size_t fbs;
    size_t extmaps;
    size_t ssrcs;
    size_t cands;
    size_t groups;                  /* tokens on a=group lines */
} sdpCounts;

typedef struct sdpParser {
    tbSdp *sdp;
    tbSdpSection *cur;              /* NULL at session level */
    int line;
    tbSdpError *err;
    sdpCounts cap;                  /* pool sizes */
    sdpCounts used;                 /* pool entries taken */
    tbSdpCodec *codecs;
    tbSdpRtcpFb *fbs;
    tbSdpExtmap *extmaps;
    tbSdpSsrc *ssrcs;
    const char **cands;
    const char **groups;
} sdpParser;

static int sdpErr(tbSdpError *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sdpErr(tbSdpError *err, int line, const char *fmt, ...) {
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    err->line = line;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static bool sdpIsSpace(char c) { return c == ' ' || c == '\t'; }

/* ---- pass 1: validate and count ---------------------------------------- */

static size_t sdpCountTokens(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!sdpIsSpace(s[i]) && (i == 0 || sdpIsSpace(s[i - 1]))) k++;
    return k;
}

static bool sdpHasPrefix(const char *s, size_t n, const char *prefix) {
    size_t pl = strlen(prefix);
    return n >= pl && memcmp(s, prefix, pl) == 0;
}

static void sdpCountLine(const char *l, size_t n, sdpCounts *c) {
    if (l[0] == 'm') {
        size_t k = sdpCountTokens(l + 2, n - 2);
        c->sections++;
        c->codecs += k > 3 ? k - 3 : 0;
    } else if (l[0] == 'a') {
        if (sdpHasPrefix(l, n, "a=rtcp-fb:")) c->fbs++;
        else if (sdpHasPrefix(l, n, "a=extmap:")) c->extmaps++;
        else if (sdpHasPrefix(l, n, "a=ssrc:")) c->ssrcs++;
        else if (sdpHasPrefix(l, n, "a=candidate:")) c->cands++;
        else if (sdpHasPrefix(l, n, "a=group:")) c->groups += sdpCountTokens(l, n);
    }
}

/* One line without its terminator: bytes and "<letter>=" shape. */
static int sdpCheckLine(const char *l, size_t n, int line, tbSdpError *err) {
    if (n > TB_SDP_MAX_LINE)
        return sdpErr(err, line, "line too long (%zu bytes, max %d)", n, TB_SDP_MAX_LINE);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)l[i];
        if (ch == 0) return sdpErr(err, line, "NUL byte in line");
        if (ch == '\r') return sdpErr(err, line, "stray CR inside line");
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return sdpErr(err, line, "control character 0x%02x in line", ch);
    }
    if (n > 0 && (n < 2 || l[1] != '=' || l[0] < 'a' || l[0] > 'z'))
        return sdpErr(err, line, "expected '<letter>=<value>'");
    return 0;
}

static int sdpScan(const char *t, size_t len, sdpCounts *c, tbSdpError *err) {
    size_t pos = 0;
    int line = 0;
    bool seen = false;
    memset(c, 0, sizeof *c);
    while (pos < len) {
        line++;
        const char *nl = memchr(t + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - t) : len;
        size_t n = end - pos;
        if (n > 0 && t[pos + n - 1] == '\r') n--;
        if (sdpCheckLine(t + pos, n, line, err) < 0) return -1;
        if (n > 0) {
            if (!seen && !(n == 3 && memcmp(t + pos, "v=0", 3) == 0))
                return sdpErr(err, line, "SDP must start with v=0");
            seen = true;
            sdpCountLine(t + pos, n, c);
            if (c->sections > TB_SDP_MAX_SECTIONS)
                return sdpErr(err, line, "too many m= sections (max %d)", TB_SDP_MAX_SECTIONS);
        }
        pos = end + 1;
    }
    if (!seen) return sdpErr(err, 0, "empty SDP");
    return 0;
}

/* ---- pass 2 helpers ----------------------------------------------------- */

/* Next whitespace-separated token of *rest, NUL-terminated in place. */
static char *sdpToken(char **rest) {
    char *s = *rest;
    while (sdpIsSpace(*s)) s++;
    if (!*s) {
        *rest = s;
        return NULL;
    }
    char *t = s;
    while (*s && !sdpIsSpace(*s)) s++;
    if (*s) *s++ = '\0';
    *rest = s;
    return t;
}

/* The rest of the value after leading whitespace, NULL if nothing is left. */
static char *sdpRest(char *rest) {
    while (sdpIsSpace(*rest)) rest++;
    return *rest ? rest : NULL;
}

static bool sdpU32(const char *s, uint32_t max, uint32_t *out) {
    uint64_t v = 0;
    if (!s || !*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max) return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* pt 0..127, or '*' (TB_SDP_PT_ANY) when any is allowed. */
static bool sdpPt(const char *s, bool any, uint8_t *out) {
    uint32_t v;
    if (any && s && strcmp(s, "*") == 0) {
        *out = TB_SDP_PT_ANY;
        return true;
    }
    if (!sdpU32(s, 127, &v)) return false;
    *out = (uint8_t)v;
    return true;
}

static tbSdpCodec *sdpCodecByPt(tbSdpSection *s, uint8_t pt) {
    for (size_t i = 0; i < s->num_codecs; i++)
        if (s->codecs[i].pt == pt) return &s->codecs[i];
    return NULL;
}

static int sdpPoolFull(sdpParser *ps) {
    return sdpErr(ps->err, ps->line, "internal: attribute pool exhausted");
}

/* Names and clocks of the static audio payload types (RFC 3551) that
 * WebRTC peers offer without a=rtpmap. */
static void sdpStaticCodec(tbSdpCodec *c) {
    static const struct { uint8_t pt; const char *name; uint32_t clock; } tab[] = {
        {0, "PCMU", 8000}, {3, "GSM", 8000}, {4, "G723", 8000}, {8, "PCMA", 8000},
        {9, "G722", 8000}, {13, "CN", 8000}, {18, "G729", 8000},
    };
    c->name = "";
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (tab[i].pt == c->pt) {
            c->name = tab[i].name;
            c->clock = tab[i].clock;
        }
    }
}

static bool sdpDirOf(const char *s, tbSdpDirection *d) {
    static const char *names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *d = (tbSdpDirection)(TB_SDP_DIR_SENDRECV + i);
            return true;
        }
    }
    return false;
}

static tbSdpKind sdpKindOf(const char *m) {
    if (strcmp(m, "audio") == 0) return TB_SDP_KIND_AUDIO;
    if (strcmp(m, "video") == 0) return TB_SDP_KIND_VIDEO;
    if (strcmp(m, "application") == 0) return TB_SDP_KIND_APPLICATION;
    return TB_SDP_KIND_OTHER;
}

static tbSdpProto sdpProtoOf(const char *p) {
    if (strcmp(p, "UDP/TLS/RTP/SAVPF") == 0 || strcmp(p, "TCP/DTLS/RTP/SAVPF") == 0 ||
        strcmp(p, "UDP/TLS/RTP/SAVP") == 0 || strcmp(p, "TCP/DTLS/RTP/SAVP") == 0)
        return TB_SDP_PROTO_RTP;
    if (strcmp(p, "UDP/DTLS/SCTP") == 0 || strcmp(p, "TCP/DTLS/SCTP") == 0)
        return TB_SDP_PROTO_SCTP;
    if (strcmp(p, "DTLS/SCTP") == 0) return TB_SDP_PROTO_SCTP_LEGACY;
    return TB_SDP_PROTO_OTHER;
}

/* ---- lines -------------------------------------------------------------- */

static int sdpOrigin(sdpParser *ps, char *v) {
    tbSdp *sdp = ps->sdp;
    char *f[6];
    for (int i = 0; i < 6; i++) {
        f[i] = sdpToken(&v);
        if (!f[i]) return sdpErr(ps->err, ps->line, "o= needs 6 fields");
    }
    sdp->origin_user = f[0];
    sdp->origin_sess_id = f[1];
    sdp->origin_sess_version = f[2];
    sdp->origin_addr = f[5];
    return 0;
}

static int sdpConn(sdpParser *ps, char *v) {
    char *net = sdpToken(&v), *type = sdpToken(&v), *addr = sdpToken(&v);
    if (!net || !type || !addr) return sdpErr(ps->err, ps->line, "c= needs 3 fields");
    if (ps->cur) ps->cur->conn_addr = addr;
    return 0;
}

/* The formats of an m= line: payload types for RTP, else the first token. */
static int sdpFormats(sdpParser *ps, tbSdpSection *s, char *v, bool rtp) {
    char *fmt;
    size_t nf = 0;
    while ((fmt = sdpToken(&v))) {
        if (nf++ == 0) s->fmt = fmt;
        if (!rtp) continue;
        uint8_t pt;
        if (!sdpPt(fmt, false, &pt))
            return sdpErr(ps->err, ps->line, "m=: bad payload type '%.16s'", fmt);
        if (sdpCodecByPt(s, pt)) continue;
        if (ps->used.codecs >= ps->cap.codecs) return sdpPoolFull(ps);
        tbSdpCodec *c = &s->codecs[s->num_codecs++];
        ps->used.codecs++;
        c->pt = pt;
        sdpStaticCodec(c);
    }
    if (nf == 0) return sdpErr(ps->err, ps->line, "m= needs <media> <port> <proto> <fmt>...");
    return 0;
}

static int sdpMedia(sdpParser *ps, char *v) {
    tbSdp *sdp = ps->sdp;
    if (sdp->num_sections >= ps->cap.sections) return sdpPoolFull(ps);
    tbSdpSection *s = &sdp->sections[sdp->num_sections++];
    ps->cur = s;
    s->line = ps->line;
    s->codecs = ps->codecs + ps->used.codecs;
    s->rtcp_fbs = ps->fbs + ps->used.fbs;
    s->extmaps = ps->extmaps + ps->used.extmaps;
    s->ssrcs = ps->ssrcs + ps->used.ssrcs;
    s->candidates = ps->cands + ps->used.cands;

    char *media = sdpToken(&v), *port = sdpToken(&v), *proto = sdpToken(&v);
    if (!media || !port || !proto)
        return sdpErr(ps->err, ps->line, "m= needs <media> <port> <proto> <fmt>...");
    char *slash = strchr(port, '/');
    uint32_t pv, np;
    if (slash) {
        *slash = '\0';
        if (!sdpU32(slash + 1, 65535, &np)) return sdpErr(ps->err, ps->line, "m=: bad port count");
    }
    if (!sdpU32(port, 65535, &pv)) return sdpErr(ps->err, ps->line, "m=: bad port");
    s->media = media;
    s->kind = sdpKindOf(media);
    s->port = (uint16_t)pv;
    s->proto_str = proto;
    s->proto = sdpProtoOf(proto);
    return sdpFormats(ps, s, v, strstr(proto, "RTP/") != NULL);
}

/* ---- attributes --------------------------------------------------------- */

typedef int (*sdpAttrFn)(sdpParser *ps, char *value);

#define NEED_VALUE(ps, v, name)                                                             \
    do {                                                                                    \
        if (!(v) || !sdpRest(v)) return sdpErr((ps)->err, (ps)->line, "a=%s needs a value", name); \
    } while (0)

static int attrRtpmap(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "rtpmap");
    if (!ps->cur) return 0;
    char *pts = sdpToken(&v), *enc = sdpToken(&v);
    uint8_t pt;
    uint32_t clock, ch = 0;
    if (!enc || !sdpPt(pts, false, &pt))
        return sdpErr(ps->err, ps->line, "a=rtpmap: expected <pt> <name>/<clock>[/<channels>]");
    char *c1 = strchr(enc, '/');
    char *c2 = c1 ? strchr(c1 + 1, '/') : NULL;
    if (c1) *c1 = '\0';
    if (c2) *c2 = '\0';
    if (!c1 || c1 == enc || !sdpU32(c1 + 1, UINT32_MAX, &clock) ||
        (c2 && (!sdpU32(c2 + 1, 255, &ch) || ch == 0)))
        return sdpErr(ps->err, ps->line, "a=rtpmap: expected <pt> <name>/<clock>[/<channels>]");
    tbSdpCodec *c = sdpCodecByPt(ps->cur, pt);
    if (!c) return 0; /* not on the m= line: ignored */
    c->name = enc;
    c->clock = clock;
    c->channels = (uint8_t)ch;
    return 0;
}

static int attrFmtp(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "fmtp");
    if (!ps->cur) return 0;
    uint8_t pt;
    if (!sdpPt(sdpToken(&v), false, &pt))
        return sdpErr(ps->err, ps->line, "a=fmtp: bad payload type");
    tbSdpCodec *c = sdpCodecByPt(ps->cur, pt);
    char *params = sdpRest(v);
    if (c && !c->fmtp) c->fmtp = params ? params : "";
    return 0;
}

static int attrRtcpFb(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "rtcp-fb");
    if (!ps->cur) return 0;
    uint8_t pt;
    char *pts = sdpToken(&v), *type = sdpToken(&v);
    if (!type || !sdpPt(pts, true, &pt))
        return sdpErr(ps->err, ps->line, "a=rtcp-fb: expected <pt|*> <type> [<param>]");
    if (ps->used.fbs >= ps->cap.fbs) return sdpPoolFull(ps);
    tbSdpRtcpFb *fb = &ps->cur->rtcp_fbs[ps->cur->num_rtcp_fbs++];
    ps->used.fbs++;
    fb->pt = pt;
    fb->type = type;
    fb->param = sdpRest(v);
    return 0;
}

static int attrExtmap(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "extmap");
    if (!ps->cur) return 0;
    char *ids = sdpToken(&v), *uri = sdpToken(&v);
    char *slash = ids ? strchr(ids, '/') : NULL;
    tbSdpDirection dir = TB_SDP_DIR_UNSET;
    uint32_t id;
    if (slash) {
        *slash = '\0';
        if (!sdpDirOf(slash + 1, &dir)) return sdpErr(ps->err, ps->line, "a=extmap: bad direction");
    }
    if (!uri || !sdpU32(ids, 255, &id) || id == 0)
        return sdpErr(ps->err, ps->line, "a=extmap: expected <id 1-255>[/<dir>] <uri>");
    if (ps->used.extmaps >= ps->cap.extmaps) return sdpPoolFull(ps);
    tbSdpExtmap *e = &ps->cur->extmaps[ps->cur->num_extmaps++];
    ps->used.extmaps++;
    e->id = (uint16_t)id;
    e->dir = dir;
    e->uri = uri;
    e->attrs = sdpRest(v);
    return 0;
}

static int attrSsrc(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "ssrc");
    if (!ps->cur) return 0;
    char *ids = sdpToken(&v), *attr = sdpRest(v);
    uint32_t ssrc;
    if (!attr || !sdpU32(ids, UINT32_MAX, &ssrc) || *attr == ':')
        return sdpErr(ps->err, ps->line, "a=ssrc: expected <ssrc> <attribute>[:<value>]");
    if (ps->used.ssrcs >= ps->cap.ssrcs) return sdpPoolFull(ps);
    tbSdpSsrc *s = &ps->cur->ssrcs[ps->cur->num_ssrcs++];
    ps->used.ssrcs++;
    char *colon = strchr(attr, ':');
    if (colon) *colon = '\0';
    s->ssrc = ssrc;
    s->attr = attr;
    s->value = colon ? colon + 1 : NULL;
    return 0;
}

static int attrSsrcGroup(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "ssrc-group");
    if (!ps->cur) return 0;
    tbSdpSection *s = ps->cur;
    if (s->num_ssrc_groups >= TB_SDP_MAX_SSRC_GROUPS)
        return sdpErr(ps->err, ps->line, "too many a=ssrc-group lines (max %d)",
                      TB_SDP_MAX_SSRC_GROUPS);
    tbSdpSsrcGroup *g = &s->ssrc_groups[s->num_ssrc_groups];
    g->semantics = sdpToken(&v);
    char *tok;
    while ((tok = sdpToken(&v))) {
        if (g->count >= TB_SDP_MAX_GROUP_SSRCS)
            return sdpErr(ps->err, ps->line, "a=ssrc-group: too many SSRCs (max %d)",
                          TB_SDP_MAX_GROUP_SSRCS);
        if (!sdpU32(tok, UINT32_MAX, &g->ssrcs[g->count++]))
            return sdpErr(ps->err, ps->line, "a=ssrc-group: bad SSRC");
    }
    if (g->count == 0) return sdpErr(ps->err, ps->line, "a=ssrc-group: no SSRC");
    s->num_ssrc_groups++;
    return 0;
}

static int attrMid(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "mid");
    if (!ps->cur) return 0;
    char *mid = sdpToken(&v);
    if (sdpRest(v) || strlen(mid) >= TB_SDP_MAX_MID)
        return sdpErr(ps->err, ps->line, "a=mid: one token of at most %d bytes",
                      TB_SDP_MAX_MID - 1);
    if (ps->cur->mid) return sdpErr(ps->err, ps->line, "second a=mid in one m= section");
    ps->cur->mid = mid;
    return 0;
}

static int attrMsid(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "msid");
    if (!ps->cur || ps->cur->msid_stream) return 0;
    ps->cur->msid_stream = sdpToken(&v);
    ps->cur->msid_track = sdpToken(&v);
    return 0;
}

static int attrIceCred(sdpParser *ps, char *v, const char **slot_sess, const char **slot_sec,
                       const char *name) {
    NEED_VALUE(ps, v, name);
    char *cred = sdpToken(&v);
    if (sdpRest(v) || !tbIceIsIceChars(cred, 1, 256))
        return sdpErr(ps->err, ps->line, "a=%s: expected 1-256 ice-chars", name);
    if (ps->cur) *slot_sec = cred;
    else *slot_sess = cred;
    return 0;
}

static int attrIceUfrag(sdpParser *ps, char *v) {
    tbSdpSection *s = ps->cur;
    return attrIceCred(ps, v, &ps->sdp->ice_ufrag, s ? &s->ice_ufrag : NULL, "ice-ufrag");
}

static int attrIcePwd(sdpParser *ps, char *v) {
    tbSdpSection *s = ps->cur;
    return attrIceCred(ps, v, &ps->sdp->ice_pwd, s ? &s->ice_pwd : NULL, "ice-pwd");
}

static int attrIceOptions(sdpParser *ps, char *v) {
    char *opts = v ? sdpRest(v) : NULL;
    if (ps->cur) ps->cur->ice_options = opts;
    else ps->sdp->ice_options = opts;
    return 0;
}

static int hexVal(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "AB:CD:..." into bytes. */
static bool sdpFpDecode(const char *hex, tbSdpFingerprint *fp) {
    size_t n = 0;
    const char *p = hex;
    while (*p) {
        int hi = hexVal(p[0]), lo = hexVal(p[1]); /* p[1] exists: p[0] != NUL */
        if (hi < 0 || lo < 0 || n >= TB_SDP_MAX_FP) return false;
        fp->bytes[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
        if (*p == ':') {
            if (!*++p) return false;
        } else if (*p) {
            return false;
        }
    }
    fp->len = (uint8_t)n;
    return n > 0;
}

static int attrFingerprint(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "fingerprint");
    tbSdpFingerprint *slot = ps->cur ? &ps->cur->fingerprint : &ps->sdp->fingerprint;
    tbSdpFingerprint fp = {0};
    fp.alg = sdpToken(&v);
    fp.hex = sdpToken(&v);
    if (!fp.hex || sdpRest(v) || !sdpFpDecode(fp.hex, &fp))
        return sdpErr(ps->err, ps->line, "a=fingerprint: expected <hash-func> <XX:XX:...>");
    /* Keep the first, unless a sha-256 one follows another kind. */
    if (!slot->alg || (strcasecmp(slot->alg, "sha-256") != 0 && strcasecmp(fp.alg, "sha-256") == 0))
        *slot = fp;
    return 0;
}

static int attrSetup(sdpParser *ps, char *v) {
    static const char *names[] = {"actpass", "active", "passive", "holdconn"};
    NEED_VALUE(ps, v, "setup");
    char *role = sdpToken(&v);
    for (int i = 0; i < 4; i++) {
        if (strcmp(role, names[i]) == 0) {
            tbSdpSetup s = (tbSdpSetup)(TB_SDP_SETUP_ACTPASS + i);
            if (ps->cur) ps->cur->setup = s;
            else ps->sdp->setup = s;
            return 0;
        }
    }
    return sdpErr(ps->err, ps->line, "a=setup: expected actpass, active, passive or holdconn");
}

/* Value-less attributes: directions (session or section) and section flags. */
static bool sdpFlagAttr(sdpParser *ps, const char *name) {
    static const struct { const char *name; size_t offset; } flags[] = {
        {"rtcp-mux", offsetof(tbSdpSection, rtcp_mux)},
        {"rtcp-rsize", offsetof(tbSdpSection, rtcp_rsize)},
        {"bundle-only", offsetof(tbSdpSection, bundle_only)},
        {"end-of-candidates", offsetof(tbSdpSection, end_of_candidates)},
    };
    tbSdpDirection d;
    if (sdpDirOf(name, &d)) {
        if (ps->cur) ps->cur->direction = d;
        else ps->sdp->direction = d;
        return true;
    }
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(name, flags[i].name) != 0) continue;
        if (ps->cur) *(bool *)((char *)ps->cur + flags[i].offset) = true;
        return true;
    }
    return false;
}

static int attrIceLite(sdpParser *ps, char *v) {
    (void)v;
    ps->sdp->ice_lite = true;
    return 0;
}

static int attrAllowMixed(sdpParser *ps, char *v) {
    (void)v;
    ps->sdp->extmap_allow_mixed = true;
    return 0;
}

static int attrMsidSemantic(sdpParser *ps, char *v) {
    if (!ps->cur) ps->sdp->msid_semantic = v ? (sdpRest(v) ? sdpRest(v) : "") : "";
    return 0;
}

static int attrNumber(sdpParser *ps, char *v, const char *name, uint32_t max, uint32_t *out) {
    NEED_VALUE(ps, v, name);
    char *tok = sdpToken(&v);
    if (!sdpU32(tok, max, out)) return sdpErr(ps->err, ps->line, "a=%s: bad number", name);
    return 0;
}

/* (the locals below start at 0: gcc -O3 cannot see that attrNumber sets them) */
static int attrSctpPort(sdpParser *ps, char *v) {
    uint32_t port = 0;
    if (attrNumber(ps, v, "sctp-port", 65535, &port) < 0) return -1;
    if (ps->cur) ps->cur->sctp_port = (uint16_t)port;
    return 0;
}

static int attrSctpmap(sdpParser *ps, char *v) {
    uint32_t port = 0;
    if (attrNumber(ps, v, "sctpmap", 65535, &port) < 0) return -1;
    if (ps->cur) ps->cur->sctp_port = (uint16_t)port;
    return 0;
}

static int attrMaxMessageSize(sdpParser *ps, char *v) {
    uint32_t size = 0;
    if (attrNumber(ps, v, "max-message-size", UINT32_MAX, &size) < 0) return -1;
    if (ps->cur) ps->cur->max_message_size = size;
    return 0;
}

static int attrCandidate(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "candidate");
    if (!ps->cur) return 0;
    if (ps->used.cands >= ps->cap.cands) return sdpPoolFull(ps);
    ps->cur->candidates[ps->cur->num_candidates++] = sdpRest(v);
    ps->used.cands++;
    return 0;
}

static int attrGroup(sdpParser *ps, char *v) {
    NEED_VALUE(ps, v, "group");
    tbSdp *sdp = ps->sdp;
    char *sem = sdpToken(&v), *mid;
    if (ps->cur || strcmp(sem, "BUNDLE") != 0 || sdp->bundle_line) return 0;
    sdp->bundle_line = ps->line;
    sdp->bundle_mids = ps->groups + ps->used.groups;
    while ((mid = sdpToken(&v))) {
        if (ps->used.groups >= ps->cap.groups) return sdpPoolFull(ps);
        sdp->bundle_mids[sdp->num_bundle_mids++] = mid;
        ps->used.groups++;
    }
    return 0;
}

static const struct {
    const char *name;
    sdpAttrFn fn;
} sdpAttrTable[] = {
    {"rtpmap", attrRtpmap},         {"fmtp", attrFmtp},
    {"rtcp-fb", attrRtcpFb},        {"extmap", attrExtmap},
    {"ssrc", attrSsrc},             {"ssrc-group", attrSsrcGroup},
    {"mid", attrMid},               {"msid", attrMsid},
    {"ice-ufrag", attrIceUfrag},    {"ice-pwd", attrIcePwd},
    {"ice-options", attrIceOptions}, {"ice-lite", attrIceLite},
    {"fingerprint", attrFingerprint}, {"setup", attrSetup},
    {"extmap-allow-mixed", attrAllowMixed}, {"msid-semantic", attrMsidSemantic},
    {"sctp-port", attrSctpPort},    {"sctpmap", attrSctpmap},
    {"max-message-size", attrMaxMessageSize}, {"candidate", attrCandidate},
    {"group", attrGroup},
};

static int sdpAttr(sdpParser *ps, char *v) {
    char *colon = strchr(v, ':');
    char *value = NULL;
    if (colon) {
        *colon = '\0';
        value = colon + 1;
    }
    if (sdpFlagAttr(ps, v)) return 0;
    for (size_t i = 0; i < sizeof sdpAttrTable / sizeof sdpAttrTable[0]; i++)
        if (strcmp(v, sdpAttrTable[i].name) == 0) return sdpAttrTable[i].fn(ps, value);
    return 0; /* unknown attribute: ignored */
}

static int sdpLine(sdpParser *ps, char type, char *v) {
    switch (type) {
    case 'o': return ps->cur ? 0 : sdpOrigin(ps, v);
    case 's':
        if (!ps->cur) ps->sdp->session_name = v;
        return 0;
    case 'c': return sdpConn(ps, v);
    case 'm': return sdpMedia(ps, v);
    case 'a': return sdpAttr(ps, v);
    default: return 0; /* v, t, b, i, u, e, p, z, k, r: nothing we need */
    }
}

static int sdpParseLines(sdpParser *ps, char *buf, size_t len) {
    char *p = buf, *end = buf + len; /* buf[len] is NUL */
    while (p < end) {
        ps->line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        *le = '\0';
        if (le > p && le[-1] == '\r') *--le = '\0';
        if (le > p && sdpLine(ps, p[0], p + 2) < 0) return -1;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* Defaults and cross-line checks: directions, unique mids, BUNDLE mids. */
static int sdpFinish(sdpParser *ps) {
    tbSdp *sdp = ps->sdp;
    for (size_t i = 0; i < sdp->num_sections; i++) {
        tbSdpSection *s = &sdp->sections[i];
        if (s->direction == TB_SDP_DIR_UNSET)
            s->direction = sdp->direction ? sdp->direction : TB_SDP_DIR_SENDRECV;
        for (size_t j = 0; s->mid && j < i; j++)
            if (sdp->sections[j].mid && strcmp(sdp->sections[j].mid, s->mid) == 0)
                return sdpErr(ps->err, s->line, "duplicate mid '%s'", s->mid);
    }
    for (size_t i = 0; i < sdp->num_bundle_mids; i++)
        if (!tbSdpFindMid(sdp, sdp->bundle_mids[i]))
            return sdpErr(ps->err, sdp->bundle_line, "BUNDLE group names unknown mid '%s'",
                          sdp->bundle_mids[i]);
    return 0;
}

/* ---- entry points ------------------------------------------------------- */

static size_t sdpAlign(size_t n) { return (n + 15) & ~(size_t)15; }

/* One block: tbSdp, sections, pools, text copy. */
static tbSdp *sdpAlloc(sdpParser *ps, const sdpCounts *c, size_t len, char **text) {
    size_t off[8], total = sdpAlign(sizeof(tbSdp));
    size_t sizes[7] = {c->sections * sizeof(tbSdpSection), c->codecs * sizeof(tbSdpCodec),
                       c->fbs * sizeof(tbSdpRtcpFb),       c->extmaps * sizeof(tbSdpExtmap),
                       c->ssrcs * sizeof(tbSdpSsrc),       c->cands * sizeof(char *),
                       c->groups * sizeof(char *)};
    for (int i = 0; i < 7; i++) {
        off[i] = total;
        total += sdpAlign(sizes[i]);
    }
    off[7] = total;
    char *mem = calloc(1, total + len + 1);
    if (!mem) return NULL;
    ps->sdp = (tbSdp *)mem;
    ps->sdp->sections = (tbSdpSection *)(mem + off[0]);
    ps->codecs = (tbSdpCodec *)(mem + off[1]);
    ps->fbs = (tbSdpRtcpFb *)(mem + off[2]);
    ps->extmaps = (tbSdpExtmap *)(mem + off[3]);
    ps->ssrcs = (tbSdpSsrc *)(mem + off[4]);
    ps->cands = (const char **)(mem + off[5]);
    ps->groups = (const char **)(mem + off[6]);
    ps->cap = *c;
    *text = mem + off[7];
    return ps->sdp;
}

tbSdp *tbSdpParse(const char *text, size_t len, tbSdpError *err) {
    sdpParser ps = {.err = err};
    sdpCounts counts;
    char *copy;
    if (err) memset(err, 0, sizeof *err);
    if (!text) len = 0;
    if (len > TB_SDP_MAX_LEN) {
        sdpErr(err, 0, "SDP too large (%zu bytes, max %d)", len, TB_SDP_MAX_LEN);
        return NULL;
    }
    if (sdpScan(text ? text : "", len, &counts, err) < 0) return NULL;
    if (!sdpAlloc(&ps, &counts, len, &copy)) {
        sdpErr(err, 0, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len);
    if (sdpParseLines(&ps, copy, len) < 0 || sdpFinish(&ps) < 0) goto err;
    return ps.sdp;

err:
    free(ps.sdp);
    return NULL;
}

void tbSdpFree(tbSdp *sdp) { free(sdp); }

/* ---- queries ------------------------------------------------------------ */

const tbSdpSection *tbSdpFindMid(const tbSdp *sdp, const char *mid) {
    for (size_t i = 0; sdp && mid && i < sdp->num_sections; i++)
        if (sdp->sections[i].mid && strcmp(sdp->sections[i].mid, mid) == 0)
            return &sdp->sections[i];
    return NULL;
}

const tbSdpCodec *tbSdpFindCodec(const tbSdpSection *s, const char *name, uint32_t clock,
                                 uint8_t channels) {
    for (size_t i = 0; i < s->num_codecs; i++) {
        const tbSdpCodec *c = &s->codecs[i];
        uint8_t ch = c->channels ? c->channels : 1;
        if (strcasecmp(c->name, name) == 0 && c->clock == clock && (!channels || ch == channels))
            return c;
    }
    return NULL;
}

bool tbSdpHasRtcpFb(const tbSdpSection *s, uint8_t pt, const char *type, const char *param) {
    for (size_t i = 0; i < s->num_rtcp_fbs; i++) {
        const tbSdpRtcpFb *fb = &s->rtcp_fbs[i];
        if (fb->pt != pt && fb->pt != TB_SDP_PT_ANY) continue;
        if (strcmp(fb->type, type) != 0) continue;
        if (param ? (fb->param && strcmp(fb->param, param) == 0) : !fb->param) return true;
    }
    return false;
}

unsigned tbSdpFindExtmap(const tbSdpSection *s, const char *uri) {
    for (size_t i = 0; i < s->num_extmaps; i++)
        if (strcmp(s->extmaps[i].uri, uri) == 0) return s->extmaps[i].id;
    return 0;
}

static bool sdpIsRepairSsrc(const tbSdpSection *s, uint32_t ssrc) {
    for (size_t i = 0; i < s->num_ssrc_groups; i++) {
        const tbSdpSsrcGroup *g = &s->ssrc_groups[i];
        if (strcmp(g->semantics, "FID") != 0 && strcmp(g->semantics, "FEC-FR") != 0) continue;
        for (uint8_t j = 1; j < g->count; j++)
            if (g->ssrcs[j] == ssrc) return true;
    }
    return false;
}

uint32_t tbSdpMediaSsrc(const tbSdpSection *s) {
    for (size_t i = 0; i < s->num_ssrcs; i++)
        if (!sdpIsRepairSsrc(s, s->ssrcs[i].ssrc)) return s->ssrcs[i].ssrc;
    return s->num_ssrc_groups ? s->ssrc_groups[0].ssrcs[0] : 0;
}

bool tbSdpTransport(const tbSdp *sdp, tbSdpTransportInfo *out) {
    const tbSdpSection *s = NULL;
    memset(out, 0, sizeof *out);
    if (sdp->num_bundle_mids) s = tbSdpFindMid(sdp, sdp->bundle_mids[0]);
    for (size_t i = 0; !s && i < sdp->num_sections; i++)
        if (sdp->sections[i].port || sdp->sections[i].bundle_only) s = &sdp->sections[i];
    out->section = s;
    out->ice_ufrag = s && s->ice_ufrag ? s->ice_ufrag : sdp->ice_ufrag;
    out->ice_pwd = s && s->ice_pwd ? s->ice_pwd : sdp->ice_pwd;
    out->fingerprint = s && s->fingerprint.alg ? &s->fingerprint
                       : sdp->fingerprint.alg  ? &sdp->fingerprint
                                               : NULL;
    out->setup = s && s->setup ? s->setup : sdp->setup;
    out->ice_lite = sdp->ice_lite;
    return out->ice_ufrag && out->ice_pwd && out->fingerprint;
}

const char *tbSdpKindName(tbSdpKind k) {
    switch (k) {
    case TB_SDP_KIND_AUDIO: return "audio";
    case TB_SDP_KIND_VIDEO: return "video";
    case TB_SDP_KIND_APPLICATION: return "application";
    default: return "other";
    }
}

const char *tbSdpDirectionName(tbSdpDirection d) {
    static const char *names[] = {"", "sendrecv", "sendonly", "recvonly", "inactive"};
    return (unsigned)d < 5 ? names[d] : "";
}

const char *tbSdpSetupName(tbSdpSetup s) {
    static const char *names[] = {"", "actpass", "active", "passive", "holdconn"};
    return (unsigned)s < 5 ? names[s] : "";
}
