/* router.c — one worker's forwarding engine; see router.h.
 *
 * Vocabulary (after mediasoup): a *transport* is one participant peer
 * connection (ICE-lite + DTLS + SRTP on the shared UDP port); an *uptrack*
 * is an audio track a transport publishes; a *downtrack* forwards one uptrack
 * into one subscriber transport with its own SSRC, payload type, extension
 * ids and seq/ts munger.
 *
 * The life of an RTP packet: recvmmsg (worker) -> tbRouterPacket: demux by
 * first byte (RFC 7983): STUN -> ICE-lite; DTLS -> tbDtlsFeed; else SRTP ->
 * find the transport by 5-tuple -> unprotect once -> parse -> uptrack by SSRC
 * -> for each downtrack: munge seq/ts, rewrite header into the UDP batch
 * buffer, protect with the subscriber's key, commit -> sendmmsg (worker). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/router_internal.h"
#include "util/log.h"

/* ---- lookup ------------------------------------------------------------------ */

static tbTransport *transportById(tbRouter *r, uint32_t id) {
    for (tbTransport *t = r->transports; t; t = t->next)
        if (t->id == id) return t;
    return NULL;
}

static tbTransport *transportByUfrag(tbRouter *r, const char *ufrag) {
    for (tbTransport *t = r->transports; t; t = t->next)
        if (!t->dead && strcmp(t->ice.local_ufrag, ufrag) == 0) return t;
    return NULL;
}

/* Linear for now; a hash of 5-tuples is the performance issue's. */
static tbTransport *transportByTuple(tbRouter *r, const tbIceTuple *tu) {
    for (tbTransport *t = r->transports; t; t = t->next)
        if (!t->dead && tbIceLiteIsValidTuple(&t->ice, tu)) return t;
    return NULL;
}

static tbUpTrack *upById(tbRouter *r, uint32_t track_id) {
    for (tbUpTrack *u = r->ups; u; u = u->next)
        if (u->track_id == track_id) return u;
    return NULL;
}

static tbUpTrack *upBySsrc(tbRouter *r, const tbTransport *t, uint32_t ssrc) {
    for (tbUpTrack *u = r->ups; u; u = u->next)
        if (u->pub == t && u->ssrc == ssrc) return u;
    return NULL;
}

/* ---- sending -------------------------------------------------------------------- */

/* UDP datagrams join the worker's sendmmsg batch; ICE-TCP ones are framed
 * (RFC 4571) onto their connection. */
static void sendTuple(tbRouter *r, int fd, const tbIceTuple *to, const uint8_t *data,
                      size_t len) {
    if (to->proto == TB_ICE_TCP) {
        bool sent = r->tcp ? tbIceTcpSend(r->tcp, to, data, len)
                           : r->tcp_forward && r->tcp_forward(r->tcp_ud, to, data, len);
        if (!sent) return;
    } else {
        tbUdpQueueFd(r->udp, fd, data, len, (const struct sockaddr *)&to->addr, to->addrlen);
    }
    r->stats.packets_out++;
    r->stats.bytes_out += len;
}

void tbRouterSendTo(tbTransport *t, const uint8_t *data, size_t len) {
    const tbIceTuple *to = tbIceLiteSendTuple(&t->ice);
    if (to) sendTuple(t->router, t->fd, to, data, len);
}

void tbRouterSetTcp(tbRouter *r, tbIceTcp *tcp) { r->tcp = tcp; }

void tbRouterSetTcpForward(tbRouter *r,
                           bool (*fn)(void *ud, const tbIceTuple *to, const uint8_t *data,
                                      size_t len),
                           void *ud) {
    r->tcp_forward = fn;
    r->tcp_ud = ud;
}

/* ---- flows owned by other workers ------------------------------------------------ */

