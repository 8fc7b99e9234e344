/* log.c: one line per event on stderr, logfmt or JSON (see log.h). A single write(2) per line
 * keeps lines whole when several processes share one terminal or file.
 *
 * Fields: a message is written as text followed by key=value pairs ("dead letter reason=x
 * bytes=12"). The tail that parses completely as pairs (value: a bare word, or a "quoted"
 * string with \" and \\ escapes) becomes fields of their own: logfmt keeps them as keys beside
 * msg=, JSON as members (numbers as numbers). A message whose tail does not parse (a quote
 * inside an unquoted value, text after the pairs) stays whole in msg, so nothing is lost. */
#include "newswire/log.h"
#include "newswire/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int nw_log_level = NW_LOG_INFO;
static const char *log_svc = "newswire";
static int log_json;

void
nw_log_init(const char *svc, int level)
{
    log_svc = svc;
    nw_log_level = level;
}

int
nw_log_set_format(const char *format)
{
    if (strcmp(format, "logfmt") == 0)
        log_json = 0;
    else if (strcmp(format, "json") == 0)
        log_json = 1;
    else
        return -1;
    return 0;
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

#define MAX_FIELDS 16

typedef struct {
    const char *key, *val; /* val: for a quoted value, the text inside the quotes (escaped) */
    size_t klen, vlen;
    int quoted;
} field_t;

static int
key_char(int c)
{
    return islower(c) || isdigit(c) || c == '_' || c == '-' || c == '.';
}

/* Parse s as " key=value" pairs to its end. Returns the count, or -1 when s is not only pairs. */
static int
parse_fields(const char *s, field_t *f, int max)
{
    int n = 0;
    while (*s) {
        if (*s != ' ' || n == max)
            return -1;
        s++;
        const char *k = s;
        if (!islower((unsigned char)*s))
            return -1;
        while (key_char((unsigned char)*s))
            s++;
        if (*s != '=')
            return -1;
        f[n].key = k;
        f[n].klen = (size_t)(s - k);
        s++;
        if (*s == '"') {
            const char *v = ++s;
            while (*s && *s != '"')
                s += s[0] == '\\' && s[1] ? 2 : 1;
            if (*s != '"')
                return -1;
            f[n].val = v;
            f[n].vlen = (size_t)(s - v);
            f[n].quoted = 1;
            s++;
        } else {
            const char *v = s;
            while (*s && *s != ' ' && *s != '"')
                s++;
            if (*s == '"')
                return -1;
            f[n].val = v;
            f[n].vlen = (size_t)(s - v);
            f[n].quoted = 0;
        }
        n++;
    }
    return n;
}

/* Split msg into text and fields: the first " key=" from which the rest is only pairs. */
static size_t
split(const char *msg, field_t *f, int *nf)
{
    for (const char *p = strchr(msg, ' '); p; p = strchr(p + 1, ' ')) {
        if (!islower((unsigned char)p[1]))
            continue;
        int n = parse_fields(p, f, MAX_FIELDS);
        if (n > 0) {
            *nf = n;
            return (size_t)(p - msg);
        }
    }
    *nf = 0;
    return strlen(msg);
}

typedef struct {
    char *buf;
    size_t n, cap;
    int cut; /* something did not fit */
} out_t;

static void
put(out_t *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (o->n + 2 >= o->cap) {
            o->cut = 1;
            return;
        }
        o->buf[o->n++] = s[i];
    }
}

static void
puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Escape for a logfmt quoted value or a JSON string (both: \" \\ and control bytes). */
static void
put_escaped(out_t *o, const char *s, size_t len, int json)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o->n + 8 >= o->cap) {
            o->cut = 1;
            return;
        }
        if (c == '"' || c == '\\') {
            o->buf[o->n++] = '\\';
            o->buf[o->n++] = (char)c;
        } else if (c < 0x20 && json) {
            o->n += (size_t)snprintf(o->buf + o->n, o->cap - o->n, "\\u%04x", c);
        } else if (c < 0x20) {
            o->buf[o->n++] = '\\';
            o->buf[o->n++] = c == '\n' ? 'n' : c == '\t' ? 't' : '?';
        } else {
            o->buf[o->n++] = (char)c;
        }
    }
}

