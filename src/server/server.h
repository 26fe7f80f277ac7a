/* server.h — one tribune process: the control-plane loop (libuv) with its
 * HTTP listeners, the room registry and its sweep timer, signal handling for
 * a clean shutdown. Media workers join here in the media issue. */
#ifndef TB_SERVER_H
#define TB_SERVER_H

#include "config/config.h"

/* Runs until SIGINT/SIGTERM. Returns the process exit code. */
int tbServerRun(const tbConfig *cfg);

#endif
