#!/bin/sh
# ingest_dir.sh DIR: POST every file under DIR to the fetch API; prints "<id> <file>" per
# accepted document and the refusals on stderr. (`newswire ingest DIR` does the same with
# progress, parallel posts and --wait.)
set -eu
api=${NEWSWIRE_FETCH:-http://127.0.0.1:8080}
find "${1:?usage: ingest_dir.sh DIR}" -type f ! -name '.*' | sort | while read -r f; do
  # --retry honours Retry-After on 503 (busy): the system pushes back, nothing is lost.
  out=$(curl -sS --retry 10 ${NEWSWIRE_TOKEN:+--oauth2-bearer "$NEWSWIRE_TOKEN"} -H 'Content-Type: text/plain; charset=utf-8' \
    --data-binary "@$f" "$api/v1/articles") || { echo "failed: $f" >&2; continue; }
  case $out in
    *'"id"'*) printf '%s %s\n' "$(printf '%s' "$out" | sed 's/.*"id":"\([^"]*\)".*/\1/')" "$f" ;;
    *) echo "refused: $f: $out" >&2 ;;
  esac
done
