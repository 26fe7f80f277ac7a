/* lg_report.c — figures of a run; see lg_report.h. */
#include "lg_report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lg_peer.h"

/* The q-quantile of the runs' latency histograms together, µs. */
static double percentile(lgRun *const *runs, size_t n, double q) {
    uint64_t total = 0, acc = 0;
    for (size_t i = 0; i < n; i++) total += runs[i]->hist_n;
    if (total == 0) return 0;
    uint64_t want = (uint64_t)(q * (double)total);
    for (size_t us = 0; us <= LG_HIST_US; us++) {
        for (size_t i = 0; i < n; i++) acc += runs[i]->hist[us];
        if (acc > want) return (double)us;
    }
    return LG_HIST_US;
}

static int cmpDouble(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double at(const double *v, size_t n, double q) {
    return n ? v[(size_t)(q * (double)(n - 1) + 0.5)] : 0;
}

/* Adds one run's counts to r; returns its number of streams. */
static size_t addRun(const lgRun *run, lgReport *r) {
    size_t streams = 0;
    r->participants += run->num_peers;
    r->joined += run->joined, r->failed += run->failed;
    for (size_t i = 0; i < run->num_peers; i++) {
        const lgPeer *p = run->peers[i];
        for (size_t k = 0; k < lgPeerNumStreams(p); k++) {
            uint32_t pub;
            const lgStream *s = lgPeerStreamAt(p, k, &pub);
            const lgPublisher *from = &run->pubs[pub];
            r->expected += from->window_end - from->window_start;
            r->received += s->received;
            r->duplicates += s->duplicates;
            r->reordered += s->reordered;
            r->jitter_us += s->jitter_us;
            streams++;
        }
    }
    size_t pubs = (size_t)run->opt.rooms * run->opt.publishers;
    for (size_t i = 0; i < pubs; i++)
        r->sent += run->pubs[i].window_end - run->pubs[i].window_start;
    r->srtp_errors += run->rx_srtp_errors, r->unmarked += run->rx_unmarked;
    r->other_room += run->rx_other_room;
    r->load_cpu_s += run->load_cpu_s;
    r->nacks_sent += run->nacks_sent;
    double max_us = (double)run->latency_max_ns / 1000.0;
    if (max_us > r->latency_us_max) r->latency_us_max = max_us;
    return streams;
}

void lgReportCompute(lgRun *const *runs, size_t n, double window_s, lgReport *r) {
    memset(r, 0, sizeof *r);
    const lgOptions *o = &runs[0]->opt;
    r->publishers = o->publishers, r->subscribers = o->subscribers;
    r->window_s = window_s;
    size_t streams = 0, joins = 0;
    for (size_t i = 0; i < n; i++) {
        r->rooms += runs[i]->opt.rooms;
        streams += addRun(runs[i], r);
        joins += runs[i]->num_join;
    }
    r->jitter_us = streams ? r->jitter_us / (double)streams : 0;
    r->loss = r->expected ? 1.0 - (double)r->received / (double)r->expected : 0;
    r->forward_pps = window_s > 0 ? (double)r->received / window_s : 0;
    r->latency_us_p50 = percentile(runs, n, 0.50);
    r->latency_us_p99 = percentile(runs, n, 0.99);
    double *j = malloc((joins ? joins : 1) * sizeof *j);
    if (j) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t m = 0; m < runs[i]->num_join; m++) j[k++] = runs[i]->join_ms[m];
        qsort(j, joins, sizeof *j, cmpDouble);
        r->join_ms_p50 = at(j, joins, 0.50);
        r->join_ms_p99 = at(j, joins, 0.99);
        free(j);
    }
}

void lgReportPrint(const lgReport *r, FILE *f) {
    fprintf(f,
            "rooms %u x (publishers %u + subscribers %u) = %zu participants: %zu joined, %zu "
            "failed\n"
            "window %.1f s: sent %llu, expected %llu, received %llu (loss %.4f%%), "
            "duplicates %llu, reordered %llu\n"
            "forwarded %.0f pkt/s; latency p50 %.0f us, p99 %.0f us, max %.0f us; jitter "
            "%.0f us\n"
            "join (WebSocket to DTLS) p50 %.1f ms, p99 %.1f ms; srtp errors %llu, unmarked "
            "%llu, from another room %llu; load generator CPU %.2f s\n",
            r->rooms, r->publishers, r->subscribers, r->participants, r->joined, r->failed,
            r->window_s, (unsigned long long)r->sent, (unsigned long long)r->expected,
            (unsigned long long)r->received, r->loss * 100, (unsigned long long)r->duplicates,
            (unsigned long long)r->reordered, r->forward_pps, r->latency_us_p50,
            r->latency_us_p99, r->latency_us_max, r->jitter_us, r->join_ms_p50,
            r->join_ms_p99, (unsigned long long)r->srtp_errors,
            (unsigned long long)r->unmarked, (unsigned long long)r->other_room, r->load_cpu_s);
}

int lgReportWriteJson(const lgReport *r, const char *path) {
    json_t *j = json_pack(
        "{s:i, s:i, s:i, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:f, s:I, s:I, s:f, "
        "s:{s:f, s:f, s:f}, s:f, s:{s:f, s:f}, s:I, s:I, s:I, s:f, s:I}",
        "rooms", (int)r->rooms, "publishers", (int)r->publishers, "subscribers",
        (int)r->subscribers, "participants", (json_int_t)r->participants, "joined",
        (json_int_t)r->joined, "failed", (json_int_t)r->failed, "window_s", r->window_s,
        "sent", (json_int_t)r->sent, "expected", (json_int_t)r->expected, "received",
        (json_int_t)r->received, "loss", r->loss, "duplicates", (json_int_t)r->duplicates,
        "reordered", (json_int_t)r->reordered, "forward_pps", r->forward_pps, "latency_us",
        "p50", r->latency_us_p50, "p99", r->latency_us_p99, "max", r->latency_us_max,
        "jitter_us", r->jitter_us, "join_ms", "p50", r->join_ms_p50, "p99", r->join_ms_p99,
        "srtp_errors", (json_int_t)r->srtp_errors, "unmarked", (json_int_t)r->unmarked,
        "other_room", (json_int_t)r->other_room, "load_cpu_s", r->load_cpu_s, "nacks_sent",
        (json_int_t)r->nacks_sent);
    int rc = j && json_dump_file(j, path, JSON_INDENT(2)) == 0 ? 0 : -1;
    if (rc) fprintf(stderr, "tribune-load: cannot write %s\n", path);
    json_decref(j);
    return rc;
}

bool lgReportOk(const lgReport *r) {
    return r->failed == 0 && r->joined == r->participants && r->expected > 0 &&
           r->received == r->expected && r->duplicates == 0 && r->other_room == 0 &&
           r->srtp_errors == 0 && r->unmarked == 0;
}
