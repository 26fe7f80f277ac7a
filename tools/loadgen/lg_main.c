/* lg_main.c — tribune-load: simulates R rooms × (P publishers + S
 * subscribers) as real LiveKit participants against a tribune (or any
 * LiveKit-compatible SFU) on loopback, and measures what the SFU delivers:
 * packets sent, expected and received, loss, duplicates, reordering,
 * jitter, the end-to-end latency of every packet (publishers and
 * subscribers live in this process, so each packet's receive time is
 * matched with its send time), and how long joins take.
 *
 *   tribune-load --port 7880 --key devkey --secret secret \
 *                --rooms 10 --publishers 1 --subscribers 20 --duration 10 --json out.json
 *
 * Phases: joins (at --rate per second) → every participant connected
 * (or failed) → --warmup → the measured window (--duration) → a short
 * drain → leave. Bounded: at most LG_MAX_PEERS participants and
 * LG_MAX_DURATION seconds; the server must be on a loopback address.
 * --threads N deals whole rooms out to N threads, each with its own libuv
 * loop, signaling context and counters (a room's packets never cross
 * threads); the main thread only walks the phases and sums the figures. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dtls/cert.h"
#include "dtls/srtp.h"
#include "lg_peer.h"
#include "lg_report.h"

#define LG_MAX_PEERS 5000
#define LG_MAX_DURATION 600
#define LG_MAX_THREADS 16
#define TICK_MS 5
#define JOIN_TIMEOUT_MS 30000
#define DRAIN_MS 500
#define LEAVE_MS 300

/* Phases, set by the coordinator (the main thread) and followed by every
 * worker at its next tick. */
typedef enum phase { JOINING, WARMUP, MEASURING, DRAINING, QUIET, LEAVING } phase;

typedef struct lgShared {
    _Atomic int phase;
    _Atomic unsigned settled;   /* workers whose every peer joined or failed */
    _Atomic unsigned quiet;     /* workers that stopped counting (QUIET seen) */
} lgShared;

/* One thread: its own loop, signaling context and rooms (whole rooms, so
 * no packet is ever counted by another thread than its sender's). */
typedef struct lgWorker {
    lgRun run;
    lgShared *shared;
    uv_loop_t loop;
    lgSignalCtx *sig;
    uv_timer_t tick;
    pthread_t thread;
    int seen;                   /* the last phase acted on */
    size_t started;             /* peers whose join was started */
    uint64_t joins_ns;          /* when joining began */
    uint64_t leave_ns;          /* when the leaves went out */
    bool settled;
} lgWorker;

static void usage(void) {
    fprintf(stderr,
            "usage: tribune-load [--host 127.0.0.1] [--port 7880] --key K --secret S\n"
            "       [--rooms 1] [--publishers 1] [--subscribers 1] [--duration 10]\n"
            "       [--rate 50] [--warmup-ms 1000] [--prefix lg] [--json FILE] [--check]\n"
            "       [--threads 1]   (whole rooms are dealt out to the threads)\n"
            "       [--nack-drop PCT] drop PCT %% of first arrivals and NACK them: the\n"
            "           SFU's retransmissions must fill every gap\n"
            "  --check  exit 1 unless every participant joined and every packet was\n"
            "           received exactly once, from its own room only\n");
}

static bool loopbackHost(const char *h) {
    return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 || strcmp(h, "localhost") == 0;
}

