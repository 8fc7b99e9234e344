/* store.c: the article database behind store.h, the part every backend shares: argument
 * checks, content identity, document encoding, stories, dead-letter keys. The database work is
 * the backend's (store_backend.h): store_sqlite.c for a file path, store_pg.c for a PostgreSQL
 * URI or conninfo. Both hold the same schema (version 6):
 *
 *   table          key                columns
 *   articles       id                 the current revision of every article: rev, seq (unique),
 *                                     content_hash, the searchable/queryable fields, doc;
 *                                     since v4 story and duplicate_of (NULL for older rows);
 *                                     since v6 av, its acceptance version (0 for older rows)
 *   revisions      (id, rev)          every revision ever stored: seq, content_hash, stored_at
 *                                     (indexed since v2, for `tail --since TIME`), doc; since
 *                                     v6 av and late (1: arrived after a newer revision was
 *                                     current, kept as history, never published)
 *   dead_letters   id                 what a stage could not handle, with the original bytes;
 *                                     since v2 also the last replay: replayed_at, replay_status
 *                                     ("replaying", "accepted", "refused"), replay_id (the id
 *                                     fetch gave), replay_detail (its refusal); since v3
 *                                     item_key (unique when set): origin/spool/stage/reason/
 *                                     bytes hash, so a re-sent dead letter is stored once
 *   fingerprints   seq                since v4: the fingerprint (simhash, minhash, terms as in
 *                                     the enriched message) of the last NW_STORE_STORY_RING
 *                                     stored revisions, with id, story and time (ms: the time
 *                                     the article refers to, nw_story_time: published, else
 *                                     dates in text and captions, else stored), from which the
 *                                     story ring is loaded; since
 *                                     v5 also grams, anchors and lang (fingerprints of v4 are
 *                                     dropped by the migration: not comparable)
 *
 * plus a full-text index over title, subtitle and text (FTS5 in SQLite, a tsvector with a GIN
 * index in PostgreSQL) and the record of the schema version (PRAGMA user_version in SQLite,
 * the schema_migrations table in PostgreSQL).
 *
 * doc is the enriched MessagePack exactly as published (seq and rev set), so backfill replays
 * the same bytes subscribers saw live.
 *
 * Stories: a stored revision is compared with the fingerprints in the story ring (the last
 * NW_STORE_STORY_RING revisions stored, in memory) whose time lies within
 * NW_STORE_STORY_WINDOW_MS of its own, other revisions of the same id excepted. The best
 * near-duplicate (nw_fp_compare's verdict) gives duplicate_of and the story; else the most
 * similar article of the same story gives the story; else the article starts its own story
 * (its id). A scan of the ring would cost about 2 ms per put (nw_fp_compare is about 1 us),
 * so an inverted index of the ring's terms and anchors (numbers, names, places: what articles
 * of one story in two languages share) finds the revisions sharing keys and sums their term
 * and anchor cosines; the STORY_CANDIDATES best get nw_fp_compare. Keys held by more than
 * STORY_KEY_DF ring entries (a common word, the year) are skipped, an IDF cutoff that bounds
 * the walk to IX_KEYS * STORY_KEY_DF nodes per put: when a vocabulary is narrow every entry
 * shares common words with every other, and walking their chains cost about 1 ms per put.
 * Simhash and MinHash bands cannot prefilter here: articles of one story in other words share
 * terms, not shingles. The ring follows the database: rows evicted from it are deleted in the same
 * transaction, a rollback reloads it, and every transaction first loads the fingerprints other
 * writers stored since (seq above the highest the ring has seen: one indexed query). With
 * several PostgreSQL writers a revision whose seq commits after a higher one this handle
 * already loaded is not seen; that only costs a grouping. */
#include "newswire/store.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>
#include <xxhash.h>

#include "newswire/fingerprint.h"
#include "newswire/log.h"
#include "newswire/util.h"
#include "names.h"
#include "store_backend.h"
#include "story_time.h"

/* One stored revision in the story ring. */
typedef struct story_ent {
    uint64_t seq;
    int64_t time; /* ms: published, else when stored */
    char *id, *story;
    nw_fp_t fp;
} story_ent_t;

/* Inverted index of the ring's terms and anchors, so a put only scores the revisions that
 * share keys with it. Node slot * IX_KEYS + k is key k of ring slot `slot` (terms, then
 * anchors); nodes are chained per bucket of the key hash in doubly linked lists (-1 ends), so
 * eviction unlinks in O(keys). bucket_n counts a bucket's nodes: a bucket holding more than
 * STORY_KEY_DF is a common key's (or, rarely, shares one) and is not walked. */
#define TERM_BUCKETS (1u << 16)
#define IX_KEYS (NW_FP_TERMS + NW_FP_ANCHORS)
#define STORY_KEY_DF (NW_STORE_STORY_RING / 20)
typedef struct term_index {
    int32_t bucket[TERM_BUCKETS];
    int32_t bucket_n[TERM_BUCKETS];
    /* A node holds its key and the key's weight over the sketch's norm, copied so a chain
     * walk touches one cache line per node and stays out of the ring entries. */
    struct ix_node {
        uint32_t key;
        float weight;
        int32_t next, prev;
    } node[NW_STORE_STORY_RING * IX_KEYS];
    double dot[NW_STORE_STORY_RING]; /* scratch of ring_match: cosine sum per slot */
    int32_t touched[NW_STORE_STORY_RING];
    /* The time of every slot's entry, so ring_match checks the window of a touched slot
     * without a cache miss on the entry (2 KB apart: a fingerprint each). */
    int64_t time[NW_STORE_STORY_RING];
} term_index_t;

