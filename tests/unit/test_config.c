/* test_config.c — unit tests for src/config: defaults, --dev defaults, the
 * Peekle seed config and the sample conf/tribune.yaml, every error kind the
 * loader reports (with exact file:line:col text), warnings, key_file
 * permissions, tbConfigValidate's cross-field checks and print -> reload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

#define FIX(name) TB_FIXTURES "/config/" name

typedef struct tbTestCfg {
    tbConfig c;
    tbConfigErrors e;
} tbTestCfg;

static int setup(void **state) {
    tbTestCfg *t = calloc(1, sizeof *t);
    if (!t) return -1;
    tbConfigInitDefaults(&t->c);
    *state = t;
    return 0;
}

static int teardown(void **state) {
    tbTestCfg *t = *state;
    tbConfigFree(&t->c);
    free(t);
    return 0;
}

/* Loads YAML text over t->c; returns the loader's result. */
static int loadStr(tbTestCfg *t, const char *yaml) {
    return tbConfigLoadYaml(&t->c, yaml, strlen(yaml), "test.yaml", &t->e);
}

static int hasMsg(const tbConfigError *items, size_t n, const char *needle) {
    for (size_t i = 0; i < n; i++)
        if (strstr(items[i].msg, needle)) return 1;
    return 0;
}

static void dumpErrs(const tbConfigErrors *e) {
    tbConfigErrorsPrint(e, stderr);
}

#define assert_error(t, needle)                                                              \
    do {                                                                                     \
        if (!hasMsg((t)->e.items, (t)->e.len, needle)) dumpErrs(&(t)->e);                    \
        assert_true(hasMsg((t)->e.items, (t)->e.len, needle));                               \
    } while (0)
#define assert_warning(t, needle)                                                            \
    do {                                                                                     \
        if (!hasMsg((t)->e.warnings, (t)->e.wlen, needle)) dumpErrs(&(t)->e);                \
        assert_true(hasMsg((t)->e.warnings, (t)->e.wlen, needle));                           \
    } while (0)
#define assert_clean(t)                                                                      \
    do {                                                                                     \
        if ((t)->e.len || (t)->e.wlen) dumpErrs(&(t)->e);                                    \
        assert_int_equal((t)->e.len, 0);                                                     \
        assert_int_equal((t)->e.wlen, 0);                                                    \
    } while (0)

static char *printToString(const tbConfig *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    tbConfigPrint(c, f);
    fclose(f);
    return buf;
}

/* ---- defaults ------------------------------------------------------------- */

static void test_defaults(void **state) {
    tbConfig *c = &((tbTestCfg *)*state)->c;
    assert_int_equal(c->port, 7880);
    assert_int_equal(c->bind_addresses.len, 0);
    assert_int_equal(c->rtc.tcp_port, 7881);
    assert_int_equal(c->rtc.udp_port, 0);
    assert_int_equal(c->rtc.port_range_start, 50000);
    assert_int_equal(c->rtc.port_range_end, 60000);
    assert_false(c->rtc.use_external_ip);
    assert_null(c->rtc.node_ip);
    assert_int_equal(c->rtc.packet_buffer_size_audio, 200);
    assert_int_equal(c->rtc.workers, 0);
    assert_null(c->redis.address);
    assert_int_equal(c->keys.len, 0);
    assert_false(c->turn.enabled);
    assert_int_equal(c->turn.relay_range_start, 30000);
    assert_int_equal(c->turn.relay_range_end, 40000);
    assert_true(c->room.auto_create);
    assert_int_equal(c->room.empty_timeout, 300);
    assert_int_equal(c->room.departure_timeout, 20);
    assert_int_equal(c->room.max_participants, 0);
    assert_int_equal(c->room.enabled_codecs.len, 1);
    assert_string_equal(c->room.enabled_codecs.items[0], "audio/opus");
    assert_int_equal(c->logging.level, TB_LOG_INFO);
    assert_false(c->logging.json);
    assert_int_equal(c->prometheus_port, 0);
    assert_int_equal(c->limit.max_room_name_length, 256);
    assert_int_equal(c->limit.signal_message_size_limit, 2 << 20);
    assert_false(c->development);
    assert_string_equal(c->node_selector, "participants");
    assert_int_equal(c->shutdown_timeout, 30);
}

