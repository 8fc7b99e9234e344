/* extract_tree.c: reading dom.h's tree for both halves of extraction (extract_internal.h): an
 * element's class and id, a word test over them, and the cleaned text of a subtree. */
#include "extract_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "newswire/buf.h"
#include "wire.h"

/* The lowercase class and id of n, space separated, in buf. */
void
nw_extract_class_id(const nw_dom_node_t *n, char *buf, size_t cap)
{
    const char *c = attr(n, "class"), *i = attr(n, "id");
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *s = pass == 0 ? c : i;
        if (s == NULL)
            continue;
        for (; *s && k + 2 < cap; s++)
            buf[k++] = (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
        if (k + 1 < cap)
            buf[k++] = ' ';
    }
    buf[k] = 0;
}

bool
nw_extract_has_any(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++)
        if (strstr(s, words[i]) != NULL)
            return true;
    return false;
}

/* Whitespace-normalised copy of s[0..len): Unicode spaces and controls become one space per run,
 * zero-width characters and soft hyphens go (a browser shows neither unless it breaks the line
 * there, and a word split by them matches nothing downstream), the ends are trimmed and invalid
 * UTF-8 becomes U+FFFD, so the result is always valid. Unlike nw_wire_clean it leaves
 * punctuation spacing alone: "Macronie : une" is how French is printed. Returns a malloc'd string
 * or NULL on ENOMEM. */
char *
nw_extract_text_clean(const char *s, size_t len)
{
    char *o = malloc(len * 3 + 4), *w = o; /* a stray byte becomes a 3-byte U+FFFD */
    if (o == NULL)
        return NULL;
    bool space = true;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c = p[i];
        utf8proc_ssize_t k = 1;
        if (c >= 0x80) {
            k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
            if (k < 0) {
                c = 0xfffd;
                k = 1;
            }
        }
        i += (size_t)k;
        if (c == 0xad || c == 0x200b || c == 0x200c || c == 0x200d || c == 0x2060 || c == 0xfeff)
            continue;
        utf8proc_category_t cat = c < 0x80 ? UTF8PROC_CATEGORY_LL : utf8proc_category(c);
        if (c <= ' ' || c == 0x7f || cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
            cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC) {
            if (!space)
                *w++ = ' ';
            space = true;
            continue;
        }
        space = false;
        w += utf8proc_encode_char(c, (utf8proc_uint8_t *)w);
    }
    if (w > o && w[-1] == ' ')
        w--;
    *w = 0;
    return o;
}

/* The cleaned text of n's subtree. Returns a malloc'd string or NULL on ENOMEM. */
char *
nw_extract_node_text(nw_dom_node_t *top)
{
    nw_buf_t b = {0};
    char *r = NULL;
    if (nw_buf_reserve(&b, 64) < 0)
        return NULL;
    for (nw_dom_node_t *n = top->children; n != NULL;) {
        bool descend = true;
        if (n->type == NW_DOM_TEXT) {
            if (n->content != NULL && nw_buf_puts(&b, (const char *)n->content) < 0)
                goto out;
        } else if (n->type == NW_DOM_ELEMENT) {
            if (is_void_of_text(n))
                descend = false;
            else if ((n->tag == NW_TAG_BR || is_block(n)) && nw_buf_puts(&b, " ") < 0)
                goto out;
        }
        n = next_node(n, top, descend);
    }
    r = nw_extract_text_clean(b.data ? (const char *)b.data : "", b.len);
out:
    nw_buf_release(&b);
    return r;
}
