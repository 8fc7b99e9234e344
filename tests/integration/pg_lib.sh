# pg_lib.sh: a throwaway PostgreSQL server for the tests (sourced after lib.sh, not run).
# pg_start runs initdb into $T/pg and starts the server on a Unix socket in that directory
# (no TCP listener, so the port number only names the socket and cannot clash), as the
# unprivileged user "postgres" when the test runs as root (PostgreSQL refuses to run as root).
# It is stopped, and removed with $T, when the test exits. Without the server binaries the test
# is skipped (77); any other failure to start fails it.
#   pg_start      sets PG_DIR, PG_PORT, NW_PG (URI of database "newswire"), NW_PG_CONNINFO
#                 (the same as libpq key=value), after creating that database
#   pg_sql SQL    runs SQL there, rows as tab-separated lines
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] &&
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
  return 0
}

pg_start() {
  local b
  for b in initdb pg_ctl psql; do
    [ -x "$PG_BIN/$b" ] || skip "no PostgreSQL server binaries in $PG_BIN (apt-get install postgresql)"
  done
  PG_DIR=$T/pg
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || fail "running as root and there is no user postgres to run the server as"
    chmod a+x "$T" # the server user must reach its directory inside the test's
    chown postgres "$PG_DIR"
  fi
  trap 'pg_stop; nw_cleanup' EXIT
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U newswire -A trust -E UTF8 --locale=C --no-sync \
    >"$PG_DIR/initdb.log" 2>&1 || fail "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
  PG_PORT=$((20000 + RANDOM % 40000))
  # fsync off: a crash of this throwaway server is not what the tests look at; the store's own
  # durability setting (synchronous_commit) is unaffected.
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $PG_DIR -p $PG_PORT -c fsync=off -c max_connections=50" \
    start >/dev/null 2>&1 || fail "PostgreSQL did not start: $(tail -5 "$PG_DIR/server.log")"
  "$PG_BIN/psql" -XAtq -h "$PG_DIR" -p "$PG_PORT" -U newswire -d postgres \
    -c "CREATE DATABASE newswire" || fail "cannot create the test database"
  NW_PG="postgresql:///newswire?host=$PG_DIR&port=$PG_PORT&user=newswire"
  NW_PG_CONNINFO="host=$PG_DIR port=$PG_PORT user=newswire dbname=newswire"
  export NW_PG NW_PG_CONNINFO
}

pg_sql() {
  "$PG_BIN/psql" -XAtq -F $'\t' "$NW_PG" -c "$1"
}
