/* config_yaml.c — the YAML loader: libyaml parses the document into a node
 * tree, which is walked against the key schema (config_schema.c). Every
 * problem is collected with file, line and column: unknown keys (with the
 * closest valid key), type and range errors, duplicate keys, syntax errors.
 * LiveKit keys tribune does not implement get one warning per subtree. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_internal.h"

#define TB_PATH_MAX 256

typedef struct tbYamlWalk {
    yaml_document_t *doc;
    const char *name;   /* file name for messages */
    tbConfig *c;
    tbConfigErrors *errs;
    int nerr;
} tbYamlWalk;

/* ---- messages ----------------------------------------------------------- */

/* "FILE:LINE:COL: msg" at node n. */
static void errAt(tbYamlWalk *w, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errAt(tbYamlWalk *w, const yaml_node_t *n, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tbConfigAddError(w->errs, "%s:%zu:%zu: %s", w->name, n->start_mark.line + 1,
                     n->start_mark.column + 1, msg);
    w->nerr++;
}

/* "FILE: `key` at line L, col C: msg" for a bad value at node n. */
static void errKey(tbYamlWalk *w, const char *path, const yaml_node_t *n, const char *msg) {
    tbConfigAddError(w->errs, "%s: `%s` at line %zu, col %zu: %s", w->name, path,
                     n->start_mark.line + 1, n->start_mark.column + 1, msg);
    w->nerr++;
}

static void warnKey(tbYamlWalk *w, const char *path, const yaml_node_t *n, const char *msg) {
    tbConfigAddWarning(w->errs, "%s:%zu:%zu: `%s`: %s", w->name, n->start_mark.line + 1,
                       n->start_mark.column + 1, path, msg);
}

static const char *scalarOf(const yaml_node_t *n) {
    return (const char *)n->data.scalar.value;
}

/* An explicit or empty null: `key:`, `key: ~`, `key: null`. */
static int isNull(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = scalarOf(n);
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* "expected a list, got a mapping" / "... got `abc`". */
static void typeErr(tbYamlWalk *w, const char *path, const yaml_node_t *n, const char *want) {
    char msg[400];
    if (n->type == YAML_SCALAR_NODE)
        snprintf(msg, sizeof msg, "expected %s, got `%.200s`", want, scalarOf(n));
    else
        snprintf(msg, sizeof msg, "expected %s, got a %s", want,
                 n->type == YAML_MAPPING_NODE ? "mapping" : "list");
    errKey(w, path, n, msg);
}

static yaml_node_t *nodeAt(tbYamlWalk *w, int idx) {
    return yaml_document_get_node(w->doc, idx);
}

/* ---- keys -------------------------------------------------------------- */

static void walkMapping(tbYamlWalk *w, yaml_node_t *map, const char *prefix, void *base);

/* Reports and returns 1 when the key of pair p already appeared in map. */
static int isDuplicate(tbYamlWalk *w, yaml_node_t *map, yaml_node_pair_t *p, const char *path) {
    yaml_node_t *k = nodeAt(w, p->key);
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
        yaml_node_t *prev = nodeAt(w, q->key);
        if (prev && prev->type == YAML_SCALAR_NODE && !strcmp(scalarOf(prev), scalarOf(k))) {
            errAt(w, k, "duplicate key `%s` (first at line %zu, col %zu)", path,
                  prev->start_mark.line + 1, prev->start_mark.column + 1);
            return 1;
        }
    }
    return 0;
}

static void unknownKey(tbYamlWalk *w, const yaml_node_t *k, const char *path) {
    errAt(w, k, "unknown key `%s` \u2014 did you mean `%s`?", path, tbConfigSchemaSuggest(path));
}

static void applyScalar(tbYamlWalk *w, const tbConfigKey *e, const char *path, yaml_node_t *v,
                        void *base) {
    char why[300];
    if (v->type != YAML_SCALAR_NODE) {
        typeErr(w, path, v, e->type == TB_KT_BOOL ? "true or false"
                            : e->type == TB_KT_INT ? "an integer" : "a single value");
        return;
    }
    int rc = tbConfigSetScalar(e, base, scalarOf(v), why, sizeof why);
    if (rc < 0) errKey(w, path, v, why);
    else if (rc > 0) warnKey(w, path, v, why);
}

/* A YAML sequence of scalars into a tbStrList (replaces it). */
static void applyList(tbYamlWalk *w, const tbConfigKey *e, const char *path, yaml_node_t *v,
                      void *base) {
    tbStrList tmp = {0};
    char why[300];
    int bad = 0;
    if (v->type != YAML_SEQUENCE_NODE) {
        typeErr(w, path, v, "a list");
        return;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *n = nodeAt(w, *it);
        if (n->type != YAML_SCALAR_NODE || isNull(n)) {
            typeErr(w, path, n, "a string");
            bad = 1;
        } else if (e->type == TB_KT_CIDRLIST &&
                   tbConfigCheckCidr(scalarOf(n), why, sizeof why) < 0) {
            errKey(w, path, n, why);
            bad = 1;
        } else {
            tbStrListAppend(&tmp, scalarOf(n));
        }
    }
    if (bad) {
        tbStrListClear(&tmp);
        return;
    }
    tbStrList *dst = TB_CFG_FIELD(base, e, tbStrList);
    tbStrListClear(dst);
    *dst = tmp;
}

/* A mapping of scalar: scalar into out; returns the number of errors. */
static int readKeyMap(tbYamlWalk *w, const char *path, yaml_node_t *v, tbKeyList *out) {
    int before = w->nerr;
    char sub[TB_PATH_MAX];
    if (v->type != YAML_MAPPING_NODE) {
        typeErr(w, path, v, "a mapping of `name: value`");
        return 1;
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = nodeAt(w, p->key), *val = nodeAt(w, p->value);
        if (k->type != YAML_SCALAR_NODE || isNull(k)) {
            typeErr(w, path, k, "a name");
            continue;
        }
        snprintf(sub, sizeof sub, "%s.%s", path, scalarOf(k));
        if (isDuplicate(w, v, p, sub)) continue;
        if (val->type != YAML_SCALAR_NODE || isNull(val)) {
            typeErr(w, sub, val, "a string");
            continue;
        }
        tbKeyListSet(out, scalarOf(k), scalarOf(val));
    }
    return w->nerr - before;
}

static void applyKeyMap(tbYamlWalk *w, const tbConfigKey *e, const char *path, yaml_node_t *v,
                        void *base) {
    tbKeyList tmp = {0};
    if (readKeyMap(w, path, v, &tmp) > 0) {
        tbKeyListClear(&tmp);
        return;
    }
    tbKeyList *dst = TB_CFG_FIELD(base, e, tbKeyList);
    tbKeyListClear(dst);
    *dst = tmp;
}

static void freeTurnServer(tbExternalTurn *t) {
    free(t->host);
    free(t->protocol);
    free(t->username);
    free(t->credential);
    free(t->secret);
}

/* rtc.turn_servers: a list of {host, port, protocol, ...} maps. */
static void applyTurnServers(tbYamlWalk *w, const char *path, yaml_node_t *v) {
    if (v->type != YAML_SEQUENCE_NODE) {
        typeErr(w, path, v, "a list of {host, port, protocol, ...}");
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start), len = 0;
    tbExternalTurn *list = calloc(n ? n : 1, sizeof *list);
    int before = w->nerr;
    if (!list) return;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = nodeAt(w, v->data.sequence.items.start[i]);
        if (item->type != YAML_MAPPING_NODE) {
            typeErr(w, path, item, "a mapping {host, port, protocol, ...}");
            continue;
        }
        walkMapping(w, item, path, &list[len++]);
    }
    tbRtcConfig *rtc = &w->c->rtc;
    if (w->nerr > before) {
        for (size_t i = 0; i < len; i++) freeTurnServer(&list[i]);
        free(list);
        return;
    }
    for (size_t i = 0; i < rtc->turn_servers_len; i++) freeTurnServer(&rtc->turn_servers[i]);
    free(rtc->turn_servers);
    rtc->turn_servers = list;
    rtc->turn_servers_len = len;
}

