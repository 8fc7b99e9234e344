#!/usr/bin/env bash
# test_failover.sh: the broker pair under load, short form (the long form is bench/failover):
# 640 articles over 16 s while the primary is SIGKILLed, restarted, and the backup SIGKILLed;
# every accepted article stored exactly once, one broker active at the end. See failover.sh.
exec bash "$(dirname "$0")/failover.sh"
