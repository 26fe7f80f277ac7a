/* session_internal.h — the session struct shared by session.c (lifecycle,
 * message dispatch), negotiate.c (SDP offer/answer and the sections that carry
 * remote tracks) and hub.c (room fan-out). Not for use outside src/signal/. */
#ifndef TB_SIGNAL_SESSION_INTERNAL_H
#define TB_SIGNAL_SESSION_INTERNAL_H

#include "livekit_rtc.pb-c.h"
#include "sdp/sdp.h"
#include "signal/hub.h"

#define TB_MAX_DOWN 48              /* remote tracks one participant can receive */
#define TB_MID_LEN 32

/* One of our sendonly m-sections in the client's peer connection. */
typedef struct tbDownSection {
    char mid[TB_MID_LEN];           /* the client's recvonly audio section */
    char track_sid[TB_SID_LEN];     /* remote track carried ("" = free) */
    char participant_sid[TB_SID_LEN];
    uint32_t track_media_id;
    uint32_t ssrc;                  /* the SSRC we announce and send with */
    bool subscribed;                /* the media plane forwards into it */
    uint8_t pt, red_pt, audio_level_ext, mid_ext; /* negotiated for this section */
} tbDownSection;

struct tbSignalSession {
    tbSignalHub *hub;
    const tbSignalIo *io;
    void *conn;                     /* NULL until attached / after close */
    bool v1;
    bool text;                      /* the client speaks JSON text frames */
    bool closing;
    bool attached_once;             /* joined on a connection (resumable from then on) */
    bool resuming;                  /* accepted a resume: the next attach says reconnect */
    int64_t detached_ms;            /* when the connection went (0 = attached) */
    char remote_ufrag[260];         /* the client's ICE ufrag (a change = ICE restart) */
    char room[260];
    char identity[260];
    char participant_sid[TB_SID_LEN];
    uint32_t room_media_id;
    uint32_t transport_id;
    bool transport_added;
    char ice_ufrag[24], ice_pwd[40];
    int udp_fd;                     /* port-range mode: our socket until media takes it */
    int udp_port;                   /* the port in our candidates */
    Livekit__JoinRequest *join;     /* until attached */
    tbDownSection down[TB_MAX_DOWN];
    size_t num_down;
    char pending[TB_MAX_DOWN][TB_SID_LEN]; /* remote tracks waiting for a section */
    size_t num_pending;
    size_t free_recv;               /* client recvonly audio sections we leave unused */
    uint32_t requested;             /* sections asked for and not yet offered */
    uint64_t answer_version;        /* o= session version of our answers */
    uint32_t last_data_seq;         /* last reliable DataPacket sequence forwarded */
    /* /rtc (two peer connections): the subscriber PC, which we offer; down[]
     * are its audio sections then (mids "1".."n", the data section is "0") */
    uint32_t sub_transport_id;
    bool sub_added;                 /* the media plane has it (after the first answer) */
    char sub_ufrag[24], sub_pwd[40];
    int sub_udp_fd, sub_udp_port;   /* port-range mode: its own socket */
    uint32_t sub_offer_id;          /* id of our last offer */
    bool sub_offer_pending;         /* sent, not answered yet */
    bool sub_reoffer;               /* something changed while it was pending */
    uint64_t sub_version;           /* o= version of our offers */
    struct tbSignalRelay *relay;    /* a front for a room elsewhere (relay.h); else NULL */
    struct tbSignalSession *next;
};

/* session.c */
/* tbSignalAccept without routing: the room is (to be) held here. */
int tbSessionAcceptHere(tbSignalHub *hub, const tbHttpRequest *req, bool v1,
                        tbSignalSession **out, char *why, size_t whylen);
void tbSessionSend(tbSignalSession *s, Livekit__SignalResponse *msg);
/* Sends a SignalResponse whose oneof arm `c` is the message `msg`. */
void tbSessionSendMessage(tbSignalSession *s, Livekit__SignalResponse__MessageCase c, void *msg);
tbRoom *tbSessionRoom(const tbSignalSession *s);
tbParticipant *tbSessionParticipant(const tbSignalSession *s);
void tbSessionKick(tbSignalSession *s, Livekit__DisconnectReason reason);

/* ice_servers.c: a new array of heap messages (free each with
 * livekit__iceserver__free_unpacked, then the array) */
Livekit__ICEServer **tbSessionIceServers(tbSignalSession *s, size_t *n);

/* negotiate.c */
/* Answers a client offer (the join's or a later one): creates the media
 * transport on first use, publishes sendonly sections, fills free recvonly
 * sections with pending remote tracks. Sends the answer. Returns 0 or -1
 * (the offer was unusable; an error was logged). */
int tbSessionAnswer(tbSignalSession *s, const Livekit__SessionDescription *offer);
/* A remote track should reach this participant: queue it and ask the client
 * for a fresh offer (media_sections_requirement). */
void tbSessionWantTrack(tbSignalSession *s, const tbParticipant *owner, const tbTrack *t);
/* negotiate.c helpers shared with subscriber.c */
/* A media transport spec with our ICE credentials (ufrag, pwd) and the
 * remote ICE credentials and fingerprint; the caller sets the DTLS role,
 * the socket and data channels. */
void tbSessionTransportSpec(const tbSignalSession *s, uint32_t transport_id, const char *ufrag,
                            const char *pwd, const tbSdpTransportInfo *remote,
                            tbMediaTransportSpec *spec);
/* An offer or answer (type) with id and mid_to_track_id from down[]. */
void tbSessionSendDescription(tbSignalSession *s, const char *type, char *sdp, uint32_t id);
uint32_t tbSessionRandomSsrc(void);
const tbParticipant *tbSessionTrackOwner(const tbRoom *room, const char *track_sid,
                                        const tbTrack **track);
void tbSessionCandidates(tbSignalSession *s, int udp_port, char lines[][128], const char **ptrs,
                         size_t *n);
void tbSessionMediaSubscribe(tbSignalSession *s, tbDownSection *d, uint32_t transport_id);

/* subscriber.c — /rtc's subscriber peer connection */
void tbSubWantTrack(tbSignalSession *s, const tbParticipant *owner, const tbTrack *t);
void tbSubDropTrack(tbSignalSession *s, const char *track_sid);
/* (Re-)offers the subscriber PC: its data section and every audio section. */
void tbSubOffer(tbSignalSession *s);
/* The client's answer to our offer. */
void tbSubOnAnswer(tbSignalSession *s, const Livekit__SessionDescription *answer);
/* The transport for data to this client: the subscriber PC's under /rtc. */
uint32_t tbSessionDataTransport(const tbSignalSession *s);

/* After a resume: ask again for the sections of tracks still pending. */
void tbSessionRequestPending(tbSignalSession *s);
/* A remote track is gone: free its section. */
void tbSessionDropTrack(tbSignalSession *s, const char *track_sid);
/* UpdateSubscription: stop or resume receiving a remote track. */
void tbSessionSetSubscribed(tbSignalSession *s, const char *track_sid, bool on);

#endif
