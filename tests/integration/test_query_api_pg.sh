#!/usr/bin/env bash
# test_query_api_pg.sh: the query API of newswire-query on PostgreSQL (a real server started
# for the test; query_api_lib.sh says what is checked). The same checks as on SQLite.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/pg_lib.sh"
pg_start
DB="$NW_PG"
. "$(dirname "${BASH_SOURCE[0]}")/query_api_lib.sh"
