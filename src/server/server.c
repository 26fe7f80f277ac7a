/* server.c — process lifecycle; see server.h. Everything here lives in one
 * tbServer struct on tbServerRun's stack: no globals. */
#include "server/server.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>

#include "api/api.h"
#include "dtls/srtp.h"
#include "http/server.h"
#include "media/media.h"
#include "signal/hub.h"
#include "signal/relay.h"
#include "metrics/metrics.h"
#include "room/registry.h"
#include "tb_build_config.h"
#include "state/node_registry.h"
#include "state/redis_conn.h"
#include "turn/turn_engine.h"
#include "util/log.h"

typedef struct tbServer {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t sweep;           /* closes rooms past their empty/departure timeout */
    tbRegistry registry;
    tbMetrics metrics;
    tbApi api;
    tbHttpServer http;
    tbMedia *media;             /* NULL when the UDP port could not be bound */
    tbSignalHub *hub;
    tbTurnEngine *turn;         /* NULL when turn.enabled is off */
    tbNodeRegistry *node;       /* this node in Redis; NULL without redis.address */
    int64_t drain_until_ms;     /* SIGTERM with participants here: stop by then (0 = not draining) */
    bool stopping;
} tbServer;

static int64_t wallClockMs(void *ctx) {
    (void)ctx;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void onRoomClosed(void *ctx, const tbRoom *room) {
    tbServer *s = ctx;
    s->metrics.rooms_closed++;
    tbInfo("room", "closed room %s (%s): empty", room->name, room->sid);
    tbWebhookRoomFinished(s->api.webhook, room);
}

static void stop(tbServer *s, const char *why);

static void onSweep(uv_timer_t *t) {
    tbServer *s = t->data;
    if (s->drain_until_ms) {
        size_t left = tbRegistryParticipantCount(&s->registry);
        if (left == 0 || wallClockMs(NULL) >= s->drain_until_ms) {
            if (left) tbWarn("server", "shutdown_timeout: %zu participant(s) still here", left);
            stop(s, left ? "drain timed out" : "drained");
            return;
        }
    }
    if (s->hub) tbSignalHubSweep(s->hub, wallClockMs(NULL)); /* unresumed sessions */
    tbApiSweep(&s->api); /* forwarded calls nobody answered */
    tbRegistrySweep(&s->registry, wallClockMs(NULL), onRoomClosed, s);
}

static void stop(tbServer *s, const char *why) {
    if (s->stopping) return;
    s->stopping = true;
    tbInfo("server", "%s: shutting down", why);
    tbHttpServerStop(&s->http);
    if (s->media) tbMediaStop(s->media);
    tbTurnEngineStop(s->turn);
    tbNodeRegistryStop(s->node);
    s->node = NULL;
    s->api.placement = NULL;
    s->api.bus = NULL;
    s->turn = NULL;
    s->api.turn_stats = NULL;
    tbWebhookStop(s->api.webhook);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sweep, NULL);
}

/* SIGTERM on a node sharing Redis with participants still here: drain
 * (new rooms go to other nodes; the rooms here go on) until everybody has
 * left or shutdown_timeout has passed. A second signal, SIGINT, or a node
 * alone stops at once. */
