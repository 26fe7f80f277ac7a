/* config_schema.c — the table of every configuration key tribune accepts
 * (LiveKit's keys, tribune's additions, and LiveKit keys accepted but not
 * implemented), with the conversion of scalar strings into the typed fields
 * the table points at. The loader, printer, flag setter and the did-you-mean
 * search all read this one table. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_internal.h"

#define O(f) offsetof(tbConfig, f)
#define TS(f) offsetof(tbExternalTurn, f)
#define CS(f) offsetof(tbCodecSpec, f)
#define PORT0 0, 65535           /* a port, 0 = off */
#define PORT1 1, 65535           /* a port, required */
#define NONNEG 0, INT_MAX
#define ANY INT_MIN, INT_MAX

#define SEC(p) {p, TB_KT_SECTION, 0, 0, 0, 0}
#define NOP(p) {p, TB_KT_UNIMPL, 0, 0, 0, 0}
#define NOPI(p) {p, TB_KT_UNIMPL, 0, 0, 0, TB_KF_ITEM}

static const tbConfigKey tbConfigKeys[] = {
    {"port", TB_KT_INT, O(port), PORT1, 0},
    {"bind_addresses", TB_KT_STRLIST, O(bind_addresses), 0, 0, 0},

    SEC("rtc"),
    {"rtc.tcp_port", TB_KT_INT, O(rtc.tcp_port), PORT0, 0},
    {"rtc.udp_port", TB_KT_UDPPORT, O(rtc.udp_port), PORT0, 0},
    {"rtc.port_range_start", TB_KT_INT, O(rtc.port_range_start), PORT0, 0},
    {"rtc.port_range_end", TB_KT_INT, O(rtc.port_range_end), PORT0, 0},
    {"rtc.use_external_ip", TB_KT_BOOL, O(rtc.use_external_ip), 0, 0, 0},
    {"rtc.node_ip", TB_KT_NODEIP, O(rtc.node_ip), 0, 0, 0},
    {"rtc.stun_servers", TB_KT_STRLIST, O(rtc.stun_servers), 0, 0, 0},
    {"rtc.turn_servers", TB_KT_TURNSERVERS, O(rtc.turn_servers), 0, 0, 0},
    {"rtc.turn_servers.host", TB_KT_STR, TS(host), 0, 0, TB_KF_ITEM},
    {"rtc.turn_servers.port", TB_KT_INT, TS(port), PORT1, TB_KF_ITEM},
    {"rtc.turn_servers.protocol", TB_KT_STR, TS(protocol), 0, 0, TB_KF_ITEM},
    {"rtc.turn_servers.username", TB_KT_STR, TS(username), 0, 0, TB_KF_ITEM},
    {"rtc.turn_servers.credential", TB_KT_STR, TS(credential), 0, 0, TB_KF_ITEM | TB_KF_SECRET},
    {"rtc.turn_servers.secret", TB_KT_STR, TS(secret), 0, 0, TB_KF_ITEM | TB_KF_SECRET},
    {"rtc.turn_servers.ttl", TB_KT_INT, TS(ttl), 0, 86400, TB_KF_ITEM},
    NOPI("rtc.turn_servers.secret_file"),
    {"rtc.use_ice_lite", TB_KT_BOOL, O(rtc.use_ice_lite), 0, 0, 0},
    {"rtc.packet_buffer_size_audio", TB_KT_INT, O(rtc.packet_buffer_size_audio), 1, 65536, 0},
    SEC("rtc.interfaces"),
    {"rtc.interfaces.includes", TB_KT_STRLIST, O(rtc.interfaces_includes), 0, 0, 0},
    {"rtc.interfaces.excludes", TB_KT_STRLIST, O(rtc.interfaces_excludes), 0, 0, 0},
    SEC("rtc.ips"),
    {"rtc.ips.includes", TB_KT_CIDRLIST, O(rtc.ips_includes), 0, 0, 0},
    {"rtc.ips.excludes", TB_KT_CIDRLIST, O(rtc.ips_excludes), 0, 0, 0},
    {"rtc.workers", TB_KT_INT, O(rtc.workers), 0, 1024, TB_KF_TRIBUNE},
    NOP("rtc.use_stun_port_as_ice"), NOP("rtc.enable_loopback_candidate"), NOP("rtc.use_mdns"),
    NOP("rtc.external_ip_only"), NOP("rtc.advertise_internal_ip"),
    NOP("rtc.skip_external_ip_validation"), NOP("rtc.batch_io"), NOP("rtc.sctp_min_cwnd"),
    NOP("rtc.sctp_fast_rtx_wnd"), NOP("rtc.sctp_cwnd_ca_step"), NOP("rtc.force_tcp"),
    NOP("rtc.enable_warp"), NOP("rtc.strict_acks"), NOP("rtc.packet_buffer_size"),
    NOP("rtc.packet_buffer_size_video"), NOP("rtc.pli_throttle"), NOP("rtc.congestion_control"),
    NOP("rtc.allow_tcp_fallback"), NOP("rtc.tcp_fallback_rtt_threshold"),
    NOP("rtc.allow_udp_unstable_fallback"), NOP("rtc.reconnect_on_publication_error"),
    NOP("rtc.reconnect_on_subscription_error"), NOP("rtc.reconnect_on_data_channel_error"),
    NOP("rtc.data_channel_max_buffered_amount"), NOP("rtc.datachannel_slow_threshold"),
    NOP("rtc.datachannel_lossy_target_latency"), NOP("rtc.datachannel_data_track_target_latency"),
    NOP("rtc.forward_stats"), NOP("rtc.enable_rtp_stream_restart_detection"),

    SEC("redis"),
    {"redis.address", TB_KT_STR, O(redis.address), 0, 0, 0},
    {"redis.username", TB_KT_STR, O(redis.username), 0, 0, 0},
    {"redis.password", TB_KT_STR, O(redis.password), 0, 0, TB_KF_SECRET},
    {"redis.db", TB_KT_INT, O(redis.db), NONNEG, 0},
    {"redis.use_tls", TB_KT_BOOL, O(redis.use_tls), 0, 0, 0},
    {"redis.sentinel_master_name", TB_KT_STR, O(redis.sentinel_master_name), 0, 0, 0},
    {"redis.sentinel_username", TB_KT_STR, O(redis.sentinel_username), 0, 0, 0},
    {"redis.sentinel_password", TB_KT_STR, O(redis.sentinel_password), 0, 0, TB_KF_SECRET},
    {"redis.sentinel_addresses", TB_KT_STRLIST, O(redis.sentinel_addresses), 0, 0, 0},
    {"redis.cluster_addresses", TB_KT_STRLIST, O(redis.cluster_addresses), 0, 0, 0},
    NOP("redis.tls"), NOP("redis.dial_timeout"), NOP("redis.read_timeout"),
    NOP("redis.write_timeout"), NOP("redis.max_redirects"), NOP("redis.pool_timeout"),
    NOP("redis.pool_size"),

    {"keys", TB_KT_KEYMAP, O(keys), 0, 0, TB_KF_SECRET},
    {"key_file", TB_KT_STR, O(key_file), 0, 0, 0},

    SEC("turn"),
    {"turn.enabled", TB_KT_BOOL, O(turn.enabled), 0, 0, 0},
    {"turn.domain", TB_KT_STR, O(turn.domain), 0, 0, 0},
    {"turn.tls_port", TB_KT_INT, O(turn.tls_port), PORT0, 0},
    {"turn.udp_port", TB_KT_INT, O(turn.udp_port), PORT0, 0},
    {"turn.external_tls", TB_KT_BOOL, O(turn.external_tls), 0, 0, 0},
    {"turn.cert_file", TB_KT_STR, O(turn.cert_file), 0, 0, 0},
    {"turn.key_file", TB_KT_STR, O(turn.key_file), 0, 0, 0},
    {"turn.relay_range_start", TB_KT_INT, O(turn.relay_range_start), PORT1, 0},
    {"turn.relay_range_end", TB_KT_INT, O(turn.relay_range_end), PORT1, 0},
    {"turn.allow_restricted_peer_cidrs", TB_KT_CIDRLIST, O(turn.allow_restricted_peer_cidrs), 0, 0,
     0},
    {"turn.realm", TB_KT_STR, O(turn.realm), 0, 0, TB_KF_TRIBUNE},
    {"turn.secrets", TB_KT_STRLIST, O(turn.secrets), 0, 0, TB_KF_TRIBUNE | TB_KF_SECRET},
    {"turn.users", TB_KT_KEYMAP, O(turn.users), 0, 0, TB_KF_TRIBUNE | TB_KF_SECRET},
    {"turn.per_user_relay_allocation_limit", TB_KT_INT, O(turn.per_user_relay_allocation_limit),
     NONNEG, 0},
    {"turn.ttl_seconds", TB_KT_INT, O(turn.ttl_seconds), ANY, 0},
    {"turn.max_allocations", TB_KT_INT, O(turn.max_allocations), 1, 65535, TB_KF_TRIBUNE},
    {"turn.bandwidth_limit", TB_KT_INT, O(turn.bandwidth_limit), NONNEG, TB_KF_TRIBUNE},
    NOP("turn.bind_addresses"), NOP("turn.deny_peer_cidrs"),

    SEC("room"),
    {"room.auto_create", TB_KT_BOOL, O(room.auto_create), 0, 0, 0},
    {"room.empty_timeout", TB_KT_INT, O(room.empty_timeout), NONNEG, 0},
    {"room.departure_timeout", TB_KT_INT, O(room.departure_timeout), NONNEG, 0},
    {"room.max_participants", TB_KT_INT, O(room.max_participants), NONNEG, 0},
    {"room.enabled_codecs", TB_KT_CODECS, O(room.enabled_codecs), 0, 0, 0},
    {"room.enabled_codecs.mime", TB_KT_STR, CS(mime), 0, 0, TB_KF_ITEM},
    {"room.enabled_codecs.fmtp_line", TB_KT_STR, CS(fmtp_line), 0, 0, TB_KF_ITEM},
    {"room.max_metadata_size", TB_KT_INT, O(limit.max_metadata_size), NONNEG, TB_KF_ALIAS},
    {"room.max_room_name_length", TB_KT_INT, O(limit.max_room_name_length), NONNEG, TB_KF_ALIAS},
    {"room.max_participant_identity_length", TB_KT_INT, O(limit.max_participant_identity_length),
     NONNEG, TB_KF_ALIAS},
    NOP("room.enable_remote_unmute"), NOP("room.playout_delay"), NOP("room.sync_streams"),
    NOP("room.create_room_enabled"), NOP("room.create_room_timeout"),
    NOP("room.create_room_attempts"), NOP("room.enable_full_room_in_webhooks"),
    NOP("room.update_batch_target_size"), NOP("room.room_configurations"),

    SEC("logging"),
    {"logging.level", TB_KT_LOGLEVEL, O(logging.level), 0, 0, 0},
    {"logging.json", TB_KT_BOOL, O(logging.json), 0, 0, 0},
    NOP("logging.pion_level"), NOP("logging.sample"), NOP("logging.component_levels"),
    NOP("logging.sample_initial"), NOP("logging.sample_interval"),
    NOP("logging.item_sample_seconds"), NOP("logging.item_sample_initial"),
    NOP("logging.item_sample_interval"),
    {"log_level", TB_KT_LOGLEVEL, O(logging.level), 0, 0, TB_KF_ALIAS},

    SEC("webhook"),
    {"webhook.api_key", TB_KT_STR, O(webhook.api_key), 0, 0, 0},
    {"webhook.urls", TB_KT_STRLIST, O(webhook.urls), 0, 0, 0},
    NOP("webhook.url_notifier"), NOP("webhook.resource_url_notifier"),
    NOP("webhook.filter_params"),

    SEC("prometheus"),
    {"prometheus.port", TB_KT_INT, O(prometheus_port), PORT0, 0},
    NOP("prometheus.username"), NOP("prometheus.password"),
    {"prometheus_port", TB_KT_INT, O(prometheus_port), PORT0, TB_KF_ALIAS},

    SEC("limit"),
    {"limit.num_tracks", TB_KT_INT, O(limit.num_tracks), -1, INT_MAX, 0},
    {"limit.bytes_per_sec", TB_KT_DOUBLE, O(limit.bytes_per_sec), -1, 0, 0},
    {"limit.max_metadata_size", TB_KT_INT, O(limit.max_metadata_size), NONNEG, 0},
    {"limit.signal_message_size_limit", TB_KT_INT, O(limit.signal_message_size_limit), NONNEG, 0},
    {"limit.max_room_name_length", TB_KT_INT, O(limit.max_room_name_length), NONNEG, 0},
    {"limit.max_participant_identity_length", TB_KT_INT, O(limit.max_participant_identity_length),
     NONNEG, 0},
    NOP("limit.subscription_limit_video"), NOP("limit.subscription_limit_audio"),
    NOP("limit.max_attributes_size"), NOP("limit.max_participant_name_length"),
    NOP("limit.max_data_blob_key_length"), NOP("limit.max_data_blobs_size"),
    NOP("limit.max_data_track_custom_encoding_length"),
    NOP("limit.agent_signal_message_size_limit"), NOP("limit.max_api_request_body_size"),

    {"development", TB_KT_BOOL, O(development), 0, 0, 0},
    {"node_selector", TB_KT_NODESEL, O(node_selector), 0, 0, 0},
    {"node_selector.kind", TB_KT_NODEKIND, O(node_selector), 0, 0, TB_KF_ALIAS},
    NOP("node_selector.sort_by"), NOP("node_selector.algorithm"),
    NOP("node_selector.cpu_load_limit"), NOP("node_selector.sysload_limit"),
    NOP("node_selector.regions"),
    {"shutdown_timeout", TB_KT_DURATION, O(shutdown_timeout), 0, 86400, TB_KF_TRIBUNE},
    {"app_dir", TB_KT_STR, O(app_dir), 0, 0, TB_KF_TRIBUNE},

    NOP("audio"), NOP("video"), NOP("ingress"), NOP("sip"), NOP("region"),
    NOP("signal_relay"), NOP("psrpc"), NOP("agents"), NOP("metric"), NOP("trace"),
    NOP("node_stats"), NOP("enable_data_tracks"), NOP("enable_participant_data_blob"),
    NOP("api"), NOP("debug_handler"),
};

