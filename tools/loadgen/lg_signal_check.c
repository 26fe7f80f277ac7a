/* lg_signal_check.c — checks lg_signal against a running tribune (or
 * livekit-server): `lg_signal_check HOST PORT KEY SECRET`.
 *
 * Two participants join one new room: the first waits for its JoinResponse
 * before the second connects, then must get a ParticipantUpdate naming the
 * second. The first publishes (AddTrackRequest -> TrackPublishedResponse),
 * offers a minimal sendonly Opus section for that track (-> answer with the
 * offer's id), then both leave and the server must close both sockets.
 * Exits 0 with a one-line summary, 1 with the reason, 2 on bad usage.
 * Everything is bounded by LG_CHECK_TIMEOUT_MS. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_signal.h"

#define LG_CHECK_TIMEOUT_MS 10000
#define LG_CHECK_TRACK_CID "lgcheck-mic-0"
#define LG_CHECK_OFFER_ID 1

/* A minimal audio offer as a browser would make it: ICE credentials, a
 * fingerprint and actpass, one sendonly Opus section whose msid track id is
 * the AddTrack cid. No candidates: tribune is ICE-lite. */
static const char lgCheckOffer[] =
    "v=0\r\n"
    "o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=msid-semantic: WMS lgcheck-stream\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:LgCk\r\n"
    "a=ice-pwd:lgcheckIcePasswordOf24Ch\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 9F:2D:D4:A1:A2:B4:CA:D2:5F:02:4B:E6:C5:66:64:63:92:BD:79:EC:C0:"
    "96:65:7C:03:BF:B3:A8:A9:5A:4B:9B\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=sendonly\r\n"
    "a=msid:lgcheck-stream " LG_CHECK_TRACK_CID "\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=ssrc:305419896 cname:lgcheck\r\n"
    "a=ssrc:305419896 msid:lgcheck-stream " LG_CHECK_TRACK_CID "\r\n";

typedef struct lgCheck lgCheck;

typedef struct lgPeer {
    lgCheck *chk;
    const char *identity;
    lgSignal *sig;
    char sid[64];               /* participant sid from the JoinResponse */
    bool joined;
    bool left;                  /* we sent leave */
    bool closed;                /* on_closed came */
    int close_code;
    char close_reason[128];
} lgPeer;

struct lgCheck {
    uv_loop_t loop;
    lgSignalCtx *ctx;
    const char *host, *key, *secret;
    int port;
    char room[64];
    lgPeer a, b;
    bool update_named_b;        /* a got a ParticipantUpdate naming b */
    bool track_requested, offer_sent;
    char track_sid[64];
    size_t answer_len;
    bool answered;
    uv_timer_t deadline;
    bool finished;
    int status;                 /* exit status */
    char why[512];              /* the summary or the failure */
};

static void lgCheckFinish(lgCheck *k, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lgCheckFinish(lgCheck *k, int status, const char *fmt, ...) {
    if (k->finished) return;
    k->finished = true;
    k->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->why, sizeof k->why, fmt, ap);
    va_end(ap);
    lgSignalClose(k->a.sig);
    lgSignalClose(k->b.sig);
    k->a.sig = k->b.sig = NULL;
    uv_timer_stop(&k->deadline);
    uv_close((uv_handle_t *)&k->deadline, NULL);
    lgSignalCtxFree(k->ctx);
    k->ctx = NULL;
}

static void lgCheckConnect(lgPeer *p);

/* the next step, once the previous one's condition holds */
static void lgCheckAdvance(lgCheck *k) {
    if (k->finished) return;
    if (k->a.joined && k->b.joined && k->update_named_b && !k->track_requested) {
        k->track_requested = true;
        if (lgSignalAddTrack(k->a.sig, LG_CHECK_TRACK_CID, "microphone") != 0)
            lgCheckFinish(k, 1, "FAIL: cannot send AddTrackRequest");
    } else if (k->track_sid[0] && !k->offer_sent) {
        k->offer_sent = true;
        if (lgSignalOffer(k->a.sig, lgCheckOffer, LG_CHECK_OFFER_ID) != 0)
            lgCheckFinish(k, 1, "FAIL: cannot send the offer");
    } else if (k->answered && !k->a.left) {
        k->a.left = k->b.left = true;
        if (lgSignalLeave(k->a.sig) != 0 || lgSignalLeave(k->b.sig) != 0)
            lgCheckFinish(k, 1, "FAIL: cannot send LeaveRequest");
    }
}

static void lgCheckUpdate(lgCheck *k, lgPeer *p, const Livekit__ParticipantUpdate *u) {
    if (p != &k->a || !u) return;
    for (size_t i = 0; i < u->n_participants; i++)
        if (u->participants[i]->identity && !strcmp(u->participants[i]->identity, k->b.identity))
            k->update_named_b = true;
}

static void lgCheckJoined(lgPeer *p, const Livekit__JoinResponse *j) {
    lgCheck *k = p->chk;
    if (!j || !j->participant || !j->participant->sid || !j->participant->sid[0]) {
        lgCheckFinish(k, 1, "FAIL: %s: JoinResponse without a participant sid", p->identity);
        return;
    }
    snprintf(p->sid, sizeof p->sid, "%s", j->participant->sid);
    p->joined = true;
    printf("%s joined %s as %s\n", p->identity, k->room, p->sid);
    if (p == &k->a) lgCheckConnect(&k->b);
}

