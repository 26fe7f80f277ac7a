/* test_peer_policy.c — the TURN peer-address policy: refused ranges, every
 * IPv4-in-IPv6 embedding (the CVE-2020-26262 bypasses among them), own ports,
 * the media port, the allow-list and CIDR errors. Pure checks: nothing is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "turn/peer_policy.h"

#define HOST_PUBLIC "203.0.113.7" /* the host's (documentation-range) public address */
#define HOST_V6 "2001:db8::7"
#define HTTP_PORT 7880
#define ICE_TCP_PORT 7881
#define MEDIA_PORT 7882
#define TURN_UDP_PORT 3478
#define TURN_TLS_PORT 5349

/* Builds a sockaddr for ip:port; returns its length. */
static socklen_t mkAddr(const char *ip, uint16_t port, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        return sizeof *s4;
    }
    assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    return sizeof *s6;
}

static tbPeerVerdict check(const tbPeerPolicy *p, const char *ip, uint16_t port) {
    struct sockaddr_storage ss, out;
    socklen_t len = mkAddr(ip, port, &ss);
    return tbPeerPolicyCheck(p, (struct sockaddr *)&ss, len, &out);
}

/* A policy as a deployment builds it: no allow-list, seed ports, host addrs. */
static void mkPolicy(tbPeerPolicy *p, const char *const *allow, size_t n) {
    char err[128];
    const uint16_t ports[] = {HTTP_PORT, ICE_TCP_PORT, TURN_UDP_PORT, TURN_TLS_PORT};
    struct sockaddr_storage local[2];
    assert_int_equal(tbPeerPolicyInit(p, allow, n, err, sizeof err), 0);
    assert_int_equal(tbPeerPolicySetOwnPorts(p, ports, 4, MEDIA_PORT), 0);
    mkAddr(HOST_PUBLIC, 0, &local[0]);
    mkAddr(HOST_V6, 0, &local[1]);
    assert_int_equal(tbPeerPolicySetLocalAddresses(p, local, 2), 0);
}

#define EXPECT(p, ip, port, v)                                                            \
    do {                                                                                  \
        tbPeerVerdict got_ = check(p, ip, port);                                          \
        if (got_ != (v))                                                                  \
            fail_msg("%s port %d: got %s, want %s", ip, port, tbPeerVerdictName(got_),     \
                     tbPeerVerdictName(v));                                               \
    } while (0)

