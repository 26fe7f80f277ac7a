/* lg_report.h — the figures of a load-generator run (lg_run.h), as a short
 * table and as the JSON `make bench` reads. */
#ifndef LG_REPORT_H
#define LG_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "lg_run.h"

typedef struct lgReport {
    unsigned rooms, publishers, subscribers;
    size_t participants, joined, failed;
    double window_s;
    uint64_t sent, expected, received, duplicates, reordered;
    uint64_t srtp_errors, unmarked, other_room;
    double loss;                /* 1 - received / expected */
    double forward_pps;         /* received / window */
    double latency_us_p50, latency_us_p99, latency_us_max;
    double jitter_us;           /* mean over streams */
    double join_ms_p50, join_ms_p99;
    double load_cpu_s;          /* the load generator's own CPU over the window */
    uint64_t nacks_sent;        /* --nack-drop: packets dropped here and NACKed */
} lgReport;

/* The figures of n runs (one per thread, disjoint rooms) over one window. */
void lgReportCompute(lgRun *const *runs, size_t n, double window_s, lgReport *out);
void lgReportPrint(const lgReport *r, FILE *f);
int lgReportWriteJson(const lgReport *r, const char *path);
/* Everybody joined; every expected packet arrived once, none from another
 * room, none undecryptable or unmarked. */
bool lgReportOk(const lgReport *r);

#endif
