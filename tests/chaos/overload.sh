#!/usr/bin/env bash
# overload.sh: the driver that proves promise 2, "bounded memory" (DESIGN.md): the store is
# stopped while the sources keep pushing as hard as they can, and nothing may grow without
# bound. Backpressure must reach the sources instead: the broker's queues fill to --queue-max
# and stop reading, the workers stop taking jobs, fetch answers 503 with Retry-After and the
# inbox pauses.
#
# It starts broker, a spooling fetch, two parse, two enrich and a store (as chaos.sh does), puts
# full load on HTTP (4 connections, each retrying on 503 after Retry-After, at most 1 s) and on
# the inbox (a producer that keeps up to 500 files waiting there), lets it run WARM seconds,
# stops the store (SIGTERM) for STOP seconds, restarts it, ends the load and measures how long
# the backlog takes to drain. A sampler reads every process's VmRSS and the broker's queue
# depths every second. At the end every article accepted (202 or moved to done/) must be in the
# store exactly once.
#
# Used by tests/chaos/test_backpressure.sh (short form, sanitizer build) and bench/overload.
# Environment:
#   NW_BIN, NW_SRC            build and source directories
#   NW_OVERLOAD_STOP          seconds the store stays stopped (15)
#   NW_OVERLOAD_WARM          seconds of load before the store stops (5)
#   NW_OVERLOAD_QUEUE_MAX     the broker's --queue-max (1000)
#   NW_OVERLOAD_SPOOL_MAX     fetch's --spool-max (1g)
#   NW_OVERLOAD_RSS_MB        fail when a process's VmRSS exceeds this many MiB (0: report only)
#   NW_OVERLOAD_DRAIN_WAIT    hard bound, in seconds, on the drain (300); it fails sooner only
#                             after 60 s without progress (stored, spool, queues, inbox)
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
require_bins "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" "$(svc_bin enrich)" \
  "$(svc_bin store)"
command -v curl >/dev/null || skip "curl not installed"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOAD="python3 $HERE/chaos_load.py"
STOP=${NW_OVERLOAD_STOP:-15}
WARM=${NW_OVERLOAD_WARM:-5}
QMAX=${NW_OVERLOAD_QUEUE_MAX:-1000}
SPOOL_MAX=${NW_OVERLOAD_SPOOL_MAX:-1g}
RSS_MB=${NW_OVERLOAD_RSS_MB:-0}
DRAIN_WAIT=${NW_OVERLOAD_DRAIN_WAIT:-300}
echo "overload: store stopped ${STOP}s after ${WARM}s of load; queue-max=$QMAX spool-max=$SPOOL_MAX dir=$T"

P=$(free_ports 16)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
DATA=$T/data
DB=$DATA/newswire.db
mkdir -p "$DATA/inbox" "$T/stage" "$T/pids"
declare -A PID HTTP_OF
HTTP_OF=([broker]=$((P + 9)) [store]=$((P + 10)) [parse1]=$((P + 11)) [parse2]=$((P + 12))
  [enrich1]=$((P + 13)) [enrich2]=$((P + 14)) [fetch]=$((P + 8)))
SERVICES=(broker store parse1 parse2 enrich1 enrich2 fetch)

# launch NAME: start (or restart) one service; its pid goes to $T/pids/NAME for the sampler.
launch() {
  local name=$1 http="127.0.0.1:${HTTP_OF[$1]}"
  local -a cmd
  case $name in
    broker) cmd=("$(svc_bin broker)" --bind "$BROKER" --http "$http" --queue-max "$QMAX") ;;
    store) cmd=("$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA" --http "$http") ;;
    parse*) cmd=("$(svc_bin parse)" --broker "$BROKER" --http "$http") ;;
    enrich*) cmd=("$(svc_bin enrich)" --broker "$BROKER" --http "$http") ;;
    fetch) cmd=("$(svc_bin fetch)" --broker "$BROKER" --http "$http" --inbox-dir "$DATA/inbox"
      --ingest "" --name fetch-overload --spool-dir "$DATA/spool" --spool-max "$SPOOL_MAX" --resend-after 10s) ;;
  esac
  "${cmd[@]}" >>"$T/$name.log" 2>&1 &
  PID[$name]=$!
  echo "$!" >"$T/pids/$name"
}

CLIENT_PIDS=()
trap nw_cleanup_current EXIT