struct store_ring {
    /* ent[(head + i) % NW_STORE_STORY_RING] for i < n, oldest first, seq ascending (with
     * several PostgreSQL writers, nearly). */
    story_ent_t ent[NW_STORE_STORY_RING];
    size_t head, n;
    uint64_t seen; /* the highest seq pushed: the next refresh loads those above */
    term_index_t ix;
};

static void
ring_clear(nw_store_t *s)
{
    for (size_t i = 0; i < s->ring->n; i++) {
        story_ent_t *x = &s->ring->ent[(s->ring->head + i) % NW_STORE_STORY_RING];
        free(x->id);
        free(x->story);
        x->id = x->story = NULL;
    }
    s->ring->head = s->ring->n = 0;
    memset(s->ring->ix.bucket, 0xff, sizeof(s->ring->ix.bucket)); /* all -1 */
    memset(s->ring->ix.bucket_n, 0, sizeof(s->ring->ix.bucket_n));
}

static uint32_t
term_bucket(uint32_t term)
{
    return (term >> 1) & (TERM_BUCKETS - 1); /* the low bit of a term hash is always 1 */
}

static double
norm_of(const uint32_t *w, size_t n)
{
    double sum = 0;
    for (size_t k = 0; k < n; k++)
        sum += (double)w[k] * w[k];
    return sqrt(sum);
}

/* Key k of fp (terms, then anchors) with its weight over its sketch's norm; 0 when absent. */
static uint32_t
ix_key(const nw_fp_t *fp, size_t k, double tnorm, double anorm, float *w)
{
    if (k < NW_FP_TERMS) {
        if (k >= fp->n_terms)
            return 0;
        *w = tnorm > 0 ? (float)(fp->weight[k] / tnorm) : 0;
        return fp->term[k];
    }
    k -= NW_FP_TERMS;
    if (k >= fp->n_anchors)
        return 0;
    *w = anorm > 0 ? (float)(fp->aweight[k] / anorm) : 0;
    return fp->anchor[k];
}

static void
ix_link(nw_store_t *s, size_t slot)
{
    term_index_t *ix = &s->ring->ix;
    const nw_fp_t *fp = &s->ring->ent[slot].fp;
    double tn = norm_of(fp->weight, fp->n_terms), an = norm_of(fp->aweight, fp->n_anchors);
    for (size_t k = 0; k < IX_KEYS; k++) {
        float w = 0;
        uint32_t key = ix_key(fp, k, tn, an, &w);
        if (!key)
            continue;
        uint32_t b = term_bucket(key);
        int32_t node = (int32_t)(slot * IX_KEYS + k), *head = &ix->bucket[b];
        ix->node[node].prev = -1;
        ix->node[node].next = *head;
        ix->node[node].key = key;
        ix->node[node].weight = w;
        if (*head >= 0)
            ix->node[*head].prev = node;
        *head = node;
        ix->bucket_n[b]++;
    }
}

static void
ix_unlink(nw_store_t *s, size_t slot)
{
    term_index_t *ix = &s->ring->ix;
    const nw_fp_t *fp = &s->ring->ent[slot].fp;
    for (size_t k = 0; k < IX_KEYS; k++) {
        float w;
        uint32_t key = ix_key(fp, k, 1, 1, &w);
        if (!key)
            continue;
        uint32_t b = term_bucket(key);
        int32_t node = (int32_t)(slot * IX_KEYS + k);
        if (ix->node[node].prev >= 0)
            ix->node[ix->node[node].prev].next = ix->node[node].next;
        else
            ix->bucket[b] = ix->node[node].next;
        if (ix->node[node].next >= 0)
            ix->node[ix->node[node].next].prev = ix->node[node].prev;
        ix->bucket_n[b]--;
    }
}

/* Append a revision, taking ownership of id and story; evicts the oldest when full and
 * returns its seq in *evicted (0 when nothing was evicted). */
static void
ring_push(nw_store_t *s, uint64_t seq, int64_t time, char *id, char *story, const nw_fp_t *fp,
          uint64_t *evicted)
{
    story_ent_t *x;
    *evicted = 0;
    if (s->ring->n == NW_STORE_STORY_RING) {
        x = &s->ring->ent[s->ring->head];
        ix_unlink(s, s->ring->head);
        *evicted = x->seq;
        free(x->id);
        free(x->story);
        s->ring->head = (s->ring->head + 1) % NW_STORE_STORY_RING;
        s->ring->n--;
    }
    size_t slot = (s->ring->head + s->ring->n) % NW_STORE_STORY_RING;
    x = &s->ring->ent[slot];
    *x = (story_ent_t){.seq = seq, .time = time, .id = id, .story = story, .fp = *fp};
    s->ring->ix.time[slot] = time;
    ix_link(s, slot);
    s->ring->n++;
    if (seq > s->ring->seen)
        s->ring->seen = seq;
}

