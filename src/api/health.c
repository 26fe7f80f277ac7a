/* health.c — liveness and observability routes: `/` (LiveKit's health check,
 * body "OK"), `/healthz` (JSON status) and `/metrics` (Prometheus). */
#include <stdio.h>
#include <unistd.h>

#include "api/api.h"
#include "media/media.h"
#include "state/node_bus.h"
#include "state/placement.h"
#include "turn/turn_engine.h"

void tbApiRoot(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    (void)api;
    (void)req;
    tbHttpRespondText(resp, 200, "OK");
}

void tbApiHealthz(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    (void)req;
    /* with redis: "redis" while connected, "redis_unreachable" during an
     * outage (this node then serves alone) */
    const char *state = "memory";
    if (api->placement)
        state = tbRedisUp(tbPlacementRedis(api->placement)) ? "redis" : "redis_unreachable";
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "status", "ok", "version",
                          api->version, "srtp", api->srtp_backend, "uptime_s",
                          (json_int_t)((tbApiNowMs(api) - api->started_ms) / 1000), "rooms",
                          (json_int_t)api->registry->num_rooms, "participants",
                          (json_int_t)tbRegistryParticipantCount(api->registry), "state",
                          state);
    if (j && api->bus) {
        json_object_set_new(j, "node_id", json_string(tbNodeBusId(api->bus)));
        json_object_set_new(j, "draining", json_boolean(tbPlacementDraining(api->placement)));
    }
    tbHttpRespondJson(resp, 200, j);
}

static uint64_t residentBytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &rss) != 2) rss = 0;
    fclose(f);
    return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

void tbApiMetrics(tbApi *api, const tbHttpRequest *req, tbHttpResponse *resp) {
    (void)req;
    tbMetricsSnapshot s = {
        .version = api->version,
        .srtp_backend = api->srtp_backend,
        .rooms = api->registry->num_rooms,
        .participants = tbRegistryParticipantCount(api->registry),
        .uptime_s = (double)(tbApiNowMs(api) - api->started_ms) / 1000.0,
        .rss_bytes = residentBytes(),
    };
    tbMediaStats ms;
    if (api->media_stats) {
        api->media_stats(api->media_ctx, &ms);
        s.media = &ms;
    }
    tbTurnStats ts;
    if (api->turn_stats) {
        api->turn_stats(api->turn_ctx, &ts);
        s.turn = &ts;
    }
    resp->body.len = 0;
    tbMetricsRender(api->metrics, &s, &resp->body);
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "text/plain; version=0.0.4");
}
