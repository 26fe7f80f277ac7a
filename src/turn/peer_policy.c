/* peer_policy.c — the TURN peer-address safety policy (see peer_policy.h).
 *
 * Hand-written: coturn and pion each hard-wire their own rules inside their
 * servers; there is no library for this. Pure functions over addresses. */
#include "turn/peer_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- address helpers ---------------------------------------------------- */

static const uint8_t v4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t v4Translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
static const uint8_t nat64Wkp[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

/* True when the first `bits` bits of x and y agree. */
static bool prefixEq(const uint8_t *x, const uint8_t *y, int bits) {
    int full = bits / 8, rest = bits % 8;
    if (memcmp(x, y, (size_t)full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (x[full] & mask) == (y[full] & mask);
}

static bool isZero(const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

static void setV4(tbPeerAddr *a, const uint8_t *v4, bool invert) {
    uint8_t tmp[4];
    for (int i = 0; i < 4; i++) tmp[i] = invert ? (uint8_t)~v4[i] : v4[i];
    memset(a, 0, sizeof *a);
    a->family = AF_INET;
    memcpy(a->b, tmp, 4);
}

/* Rewrites an IPv6 address that embeds an IPv4 one into that IPv4 address. */
void tbPeerAddrCanonical(tbPeerAddr *a) {
    if (a->family != AF_INET6) return;
    const uint8_t *b = a->b;
    if (!memcmp(b, v4Mapped, 12) || !memcmp(b, v4Translated, 12) ||
        !memcmp(b, nat64Wkp, 12)) {
        setV4(a, b + 12, false);
    } else if (isZero(b, 12)) {
        /* IPv4-compatible ::a.b.c.d; :: and ::1 keep their IPv6 meaning. */
        if (b[12] | b[13] | b[14] || b[15] > 1) setV4(a, b + 12, false);
    } else if (b[0] == 0x20 && b[1] == 0x02) {
        setV4(a, b + 2, false); /* 6to4 2002:AABB:CCDD::/48 */
    } else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
        setV4(a, b + 12, true); /* Teredo: client address obfuscated */
    }
}

static bool addrEq(const tbPeerAddr *x, const tbPeerAddr *y) {
    return x->family == y->family && !memcmp(x->b, y->b, x->family == AF_INET ? 4 : 16);
}

static bool cidrHas(const tbPeerCidr *c, const tbPeerAddr *a) {
    return c->addr.family == a->family && prefixEq(c->addr.b, a->b, c->bits);
}

static int fromSockaddr(const struct sockaddr *sa, socklen_t len, tbPeerAddr *a,
                        uint16_t *port) {
    memset(a, 0, sizeof *a);
    if (!sa) return -1;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        a->family = AF_INET;
        memcpy(a->b, &s4->sin_addr, 4);
        *port = ntohs(s4->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        a->family = AF_INET6;
        memcpy(a->b, &s6->sin6_addr, 16);
        *port = ntohs(s6->sin6_port);
        return 0;
    }
    return -1;
}

static void toSockaddr(const tbPeerAddr *a, uint16_t port, struct sockaddr_storage *out) {
    memset(out, 0, sizeof *out);
    if (a->family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)out;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, a->b, 4);
    } else if (a->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, a->b, 16);
    }
}

/* ---- CIDR parsing ------------------------------------------------------- */

static int parseBits(const char *s, int max) {
    int v = 0;
    if (!*s || strlen(s) > 3) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= max ? v : -1;
}

static void maskAddr(tbPeerAddr *a, int bits) {
    int n = a->family == AF_INET ? 4 : 16;
    for (int i = 0; i < n; i++) {
        int keep = bits - i * 8;
        if (keep >= 8) continue;
        a->b[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
}

int tbPeerCidrParse(const char *s, tbPeerCidr *out) {
    char buf[INET6_ADDRSTRLEN + 8];
    if (!s || strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash) *slash = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr.b) == 1) out->addr.family = AF_INET;
    else if (inet_pton(AF_INET6, buf, out->addr.b) == 1) out->addr.family = AF_INET6;
    else return -1;
    int max = out->addr.family == AF_INET ? 32 : 128;
    out->bits = slash ? parseBits(slash + 1, max) : max;
    if (out->bits < 0) return -1;
    /* ::ffff:a.b.c.d/104 means a.b.c.d/8: match canonical addresses. */
    if (out->addr.family == AF_INET6 && out->bits >= 96 && !memcmp(out->addr.b, v4Mapped, 12)) {
        setV4(&out->addr, out->addr.b + 12, false);
        out->bits -= 96;
    }
    maskAddr(&out->addr, out->bits);
    return 0;
}