/* room.enabled_codecs: a list of {mime, fmtp_line} (or bare mime strings). */
static void applyCodecs(tbYamlWalk *w, const tbConfigKey *e, const char *path, yaml_node_t *v) {
    tbStrList tmp = {0};
    int before = w->nerr;
    if (v->type != YAML_SEQUENCE_NODE) {
        typeErr(w, path, v, "a list of {mime: ...}");
        return;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = nodeAt(w, *it);
        tbCodecSpec spec = {0};
        if (item->type == YAML_SCALAR_NODE && !isNull(item)) {
            tbConfigSetStr(&spec.mime, scalarOf(item));
        } else if (item->type == YAML_MAPPING_NODE) {
            walkMapping(w, item, path, &spec);
            if (!spec.mime) errAt(w, item, "`%s` entry has no `mime`", path);
        } else {
            typeErr(w, path, item, "a mapping {mime: ...}");
        }
        if (spec.mime) tbStrListAppend(&tmp, spec.mime);
        free(spec.mime);
        free(spec.fmtp_line);
    }
    if (w->nerr > before) {
        tbStrListClear(&tmp);
        return;
    }
    tbStrList *dst = TB_CFG_FIELD(w->c, e, tbStrList);
    tbStrListClear(dst);
    *dst = tmp;
}

