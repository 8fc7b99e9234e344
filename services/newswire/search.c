/* search.c: `newswire search QUERY...`, full-text search of the stored articles, best first.
 * Reads the database directly and read-only (SQLite WAL lets readers and the one writer run
 * side by side; PostgreSQL, any number). A hit as JSON is the library's (nw_store_hit_json),
 * the same object newswire-query's /v1/search answers with. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "newswire/config.h"
#include "newswire/store.h"

typedef struct search_cfg {
    const char *data_dir;
    const char *db;
    int64_t limit;
    int json;
} search_cfg_t;

static const nw_cfg_opt_t search_opts[] = {
    {"data-dir", NW_CFG_STR, "var", offsetof(search_cfg_t, data_dir), NW_CLI_DATA_DIR_HELP, 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(search_cfg_t, db), NW_CLI_DB_HELP, 0, 0},
    {"limit", NW_CFG_INT, "10", offsetof(search_cfg_t, limit), "at most this many results", 1,
     100000},
    {"json", NW_CFG_BOOL, "0", offsetof(search_cfg_t, json),
     "print JSON lines {id,title,published,lang,url,snippet,rank}", 0, 0},
    NW_CFG_END,
};

typedef struct search_state {
    int json;
    int rc;
} search_state_t;

static int
on_hit(const nw_store_hit_t *h, void *arg)
{
    search_state_t *st = arg;
    if (st->json) {
        json_t *o = nw_store_hit_json(h);
        st->rc = o ? nw_cli_print_json(o) : -ENOMEM;
        json_decref(o);
    } else {
        /* The snippet may span paragraphs; keep each hit to its two lines. */
        char snippet[1024];
        snprintf(snippet, sizeof snippet, "%s", h->snippet ? h->snippet : "");
        for (char *p = snippet; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        if (printf("%s  %s  %s\n    %s\n", h->id ? h->id : "-", h->published ? h->published : "-",
                   h->title ? h->title : "(untitled)", snippet) < 0)
            st->rc = errno == EPIPE ? -EPIPE : -EIO;
    }
    return st->rc < 0;
}

int
nw_cli_search(int argc, char **argv)
{
    search_cfg_t cfg = {0};
    int nargs = 0, status;
    char **args = NULL;
    nw_store_t *s = NULL;
    nw_buf_t query = {0};
    int rc = nw_config_load(search_opts, &cfg, argc, argv, "newswire search [options] QUERY...",
                            "Full-text search of the stored articles, best match first. The "
                            "words are joined into one\nquery: plain words must all match. SQLite "
                            "(FTS5): \"quoted phrases\", OR, NOT and prefix*\nwork; PostgreSQL "
                            "(web search syntax): \"quoted phrases\", OR and -word.\nEach hit: "
                            "id, published date, title, then the matching snippet with [terms].",
                            &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs < 1) {
        fprintf(stderr, "newswire search: expected a QUERY (see --help)\n");
        return 2;
    }
    status = 1;
    for (int i = 0; i < nargs; i++)
        if (nw_buf_printf(&query, "%s%s", i ? " " : "", args[i]) < 0)
            goto done;
    if ((s = nw_cli_open_db("search", cfg.data_dir, cfg.db, 1)) == NULL)
        goto done;
    search_state_t st = {.json = cfg.json};
    rc = nw_store_search(s, (const char *)query.data, (int)cfg.limit, on_hit, &st);
    fflush(stdout);
    if (rc == -EINVAL) {
        fprintf(stderr, "newswire search: bad query \"%s\" (no words to search)\n",
                (const char *)query.data);
        goto done;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire search: query failed: %s\n", strerror(-rc));
        goto done;
    }
    if (st.rc < 0 && st.rc != -EPIPE)
        goto done;
    if (rc == 0 && !cfg.json)
        fprintf(stderr, "newswire search: no match for \"%s\"\n", (const char *)query.data);
    status = 0;
done:
    nw_buf_release(&query);
    nw_store_close(&s);
    return status;
}
