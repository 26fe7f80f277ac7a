/* udp.h — the media plane's UDP socket with batched I/O: recvmmsg into a
 * ring of fixed buffers, and an outgoing batch flushed with sendmmsg. One
 * tbUdp per worker; buffers are allocated once, never per packet. */
#ifndef TB_UDP_H
#define TB_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TB_UDP_BATCH 32             /* datagrams per recvmmsg/sendmmsg call */
#define TB_UDP_MTU 1500             /* bytes per buffer; larger datagrams are truncated */

typedef struct tbUdpPacket {
    uint8_t *data;
    size_t len;
    int fd;                         /* tx: the socket to send from (port-range mode) */
    struct sockaddr_storage addr;   /* source (rx) or destination (tx) */
    socklen_t addrlen;
} tbUdpPacket;

typedef struct tbUdp {
    int fd;
    /* receive side */
    uint8_t rxbuf[TB_UDP_BATCH][TB_UDP_MTU];
    tbUdpPacket rx[TB_UDP_BATCH];
    /* transmit side: packets queued by tbUdpQueue, sent by tbUdpFlush */
    uint8_t txbuf[TB_UDP_BATCH][TB_UDP_MTU];
    tbUdpPacket tx[TB_UDP_BATCH];
    size_t txlen;
    uint64_t send_errors;
    uint64_t truncated;             /* received datagrams larger than TB_UDP_MTU */
} tbUdp;

/* Binds ip:port (ip NULL = all, dual-stack). reuseport lets several workers
 * bind the same port. Returns 0 or -errno. */
int tbUdpOpen(tbUdp *u, const char *ip, int port, bool reuseport);
void tbUdpClose(tbUdp *u);
/* Receives up to TB_UDP_BATCH datagrams without blocking; returns the count
 * (0 when none) with u->rx[0..n) filled. */
int tbUdpRecv(tbUdp *u);
/* Same from another socket (a transport's own port), into the same buffers. */
int tbUdpRecvFd(tbUdp *u, int fd);
/* Binds a socket on a free port of [start, end] (all addresses, dual-stack),
 * trying from a random point of the range. Returns the fd and *port, or -1. */
int tbUdpOpenInRange(int start, int end, int *port);
/* Reserves the next outgoing buffer (flushing first when the batch is full)
 * and returns it; the caller writes up to TB_UDP_MTU bytes and commits. */
uint8_t *tbUdpTxBuffer(tbUdp *u);
void tbUdpTxCommit(tbUdp *u, size_t len, const struct sockaddr *to, socklen_t tolen);
/* The same, sent from socket fd (-1 = the shared one). */
void tbUdpTxCommitFd(tbUdp *u, int fd, size_t len, const struct sockaddr *to, socklen_t tolen);
/* Convenience: copy + commit. */
void tbUdpQueue(tbUdp *u, const void *data, size_t len, const struct sockaddr *to,
                socklen_t tolen);
void tbUdpQueueFd(tbUdp *u, int fd, const void *data, size_t len, const struct sockaddr *to,
                  socklen_t tolen);
void tbUdpFlush(tbUdp *u);

#endif