const tbConfigKey *tbConfigSchema(size_t *n) {
    *n = sizeof tbConfigKeys / sizeof tbConfigKeys[0];
    return tbConfigKeys;
}

const tbConfigKey *tbConfigSchemaFind(const char *path) {
    size_t n;
    const tbConfigKey *t = tbConfigSchema(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].path, path) == 0) return &t[i];
    return NULL;
}

/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps). */
static size_t editDistance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    size_t *rows = calloc(3 * (lb + 1), sizeof *rows);
    if (!rows) return (size_t)-1;
    size_t *pp = rows, *p = rows + lb + 1, *cur = rows + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++) p[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = p[j] + 1;
            if (cur[j - 1] + 1 < d) d = cur[j - 1] + 1;
            if (p[j - 1] + cost < d) d = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
        }
        size_t *t = pp;
        pp = p;
        p = cur;
        cur = t;
    }
    size_t r = p[lb];
    free(rows);
    return r;
}

const char *tbConfigSchemaSuggest(const char *path) {
    size_t n, best = (size_t)-1;
    const tbConfigKey *t = tbConfigSchema(&n);
    const char *found = t[0].path;
    for (size_t i = 0; i < n; i++) {
        size_t d = editDistance(path, t[i].path);
        if (d < best) {
            best = d;
            found = t[i].path;
        }
    }
    return found;
}

