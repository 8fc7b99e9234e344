#!/usr/bin/env bash
# bench/http_hostile.sh: what hostile HTTP clients cost fetch and newswire-query, with their
# default limits (the README's Security figures). Starts the pipeline from NW_BIN (default:
# build-test), stores N generated articles full of "the" (default 1000), then measures:
#   - slowloris: S connections from 200 addresses trickling heads (default 1000); how many
#     are still held after the 10 s head deadline, and whether /healthz answers meanwhile;
#   - idle: 2000 idle connections from one address; how many are held, for how long;
#   - uploads: 40 uploads declaring 15 MB, sending them, then held; fetch's RSS growth;
#   - worst query: the slowest search allowed (16 terms of "the") and 'the ' * 100 (refused),
#     with /healthz latency while a search runs.
# Prints one JSON object per measurement. Usage: bench/http_hostile.sh [N] [S]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NW_BIN=${NW_BIN:-$ROOT/build-test} NW_SRC=$ROOT
. "$ROOT/tests/integration/lib.sh"
N=${1:-1000}
S=${2:-1000}
H="python3 $ROOT/tests/integration/hostile.py"
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
API_PORT=$((P + 8))
Q_PORT=$((P + 9))
DATA=$T/data
mkdir -p "$DATA" "$T/docs"
start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA"
start parse "$(svc_bin parse)" --broker "$BROKER"
start enrich "$(svc_bin enrich)" --broker "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "127.0.0.1:$API_PORT" --inbox-dir "" \
  --ingest "" --name fetch-bench --spool-dir "$DATA/spool" --max-body 16m
start query "$(svc_bin query)" --broker "$BROKER" --http "127.0.0.1:$Q_PORT" --data-dir "$DATA"
wait_until 30 curl -fsS "http://127.0.0.1:$API_PORT/healthz" || fail "fetch did not come up"
wait_until 60 curl -fsS "http://127.0.0.1:$Q_PORT/healthz" || fail "query did not come up"

python3 - "$T/docs" "$N" <<'PY'
import os, random, sys
random.seed(16)
words = ("the port of the city and the ship the harbour the crane the mayor said the plan "
         "the council the budget the trains the night the valley the river").split()
for i in range(int(sys.argv[2])):
    body = " ".join(random.choice(words) for _ in range(400))
    open(os.path.join(sys.argv[1], f"b{i:05d}.txt"), "w").write(f"Report {i}\n\n{body}.\n")
PY
"$NW" ingest --api "http://127.0.0.1:$API_PORT" "$T/docs" >/dev/null
stored() { db_query "$DATA/newswire.db" "select count(*) from articles" 2>/dev/null || echo 0; }
stored_is() { [ "$(stored)" = "$N" ]; }
wait_until 1200 stored_is || fail "stored $(stored) of $N"

$H slowloris 127.0.0.1 $Q_PORT n="$S" interval=1 limit=20 || echo "{\"failed\": \"${FUNCNAME:-attack}\"}"
$H idle 127.0.0.1 $Q_PORT n=2000 limit=20 || echo "{\"failed\": \"${FUNCNAME:-attack}\"}"
$H uploads 127.0.0.1 $API_PORT pid="$PID_fetch" n=40 declared=$((15 << 20)) sent=$((15 << 20)) hold=2 || echo "{\"failed\": \"${FUNCNAME:-attack}\"}"

python3 - "127.0.0.1" "$Q_PORT" <<'PY'
import json, sys, threading, time, urllib.request
host, port = sys.argv[1], int(sys.argv[2])
def get(q):
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{q}", timeout=120) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, round(time.monotonic() - t0, 3)
worst = "%20".join(["the"] * 16)
res = {}
def run():
    res["worst"] = get(f"/v1/search?q={worst}")
t = threading.Thread(target=run)
t.start()
time.sleep(0.05)
res["healthz_during"] = get("/healthz")
t.join()
res["the_x100"] = get("/v1/search?q=" + "the%20" * 100)
res["unmatched_topic_since_0"] = get("/v1/articles?topic=nomatch&since=0")
print(json.dumps({"attack": "queries", **{k: {"status": v[0], "s": v[1]} for k, v in res.items()}}))
PY
