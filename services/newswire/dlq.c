/* dlq.c: `newswire dlq`, the dead letters: input a stage could not process, kept with the
 * reason and the original bytes (Promise 3: bad input loses nothing).
 *
 *   newswire dlq list|show|stats   read the database directly, read-only
 *   newswire dlq replay            send letters again through the fetch API (nw_cli_post, the
 *                                  code ingest uses) and record the answer on the letter (a
 *                                  short write transaction beside the store's) */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "newswire/config.h"
#include "newswire/proto.h"
#include "newswire/store.h"
#include "newswire/util.h"

typedef struct dlq_cfg {
    const char *data_dir;
    const char *db;
    int64_t limit;
    int json;
    const char *api;
    int all;
    const char *reason;
    int force;
    const char *content_type;
    int64_t retries;
} dlq_cfg_t;

static const nw_cfg_opt_t dlq_opts[] = {
    {"data-dir", NW_CFG_STR, "var", offsetof(dlq_cfg_t, data_dir), NW_CLI_DATA_DIR_HELP, 0, 0},
    {"db", NW_CFG_STR, NULL, offsetof(dlq_cfg_t, db), NW_CLI_DB_HELP, 0, 0},
    {"limit", NW_CFG_INT, "50", offsetof(dlq_cfg_t, limit), "list: at most this many dead letters",
     1, 10000000},
    {"json", NW_CFG_BOOL, "0", offsetof(dlq_cfg_t, json),
     "list, show, stats: JSON lines (bytes as text or {\"base64\": ...})", 0, 0},
    {"api", NW_CFG_STR, "http://127.0.0.1:8080", offsetof(dlq_cfg_t, api),
     "replay: base URL of the fetch HTTP API", 0, 0},
    {"all", NW_CFG_BOOL, "0", offsetof(dlq_cfg_t, all),
     "replay: every dead letter not replayed yet, oldest first", 0, 0},
    {"reason", NW_CFG_STR, NULL, offsetof(dlq_cfg_t, reason),
     "list, replay --all: only dead letters with this reason", 0, 0},
    {"force", NW_CFG_BOOL, "0", offsetof(dlq_cfg_t, force),
     "replay: also dead letters that were replayed before", 0, 0},
    {"content-type", NW_CFG_STR, NULL, offsetof(dlq_cfg_t, content_type),
     "replay: send as this media type instead of the recorded one", 0, 0},
    {"retries", NW_CFG_INT, "60", offsetof(dlq_cfg_t, retries),
     "replay: how often to retry a letter the API answered 429/503 (busy) for", 0, 100000},
    NW_CFG_END,
};

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
    msgpack_pack_map(&pk, 14);
    msgpack_pack_str_with_body(&pk, "rowid", 5);
    msgpack_pack_int64(&pk, r->rowid);
    pack_str(&pk, "time", r->time);
    pack_str(&pk, "stage", r->stage);
    pack_str(&pk, "reason", r->reason);
    pack_str(&pk, "id", r->id);
    pack_str(&pk, "source", r->source);
    pack_str(&pk, "content_type", r->content_type);
    pack_str(&pk, "detail", r->detail);
    pack_str(&pk, "replayed_at", r->replayed_at);
    pack_str(&pk, "replay_status", r->replay_status);
    pack_str(&pk, "replay_id", r->replay_id);
    pack_str(&pk, "replay_detail", r->replay_detail);
    msgpack_pack_str_with_body(&pk, "size", 4);
    msgpack_pack_uint64(&pk, r->bytes_len);
    msgpack_pack_str_with_body(&pk, "bytes", 5);
    msgpack_pack_bin_with_body(&pk, r->bytes ? (const char *)r->bytes : "", r->bytes_len);
    int rc = nw_cli_print_msgpack((const uint8_t *)sb.data, sb.size, NULL, NULL, 0);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int
out_status(int printed)
{
    return printed < 0 ? (errno == EPIPE ? -EPIPE : -EIO) : 0;
}

/* The last replay of a letter, for people: "<time>: accepted as <id>" and the like; "" when
 * it was never replayed. */
static void
replay_summary(const nw_store_dead_row_t *r, char *out, size_t n)
{
    const char *st = r->replay_status, *at = r->replayed_at ? r->replayed_at : "?";
    if (!st)
        snprintf(out, n, "%s", "");
    else if (strcmp(st, "accepted") == 0)
        snprintf(out, n, "%s: accepted as %s", at, r->replay_id ? r->replay_id : "?");
    else if (strcmp(st, "refused") == 0)
        snprintf(out, n, "%s: refused again (%s)", at,
                 r->replay_detail ? r->replay_detail : "no reason given");
    else
        snprintf(out, n, "%s: started, no answer recorded (interrupted?)", at);
}

