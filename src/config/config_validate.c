/* config_validate.c — cross-field checks run once every layer (defaults,
 * YAML, env, flags, key_file) is applied: port ranges and port clashes,
 * embedded TURN requirements, API keys (present, long enough), webhook key,
 * external TURN server credentials, Redis (Sentinel keys, no TLS), app_dir
 * (a readable directory).
 * Single-value checks (types, ranges, CIDR syntax) happen when a value is
 * set, in config_schema.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"

typedef struct tbPortUse {
    const char *key;
    int start, end; /* inclusive; start == 0: unused */
} tbPortUse;

static int overlaps(const tbPortUse *a, const tbPortUse *b) {
    return a->start && b->start && a->start <= b->end && b->start <= a->end;
}

static void fmtUse(char *buf, size_t len, const tbPortUse *u) {
    if (u->end != u->start) snprintf(buf, len, "%d-%d", u->start, u->end);
    else snprintf(buf, len, "%d", u->start);
}

/* Reports every pair of listeners sharing a port on the same protocol. */
static int checkClashes(const tbPortUse *u, size_t n, const char *proto, tbConfigErrors *errs) {
    int bad = 0;
    char a[32], b[32];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (!overlaps(&u[i], &u[j])) continue;
            fmtUse(a, sizeof a, &u[i]);
            fmtUse(b, sizeof b, &u[j]);
            tbConfigAddError(errs, "%s port clash: `%s` (%s) and `%s` (%s) overlap", proto,
                             u[i].key, a, u[j].key, b);
            bad++;
        }
    }
    return bad;
}

static int checkRange(const char *what, int start, int end, tbConfigErrors *errs) {
    if (start <= end) return 0;
    tbConfigAddError(errs, "`%s_start` (%d) is greater than `%s_end` (%d)", what, start, what,
                     end);
    return 1;
}

static int checkPorts(const tbConfig *c, tbConfigErrors *errs) {
    int bad = 0;
    const tbRtcConfig *r = &c->rtc;
    if (r->udp_port == 0) {
        bad += checkRange("rtc.port_range", r->port_range_start, r->port_range_end, errs);
        if (!r->port_range_start || !r->port_range_end) {
            tbConfigAddError(errs, "no UDP media port: set `rtc.udp_port` or both "
                                   "`rtc.port_range_start` and `rtc.port_range_end`");
            bad++;
        }
    }
    bad += checkRange("turn.relay_range", c->turn.relay_range_start, c->turn.relay_range_end,
                      errs);
    bool turnOn = c->turn.enabled;
    tbPortUse tcp[] = {
        {"port", c->port, c->port},
        {"rtc.tcp_port", r->tcp_port, r->tcp_port},
        {"turn.tls_port", turnOn ? c->turn.tls_port : 0, c->turn.tls_port},
        {"turn.udp_port", turnOn ? c->turn.udp_port : 0, c->turn.udp_port}, /* TURN over TCP */
        {"prometheus.port", c->prometheus_port, c->prometheus_port},
    };
    int udpEnd = r->udp_port_end ? r->udp_port_end : r->udp_port;
    tbPortUse udp[] = {
        {"rtc.udp_port", r->udp_port, udpEnd},
        {"rtc.port_range", r->udp_port ? 0 : r->port_range_start, r->port_range_end},
        {"turn.udp_port", turnOn ? c->turn.udp_port : 0, c->turn.udp_port},
        {"turn.relay_range", turnOn ? c->turn.relay_range_start : 0, c->turn.relay_range_end},
    };
    bad += checkClashes(tcp, sizeof tcp / sizeof tcp[0], "TCP", errs);
    bad += checkClashes(udp, sizeof udp / sizeof udp[0], "UDP", errs);
    return bad;
}

static int checkTurn(const tbConfig *c, tbConfigErrors *errs) {
    const tbTurnConfig *t = &c->turn;
    int bad = 0;
    if (!t->enabled) return 0;
    if (t->tls_port == 0 && t->udp_port == 0) {
        tbConfigAddError(errs, "`turn.enabled` needs `turn.tls_port` or `turn.udp_port`");
        bad++;
    }
    if (t->tls_port && !t->domain) {
        tbConfigAddError(errs, "`turn.tls_port` needs `turn.domain` (the TLS certificate's name)");
        bad++;
    }
    if (t->tls_port && !t->external_tls && (!t->cert_file || !t->key_file)) {
        tbConfigAddError(errs, "`turn.tls_port` without `turn.external_tls` needs "
                               "`turn.cert_file` and `turn.key_file` (or LIVEKIT_TURN_CERT and "
                               "LIVEKIT_TURN_KEY)");
        bad++;
    }
    if (t->ttl_seconds < 300 || t->ttl_seconds > 86400)
        tbConfigAddWarning(errs, "`turn.ttl_seconds` %d is outside 300..86400: using %d (as "
                                 "LiveKit clamps it)",
                           t->ttl_seconds, t->ttl_seconds < 300 ? 300 : 86400);
    for (size_t i = 0; i < t->users.len; i++) {
        if (!*t->users.items[i].value) {
            tbConfigAddError(errs, "`turn.users.%s` has an empty password", t->users.items[i].key);
            bad++;
        }
    }
    return bad;
}