static void test_dev_defaults(void **state) {
    (void)state;
    tbConfig c;
    tbConfigErrors e = {0};
    tbConfigInitDev(&c);
    assert_true(c.development);
    assert_int_equal(c.rtc.udp_port, 7882);
    assert_int_equal(c.logging.level, TB_LOG_DEBUG);
    assert_int_equal(c.keys.len, 1);
    assert_string_equal(tbConfigSecretFor(&c, "devkey"), "secret");
    assert_int_equal(c.bind_addresses.len, 2);
    assert_string_equal(c.bind_addresses.items[0], "127.0.0.1");
    assert_string_equal(c.bind_addresses.items[1], "::1");
    /* a dev config is valid as is, and its short secret is not flagged */
    assert_int_equal(tbConfigValidate(&c, &e), 0);
    assert_int_equal(e.len, 0);
    assert_int_equal(e.wlen, 0);
    tbConfigFree(&c);
}

static void test_dev_defaults_keep_user_keys(void **state) {
    tbTestCfg *t = *state;
    t->c.development = true;
    assert_int_equal(tbConfigParseKeys(&t->c, "mine: a-secret-of-at-least-32-characters!!",
                                       "--keys", &t->e), 0);
    tbConfigApplyDevDefaults(&t->c);
    assert_int_equal(t->c.keys.len, 1);
    assert_null(tbConfigSecretFor(&t->c, "devkey"));
    assert_int_equal(t->c.bind_addresses.len, 0); /* LiveKit binds loopback only for devkey */
}

/* ---- good files ------------------------------------------------------------ */

static void test_seed_loads(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, TB_CONF_DIR "/examples/peekle-livekit.yaml", &t->e),
                     0);
    assert_clean(t);
    tbConfig *c = &t->c;
    assert_int_equal(c->port, 7880);
    assert_int_equal(c->rtc.tcp_port, 7881);
    assert_int_equal(c->rtc.udp_port, 7882);
    assert_int_equal(c->rtc.udp_port_end, 0);
    assert_true(c->rtc.use_external_ip);
    assert_null(c->rtc.node_ip);
    assert_string_equal(c->redis.address, "127.0.0.1:6379");
    assert_string_equal(c->redis.password, "peekle-redis-password");
    assert_int_equal(c->redis.db, 0);
    assert_int_equal(c->keys.len, 1);
    assert_string_equal(tbConfigSecretFor(c, "livekit_api_key"),
                        "peekle_livekit_secret_at_least_32_chars_long");
    assert_null(tbConfigSecretFor(c, "other"));
    assert_true(c->turn.enabled);
    assert_string_equal(c->turn.domain, "i14a408.p.ssafy.io");
    assert_int_equal(c->turn.tls_port, 5349);
    assert_int_equal(c->turn.udp_port, 3478);
    assert_true(c->turn.external_tls);
    assert_int_equal(tbConfigValidate(c, &t->e), 0);
    assert_clean(t);
}

/* conf/tribune.yaml loads cleanly and states exactly the defaults. */
static void test_sample_matches_defaults(void **state) {
    tbTestCfg *t = *state;
    tbConfig defaults;
    tbConfigInitDefaults(&defaults);
    assert_int_equal(tbConfigLoadFile(&t->c, TB_CONF_DIR "/tribune.yaml", &t->e), 0);
    assert_clean(t);
    char *a = printToString(&defaults), *b = printToString(&t->c);
    assert_string_equal(a, b);
    free(a);
    free(b);
    tbConfigFree(&defaults);
}

