#!/usr/bin/env bash
# chaos.sh: the driver that proves promise 1, "nothing lost, nothing doubled" (DESIGN.md).
#
# It starts the real executables the way pipeline.sh does (broker, a spooling fetch, two parse,
# two enrich, one store; not `newswire up`, so this script alone decides what dies and when),
# feeds N articles through the HTTP API (a client that retries until it gets a 202) and the
# inbox (files renamed in), and meanwhile SIGKILLs a service every few seconds and restarts it
# after a short pause. When everything is quiet again it checks the store: every accepted article
# present exactly once (one row, one revision), fully enriched, no dead letter.
#
# Revisions (issue 9): meanwhile REVS URLs are sent as 2 or 3 versions each (JSON {"url",
# "text"}, each version posted right after the previous one's 202), and a query service streams
# /v1/stream (Server-Sent Events) from seq 0 into a file. Afterwards, from the database: every
# URL has one revision per distinct version accepted (none lost, none doubled) and its current
# revision is the last accepted one; from the stream: each id's versions in acceptance order,
# none twice, ending with the current one.
#
# The kill schedule is random but seeded (NW_CHAOS_SEED; printed, so a failing run can be
# replayed): a shuffled round of every kind of service (broker, fetch, parse, enrich, store),
# then another, so each kind is killed about KILLS/5 times. A store is killed once it holds
# received-but-uncommitted jobs (an open batch; store --batch-ms 200 keeps batches open long),
# and the broker once jobs wait in its queues, waiting up to 10 s for such a moment (the
# summary counts how many kills hit one).
#
# Used by tests/chaos/test_chaos.sh (short form, sanitizer build) and bench/chaos (long form,
# release build). Environment:
#   NW_BIN, NW_SRC        build and source directories (as for the integration tests)
#   NW_CHAOS_N            articles (3000), half through HTTP and half through the inbox
#   NW_CHAOS_KILLS        SIGKILLs (20)
#   NW_CHAOS_SEED         seed of the kill schedule (default: random)
#   NW_CHAOS_GAP          "MIN MAX" seconds between kills ("1 3")
#   NW_CHAOS_RATE         articles per second over both sources (default: spread the load
#                         over the kill schedule); 0 = as fast as fetch takes them
#   NW_CHAOS_WAIT         hard bound, in seconds, on everything after the kill schedule: the
#                         load finishing and the pipeline draining (540, inside ctest's 900)
#   NW_CHAOS_STALL        seconds without progress (articles accepted, stored, revisions
#                         written, spool and queues shrinking) before the run fails (120)
#   NW_CHAOS_TOTAL        hard bound, in seconds from the start of the load, on the whole run
#                         (780, inside ctest's 900 with start-up and clean-up): once 45% of it
#                         is gone no new kill starts (the summary says how many ran), and the
#                         waits after the kills end by it
#   NW_CHAOS_REVS         URLs sent as 2-3 versions each (60), paced over the kill schedule
# Prints one line per kill and a summary; exits 0 when nothing was lost or doubled.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
require_bins "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" "$(svc_bin enrich)" \
  "$(svc_bin store)" "$(svc_bin query)"
