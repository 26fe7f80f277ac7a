/* peer_policy.h — which peer addresses the embedded TURN server may relay to.
 *
 * A TURN relay is an open door into the network it sits on (CVE-2020-26262:
 * coturn relayed to 0.0.0.0 and [::1]), so every XOR-PEER-ADDRESS is judged
 * here before CreatePermission, ChannelBind and Send act on it. Pure code: the
 * host's own addresses and tribune's ports are handed in by the caller, no
 * syscalls, no allocation; tbPeerPolicyCheck is safe on the per-packet path.
 *
 * Order of the check:
 *  1. Canonicalise: IPv4-mapped ::ffff:a.b.c.d, SIIT ::ffff:0:a.b.c.d,
 *     IPv4-compatible ::a.b.c.d (not :: or ::1), NAT64 64:ff9b::/96,
 *     6to4 2002:AABB:CCDD::/48 and Teredo 2001:0::/32 (client address = last
 *     32 bits XOR 0xffffffff) all become the embedded IPv4 address, and
 *     everything below judges that address.
 *  2. Own ports: a port tribune listens on (HTTP/WebSocket, TURN, ICE-TCP),
 *     other than the media port, is refused (OWN_PORT) on the host's own
 *     addresses, loopback and the unspecified address, even when the
 *     allow-list covers the address. The same port on any other address is
 *     someone else's service and is judged by address alone.
 *  3. Media port: tribune's own media port (rtc.udp_port, or each port of
 *     the range in port-range mode) on the host's own
 *     addresses or loopback is ALLOWED, so a client relaying through TURN to
 *     the SFU reaches it (LiveKit's embedded TURN relies on this). Not on the
 *     unspecified address.
 *  4. Allow-list (turn.allow_restricted_peer_cidrs): matched against the
 *     canonical address, it admits any address below.
 *  5. The host's own addresses on any other port are refused (SELF): the
 *     firewall does not apply to local traffic, so Redis or a database bound
 *     to a public interface would be reachable otherwise.
 *  6. Refused ranges: IPv4 0/8, 127/8, 10/8, 172.16/12, 192.168/16,
 *     100.64/10, 169.254/16, 224/4, 255.255.255.255, 240/4, 192.0.0/24,
 *     198.18/15; IPv6 ::, ::1, fe80::/10, fec0::/10, fc00::/7, ff00::/8,
 *     64:ff9b:1::/48, 100::/64, 2001:2::/48, and the rest of ::/8.
 *     Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
 *     2001:db8::/32, 3fff::/20) are ALLOWED: they are never routed, so
 *     permitting them opens nothing, and tests use them as "public" peers.
 *
 * Port 0 means "address only": TURN permissions are per IP (RFC 8656 §9), so
 * CreatePermission checks with port 0 and gets ALLOWED when some port on the
 * address could be reached (e.g. the host's own address when a media port is
 * set); ChannelBind and every Send/ChannelData then check the real port. */
#ifndef TB_PEER_POLICY_H
#define TB_PEER_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TB_PEER_POLICY_MAX_CIDRS 64  /* allow-list entries */
#define TB_PEER_POLICY_MAX_PORTS 16  /* own listening ports */
#define TB_PEER_POLICY_MAX_LOCAL 64  /* host addresses */

typedef enum tbPeerVerdict {
    TB_PEER_ALLOWED = 0,
    TB_PEER_BAD_FAMILY,  /* not AF_INET/AF_INET6, NULL or short sockaddr */
    TB_PEER_UNSPECIFIED, /* 0.0.0.0/8, :: */
    TB_PEER_LOOPBACK,    /* 127/8, ::1 */
    TB_PEER_LINK_LOCAL,  /* 169.254/16 (cloud metadata), fe80::/10 */
    TB_PEER_MULTICAST,   /* 224/4, ff00::/8 */
    TB_PEER_BROADCAST,   /* 255.255.255.255 */
    TB_PEER_PRIVATE,     /* RFC 1918, fc00::/7 ULA, fec0::/10 site-local */
    TB_PEER_CGNAT,       /* 100.64/10 */
    TB_PEER_RESERVED,    /* 240/4, 192.0.0/24, 198.18/15, ::/8 rest, 100::/64 */
    TB_PEER_NAT64_LOCAL, /* 64:ff9b:1::/48 local-use NAT64 */
    TB_PEER_SELF,        /* one of the host's own addresses, not the media port */
    TB_PEER_OWN_PORT,    /* tribune's own listening port on a local address */
    TB_PEER_VERDICT_COUNT
} tbPeerVerdict;

/* An address without port: IPv4 in b[0..3], IPv6 in b[0..15]. */
typedef struct tbPeerAddr {
    int family;   /* AF_INET or AF_INET6 */
    uint8_t b[16]; /* network byte order */
} tbPeerAddr;

typedef struct tbPeerCidr {
    tbPeerAddr addr; /* masked network address */
    int bits;        /* prefix length */
} tbPeerCidr;

typedef struct tbPeerPolicy {
    tbPeerCidr allow[TB_PEER_POLICY_MAX_CIDRS]; /* turn.allow_restricted_peer_cidrs */
    size_t nallow;
    uint16_t own_ports[TB_PEER_POLICY_MAX_PORTS]; /* tribune's listening ports */
    size_t nports;
    uint16_t media_port;                         /* rtc.udp_port, 0 = none */
    uint16_t media_port_end;                     /* last media port (port-range mode) */
    tbPeerAddr local[TB_PEER_POLICY_MAX_LOCAL];  /* host's own, canonical */
    size_t nlocal;
} tbPeerPolicy;

/* Resets p and parses the allow-list ("10.0.0.0/8", "fd00::/8", a bare
 * address means /32 or /128; host bits are masked off). Returns 0, or -1 with
 * a message naming the bad CIDR in err. */
int tbPeerPolicyInit(tbPeerPolicy *p, const char *const *allow_cidrs, size_t n, char *err,
                     size_t errlen);
/* tribune's listening ports (any protocol) and its media port (0 = none).
 * Returns 0, or -1 (nothing changed) when n > TB_PEER_POLICY_MAX_PORTS. */
int tbPeerPolicySetOwnPorts(tbPeerPolicy *p, const uint16_t *ports, size_t n,
                            uint16_t media_port);
/* Media ports as a range [start, end] (port-range mode: a port per
 * transport from rtc.port_range_*), replacing the single media port. */
void tbPeerPolicySetMediaRange(tbPeerPolicy *p, uint16_t start, uint16_t end);
/* The host's own addresses (from getifaddrs plus the external IP; the port
 * is ignored). Returns 0, or -1 (nothing changed) when there are too many or
 * one is not AF_INET/AF_INET6. */
int tbPeerPolicySetLocalAddresses(tbPeerPolicy *p, const struct sockaddr_storage *addrs,
                                  size_t n);
/* Judges peer. canonical_out (may be NULL) receives the address judged, port
 * kept: for mapped/compatible forms, send to it rather than to peer. */
tbPeerVerdict tbPeerPolicyCheck(const tbPeerPolicy *p, const struct sockaddr *peer,
                                socklen_t len, struct sockaddr_storage *canonical_out);
/* "allowed", "loopback", ... : short lowercase names for logs and metrics. */
const char *tbPeerVerdictName(tbPeerVerdict v);

/* Helpers shared with config checks: parse one CIDR (0/-1), canonicalise. */
int tbPeerCidrParse(const char *s, tbPeerCidr *out);
void tbPeerAddrCanonical(tbPeerAddr *a);

#endif
