/* query.c: the commands that read the database directly, read-only, while newswire-store may be
 * writing it (SQLite WAL lets readers and the one writer run side by side):
 *
 *   newswire search QUERY...     full text, best first
 *   newswire get ID              one stored article as JSON
 *   newswire dlq list            dead letters, newest first */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "newswire/config.h"
#include "newswire/store.h"

/* Every query command takes these two options; the help text is shared. */
#define DATA_DIR_HELP "data directory of the system (database: <data-dir>/newswire.db)"
#define DB_HELP "database file (overrides --data-dir)"

/* Open the database read-only, or explain why not on stderr. */
static nw_store_t *
open_db(const char *cmd, const char *data_dir, const char *db)
{
    char path[4096], err[256] = "";
    if (db && *db) /* "" means unset, as for newswire-store */
        snprintf(path, sizeof path, "%s", db);
    else
        snprintf(path, sizeof path, "%s/newswire.db", data_dir);
    if (access(path, F_OK) < 0) {
        fprintf(stderr, "newswire %s: no database at %s: is `newswire up` running?%s\n", cmd, path,
                db && *db ? "" : " (or give --data-dir / --db)");
        return NULL;
    }
    nw_store_t *s = nw_store_open(path, 1, err, sizeof err);
    if (s == NULL)
        fprintf(stderr, "newswire %s: cannot open %s: %s\n", cmd, path, err);
    return s;
}

/* Print a JSON value as one line. Returns 0 or -EPIPE/-EIO/-ENOMEM. */
static int
print_json(json_t *v, size_t flags)
{
    char *text = json_dumps(v, flags);
    if (text == NULL)
        return -ENOMEM;
    int rc = 0;
    if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF)
        rc = errno == EPIPE ? -EPIPE : -EIO;
    free(text);
    return rc;
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- search ---------------------------------------------------------------------------- */

typedef struct search_cfg {
    const char *data_dir;
    const char *db;
    int64_t limit;
    int json;
} search_cfg_t;

