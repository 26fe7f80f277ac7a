/* test_app.c — the web app routes without sockets: static files under /app/
 * (content types, ETag/304, caching headers, and every refusal, with raw
 * paths libwebsockets would have normalised before the handler saw them)
 * and the dev-only POST /app/token, and the app_dir check of tbConfigValidate.
 * The app directory is a fresh temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_fixture.h"

typedef struct appTest {
    apiFixture *f;
    char base[64];      /* temp dir: app/ and secret.txt (outside app/) */
    char app[96];
} appTest;

static void writeFile(const char *dir, const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void linkTo(const char *dir, const char *name, const char *target) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state) {
    appTest *t = calloc(1, sizeof *t);
    t->f = fixNew();
    snprintf(t->base, sizeof t->base, "/tmp/tb-test-app-XXXXXX");
    assert_non_null(mkdtemp(t->base));
    snprintf(t->app, sizeof t->app, "%s/app", t->base);
    assert_int_equal(mkdir(t->app, 0755), 0);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", t->app);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/assets", t->app);
    assert_int_equal(mkdir(sub, 0755), 0);
    writeFile(t->base, "secret.txt", "TOP-SECRET");
    writeFile(t->app, "index.html", "<!doctype html><title>debate</title>");
    writeFile(t->app, "app.js", "console.log(1)");
    writeFile(t->app, "style.css", "body{}");
    writeFile(t->app, "data.bin", "\x01\x02");
    writeFile(t->app, "sub/page.txt", "sub page");
    writeFile(t->app, "assets/index-AbCd1234.js", "hashed");
    writeFile(t->app, ".env", "TOP-SECRET");
    writeFile(t->app, "a\\b", "TOP-SECRET");
    linkTo(t->app, "out", "../secret.txt");
    linkTo(t->app, "outdir", "..");
    linkTo(t->app, "in.html", "index.html");
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo", t->app);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    tbConfigSetStr(&t->f->cfg.app_dir, t->app);
    *state = t;
    return 0;
}

static int teardown(void **state) {
    appTest *t = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->base);
    assert_int_equal(system(cmd), 0);
    fixFree(t->f);
    free(t);
    return 0;
}