/* ---- scalar conversions ------------------------------------------------ */

static int parseLong(const char *s, long long *out) {
    char buf[64];
    size_t j = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '_' && p != s) continue; /* YAML 1.1 digit separators: 1_000 */
        if (j + 1 >= sizeof buf) return -1;
        buf[j++] = *p;
    }
    buf[j] = '\0';
    if (j == 0 || isspace((unsigned char)buf[0])) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int parseDouble(const char *s, double *out) {
    char buf[64];
    size_t j = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '_' && p != s) continue;
        if (j + 1 >= sizeof buf) return -1;
        buf[j++] = *p;
    }
    buf[j] = '\0';
    if (j == 0 || isspace((unsigned char)buf[0])) return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int parseBool(const char *s, bool *out) {
    static const char *yes[] = {"true", "yes", "on"}, *no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0) return *out = false, 0;
    }
    return -1;
}

/* Go-style duration ("1h30m", "90s", "500ms") or plain seconds, in ms. */
static int parseDurationMs(const char *s, double *ms) {
    long long secs;
    if (parseLong(s, &secs) == 0) return *ms = (double)secs * 1000.0, 0;
    static const struct { const char *unit; double ms; } units[] = {
        {"ms", 1}, {"us", 1e-3}, {"ns", 1e-6}, {"h", 3600e3}, {"m", 60e3},
        {"s", 1e3}};
    double total = 0;
    const char *p = s;
    if (!*p) return -1;
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p) && *p != '.') return -1;
        double v = strtod(p, &end);
        if (end == p) return -1;
        size_t u = 0;
        while (u < sizeof units / sizeof units[0] &&
               strncmp(end, units[u].unit, strlen(units[u].unit)) != 0)
            u++;
        if (u == sizeof units / sizeof units[0]) return -1;
        total += v * units[u].ms;
        p = end + strlen(units[u].unit);
    }
    *ms = total;
    return 0;
}

