#!/usr/bin/env bash
# test_version.sh: --version on every executable prints its name and the one version string,
# CMake's project(VERSION) in CMakeLists.txt, and exits 0, even with a bad option value in the
# environment (as --help does); `newswire --version` and `newswire <command> --version` too.
. "$(dirname "$0")/lib.sh"
want=$(sed -n 's/^project(newswire VERSION \([0-9.]*\).*/\1/p' "$NW_SRC/CMakeLists.txt")
[ -n "$want" ] || fail "no project version in CMakeLists.txt"
for svc in broker fetch parse enrich store query; do
  exe=$(svc_bin "$svc")
  require_bins "$exe"
  out=$(NEWSWIRE_LOG_LEVEL=nonsense "$exe" --version) || fail "newswire-$svc --version: exit $?"
  [ "$out" = "newswire-$svc $want" ] || fail "newswire-$svc --version printed '$out'"
done
require_bins "$NW"
for args in "--version" "up --version" "ingest --version" "tail --version" "dlq --version"; do
  # shellcheck disable=SC2086
  out=$("$NW" $args) || fail "newswire $args: exit $?"
  [ "$out" = "newswire $want" ] || fail "newswire $args printed '$out'"
done
"$NW" --help | contains -- "--version" || fail "newswire --help does not mention --version"
"$(svc_bin query)" --help | contains -- "--version" || fail "newswire-query --help does not list --version"
ok "--version: every executable prints '<name> $want'"
