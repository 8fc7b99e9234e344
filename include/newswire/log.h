/* log.h: the one logger. One line per event on stderr, logfmt:
 *   ts=2026-11-22T02:28:20.123Z level=warn svc=parse id=0426941d msg="dead letter" reason=x
 * or, after nw_log_set_format("json"), one JSON object per line:
 *   {"ts":"2026-11-22T02:28:20.123Z","level":"warn","svc":"parse","id":"0426941d",
 *    "msg":"dead letter","reason":"x"}
 * Write a message as text, then its fields as key=value pairs (value a bare word or
 * "quoted"): NW_WARN(id, "dead letter reason=%s bytes=%zu", reason, n). The pairs at the end
 * become keys of their own, so log tools filter by reason= or bytes= (log.c says how).
 * The level is checked before anything is formatted. Messages are lowercase, what failed
 * first, the subject quoted. Log where an error is handled, not at every layer. */
#ifndef NW_LOG_H
#define NW_LOG_H

#include <stddef.h>

enum nw_log_level { NW_LOG_DEBUG = 0, NW_LOG_INFO, NW_LOG_WARN, NW_LOG_ERROR, NW_LOG_OFF };

extern int nw_log_level;

/* Name the service (borrowed for the process lifetime) and set the level. */
void nw_log_init(const char *svc, int level);
/* Choose the line format: "logfmt" (the default) or "json". Returns 0, or -1 for another
 * name. */
int nw_log_set_format(const char *format);
/* Format one line (with its newline) for msg into line (cap bytes, at least 64); returns its
 * length. What nw_log_write writes; exposed for tests. */
size_t nw_log_format_line(char *line, size_t cap, int level, const char *id, const char *msg);
/* Parse "debug|info|warn|error|off"; returns the level or -1. */
int nw_log_parse_level(const char *s);
/* Write one line. id may be NULL. Use the NW_LOG macro instead. */
void nw_log_write(int level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define NW_LOG(level, id, ...)                                                                     \
    do {                                                                                           \
        if ((level) >= nw_log_level)                                                               \
            nw_log_write((level), (id), __VA_ARGS__);                                              \
    } while (0)
#define NW_DEBUG(id, ...) NW_LOG(NW_LOG_DEBUG, id, __VA_ARGS__)
#define NW_INFO(id, ...) NW_LOG(NW_LOG_INFO, id, __VA_ARGS__)
#define NW_WARN(id, ...) NW_LOG(NW_LOG_WARN, id, __VA_ARGS__)
#define NW_ERROR(id, ...) NW_LOG(NW_LOG_ERROR, id, __VA_ARGS__)

#endif