static int checkKeys(const tbConfig *c, tbConfigErrors *errs) {
    if (c->keys.len == 0 && !c->development) {
        if (c->key_file)
            tbConfigAddError(errs, "`key_file` %s is set but no keys are loaded from it",
                             c->key_file);
        else
            tbConfigAddError(errs, "no API keys: set `keys` or `key_file` in the config, "
                                   "LIVEKIT_KEYS or --keys, or use --dev");
        return 1;
    }
    for (size_t i = 0; i < c->keys.len && !c->development; i++) {
        if (strlen(c->keys.items[i].value) < TB_CONFIG_MIN_SECRET_LEN)
            tbConfigAddWarning(errs, "secret for API key `%s` is too short, should be at least %d "
                                     "characters for security",
                               c->keys.items[i].key, TB_CONFIG_MIN_SECRET_LEN);
    }
    for (size_t i = 0; i < c->turn.secrets.len; i++) {
        if (strlen(c->turn.secrets.items[i]) < TB_CONFIG_MIN_SECRET_LEN)
            tbConfigAddWarning(errs, "`turn.secrets` entry %zu is too short, should be at least "
                                     "%d characters for security",
                               i + 1, TB_CONFIG_MIN_SECRET_LEN);
    }
    return 0;
}

static int checkWebhook(const tbConfig *c, tbConfigErrors *errs) {
    const tbWebhookConfig *w = &c->webhook;
    int bad = 0;
    if (w->urls.len == 0) return 0;
    if (!w->api_key) {
        tbConfigAddError(errs, "`webhook.urls` needs `webhook.api_key` (the key that signs "
                               "webhook requests)");
        bad++;
    } else if (c->keys.len && !tbConfigSecretFor(c, w->api_key)) {
        tbConfigAddError(errs, "`webhook.api_key` `%s` is not one of the API keys", w->api_key);
        bad++;
    }
    for (size_t i = 0; i < w->urls.len; i++) {
        const char *u = w->urls.items[i];
        if (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) {
            tbConfigAddError(errs, "`webhook.urls` entry `%s` is not an http(s) URL", u);
            bad++;
        }
    }
    return bad;
}

static int checkTurnServer(const tbExternalTurn *s, size_t i, tbConfigErrors *errs) {
    int bad = 0;
    if (!s->host) {
        tbConfigAddError(errs, "`rtc.turn_servers` entry %zu has no `host`", i + 1);
        bad++;
    }
    if (s->protocol && strcmp(s->protocol, "udp") && strcmp(s->protocol, "tcp") &&
        strcmp(s->protocol, "tls")) {
        tbConfigAddError(errs, "`rtc.turn_servers` entry %zu: protocol must be udp, tcp or tls, "
                               "got `%s`", i + 1, s->protocol);
        bad++;
    }
    if (!s->secret && !(s->username && s->credential)) {
        tbConfigAddError(errs, "`rtc.turn_servers` entry %zu has no usable credentials: set "
                               "`secret`, or `username` and `credential`", i + 1);
        bad++;
    }
    return bad;
}

/* Sentinel needs both its keys; TLS cannot be had (hiredis 0.14). */
static int checkRedis(const tbConfig *c, tbConfigErrors *errs) {
    const tbRedisConfig *r = &c->redis;
    int bad = 0;
    if (r->sentinel_addresses.len && !r->sentinel_master_name) {
        tbConfigAddError(errs, "`redis.sentinel_addresses` needs `redis.sentinel_master_name`");
        bad++;
    }
    if (r->sentinel_master_name && !r->sentinel_addresses.len) {
        tbConfigAddError(errs, "`redis.sentinel_master_name` needs `redis.sentinel_addresses` "
                               "(the sentinels to ask for the master)");
        bad++;
    }
    if (r->use_tls) {
        tbConfigAddError(errs, "`redis.use_tls: true` is not supported: Debian 12's hiredis "
                               "0.14 has no TLS; put Redis on a private network, or reach it "
                               "through a TLS tunnel such as stunnel, and set `use_tls: false`");
        bad++;
    }
    return bad;
}

/* app_dir: the directory /app/ serves must exist and be listable. */
static int checkAppDir(const tbConfig *c, tbConfigErrors *errs) {
    const char *d = c->app_dir;
    struct stat st;
    if (!d) return 0;
    if (!*d) {
        tbConfigAddError(errs, "`app_dir` is empty: give a directory, or leave it out");
        return 1;
    }
    if (stat(d, &st) != 0) {
        tbConfigAddError(errs, "`app_dir` %s: %s", d, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        tbConfigAddError(errs, "`app_dir` %s is not a directory", d);
        return 1;
    }
    if (access(d, R_OK | X_OK) != 0) {
        tbConfigAddError(errs, "`app_dir` %s is not readable: %s", d, strerror(errno));
        return 1;
    }
    return 0;
}

int tbConfigValidate(const tbConfig *c, tbConfigErrors *errs) {
    int bad = 0;
    bad += checkPorts(c, errs);
    bad += checkTurn(c, errs);
    bad += checkKeys(c, errs);
    bad += checkWebhook(c, errs);
    bad += checkRedis(c, errs);
    bad += checkAppDir(c, errs);
    for (size_t i = 0; i < c->rtc.turn_servers_len; i++)
        bad += checkTurnServer(&c->rtc.turn_servers[i], i, errs);
    return bad ? -1 : 0;
}