/* ---- configuration ------------------------------------------------------ */

int tbPeerPolicyInit(tbPeerPolicy *p, const char *const *allow_cidrs, size_t n, char *err,
                     size_t errlen) {
    memset(p, 0, sizeof *p);
    if (errlen) err[0] = '\0';
    if (n > TB_PEER_POLICY_MAX_CIDRS) {
        if (errlen) snprintf(err, errlen, "too many allow_restricted_peer_cidrs (%zu > %d)", n,
                             TB_PEER_POLICY_MAX_CIDRS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (tbPeerCidrParse(allow_cidrs[i], &p->allow[i]) < 0) {
            if (errlen) snprintf(err, errlen, "invalid CIDR in allow_restricted_peer_cidrs: '%s'",
                                 allow_cidrs[i] ? allow_cidrs[i] : "(null)");
            p->nallow = 0;
            return -1;
        }
    }
    p->nallow = n;
    return 0;
}

int tbPeerPolicySetOwnPorts(tbPeerPolicy *p, const uint16_t *ports, size_t n,
                            uint16_t media_port) {
    if (n > TB_PEER_POLICY_MAX_PORTS) return -1;
    if (n) memcpy(p->own_ports, ports, n * sizeof *ports);
    p->nports = n;
    p->media_port = media_port;
    p->media_port_end = media_port;
    return 0;
}

void tbPeerPolicySetMediaRange(tbPeerPolicy *p, uint16_t start, uint16_t end) {
    p->media_port = start;
    p->media_port_end = end >= start ? end : start;
}

int tbPeerPolicySetLocalAddresses(tbPeerPolicy *p, const struct sockaddr_storage *addrs,
                                  size_t n) {
    tbPeerAddr tmp[TB_PEER_POLICY_MAX_LOCAL];
    uint16_t port;
    if (n > TB_PEER_POLICY_MAX_LOCAL) return -1;
    for (size_t i = 0; i < n; i++) {
        if (fromSockaddr((const struct sockaddr *)&addrs[i], sizeof addrs[i], &tmp[i], &port) < 0)
            return -1;
        tbPeerAddrCanonical(&tmp[i]);
    }
    if (n) memcpy(p->local, tmp, n * sizeof tmp[0]);
    p->nlocal = n;
    return 0;
}

/* ---- classification ----------------------------------------------------- */

typedef struct rangeRule {
    uint8_t b[16];      /* network */
    int bits;           /* prefix length */
    tbPeerVerdict v;    /* verdict for addresses inside */
} rangeRule;

/* First match wins; anything unmatched (documentation nets included) is
 * public. */
static const rangeRule v4Rules[] = {
    {{0}, 8, TB_PEER_UNSPECIFIED},
    {{127}, 8, TB_PEER_LOOPBACK},
    {{10}, 8, TB_PEER_PRIVATE},
    {{172, 16}, 12, TB_PEER_PRIVATE},
    {{192, 168}, 16, TB_PEER_PRIVATE},
    {{100, 64}, 10, TB_PEER_CGNAT},
    {{169, 254}, 16, TB_PEER_LINK_LOCAL},
    {{224}, 4, TB_PEER_MULTICAST},
    {{255, 255, 255, 255}, 32, TB_PEER_BROADCAST},
    {{240}, 4, TB_PEER_RESERVED},
    {{192, 0, 0}, 24, TB_PEER_RESERVED},
    {{198, 18}, 15, TB_PEER_RESERVED},
};

static const rangeRule v6Rules[] = {
    {{0}, 128, TB_PEER_UNSPECIFIED},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, TB_PEER_LOOPBACK},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, TB_PEER_NAT64_LOCAL},
    {{0}, 8, TB_PEER_RESERVED}, /* rest of ::/8 (64:ff9b::/32 too) */
    {{0x01, 0x00}, 64, TB_PEER_RESERVED}, /* discard-only */
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, TB_PEER_RESERVED}, /* benchmarking */
    {{0xfe, 0x80}, 10, TB_PEER_LINK_LOCAL},
    {{0xfe, 0xc0}, 10, TB_PEER_PRIVATE}, /* site-local, deprecated */
    {{0xfc}, 7, TB_PEER_PRIVATE},
    {{0xff}, 8, TB_PEER_MULTICAST},
};