typedef struct dlq_state {
    const dlq_cfg_t *cfg;
    int64_t shown;
    int rc;
} dlq_state_t;

static int
on_dead(const nw_store_dead_row_t *r, void *arg)
{
    dlq_state_t *st = arg;
    if (st->cfg->reason && strcmp(st->cfg->reason, r->reason ? r->reason : "") != 0)
        return 0;
    if (st->shown++ >= st->cfg->limit)
        return 1; /* --limit counts the letters shown, also when --reason filters */
    if (st->cfg->json) {
        st->rc = print_dead_json(r);
        return st->rc < 0;
    }
    /* A preview of the bytes for people: the first 80 printable characters, control bytes
     * as spaces and bytes that are not UTF-8 as '?', so the line stays one line of text. */
    char preview[80 * 4 + 1], replay[300];
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
    replay_summary(r, replay, sizeof replay);
    st->rc = out_status(
        printf("%lld\t%s\t%s\t%s\t%s\t%zu bytes\t%s\n%s%s%s    %s\n", (long long)r->rowid,
               r->time ? r->time : "-", r->stage ? r->stage : "-", r->reason ? r->reason : "-",
               r->id && *r->id ? r->id : "-", r->bytes_len, r->detail ? r->detail : "",
               replay[0] ? "    replayed " : "", replay, replay[0] ? "\n" : "", preview));
    return st->rc < 0;
}

/* ---- dlq show ---- */

/* Text a person can read as is: valid UTF-8 (no NUL) without control characters other than
 * tab and line ends. */