static void test_full_fixture(void **state) {
    tbTestCfg *t = *state;
    tbConfig *c = &t->c;
    assert_int_equal(tbConfigLoadFile(c, FIX("good-full.yaml"), &t->e), 0);
    assert_clean(t);
    assert_int_equal(c->port, 8880);
    assert_int_equal(c->bind_addresses.len, 2);
    assert_string_equal(c->bind_addresses.items[1], "::");
    assert_int_equal(c->rtc.tcp_port, 0);
    assert_int_equal(c->rtc.udp_port, 7882);
    assert_int_equal(c->rtc.udp_port_end, 7892);
    assert_true(c->rtc.use_external_ip);
    assert_string_equal(c->rtc.node_ip, "203.0.113.7,2001:db8::7");
    assert_int_equal(c->rtc.turn_servers_len, 2);
    assert_string_equal(c->rtc.turn_servers[0].host, "turn.example.com");
    assert_int_equal(c->rtc.turn_servers[0].port, 443);
    assert_string_equal(c->rtc.turn_servers[0].protocol, "tls");
    assert_int_equal(c->rtc.turn_servers[0].ttl, 3600);
    assert_string_equal(c->rtc.turn_servers[1].credential, "wonderland");
    assert_int_equal(c->rtc.ips_excludes.len, 2);
    assert_int_equal(c->rtc.workers, 4);
    assert_int_equal(c->redis.db, 2);
    assert_int_equal(c->redis.sentinel_addresses.len, 2);
    assert_int_equal(c->keys.len, 2);
    assert_string_equal(c->key_file, "/etc/tribune/keys.yaml");
    assert_string_equal(c->turn.realm, "example.com");
    assert_int_equal(c->turn.relay_range_start, 31000);
    assert_string_equal(c->turn.users.items[0].value, "bob's password");
    assert_false(c->room.auto_create);
    assert_int_equal(c->room.enabled_codecs.len, 2);
    assert_string_equal(c->room.enabled_codecs.items[1], "audio/red");
    assert_int_equal(c->logging.level, TB_LOG_WARN);
    assert_true(c->logging.json);
    assert_int_equal(c->prometheus_port, 6789);
    assert_int_equal(c->limit.num_tracks, -1);
    assert_true(c->limit.bytes_per_sec == 1e9);
    assert_string_equal(c->node_selector, "cpu");
    assert_int_equal(c->shutdown_timeout, 120);
    assert_int_equal(tbConfigValidate(c, &t->e), 0);
    assert_clean(t);
}