/* A fingerprint from its stored form: the enriched message's keys, read by nw_fp_load. */
static int
fp_from_row(const store_fp_row_t *r, nw_fp_t *fp)
{
    nw_enriched_t e = {0};
    e.simhash = r->simhash;
    /* nw_fp_load only reads them; the casts borrow the backend's column buffers. */
    const void *src[4] = {r->minhash, r->terms, r->grams, r->anchors};
    const size_t src_len[4] = {r->minhash_len, r->terms_len, r->grams_len, r->anchors_len};
    uint8_t **blob[4] = {&e.minhash, &e.terms, &e.grams, &e.anchors};
    size_t *blob_len[4] = {&e.minhash_len, &e.terms_len, &e.grams_len, &e.anchors_len};
    for (int k = 0; k < 4; k++) {
        *blob[k] = (uint8_t *)(uintptr_t)src[k];
        *blob_len[k] = src[k] ? src_len[k] : 0;
    }
    e.art.lang = (char *)(uintptr_t)r->lang;
    return nw_fp_load(&e, fp);
}

/* Fingerprints loaded by ring_refresh, newest first. */
typedef struct fp_batch {
    story_ent_t *ent;
    size_t n;
} fp_batch_t;

static int
on_fp_row(const store_fp_row_t *r, void *arg)
{
    fp_batch_t *b = arg;
    nw_fp_t fp;
    if (fp_from_row(r, &fp) < 0)
        return 0; /* only well-formed fingerprints are written; skip anything else */
    char *id = strdup(r->id ? r->id : ""), *story = strdup(r->story ? r->story : "");
    if (!id || !story) {
        free(id);
        free(story);
        return -ENOMEM;
    }
    b->ent[b->n++] =
        (story_ent_t){.seq = r->seq, .time = r->time, .id = id, .story = story, .fp = fp};
    return 0;
}

/* Push what other writers stored since the ring last looked (everything on a cleared ring),
 * deleting the fingerprints the ring evicts when a transaction is open. Returns 0, -ENOMEM
 * or -EIO. */
static int
ring_refresh(nw_store_t *s)
{
    fp_batch_t b = {0};
    uint64_t evicted = 0, prune = 0;
    int rc;

    if (!s->ring)
        return 0; /* read-only handle: no puts, no ring */
    b.ent = malloc(NW_STORE_STORY_RING * sizeof(*b.ent));
    if (!b.ent)
        return -ENOMEM;
    rc = s->ops->fp_load(s, s->ring->seen, NW_STORE_STORY_RING, on_fp_row, &b);
    /* Oldest first, so the ring keeps its order. */
    for (size_t i = b.n; i-- > 0;) {
        if (rc >= 0) {
            ring_push(s, b.ent[i].seq, b.ent[i].time, b.ent[i].id, b.ent[i].story, &b.ent[i].fp,
                      &evicted);
            if (evicted > prune)
                prune = evicted;
        } else {
            free(b.ent[i].id);
            free(b.ent[i].story);
        }
    }
    free(b.ent);
    if (rc >= 0 && prune > s->prune_upto && s->in_tx)
        s->prune_upto = prune;
    return rc < 0 ? rc : 0;
}

/* (Re)load the ring from the database: what it holds, e.g. after a rollback dropped revisions
 * the ring had already taken. On failure stories start from an empty ring, which only costs
 * groupings. */
static int
ring_load(nw_store_t *s)
{
    if (!s->ring)
        return 0;
    ring_clear(s);
    s->ring->seen = 0;
    int rc = ring_refresh(s);
    if (rc < 0)
        ring_clear(s);
    return rc;
}

/* Most ring entries that get the full comparison per put (the best by term cosine). */
#define STORY_CANDIDATES 32

typedef struct story_match {
    const story_ent_t *dup;   /* best near-duplicate, or NULL */
    const story_ent_t *story; /* best same-story article, or NULL */
} story_match_t;

/* The best near-duplicate and the most similar same-story revision of another id within the
 * window around time. Candidates come from the index: the STORY_CANDIDATES revisions with the
 * largest sum of term and anchor cosines over the keys no more than STORY_KEY_DF entries hold,
 * so a revision sharing shingles (the Jaccard part of the verdict) but no uncommon content word
 * or anchor is not found; that takes text of short words only. */
