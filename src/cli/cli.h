/* cli.h — tribune's command line, mirroring livekit-server's:
 *   tribune [--config FILE | --config-body YAML] [--dev] [--bind ADDR]...
 *           [--node-ip IP] [--udp-port N] [--redis-host HOST:PORT]
 *           [--keys "key: secret"] [--key-file F] [--redis-password P]
 *           [--turn-cert F] [--turn-key F] [--app-dir DIR] [--check-config]
 *           [--version]
 *   tribune token create --room R --identity I [...]
 * plus the environment variables livekit-server reads (LIVEKIT_CONFIG,
 * LIVEKIT_KEYS, NODE_IP, UDP_PORT, REDIS_HOST, REDIS_PASSWORD). */
#ifndef TB_CLI_H
#define TB_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

#define TB_CLI_MAX_BINDS 16
/* Served at /app/ in development mode when app_dir is not set (and it exists). */
#define TB_CLI_DEV_APP_DIR "web/dist"

typedef struct tbCliOptions {
    const char *config_file;
    const char *config_body;
    bool dev;
    const char *binds[TB_CLI_MAX_BINDS];
    int num_binds;
    const char *node_ip;
    const char *udp_port;
    const char *redis_host;
    const char *keys;
    const char *key_file;
    const char *redis_password;
    const char *turn_cert;
    const char *turn_key;
    const char *app_dir;
    bool check_config;
    bool version;
    bool help;
} tbCliOptions;

/* Parses server flags. Returns 0, or -1 after printing the problem to err. */
int tbCliParse(int argc, char **argv, tbCliOptions *o, FILE *err);
/* Builds the effective config: defaults (or --dev), file/body, env, flags,
 * development fill-ins (devkey, ./web/dist as app_dir), key_file,
 * validation. Returns 0 when there are no errors. `errs` receives everything
 * found, warnings included. */
int tbCliBuildConfig(const tbCliOptions *o, tbConfig *cfg, tbConfigErrors *errs);
void tbCliUsage(FILE *out);

/* `tribune token create ...`; returns the process exit code. */
int tbCliToken(int argc, char **argv, FILE *out, FILE *err);

#endif
