#!/usr/bin/env bash
# up.sh: install what is missing, build, and run the whole newswire system on its embedded
# defaults (data in ./var, HTTP API on 127.0.0.1:8080), ingesting the bundled samples/.
# Extra arguments go to `newswire up` (see ./up.sh --help).
set -euo pipefail
NW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$NW_ROOT/scripts/setup.sh"
nw_require_packages runtime
nw_build "$NW_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNW_TESTS=OFF
cd "$NW_ROOT"
exec "$NW_ROOT/build/services/newswire/newswire" up --samples "$NW_ROOT/samples" "$@"
