/* external_ip.c — public address discovery over STUN; see external_ip.h. */
#include "media/external_ip.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <stun/usages/bind.h>

static const char *const defaultServers[] = {"stun.l.google.com:19302",
                                             "stun1.l.google.com:19302"};

/* "host:port" (or "[v6]:port") to a socket address. */
static int resolve(const char *hostport, struct sockaddr_storage *ss, socklen_t *len) {
    char host[256];
    const char *port = strrchr(hostport, ':');
    if (!port || (size_t)(port - hostport) >= sizeof host) return -1;
    memcpy(host, hostport, (size_t)(port - hostport));
    host[port - hostport] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strcspn(h, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(h, port + 1, &hints, &res) != 0 || !res) return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int ask(const char *server, char *ip, size_t iplen) {
    struct sockaddr_storage srv, mapped;
    socklen_t srvlen = 0, mappedlen = sizeof mapped;
    if (resolve(server, &srv, &srvlen) != 0) return -1;
    if (stun_usage_bind_run((struct sockaddr *)&srv, srvlen, &mapped, &mappedlen) !=
        STUN_USAGE_BIND_RETURN_SUCCESS)
        return -1;
    const void *a = mapped.ss_family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)&mapped)->sin_addr
                        : (const void *)&((struct sockaddr_in6 *)&mapped)->sin6_addr;
    return inet_ntop(mapped.ss_family, a, ip, (socklen_t)iplen) ? 0 : -1;
}

int tbExternalIp(const tbConfig *cfg, char *ip, size_t iplen, char *from, size_t fromlen) {
    const tbStrList *l = &cfg->rtc.stun_servers;
    size_t n = l->len ? l->len : sizeof defaultServers / sizeof defaultServers[0];
    for (size_t i = 0; i < n; i++) {
        const char *server = l->len ? l->items[i] : defaultServers[i];
        if (ask(server, ip, iplen) == 0) {
            snprintf(from, fromlen, "%s", server);
            return 0;
        }
    }
    return -1;
}
