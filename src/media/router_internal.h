/* router_internal.h — the forwarding engine's data structures, shared by
 * router.c (transports, tracks, RTP) and router_rtcp.c (reports, NACK).
 * Private to src/media/. */
#ifndef TB_MEDIA_ROUTER_INTERNAL_H
#define TB_MEDIA_ROUTER_INTERNAL_H

#include "data/sctp.h"
#include "dtls/dtls.h"
#include "ice/ice_lite.h"
#include "ice/stun.h"
#include "media/ice_tcp.h"
#include "media/router.h"
#include "rtp/munger.h"
#include "rtp/nack_buffer.h"
#include "rtp/recv_stats.h"
#include "rtp/rtp.h"
#include "rtp/speaker.h"

#define TB_RTCP_INTERVAL_MS 1000    /* reports per transport */

typedef struct tbTransport tbTransport;

typedef struct tbDownTrack {
    tbTransport *sub;
    uint32_t ssrc;              /* what we announced in the subscriber's answer */
    char mid[32];
    uint8_t mid_len;
    uint8_t pt, red_pt, audio_level_ext, mid_ext;
    tbRtpMunger munger;
    uint64_t packets, octets;   /* sent, for sender reports */
    tbNackMap sent;             /* what went out under each seq, for NACKs (2 KiB): the
                                 * packet itself is in the uptrack's history */
    struct tbDownTrack *next;
} tbDownTrack;

typedef struct tbUpTrack {
    uint32_t track_id;
    uint32_t room_id;
    tbTransport *pub;
    uint32_t ssrc;              /* 0 until learnt (SDP a=ssrc or the mid extension) */
    char mid[32];
    uint8_t pt, red_pt, audio_level_ext, mid_ext;
    bool muted;
    tbSpeakerLevel level;       /* RFC 6464 levels, windowed and smoothed */
    tbRtpRecvStats stats;       /* for receiver reports */
    tbNackBuffer history;       /* its packets as received (plaintext), by incoming seq:
                                 * NACKs of every downtrack are answered from it */
    bool stats_started;
    tbDownTrack *downs;
    struct tbUpTrack *next;
} tbUpTrack;

struct tbTransport {
    uint32_t id;
    uint32_t room_id;
    tbRouter *router;
    int fd;                     /* own UDP socket (port-range mode), -1 = shared */
    tbIceLite ice;
    tbDtls *dtls;
    tbDtlsRole role;
    tbSrtpSession srtp;
    bool srtp_ready;
    bool connected_reported;
    bool dead;                  /* failed; removed by the control plane */
    uint32_t rtcp_ssrc;         /* our SSRC as the sender of receiver reports */
    int64_t next_rtcp_ms;       /* when reports are due */
    bool want_data;             /* the answer accepted a data channel section */
    uint16_t sctp_port;         /* the client's sctp-port */
    bool server_channels;       /* we open _reliable/_lossy once SCTP is up */
    tbSctp *sctp;               /* data channels, once DTLS connected */
    struct tbTransport *next;
};

/* Per-room state: active-speaker ranking. */
typedef struct tbRouterRoom {
    uint32_t room_id;
    tbSpeakerRoom speakers;
    struct tbRouterRoom *next;
} tbRouterRoom;

/* Which worker owns a client 5-tuple that this worker's socket receives
 * (learnt from the ufrag of its first STUN check). Open addressing, fixed
 * size; a colliding entry is overwritten (the next check re-learns it). */
#define TB_FOREIGN_SLOTS 4096
typedef struct tbForeignKey {
    uint8_t addr[16];
    uint16_t port;
    uint8_t family;                 /* AF_INET / AF_INET6 */
    uint8_t proto;                  /* tbIceProto */
} tbForeignKey;

typedef struct tbForeignEntry {
    tbForeignKey key;
    int8_t owner;                   /* worker index, -1 = empty */
} tbForeignEntry;

struct tbRouter {
    tbMedia *media;
    int index;                      /* this worker */
    int num_workers;
    tbForeignEntry foreign[TB_FOREIGN_SLOTS];
    /* sends an ICE-TCP frame through the worker holding the connection */
    bool (*tcp_forward)(void *ud, const tbIceTuple *to, const uint8_t *data, size_t len);
    void *tcp_ud;
    tbUdp *udp;
    tbIceTcp *tcp;              /* ICE-TCP listener and connections, or NULL */
    tbStunCtx *stun;
    tbDtlsCtx *dtls;
    tbTransport *transports;
    tbUpTrack *ups;
    tbRouterRoom *rooms;
    tbSpeakerConfig speaker_cfg;
    tbMediaStats stats;
};


/* router.c */
void tbRouterSendTo(tbTransport *t, const uint8_t *data, size_t len);
/* RED (RFC 2198) goes out as RED to subscribers that took it, else as its
 * primary Opus payload: *hh (a copy of the packet's header) becomes the
 * header to write from, *pt the payload type. False when d cannot take it. */
bool tbRouterDownFormat(const tbUpTrack *u, const tbDownTrack *d, const uint8_t *pkt,
                        tbRtpHeader *hh, uint8_t *pt);
/* Downtrack d's copy of uptrack u's packet (pkt as received, plaintext; hh
 * and pt from tbRouterDownFormat) under outgoing seq, ts and marker,
 * SRTP-protected into buf (cap bytes). Its length, or 0 when it does not
 * fit. Used to forward and to resend on NACK. */
size_t tbRouterDownPacket(tbUpTrack *u, tbDownTrack *d, const uint8_t *pkt,
                          const tbRtpHeader *hh, uint8_t pt, uint8_t level, bool voice,
                          uint16_t seq, uint32_t ts, bool marker, uint8_t *buf, size_t cap);

/* router_data.c */
void tbRouterDataConnected(tbTransport *t);
void tbRouterDataInput(tbTransport *t, const uint8_t *data, size_t len);
void tbRouterDataSend(tbRouter *r, const tbMediaCmd *c);
void tbRouterDataFree(tbTransport *t);

/* router_rtcp.c */
void tbRouterRtcpIn(tbRouter *r, tbTransport *t, const uint8_t *pkt, size_t len, int64_t now);
void tbRouterRtcpTick(tbRouter *r, tbTransport *t, int64_t now);

#endif
