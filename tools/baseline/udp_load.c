/* udp_load.c — tribune-baseline-load: the load generator for the bare UDP
 * relay (tribune-baseline-relay, udp_relay.c), the baseline of `make bench`
 * (issue 7, bench/README.md).
 *
 * It drives the relay with the shape the real load generator (tools/loadgen,
 * tribune-load: LiveKit participants) gives tribune: R rooms, each with P
 * publishers and S subscribers; every publisher sends one SIZE-byte packet
 * every PTIME ms (an Opus frame), and every subscriber must receive every
 * packet of every publisher of its room. Every participant is its own UDP
 * socket on 127.0.0.1, connected to the relay.
 *
 *   subscriber  sends "SUB1" u32 room, waits for "ACK1" (retried), then
 *               receives with recvmmsg and keeps, per publisher -> subscriber
 *               stream: packets received, duplicates, out-of-order arrivals
 *               (a 256-packet window), latency (receive time - send time,
 *               CLOCK_MONOTONIC, into a 1 us histogram up to 100 ms) and the
 *               RFC 3550 interarrival jitter of that latency.
 *   publisher   sends, paced by a timerfd, packets laid out as
 *               u32 room | u32 publisher index | u32 seq | u32 0 |
 *               u64 send time (ns) | zero padding to SIZE   (big-endian)
 *               The publishers of all rooms are spread evenly over PTIME
 *               (as independent clients would be), not sent in one burst.
 *
 * One thread (or --threads N, rooms dealt out round-robin) runs an epoll
 * loop over its subscriber sockets and its timerfd. With --recv-tick US it
 * sleeps on the timer only and polls the sockets every US us, so that no
 * packet wakes it: the relay then pays no cross-CPU wakeups, and latency is
 * coarser by up to US us. After DURATION seconds the publishers stop, the
 * subscribers drain for 300 ms, and the totals are printed (and written as
 * JSON with --json FILE). Expected packets = what each publisher sent x S;
 * loss = expected - received (duplicates apart).
 *
 * Bounds: --duration <= 600 s, rooms x (publishers + subscribers) <= 20000
 * sockets (RLIMIT_NOFILE's soft limit is raised to the hard one), rooms x
 * publishers x subscribers <= 2M streams, --server on 127.0.0.0/8 only.
 * Exit status: 0 done, 1 setup failed, 2 bad usage, 3 nothing received. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TB_LOAD_MAX_SOCKETS 20000    /* rooms x (publishers + subscribers) */
#define TB_LOAD_MAX_STREAMS (2u << 20) /* rooms x publishers x subscribers */
#define TB_LOAD_MAX_DURATION 600     /* s */
#define TB_LOAD_MAX_THREADS 16
#define TB_LOAD_HDR 24               /* bytes of header in every data packet */
#define TB_LOAD_MAX_SIZE 1400        /* --size at most */
#define TB_LOAD_DGRAM 2048           /* receive buffer per datagram */
#define TB_LOAD_BATCH 32             /* datagrams per recvmmsg */
#define TB_LOAD_HIST_US 100000       /* latency histogram: 1 us buckets to 100 ms */
#define TB_LOAD_WIN 256              /* duplicate/reorder window, packets */
#define TB_LOAD_DRAIN_NS 300000000LL /* subscribers keep receiving after the last send */
#define TB_LOAD_MIN_GAP_NS 100000LL  /* timer wakeups at most every 100 us */
#define TB_LOAD_LATE_NS 1000000LL    /* a send more than 1 ms after its time is late */
#define TB_LOAD_REG_CHUNK 256        /* subscribers registering at once */
#define TB_LOAD_REG_TRIES 10         /* SUB1 sent at most this often per subscriber */
#define TB_LOAD_REG_WAIT_MS 200      /* ACK1 wait per try */
#define TB_LOAD_TIMER UINT32_MAX     /* epoll tag of the timerfd */

typedef struct {
    uint32_t rooms;           /* --rooms */
    uint32_t publishers;      /* --publishers, per room */
    uint32_t subscribers;     /* --subscribers, per room */
    uint32_t duration;        /* --duration, s */
    uint32_t size;            /* --size, bytes per packet */
    uint32_t ptime;           /* --ptime, ms between packets of a publisher */
    uint32_t threads;         /* --threads */
    uint32_t recvTick;        /* --recv-tick, us; 0: receive as packets arrive */
    const char *json;         /* --json FILE, or NULL */
    const char *serverArg;    /* --server as given */
    struct sockaddr_in server; /* --server parsed */
} tbLoadOpts;

