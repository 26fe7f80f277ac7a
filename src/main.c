/* main.c — entry point: `tribune token ...` or the server. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"
#include "tb_build_config.h"
#include "util/log.h"

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "token") == 0)
        return tbCliToken(argc - 1, argv + 1, stdout, stderr);
    tbCliOptions opts;
    if (tbCliParse(argc, argv, &opts, stderr) != 0) return 2;
    if (opts.help) {
        tbCliUsage(stdout);
        return 0;
    }
    if (opts.version) {
        printf("tribune %s\nSRTP: %s\n", TB_VERSION, TB_SRTP_BACKEND);
        return 0;
    }
    tbConfig cfg;
    tbConfigErrors errs;
    int bad = tbCliBuildConfig(&opts, &cfg, &errs);
    tbConfigErrorsPrint(&errs, stderr);
    int rc = bad ? 1 : 0;
    if (opts.check_config) {
        if (!bad) {
            tbConfigPrint(&cfg, stdout);
            fprintf(stderr, "config OK\n");
        }
    } else if (!bad) {
        tbLogSetup(cfg.logging.level, cfg.logging.json);
        rc = tbServerRun(&cfg);
    }
    tbConfigFree(&cfg);
    return rc;
}
