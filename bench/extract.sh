#!/bin/sh
# extract.sh: bench_extract (accuracy and speed of extract.c) and Readability.js on linkedom
# over the same pages, then the speed ratio. Both time only parsing plus extraction, on one core.
# Usage: bench/extract.sh BUILD_DIR [DATA_DIR]   (BUILD_DIR: a Release build with bench_extract)
set -eu
build=${1:?usage: bench/extract.sh BUILD_DIR [DATA_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
data=${2:-${NW_SHARED_DATA:-$here/../../shared/data}}
if [ ! -d "$data/extraction" ]; then
    echo "skipped: no extraction data under $data"
    exit 0
fi
ours=$(mktemp)
trap 'rm -f "$ours" "$ours.js"' EXIT
taskset -c 0 "$build/bench/bench_extract" "$data" | tee "$ours"
if ! node --version >/dev/null 2>&1; then
    echo "readability.js: skipped (no node)"
    exit 0
fi
if [ ! -d "$here/readability/node_modules" ]; then
    (cd "$here/readability" && npm ci --no-audit --no-fund >/dev/null) ||
        { echo "readability.js: skipped (npm ci failed)"; exit 0; }
fi
echo "command: node bench/readability/run.js $data"
taskset -c 0 node "$here/readability/run.js" "$data" | tee "$ours.js"
for corpus in trafilatura readability; do
    a=$(sed -n "s/^$corpus speed: .*: \([0-9.]*\) pages\/s.*/\1/p" "$ours")
    b=$(sed -n "s/^readability.js $corpus speed: .*: \([0-9.]*\) pages\/s.*/\1/p" "$ours.js")
    if [ -n "$a" ] && [ -n "$b" ]; then
        awk -v a="$a" -v b="$b" -v c="$corpus" \
            'BEGIN { printf "%s: bench_extract %.1f pages/s, Readability.js %.1f pages/s: %.1fx\n", c, a, b, a / b }'
    fi
done
