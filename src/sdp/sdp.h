/* sdp.h — SDP (RFC 8866) offers from WebRTC clients, and the answers tribune
 * sends back (JSEP RFC 8829, BUNDLE RFC 8843, ICE-lite, DTLS-SRTP).
 *
 * Hand-written: the C SDP parsers around (GStreamer's GstSDPMessage,
 * sofia-sip) pull in GLib or a SIP stack and keep no bound on hostile input.
 * This one takes bytes straight from the network: it checks every byte in a
 * first pass (size, line length, control characters, line shape), counts what
 * it will store, then makes ONE allocation holding the result and a copy of
 * the text; every string in the result points into that copy. Errors carry
 * the 1-based line number. Pure code, no I/O.
 *
 *   tbSdp *offer = tbSdpParse(text, len, &err);          // NULL + err on error
 *   tbSdpAnswerParams p; tbSdpAnswerParamsInit(&p);      // then set our ICE/DTLS
 *   tbSdpAnswerSetSend(&p, "3", ssrc, "PA_x", "TR_y", "PA_x");
 *   tbSdpAnswer *a = tbSdpBuildAnswer(offer, &p, &err);  // a->sdp, a->mids[]
 *   tbSdpAnswerFree(a); tbSdpAnswerParamsFree(&p); tbSdpFree(offer);
 */
#ifndef TB_SDP_H
#define TB_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_SDP_MAX_LEN (256 * 1024) /* bytes of SDP accepted */
#define TB_SDP_MAX_LINE 4096        /* bytes per line, terminator excluded */
#define TB_SDP_MAX_SECTIONS 256     /* m= sections per description */
#define TB_SDP_MAX_MID 64           /* a=mid value incl. NUL */
#define TB_SDP_MAX_ID 64            /* sids, cnames, msid parts incl. NUL */
#define TB_SDP_MAX_FP 64            /* fingerprint bytes (sha-512) */
#define TB_SDP_MAX_SSRC_GROUPS 4    /* a=ssrc-group lines per section */
#define TB_SDP_MAX_GROUP_SSRCS 8    /* SSRCs per a=ssrc-group */
#define TB_SDP_PT_ANY 0xff          /* a=rtcp-fb:* */

#define TB_SDP_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define TB_SDP_URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define TB_SDP_URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

typedef enum tbSdpKind {
    TB_SDP_KIND_OTHER = 0,          /* text, message, ...: always rejected */
    TB_SDP_KIND_AUDIO,
    TB_SDP_KIND_VIDEO,
    TB_SDP_KIND_APPLICATION,
} tbSdpKind;

typedef enum tbSdpProto {
    TB_SDP_PROTO_OTHER = 0,         /* RTP/AVP, RTP/SAVPF (SDES), ... */
    TB_SDP_PROTO_RTP,               /* UDP/TLS/RTP/SAVPF, TCP/DTLS/RTP/SAVPF (DTLS-SRTP) */
    TB_SDP_PROTO_SCTP,              /* UDP/DTLS/SCTP, TCP/DTLS/SCTP + a=sctp-port */
    TB_SDP_PROTO_SCTP_LEGACY,       /* DTLS/SCTP <port> + a=sctpmap (aiortc, old Chrome) */
} tbSdpProto;

typedef enum tbSdpDirection {
    TB_SDP_DIR_UNSET = 0,           /* no attribute (sections resolve to SENDRECV) */
    TB_SDP_DIR_SENDRECV,
    TB_SDP_DIR_SENDONLY,
    TB_SDP_DIR_RECVONLY,
    TB_SDP_DIR_INACTIVE,
} tbSdpDirection;

typedef enum tbSdpSetup {
    TB_SDP_SETUP_NONE = 0,
    TB_SDP_SETUP_ACTPASS,
    TB_SDP_SETUP_ACTIVE,            /* DTLS client */
    TB_SDP_SETUP_PASSIVE,           /* DTLS server */
    TB_SDP_SETUP_HOLDCONN,
} tbSdpSetup;

typedef struct tbSdpError {
    int line;                       /* 1-based line, 0 = not about one line */
    char msg[160];
} tbSdpError;

