# lib.sh: shared helpers for the integration tests (sourced, not run).
# Every test gets its own temp dir and free ports, and kills what it started on exit.
set -euo pipefail

NW_BIN=${NW_BIN:?NW_BIN must point at the build directory}
NW_SRC=${NW_SRC:?NW_SRC must point at the source directory}
NW=$NW_BIN/services/newswire/newswire
svc_bin() { printf '%s/services/%s/newswire-%s' "$NW_BIN" "$1" "$1"; }

# Sanitizer builds read the common-word lists of nine languages for ~10 s: every enrich a test
# starts (and restarts) reads them on first use instead.
export NEWSWIRE_ENRICH_PRELOAD_LISTS=${NEWSWIRE_ENRICH_PRELOAD_LISTS:-0}

T=$(mktemp -d "${TMPDIR:-/tmp}/nw-test.XXXXXX")
NW_PIDS=()
NW_CLEANUP_HOOKS=()
# SIGTERM lets the services drain; whatever has not exited after NW_CLEANUP_WAIT seconds
# (default 3; sanitizer builds exit slowly under load) gets SIGKILL.
nw_cleanup() {
  local p deadline=$((SECONDS + ${NW_CLEANUP_WAIT:-3}))
  for p in "${NW_PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
  for p in "${NW_PIDS[@]:-}"; do
    while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  done
  for p in "${NW_PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  # Helpers that own more than processes and files (netns_lib.sh: network namespaces) release
  # it here, so that every trap that ends in nw_cleanup (pg_lib.sh replaces the trap) runs it.
  local h
  for h in "${NW_CLEANUP_HOOKS[@]:-}"; do [ -n "$h" ] && { "$h" || true; }; done
  if [ -z "${NW_KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T" >&2; fi
}
trap nw_cleanup EXIT

# For drivers that restart services under new pids (chaos, overload): they keep the current
# pid of each name of SERVICES in PID[name] and their load clients in CLIENT_PIDS; clean up
# exactly those, with time to drain.
nw_cleanup_current() {
  local name
  NW_PIDS=("${CLIENT_PIDS[@]:-}")
  for name in "${SERVICES[@]}"; do NW_PIDS+=("${PID[$name]:-}"); done
  NW_CLEANUP_WAIT=10 nw_cleanup 2>/dev/null
}

skip() { echo "SKIP: $*"; exit 77; }
# On failure, the last lines of every service log of the test go with the message, so a
# failure in CI (where $T is gone afterwards) can be read from ctest's output alone.
fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "${T:-/nonexistent}"/*.log; do
    [ -f "$f" ] || continue
    echo "--- last lines of $f" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}
ok() { echo "ok - $*"; }

# contains GREP-ARGS...: true when stdin has a matching line. Use it instead of
# `| grep -q` in these pipefail scripts: grep -q quits at the first match, and
# a writer still printing then dies of SIGPIPE and fails the pipeline.
contains() {
  local s
  s=$(cat)
  grep -q "$@" <<<"$s"
}

require_bins() {
  local b
  for b in "$@"; do [ -x "$b" ] || skip "$b is not built"; done
}

# A base port with `count` free consecutive ports above it. They are taken below the kernel's
# ephemeral range when there is room, so that a service restarted by a test does not find its
# port taken by some outgoing connection meanwhile (EADDRINUSE).
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 60000
top = low - n if low - n > 25000 else 60000 - n
for _ in range(200):
    base = random.randint(20000, top)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(base); break
PY
}

# start NAME CMD...: run in the background, log to $T/NAME.log, remember the pid.
start() {
  local name=$1
  shift
  "$@" >>"$T/$name.log" 2>&1 &
  NW_PIDS+=($!)
  eval "PID_${name//[-.]/_}=$!"
}

# wait_until SECONDS CMD...: poll CMD until it succeeds or the deadline passes.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# wait_progress STALL LIMIT PROGRESS CMD...: poll CMD until it succeeds, as long as the work
# moves. PROGRESS is a shell command (a string, evaluated) printing where the work stands (a
# count, or several counts on one line); the wait fails once that output has not changed for STALL
# seconds, or after LIMIT seconds in all. A wall-clock deadline for "N articles stored" fails
# whenever the machine is busier than the one it was tuned on; a stall is what is worth
# failing on, and LIMIT keeps the test well inside ctest's timeout even if progress creeps.
# On failure WAIT_WHY says which bound was hit.
wait_progress() {
  local stall=$1 limit=$2 probe=$3 start=$SECONDS last now moved=$SECONDS
  shift 3
  last=$(eval "$probe" 2>/dev/null || true)
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      WAIT_WHY="still not done after ${limit}s (progress: $last)"
      return 1
    fi
    now=$(eval "$probe" 2>/dev/null || true)
    if [ "$now" != "$last" ]; then
      last=$now
      moved=$SECONDS
    elif [ $((SECONDS - moved)) -ge "$stall" ]; then
      WAIT_WHY="no progress for ${stall}s (stuck at: $last)"
      return 1
    fi
    sleep 0.5
  done
}

# db_count DB SQL: one integer from the SQLite database (read-only).
db_query() {
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=5)
for row in con.execute(sys.argv[2]):
    print(*row, sep="\t")
PY
}

# metric URL NAME: the sum of a Prometheus metric's samples.
metric() {
  curl -fsS "$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }'
}
