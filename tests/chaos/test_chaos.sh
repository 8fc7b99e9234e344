#!/usr/bin/env bash
# test_chaos.sh: promise 1 under fire, short form (the long form is bench/chaos). 3000 articles
# through HTTP and the inbox while 20 SIGKILLs hit every kind of service (broker, fetch, parse,
# enrich, store) at seeded random moments; afterwards each article is in the store exactly once,
# fully enriched, and there is no dead letter. See chaos.sh; NW_CHAOS_SEED replays a run.
# About two minutes on two cores with the sanitizer build.
export NW_CHAOS_N=${NW_CHAOS_N:-3000}
export NW_CHAOS_KILLS=${NW_CHAOS_KILLS:-20}
exec bash "$(dirname "$0")/chaos.sh"