static int
printable_text(const uint8_t *p, size_t n)
{
    if (!nw_utf8_valid(p, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
            return 0;
    return 1;
}

/* xxd-style: offset, 16 bytes in hex, the same bytes as ASCII with '.' for the rest. */
static int
hex_dump(const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 16) {
        char line[100];
        size_t k = (size_t)snprintf(line, sizeof line, "%08zx  ", off);
        for (size_t i = 0; i < 16; i++) {
            if (off + i < n)
                k += (size_t)snprintf(line + k, sizeof line - k, "%02x ", p[off + i]);
            else
                k += (size_t)snprintf(line + k, sizeof line - k, "   ");
            if (i == 7)
                line[k++] = ' ';
        }
        line[k++] = ' ';
        line[k++] = '|';
        for (size_t i = 0; i < 16 && off + i < n; i++)
            line[k++] = p[off + i] >= 0x20 && p[off + i] < 0x7f ? (char)p[off + i] : '.';
        line[k++] = '|';
        line[k] = 0;
        if (puts(line) == EOF)
            return errno == EPIPE ? -EPIPE : -EIO;
    }
    return 0;
}

static int
print_bytes(const char *what, const uint8_t *p, size_t n)
{
    if (n == 0)
        return out_status(printf("%s: none (0 bytes)\n", what));
    if (printable_text(p, n)) {
        int rc = out_status(printf("%s (%zu bytes, text):\n", what, n));
        if (rc == 0 && (fwrite(p, 1, n, stdout) != n || (p[n - 1] != '\n' && putchar('\n') == EOF)))
            rc = errno == EPIPE ? -EPIPE : -EIO;
        return rc;
    }
    int rc = out_status(printf("%s (%zu bytes, %s; hex):\n", what, n,
                               nw_utf8_valid(p, n) ? "with control characters" : "not UTF-8 text"));
    return rc < 0 ? rc : hex_dump(p, n);
}

/* What a replay sends: the recorded bytes, or, for a letter holding a whole `raw` message
 * (from parse, or any stage after fetch), the document inside it with its media type and
 * URL. *why is set when the letter cannot be replayed. Fills raw when it decoded (caller
 * releases it). */
typedef struct replay_req {
    const uint8_t *body;
    size_t len;
    char ctype[200];
    const char *url;
    const char *why;
    int from_raw;
    nw_raw_t raw;
} replay_req_t;

static void
replay_plan(const nw_store_dead_row_t *r, const char *ctype_override, replay_req_t *q)
{
    memset(q, 0, sizeof *q);
    q->body = r->bytes;
    q->len = r->bytes_len;
    const char *ctype = r->content_type;
    if (r->reason && strcmp(r->reason, "body-too-large") == 0) {
        q->why = r->bytes_len ? "only a sample of the oversized body was kept, not the document"
                              : "nothing of the oversized body was kept (it was refused before "
                                "it was read)";
        return;
    }
    if (r->bytes_len == 0) {
        q->why = "it holds no bytes (the input was empty, or nothing of it was kept)";
        return;
    }
    if (!(r->stage && strcmp(r->stage, "fetch") == 0) &&
        nw_raw_decode(&q->raw, r->bytes, r->bytes_len) == 0) {
        q->from_raw = 1;
        q->body = q->raw.body ? q->raw.body : (const uint8_t *)"";
        q->len = q->raw.body_len;
        q->url = q->raw.url;
        ctype = q->raw.content_type;
        if (q->len == 0) {
            q->why = "the message it holds has an empty body";
            return;
        }
    }
    if (ctype_override)
        snprintf(q->ctype, sizeof q->ctype, "%s", ctype_override);
    else if (q->from_raw && ctype && q->raw.charset)
        snprintf(q->ctype, sizeof q->ctype, "%s; charset=%s", ctype, q->raw.charset);
    else
        snprintf(q->ctype, sizeof q->ctype, "%s", ctype && *ctype ? ctype : "text/plain");
}

static void
replay_req_release(replay_req_t *q)
{
    if (q->from_raw)
        nw_raw_release(&q->raw);
    q->from_raw = 0;
}

static int
print_field(const char *name, const char *val)
{
    return out_status(printf("  %-14s%s\n", name, val && *val ? val : "-"));
}

static int
on_show(const nw_store_dead_row_t *r, void *arg)
{
    dlq_state_t *st = arg;
    if (st->cfg->json) {
        st->rc = print_dead_json(r);
        return st->rc < 0;
    }
    char buf[600], spool[32];
    replay_req_t q;
    replay_plan(r, st->cfg->content_type, &q);
    snprintf(spool, sizeof spool, "%llu", (unsigned long long)r->spool);
    int rc = out_status(printf("dead letter %lld\n", (long long)r->rowid));
    if (rc == 0)
        rc = print_field("time", r->time);
    if (rc == 0)
        rc = print_field("stage", r->stage);
    if (rc == 0)
        rc = print_field("reason", r->reason);
    if (rc == 0)
        rc = print_field("detail", r->detail);
    if (rc == 0)
        rc = print_field("article id", r->id);
    if (rc == 0)
        rc = print_field("source", r->source);
    if (rc == 0)
        rc = print_field("content type", r->content_type);
    if (rc == 0)
        rc = print_field("origin", r->origin);
    if (rc == 0)
        rc = print_field("spool", r->spool ? spool : NULL);
    replay_summary(r, buf, sizeof buf);
    if (rc == 0)
        rc = print_field("replayed", buf[0] ? buf : "never");
    if (q.why)
        snprintf(buf, sizeof buf, "cannot be replayed: %s", q.why);
    else
        snprintf(buf, sizeof buf, "%zu bytes as %s%s%s%s", q.len, q.ctype,
                 q.from_raw ? " (the document inside the raw message)" : "",
                 q.url ? " with url " : "", q.url ? q.url : "");
    if (rc == 0)
        rc = print_field("replay sends", buf);
    if (rc == 0)
        rc = print_bytes("bytes", r->bytes, r->bytes_len);
    if (rc == 0 && q.from_raw)
        rc = print_bytes("document in the raw message", q.body, q.len);
    replay_req_release(&q);
    st->rc = rc;
    return rc < 0;
}

/* ---- dlq stats ---- */

typedef struct stats_state {
    int json;
    int rc;
    int64_t total, replayed;
} stats_state_t;

static int
on_stat(const nw_store_dlq_stat_t *r, void *arg)
{
    stats_state_t *st = arg;
    st->total += r->count;
    st->replayed += r->replayed;
    if (st->json) {
        json_t *o = json_pack("{s:s?,s:s?,s:I,s:I}", "stage", r->stage, "reason", r->reason,
                              "count", (json_int_t)r->count, "replayed", (json_int_t)r->replayed);
        st->rc = o ? nw_cli_print_json(o) : -ENOMEM;
        json_decref(o);
    } else {
        st->rc =
            out_status(printf("%8lld %9lld  %-8s %s\n", (long long)r->count, (long long)r->replayed,
                              r->stage ? r->stage : "-", r->reason ? r->reason : "-"));
    }
    return st->rc < 0;
}

static int
dlq_stats(nw_store_t *s, const dlq_cfg_t *cfg)
{
    stats_state_t st = {.json = cfg->json};
    if (!cfg->json && printf("%8s %9s  %-8s %s\n", "count", "replayed", "stage", "reason") < 0)
        return 1;
    int rc = nw_store_dlq_stats(s, on_stat, &st);
    if (rc < 0) {
        fprintf(stderr, "newswire dlq stats: counting failed: %s\n", strerror(-rc));
        return 1;
    }
    if (!cfg->json && st.rc == 0)
        st.rc =
            out_status(printf("%8lld %9lld  total\n", (long long)st.total, (long long)st.replayed));
    fflush(stdout);
    return st.rc < 0 && st.rc != -EPIPE ? 1 : 0;
}

/* ---- dlq replay ---- */

/* A copy of what a replay needs from a letter, so no statement is open while we post. */
typedef struct letter {
    int64_t rowid;
    int found;
    char stage[32], reason[64], status[16], replayed_at[40];
    char *content_type;
    uint8_t *bytes;
    size_t len;
} letter_t;

static int
on_letter(const nw_store_dead_row_t *r, void *arg)
{
    letter_t *l = arg;
    l->found = 1;
    l->rowid = r->rowid;
    snprintf(l->stage, sizeof l->stage, "%s", r->stage ? r->stage : "");
    snprintf(l->reason, sizeof l->reason, "%s", r->reason ? r->reason : "");
    snprintf(l->status, sizeof l->status, "%s", r->replay_status ? r->replay_status : "");
    snprintf(l->replayed_at, sizeof l->replayed_at, "%s", r->replayed_at ? r->replayed_at : "");
    l->content_type = r->content_type ? strdup(r->content_type) : NULL;
    l->bytes = malloc(r->bytes_len ? r->bytes_len : 1);
    l->len = r->bytes_len;
    if (l->bytes && r->bytes_len)
        memcpy(l->bytes, r->bytes, r->bytes_len);
    return 0;
}

static void
letter_release(letter_t *l)
{
    free(l->content_type);
    free(l->bytes);
    memset(l, 0, sizeof *l);
}

/* One short write transaction, retried while newswire-store holds the lock (its commits are
 * short; the busy timeout covers most waits). op: 0 claim, 1 record an answer. */
static int
write_replay(nw_store_t *s, int op, int64_t rowid, int force, const char *status,
             const char *new_id, const char *detail)
{
    int rc = -EIO;
    for (int attempt = 0; attempt < 5 && rc == -EIO; attempt++) {
        if ((rc = nw_store_begin(s)) < 0)
            continue;
        rc = op == 0 ? nw_store_dlq_claim(s, rowid, force)
                     : nw_store_dlq_replayed(s, rowid, status, new_id, detail);
        if (rc == 0)
            rc = nw_store_commit(s);
        if (rc < 0)
            nw_store_rollback(s);
    }
    return rc;
}

typedef enum { R_ACCEPTED, R_REFUSED, R_SKIPPED, R_FAILED, R_UNREACHABLE } replay_res_t;

static replay_res_t
replay_one(nw_store_t *s, CURL *curl, const dlq_cfg_t *cfg, int64_t rowid)
{
    letter_t l = {0};
    replay_req_t q = {0};
    nw_cli_answer_t ans;
    replay_res_t res = R_FAILED;
    int rc = nw_store_dlq_get(s, rowid, on_letter, &l);
    if (rc == -ENOENT) {
        fprintf(stderr, "newswire dlq replay: no dead letter %lld\n", (long long)rowid);
        goto done;
    }
    if (rc < 0 || l.bytes == NULL) {
        fprintf(stderr, "newswire dlq replay: cannot read dead letter %lld: %s\n", (long long)rowid,
                strerror(rc < 0 ? -rc : ENOMEM));
        goto done;
    }
    nw_store_dead_row_t row = {
        .rowid = rowid,
        .stage = l.stage,
        .reason = l.reason,
        .content_type = l.content_type,
        .bytes = l.bytes,
        .bytes_len = l.len,
    };
    replay_plan(&row, cfg->content_type, &q);
    if (q.why) {
        fprintf(stderr, "newswire dlq replay: dead letter %lld (%s, %s) cannot be replayed: %s\n",
                (long long)rowid, l.stage, l.reason, q.why);
        res = R_SKIPPED;
        goto done;
    }
    rc = write_replay(s, 0, rowid, cfg->force, NULL, NULL, NULL);
    if (rc == -EALREADY) {
        fprintf(stderr,
                "newswire dlq replay: dead letter %lld was already replayed (%s %s); "
                "--force replays it again\n",
                (long long)rowid, l.status, l.replayed_at);
        res = R_SKIPPED;
        goto done;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire dlq replay: cannot mark dead letter %lld: %s\n", (long long)rowid,
                strerror(-rc));
        goto done;
    }
    nw_cli_sent_t sent =
        nw_cli_post(curl, cfg->api, q.url, q.ctype, q.body, q.len, cfg->retries, &ans);
    char detail[600];
    if (sent == NW_CLI_SENT_OK) {
        rc = write_replay(s, 1, rowid, 0, "accepted", ans.id, NULL);
        printf("%lld\taccepted\t%s\n", (long long)rowid, ans.id);
        res = R_ACCEPTED;
    } else if (sent == NW_CLI_SENT_REFUSED) {
        snprintf(detail, sizeof detail, "HTTP %ld %s: %s", ans.status, ans.error, ans.message);
        rc = write_replay(s, 1, rowid, 0, "refused", NULL, detail);
        printf("%lld\trefused\t%s\n", (long long)rowid, detail);
        res = R_REFUSED;
    } else {
        /* Never reached fetch: release the claim so the letter is pending again. */
        rc = write_replay(s, 1, rowid, 0, NULL, NULL, NULL);
        fprintf(stderr, "newswire dlq replay: dead letter %lld: %s\n", (long long)rowid,
                ans.message);
        res = sent == NW_CLI_SENT_UNREACHABLE ? R_UNREACHABLE : R_FAILED;
    }
    fflush(stdout);
    if (rc < 0)
        fprintf(stderr,
                "newswire dlq replay: dead letter %lld: cannot record the answer (%s); it "
                "shows as \"replay started\"\n",
                (long long)rowid, strerror(-rc));
done:
    replay_req_release(&q);
    letter_release(&l);
    return res;
}

