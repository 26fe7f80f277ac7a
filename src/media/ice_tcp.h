/* ice_tcp.h — passive ICE-TCP (RFC 6544) on rtc.tcp_port for clients whose
 * networks block UDP: a listener on the worker's loop, and per connection an
 * RFC 4571 de-framer (ice/tcp_framing.h) feeding the router exactly as UDP
 * datagrams do, plus a fixed output buffer that frames what the router sends.
 * A frame that does not fit the output buffer is dropped whole, so a slow
 * reader loses packets but the stream never desynchronises. */
#ifndef TB_MEDIA_ICE_TCP_H
#define TB_MEDIA_ICE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct tbIceTuple;
typedef struct tbIceTcp tbIceTcp;

/* Listens on ip:port (ip NULL = all) on `loop`. Each received frame goes to
 * input(ud, from, frame, len) (the frame may be modified in place); after
 * each read, after_batch(ud) runs (the worker flushes its batches there).
 * NULL after logging why. */
tbIceTcp *tbIceTcpStart(uv_loop_t *loop, const char *ip, int port,
                        void (*input)(void *ud, const struct tbIceTuple *from, uint8_t *data,
                                      size_t len),
                        void (*after_batch)(void *ud), void *ud);
/* Closes the listener and every connection (handles close on the loop). */
void tbIceTcpStop(tbIceTcp *t);
/* Frames `data` onto the connection whose peer is `to`. False when there is
 * no such connection or its output buffer is full (the frame is dropped). */
bool tbIceTcpSend(tbIceTcp *t, const struct tbIceTuple *to, const uint8_t *data, size_t len);
/* Writes what the connections have buffered (call after each batch). */
void tbIceTcpFlush(tbIceTcp *t);
size_t tbIceTcpConnections(const tbIceTcp *t);

#endif
