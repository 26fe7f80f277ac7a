/* ice_servers.c — JoinResponse.ice_servers: the embedded TURN server first
 * (when turn.enabled: turn:host:udp_port over UDP and TCP, turns:domain:
 * tls_port, with per-participant TURN REST credentials valid for
 * turn.ttl_seconds), then the STUN servers of rtc.stun_servers and the
 * external TURN servers of rtc.turn_servers, with static credentials or
 * per-participant TURN REST credentials when the entry has a `secret`
 * (valid for its ttl, LiveKit's default 14400 s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/turn_rest.h"
#include "signal/hub.h"
#include "signal/session_internal.h"

static Livekit__ICEServer *newServer(const char *url, const char *user, const char *cred) {
    Livekit__ICEServer *s = calloc(1, sizeof *s);
    char **urls = calloc(1, sizeof *urls);
    if (!s || !urls) {
        free(s);
        free(urls);
        return NULL;
    }
    livekit__iceserver__init(s);
    urls[0] = strdup(url);
    s->urls = urls;
    s->n_urls = urls[0] ? 1 : 0;
    s->username = strdup(user ? user : "");
    s->credential = strdup(cred ? cred : "");
    return s;
}

static Livekit__ICEServer *turnServer(const tbExternalTurn *t, const char *identity, int64_t now) {
    char url[300], user[320], pass[64];
    const char *proto = t->protocol ? t->protocol : "udp";
    bool tls = strcmp(proto, "tls") == 0;
    snprintf(url, sizeof url, "%s:%s:%d?transport=%s", tls ? "turns" : "turn", t->host,
             t->port ? t->port : (tls ? 5349 : 3478), tls ? "tcp" : proto);
    if (t->secret && *t->secret) {
        int ttl = t->ttl > 0 ? t->ttl : 14400;
        if (tbTurnRestCredentials(t->secret, identity, now + ttl, user, sizeof user, pass,
                                  sizeof pass) != 0)
            return NULL;
        return newServer(url, user, pass);
    }
    return newServer(url, t->username, t->credential);
}

/* host as a URL authority: IPv6 literals in brackets. */
static void urlHost(const char *host, char *out, size_t cap) {
    snprintf(out, cap, strchr(host, ':') ? "[%s]" : "%s", host);
}

/* The embedded TURN server's entry, or NULL when it is off or has no
 * address to give (no turn.domain and no candidate address). */
static Livekit__ICEServer *embeddedTurn(tbSignalSession *s, int64_t now) {
    const tbTurnConfig *t = &s->hub->api->config->turn;
    const char *name = t->domain && *t->domain ? t->domain
                       : s->hub->addrs.len > 0 ? s->hub->addrs.ip[0] : NULL;
    if (!t->enabled || name == NULL) return NULL;
    char host[300], user[320], pass[64], url[3][340];
    const char *secret = tbTurnAuthSecret(&s->hub->turn_auth);
    if (!*secret ||
        tbTurnRestCredentials(secret, s->identity, now + tbTurnCredentialTtl(t), user,
                              sizeof user, pass, sizeof pass) != 0)
        return NULL;
    urlHost(name, host, sizeof host);
    size_t n = 0;
    if (t->udp_port > 0) {
        snprintf(url[n++], sizeof url[0], "turn:%s:%d?transport=udp", host, t->udp_port);
        snprintf(url[n++], sizeof url[0], "turn:%s:%d?transport=tcp", host, t->udp_port);
    }
    if (t->tls_port > 0 && t->domain && *t->domain)
        snprintf(url[n++], sizeof url[0], "turns:%s:%d?transport=tcp", t->domain, t->tls_port);
    if (n == 0) return NULL;
    Livekit__ICEServer *srv = newServer(url[0], user, pass);
    char **urls = srv ? realloc(srv->urls, n * sizeof *urls) : NULL;
    if (urls == NULL) return srv;
    srv->urls = urls;
    for (size_t i = 1; i < n; i++)
        if ((urls[srv->n_urls] = strdup(url[i]))) srv->n_urls++;
    return srv;
}

Livekit__ICEServer **tbSessionIceServers(tbSignalSession *s, size_t *n) {
    const tbRtcConfig *rtc = &s->hub->api->config->rtc;
    size_t cap = 1 + rtc->stun_servers.len + rtc->turn_servers_len;
    *n = 0;
    Livekit__ICEServer **v = calloc(cap, sizeof *v);
    if (!v) return NULL;
    int64_t now = tbApiNowMs(s->hub->api) / 1000;
    if ((v[*n] = embeddedTurn(s, now))) (*n)++;
    for (size_t i = 0; i < rtc->stun_servers.len; i++) {
        char url[300];
        snprintf(url, sizeof url, "stun:%s", rtc->stun_servers.items[i]);
        if ((v[*n] = newServer(url, NULL, NULL))) (*n)++;
    }
    for (size_t i = 0; i < rtc->turn_servers_len; i++)
        if (rtc->turn_servers[i].host && (v[*n] = turnServer(&rtc->turn_servers[i], s->identity, now)))
            (*n)++;
    return v;
}