typedef struct tbSdpFingerprint {
    const char *alg;                /* "sha-256" as written; NULL = none */
    const char *hex;                /* "9F:2D:..." as written */
    uint8_t bytes[TB_SDP_MAX_FP];   /* decoded hash */
    uint8_t len;                    /* bytes used */
} tbSdpFingerprint;

typedef struct tbSdpCodec {         /* one payload type of the m= line */
    uint8_t pt;
    const char *name;               /* rtpmap encoding ("opus"), static-table name, or "" */
    uint32_t clock;                 /* Hz, 0 if unknown */
    uint8_t channels;               /* rtpmap's 3rd field; 0 = not written */
    const char *fmtp;               /* a=fmtp parameters, NULL = none */
} tbSdpCodec;

typedef struct tbSdpRtcpFb {
    uint8_t pt;                     /* TB_SDP_PT_ANY for '*' */
    const char *type;               /* "nack", "transport-cc", "ccm" */
    const char *param;              /* "pli", "fir", NULL */
} tbSdpRtcpFb;

typedef struct tbSdpExtmap {
    uint16_t id;                    /* 1..255 */
    tbSdpDirection dir;             /* UNSET unless "id/dir" */
    const char *uri;
    const char *attrs;              /* extension attributes, NULL = none */
} tbSdpExtmap;

typedef struct tbSdpSsrc {          /* a=ssrc:<ssrc> <attr>[:<value>] */
    uint32_t ssrc;
    const char *attr;               /* "cname", "msid", ... */
    const char *value;              /* NULL = none */
} tbSdpSsrc;

typedef struct tbSdpSsrcGroup {
    const char *semantics;          /* "FID", "SIM", "FEC-FR" */
    uint32_t ssrcs[TB_SDP_MAX_GROUP_SSRCS];
    uint8_t count;
} tbSdpSsrcGroup;

typedef struct tbSdpSection {
    int line;                       /* line of the m= line */
    tbSdpKind kind;
    const char *media;              /* "audio", as written */
    uint16_t port;                  /* 0 = rejected (unless bundle_only) */
    tbSdpProto proto;
    const char *proto_str;          /* as written */
    const char *fmt;                /* first format token as written */
    const char *conn_addr;          /* c= address, NULL = none */
    const char *mid;                /* NULL = none */
    tbSdpDirection direction;       /* resolved: never UNSET */
    const char *ice_ufrag;          /* media-level only; see tbSdpTransport */
    const char *ice_pwd;
    const char *ice_options;
    tbSdpFingerprint fingerprint;
    tbSdpSetup setup;
    bool rtcp_mux;
    bool rtcp_rsize;
    bool bundle_only;
    bool end_of_candidates;
    const char *msid_stream;        /* first a=msid: stream id ("-" = none) */
    const char *msid_track;         /* its track id, NULL = none */
    uint16_t sctp_port;             /* a=sctp-port or a=sctpmap, 0 = none */
    uint32_t max_message_size;      /* a=max-message-size, 0 = none */
    tbSdpCodec *codecs;             /* in m= line order */
    size_t num_codecs;
    tbSdpRtcpFb *rtcp_fbs;
    size_t num_rtcp_fbs;
    tbSdpExtmap *extmaps;
    size_t num_extmaps;
    tbSdpSsrc *ssrcs;
    size_t num_ssrcs;
    tbSdpSsrcGroup ssrc_groups[TB_SDP_MAX_SSRC_GROUPS];
    size_t num_ssrc_groups;
    const char **candidates;        /* a=candidate values, after "candidate:" */
    size_t num_candidates;
} tbSdpSection;

typedef struct tbSdp {
    const char *origin_user;        /* o= fields, NULL if no o= line */
    const char *origin_sess_id;
    const char *origin_sess_version;
    const char *origin_addr;
    const char *session_name;       /* s= */
    const char *ice_ufrag;          /* session-level ICE/DTLS (NULL/NONE = absent) */
    const char *ice_pwd;
    const char *ice_options;
    bool ice_lite;
    tbSdpFingerprint fingerprint;
    tbSdpSetup setup;
    tbSdpDirection direction;       /* session-level default, may be UNSET */
    bool extmap_allow_mixed;
    const char *msid_semantic;      /* value as written ("WMS", " WMS *") */
    const char **bundle_mids;       /* the first a=group:BUNDLE, in order */
    size_t num_bundle_mids;
    int bundle_line;                /* its line, 0 = no BUNDLE group */
    tbSdpSection *sections;
    size_t num_sections;
} tbSdp;

