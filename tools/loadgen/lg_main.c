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
 * One thread, one libuv loop (a load needing more belongs to several
 * processes). */
#include <getopt.h>
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
#define TICK_MS 5
#define JOIN_TIMEOUT_MS 30000
#define DRAIN_MS 500

typedef enum phase { JOINING, WARMUP, MEASURING, DRAINING, LEAVING } phase;

typedef struct lgMain {
    lgRun run;
    lgSignalCtx *sig;
    uv_timer_t tick;
    phase phase;
    size_t started;             /* peers whose join was started */
    uint64_t phase_ns;          /* when the phase began */
    uint64_t window_ns;         /* measured window length */
    int rc;
} lgMain;

static void usage(void) {
    fprintf(stderr,
            "usage: tribune-load [--host 127.0.0.1] [--port 7880] --key K --secret S\n"
            "       [--rooms 1] [--publishers 1] [--subscribers 1] [--duration 10]\n"
            "       [--rate 50] [--warmup-ms 1000] [--prefix lg] [--json FILE] [--check]\n"
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
        {"check", 0, 0, 'c'},    {"help", 0, 0, '?'},        {0, 0, 0, 0},
    };
    *o = (lgOptions){.host = "127.0.0.1", .port = 7880, .rooms = 1, .publishers = 1,
                     .subscribers = 1, .duration_s = 10, .rate = 50, .warmup_ms = 1000,
                     .prefix = "lg"};
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
                                                      : NULL;
    if (bad) {
        fprintf(stderr, "tribune-load: %s\n", bad);
        usage();
        return -1;
    }
    return 0;
}

/* ---- phases ------------------------------------------------------------------ */

static void setPhase(lgMain *m, phase ph, const char *what) {
    m->phase = ph;
    m->phase_ns = lgNowNs();
    fprintf(stderr, "tribune-load: %s\n", what);
}

static size_t settled(const lgRun *run) {
    size_t n = 0;
    for (size_t i = 0; i < run->num_peers; i++) {
        lgPeerState st = lgPeerGetState(run->peers[i]);
        n += st == LG_PEER_MEDIA || st == LG_PEER_FAILED;
    }
    return n;
}

static void startJoins(lgMain *m, uint64_t now) {
    lgRun *run = &m->run;
    uint64_t allowed = (now - m->phase_ns) * run->opt.rate / 1000000000ull + 1;
    while (m->started < run->num_peers && m->started < allowed)
        lgPeerStart(run->peers[m->started++]);
}

/* This process's CPU seconds so far (all threads). */
static double cpuSeconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static void openWindow(lgMain *m) {
    lgRun *run = &m->run;
    size_t pubs = (size_t)run->opt.rooms * run->opt.publishers;
    for (size_t i = 0; i < pubs; i++) run->pubs[i].window_start = run->pubs[i].next_seq;
    run->measuring = true;
    run->load_cpu_s = -cpuSeconds();
    setPhase(m, MEASURING, "measuring");
}

static void closeWindow(lgMain *m) {
    lgRun *run = &m->run;
    size_t pubs = (size_t)run->opt.rooms * run->opt.publishers;
    for (size_t i = 0; i < pubs; i++) run->pubs[i].window_end = run->pubs[i].next_seq;
    m->window_ns = lgNowNs() - m->phase_ns;
    run->load_cpu_s += cpuSeconds();
    setPhase(m, DRAINING, "draining");
}

static void finish(lgMain *m) {
    lgRun *run = &m->run;
    run->measuring = false;
    lgReport rep;
    lgReportCompute(run, (double)m->window_ns / 1e9, &rep);
    lgReportPrint(&rep, stdout);
    if (run->opt.json && lgReportWriteJson(&rep, run->opt.json) != 0) m->rc = 2;
    if (m->rc == 0 && !lgReportOk(&rep)) m->rc = -1; /* fails --check */
    for (size_t i = 0; i < run->num_peers; i++) lgPeerLeave(run->peers[i]);
    setPhase(m, LEAVING, "leaving");
}

