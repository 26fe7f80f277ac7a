/* udp_relay.c — tribune-baseline-relay: the bare UDP relay that `make bench`
 * measures tribune against (issue 7, bench/README.md).
 *
 * It does the least an audio SFU must do to forward a packet, and nothing
 * else: recvmmsg a batch of datagrams, look up the room, sendmmsg each one
 * unchanged to every subscriber of that room. No crypto, no RTP parsing, no
 * congestion control, one thread, one socket on 127.0.0.1. Its packets out
 * per CPU second are the ceiling that tribune's figure is divided by: the
 * ratio survives a noisy or slow machine where absolute figures do not.
 *
 * Wire format (driven by tribune-baseline-load, tools/baseline/udp_load.c):
 *   "SUB1" u32 room (big-endian)  registers the source address as a
 *                                 subscriber of that room; answered "ACK1"
 *                                 u32 room. Registering twice is harmless.
 *   u32 room (big-endian) ...     anything else: forwarded to every
 *                                 subscriber of the room (none: dropped).
 * So room ids 0x53554231 ("SUB1") and 0x41434B31 ("ACK1") are not usable.
 * Subscribers are never removed: start a fresh relay for every load run
 * (bench/bench.sh does), or the old run's closed ports still get copies.
 *
 *   tribune-baseline-relay [--port N] [--max-rooms N] [--max-subs N]
 *
 * --port 0 (the default) binds an ephemeral port. The first line on stdout
 * is "tribune-baseline-relay: listening on 127.0.0.1:PORT ..."; on SIGTERM
 * or SIGINT it prints one line of counters ("... stopped: in=N out=N ...")
 * and exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TB_RELAY_RECV_BATCH 32      /* datagrams per recvmmsg, as tribune's media workers */
#define TB_RELAY_SEND_BATCH 256     /* datagrams per sendmmsg at most */
#define TB_RELAY_MAX_DGRAM 2048     /* larger datagrams are dropped (counted as truncated) */
#define TB_RELAY_SOCKBUF (4 << 20)  /* SO_RCVBUF/SO_SNDBUF asked for, as tribune does */
#define TB_RELAY_ROOMS_LIMIT (1u << 20)
#define TB_RELAY_SUBS_LIMIT (1u << 16)

typedef struct {
    uint32_t id;              /* room id as on the wire (host order) */
    uint32_t nsubs;           /* subscribers registered */
    uint32_t cap;             /* slots allocated in subs */
    struct sockaddr_in *subs; /* subscriber addresses, in registration order */
} tbRelayRoom;

typedef struct {
    int fd;                   /* the one UDP socket */
    uint16_t port;            /* bound port (host order) */
    uint32_t maxRooms;        /* --max-rooms */
    uint32_t maxSubs;         /* --max-subs, per room */
    tbRelayRoom *rooms;       /* maxRooms slots, nrooms used */
    uint32_t nrooms;          /* rooms created so far */
    int32_t *table;           /* open addressing: index into rooms, or -1 */
    uint32_t tableMask;       /* table size - 1 (a power of two) */
    /* receive batch */
    struct mmsghdr in[TB_RELAY_RECV_BATCH];
    struct iovec inIov[TB_RELAY_RECV_BATCH];
    struct sockaddr_in inAddr[TB_RELAY_RECV_BATCH];
    uint8_t inBuf[TB_RELAY_RECV_BATCH][TB_RELAY_MAX_DGRAM];
    /* send batch: iovecs point into inBuf, names into a room's subs */
    struct mmsghdr out[TB_RELAY_SEND_BATCH];
    struct iovec outIov[TB_RELAY_SEND_BATCH];
    uint32_t nout;            /* queued in out */
    /* counters, printed at exit */
    uint64_t pktIn;           /* datagrams received (SUB1 included) */
    uint64_t pktOut;          /* datagrams forwarded (ACK1 not included) */
    uint64_t subscribes;      /* SUB1 accepted */
    uint64_t refused;         /* SUB1 refused: --max-rooms or --max-subs reached */
    uint64_t unrouted;        /* data for a room without subscribers */
    uint64_t malformed;       /* shorter than 4 bytes, or truncated */
    uint64_t sendErrors;      /* datagrams sendmmsg did not take */
} tbRelay;

static volatile sig_atomic_t relayStop;

static void relayOnSignal(int sig) {
    (void)sig;
    relayStop = 1;
}

static uint32_t relayBe32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t relayHash(uint32_t id) { return id * 0x9E3779B1u; }

/* The room with that id, created when create is set and there is room left. */
static tbRelayRoom *relayRoom(tbRelay *r, uint32_t id, bool create) {
    uint32_t i = relayHash(id) & r->tableMask;
    while (r->table[i] >= 0) {
        tbRelayRoom *room = &r->rooms[r->table[i]];
        if (room->id == id) return room;
        i = (i + 1) & r->tableMask;
    }
    if (!create || r->nrooms == r->maxRooms) return NULL;
    r->table[i] = (int32_t)r->nrooms;
    tbRelayRoom *room = &r->rooms[r->nrooms++];
    room->id = id;
    return room;
}