static void applyValue(tbYamlWalk *w, const tbConfigKey *e, const char *path, yaml_node_t *k,
                       yaml_node_t *v, void *base) {
    if (e->type == TB_KT_UNIMPL) {
        warnKey(w, path, k, "LiveKit setting not implemented by tribune; ignored");
        return;
    }
    if (isNull(v)) return; /* `key:` leaves the current value */
    switch (e->type) {
    case TB_KT_SECTION:
        if (v->type == YAML_MAPPING_NODE) walkMapping(w, v, path, base);
        else typeErr(w, path, v, "a mapping");
        break;
    case TB_KT_STRLIST:
    case TB_KT_CIDRLIST: applyList(w, e, path, v, base); break;
    case TB_KT_KEYMAP: applyKeyMap(w, e, path, v, base); break;
    case TB_KT_TURNSERVERS: applyTurnServers(w, path, v); break;
    case TB_KT_CODECS: applyCodecs(w, e, path, v); break;
    case TB_KT_NODESEL:
        if (v->type == YAML_MAPPING_NODE) walkMapping(w, v, path, base);
        else applyScalar(w, e, path, v, base);
        break;
    default: applyScalar(w, e, path, v, base); break;
    }
}

static void walkMapping(tbYamlWalk *w, yaml_node_t *map, const char *prefix, void *base) {
    char path[TB_PATH_MAX];
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = nodeAt(w, p->key), *v = nodeAt(w, p->value);
        if (!k || !v) continue;
        if (k->type != YAML_SCALAR_NODE) {
            errAt(w, k, "keys must be plain names, got a %s",
                  k->type == YAML_MAPPING_NODE ? "mapping" : "list");
            continue;
        }
        if (prefix) snprintf(path, sizeof path, "%s.%s", prefix, scalarOf(k));
        else snprintf(path, sizeof path, "%s", scalarOf(k));
        if (isDuplicate(w, map, p, path)) continue;
        const tbConfigKey *e = tbConfigSchemaFind(path);
        if (!e) {
            unknownKey(w, k, path);
            continue;
        }
        applyValue(w, e, path, k, v, base);
    }
}

/* ---- documents ----------------------------------------------------------- */