static void lgCheckResponse(void *ud, const Livekit__SignalResponse *r) {
    lgPeer *p = ud;
    lgCheck *k = p->chk;
    switch (r->message_case) {
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN:
        lgCheckJoined(p, r->join);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_UPDATE:
        lgCheckUpdate(k, p, r->update);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRACK_PUBLISHED:
        if (p == &k->a && r->track_published && r->track_published->cid &&
            !strcmp(r->track_published->cid, LG_CHECK_TRACK_CID) && r->track_published->track)
            snprintf(k->track_sid, sizeof k->track_sid, "%s", r->track_published->track->sid);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ANSWER:
        if (p == &k->a && k->offer_sent && r->answer && r->answer->id == LG_CHECK_OFFER_ID &&
            r->answer->sdp && strstr(r->answer->sdp, "m=audio")) {
            k->answered = true;
            k->answer_len = strlen(r->answer->sdp);
        }
        break;
    default:
        break;
    }
    if (!k->finished && !p->joined)
        lgCheckFinish(k, 1, "FAIL: %s: first message is %d, not join", p->identity,
                      (int)r->message_case);
    lgCheckAdvance(k);
}

static void lgCheckClosed(void *ud, int code, const char *reason) {
    lgPeer *p = ud;
    lgCheck *k = p->chk;
    p->sig = NULL; /* the handle ends with this callback */
    p->closed = true;
    p->close_code = code;
    snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
    if (k->finished) return;
    if (!p->joined) {
        lgCheckFinish(k, 1, "FAIL: %s: could not join: %d %s", p->identity, code, reason);
        return;
    }
    if (!p->left) {
        lgCheckFinish(k, 1, "FAIL: %s: socket ended early: %d %s", p->identity, code, reason);
        return;
    }
    if (!k->a.closed || !k->b.closed) return;
    lgCheckFinish(k, 0,
                  "OK room %s: %s=%s %s=%s; update named %s; track %s published; answer "
                  "%zu bytes; both left (closed %d '%s' / %d '%s')",
                  k->room, k->a.identity, k->a.sid, k->b.identity, k->b.sid, k->b.identity,
                  k->track_sid, k->answer_len, k->a.close_code, k->a.close_reason,
                  k->b.close_code, k->b.close_reason);
}

static void lgCheckConnect(lgPeer *p) {
    static const lgSignalEvents ev = {lgCheckResponse, lgCheckClosed};
    lgCheck *k = p->chk;
    char *token = lgSignalToken(k->key, k->secret, p->identity, k->room, 600);
    if (!token) {
        lgCheckFinish(k, 1, "FAIL: cannot sign a token");
        return;
    }
    p->sig = lgSignalConnect(k->ctx, k->host, k->port, token, &ev, p);
    free(token);
    if (!p->sig) lgCheckFinish(k, 1, "FAIL: lgSignalConnect returned NULL");
}

static void lgCheckTimeout(uv_timer_t *t) {
    lgCheck *k = t->data;
    lgCheckFinish(k, 1,
                  "FAIL: timed out after %d ms (a joined %d, b joined %d, update named b %d, "
                  "track %s, answer %d, closed %d/%d)",
                  LG_CHECK_TIMEOUT_MS, k->a.joined, k->b.joined, k->update_named_b,
                  k->track_sid[0] ? k->track_sid : "-", k->answered, k->a.closed, k->b.closed);
}

int main(int argc, char **argv) {
    static lgCheck k;
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT KEY SECRET\n", argv[0]);
        return 2;
    }
    k.host = argv[1];
    k.port = atoi(argv[2]);
    k.key = argv[3];
    k.secret = argv[4];
    if (k.port <= 0 || k.port > 65535) {
        fprintf(stderr, "%s: bad port %s\n", argv[0], argv[2]);
        return 2;
    }
    snprintf(k.room, sizeof k.room, "lgcheck-%ld", (long)getpid());
    k.a = (lgPeer){.chk = &k, .identity = "lgcheck-a"};
    k.b = (lgPeer){.chk = &k, .identity = "lgcheck-b"};
    uv_loop_init(&k.loop);
    if (!(k.ctx = lgSignalCtxNew(&k.loop))) {
        fprintf(stderr, "FAIL: cannot create the lws client context\n");
        return 1;
    }
    uv_timer_init(&k.loop, &k.deadline);
    k.deadline.data = &k;
    uv_timer_start(&k.deadline, lgCheckTimeout, LG_CHECK_TIMEOUT_MS, 0);
    lgCheckConnect(&k.a);
    uv_run(&k.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&k.loop);
    if (rc != 0 && k.status == 0) {
        k.status = 1;
        snprintf(k.why, sizeof k.why, "FAIL: handles left on the loop (%s)", uv_strerror(rc));
    }
    printf("%s\n", k.why);
    return k.status;
}