static void onSignal(uv_signal_t *h, int signum) {
    tbServer *s = h->data;
    const tbConfig *cfg = s->api.config;
    size_t here = tbRegistryParticipantCount(&s->registry);
    if (signum == SIGTERM && s->node && !s->drain_until_ms && here > 0 &&
        cfg->shutdown_timeout > 0) {
        s->drain_until_ms = wallClockMs(NULL) + (int64_t)cfg->shutdown_timeout * 1000;
        tbNodeRegistryDrain(s->node);
        tbInfo("server", "SIGTERM: draining: new rooms go to other nodes; waiting up to %d s "
                         "for the %zu participant(s) here to leave (SIGTERM again: stop now)",
               cfg->shutdown_timeout, here);
        return;
    }
    stop(s, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void logStartup(const tbConfig *cfg) {
    tbInfo("server", "tribune %s starting%s", TB_VERSION, cfg->development ? " (dev mode)" : "");
    tbInfo("server", "SRTP backend: %s", TB_SRTP_BACKEND);
    tbInfo("server", "state store: in-memory%s",
           tbRedisConfigured(&cfg->redis)
               ? " (rooms and participants stay on this node; the node registers in Redis, "
                 "see docs/redis.md)"
               : "");
    if (cfg->development && cfg->keys.len > 0)
        tbInfo("server", "API key: %s (dev)", cfg->keys.items[0].key);
    if (cfg->app_dir)
        tbInfo("server", "web app: serving %s at /app/%s", cfg->app_dir,
               cfg->development ? " (dev token endpoint: POST /app/token)" : "");
}

static void mediaStats(void *ctx, tbMediaStats *out) { tbMediaGetStats(ctx, out); }

/* The media plane and signaling; tbServerRun exits when the media plane
 * cannot start (its port is taken). */
static void startMedia(tbServer *s, const tbConfig *cfg) {
    if (tbSrtpInit() != 0) tbError("media", "libsrtp initialisation failed");
    /* port-range mode (no rtc.udp_port): every transport gets its own port
     * from the range; the workers' shared socket takes an unadvertised one */
    int port = cfg->rtc.udp_port > 0 ? cfg->rtc.udp_port : 0;
    if (port == 0)
        tbInfo("media", "port-range mode: a UDP port per participant from %d-%d",
               cfg->rtc.port_range_start, cfg->rtc.port_range_end);
    tbMediaConfig mc = {.bind_ip = NULL, .udp_port = port, .tcp_port = cfg->rtc.tcp_port,
                        .workers = cfg->rtc.workers};
    s->media = tbMediaStart(&mc, &s->loop, tbSignalHubOnMediaEvent, NULL);
    s->hub = tbSignalHubNew(&s->api, s->media);
    if (s->media) {
        tbMediaSetEventContext(s->media, s->hub);
        s->api.media_stats = mediaStats;
        s->api.media_ctx = s->media;
    }
    if (s->hub) s->api.hooks = tbSignalHubApiHooks(s->hub);
}

static void turnStats(void *ctx, tbTurnStats *out) { tbTurnEngineGetStats(ctx, out); }

/* The embedded TURN server, on its own thread. False when it was asked for
 * and cannot start (a port is taken, the TLS files are unusable). */
static bool startTurn(tbServer *s, const tbConfig *cfg) {
    if (!cfg->turn.enabled) return true;
    /* relays advertise rtc.node_ip, or the address use_external_ip found;
     * otherwise the local address each client reached */
    char ext[TB_MAX_LOCAL_ADDRS * TB_ADDR_STRLEN] = "";
    const char *advertise = cfg->rtc.node_ip;
    if (!advertise && cfg->rtc.use_external_ip && s->hub) {
        for (size_t i = 0; i < s->hub->addrs.len; i++) {
            strncat(ext, s->hub->addrs.ip[i], sizeof ext - strlen(ext) - 2);
            strcat(ext, ",");
        }
        advertise = ext;
    }
    s->turn = tbTurnEngineStart(cfg, advertise);
    if (s->turn == NULL) return false;
    s->api.turn_stats = turnStats;
    s->api.turn_ctx = s->turn;
    return true;
}

/* A message from another node: relayed signaling, or a RoomService call. */
static void onBus(void *ud, const tbBusMsg *m) {
    tbServer *s = ud;
    if (s->stopping) return;
    if (m->kind == TB_BUS_TWIRP_REQ || m->kind == TB_BUS_TWIRP_RESP)
        tbApiOnBus(&s->api, m);
    else if (s->hub)
        tbRelayOnBus(s->hub, m);
}

/* With redis.address or Sentinel: the node registers in Redis (and keeps
 * serving when Redis is away: the connection retries on its own), and rooms
 * are placed among the nodes sharing it. */
static void startNodeRegistry(tbServer *s, const tbConfig *cfg) {
    if (!tbRedisConfigured(&cfg->redis)) return;
    const char *ip = s->hub && s->hub->addrs.len ? s->hub->addrs.ip[0] : NULL;
    s->node = tbNodeRegistryStart(&s->loop, cfg, ip, &s->registry, onBus, s);
    s->api.placement = tbNodeRegistryPlacement(s->node);
    s->api.bus = tbNodeRegistryBus(s->node);
}

static void initServer(tbServer *s, const tbConfig *cfg) {
    memset(s, 0, sizeof *s);
    uv_loop_init(&s->loop);
    tbRegistryInit(&s->registry, (tbRoomDefaults){(uint32_t)cfg->room.empty_timeout,
                                                  (uint32_t)cfg->room.departure_timeout,
                                                  (uint32_t)cfg->room.max_participants});
    s->api = (tbApi){.config = cfg, .registry = &s->registry, .metrics = &s->metrics,
                     .now_ms = wallClockMs, .started_ms = wallClockMs(NULL),
                     .version = TB_VERSION, .srtp_backend = TB_SRTP_BACKEND};
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    uv_timer_init(&s->loop, &s->sweep);
    s->sigint.data = s->sigterm.data = s->sweep.data = s;
}

int tbServerRun(const tbConfig *cfg) {
    tbServer s;
    int rc = 0;
    signal(SIGPIPE, SIG_IGN);
    logStartup(cfg);
    initServer(&s, cfg);
    uv_signal_start(&s.sigint, onSignal, SIGINT);
    uv_signal_start(&s.sigterm, onSignal, SIGTERM);
    uv_timer_start(&s.sweep, onSweep, 1000, 1000);
    s.api.webhook = tbWebhookNew(&s.loop, cfg, &s.metrics); /* NULL: no webhook.urls */
    startMedia(&s, cfg);
    startNodeRegistry(&s, cfg);
    if (!s.media) {
        /* as livekit-server does: no media port, no server */
        rc = 1;
        stop(&s, "the media plane could not start");
    } else if (!startTurn(&s, cfg)) {
        rc = 1;
        stop(&s, "the TURN server could not start");
    } else if (tbHttpServerStart(&s.http, &s.loop, &s.api, s.hub) != 0) {
        rc = 1;
        stop(&s, "start-up failed");
    } else {
        tbInfo("server", "ready");
    }
    uv_run(&s.loop, UV_RUN_DEFAULT);
    tbHttpServerFinish(&s.http);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&s.loop) != 0) tbWarn("server", "event loop closed with handles open");
    tbSignalHubFree(s.hub);
    tbWebhookFree(s.api.webhook);
    tbMediaFree(s.media);
    tbRegistryFree(&s.registry);
    tbInfo("server", "stopped");
    return rc;
}
