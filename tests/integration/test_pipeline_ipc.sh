#!/usr/bin/env bash
TRANSPORT=ipc
. "$(dirname "$0")/pipeline.sh"
