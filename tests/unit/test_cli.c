/* test_cli.c — command line and effective config: flag parsing, the
 * livekit-server environment variables, precedence (defaults < YAML < env <
 * flags), --dev fill-ins, and `token create`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth/token.h"
#include "cli/cli.h"

static const char *envVars[] = {"LIVEKIT_CONFIG", "LIVEKIT_KEYS", "NODE_IP", "UDP_PORT",
                                "REDIS_HOST", "REDIS_PASSWORD"};

static int clearEnv(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof envVars / sizeof envVars[0]; i++) unsetenv(envVars[i]);
    return 0;
}

static int parse(tbCliOptions *o, const char **argv) {
    int argc = 0;
    while (argv[argc]) argc++;
    FILE *devnull = fopen("/dev/null", "w");
    int rc = tbCliParse(argc, (char **)argv, o, devnull);
    fclose(devnull);
    return rc;
}

static void test_parse_flags(void **state) {
    (void)state;
    tbCliOptions o;
    const char *ok[] = {"tribune", "--dev", "--bind", "127.0.0.1", "--bind", "::1",
                        "--udp-port", "9000", "--node-ip", "10.0.0.1", "--check-config", NULL};
    assert_int_equal(parse(&o, ok), 0);
    assert_true(o.dev);
    assert_true(o.check_config);
    assert_int_equal(o.num_binds, 2);
    assert_string_equal(o.binds[1], "::1");
    assert_string_equal(o.udp_port, "9000");
    const char *bogus[] = {"tribune", "--bogus", NULL};
    assert_int_equal(parse(&o, bogus), -1);
    const char *both[] = {"tribune", "--config", "a.yaml", "--config-body", "port: 1", NULL};
    assert_int_equal(parse(&o, both), -1);
    const char *stray[] = {"tribune", "serve", NULL};
    assert_int_equal(parse(&o, stray), -1);
    const char *missing[] = {"tribune", "--config", NULL};
    assert_int_equal(parse(&o, missing), -1);
}

static void test_dev_defaults(void **state) {
    (void)state;
    tbCliOptions o = {.dev = true};
    tbConfig cfg;
    tbConfigErrors errs;
    assert_int_equal(tbCliBuildConfig(&o, &cfg, &errs), 0);
    assert_string_equal(tbConfigSecretFor(&cfg, "devkey"), "secret");
    assert_int_equal(cfg.bind_addresses.len, 2);
    assert_string_equal(cfg.bind_addresses.items[0], "127.0.0.1");
    assert_int_equal(cfg.rtc.udp_port, 7882);
    assert_int_equal(cfg.port, 7880);
    tbConfigFree(&cfg);
    /* with keys of its own, --dev does not add devkey or force loopback */
    o.keys = "mykey: 0123456789abcdef0123456789abcdef";
    assert_int_equal(tbCliBuildConfig(&o, &cfg, &errs), 0);
    assert_null(tbConfigSecretFor(&cfg, "devkey"));
    assert_int_equal(cfg.bind_addresses.len, 0);
    tbConfigFree(&cfg);
}

