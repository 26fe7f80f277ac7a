/* external_ip.h — rtc.use_external_ip: ask the configured STUN servers
 * (rtc.stun_servers, LiveKit's Google defaults when empty) for this host's
 * public address, as livekit-server does at start-up, so the ICE candidates
 * carry it. Uses libnice's STUN binding usage; blocking, start-up only. */
#ifndef TB_MEDIA_EXTERNAL_IP_H
#define TB_MEDIA_EXTERNAL_IP_H

#include <stddef.h>

#include "config/config.h"

/* Writes the first mapped address any server returns into ip (e.g.
 * "203.0.113.7") and returns 0; -1 when none answered. `from` receives the
 * server that answered. */
int tbExternalIp(const tbConfig *cfg, char *ip, size_t iplen, char *from, size_t fromlen);

#endif
