/* log.c — see log.h. The level and format are process-wide settings written
 * once before threads start (the only file-scope state in tribune). */
#include "util/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    tbLogLevel level;
    bool json;
} logSettings = {TB_LOG_INFO, false};

void tbLogSetup(tbLogLevel level, bool json) {
    logSettings.level = level;
    logSettings.json = json;
}

tbLogLevel tbLogGetLevel(void) { return logSettings.level; }

static void logTimestamp(char *buf, size_t len) {
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

void tbLog(tbLogLevel level, const char *component, const char *fmt, ...) {
    if (level < logSettings.level) return;
    char msg[2048], ts[40], line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    logTimestamp(ts, sizeof ts);
    int n;
    if (logSettings.json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts, "level", tbLogLevelName(level),
                              "component", component, "msg", msg);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        n = snprintf(line, sizeof line, "%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
    } else {
        n = snprintf(line, sizeof line, "%s %-5s %s: %s\n", ts, tbLogLevelName(level), component,
                     msg);
    }
    if (n > (int)sizeof line - 1) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

const char *tbLogLevelName(tbLogLevel l) {
    switch (l) {
    case TB_LOG_DEBUG: return "debug";
    case TB_LOG_INFO: return "info";
    case TB_LOG_WARN: return "warn";
    case TB_LOG_ERROR: return "error";
    }
    return "info";
}