static int setRangeInt(const tbConfigKey *k, int *dst, long long v, char *why, size_t wl) {
    if (v < k->min || v > k->max) {
        if (k->max == INT_MAX)
            snprintf(why, wl, "%lld is out of range (must be >= %lld)", v, k->min);
        else
            snprintf(why, wl, "%lld is out of range (%lld..%lld)", v, k->min, k->max);
        return -1;
    }
    *dst = (int)v;
    return 0;
}

static int setInt(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    long long n;
    if (parseLong(v, &n) < 0) {
        snprintf(why, wl, "expected an integer, got `%s`", v);
        return -1;
    }
    return setRangeInt(k, TB_CFG_FIELD(base, k, int), n, why, wl);
}

static int setDouble(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    double d;
    if (parseDouble(v, &d) < 0) {
        snprintf(why, wl, "expected a number, got `%s`", v);
        return -1;
    }
    if (d < (double)k->min) {
        snprintf(why, wl, "%s is out of range (must be >= %lld)", v, k->min);
        return -1;
    }
    *TB_CFG_FIELD(base, k, double) = d;
    return 0;
}

static int setBool(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    if (parseBool(v, TB_CFG_FIELD(base, k, bool)) < 0) {
        snprintf(why, wl, "expected true or false, got `%s`", v);
        return -1;
    }
    return 0;
}

