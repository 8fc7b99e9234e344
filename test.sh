#!/usr/bin/env bash
# test.sh: install what is missing, build with AddressSanitizer + UndefinedBehaviorSanitizer
# and -Werror, check formatting, and run the whole test suite (unit + integration) with ctest.
# Extra arguments go to ctest (for example: ./test.sh -R store).
set -euo pipefail
NW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$NW_ROOT/scripts/setup.sh"
nw_require_packages test
nw_browser_setup
nw_build "$NW_ROOT/build-test" -DCMAKE_BUILD_TYPE=Debug -DNW_SANITIZE=ON -DNW_WERROR=ON
# The Debian package is built from a release tree of its own (test_package.sh installs it).
nw_build_package "$NW_ROOT/build-test/package"

echo "== format check (clang-format, .clang-format)"
cd "$NW_ROOT"
files=$(git ls-files '*.c' '*.h' '*.cc' 2>/dev/null || find . -path ./build\* -prune -o -name '*.[ch]' -print)
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files

echo "== ctest"
# The tests' python3 is Debian's, the one setup.sh installs python3-zmq, -yaml, -jsonschema...
# for: a python3 earlier on PATH (a pyenv shim, say) may lack them, and a shim costs a few
# hundred ms of CPU per start, which the tests pay hundreds of times.
PATH=/usr/bin:/bin:$PATH
# Sanitizer builds read the common-word lists of every language slowly (enrich start-up 7.6 s
# becomes 16.5 s); the tests start enrich many times and never need the lists up front.
export NEWSWIRE_ENRICH_PRELOAD_LISTS=${NEWSWIRE_ENRICH_PRELOAD_LISTS:-0}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
cd "$NW_ROOT/build-test"
ctest --output-on-failure -j"$(( $(nproc 2>/dev/null || echo 2) * 2 ))" "$@"