static story_match_t
ring_match(nw_store_t *s, const char *id, int64_t time, const nw_fp_t *fp)
{
    term_index_t *ix = &s->ring->ix;
    story_match_t m = {0};
    double best_dup = -1, best_story = -1;
    double tn = norm_of(fp->weight, fp->n_terms), an = norm_of(fp->aweight, fp->n_anchors);
    size_t n_touched = 0;

    for (size_t k = 0; k < IX_KEYS; k++) {
        float w = 0;
        uint32_t key = ix_key(fp, k, tn, an, &w), b;
        if (!key || ix->bucket_n[b = term_bucket(key)] > STORY_KEY_DF)
            continue;
        for (int32_t node = ix->bucket[b]; node >= 0; node = ix->node[node].next) {
            /* Only positive products count, so a slot is in touched[] once: when its sum
             * leaves 0 (a zero weight, from a damaged row, must not add it again). */
            double add = (double)w * ix->node[node].weight;
            if (ix->node[node].key != key || !(add > 0))
                continue;
            size_t slot = (size_t)node / IX_KEYS;
            if (ix->dot[slot] == 0)
                ix->touched[n_touched++] = (int32_t)slot;
            ix->dot[slot] += add;
        }
    }
    /* Keep the STORY_CANDIDATES best by that sum. */
    struct cand {
        double cos;
        const story_ent_t *x;
    } best[STORY_CANDIDATES];
    size_t n_best = 0, worst = 0;
    for (size_t i = 0; i < n_touched; i++) {
        size_t slot = (size_t)ix->touched[i];
        double cos = ix->dot[slot];
        ix->dot[slot] = 0;
        int64_t dt = ix->time[slot] - time;
        if (dt > NW_STORE_STORY_WINDOW_MS || dt < -NW_STORE_STORY_WINDOW_MS)
            continue;
        /* Once the list is full, most slots cannot displace its worst: decided before the
         * entry itself is read. */
        if (n_best == STORY_CANDIDATES && cos < best[worst].cos)
            continue;
        const story_ent_t *x = &s->ring->ent[slot];
        if (strcmp(x->id, id) == 0)
            continue;
        if (n_best < STORY_CANDIDATES) {
            best[n_best++] = (struct cand){cos, x};
        } else if (cos > best[worst].cos ||
                   (cos == best[worst].cos && x->seq > best[worst].x->seq)) {
            best[worst] = (struct cand){cos, x};
        } else {
            continue;
        }
        if (n_best < STORY_CANDIDATES)
            continue;
        /* The list changed: find its worst again (the lowest sum, on a tie the oldest). */
        worst = 0;
        for (size_t j = 1; j < n_best; j++)
            if (best[j].cos < best[worst].cos ||
                (best[j].cos == best[worst].cos && best[j].x->seq < best[worst].x->seq))
                worst = j;
    }
    for (size_t i = 0; i < n_best; i++) {
        const story_ent_t *x = best[i].x;
        nw_fp_score_t sc = nw_fp_compare(fp, &x->fp);
        /* On a tie the newer one wins, whose story is the most recent view. */
        if (sc.duplicate &&
            (sc.jaccard > best_dup || (sc.jaccard == best_dup && x->seq > m.dup->seq))) {
            best_dup = sc.jaccard;
            m.dup = x;
        }
        if (sc.same_story && (sc.similarity > best_story ||
                              (sc.similarity == best_story && x->seq > m.story->seq))) {
            best_story = sc.similarity;
            m.story = x;
        }
    }
    return m;
}

/* A story id makes a topic segment (a-z, 0-9, "-") when it looks like this; article ids do. */
static int
topic_segment(const char *p)
{
    size_t n = 0;
    for (; p[n]; n++)
        if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '-'))
            return 0;
    return n > 0 && n <= 128;
}

static int
buf_write(void *data, const char *buf, size_t len)
{
    return nw_buf_append(data, buf, len) < 0 ? -1 : 0;
}

/* Replace the "story" and "duplicate_of" entries of e's pass-through keys (a replayed
 * document brings old ones) with these values (dup may be NULL: no key), and the story.*
 * topic with story.<story>. Returns 0, -EINVAL for a malformed extra, or -ENOMEM. */
static int
set_story(nw_enriched_t *e, const char *story, const char *dup)
{
    nw_extra_t *x = &e->art.extra;
    nw_buf_t out = {0};
    msgpack_packer pk;
    msgpack_unpacked u;
    size_t off = 0;
    uint32_t n = 0;
    int rc = 0;

    msgpack_unpacked_init(&u);
    for (uint32_t i = 0; i < x->n; i++) {
        size_t start = off;
        int skip = 0;
        for (int part = 0; part < 2; part++) {
            size_t used = 0;
            if (msgpack_unpack_next(&u, (const char *)x->buf + off, x->len - off, &used) !=
                MSGPACK_UNPACK_SUCCESS) {
                rc = -EINVAL;
                goto out;
            }
            if (part == 0 && u.data.type == MSGPACK_OBJECT_STR) {
                msgpack_object_str k = u.data.via.str;
                skip = (k.size == 5 && memcmp(k.ptr, "story", 5) == 0) ||
                       (k.size == 12 && memcmp(k.ptr, "duplicate_of", 12) == 0);
            }
            off += used;
        }
        if (!skip) {
            if (nw_buf_append(&out, x->buf + start, off - start) < 0) {
                rc = -ENOMEM;
                goto out;
            }
            n++;
        }
    }
    msgpack_packer_init(&pk, &out, buf_write);
    const char *keys[2] = {"story", "duplicate_of"}, *vals[2] = {story, dup};
    for (int k = 0; k < 2; k++) {
        if (!vals[k])
            continue;
        size_t kl = strlen(keys[k]), vl = strlen(vals[k]);
        if (msgpack_pack_str(&pk, kl) < 0 || msgpack_pack_str_body(&pk, keys[k], kl) < 0 ||
            msgpack_pack_str(&pk, vl) < 0 || msgpack_pack_str_body(&pk, vals[k], vl) < 0) {
            rc = -ENOMEM;
            goto out;
        }
        n++;
    }

    /* Topics: drop any story.* and add this one last. */
    size_t t = 0;
    for (size_t i = 0; i < e->n_topics; i++) {
        if (e->topics[i] && strncmp(e->topics[i], "story.", 6) == 0)
            free(e->topics[i]);
        else
            e->topics[t++] = e->topics[i];
    }
    e->n_topics = t;
    if (topic_segment(story)) {
        char **tp = realloc(e->topics, (e->n_topics + 1) * sizeof(*tp));
        char *topic = malloc(strlen(story) + 7);
        if (tp)
            e->topics = tp;
        if (!tp || !topic) {
            free(topic);
            rc = -ENOMEM;
            goto out;
        }
        memcpy(topic, "story.", 6);
        strcpy(topic + 6, story);
        e->topics[e->n_topics++] = topic;
    }

    free(x->buf);
    x->buf = NULL;
    x->len = 0;
    if (n)
        x->buf = nw_buf_steal(&out, &x->len);
    x->n = n;
out:
    msgpack_unpacked_destroy(&u);
    nw_buf_release(&out);
    return rc;
}

