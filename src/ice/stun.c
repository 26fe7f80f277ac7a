/* stun.c — ICE-lite handling of incoming STUN Binding messages (see stun.h).
 *
 * Parsing, MESSAGE-INTEGRITY (HMAC-SHA1), FINGERPRINT (CRC32) and the
 * XOR-MAPPED-ADDRESS encoding are libnice's STUN library (libnice.so exports
 * stun_agent_* and stun_message_*); only the decisions of a lite agent are
 * written here: which messages to answer, with what, and how to report them. */
#include "ice/stun.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <stun/stunagent.h>
#include <stun/stunmessage.h>

struct tbStunCtx {
    StunAgent agent; /* RFC 5389, short-term credentials, FINGERPRINT required */
};

/* State shared with the libnice validater callback for one request. */
typedef struct credMatch {
    const tbStunCreds *creds; /* what the USERNAME must match */
    bool user_ok;             /* the USERNAME matched (so a failure is the MAC) */
} credMatch;

tbStunCtx *tbStunCtxNew(void) {
    tbStunCtx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) return NULL;
    stun_agent_init(&ctx->agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    return ctx;
}

void tbStunCtxFree(tbStunCtx *ctx) {
    free(ctx);
}

bool tbStunIsStun(const uint8_t *buf, size_t len) {
    if (buf == NULL || len < TB_STUN_HEADER_LEN || buf[0] > 3) return false;
    uint32_t cookie = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 |
                      buf[7];
    return cookie == TB_STUN_MAGIC_COOKIE;
}

/* Points msg at a structurally valid STUN message of exactly len bytes.
 * Returns false if it is not one (bad lengths, truncated, trailing bytes). */
static bool stunFrame(StunMessage *msg, StunAgent *agent, const uint8_t *buf, size_t len) {
    memset(msg, 0, sizeof *msg);
    if (!tbStunIsStun(buf, len) || len > STUN_MAX_MESSAGE_SIZE) return false;
    int mlen = stun_message_validate_buffer_length(buf, len, true);
    if (mlen <= 0 || (size_t)mlen != len) return false;
    msg->agent = agent;
    msg->buffer = (uint8_t *)buf;
    msg->buffer_len = len;
    return true;
}

static int copyUsername(const uint8_t *buf, size_t len, char *out, size_t outlen,
                        bool local_part) {
    StunMessage msg;
    uint16_t ulen = 0;
    if (out == NULL || outlen == 0 || !stunFrame(&msg, NULL, buf, len)) return -1;
    const char *u = stun_message_find(&msg, STUN_ATTRIBUTE_USERNAME, &ulen);
    if (u == NULL) return -1;
    if (local_part) {
        const char *colon = memchr(u, ':', ulen);
        if (colon == NULL) return -1;
        ulen = (uint16_t)(colon - u);
    }
    if ((size_t)ulen + 1 > outlen) return -1;
    memcpy(out, u, ulen);
    out[ulen] = '\0';
    return ulen;
}

int tbStunPeekUsername(const uint8_t *buf, size_t len, char *out, size_t outlen) {
    return copyUsername(buf, len, out, outlen, false);
}

int tbStunPeekLocalUfrag(const uint8_t *buf, size_t len, char *out, size_t outlen) {
    return copyUsername(buf, len, out, outlen, true);
}

