/* config.h — tribune's configuration: the LiveKit-style YAML keys tribune
 * understands, their defaults (LiveKit's), and the loader/validator API.
 *
 * A config is built in three layers, like livekit-server does it:
 *   1. defaults (tbConfigInitDefaults, or tbConfigInitDev for --dev),
 *   2. the YAML document (file or --config-body),
 *   3. environment variables and command-line flags (applied by the caller
 *      through the tbConfigSet* helpers), then tbConfigValidate().
 * Every error is collected in a tbConfigErrors list with file, line and
 * column so `--check-config` can print all of them at once. */
#ifndef TB_CONFIG_H
#define TB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TB_CONFIG_MAX_ERRORS 64
/* API secrets shorter than this get a warning (LiveKit's rule). */
#define TB_CONFIG_MIN_SECRET_LEN 32

/* A list of strings owned by the config (strdup'ed). */
typedef struct tbStrList {
    char **items;
    size_t len;
} tbStrList;

/* key: value pairs (API keys, turn.users). Values are secrets. */
typedef struct tbKeyPair {
    char *key;
    char *value;
} tbKeyPair;

typedef struct tbKeyList {
    tbKeyPair *items;
    size_t len;
} tbKeyList;

/* An external TURN server handed out to clients (rtc.turn_servers). */
typedef struct tbExternalTurn {
    char *host;
    int port;
    char *protocol;     /* "udp", "tcp" or "tls" */
    char *username;     /* static credentials, or ... */
    char *credential;
    char *secret;       /* ... a TURN REST shared secret */
    int ttl;            /* seconds, for secret-based credentials (LiveKit: 14400) */
} tbExternalTurn;

typedef struct tbRtcConfig {
    int tcp_port;               /* ICE-TCP, 0 = off. LiveKit default 7881 */
    int udp_port;               /* single media port; 0 = use the range */
    int udp_port_end;           /* when udp_port is given as "start-end" */
    int port_range_start;       /* LiveKit default 50000 */
    int port_range_end;         /* LiveKit default 60000 */
    bool use_external_ip;       /* discover the public IP via STUN */
    char *node_ip;              /* advertised IP, NULL = auto */
    tbStrList stun_servers;     /* "host:port" */
    tbExternalTurn *turn_servers; /* external TURN servers */
    size_t turn_servers_len;
    bool use_ice_lite;          /* always effectively true for tribune */
    int packet_buffer_size_audio; /* LiveKit default 200 */
    tbStrList interfaces_includes; /* rtc.interfaces.includes */
    tbStrList interfaces_excludes; /* rtc.interfaces.excludes */
    tbStrList ips_includes;        /* rtc.ips.includes (CIDRs) */
    tbStrList ips_excludes;        /* rtc.ips.excludes */
    int workers;                /* tribune-only: media threads, 0 = one per core */
} tbRtcConfig;

typedef struct tbRedisConfig {
    char *address;              /* "host:port"; NULL = in-memory state */
    char *username;
    char *password;
    int db;
    bool use_tls;
    char *sentinel_master_name;
    char *sentinel_username;
    char *sentinel_password;
    tbStrList sentinel_addresses;
    tbStrList cluster_addresses;
} tbRedisConfig;

typedef struct tbTurnConfig {
    bool enabled;
    char *domain;
    int tls_port;               /* 0 = off (LiveKit's sample suggests 5349) */
    int udp_port;               /* 0 = off (LiveKit's sample suggests 3478) */
    bool external_tls;
    char *cert_file;
    char *key_file;
    int relay_range_start;      /* LiveKit default 30000 */
    int relay_range_end;        /* LiveKit default 40000 */
    char *realm;                /* tribune-only: default domain, else "tribune" */
    tbStrList secrets;          /* tribune-only: TURN REST shared secrets */
    tbKeyList users;            /* tribune-only: static name: password */
    tbStrList allow_restricted_peer_cidrs;
    int per_user_relay_allocation_limit; /* LiveKit default 12; 0 = no quota */
    int ttl_seconds;            /* embedded TURN credentials, LiveKit: 300, [300, 86400] */
    int max_allocations;        /* tribune-only: total quota, default 1000 */
    int bandwidth_limit;        /* tribune-only: bits/s per allocation, 0 = none */
} tbTurnConfig;

typedef struct tbRoomConfig {
    bool auto_create;           /* default true */
    int empty_timeout;          /* seconds, default 300 */
    int departure_timeout;      /* seconds, default 20 */
    int max_participants;       /* 0 = unlimited */
    tbStrList enabled_codecs;   /* mime types, e.g. "audio/opus" */
} tbRoomConfig;

typedef enum tbLogLevel {
    TB_LOG_DEBUG = 0,
    TB_LOG_INFO,
    TB_LOG_WARN,
    TB_LOG_ERROR,
} tbLogLevel;

typedef struct tbLoggingConfig {
    tbLogLevel level;           /* default info */
    bool json;
} tbLoggingConfig;

typedef struct tbWebhookConfig {
    char *api_key;
    tbStrList urls;
} tbWebhookConfig;

