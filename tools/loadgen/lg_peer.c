/* lg_peer.c — one simulated participant; see lg_peer.h. STUN messages are
 * built with libnice's STUN library, DTLS and SRTP are tribune's own
 * (src/dtls), RTP parsing too (src/rtp). */
#include "lg_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <stun/stunagent.h>
#include <stun/stunmessage.h>

#include "dtls/srtp.h"
#include "lg_sdp.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#define STUN_RETRY_NS (50 * 1000000ull)      /* checks until one is answered */
#define CONSENT_NS (2000 * 1000000ull)       /* then one every 2 s */
#define PTIME_NS (20 * 1000000ull)
#define SAMPLES_PER_PACKET 960

struct lgPeer {
    lgRun *run;
    lgSignalCtx *sigctx;
    lgSignal *sig;
    size_t index;
    unsigned room;
    int pub;                    /* global publisher index, -1 = subscriber only */
    char identity[48];
    char cid[48];
    lgPeerState state;
    char error[200];
    int fd;
    uv_poll_t poll;
    bool poll_open;
    struct sockaddr_storage remote;
    socklen_t remote_len;
    char ufrag[16], pwd[32];
    lgAnswer answer;
    StunAgent stun;
    uint64_t tiebreaker;
    uint64_t next_stun_ns;
    tbDtls *dtls;
    tbSrtpSession srtp;
    bool srtp_ready;
    uint32_t ssrc;
    uint16_t rtp_seq;
    uint32_t rtp_ts;
    uint64_t media_start_ns;    /* first packet due then */
    uint64_t packets_sent;
    uint64_t t_open_ns;
    unsigned recv_sections;     /* recvonly sections in our offers */
    uint64_t offer_version;
    bool offer_pending;         /* sent, not answered yet */
    bool reoffer;               /* tribune asked for another offer meanwhile */
    struct lgDrops *drops;      /* --nack-drop: per SSRC received, what was dropped */
    size_t num_drops;
    lgStream *streams;          /* one per publisher of the room but itself */
    uint32_t *stream_pub;       /* their global publisher indexes */
    size_t num_streams;
};

static void fail(lgPeer *p, const char *fmt, const char *what) {
    if (p->state == LG_PEER_FAILED) return;
    snprintf(p->error, sizeof p->error, fmt, what);
    fprintf(stderr, "tribune-load: %s: %s\n", p->identity, p->error);
    p->state = LG_PEER_FAILED;
    p->run->failed++;
}

static void randomToken(char *out, size_t n) {
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t r[64];
    RAND_bytes(r, (int)n);
    for (size_t i = 0; i + 1 < n; i++) out[i] = abc[r[i] % (sizeof abc - 1)];
    out[n - 1] = '\0';
}