scrape() {
  curl -fsS --max-time 1 "http://127.0.0.1:${HTTP_OF[$1]}/metrics" 2>/dev/null | awk "$2" || true
}
spool_unacked() { scrape fetch '/^nw_fetch_spool_unacked / {print $2}'; }
# (nw_broker_queued{...} only: /^nw_broker_queued/ also summed nw_broker_queued_bytes in.)
broker_queued() { scrape broker '/^nw_broker_queued\{/ {s += $2} END {if (NR) print s}'; }
db_stored() { db_query "$DB" "select count(*) from articles" 2>/dev/null || echo 0; }
check_all_alive() {
  local name
  for name in "${SERVICES[@]}"; do
    [ "$name" = store ] && [ -n "${STORE_DOWN:-}" ] && continue
    kill -0 "${PID[$name]}" 2>/dev/null || fail "$name exited by itself: $(tail -5 "$T/$name.log")"
  done
}

for name in "${SERVICES[@]}"; do launch "$name"; done
wait_until 30 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"

SAMPLER_START=$SECONDS
# The sampler: every second, each process's VmRSS (kB) and each broker queue's depth, as
# "SECONDS NAME VALUE" lines in $T/samples, until $T/stop-sampler exists.
python3 - "$T/pids" "http://127.0.0.1:${HTTP_OF[broker]}/metrics" "$T/samples" "$T/stop-sampler" <<'PY' &
import os, sys, time, urllib.request
pids, metrics, out, stop = sys.argv[1:5]
t0 = time.monotonic()
with open(out, "w", buffering=1) as f:
    while not os.path.exists(stop):
        t = round(time.monotonic() - t0)
        for name in sorted(os.listdir(pids)):
            try:
                pid = open(os.path.join(pids, name)).read().strip()
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmRSS:"):
                        f.write(f"{t} {name} {line.split()[1]}\n")
            except (OSError, ValueError):
                pass  # stopped (the store) or between restarts
        try:
            for line in urllib.request.urlopen(metrics, timeout=1).read().decode().splitlines():
                if line.startswith("nw_broker_queued{"):
                    stage = line.split('"')[1]
                    f.write(f"{t} queued.{stage} {line.split()[-1]}\n")
        except OSError:
            pass
        time.sleep(1 - (time.monotonic() - t0) % 1)
PY
CLIENT_PIDS+=($!)

# Full load until $T/stop-load exists.
$LOAD http "http://$API" 100000000 "$T/accepted" --conns 4 --honour --stop "$T/stop-load" \
  >>"$T/client.log" 2>&1 &
CLIENT_PIDS+=($!)
$LOAD inbox "$DATA/inbox" 100000000 "$T/stage" --max-pending 500 --stop "$T/stop-load" \
  >>"$T/feeder.log" 2>&1 &
CLIENT_PIDS+=($!)
T0=$SECONDS

sleep "$WARM"
check_all_alive
before=$(db_stored)
kill -TERM "${PID[store]}"
wait "${PID[store]}" 2>/dev/null || true
rm -f "$T/pids/store"
STORE_DOWN=1
echo "store stopped at t=$((SECONDS - T0))s with $before articles stored"
stop_at=$SECONDS
while [ $((SECONDS - stop_at)) -lt "$STOP" ]; do
  sleep 5
  check_all_alive
  echo "  t=$((SECONDS - T0))s store down: accepted $(grep -c '^[0-9]' "$T/accepted" || true)+$(ls "$DATA/inbox/done" | wc -l), spool unacked $(spool_unacked), broker queued $(broker_queued)"
done
launch store
STORE_DOWN=
restart_at=$SECONDS
touch "$T/stop-load"
echo "store restarted at t=$((SECONDS - T0))s; load stopped"

# Drain: the clients finish the article in hand, the inbox empties, fetch's spool has nothing
# unacked and the store holds everything accepted.
# A loaded machine drains slowly, not wrongly: the waits fail on a stall, within DRAIN_WAIT.
drain_progress() {
  echo "stored=$(db_stored) unacked=$(spool_unacked) queued=$(broker_queued)" \
    "inbox=$(find "$DATA/inbox" -maxdepth 1 -type f | wc -l) accepted=$(grep -c . "$T/accepted" 2>/dev/null)"
}
wait_progress 60 "$DRAIN_WAIT" drain_progress grep -q finished "$T/accepted" ||
  fail "the HTTP client did not stop ($WAIT_WHY): $(tail -3 "$T/client.log")"
wait_progress 60 "$DRAIN_WAIT" drain_progress grep -q finished "$T/feeder.log" ||
  fail "the inbox producer did not stop ($WAIT_WHY)"
drained() {
  check_all_alive
  [ -z "$(find "$DATA/inbox" -maxdepth 1 -type f -print -quit)" ] && [ "$(spool_unacked)" = 0 ] &&
    [ "$(broker_queued)" = 0 ]
}
wait_progress 60 "$DRAIN_WAIT" drain_progress drained ||
  fail "not drained ($WAIT_WHY): unacked $(spool_unacked), queued $(broker_queued)"