static void test_legacy_spellings(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(loadStr(t, "prometheus_port: 9100\nlog_level: debug\n"
                                "room:\n  max_metadata_size: 77\n"
                                "node_selector: cpu\nshutdown_timeout: \"1m30s\"\n"),
                     0);
    assert_clean(t);
    assert_int_equal(t->c.prometheus_port, 9100);
    assert_int_equal(t->c.logging.level, TB_LOG_DEBUG);
    assert_int_equal(t->c.limit.max_metadata_size, 77);
    assert_string_equal(t->c.node_selector, "cpu");
    assert_int_equal(t->c.shutdown_timeout, 90);
    assert_int_equal(loadStr(t, "node_selector: {kind: any}\nshutdown_timeout: 45\n"), 0);
    assert_string_equal(t->c.node_selector, "participants");
    assert_int_equal(t->c.shutdown_timeout, 45);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_unknown_key(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-unknown-key.yaml"), &t->e), -1);
    assert_int_equal(t->e.len, 1);
    assert_string_equal(t->e.items[0].msg,
                        FIX("bad-unknown-key.yaml") ":3:3: unknown key `rtc.udp_prot` "
                                                    "\u2014 did you mean `rtc.udp_port`?");
    assert_int_equal(t->c.rtc.tcp_port, 7881); /* the rest still applies */
    assert_int_equal(loadStr(t, "prot: 1\n"), -1);
    assert_error(t, "test.yaml:1:1: unknown key `prot` \u2014 did you mean `port`?");
    assert_int_equal(loadStr(t, "turn:\n  enabeld: true\n"), -1);
    assert_error(t, "test.yaml:2:3: unknown key `turn.enabeld` \u2014 did you mean `turn.enabled`?");
}

static void test_type_error(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-type.yaml"), &t->e), -1);
    assert_int_equal(t->e.len, 1);
    assert_string_equal(t->e.items[0].msg, FIX("bad-type.yaml") ": `port` at line 1, col 7: "
                                                                "expected an integer, got `abc`");
    assert_int_equal(t->c.port, 7880);
    assert_int_equal(loadStr(t, "rtc:\n  use_external_ip: [1]\n"), -1);
    assert_error(t, "`rtc.use_external_ip` at line 2, col 20: expected true or false, got a list");
    assert_int_equal(loadStr(t, "rtc: 5\n"), -1);
    assert_error(t, "`rtc` at line 1, col 6: expected a mapping, got `5`");
    assert_int_equal(loadStr(t, "bind_addresses: 0.0.0.0\n"), -1);
    assert_error(t, "`bind_addresses` at line 1, col 17: expected a list, got `0.0.0.0`");
}

static void test_out_of_range(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-range.yaml"), &t->e), -1);
    assert_int_equal(t->e.len, 2);
    assert_error(t, "`rtc.tcp_port` at line 3, col 13: 70000 is out of range (0..65535)");
    assert_error(t, "`redis.db` at line 5, col 7: -1 is out of range (must be >= 0)");
    assert_int_equal(loadStr(t, "port: 0\n"), -1);
    assert_error(t, "`port` at line 1, col 7: 0 is out of range (1..65535)");
}

static void test_udp_port_forms(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(loadStr(t, "rtc:\n  udp_port: \"7882-7892\"\n"), 0);
    assert_int_equal(t->c.rtc.udp_port, 7882);
    assert_int_equal(t->c.rtc.udp_port_end, 7892);
    assert_int_equal(loadStr(t, "rtc:\n  udp_port: 7900\n"), 0);
    assert_int_equal(t->c.rtc.udp_port, 7900);
    assert_int_equal(t->c.rtc.udp_port_end, 0);
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-udp-range.yaml"), &t->e), -1);
    assert_error(t, "`rtc.udp_port` at line 2, col 13: end port 7882 must be greater than "
                    "start port 7892");
    assert_int_equal(loadStr(t, "rtc:\n  udp_port: 7882-x\n"), -1);
    assert_error(t, "`rtc.udp_port` at line 2, col 13: invalid port range `7882-x`, should be "
                    "<start>-<end>");
    assert_int_equal(t->c.rtc.udp_port, 7900);
}

static void test_duplicate_key(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-duplicate.yaml"), &t->e), -1);
    assert_int_equal(t->e.len, 2);
    assert_error(t, ":4:3: duplicate key `rtc.tcp_port` (first at line 3, col 3)");
    assert_error(t, ":5:1: duplicate key `port` (first at line 1, col 1)");
    assert_int_equal(loadStr(t, "keys:\n  a: x\n  a: y\n"), -1);
    assert_error(t, "test.yaml:3:3: duplicate key `keys.a` (first at line 2, col 3)");
}

static void test_syntax_error(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-syntax.yaml"), &t->e), -1);
    assert_int_equal(t->e.len, 1);
    assert_error(t, "bad-syntax.yaml:4:12: YAML syntax error: mapping values are not allowed");
    assert_int_equal(loadStr(t, "port: [1, 2\n"), -1);
    assert_error(t, "test.yaml:2:1: YAML syntax error: did not find expected ',' or ']'");
    assert_int_equal(loadStr(t, "a: 1\n---\nb: 2\n"), -1);
    assert_error(t, "test.yaml:3:1: only one YAML document is allowed");
}

static void test_non_mapping_root(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-root.yaml"), &t->e), -1);
    assert_int_equal(t->e.len, 1);
    assert_error(t, "bad-root.yaml:1:1: the config must be a mapping of keys, got a list");
    assert_int_equal(loadStr(t, "just a string\n"), -1);
    assert_error(t, "test.yaml:1:1: the config must be a mapping of keys, got a single value");
    /* an empty or comment-only config is fine */
    assert_int_equal(loadStr(t, ""), 0);
    assert_int_equal(loadStr(t, "# nothing\n"), 0);
}

static void test_errors_collected(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("bad-many.yaml"), &t->e), -1);
    assert_int_equal(t->e.len, 9);
    assert_error(t, ":2:1: unknown key `prot` \u2014 did you mean `port`?");
    assert_error(t, "`rtc.tcp_port` at line 4, col 13: expected an integer, got `seven`");
    assert_error(t, "`rtc.udp_port` at line 5, col 13: invalid port range `1-2-3`");
    assert_error(t, "`rtc.ips.includes` at line 7, col 16: expected a CIDR");
    assert_error(t, "`turn.enabled` at line 9, col 12: expected true or false, got `maybe`");
    assert_error(t, "`turn.allow_restricted_peer_cidrs` at line 10, col 33: expected a CIDR");
    assert_error(t, "`logging.level` at line 12, col 10: expected one of debug, info, warn, error");
    assert_error(t, "`shutdown_timeout` at line 13, col 19: expected seconds or a duration");
    assert_error(t, "`node_selector` at line 14, col 16: expected participants or cpu");
}