static const char *header(const tbHttpResponse *r, const char *name) {
    for (size_t i = 0; i < r->num_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

static int get(appTest *t, const char *path, const char *inm, tbHttpResponse *resp) {
    fixReq r = {.req = {.method = TB_HTTP_GET, .path = path, .if_none_match = inm}};
    return fixCall(t->f, &r, resp);
}

/* ---- static files ---------------------------------------------------------- */

static void test_index_and_redirect(void **state) {
    appTest *t = *state;
    tbHttpResponse resp;
    assert_int_equal(get(t, "/app/", NULL, &resp), 200);
    assert_string_equal(fixText(&resp), "<!doctype html><title>debate</title>");
    assert_string_equal(resp.content_type, "text/html; charset=utf-8");
    assert_string_equal(header(&resp, "Cache-Control"), "no-cache");
    assert_string_equal(header(&resp, "X-Content-Type-Options"), "nosniff");
    assert_non_null(header(&resp, "ETag"));
    assert_int_equal(header(&resp, "ETag")[0], '"');
    tbHttpResponseFree(&resp);
    assert_int_equal(get(t, "/app", NULL, &resp), 301);
    assert_string_equal(header(&resp, "Location"), "/app/");
    tbHttpResponseFree(&resp);
    assert_int_equal(get(t, "/app/index.html", NULL, &resp), 200);
    tbHttpResponseFree(&resp);
    assert_int_equal(get(t, "/apple", NULL, &resp), 404); /* not a prefix match */
    tbHttpResponseFree(&resp);
}

static void test_content_types(void **state) {
    appTest *t = *state;
    static const struct {
        const char *path, *type, *cache;
    } cases[] = {
        {"/app/app.js", "text/javascript; charset=utf-8", "no-cache"},
        {"/app/style.css", "text/css; charset=utf-8", "no-cache"},
        {"/app/sub/page.txt", "text/plain; charset=utf-8", "no-cache"},
        {"/app/data.bin", "application/octet-stream", "no-cache"},
        {"/app/in.html", "text/html; charset=utf-8", "no-cache"}, /* symlink inside */
        {"/app/assets/index-AbCd1234.js", "text/javascript; charset=utf-8",
         "public, max-age=31536000, immutable"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tbHttpResponse resp;
        assert_int_equal(get(t, cases[i].path, NULL, &resp), 200);
        assert_string_equal(resp.content_type, cases[i].type);
        assert_string_equal(header(&resp, "Cache-Control"), cases[i].cache);
        tbHttpResponseFree(&resp);
    }
}

static void test_etag_304(void **state) {
    appTest *t = *state;
    tbHttpResponse resp;
    assert_int_equal(get(t, "/app/app.js", NULL, &resp), 200);
    char etag[64], weak[80], list[160];
    snprintf(etag, sizeof etag, "%s", header(&resp, "ETag"));
    tbHttpResponseFree(&resp);
    snprintf(weak, sizeof weak, "W/%s", etag);
    snprintf(list, sizeof list, "\"nope\", %s", etag);
    const char *fresh[] = {etag, weak, list, "*"};
    for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++) {
        assert_int_equal(get(t, "/app/app.js", fresh[i], &resp), 304);
        assert_int_equal(resp.body.len, 0);
        assert_string_equal(resp.content_type, "");
        assert_string_equal(header(&resp, "ETag"), etag);
        tbHttpResponseFree(&resp);
    }
    assert_int_equal(get(t, "/app/app.js", "\"other\"", &resp), 200);
    assert_string_equal(fixText(&resp), "console.log(1)");
    tbHttpResponseFree(&resp);
    /* a change of the file changes the tag */
    writeFile(t->app, "app.js", "console.log(22)");
    assert_int_equal(get(t, "/app/app.js", etag, &resp), 200);
    assert_string_not_equal(header(&resp, "ETag"), etag);
    tbHttpResponseFree(&resp);
}

static void test_refusals(void **state) {
    appTest *t = *state;
    static const char *paths[] = {
        "/app/../secret.txt", "/app/sub/../../secret.txt", "/app/./index.html",
        "/app/..", "/app/.", "/app//etc/passwd", "/app/sub//page.txt", "/app/sub/",
        "/app/sub", "/app/assets", "/app/.env", "/app/a\\b", "/app/sub\\page.txt",
        "/app/out", "/app/outdir/secret.txt", "/app/fifo", "/app/missing.js",
        "/app/index.html\x01", "/app/%2e%2e/secret.txt", "/app/..%2fsecret.txt",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        tbHttpResponse resp;
        int status = get(t, paths[i], NULL, &resp);
        if (status != 404) fail_msg("%s: %d, expected 404", paths[i], status);
        assert_null(strstr(fixText(&resp), "TOP-SECRET"));
        tbHttpResponseFree(&resp);
    }
}

static void test_unset_and_big(void **state) {
    appTest *t = *state;
    tbHttpResponse resp;
    char big[160];
    snprintf(big, sizeof big, "%s/big.bin", t->app);
    int fd = open(big, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 16 * 1024 * 1024 + 1), 0); /* sparse */
    close(fd);
    assert_int_equal(get(t, "/app/big.bin", NULL, &resp), 500);
    tbHttpResponseFree(&resp);
    tbConfigSetStr(&t->f->cfg.app_dir, NULL);
    assert_int_equal(get(t, "/app/", NULL, &resp), 404);
    tbHttpResponseFree(&resp);
    assert_int_equal(get(t, "/app/index.html", NULL, &resp), 404);
    tbHttpResponseFree(&resp);
}

static void test_methods(void **state) {
    appTest *t = *state;
    tbHttpResponse resp;
    fixReq head = {.req = {.method = TB_HTTP_HEAD, .path = "/app/style.css"}};
    assert_int_equal(fixCall(t->f, &head, &resp), 200); /* the server sends no body */
    assert_int_equal(resp.body.len, strlen("body{}"));
    tbHttpResponseFree(&resp);
    fixReq post = {.req = {.method = TB_HTTP_POST, .path = "/app/style.css"}};
    assert_int_equal(fixCall(t->f, &post, &resp), 405);
    tbHttpResponseFree(&resp);
}

/* ---- POST /app/token ------------------------------------------------------- */

static const char *lookup(void *ctx, const char *key) { return tbConfigSecretFor(ctx, key); }

static int postDev(appTest *t, const char *body, tbHttpResponse *resp) {
    fixReq r = {.req = {.method = TB_HTTP_POST, .path = "/app/token", .host = "127.0.0.1:7880"}};
    fixBody(&r, "application/json", body);
    return fixCall(t->f, &r, resp);
}

static void checkToken(appTest *t, const char *body, bool admin) {
    tbHttpResponse resp;
    assert_int_equal(postDev(t, body, &resp), 200);
    json_t *j = fixJson(&resp);
    assert_string_equal(json_string_value(json_object_get(j, "url")), "ws://127.0.0.1:7880");
    tbClaims c;
    tbClaimsInit(&c);
    assert_int_equal(tbTokenVerify(json_string_value(json_object_get(j, "token")), lookup,
                                   &t->f->cfg, FIX_NOW_MS / 1000, &c, NULL, 0),
                     TB_TOKEN_OK);
    assert_string_equal(c.api_key, FIX_KEY);
    assert_string_equal(c.identity, "alice");
    assert_string_equal(c.video.room, "debate");
    assert_true(c.video.room_join);
    assert_int_equal(c.video.can_publish, TB_TRUE);
    assert_int_equal(c.video.can_subscribe, TB_TRUE);
    assert_int_equal(c.video.can_publish_data, TB_TRUE);
    assert_int_equal(c.video.room_admin, admin);
    assert_int_equal(c.exp - c.nbf, 6 * 3600);
    tbClaimsFree(&c);
    json_decref(j);
    tbHttpResponseFree(&resp);
}

static void test_dev_token(void **state) {
    appTest *t = *state;
    checkToken(t, "{\"room\":\"debate\",\"identity\":\"alice\",\"name\":\"Alice\"}", false);
    checkToken(t, "{\"room\":\"debate\",\"identity\":\"alice\",\"admin\":false}", false);
    checkToken(t, "{\"room\":\"debate\",\"identity\":\"alice\",\"admin\":true}", true);
}

static void test_dev_token_errors(void **state) {
    appTest *t = *state;
    char longRoom[400];
    memset(longRoom, 'r', 300);
    longRoom[300] = '\0';
    char tooLong[512];
    snprintf(tooLong, sizeof tooLong, "{\"room\":\"%s\",\"identity\":\"a\"}", longRoom);
    static const struct {
        const char *body, *needle;
    } bad[] = {
        {"", "empty"},
        {"{", "JSON"},
        {"[]", "object"},
        {"{\"identity\":\"a\"}", "`room`"},
        {"{\"room\":\"\",\"identity\":\"a\"}", "`room`"},
        {"{\"room\":7,\"identity\":\"a\"}", "`room`"},
        {"{\"room\":\"r\"}", "`identity`"},
        {"{\"room\":\"r\",\"identity\":\"\"}", "`identity`"},
        {"{\"room\":\"r\",\"identity\":\"a\",\"admin\":\"yes\"}", "`admin`"},
        {"{\"room\":\"r\",\"identity\":\"a\",\"name\":5}", "`name`"},
        {"{\"room\":\"r\",\"identity\":\"a\",\"colour\":\"red\"}", "`colour`"},
    };
    tbHttpResponse resp;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] + 1; i++) {
        const char *body = i < sizeof bad / sizeof bad[0] ? bad[i].body : tooLong;
        const char *needle = i < sizeof bad / sizeof bad[0] ? bad[i].needle : "`room`";
        int status = postDev(t, body, &resp);
        if (status != 400 || !strstr(fixText(&resp), needle))
            fail_msg("%s: %d %s (expected 400 mentioning %s)", body, status, fixText(&resp),
                     needle);
        tbHttpResponseFree(&resp);
    }
    fixReq plain = {.req = {.method = TB_HTTP_POST, .path = "/app/token"}};
    fixBody(&plain, "text/plain", "{\"room\":\"r\",\"identity\":\"a\"}");
    assert_int_equal(fixCall(t->f, &plain, &resp), 415);
    tbHttpResponseFree(&resp);
    fixReq get = {.req = {.method = TB_HTTP_GET, .path = "/app/token"}};
    assert_int_equal(fixCall(t->f, &get, &resp), 405);
    tbHttpResponseFree(&resp);
}