static void syntaxError(tbYamlWalk *w, const yaml_parser_t *p) {
    const char *problem = p->problem ? p->problem : "cannot parse the document";
    if (p->error == YAML_READER_ERROR || p->error == YAML_MEMORY_ERROR) {
        tbConfigAddError(w->errs, "%s: YAML error: %s at byte %zu", w->name, problem,
                         p->problem_offset);
    } else if (p->context) {
        tbConfigAddError(w->errs, "%s:%zu:%zu: YAML syntax error: %s %s (line %zu, col %zu)",
                         w->name, p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
                         p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    } else {
        tbConfigAddError(w->errs, "%s:%zu:%zu: YAML syntax error: %s", w->name,
                         p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
    }
    w->nerr++;
}

static const char *kindName(const yaml_node_t *n) {
    if (n->type == YAML_SEQUENCE_NODE) return "a list";
    if (n->type == YAML_MAPPING_NODE) return "a mapping";
    return "a single value";
}

/* Loads one document; returns 1 when a document with content was loaded. */
static int loadDocument(tbYamlWalk *w, yaml_parser_t *parser, yaml_document_t *doc) {
    if (!yaml_parser_load(parser, doc)) {
        syntaxError(w, parser);
        return -1;
    }
    return yaml_document_get_root_node(doc) != NULL;
}

int tbConfigLoadYaml(tbConfig *c, const char *yaml, size_t len, const char *name,
                     tbConfigErrors *errs) {
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    tbYamlWalk w = {.doc = &doc, .name = name ? name : "<config>", .c = c, .errs = errs};
    if (!yaml_parser_initialize(&parser)) {
        tbConfigAddError(errs, "%s: out of memory", w.name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    int rc = loadDocument(&w, &parser, &doc);
    if (rc < 0) goto done;
    if (rc > 0) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root->type == YAML_MAPPING_NODE)
            walkMapping(&w, root, NULL, c);
        else if (!isNull(root))
            errAt(&w, root, "the config must be a mapping of keys, got %s", kindName(root));
    }
    yaml_document_delete(&doc);
    rc = loadDocument(&w, &parser, &extra);
    if (rc > 0)
        errAt(&w, yaml_document_get_root_node(&extra),
              "only one YAML document is allowed in a config");
    if (rc >= 0) yaml_document_delete(&extra);
done:
    yaml_parser_delete(&parser);
    return w.nerr ? -1 : 0;
}

int tbConfigLoadFile(tbConfig *c, const char *path, tbConfigErrors *errs) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    if (!f) {
        tbConfigAddError(errs, "%s: cannot open config file: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap ? cap * 2 : 8192);
            if (!nb) goto err;
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) goto err;
    rc = tbConfigLoadYaml(c, buf, len, path, errs);
    free(buf);
    fclose(f);
    return rc;
err:
    tbConfigAddError(errs, "%s: cannot read config file: %s", path, strerror(errno));
    free(buf);
    fclose(f);
    return -1;
}

/* ---- key: secret text (LIVEKIT_KEYS, --keys, key_file) ---------------- */

int tbConfigYamlKeyMap(const char *text, size_t len, const char *name, tbKeyList *out,
                       tbConfigErrors *errs) {
    yaml_parser_t parser;
    yaml_document_t doc;
    tbYamlWalk w = {.doc = &doc, .name = name ? name : "<keys>", .errs = errs};
    if (!yaml_parser_initialize(&parser)) {
        tbConfigAddError(errs, "%s: out of memory", w.name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = loadDocument(&w, &parser, &doc);
    if (rc < 0) goto done;
    yaml_node_t *root = rc > 0 ? yaml_document_get_root_node(&doc) : NULL;
    if (!root || root->type != YAML_MAPPING_NODE) {
        tbConfigAddError(errs, "%s: expected `key: secret` lines (a space after the colon is "
                               "required)", w.name);
        w.nerr++;
    } else if (readKeyMap(&w, "keys", root, out) == 0 && out->len == 0) {
        tbConfigAddError(errs, "%s: no `key: secret` pairs found", w.name);
        w.nerr++;
    }
    yaml_document_delete(&doc);
done:
    yaml_parser_delete(&parser);
    return w.nerr ? -1 : 0;
}