static void test_cidr_and_node_ip(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(loadStr(t, "turn:\n  allow_restricted_peer_cidrs: [10.0.0.0/8, "
                                "\"::1/128\", 192.168.1.1]\nrtc:\n  node_ip: 2001:db8::1\n"),
                     0);
    assert_int_equal(t->c.turn.allow_restricted_peer_cidrs.len, 3);
    assert_string_equal(t->c.rtc.node_ip, "2001:db8::1");
    assert_int_equal(loadStr(t, "turn:\n  allow_restricted_peer_cidrs: [\"10.0.0.0/\"]\n"), -1);
    assert_int_equal(loadStr(t, "turn:\n  allow_restricted_peer_cidrs: [\"::1/129\"]\n"), -1);
    assert_int_equal(loadStr(t, "rtc:\n  node_ip: 1.2.3.4,5.6.7.8\n"), -1);
    assert_error(t, "`rtc.node_ip` at line 2, col 12: expected an IP address");
    assert_int_equal(t->c.turn.allow_restricted_peer_cidrs.len, 3);
}

/* ---- warnings -------------------------------------------------------------- */

static void test_unimplemented_one_warning(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("unimplemented.yaml"), &t->e), 0);
    assert_int_equal(t->e.len, 0);
    assert_int_equal(t->e.wlen, 1);
    assert_warning(t, "unimplemented.yaml:2:1: `video`: LiveKit setting not implemented");
    memset(&t->e, 0, sizeof t->e);
    assert_int_equal(loadStr(t, "logging:\n  level: debug\n  pion_level: error\n  sample: true\n"
                                "  component_levels: {a: debug}\nrtc:\n  congestion_control:\n"
                                "    enabled: true\n    allow_pause: true\n"),
                     0);
    assert_int_equal(t->e.wlen, 4);
    assert_warning(t, "test.yaml:3:3: `logging.pion_level`: LiveKit setting not implemented");
    assert_warning(t, "test.yaml:7:3: `rtc.congestion_control`");
    assert_int_equal(t->c.logging.level, TB_LOG_DEBUG);
}

static void test_short_secret_warning(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("short-secret.yaml"), &t->e), 0);
    assert_int_equal(tbConfigValidate(&t->c, &t->e), 0);
    assert_int_equal(t->e.wlen, 1);
    assert_warning(t, "secret for API key `shortkey` is too short, should be at least 32 "
                      "characters for security");
    assert_false(hasMsg(t->e.warnings, t->e.wlen, "tooshort")); /* never the secret */
}

/* ---- key_file and keys ----------------------------------------------------- */

static void writeKeyFile(char *path, mode_t mode, const char *text) {
    strcpy(path, "/tmp/tb-test-keys-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_key_file_mode(void **state) {
    tbTestCfg *t = *state;
    char path[64];
    writeKeyFile(path, 0644, "fkey: a-secret-of-at-least-32-characters-long\n");
    assert_int_equal(tbConfigLoadKeyFile(&t->c, path, &t->e), -1);
    assert_error(t, "key_file must not be accessible by group or others (mode 0644)");
    assert_int_equal(t->c.keys.len, 0);
    assert_int_equal(chmod(path, 0600), 0);
    memset(&t->e, 0, sizeof t->e);
    assert_int_equal(tbConfigLoadKeyFile(&t->c, path, &t->e), 0);
    assert_int_equal(t->e.len, 0);
    assert_string_equal(tbConfigSecretFor(&t->c, "fkey"),
                        "a-secret-of-at-least-32-characters-long");
    unlink(path);
    assert_int_equal(tbConfigLoadKeyFile(&t->c, path, &t->e), -1);
    assert_error(t, "cannot read key_file");
}

static void test_parse_keys(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigParseKeys(&t->c, "k1: s1\nk2: s2", "LIVEKIT_KEYS", &t->e), 0);
    assert_int_equal(t->c.keys.len, 2);
    assert_string_equal(tbConfigSecretFor(&t->c, "k1"), "s1");
    assert_string_equal(tbConfigSecretFor(&t->c, "k2"), "s2");
    assert_int_equal(tbConfigParseKeys(&t->c, "k1:s1", "LIVEKIT_KEYS", &t->e), -1);
    assert_error(t, "LIVEKIT_KEYS: expected `key: secret` lines");
    assert_int_equal(tbConfigParseKeys(&t->c, "", "--keys", &t->e), -1);
    assert_int_equal(t->c.keys.len, 2); /* unchanged on error */
    assert_int_equal(tbConfigParseKeys(&t->c, "k3: s3\n", "--keys", &t->e), 0);
    assert_int_equal(t->c.keys.len, 1); /* replaces, like LiveKit's --keys */
}