/* XXH3-128 over title \0 subtitle \0 text \0 then each caption's text \0 credit \0: the content
 * a reader sees. Metadata such as fetch time does not make a new revision. The state is
 * allocated because its layout is private to the shared libxxhash. Returns 0 or -ENOMEM. */
static int
content_hash(const nw_article_t *a, char out[33])
{
    XXH3_state_t *st = XXH3_createState();
    XXH128_canonical_t canon;
    static const char nul = '\0';
    const char *parts[3] = {a->title, a->subtitle, a->text};

    if (!st)
        return -ENOMEM;
    XXH3_128bits_reset(st);
    for (size_t i = 0; i < 3; i++) {
        if (parts[i])
            XXH3_128bits_update(st, parts[i], strlen(parts[i]));
        XXH3_128bits_update(st, &nul, 1);
    }
    for (size_t i = 0; i < a->n_captions; i++) {
        const nw_caption_t *c = &a->captions[i];
        if (c->text)
            XXH3_128bits_update(st, c->text, strlen(c->text));
        XXH3_128bits_update(st, &nul, 1);
        if (c->credit)
            XXH3_128bits_update(st, c->credit, strlen(c->credit));
        XXH3_128bits_update(st, &nul, 1);
    }
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(st));
    XXH3_freeState(st);
    for (size_t i = 0; i < sizeof(canon.digest); i++)
        snprintf(out + 2 * i, 3, "%02x", canon.digest[i]);
    return 0;
}

/* Authors as a JSON array of strings; caller frees. NULL on ENOMEM. */
static char *
authors_json(const nw_article_t *a)
{
    json_t *arr = json_array();
    char *out = NULL;
    if (!arr)
        return NULL;
    for (size_t i = 0; i < a->n_authors; i++)
        if (!a->authors[i] || json_array_append_new(arr, json_string(a->authors[i])) < 0)
            goto out;
    out = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
out:
    json_decref(arr);
    return out;
}

int
nw_store_newer(uint64_t av, const char *hash, uint64_t cur_av, const char *cur_hash)
{
    if (av == 0) /* a writer without versions: arrival order, as before v6 */
        return 1;
    if (av != cur_av)
        return av > cur_av;
    return strcmp(hash, cur_hash) > 0;
}

/* Store e as a late revision: accepted before the current one, arrived after it. It goes into
 * the history (a revisions row with late set) under the next revision number, with the
 * current revision's story, and is neither made current nor published: res->status is
 * "history" and nothing is appended to doc. Takes cur's strings. */
static int
put_late(nw_store_t *s, nw_enriched_t *e, const char *hash, nw_buf_t *doc, nw_store_result_t *res,
         store_cur_t *cur, uint32_t rev, const char *now)
{
    const nw_article_t *a = &e->art;
    int rc;
    (void)doc;
    char *story = cur->story ? cur->story : strdup(a->id), *dup = cur->duplicate_of;
    cur->story = cur->duplicate_of = NULL;
    if (!story) {
        rc = -ENOMEM;
        goto err;
    }
    if ((rc = set_story(e, story, dup)) < 0)
        goto err;
    if (!s->pending_seq) {
        NW_ERROR(a->id, "store: no sequence number handed out for a late revision");
        rc = -EIO;
        goto err;
    }
    e->rev = rev;
    e->seq = s->pending_seq;
    nw_buf_reset(&s->scratch);
    if ((rc = nw_enriched_encode(e, &s->scratch)) < 0)
        goto err;
    store_row_t row = {
        .id = a->id,
        .rev = rev,
        .seq = e->seq,
        .hash = hash,
        .stored_at = now,
        .doc = s->scratch.data,
        .doc_len = s->scratch.len,
        .av = a->av,
        .late = 1,
    };
    if ((rc = s->ops->write(s, &row, NULL, 1)) < 0)
        goto err;
    s->pending_seq = 0;
    NW_INFO(a->id, "store: late revision rev=%u av=%llu kept as history (current rev=%u av=%llu)",
            rev, (unsigned long long)a->av, cur->rev, (unsigned long long)cur->av);
    /* The ack and the result name the current revision, which is what readers get. */
    res->status = "history";
    res->rev = cur->rev;
    res->seq = 0;
    free(s->story);
    free(s->duplicate_of);
    s->story = story;
    s->duplicate_of = dup;
    res->story = story;
    res->duplicate_of = dup;
    return 0;
err:
    free(story);
    free(dup);
    e->rev = 0;
    e->seq = 0;
    return rc;
}

/* One attempt at nw_store_put; -EEXIST when another writer inserted the id after the lookup
 * (nothing written: the caller tries again and finds it). */