static int setStr(const tbConfigKey *k, void *base, const char *v) {
    tbConfigSetStr(TB_CFG_FIELD(base, k, char *), *v ? v : NULL);
    return 0;
}

/* rtc.udp_port: 7882 or "7882-7892" (LiveKit's PortRange). */
static int setUdpPort(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    /* udp_port and udp_port_end are siblings in tbRtcConfig */
    char *start = (char *)base + k->off;
    tbRtcConfig *rtc = (tbRtcConfig *)(void *)(start - offsetof(tbRtcConfig, udp_port));
    const char *dash = strchr(v, '-');
    long long a, b;
    if (!dash) {
        if (parseLong(v, &a) < 0) {
            snprintf(why, wl, "expected a port or a \"start-end\" range, got `%s`", v);
            return -1;
        }
        if (setRangeInt(k, &rtc->udp_port, a, why, wl) < 0) return -1;
        rtc->udp_port_end = 0;
        return 0;
    }
    char left[32];
    size_t ll = (size_t)(dash - v);
    if (ll >= sizeof left || strchr(dash + 1, '-')) goto bad;
    memcpy(left, v, ll);
    left[ll] = '\0';
    while (ll && left[ll - 1] == ' ') left[--ll] = '\0';
    const char *right = dash + 1;
    while (*right == ' ') right++;
    if (parseLong(left, &a) < 0 || parseLong(right, &b) < 0) goto bad;
    if (a < 1 || a > 65535 || b < 1 || b > 65535) {
        snprintf(why, wl, "port range `%s` is out of range (1..65535)", v);
        return -1;
    }
    if (b <= a) {
        snprintf(why, wl, "end port %lld must be greater than start port %lld", b, a);
        return -1;
    }
    rtc->udp_port = (int)a;
    rtc->udp_port_end = (int)b;
    return 0;
bad:
    snprintf(why, wl, "invalid port range `%s`, should be <start>-<end>", v);
    return -1;
}

