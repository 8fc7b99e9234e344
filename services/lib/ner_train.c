/* ner_train.c: what trains and evaluates the NER model (ner_train.h), kept out of the runtime
 * library: a reader of CoNLL column files, plain or gzip-compressed, and the trainer, a
 * structured averaged perceptron over the tagger's own features (ner_internal.h), then pruning
 * and int16 quantisation into a model. Built as newswire_train, linked by bench/ and tests/. */
#include "ner_train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ner_internal.h"

/* The trainer's Viterbi, over its double weights (the tagger's, in ner.c, runs on the model's
 * integers and gives the same labels for the same weights): the best label sequence for n
 * tokens given emission scores em[n*NL] and transitions tr[(NL+1)*NL]. Ties go to the lower
 * label, so the result is deterministic. bp is n*NL bytes of scratch. */
static void
viterbi(const double *em, const double *tr, size_t n, uint8_t *bp, uint8_t *out)
{
    double cur[NL], nxt[NL];
    for (int l = 0; l < NL; l++)
        cur[l] = allowed(START, l) ? tr[START * NL + l] + em[l] : -INFINITY;
    for (size_t i = 1; i < n; i++) {
        for (int l = 0; l < NL; l++) {
            double best = -INFINITY;
            int arg = 0;
            for (int p = 0; p < NL; p++) {
                if (!allowed(p, l))
                    continue;
                double v = cur[p] + tr[p * NL + l];
                if (v > best) {
                    best = v;
                    arg = p;
                }
            }
            nxt[l] = best + em[i * NL + l];
            bp[i * NL + l] = (uint8_t)arg;
        }
        memcpy(cur, nxt, sizeof cur);
    }
    int best = 0;
    for (int l = 1; l < NL; l++)
        if (cur[l] > cur[best])
            best = l;
    for (size_t i = n; i-- > 0;) {
        out[i] = (uint8_t)best;
        if (i > 0)
            best = bp[i * NL + best];
    }
}

/* CoNLL reader */

int
nw_ner_conll_next(nw_ner_conll_t *c)
{
    c->n = 0;
    while (c->pos < c->len) {
        const char *line = c->buf + c->pos;
        const char *nl = memchr(line, '\n', c->len - c->pos);
        size_t ll = nl ? (size_t)(nl - line) : c->len - c->pos;
        c->pos += ll + (nl != NULL);
        while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' '))
            ll--;
        if (ll == 0) {
            if (c->n > 0)
                return 1;
            continue;
        }
        if (ll >= 10 && memcmp(line, "-DOCSTART-", 10) == 0) {
            c->doc++;
            if (c->n > 0)
                return 1;
            continue;
        }
        /* "word POS chunk TAG" (CoNLL-2003) or "word<TAB>TAG" (the multilingual sets): with a
         * tab on the line, the word runs to the first tab, so a word may hold a space. */
        const char *sp = memchr(line, '\t', ll);
        char sep = sp != NULL ? '\t' : ' ';
        if (sp == NULL)
            sp = memchr(line, ' ', ll);
        const char *last = line + ll;
        while (last > line && last[-1] != sep)
            last--;
        if (sp == NULL)
            return -EPROTO;
        int lab = nw_ner_label_parse(last, (size_t)(line + ll - last));
        if (lab < 0)
            return -EPROTO;
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 64;
            nw_ner_word_t *w = realloc(c->words, cap * sizeof *w);
            if (w == NULL)
                return -ENOMEM;
            c->words = w;
            uint8_t *l = realloc(c->labels, cap);
            if (l == NULL)
                return -ENOMEM;
            c->labels = l;
            c->cap = cap;
        }
        c->words[c->n] = (nw_ner_word_t){.s = line, .len = (size_t)(sp - line)};
        c->labels[c->n++] = (uint8_t)lab;
    }
    return c->n > 0;
}

int
nw_ner_conll_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    *out = NULL;
    *len = 0;
    gzFile f = gzopen(path, "rb");
    if (f == NULL)
        return errno ? -errno : -ENOMEM;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : (size_t)1 << 20;
            if (cap > max + 1)
                cap = max + 1;
            if (n == cap) {
                rc = -EFBIG;
                goto out;
            }
            uint8_t *p = realloc(buf, cap + 1);
            if (p == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            buf = p;
        }
        size_t want = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        int got = gzread(f, buf + n, (unsigned)want);
        if (got < 0) {
            rc = -EPROTO; /* a damaged gzip stream */
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    buf = NULL;
out:
    gzclose(f);
    free(buf);
    return rc;
}