static int parseOptions(int argc, char **argv, lgOptions *o, bool *check) {
    static const struct option opts[] = {
        {"host", 1, 0, 'h'},     {"port", 1, 0, 'p'},        {"key", 1, 0, 'k'},
        {"secret", 1, 0, 's'},   {"rooms", 1, 0, 'r'},       {"publishers", 1, 0, 'P'},
        {"subscribers", 1, 0, 'S'}, {"duration", 1, 0, 'd'}, {"rate", 1, 0, 'R'},
        {"warmup-ms", 1, 0, 'w'}, {"json", 1, 0, 'j'},       {"prefix", 1, 0, 'x'},
        {"check", 0, 0, 'c'},    {"threads", 1, 0, 't'},     {"nack-drop", 1, 0, 'n'},
        {"help", 0, 0, '?'},     {0, 0, 0, 0},
    };
    *o = (lgOptions){.host = "127.0.0.1", .port = 7880, .rooms = 1, .publishers = 1,
                     .subscribers = 1, .duration_s = 10, .rate = 50, .warmup_ms = 1000,
                     .prefix = "lg", .threads = 1};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 'k': o->key = optarg; break;
        case 's': o->secret = optarg; break;
        case 'r': o->rooms = (unsigned)atoi(optarg); break;
        case 'P': o->publishers = (unsigned)atoi(optarg); break;
        case 'S': o->subscribers = (unsigned)atoi(optarg); break;
        case 'd': o->duration_s = (unsigned)atoi(optarg); break;
        case 'R': o->rate = (unsigned)atoi(optarg); break;
        case 'w': o->warmup_ms = (unsigned)atoi(optarg); break;
        case 'j': o->json = optarg; break;
        case 'x': o->prefix = optarg; break;
        case 'c': *check = true; break;
        case 't': o->threads = (unsigned)atoi(optarg); break;
        case 'n': o->nack_drop = (unsigned)atoi(optarg); break;
        default: usage(); return -1;
        }
    }
    size_t peers = (size_t)o->rooms * (o->publishers + o->subscribers);
    const char *bad = !o->key || !o->secret          ? "--key and --secret are required"
                      : !loopbackHost(o->host)        ? "--host must be a loopback address"
                      : o->rooms == 0 || o->publishers == 0 ? "--rooms and --publishers must be > 0"
                      : peers > LG_MAX_PEERS          ? "too many participants (max 5000)"
                      : o->duration_s == 0 || o->duration_s > LG_MAX_DURATION
                          ? "--duration must be 1..600"
                          : o->rate == 0             ? "--rate must be > 0"
                          : o->threads == 0 || o->threads > LG_MAX_THREADS || o->threads > o->rooms
                              ? "--threads must be 1..16 and at most --rooms"
                          : o->nack_drop > 50 ? "--nack-drop must be 0..50"
                                              : NULL;
    if (bad) {
        fprintf(stderr, "tribune-load: %s\n", bad);
        usage();
        return -1;
    }
    return 0;
}

/* ---- a worker ------------------------------------------------------------------ */

static size_t settledPeers(const lgRun *run) {
    size_t n = 0;
    for (size_t i = 0; i < run->num_peers; i++) n += lgPeerReady(run->peers[i]);
    return n;
}

static void startJoins(lgWorker *w, uint64_t now) {
    lgRun *run = &w->run;
    unsigned rate = run->opt.rate / run->opt.threads + 1;
    uint64_t allowed = (now - w->joins_ns) * rate / 1000000000ull + 1;
    while (w->started < run->num_peers && w->started < allowed)
        lgPeerStart(run->peers[w->started++]);
}

/* Publishers' sequence numbers bound the window: [start, end). */
static void markWindow(lgRun *run, bool open) {
    size_t pubs = (size_t)run->opt.rooms * run->opt.publishers;
    for (size_t i = 0; i < pubs; i++) {
        if (open)
            run->pubs[i].window_start = run->pubs[i].next_seq;
        else
            run->pubs[i].window_end = run->pubs[i].next_seq;
    }
    if (open) run->measuring = true;
}

static void onPhase(lgWorker *w, int ph, uint64_t now) {
    lgRun *run = &w->run;
    switch (ph) {
    case MEASURING: markWindow(run, true); break;
    case DRAINING: markWindow(run, false); break;
    case QUIET:
        run->measuring = false;
        atomic_fetch_add(&w->shared->quiet, 1);
        break;
    case LEAVING:
        for (size_t i = 0; i < run->num_peers; i++) lgPeerLeave(run->peers[i]);
        w->leave_ns = now;
        break;
    default: break;
    }
}

