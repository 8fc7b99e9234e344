/* buf.c: growable byte buffer (see buf.h). */
#include "newswire/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
nw_buf_reserve(nw_buf_t *b, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len - 1)
        return -ENOMEM;
    size_t need = b->len + n + 1; /* +1 keeps room for the terminating NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int
nw_buf_append(nw_buf_t *b, const void *p, size_t n)
{
    int rc = nw_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int
nw_buf_puts(nw_buf_t *b, const char *s)
{
    return nw_buf_append(b, s, strlen(s));
}

int
nw_buf_printf(nw_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int rc = nw_buf_reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void
nw_buf_reset(nw_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void
nw_buf_release(nw_buf_t *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

uint8_t *
nw_buf_steal(nw_buf_t *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
