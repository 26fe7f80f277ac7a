/* sdp_offer.h — the SDP offers tribune makes itself: the subscriber peer
 * connection of the two-peer-connection protocol (/rtc), where the server
 * offers the remote audio tracks (sendonly Opus sections) and its data
 * channels to the client.
 *
 * Sections keep their order and mid across re-offers (RFC 8829 §5.2.2): a
 * track that goes away leaves its section inactive (without msid/ssrc) for
 * the next track to reuse. Our transport is ICE-lite, one BUNDLE, rtcp-mux,
 * a=setup:actpass (the client's answer chooses the DTLS roles). Pure code:
 * returns text, no I/O. */
#ifndef TB_SDP_OFFER_H
#define TB_SDP_OFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_SDP_OFFER_OPUS_PT 111
#define TB_SDP_OFFER_EXT_AUDIO_LEVEL 1
#define TB_SDP_OFFER_EXT_MID 4

typedef struct tbSdpOfferSection {
    const char *mid;
    bool application;            /* the data channel section; else Opus audio */
    bool active;                 /* audio: sendonly carrying a track; else inactive */
    uint32_t ssrc;               /* active audio: our SSRC */
    const char *participant_sid; /* active audio: msid "PA_x|TR_y TR_y", cname */
    const char *track_sid;
} tbSdpOfferSection;

typedef struct tbSdpOfferParams {
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint_sha256;    /* "AB:CD:..." */
    const char *const *candidates;     /* "candidate:..." values (prefix optional) */
    size_t num_candidates;
    uint64_t session_id, session_version;
    const tbSdpOfferSection *sections; /* in m= line order */
    size_t num_sections;
} tbSdpOfferParams;

/* The offer (NUL-terminated, CRLF lines; free() it), or NULL when a
 * parameter is missing or malformed (an empty mid, spaces in an id). */
char *tbSdpBuildOffer(const tbSdpOfferParams *p, size_t *len);

#endif