command -v curl >/dev/null || skip "curl not installed"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOAD="python3 $HERE/chaos_load.py"
N=${NW_CHAOS_N:-3000}
KILLS=${NW_CHAOS_KILLS:-20}
SEED=${NW_CHAOS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
read -r GAP_MIN GAP_MAX <<<"${NW_CHAOS_GAP:-1 3}"
WAIT=${NW_CHAOS_WAIT:-540}
STALL=${NW_CHAOS_STALL:-120}
TOTAL=${NW_CHAOS_TOTAL:-780}
REVS=${NW_CHAOS_REVS:-60}
BURST=8
AIM_WAIT=$((BURST + 2))
# By default the load lasts about as long as the kill schedule (per kill: the mean gap, the mean
# pause of 0.8 s, and about a second for aiming and restarting).
RATE=${NW_CHAOS_RATE:-$(python3 -c "print(round($N / max(1, $KILLS * (($GAP_MIN + $GAP_MAX) / 2 + 1.8)), 1))")}
REV_RATE=$(python3 -c "print(round($REVS / max(1, $KILLS * (($GAP_MIN + $GAP_MAX) / 2 + 1.8)), 2))")
echo "chaos: seed=$SEED articles=$N revision-urls=$REVS kills=$KILLS gap=${GAP_MIN}-${GAP_MAX}s rate=$RATE/s dir=$T"

P=$(free_ports 16)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
DATA=$T/data
DB=$DATA/newswire.db
mkdir -p "$DATA/inbox" "$T/stage"
declare -A PID HTTP_OF
HTTP_OF=([broker]=$((P + 9)) [store]=$((P + 10)) [parse1]=$((P + 11)) [parse2]=$((P + 12))
  [enrich1]=$((P + 13)) [enrich2]=$((P + 14)) [fetch]=$((P + 8)) [query]=$((P + 15)))
# query serves the SSE stream the revision check reads; it is never killed.
SERVICES=(broker store parse1 parse2 enrich1 enrich2 fetch query)

# launch NAME: start (or restart) one service; its output is appended to $T/NAME.log.
launch() {
  local name=$1 http="127.0.0.1:${HTTP_OF[$1]}"
  local -a cmd
  case $name in
    broker) cmd=("$(svc_bin broker)" --bind "$BROKER" --http "$http") ;;
    # A long batch window, so that kills often land inside an open transaction.
    store) cmd=("$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA" --batch-ms 200 --http "$http") ;;
    parse*) cmd=("$(svc_bin parse)" --broker "$BROKER" --http "$http") ;;
    enrich*) cmd=("$(svc_bin enrich)" --broker "$BROKER" --http "$http") ;;
    query) cmd=("$(svc_bin query)" --broker "$BROKER" --http "$http" --data-dir "$DATA" --check 200ms) ;;
    # A short resend-after, so what a kill lost is sent again within seconds.
    fetch) cmd=("$(svc_bin fetch)" --broker "$BROKER" --http "$http" --inbox-dir "$DATA/inbox"
      --ingest "" --name fetch-chaos --spool-dir "$DATA/spool" --resend-after 2s) ;;
  esac
  echo "--- start $(date +%T.%N)" >>"$T/$name.log"
  "${cmd[@]}" >>"$T/$name.log" 2>&1 &
  PID[$name]=$!
}

