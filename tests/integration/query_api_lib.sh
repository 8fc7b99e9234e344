# query_api_lib.sh: the query API test on one backend (sourced by test_query_api.sh for SQLite
# and test_query_api_pg.sh for PostgreSQL, after lib.sh; DB names the database). Runs the
# pipeline, then query_api_check.py posts articles through the fetch API and checks every
# endpoint against a hand count over the stored documents, and every answer against
# docs/openapi.yaml.
require_bins "$NW" "$(svc_bin broker)" "$(svc_bin fetch)" "$(svc_bin parse)" \
  "$(svc_bin enrich)" "$(svc_bin store)" "$(svc_bin query)"
python3 -c 'import jsonschema, yaml' 2>/dev/null ||
  skip "python3-jsonschema and python3-yaml are needed (scripts/setup.sh test packages)"

P=$(free_ports 12)
BROKER="tcp://127.0.0.1:$P"
API="127.0.0.1:$((P + 8))"
Q="127.0.0.1:$((P + 9))"
DATA=$T/data
mkdir -p "$DATA"
start broker "$(svc_bin broker)" --bind "$BROKER"
start store "$(svc_bin store)" --broker "$BROKER" --data-dir "$DATA" --db "$DB" --batch-ms 5
start parse "$(svc_bin parse)" --broker "$BROKER"
start enrich "$(svc_bin enrich)" --broker "$BROKER"
start fetch "$(svc_bin fetch)" --broker "$BROKER" --http "$API" --inbox-dir "" --ingest "" \
  --name fetch-qapi --spool-dir "$DATA/spool"
start query "$(svc_bin query)" --broker "$BROKER" --http "$Q" --data-dir "$DATA" --db "$DB" \
  --check 200ms --cors-origin https://news.example.org
wait_until 30 curl -fsS "http://$API/healthz" || fail "fetch did not come up"
wait_until 30 curl -fsS "http://$Q/healthz" || fail "query did not come up: $(tail -5 "$T/query.log")"
ok "services up"
python3 "$NW_SRC/tests/integration/query_api_check.py" "http://$API" "http://$Q" \
  "$NW_SRC/docs/openapi.yaml" || fail "query API checks failed"
grep -q "postgresql://" "$T/query.log" && fail "query logged the database URI"
ok "query API: filters, paging, facets, stories, revisions, CORS, gzip, OpenAPI"
