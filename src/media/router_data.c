/* router_data.c — a transport's data channels: the SCTP association
 * (src/data/sctp.h) that runs over its DTLS once connected, fed with what
 * DTLS decrypts and drained into DTLS on this worker's thread; messages go
 * to the control plane as TB_MEDIA_DATA events, and TB_CMD_SEND_DATA
 * commands come back. Packets usrsctp's own thread produces wake the worker
 * (tbMediaWakeWorker), which drains them in tbRouterDrainData. */
#include <stdlib.h>
#include <string.h>

#include "data/dcep.h"
#include "media/router_internal.h"
#include "util/log.h"

#define TB_DATA_MAX_MESSAGE 262144 /* what our SDP's a=max-message-size announces */

static void sctpWake(void *ud) {
    tbTransport *t = ud;
    tbMediaWakeWorker(t->router->media, t->router->index);
}

static void sctpMessage(void *ud, uint16_t stream, const char *label, uint32_t ppid,
                        const uint8_t *data, size_t len) {
    tbTransport *t = ud;
    (void)stream;
    tbMediaEvent ev;
    memset(&ev, 0, sizeof ev);
    ev.type = TB_MEDIA_DATA;
    ev.transport_id = t->id;
    ev.room_id = t->room_id;
    ev.ppid = ppid;
    snprintf(ev.label, sizeof ev.label, "%s", label);
    ev.data = malloc(len ? len : 1);
    if (ev.data == NULL) return;
    if (len) memcpy(ev.data, data, len);
    ev.data_len = len;
    t->router->stats.data_in++;
    tbMediaPostEvent(t->router->media, &ev);
}

static void sctpOpen(void *ud, uint16_t stream, const char *label) {
    tbTransport *t = ud;
    tbInfo("media", "transport %u: data channel %s (stream %u) open", t->id, label, stream);
}

static void sctpState(void *ud, bool up) {
    tbTransport *t = ud;
    tbInfo("media", "transport %u: SCTP association %s", t->id, up ? "up" : "down");
    uint16_t stream;
    if (up && t->server_channels) { /* LiveKit's server-created channels (/rtc) */
        tbSctpOpenChannel(t->sctp, "_reliable", true, -1, &stream);
        tbSctpOpenChannel(t->sctp, "_lossy", false, 0, &stream);
    }
}

static void toDtls(void *ud, const uint8_t *pkt, size_t len) {
    tbTransport *t = ud;
    if (t->dtls && tbDtlsSend(t->dtls, pkt, len) != TB_DTLS_OK) t->router->stats.data_dropped++;
}

static void drain(tbTransport *t) {
    if (t->sctp) tbSctpDrain(t->sctp, toDtls, t);
}

void tbRouterDataConnected(tbTransport *t) {
    if (!t->want_data || t->sctp) return;
    tbSctpCallbacks cb = {sctpOpen, sctpMessage, sctpState, sctpWake, t};
    t->sctp = tbSctpNew(&cb, t->sctp_port, t->role == TB_DTLS_CLIENT, TB_DATA_MAX_MESSAGE);
    if (t->sctp == NULL || tbSctpConnect(t->sctp) != 0) {
        tbWarn("media", "transport %u: no data channels (SCTP failed to start)", t->id);
        return;
    }
    drain(t);
}

void tbRouterDataInput(tbTransport *t, const uint8_t *data, size_t len) {
    if (t->sctp == NULL) {
        t->router->stats.data_dropped++; /* no data section was negotiated */
        return;
    }
    tbSctpInput(t->sctp, data, len);
    drain(t);
}

void tbRouterDataSend(tbRouter *r, const tbMediaCmd *c) {
    for (tbTransport *t = r->transports; t; t = t->next) {
        if (t->id != c->transport_id) continue;
        if (t->sctp == NULL ||
            tbSctpSendLabel(t->sctp, c->label, c->ppid, c->data, c->data_len) != 0) {
            r->stats.data_dropped++;
            return;
        }
        r->stats.data_out++;
        drain(t);
        return;
    }
    r->stats.data_dropped++;
}

void tbRouterDrainData(tbRouter *r) {
    for (tbTransport *t = r->transports; t; t = t->next) drain(t);
}

void tbRouterDataFree(tbTransport *t) {
    if (t->sctp == NULL) return;
    tbSctpStats st;
    tbSctpGetStats(t->sctp, &st);
    t->router->stats.data_dropped += st.dropped_oversize + st.dropped_unknown;
    tbSctpFree(t->sctp);
    t->sctp = NULL;
}
