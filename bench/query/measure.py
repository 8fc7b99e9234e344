#!/usr/bin/env python3
"""measure.py BASE N: time each kind of query of the query API against a running
newswire-query (bench/query/run.sh starts it); prints p50/p95 in ms per kind. Each kind runs
REPEAT times, cycling through a few values (a common and a rarer person, several countries),
after one warm-up round. Sequential requests on one connection at a time, as one user.

With NW_QUERY_PID set (run.sh sets it), also the server's CPU time per request of each kind
(user + system, from /proc): on a shared machine the wall times include waiting for a core,
the CPU time does not. With NW_BENCH_PG set to the PostgreSQL database's URI (run.sh sets it),
also the CPU time of the server's PostgreSQL backends ("db cpu", read the same way: the
database must be on this machine)."""
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

BASE, N = sys.argv[1], int(sys.argv[2])
REPEAT = 40
host = urllib.parse.urlparse(BASE).netloc
conn = http.client.HTTPConnection(host, timeout=60)


def get(path, strict=True):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        if strict:
            raise SystemExit(f"{path}: {r.status} {body[:200]!r}")
        return None
    return json.loads(body)


PID = os.environ.get("NW_QUERY_PID")


def cpu_ms(pids=None):
    total = 0.0
    for pid in [PID] if pids is None else pids:
        if not pid:
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # a backend gone (the server reconnected): its time is lost
            continue
        total += (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
    return total


PG = os.environ.get("NW_BENCH_PG")


def word(i):
    v, out = i + 20000, ""
    while v:
        out += chr(ord("a") + v % 21)
        v //= 21
    return out


people = [word(i) for i in (0, 1, 3, 40, 700)]
countries = [word(i)[:2] for i in (0, 5, 17, 33)]
themes = [word(i) for i in (0, 4, 12)]
latest = get("/v1/articles?sort=published&limit=1")["articles"][0]
some = get(f"/v1/articles?person={people[3]}&limit=5")["articles"]
story = some[0]["story"]
deep = get(f"/v1/articles?person={people[0]}&limit=100")["next"]
q = urllib.parse.quote
kinds = [
    ("articles: newest first", lambda i: "/v1/articles?sort=published&limit=20"),
    ("articles: topic=lang.en since=0", lambda i: "/v1/articles?topic=lang.en&since=0&limit=20"),
    ("articles: topic nothing matches since=0", lambda i: "/v1/articles?topic=nomatch.x&since=0"),
    ("articles: person", lambda i: f"/v1/articles?person={people[i % 5]}&limit=20"),
    ("articles: person, page 2 (cursor)", lambda i: f"/v1/articles?person={people[0]}&limit=20&cursor={q(deep)}"),
    ("articles: country + last 7 days, by time", lambda i: f"/v1/articles?country={countries[i % 4]}&from=2026-11-24&to=2026-12-01&sort=published&limit=20"),
    ("articles: lang + theme + person", lambda i: f"/v1/articles?lang=en&theme={themes[i % 3]}&person={people[i % 5]}&limit=20"),
    ("articles: near=lat,lon,300km", lambda i: f"/v1/articles?near={-40 + (i * 7) % 80},{-170 + (i * 37) % 340},300&limit=20"),
    ("articles: bbox 20x20 degrees", lambda i: f"/v1/articles?bbox={-60 + (i * 13) % 120},-20,{-40 + (i * 13) % 120},0&limit=20"),
    ("search: common word", lambda i: f"/v1/search?q={word(i % 3)}&limit=20"),
    ("search: rare word", lambda i: f"/v1/search?q={word(3000 + i)}&limit=20"),
    ("search: word + person + 30 days", lambda i: f"/v1/search?q={word(i % 5)}&person={people[i % 5]}&from=2026-11-01&limit=20"),
    ("facets: person, 7 days by day, top 10", lambda i: "/v1/facets?facet=person&from=2026-11-24&to=2026-12-01&bucket=day&top=10"),
    ("facets: country trending, 1 day", lambda i: "/v1/facets?facet=country&from=2026-11-30&to=2026-12-01&trending=1&top=10"),
    ("facets: lang, 30 days, for a person", lambda i: f"/v1/facets?facet=lang&from=2026-11-01&to=2026-12-01&person={people[i % 5]}"),
    ("stories/ID", lambda i: f"/v1/stories/{story}"),
    ("articles/ID/revisions", lambda i: f"/v1/articles/{some[i % len(some)]['id']}/revisions"),
    ("articles/ID", lambda i: f"/v1/articles/{some[i % len(some)]['id']}"),
]
total = get("/v1/articles?limit=1")
# The query server's connections (libpq's application_name is "newswire"), once it has made them.
db_pids = []
if PG:
    out = subprocess.run(["psql", "-XAtq", PG, "-c",
                          "SELECT pid FROM pg_stat_activity WHERE application_name = 'newswire'"
                          " AND pid <> pg_backend_pid()"], capture_output=True, text=True)
    db_pids = out.stdout.split() if out.returncode == 0 else []

print(f"newswire-query over {total['total']}{'' if total['total_exact'] else '+'} stored articles "
      f"(asked for {N}); {REPEAT} requests per kind, ms")
print(f"{'kind':45} {'p50':>7} {'p95':>7} {'max':>7} {'cpu/req':>7}"
      f"{' db cpu' if PG else ''}  refused (503: over the query budget)")
worst = 0
for name, path in kinds:
    for i in range(5):
        get(path(i), strict=False)
    ms, refused = [], 0
    cpu0, db0 = cpu_ms(), cpu_ms(db_pids)
    for i in range(REPEAT):
        t = time.perf_counter()
        refused += get(path(i), strict=False) is None
        ms.append((time.perf_counter() - t) * 1000)
    cpu, db = (cpu_ms() - cpu0) / REPEAT, (cpu_ms(db_pids) - db0) / REPEAT
    ms.sort()
    p50, p95 = ms[len(ms) // 2], ms[int(len(ms) * 0.95) - 1]
    worst = max(worst, p95)
    print(f"{name:45} {p50:7.1f} {p95:7.1f} {ms[-1]:7.1f} {cpu if PID else float('nan'):7.1f}"
          f"{f' {db:6.1f}' if PG else ''}  {refused or ''}")
print(f"worst p95 {worst:.1f} ms")
