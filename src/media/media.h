/* media.h — the media plane as the control plane sees it: worker threads
 * that own ICE-lite/DTLS/SRTP transports and forward RTP between them.
 *
 * The control thread calls the tbMedia* functions below; each becomes a
 * command on the owning worker's queue (a mutex-protected list drained in
 * batches when the worker's uv_async fires: no lock is taken per packet).
 * Workers report back (transport up/down, audio levels, counters) through
 * the event callback, which always runs on the control thread's loop.
 *
 * Identifiers are small integers chosen by the control plane: a transport
 * per participant peer connection, a track per published audio track, and
 * a room (transports and tracks of one room live on one worker). */
#ifndef TB_MEDIA_H
#define TB_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct tbMedia tbMedia;

typedef enum tbDtlsRoleChoice {
    TB_MEDIA_DTLS_CLIENT = 0,   /* our answer said a=setup:active */
    TB_MEDIA_DTLS_SERVER = 1,   /* a=setup:passive */
} tbDtlsRoleChoice;

typedef struct tbMediaTransportSpec {
    uint32_t transport_id;
    uint32_t room_id;
    char local_ufrag[32];
    char local_pwd[64];
    char remote_ufrag[260];
    char remote_pwd[260];
    char remote_fingerprint[256]; /* "sha-256 AB:CD:..." from the client's SDP */
    tbDtlsRoleChoice dtls_role;
    int fd;                     /* port-range mode: the transport's own UDP socket
                                   (ownership passes to the media plane); -1 = the
                                   shared rtc.udp_port */
    bool data;                  /* the answer accepted a data channel section: run
                                   SCTP over DTLS once it connects */
    uint16_t sctp_port;         /* the client's a=sctp-port (0 = 5000) */
    bool server_channels;       /* open `_reliable` and `_lossy` ourselves (the
                                   subscriber PC of /rtc) */
} tbMediaTransportSpec;

/* An inbound audio track on a publisher's transport. */
typedef struct tbMediaPublishSpec {
    uint32_t transport_id;
    uint32_t track_id;
    uint32_t ssrc;              /* from the offer's a=ssrc; 0 = learn from mid */
    char mid[32];               /* the publisher's m-section */
    uint8_t payload_type;       /* negotiated Opus pt */
    uint8_t red_pt;             /* 0 = no RED */
    uint8_t audio_level_ext;    /* RFC 6464 extension id, 0 = none */
    uint8_t mid_ext;            /* sdes:mid extension id, 0 = none */
} tbMediaPublishSpec;

/* A track forwarded down a subscriber's transport. */
typedef struct tbMediaSubscribeSpec {
    uint32_t transport_id;      /* the subscriber's */
    uint32_t track_id;
    uint32_t ssrc;              /* the SSRC we announced in the answer */
    char mid[32];               /* the subscriber's sendonly m-section */
    uint8_t payload_type;       /* the subscriber's Opus pt */
    uint8_t red_pt;             /* its RED pt, 0 = no RED: RED is unwrapped to Opus */
    uint8_t audio_level_ext;
    uint8_t mid_ext;
} tbMediaSubscribeSpec;

typedef enum tbMediaEventType {
    TB_MEDIA_TRANSPORT_CONNECTED = 1, /* ICE nominated and DTLS done */
    TB_MEDIA_TRANSPORT_CLOSED,        /* consent lost, DTLS failure or removal */
    TB_MEDIA_LEVELS,                  /* audio levels of one room's tracks */
    TB_MEDIA_DATA,                    /* a data channel message from the client */
} tbMediaEventType;

#define TB_MEDIA_MAX_LEVELS 64

typedef struct tbMediaLevel {
    uint32_t track_id;
    float level;                /* 0..1, LiveKit's SpeakerInfo.level scale */
    bool active;
} tbMediaLevel;

typedef struct tbMediaEvent {
    tbMediaEventType type;
    uint32_t transport_id;
    uint32_t room_id;
    char reason[64];            /* CLOSED: "consent timeout", "dtls failed", ... */
    tbMediaLevel levels[TB_MEDIA_MAX_LEVELS];
    size_t num_levels;
    /* DATA: the channel's label, the SCTP PPID and the message (owned by the
     * media plane, valid during the callback only) */
    char label[64];
    uint32_t ppid;
    uint8_t *data;
    size_t data_len;
} tbMediaEvent;

