/* twirp.c — Twirp request decoding, dispatch and error mapping; see twirp.h.
 * https://twitchtv.github.io/twirp/docs/spec_v7.html */
#include "api/twirp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/pbjson.h"

int tbTwirpFail(tbTwirpError *err, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return -1;
}

int tbTwirpStatus(const char *code) {
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {"canceled", 408}, {"invalid_argument", 400}, {"malformed", 400},
        {"deadline_exceeded", 408}, {"not_found", 404}, {"bad_route", 404},
        {"already_exists", 409}, {"permission_denied", 403}, {"unauthenticated", 401},
        {"resource_exhausted", 429}, {"failed_precondition", 412}, {"aborted", 409},
        {"out_of_range", 400}, {"unimplemented", 501}, {"internal", 500},
        {"unavailable", 503}, {"dataloss", 500},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].code, code) == 0) return map[i].status;
    return 500;
}

static void respondTwirpError(tbHttpResponse *resp, const char *code, const char *msg) {
    tbHttpRespondError(resp, tbTwirpStatus(code), code, "%s", msg);
}

static const tbTwirpMethod *findMethod(const tbTwirpService *svc, const char *path) {
    size_t pl = strlen(svc->prefix);
    if (strncmp(path, svc->prefix, pl) != 0) return NULL;
    for (size_t i = 0; i < svc->num_methods; i++)
        if (strcmp(path + pl, svc->methods[i].name) == 0) return &svc->methods[i];
    return NULL;
}

static ProtobufCMessage *decodeInput(const tbTwirpMethod *m, const tbHttpRequest *req, bool json,
                                     tbTwirpError *err) {
    ProtobufCMessage *in = NULL;
    if (!json) {
        in = protobuf_c_message_unpack(m->input, NULL, req->body_len, req->body);
        if (!in) tbTwirpFail(err, "malformed", "the protobuf request could not be decoded");
        return in;
    }
    json_error_t jerr;
    json_t *j = req->body_len ? json_loadb((const char *)req->body, req->body_len, 0, &jerr)
                              : json_object();
    if (!j) {
        tbTwirpFail(err, "malformed", "the json request could not be decoded: %s (line %d)",
                    jerr.text, jerr.line);
        return NULL;
    }
    char why[256] = "";
    in = tbPbFromJson(m->input, j, why, sizeof why);
    json_decref(j);
    if (!in) tbTwirpFail(err, "malformed", "the json request could not be decoded: %s", why);
    return in;
}

static void encodeOutput(const ProtobufCMessage *out, bool json, tbHttpResponse *resp) {
    if (json) {
        tbHttpRespondJson(resp, 200, tbPbToJson(out));
        return;
    }
    size_t n = protobuf_c_message_get_packed_size(out);
    resp->body.len = 0;
    if (n > 0) {
        uint8_t *buf = malloc(n);
        if (buf) {
            protobuf_c_message_pack(out, buf);
            tbSbufAppend(&resp->body, buf, n);
            free(buf);
        }
    }
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "application/protobuf");
}

/* Decodes, authenticates, calls and encodes one Twirp request. */
static void serveMethod(tbApi *api, const tbTwirpMethod *m, const tbHttpRequest *req,
                        bool json, tbHttpResponse *resp) {
    tbTwirpError err = {0};
    char why[384] = "";
    tbClaims claims;
    tbClaimsInit(&claims);
    ProtobufCMessage *in = NULL, *out = NULL;
    if (tbApiBearer(api, req, false, &claims, why, sizeof why) == TB_API_AUTH_INVALID) {
        respondTwirpError(resp, "unauthenticated", why);
        goto done;
    }
    in = decodeInput(m, req, json, &err);
    int status = resp->status;
    resp->status = 0; /* deferred: metrics count the answer when it comes */
    if (in && tbApiForward(api, m->name, in, req)) goto done; /* (or answered already) */
    resp->status = status;
    if (!in || m->fn(api, &claims, in, &out, &err) != 0) {
        respondTwirpError(resp, err.code ? err.code : "internal", err.msg);
        goto done;
    }
    encodeOutput(out, json, resp);
done:
    if (in) protobuf_c_message_free_unpacked(in, NULL);
    if (out) protobuf_c_message_free_unpacked(out, NULL);
    tbClaimsFree(&claims);
}

void tbTwirpServe(tbApi *api, const tbTwirpService *svc, const tbHttpRequest *req,
                  tbHttpResponse *resp) {
    const tbTwirpMethod *m = findMethod(svc, req->path);
    bool json = tbHttpContentTypeIs(req, "application/json");
    bool proto = tbHttpContentTypeIs(req, "application/protobuf");
    char msg[384];
    if (!m) {
        snprintf(msg, sizeof msg, "no handler for path \"%s\"", req->path);
        respondTwirpError(resp, "bad_route", msg);
    } else if (!json && !proto) {
        snprintf(msg, sizeof msg, "unexpected Content-Type: \"%s\"",
                 req->content_type ? req->content_type : "");
        respondTwirpError(resp, "bad_route", msg);
    } else if (req->body_too_large) {
        snprintf(msg, sizeof msg, "request body exceeds %d bytes", TB_HTTP_BODY_LIMIT);
        respondTwirpError(resp, "malformed", msg);
    } else {
        resp->route = m->route;
        serveMethod(api, m, req, json, resp);
    }
}

void tbApiTwirp(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    tbTwirpServe(api, &tbRoomService, req, resp);
}