/* Records the ICE attributes of a framed request. */
static void fillCheck(const StunMessage *msg, tbStunCheck *check) {
    uint16_t ulen = 0;
    uint64_t tie = 0;
    check->username = stun_message_find(msg, STUN_ATTRIBUTE_USERNAME, &ulen);
    check->username_len = check->username ? ulen : 0;
    if (stun_message_find32(msg, STUN_ATTRIBUTE_PRIORITY, &check->priority) !=
        STUN_MESSAGE_RETURN_SUCCESS)
        check->priority = 0;
    check->use_candidate = stun_message_find_flag(msg, STUN_ATTRIBUTE_USE_CANDIDATE) ==
                           STUN_MESSAGE_RETURN_SUCCESS;
    if (stun_message_find64(msg, STUN_ATTRIBUTE_ICE_CONTROLLING, &tie) ==
        STUN_MESSAGE_RETURN_SUCCESS) {
        check->controlling = true;
        check->tiebreaker = tie;
    }
    if (stun_message_find64(msg, STUN_ATTRIBUTE_ICE_CONTROLLED, &tie) ==
        STUN_MESSAGE_RETURN_SUCCESS) {
        check->controlled = true;
        check->tiebreaker = tie;
    }
    memcpy(check->txid, msg->buffer + 8, sizeof check->txid);
}

/* Frames req and sorts it by class/method. Returns TB_STUN_OK for a Binding
 * request (to be authenticated); *err is the STUN error code to answer with
 * (0: none). msg->buffer stays NULL when req could not be framed. */
static tbStunStatus stunClassify(tbStunCtx *ctx, const uint8_t *req, size_t len,
                                 StunMessage *msg, tbStunCheck *check, int *err) {
    *err = 0;
    if (!tbStunIsStun(req, len)) return TB_STUN_NOT_STUN;
    if (!stunFrame(msg, &ctx->agent, req, len)) return TB_STUN_BAD_REQUEST;
    fillCheck(msg, check);
    StunClass cls = stun_message_get_class(msg);
    bool binding = stun_message_get_method(msg) == STUN_BINDING;
    if (cls == STUN_INDICATION) return binding ? TB_STUN_INDICATION : TB_STUN_IGNORED;
    if (cls != STUN_REQUEST) return TB_STUN_IGNORED;
    if (!binding) {
        *err = STUN_ERROR_BAD_REQUEST; /* RFC 5389 §7.3.1: unknown method */
        return TB_STUN_BAD_REQUEST;
    }
    return TB_STUN_OK;
}

/* USERNAME must be "<local ufrag>:<anything>" or, once the remote ufrag is
 * known, exactly "<local ufrag>:<remote ufrag>" (RFC 8445 §7.2.2). */
static bool usernameMatches(const tbStunCreds *c, const uint8_t *u, size_t ulen) {
    size_t l = c && c->local_ufrag ? strlen(c->local_ufrag) : 0;
    if (u == NULL || l == 0 || ulen <= l || memcmp(u, c->local_ufrag, l) != 0 || u[l] != ':')
        return false;
    if (c->remote_ufrag == NULL || c->remote_ufrag[0] == '\0') return true;
    size_t r = strlen(c->remote_ufrag);
    return ulen == l + 1 + r && memcmp(u + l + 1, c->remote_ufrag, r) == 0;
}

/* libnice validater: hands back our password as the MESSAGE-INTEGRITY key
 * when the USERNAME names this transport. */
static bool credValidater(StunAgent *agent, StunMessage *message, uint8_t *username,
                          uint16_t username_len, uint8_t **password, size_t *password_len,
                          void *user_data) {
    credMatch *m = user_data;
    (void)agent;
    (void)message;
    if (!usernameMatches(m->creds, username, username_len)) return false;
    if (m->creds->local_pwd == NULL || m->creds->local_pwd[0] == '\0') return false;
    m->user_ok = true;
    *password = (uint8_t *)m->creds->local_pwd;
    *password_len = strlen(m->creds->local_pwd);
    return true;
}

/* Checks FINGERPRINT, USERNAME and MESSAGE-INTEGRITY of a Binding request.
 * On success msg->key is our password, so replies are signed with it. */
