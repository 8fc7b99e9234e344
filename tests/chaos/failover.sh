#!/usr/bin/env bash
# failover.sh: a broker pair under load (issue 15 item 1; design in include/newswire/ha.h).
#
# A primary and a backup broker (--peer, --backup) and a pipeline whose every service names
# both (--broker P,B): fetch with its spool, one parse, one enrich, one store. Articles go in
# through the HTTP API at a steady rate; meanwhile the primary is SIGKILLed (the backup must
# take over), restarted (it must come back passive: one active broker), and then the backup is
# SIGKILLed (the primary must take over again). Afterwards the store must hold every accepted
# article exactly once (chaos_load.py verify), and the primary serves.
#
# Printed, never asserted on (wall-clock figures depend on the machine): for each kill the time
# with no broker active (the kill until the survivor logs "-> active") and until the last
# client moved to it (its "moving" log line), and the articles' latency (accepted -> stored):
# median before the first kill, and the worst extra wait of an article over that median.
#
# Used by tests/chaos/test_failover.sh (short form) and bench/failover (long form). Environment:
#   NW_BIN, NW_SRC          build and source directories
#   NW_FAILOVER_RATE        articles per second (20)
#   NW_FAILOVER_SECONDS     seconds of load (12); the kills come at 25%, 50% (restart) and 65%
#   NW_FAILOVER_HEARTBEAT   the brokers' --heartbeat (500ms)
#   NW_FAILOVER_KILLS       0: the same run without any kill, for the latency it compares with
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
require_bins "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" "$(svc_bin enrich)" \
  "$(svc_bin store)"
command -v curl >/dev/null || skip "curl not installed"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOAD="python3 $HERE/chaos_load.py"
RATE=${NW_FAILOVER_RATE:-20}
SECS=${NW_FAILOVER_SECONDS:-12}
HB=${NW_FAILOVER_HEARTBEAT:-500ms}
N=$(python3 -c "print(int($RATE * $SECS) * 2)") # the http loader posts the even half of N

P=$(free_ports 30)
PRIMARY="tcp://127.0.0.1:$P"
BACKUP="tcp://127.0.0.1:$((P + 10))"
PAIR="$PRIMARY,$BACKUP"
API="127.0.0.1:$((P + 20))"
DATA=$T/data
DB=$DATA/newswire.db
mkdir -p "$DATA/inbox/done"
declare -A PID HTTP_OF
HTTP_OF=([primary]=$((P + 21)) [backup]=$((P + 22)) [store]=$((P + 23)) [parse]=$((P + 24))
  [enrich]=$((P + 25)) [fetch]=$((P + 20)))
SERVICES=(primary backup store parse enrich fetch)
echo "failover: rate=$RATE/s seconds=$SECS heartbeat=$HB pair=$PAIR dir=$T"

launch() {
  local name=$1 http="127.0.0.1:${HTTP_OF[$1]}"
  local -a cmd
  case $name in
    primary) cmd=("$(svc_bin broker)" --bind "$PRIMARY" --peer "$BACKUP" --heartbeat "$HB" --http "$http") ;;
    backup) cmd=("$(svc_bin broker)" --bind "$BACKUP" --peer "$PRIMARY" --backup --heartbeat "$HB" --http "$http") ;;
    store) cmd=("$(svc_bin store)" --broker "$PAIR" --data-dir "$DATA" --http "$http") ;;
    parse) cmd=("$(svc_bin parse)" --broker "$PAIR" --http "$http") ;;
    enrich) cmd=("$(svc_bin enrich)" --broker "$PAIR" --http "$http") ;;
    # the default resend-after (10 s): a failover must not wait for it
    fetch) cmd=("$(svc_bin fetch)" --broker "$PAIR" --http "$http" --inbox-dir "$DATA/inbox"
      --ingest "" --name fetch-failover --spool-dir "$DATA/spool" --state-dir "$DATA/fetch") ;;
  esac
  echo "--- start $(date +%T.%N)" >>"$T/$name.log"
  "${cmd[@]}" >>"$T/$name.log" 2>&1 &
  PID[$name]=$!
}
CLIENT_PIDS=()
trap nw_cleanup_current EXIT

# state NAME: the broker's state from its /healthz ("" while it does not answer)
state() {
  curl -fsS --max-time 1 "http://127.0.0.1:${HTTP_OF[$1]}/healthz" 2>/dev/null |
    sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' || true
}
is_state() { [ "$(state "$1")" = "$2" ]; }
now() { date +%s.%N; }