void
nw_ner_conll_release(nw_ner_conll_t *c)
{
    if (c == NULL)
        return;
    free(c->words);
    free(c->labels);
    c->words = NULL;
    c->labels = NULL;
    c->n = c->cap = 0;
}

int
nw_ner_corpus_load(const char *path, size_t max, size_t every, nw_ner_corpus_t *out)
{
    nw_ner_corpus_t k = {0};
    nw_ner_conll_t c = {0};
    size_t len = 0, cap = 0, scap = 0, seen = 0;
    memset(out, 0, sizeof *out);
    if (every == 0)
        every = 1;
    int rc = nw_ner_conll_read(path, max, &k.buf, &len);
    if (rc < 0)
        goto out;
    c.buf = (const char *)k.buf;
    c.len = len;
    while ((rc = nw_ner_conll_next(&c)) == 1) {
        if (seen++ % every != 0)
            continue;
        if (k.ntok + c.n + 1 > cap) {
            cap = (k.ntok + c.n + 1) * 2;
            nw_ner_word_t *w = realloc(k.words, cap * sizeof *w);
            if (w == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            k.words = w;
            uint8_t *l = realloc(k.labels, cap);
            if (l == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            k.labels = l;
        }
        if (k.nsent + 2 > scap) {
            scap = (k.nsent + 2) * 2;
            size_t *s = realloc(k.sent, scap * sizeof *s);
            if (s == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            k.sent = s;
            uint32_t *d = realloc(k.doc, scap * sizeof *d);
            if (d == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            k.doc = d;
        }
        k.doc[k.nsent] = c.doc;
        k.sent[k.nsent++] = k.ntok;
        memcpy(k.words + k.ntok, c.words, c.n * sizeof *k.words);
        memcpy(k.labels + k.ntok, c.labels, c.n);
        k.ntok += c.n;
    }
    if (rc == 0 && k.nsent == 0)
        rc = -EPROTO;
    if (rc < 0)
        goto out;
    k.sent[k.nsent] = k.ntok;
    *out = k;
    k = (nw_ner_corpus_t){0};
out:
    nw_ner_conll_release(&c);
    nw_ner_corpus_release(&k);
    return rc;
}

void
nw_ner_corpus_release(nw_ner_corpus_t *c)
{
    if (c == NULL)
        return;
    free(c->buf);
    free(c->words);
    free(c->labels);
    free(c->sent);
    free(c->doc);
    *c = (nw_ner_corpus_t){0};
}

/* ------------------------------------------------------------------------------------------ */
/* Trainer */

typedef struct tsent {
    size_t first; /* index of the first word */
    uint32_t n;
    uint32_t doc;
} tsent;

struct nw_ner_trainer {
    char *text; /* every word's bytes, back to back */
    size_t tlen, tcap;
    size_t *woff;
    uint32_t *wlen;
    uint8_t *lab;
    size_t nw, wcap;
    tsent *sents;
    size_t ns, scap;
};

/* Training weights: key -> row in w/u. u accumulates step * delta so that the average over all
 * steps is w - u / steps, updated only where the weights change (Daume's trick). */
typedef struct tmodel {
    uint32_t *keys;
    uint32_t *rows;
    uint32_t mask;
    uint32_t n;
    float *w;
    double *u;
    uint32_t cap_rows;
} tmodel;

nw_ner_trainer_t *
nw_ner_trainer_new(void)
{
    return calloc(1, sizeof(nw_ner_trainer_t));
}

void
nw_ner_trainer_destroy(nw_ner_trainer_t **pt)
{
    if (pt == NULL || *pt == NULL)
        return;
    nw_ner_trainer_t *t = *pt;
    free(t->text);
    free(t->woff);
    free(t->wlen);
    free(t->lab);
    free(t->sents);
    free(t);
    *pt = NULL;
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (q == NULL)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

int
nw_ner_trainer_add(nw_ner_trainer_t *t, const nw_ner_word_t *words, const uint8_t *labels, size_t n,
                   uint32_t doc)
{
    size_t bytes = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= NL)
            return -EINVAL;
        bytes += words[i].len;
    }
    if (grow((void **)&t->text, &t->tcap, t->tlen + bytes, 1) < 0 ||
        grow((void **)&t->sents, &t->scap, t->ns + 1, sizeof *t->sents) < 0)
        return -ENOMEM;
    if (t->nw + n > t->wcap) {
        size_t cap = t->wcap ? t->wcap : 1024;
        while (cap < t->nw + n)
            cap *= 2;
        size_t *o = realloc(t->woff, cap * sizeof *o);
        if (o == NULL)
            return -ENOMEM;
        t->woff = o;
        uint32_t *l = realloc(t->wlen, cap * sizeof *l);
        if (l == NULL)
            return -ENOMEM;
        t->wlen = l;
        uint8_t *b = realloc(t->lab, cap);
        if (b == NULL)
            return -ENOMEM;
        t->lab = b;
        t->wcap = cap;
    }
    t->sents[t->ns++] = (tsent){.first = t->nw, .n = (uint32_t)n, .doc = doc};
    for (size_t i = 0; i < n; i++) {
        memcpy(t->text + t->tlen, words[i].s, words[i].len);
        t->woff[t->nw] = t->tlen;
        t->wlen[t->nw] = (uint32_t)words[i].len;
        t->lab[t->nw] = labels[i];
        /* Training sequences must be valid BIO for the constrained decoder: an I-t that does
         * not continue a t entity starts one. */
        if (!allowed(i ? t->lab[t->nw - 1] : START, labels[i]))
            t->lab[t->nw] = (uint8_t)(labels[i] - 1);
        t->tlen += words[i].len;
        t->nw++;
    }
    return 0;
}

static int
tm_init(tmodel *tm, uint32_t cap)
{
    memset(tm, 0, sizeof *tm);
    tm->keys = calloc(cap, sizeof *tm->keys);
    tm->rows = calloc(cap, sizeof *tm->rows);
    if (tm->keys == NULL || tm->rows == NULL)
        return -ENOMEM;
    tm->mask = cap - 1;
    return 0;
}

static void
tm_release(tmodel *tm)
{
    free(tm->keys);
    free(tm->rows);
    free(tm->w);
    free(tm->u);
    memset(tm, 0, sizeof *tm);
}

/* Row of key, added when new. Returns the row or -ENOMEM. */
static int64_t
tm_row(tmodel *tm, uint32_t key)
{
    if ((uint64_t)(tm->n + 1) * 2 > (uint64_t)tm->mask + 1) {
        uint32_t cap = (tm->mask + 1) * 2;
        uint32_t *k = calloc(cap, sizeof *k), *r = calloc(cap, sizeof *r);
        if (k == NULL || r == NULL) {
            free(k);
            free(r);
            return -ENOMEM;
        }
        for (uint32_t i = 0; i <= tm->mask; i++) {
            if (tm->keys[i] == 0)
                continue;
            uint32_t j = mix32(tm->keys[i]) & (cap - 1);
            while (k[j] != 0)
                j = (j + 1) & (cap - 1);
            k[j] = tm->keys[i];
            r[j] = tm->rows[i];
        }
        free(tm->keys);
        free(tm->rows);
        tm->keys = k;
        tm->rows = r;
        tm->mask = cap - 1;
    }
    uint32_t i = mix32(key) & tm->mask;
    while (tm->keys[i] != 0) {
        if (tm->keys[i] == key)
            return tm->rows[i];
        i = (i + 1) & tm->mask;
    }
    tm->keys[i] = key;
    tm->rows[i] = tm->n;
    return tm->n++;
}

static uint64_t
splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Word-list bits a gold label sequence teaches for each of its words. */
static void
gaz_learn(gaztab *g, const winfo *w, const uint8_t *lab, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lab[i] == 0)
            continue;
        int type = (lab[i] - 1) / 2;
        int first = (lab[i] - 1) % 2 == 0;
        nw_ner_gaz_or(g, nw_ner_gaz_key(&w[i]), (uint8_t)((first ? 1u : 16u) << type));
    }
}

/* The features of every training token, as rows of the training table: feats[foff[i] ..
 * foff[i+1]) for word i. */
typedef struct tfeats {
    uint32_t *feats;
    size_t *foff;
} tfeats;

static int
build_features(const nw_ner_trainer_t *t, int folds, winfo *w, gaztab *full, tmodel *tm, tfeats *tf)
{
    gaztab *fold = NULL;
    size_t cap = 0;
    int rc = -ENOMEM;
    tf->feats = NULL;
    tf->foff = malloc((t->nw + 1) * sizeof *tf->foff);
    fold = calloc((size_t)folds, sizeof *fold);
    if (tf->foff == NULL || fold == NULL)
        goto out;
    for (size_t i = 0; i < t->nw; i++)
        nw_ner_analyze(t->text + t->woff[i], t->wlen[i], &w[i]);
    if (nw_ner_gaz_init(full, (uint32_t)t->nw) < 0)
        goto out;
    for (size_t s = 0; s < t->ns; s++)
        gaz_learn(full, w + t->sents[s].first, t->lab + t->sents[s].first, t->sents[s].n);
    /* Jackknife: a sentence sees the word lists learned from the other folds' documents only,
     * so the weights learn how far the lists can be trusted on words they have not seen. */
    if (folds > 1) {
        for (int f = 0; f < folds; f++) {
            if (nw_ner_gaz_init(&fold[f], (uint32_t)t->nw) < 0)
                goto out;
            for (size_t s = 0; s < t->ns; s++)
                if ((int)(t->sents[s].doc % (uint32_t)folds) != f)
                    gaz_learn(&fold[f], w + t->sents[s].first, t->lab + t->sents[s].first,
                              t->sents[s].n);
        }
    }
    size_t nf = 0;
    uint32_t keys[MAXF];
    for (size_t s = 0; s < t->ns; s++) {
        const tsent *st = &t->sents[s];
        const gaztab *g = folds > 1 ? &fold[st->doc % (uint32_t)folds] : NULL;
        winfo *sw = w + st->first;
        for (uint32_t i = 0; i < st->n; i++)
            sw[i].gaz = g ? nw_ner_gaz_get(g, nw_ner_gaz_key(&sw[i])) : 0;
        int caps = nw_ner_sentence_caps(sw, st->n);
        for (uint32_t i = 0; i < st->n; i++) {
            size_t k = nw_ner_token_features(sw, st->n, i, caps, keys);
            if (grow((void **)&tf->feats, &cap, nf + k, sizeof *tf->feats) < 0)
                goto out;
            tf->foff[st->first + i] = nf;
            for (size_t j = 0; j < k; j++) {
                int64_t row = tm_row(tm, keys[j]);
                if (row < 0)
                    goto out;
                tf->feats[nf++] = (uint32_t)row;
            }
        }
    }
    tf->foff[t->nw] = nf;
    rc = 0;
out:
    if (fold != NULL)
        for (int f = 0; f < folds; f++)
            free(fold[f].v);
    free(fold);
    return rc;
}

static void
update(float *w, double *u, size_t idx, float delta, double step)
{
    w[idx] += delta;
    u[idx] += step * delta;
}

int
nw_ner_trainer_run(nw_ner_trainer_t *t, const nw_ner_train_opts_t *opts, nw_ner_t **out)
{
    nw_ner_train_opts_t o = opts ? *opts : (nw_ner_train_opts_t){0};
    winfo *w = NULL;
    gaztab full = {0};
    tmodel tm = {0};
    tfeats tf = {0};
    uint32_t *order = NULL;
    double *em = NULL;
    uint8_t *bp = NULL, *pred = NULL;
    nw_ner_t *m = NULL;
    size_t maxn = 0;
    int rc = -ENOMEM;
    *out = NULL;
    if (o.epochs <= 0)
        o.epochs = 10;
    if (o.seed == 0)
        o.seed = 1;
    if (o.folds <= 0)
        o.folds = 5;
    if (o.prune <= 0)
        o.prune = 0.05f;
    if (t->ns == 0)
        return -EINVAL;
    for (size_t s = 0; s < t->ns; s++)
        if (t->sents[s].n > maxn)
            maxn = t->sents[s].n;
    w = malloc(t->nw * sizeof *w);
    order = malloc(t->ns * sizeof *order);
    em = malloc(maxn * NL * sizeof *em);
    bp = malloc(maxn * NL);
    pred = malloc(maxn);
    if (w == NULL || order == NULL || em == NULL || bp == NULL || pred == NULL ||
        tm_init(&tm, 1u << 16) < 0)
        goto out;
    rc = build_features(t, o.folds, w, &full, &tm, &tf);
    if (rc < 0)
        goto out;
    rc = -ENOMEM;
    tm.w = calloc((size_t)tm.n * NL, sizeof *tm.w);
    tm.u = calloc((size_t)tm.n * NL, sizeof *tm.u);
    if (tm.w == NULL || tm.u == NULL)
        goto out;
    float tw[(NL + 1) * NL] = {0};
    double tu[(NL + 1) * NL] = {0};
    double tr[(NL + 1) * NL];
    double step = 1;
    uint64_t rng = o.seed;
    for (size_t s = 0; s < t->ns; s++)
        order[s] = (uint32_t)s;
    for (int ep = 0; ep < o.epochs; ep++) {
        size_t errors = 0;
        for (size_t s = t->ns; s > 1; s--) {
            size_t j = (size_t)(splitmix(&rng) % s);
            uint32_t x = order[s - 1];
            order[s - 1] = order[j];
            order[j] = x;
        }
        for (size_t si = 0; si < t->ns; si++, step++) {
            const tsent *st = &t->sents[order[si]];
            const uint8_t *gold = t->lab + st->first;
            for (uint32_t i = 0; i < st->n; i++) {
                double *e = em + (size_t)i * NL;
                for (int l = 0; l < NL; l++)
                    e[l] = 0;
                for (size_t f = tf.foff[st->first + i]; f < tf.foff[st->first + i + 1]; f++) {
                    const float *row = tm.w + (size_t)tf.feats[f] * NL;
                    for (int l = 0; l < NL; l++)
                        e[l] += row[l];
                }
            }
            for (int j = 0; j < (NL + 1) * NL; j++)
                tr[j] = tw[j];
            viterbi(em, tr, st->n, bp, pred);
            for (uint32_t i = 0; i < st->n; i++) {
                int pg = i ? gold[i - 1] : START, pp = i ? pred[i - 1] : START;
                if (gold[i] == pred[i] && pg == pp)
                    continue;
                update(tw, tu, (size_t)pg * NL + gold[i], 1, step);
                update(tw, tu, (size_t)pp * NL + pred[i], -1, step);
                if (gold[i] == pred[i])
                    continue;
                errors++;
                for (size_t f = tf.foff[st->first + i]; f < tf.foff[st->first + i + 1]; f++) {
                    size_t row = (size_t)tf.feats[f] * NL;
                    update(tm.w, tm.u, row + gold[i], 1, step);
                    update(tm.w, tm.u, row + pred[i], -1, step);
                }
            }
        }
        if (o.verbose)
            fprintf(stderr, "ner_train: epoch=%d token_errors=%zu of %zu\n", ep + 1, errors, t->nw);
    }
    /* Average, prune, then quantise every weight with one scale so that sums stay comparable
     * across features and transitions. */
    float maxabs = 0;
    uint32_t kept = 0;
    for (size_t i = 0; i < (size_t)tm.n * NL; i++) {
        tm.w[i] = (float)(tm.w[i] - tm.u[i] / step);
        if (fabsf(tm.w[i]) < o.prune)
            tm.w[i] = 0;
        if (fabsf(tm.w[i]) > maxabs)
            maxabs = fabsf(tm.w[i]);
    }
    for (int j = 0; j < (NL + 1) * NL; j++) {
        tw[j] = (float)(tw[j] - tu[j] / step);
        if (fabsf(tw[j]) > maxabs)
            maxabs = fabsf(tw[j]);
    }
    float scale = maxabs > 0 ? 32767.0f / maxabs : 1.0f;
    for (uint32_t r = 0; r < tm.n; r++) {
        for (int l = 0; l < NL; l++) {
            if (lrintf(tm.w[(size_t)r * NL + l] * scale) != 0) {
                kept++;
                break;
            }
        }
    }
    m = nw_ner_model_new(kept, full.n);
    if (m == NULL)
        goto out;
    m->scale = scale;
    for (int j = 0; j < (NL + 1) * NL; j++)
        m->trans[j] = (int16_t)lrintf(tw[j] * scale);
    for (uint32_t i = 0; i <= tm.mask; i++) {
        if (tm.keys[i] == 0)
            continue;
        const float *row = tm.w + (size_t)tm.rows[i] * NL;
        int16_t q[NL];
        int any = 0;
        for (int l = 0; l < NL; l++) {
            q[l] = (int16_t)lrintf(row[l] * scale);
            any |= q[l] != 0;
        }
        if (!any)
            continue;
        slot *sl = nw_ner_model_insert(m, tm.keys[i]);
        memcpy(sl->w, q, sizeof q);
    }
    for (uint32_t i = 0; i <= full.mask; i++)
        if (full.v[i].key != 0)
            nw_ner_gaz_or(&m->gaz, full.v[i].key, full.v[i].bits);
    *out = m;
    m = NULL;
    rc = 0;
out:
    nw_ner_destroy(&m);
    free(w);
    free(full.v);
    tm_release(&tm);
    free(tf.feats);
    free(tf.foff);
    free(order);
    free(em);
    free(bp);
    free(pred);
    return rc;
}