lgPeer *lgPeerNew(lgRun *run, lgSignalCtx *sig, size_t index) {
    lgPeer *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    const lgOptions *o = &run->opt;
    unsigned per_room = o->publishers + o->subscribers;
    p->run = run;
    p->sigctx = sig;
    p->index = index;
    p->room = (unsigned)(index / per_room);
    unsigned slot = (unsigned)(index % per_room);
    p->pub = slot < o->publishers ? (int)(p->room * o->publishers + slot) : -1;
    p->fd = -1;
    unsigned global = o->room_base * per_room + (unsigned)index; /* unique across threads */
    snprintf(p->identity, sizeof p->identity, "%s-%u", p->pub >= 0 ? "pub" : "sub", global);
    snprintf(p->cid, sizeof p->cid, "lg-track-%u", global);
    randomToken(p->ufrag, 9);
    randomToken(p->pwd, 25);
    RAND_bytes((uint8_t *)&p->ssrc, sizeof p->ssrc);
    RAND_bytes((uint8_t *)&p->tiebreaker, sizeof p->tiebreaker);
    stun_agent_init(&p->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    p->num_streams = o->publishers - (p->pub >= 0 ? 1 : 0);
    p->recv_sections = (unsigned)p->num_streams; /* enough for the whole room at once */
    p->streams = calloc(p->num_streams ? p->num_streams : 1, sizeof *p->streams);
    p->stream_pub = calloc(p->num_streams ? p->num_streams : 1, sizeof *p->stream_pub);
    if (!p->streams || !p->stream_pub) goto err;
    size_t k = 0, bytes = run->max_seq / 8 + 1;
    for (unsigned s = 0; s < o->publishers; s++) {
        uint32_t g = p->room * o->publishers + s;
        if ((int)g == p->pub) continue;
        p->stream_pub[k] = g;
        if (!(p->streams[k].seen = calloc(1, bytes))) goto err;
        k++;
    }
    return p;
err:
    lgPeerFree(p);
    return NULL;
}

static void onPollClosed(uv_handle_t *h) {
    lgPeer *p = h->data;
    close(p->fd);
    free(p->drops);
    for (size_t i = 0; i < p->num_streams; i++) free(p->streams[i].seen);
    free(p->streams);
    free(p->stream_pub);
    free(p);
}

void lgPeerFree(lgPeer *p) {
    if (!p) return;
    if (p->sig) lgSignalClose(p->sig);
    p->sig = NULL;
    tbDtlsFree(p->dtls);
    if (p->srtp_ready) tbSrtpSessionClear(&p->srtp);
    if (p->poll_open) {
        uv_poll_stop(&p->poll);
        uv_close((uv_handle_t *)&p->poll, onPollClosed); /* frees p */
        return;
    }
    if (p->fd >= 0) close(p->fd);
    free(p->drops);
    for (size_t i = 0; p->streams && i < p->num_streams; i++) free(p->streams[i].seen);
    free(p->streams);
    free(p->stream_pub);
    free(p);
}

lgPeerState lgPeerGetState(const lgPeer *p) { return p->state; }

bool lgPeerReady(const lgPeer *p) {
    if (p->state == LG_PEER_FAILED) return true; /* settled, if not well */
    if (p->state != LG_PEER_MEDIA) return false;
    for (size_t i = 0; i < p->num_streams; i++)
        if (!p->streams[i].heard) return false;
    return true;
}
const char *lgPeerError(const lgPeer *p) { return p->error; }
size_t lgPeerNumStreams(const lgPeer *p) { return p->num_streams; }

const lgStream *lgPeerStreamAt(const lgPeer *p, size_t i, uint32_t *pub) {
    if (i >= p->num_streams) return NULL;
    *pub = p->stream_pub[i];
    return &p->streams[i];
}

static lgStream *streamOf(lgPeer *p, uint32_t pub) {
    for (size_t i = 0; i < p->num_streams; i++)
        if (p->stream_pub[i] == pub) return &p->streams[i];
    return NULL;
}

const lgStream *lgPeerStream(const lgPeer *p, uint32_t pub) {
    return streamOf((lgPeer *)p, pub);
}

/* ---- receiving ------------------------------------------------------------- */

static void sendRaw(lgPeer *p, const void *buf, size_t len);

static void countRtp(lgPeer *p, uint8_t *buf, size_t len, uint64_t now) {
    lgRun *run = p->run;
    tbRtpHeader h;
    uint32_t pub, seq;
    if (tbSrtpUnprotect(&p->srtp, buf, &len) != TB_SRTP_OK) {
        run->rx_srtp_errors++;
        return;
    }
    run->rx_rtp++;
    if (tbRtpParse(buf, len, &h) != TB_RTP_OK ||
        !lgOpusMark(buf + h.payload_off, h.payload_len, &pub, &seq)) {
        run->rx_unmarked++;
        return;
    }
    lgStream *st = streamOf(p, pub);
    if (!st) {
        run->rx_other_room++; /* never from another room: isolation */
        return;
    }
    st->heard = true;
    const lgPublisher *from = &run->pubs[pub];
    if (!run->measuring || seq < from->window_start || seq >= run->max_seq ||
        (from->window_end && seq >= from->window_end))
        return;
    uint32_t bit = seq - from->window_start;
    if (st->seen[bit / 8] & (1u << (bit % 8))) {
        st->duplicates++;
        return;
    }
    st->seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
    st->received++;
    if (st->any && seq < st->last_seq) st->reordered++;
    if (!st->any || seq > st->last_seq) st->last_seq = seq;
    int64_t transit = (int64_t)(now - from->sent_ns[seq]);
    if (st->any) {
        int64_t d = transit - st->last_transit_ns;
        st->jitter_us += ((double)(d < 0 ? -d : d) / 1000.0 - st->jitter_us) / 16.0;
    }
    st->any = true;
    st->last_transit_ns = transit;
    uint64_t us = (uint64_t)transit / 1000;
    run->hist[us < LG_HIST_US ? us : LG_HIST_US]++;
    run->hist_n++;
    if ((uint64_t)transit > run->latency_max_ns) run->latency_max_ns = (uint64_t)transit;
}

/* ---- --nack-drop: loss made here, repaired by the SFU's NACK handling ------ */

typedef struct lgDrops {
    uint32_t ssrc;              /* a stream tribune sends us */
    uint8_t dropped[8192];      /* bit per sequence number: dropped once already */
} lgDrops;

static uint8_t *droppedBits(lgPeer *p, uint32_t ssrc) {
    for (size_t i = 0; i < p->num_drops; i++)
        if (p->drops[i].ssrc == ssrc) return p->drops[i].dropped;
    if (p->num_drops > p->num_streams) return NULL; /* (unknown SSRCs: not dropped) */
    lgDrops *d = realloc(p->drops, (p->num_drops + 1) * sizeof *d);
    if (!d) return NULL;
    p->drops = d;
    memset(&d[p->num_drops], 0, sizeof *d);
    d[p->num_drops].ssrc = ssrc;
    return d[p->num_drops++].dropped;
}

/* The first arrival of about pct % of the packets is dropped, before
 * decryption (so the retransmission is not an SRTP replay), and a generic
 * NACK (RFC 4585) goes back over SRTCP at once. */
static bool dropForNack(lgPeer *p, const uint8_t *buf, size_t len) {
    unsigned pct = p->run->opt.nack_drop;
    if (pct == 0 || len < 12) return false;
    uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
    uint32_t ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
    if ((uint32_t)(seq * 2654435761u ^ ssrc) % 100 >= pct) return false;
    uint8_t *bits = droppedBits(p, ssrc);
    if (!bits || (bits[seq / 8] & (1u << (seq % 8)))) return false; /* the resend */
    bits[seq / 8] |= (uint8_t)(1u << (seq % 8));
    uint8_t nack[64 + TB_SRTP_MAX_OVERHEAD];
    int n = tbRtcpWriteNack(nack, 64, p->ssrc, ssrc, &seq, 1);
    size_t nlen = n > 0 ? (size_t)n : 0;
    if (nlen && tbSrtpProtectRtcp(&p->srtp, nack, &nlen, sizeof nack) == TB_SRTP_OK)
        sendRaw(p, nack, nlen);
    p->run->nacks_sent++;
    return true;
}

static void onDatagram(lgPeer *p, uint8_t *buf, size_t len, uint64_t now) {
    if (len < 2) return;
    if (buf[0] <= 3) { /* STUN: an answer to our check */
        if (buf[0] == 0x01 && buf[1] == 0x01 && p->state == LG_PEER_ICE) {
            p->state = LG_PEER_DTLS;
            p->next_stun_ns = now + CONSENT_NS;
        }
    } else if (buf[0] >= 20 && buf[0] <= 63) {
        if (p->dtls) tbDtlsFeed(p->dtls, buf, len);
    } else if (buf[0] >= 128 && buf[0] <= 191 && p->srtp_ready) {
        uint8_t pt = buf[1] & 0x7f;
        if (pt >= 64 && pt <= 95) return; /* RTCP (RFC 5761): not counted */
        if (dropForNack(p, buf, len)) return;
        countRtp(p, buf, len, now);
    }
}

static void onReadable(uv_poll_t *h, int status, int events) {
    lgPeer *p = h->data;
    uint8_t buf[2048];
    if (status < 0 || !(events & UV_READABLE)) return;
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(p->fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        onDatagram(p, buf, (size_t)n, lgNowNs());
    }
}

/* ---- sending ----------------------------------------------------------------- */

static void sendRaw(lgPeer *p, const void *buf, size_t len) {
    if (sendto(p->fd, buf, len, 0, (struct sockaddr *)&p->remote, p->remote_len) < 0 &&
        errno != EAGAIN)
        fail(p, "sendto: %s", strerror(errno));
}

static void dtlsSend(void *ud, const uint8_t *dgram, size_t len) { sendRaw(ud, dgram, len); }

static void sendCheck(lgPeer *p) {
    uint8_t buf[512];
    StunMessage msg;
    char user[256];
    if (!stun_agent_init_request(&p->stun, &msg, buf, sizeof buf, STUN_BINDING)) return;
    snprintf(user, sizeof user, "%s:%s", p->answer.ufrag, p->ufrag);
    stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, user);
    stun_message_append32(&msg, STUN_ATTRIBUTE_PRIORITY, 0x6e7f1eff);
    stun_message_append64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLING, p->tiebreaker);
    stun_message_append_flag(&msg, STUN_ATTRIBUTE_USE_CANDIDATE);
    size_t n = stun_agent_finish_message(&p->stun, &msg, (const uint8_t *)p->answer.pwd,
                                         strlen(p->answer.pwd));
    StunTransactionId id;
    stun_message_id(&msg, id);
    stun_agent_forget_transaction(&p->stun, id); /* responses are not validated */
    if (n) sendRaw(p, buf, n);
}

