#!/usr/bin/env bash
# bench/query/run.sh: latency of every kind of query of the query API with N stored articles
# (default 100,000), measured as a client gets it: HTTP answers from a release-built
# newswire-query, each kind repeated, p50 and p95 printed per kind with the server's CPU time
# per request (the machine is shared: the CPU time does not count waiting for a core) and the
# load average. The database is built by
# bench_query_load (generated articles put through the store, so the query index is the
# store's) and kept in $NW_BENCH_DIR (default /tmp/nw-bench-query) for the next run.
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel -j2
#   bench/query/run.sh [N]            SQLite
#   NW_BENCH_DB=postgresql://... bench/query/run.sh [N]   an existing empty PostgreSQL database
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${NW_BUILD:-$ROOT/build-rel}
N=${1:-100000}
DIR=${NW_BENCH_DIR:-/tmp/nw-bench-query}
DB=${NW_BENCH_DB:-$DIR/q$N.db}
mkdir -p "$DIR"
for x in "$B/bench/bench_query_load" "$B/services/query/newswire-query"; do
  [ -x "$x" ] || { echo "build first: $x is missing (see the header of $0)" >&2; exit 2; }
done
if [[ $DB == postgres* ]] || [ ! -s "$DB" ]; then
  echo "loading $N articles into $DB"
  "$B/bench/bench_query_load" "$DB" "$N"
else # a file kept from an older build: a writer's open migrates it (the server only reads)
  "$B/bench/bench_query_load" "$DB" 0 >/dev/null
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/services/query/newswire-query" --db "$DB" --http "127.0.0.1:$PORT" \
  --broker "tcp://127.0.0.1:$((PORT + 1))" --log-level warn >"$DIR/query.log" 2>&1 &
QPID=$!
trap 'kill $QPID 2>/dev/null; wait $QPID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared: wall times are upper bounds; cpu/req is the server's)"
# On PostgreSQL, also the CPU of the server's backends (psql finds them) when they are local.
PG=
[[ $DB == postgres* ]] && command -v psql >/dev/null && PG=$DB
NW_QUERY_PID=$QPID NW_BENCH_PG=$PG python3 "$ROOT/bench/query/measure.py" "http://127.0.0.1:$PORT" "$N"