/* Sends what is queued; a datagram the kernel refuses is dropped. */
static void relayFlush(tbRelay *r) {
    uint32_t done = 0;
    while (done < r->nout) {
        int n = sendmmsg(r->fd, r->out + done, r->nout - done, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            r->sendErrors++;
            n = 1;
        } else {
            r->pktOut += (uint64_t)n;
        }
        done += (uint32_t)n;
    }
    r->nout = 0;
}

/* SUB1: adds the source to the room (once) and answers ACK1. */
static void relaySubscribe(tbRelay *r, const uint8_t *buf, const struct sockaddr_in *from) {
    uint32_t id = relayBe32(buf + 4);
    tbRelayRoom *room = relayRoom(r, id, true);
    if (!room) goto refuse;
    uint32_t i;
    for (i = 0; i < room->nsubs; i++) {
        const struct sockaddr_in *s = &room->subs[i];
        if (s->sin_port == from->sin_port && s->sin_addr.s_addr == from->sin_addr.s_addr) break;
    }
    if (i == room->nsubs) {
        if (room->nsubs == r->maxSubs) goto refuse;
        if (room->nsubs == room->cap) {
            uint32_t cap = room->cap ? room->cap * 2 : 16;
            if (cap > r->maxSubs) cap = r->maxSubs;
            struct sockaddr_in *subs = realloc(room->subs, cap * sizeof *subs);
            if (!subs) goto refuse;
            room->subs = subs;
            room->cap = cap;
        }
        room->subs[room->nsubs++] = *from;
        r->subscribes++;
    }
    uint8_t ack[8] = {'A', 'C', 'K', '1'};
    memcpy(ack + 4, buf + 4, 4);
    sendto(r->fd, ack, sizeof ack, MSG_DONTWAIT, (const struct sockaddr *)from, sizeof *from);
    return;
refuse:
    r->refused++;
}

/* Queues one data datagram to every subscriber of its room. */
static void relayForward(tbRelay *r, uint8_t *buf, uint32_t len) {
    tbRelayRoom *room = relayRoom(r, relayBe32(buf), false);
    if (!room || room->nsubs == 0) {
        r->unrouted++;
        return;
    }
    for (uint32_t i = 0; i < room->nsubs; i++) {
        if (r->nout == TB_RELAY_SEND_BATCH) relayFlush(r);
        struct mmsghdr *m = &r->out[r->nout];
        r->outIov[r->nout] = (struct iovec){buf, len};
        m->msg_hdr.msg_iov = &r->outIov[r->nout];
        m->msg_hdr.msg_iovlen = 1;
        m->msg_hdr.msg_name = &room->subs[i];
        m->msg_hdr.msg_namelen = sizeof room->subs[i];
        r->nout++;
    }
}

/* One received batch: the send batch is flushed before the receive buffers
 * are reused, and before a SUB1 may move a room's subscriber array. */
static void relayBatch(tbRelay *r, int n) {
    for (int i = 0; i < n; i++) {
        struct mmsghdr *m = &r->in[i];
        uint8_t *buf = r->inBuf[i];
        uint32_t len = m->msg_len;
        r->pktIn++;
        if (len < 4 || (m->msg_hdr.msg_flags & MSG_TRUNC)) {
            r->malformed++;
        } else if (len >= 8 && memcmp(buf, "SUB1", 4) == 0) {
            relayFlush(r);
            relaySubscribe(r, buf, &r->inAddr[i]);
        } else {
            relayForward(r, buf, len);
        }
        m->msg_hdr.msg_namelen = sizeof r->inAddr[i];
        m->msg_hdr.msg_flags = 0;
    }
    relayFlush(r);
}

/* Receives until SIGTERM/SIGINT. The signals stay blocked except inside
 * ppoll, so one arriving between two batches is never missed. */