static tbStunStatus stunAuth(tbStunCtx *ctx, const uint8_t *req, size_t len,
                             StunMessage *msg, const tbStunCreds *creds, int *err) {
    credMatch m = {creds, false};
    StunValidationStatus v =
        stun_agent_validate(&ctx->agent, msg, req, len, credValidater, &m);
    switch (v) {
    case STUN_VALIDATION_SUCCESS: return TB_STUN_OK;
    case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST: /* USERNAME or M-I missing */
        *err = STUN_ERROR_BAD_REQUEST;
        return TB_STUN_BAD_REQUEST;
    case STUN_VALIDATION_UNAUTHORIZED:
        *err = STUN_ERROR_UNAUTHORIZED;
        return m.user_ok ? TB_STUN_UNAUTHORIZED : TB_STUN_UNKNOWN_USER;
    case STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE:
    case STUN_VALIDATION_UNKNOWN_ATTRIBUTE:
        *err = STUN_ERROR_UNKNOWN_ATTRIBUTE;
        return TB_STUN_UNKNOWN_ATTRIBUTE;
    default: /* bad FINGERPRINT or no cookie: not for us, drop silently */
        return TB_STUN_BAD_REQUEST;
    }
}

tbStunStatus tbStunValidateRequest(tbStunCtx *ctx, const uint8_t *req, size_t req_len,
                                   const tbStunCreds *creds, tbStunCheck *check) {
    StunMessage msg;
    tbStunCheck scratch;
    int err;
    if (check == NULL) check = &scratch;
    memset(check, 0, sizeof *check);
    tbStunStatus st = stunClassify(ctx, req, req_len, &msg, check, &err);
    if (st != TB_STUN_OK) return st;
    return stunAuth(ctx, req, req_len, &msg, creds, &err);
}

/* Copies src into ss, turning an IPv4-mapped IPv6 address (dual-stack socket)
 * into plain IPv4 so the client sees the address it sent from. */
static bool normalizeAddr(const struct sockaddr *src, socklen_t srclen,
                          struct sockaddr_storage *ss, socklen_t *sslen) {
    memset(ss, 0, sizeof *ss);
    if (src == NULL) return false;
    if (src->sa_family == AF_INET && srclen >= (socklen_t)sizeof(struct sockaddr_in)) {
        memcpy(ss, src, sizeof(struct sockaddr_in));
        *sslen = sizeof(struct sockaddr_in);
        return true;
    }
    if (src->sa_family != AF_INET6 || srclen < (socklen_t)sizeof(struct sockaddr_in6))
        return false;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = s6->sin6_port;
        memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
        *sslen = sizeof *s4;
        return true;
    }
    memcpy(ss, src, sizeof *s6);
    *sslen = sizeof *s6;
    return true;
}

/* Success response: XOR-MAPPED-ADDRESS, then MESSAGE-INTEGRITY (when the
 * request was authenticated: msg->key) and FINGERPRINT. */
static tbStunStatus buildSuccess(tbStunCtx *ctx, StunMessage *req, const struct sockaddr *src,
                                 socklen_t srclen, uint8_t *out, size_t cap, size_t *out_len) {
    StunMessage resp;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (!normalizeAddr(src, srclen, &ss, &sslen)) return TB_STUN_BAD_REQUEST;
    if (!stun_agent_init_response(&ctx->agent, &resp, out, cap, req)) return TB_STUN_NO_SPACE;
    if (stun_message_append_xor_addr(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &ss, sslen) !=
        STUN_MESSAGE_RETURN_SUCCESS)
        return TB_STUN_NO_SPACE;
    size_t n = stun_agent_finish_message(&ctx->agent, &resp, NULL, 0);
    if (n == 0) return TB_STUN_NO_SPACE;
    *out_len = n;
    return TB_STUN_OK;
}

/* Error response with ERROR-CODE (and UNKNOWN-ATTRIBUTES for 420); signed
 * only if the request was authenticated (RFC 5389 §10.1.2). */
