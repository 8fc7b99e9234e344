/* log.c: logfmt lines on stderr (see log.h). A single write(2) per line keeps lines whole
 * when several processes share one terminal or file. */
#include "newswire/log.h"
#include "newswire/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int nw_log_level = NW_LOG_INFO;
static const char *log_svc = "newswire";

void
nw_log_init(const char *svc, int level)
{
    log_svc = svc;
    nw_log_level = level;
}

int
nw_log_parse_level(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void
nw_log_write(int level, const char *id, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    char msg[1024], line[2048], ts[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nw_time_iso(nw_now_ms(), ts, sizeof ts);

    size_t n = (size_t)snprintf(line, sizeof line, "ts=%s level=%s svc=%s", ts,
                                names[level < 0 || level > 4 ? 4 : level], log_svc);
    if (id && *id && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, " id=%s", id);
    if (n + 8 < sizeof line) {
        memcpy(line + n, " msg=\"", 6);
        n += 6;
        /* Escape quotes, backslashes and control bytes so one event stays one line. */
        for (const char *p = msg; *p && n + 4 < sizeof line; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\') {
                line[n++] = '\\';
                line[n++] = (char)c;
            } else if (c < 0x20) {
                line[n++] = '\\';
                line[n++] = c == '\n' ? 'n' : c == '\t' ? 't' : '?';
            } else {
                line[n++] = (char)c;
            }
        }
        line[n++] = '"';
    }
    if (n >= sizeof line)
        n = sizeof line - 1;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
