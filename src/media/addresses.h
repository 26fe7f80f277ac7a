/* addresses.h — which IP addresses tribune advertises as ICE candidates:
 * rtc.node_ip when set; else, with rtc.use_external_ip, the address STUN
 * servers see (media/external_ip.h); else the addresses of the host's interfaces that
 * rtc.interfaces / rtc.ips allow, skipping loopback and link-local unless in
 * development mode (as livekit-server --dev does). */
#ifndef TB_MEDIA_ADDRESSES_H
#define TB_MEDIA_ADDRESSES_H

#include <stddef.h>

#include "config/config.h"

#define TB_MAX_LOCAL_ADDRS 8
#define TB_ADDR_STRLEN 64

typedef struct tbLocalAddrs {
    char ip[TB_MAX_LOCAL_ADDRS][TB_ADDR_STRLEN];
    size_t len;
} tbLocalAddrs;

/* Fills `out`; returns the count (0 = nothing usable: the caller warns). */
size_t tbLocalAddresses(const tbConfig *cfg, tbLocalAddrs *out);

#endif
