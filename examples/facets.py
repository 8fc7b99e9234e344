#!/usr/bin/env python3
"""facets.py [BY]: who is in the news, by day: counts per person (or org, country, place,
theme, lang, story) from /v1/facets."""
import json
import os
import sys

from newswire import Client

nw = Client(query=os.environ.get("NEWSWIRE_QUERY", "http://127.0.0.1:8081"))
by = sys.argv[1] if len(sys.argv) > 1 else "person"
print(json.dumps(nw.facets(by, bucket="day", top=10), indent=2))