/* ---- validation ------------------------------------------------------------ */

static void test_validate_cross_field(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigValidate(&t->c, &t->e), -1);
    assert_error(t, "no API keys");
    memset(&t->e, 0, sizeof t->e);
    assert_int_equal(loadStr(t, "keys: {k: a-secret-of-at-least-32-characters-long}\n"
                                "rtc: {port_range_start: 60000, port_range_end: 50000}\n"
                                "turn: {enabled: true, tls_port: 5349, relay_range_start: 40000,"
                                " relay_range_end: 30000}\n"
                                "webhook: {api_key: nokey, urls: [ftp://x]}\n"
                                "prometheus: {port: 7881}\n"),
                     0);
    assert_int_equal(tbConfigValidate(&t->c, &t->e), -1);
    assert_error(t, "`rtc.port_range_start` (60000) is greater than `rtc.port_range_end` (50000)");
    assert_error(t, "`turn.relay_range_start` (40000) is greater than `turn.relay_range_end`");
    assert_error(t, "`turn.tls_port` needs `turn.domain`");
    assert_error(t, "needs `turn.cert_file` and `turn.key_file`");
    assert_error(t, "`webhook.api_key` `nokey` is not one of the API keys");
    assert_error(t, "`webhook.urls` entry `ftp://x` is not an http(s) URL");
    assert_error(t, "TCP port clash: `rtc.tcp_port` (7881) and `prometheus.port` (7881) overlap");
}

static void test_validate_turn_servers(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(loadStr(t, "keys: {k: a-secret-of-at-least-32-characters-long}\n"
                                "rtc:\n  udp_port: 3478\n  turn_servers:\n"
                                "    - {port: 3478, protocol: sctp}\n"
                                "turn: {enabled: true, udp_port: 3478}\n"
                                "webhook: {urls: [\"https://x\"]}\n"),
                     0);
    assert_int_equal(tbConfigValidate(&t->c, &t->e), -1);
    assert_error(t, "`rtc.turn_servers` entry 1 has no `host`");
    assert_error(t, "protocol must be udp, tcp or tls, got `sctp`");
    assert_error(t, "entry 1 has no usable credentials");
    assert_error(t, "UDP port clash: `rtc.udp_port` (3478) and `turn.udp_port` (3478) overlap");
    assert_error(t, "`webhook.urls` needs `webhook.api_key`");
}

static void test_validate_redis(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(loadStr(t, "keys: {k: a-secret-of-at-least-32-characters-long}\n"
                                "redis: {use_tls: true, sentinel_master_name: m}\n"),
                     0);
    assert_int_equal(tbConfigValidate(&t->c, &t->e), -1);
    assert_error(t, "`redis.use_tls: true` is not supported: Debian 12's hiredis 0.14 has no "
                    "TLS");
    assert_error(t, "stunnel");
    assert_error(t, "`redis.sentinel_master_name` needs `redis.sentinel_addresses`");
}

static void test_validate_redis_sentinel_ok(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(loadStr(t, "keys: {k: a-secret-of-at-least-32-characters-long}\n"
                                "redis:\n  use_tls: false\n  sentinel_master_name: m\n"
                                "  sentinel_addresses: [127.0.0.1:26379]\n"),
                     0);
    assert_int_equal(tbConfigValidate(&t->c, &t->e), 0);
    assert_clean(t);
}

