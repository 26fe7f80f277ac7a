/* static_files.c — the web app under /app/ (tribune-only): GET and HEAD of
 * the files in `app_dir` (the debate room page's build output; with --dev
 * and no app_dir, ./web/dist). `/app` redirects (301) to `/app/`, and `/app/`
 * is index.html. Without app_dir every /app/ path is 404.
 *
 * What is served: a path is looked at only when every segment after /app/
 * is a plain name: no empty segment (`sub/` names a directory: 404, there is
 * no listing), no segment starting with `.` (`.`, `..` and hidden files such
 * as .env), no backslash, no control byte. The file's realpath must lie
 * inside app_dir's realpath (a symlink pointing out of the directory is
 * refused; one inside it is followed), and it must be a regular file (not a
 * directory or FIFO) of at most 16 MiB. Every refusal is the same 404, so
 * probing learns nothing. libwebsockets already resolves `.`/`..` segments
 * (also as %2e) in the URL and drops requests with %00 before any handler
 * runs; these checks do not rely on that.
 *
 * No server-side cache: the file is read on every request. The files are
 * small (a page, a script, a stylesheet), the kernel's page cache makes the
 * read cheap, and a rebuilt web/dist is served at once with no invalidation
 * logic. The read blocks the control-plane thread for that moment.
 *
 * Client caching: ETag "<size>-<mtime in ns>" (hex); an If-None-Match that
 * matches it (weak comparison, or `*`) gets 304. HTML and everything else
 * get `Cache-Control: no-cache` (revalidated each time, cheap with the
 * ETag), except files under assets/ — Vite's content-hashed output, whose
 * names change when their content does — which are immutable for a year.
 * Every answer carries `X-Content-Type-Options: nosniff`. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "util/log.h"

#define TB_STATIC_PREFIX "/app/"
#define TB_STATIC_INDEX "index.html"
#define TB_STATIC_MAX_FILE (16 * 1024 * 1024)
#define TB_STATIC_MAX_PATH 1024     /* bytes after /app/ */
#define TB_STATIC_IMMUTABLE_DIR "assets/"

static const struct {
    const char *ext;
    const char *type;
} mimeTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"woff2", "font/woff2"},
    {"wasm", "application/wasm"},
};

/* Content type by the last segment's extension (case-insensitive). */
static const char *mimeFor(const char *rel) {
    const char *base = strrchr(rel, '/');
    const char *dot = strrchr(base ? base : rel, '.');
    if (dot)
        for (size_t i = 0; i < sizeof mimeTypes / sizeof mimeTypes[0]; i++)
            if (strcasecmp(dot + 1, mimeTypes[i].ext) == 0) return mimeTypes[i].type;
    return "application/octet-stream";
}

/* Is rel (the path after /app/) a relative path of plain names? */
static bool safePath(const char *rel) {
    if (strlen(rel) > TB_STATIC_MAX_PATH) return false;
    const char *seg = rel;
    for (const char *p = rel;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == '\0') {
            if (p == seg || *seg == '.') return false; /* empty, ".", "..", hidden */
            if (c == '\0') return true;
            seg = p + 1;
        } else if (c < 0x20 || c == 0x7f || c == '\\') {
            return false;
        }
    }
}

/* If-None-Match: "*" or a list of entity tags, matched weakly (W/ ignored). */
static bool etagMatches(const char *header, const char *etag) {
    size_t el = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        if (*p == '*') return true;
        if (p[0] == 'W' && p[1] == '/') p += 2;
        const char *end;
        if (*p == '"') {
            end = strchr(p + 1, '"');
            if (!end) return false;
            end++;
        } else {
            end = p + strcspn(p, ", \t");
            if (end == p) end++; /* a stray byte: skip it */
        }
        if ((size_t)(end - p) == el && memcmp(p, etag, el) == 0) return true;
        p = end;
    }
    return false;
}

static void notFound(tbHttpResponse *resp, const char *path) {
    tbHttpRespondError(resp, 404, "not_found", "no file at %s", path);
}

/* Opens root/rel when its realpath stays inside root; -1 otherwise. */
static int openInside(const char *dir, const char *rel, const char *path) {
    char root[PATH_MAX], want[PATH_MAX], real[PATH_MAX];
    if (!realpath(dir, root)) {
        tbWarn("http", "app_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if ((size_t)snprintf(want, sizeof want, "%s/%s", root, rel) >= sizeof want) return -1;
    if (!realpath(want, real)) return -1;
    size_t rl = strlen(root);
    bool inside = strcmp(root, "/") == 0 || (strncmp(real, root, rl) == 0 && real[rl] == '/');
    if (!inside) {
        tbDebug("http", "%s: resolves to %s, outside app_dir: refused", path, real);
        return -1;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    return open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

/* Reads the whole regular file into the body; false on a read error. */
static bool readBody(int fd, size_t size, tbHttpResponse *resp) {
    char buf[32768];
    resp->body.len = 0;
    while (resp->body.len < size) {
        size_t want = size - resp->body.len < sizeof buf ? size - resp->body.len : sizeof buf;
        ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) break; /* shrank since fstat: serve what is there */
        if (!tbSbufAppend(&resp->body, buf, (size_t)n)) return false;
    }
    return true;
}

void tbApiStaticFiles(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    const char *dir = api->config->app_dir;
    tbHttpAddHeader(resp, "X-Content-Type-Options", "nosniff");
    if (!dir) {
        tbHttpRespondError(resp, 404, "not_found",
                           "no web app is served here (app_dir is not set)");
        return;
    }
    if (strcmp(req->path, "/app") == 0) {
        tbHttpRespondText(resp, 301, "moved to " TB_STATIC_PREFIX "\n");
        tbHttpAddHeader(resp, "Location", TB_STATIC_PREFIX);
        return;
    }
    const char *rel = req->path + strlen(TB_STATIC_PREFIX);
    if (!*rel) rel = TB_STATIC_INDEX;
    int fd = safePath(rel) ? openInside(dir, rel, req->path) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        notFound(resp, req->path);
        return;
    }
    if (st.st_size > TB_STATIC_MAX_FILE) {
        close(fd);
        tbWarn("http", "%s is %lld bytes, over the %d-byte limit of /app/", req->path,
               (long long)st.st_size, TB_STATIC_MAX_FILE);
        tbHttpRespondError(resp, 500, "internal", "%s is larger than the %d MiB limit",
                           req->path, TB_STATIC_MAX_FILE >> 20);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    const char *type = mimeFor(rel);
    bool immutable = strncmp(rel, TB_STATIC_IMMUTABLE_DIR, strlen(TB_STATIC_IMMUTABLE_DIR)) == 0 &&
                     strncmp(type, "text/html", 9) != 0;
    bool fresh = req->if_none_match && etagMatches(req->if_none_match, etag);
    bool ok = fresh || readBody(fd, (size_t)st.st_size, resp);
    int err = errno;
    close(fd);
    if (!ok) {
        tbWarn("http", "reading %s/%s: %s", dir, rel, strerror(err));
        tbHttpRespondError(resp, 500, "internal", "could not read %s", req->path);
        return;
    }
    /* 304: no body and no Content-Type, the validators and caching rules */
    resp->status = fresh ? 304 : 200;
    snprintf(resp->content_type, sizeof resp->content_type, "%s", fresh ? "" : type);
    if (fresh) resp->body.len = 0;
    tbHttpAddHeader(resp, "ETag", etag);
    tbHttpAddHeader(resp, "Cache-Control",
                    immutable ? "public, max-age=31536000, immutable" : "no-cache");
}