static void test_dev_token_absent_outside_dev(void **state) {
    appTest *t = *state;
    t->f->cfg.development = false;
    tbHttpResponse resp;
    assert_int_equal(postDev(t, "{\"room\":\"debate\",\"identity\":\"alice\"}", &resp), 404);
    assert_null(strstr(fixText(&resp), "\"token\":"));
    tbHttpResponseFree(&resp);
    fixReq get = {.req = {.method = TB_HTTP_GET, .path = "/app/token"}};
    assert_int_equal(fixCall(t->f, &get, &resp), 404);
    tbHttpResponseFree(&resp);
    /* the handler itself refuses too, whatever routes to it */
    fixReq r = {.req = {.method = TB_HTTP_POST, .path = "/app/token"}};
    fixBody(&r, "application/json", "{\"room\":\"debate\",\"identity\":\"alice\"}");
    tbHttpResponseInit(&resp, 0);
    tbApiDevToken(&t->f->api, &r.req, &resp);
    assert_int_equal(resp.status, 404);
    tbHttpResponseFree(&resp);
}

/* ---- app_dir validation ---------------------------------------------------- */

static void expectAppDirError(const char *dir, const char *needle) {
    tbConfig c;
    tbConfigErrors e;
    memset(&e, 0, sizeof e);
    tbConfigInitDev(&c);
    tbConfigSetStr(&c.app_dir, dir);
    assert_int_equal(tbConfigValidate(&c, &e), -1);
    assert_int_equal(e.len, 1);
    assert_non_null(strstr(e.items[0].msg, "`app_dir`"));
    if (!strstr(e.items[0].msg, needle)) fail_msg("%s: %s", dir, e.items[0].msg);
    tbConfigFree(&c);
}

static void test_app_dir_validation(void **state) {
    appTest *t = *state;
    tbConfig c;
    tbConfigErrors e;
    memset(&e, 0, sizeof e);
    tbConfigInitDev(&c);
    tbConfigSetStr(&c.app_dir, t->app);
    assert_int_equal(tbConfigValidate(&c, &e), 0);
    tbConfigFree(&c);
    char path[192];
    snprintf(path, sizeof path, "%s/missing", t->base);
    expectAppDirError(path, "No such file");
    snprintf(path, sizeof path, "%s/index.html", t->app);
    expectAppDirError(path, "not a directory");
    expectAppDirError("", "empty");
    if (geteuid() != 0) { /* root reads anything */
        snprintf(path, sizeof path, "%s/sub", t->app);
        assert_int_equal(chmod(path, 0), 0);
        expectAppDirError(path, "not readable");
        assert_int_equal(chmod(path, 0755), 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_index_and_redirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_etag_304, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unset_and_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_token_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_token_absent_outside_dev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_dir_validation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
