/* router.h — one worker's forwarding engine: its transports (ICE-lite,
 * DTLS, SRTP per participant peer connection), the tracks published on them
 * and the subscriptions that fan each track out. Runs only on its worker's
 * thread; the worker feeds it commands, datagrams and timer ticks. */
#ifndef TB_MEDIA_ROUTER_H
#define TB_MEDIA_ROUTER_H

#include <stdint.h>

#include "media/udp.h"
#include "media/worker.h"

typedef struct tbRouter tbRouter;
struct tbDtlsCert;

tbRouter *tbRouterNew(tbMedia *media, tbUdp *udp, struct tbDtlsCert *cert);
void tbRouterFree(tbRouter *r);
void tbRouterCommand(tbRouter *r, const tbMediaCmd *cmd, int64_t now_ms);
void tbRouterPacket(tbRouter *r, tbUdpPacket *p, int64_t now_ms);
/* One datagram, or one RFC 4571 frame from an ICE-TCP connection. */
struct tbIceTuple;
void tbRouterInput(tbRouter *r, const struct tbIceTuple *from, uint8_t *data, size_t len,
                   int64_t now_ms);
struct tbIceTcp;
void tbRouterSetTcp(tbRouter *r, struct tbIceTcp *tcp);
/* Timers: DTLS retransmissions, consent freshness, RTCP reports, levels.
 * Returns the ms until it wants to run again (<= 20). */
void tbRouterTick(tbRouter *r, int64_t now_ms);
void tbRouterStats(const tbRouter *r, tbMediaStats *out);

#endif
