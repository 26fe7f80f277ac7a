/* worker.h — media worker threads and the queues between them and the
 * control thread. A worker owns a libuv loop, a UDP socket (media/udp.h) and
 * a router (media/router.h) with every transport of the rooms assigned to it.
 * Commands arrive on a mutex-protected list drained in one batch per wake-up;
 * events go back the same way to the control loop. The mutexes are taken per
 * command or event batch, never per packet. */
#ifndef TB_MEDIA_WORKER_H
#define TB_MEDIA_WORKER_H

#include <uv.h>

#include "media/media.h"

typedef enum tbMediaCmdType {
    TB_CMD_ADD_TRANSPORT = 1,
    TB_CMD_REMOVE_TRANSPORT,
    TB_CMD_PUBLISH,
    TB_CMD_UNPUBLISH,
    TB_CMD_SUBSCRIBE,
    TB_CMD_UNSUBSCRIBE,
    TB_CMD_SET_MUTED,
    TB_CMD_SEND_DATA,
    TB_CMD_ICE_RESTART,         /* u.transport: the new credentials */
} tbMediaCmdType;

typedef struct tbMediaCmd {
    tbMediaCmdType type;
    uint32_t room_id;
    uint32_t transport_id;
    uint32_t track_id;
    bool muted;
    uint8_t *data;              /* SEND_DATA: the message (freed with the command) */
    size_t data_len;
    uint32_t ppid;
    char label[64];
    union {
        tbMediaTransportSpec transport;
        tbMediaPublishSpec publish;
        tbMediaSubscribeSpec subscribe;
    } u;
    struct tbMediaCmd *next;
} tbMediaCmd;

/* Called by a worker's router to report an event to the control thread
 * (ev->data, if any, is then owned by the media plane and freed after the
 * event callback ran). */
void tbMediaPostEvent(tbMedia *m, const tbMediaEvent *ev);
/* Wakes worker index (SCTP has packets waiting); any thread. */
void tbMediaWakeWorker(tbMedia *m, int index);

#endif
