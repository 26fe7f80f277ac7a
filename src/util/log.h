/* log.h — leveled logging to stderr, plain text or one JSON object per line
 * (logging.json). The logger is a small struct owned by the server and
 * installed once at start-up before any thread starts; it is read-only
 * afterwards, so workers may log without locks (each line is one write(2)). */
#ifndef TB_LOG_H
#define TB_LOG_H

#include <stdbool.h>
#include "config/config.h"

void tbLogSetup(tbLogLevel level, bool json);
tbLogLevel tbLogGetLevel(void);

void tbLog(tbLogLevel level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define tbDebug(comp, ...) tbLog(TB_LOG_DEBUG, comp, __VA_ARGS__)
#define tbInfo(comp, ...)  tbLog(TB_LOG_INFO, comp, __VA_ARGS__)
#define tbWarn(comp, ...)  tbLog(TB_LOG_WARN, comp, __VA_ARGS__)
#define tbError(comp, ...) tbLog(TB_LOG_ERROR, comp, __VA_ARGS__)

#endif