typedef struct {              /* one publisher -> subscriber stream, as received */
    uint32_t received;        /* distinct packets */
    uint32_t dups;            /* copies of a packet already received */
    uint32_t reordered;       /* arrived after a packet with a higher seq */
    uint32_t top;             /* highest seq received + 1 (0: none yet) */
    uint64_t win[TB_LOAD_WIN / 64]; /* seqs received in [top - WIN, top), by seq % WIN */
    int64_t lastTransit;      /* previous packet's receive - send time, ns */
    double jitter;            /* RFC 3550 jitter estimate of the transit, ns */
} tbLoadStream;

typedef struct {              /* one participant: one socket */
    int fd;                   /* UDP socket connected to the relay */
    uint32_t room;            /* room id on the wire (1..rooms) */
    uint32_t local;           /* the room's index within its worker */
    uint32_t index;           /* publisher or subscriber index within the room */
    uint32_t seq;             /* publishers: next seq = packets sent */
    int64_t offset;           /* publishers: send phase within ptime, ns */
    tbLoadStream *streams;    /* subscribers: one per publisher of the room */
    bool acked;               /* subscribers: ACK1 received */
} tbLoadPeer;

typedef struct {
    const tbLoadOpts *o;      /* options */
    uint32_t id;              /* worker index */
    uint32_t nrooms;          /* rooms of this worker: id-1 = id, id+threads, ... */
    tbLoadPeer *pubs;         /* npubs publishers, sorted by offset */
    uint32_t npubs;
    tbLoadPeer *subs;         /* nsubs subscribers, room by room */
    uint32_t nsubs;
    tbLoadStream *streams;    /* nsubs x publishers, owned here */
    int ep;                   /* epoll the thread sleeps in: tfd (and the
                                 subscriber sockets when recvTick is 0) */
    int rxep;                 /* recvTick > 0: epoll of the subscriber sockets,
                                 only polled (timeout 0) every recvTick */
    int64_t nextSweep;        /* recvTick > 0: time of the next poll of rxep */
    int tfd;                  /* timerfd, absolute CLOCK_MONOTONIC */
    pthread_t thread;         /* running thread */
    bool started;             /* thread was created */
    int64_t t0;               /* time of round 0, ns */
    uint32_t rounds;          /* packets per publisher to send */
    uint32_t round;           /* send cursor: current round ... */
    uint32_t next;            /* ... and next publisher in it */
    uint8_t pkt[TB_LOAD_MAX_SIZE]; /* packet being sent */
    struct mmsghdr msgs[TB_LOAD_BATCH];
    struct iovec iov[TB_LOAD_BATCH];
    uint8_t buf[TB_LOAD_BATCH][TB_LOAD_DGRAM];
    /* results */
    uint64_t sent;            /* packets sent */
    uint64_t sendErrors;      /* sends the kernel refused (not counted as sent) */
    uint64_t late;            /* sends more than TB_LOAD_LATE_NS after their time */
    int64_t lateMax;          /* worst send delay, ns */
    uint64_t stray;           /* received datagrams that are not ours */
    uint64_t recvErrors;      /* recvmmsg errors (e.g. ECONNREFUSED) */
    uint32_t *hist;           /* latency histogram, TB_LOAD_HIST_US buckets */
    uint64_t histOver;        /* latencies >= TB_LOAD_HIST_US us */
    int64_t latMax;           /* worst latency, ns */
    int err;                  /* the thread failed (errno) */
} tbLoadWorker;

typedef struct {              /* merged results */
    uint64_t sent, expected, received, lost, dups, reordered;
    uint64_t streams, streamsLossy, sendErrors, late, stray, recvErrors;
    int64_t lateMax, latMax;
    uint64_t p50, p99;        /* us */
    double jitterUs, jitterMaxUs, window, cpu, fwdPps;
} tbLoadTotals;

static volatile sig_atomic_t loadStop;

static void loadOnSignal(int sig) {
    (void)sig;
    loadStop = 1;
}

static int64_t loadNow(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void loadPut32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t loadGet32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- options ----------------------------------------------------------- */

static void loadUsage(FILE *f) {
    fprintf(f,
            "usage: tribune-baseline-load --server HOST:PORT [options]\n"
            "  drives tribune-baseline-relay like tribune-load drives tribune (bench/README.md)\n"
            "  --server HOST:PORT  the relay, on 127.0.0.0/8\n"
            "  --rooms N           rooms (default 10)\n"
            "  --publishers N      publishers per room (default 1)\n"
            "  --subscribers N     subscribers per room (default 20)\n"
            "  --duration SEC      sending time, 1..%d (default 10)\n"
            "  --size BYTES        packet size, %d..%d (default 120, an SRTP Opus packet)\n"
            "  --ptime MS          ms between two packets of a publisher (default 20)\n"
            "  --threads N         threads, rooms dealt out round-robin (default 1, up to %d)\n"
            "  --recv-tick US      receive every US us instead of as packets arrive (default 0):\n"
            "                      packets then never wake the load generator, at the cost of\n"
            "                      up to US us more latency\n"
            "  --json FILE         write the results as JSON\n"
            "  rooms x (publishers + subscribers) <= %d sockets\n",
            TB_LOAD_MAX_DURATION, TB_LOAD_HDR, TB_LOAD_MAX_SIZE, TB_LOAD_MAX_THREADS,
            TB_LOAD_MAX_SOCKETS);
}

/* A decimal number in [lo, hi] into *out; false if it is not one. */
static bool loadNumber(const char *s, uint32_t lo, uint32_t hi, uint32_t *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi) return false;
    *out = (uint32_t)v;
    return true;
}