for name in "${SERVICES[@]}"; do launch "$name"; done
wait_until 60 curl -fsS "http://$API/healthz" || fail "fetch did not come up"
wait_until 30 is_state primary active || fail "the primary did not become active ($(state primary))"
wait_until 30 is_state backup passive || fail "the backup did not become passive ($(state backup))"
ok "primary active, backup passive"

START=$(now)
$LOAD http "http://$API" "$N" "$T/accepted" --rate "$RATE" --times "$T/times" \
  >>"$T/client.log" 2>&1 &
CLIENT_PIDS+=($!)
at() { sleep "$(python3 -c "import time; print(max(0, $START + $SECS * $1 - time.time()))")"; }

# kill_and_wait VICTIM SURVIVOR: SIGKILL the active broker and wait for the other to serve.
kill_and_wait() {
  now >>"$T/kills"
  kill -KILL "${PID[$1]}"
  wait_until 30 is_state "$2" active || fail "$2 did not take over after $1 was killed"
  echo "killed $1 (SIGKILL); $2 took over"
}

if [ "${NW_FAILOVER_KILLS:-1}" != 0 ]; then
  at 0.25
  kill_and_wait primary backup
  at 0.5
  launch primary
  wait_until 30 is_state primary passive || fail "the restarted primary is not passive ($(state primary))"
  is_state backup active || fail "the backup stopped serving when the primary came back"
  ok "restarted primary came back passive; backup still active"
  at 0.65
  kill_and_wait backup primary
else
  at 0.25
  now >>"$T/kills" # no kill: the latency before this moment is the baseline all the same
fi

wait_until $((SECS + 60)) grep -q finished "$T/accepted" || fail "the load did not finish"
accepted=$(grep -c -v finished "$T/accepted")
stored() { db_query "$DB" "select count(*) from articles" 2>/dev/null || echo 0; }
all_stored() { [ "$(stored)" -ge "$accepted" ]; }
wait_progress 30 120 stored all_stored || fail "not all $accepted articles stored: $WAIT_WHY"
sleep 1 # late copies (re-sends of what was already stored) would show as doubles now

verdict=$($LOAD verify "$DB" 0 "$T/accepted" "$DATA/inbox/done")
echo "$verdict"
eval "$(head -1 <<<"$verdict")"
[ "$lost" = 0 ] && [ "$duplicated" = 0 ] && [ "$dead" = 0 ] && [ "$unexpected" = 0 ] ||
  fail "articles lost or doubled across the failovers"
[ "$stored" = "$accepted" ] || fail "stored $stored rows for $accepted accepted articles"
ok "$accepted articles accepted, each stored exactly once (lost=0 duplicated=0)"

is_state primary active || fail "the primary is not active at the end ($(state primary))"
ok "the primary serves at the end"

# Figures, from the logs' timestamps (polling /healthz on a saturated machine is slower than
# the failover) and the database: latency accepted -> stored, extra wait over the median
# before the first kill.
python3 - "$DB" "$T" <<'PY'
import datetime, glob, re, sqlite3, statistics, sys
db, t = sys.argv[1], sys.argv[2]
def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
acc = dict(l.split() for l in open(f"{t}/times"))
kills = [float(l) for l in open(f"{t}/kills")]
events = []  # (time, what)
for f in glob.glob(f"{t}/*.log"):
    for line in open(f, errors="replace"):
        m = re.match(r"ts=(\S+) .*broker pair: (\w+) -> active", line)
        if m:
            events.append((ts(m.group(1)), "active"))
        m = re.match(r"ts=(\S+) .*broker pair: moving", line)
        if m:
            events.append((ts(m.group(1)), "moved"))
gaps = []
for i, k in enumerate(kills):
    end = kills[i + 1] if i + 1 < len(kills) else float("inf")
    act = [e for e, w in events if w == "active" and k <= e < end]
    mov = [e for e, w in events if w == "moved" and k <= e < end]
    gaps.append(f"{min(act) - k:.2f} s (all clients moved by {max(mov) - k:.2f} s)"
                if act and mov else "none (no kill)")
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
lat = [(float(acc[aid]), ts(at) - float(acc[aid]))
       for aid, at in con.execute("select id, stored_at from articles") if aid in acc]
base = [l for a, l in lat if a < kills[0] - 1] or [l for _, l in lat]
med = statistics.median(base)
wa, wl = max(lat, key=lambda x: x[1])
print(f"figures: no broker active for {'; '.join(gaps)} after each kill; latency median "
      f"{med:.2f} s before the kills, worst {wl:.2f} s (accepted {wa - kills[0]:+.2f} s from the "
      f"first kill): worst extra wait of an article {wl - med:.2f} s")
PY
