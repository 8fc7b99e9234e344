#!/bin/sh
# search.sh WORDS...: full-text search over HTTP, best first.
set -eu
api=${NEWSWIRE_QUERY:-http://127.0.0.1:8081}
curl -sS -G ${NEWSWIRE_TOKEN:+--oauth2-bearer "$NEWSWIRE_TOKEN"} --data-urlencode "q=$*" --data-urlencode limit=10 \
  "$api/v1/search"
echo