DRAIN=$((SECONDS - restart_at))
touch "$T/stop-sampler"
sleep 1.5

$LOAD verify "$DB" 0 "$T/accepted" "$DATA/inbox/done" >"$T/verdict" 2>&1 || true
grep -q "^accepted=" "$T/verdict" || fail "could not read the store: $(tail -3 "$T/verdict")"
eval "$(head -1 "$T/verdict")"
# Memory: min and max VmRSS of each process over the whole run (all its incarnations).
# Flat means: what a process holds halfway through the store's absence is what it holds at its
# end (the queues are full by then).
s1=$(((stop_at + restart_at) / 2 - SAMPLER_START)) s2=$((restart_at - SAMPLER_START - 2))
awk -v s1=$s1 -v s2=$s2 '$2 !~ /^queued/ {
    n = $2; v = $3 / 1024; if (!(n in lo) || v < lo[n]) lo[n] = v; if (v > hi[n]) hi[n] = v
    if ($1 == s1) a[n] = v; if ($1 == s2) b[n] = v }
  END {for (n in lo) if (n == "store") printf "rss %-8s min %6.1f MiB  max %6.1f MiB\n", n, lo[n], hi[n]
    else printf "rss %-8s min %6.1f MiB  max %6.1f MiB  store down: %6.1f MiB halfway, %6.1f MiB at the end\n",
    n, lo[n], hi[n], a[n], b[n]}' "$T/samples" | sort >"$T/rss"
qmax_seen=$(awk '$2 ~ /^queued/ && $3 > m {m = $3} END {print m + 0}' "$T/samples")
rss_max=$(awk '$2 !~ /^queued/ && $3 > m {m = $3} END {printf "%d", m / 1024}' "$T/samples")
busy=$(scrape fetch '/^nw_fetch_busy_total/ {split($1, a, "\""); printf "%s=%d ", a[2], $2}')
paused=$(grep -c 'inbox: broker queue full or spool pushing back' "$T/fetch.log" || true)
http_stats=$(cat "$T/accepted.stats")
cat "$T/rss"
cat <<EOF
pushback: http $http_stats
pushback: fetch busy refusals: ${busy:-none}; inbox pauses: $paused; fetch re-sends: $(scrape fetch '/^nw_fetch_resent_total / {print $2}')
queues: deepest broker queue $qmax_seen (queue-max $QMAX)
summary: store down ${STOP}s, accepted=$accepted stored=$stored lost=$lost duplicated=$duplicated dead=$dead drain=${DRAIN}s max-rss=${rss_max}MiB
EOF
sed -n '2,$p' "$T/verdict"

n503=$(sed -n 's/.* 503=\([0-9]*\) .*/\1/p' <<<"$http_stats")
n503ra=$(sed -n 's/.*503_retry_after=\([0-9]*\).*/\1/p' <<<"$http_stats")
for f in "$T"/*.log; do
  if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$f"; then
    fail "sanitizer report in $(basename "$f")"
  fi
done
[ -f "$T/accepted.refused" ] && fail "HTTP refusals other than 503: $(head -3 "$T/accepted.refused")"
[ "${n503:-0}" -gt 0 ] || fail "no HTTP 503 while the store was down: backpressure did not reach the API"
[ "$n503ra" = "$n503" ] || fail "$((n503 - n503ra)) of $n503 503s came without Retry-After"
# The broker stops reading producers at queue-max, but jobs a departing worker held come back to
# the front of its queue (never dropped): a stopped store that could not finish its drain
# returns up to its credit window (--window, 1024 by default). So the bound is queue-max plus
# that window; anything past it would be growth without bound.
QBOUND=$((QMAX + 1024))
[ "$qmax_seen" -le "$QBOUND" ] || fail "a broker queue held $qmax_seen jobs, over queue-max $QMAX + the store's window"
if [ "$RSS_MB" -gt 0 ] && [ "$rss_max" -ge "$RSS_MB" ]; then
  fail "a process reached ${rss_max} MiB, over the bound of $RSS_MB MiB"
fi
[ "$lost" -eq 0 ] && [ "$duplicated" -eq 0 ] && [ "$unexpected" -eq 0 ] && [ "$stored" -eq "$accepted" ] ||
  fail "after the drain: accepted $accepted, stored $stored, lost $lost, duplicated $duplicated, unexpected $unexpected"
[ "$dead" -eq 0 ] || fail "$dead dead letters for valid input"
ok "overload: $n503 HTTP 503s with Retry-After, queues within $QBOUND (deepest $qmax_seen), RSS at most ${rss_max} MiB, $accepted accepted articles stored once, drained in ${DRAIN}s"
