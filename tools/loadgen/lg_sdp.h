/* lg_sdp.h — the load generator's SDP: the offer a simulated participant
 * sends on its one peer connection (/rtc/v1), and what it needs from
 * tribune's answer. The offer is what a browser would offer for one
 * microphone track plus `recv` audio sections to receive the room's other
 * publishers on: opus/48000/2, BUNDLE, rtcp-mux, ICE with our ufrag/pwd,
 * DTLS actpass with our certificate's fingerprint. Reading the answer uses
 * tribune's own SDP parser (src/sdp). Pure: no I/O. */
#ifndef LG_SDP_H
#define LG_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lgOfferParams {
    const char *ufrag, *pwd;    /* our ICE credentials */
    const char *fingerprint;    /* "sha-256 AB:..." of our certificate */
    bool publish;               /* section "0": sendonly, our track */
    uint32_t ssrc;              /* its SSRC */
    const char *cid;            /* its track id (the AddTrack cid), msid */
    unsigned recv;              /* recvonly audio sections after it */
    uint64_t version;           /* o= session version */
} lgOfferParams;

typedef struct lgAnswer {
    char ufrag[64], pwd[128];   /* tribune's ICE credentials */
    char fingerprint[208];      /* "sha-256 AB:..." */
    bool dtls_client;           /* tribune answered setup:active: we are the DTLS server */
    char ip[64];                /* tribune's UDP host candidate */
    int port;
    uint8_t opus_pt;            /* the payload type to send Opus with */
} lgAnswer;

/* A malloc'ed offer. */
char *lgSdpOffer(const lgOfferParams *p);
/* 0, or -1 with err filled. Prefers an IPv4 UDP host candidate. */
int lgSdpReadAnswer(const char *sdp, lgAnswer *out, char *err, size_t errlen);

#endif
