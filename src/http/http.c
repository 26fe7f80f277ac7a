/* http.c — response helpers for the request/response model in http.h. */
#include "http/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void tbHttpResponseInit(tbHttpResponse *r, size_t headroom) {
    memset(r, 0, sizeof *r);
    r->status = 500;
    tbSbufInit(&r->body, headroom);
}

void tbHttpResponseFree(tbHttpResponse *r) { tbSbufFree(&r->body); }

void tbHttpAddHeader(tbHttpResponse *r, const char *name, const char *value) {
    for (size_t i = 0; i < r->num_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            snprintf(r->headers[i].value, sizeof r->headers[i].value, "%s", value);
            return;
        }
    }
    if (r->num_headers == TB_HTTP_MAX_HEADERS) return;
    tbHttpHeader *h = &r->headers[r->num_headers++];
    snprintf(h->name, sizeof h->name, "%s", name);
    snprintf(h->value, sizeof h->value, "%s", value);
}

static void setBody(tbHttpResponse *r, int status, const char *ctype, const char *data,
                    size_t len) {
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "%s", ctype);
    r->body.len = 0;
    tbSbufAppend(&r->body, data, len);
}

void tbHttpRespondText(tbHttpResponse *r, int status, const char *text) {
    setBody(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

void tbHttpRespondJson(tbHttpResponse *r, int status, json_t *json) {
    char *s = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (!s) {
        setBody(r, 500, "application/json", "{\"code\":\"internal\",\"msg\":\"out of memory\"}",
                42);
        return;
    }
    setBody(r, status, "application/json", s, strlen(s));
    free(s);
}

void tbHttpRespondError(tbHttpResponse *r, int status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tbHttpRespondJson(r, status, json_pack("{s:s, s:s}", "code", code, "msg", msg));
}

const char *tbHttpArgGet(const tbHttpRequest *req, const char *name) {
    for (size_t i = 0; i < req->num_args; i++)
        if (strcmp(req->args[i].name, name) == 0) return req->args[i].value;
    return NULL;
}

const char *tbHttpMethodName(tbHttpMethod m) {
    static const char *names[] = {"OTHER", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                  "OPTIONS"};
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "OTHER";
}

const char *tbHttpStatusText(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "";
    }
}

bool tbHttpContentTypeIs(const tbHttpRequest *req, const char *type) {
    if (!req->content_type) return false;
    size_t n = strcspn(req->content_type, ";");
    while (n > 0 && req->content_type[n - 1] == ' ') n--;
    return n == strlen(type) && strncasecmp(req->content_type, type, n) == 0;
}
