/* addresses.c — local candidate addresses; see addresses.h. */
#include "media/addresses.h"
#include "media/external_ip.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool listed(const tbStrList *l, const char *s) {
    for (size_t i = 0; i < l->len; i++)
        if (fnmatch(l->items[i], s, 0) == 0 || strcmp(l->items[i], s) == 0) return true;
    return false;
}

/* "a.b.c.d/len" or "x::/len" containment. */
static bool inCidr(const char *cidr, const struct sockaddr *sa) {
    char net[TB_ADDR_STRLEN];
    const char *slash = strchr(cidr, '/');
    size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (n >= sizeof net) return false;
    memcpy(net, cidr, n);
    net[n] = '\0';
    int bits = slash ? atoi(slash + 1) : -1;
    uint8_t want[16], have[16];
    size_t alen;
    if (sa->sa_family == AF_INET) {
        if (inet_pton(AF_INET, net, want) != 1) return false;
        memcpy(have, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        alen = 4;
    } else {
        if (inet_pton(AF_INET6, net, want) != 1) return false;
        memcpy(have, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        alen = 16;
    }
    if (bits < 0 || bits > (int)alen * 8) bits = (int)alen * 8;
    for (int i = 0; i < bits; i++)
        if (((want[i / 8] ^ have[i / 8]) >> (7 - i % 8)) & 1) return false;
    return true;
}

static bool ipAllowed(const tbRtcConfig *rtc, const struct sockaddr *sa) {
    for (size_t i = 0; i < rtc->ips_excludes.len; i++)
        if (inCidr(rtc->ips_excludes.items[i], sa)) return false;
    if (rtc->ips_includes.len == 0) return true;
    for (size_t i = 0; i < rtc->ips_includes.len; i++)
        if (inCidr(rtc->ips_includes.items[i], sa)) return true;
    return false;
}

static bool usable(const tbConfig *cfg, const struct ifaddrs *ifa) {
    const tbRtcConfig *rtc = &cfg->rtc;
    if (!ifa->ifa_addr || !(ifa->ifa_flags & IFF_UP)) return false;
    int fam = ifa->ifa_addr->sa_family;
    if (fam != AF_INET && fam != AF_INET6) return false;
    if ((ifa->ifa_flags & IFF_LOOPBACK) && !cfg->development) return false;
    if (fam == AF_INET6 &&
        IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr))
        return false;
    if (rtc->interfaces_includes.len && !listed(&rtc->interfaces_includes, ifa->ifa_name))
        return false;
    if (listed(&rtc->interfaces_excludes, ifa->ifa_name)) return false;
    return ipAllowed(rtc, ifa->ifa_addr);
}

size_t tbLocalAddresses(const tbConfig *cfg, tbLocalAddrs *out) {
    memset(out, 0, sizeof *out);
    if (cfg->rtc.node_ip && *cfg->rtc.node_ip) {
        /* one address, or a comma-separated list (IPv4 and IPv6) */
        const char *p = cfg->rtc.node_ip;
        while (*p && out->len < TB_MAX_LOCAL_ADDRS) {
            size_t n = strcspn(p, ", ");
            if (n > 0 && n < TB_ADDR_STRLEN) {
                memcpy(out->ip[out->len], p, n);
                out->ip[out->len++][n] = '\0';
            }
            p += n;
            p += strspn(p, ", ");
        }
        return out->len;
    }
    char from[256];
    if (cfg->rtc.use_external_ip) {
        if (tbExternalIp(cfg, out->ip[0], TB_ADDR_STRLEN, from, sizeof from) == 0) {
            tbInfo("media", "use_external_ip: %s (from STUN server %s)", out->ip[0], from);
            return out->len = 1;
        }
        tbWarn("media", "use_external_ip: no STUN server answered; using local addresses "
                        "(set rtc.node_ip)");
    }
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0) return 0;
    /* IPv4 first: the SDK's peers most often reach it */
    for (int pass = 0; pass < 2; pass++) {
        for (struct ifaddrs *ifa = ifs; ifa && out->len < TB_MAX_LOCAL_ADDRS; ifa = ifa->ifa_next) {
            if (!usable(cfg, ifa)) continue;
            int fam = ifa->ifa_addr->sa_family;
            if ((pass == 0) != (fam == AF_INET)) continue;
            const void *a = fam == AF_INET
                                ? (const void *)&((struct sockaddr_in *)ifa->ifa_addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
            inet_ntop(fam, a, out->ip[out->len], TB_ADDR_STRLEN);
            out->len++;
        }
    }
    freeifaddrs(ifs);
    return out->len;
}
