/* lg_run.h — the state of one load-generator run shared by its parts: the
 * options, the publishers (their send times, indexed by sequence number,
 * so every received packet's latency is its receive time minus the time
 * its publisher sent it), every simulated participant, and the counters
 * and latency histogram the report is made of. One thread (the libuv loop
 * in lg_main.c) touches all of it. */
#ifndef LG_RUN_H
#define LG_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "dtls/dtls.h"
#include "lg_opus.h"

#define LG_HIST_US 100000       /* latency histogram: 1 µs buckets up to 100 ms */

typedef struct lgOptions {
    const char *host;           /* tribune's signaling address (loopback only) */
    int port;
    const char *key, *secret;   /* an API key of the server */
    unsigned rooms, publishers, subscribers; /* per room */
    unsigned room_base;         /* a thread's first room (rooms: how many it has) */
    unsigned threads;           /* --threads: rooms are dealt out to them */
    unsigned nack_drop;         /* --nack-drop: % of first arrivals dropped and NACKed */
    unsigned duration_s;        /* measured time, after everybody joined */
    unsigned rate;              /* joins started per second */
    unsigned warmup_ms;         /* after the last join, before measuring */
    const char *json;           /* report file, NULL = none */
    const char *prefix;         /* room names: <prefix>-<n> */
} lgOptions;

typedef struct lgPublisher {
    uint32_t next_seq;          /* the next packet's mark */
    uint64_t *sent_ns;          /* send time of seq (capacity: max_seq) */
    uint32_t window_start, window_end; /* seqs counted: [start, end) */
} lgPublisher;

/* Counters of one (subscriber, publisher) stream. */
typedef struct lgStream {
    uint8_t *seen;              /* bit per seq in [window_start, max_seq) */
    uint32_t received, duplicates, reordered;
    uint32_t last_seq;          /* highest seen, for reordering */
    bool heard;                 /* a packet arrived, window or not: the stream is up */
    bool any;
    double jitter_us;           /* RFC 3550 §6.4.1 on transit times */
    int64_t last_transit_ns;
} lgStream;

struct lgPeer;

typedef struct lgRun {
    lgOptions opt;
    uv_loop_t *loop;
    tbDtlsCtx *dtls;            /* our certificate, shared by every peer */
    char fingerprint[208];
    lgTone tone;
    uint32_t max_seq;           /* publishers' send-time capacity */
    lgPublisher *pubs;          /* rooms * publishers; index = global publisher id */
    struct lgPeer **peers;      /* rooms * (publishers + subscribers) */
    size_t num_peers;
    bool measuring;             /* inside the window: count receptions */
    uint32_t hist[LG_HIST_US + 1]; /* latency, µs; the last bucket: above */
    uint64_t hist_n;
    uint64_t latency_max_ns;
    uint64_t sent, rx_rtp, rx_unmarked, rx_srtp_errors, rx_other_room;
    uint64_t joined, failed;
    uint64_t nacks_sent;        /* --nack-drop */
    double load_cpu_s;          /* this process's CPU time over the window */
    double *join_ms;            /* WebSocket open → DTLS connected, per peer */
    size_t num_join;
} lgRun;

static inline uint64_t lgNowNs(void) { return uv_hrtime(); }

#endif