static int
put_once(nw_store_t *s, nw_enriched_t *e, const char *hash, nw_buf_t *doc, nw_store_result_t *res)
{
    const nw_article_t *a = &e->art;
    char now[32];
    char *authors = NULL, *story = NULL, *dup = NULL;
    int exists = 0, late = 0, rc = 0;
    uint32_t rev = 1;
    int64_t now_ms = nw_now_ms(), time;
    uint64_t evicted = 0;
    store_cur_t cur = {0};
    nw_fp_t fp;

    nw_time_iso(now_ms, now, sizeof(now));
    /* Always a fresh seq: one handed out before this id's row was locked could be lower than
     * the seq of a revision another writer committed for the id meanwhile (store_backend.h). */
    rc = s->ops->lookup(s, a->id, hash, 1, &cur);
    if (cur.next_seq)
        s->pending_seq = cur.next_seq;
    if (rc == 0) {
        exists = 1;
        if (cur.known_rev) {
            /* This content is already a revision of the id (the current one, or an older one
             * redelivered or accepted again): nothing to store, nothing to publish. */
            e->rev = cur.rev;
            e->seq = cur.seq;
            res->status = "unchanged";
            res->rev = cur.rev;
            res->seq = 0;
            free(s->story);
            free(s->duplicate_of);
            s->story = cur.story; /* NULL when stored before v4 */
            s->duplicate_of = cur.duplicate_of;
            res->story = s->story;
            res->duplicate_of = s->duplicate_of;
            return 0;
        }
        rev = cur.max_rev + 1;
        late = !nw_store_newer(a->av, hash, cur.av, cur.hash);
    } else if (rc != -ENOENT) {
        free(cur.story);
        free(cur.duplicate_of);
        return rc;
    }
    if (late)
        return put_late(s, e, hash, doc, res, &cur, rev, now);
    free(cur.story);
    free(cur.duplicate_of);

    /* Story and near-duplicate, before encoding: both go into the document. An article
     * without a fingerprint starts its own story and is not remembered. */
    int has_fp = nw_fp_load(e, &fp) == 0;
    time = nw_story_time(e, now_ms); /* published, else dates in text and captions, else now */
    story_match_t m = {0};
    if (has_fp)
        m = ring_match(s, a->id, time, &fp);
    story = strdup(m.dup ? m.dup->story : m.story ? m.story->story : a->id);
    dup = m.dup ? strdup(m.dup->id) : NULL;
    if (!story || (m.dup && !dup)) {
        rc = -ENOMEM;
        goto err;
    }
    if ((rc = set_story(e, story, dup)) < 0 || (rc = nw_names_apply(s->names, e)) < 0)
        goto err; /* names: "Trump" alone is on the topic of the full name seen last */

    /* A seq handed out and not used (the encoder refused the article, or another writer
     * inserted the id first) goes to the next stored revision of the transaction. */
    if (!s->pending_seq) {
        NW_ERROR(a->id, "store: no sequence number handed out for a new revision");
        rc = -EIO;
        goto err;
    }
    /* Encode before writing anything, so an article the encoder rejects leaves the
     * transaction as it was and the caller can dead-letter it. */
    e->rev = rev;
    e->seq = s->pending_seq;
    nw_buf_reset(&s->scratch);
    rc = nw_enriched_encode(e, &s->scratch);
    if (rc < 0)
        goto err;
    authors = authors_json(a);
    if (!authors) {
        rc = -ENOMEM;
        goto err;
    }

    store_row_t row = {
        .id = a->id,
        .rev = rev,
        .seq = e->seq,
        .hash = hash,
        .url = a->url,
        .title = a->title,
        .subtitle = a->subtitle,
        .published = a->published,
        .dateline = a->dateline,
        .lang = a->lang,
        .authors = authors,
        .source = a->source,
        .fetched = a->fetched,
        .stored_at = now,
        .words = e->words,
        .text = a->text ? a->text : "",
        .doc = s->scratch.data,
        .doc_len = s->scratch.len,
        .story = story,
        .duplicate_of = dup,
        .av = a->av,
    };
    store_fp_row_t fr = {
        .seq = e->seq,
        .id = a->id,
        .story = story,
        .time = time,
        .simhash = e->simhash,
        .minhash = e->minhash_len ? e->minhash : NULL,
        .minhash_len = e->minhash_len,
        .terms = e->terms_len ? e->terms : NULL,
        .terms_len = e->terms_len,
        .grams = e->grams_len ? e->grams : NULL,
        .grams_len = e->grams_len,
        .anchors = e->anchors_len ? e->anchors : NULL,
        .anchors_len = e->anchors_len,
        .lang = e->art.lang,
    };
    if ((rc = s->ops->write(s, &row, has_fp ? &fr : NULL, exists)) < 0)
        goto err;
    if ((rc = store_index_put(s, e, e->seq, exists ? cur.seq : 0, now)) < 0)
        goto err;

    if (has_fp) {
        char *rid = strdup(a->id), *rstory = strdup(story);
        if (!rid || !rstory) {
            free(rid);
            free(rstory);
            rc = -ENOMEM;
            goto err;
        }
        /* The table holds what the ring holds once the batch commits; the caller rolls back
         * on an error from here on, which reloads the ring. */
        ring_push(s, e->seq, time, rid, rstory, &fp, &evicted);
        if (evicted > s->prune_upto)
            s->prune_upto = evicted;
    }

    if (doc && nw_buf_append(doc, s->scratch.data, s->scratch.len) < 0) {
        rc = -ENOMEM;
        goto err;
    }
    s->pending_seq = 0;
    res->status = "stored";
    res->rev = rev;
    res->seq = e->seq;
    free(s->story);
    free(s->duplicate_of);
    s->story = story;
    s->duplicate_of = dup;
    res->story = story;
    res->duplicate_of = dup;
    free(authors);
    return 0;

err:
    free(authors);
    free(story);
    free(dup);
    e->rev = 0;
    e->seq = 0;
    return rc;
}

