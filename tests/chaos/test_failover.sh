#!/usr/bin/env bash
# test_failover.sh: the broker pair under load, short form (the long form is bench/failover):
# 240 articles over 12 s while the primary is SIGKILLed, restarted, and the backup SIGKILLed;
# every accepted article stored exactly once, the primary serving at the end. See failover.sh.
# About 50 s on two cores with the sanitizer build (most of it starting the services).
exec bash "$(dirname "$0")/failover.sh"