static tbForeignKey foreignKey(const tbIceTuple *t) {
    tbForeignKey k;
    memset(&k, 0, sizeof k);
    k.family = (uint8_t)t->addr.ss_family;
    k.proto = (uint8_t)t->proto;
    if (t->addr.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&t->addr;
        memcpy(k.addr, &a->sin_addr, 4);
        k.port = a->sin_port;
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&t->addr;
        memcpy(k.addr, &a->sin6_addr, 16);
        k.port = a->sin6_port;
    }
    return k;
}

static size_t foreignSlot(const tbForeignKey *k) {
    uint32_t h = 2166136261u; /* FNV-1a */
    const uint8_t *p = (const uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i++) h = (h ^ p[i]) * 16777619u;
    return h & (TB_FOREIGN_SLOTS - 1);
}

static void foreignRemember(tbRouter *r, const tbIceTuple *t, int owner) {
    tbForeignKey k = foreignKey(t);
    tbForeignEntry *e = &r->foreign[foreignSlot(&k)];
    e->key = k;
    e->owner = (int8_t)owner;
}

static int foreignOwner(const tbRouter *r, const tbIceTuple *t) {
    tbForeignKey k = foreignKey(t);
    const tbForeignEntry *e = &r->foreign[foreignSlot(&k)];
    return e->owner >= 0 && memcmp(&e->key, &k, sizeof k) == 0 ? e->owner : -1;
}

static int ufragOwner(const tbRouter *r, const char *ufrag) {
    const char *p = ufrag[0] ? strchr(TB_WORKER_TAGS, ufrag[0]) : NULL;
    int w = p ? (int)(p - TB_WORKER_TAGS) : -1;
    return w < r->num_workers ? w : -1;
}

static void dtlsSend(void *ud, const uint8_t *dgram, size_t len) { tbRouterSendTo(ud, dgram, len); }

static void postEvent(tbTransport *t, tbMediaEventType type, const char *reason) {
    tbMediaEvent ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.transport_id = t->id;
    ev.room_id = t->room_id;
    snprintf(ev.reason, sizeof ev.reason, "%s", reason ? reason : "");
    tbMediaPostEvent(t->router->media, &ev);
}

static void maybeConnected(tbTransport *t) {
    if (t->connected_reported || !t->srtp_ready || !tbIceLiteSelected(&t->ice)) return;
    t->connected_reported = true;
    postEvent(t, TB_MEDIA_TRANSPORT_CONNECTED, NULL);
}

static void dtlsData(void *ud, const uint8_t *data, size_t len) {
    tbRouterDataInput(ud, data, len);
}

static void dtlsState(void *ud, tbDtlsState st) {
    tbTransport *t = ud;
    if (st == TB_DTLS_CONNECTED) {
        tbSrtpKeys keys;
        if (tbDtlsSrtpKeys(t->dtls, &keys) == 0 && tbSrtpSessionInit(&t->srtp, &keys) == 0)
            t->srtp_ready = true;
        maybeConnected(t);
        tbRouterDataConnected(t);
    } else if (st == TB_DTLS_FAILED || st == TB_DTLS_CLOSED) {
        tbInfo("media", "transport %u: DTLS %s %s", t->id, tbDtlsStateName(st),
               tbDtlsFailReason(t->dtls));
        if (!t->dead) postEvent(t, TB_MEDIA_TRANSPORT_CLOSED, st == TB_DTLS_FAILED
                                                                  ? "dtls failed"
                                                                  : "dtls closed");
        t->dead = true;
    }
}

/* ---- transports ------------------------------------------------------------------- */