# alive NAME: the process runs (a child that died but was not reaped yet is a zombie).
alive() {
  local st
  st=$(awk '/^State:/ {print $2}' "/proc/${PID[$1]}/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

CLIENT_PIDS=()
trap nw_cleanup_current EXIT

# scrape NAME AWK: run an awk program over a service's /metrics (prints nothing if it is down).
scrape() {
  curl -fsS --max-time 1 "http://127.0.0.1:${HTTP_OF[$1]}/metrics" 2>/dev/null | awk "$2" || true
}
# Jobs the store received but has not committed: its open batch.
store_uncommitted() {
  scrape store '/^nw_worker_jobs_total/ {r += $2} /^nw_store_(articles|dead)_total/ {c += $2}
    END {if (NR) print r - c}'
}
# Jobs waiting in the broker's queues, and jobs its workers hold (0 when idle: workers return
# credit in the loop turn a job finishes).
# (nw_broker_queued{...} only: /^nw_broker_queued/ also summed nw_broker_queued_bytes in.)
broker_queued() { scrape broker '/^nw_broker_queued\{/ {s += $2} END {if (NR) print s}'; }
broker_inflight() { scrape broker '/^nw_broker_inflight/ {s += $2} END {if (NR) print s}'; }
spool_unacked() { scrape fetch '/^nw_fetch_spool_unacked / {print $2}'; }
db_stored() { db_query "$DB" "select count(*) from articles" 2>/dev/null || echo 0; }
db_revisions() { db_query "$DB" "select count(*) from revisions" 2>/dev/null || echo 0; }

# die_report NAME: a service exited on its own (crash, sanitizer report): that is a failure.
die_report() {
  echo "FAIL: $1 exited by itself; the end of its log:" >&2
  tail -30 "$T/$1.log" >&2
  exit 1
}
check_all_alive() {
  local name
  for name in "${SERVICES[@]}"; do alive "$name" || die_report "$name"; done
}

for name in "${SERVICES[@]}"; do launch "$name"; done
wait_until 30 curl -fsS "http://$API/healthz" || fail "fetch did not come up: $(tail -5 "$T/fetch.log")"
wait_until 30 curl -fsS "http://127.0.0.1:${HTTP_OF[query]}/healthz" || fail "query did not come up"
# Everything published, from the first seq, as a subscriber sees it.
curl -sN "http://127.0.0.1:${HTTP_OF[query]}/v1/stream?since=0" >"$T/stream.sse" 2>/dev/null &
CLIENT_PIDS+=($!)
START=$SECONDS

# The load: even articles through HTTP (4 connections, smoothly paced), odd ones through the
# inbox, in bursts of BURST seconds' worth: a burst outruns the workers' credit, so the broker
# queues jobs, and a broker kill waits (up to AIM_WAIT s) for such a moment.
$LOAD http "http://$API" "$N" "$T/accepted" --rate "$(python3 -c "print($RATE / 2)")" \
  >>"$T/client.log" 2>&1 &
CLIENT_PIDS+=($!)
$LOAD inbox "$DATA/inbox" "$N" "$T/stage" --rate "$(python3 -c "print($RATE / 2)")" --burst "$BURST" \
  >>"$T/feeder.log" 2>&1 &
CLIENT_PIDS+=($!)
if [ "$REVS" -gt 0 ]; then
  $LOAD revs "http://$API" "$REVS" "$T/revs" --rate "$REV_RATE" >>"$T/revs.log" 2>&1 &
  CLIENT_PIDS+=($!)
else
  echo finished >"$T/revs"
fi

# The kill schedule: "GAP SERVICE PAUSE" per line, from the seed alone.
python3 - "$SEED" "$KILLS" "$GAP_MIN" "$GAP_MAX" >"$T/schedule" <<'PY'
import random, sys
rng = random.Random(int(sys.argv[1]))
kills, gmin, gmax = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
deck = []
for _ in range(kills):
    if not deck:
        deck = ["broker", "fetch", "parse", "enrich", "store"]
        rng.shuffle(deck)
    kind = deck.pop()
    if kind in ("parse", "enrich"):
        kind += rng.choice("12")
    print(f"{rng.uniform(gmin, gmax):.2f} {kind} {rng.uniform(0.1, 1.5):.2f}")
PY

declare -A KILLED=([broker]=0 [fetch]=0 [parse]=0 [enrich]=0 [store]=0)
store_in_batch=0 broker_with_jobs=0 k=0 RESENT=0
while read -r gap name pause; do
  # On a saturated machine a kill round can take half a minute (every process starts slowly,
  # enrich loads its models): stop killing rather than run into ctest's timeout.
  if [ $((SECONDS - START)) -gt $((TOTAL * 45 / 100)) ]; then
    echo "kill schedule cut after $k of $KILLS kills at t=$((SECONDS - START))s (NW_CHAOS_TOTAL=$TOTAL)"
    break
  fi
  sleep "$gap"
  check_all_alive
  # Aim the kill: the store while it holds an open batch, the broker while it holds jobs.
  note=""
  case $name in
    store | broker)
      # Once the load is over there is nothing to wait for.
      grep -q finished "$T/accepted" 2>/dev/null && grep -q finished "$T/feeder.log" && AIM_WAIT=0
      deadline=$((SECONDS + AIM_WAIT))
      while :; do
        if [ "$name" = store ]; then held=$(store_uncommitted); else held=$(broker_queued); fi
        [ "${held:-0}" -gt 0 ] 2>/dev/null && break
        [ $SECONDS -lt $deadline ] || break
        sleep 0.05
      done
      if [ "$name" = store ]; then
        note=" uncommitted=${held:-?}"
        [ "${held:-0}" -gt 0 ] 2>/dev/null && store_in_batch=$((store_in_batch + 1))
      else
        note=" queued=${held:-?} inflight=$(broker_inflight)"
        [ "${held:-0}" -gt 0 ] 2>/dev/null && broker_with_jobs=$((broker_with_jobs + 1))
      fi
      ;;
  esac
  # Counters restart with the process: keep fetch's re-sends before it goes.
  [ "$name" = fetch ] && RESENT=$((RESENT + $(scrape fetch '/^nw_fetch_resent_total / {print $2}' | cut -d. -f1 | grep . || echo 0)))
  kill -KILL "${PID[$name]}"
  wait "${PID[$name]}" 2>/dev/null || true
  k=$((k + 1))
  KILLED[${name%[12]}]=$((${KILLED[${name%[12]}]} + 1))
  echo "kill $k/$KILLS t=$((SECONDS - START))s $name$note stored=$(db_stored) accepted=$(grep -c '^[0-9]' "$T/accepted" 2>/dev/null || echo 0)+$(ls "$DATA/inbox/done" 2>/dev/null | wc -l); restart in ${pause}s"
  sleep "$pause"
  launch "$name"
done <"$T/schedule"
KILL_END=$((SECONDS - START))

# The load ends; then wait for quiescence: nothing unacked in the spool, nothing held by the
# broker, the inbox empty, and the store's count still for 5 seconds. The waits fail on a
# stall (STALL seconds with no progress), not on a deadline tuned to a quiet machine; WAIT
# bounds them all together.
END_BY=$((SECONDS + WAIT))
[ $END_BY -le $((START + TOTAL)) ] || END_BY=$((START + TOTAL))
left() { echo $((END_BY > SECONDS ? END_BY - SECONDS : 1)); }
inbox_files() { find "$DATA/inbox" -maxdepth 1 -type f | wc -l; }
inbox_empty() { [ -z "$(find "$DATA/inbox" -maxdepth 1 -type f -print -quit)" ]; }
# What moves while the load is taken in and the pipeline drains.
progress() {
  echo "accepted=$(grep -c . "$T/accepted" 2>/dev/null) done=$(ls "$DATA/inbox/done" 2>/dev/null | wc -l)" \
    "revs=$(grep -c . "$T/revs" 2>/dev/null) stored=$(db_stored) revisions=$(db_revisions)" \
    "inbox=$(inbox_files) unacked=$(spool_unacked) queued=$(broker_queued)"
}
wait_progress "$STALL" "$(left)" progress grep -q finished "$T/accepted" ||
  fail "the HTTP client did not finish ($WAIT_WHY): $(tail -3 "$T/client.log")"
wait_progress "$STALL" "$(left)" progress grep -q finished "$T/feeder.log" ||
  fail "the inbox feeder did not finish ($WAIT_WHY): $(tail -3 "$T/feeder.log")"
wait_progress "$STALL" "$(left)" progress grep -q finished "$T/revs" ||
  fail "the revision client did not finish ($WAIT_WHY): $(tail -3 "$T/revs.log")"
LOAD_END=$((SECONDS - START))
quiet() {
  check_all_alive
  inbox_empty && [ "$(spool_unacked)" = 0 ] && [ "$(broker_queued)" = 0 ] || return 1
  local before after
  before=$(db_stored)
  sleep 5
  after=$(db_stored)
  [ "$before" = "$after" ] && [ "$(spool_unacked)" = 0 ]
}
if ! wait_progress "$STALL" "$(left)" progress quiet; then
  echo "not quiet ($WAIT_WHY): inbox $(inbox_files) files, unacked $(spool_unacked), broker:"
  scrape broker '/^nw_broker_(queued|inflight|workers)/ {print "  " $0}'
fi
DURATION=$((SECONDS - START))
check_all_alive
IDLE_INFLIGHT=$(broker_inflight)

# The verdict, from the database, the client's 202s and the inbox's done/.
$LOAD verify "$DB" "$N" "$T/accepted" "$DATA/inbox/done" >"$T/verdict" 2>&1 || true
cat "$T/verdict"
grep -q "^accepted=" "$T/verdict" || fail "could not read the store: $(tail -3 "$T/verdict")"
eval "$(head -1 "$T/verdict")" # accepted=... stored=... lost=... duplicated=... dead=...
# The revision verdict; the stream may lag the database by a check interval: a few tries.
revs_ok() {
  $LOAD verify-revs "$DB" "$T/revs" "$T/stream.sse" >"$T/verdict.revs" 2>&1 || return 1
  grep -q "sse_missing=0" "$T/verdict.revs"
}
wait_until 30 revs_ok || true
cat "$T/verdict.revs"
grep -q "^revs_urls=" "$T/verdict.revs" || fail "could not check revisions: $(tail -3 "$T/verdict.revs")"
eval "$(head -1 "$T/verdict.revs")"
kills_by=""
for kind in broker fetch parse enrich store; do kills_by+=" $kind=${KILLED[$kind]}"; done
http_stats=$(cat "$T/accepted.stats" 2>/dev/null || echo "none")
cat <<EOF
summary: seed=$SEED articles=$N accepted=$accepted stored=$stored lost=$lost duplicated=$duplicated dead_letters=$dead unenriched=$unenriched
summary: revisions: urls=$revs_urls versions=$rev_versions lost=$rev_lost extra=$rev_extra stale_current=$rev_stale late_in_history=$rev_late sse: events=$sse_events out_of_order=$sse_out_of_order doubled=$sse_doubled missing=$sse_missing
summary: kills=$k of $KILLS ($kills_by ) store-kills-in-open-batch=$store_in_batch broker-kills-with-jobs=$broker_with_jobs
summary: duration=${DURATION}s (kills until ${KILL_END}s, load until ${LOAD_END}s) idle_broker_inflight=${IDLE_INFLIGHT:-?} resent=$((RESENT + $(scrape fetch '/^nw_fetch_resent_total / {print $2}' | cut -d. -f1 | grep . || echo 0))) http: $http_stats
EOF
for f in "$T"/*.log; do
  if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$f"; then
    fail "sanitizer report in $(basename "$f"): $(grep -m1 -e AddressSanitizer -e 'runtime error:' "$f")"
  fi
done
[ -f "$T/accepted.refused" ] && fail "HTTP refused articles: $(head -3 "$T/accepted.refused")"
[ "$accepted" -eq "$N" ] || fail "only $accepted of $N articles were accepted"
[ "$lost" -eq 0 ] || fail "$lost accepted articles lost"
[ "$duplicated" -eq 0 ] || fail "$duplicated articles duplicated"
[ "$stored" -eq "$N" ] || fail "the store holds $stored articles, want $N"
[ "$unenriched" -eq 0 ] || fail "$unenriched articles not fully enriched"
[ "$dead" -eq 0 ] || fail "$dead dead letters for valid input"
[ "$rev_lost" -eq 0 ] || fail "$rev_lost revised articles lost"
[ "$rev_extra" -eq 0 ] || fail "$rev_extra revised articles with extra or doubled revisions"
[ "$rev_stale" -eq 0 ] || fail "$rev_stale revised articles whose current revision is not the last accepted"
[ "$sse_out_of_order" -eq 0 ] || fail "$sse_out_of_order stream events of an id older than one streamed before"
[ "$sse_doubled" -eq 0 ] || fail "$sse_doubled stream events twice"
[ "$sse_missing" -eq 0 ] || fail "$sse_missing revised articles whose last version the stream never sent"
ok "chaos: $N articles accepted, $k kills, each article stored exactly once, enriched, no dead letter; $revs_urls URLs in $rev_versions versions, history and stream in acceptance order"
