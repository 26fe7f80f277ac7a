/* token_cmd.c — `tribune token create`: mint a LiveKit access token on the
 * command line, like `lk token create` / livekit-server's `create-join-token`.
 * Keys come from --api-key/--api-secret, or from the config (--config,
 * --config-body, LIVEKIT_CONFIG, LIVEKIT_KEYS, --dev). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/token.h"
#include "cli/cli.h"

typedef struct tbTokenArgs {
    tbClaims claims;
    const char *ttl;
    const char *api_key, *api_secret;
    tbCliOptions cfg;           /* only the config-related fields are used */
} tbTokenArgs;

/* "90", "90s", "30m", "6h", "2d" -> seconds; -1 when invalid. */
static long parseDuration(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v <= 0) return -1;
    long mult = 1;
    if (*end == 's') mult = 1, end++;
    else if (*end == 'm') mult = 60, end++;
    else if (*end == 'h') mult = 3600, end++;
    else if (*end == 'd') mult = 86400, end++;
    return *end ? -1 : v * mult;
}

static void tokenUsage(FILE *out) {
    fprintf(out,
            "usage: tribune token create --room ROOM --identity ID [options]\n"
            "  --name NAME --metadata JSON --ttl 6h (s/m/h/d)\n"
            "  --api-key K --api-secret S   (else the first key of the config)\n"
            "  --config FILE | --config-body YAML | --dev\n"
            "  --can-publish/--no-publish --can-subscribe/--no-subscribe\n"
            "  --can-publish-data/--no-publish-data --hidden --room-admin\n"
            "  --room-create --room-list\n");
}

enum { T_ROOM = 1, T_IDENTITY, T_NAME, T_METADATA, T_TTL, T_KEY, T_SECRET, T_CONFIG, T_BODY,
       T_DEV, T_PUB, T_NOPUB, T_SUB, T_NOSUB, T_DATA, T_NODATA, T_HIDDEN, T_ADMIN, T_CREATE,
       T_LIST, T_HELP };

static const struct option tokenOpts[] = {
    {"room", required_argument, NULL, T_ROOM}, {"identity", required_argument, NULL, T_IDENTITY},
    {"name", required_argument, NULL, T_NAME}, {"metadata", required_argument, NULL, T_METADATA},
    {"ttl", required_argument, NULL, T_TTL}, {"api-key", required_argument, NULL, T_KEY},
    {"api-secret", required_argument, NULL, T_SECRET},
    {"config", required_argument, NULL, T_CONFIG},
    {"config-body", required_argument, NULL, T_BODY}, {"dev", no_argument, NULL, T_DEV},
    {"can-publish", no_argument, NULL, T_PUB}, {"no-publish", no_argument, NULL, T_NOPUB},
    {"can-subscribe", no_argument, NULL, T_SUB}, {"no-subscribe", no_argument, NULL, T_NOSUB},
    {"can-publish-data", no_argument, NULL, T_DATA},
    {"no-publish-data", no_argument, NULL, T_NODATA}, {"hidden", no_argument, NULL, T_HIDDEN},
    {"room-admin", no_argument, NULL, T_ADMIN}, {"room-create", no_argument, NULL, T_CREATE},
    {"room-list", no_argument, NULL, T_LIST}, {"help", no_argument, NULL, T_HELP},
    {NULL, 0, NULL, 0},
};

static int applyTokenOpt(int c, tbTokenArgs *a) {
    tbVideoGrant *g = &a->claims.video;
    switch (c) {
    case T_ROOM: g->room = optarg; break;
    case T_IDENTITY: a->claims.identity = optarg; break;
    case T_NAME: a->claims.name = optarg; break;
    case T_METADATA: a->claims.metadata = optarg; break;
    case T_TTL: a->ttl = optarg; break;
    case T_KEY: a->api_key = optarg; break;
    case T_SECRET: a->api_secret = optarg; break;
    case T_CONFIG: a->cfg.config_file = optarg; break;
    case T_BODY: a->cfg.config_body = optarg; break;
    case T_DEV: a->cfg.dev = true; break;
    case T_PUB: g->can_publish = TB_TRUE; break;
    case T_NOPUB: g->can_publish = TB_FALSE; break;
    case T_SUB: g->can_subscribe = TB_TRUE; break;
    case T_NOSUB: g->can_subscribe = TB_FALSE; break;
    case T_DATA: g->can_publish_data = TB_TRUE; break;
    case T_NODATA: g->can_publish_data = TB_FALSE; break;
    case T_HIDDEN: g->hidden = true; break;
    case T_ADMIN: g->room_admin = true; break;
    case T_CREATE: g->room_create = true; break;
    case T_LIST: g->room_list = true; break;
    default: return -1;
    }
    return 0;
}

static int parseTokenArgs(int argc, char **argv, tbTokenArgs *a, FILE *err) {
    memset(a, 0, sizeof *a);
    tbClaimsInit(&a->claims);
    a->ttl = "6h";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", tokenOpts, NULL)) != -1) {
        if (c == T_HELP || applyTokenOpt(c, a) != 0) {
            if (c != T_HELP) fprintf(err, "tribune token: bad option `%s`\n", argv[optind - 1]);
            tokenUsage(err);
            return -1;
        }
    }
    if (!a->claims.identity || !a->claims.video.room) {
        fprintf(err, "tribune token: --room and --identity are required\n");
        return -1;
    }
    return 0;
}

/* The signing key: explicit flags, else from the config. */
static int resolveKey(tbTokenArgs *a, tbConfig *cfg, FILE *err) {
    if (a->api_key && a->api_secret) return 0;
    tbConfigErrors errs;
    if (tbCliBuildConfig(&a->cfg, cfg, &errs) != 0) {
        tbConfigErrorsPrint(&errs, err);
        return -1;
    }
    if (a->api_key) {
        a->api_secret = tbConfigSecretFor(cfg, a->api_key);
        if (!a->api_secret) fprintf(err, "tribune token: key `%s` is not in the config\n",
                                    a->api_key);
    } else if (cfg->keys.len > 0) {
        a->api_key = cfg->keys.items[0].key;
        a->api_secret = cfg->keys.items[0].value;
    } else {
        fprintf(err, "tribune token: no API key: pass --api-key/--api-secret, --config or "
                     "--dev\n");
    }
    return a->api_secret ? 0 : -1;
}

int tbCliToken(int argc, char **argv, FILE *out, FILE *err) {
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        tokenUsage(err);
        return 2;
    }
    tbTokenArgs a;
    tbConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = 1;
    if (parseTokenArgs(argc - 1, argv + 1, &a, err) != 0) return 2;
    long ttl = parseDuration(a.ttl);
    if (ttl <= 0) {
        fprintf(err, "tribune token: invalid --ttl `%s` (e.g. 90s, 30m, 6h, 2d)\n", a.ttl);
        return 2;
    }
    if (resolveKey(&a, &cfg, err) != 0) goto done;
    a.claims.video.room_join = true;
    a.claims.api_key = (char *)a.api_key;
    a.claims.nbf = (int64_t)time(NULL);
    a.claims.exp = a.claims.nbf + ttl;
    char *token = tbTokenSign(&a.claims, a.api_secret);
    if (token) {
        fprintf(out, "%s\n", token);
        free(token);
        rc = 0;
    }
done:
    tbConfigFree(&cfg);
    return rc;
}