typedef struct id_list {
    int64_t *v;
    size_t n, cap;
} id_list_t;

static int
on_pending(const nw_store_dead_row_t *r, void *arg)
{
    id_list_t *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = r->rowid;
    return 0;
}

static int
dlq_replay(const dlq_cfg_t *cfg, int nids, char **ids)
{
    id_list_t list = {0};
    nw_store_t *s = NULL;
    CURL *curl = NULL;
    int status = 1;
    if (cfg->all == (nids > 0)) {
        fprintf(stderr, "newswire dlq replay: give dead letter ids or --all (see --help)\n");
        return 2;
    }
    for (int i = 0; i < nids; i++) {
        char *end = NULL;
        long long v = strtoll(ids[i], &end, 10);
        if (end == ids[i] || *end || v <= 0) {
            fprintf(stderr, "newswire dlq replay: '%s' is not a dead letter id (see dlq list)\n",
                    ids[i]);
            status = 2;
            goto done;
        }
        if (on_pending(&(nw_store_dead_row_t){.rowid = v}, &list) != 0)
            goto done;
    }
    /* Writable: the replay is recorded on the letter. */
    if ((s = nw_cli_open_db("dlq replay", cfg->data_dir, cfg->db, 0)) == NULL)
        goto done;
    if (cfg->all) {
        int rc = nw_store_dlq_pending(s, cfg->reason, on_pending, &list);
        if (rc < 0) {
            fprintf(stderr, "newswire dlq replay: listing dead letters failed: %s\n",
                    strerror(-rc));
            goto done;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "newswire dlq replay: cannot initialise libcurl\n");
        goto done;
    }
    size_t counts[R_UNREACHABLE + 1] = {0};
    for (size_t i = 0; i < list.n; i++) {
        replay_res_t r = replay_one(s, curl, cfg, list.v[i]);
        counts[r]++;
        if (r == R_UNREACHABLE) {
            counts[R_FAILED] += list.n - i - 1; /* nothing else would get through either */
            break;
        }
    }
    fprintf(stderr,
            "newswire dlq replay: %zu dead letter%s: %zu accepted, %zu refused again, %zu "
            "skipped, %zu failed\n",
            list.n, list.n == 1 ? "" : "s", counts[R_ACCEPTED], counts[R_REFUSED],
            counts[R_SKIPPED], counts[R_FAILED] + counts[R_UNREACHABLE]);
    /* --all skips what cannot be replayed, as ingest skips binary files in a directory; an
     * explicit id that was not accepted is a failure. */
    status = counts[R_REFUSED] || counts[R_FAILED] || counts[R_UNREACHABLE] ||
                     (!cfg->all && counts[R_SKIPPED])
                 ? 1
                 : 0;
done:
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    nw_store_close(&s);
    free(list.v);
    return status;
}

