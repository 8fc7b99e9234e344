#!/usr/bin/env python3
"""search.py WORDS...: full-text search, best first, with the snippet."""
import os
import sys

from newswire import Client

nw = Client(query=os.environ.get("NEWSWIRE_QUERY", "http://127.0.0.1:8081"))
for hit in nw.search(" ".join(sys.argv[1:]), limit=10)["hits"]:
    print(f'{hit["id"]}  {hit.get("published") or "":10.10}  {hit.get("title")}')
    print(f'    {hit.get("snippet")}')