static bool buildError(tbStunCtx *ctx, StunMessage *req, int code, uint8_t *out, size_t cap,
                       size_t *out_len) {
    StunMessage resp;
    size_t n;
    if (code == STUN_ERROR_UNKNOWN_ATTRIBUTE) {
        n = stun_agent_build_unknown_attributes_error(&ctx->agent, &resp, out, cap, req);
    } else {
        if (!stun_agent_init_error(&ctx->agent, &resp, out, cap, req, (StunError)code))
            return false;
        n = stun_agent_finish_message(&ctx->agent, &resp, NULL, 0);
    }
    *out_len = n;
    return n > 0;
}

/* Answers a request that carries neither USERNAME nor MESSAGE-INTEGRITY. */
static tbStunStatus answerPlain(tbStunCtx *ctx, StunMessage *msg, const struct sockaddr *src,
                                socklen_t srclen, unsigned flags, uint8_t *out, size_t cap,
                                size_t *out_len) {
    if (!(flags & TB_STUN_ALLOW_PLAIN)) {
        if (!buildError(ctx, msg, STUN_ERROR_BAD_REQUEST, out, cap, out_len))
            return TB_STUN_NO_SPACE;
        return TB_STUN_BAD_REQUEST;
    }
    tbStunStatus st = buildSuccess(ctx, msg, src, srclen, out, cap, out_len);
    return st == TB_STUN_OK ? TB_STUN_PLAIN_BINDING : st;
}

tbStunStatus tbStunBindingResponse(tbStunCtx *ctx, const uint8_t *req, size_t req_len,
                                   const tbStunCreds *creds, const struct sockaddr *src,
                                   socklen_t srclen, unsigned flags, uint8_t *out,
                                   size_t out_cap, size_t *out_len, tbStunCheck *check) {
    StunMessage msg;
    tbStunCheck scratch;
    int err = 0;
    if (check == NULL) check = &scratch;
    memset(check, 0, sizeof *check);
    *out_len = 0;
    tbStunStatus st = stunClassify(ctx, req, req_len, &msg, check, &err);
    if (st == TB_STUN_OK && !stun_message_has_attribute(&msg, STUN_ATTRIBUTE_USERNAME) &&
        !stun_message_has_attribute(&msg, STUN_ATTRIBUTE_MESSAGE_INTEGRITY))
        return answerPlain(ctx, &msg, src, srclen, flags, out, out_cap, out_len);
    if (st == TB_STUN_OK) st = stunAuth(ctx, req, req_len, &msg, creds, &err);
    if (st == TB_STUN_OK && check->controlled) {
        /* We are lite, so controlled, and cannot switch (RFC 8445 §6.1.1):
         * answer 487 so the full agent takes the controlling role. */
        err = STUN_ERROR_ROLE_CONFLICT;
        st = TB_STUN_ROLE_CONFLICT;
    }
    if (err != 0) {
        if (!buildError(ctx, &msg, err, out, out_cap, out_len)) return TB_STUN_NO_SPACE;
        return st;
    }
    if (st != TB_STUN_OK) return st;
    return buildSuccess(ctx, &msg, src, srclen, out, out_cap, out_len);
}

const char *tbStunStatusName(tbStunStatus st) {
    static const char *const names[] = {
        [TB_STUN_OK] = "ok",
        [TB_STUN_INDICATION] = "indication",
        [TB_STUN_PLAIN_BINDING] = "plain_binding",
        [TB_STUN_NOT_STUN] = "not_stun",
        [TB_STUN_BAD_REQUEST] = "bad_request",
        [TB_STUN_UNAUTHORIZED] = "unauthorized",
        [TB_STUN_UNKNOWN_USER] = "unknown_user",
        [TB_STUN_ROLE_CONFLICT] = "role_conflict",
        [TB_STUN_UNKNOWN_ATTRIBUTE] = "unknown_attribute",
        [TB_STUN_IGNORED] = "ignored",
        [TB_STUN_NO_SPACE] = "no_space",
    };
    if ((unsigned)st >= sizeof names / sizeof names[0] || names[st] == NULL) return "unknown";
    return names[st];
}
