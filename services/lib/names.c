/* names.c: the store's memory of full names by surname (see names.h). */
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "newswire/enrich.h"

typedef struct slot {
    char *key;  /* slug of the surname, "trump" */
    char *full; /* the full name as enrich gave it, "Donald Trump" */
} slot_t;

struct nw_names {
    slot_t slot[NW_NAMES_SLOTS];
};

nw_names_t *
nw_names_new(void)
{
    return calloc(1, sizeof(nw_names_t));
}

void
nw_names_destroy(nw_names_t **pn)
{
    if (!pn || !*pn)
        return;
    for (size_t i = 0; i < NW_NAMES_SLOTS; i++) {
        free((*pn)->slot[i].key);
        free((*pn)->slot[i].full);
    }
    free(*pn);
    *pn = NULL;
}

static slot_t *
slot_of(nw_names_t *n, const char *key)
{
    return &n->slot[XXH3_64bits(key, strlen(key)) % NW_NAMES_SLOTS];
}

/* Replace topic "person.<from>" with "person.<to>", or drop it when that one is there already. */
static int
retopic(nw_enriched_t *e, const char *from, const char *to)
{
    char a[200], b[200];
    snprintf(a, sizeof(a), "person.%s", from);
    snprintf(b, sizeof(b), "person.%s", to);
    size_t ia = e->n_topics, ib = e->n_topics;
    for (size_t i = 0; i < e->n_topics; i++) {
        if (strcmp(e->topics[i], a) == 0)
            ia = i;
        else if (strcmp(e->topics[i], b) == 0)
            ib = i;
    }
    if (ia == e->n_topics)
        return 0;
    if (ib < e->n_topics) {
        free(e->topics[ia]);
        memmove(e->topics + ia, e->topics + ia + 1, (e->n_topics - ia - 1) * sizeof(char *));
        e->n_topics--;
        return 0;
    }
    char *t = strdup(b);
    if (!t)
        return -ENOMEM;
    free(e->topics[ia]);
    e->topics[ia] = t;
    return 0;
}

int
nw_names_apply(nw_names_t *n, nw_enriched_t *e)
{
    char key[128], full[128];
    if (!n)
        return 0;
    for (size_t i = 0; i < e->n_entities; i++) {
        nw_entity_t *x = &e->entities[i];
        if (strcmp(x->type, "person") != 0 || strchr(x->name, ' ') ||
            !nw_enrich_slug(x->name, key, sizeof(key)))
            continue;
        slot_t *s = slot_of(n, key);
        if (!s->key || strcmp(s->key, key) != 0)
            continue;
        /* the article may name the full form itself as another entity: one topic either way */
        char *name = strdup(s->full);
        if (!name)
            return -ENOMEM;
        free(x->name);
        x->name = name;
        nw_enrich_slug(name, full, sizeof(full));
        int rc = retopic(e, key, full);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < e->n_entities; i++) {
        const nw_entity_t *x = &e->entities[i];
        const char *last = strrchr(x->name, ' ');
        if (strcmp(x->type, "person") != 0 || !last || !nw_enrich_slug(last + 1, key, sizeof(key)))
            continue;
        slot_t *s = slot_of(n, key);
        if (s->full && strcmp(s->full, x->name) == 0)
            continue;
        char *k = strdup(key), *f = strdup(x->name);
        if (!k || !f) {
            free(k);
            free(f);
            return -ENOMEM;
        }
        free(s->key);
        free(s->full);
        s->key = k;
        s->full = f;
    }
    return 0;
}
