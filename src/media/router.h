/* router.h — one worker's forwarding engine: its transports (ICE-lite,
 * DTLS, SRTP per participant peer connection), the tracks published on them
 * and the subscriptions that fan each track out. Runs only on its worker's
 * thread; the worker feeds it commands, datagrams and timer ticks. */
#ifndef TB_MEDIA_ROUTER_H
#define TB_MEDIA_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "media/udp.h"
#include "media/worker.h"

typedef struct tbRouter tbRouter;
struct tbDtlsCert;

/* index/num_workers: this worker among all; transports are created only on
 * their room's worker (see tbMediaUfragTag). */
tbRouter *tbRouterNew(tbMedia *media, tbUdp *udp, struct tbDtlsCert *cert, int index,
                      int num_workers);
/* Worker index encoded in the first character of our ICE ufrag. */
#define TB_WORKER_TAGS "0123456789abcdefghijklmnopqrstuv"
#define TB_MAX_WORKERS 32
void tbRouterFree(tbRouter *r);
void tbRouterCommand(tbRouter *r, const tbMediaCmd *cmd, int64_t now_ms);
/* Handles one datagram, or returns the index of the worker that owns its
 * transport (the caller hands it over), or -1 when handled or dropped. */
int tbRouterPacket(tbRouter *r, tbUdpPacket *p, int64_t now_ms);
/* Same, for a datagram or one RFC 4571 frame from an ICE-TCP connection.
 * `may_handoff` false: another worker already handed it here. */
struct tbIceTuple;
int tbRouterInput(tbRouter *r, const struct tbIceTuple *from, uint8_t *data, size_t len,
                  int64_t now_ms, bool may_handoff);
struct tbIceTcp;
void tbRouterSetTcp(tbRouter *r, struct tbIceTcp *tcp);
/* Workers without the ICE-TCP listener send TCP frames through this. */
void tbRouterSetTcpForward(tbRouter *r,
                           bool (*fn)(void *ud, const struct tbIceTuple *to,
                                      const uint8_t *data, size_t len),
                           void *ud);
/* Timers: DTLS retransmissions, consent freshness, RTCP reports, levels.
 * Returns the ms until it wants to run again (<= 20). */
void tbRouterTick(tbRouter *r, int64_t now_ms);
void tbRouterStats(const tbRouter *r, tbMediaStats *out);
/* Encrypts and sends what the transports' SCTP associations queued. */
void tbRouterDrainData(tbRouter *r);

#endif