static void onTick(uv_timer_t *t) {
    lgMain *m = t->data;
    lgRun *run = &m->run;
    uint64_t now = lgNowNs(), in_phase = (now - m->phase_ns) / 1000000;
    for (size_t i = 0; i < m->started; i++) lgPeerTick(run->peers[i], now);
    switch (m->phase) {
    case JOINING:
        startJoins(m, now);
        if (settled(run) == run->num_peers || in_phase > JOIN_TIMEOUT_MS)
            setPhase(m, WARMUP, "joined: warming up");
        break;
    case WARMUP:
        if (in_phase >= run->opt.warmup_ms) openWindow(m);
        break;
    case MEASURING:
        if (in_phase >= run->opt.duration_s * 1000ull) closeWindow(m);
        break;
    case DRAINING:
        if (in_phase >= DRAIN_MS) finish(m);
        break;
    case LEAVING:
        if (in_phase >= 300) { /* the leaves went out */
            uv_timer_stop(&m->tick);
            uv_close((uv_handle_t *)&m->tick, NULL);
            for (size_t i = 0; i < run->num_peers; i++) lgPeerFree(run->peers[i]);
            run->num_peers = 0;
            lgSignalCtxFree(m->sig);
        }
        break;
    }
}

/* ---- set-up ------------------------------------------------------------------ */

static void raiseFdLimit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int setUp(lgMain *m, uv_loop_t *loop) {
    lgRun *run = &m->run;
    const lgOptions *o = &run->opt;
    run->loop = loop;
    tbDtlsCert *cert = tbDtlsCertGenerate(30);
    if (!cert || tbSrtpInit() != 0 || !(run->dtls = tbDtlsCtxNew(cert))) return -1;
    snprintf(run->fingerprint, sizeof run->fingerprint, "%s", cert->fingerprint);
    tbDtlsCertFree(cert); /* the context keeps its own references */
    if (lgToneInit(&run->tone, 440) != 0) return -1;
    /* sequence capacity: the whole run at 50 packets/s, with room for the joins */
    run->max_seq = (o->duration_s + o->warmup_ms / 1000 + JOIN_TIMEOUT_MS / 1000 + 10) * 50;
    size_t pubs = (size_t)o->rooms * o->publishers;
    run->num_peers = (size_t)o->rooms * (o->publishers + o->subscribers);
    run->pubs = calloc(pubs, sizeof *run->pubs);
    run->peers = calloc(run->num_peers, sizeof *run->peers);
    run->join_ms = calloc(run->num_peers, sizeof *run->join_ms);
    if (!run->pubs || !run->peers || !run->join_ms) return -1;
    for (size_t i = 0; i < pubs; i++)
        if (!(run->pubs[i].sent_ns = calloc(run->max_seq, sizeof(uint64_t)))) return -1;
    if (!(m->sig = lgSignalCtxNew(loop))) return -1;
    for (size_t i = 0; i < run->num_peers; i++)
        if (!(run->peers[i] = lgPeerNew(run, m->sig, i))) return -1;
    return 0;
}

static void tearDown(lgMain *m) {
    lgRun *run = &m->run;
    size_t pubs = (size_t)run->opt.rooms * run->opt.publishers;
    for (size_t i = 0; run->pubs && i < pubs; i++) free(run->pubs[i].sent_ns);
    free(run->pubs);
    free(run->peers);
    free(run->join_ms);
    lgToneFree(&run->tone);
    tbDtlsCtxFree(run->dtls);
}

int main(int argc, char **argv) {
    static lgMain m; /* the histogram is large: not on the stack */
    bool check = false;
    if (parseOptions(argc, argv, &m.run.opt, &check) != 0) return 2;
    raiseFdLimit();
    uv_loop_t loop;
    uv_loop_init(&loop);
    if (setUp(&m, &loop) != 0) {
        fprintf(stderr, "tribune-load: set-up failed (memory, OpenSSL or libopus)\n");
        return 2;
    }
    fprintf(stderr, "tribune-load: %zu participants in %u rooms on %s:%d\n", m.run.num_peers,
            m.run.opt.rooms, m.run.opt.host, m.run.opt.port);
    uv_timer_init(&loop, &m.tick);
    m.tick.data = &m;
    setPhase(&m, JOINING, "joining");
    uv_timer_start(&m.tick, onTick, TICK_MS, TICK_MS);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    tearDown(&m);
    if (m.rc == -1) return check ? 1 : 0;
    return m.rc;
}
