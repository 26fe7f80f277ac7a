/* metrics.c — counters and Prometheus text rendering; see metrics.h. */
#include "metrics/metrics.h"

#include <string.h>

#include "media/media.h"
#include "turn/turn_engine.h"

void tbMetricsCountHttp(tbMetrics *m, const char *route, int status) {
    if (status == 0) return; /* deferred: counted when answered */
    for (size_t i = 0; i < m->num_http; i++) {
        if (m->http[i].status == status && strcmp(m->http[i].route, route) == 0) {
            m->http[i].n++;
            return;
        }
    }
    if (m->num_http == TB_METRICS_MAX_HTTP) {
        m->http_overflow++;
        return;
    }
    m->http[m->num_http++] = (tbHttpCount){route, status, 1};
}

void tbMetricsCountToken(tbMetrics *m, int result) {
    if (result >= 0 && result < TB_TOKEN_RESULTS) m->token_results[result]++;
}

const char *tbMetricsTokenResultName(int result) {
    if (result == TB_TOKEN_RESULT_MISSING) return "missing";
    return tbTokenStatusName((tbTokenStatus)result);
}

static void header(tbSbuf *o, const char *name, const char *type, const char *help) {
    tbSbufPrintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per label value: name{label="values[i]"} counts[i]. */
static void family(tbSbuf *o, const char *name, const char *label, const char *const *values,
                   const uint64_t *counts, size_t n) {
    for (size_t i = 0; i < n; i++)
        tbSbufPrintf(o, "%s{%s=\"%s\"} %llu\n", name, label, values[i],
                     (unsigned long long)counts[i]);
}

static void renderMedia(tbSbuf *o, const tbMediaStats *ms) {
    header(o, "tribune_media_packets_total", "counter", "Media datagrams (UDP, and ICE-TCP frames) by direction.");
    tbSbufPrintf(o, "tribune_media_packets_total{direction=\"in\"} %llu\n",
                 (unsigned long long)ms->packets_in);
    tbSbufPrintf(o, "tribune_media_packets_total{direction=\"out\"} %llu\n",
                 (unsigned long long)ms->packets_out);
    header(o, "tribune_media_bytes_total", "counter", "Media bytes (UDP, and ICE-TCP frames) by direction.");
    tbSbufPrintf(o, "tribune_media_bytes_total{direction=\"in\"} %llu\n",
                 (unsigned long long)ms->bytes_in);
    tbSbufPrintf(o, "tribune_media_bytes_total{direction=\"out\"} %llu\n",
                 (unsigned long long)ms->bytes_out);
    header(o, "tribune_media_dropped_total", "counter", "Media datagrams dropped, by reason.");
    const struct {
        const char *reason;
        uint64_t n;
    } d[] = {{"malformed", ms->dropped_malformed},
             {"unknown_source", ms->dropped_unknown_source},
             {"stun_bad_auth", ms->stun_bad_auth},
             {"srtp_auth_failed", ms->srtp_auth_failed}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        tbSbufPrintf(o, "tribune_media_dropped_total{reason=\"%s\"} %llu\n", d[i].reason,
                     (unsigned long long)d[i].n);
    header(o, "tribune_media_nack_resent_total", "counter", "Packets retransmitted on NACK.");
    tbSbufPrintf(o, "tribune_media_nack_resent_total %llu\n", (unsigned long long)ms->nack_resent);
    header(o, "tribune_media_workers", "gauge", "Media worker threads.");
    tbSbufPrintf(o, "tribune_media_workers %llu\n", (unsigned long long)ms->workers);
    header(o, "tribune_media_handoff_total", "counter",
             "Datagrams received by one worker for a room another worker owns.");
    tbSbufPrintf(o, "tribune_media_handoff_total{result=\"passed\"} %llu\n",
                 (unsigned long long)ms->handed_off);
    tbSbufPrintf(o, "tribune_media_handoff_total{result=\"dropped\"} %llu\n",
                 (unsigned long long)ms->handoff_dropped);
    header(o, "tribune_media_data_messages_total", "counter",
           "Data channel messages (SCTP over DTLS) by direction, and those dropped.");
    tbSbufPrintf(o, "tribune_media_data_messages_total{direction=\"in\"} %llu\n",
                 (unsigned long long)ms->data_in);
    tbSbufPrintf(o, "tribune_media_data_messages_total{direction=\"out\"} %llu\n",
                 (unsigned long long)ms->data_out);
    tbSbufPrintf(o, "tribune_media_data_messages_total{direction=\"dropped\"} %llu\n",
                 (unsigned long long)ms->data_dropped);
    header(o, "tribune_media_transports", "gauge", "Open media transports.");
    tbSbufPrintf(o, "tribune_media_transports %llu\n", (unsigned long long)ms->transports);
}

static void renderTurn(tbSbuf *o, const tbTurnStats *t) {
    header(o, "tribune_turn_allocations", "gauge", "Live TURN allocations.");
    tbSbufPrintf(o, "tribune_turn_allocations %llu\n", (unsigned long long)t->allocations);
    header(o, "tribune_turn_allocations_total", "counter", "TURN relays opened.");
    tbSbufPrintf(o, "tribune_turn_allocations_total %llu\n", (unsigned long long)t->relays_opened);
    header(o, "tribune_turn_packets_total", "counter", "Datagrams relayed, by direction.");
    tbSbufPrintf(o, "tribune_turn_packets_total{direction=\"to_peer\"} %llu\n",
                 (unsigned long long)t->to_peer_packets);
    tbSbufPrintf(o, "tribune_turn_packets_total{direction=\"to_client\"} %llu\n",
                 (unsigned long long)t->to_client_packets);
    header(o, "tribune_turn_bytes_total", "counter", "Payload bytes relayed, by direction.");
    tbSbufPrintf(o, "tribune_turn_bytes_total{direction=\"to_peer\"} %llu\n",
                 (unsigned long long)t->to_peer_bytes);
    tbSbufPrintf(o, "tribune_turn_bytes_total{direction=\"to_client\"} %llu\n",
                 (unsigned long long)t->to_client_bytes);
    header(o, "tribune_turn_requests_total", "counter", "STUN/TURN requests answered.");
    tbSbufPrintf(o, "tribune_turn_requests_total %llu\n", (unsigned long long)t->requests);
    header(o, "tribune_turn_errors_total", "counter", "Error responses, by STUN error code.");
    for (int i = 0; i < TB_TURN_NERRORS; i++) {
        int code = tbTurnErrorCode(i);
        if (code)
            tbSbufPrintf(o, "tribune_turn_errors_total{code=\"%d\"} %llu\n", code,
                         (unsigned long long)t->errors[i]);
        else
            tbSbufPrintf(o, "tribune_turn_errors_total{code=\"other\"} %llu\n",
                         (unsigned long long)t->errors[i]);
    }
    header(o, "tribune_turn_dropped_total", "counter", "TURN packets dropped, by reason.");
    for (int d = 0; d < TB_TURN_DROP_COUNT; d++)
        tbSbufPrintf(o, "tribune_turn_dropped_total{reason=\"%s\"} %llu\n",
                     tbTurnDropName((tbTurnDrop)d), (unsigned long long)t->dropped[d]);
    header(o, "tribune_turn_tcp_connections", "gauge", "Open TURN TCP/TLS connections.");
    tbSbufPrintf(o, "tribune_turn_tcp_connections %llu\n", (unsigned long long)t->tcp_connections);
    header(o, "tribune_turn_tls_failures_total", "counter", "TLS handshakes or records refused.");
    tbSbufPrintf(o, "tribune_turn_tls_failures_total %llu\n", (unsigned long long)t->tls_failures);
}

void tbMetricsRender(const tbMetrics *m, const tbMetricsSnapshot *s, tbSbuf *o) {
    header(o, "tribune_build_info", "gauge", "Build information.");
    tbSbufPrintf(o, "tribune_build_info{version=\"%s\",srtp=\"%s\"} 1\n", s->version,
                 s->srtp_backend);
    header(o, "tribune_uptime_seconds", "gauge", "Seconds since start.");
    tbSbufPrintf(o, "tribune_uptime_seconds %.3f\n", s->uptime_s);
    header(o, "tribune_rooms", "gauge", "Rooms open on this node.");
    tbSbufPrintf(o, "tribune_rooms %zu\n", s->rooms);
    header(o, "tribune_participants", "gauge", "Participants in rooms on this node.");
    tbSbufPrintf(o, "tribune_participants %zu\n", s->participants);
    header(o, "tribune_rooms_created_total", "counter", "Rooms created.");
    tbSbufPrintf(o, "tribune_rooms_created_total %llu\n", (unsigned long long)m->rooms_created);
    header(o, "tribune_rooms_closed_total", "counter", "Rooms closed.");
    tbSbufPrintf(o, "tribune_rooms_closed_total %llu\n", (unsigned long long)m->rooms_closed);
    header(o, "tribune_http_requests_total", "counter", "HTTP requests by route and status.");
    for (size_t i = 0; i < m->num_http; i++)
        tbSbufPrintf(o, "tribune_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                     m->http[i].route, m->http[i].status, (unsigned long long)m->http[i].n);
    if (m->http_overflow)
        tbSbufPrintf(o, "tribune_http_requests_total{route=\"other\",status=\"other\"} %llu\n",
                     (unsigned long long)m->http_overflow);
    header(o, "tribune_token_validations_total", "counter", "Access token checks by result.");
    for (int r = 0; r < TB_TOKEN_RESULTS; r++)
        tbSbufPrintf(o, "tribune_token_validations_total{result=\"%s\"} %llu\n",
                     tbMetricsTokenResultName(r), (unsigned long long)m->token_results[r]);
    header(o, "tribune_signal_messages_dropped_total", "counter",
           "Signaling frames dropped, by reason.");
    family(o, "tribune_signal_messages_dropped_total", "reason",
           (const char *[]){"undecodable", "oversize"},
           (uint64_t[]){m->signal_bad_messages, m->signal_oversize}, 2);
    header(o, "tribune_data_packets_total", "counter",
           "LiveKit DataPackets from participants: forwarded to the room, or dropped "
           "(undecodable, or the sender lacks canPublishData).");
    family(o, "tribune_data_packets_total", "result", (const char *[]){"forwarded", "dropped"},
           (uint64_t[]){m->data_forwarded, m->data_dropped}, 2);
    header(o, "tribune_webhook_requests_total", "counter",
           "Webhook events per URL: delivered (ok), given up after the retries or refused "
           "(failed), dropped from a full queue (dropped).");
    family(o, "tribune_webhook_requests_total", "result",
           (const char *[]){"ok", "failed", "dropped"},
           (uint64_t[]){m->webhook_ok, m->webhook_failed, m->webhook_dropped}, 3);
    header(o, "tribune_relay_connections_total", "counter",
           "Signaling connections relayed between nodes (several nodes on one Redis): "
           "clients of this node whose room is elsewhere (out), clients of other nodes "
           "whose room is here (in).");
    family(o, "tribune_relay_connections_total", "direction", (const char *[]){"out", "in"},
           (uint64_t[]){m->relay_out, m->relay_in}, 2);
    header(o, "tribune_forwarded_calls_total", "counter",
           "RoomService calls about a room held by another node: forwarded there (out), "
           "served here for another node (in), unanswered within 5 s (timeout).");
    family(o, "tribune_forwarded_calls_total", "result",
           (const char *[]){"out", "in", "timeout"},
           (uint64_t[]){m->forward_out, m->forward_in, m->forward_timeouts}, 3);
    if (s->media) renderMedia(o, s->media);
    if (s->turn) renderTurn(o, s->turn);
    if (s->rss_bytes) {
        header(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        tbSbufPrintf(o, "process_resident_memory_bytes %llu\n",
                     (unsigned long long)s->rss_bytes);
    }
}
