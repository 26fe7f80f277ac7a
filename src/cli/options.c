/* options.c — server flags (getopt_long) and building the effective config
 * from defaults, YAML, environment and flags, in livekit-server's order. */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

void tbCliUsage(FILE *out) {
    fprintf(out,
            "usage: tribune [options]\n"
            "       tribune token create --room ROOM --identity ID [token options]\n"
            "\n"
            "  --config FILE         LiveKit-style YAML config file\n"
            "  --config-body YAML    config as a string (env LIVEKIT_CONFIG)\n"
            "  --dev                 development mode: devkey/secret, loopback, UDP 7882\n"
            "  --bind ADDR           address to listen on (repeatable)\n"
            "  --node-ip IP          IP advertised to clients (env NODE_IP)\n"
            "  --udp-port N|A-B      media UDP port or range (env UDP_PORT)\n"
            "  --redis-host H:P      Redis address (env REDIS_HOST; REDIS_PASSWORD)\n"
            "  --keys \"k: s\"         API keys (env LIVEKIT_KEYS)\n"
            "  --key-file FILE       API keys file, mode 0600 (key_file)\n"
            "  --redis-password P    Redis password (env REDIS_PASSWORD)\n"
            "  --turn-cert FILE      TURN TLS certificate (turn.cert_file)\n"
            "  --turn-key FILE       TURN TLS private key (turn.key_file)\n"
            "  --app-dir DIR         serve this web app directory at /app/ (app_dir;\n"
            "                        with --dev, ./web/dist when it exists)\n"
            "  --check-config        validate, print the effective config, exit\n"
            "  --version             print the version and exit\n");
}

enum { OPT_CONFIG = 1, OPT_BODY, OPT_DEV, OPT_BIND, OPT_NODE_IP, OPT_UDP, OPT_REDIS, OPT_KEYS,
       OPT_KEY_FILE, OPT_REDIS_PW, OPT_TURN_CERT, OPT_TURN_KEY, OPT_APP_DIR, OPT_CHECK, OPT_VERSION,
       OPT_HELP };

int tbCliParse(int argc, char **argv, tbCliOptions *o, FILE *err) {
    static const struct option longopts[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"config-body", required_argument, NULL, OPT_BODY},
        {"dev", no_argument, NULL, OPT_DEV},
        {"bind", required_argument, NULL, OPT_BIND},
        {"node-ip", required_argument, NULL, OPT_NODE_IP},
        {"udp-port", required_argument, NULL, OPT_UDP},
        {"redis-host", required_argument, NULL, OPT_REDIS},
        {"keys", required_argument, NULL, OPT_KEYS},
        {"key-file", required_argument, NULL, OPT_KEY_FILE},
        {"redis-password", required_argument, NULL, OPT_REDIS_PW},
        {"turn-cert", required_argument, NULL, OPT_TURN_CERT},
        {"turn-key", required_argument, NULL, OPT_TURN_KEY},
        {"app-dir", required_argument, NULL, OPT_APP_DIR},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG: o->config_file = optarg; break;
        case OPT_BODY: o->config_body = optarg; break;
        case OPT_DEV: o->dev = true; break;
        case OPT_BIND:
            if (o->num_binds == TB_CLI_MAX_BINDS) {
                fprintf(err, "tribune: at most %d --bind addresses\n", TB_CLI_MAX_BINDS);
                return -1;
            }
            o->binds[o->num_binds++] = optarg;
            break;
        case OPT_NODE_IP: o->node_ip = optarg; break;
        case OPT_UDP: o->udp_port = optarg; break;
        case OPT_REDIS: o->redis_host = optarg; break;
        case OPT_KEYS: o->keys = optarg; break;
        case OPT_KEY_FILE: o->key_file = optarg; break;
        case OPT_REDIS_PW: o->redis_password = optarg; break;
        case OPT_TURN_CERT: o->turn_cert = optarg; break;
        case OPT_TURN_KEY: o->turn_key = optarg; break;
        case OPT_APP_DIR: o->app_dir = optarg; break;
        case OPT_CHECK: o->check_config = true; break;
        case OPT_VERSION: o->version = true; break;
        case OPT_HELP:
        case 'h': o->help = true; break;
        default:
            fprintf(err, "tribune: unknown or incomplete option `%s` (see --help)\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(err, "tribune: unexpected argument `%s` (see --help)\n", argv[optind]);
        return -1;
    }
    if (o->config_file && o->config_body) {
        fprintf(err, "tribune: --config and --config-body are exclusive\n");
        return -1;
    }
    return 0;
}

