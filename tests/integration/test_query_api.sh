#!/usr/bin/env bash
# test_query_api.sh: the query API of newswire-query on SQLite (query_api_lib.sh says what).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DB="$T/data/newswire.db"
. "$(dirname "${BASH_SOURCE[0]}")/query_api_lib.sh"