static tbPeerVerdict classify(const tbPeerAddr *a) {
    const rangeRule *r = a->family == AF_INET ? v4Rules : v6Rules;
    size_t n = a->family == AF_INET ? sizeof v4Rules / sizeof v4Rules[0]
                                    : sizeof v6Rules / sizeof v6Rules[0];
    for (size_t i = 0; i < n; i++)
        if (prefixEq(r[i].b, a->b, r[i].bits)) return r[i].v;
    return TB_PEER_ALLOWED;
}

static bool isLocal(const tbPeerPolicy *p, const tbPeerAddr *a) {
    for (size_t i = 0; i < p->nlocal; i++)
        if (addrEq(&p->local[i], a)) return true;
    return false;
}

static bool isAllowListed(const tbPeerPolicy *p, const tbPeerAddr *a) {
    for (size_t i = 0; i < p->nallow; i++)
        if (cidrHas(&p->allow[i], a)) return true;
    return false;
}

static bool isMediaPort(const tbPeerPolicy *p, uint16_t port) {
    return p->media_port && port >= p->media_port && port <= p->media_port_end;
}

static bool isOwnPort(const tbPeerPolicy *p, uint16_t port) {
    if (port == 0 || isMediaPort(p, port)) return false;
    for (size_t i = 0; i < p->nports; i++)
        if (p->own_ports[i] == port) return true;
    return false;
}

tbPeerVerdict tbPeerPolicyCheck(const tbPeerPolicy *p, const struct sockaddr *peer,
                                socklen_t len, struct sockaddr_storage *canonical_out) {
    tbPeerAddr a;
    uint16_t port = 0;
    if (canonical_out) memset(canonical_out, 0, sizeof *canonical_out);
    if (fromSockaddr(peer, len, &a, &port) < 0) return TB_PEER_BAD_FAMILY;
    tbPeerAddrCanonical(&a);
    if (canonical_out) toSockaddr(&a, port, canonical_out);

    tbPeerVerdict range = classify(&a);
    bool self = isLocal(p, &a);
    bool loop = range == TB_PEER_LOOPBACK;
    if ((self || loop || range == TB_PEER_UNSPECIFIED) && isOwnPort(p, port))
        return TB_PEER_OWN_PORT;
    if ((self || loop) && p->media_port && (port == 0 || isMediaPort(p, port)))
        return TB_PEER_ALLOWED;
    if (isAllowListed(p, &a)) return TB_PEER_ALLOWED;
    if (self) return TB_PEER_SELF;
    return range;
}

const char *tbPeerVerdictName(tbPeerVerdict v) {
    static const char *const names[TB_PEER_VERDICT_COUNT] = {
        [TB_PEER_ALLOWED] = "allowed",         [TB_PEER_BAD_FAMILY] = "bad_family",
        [TB_PEER_UNSPECIFIED] = "unspecified", [TB_PEER_LOOPBACK] = "loopback",
        [TB_PEER_LINK_LOCAL] = "link_local",   [TB_PEER_MULTICAST] = "multicast",
        [TB_PEER_BROADCAST] = "broadcast",     [TB_PEER_PRIVATE] = "private",
        [TB_PEER_CGNAT] = "cgnat",             [TB_PEER_RESERVED] = "reserved",
        [TB_PEER_NAT64_LOCAL] = "nat64_local", [TB_PEER_SELF] = "self",
        [TB_PEER_OWN_PORT] = "own_port",
    };
    if ((unsigned)v >= TB_PEER_VERDICT_COUNT) return "unknown";
    return names[v];
}