static void test_ipv4_ranges(void **state) {
    (void)state;
    tbPeerPolicy p;
    mkPolicy(&p, NULL, 0);
    EXPECT(&p, "0.0.0.0", 9999, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "0.1.2.3", 9999, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "127.0.0.1", 9999, TB_PEER_LOOPBACK);
    EXPECT(&p, "127.255.0.9", 9999, TB_PEER_LOOPBACK);
    EXPECT(&p, "10.0.0.1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "172.16.0.1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "172.31.255.254", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "172.32.0.1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "192.168.1.1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "100.64.0.1", 9999, TB_PEER_CGNAT);
    EXPECT(&p, "100.127.255.255", 9999, TB_PEER_CGNAT);
    EXPECT(&p, "100.128.0.1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "169.254.169.254", 80, TB_PEER_LINK_LOCAL);
    EXPECT(&p, "224.0.0.251", 5353, TB_PEER_MULTICAST);
    EXPECT(&p, "239.255.255.250", 1900, TB_PEER_MULTICAST);
    EXPECT(&p, "255.255.255.255", 9999, TB_PEER_BROADCAST);
    EXPECT(&p, "240.0.0.1", 9999, TB_PEER_RESERVED);
    EXPECT(&p, "192.0.0.8", 9999, TB_PEER_RESERVED);
    EXPECT(&p, "198.18.0.1", 9999, TB_PEER_RESERVED);
    EXPECT(&p, "198.19.255.1", 9999, TB_PEER_RESERVED);
    EXPECT(&p, "198.20.0.1", 9999, TB_PEER_ALLOWED);
    /* Public, and the documentation nets count as public. */
    EXPECT(&p, "8.8.8.8", 53, TB_PEER_ALLOWED);
    EXPECT(&p, "192.0.2.1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "198.51.100.1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "203.0.113.99", 9999, TB_PEER_ALLOWED);
}

static void test_ipv6_ranges(void **state) {
    (void)state;
    tbPeerPolicy p;
    mkPolicy(&p, NULL, 0);
    EXPECT(&p, "::", 9999, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "::1", 9999, TB_PEER_LOOPBACK);
    EXPECT(&p, "fe80::1", 9999, TB_PEER_LINK_LOCAL);
    EXPECT(&p, "febf::1", 9999, TB_PEER_LINK_LOCAL);
    EXPECT(&p, "fec0::1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "fd00::1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "fc00::1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "ff02::1", 9999, TB_PEER_MULTICAST);
    EXPECT(&p, "64:ff9b:1::1", 9999, TB_PEER_NAT64_LOCAL);
    EXPECT(&p, "100::1", 9999, TB_PEER_RESERVED);
    EXPECT(&p, "2001:2::1", 9999, TB_PEER_RESERVED);
    EXPECT(&p, "2001:db8::1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "2001:4860:4860::8888", 53, TB_PEER_ALLOWED);
}

/* Each IPv4-in-IPv6 form is judged by its IPv4 address. */
static void test_embedded_ipv4(void **state) {
    (void)state;
    tbPeerPolicy p;
    mkPolicy(&p, NULL, 0);
    EXPECT(&p, "::ffff:127.0.0.1", 9999, TB_PEER_LOOPBACK);
    EXPECT(&p, "::ffff:0.0.0.0", 9999, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "::ffff:10.0.0.1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "::ffff:169.254.169.254", 80, TB_PEER_LINK_LOCAL);
    EXPECT(&p, "::ffff:0:127.0.0.1", 9999, TB_PEER_LOOPBACK); /* SIIT */
    EXPECT(&p, "::127.0.0.1", 9999, TB_PEER_LOOPBACK);        /* IPv4-compatible */
    EXPECT(&p, "::10.0.0.1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "64:ff9b::7f00:1", 9999, TB_PEER_LOOPBACK);
    EXPECT(&p, "64:ff9b::a9fe:a9fe", 80, TB_PEER_LINK_LOCAL);
    EXPECT(&p, "2002:7f00:0001::1", 9999, TB_PEER_LOOPBACK);
    EXPECT(&p, "2002:0a00:0001::1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "2002:6440:0001::1", 9999, TB_PEER_CGNAT);
    /* Teredo: server 65.54.227.120, client 127.0.0.1 stored as ~0x7f000001. */
    EXPECT(&p, "2001:0:4136:e378:8000:63bf:80ff:fffe", 9999, TB_PEER_LOOPBACK);
    EXPECT(&p, "2001:0:4136:e378:8000:63bf:f5ff:fffe", 9999, TB_PEER_PRIVATE); /* 10.0.0.1 */
    /* Embedded public addresses pass, and canonical_out is the IPv4 one. */
    EXPECT(&p, "::ffff:8.8.8.8", 53, TB_PEER_ALLOWED);
    EXPECT(&p, "64:ff9b::808:808", 53, TB_PEER_ALLOWED);
    EXPECT(&p, "2001:0:4136:e378:8000:63bf:f7f7:f7f7", 53, TB_PEER_ALLOWED);

    struct sockaddr_storage ss, out;
    socklen_t len = mkAddr("2001:0:4136:e378:8000:63bf:f7f7:f7f7", 3478, &ss);
    assert_int_equal(tbPeerPolicyCheck(&p, (struct sockaddr *)&ss, len, &out), TB_PEER_ALLOWED);
    assert_int_equal(out.ss_family, AF_INET);
    const struct sockaddr_in *o4 = (const struct sockaddr_in *)&out;
    char txt[INET_ADDRSTRLEN];
    assert_non_null(inet_ntop(AF_INET, &o4->sin_addr, txt, sizeof txt));
    assert_string_equal(txt, "8.8.8.8");
    assert_int_equal(ntohs(o4->sin_port), 3478);
}

/* CVE-2020-26262: coturn relayed to 0.0.0.0, [::] and [::1]. */
static void test_cve_2020_26262(void **state) {
    (void)state;
    tbPeerPolicy p;
    mkPolicy(&p, NULL, 0);
    EXPECT(&p, "0.0.0.0", 22, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "::", 22, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "::1", 22, TB_PEER_LOOPBACK);
    /* The media port does not open the unspecified address. */
    EXPECT(&p, "0.0.0.0", MEDIA_PORT, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "::", MEDIA_PORT, TB_PEER_UNSPECIFIED);
    EXPECT(&p, "0.0.0.0", HTTP_PORT, TB_PEER_OWN_PORT);
}

static void test_own_and_media_ports(void **state) {
    (void)state;
    tbPeerPolicy p;
    mkPolicy(&p, NULL, 0);
    /* Own ports on local addresses are refused; elsewhere they are just ports. */
    EXPECT(&p, "127.0.0.1", HTTP_PORT, TB_PEER_OWN_PORT);
    EXPECT(&p, "::1", TURN_UDP_PORT, TB_PEER_OWN_PORT);
    EXPECT(&p, HOST_PUBLIC, HTTP_PORT, TB_PEER_OWN_PORT);
    EXPECT(&p, HOST_PUBLIC, TURN_TLS_PORT, TB_PEER_OWN_PORT);
    EXPECT(&p, "::ffff:" HOST_PUBLIC, ICE_TCP_PORT, TB_PEER_OWN_PORT);
    EXPECT(&p, HOST_V6, HTTP_PORT, TB_PEER_OWN_PORT);
    EXPECT(&p, "8.8.8.8", HTTP_PORT, TB_PEER_ALLOWED);
    EXPECT(&p, "203.0.113.8", HTTP_PORT, TB_PEER_ALLOWED);
    /* The media port on the host's own addresses and loopback is allowed. */
    EXPECT(&p, HOST_PUBLIC, MEDIA_PORT, TB_PEER_ALLOWED);
    EXPECT(&p, "::ffff:" HOST_PUBLIC, MEDIA_PORT, TB_PEER_ALLOWED);
    EXPECT(&p, HOST_V6, MEDIA_PORT, TB_PEER_ALLOWED);
    EXPECT(&p, "127.0.0.1", MEDIA_PORT, TB_PEER_ALLOWED);
    EXPECT(&p, "::1", MEDIA_PORT, TB_PEER_ALLOWED);
    /* ... but not on someone else's private address. */
    EXPECT(&p, "10.0.0.1", MEDIA_PORT, TB_PEER_PRIVATE);
    /* Other ports on the host itself (e.g. Redis) are refused. */
    EXPECT(&p, HOST_PUBLIC, 6379, TB_PEER_SELF);
    EXPECT(&p, "127.0.0.1", 6379, TB_PEER_LOOPBACK);
    /* Port 0 = address-only (CreatePermission). */
    EXPECT(&p, HOST_PUBLIC, 0, TB_PEER_ALLOWED);
    EXPECT(&p, "127.0.0.1", 0, TB_PEER_ALLOWED);
    EXPECT(&p, "10.0.0.1", 0, TB_PEER_PRIVATE);
    EXPECT(&p, "0.0.0.0", 0, TB_PEER_UNSPECIFIED);
    /* Port-range mode: every port of the media range, and only those. */
    tbPeerPolicySetMediaRange(&p, 50000, 50100);
    EXPECT(&p, "127.0.0.1", 50000, TB_PEER_ALLOWED);
    EXPECT(&p, HOST_PUBLIC, 50100, TB_PEER_ALLOWED);
    EXPECT(&p, HOST_PUBLIC, 50101, TB_PEER_SELF);
    EXPECT(&p, "127.0.0.1", 49999, TB_PEER_LOOPBACK);
    EXPECT(&p, "127.0.0.1", HTTP_PORT, TB_PEER_OWN_PORT);
    /* Without a media port nothing local opens. */
    assert_int_equal(tbPeerPolicySetOwnPorts(&p, NULL, 0, 0), 0);
    EXPECT(&p, "127.0.0.1", MEDIA_PORT, TB_PEER_LOOPBACK);
    EXPECT(&p, HOST_PUBLIC, 0, TB_PEER_SELF);
    uint16_t many[TB_PEER_POLICY_MAX_PORTS + 1] = {0};
    assert_int_equal(tbPeerPolicySetOwnPorts(&p, many, TB_PEER_POLICY_MAX_PORTS + 1, 1), -1);
}

static void test_allow_list(void **state) {
    (void)state;
    tbPeerPolicy p;
    const char *wide[] = {"10.0.0.0/8", "fd00::/8", "192.168.1.5", "64:ff9b:1::/48"};
    mkPolicy(&p, wide, 4);
    EXPECT(&p, "10.1.2.3", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "::ffff:10.1.2.3", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "2002:0a01:0203::1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "fd12::1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "fc00::1", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "192.168.1.5", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "192.168.1.6", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "64:ff9b:1::5", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "127.0.0.1", 9999, TB_PEER_LOOPBACK);
    /* An own port on someone else's address is just a port; on loopback the
     * allow-list never opens it. */
    EXPECT(&p, "10.1.2.3", HTTP_PORT, TB_PEER_ALLOWED);
    const char *lo[] = {"127.0.0.0/8"};
    mkPolicy(&p, lo, 1);
    EXPECT(&p, "127.0.0.1", 6379, TB_PEER_ALLOWED);
    EXPECT(&p, "127.0.0.1", HTTP_PORT, TB_PEER_OWN_PORT);

    const char *narrow[] = {"10.0.0.0/16"};
    mkPolicy(&p, narrow, 1);
    EXPECT(&p, "10.1.2.3", 9999, TB_PEER_PRIVATE);
    EXPECT(&p, "10.0.200.3", 9999, TB_PEER_ALLOWED);
    /* Host bits are masked; mapped CIDRs match canonical addresses. */
    const char *odd[] = {"10.1.2.3/8", "::ffff:172.16.0.0/112"};
    mkPolicy(&p, odd, 2);
    EXPECT(&p, "10.200.0.1", 9999, TB_PEER_ALLOWED);
    EXPECT(&p, "172.16.5.1", 9999, TB_PEER_ALLOWED); /* /112 = 172.16/16 */
    EXPECT(&p, "172.17.0.1", 9999, TB_PEER_PRIVATE);
}

static void test_bad_cidrs(void **state) {
    (void)state;
    const char *bad[] = {"10.0.0.0/33", "fd00::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/-1",
                         "10.0.0.0/+8", "10.0.0.0/8x", "hello", "", "[::1]", "10.0.0.0/0008",
                         "1.2.3.4 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tbPeerPolicy p;
        char err[160];
        const char *list[] = {"192.168.0.0/16", bad[i]};
        assert_int_equal(tbPeerPolicyInit(&p, list, 2, err, sizeof err), -1);
        char want[64];
        snprintf(want, sizeof want, "'%s'", bad[i]);
        if (!strstr(err, want)) fail_msg("error for %s does not name it: %s", bad[i], err);
        assert_int_equal(p.nallow, 0);
    }
    tbPeerPolicy p;
    char err[160];
    const char *good[] = {"0.0.0.0/0", "::/0", "1.2.3.4/32", "2001:db8::/32"};
    assert_int_equal(tbPeerPolicyInit(&p, good, 4, err, sizeof err), 0);
    assert_int_equal(p.nallow, 4);
}

static void test_bad_family_and_names(void **state) {
    (void)state;
    tbPeerPolicy p;
    mkPolicy(&p, NULL, 0);
    struct sockaddr_storage ss, out;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    assert_int_equal(tbPeerPolicyCheck(&p, (struct sockaddr *)&ss, sizeof ss, &out),
                     TB_PEER_BAD_FAMILY);
    socklen_t len = mkAddr("8.8.8.8", 53, &ss);
    assert_int_equal(tbPeerPolicyCheck(&p, (struct sockaddr *)&ss, len - 1, NULL),
                     TB_PEER_BAD_FAMILY);
    assert_int_equal(tbPeerPolicyCheck(&p, NULL, 0, NULL), TB_PEER_BAD_FAMILY);
    assert_int_equal(tbPeerPolicyCheck(&p, (struct sockaddr *)&ss, len, NULL), TB_PEER_ALLOWED);
    struct sockaddr_storage local = {.ss_family = AF_UNIX};
    assert_int_equal(tbPeerPolicySetLocalAddresses(&p, &local, 1), -1);

    assert_string_equal(tbPeerVerdictName(TB_PEER_ALLOWED), "allowed");
    assert_string_equal(tbPeerVerdictName(TB_PEER_OWN_PORT), "own_port");
    assert_string_equal(tbPeerVerdictName(TB_PEER_NAT64_LOCAL), "nat64_local");
    assert_string_equal(tbPeerVerdictName(TB_PEER_VERDICT_COUNT), "unknown");
    for (int v = 0; v < TB_PEER_VERDICT_COUNT; v++)
        assert_string_not_equal(tbPeerVerdictName((tbPeerVerdict)v), "unknown");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_ranges),        cmocka_unit_test(test_ipv6_ranges),
        cmocka_unit_test(test_embedded_ipv4),      cmocka_unit_test(test_cve_2020_26262),
        cmocka_unit_test(test_own_and_media_ports), cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_bad_cidrs),          cmocka_unit_test(test_bad_family_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