static void test_env_and_flag_precedence(void **state) {
    (void)state;
    setenv("LIVEKIT_CONFIG", "port: 7990\nrtc:\n  udp_port: 7000\n", 1);
    setenv("LIVEKIT_KEYS", "envkey: 0123456789abcdef0123456789abcdef", 1);
    setenv("UDP_PORT", "7100", 1);
    setenv("NODE_IP", "203.0.113.7", 1);
    setenv("REDIS_HOST", "127.0.0.1:6390", 1);
    setenv("REDIS_PASSWORD", "pw", 1);
    tbCliOptions o = {0};
    tbConfig cfg;
    tbConfigErrors errs;
    assert_int_equal(tbCliBuildConfig(&o, &cfg, &errs), 0);
    assert_int_equal(cfg.port, 7990);          /* LIVEKIT_CONFIG body */
    assert_int_equal(cfg.rtc.udp_port, 7100);  /* env beats the body */
    assert_string_equal(cfg.rtc.node_ip, "203.0.113.7");
    assert_string_equal(cfg.redis.address, "127.0.0.1:6390");
    assert_string_equal(cfg.redis.password, "pw");
    assert_non_null(tbConfigSecretFor(&cfg, "envkey"));
    tbConfigFree(&cfg);
    o.udp_port = "7200-7300"; /* the flag beats the env */
    o.node_ip = "198.51.100.1";
    assert_int_equal(tbCliBuildConfig(&o, &cfg, &errs), 0);
    assert_int_equal(cfg.rtc.udp_port, 7200);
    assert_int_equal(cfg.rtc.udp_port_end, 7300);
    assert_string_equal(cfg.rtc.node_ip, "198.51.100.1");
    tbConfigFree(&cfg);
    o.udp_port = "seventy";
    assert_int_equal(tbCliBuildConfig(&o, &cfg, &errs), -1);
    assert_non_null(strstr(errs.items[0].msg, "--udp-port"));
    tbConfigFree(&cfg);
    clearEnv(NULL);
}

static void test_config_errors_fail_the_build(void **state) {
    (void)state;
    tbCliOptions o = {.config_body = "rtc:\n  udp_prot: 7882\n"};
    tbConfig cfg;
    tbConfigErrors errs;
    assert_int_equal(tbCliBuildConfig(&o, &cfg, &errs), -1);
    assert_non_null(strstr(errs.items[0].msg, "did you mean `rtc.udp_port`"));
    tbConfigFree(&cfg);
    /* no keys outside dev mode is an error */
    tbCliOptions none = {.config_body = "port: 7880\n"};
    assert_int_equal(tbCliBuildConfig(&none, &cfg, &errs), -1);
    tbConfigFree(&cfg);
}

static const char *lookup(void *ctx, const char *key) {
    return strcmp(key, "k1") == 0 ? ctx : NULL;
}

static void test_token_create(void **state) {
    (void)state;
    const char *argv[] = {"token", "create", "--room", "r", "--identity", "i", "--name", "N",
                          "--ttl", "10m", "--no-publish", "--api-key", "k1", "--api-secret",
                          "s1-0123456789abcdef0123456789abcdef", NULL};
    char buf[2048] = "";
    FILE *out = fmemopen(buf, sizeof buf, "w");
    FILE *err = fopen("/dev/null", "w");
    assert_int_equal(tbCliToken(15, (char **)argv, out, err), 0);
    fclose(out);
    buf[strcspn(buf, "\n")] = '\0';
    tbClaims c;
    tbClaimsInit(&c);
    assert_int_equal(tbTokenVerify(buf, lookup, "s1-0123456789abcdef0123456789abcdef",
                                   time(NULL), &c, NULL, 0),
                     TB_TOKEN_OK);
    assert_string_equal(c.identity, "i");
    assert_string_equal(c.name, "N");
    assert_string_equal(c.video.room, "r");
    assert_true(c.video.room_join);
    assert_false(tbGrantCanPublish(&c.video));
    assert_int_equal(c.exp - c.nbf, 600);
    tbClaimsFree(&c);
    const char *noroom[] = {"token", "create", "--identity", "i", "--dev", NULL};
    assert_int_equal(tbCliToken(5, (char **)noroom, stdout, err), 2);
    const char *badttl[] = {"token", "create", "--room", "r", "--identity", "i", "--ttl",
                            "forever", "--dev", NULL};
    assert_int_equal(tbCliToken(9, (char **)badttl, stdout, err), 2);
    fclose(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_parse_flags, clearEnv),
        cmocka_unit_test_setup(test_dev_defaults, clearEnv),
        cmocka_unit_test_setup(test_env_and_flag_precedence, clearEnv),
        cmocka_unit_test_setup(test_config_errors_fail_the_build, clearEnv),
        cmocka_unit_test_setup(test_token_create, clearEnv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
