#!/usr/bin/env bash
# web-vendor.sh: refresh data/web/vendor/, the map libraries the web page loads (committed, so the
# page needs no npm and no internet at run time). Installs the pinned versions from npm into a
# temporary directory and copies each minified build with its licence. Run by hand to upgrade.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/data/web/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent d3-array@3.2.5 d3-geo@3.1.2 topojson-client@3.1.0 \
  world-atlas@2.0.2 >/dev/null
m=node_modules
mkdir -p "$out"
for p in d3-array d3-geo topojson-client; do
  cp "$m/$p/dist/$p.min.js" "$out/"
  cp "$m/$p/LICENSE" "$out/LICENSE.$p"
done
cp "$m/world-atlas/countries-110m.json" "$out/"
cp "$m/world-atlas/LICENSE" "$out/LICENSE.world-atlas"
for p in d3-array d3-geo topojson-client world-atlas; do
  printf '%s %s\n' "$p" "$(node -p "require('./$m/$p/package.json').version")"
done >"$out/VERSIONS"
echo "vendored into $out:" && cat "$out/VERSIONS"