/* The ICE/DTLS parameters the peer uses for its (bundled) transport: those of
 * the BUNDLE-tagged section (first mid of the group), else of the first
 * section with a non-zero port, with session-level values as fallback. */
typedef struct tbSdpTransportInfo {
    const char *ice_ufrag;
    const char *ice_pwd;
    const tbSdpFingerprint *fingerprint;
    tbSdpSetup setup;
    bool ice_lite;
    const tbSdpSection *section;    /* the section they come from, may be NULL */
} tbSdpTransportInfo;

/* ---- parsing ------------------------------------------------------------ */

/* Parses `len` bytes (CRLF or LF, no NUL needed). Returns a description to
 * free with tbSdpFree, or NULL with `err` filled (err may be NULL). */
tbSdp *tbSdpParse(const char *text, size_t len, tbSdpError *err);
void tbSdpFree(tbSdp *sdp);

const tbSdpSection *tbSdpFindMid(const tbSdp *sdp, const char *mid);
/* First codec with this name (case-insensitive) and clock; channels 0 = any
 * (a missing rtpmap channel count counts as 1). NULL if none. */
const tbSdpCodec *tbSdpFindCodec(const tbSdpSection *s, const char *name, uint32_t clock,
                                 uint8_t channels);
/* True if the section offers rtcp-fb `type` [`param`] for pt (or for '*').
 * param NULL matches only lines without a parameter. */
bool tbSdpHasRtcpFb(const tbSdpSection *s, uint8_t pt, const char *type, const char *param);
/* The extmap id for uri, 0 if not offered. */
unsigned tbSdpFindExtmap(const tbSdpSection *s, const char *uri);
/* The sender's media SSRC: the first a=ssrc (or ssrc-group) SSRC that is not
 * the repair SSRC of a FID/FEC-FR group. 0 = none. */
uint32_t tbSdpMediaSsrc(const tbSdpSection *s);
/* See tbSdpTransportInfo. False if the ufrag, pwd or fingerprint is missing. */
bool tbSdpTransport(const tbSdp *sdp, tbSdpTransportInfo *out);

const char *tbSdpKindName(tbSdpKind k);
const char *tbSdpDirectionName(tbSdpDirection d); /* "sendrecv", ... ("" for UNSET) */
const char *tbSdpSetupName(tbSdpSetup s);         /* "actpass", ... ("" for NONE) */

/* ---- answering ---------------------------------------------------------- */

typedef struct tbSdpMidPlan {       /* the caller's decision for one mid */
    char mid[TB_SDP_MAX_MID];
    bool send;                      /* we send a track on it */
    uint32_t ssrc;                  /* our SSRC for it */
    char participant_sid[TB_SDP_MAX_ID]; /* "PA_..." (msid stream = "PA_x|TR_y") */
    char track_sid[TB_SDP_MAX_ID];  /* "TR_..." */
    char cname[TB_SDP_MAX_ID];
    bool no_recv;                   /* refuse the client's media on it */
    bool reject;                    /* reject the section (port 0) */
} tbSdpMidPlan;

typedef struct tbSdpAnswerParams {
    const char *ice_ufrag;          /* ours: 4..256 ice-chars */
    const char *ice_pwd;            /* ours: 22..256 ice-chars */
    const char *fingerprint_sha256; /* our certificate: "AB:CD:..." (32 bytes) */
    tbSdpSetup setup;               /* ACTIVE (default: we are the DTLS client) or PASSIVE */
    bool ice_lite;                  /* a=ice-lite (default true) */
    const char *const *candidates;  /* "candidate:1 1 udp ..." (the "candidate:" prefix
                                       and a leading "a=" are optional) */
    size_t num_candidates;
    bool allow_red;                 /* also accept audio/red/48000/2 if offered */
    bool allow_transport_cc;        /* keep transport-cc rtcp-fb and the TWCC extmap */
    bool video_inactive;            /* accept video as inactive instead of rejecting it */
    uint64_t session_id;            /* o= line; 0 = 1 */
    uint64_t session_version;       /* bump for each answer of one session */
    uint16_t sctp_port;             /* default 5000 */
    uint32_t max_message_size;      /* default 262144 */
    tbSdpMidPlan *plans;            /* per-mid decisions (tbSdpAnswerSet*) */
    size_t num_plans;
    size_t cap_plans;
} tbSdpAnswerParams;

