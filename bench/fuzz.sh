#!/usr/bin/env bash
# fuzz.sh: the long fuzzing run. Every libFuzzer harness of tests/fuzz (MessagePack decoders,
# the JSON bridge, spool recovery, robots.txt, wire text, feeds, dom + extract, parse, enrich,
# URL canonicalisation with its idempotence property) for SECONDS each (default 240), growing
# a corpus kept in build-fuzz/corpus/ between runs. Prints runs and coverage per target; a
# crash leaves its input in build-fuzz/artifacts/. Add an input that found a bug to
# tests/fuzz/corpus/<target>/ so the suite's short run keeps it.
#   bench/fuzz.sh [SECONDS] [TARGET-REGEX]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NW_FUZZ_SECONDS=${1:-240}
export NW_FUZZ_ONLY=${2:-}
export NW_FUZZ_BUILD=${NW_FUZZ_BUILD:-$ROOT/build-fuzz}
export NW_FUZZ_WORK=${NW_FUZZ_WORK:-$NW_FUZZ_BUILD/corpus}
mkdir -p "$NW_FUZZ_WORK"
exec "$ROOT/tests/fuzz/run.sh"
