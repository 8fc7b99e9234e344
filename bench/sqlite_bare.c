/* sqlite_bare.c: the reference for bench/pipeline. Inserts the same article files straight into
 * SQLite with FTS5 (WAL, synchronous=FULL, 256 rows per transaction: the store's defaults), with
 * no parsing, no enrichment and no messaging, and prints the rate. The pipeline's end-to-end
 * rate divided by this one says what everything else costs.
 *
 *   bench_sqlite_bare DB FILE...    prints: articles=N seconds=S rate=R */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "newswire/util.h"

static int
exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "error: sqlite \"%s\": %s\n", sql, err);
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB FILE...\n", argv[0]);
        return 2;
    }
    unlink(argv[1]);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    int rc = 1, n = 0;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK)
        goto out;
    if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT UNIQUE, text TEXT);"
                 "CREATE VIRTUAL TABLE a_fts USING fts5(text, content='a', content_rowid='id',"
                 " tokenize='unicode61 remove_diacritics 2');"
                 "CREATE TRIGGER a_ai AFTER INSERT ON a BEGIN"
                 " INSERT INTO a_fts(rowid, text) VALUES (new.id, new.text); END;") < 0)
        goto out;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO a (name, text) VALUES (?, ?)", -1, &ins,
                           NULL) != SQLITE_OK)
        goto out;
    uint64_t t0 = nw_mono_ns();
    for (int i = 2; i < argc; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (nw_read_file(argv[i], 64u << 20, &buf, &len) < 0) {
            fprintf(stderr, "error: cannot read \"%s\"\n", argv[i]);
            goto out;
        }
        if (n % 256 == 0 && exec(db, "BEGIN") < 0) {
            free(buf);
            goto out;
        }
        sqlite3_bind_text(ins, 1, argv[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, (const char *)buf, (int)len, SQLITE_STATIC);
        int s = sqlite3_step(ins);
        sqlite3_reset(ins);
        free(buf);
        if (s != SQLITE_DONE)
            goto out;
        if (++n % 256 == 0 && exec(db, "COMMIT") < 0)
            goto out;
    }
    if (n % 256 && exec(db, "COMMIT") < 0)
        goto out;
    double secs = (double)(nw_mono_ns() - t0) / 1e9;
    printf("articles=%d seconds=%.3f rate=%.0f\n", n, secs, n / secs);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "error: %s\n", db ? sqlite3_errmsg(db) : "cannot open database");
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return rc;
}
