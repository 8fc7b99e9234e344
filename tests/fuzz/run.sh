#!/usr/bin/env bash
# run.sh: build the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan, then
# run each over its committed seed corpus (tests/fuzz/corpus/<target>/).
# The suite runs it as ctest's fuzz.short: a fixed number of inputs from a fixed seed, so a run
# is the same on every machine and a failure reproduces (a timed run tried more inputs on a fast
# machine than on a loaded one, and found a bug on one CI run but not the next). bench/fuzz.sh
# explores for minutes per target from a random seed.
#   NW_FUZZ_RUNS     inputs per target (default 600: about 1 s for the slowest harness, enrich)
#   NW_FUZZ_SEED     libFuzzer's seed (default 1)
#   NW_FUZZ_SECONDS  run each target this long instead, from a random seed (bench/fuzz.sh)
#   NW_FUZZ_BUILD    build directory (default build-fuzz/ in the source tree; kept, so later
#                    runs build incrementally)
#   NW_FUZZ_WORK     where the grown corpus goes (default a temp dir removed at exit; the
#                    committed seeds are only read)
#   NW_FUZZ_ONLY     run only the targets whose names match this regex
# A crash, a sanitizer report, a broken property (abort) or an input slower than 10 s fails
# the run and leaves the input under $NW_FUZZ_BUILD/artifacts/. Exit 77 = skipped (no clang or
# no libFuzzer runtime).
set -euo pipefail
SRC=${NW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SECONDS_EACH=${NW_FUZZ_SECONDS:-}
if [ -n "$SECONDS_EACH" ]; then
  budget=(-max_total_time="$SECONDS_EACH")
  what="in ${SECONDS_EACH}s"
else
  budget=(-runs="${NW_FUZZ_RUNS:-600}" -seed="${NW_FUZZ_SEED:-1}")
  what="from seed ${NW_FUZZ_SEED:-1}"
fi
BUILD=${NW_FUZZ_BUILD:-$SRC/build-fuzz}

command -v clang >/dev/null && command -v clang++ >/dev/null ||
  { echo "SKIP: clang is not installed (apt-get install clang libclang-rt-14-dev)"; exit 77; }
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; (void)n; return 0; }\n' \
  >"$probe/p.c"
clang -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" 2>/dev/null ||
  { echo "SKIP: clang cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"; exit 77; }

echo "== building the fuzzers in $BUILD"
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
CC=clang CXX=clang++ cmake -S "$SRC" -B "$BUILD" -DNW_FUZZ=ON -DNW_TESTS=OFF "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-O1 -g" -DCMAKE_CXX_FLAGS="-O1 -g" >/dev/null
nice cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target nw_fuzzers >"$BUILD/build.log" 2>&1 ||
  { tail -40 "$BUILD/build.log"; echo "FAIL: the fuzzers did not build"; exit 1; }

WORK=${NW_FUZZ_WORK:-}
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d)
  trap 'rm -rf "$probe" "$WORK"' EXIT
fi
mkdir -p "$BUILD/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for exe in "$BUILD"/tests/fuzz/fuzz_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  target=${name#fuzz_}
  [[ -n "${NW_FUZZ_ONLY:-}" && ! "$target" =~ $NW_FUZZ_ONLY ]] && continue
  seeds=$SRC/tests/fuzz/corpus/$target
  [ -d "$seeds" ] || { echo "FAIL: no seed corpus $seeds"; failed+=("$target"); continue; }
  mkdir -p "$WORK/$target"
  log=$BUILD/artifacts/$target.log
  # The grown corpus first (libFuzzer writes new inputs there), the committed seeds second.
  if (cd "$BUILD/artifacts" && nice "$exe" "${budget[@]}" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$target-" \
    "$WORK/$target" "$seeds") >"$log" 2>&1; then
    runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "ok - $target: ${runs:-?} runs $what, ${cov:-cov: ?}, $(ls "$seeds" | wc -l) seeds"
  else
    echo "FAIL: $target (log $log):"
    grep -E 'ERROR|SUMMARY|fuzz property|Test unit written|==[0-9]+==' "$log" | head -20
    failed+=("$target")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "FAIL: ${failed[*]}"; exit 1; }
echo "ok - every fuzzer ran clean"