static void addTransport(tbRouter *r, const tbMediaTransportSpec *spec, int64_t now) {
    tbTransport *t = calloc(1, sizeof *t);
    if (!t) return;
    t->id = spec->transport_id;
    t->room_id = spec->room_id;
    t->router = r;
    t->fd = spec->fd;
    t->role = spec->dtls_role == TB_MEDIA_DTLS_SERVER ? TB_DTLS_SERVER : TB_DTLS_CLIENT;
    tbIceLiteInit(&t->ice, (uint64_t)now);
    /* the control plane chose our credentials (they are in its SDP answer) */
    snprintf(t->ice.local_ufrag, sizeof t->ice.local_ufrag, "%.16s", spec->local_ufrag);
    snprintf(t->ice.local_pwd, sizeof t->ice.local_pwd, "%.32s", spec->local_pwd);
    tbIceLiteSetRemote(&t->ice, spec->remote_ufrag, spec->remote_pwd);
    t->want_data = spec->data;
    t->sctp_port = spec->sctp_port;
    t->server_channels = spec->server_channels;
    tbDtlsConfig dc = {.role = t->role, .remote_fingerprint = spec->remote_fingerprint,
                       .send = dtlsSend, .on_data = dtlsData, .on_state = dtlsState, .ud = t};
    t->dtls = tbDtlsNew(r->dtls, &dc);
    if (!t->dtls) {
        if (t->fd >= 0) close(t->fd);
        free(t);
        return;
    }
    if (t->role == TB_DTLS_SERVER) tbDtlsStart(t->dtls, (uint64_t)now);
    t->rtcp_ssrc = 0x7b000000u | t->id; /* distinct from the SSRCs we announce */
    t->next_rtcp_ms = now + TB_RTCP_INTERVAL_MS;
    t->next = r->transports;
    r->transports = t;
}

/* New ICE credentials on both sides; the selected pair, DTLS and SRTP stay
 * (checks with the new credentials keep consent fresh on the same path). */
static void iceRestart(tbRouter *r, const tbMediaCmd *c) {
    for (tbTransport *t = r->transports; t; t = t->next) {
        if (t->id != c->transport_id) continue;
        snprintf(t->ice.local_ufrag, sizeof t->ice.local_ufrag, "%.16s",
                 c->u.transport.local_ufrag);
        snprintf(t->ice.local_pwd, sizeof t->ice.local_pwd, "%.32s", c->u.transport.local_pwd);
        tbIceLiteSetRemote(&t->ice, c->u.transport.remote_ufrag, c->u.transport.remote_pwd);
        return;
    }
}