int
nw_store_put(nw_store_t *s, nw_enriched_t *e, nw_buf_t *doc, nw_store_result_t *res)
{
    char hash[33];
    int rc;

    if (s->readonly)
        return -EROFS;
    if (!s->in_tx || !e->art.id || !e->art.id[0])
        return -EINVAL;
    if (content_hash(&e->art, hash) < 0)
        return -ENOMEM;
    rc = put_once(s, e, hash, doc, res);
    if (rc == -EEXIST) /* now the lookup sees the other writer's row (and waits for its lock) */
        rc = put_once(s, e, hash, doc, res);
    if (rc == -EEXIST) {
        NW_ERROR(e->art.id, "store: article inserted concurrently twice; giving up the batch");
        rc = -EIO;
    }
    return rc;
}

int
nw_store_put_dead(nw_store_t *s, const nw_dead_t *d)
{
    char now[32], key[512];

    if (s->readonly)
        return -EROFS;
    if (!s->in_tx)
        return -EINVAL;
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    /* Only a spooled item can come again; without origin and spool every letter is new. */
    if (d->origin && d->spool)
        snprintf(
            key, sizeof(key), "%s/%llu/%s/%s/%016llx", d->origin, (unsigned long long)d->spool,
            d->stage ? d->stage : "", d->reason ? d->reason : "",
            (unsigned long long)XXH3_64bits(d->bytes ? (const void *)d->bytes : "", d->bytes_len));
    return s->ops->put_dead(s, d, d->time ? d->time : now, d->origin && d->spool ? key : NULL);
}

int
nw_store_search(nw_store_t *s, const char *query, int limit, nw_store_hit_cb cb, void *arg)
{
    if (!query || !query[0])
        return -EINVAL;
    return s->ops->search(s, query, limit, cb, arg);
}

int
nw_store_set_budget(nw_store_t *s, int64_t ms)
{
    return s->ops->set_budget(s, ms < 0 ? 0 : ms);
}

int
nw_store_get(nw_store_t *s, const char *id, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!id)
        return -EINVAL;
    return s->ops->get(s, id, buf, len);
}

int
nw_store_dlq_list(nw_store_t *s, int limit, nw_store_dead_cb cb, void *arg)
{
    return s->ops->dlq(s, STORE_DLQ_LIST, limit, NULL, cb, arg);
}

int
nw_store_dlq_get(nw_store_t *s, int64_t rowid, nw_store_dead_cb cb, void *arg)
{
    int n = s->ops->dlq(s, STORE_DLQ_GET, rowid, NULL, cb, arg);
    return n < 0 ? n : n == 0 ? -ENOENT : 0;
}

int
nw_store_dlq_pending(nw_store_t *s, const char *reason, nw_store_dead_cb cb, void *arg)
{
    if (s->version < 2)
        return -EPROTO; /* only a writable handle, which migrated, replays */
    return s->ops->dlq(s, STORE_DLQ_PENDING, 0, reason, cb, arg);
}

int
nw_store_dlq_stats(nw_store_t *s, nw_store_dlq_stat_cb cb, void *arg)
{
    return s->ops->dlq_stats(s, cb, arg);
}

int
nw_store_dlq_claim(nw_store_t *s, int64_t rowid, int force)
{
    char now[32];
    if (s->readonly)
        return -EROFS;
    if (!s->in_tx)
        return -EINVAL;
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    int rc = s->ops->dlq_claim(s, rowid, force, now);
    if (rc == 0) {
        rc = nw_store_dlq_get(s, rowid, NULL, NULL);
        rc = rc == 0 ? -EALREADY : rc;
    }
    return rc < 0 ? rc : 0;
}

int
nw_store_dlq_replayed(nw_store_t *s, int64_t rowid, const char *status, const char *new_id,
                      const char *detail)
{
    char now[32];
    if (s->readonly)
        return -EROFS;
    if (!s->in_tx)
        return -EINVAL;
    nw_time_iso(nw_now_ms(), now, sizeof(now));
    int rc = s->ops->dlq_replayed(s, rowid, status ? now : NULL, status, status ? new_id : NULL,
                                  status ? detail : NULL);
    return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
nw_store_since(nw_store_t *s, uint64_t after, int limit, nw_store_doc_cb cb, void *arg)
{
    return s->ops->since(s, after, limit, cb, arg);
}

int
nw_store_max_seq(nw_store_t *s, uint64_t *seq)
{
    *seq = 0;
    return s->ops->max_seq(s, seq);
}

int
nw_store_seq_at(nw_store_t *s, const char *time, uint64_t *after)
{
    uint64_t first = 0;
    *after = 0;
    int rc = s->ops->seq_at(s, time, &first);
    if (rc < 0)
        return rc;
    if (first > 0) {
        *after = first - 1;
        return 0;
    }
    /* Nothing stored at or after that time: everything stored so far is before it. */
    return nw_store_max_seq(s, after);
}

int64_t
nw_store_count(nw_store_t *s)
{
    return s->ops->count(s);
}
/* A PostgreSQL URI, or a libpq conninfo string: its first word is keyword=value. */
int
nw_store_is_postgres(const char *db)
{
    if (!db)
        return 0;
    if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0)
        return 1;
    size_t n = strspn(db, "abcdefghijklmnopqrstuvwxyz_");
    return n > 0 && db[n + strspn(db + n, " ")] == '=';
}

