/* sctp.h — one WebRTC data channel association: SCTP over DTLS (RFC 8261)
 * with usrsctp in its callback ("AF_CONN") mode, and DCEP (RFC 8832) on top.
 *
 * SCTP packets come in through tbSctpInput (what DTLS decrypted) and leave
 * through an internal outbox that the owner drains with tbSctpDrain and
 * encrypts with DTLS. usrsctp may produce packets on its own timer thread
 * (retransmissions, heartbeats): those only ever touch the outbox (under its
 * lock) and call `wake`, so the owning media worker stays the only thread
 * that touches its transport; callbacks (on_open, on_message, on_state) run
 * only on the owner's thread. Every other call (New/Input/Send/Open/Drain/
 * Free) must come from the owner's thread (the one that called New).
 *
 * Channels: the peer opens them with DATA_CHANNEL_OPEN (answered with an
 * ACK; on_open reports them), or we open them (tbSctpOpenChannel; stream
 * ids even when we are the DTLS client, odd when the server). Messages are
 * reassembled (usrsctp may deliver a large one in parts) up to
 * max_message_size (what our SDP announced); larger ones are dropped and
 * counted. Sends are limited to TB_SCTP_MAX_SEND.
 *
 * usrsctp is process-wide: tbSctpGlobalInit once before the first
 * association (it starts usrsctp's timer thread), and the process keeps a
 * registry of live associations (the one global here, because usrsctp
 * itself is global) so a late packet from usrsctp's thread never reaches a
 * freed association. */
#ifndef TB_SCTP_H
#define TB_SCTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_SCTP_PORT 5000
#define TB_SCTP_MAX_CHANNELS 64
#define TB_SCTP_MAX_SEND (256 * 1024) /* longest message sent (browsers accept 256 KiB) */

typedef struct tbSctp tbSctp;

typedef struct tbSctpCallbacks {
    /* A channel opened (by the peer's OPEN, or the peer's ACK of ours). */
    void (*on_open)(void *ud, uint16_t stream, const char *label);
    /* A complete message (ppid TB_PPID_STRING/BINARY; empty ones have len 0). */
    void (*on_message)(void *ud, uint16_t stream, const char *label, uint32_t ppid,
                       const uint8_t *data, size_t len);
    /* The association is up (both directions may send) or went down. */
    void (*on_state)(void *ud, bool up);
    /* Packets are waiting in the outbox; may run on usrsctp's thread. */
    void (*wake)(void *ud);
    void *ud;
} tbSctpCallbacks;

typedef struct tbSctpStats {
    uint64_t messages_in, messages_out;
    uint64_t bytes_in, bytes_out;
    uint64_t dropped_oversize;    /* messages above max_message_size */
    uint64_t dropped_unknown;     /* on a stream no channel was opened on */
    uint64_t send_failed;         /* usrsctp refused (buffer full, closed) */
} tbSctpStats;

/* Starts usrsctp (idempotent, thread-safe). Returns 0 or -1. */
int tbSctpGlobalInit(void);

/* An association on our port 5000 towards the peer's sctp-port. dtls_client:
 * our DTLS role (picks the parity of the stream ids we open). NULL on
 * failure. */
tbSctp *tbSctpNew(const tbSctpCallbacks *cb, uint16_t remote_port, bool dtls_client,
                  uint32_t max_message_size);
/* Starts the association (INIT): call when DTLS is connected. */
int tbSctpConnect(tbSctp *s);
/* One SCTP packet DTLS delivered. */
void tbSctpInput(tbSctp *s, const uint8_t *pkt, size_t len);
/* Moves every queued outgoing packet to fn (in order). */
void tbSctpDrain(tbSctp *s, void (*fn)(void *ud, const uint8_t *pkt, size_t len), void *ud);
/* Sends a message on the channel named label (its reliability and order
 * apply). Returns 0, -1 (no such channel, too big, or usrsctp refused). */
int tbSctpSendLabel(tbSctp *s, const char *label, uint32_t ppid, const uint8_t *data,
                    size_t len);
int tbSctpSend(tbSctp *s, uint16_t stream, uint32_t ppid, const uint8_t *data, size_t len);
/* Opens a channel (DCEP OPEN); max_retransmits < 0 = reliable. The stream
 * id is written to *stream. Returns 0 or -1. */
int tbSctpOpenChannel(tbSctp *s, const char *label, bool ordered, int max_retransmits,
                      uint16_t *stream);
bool tbSctpIsUp(const tbSctp *s);
void tbSctpGetStats(const tbSctp *s, tbSctpStats *out);
/* Aborts the association and frees it (no callback runs afterwards). */
void tbSctpFree(tbSctp *s);

#endif