/* HOST:PORT, HOST an IPv4 address on 127.0.0.0/8. */
static bool loadServer(const char *s, struct sockaddr_in *sa) {
    char host[64];
    const char *colon = strrchr(s, ':');
    uint32_t port;
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof host) return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) return false;
    if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127) return false;
    if (!loadNumber(colon + 1, 1, 65535, &port)) return false;
    sa->sin_port = htons((uint16_t)port);
    return true;
}

static int loadCheckShape(const tbLoadOpts *o) {
    uint64_t sockets = (uint64_t)o->rooms * (o->publishers + o->subscribers);
    uint64_t streams = (uint64_t)o->rooms * o->publishers * o->subscribers;
    if (!o->serverArg) {
        fprintf(stderr, "tribune-baseline-load: --server HOST:PORT is required\n");
        return -1;
    }
    if (sockets > TB_LOAD_MAX_SOCKETS || streams > TB_LOAD_MAX_STREAMS) {
        fprintf(stderr, "tribune-baseline-load: %llu sockets, %llu streams: at most %d and %u\n",
                (unsigned long long)sockets, (unsigned long long)streams, TB_LOAD_MAX_SOCKETS,
                TB_LOAD_MAX_STREAMS);
        return -1;
    }
    if (o->threads > o->rooms) {
        fprintf(stderr, "tribune-baseline-load: --threads %u > --rooms %u\n", o->threads, o->rooms);
        return -1;
    }
    return 0;
}

