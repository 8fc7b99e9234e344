#!/usr/bin/env bash
# setup.sh: the one place that knows newswire's Debian packages and how to build it.
# Sourced by up.sh and test.sh.
#   nw_require_packages runtime|test   install what is missing (root) or print the apt-get line
#   nw_build DIR [cmake args...]        configure and build into DIR
set -euo pipefail

NW_PACKAGES_RUNTIME=(
  build-essential cmake pkg-config
  libzmq3-dev libmsgpack-dev libuv1-dev libsqlite3-dev libxml2-dev libcurl4-openssl-dev
  libjansson-dev libmicrohttpd-dev libxxhash-dev libcld2-dev libutf8proc-dev liburiparser-dev
  libcmocka-dev libpq-dev zlib1g-dev libsodium-dev curl libicu-dev
  # enrich's common-word lists (services/lib/entity_filter.h), read at start-up, never copied
  wamerican wngerman wspanish wfrench witalian wdutch wportuguese hunspell-pl hunspell-ru
  # bench_enrich judges the filter by the hunspell dictionaries of the other languages
  hunspell-de-de hunspell-es hunspell-fr hunspell-it hunspell-nl hunspell-pt-pt
)
# The test suite also needs: python3 (integration test helpers), python3-yaml (checks the
# Kubernetes manifests), python3-zmq and python3-msgpack (bus_peer.py, the peer with a wrong
# key that test_curve.sh attacks the broker's roles with), clang-format (style check), docker-compose (validates
# docker-compose.yml; no engine needed), postgresql (the PostgreSQL store tests start a
# throwaway server of their own), clang and libclang-rt-14-dev (the libFuzzer harnesses of
# tests/fuzz, run briefly by the suite).
NW_PACKAGES_TEST=(python3 python3-yaml python3-zmq python3-msgpack clang-format docker-compose postgresql clang
  libclang-rt-14-dev)

nw_missing_packages() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
      printf '%s\n' "$p"
    fi
  done
}

nw_require_packages() {
  local pkgs=("${NW_PACKAGES_RUNTIME[@]}")
  [ "${1:-runtime}" = test ] && pkgs+=("${NW_PACKAGES_TEST[@]}")
  local missing
  missing=$(nw_missing_packages "${pkgs[@]}" | tr '\n' ' ')
  [ -z "${missing// /}" ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "newswire: installing missing Debian packages: $missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing >&2
  else
    echo "newswire: missing Debian packages. Run as root:" >&2
    echo "  apt-get install -y $missing" >&2
    exit 1
  fi
}

nw_build() {
  local dir=$1
  shift
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  cmake -S "$NW_ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}