static int isIp(const char *s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* rtc.node_ip: "1.2.3.4", "2001:db8::1" or "1.2.3.4,2001:db8::1". */
static int setNodeIp(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    char buf[128];
    if (strlen(v) >= sizeof buf) goto bad;
    strcpy(buf, v);
    int v4 = 0, v6 = 0, parts = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        size_t n = strlen(tok);
        while (n && tok[n - 1] == ' ') tok[--n] = '\0';
        if (!isIp(tok)) goto bad;
        if (strchr(tok, ':')) v6++;
        else v4++;
        parts++;
    }
    if (parts == 0 || v4 > 1 || v6 > 1) goto bad;
    return setStr(k, base, v);
bad:
    snprintf(why, wl, "expected an IP address or \"ipv4,ipv6\", got `%s`", v);
    return -1;
}

static int setLogLevel(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    static const struct { const char *name; tbLogLevel level; } levels[] = {
        {"debug", TB_LOG_DEBUG}, {"info", TB_LOG_INFO}, {"warn", TB_LOG_WARN},
        {"warning", TB_LOG_WARN}, {"error", TB_LOG_ERROR}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcasecmp(v, levels[i].name) == 0) {
            *TB_CFG_FIELD(base, k, tbLogLevel) = levels[i].level;
            return 0;
        }
    }
    snprintf(why, wl, "expected one of debug, info, warn, error, got `%s`", v);
    return -1;
}

static int setDuration(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    double ms;
    if (parseDurationMs(v, &ms) < 0) {
        snprintf(why, wl, "expected seconds or a duration like \"30s\" or \"2m\", got `%s`", v);
        return -1;
    }
    if (ms < 0 || ms > 1e15) {
        snprintf(why, wl, "`%s` is out of range (%lld..%lld seconds)", v, k->min, k->max);
        return -1;
    }
    long long secs = (long long)ceil(ms / 1000.0);
    if (setRangeInt(k, TB_CFG_FIELD(base, k, int), secs, why, wl) < 0) {
        snprintf(why, wl, "`%s` is out of range (%lld..%lld seconds)", v, k->min, k->max);
        return -1;
    }
    return 0;
}

