#!/usr/bin/env bash
# test_python_client.sh: the Python client (clients/python) against a real `newswire up`.
# Installs it with pip into a fresh venv (offline: --no-index, --no-build-isolation; the venv
# sees the system's site-packages for the optional pyzmq and msgpack), then runs
# clients/python/tests/test_client.py: ingest of text, files, a directory with a bad file;
# get, search and paged articles; follow() over SSE through a SIGKILL of newswire-query (up
# restarts it; the client resumes by Last-Event-ID with no duplicate); subscribe() over ZeroMQ;
# retry on 503 honouring Retry-After.
. "$(dirname "$0")/lib.sh"
require_bins "$NW" "$(svc_bin query)" "$(svc_bin fetch)" "$(svc_bin store)"
# Debian's python3 (with python3-venv, python3-zmq, python3-msgpack) when it is there.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
"$PY" -m venv --system-site-packages "$T/venv" >"$T/venv.log" 2>&1 ||
  skip "cannot make a venv with $PY (apt-get install python3-venv): $(tail -1 "$T/venv.log")"
# From a copy: building writes build/ and *.egg-info beside the sources.
cp -r "$NW_SRC/clients/python" "$T/client-src"
rm -rf "$T/client-src/build" "$T"/client-src/*.egg-info
"$T/venv/bin/pip" install --quiet --no-index --no-build-isolation --no-deps "$T/client-src" \
  >"$T/pip.log" 2>&1 || fail "pip install clients/python: $(tail -5 "$T/pip.log")"
(cd "$T" && "$T/venv/bin/python" -c 'import newswire, sys; assert newswire.__file__.startswith(sys.argv[1]), newswire.__file__' "$T/venv") ||
  fail "the venv does not import the installed client"
ok "pip install clients/python into a venv"

P=$(free_ports 20)
start up "$NW" up --data-dir "$T/data" --broker "tcp://127.0.0.1:$P" --http "127.0.0.1:$((P + 8))" \
  --ingest "" --metrics-port 0 --parse 1 --enrich 1 --query "127.0.0.1:$((P + 17))"
wait_until 60 curl -fsS "http://127.0.0.1:$((P + 17))/healthz" || fail "query never became healthy"
wait_until 60 curl -fsS "http://127.0.0.1:$((P + 8))/healthz" || fail "fetch never became healthy"

mkdir -p "$T/work"
(cd "$T/work" && NW_QUERY=http://127.0.0.1:$((P + 17)) NW_FETCH=http://127.0.0.1:$((P + 8)) \
  NW_BROKER=tcp://127.0.0.1:$P NW_RUN=$T/data/run NW_TMP=$T/work \
  timeout 400 "$T/venv/bin/python" "$NW_SRC/clients/python/tests/test_client.py" -v) ||
  fail "the client's tests failed; up.log: $(tail -20 "$T/up.log")"
ok "the Python client's tests passed against newswire up"

# examples/: the shell and Python scripts do their jobs against the same system.
EX=$NW_SRC/examples
mkdir -p "$T/exdir"
printf 'Examples check\n\nBergen, Norway - The example script sent this story about a narwhal in the harbour, the port said.\n' >"$T/exdir/a.txt"
NEWSWIRE_FETCH=http://127.0.0.1:$((P + 8)) sh "$EX/ingest_dir.sh" "$T/exdir" >"$T/ex.ids" ||
  fail "examples/ingest_dir.sh"
[ "$(wc -l <"$T/ex.ids")" = 1 ] || fail "examples/ingest_dir.sh printed: $(cat "$T/ex.ids")"
export NEWSWIRE_QUERY=http://127.0.0.1:$((P + 17))
wait_until 60 sh -c "sh '$EX/search.sh' narwhal | grep -q '$(cut -d' ' -f1 "$T/ex.ids")'" ||
  fail "examples/search.sh does not find the example: $(sh "$EX/search.sh" narwhal)"
PYTHONPATH=$NW_SRC/clients/python "$PY" "$EX/search.py" narwhal | contains "Examples check" ||
  fail "examples/search.py"
timeout 5 sh "$EX/follow.sh" place.no 0 >"$T/follow.out" 2>&1 || true
grep -q '^event: article' "$T/follow.out" && grep -q narwhal "$T/follow.out" ||
  fail "examples/follow.sh: $(head -c 300 "$T/follow.out")"
(PYTHONPATH=$NW_SRC/clients/python timeout 5 "$PY" "$EX/follow.py" place.no 0 >"$T/followpy.out" 2>&1 || true)
grep -q "Bergen, Norway" "$T/followpy.out" || fail "examples/follow.py: $(head -c 300 "$T/followpy.out")"
ok "examples: ingest_dir.sh, search.sh, search.py, follow.sh, follow.py"