static int loadOptions(int argc, char **argv, tbLoadOpts *o) {
    static const struct option opts[] = {
        {"rooms", required_argument, NULL, 'r'},     {"publishers", required_argument, NULL, 'p'},
        {"subscribers", required_argument, NULL, 's'}, {"duration", required_argument, NULL, 'd'},
        {"size", required_argument, NULL, 'z'},      {"ptime", required_argument, NULL, 't'},
        {"threads", required_argument, NULL, 'T'},   {"json", required_argument, NULL, 'j'},
        {"server", required_argument, NULL, 'S'},    {"recv-tick", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, idx = 0;
    bool ok = true;
    while (ok && (c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        switch (c) {
        case 'r': ok = loadNumber(optarg, 1, TB_LOAD_MAX_SOCKETS, &o->rooms); break;
        case 'p': ok = loadNumber(optarg, 1, TB_LOAD_MAX_SOCKETS, &o->publishers); break;
        case 's': ok = loadNumber(optarg, 1, TB_LOAD_MAX_SOCKETS, &o->subscribers); break;
        case 'd': ok = loadNumber(optarg, 1, TB_LOAD_MAX_DURATION, &o->duration); break;
        case 'z': ok = loadNumber(optarg, TB_LOAD_HDR, TB_LOAD_MAX_SIZE, &o->size); break;
        case 't': ok = loadNumber(optarg, 1, 1000, &o->ptime); break;
        case 'T': ok = loadNumber(optarg, 1, TB_LOAD_MAX_THREADS, &o->threads); break;
        case 'k': ok = loadNumber(optarg, 0, 100000, &o->recvTick); break;
        case 'j': o->json = optarg; break;
        case 'S': o->serverArg = optarg; ok = loadServer(optarg, &o->server); break;
        case 'h': loadUsage(stdout); exit(0);
        default: goto usage;
        }
    }
    if (!ok) {
        fprintf(stderr, "tribune-baseline-load: bad value for --%s: %s\n", opts[idx].name, optarg);
        goto usage;
    }
    if (optind != argc) goto usage;
    return loadCheckShape(o);
usage:
    loadUsage(stderr);
    return -1;
}

/* ---- setup ------------------------------------------------------------- */

/* Raises RLIMIT_NOFILE's soft limit to the hard one; fails below need. */
static int loadFileLimit(uint64_t need) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        fprintf(stderr, "tribune-baseline-load: needs %llu open files, RLIMIT_NOFILE is %llu "
                "(raise the hard limit: ulimit -Hn)\n",
                (unsigned long long)need, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

/* A non-blocking UDP socket on 127.0.0.1:0 connected to the relay. */
static int loadSocket(const struct sockaddr_in *server) {
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto err;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) goto err;
    if (connect(fd, (const struct sockaddr *)server, sizeof *server) < 0) goto err;
    return fd;
err:
    fprintf(stderr, "tribune-baseline-load: socket: %s\n", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

/* Publishers ordered by their send phase: publisher p of global room r is
 * the (p * rooms + r)-th of rooms x publishers slots spread over ptime. */
static int loadMakePubs(tbLoadWorker *w) {
    const tbLoadOpts *o = w->o;
    int64_t ptimeNs = (int64_t)o->ptime * 1000000LL, slots = (int64_t)o->rooms * o->publishers;
    w->npubs = w->nrooms * o->publishers;
    w->pubs = calloc(w->npubs, sizeof *w->pubs);
    if (!w->pubs) return -1;
    for (uint32_t p = 0, k = 0; p < o->publishers; p++) {
        for (uint32_t l = 0; l < w->nrooms; l++, k++) {
            tbLoadPeer *pub = &w->pubs[k];
            uint32_t r = w->id + l * o->threads;
            pub->room = r + 1, pub->local = l, pub->index = p;
            pub->offset = ((int64_t)p * o->rooms + r) * ptimeNs / slots;
            pub->fd = loadSocket(&o->server);
            if (pub->fd < 0) return -1;
        }
    }
    return 0;
}

static int loadMakeSubs(tbLoadWorker *w) {
    const tbLoadOpts *o = w->o;
    w->nsubs = w->nrooms * o->subscribers;
    w->subs = calloc(w->nsubs, sizeof *w->subs);
    w->streams = calloc((size_t)w->nsubs * o->publishers, sizeof *w->streams);
    if (!w->subs || !w->streams) return -1;
    for (uint32_t l = 0, k = 0; l < w->nrooms; l++) {
        for (uint32_t s = 0; s < o->subscribers; s++, k++) {
            tbLoadPeer *sub = &w->subs[k];
            sub->room = w->id + l * o->threads + 1, sub->local = l, sub->index = s;
            sub->streams = &w->streams[(size_t)k * o->publishers];
            sub->fd = loadSocket(&o->server);
            if (sub->fd < 0) return -1;
        }
    }
    return 0;
}

/* Sockets, buffers, the epoll set and the timer of one worker. */
static int loadWorkerInit(tbLoadWorker *w, const tbLoadOpts *o, uint32_t id) {
    w->o = o, w->id = id, w->ep = w->tfd = w->rxep = -1;
    w->nrooms = (o->rooms - id + o->threads - 1) / o->threads;
    w->rounds = (uint32_t)((uint64_t)o->duration * 1000 / o->ptime);
    w->hist = calloc(TB_LOAD_HIST_US, sizeof *w->hist);
    if (!w->hist) goto err;
    for (int i = 0; i < TB_LOAD_BATCH; i++) {
        w->iov[i] = (struct iovec){w->buf[i], TB_LOAD_DGRAM};
        w->msgs[i].msg_hdr.msg_iov = &w->iov[i];
        w->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if (loadMakePubs(w) < 0 || loadMakeSubs(w) < 0) goto err;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->rxep = o->recvTick ? epoll_create1(EPOLL_CLOEXEC) : w->ep;
    w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->ep < 0 || w->rxep < 0 || w->tfd < 0) goto err;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TB_LOAD_TIMER};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tfd, &ev) < 0) goto err;
    for (uint32_t i = 0; i < w->nsubs; i++) {
        ev.data.u32 = i;
        if (epoll_ctl(w->rxep, EPOLL_CTL_ADD, w->subs[i].fd, &ev) < 0) goto err;
    }
    return 0;
err:
    fprintf(stderr, "tribune-baseline-load: worker setup: %s\n", strerror(errno));
    return -1;
}

static void loadWorkerFree(tbLoadWorker *w) {
    for (uint32_t i = 0; w->pubs && i < w->npubs; i++)
        if (w->pubs[i].fd > 0) close(w->pubs[i].fd);
    for (uint32_t i = 0; w->subs && i < w->nsubs; i++)
        if (w->subs[i].fd > 0) close(w->subs[i].fd);
    if (w->rxep >= 0 && w->rxep != w->ep) close(w->rxep);
    if (w->ep >= 0) close(w->ep);
    if (w->tfd >= 0) close(w->tfd);
    free(w->pubs);
    free(w->subs);
    free(w->streams);
    free(w->hist);
}

/* ---- registration: SUB1 / ACK1 ------------------------------------------ */

/* Reads what is queued on a registering subscriber; true once ACK1 came. */
static bool loadReadAck(tbLoadPeer *sub) {
    uint8_t buf[64];
    ssize_t n;
    while ((n = recv(sub->fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0 || errno == ECONNREFUSED) {
        if (n >= 8 && memcmp(buf, "ACK1", 4) == 0 && loadGet32(buf + 4) == sub->room) sub->acked = true;
    }
    return sub->acked;
}

/* Up to TB_LOAD_REG_CHUNK subscribers: SUB1 to the unacked, wait, retry. */
static int loadRegisterChunk(tbLoadPeer **subs, uint32_t n) {
    struct pollfd pfd[TB_LOAD_REG_CHUNK];
    uint32_t left = n;
    for (int t = 0; t < TB_LOAD_REG_TRIES && left && !loadStop; t++) {
        for (uint32_t i = 0; i < n; i++) {
            uint8_t msg[8] = {'S', 'U', 'B', '1'};
            loadPut32(msg + 4, subs[i]->room);
            pfd[i] = (struct pollfd){.fd = subs[i]->acked ? -1 : subs[i]->fd, .events = POLLIN};
            if (!subs[i]->acked) send(subs[i]->fd, msg, sizeof msg, 0);
        }
        int64_t deadline = loadNow() + TB_LOAD_REG_WAIT_MS * 1000000LL;
        int64_t wait;
        while (left && (wait = (deadline - loadNow()) / 1000000) > 0 && !loadStop) {
            if (poll(pfd, n, (int)wait) <= 0) continue;
            for (uint32_t i = 0; i < n; i++) {
                if (pfd[i].fd < 0 || !pfd[i].revents || !loadReadAck(subs[i])) continue;
                pfd[i].fd = -1;
                left--;
            }
        }
    }
    return left ? -1 : 0;
}

/* Registers every subscriber of every worker with the relay. */
static int loadRegister(tbLoadWorker *ws, uint32_t nw, uint32_t total) {
    tbLoadPeer **all = malloc(total * sizeof *all);
    uint32_t k = 0;
    int rc = -1;
    if (!all) return -1;
    for (uint32_t w = 0; w < nw; w++)
        for (uint32_t i = 0; i < ws[w].nsubs; i++) all[k++] = &ws[w].subs[i];
    for (uint32_t base = 0; base < total; base += TB_LOAD_REG_CHUNK) {
        uint32_t n = total - base < TB_LOAD_REG_CHUNK ? total - base : TB_LOAD_REG_CHUNK;
        if (loadRegisterChunk(all + base, n) < 0) {
            fprintf(stderr, "tribune-baseline-load: no ACK1 from %s for some of subscribers "
                    "%u..%u (is tribune-baseline-relay running there, with --max-subs and "
                    "--max-rooms large enough?)\n", ws[0].o->serverArg, base, base + n - 1);
            goto err;
        }
    }
    rc = 0;
err:
    free(all);
    return rc;
}

/* ---- the run: send on time, receive, account --------------------------- */

static void loadSendOne(tbLoadWorker *w, tbLoadPeer *p, int64_t due) {
    int64_t now = loadNow();
    loadPut32(w->pkt, p->room);
    loadPut32(w->pkt + 4, p->index);
    loadPut32(w->pkt + 8, p->seq);
    loadPut32(w->pkt + 12, 0);
    loadPut32(w->pkt + 16, (uint32_t)((uint64_t)now >> 32));
    loadPut32(w->pkt + 20, (uint32_t)now);
    if (send(p->fd, w->pkt, w->o->size, 0) == (ssize_t)w->o->size) {
        p->seq++;
        w->sent++;
    } else {
        w->sendErrors++;
    }
    if (now - due > TB_LOAD_LATE_NS) w->late++;
    if (now - due > w->lateMax) w->lateMax = now - due;
}

static int64_t loadDue(const tbLoadWorker *w) {
    return w->t0 + w->pubs[w->next].offset + (int64_t)w->round * w->o->ptime * 1000000LL;
}

/* Sends every packet whose time has come; false once all are sent. */
static bool loadSendDue(tbLoadWorker *w) {
    while (w->round < w->rounds && !loadStop) {
        int64_t due = loadDue(w);
        if (due > loadNow()) return true;
        loadSendOne(w, &w->pubs[w->next], due);
        if (++w->next == w->npubs) w->next = 0, w->round++;
    }
    return false;
}

/* Window bookkeeping of one arrival: 0 new, 1 duplicate. A packet older
 * than the window cannot be checked and is taken as new. */
static int loadStreamSeq(tbLoadStream *st, uint32_t seq) {
    uint64_t bit = 1ULL << (seq % 64);
    uint64_t *word = &st->win[(seq % TB_LOAD_WIN) / 64];
    if (seq >= st->top) {
        if (seq - st->top >= TB_LOAD_WIN) {
            memset(st->win, 0, sizeof st->win);
        } else {
            for (uint32_t s = st->top; s < seq; s++)
                st->win[(s % TB_LOAD_WIN) / 64] &= ~(1ULL << (s % 64));
        }
        *word |= bit;
        st->top = seq + 1;
        return 0;
    }
    if (st->top - seq <= TB_LOAD_WIN) {
        if (*word & bit) return 1;
        *word |= bit;
    }
    st->reordered++;
    return 0;
}

static void loadPacket(tbLoadWorker *w, tbLoadPeer *sub, const uint8_t *b, uint32_t len, int64_t now) {
    if (len < TB_LOAD_HDR || loadGet32(b) != sub->room) goto stray;
    uint32_t pub = loadGet32(b + 4), seq = loadGet32(b + 8);
    if (pub >= w->o->publishers || seq >= w->rounds) goto stray;
    tbLoadStream *st = &sub->streams[pub];
    if (loadStreamSeq(st, seq)) {
        st->dups++;
        return;
    }
    int64_t sentAt = (int64_t)((uint64_t)loadGet32(b + 16) << 32 | loadGet32(b + 20));
    int64_t transit = now > sentAt ? now - sentAt : 0;
    uint64_t us = (uint64_t)transit / 1000;
    if (us < TB_LOAD_HIST_US) w->hist[us]++;
    else w->histOver++;
    if (transit > w->latMax) w->latMax = transit;
    if (st->received) {
        int64_t d = transit - st->lastTransit;
        st->jitter += ((double)(d < 0 ? -d : d) - st->jitter) / 16.0;
    }
    st->lastTransit = transit;
    st->received++;
    return;
stray:
    w->stray++;
}

static void loadRecv(tbLoadWorker *w, tbLoadPeer *sub) {
    int n = recvmmsg(sub->fd, w->msgs, TB_LOAD_BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) w->recvErrors++;
        return;
    }
    int64_t now = loadNow();
    for (int i = 0; i < n; i++) loadPacket(w, sub, w->buf[i], w->msgs[i].msg_len, now);
}

static int loadArm(tbLoadWorker *w, int64_t at) {
    struct itimerspec its = {.it_value = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL}};
    return timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* recvTick > 0: receives what is queued on every ready subscriber socket,
 * without having slept on them (so no packet wakes this thread). */
static void loadSweep(tbLoadWorker *w) {
    struct epoll_event ev[64];
    for (uint32_t round = 0; round <= w->nsubs / 64 + 1; round++) {
        int n = epoll_wait(w->rxep, ev, 64, 0);
        for (int i = 0; i < n; i++) loadRecv(w, &w->subs[ev[i].data.u32]);
        if (n < 64) break;
    }
}

/* When the thread must wake next: the next send (no sooner than
 * TB_LOAD_MIN_GAP_NS from now), the next sweep, or the end of the drain. */
static int64_t loadWake(const tbLoadWorker *w, bool sending, int64_t now, int64_t stopAt) {
    int64_t wake = sending ? loadDue(w) : stopAt;
    if (sending && wake < now + TB_LOAD_MIN_GAP_NS) wake = now + TB_LOAD_MIN_GAP_NS;
    if (w->o->recvTick && w->nextSweep < wake) wake = w->nextSweep;
    return wake;
}

static void *loadWorkerRun(void *arg) {
    tbLoadWorker *w = arg;
    struct epoll_event ev[64];
    int64_t armed = 0, stopAt = 0, tick = (int64_t)w->o->recvTick * 1000;
    bool sending = true;
    w->nextSweep = w->t0;
    for (;;) {
        int64_t now = loadNow();
        if (sending && !loadSendDue(w)) sending = false, stopAt = loadNow() + TB_LOAD_DRAIN_NS;
        if (tick && now >= w->nextSweep) {
            loadSweep(w);
            w->nextSweep = now + tick;
        }
        if (!sending && now >= stopAt) break;
        int64_t wake = loadWake(w, sending, now, stopAt);
        if (wake != armed && loadArm(w, wake) < 0) goto err;
        armed = wake;
        int n = epoll_wait(w->ep, ev, 64, -1);
        if (n < 0 && errno != EINTR) goto err;
        for (int i = 0; i < n; i++) {
            uint64_t ticks;
            if (ev[i].data.u32 != TB_LOAD_TIMER) loadRecv(w, &w->subs[ev[i].data.u32]);
            else if (read(w->tfd, &ticks, sizeof ticks) > 0) armed = 0;
        }
    }
    return NULL;
err:
    w->err = errno;
    return NULL;
}

/* ---- results ----------------------------------------------------------- */

/* The q-quantile in us; the worst latency when it falls in the overflow. */
static uint64_t loadPercentile(const uint64_t *hist, uint64_t total, double q, int64_t maxNs) {
    uint64_t want = (uint64_t)(q * (double)total + 0.999999), seen = 0;
    if (!total) return 0;
    for (uint32_t i = 0; i < TB_LOAD_HIST_US; i++) {
        seen += hist[i];
        if (seen >= want) return i;
    }
    return (uint64_t)maxNs / 1000;
}

/* Streams of one worker: received, loss against what each publisher sent. */
static void loadTotalStreams(const tbLoadWorker *w, tbLoadTotals *t, uint64_t *jitterStreams) {
    const tbLoadOpts *o = w->o;
    for (uint32_t k = 0; k < w->nsubs; k++) {
        const tbLoadPeer *sub = &w->subs[k];
        for (uint32_t p = 0; p < o->publishers; p++) {
            const tbLoadStream *st = &sub->streams[p];
            uint32_t sent = w->pubs[p * w->nrooms + sub->local].seq;
            t->streams++;
            t->expected += sent;
            t->received += st->received;
            t->lost += st->received < sent ? sent - st->received : 0;
            t->streamsLossy += st->received < sent;
            t->dups += st->dups;
            t->reordered += st->reordered;
            if (st->received < 2) continue;
            t->jitterUs += st->jitter / 1000.0;
            if (st->jitter / 1000.0 > t->jitterMaxUs) t->jitterMaxUs = st->jitter / 1000.0;
            (*jitterStreams)++;
        }
    }
}

static int loadTotal(const tbLoadWorker *ws, uint32_t nw, tbLoadTotals *t) {
    uint64_t *hist = calloc(TB_LOAD_HIST_US, sizeof *hist), jitterStreams = 0, rounds = 0;
    if (!hist) return -1;
    for (uint32_t i = 0; i < nw; i++) {
        const tbLoadWorker *w = &ws[i];
        t->sent += w->sent, t->sendErrors += w->sendErrors, t->late += w->late;
        t->stray += w->stray, t->recvErrors += w->recvErrors;
        if (w->lateMax > t->lateMax) t->lateMax = w->lateMax;
        if (w->latMax > t->latMax) t->latMax = w->latMax;
        if (w->round > rounds) rounds = w->round;
        for (uint32_t b = 0; b < TB_LOAD_HIST_US; b++) hist[b] += w->hist[b];
        loadTotalStreams(w, t, &jitterStreams);
    }
    t->p50 = loadPercentile(hist, t->received, 0.50, t->latMax);
    t->p99 = loadPercentile(hist, t->received, 0.99, t->latMax);
    if (jitterStreams) t->jitterUs /= (double)jitterStreams;
    t->window = (double)rounds * ws[0].o->ptime / 1000.0;
    t->fwdPps = t->window > 0 ? (double)t->received / t->window : 0;
    free(hist);
    return 0;
}

static void loadPrint(const tbLoadOpts *o, const tbLoadTotals *t) {
    double lossPct = t->expected ? 100.0 * (double)t->lost / (double)t->expected : 0;
    printf("tribune-baseline-load -> %s: %u rooms x %u publishers x %u subscribers, "
           "%u-byte packets every %u ms, %.1f s, %u thread(s)\n",
           o->serverArg, o->rooms, o->publishers, o->subscribers, o->size, o->ptime, t->window,
           o->threads);
    printf("  %10s %10s %10s %8s %8s %6s %8s %10s\n", "sent", "expected", "received", "lost",
           "loss%", "dups", "reorder", "fwd pps");
    printf("  %10llu %10llu %10llu %8llu %8.3f %6llu %8llu %10.0f\n", (unsigned long long)t->sent,
           (unsigned long long)t->expected, (unsigned long long)t->received,
           (unsigned long long)t->lost, lossPct, (unsigned long long)t->dups,
           (unsigned long long)t->reordered, t->fwdPps);
    printf("  latency us: p50 %llu  p99 %llu  max %.0f   jitter us: mean %.1f  max %.1f\n",
           (unsigned long long)t->p50, (unsigned long long)t->p99, (double)t->latMax / 1000.0,
           t->jitterUs, t->jitterMaxUs);
    printf("  streams %llu (%llu with loss)  send errors %llu  late sends %llu (worst %.2f ms)  "
           "stray %llu  recv errors %llu  load CPU %.2f s\n",
           (unsigned long long)t->streams, (unsigned long long)t->streamsLossy,
           (unsigned long long)t->sendErrors, (unsigned long long)t->late,
           (double)t->lateMax / 1e6, (unsigned long long)t->stray,
           (unsigned long long)t->recvErrors, t->cpu);
}

static int loadJson(const tbLoadOpts *o, const tbLoadTotals *t) {
    FILE *f = fopen(o->json, "w");
    if (!f) goto err;
    fprintf(f, "{\"tool\":\"tribune-baseline-load\",\"server\":\"%s\",\"rooms\":%u,\"publishers\":%u,"
            "\"subscribers\":%u,\"size\":%u,\"ptime_ms\":%u,\"duration_s\":%.3f,\"threads\":%u,"
            "\"recv_tick_us\":%u,\n",
            o->serverArg, o->rooms, o->publishers, o->subscribers, o->size, o->ptime, t->window,
            o->threads, o->recvTick);
    fprintf(f, " \"sent\":%llu,\"expected\":%llu,\"received\":%llu,\"loss\":%llu,\"loss_pct\":%.4f,"
            "\"duplicates\":%llu,\"reordered\":%llu,\n",
            (unsigned long long)t->sent, (unsigned long long)t->expected,
            (unsigned long long)t->received, (unsigned long long)t->lost,
            t->expected ? 100.0 * (double)t->lost / (double)t->expected : 0.0,
            (unsigned long long)t->dups, (unsigned long long)t->reordered);
    fprintf(f, " \"latency_us\":{\"p50\":%llu,\"p99\":%llu,\"max\":%.1f},\"jitter_us\":%.2f,"
            "\"jitter_max_us\":%.2f,\"forward_pps\":%.1f,\n",
            (unsigned long long)t->p50, (unsigned long long)t->p99, (double)t->latMax / 1000.0,
            t->jitterUs, t->jitterMaxUs, t->fwdPps);
    fprintf(f, " \"streams\":%llu,\"streams_lossy\":%llu,\"send_errors\":%llu,\"late_sends\":%llu,"
            "\"late_max_ms\":%.3f,\"stray\":%llu,\"recv_errors\":%llu,\"cpu_s\":%.3f}\n",
            (unsigned long long)t->streams, (unsigned long long)t->streamsLossy,
            (unsigned long long)t->sendErrors, (unsigned long long)t->late,
            (double)t->lateMax / 1e6, (unsigned long long)t->stray,
            (unsigned long long)t->recvErrors, t->cpu);
    if (fclose(f) != 0) goto err;
    return 0;
err:
    fprintf(stderr, "tribune-baseline-load: %s: %s\n", o->json, strerror(errno));
    return -1;
}

/* ---- main -------------------------------------------------------------- */

static double loadCpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Starts every worker on a common t0 and waits for them. */
static int loadRun(tbLoadWorker *ws, uint32_t nw, double *cpu) {
    int64_t t0 = loadNow() + 20000000LL;
    int rc = 0;
    double cpu0 = loadCpu();
    for (uint32_t i = 0; i < nw; i++) {
        ws[i].t0 = t0;
        errno = pthread_create(&ws[i].thread, NULL, loadWorkerRun, &ws[i]);
        if (errno) goto err;
        ws[i].started = true;
    }
    for (uint32_t i = 0; i < nw; i++) {
        pthread_join(ws[i].thread, NULL);
        ws[i].started = false;
        if (ws[i].err) errno = ws[i].err, rc = -1;
    }
    *cpu = loadCpu() - cpu0;
    if (rc < 0) fprintf(stderr, "tribune-baseline-load: run: %s\n", strerror(errno));
    return rc;
err:
    fprintf(stderr, "tribune-baseline-load: pthread_create: %s\n", strerror(errno));
    loadStop = 1;
    for (uint32_t i = 0; i < nw; i++)
        if (ws[i].started) pthread_join(ws[i].thread, NULL);
    return -1;
}

int main(int argc, char **argv) {
    tbLoadOpts o = {.rooms = 10, .publishers = 1, .subscribers = 20, .duration = 10,
                    .size = 120, .ptime = 20, .threads = 1};
    tbLoadTotals t = {0};
    tbLoadWorker *ws = NULL;
    struct sigaction sa = {.sa_handler = loadOnSignal};
    int rc = 1;
    if (loadOptions(argc, argv, &o) < 0) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uint32_t sockets = o.rooms * (o.publishers + o.subscribers);
    if (loadFileLimit((uint64_t)sockets + 2 * o.threads + 16) < 0) return 1;
    ws = calloc(o.threads, sizeof *ws);
    if (!ws) goto err;
    for (uint32_t i = 0; i < o.threads; i++)
        if (loadWorkerInit(&ws[i], &o, i) < 0) goto err;
    if (loadRegister(ws, o.threads, o.rooms * o.subscribers) < 0) goto err;
    if (loadRun(ws, o.threads, &t.cpu) < 0 || loadTotal(ws, o.threads, &t) < 0) goto err;
    loadPrint(&o, &t);
    if (o.json && loadJson(&o, &t) < 0) goto err;
    rc = t.received ? 0 : 3;
err:
    for (uint32_t i = 0; ws && i < o.threads; i++) loadWorkerFree(&ws[i]);
    free(ws);
    return rc;
}
