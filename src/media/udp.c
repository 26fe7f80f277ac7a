/* udp.c — batched UDP I/O for the media workers; see udp.h. */
#include "media/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/rand.h>
#include <unistd.h>

static int bindAddress(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    if (!ip) hints.ai_family = AF_INET6; /* "::" accepts IPv4 too (dual-stack) */
    int rc = getaddrinfo(ip, portstr, &hints, &res);
    if (rc != 0 || !res) return -EINVAL;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* A non-blocking UDP socket bound to ip:port; returns the fd or -errno. */
static int bindSocket(const char *ip, int port, bool reuseport) {
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = bindAddress(ip, port, &ss, &len);
    if (rc) return rc;
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1, zero = 0, buf = 4 << 20;
    /* no SO_REUSEADDR: on Linux it would let a second process share the
     * UDP port silently; workers of one process share it by SO_REUSEPORT */
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int tbUdpOpen(tbUdp *u, const char *ip, int port, bool reuseport) {
    memset(u, 0, sizeof *u);
    u->fd = bindSocket(ip, port, reuseport);
    if (u->fd < 0) {
        int rc = u->fd;
        u->fd = -1;
        return rc;
    }
    for (int i = 0; i < TB_UDP_BATCH; i++) {
        u->rx[i].data = u->rxbuf[i];
        u->tx[i].data = u->txbuf[i];
    }
    return 0;
}

void tbUdpClose(tbUdp *u) {
    if (u->fd >= 0) close(u->fd);
    u->fd = -1;
}

int tbUdpRecv(tbUdp *u) { return tbUdpRecvFd(u, u->fd); }

int tbUdpOpenInRange(int start, int end, int *port) {
    if (start <= 0 || end < start) return -1;
    uint32_t span = (uint32_t)(end - start + 1), first = 0;
    RAND_bytes((unsigned char *)&first, sizeof first);
    for (uint32_t i = 0; i < span && i < 512; i++) {
        int p = start + (int)((first + i) % span);
        int fd = bindSocket(NULL, p, false);
        if (fd >= 0) {
            *port = p;
            return fd;
        }
    }
    return -1;
}

int tbUdpRecvFd(tbUdp *u, int fd) {
    struct mmsghdr msgs[TB_UDP_BATCH];
    struct iovec iov[TB_UDP_BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < TB_UDP_BATCH; i++) {
        iov[i] = (struct iovec){u->rxbuf[i], TB_UDP_MTU};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &u->rx[i].addr;
        msgs[i].msg_hdr.msg_namelen = sizeof u->rx[i].addr;
    }
    int n = recvmmsg(fd, msgs, TB_UDP_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return 0;
    for (int i = 0; i < n; i++) {
        u->rx[i].len = msgs[i].msg_len;
        u->rx[i].addrlen = msgs[i].msg_hdr.msg_namelen;
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) u->truncated++;
    }
    return n;
}

uint8_t *tbUdpTxBuffer(tbUdp *u) {
    if (u->txlen == TB_UDP_BATCH) tbUdpFlush(u);
    return u->txbuf[u->txlen];
}

void tbUdpTxCommit(tbUdp *u, size_t len, const struct sockaddr *to, socklen_t tolen) {
    tbUdpTxCommitFd(u, -1, len, to, tolen);
}

void tbUdpTxCommitFd(tbUdp *u, int fd, size_t len, const struct sockaddr *to, socklen_t tolen) {
    tbUdpPacket *p = &u->tx[u->txlen++];
    p->fd = fd >= 0 ? fd : u->fd;
    p->len = len;
    memcpy(&p->addr, to, tolen);
    p->addrlen = tolen;
}

void tbUdpQueue(tbUdp *u, const void *data, size_t len, const struct sockaddr *to,
                socklen_t tolen) {
    tbUdpQueueFd(u, -1, data, len, to, tolen);
}

void tbUdpQueueFd(tbUdp *u, int fd, const void *data, size_t len, const struct sockaddr *to,
                  socklen_t tolen) {
    if (len > TB_UDP_MTU) return;
    memcpy(tbUdpTxBuffer(u), data, len);
    tbUdpTxCommitFd(u, fd, len, to, tolen);
}

void tbUdpFlush(tbUdp *u) {
    struct mmsghdr msgs[TB_UDP_BATCH];
    struct iovec iov[TB_UDP_BATCH];
    size_t sent = 0;
    memset(msgs, 0, sizeof msgs);
    for (size_t i = 0; i < u->txlen; i++) {
        iov[i] = (struct iovec){u->tx[i].data, u->tx[i].len};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &u->tx[i].addr;
        msgs[i].msg_hdr.msg_namelen = u->tx[i].addrlen;
    }
    /* one sendmmsg per run of packets that leave from the same socket */
    while (sent < u->txlen) {
        size_t run = 1;
        while (sent + run < u->txlen && u->tx[sent + run].fd == u->tx[sent].fd) run++;
        int n = sendmmsg(u->tx[sent].fd, msgs + sent, (unsigned)run, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            /* drop this datagram (full socket buffer, unreachable peer) */
            u->send_errors++;
            n = 1;
        }
        sent += (size_t)n;
    }
    u->txlen = 0;
}
