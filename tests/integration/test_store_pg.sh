#!/usr/bin/env bash
# test_store_pg.sh: the store's unit tests (tests/unit/test_store.c) on a real PostgreSQL
# server started for the occasion: every test that is not about SQLite itself, plus several
# writers on one database (the same id from two stores, out-of-order commits seen in seq order
# by a reader, stories across stores).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
require_bins "$NW_BIN/tests/test_store"
pg_start
NW_TEST_PG=$NW_PG_CONNINFO "$NW_BIN/tests/test_store" || fail "test_store on PostgreSQL failed"
ok "store unit tests pass on PostgreSQL"
