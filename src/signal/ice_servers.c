/* ice_servers.c — JoinResponse.ice_servers: the STUN servers of
 * rtc.stun_servers and the external TURN servers of rtc.turn_servers, with
 * static credentials or per-participant TURN REST credentials when the
 * entry has a `secret` (valid for its ttl, LiveKit's default 14400 s). The
 * embedded TURN server adds its own entries in the TURN issue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/turn_rest.h"
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

Livekit__ICEServer **tbSessionIceServers(tbSignalSession *s, size_t *n) {
    const tbRtcConfig *rtc = &s->hub->api->config->rtc;
    size_t cap = rtc->stun_servers.len + rtc->turn_servers_len;
    *n = 0;
    if (cap == 0) return NULL;
    Livekit__ICEServer **v = calloc(cap, sizeof *v);
    if (!v) return NULL;
    int64_t now = tbApiNowMs(s->hub->api) / 1000;
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
