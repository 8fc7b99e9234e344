/* ingest.c: `newswire ingest FILE|DIR|URL|-...`, documents sent to a running system the way
 * any client would: POST to the fetch HTTP API (libcurl, nw_cli_post_to in cli.c, which
 * `newswire dlq replay` shares). A directory is every regular file under it, sorted; an http(s)
 * URL is fetched by fetch itself (POST /v1/urls). */
#include "cli.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "newswire/config.h"
#include "newswire/parse.h"
#include "newswire/proto.h"
#include "newswire/util.h"

/* The API refuses larger bodies anyway (413); reading more would only waste memory. */
#define MAX_DOC NW_PROTO_MAX_MSG

typedef struct ingest_cfg {
    const char *api;
    const char *url;
    const char *content_type;
    int64_t retries;
} ingest_cfg_t;

static const nw_cfg_opt_t ingest_opts[] = {
    {"api", NW_CFG_STR, "http://127.0.0.1:8080", offsetof(ingest_cfg_t, api),
     "base URL of the fetch HTTP API", 0, 0},
    {"url", NW_CFG_STR, NULL, offsetof(ingest_cfg_t, url),
     "the document's URL (gives its id); only with one document", 0, 0},
    {"content-type", NW_CFG_STR, NULL, offsetof(ingest_cfg_t, content_type),
     "media type to send (default: guessed from the file name and bytes)", 0, 0},
    {"retries", NW_CFG_INT, "60", offsetof(ingest_cfg_t, retries),
     "how often to retry one document the API answered 429/503 (busy) for", 0, 100000},
    NW_CFG_END,
};

typedef struct path_list {
    char **v;
    size_t n, cap;
} path_list_t;

static int
paths_add(path_list_t *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n] = strdup(path)) == NULL)
        return -ENOMEM;
    l->n++;
    return 0;
}

static void
paths_release(path_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Every regular file under dir, recursively (symlinks are followed for files only, so a link
 * loop cannot trap us). Hidden entries are skipped: editors and the inbox's writers keep
 * temporary files there. */
static int
collect_dir(const char *dir, path_list_t *out)
{
    int rc = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "newswire ingest: cannot open directory '%s': %s\n", dir, strerror(errno));
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        size_t dlen = strlen(dir);
        while (dlen > 1 && dir[dlen - 1] == '/')
            dlen--; /* "docs/" + "a.txt" is "docs/a.txt" */
        if ((size_t)snprintf(path, sizeof path, "%.*s/%s", (int)dlen, dir, e->d_name) >=
            sizeof path)
            continue;
        struct stat lst, st;
        if (lstat(path, &lst) < 0)
            continue;
        if (S_ISDIR(lst.st_mode))
            rc = collect_dir(path, out);
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = paths_add(out, path);
        if (rc == -ENOMEM)
            break;
        rc = 0;
    }
    closedir(d);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* POST one document for ingest (or, when web is set, a web page's URL for fetch to fetch:
 * POST /v1/urls {"url": ...}) and print the outcome line: "<id><TAB><label>" on stdout, or
 * the refusal on stderr. */
static nw_cli_sent_t
post_one(CURL *curl, const ingest_cfg_t *cfg, const char *label, const uint8_t *body, size_t len,
         const char *ctype, int web)
{
    nw_cli_answer_t ans;
    nw_cli_sent_t res = nw_cli_post_to(curl, cfg->api, web ? "/v1/urls" : "/v1/articles",
                                       web ? NULL : cfg->url, ctype, body, len, cfg->retries, &ans);
    if (res == NW_CLI_SENT_OK) {
        if (printf("%s\t%s\n", ans.id, label) < 0 || fflush(stdout) == EOF)
            res = NW_CLI_SENT_FAILED;
    } else if (res == NW_CLI_SENT_REFUSED) {
        fprintf(stderr, "newswire ingest: '%s': HTTP %ld %s: %s\n", label, ans.status, ans.error,
                ans.message);
    } else {
        fprintf(stderr, "newswire ingest: '%s': %s\n", label, ans.message);
    }
    return res;
}

/* Read, sniff and send one document. explicit: named on the command line (a binary file is
 * then an error, not a skip). */