static void sendPacket(lgPeer *p, uint64_t now) {
    lgRun *run = p->run;
    lgPublisher *me = &run->pubs[p->pub];
    if (me->next_seq >= run->max_seq) return; /* past the run's capacity */
    uint8_t buf[1500];
    uint32_t seq = me->next_seq++;
    size_t plen = lgOpusMarked(&run->tone, seq, (uint32_t)p->pub, seq, buf + 12,
                               sizeof buf - 12 - TB_SRTP_MAX_OVERHEAD);
    buf[0] = 0x80;
    buf[1] = p->answer.opus_pt;
    buf[2] = (uint8_t)(p->rtp_seq >> 8), buf[3] = (uint8_t)p->rtp_seq;
    for (int i = 0; i < 4; i++) buf[4 + i] = (uint8_t)(p->rtp_ts >> (24 - 8 * i));
    for (int i = 0; i < 4; i++) buf[8 + i] = (uint8_t)(p->ssrc >> (24 - 8 * i));
    p->rtp_seq++;
    p->rtp_ts += SAMPLES_PER_PACKET;
    size_t len = 12 + plen;
    me->sent_ns[seq] = now;
    if (tbSrtpProtect(&p->srtp, buf, &len, sizeof buf) != TB_SRTP_OK) return;
    sendRaw(p, buf, len);
    run->sent++;
    p->packets_sent++;
}

