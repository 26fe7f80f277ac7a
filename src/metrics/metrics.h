/* metrics.h — the counters tribune exposes on /metrics, and their rendering
 * in the Prometheus text format (version 0.0.4). Owned by the control-plane
 * thread; media workers will publish their own per-worker counters that the
 * renderer sums (media issue). No I/O: the caller passes process figures. */
#ifndef TB_METRICS_H
#define TB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/token.h"
#include "util/sbuf.h"

#define TB_METRICS_MAX_HTTP 96
#define TB_TOKEN_RESULT_MISSING (TB_TOKEN_BAD_CLAIMS + 1) /* no token given */
#define TB_TOKEN_RESULTS (TB_TOKEN_RESULT_MISSING + 1)

typedef struct tbHttpCount {
    const char *route;          /* static string from the route table */
    int status;
    uint64_t n;
} tbHttpCount;

typedef struct tbMetrics {
    tbHttpCount http[TB_METRICS_MAX_HTTP];
    size_t num_http;
    uint64_t http_overflow;     /* requests whose (route, status) found no slot */
    uint64_t token_results[TB_TOKEN_RESULTS];
    uint64_t rooms_created;
    uint64_t rooms_closed;
    uint64_t signal_bad_messages;   /* undecodable signaling frames */
    uint64_t signal_oversize;       /* frames over limit.signal_message_size_limit */
    uint64_t signal_refused;        /* WebSocket joins refused */
    uint64_t data_forwarded;        /* DataPackets routed to a room */
    uint64_t data_dropped;          /* undecodable, or the sender may not publish data */
    uint64_t webhook_ok;            /* webhook requests answered 2xx */
    uint64_t webhook_failed;        /* given up after the retries, or refused (4xx) */
    uint64_t webhook_dropped;       /* dropped from a full queue */
    uint64_t relay_out;             /* clients here relayed to the room's node */
    uint64_t relay_in;              /* clients of other nodes served here */
    uint64_t forward_out;           /* RoomService calls forwarded to the room's node */
    uint64_t forward_in;            /* RoomService calls served for other nodes */
    uint64_t forward_timeouts;      /* forwarded calls not answered in time (503) */
} tbMetrics;

/* Gauges and facts read at render time. */
typedef struct tbMetricsSnapshot {
    const char *version;
    const char *srtp_backend;
    size_t rooms;
    size_t participants;
    double uptime_s;
    uint64_t rss_bytes;         /* 0 = unknown */
    const struct tbMediaStats *media; /* NULL = no media plane */
    const struct tbTurnStats *turn;   /* NULL = TURN off */
} tbMetricsSnapshot;

void tbMetricsCountHttp(tbMetrics *m, const char *route, int status);
void tbMetricsCountToken(tbMetrics *m, int result);
void tbMetricsRender(const tbMetrics *m, const tbMetricsSnapshot *s, tbSbuf *out);
const char *tbMetricsTokenResultName(int result);

#endif
