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
  # sd_notify: READY=1, STOPPING=1 and the watchdog of the Type=notify units (deploy/systemd)
  libsystemd-dev
  # newswire-kafka (services/kafka), the Kafka bridge; CMake skips it when this is missing
  librdkafka-dev
  # enrich's common-word lists (services/lib/entity_filter.h), read at start-up, never copied
  wamerican wngerman wspanish wfrench witalian wdutch wportuguese hunspell-pl hunspell-ru
  # bench_enrich judges the filter by the hunspell dictionaries of the other languages
  hunspell-de-de hunspell-es hunspell-fr hunspell-it hunspell-nl hunspell-pt-pt
)
# The test suite also needs: python3 (integration test helpers), python3-yaml (checks the
# Kubernetes manifests), python3-zmq and python3-msgpack (bus_peer.py, the peer with a wrong
# key that test_curve.sh attacks the broker's roles with; also the Python client's subscribe()
# over ZeroMQ), clang-format (style check), docker-compose (validates docker-compose.yml; no
# engine needed), postgresql (the PostgreSQL store tests start a throwaway server of their
# own), clang and libclang-rt-14-dev (the libFuzzer harnesses of tests/fuzz, run briefly by the
# suite), lintian (checks the Debian package test_package.sh builds with cpack; dpkg-dev's
# dpkg-shlibdeps computes its dependencies; ccache makes its release build cheap when the
# sources did not change: nw_build_package), chromium (the web page's browser test, driven by
# puppeteer-core from npm: nw_browser_setup), python3-venv (the Python client's tests install
# it with pip into a venv), python3-jsonschema (the query API test validates real answers
# against docs/openapi.yaml), iproute2 (ip and tc: test_hosts.sh builds its hosts as network
# namespaces on a bridge and cuts their links).
NW_PACKAGES_TEST=(python3 python3-yaml python3-zmq python3-msgpack clang-format docker-compose
  postgresql clang libclang-rt-14-dev lintian dpkg-dev ccache chromium python3-venv
  python3-jsonschema iproute2)
# node and npm for puppeteer-core: Debian's, unless a node is installed already (NodeSource's
# nodejs ships its own npm and conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then
  NW_PACKAGES_TEST+=(nodejs npm)
fi

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

# The browser test's npm packages (puppeteer-core, pinned by tests/browser/package-lock.json),
# installed into tests/browser/node_modules, never globally; it uses Debian's chromium, so
# puppeteer's own browser download is skipped.
nw_browser_setup() {
  local dir=$NW_ROOT/tests/browser stamp want
  stamp=$dir/node_modules/.newswire-lock
  want=$(cksum <"$dir/package-lock.json")
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  echo "newswire: installing the browser test's npm packages into tests/browser/node_modules" >&2
  if (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2); then
    printf '%s\n' "$want" >"$stamp"
  else
    echo "newswire: npm ci failed; the browser test will skip" >&2
  fi
}

# nw_build_package DIR: the Debian package's build tree (tests/integration/test_package.sh):
# a release build (-O2, _FORTIFY_SOURCE, no sanitizer: what an operator installs) of only what
# the package holds (the nw_package target: the executables and the changelog, no tests or
# benches), through ccache when it is there, so that the suite's second build costs a fraction
# of its first and nothing when the sources did not change.
nw_build_package() {
  local dir=$1 jobs launcher=()
  jobs=$(nproc 2>/dev/null || echo 2)
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$NW_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE=-O2 \
    -DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNW_TESTS=OFF -DNW_WERROR=ON \
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON "${launcher[@]}" >/dev/null
  cmake --build "$dir" -j"$jobs" --target nw_package
}

nw_build() {
  local dir=$1
  shift
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  cmake -S "$NW_ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}