/* A quoted value's text is already escaped for logfmt; JSON wants it unescaped first. */
static void
put_unquoted_json(out_t *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len)
            i++;
        put_escaped(o, s + i, 1, 1);
    }
}

static int
is_number(const char *s, size_t len)
{
    size_t i = s[0] == '-' ? 1 : 0;
    if (i >= len || !isdigit((unsigned char)s[i]) ||
        (s[i] == '0' && i + 1 < len && s[i + 1] != '.'))
        return 0;
    int dot = 0;
    for (; i < len; i++) {
        if (s[i] == '.' && !dot && i + 1 < len)
            dot = 1;
        else if (!isdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

static size_t
format_line(char *line, size_t cap, int level, const char *id, const char *msg, int *cut)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    const char *lname = names[level < 0 || level > 4 ? 4 : level];
    char ts[40];
    nw_time_iso(nw_now_ms(), ts, sizeof ts);
    field_t f[MAX_FIELDS];
    int nf = 0;
    size_t mlen = split(msg, f, &nf);
    out_t o = {line, 0, cap, 0};
    if (log_json) {
        puts_(&o, "{\"ts\":\"");
        puts_(&o, ts);
        puts_(&o, "\",\"level\":\"");
        puts_(&o, lname);
        puts_(&o, "\",\"svc\":\"");
        put_escaped(&o, log_svc, strlen(log_svc), 1);
        if (id && *id) {
            puts_(&o, "\",\"id\":\"");
            put_escaped(&o, id, strlen(id), 1);
        }
        puts_(&o, "\",\"msg\":\"");
        put_escaped(&o, msg, mlen, 1);
        puts_(&o, "\"");
        for (int i = 0; i < nf; i++) {
            puts_(&o, ",\"");
            put(&o, f[i].key, f[i].klen);
            puts_(&o, "\":");
            if (!f[i].quoted && is_number(f[i].val, f[i].vlen)) {
                put(&o, f[i].val, f[i].vlen);
                continue;
            }
            puts_(&o, "\"");
            if (f[i].quoted)
                put_unquoted_json(&o, f[i].val, f[i].vlen);
            else
                put_escaped(&o, f[i].val, f[i].vlen, 1);
            puts_(&o, "\"");
        }
        o.buf[o.n++] = '}';
    } else {
        puts_(&o, "ts=");
        puts_(&o, ts);
        puts_(&o, " level=");
        puts_(&o, lname);
        puts_(&o, " svc=");
        puts_(&o, log_svc);
        if (id && *id) {
            puts_(&o, " id=");
            puts_(&o, id);
        }
        puts_(&o, " msg=\"");
        put_escaped(&o, msg, mlen, 0);
        puts_(&o, "\"");
        for (int i = 0; i < nf; i++) {
            puts_(&o, " ");
            put(&o, f[i].key, f[i].klen);
            puts_(&o, "=");
            if (f[i].quoted)
                puts_(&o, "\"");
            put(&o, f[i].val, f[i].vlen);
            if (f[i].quoted)
                puts_(&o, "\"");
        }
    }
    *cut = o.cut;
    o.buf[o.n++] = '\n';
    return o.n;
}

size_t
nw_log_format_line(char *line, size_t cap, int level, const char *id, const char *msg)
{
    int cut = 0;
    size_t n = format_line(line, cap, level, id, msg, &cut);
    if (!cut)
        return n;
    /* Too long once escaped: shorten the message until the line is whole (a cut JSON line
     * would not parse, a cut logfmt one would lose its fields), marking the cut. */
    char short_msg[1024];
    size_t len = strlen(msg);
    if (len >= sizeof short_msg)
        len = sizeof short_msg - 1;
    while (cut && len > 8) {
        len /= 2;
        snprintf(short_msg, sizeof short_msg, "%.*s...", (int)len, msg);
        n = format_line(line, cap, level, id, short_msg, &cut);
    }
    return n;
}

void
nw_log_write(int level, const char *id, const char *fmt, ...)
{
    char msg[1024], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = nw_log_format_line(line, sizeof line, level, id, msg);
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