static const nw_cfg_opt_t search_opts[] = {
    {"data-dir", NW_CFG_STR, "var", offsetof(search_cfg_t, data_dir), DATA_DIR_HELP, 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(search_cfg_t, db), DB_HELP, 0, 0},
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
        json_t *o = json_object();
        if (o == NULL) {
            st->rc = -ENOMEM;
            return 1;
        }
        json_object_set_new(o, "id", str_or_null(h->id));
        json_object_set_new(o, "title", str_or_null(h->title));
        json_object_set_new(o, "published", str_or_null(h->published));
        json_object_set_new(o, "lang", str_or_null(h->lang));
        json_object_set_new(o, "url", str_or_null(h->url));
        json_object_set_new(o, "snippet", str_or_null(h->snippet));
        json_object_set_new(o, "rank", json_real(h->rank));
        st->rc = print_json(o, JSON_COMPACT);
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
                            "words are joined into one\nSQLite FTS5 query: plain words must all "
                            "match; \"quoted phrases\", OR, NOT and prefix* work.\nEach hit: id, "
                            "published date, title, then the matching snippet with [terms].",
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
    if ((s = open_db("search", cfg.data_dir, cfg.db)) == NULL)
        goto done;
    search_state_t st = {.json = cfg.json};
    rc = nw_store_search(s, (const char *)query.data, (int)cfg.limit, on_hit, &st);
    fflush(stdout);
    if (rc == -EINVAL) {
        fprintf(stderr, "newswire search: bad query \"%s\" (FTS5 syntax)\n",
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

/* ---- get ------------------------------------------------------------------------------- */

typedef struct get_cfg {
    const char *data_dir;
    const char *db;
    int jsonl;
} get_cfg_t;

static const nw_cfg_opt_t get_opts[] = {
    {"data-dir", NW_CFG_STR, "var", offsetof(get_cfg_t, data_dir), DATA_DIR_HELP, 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(get_cfg_t, db), DB_HELP, 0, 0},
    {"jsonl", NW_CFG_BOOL, "0", offsetof(get_cfg_t, jsonl),
     "print compact JSON on one line instead of indented", 0, 0},
    NW_CFG_END,
};

int
nw_cli_get(int argc, char **argv)
{
    get_cfg_t cfg = {0};
    int nargs = 0, status;
    char **args = NULL;
    nw_store_t *s = NULL;
    uint8_t *doc = NULL;
    size_t len = 0;
    int rc = nw_config_load(get_opts, &cfg, argc, argv, "newswire get [options] ID",
                            "Print the stored article with this id (its current revision) as "
                            "JSON: the enriched\ndocument with its revision (rev) and publication "
                            "sequence number (seq).",
                            &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs != 1) {
        fprintf(stderr, "newswire get: expected one ID (see --help)\n");
        return 2;
    }
    status = 1;
    if ((s = open_db("get", cfg.data_dir, cfg.db)) == NULL)
        goto done;
    rc = nw_store_get(s, args[0], &doc, &len);
    if (rc == -ENOENT) {
        fprintf(stderr, "newswire get: no article with id \"%s\"\n", args[0]);
        goto done;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire get: reading \"%s\" failed: %s\n", args[0], strerror(-rc));
        goto done;
    }
    rc = nw_cli_print_msgpack(doc, len, NULL, NULL, cfg.jsonl ? 0 : 2);
    if (rc < 0 && rc != -EPIPE) {
        fprintf(stderr, "newswire get: cannot print \"%s\": %s\n", args[0], strerror(-rc));
        goto done;
    }
    status = 0;
done:
    free(doc);
    nw_store_close(&s);
    return status;
}

/* ---- dlq ------------------------------------------------------------------------------- */

typedef struct dlq_cfg {
    const char *data_dir;
    const char *db;
    int64_t limit;
    int json;
} dlq_cfg_t;

static const nw_cfg_opt_t dlq_opts[] = {
    {"data-dir", NW_CFG_STR, "var", offsetof(dlq_cfg_t, data_dir), DATA_DIR_HELP, 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(dlq_cfg_t, db), DB_HELP, 0, 0},
    {"limit", NW_CFG_INT, "50", offsetof(dlq_cfg_t, limit), "at most this many dead letters", 1,
     10000000},
    {"json", NW_CFG_BOOL, "0", offsetof(dlq_cfg_t, json),
     "JSON lines: every field, the bytes as text or {\"base64\": ...}", 0, 0},
    NW_CFG_END,
};

typedef struct dlq_state {
    int json;
    int rc;
} dlq_state_t;

static void
pack_str(msgpack_packer *pk, const char *key, const char *val)
{
    msgpack_pack_str_with_body(pk, key, strlen(key));
    if (val)
        msgpack_pack_str_with_body(pk, val, strlen(val));
    else
        msgpack_pack_nil(pk);
}

/* The JSON view goes through MessagePack so the bytes get the one bin-to-JSON rule every
 * newswire tool uses (json.h): text when valid UTF-8, else {"base64": ...}. */
static int
print_dead_json(const nw_store_dead_row_t *r)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 10);
    msgpack_pack_str_with_body(&pk, "rowid", 5);
    msgpack_pack_int64(&pk, r->rowid);
    pack_str(&pk, "time", r->time);
    pack_str(&pk, "stage", r->stage);
    pack_str(&pk, "reason", r->reason);
    pack_str(&pk, "id", r->id);
    pack_str(&pk, "source", r->source);
    pack_str(&pk, "content_type", r->content_type);
    pack_str(&pk, "detail", r->detail);
    msgpack_pack_str_with_body(&pk, "size", 4);
    msgpack_pack_uint64(&pk, r->bytes_len);
    msgpack_pack_str_with_body(&pk, "bytes", 5);
    msgpack_pack_bin_with_body(&pk, r->bytes ? (const char *)r->bytes : "", r->bytes_len);
    int rc = nw_cli_print_msgpack((const uint8_t *)sb.data, sb.size, NULL, NULL, 0);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int
on_dead(const nw_store_dead_row_t *r, void *arg)
{
    dlq_state_t *st = arg;
    if (st->json) {
        st->rc = print_dead_json(r);
        return st->rc < 0;
    }
    /* A preview of the bytes for people: the first 80 printable characters, control bytes
     * as spaces and bytes that are not UTF-8 as '?', so the line stays one line of text. */
    char preview[80 * 4 + 1];
    size_t k = 0;
    for (size_t i = 0, chars = 0; i < r->bytes_len && chars < 80; chars++) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate(r->bytes + i, (utf8proc_ssize_t)(r->bytes_len - i), &cp);
        if (n <= 0) {
            preview[k++] = '?';
            i++;
        } else if (cp < 0x20 || cp == 0x7f) {
            if (k == 0 || preview[k - 1] != ' ')
                preview[k++] = ' ';
            i += (size_t)n;
        } else {
            memcpy(preview + k, r->bytes + i, (size_t)n);
            k += (size_t)n;
            i += (size_t)n;
        }
    }
    preview[k] = 0;
    if (printf("%s\t%s\t%s\t%s\t%zu bytes\t%s\n    %s\n", r->time ? r->time : "-",
               r->stage ? r->stage : "-", r->reason ? r->reason : "-",
               r->id && *r->id ? r->id : "-", r->bytes_len, r->detail ? r->detail : "",
               preview) < 0)
        st->rc = errno == EPIPE ? -EPIPE : -EIO;
    return st->rc < 0;
}

int
nw_cli_dlq(int argc, char **argv)
{
    dlq_cfg_t cfg = {0};
    int nargs = 0, status;
    char **args = NULL;
    nw_store_t *s = NULL;
    int rc = nw_config_load(dlq_opts, &cfg, argc, argv, "newswire dlq list [options]",
                            "Dead letters: input a stage could not process, kept with the reason "
                            "and the original\nbytes. `list` shows the newest first: time, stage, "
                            "reason, article id, size, detail,\nthen the start of the bytes.",
                            &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs > 1 || (nargs == 1 && strcmp(args[0], "list") != 0)) {
        fprintf(stderr, "newswire dlq: unknown action '%s' (only `list`; see --help)\n",
                nargs ? args[0] : "");
        return 2;
    }
    status = 1;
    if ((s = open_db("dlq", cfg.data_dir, cfg.db)) == NULL)
        goto done;
    dlq_state_t st = {.json = cfg.json};
    rc = nw_store_dlq_list(s, (int)cfg.limit, on_dead, &st);
    fflush(stdout);
    if (rc < 0) {
        fprintf(stderr, "newswire dlq: listing failed: %s\n", strerror(-rc));
        goto done;
    }
    if (st.rc < 0 && st.rc != -EPIPE)
        goto done;
    status = 0;
done:
    nw_store_close(&s);
    return status;
}