static nw_cli_sent_t
ingest_one(CURL *curl, const ingest_cfg_t *cfg, const char *path, int explicit)
{
    uint8_t *body = NULL;
    size_t len = 0;
    nw_cli_sent_t res = NW_CLI_SENT_FAILED;
    int is_stdin = strcmp(path, "-") == 0;
    const char *label = is_stdin ? "-" : path;
    struct stat st;
    if ((strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0) &&
        stat(path, &st) < 0) {
        json_t *j = json_pack("{s:s}", "url", path);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (s == NULL) {
            fprintf(stderr, "newswire ingest: '%s': not a valid UTF-8 URL\n", label);
            return NW_CLI_SENT_FAILED;
        }
        res = post_one(curl, cfg, label, (const uint8_t *)s, strlen(s), "application/json", 1);
        free(s);
        return res;
    }
    int rc = nw_read_file(is_stdin ? "/dev/stdin" : path, MAX_DOC, &body, &len);
    if (rc < 0) {
        fprintf(stderr, "newswire ingest: cannot read '%s': %s\n", label,
                rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
        goto done;
    }
    const char *name = is_stdin ? cfg->url : path;
    const char *ctype = cfg->content_type ? cfg->content_type : nw_parse_sniff(name, body, len);
    if (ctype == NULL) {
        fprintf(stderr,
                "newswire ingest: %s '%s': binary data, not text, HTML or JSON "
                "(use --content-type to send it anyway)\n",
                explicit ? "refusing" : "skipping", label);
        res = explicit ? NW_CLI_SENT_FAILED : NW_CLI_SENT_OK;
        goto done;
    }
    res = post_one(curl, cfg, label, body, len, ctype, 0);
done:
    free(body);
    return res;
}

int
nw_cli_ingest(int argc, char **argv)
{
    ingest_cfg_t cfg = {0};
    path_list_t files = {0};
    int nargs = 0, status;
    char **args = NULL;
    CURL *curl = NULL;
    int rc =
        nw_config_load(ingest_opts, &cfg, argc, argv, "newswire ingest [options] FILE|DIR|URL|-...",
                       "Send documents to the fetch HTTP API (POST <api>/v1/articles): "
                       "files, every regular file\nof a directory (recursively, sorted), or "
                       "stdin (-); an http(s) URL is fetched\nby fetch from the web (POST "
                       "<api>/v1/urls). Prints \"<id><TAB><path>\" per accepted\ndocument; errors "
                       "go to stderr. Busy answers (429/503) are retried after Retry-After.\n"
                       "Exit status 1 when any document failed.",
                       &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    if (nargs < 1) {
        fprintf(stderr, "newswire ingest: expected FILE, DIR or - (see --help)\n");
        return 2;
    }
    status = 1;
    /* Arguments keep their order; a directory expands in place to its sorted contents.
     * first[i] is where argument i's documents start in `files`. */
    int *explicit = calloc((size_t)nargs, sizeof *explicit);
    size_t *first = calloc((size_t)nargs + 1, sizeof *first);
    if (explicit == NULL || first == NULL)
        goto done;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        first[i] = files.n;
        if (strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t before = files.n;
            if (collect_dir(args[i], &files) == -ENOMEM)
                goto done;
            qsort(files.v + before, files.n - before, sizeof *files.v, cmp_str);
        } else {
            explicit[i] = 1;
            if (paths_add(&files, args[i]) < 0)
                goto done;
        }
    }
    first[nargs] = files.n;
    if (cfg.url && files.n != 1) {
        fprintf(stderr, "newswire ingest: --url needs exactly one document, got %zu\n", files.n);
        status = 2;
        goto done;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "newswire ingest: cannot initialise libcurl\n");
        goto done;
    }
    size_t failed = 0, total = files.n;
    for (int i = 0, unreachable = 0; i < nargs && !unreachable; i++) {
        for (size_t k = first[i]; k < first[i + 1]; k++) {
            nw_cli_sent_t r = ingest_one(curl, &cfg, files.v[k], explicit[i]);
            if (r == NW_CLI_SENT_UNREACHABLE) {
                failed += total - k; /* nothing else would get through either */
                unreachable = 1;
                break;
            }
            if (r != NW_CLI_SENT_OK)
                failed++;
        }
    }
    if (failed)
        fprintf(stderr, "newswire ingest: %zu of %zu documents failed\n", failed, total);
    status = failed ? 1 : 0;
done:
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(explicit);
    free(first);
    paths_release(&files);
    return status;
}