static void freeDowns(tbUpTrack *u, const tbTransport *only) {
    for (tbDownTrack **pp = &u->downs; *pp;) {
        tbDownTrack *d = *pp;
        if (only && d->sub != only) {
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        free(d);
    }
}

/* A room's speaker state goes with its last uptrack. */
static void dropRoomIfIdle(tbRouter *r, uint32_t room_id) {
    for (tbUpTrack *u = r->ups; u; u = u->next)
        if (u->room_id == room_id) return;
    for (tbRouterRoom **pp = &r->rooms; *pp; pp = &(*pp)->next) {
        if ((*pp)->room_id != room_id) continue;
        tbRouterRoom *rr = *pp;
        *pp = rr->next;
        free(rr);
        return;
    }
}

static void removeUp(tbRouter *r, uint32_t track_id) {
    for (tbUpTrack **pp = &r->ups; *pp; pp = &(*pp)->next) {
        if ((*pp)->track_id != track_id) continue;
        tbUpTrack *u = *pp;
        uint32_t room_id = u->room_id;
        *pp = u->next;
        freeDowns(u, NULL);
        free(u);
        dropRoomIfIdle(r, room_id);
        return;
    }
}

static void freeTransport(tbRouter *r, tbTransport *t) {
    for (tbUpTrack **pp = &r->ups; *pp;) {
        tbUpTrack *u = *pp;
        freeDowns(u, t);
        if (u->pub == t) {
            uint32_t room_id = u->room_id;
            *pp = u->next;
            freeDowns(u, NULL);
            free(u);
            dropRoomIfIdle(r, room_id);
        } else {
            pp = &u->next;
        }
    }
    tbRouterDataFree(t);
    tbDtlsFree(t->dtls);
    if (t->srtp_ready) tbSrtpSessionClear(&t->srtp);
    if (t->fd >= 0) close(t->fd); /* the worker stopped polling it first */
    free(t);
}

static void removeTransport(tbRouter *r, uint32_t id) {
    for (tbTransport **pp = &r->transports; *pp; pp = &(*pp)->next) {
        if ((*pp)->id != id) continue;
        tbTransport *t = *pp;
        *pp = t->next;
        freeTransport(r, t);
        return;
    }
}

/* ---- tracks ------------------------------------------------------------------------ */

static tbRouterRoom *roomFor(tbRouter *r, uint32_t room_id) {
    for (tbRouterRoom *rr = r->rooms; rr; rr = rr->next)
        if (rr->room_id == room_id) return rr;
    tbRouterRoom *rr = calloc(1, sizeof *rr);
    if (!rr) return NULL;
    rr->room_id = room_id;
    tbSpeakerRoomInit(&rr->speakers, &r->speaker_cfg);
    rr->next = r->rooms;
    r->rooms = rr;
    return rr;
}

static void publish(tbRouter *r, const tbMediaCmd *c) {
    const tbMediaPublishSpec *s = &c->u.publish;
    tbTransport *t = transportById(r, s->transport_id);
    if (!t || upById(r, s->track_id)) return;
    tbUpTrack *u = calloc(1, sizeof *u);
    if (!u) return;
    u->track_id = s->track_id;
    u->room_id = c->room_id;
    u->pub = t;
    u->ssrc = s->ssrc;
    snprintf(u->mid, sizeof u->mid, "%s", s->mid);
    u->pt = s->payload_type;
    u->red_pt = s->red_pt;
    u->audio_level_ext = s->audio_level_ext;
    u->mid_ext = s->mid_ext;
    tbSpeakerLevelInit(&u->level, &r->speaker_cfg, 48000);
    tbNackBufferInit(&u->history, 0, 0); /* (peeked: no throttling of its own) */
    roomFor(r, c->room_id);
    u->next = r->ups;
    r->ups = u;
}

static void subscribe(tbRouter *r, const tbMediaCmd *c, int64_t now) {
    const tbMediaSubscribeSpec *s = &c->u.subscribe;
    tbUpTrack *u = upById(r, s->track_id);
    tbTransport *sub = transportById(r, s->transport_id);
    if (!u || !sub) return;
    for (tbDownTrack *d = u->downs; d; d = d->next)
        if (d->sub == sub) return;
    tbDownTrack *d = calloc(1, sizeof *d);
    if (!d) return;
    d->sub = sub;
    d->ssrc = s->ssrc;
    snprintf(d->mid, sizeof d->mid, "%s", s->mid);
    d->mid_len = (uint8_t)strlen(d->mid);
    d->pt = s->payload_type;
    d->red_pt = s->red_pt;
    d->audio_level_ext = s->audio_level_ext;
    d->mid_ext = s->mid_ext;
    /* random-looking but deterministic starting points per downtrack */
    tbRtpMungerInit(&d->munger, 48000, (uint16_t)(d->ssrc ^ (uint32_t)now),
                    d->ssrc * 2654435761u);
    tbRtpMungerSetMuted(&d->munger, u->muted);
    tbNackMapInit(&d->sent, 100, 3);
    d->next = u->downs;
    u->downs = d;
}

static void unsubscribe(tbRouter *r, uint32_t transport_id, uint32_t track_id) {
    tbUpTrack *u = upById(r, track_id);
    tbTransport *sub = transportById(r, transport_id);
    if (u && sub) freeDowns(u, sub);
}

static void setMuted(tbRouter *r, uint32_t track_id, bool muted) {
    tbUpTrack *u = upById(r, track_id);
    if (!u) return;
    u->muted = muted;
    for (tbDownTrack *d = u->downs; d; d = d->next) tbRtpMungerSetMuted(&d->munger, muted);
}

void tbRouterCommand(tbRouter *r, const tbMediaCmd *c, int64_t now_ms) {
    switch (c->type) {
    case TB_CMD_ADD_TRANSPORT: addTransport(r, &c->u.transport, now_ms); break;
    case TB_CMD_REMOVE_TRANSPORT: removeTransport(r, c->transport_id); break;
    case TB_CMD_PUBLISH: publish(r, c); break;
    case TB_CMD_UNPUBLISH: removeUp(r, c->track_id); break;
    case TB_CMD_SUBSCRIBE: subscribe(r, c, now_ms); break;
    case TB_CMD_UNSUBSCRIBE: unsubscribe(r, c->transport_id, c->track_id); break;
    case TB_CMD_SET_MUTED: setMuted(r, c->track_id, c->muted); break;
    case TB_CMD_SEND_DATA: tbRouterDataSend(r, c); break;
    case TB_CMD_ICE_RESTART: iceRestart(r, c); break;
    }
}

/* ---- inbound packets ---------------------------------------------------------------- */

static int onStun(tbRouter *r, const tbIceTuple *from, const uint8_t *data, size_t len,
                  int64_t now, bool may_handoff) {
    char ufrag[TB_STUN_USERNAME_MAX];
    tbTransport *t = NULL;
    int owner = -1;
    if (tbStunPeekLocalUfrag(data, len, ufrag, sizeof ufrag) >= 0) {
        t = transportByUfrag(r, ufrag);
        if (!t) owner = ufragOwner(r, ufrag);
    } else {
        t = transportByTuple(r, from); /* indications carry no USERNAME */
        if (!t) owner = foreignOwner(r, from);
    }
    if (!t && may_handoff && owner >= 0 && owner != r->index) {
        foreignRemember(r, from, owner);
        return owner;
    }
    if (!t) {
        r->stats.dropped_unknown_source++;
        return -1;
    }
    uint8_t out[TB_STUN_RESPONSE_MAX];
    tbIceInput res;
    tbStunStatus st = tbIceLiteHandleStun(&t->ice, r->stun, data, len, from, (uint64_t)now,
                                          out, sizeof out, &res);
    if (st == TB_STUN_UNAUTHORIZED || st == TB_STUN_UNKNOWN_USER) r->stats.stun_bad_auth++;
    if (st == TB_STUN_BAD_REQUEST) r->stats.dropped_malformed++;
    if (res.out_len) sendTuple(r, t->fd, from, out, res.out_len);
    /* we are the DTLS client: start once there is somewhere to send */
    if (st == TB_STUN_OK && t->role == TB_DTLS_CLIENT && tbDtlsGetState(t->dtls) == TB_DTLS_NEW)
        tbDtlsStart(t->dtls, (uint64_t)now);
    if (res.events & TB_ICE_EV_SELECTED) maybeConnected(t);
    return -1;
}

bool tbRouterDownFormat(const tbUpTrack *u, const tbDownTrack *d, const uint8_t *pkt,
                        tbRtpHeader *hh, uint8_t *pt) {
    *pt = d->pt;
    if (!u->red_pt || hh->pt != u->red_pt) return true;
    if (d->red_pt) {
        *pt = d->red_pt;
        return true;
    }
    return tbRtpRedPrimary(pkt, hh) == TB_RTP_OK;
}

size_t tbRouterDownPacket(tbUpTrack *u, tbDownTrack *d, const uint8_t *pkt,
                          const tbRtpHeader *hh, uint8_t pt, uint8_t level, bool voice,
                          uint16_t seq, uint32_t ts, bool marker, uint8_t *buf, size_t cap) {
    if (cap < TB_SRTP_MAX_OVERHEAD) return 0;
    tbRtpRewrite rw = {.ssrc = d->ssrc, .pt = pt, .seq = seq, .ts = ts, .set_marker = marker,
                       .audio_level_id = u->audio_level_ext ? d->audio_level_ext : 0,
                       .audio_level = level, .voice = voice, .mid_id = d->mid_ext,
                       .mid_len = d->mid_len, .mid = d->mid};
    int n = tbRtpWrite(pkt, hh, &rw, buf, cap - TB_SRTP_MAX_OVERHEAD);
    if (n <= 0) return 0;
    size_t len = (size_t)n;
    if (pt == d->red_pt && d->red_pt && u->pt != d->pt) /* RED blocks name Opus by pt */
        tbRtpRedRenumber(buf + len - hh->payload_len, hh->payload_len, u->pt, d->pt);
    return tbSrtpProtect(&d->sub->srtp, buf, &len, cap) == TB_SRTP_OK ? len : 0;
}

/* Writes one forwarded packet for downtrack d into the UDP batch. */
static void forwardOne(tbRouter *r, tbUpTrack *u, tbDownTrack *d, const uint8_t *pkt,
                       const tbRtpHeader *h, uint8_t level, bool voice, uint64_t now_us) {
    tbTransport *sub = d->sub;
    const tbIceTuple *to = tbIceLiteSendTuple(&sub->ice);
    if (!sub->srtp_ready || sub->dead || !to) return;
    tbRtpHeader hh = *h;
    uint8_t pt;
    if (!tbRouterDownFormat(u, d, pkt, &hh, &pt)) return; /* before the munger counts it */
    tbRtpMunged m;
    if (tbRtpMungerProcess(&d->munger, h->ssrc, h->seq, h->ts, now_us, &m) != TB_MUNGE_FORWARD)
        return;
    /* UDP: written straight into the send batch; TCP: framed from the stack */
    uint8_t stackbuf[TB_UDP_MTU];
    bool udp = to->proto == TB_ICE_UDP;
    uint8_t *buf = udp ? tbUdpTxBuffer(r->udp) : stackbuf;
    size_t len = tbRouterDownPacket(u, d, pkt, &hh, pt, level, voice, m.seq, m.ts, m.marker,
                                    buf, TB_UDP_MTU);
    if (len == 0) return;
    tbNackMapPut(&d->sent, m.seq, h->seq, m.ts, m.marker, now_us / 1000);
    d->packets++;
    d->octets += h->payload_len;
    if (!udp) {
        sendTuple(r, sub->fd, to, buf, len);
        return;
    }
    tbUdpTxCommitFd(r->udp, sub->fd, len, (const struct sockaddr *)&to->addr, to->addrlen);
    r->stats.packets_out++;
    r->stats.bytes_out += len;
}

/* Finds the uptrack of an RTP packet: by SSRC, else by the mid extension
 * (then the SSRC is learnt). */
static tbUpTrack *upForPacket(tbRouter *r, tbTransport *t, const uint8_t *pkt,
                              const tbRtpHeader *h) {
    tbUpTrack *u = upBySsrc(r, t, h->ssrc);
    if (u) return u;
    for (u = r->ups; u; u = u->next) {
        const uint8_t *mid;
        uint8_t len;
        if (u->pub != t || !u->mid_ext) continue;
        if (tbRtpFindExt(pkt, h, u->mid_ext, &mid, &len) && len == strlen(u->mid) &&
            memcmp(mid, u->mid, len) == 0) {
            u->ssrc = h->ssrc;
            return u;
        }
    }
    return NULL;
}

static void onRtp(tbRouter *r, tbTransport *t, uint8_t *pkt, size_t len, int64_t now) {
    tbSrtpStatus st = tbSrtpUnprotect(&t->srtp, pkt, &len);
    if (st == TB_SRTP_ERR_AUTH) r->stats.srtp_auth_failed++;
    if (st != TB_SRTP_OK) return;
    tbRtpHeader h;
    if (tbRtpParse(pkt, len, &h) != TB_RTP_OK) {
        r->stats.dropped_malformed++;
        return;
    }
    tbUpTrack *u = upForPacket(r, t, pkt, &h);
    if (!u) return;
    if (!u->stats_started) {
        tbRtpRecvStatsInit(&u->stats, h.ssrc, 48000);
        u->stats_started = true;
    }
    tbRtpRecvStatsUpdate(&u->stats, h.seq, h.ts, (uint64_t)now * 1000);
    uint8_t level = TB_RTP_AUDIO_LEVEL_SILENT;
    bool voice = false;
    if (u->audio_level_ext) tbRtpGetAudioLevel(pkt, &h, u->audio_level_ext, &level, &voice);
    if (!u->muted && u->audio_level_ext)
        tbSpeakerLevelObserve(&u->level, level, h.ts, (uint64_t)now);
    uint64_t now_us = (uint64_t)now * 1000;
    if (u->downs) tbNackBufferPut(&u->history, h.seq, pkt, len, (uint64_t)now);
    for (tbDownTrack *d = u->downs; d; d = d->next)
        forwardOne(r, u, d, pkt, &h, level, voice, now_us);
}

static void onSrtcp(tbRouter *r, tbTransport *t, uint8_t *pkt, size_t len, int64_t now) {
    tbSrtpStatus st = tbSrtpUnprotectRtcp(&t->srtp, pkt, &len);
    if (st == TB_SRTP_ERR_AUTH) r->stats.srtp_auth_failed++;
    if (st == TB_SRTP_OK) tbRouterRtcpIn(r, t, pkt, len, now);
}

int tbRouterInput(tbRouter *r, const tbIceTuple *from, uint8_t *data, size_t len,
                  int64_t now_ms, bool may_handoff) {
    if (len == 0) {
        r->stats.packets_in++;
        r->stats.dropped_malformed++;
        return -1;
    }
    if (tbStunIsStun(data, len)) {
        int owner = onStun(r, from, data, len, now_ms, may_handoff);
        if (owner < 0) {
            r->stats.packets_in++;
            r->stats.bytes_in += len;
        }
        return owner;
    }
    tbTransport *t = transportByTuple(r, from);
    if (!t) {
        int owner = may_handoff ? foreignOwner(r, from) : -1;
        if (owner >= 0 && owner != r->index) return owner; /* counted by its owner */
        r->stats.packets_in++;
        r->stats.dropped_unknown_source++;
        return -1;
    }
    r->stats.packets_in++;
    r->stats.bytes_in += len;
    if (tbDtlsIsDtls(data, len)) {
        if (tbDtlsFeed(t->dtls, data, len) == TB_DTLS_ERR_MALFORMED) r->stats.dropped_malformed++;
    } else if (data[0] >= 128 && data[0] <= 191 && t->srtp_ready) {
        if (tbRtpIsRtcp(data, len))
            onSrtcp(r, t, data, len, now_ms);
        else
            onRtp(r, t, data, len, now_ms);
    } else {
        r->stats.dropped_malformed++;
    }
    return -1;
}

int tbRouterPacket(tbRouter *r, tbUdpPacket *p, int64_t now_ms) {
    tbIceTuple from;
    if (tbIceTupleSet(&from, (const struct sockaddr *)&p->addr, p->addrlen, TB_ICE_UDP) != 0) {
        r->stats.packets_in++;
        r->stats.dropped_malformed++;
        return -1;
    }
    return tbRouterInput(r, &from, p->data, p->len, now_ms, true);
}

/* ---- timers -------------------------------------------------------------------------- */

static void tickTransport(tbTransport *t, int64_t now) {
    unsigned ev = 0;
    if (tbIceLiteTick(&t->ice, (uint64_t)now, &ev) && !t->dead) {
        postEvent(t, TB_MEDIA_TRANSPORT_CLOSED, "ice consent expired");
        t->dead = true;
    }
    if (ev & TB_ICE_EV_SELECTED) maybeConnected(t);
    int64_t due = tbDtlsTimeoutMs(t->dtls, (uint64_t)now);
    if (due == 0) tbDtlsOnTimeout(t->dtls, (uint64_t)now);
    if (t->srtp_ready && !t->dead && now >= t->next_rtcp_ms) {
        t->next_rtcp_ms = now + TB_RTCP_INTERVAL_MS;
        tbRouterRtcpTick(t->router, t, now);
    }
}

/* Ranks each room's speakers (at most every 400 ms) and reports changes. */
static void reportRoomLevels(tbRouter *r, tbRouterRoom *rr, int64_t now) {
    tbSpeakerInput in[TB_SPEAKER_MAX];
    size_t n = 0, nranked = 0, nchanged = 0;
    for (tbUpTrack *u = r->ups; u && n < TB_SPEAKER_MAX; u = u->next)
        if (u->room_id == rr->room_id) in[n++] = (tbSpeakerInput){u->track_id, &u->level};
    tbSpeakerInfo ranked[TB_SPEAKER_MAX], changed[TB_SPEAKER_MAX_CHANGES];
    if (!tbSpeakerRoomUpdate(&rr->speakers, in, n, (uint64_t)now, ranked, &nranked, changed,
                             &nchanged) ||
        nchanged == 0)
        return;
    tbMediaEvent ev;
    memset(&ev, 0, sizeof ev);
    ev.type = TB_MEDIA_LEVELS;
    ev.room_id = rr->room_id;
    for (size_t i = 0; i < nchanged && ev.num_levels < TB_MEDIA_MAX_LEVELS; i++)
        ev.levels[ev.num_levels++] =
            (tbMediaLevel){changed[i].id, changed[i].level, changed[i].active};
    tbMediaPostEvent(r->media, &ev);
}

static void reportLevels(tbRouter *r, int64_t now) {
    for (tbRouterRoom *rr = r->rooms; rr; rr = rr->next) reportRoomLevels(r, rr, now);
}

void tbRouterTick(tbRouter *r, int64_t now_ms) {
    for (tbTransport **pp = &r->transports; *pp;) {
        tbTransport *t = *pp;
        tickTransport(t, now_ms); /* dead ones stay until the control plane removes them */
        pp = &t->next;
    }
    reportLevels(r, now_ms);
}

void tbRouterStats(const tbRouter *r, tbMediaStats *out) {
    *out = r->stats;
    out->transports = 0;
    for (const tbTransport *t = r->transports; t; t = t->next) out->transports++;
}

tbRouter *tbRouterNew(tbMedia *media, tbUdp *udp, struct tbDtlsCert *cert, int index,
                      int num_workers) {
    tbRouter *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->media = media;
    r->udp = udp;
    r->index = index;
    r->num_workers = num_workers;
    for (size_t i = 0; i < TB_FOREIGN_SLOTS; i++) r->foreign[i].owner = -1;
    r->stun = tbStunCtxNew();
    r->dtls = tbDtlsCtxNew(cert);
    if (!r->stun || !r->dtls) {
        tbRouterFree(r);
        return NULL;
    }
    tbSpeakerConfigDefault(&r->speaker_cfg);
    return r;
}

void tbRouterFree(tbRouter *r) {
    if (!r) return;
    while (r->transports) {
        tbTransport *t = r->transports;
        r->transports = t->next;
        freeTransport(r, t);
    }
    while (r->ups) {
        tbUpTrack *u = r->ups;
        r->ups = u->next;
        freeDowns(u, NULL);
        free(u);
    }
    while (r->rooms) {
        tbRouterRoom *rr = r->rooms;
        r->rooms = rr->next;
        free(rr);
    }
    if (r->stun) tbStunCtxFree(r->stun);
    if (r->dtls) tbDtlsCtxFree(r->dtls);
    free(r);
}
