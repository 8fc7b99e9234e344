#!/bin/sh
# facets.sh BY [FROM]: counts per person|org|country|place|theme|lang|story, by day, top 10
# (GET /v1/facets; newswire-query with the query API of issue 12).
set -eu
api=${NEWSWIRE_QUERY:-http://127.0.0.1:8081}
curl -sS -G ${NEWSWIRE_TOKEN:+--oauth2-bearer "$NEWSWIRE_TOKEN"} --data-urlencode "facet=${1:-person}" \
  --data-urlencode bucket=day --data-urlencode top=10 ${2:+--data-urlencode "from=$2"} \
  "$api/v1/facets"
echo