const char *tbConfigNodeSelectorFor(const char *kind, int *approx) {
    static const struct { const char *in, *out; int approx; } map[] = {
        {"participants", "participants", 0}, {"cpu", "cpu", 0}, {"any", "participants", 0},
        {"cpuload", "cpu", 0}, {"sysload", "cpu", 0}, {"regionaware", "participants", 1}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcasecmp(kind, map[i].in) == 0) {
            if (approx) *approx = map[i].approx;
            return map[i].out;
        }
    }
    return NULL;
}

static int setNodeSel(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    int approx = 0;
    const char *sel = tbConfigNodeSelectorFor(v, &approx);
    if (!sel) {
        if (k->type == TB_KT_NODEKIND)
            snprintf(why, wl, "expected one of any, cpuload, sysload, regionaware, got `%s`", v);
        else
            snprintf(why, wl, "expected participants or cpu (or LiveKit's {kind: ...}), got `%s`",
                     v);
        return -1;
    }
    tbConfigSetStr(TB_CFG_FIELD(base, k, char *), sel);
    if (approx) {
        snprintf(why, wl, "`%s` is not implemented; using `%s`", v, sel);
        return 1;
    }
    return 0;
}

int tbConfigCheckCidr(const char *s, char *why, size_t wl) {
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t al = slash ? (size_t)(slash - s) : strlen(s);
    unsigned char buf[16];
    int maxbits;
    if (al == 0 || al >= sizeof addr) goto bad;
    memcpy(addr, s, al);
    addr[al] = '\0';
    if (inet_pton(AF_INET, addr, buf) == 1) maxbits = 32;
    else if (inet_pton(AF_INET6, addr, buf) == 1) maxbits = 128;
    else goto bad;
    if (slash) {
        long long bits;
        if (!isdigit((unsigned char)slash[1]) || parseLong(slash + 1, &bits) < 0 || bits < 0 ||
            bits > maxbits)
            goto bad;
    }
    return 0;
bad:
    snprintf(why, wl, "expected a CIDR like 10.0.0.0/8 or fd00::/8, got `%s`", s);
    return -1;
}

/* Comma-separated list (flags and env only; YAML uses sequences). */
static int setList(const tbConfigKey *k, void *base, const char *v, char *why, size_t wl) {
    tbStrList tmp = {0};
    char *copy = strdup(v);
    int rc = 0;
    if (!copy) return -1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        size_t n = strlen(tok);
        while (n && tok[n - 1] == ' ') tok[--n] = '\0';
        if (!*tok) continue;
        if (k->type == TB_KT_CIDRLIST && tbConfigCheckCidr(tok, why, wl) < 0) {
            rc = -1;
            goto err;
        }
        tbStrListAppend(&tmp, tok);
    }
    tbStrList *dst = TB_CFG_FIELD(base, k, tbStrList);
    tbStrListClear(dst);
    *dst = tmp;
    free(copy);
    return 0;
err:
    tbStrListClear(&tmp);
    free(copy);
    return rc;
}

int tbConfigSetScalar(const tbConfigKey *k, void *base, const char *value, char *why,
                      size_t wl) {
    switch (k->type) {
    case TB_KT_INT: return setInt(k, base, value, why, wl);
    case TB_KT_DOUBLE: return setDouble(k, base, value, why, wl);
    case TB_KT_BOOL: return setBool(k, base, value, why, wl);
    case TB_KT_STR: return setStr(k, base, value);
    case TB_KT_UDPPORT: return setUdpPort(k, base, value, why, wl);
    case TB_KT_NODEIP: return setNodeIp(k, base, value, why, wl);
    case TB_KT_LOGLEVEL: return setLogLevel(k, base, value, why, wl);
    case TB_KT_DURATION: return setDuration(k, base, value, why, wl);
    case TB_KT_NODESEL:
    case TB_KT_NODEKIND: return setNodeSel(k, base, value, why, wl);
    case TB_KT_STRLIST:
    case TB_KT_CIDRLIST: return setList(k, base, value, why, wl);
    default: break;
    }
    snprintf(why, wl, "cannot be set from a single value");
    return -1;
}
