/* config_print.c — tbConfigPrint: the effective configuration as YAML, in
 * schema order, for --check-config. Secrets (API secrets, Redis and TURN
 * passwords and shared secrets) are printed as "****". The output loads back
 * with tbConfigLoadYaml (strings are always double-quoted). */
#include <string.h>

#include "config/config_internal.h"

#define TB_MASK "\"****\""

static void indent(FILE *out, int depth) {
    for (int i = 0; i < depth; i++) fputs("  ", out);
}

static int depthOf(const char *path) {
    int d = 0;
    for (const char *p = path; *p; p++) d += *p == '.';
    return d;
}

static const char *leafOf(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* A YAML double-quoted scalar. */
static void putQuoted(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f) fprintf(out, "\\x%02x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void putStr(FILE *out, const char *s, int secret) {
    if (!s) fputs("~", out);
    else if (secret) fputs(TB_MASK, out);
    else putQuoted(out, s);
}

static void putList(FILE *out, const tbStrList *l, int depth, int secret, const char *field) {
    if (l->len == 0) {
        fputs(" []\n", out);
        return;
    }
    fputc('\n', out);
    for (size_t i = 0; i < l->len; i++) {
        indent(out, depth + 1);
        fputs("- ", out);
        if (field) fprintf(out, "%s: ", field);
        putStr(out, l->items[i], secret);
        fputc('\n', out);
    }
}

static void putKeyMap(FILE *out, const tbKeyList *l, int depth, int secret) {
    if (l->len == 0) {
        fputs(" {}\n", out);
        return;
    }
    fputc('\n', out);
    for (size_t i = 0; i < l->len; i++) {
        indent(out, depth + 1);
        putQuoted(out, l->items[i].key);
        fputs(": ", out);
        putStr(out, l->items[i].value, secret);
        fputc('\n', out);
    }
}

/* One rtc.turn_servers entry: its set fields, from the schema's item keys. */
static void putTurnServer(FILE *out, const tbExternalTurn *s, int depth) {
    size_t n;
    const tbConfigKey *t = tbConfigSchema(&n);
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const tbConfigKey *k = &t[i];
        if (!(k->flags & TB_KF_ITEM) || strncmp(k->path, "rtc.turn_servers.", 17) ||
            k->type == TB_KT_UNIMPL)
            continue;
        if (k->type == TB_KT_INT && *TB_CFG_FIELD(s, k, int) == 0) continue;
        if (k->type == TB_KT_STR && !*TB_CFG_FIELD(s, k, char *)) continue;
        indent(out, depth + 1);
        fputs(first ? "- " : "  ", out);
        first = 0;
        fprintf(out, "%s: ", leafOf(k->path));
        if (k->type == TB_KT_INT) fprintf(out, "%d", *TB_CFG_FIELD(s, k, int));
        else putStr(out, *TB_CFG_FIELD(s, k, char *), k->flags & TB_KF_SECRET);
        fputc('\n', out);
    }
    if (first) {
        indent(out, depth + 1);
        fputs("- {}\n", out);
    }
}

static void putTurnServers(FILE *out, const tbRtcConfig *rtc, int depth) {
    if (rtc->turn_servers_len == 0) {
        fputs(" []\n", out);
        return;
    }
    fputc('\n', out);
    for (size_t i = 0; i < rtc->turn_servers_len; i++)
        putTurnServer(out, &rtc->turn_servers[i], depth);
}

static void putUdpPort(FILE *out, const tbRtcConfig *rtc) {
    if (rtc->udp_port_end) fprintf(out, " \"%d-%d\"\n", rtc->udp_port, rtc->udp_port_end);
    else fprintf(out, " %d\n", rtc->udp_port);
}

static void putKey(FILE *out, const tbConfig *c, const tbConfigKey *k) {
    int depth = depthOf(k->path), secret = (k->flags & TB_KF_SECRET) != 0;
    indent(out, depth);
    fprintf(out, "%s:", leafOf(k->path));
    switch (k->type) {
    case TB_KT_SECTION: fputc('\n', out); return;
    case TB_KT_INT:
    case TB_KT_DURATION: fprintf(out, " %d\n", *TB_CFG_FIELD(c, k, int)); return;
    case TB_KT_DOUBLE: fprintf(out, " %.17g\n", *TB_CFG_FIELD(c, k, double)); return;
    case TB_KT_BOOL: fputs(*TB_CFG_FIELD(c, k, bool) ? " true\n" : " false\n", out); return;
    case TB_KT_LOGLEVEL:
        fprintf(out, " %s\n", tbLogLevelName(*TB_CFG_FIELD(c, k, tbLogLevel)));
        return;
    case TB_KT_UDPPORT: putUdpPort(out, &c->rtc); return;
    case TB_KT_STRLIST:
    case TB_KT_CIDRLIST: putList(out, TB_CFG_FIELD(c, k, tbStrList), depth, secret, NULL); return;
    case TB_KT_CODECS: putList(out, TB_CFG_FIELD(c, k, tbStrList), depth, 0, "mime"); return;
    case TB_KT_KEYMAP: putKeyMap(out, TB_CFG_FIELD(c, k, tbKeyList), depth, secret); return;
    case TB_KT_TURNSERVERS: putTurnServers(out, &c->rtc, depth); return;
    default: break;
    }
    fputc(' ', out);
    putStr(out, *TB_CFG_FIELD(c, k, char *), secret);
    fputc('\n', out);
}

void tbConfigPrint(const tbConfig *c, FILE *out) {
    size_t n;
    const tbConfigKey *t = tbConfigSchema(&n);
    fputs("# tribune effective configuration (secrets shown as \"****\")\n", out);
    for (size_t i = 0; i < n; i++) {
        if (t[i].type == TB_KT_UNIMPL || (t[i].flags & (TB_KF_ITEM | TB_KF_ALIAS))) continue;
        putKey(out, c, &t[i]);
    }
}