int
nw_cli_dlq(int argc, char **argv)
{
    dlq_cfg_t cfg = {0};
    int nargs = 0, status;
    char **args = NULL;
    nw_store_t *s = NULL;
    int rc = nw_config_load(
        dlq_opts, &cfg, argc, argv,
        "newswire dlq [options] list | show ID | stats | replay ID... | replay --all",
        "Dead letters: input a stage could not process, kept with the reason and the original\n"
        "bytes (Promise 3: bad input loses nothing).\n\n"
        "  list          newest first: letter id, time, stage, reason, article id, size,\n"
        "                detail; then the last replay, and the start of the bytes\n"
        "  show ID       one letter in full: every field, and the bytes as text when they are\n"
        "                printable UTF-8, else as a hex dump (for a letter holding a raw\n"
        "                message, also the document inside it)\n"
        "  stats         count of letters by stage and reason, and how many were replayed\n"
        "  replay ID...  send the letters again through the fetch API (POST /v1/articles, as\n"
        "                `newswire ingest` does) with the recorded media type (text/plain when\n"
        "                none was recorded); a letter holding a raw message sends the document\n"
        "                inside it, with its URL. fetch's answer is recorded on the letter:\n"
        "                accepted with the new id, or refused with the reason (fetch then\n"
        "                keeps a new dead letter). A letter is replayed once unless --force.\n"
        "                Letters without bytes, or with only a sample of an oversized body,\n"
        "                cannot be replayed. Prints \"<letter><TAB>accepted|refused<TAB><id or\n"
        "                reason>\"; exit status 1 when any letter was not accepted.\n"
        "  replay --all  every letter not replayed yet (only --reason R ones if given),\n"
        "                oldest first, skipping those that cannot be replayed",
        &nargs, &args);
    if ((status = nw_cli_config_status(rc)) >= 0)
        return status;
    const char *action = nargs ? args[0] : "list";
    if (strcmp(action, "replay") == 0)
        return dlq_replay(&cfg, nargs - 1, args + 1);
    int show = strcmp(action, "show") == 0;
    if (!(show || strcmp(action, "list") == 0 || strcmp(action, "stats") == 0)) {
        fprintf(stderr,
                "newswire dlq: unknown action '%s' (list, show, stats, replay; see --help)\n",
                action);
        return 2;
    }
    if (nargs != (show ? 2 : 1) && nargs != 0) {
        fprintf(stderr, "newswire dlq %s: %s (see --help)\n", action,
                show ? "expected one dead letter ID" : "takes no arguments");
        return 2;
    }
    int64_t id = 0;
    if (show) {
        char *end = NULL;
        id = strtoll(args[1], &end, 10);
        if (end == args[1] || *end || id <= 0) {
            fprintf(stderr, "newswire dlq show: '%s' is not a dead letter id (see dlq list)\n",
                    args[1]);
            return 2;
        }
    }
    status = 1;
    if ((s = nw_cli_open_db("dlq", cfg.data_dir, cfg.db, 1)) == NULL)
        goto done;
    if (strcmp(action, "stats") == 0) {
        status = dlq_stats(s, &cfg);
        goto done;
    }
    dlq_state_t st = {.cfg = &cfg};
    rc = show ? nw_store_dlq_get(s, id, on_show, &st)
              : nw_store_dlq_list(s, cfg.reason ? 0 : (int)cfg.limit, on_dead, &st);
    fflush(stdout);
    if (rc == -ENOENT) {
        fprintf(stderr, "newswire dlq show: no dead letter %lld\n", (long long)id);
        goto done;
    }
    if (rc < 0) {
        fprintf(stderr, "newswire dlq: %s failed: %s\n", show ? "reading" : "listing",
                strerror(-rc));
        goto done;
    }
    if (st.rc < 0 && st.rc != -EPIPE)
        goto done;
    status = 0;
done:
    nw_store_close(&s);
    return status;
}
