/* config_internal.h — private to src/config: the key schema (one table that
 * lists every key tribune accepts, its type and where it is stored), shared by
 * the YAML loader, the printer, tbConfigSetKey and the did-you-mean search. */
#ifndef TB_CONFIG_INTERNAL_H
#define TB_CONFIG_INTERNAL_H

#include <stddef.h>

#include "config/config.h"

typedef enum tbKeyType {
    TB_KT_SECTION,     /* mapping of further keys */
    TB_KT_UNIMPL,      /* LiveKit key tribune accepts and ignores: one warning per subtree */
    TB_KT_INT,         /* int, checked against min..max */
    TB_KT_DOUBLE,      /* double, checked against min */
    TB_KT_BOOL,
    TB_KT_STR,         /* char *, "" stored as NULL */
    TB_KT_STRLIST,     /* tbStrList */
    TB_KT_CIDRLIST,    /* tbStrList of CIDRs ("10.0.0.0/8", "fd00::/8") */
    TB_KT_KEYMAP,      /* tbKeyList of name: value */
    TB_KT_UDPPORT,     /* rtc.udp_port: int or "start-end" (udp_port, udp_port_end) */
    TB_KT_NODEIP,      /* char *: "ipv4", "ipv6" or "ipv4,ipv6" */
    TB_KT_LOGLEVEL,    /* tbLogLevel */
    TB_KT_DURATION,    /* int seconds: 30, "30s", "2m", "1h30m" */
    TB_KT_NODESEL,     /* char *: "participants" | "cpu", or LiveKit's {kind: ...} */
    TB_KT_NODEKIND,    /* node_selector.kind: LiveKit's any|cpuload|sysload|regionaware */
    TB_KT_TURNSERVERS, /* rtc.turn_servers: list of maps (TB_KF_ITEM fields) */
    TB_KT_CODECS,      /* room.enabled_codecs: list of {mime, fmtp_line} */
} tbKeyType;

#define TB_KF_TRIBUNE 0x01u /* tribune-only key (not in LiveKit) */
#define TB_KF_SECRET  0x02u /* value(s) masked by tbConfigPrint */
#define TB_KF_ALIAS   0x04u /* other spelling of a printed key; not printed itself */
#define TB_KF_ITEM    0x08u /* field of a list item: off is relative to the item */

typedef struct tbConfigKey {
    const char *path;   /* "rtc.udp_port" */
    tbKeyType type;
    size_t off;         /* offset in tbConfig (or in the item, TB_KF_ITEM) */
    long long min, max; /* for TB_KT_INT / TB_KT_DURATION (min only for DOUBLE) */
    unsigned flags;
} tbConfigKey;

/* One room.enabled_codecs entry while it is parsed; only mime is kept. */
typedef struct tbCodecSpec {
    char *mime;
    char *fmtp_line;
} tbCodecSpec;

/* The schema, in print order: each section is followed by its keys. */
const tbConfigKey *tbConfigSchema(size_t *n);
const tbConfigKey *tbConfigSchemaFind(const char *path);
/* The valid key path closest to `path` (edit distance). */
const char *tbConfigSchemaSuggest(const char *path);

/* Store a scalar string into the field `k` describes at `base`.
 * Returns 0 on success, 1 on success with a warning, -1 on error; for 1 and
 * -1 `why` gets the message (without key or position). */
int tbConfigSetScalar(const tbConfigKey *k, void *base, const char *value, char *why,
                      size_t whylen);
/* 0 if s is an IPv4/IPv6 CIDR ("10.0.0.0/8"; a bare address is a /32 or /128). */
int tbConfigCheckCidr(const char *s, char *why, size_t whylen);

/* A tribune node_selector value for a LiveKit kind or tribune name, or NULL. */
const char *tbConfigNodeSelectorFor(const char *kind, int *approx);

/* Parse a YAML mapping of scalar: scalar (keys, key_file) into out.
 * Returns 0 when no error was added. */
int tbConfigYamlKeyMap(const char *text, size_t len, const char *name, tbKeyList *out,
                       tbConfigErrors *errs);

/* Field access for schema entries. */
#define TB_CFG_FIELD(base, k, type) ((type *)(void *)((char *)(base) + (k)->off))

#endif
