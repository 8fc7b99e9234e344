#!/usr/bin/env python3
"""follow.py [TOPIC] [SINCE]: print every article on TOPIC (prefix match) as it is stored;
SINCE backfills first (0: everything). Reconnects by itself, resuming by Last-Event-ID."""
import os
import sys

from newswire import Client

nw = Client(query=os.environ.get("NEWSWIRE_QUERY", "http://127.0.0.1:8081"))
topic = sys.argv[1] if len(sys.argv) > 1 else "all"
for art in nw.follow(topic, since=sys.argv[2] if len(sys.argv) > 2 else "now"):
    print(art["seq"], art.get("dateline") or "-", art.get("title") or art["text"][:80], flush=True)