/* What was negotiated for one m= section, in offer order. */
typedef struct tbSdpMidInfo {
    char mid[TB_SDP_MAX_MID];       /* "" if the section had none */
    tbSdpKind kind;
    tbSdpDirection offer_dir;
    tbSdpDirection answer_dir;      /* INACTIVE when rejected */
    bool accepted;                  /* port != 0 in the answer */
    bool bundled;                   /* listed in the answer's BUNDLE group */
    int opus_pt;                    /* -1 = none */
    int red_pt;                     /* -1 = none */
    uint8_t audio_level_ext;        /* extmap ids, 0 = not negotiated */
    uint8_t mid_ext;
    uint8_t twcc_ext;
    uint32_t client_ssrc;           /* the client's SSRC when it sends on this mid */
    char client_stream_id[TB_SDP_MAX_ID]; /* its msid stream id, "" = none */
    char client_track_id[TB_SDP_MAX_ID];  /* its msid track id (the SDK's track cid) */
    uint32_t send_ssrc;             /* ours, 0 when we do not send */
    uint16_t sctp_port;             /* application: the client's port */
    uint32_t max_message_size;      /* application: the client's limit */
} tbSdpMidInfo;

typedef struct tbSdpAnswer {
    char *sdp;                      /* NUL-terminated, CRLF lines */
    size_t sdp_len;
    tbSdpSetup setup;               /* our DTLS role as answered (ACTIVE = client) */
    size_t num_mids;
    tbSdpMidInfo mids[];            /* one per offered m= section */
} tbSdpAnswer;

/* Defaults: setup ACTIVE, ice_lite, sctp_port 5000, max_message_size 262144. */
void tbSdpAnswerParamsInit(tbSdpAnswerParams *p);
void tbSdpAnswerParamsFree(tbSdpAnswerParams *p);
/* Send a remote track on `mid` (an offered recvonly/sendrecv audio section):
 * a=msid:<participant_sid>|<track_sid> <track_sid>, a=ssrc:<ssrc> cname/msid.
 * Returns 0, or -1 if a string is empty, too long or has spaces/controls. */
int tbSdpAnswerSetSend(tbSdpAnswerParams *p, const char *mid, uint32_t ssrc,
                       const char *participant_sid, const char *track_sid, const char *cname);
/* Accept (default) or refuse the client's media on `mid`. */
int tbSdpAnswerSetRecv(tbSdpAnswerParams *p, const char *mid, bool recv);
/* Reject `mid` (port 0). */
int tbSdpAnswerSetReject(tbSdpAnswerParams *p, const char *mid);

/* Builds the answer to `offer`. Audio: Opus only (plus RED when allowed),
 * extmaps audio-level and sdes:mid (+ TWCC when allowed), rtcp-fb nack;
 * video rejected (port 0, a=inactive, mid kept); data channel accepted;
 * sections without a=mid or a=rtcp-mux, or of other kinds, are rejected.
 * Rejected sections leave the BUNDLE group (RFC 8843 7.3.3); rejecting the
 * tagged (first) one rejects the whole group. Our candidates go into the
 * tagged section (every accepted one when there is no BUNDLE). DTLS role:
 * p->setup against actpass, else the complement of the offer's.
 * Returns NULL with `err` filled on bad params (line 0). */
tbSdpAnswer *tbSdpBuildAnswer(const tbSdp *offer, const tbSdpAnswerParams *p, tbSdpError *err);
void tbSdpAnswerFree(tbSdpAnswer *a);
const tbSdpMidInfo *tbSdpAnswerFindMid(const tbSdpAnswer *a, const char *mid);

#endif