typedef void (*tbMediaEventFn)(void *ctx, const tbMediaEvent *ev);

/* Counters summed over workers for /metrics. */
typedef struct tbMediaStats {
    uint64_t packets_in, packets_out, bytes_in, bytes_out;
    uint64_t dropped_malformed;     /* not STUN/DTLS/RTP/RTCP, or truncated */
    uint64_t dropped_unknown_source;/* no transport for this 5-tuple / ufrag */
    uint64_t stun_bad_auth;         /* checks with a wrong password */
    uint64_t srtp_auth_failed;      /* SRTP/SRTCP authentication failures */
    uint64_t nack_resent;           /* packets retransmitted on NACK */
    uint64_t handed_off;            /* datagrams passed to the worker owning their room */
    uint64_t handoff_dropped;       /* ... dropped because that worker's ring was full */
    uint64_t workers;               /* media worker threads */
    uint64_t transports;            /* open right now */
    uint64_t data_in, data_out;     /* data channel messages */
    uint64_t data_dropped;          /* oversize, unknown channel, or refused by SCTP */
} tbMediaStats;

typedef struct tbMediaConfig {
    const char *bind_ip;        /* NULL = all addresses */
    int udp_port;               /* shared port for all transports (0: an unadvertised
                                   ephemeral port; transports bring their own) */
    int tcp_port;               /* ICE-TCP (passive), 0 = off */
    int workers;                /* media threads (>= 1) */
} tbMediaConfig;

/* Starts the workers and binds the UDP port. Events are delivered on
 * `control_loop`. Returns NULL after logging why. */
tbMedia *tbMediaStart(const tbMediaConfig *cfg, uv_loop_t *control_loop, tbMediaEventFn fn,
                      void *ctx);
/* Events go to fn(ctx) where ctx is set here (after the hub exists). */
void tbMediaSetEventContext(tbMedia *m, void *ctx);
/* Stops and joins the workers and closes the control-loop handle; run the
 * control loop until it has closed, then tbMediaFree. */
void tbMediaStop(tbMedia *m);
void tbMediaFree(tbMedia *m);
/* The first character our ICE ufrag must have for a transport of room_id:
 * it names the worker that owns the room, so whichever worker's socket a
 * client's first check lands on can hand it to the owner. */
char tbMediaUfragTag(const tbMedia *m, uint32_t room_id);
/* True when the ICE-TCP listener on rtc.tcp_port is up. */
bool tbMediaTcpActive(const tbMedia *m);
/* "sha-256 AB:CD:..." of the DTLS certificate every transport uses. */
const char *tbMediaFingerprint(const tbMedia *m);

void tbMediaAddTransport(tbMedia *m, const tbMediaTransportSpec *spec);
void tbMediaRemoveTransport(tbMedia *m, uint32_t room_id, uint32_t transport_id);
void tbMediaPublish(tbMedia *m, uint32_t room_id, const tbMediaPublishSpec *spec);
void tbMediaUnpublish(tbMedia *m, uint32_t room_id, uint32_t track_id);
void tbMediaSubscribe(tbMedia *m, uint32_t room_id, const tbMediaSubscribeSpec *spec);
void tbMediaUnsubscribe(tbMedia *m, uint32_t room_id, uint32_t transport_id, uint32_t track_id);
void tbMediaSetMuted(tbMedia *m, uint32_t room_id, uint32_t track_id, bool muted);
/* ICE restart: new local and remote ICE credentials; DTLS/SRTP carry on. */
void tbMediaIceRestart(tbMedia *m, uint32_t room_id, uint32_t transport_id,
                       const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
                       const char *remote_pwd);
/* Sends a message (copied) on the transport's data channel named label. */
void tbMediaSendData(tbMedia *m, uint32_t room_id, uint32_t transport_id, const char *label,
                     uint32_t ppid, const uint8_t *data, size_t len);
void tbMediaGetStats(tbMedia *m, tbMediaStats *out);

#endif
