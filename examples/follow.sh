#!/bin/sh
# follow.sh [TOPIC] [SINCE]: Server-Sent Events, every stored article on TOPIC after SINCE (a
# seq, now, 10m/2h/7d, an ISO 8601 time), then live. One "data:" line per article; "id:" is its
# seq (reconnect with -H "Last-Event-ID: <seq>" to resume without gap or duplicate).
set -eu
api=${NEWSWIRE_QUERY:-http://127.0.0.1:8081}
curl -sS -N -G ${NEWSWIRE_TOKEN:+--oauth2-bearer "$NEWSWIRE_TOKEN"} --data-urlencode "topic=${1:-all}" \
  --data-urlencode "since=${2:-now}" "$api/v1/stream"