/* ---- DTLS ------------------------------------------------------------------- */

static void onDtlsState(void *ud, tbDtlsState st) {
    lgPeer *p = ud;
    if (st == TB_DTLS_FAILED) {
        fail(p, "DTLS: %s", tbDtlsFailReason(p->dtls));
        return;
    }
    if (st != TB_DTLS_CONNECTED) return;
    tbSrtpKeys keys;
    if (tbDtlsSrtpKeys(p->dtls, &keys) != TB_DTLS_OK || tbSrtpSessionInit(&p->srtp, &keys) != 0) {
        fail(p, "%s", "SRTP keys");
        return;
    }
    p->srtp_ready = true;
    p->state = LG_PEER_MEDIA;
    p->media_start_ns = lgNowNs();
    p->run->joined++;
    p->run->join_ms[p->run->num_join++] = (double)(p->media_start_ns - p->t_open_ns) / 1e6;
}

/* ---- the answer: media starts -------------------------------------------------- */

static int openSocket(lgPeer *p) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", p->answer.port);
    if (getaddrinfo(p->answer.ip, port, &hints, &ai) != 0) return -1;
    memcpy(&p->remote, ai->ai_addr, ai->ai_addrlen);
    p->remote_len = ai->ai_addrlen;
    p->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    freeaddrinfo(ai);
    if (p->fd < 0) return -1;
    int rcv = 1 << 20;
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    if (uv_poll_init(p->run->loop, &p->poll, p->fd) != 0) return -1;
    p->poll.data = p;
    p->poll_open = true;
    return uv_poll_start(&p->poll, UV_READABLE, onReadable);
}

static void sendOffer(lgPeer *p);

static void onAnswer(lgPeer *p, const char *sdp) {
    char err[200];
    p->offer_pending = false;
    if (p->reoffer) sendOffer(p);
    if (p->state != LG_PEER_SIGNALING) return; /* a renegotiation: same transport */
    if (lgSdpReadAnswer(sdp, &p->answer, err, sizeof err) != 0) {
        fail(p, "%s", err);
        return;
    }
    if (openSocket(p) != 0) {
        fail(p, "UDP socket: %s", strerror(errno));
        return;
    }
    tbDtlsConfig dc = {.role = p->answer.dtls_client ? TB_DTLS_SERVER : TB_DTLS_CLIENT,
                       .remote_fingerprint = p->answer.fingerprint,
                       .send = dtlsSend,
                       .on_state = onDtlsState,
                       .ud = p};
    p->dtls = tbDtlsNew(p->run->dtls, &dc);
    if (!p->dtls || tbDtlsStart(p->dtls, lgNowNs() / 1000000) != TB_DTLS_OK) {
        fail(p, "%s", "DTLS start");
        return;
    }
    p->state = LG_PEER_ICE;
    p->next_stun_ns = 0; /* at the next tick */
}

