#!/usr/bin/env bash
TRANSPORT=tcp
. "$(dirname "$0")/pipeline.sh"
