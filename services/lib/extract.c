/* extract.c: main text and metadata of a web page (see extract.h), the whole run: the page is
 * parsed into dom.h's tree, the metadata read in one pass (extract_meta.c), the main text found
 * (extract_body.c) and, when the first attempt yields very little text, found again without the
 * class/id filter, since some sites name their article container "post-sidebar" or worse. A
 * page with no date at all then takes the first one printed at the head of its main text, and
 * one with no author a labelled byline line ("Von Jo Lind"). What the parts share is in
 * extract_internal.h. */
#include "extract.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "newswire/buf.h"
#include "wire.h"

#include "extract_internal.h"

/* Below this many bytes of text the first attempt is retried without the class/id filter. */
#define MIN_TEXT 500
/* Metadata strings longer than this are not metadata. */

void
nw_extract_release(nw_extract_t *ex)
{
    if (ex == NULL)
        return;
    free(ex->title);
    free(ex->subtitle);
    for (size_t k = 0; k < ex->n_authors; k++)
        free(ex->authors[k]);
    free(ex->authors);
    free(ex->published);
    free(ex->modified);
    free(ex->site_name);
    free(ex->lang);
    free(ex->canonical);
    free(ex->image);
    free(ex->section);
    for (size_t k = 0; k < ex->n_tags; k++)
        free(ex->tags[k]);
    free(ex->tags);
    free(ex->text);
    free(ex->container);
    for (size_t k = 0; k < ex->n_captions; k++)
        nw_wire_caption_release(&ex->captions[k]);
    free(ex->captions);
    memset(ex, 0, sizeof(*ex));
}

int
nw_extract_html(const char *html, size_t len, const char *url, time_t now, nw_extract_t *out)
{
    nw_dom_t *doc = NULL;
    ninfo_t *infos = NULL;
    meta_t m = {0};
    emit_t e1 = {0}, e2 = {0};
    char cutoff[16];
    int rc = -EPROTO;

    memset(out, 0, sizeof(*out));
    size_t lead = 0;
    while (lead < len && (html[lead] == ' ' || html[lead] == '\n' || html[lead] == '\t' ||
                          html[lead] == '\r' || html[lead] == '\f'))
        lead++;
    if (lead == len || len > INT_MAX) /* nothing to build a document from */
        goto out;
    rc = -ENOMEM;
    if ((doc = nw_dom_parse(html, len)) == NULL)
        goto out;
    nw_dom_node_t *root = nw_dom_root(doc);

    if (now == 0)
        now = time(NULL);
    now += 86400;
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(cutoff, sizeof(cutoff), "%Y-%m-%d", &tm) == 0)
        snprintf(cutoff, sizeof(cutoff), "9999-12-31");
    for (int f = 0; f < F_COUNT; f++)
        m.rank[f] = R_NONE;
    m.authors.rank = m.tags.rank = R_NONE;
    m.url = url;
    m.cutoff = cutoff;
    rc = -ENOMEM;
    if (nw_extract_collect_meta(&m, root) < 0)
        goto out;

    size_t n_infos = 0;
    for (nw_dom_node_t *n = root; n != NULL; n = next_node(n, root, true))
        n_infos += n->type == NW_DOM_ELEMENT;
    if ((infos = calloc(n_infos ? n_infos : 1, sizeof(*infos))) == NULL)
        goto out;
    size_t k = 0;
    for (nw_dom_node_t *n = root; n != NULL; n = next_node(n, root, true))
        if (n->type == NW_DOM_ELEMENT) {
            infos[k].node = n;
            n->data = &infos[k++];
        }

    /* from the root, not <body>: measured, starting at <body> loses a few paragraphs */
    nw_dom_node_t *body = root;
    if (nw_extract_body_text(body, infos, n_infos, STRIP_CLASSES,
                             m.body_title ? m.body_title : m.f[F_TITLE], &e1) < 0)
        goto out;
    emit_t *best = &e1;
    if (e1.out.len < MIN_TEXT) {
        if (nw_extract_body_text(body, infos, n_infos, STRIP_ROLES,
                                 m.body_title ? m.body_title : m.f[F_TITLE], &e2) < 0)
            goto out;
        if (e2.out.len > e1.out.len)
            best = &e2;
    }
    if (nw_buf_append(&best->out, "", 0) < 0)
        goto out;
    /* no date anywhere else: a date line often opens the article text ("12. März 2019 | ...") */
    if (m.rank[F_PUB] > R_URL && best->out.len > 0) {
        char head[240], d[11];
        size_t hl = best->out.len - 1 < sizeof(head) - 1 ? best->out.len - 1 : sizeof(head) - 1;
        memcpy(head, best->out.data, hl);
        head[hl] = 0;
        if (nw_extract_text_date(head, d) && nw_extract_set_date(&m, F_PUB, d, R_H1) < 0)
            goto out;
    }
    if (nw_extract_prefer_printed_day(&m) < 0)
        goto out;
    if (m.authors.n == 0 && nw_extract_labelled_byline(&m, root) < 0)
        goto out;
    if (best->top != NULL && (out->container = nw_extract_node_path(best->top)) == NULL)
        goto out;
    out->text = (char *)nw_buf_steal(&best->out, NULL);
    out->captions = best->caps;
    out->n_captions = best->n_caps;
    best->caps = NULL;
    best->n_caps = 0;

    out->title = m.f[F_TITLE];
    out->subtitle = m.f[F_SUB];
    out->published = m.f[F_PUB];
    out->modified = m.f[F_MOD];
    out->site_name = m.f[F_SITE];
    out->lang = m.f[F_LANG];
    out->canonical = m.f[F_CANON];
    out->image = m.f[F_IMAGE];
    out->section = m.f[F_SECTION];
    memset(m.f, 0, sizeof(m.f));
    out->authors = m.authors.v;
    out->n_authors = m.authors.n;
    out->tags = m.tags.v;
    out->n_tags = m.tags.n;
    m.authors.v = m.tags.v = NULL;
    m.authors.n = m.tags.n = 0;
    rc = 0;
out:
    if (rc < 0)
        nw_extract_release(out);
    nw_extract_emit_release(&e1);
    nw_extract_emit_release(&e2);
    nw_extract_meta_release(&m);
    nw_dom_destroy(&doc);
    free(infos);
    return rc;
}