static int relayRun(tbRelay *r, const sigset_t *waitMask) {
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    while (!relayStop) {
        int n = recvmmsg(r->fd, r->in, TB_RELAY_RECV_BATCH, MSG_DONTWAIT, NULL);
        if (n > 0) {
            relayBatch(r, n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            perror("tribune-baseline-relay: recvmmsg");
            return -1;
        }
        if (ppoll(&pfd, 1, NULL, waitMask) < 0 && errno != EINTR) {
            perror("tribune-baseline-relay: ppoll");
            return -1;
        }
    }
    return 0;
}

static int relayOpen(tbRelay *r, uint16_t port) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t salen = sizeof sa;
    int buf = TB_RELAY_SOCKBUF;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (r->fd < 0) goto err;
    setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (bind(r->fd, (struct sockaddr *)&sa, sizeof sa) < 0) goto err;
    if (getsockname(r->fd, (struct sockaddr *)&sa, &salen) < 0) goto err;
    r->port = ntohs(sa.sin_port);
    for (int i = 0; i < TB_RELAY_RECV_BATCH; i++) {
        r->inIov[i] = (struct iovec){r->inBuf[i], TB_RELAY_MAX_DGRAM};
        r->in[i].msg_hdr.msg_iov = &r->inIov[i];
        r->in[i].msg_hdr.msg_iovlen = 1;
        r->in[i].msg_hdr.msg_name = &r->inAddr[i];
        r->in[i].msg_hdr.msg_namelen = sizeof r->inAddr[i];
    }
    return 0;
err:
    fprintf(stderr, "tribune-baseline-relay: 127.0.0.1:%u: %s\n", port, strerror(errno));
    return -1;
}

static int relayAlloc(tbRelay *r) {
    uint32_t size = 16;
    while (size < r->maxRooms * 2) size *= 2;
    r->rooms = calloc(r->maxRooms, sizeof *r->rooms);
    r->table = malloc(size * sizeof *r->table);
    if (!r->rooms || !r->table) return -1;
    memset(r->table, 0xff, size * sizeof *r->table);
    r->tableMask = size - 1;
    return 0;
}

static void relayFree(tbRelay *r) {
    if (r->fd >= 0) close(r->fd);
    for (uint32_t i = 0; r->rooms && i < r->nrooms; i++) free(r->rooms[i].subs);
    free(r->rooms);
    free(r->table);
    free(r);
}

static void relayUsage(FILE *f) {
    fprintf(f,
            "usage: tribune-baseline-relay [--port N] [--max-rooms N] [--max-subs N]\n"
            "  bare UDP relay on 127.0.0.1 (the baseline of make bench, bench/README.md)\n"
            "  --port N       UDP port (default 0: an ephemeral port, printed at start)\n"
            "  --max-rooms N  rooms at most (default 1024, up to %u)\n"
            "  --max-subs N   subscribers per room at most (default 1024, up to %u)\n",
            TB_RELAY_ROOMS_LIMIT, TB_RELAY_SUBS_LIMIT);
}

/* A decimal option in [lo, hi], or -1. */
static long relayNumber(const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    return v;
}

static int relayOptions(int argc, char **argv, long *port, long *rooms, long *subs) {
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"max-rooms", required_argument, NULL, 'r'},
        {"max-subs", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, idx = 0;
    while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        switch (c) {
        case 'p': *port = relayNumber(optarg, 0, 65535); if (*port < 0) goto bad; break;
        case 'r': *rooms = relayNumber(optarg, 1, TB_RELAY_ROOMS_LIMIT); if (*rooms < 0) goto bad; break;
        case 's': *subs = relayNumber(optarg, 1, TB_RELAY_SUBS_LIMIT); if (*subs < 0) goto bad; break;
        case 'h': relayUsage(stdout); exit(0);
        default: goto usage;
        }
    }
    if (optind != argc) goto usage;
    return 0;
bad:
    fprintf(stderr, "tribune-baseline-relay: bad value for --%s: %s\n", opts[idx].name, optarg);
usage:
    relayUsage(stderr);
    return -1;
}

int main(int argc, char **argv) {
    long port = 0, maxRooms = 1024, maxSubs = 1024;
    int rc = 1;
    sigset_t block, waitMask;
    struct sigaction sa = {.sa_handler = relayOnSignal};
    if (relayOptions(argc, argv, &port, &maxRooms, &maxSubs) < 0) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    tbRelay *r = calloc(1, sizeof *r);
    if (!r) return 1;
    r->fd = -1;
    r->maxRooms = (uint32_t)maxRooms;
    r->maxSubs = (uint32_t)maxSubs;
    if (relayAlloc(r) < 0) goto err;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitMask);
    sigdelset(&waitMask, SIGTERM);
    sigdelset(&waitMask, SIGINT);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (relayOpen(r, (uint16_t)port) < 0) goto err;
    printf("tribune-baseline-relay: listening on 127.0.0.1:%u (max %u rooms, %u subscribers each)\n",
           r->port, r->maxRooms, r->maxSubs);
    if (relayRun(r, &waitMask) < 0) goto err;
    rc = 0;
err:
    printf("tribune-baseline-relay: stopped: in=%llu out=%llu subscribes=%llu rooms=%u refused=%llu "
           "unrouted=%llu malformed=%llu send_errors=%llu\n",
           (unsigned long long)r->pktIn, (unsigned long long)r->pktOut,
           (unsigned long long)r->subscribes, r->nrooms, (unsigned long long)r->refused,
           (unsigned long long)r->unrouted, (unsigned long long)r->malformed,
           (unsigned long long)r->sendErrors);
    relayFree(r);
    return rc;
}