static const char *flagOrEnv(const char *flag, const char *env) {
    if (flag) return flag;
    const char *e = getenv(env);
    return e && *e ? e : NULL;
}

static void applyOverrides(const tbCliOptions *o, tbConfig *cfg, tbConfigErrors *errs) {
    const char *v;
    if ((v = flagOrEnv(o->keys, "LIVEKIT_KEYS")))
        tbConfigParseKeys(cfg, v, o->keys ? "--keys" : "LIVEKIT_KEYS", errs);
    if ((v = flagOrEnv(o->node_ip, "NODE_IP"))) tbConfigSetStr(&cfg->rtc.node_ip, v);
    if ((v = flagOrEnv(o->udp_port, "UDP_PORT")))
        tbConfigSetKey(cfg, "rtc.udp_port", v, o->udp_port ? "--udp-port" : "UDP_PORT", errs);
    if ((v = flagOrEnv(o->redis_host, "REDIS_HOST"))) tbConfigSetStr(&cfg->redis.address, v);
    if ((v = flagOrEnv(o->redis_password, "REDIS_PASSWORD")))
        tbConfigSetStr(&cfg->redis.password, v);
    if (o->key_file) tbConfigSetStr(&cfg->key_file, o->key_file);
    if (o->turn_cert) tbConfigSetStr(&cfg->turn.cert_file, o->turn_cert);
    if (o->turn_key) tbConfigSetStr(&cfg->turn.key_file, o->turn_key);
    if (o->app_dir) tbConfigSetStr(&cfg->app_dir, o->app_dir);
    if (o->num_binds > 0) {
        tbStrListClear(&cfg->bind_addresses);
        for (int i = 0; i < o->num_binds; i++) tbStrListAppend(&cfg->bind_addresses, o->binds[i]);
    }
}

/* Development mode without app_dir: serve ./web/dist (the web app's build
 * output, relative to the working directory) when it is a directory. */
static void devAppDir(tbConfig *cfg) {
    struct stat st;
    char abs[PATH_MAX];
    if (!cfg->development || cfg->app_dir) return;
    if (stat(TB_CLI_DEV_APP_DIR, &st) != 0 || !S_ISDIR(st.st_mode)) return;
    tbConfigSetStr(&cfg->app_dir, realpath(TB_CLI_DEV_APP_DIR, abs) ? abs : TB_CLI_DEV_APP_DIR);
}

int tbCliBuildConfig(const tbCliOptions *o, tbConfig *cfg, tbConfigErrors *errs) {
    memset(errs, 0, sizeof *errs);
    tbConfigInitDefaults(cfg);
    if (o->dev) tbConfigSetDevMode(cfg);
    const char *body = flagOrEnv(o->config_body, "LIVEKIT_CONFIG");
    if (o->config_file)
        tbConfigLoadFile(cfg, o->config_file, errs);
    else if (body)
        tbConfigLoadYaml(cfg, body, strlen(body),
                         o->config_body ? "<config-body>" : "<LIVEKIT_CONFIG>", errs);
    applyOverrides(o, cfg, errs);
    tbConfigApplyDevDefaults(cfg); /* only when development is set */
    devAppDir(cfg);
    if (cfg->key_file) tbConfigLoadKeyFile(cfg, cfg->key_file, errs);
    tbConfigValidate(cfg, errs);
    return errs->len == 0 ? 0 : -1;
}