/* ---- signaling ----------------------------------------------------------------- */

/* One offer at a time: a request while one is out is sent after its answer. */
static void sendOffer(lgPeer *p) {
    if (p->offer_pending) {
        p->reoffer = true;
        return;
    }
    p->reoffer = false;
    lgOfferParams o = {.ufrag = p->ufrag, .pwd = p->pwd, .fingerprint = p->run->fingerprint,
                       .publish = p->pub >= 0, .ssrc = p->ssrc, .cid = p->cid,
                       .recv = p->recv_sections, .version = ++p->offer_version};
    char *sdp = lgSdpOffer(&o);
    if (!sdp || !p->sig || lgSignalOffer(p->sig, sdp, (uint32_t)p->offer_version) != 0)
        fail(p, "%s", "sending the offer");
    else
        p->offer_pending = true;
    free(sdp);
}

static void onResponse(void *ud, const Livekit__SignalResponse *r) {
    lgPeer *p = ud;
    switch (r->message_case) {
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN:
        if (p->pub >= 0)
            lgSignalAddTrack(p->sig, p->cid, "tone");
        else
            sendOffer(p);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRACK_PUBLISHED: sendOffer(p); break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ANSWER: onAnswer(p, r->answer->sdp); break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_MEDIA_SECTIONS_REQUIREMENT:
        /* as the SDK: add the recvonly sections asked for, offer again */
        p->recv_sections += r->media_sections_requirement->num_audios;
        sendOffer(p);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE: fail(p, "%s", "told to leave"); break;
    default: break;
    }
}

static void onClosed(void *ud, int code, const char *reason) {
    lgPeer *p = ud;
    p->sig = NULL; /* no more callbacks: the handle is gone */
    if (p->state != LG_PEER_LEFT) {
        char why[160];
        snprintf(why, sizeof why, "signaling closed (%d %s)", code, reason ? reason : "");
        fail(p, "%s", why);
    }
}

static const lgSignalEvents events = {onResponse, onClosed};

void lgPeerStart(lgPeer *p) {
    char room[96];
    snprintf(room, sizeof room, "%s-%u", p->run->opt.prefix, p->run->opt.room_base + p->room);
    char *token = lgSignalToken(p->run->opt.key, p->run->opt.secret, p->identity, room, 3600);
    p->t_open_ns = lgNowNs();
    p->state = LG_PEER_SIGNALING;
    p->sig = token ? lgSignalConnect(p->sigctx, p->run->opt.host, p->run->opt.port, token,
                                     &events, p)
                   : NULL;
    free(token);
    if (!p->sig) fail(p, "%s", "signaling connect");
}

void lgPeerTick(lgPeer *p, uint64_t now) {
    if (p->state == LG_PEER_FAILED || p->state == LG_PEER_LEFT || !p->dtls) return;
    if (now >= p->next_stun_ns) {
        sendCheck(p);
        p->next_stun_ns = now + (p->state == LG_PEER_ICE ? STUN_RETRY_NS : CONSENT_NS);
    }
    if (p->state == LG_PEER_DTLS || p->state == LG_PEER_ICE) {
        int64_t t = tbDtlsTimeoutMs(p->dtls, now / 1000000);
        if (t == 0) tbDtlsOnTimeout(p->dtls, now / 1000000);
    }
    if (p->state != LG_PEER_MEDIA || p->pub < 0) return;
    /* every packet due since media started, paced by the tick */
    uint64_t due = (now - p->media_start_ns) / PTIME_NS + 1;
    for (int i = 0; p->packets_sent < due && i < 5; i++) sendPacket(p, now);
}

void lgPeerLeave(lgPeer *p) {
    if (p->state == LG_PEER_FAILED) return;
    p->state = LG_PEER_LEFT;
    if (p->sig) {
        lgSignalLeave(p->sig);
        lgSignalClose(p->sig);
        p->sig = NULL;
    }
}