typedef struct tbLimitConfig {
    int num_tracks;             /* per participant, 0 = unlimited */
    double bytes_per_sec;       /* per participant publish, 0 = unlimited */
    int max_metadata_size;      /* bytes, 0 = unlimited */
    int signal_message_size_limit; /* bytes, 0 = unlimited */
    int max_room_name_length;   /* LiveKit default 256 */
    int max_participant_identity_length;
} tbLimitConfig;

typedef struct tbConfig {
    int port;                   /* HTTP/WebSocket, default 7880 */
    tbStrList bind_addresses;   /* empty = all interfaces */
    tbRtcConfig rtc;
    tbRedisConfig redis;
    tbKeyList keys;             /* api key -> secret */
    char *key_file;
    tbTurnConfig turn;
    tbRoomConfig room;
    tbLoggingConfig logging;
    tbWebhookConfig webhook;
    int prometheus_port;        /* 0 = off */
    tbLimitConfig limit;
    bool development;
    char *node_selector;        /* tribune-only: "participants" | "cpu" */
    int shutdown_timeout;       /* tribune-only: seconds, default 30 */
    char *app_dir;              /* tribune-only: web app served at /app/, NULL = none */
} tbConfig;

/* One problem found while loading or validating. */
typedef struct tbConfigError {
    char msg[512];              /* full human-readable message incl. position */
} tbConfigError;

typedef struct tbConfigErrors {
    tbConfigError items[TB_CONFIG_MAX_ERRORS];
    size_t len;                 /* errors stored */
    size_t dropped;             /* errors beyond TB_CONFIG_MAX_ERRORS */
    /* Warnings (unimplemented LiveKit keys, short secrets) go here too. */
    tbConfigError warnings[TB_CONFIG_MAX_ERRORS];
    size_t wlen;
} tbConfigErrors;

/* LiveKit's defaults. */
void tbConfigInitDefaults(tbConfig *c);
/* --dev: defaults + devkey: secret, bind 127.0.0.1 and ::1, udp 7882, development. */
void tbConfigInitDev(tbConfig *c);
/* The --dev overrides of defaults (development, udp 7882, debug log) without
 * the key/bind fill-ins, which tbConfigApplyDevDefaults adds after all the
 * layers (file, env, flags), as livekit-server does. */
void tbConfigSetDevMode(tbConfig *c);
void tbConfigFree(tbConfig *c);

/* Parse YAML and apply it over c. `name` is the file name used in messages
 * ("<config-body>" for --config-body). Returns 0 when no error was added. */
int tbConfigLoadYaml(tbConfig *c, const char *yaml, size_t len, const char *name,
                     tbConfigErrors *errs);
int tbConfigLoadFile(tbConfig *c, const char *path, tbConfigErrors *errs);

/* Parse "key: secret" lines (LIVEKIT_KEYS, --keys, key_file contents).
 * On success the pairs replace c->keys, as LiveKit's --keys does; on error
 * c->keys is left unchanged. */
int tbConfigParseKeys(tbConfig *c, const char *text, const char *name, tbConfigErrors *errs);
/* key_file: refused when group/other can read it (mode & 077), else parsed
 * with tbConfigParseKeys. The loader only records `key_file`; the caller
 * loads it after flags and env are applied and before tbConfigValidate:
 *     if (c.key_file) tbConfigLoadKeyFile(&c, c.key_file, &errs); */
int tbConfigLoadKeyFile(tbConfig *c, const char *path, tbConfigErrors *errs);

/* Set one scalar key by its YAML path from a string, as LiveKit's generated
 * flags (--rtc.tcp_port 7881) and env vars (LIVEKIT_RTC_TCP_PORT) do. Lists
 * take comma-separated values. `origin` names the source in messages
 * ("--rtc.tcp_port", "LIVEKIT_RTC_TCP_PORT"). Returns 0 when no error. */
int tbConfigSetKey(tbConfig *c, const char *path, const char *value, const char *origin,
                   tbConfigErrors *errs);

/* LiveKit's development-mode fill-ins, applied when c->development is set
 * after all layers: no keys -> devkey: secret, and then no bind_addresses ->
 * 127.0.0.1 and ::1. tbConfigInitDev calls it. */
void tbConfigApplyDevDefaults(tbConfig *c);

/* Cross-field checks (ranges, required keys); adds errors and warnings. */
int tbConfigValidate(const tbConfig *c, tbConfigErrors *errs);

/* Effective config as YAML with secrets masked, for --check-config. */
void tbConfigPrint(const tbConfig *c, FILE *out);

/* Secret for an API key, or NULL. */
const char *tbConfigSecretFor(const tbConfig *c, const char *api_key);

/* Setters used for flags and env (replace the previous value). */
void tbConfigSetStr(char **dst, const char *value);
void tbStrListAppend(tbStrList *l, const char *s);
void tbStrListClear(tbStrList *l);
/* Add or replace key's value. */
void tbKeyListSet(tbKeyList *l, const char *key, const char *value);
void tbKeyListClear(tbKeyList *l);

/* Error/warning list helpers (printf-style; errs may be NULL). */
void tbConfigAddError(tbConfigErrors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tbConfigAddWarning(tbConfigErrors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "error: ..." and "warning: ..." lines, for --check-config. */
void tbConfigErrorsPrint(const tbConfigErrors *errs, FILE *out);

const char *tbLogLevelName(tbLogLevel l);

#endif
