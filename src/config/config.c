/* config.c — tribune's configuration object: LiveKit's defaults, the --dev
 * defaults, freeing, the small setters used by flags and env, API keys
 * ("key: secret" text, key_file with its permission check, secret lookup),
 * and the error/warning list. Loading is in config_yaml.c, the key table in
 * config_schema.c, cross-field checks in config_validate.c, and printing in
 * config_print.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_internal.h"

/* ---- strings and lists ------------------------------------------------- */

void tbConfigSetStr(char **dst, const char *value) {
    char *copy = value ? strdup(value) : NULL;
    free(*dst);
    *dst = copy;
}

void tbStrListAppend(tbStrList *l, const char *s) {
    char *copy = strdup(s);
    char **items = copy ? realloc(l->items, (l->len + 1) * sizeof *items) : NULL;
    if (!items) {
        free(copy);
        return;
    }
    items[l->len++] = copy;
    l->items = items;
}

void tbStrListClear(tbStrList *l) {
    for (size_t i = 0; i < l->len; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

void tbKeyListSet(tbKeyList *l, const char *key, const char *value) {
    for (size_t i = 0; i < l->len; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            tbConfigSetStr(&l->items[i].value, value);
            return;
        }
    }
    tbKeyPair *items = realloc(l->items, (l->len + 1) * sizeof *items);
    if (!items) return;
    l->items = items;
    items[l->len].key = strdup(key);
    items[l->len].value = strdup(value);
    if (!items[l->len].key || !items[l->len].value) {
        free(items[l->len].key);
        free(items[l->len].value);
        return;
    }
    l->len++;
}

void tbKeyListClear(tbKeyList *l) {
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

/* ---- errors --------------------------------------------------------------- */

static void addMsg(tbConfigError *items, size_t *len, size_t *dropped, const char *fmt,
                   va_list ap) {
    if (*len >= TB_CONFIG_MAX_ERRORS) {
        if (dropped) (*dropped)++;
        return;
    }
    vsnprintf(items[*len].msg, sizeof items[*len].msg, fmt, ap);
    (*len)++;
}

void tbConfigAddError(tbConfigErrors *errs, const char *fmt, ...) {
    if (!errs) return;
    va_list ap;
    va_start(ap, fmt);
    addMsg(errs->items, &errs->len, &errs->dropped, fmt, ap);
    va_end(ap);
}

void tbConfigAddWarning(tbConfigErrors *errs, const char *fmt, ...) {
    if (!errs) return;
    va_list ap;
    va_start(ap, fmt);
    addMsg(errs->warnings, &errs->wlen, NULL, fmt, ap);
    va_end(ap);
}

void tbConfigErrorsPrint(const tbConfigErrors *errs, FILE *out) {
    for (size_t i = 0; i < errs->wlen; i++) fprintf(out, "warning: %s\n", errs->warnings[i].msg);
    for (size_t i = 0; i < errs->len; i++) fprintf(out, "error: %s\n", errs->items[i].msg);
    if (errs->dropped) fprintf(out, "error: ... and %zu more errors\n", errs->dropped);
}

/* ---- defaults ------------------------------------------------------------- */

void tbConfigInitDefaults(tbConfig *c) {
    memset(c, 0, sizeof *c);
    c->port = 7880;
    c->rtc.tcp_port = 7881;
    c->rtc.port_range_start = 50000;
    c->rtc.port_range_end = 60000;
    c->rtc.packet_buffer_size_audio = 200;
    c->turn.relay_range_start = 30000;
    c->turn.relay_range_end = 40000;
    c->turn.per_user_relay_allocation_limit = 12;
    c->turn.ttl_seconds = 300;
    c->turn.max_allocations = 1000;
    c->turn.bandwidth_limit = 3000000;
    c->room.auto_create = true;
    c->room.empty_timeout = 300;
    c->room.departure_timeout = 20;
    tbStrListAppend(&c->room.enabled_codecs, "audio/opus");
    c->logging.level = TB_LOG_INFO;
    c->limit.max_metadata_size = 512 * 1024;
    c->limit.signal_message_size_limit = 2 << 20;
    c->limit.max_room_name_length = 256;
    c->limit.max_participant_identity_length = 256;
    tbConfigSetStr(&c->node_selector, "participants");
    c->shutdown_timeout = 30;
}

void tbConfigApplyDevDefaults(tbConfig *c) {
    if (!c->development || c->keys.len) return;
    tbKeyListSet(&c->keys, "devkey", "secret");
    if (c->bind_addresses.len == 0) {
        tbStrListAppend(&c->bind_addresses, "127.0.0.1");
        tbStrListAppend(&c->bind_addresses, "::1");
    }
}

void tbConfigSetDevMode(tbConfig *c) {
    c->development = true;
    c->rtc.udp_port = 7882;
    c->logging.level = TB_LOG_DEBUG; /* livekit-server --dev logs at debug */
}

void tbConfigInitDev(tbConfig *c) {
    tbConfigInitDefaults(c);
    tbConfigSetDevMode(c);
    tbConfigApplyDevDefaults(c);
}

static void freeTurnServers(tbRtcConfig *rtc) {
    for (size_t i = 0; i < rtc->turn_servers_len; i++) {
        tbExternalTurn *t = &rtc->turn_servers[i];
        free(t->host);
        free(t->protocol);
        free(t->username);
        free(t->credential);
        free(t->secret);
    }
    free(rtc->turn_servers);
}

/* Frees every string, list and key map the schema points at. */
static void freeBySchema(tbConfig *c) {
    size_t n;
    const tbConfigKey *t = tbConfigSchema(&n);
    for (size_t i = 0; i < n; i++) {
        const tbConfigKey *k = &t[i];
        if (k->flags & (TB_KF_ITEM | TB_KF_ALIAS)) continue;
        switch (k->type) {
        case TB_KT_STR:
        case TB_KT_NODEIP:
        case TB_KT_NODESEL: tbConfigSetStr(TB_CFG_FIELD(c, k, char *), NULL); break;
        case TB_KT_STRLIST:
        case TB_KT_CIDRLIST:
        case TB_KT_CODECS: tbStrListClear(TB_CFG_FIELD(c, k, tbStrList)); break;
        case TB_KT_KEYMAP: tbKeyListClear(TB_CFG_FIELD(c, k, tbKeyList)); break;
        default: break;
        }
    }
}

void tbConfigFree(tbConfig *c) {
    if (!c) return;
    freeBySchema(c);
    freeTurnServers(&c->rtc);
    memset(c, 0, sizeof *c);
}

/* ---- API keys -------------------------------------------------------------- */

const char *tbConfigSecretFor(const tbConfig *c, const char *api_key) {
    if (!api_key) return NULL;
    for (size_t i = 0; i < c->keys.len; i++)
        if (strcmp(c->keys.items[i].key, api_key) == 0) return c->keys.items[i].value;
    return NULL;
}

int tbConfigParseKeys(tbConfig *c, const char *text, const char *name, tbConfigErrors *errs) {
    tbKeyList tmp = {0};
    if (tbConfigYamlKeyMap(text, strlen(text), name, &tmp, errs) < 0) {
        tbKeyListClear(&tmp);
        return -1;
    }
    tbKeyListClear(&c->keys);
    c->keys = tmp;
    return 0;
}

/* Reads a whole small file; NULL on error (errno set). */
static char *readSmallFile(FILE *f) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (ferror(f)) break;
        if (feof(f)) {
            buf[len] = '\0';
            return buf;
        }
        if (cap >= (1u << 20)) { /* a key file is not a megabyte */
            errno = EFBIG;
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) break;
        buf = nb;
        cap *= 2;
    }
    free(buf);
    return NULL;
}