static void onTick(uv_timer_t *t) {
    lgWorker *w = t->data;
    lgRun *run = &w->run;
    uint64_t now = lgNowNs();
    int ph = atomic_load(&w->shared->phase);
    if (ph != w->seen) onPhase(w, ph, now);
    w->seen = ph;
    if (ph == LEAVING) {
        if (now - w->leave_ns < LEAVE_MS * 1000000ull) return;
        uv_timer_stop(&w->tick);
        uv_close((uv_handle_t *)&w->tick, NULL);
        for (size_t i = 0; i < run->num_peers; i++) lgPeerFree(run->peers[i]);
        lgSignalCtxFree(w->sig); /* the loop ends once lws has let go */
        return;
    }
    for (size_t i = 0; i < w->started; i++) lgPeerTick(run->peers[i], now);
    if (ph == JOINING) startJoins(w, now);
    if (!w->settled && settledPeers(run) == run->num_peers) {
        w->settled = true;
        atomic_fetch_add(&w->shared->settled, 1);
    }
}

static void *workerMain(void *arg) {
    lgWorker *w = arg;
    w->joins_ns = lgNowNs();
    uv_timer_start(&w->tick, onTick, TICK_MS, TICK_MS);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- the coordinator ------------------------------------------------------------- */

/* This process's CPU seconds so far (all threads). */
static double cpuSeconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static void setPhase(lgShared *sh, phase ph, const char *what) {
    atomic_store(&sh->phase, (int)ph);
    fprintf(stderr, "tribune-load: %s\n", what);
}

static void sleepMs(unsigned ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {} /* the rest, after a signal */
}

/* Walks the phases while the workers run; returns the report. */
static void coordinate(lgShared *sh, lgWorker *w, unsigned n, lgReport *rep) {
    const lgOptions *o = &w[0].run.opt;
    uint64_t t = lgNowNs();
    while (atomic_load(&sh->settled) < n && lgNowNs() - t < JOIN_TIMEOUT_MS * 1000000ull)
        sleepMs(TICK_MS);
    setPhase(sh, WARMUP, "joined: warming up");
    sleepMs(o->warmup_ms);
    double cpu = -cpuSeconds();
    t = lgNowNs();
    setPhase(sh, MEASURING, "measuring");
    sleepMs(o->duration_s * 1000);
    double window_s = (double)(lgNowNs() - t) / 1e9;
    cpu += cpuSeconds();
    setPhase(sh, DRAINING, "draining");
    sleepMs(DRAIN_MS);
    setPhase(sh, QUIET, "counting done");
    while (atomic_load(&sh->quiet) < n) sleepMs(1);
    lgRun *runs[LG_MAX_THREADS];
    for (unsigned i = 0; i < n; i++) runs[i] = &w[i].run;
    lgReportCompute(runs, n, window_s, rep);
    rep->load_cpu_s = cpu;
    setPhase(sh, LEAVING, "leaving");
}

/* ---- set-up ------------------------------------------------------------------ */

static void raiseFdLimit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Worker w's rooms [base, base + rooms): its run, loop and participants. */
static int setUpWorker(lgWorker *w, const lgOptions *o, lgShared *sh, const tbDtlsCert *cert,
                       unsigned base, unsigned rooms) {
    lgRun *run = &w->run;
    run->opt = *o;
    run->opt.room_base = base;
    run->opt.rooms = rooms;
    w->shared = sh;
    w->seen = JOINING;
    if (uv_loop_init(&w->loop) != 0) return -1;
    run->loop = &w->loop;
    if (!(run->dtls = tbDtlsCtxNew(cert))) return -1;
    snprintf(run->fingerprint, sizeof run->fingerprint, "%s", cert->fingerprint);
    if (lgToneInit(&run->tone, 440) != 0) return -1;
    /* sequence capacity: the whole run at 50 packets/s, with room for the joins */
    run->max_seq = (o->duration_s + o->warmup_ms / 1000 + JOIN_TIMEOUT_MS / 1000 + 10) * 50;
    size_t pubs = (size_t)rooms * o->publishers;
    run->num_peers = (size_t)rooms * (o->publishers + o->subscribers);
    run->pubs = calloc(pubs, sizeof *run->pubs);
    run->peers = calloc(run->num_peers, sizeof *run->peers);
    run->join_ms = calloc(run->num_peers, sizeof *run->join_ms);
    if (!run->pubs || !run->peers || !run->join_ms) return -1;
    for (size_t i = 0; i < pubs; i++)
        if (!(run->pubs[i].sent_ns = calloc(run->max_seq, sizeof(uint64_t)))) return -1;
    if (!(w->sig = lgSignalCtxNew(&w->loop))) return -1;
    for (size_t i = 0; i < run->num_peers; i++)
        if (!(run->peers[i] = lgPeerNew(run, w->sig, i))) return -1;
    uv_timer_init(&w->loop, &w->tick);
    w->tick.data = w;
    return 0;
}

static void tearDownWorker(lgWorker *w) {
    lgRun *run = &w->run;
    size_t pubs = (size_t)run->opt.rooms * run->opt.publishers;
    for (size_t i = 0; run->pubs && i < pubs; i++) free(run->pubs[i].sent_ns);
    free(run->pubs);
    free(run->peers);
    free(run->join_ms);
    lgToneFree(&run->tone);
    tbDtlsCtxFree(run->dtls);
    uv_loop_close(&w->loop);
}

/* Rooms dealt out: thread t gets rooms [base(t), base(t + 1)). */
static unsigned roomBase(const lgOptions *o, unsigned t) {
    return (unsigned)((uint64_t)o->rooms * t / o->threads);
}

int main(int argc, char **argv) {
    lgOptions o;
    bool check = false;
    if (parseOptions(argc, argv, &o, &check) != 0) return 2;
    raiseFdLimit();
    lgWorker *w = calloc(o.threads, sizeof *w); /* (each holds a large histogram) */
    lgShared sh = {JOINING, 0, 0};
    tbDtlsCert *cert = tbDtlsCertGenerate(30); /* read-only: shared by the threads */
    if (!w || !cert || tbSrtpInit() != 0) {
        fprintf(stderr, "tribune-load: set-up failed (memory, OpenSSL or libsrtp)\n");
        return 2;
    }
    for (unsigned t = 0; t < o.threads; t++) {
        unsigned base = roomBase(&o, t);
        if (setUpWorker(&w[t], &o, &sh, cert, base, roomBase(&o, t + 1) - base) != 0) {
            fprintf(stderr, "tribune-load: set-up failed (memory, OpenSSL or libopus)\n");
            return 2;
        }
    }
    fprintf(stderr, "tribune-load: %zu participants in %u rooms on %s:%d, %u thread(s)\n",
            (size_t)o.rooms * (o.publishers + o.subscribers), o.rooms, o.host, o.port,
            o.threads);
    fprintf(stderr, "tribune-load: joining\n");
    for (unsigned t = 0; t < o.threads; t++) pthread_create(&w[t].thread, NULL, workerMain, &w[t]);
    lgReport rep;
    coordinate(&sh, w, o.threads, &rep);
    for (unsigned t = 0; t < o.threads; t++) pthread_join(w[t].thread, NULL);
    lgReportPrint(&rep, stdout);
    int rc = o.json && lgReportWriteJson(&rep, o.json) != 0 ? 2 : 0;
    for (unsigned t = 0; t < o.threads; t++) tearDownWorker(&w[t]);
    tbDtlsCertFree(cert);
    free(w);
    if (rc == 0 && check && !lgReportOk(&rep)) rc = 1;
    return rc;
}