/* ---- print, flags ------------------------------------------------------------ */

static void test_print_roundtrip(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigLoadFile(&t->c, FIX("good-full.yaml"), &t->e), 0);
    char *first = printToString(&t->c);
    assert_null(strstr(first, "redis-pass"));
    assert_null(strstr(first, "sentinel-pass"));
    assert_null(strstr(first, "secret-one"));
    assert_null(strstr(first, "wonderland"));
    assert_null(strstr(first, "external-turn-shared-secret"));
    assert_null(strstr(first, "turn-rest-secret"));
    assert_null(strstr(first, "bob's password"));
    assert_non_null(strstr(first, "password: \"****\""));
    assert_non_null(strstr(first, "\"key1\": \"****\""));

    tbConfig again;
    tbConfigErrors e = {0};
    tbConfigInitDefaults(&again);
    assert_int_equal(tbConfigLoadYaml(&again, first, strlen(first), "printed", &e), 0);
    assert_int_equal(e.len, 0);
    assert_int_equal(e.wlen, 0);
    assert_int_equal(again.rtc.udp_port_end, 7892);
    assert_int_equal(again.rtc.turn_servers_len, 2);
    assert_string_equal(again.node_selector, "cpu");
    char *second = printToString(&again);
    assert_string_equal(first, second);
    free(first);
    free(second);
    tbConfigFree(&again);
}

static void test_set_key(void **state) {
    tbTestCfg *t = *state;
    assert_int_equal(tbConfigSetKey(&t->c, "rtc.tcp_port", "7999", "--rtc.tcp_port", &t->e), 0);
    assert_int_equal(t->c.rtc.tcp_port, 7999);
    assert_int_equal(tbConfigSetKey(&t->c, "rtc.udp_port", "7882-7883", "UDP_PORT", &t->e), 0);
    assert_int_equal(t->c.rtc.udp_port_end, 7883);
    assert_int_equal(tbConfigSetKey(&t->c, "bind_addresses", "127.0.0.1, ::1", "--bind", &t->e),
                     0);
    assert_int_equal(t->c.bind_addresses.len, 2);
    assert_int_equal(tbConfigSetKey(&t->c, "logging.level", "warning", NULL, &t->e), 0);
    assert_int_equal(t->c.logging.level, TB_LOG_WARN);
    assert_int_equal(tbConfigSetKey(&t->c, "redis.password", "p", "REDIS_PASSWORD", &t->e), 0);
    assert_string_equal(t->c.redis.password, "p");
    assert_int_equal(tbConfigSetKey(&t->c, "port", "x", "LIVEKIT_PORT", &t->e), -1);
    assert_error(t, "LIVEKIT_PORT: `port`: expected an integer, got `x`");
    assert_int_equal(tbConfigSetKey(&t->c, "rtc.tcp_prot", "1", "--rtc.tcp_prot", &t->e), -1);
    assert_error(t, "--rtc.tcp_prot: unknown key `rtc.tcp_prot` \u2014 did you mean `rtc.tcp_port`?");
    assert_int_equal(tbConfigSetKey(&t->c, "keys", "a", "--keys", &t->e), -1);
}

static void test_errors_cap(void **state) {
    tbTestCfg *t = *state;
    char yaml[8192] = "";
    for (int i = 0; i < TB_CONFIG_MAX_ERRORS + 5; i++) {
        char line[32];
        snprintf(line, sizeof line, "bogus%d: 1\n", i);
        strcat(yaml, line);
    }
    assert_int_equal(loadStr(t, yaml), -1);
    assert_int_equal(t->e.len, TB_CONFIG_MAX_ERRORS);
    assert_int_equal(t->e.dropped, 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test(test_dev_defaults),
        cmocka_unit_test_setup_teardown(test_dev_defaults_keep_user_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_matches_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_spellings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_port_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_mapping_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_collected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cidr_and_node_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unimplemented_one_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_secret_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_cross_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_turn_servers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_redis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_redis_sentinel_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