json_t *
nw_store_hit_json(const nw_store_hit_t *h)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    const char *keys[] = {"id", "title", "published", "lang", "url", "snippet"};
    const char *vals[] = {h->id, h->title, h->published, h->lang, h->url, h->snippet};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        /* Every key, always: null when the article lacks the field (or, which the parse stage
         * does not let through, when it is not UTF-8 and json_string() refuses it). */
        json_t *v = vals[i] ? json_string(vals[i]) : NULL;
        if (json_object_set_new(o, keys[i], v ? v : json_null()) < 0)
            goto fail;
    }
    if (json_object_set_new(o, "rank", json_real(h->rank)) < 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

int
nw_store_path(const char *data_dir, const char *db, char *out, size_t n)
{
    int len = db && *db ? snprintf(out, n, "%s", db)
                        : snprintf(out, n, "%s/newswire.db", data_dir ? data_dir : ".");
    return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

nw_store_t *
nw_store_open(const char *db, int readonly, char *err, size_t errlen)
{
    char dummy[8];
    nw_store_t *s = calloc(1, sizeof(*s));

    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->readonly = readonly;
    s->ops = nw_store_is_postgres(db) ? &nw_store_pg_ops : &nw_store_sqlite_ops;
    if (!readonly) {
        s->ring = calloc(1, sizeof(*s->ring));
        s->names = nw_names_new();
        if (!s->ring || !s->names) {
            snprintf(err, errlen, "out of memory");
            goto err;
        }
        ring_clear(s);
    }
    if (s->ops->open(s, db, err, errlen) < 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "cannot open the %s database", s->ops->name);
        goto err;
    }
    if (ring_load(s) < 0) {
        snprintf(err, errlen, "cannot load fingerprints");
        goto err;
    }
    /* Articles stored before schema v7 (or by a writer that failed between) get their query
     * index now; one indexed probe per article when there is nothing to do. */
    int64_t indexed = readonly ? 0 : nw_store_reindex(s);
    if (indexed < 0) {
        snprintf(err, errlen, "cannot index stored articles for queries");
        goto err;
    }
    if (indexed > 0)
        NW_INFO(NULL, "store: indexed %lld stored articles for queries", (long long)indexed);
    return s;

err:
    nw_store_close(&s);
    return NULL;
}

void
nw_store_close(nw_store_t **sp)
{
    nw_store_t *s = sp ? *sp : NULL;
    if (!s)
        return;
    s->ops->close(s);
    store_facets_clear(s);
    nw_buf_release(&s->scratch);
    if (s->ring)
        ring_clear(s);
    free(s->ring);
    nw_names_destroy(&s->names);
    free(s->story);
    free(s->duplicate_of);
    free(s);
    *sp = NULL;
}

int
nw_store_schema_version(nw_store_t *s)
{
    return s->ops->schema_version(s);
}

int
nw_store_begin(nw_store_t *s)
{
    if (s->readonly)
        return -EROFS;
    if (s->in_tx)
        return -EINVAL;
    int rc = s->ops->begin(s);
    if (rc < 0)
        return rc;
    s->in_tx = 1;
    s->pending_seq = 0;
    s->prune_upto = 0;
    /* Other writers may have stored articles since: the story ring must know them. */
    if ((rc = ring_refresh(s)) < 0) {
        nw_store_rollback(s);
        return rc;
    }
    return 0;
}

int
nw_store_commit(nw_store_t *s)
{
    if (!s->in_tx)
        return -EINVAL;
    /* The fingerprints the ring evicted during the batch, in one statement rather than one
     * per put (PostgreSQL scans the dead rows of earlier deletes until vacuum). */
    int rc = s->prune_upto ? s->ops->fp_prune(s, s->prune_upto) : 0;
    if (rc == 0)
        rc = store_facets_flush(s);
    if (rc == 0)
        rc = s->ops->commit(s);
    if (rc < 0)
        return rc; /* still in the transaction: the caller rolls back */
    s->in_tx = 0;
    s->pending_seq = 0;
    s->prune_upto = 0;
    return 0;
}

int
nw_store_rollback(nw_store_t *s)
{
    if (!s->in_tx)
        return 0;
    s->in_tx = 0;
    s->pending_seq = 0;
    s->prune_upto = 0;
    store_facets_clear(s);
    int rc = s->ops->rollback(s);
    /* The ring took the revisions just dropped and lost those it evicted: reload. */
    if (ring_load(s) < 0)
        NW_WARN(NULL, "store: story ring not reloaded after rollback");
    return rc;
}
