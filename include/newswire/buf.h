/* buf.h: a growable byte buffer, the one way bytes are accumulated in newswire
 * (encoded messages, JSON output, HTTP bodies). Plain value struct; zero-initialise it. */
#ifndef NW_BUF_H
#define NW_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct nw_buf {
    uint8_t *data; /* NUL-terminated after every append, so text can be read as a C string */
    size_t len;
    size_t cap;
} nw_buf_t;

/* Make room for n more bytes. Returns 0 or -ENOMEM; the contents are kept either way. */
int nw_buf_reserve(nw_buf_t *b, size_t n);
/* Append n bytes. Returns 0 or -ENOMEM. */
int nw_buf_append(nw_buf_t *b, const void *p, size_t n);
/* Append a C string. Returns 0 or -ENOMEM. */
int nw_buf_puts(nw_buf_t *b, const char *s);
/* Append printf-formatted text. Returns 0 or -ENOMEM. */
int nw_buf_printf(nw_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empty the buffer, keeping its memory. */
void nw_buf_reset(nw_buf_t *b);
/* Free the memory; the buffer is empty and reusable afterwards. NULL-safe. */
void nw_buf_release(nw_buf_t *b);
/* Hand the bytes to the caller (caller frees with free()); the buffer is left empty. */
uint8_t *nw_buf_steal(nw_buf_t *b, size_t *len);

#endif