int tbConfigLoadKeyFile(tbConfig *c, const char *path, tbConfigErrors *errs) {
    struct stat st;
    char *text = NULL;
    FILE *f = fopen(path, "r");
    if (!f || fstat(fileno(f), &st) < 0) goto ioerr;
    if (!S_ISREG(st.st_mode)) {
        tbConfigAddError(errs, "%s: key_file is not a regular file", path);
        goto err;
    }
    if (st.st_mode & 077) {
        tbConfigAddError(errs, "%s: key_file must not be accessible by group or others "
                               "(mode %04o); run `chmod 600 %s`",
                         path, (unsigned)(st.st_mode & 07777), path);
        goto err;
    }
    if (!(text = readSmallFile(f))) goto ioerr;
    fclose(f);
    int rc = tbConfigParseKeys(c, text, path, errs);
    free(text);
    return rc;
ioerr:
    tbConfigAddError(errs, "%s: cannot read key_file: %s", path, strerror(errno));
err:
    if (f) fclose(f);
    return -1;
}

/* ---- flags and env --------------------------------------------------------- */

int tbConfigSetKey(tbConfig *c, const char *path, const char *value, const char *origin,
                   tbConfigErrors *errs) {
    const tbConfigKey *k = tbConfigSchemaFind(path);
    char why[300];
    if (!origin) origin = path;
    if (!k || (k->flags & TB_KF_ITEM)) {
        tbConfigAddError(errs, "%s: unknown key `%s` \u2014 did you mean `%s`?", origin, path,
                         tbConfigSchemaSuggest(path));
        return -1;
    }
    if (k->type == TB_KT_UNIMPL) {
        tbConfigAddWarning(errs, "%s: `%s`: LiveKit setting not implemented by tribune; ignored",
                           origin, path);
        return 0;
    }
    int rc = tbConfigSetScalar(k, c, value ? value : "", why, sizeof why);
    if (rc < 0) tbConfigAddError(errs, "%s: `%s`: %s", origin, path, why);
    else if (rc > 0) tbConfigAddWarning(errs, "%s: `%s`: %s", origin, path, why);
    return rc < 0 ? -1 : 0;
}
