#!/usr/bin/env python3
"""ingest_dir.py DIR...: send every file under DIR to the fetch API (busy answers are retried
after Retry-After); prints "<id> <file>" per accepted document, refusals on stderr."""
import os
import sys

from newswire import Client

nw = Client(fetch=os.environ.get("NEWSWIRE_FETCH", "http://127.0.0.1:8080"))
failed = 0
for path, answer, error in nw.ingest_many(sys.argv[1:]):
    if answer:
        print(answer["id"], path)
    else:
        failed += 1
        print(f"refused: {path}: {error}", file=sys.stderr)
sys.exit(1 if failed else 0)
