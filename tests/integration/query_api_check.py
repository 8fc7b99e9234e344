#!/usr/bin/env python3
"""query_api_check.py FETCH_URL QUERY_URL OPENAPI_YAML: the query API of a running
newswire-query, checked against a hand count.

Posts 48 articles (four people, four datelines, three organisations, published dates over ten
days, some without one, a marker word in every third) and one revision through the fetch API,
waits until they are stored, reads every stored document once, and then checks each filter
of /v1/articles and /v1/search (q, from/to, lang, topic, person, org, place, country, theme,
story, near, bbox, and a combination) against the same filter computed here over those
documents; paging in every sort (no duplicate, no gap, total); facets (counts, day buckets and
the previous window) against counts made here; /v1/stories/ID, /v1/articles/ID/revisions,
fields=, 400 naming an unknown parameter, CORS (OPTIONS, HEAD, the allowed origin), gzip, the
SSE retry line; and every JSON answer against the OpenAPI description. Exits non-zero with
the first failure."""
import gzip
import json
import math
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings

import jsonschema
import yaml

FETCH, BASE, SPEC_PATH = sys.argv[1], sys.argv[2], sys.argv[3]
SPEC = yaml.safe_load(open(SPEC_PATH))
ORIGIN = "https://news.example.org"
N = 48

PEOPLE = ["Antony Blinken", "Emmanuel Macron", "Olaf Scholz", "Narendra Modi"]
CITIES = [("Cairo", "Egypt"), ("Paris", "France"), ("Berlin", "Germany"), ("New Delhi", "India")]
ORGS = ["United Nations", "World Bank", "European Union"]
SUBJECTS = ["trade", "climate", "security"]


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


# ---- HTTP, every JSON answer validated against the OpenAPI description ----

def validate(template, method, status, body):
    op = SPEC["paths"].get(template, {}).get(method.lower())
    check(op is not None, f"openapi: no {method} {template}")
    resp = op["responses"].get(str(status)) or op["responses"].get("default")
    check(resp is not None, f"openapi: {method} {template} does not describe status {status}")
    schema = resp.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    with warnings.catch_warnings():  # RefResolver: deprecated in newer jsonschema, not Debian's
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver.from_schema(SPEC)
    try:
        jsonschema.Draft202012Validator(schema, resolver=resolver).validate(body)
    except jsonschema.ValidationError as e:
        fail(f"openapi: {method} {template} {status}: {e.message} at {list(e.absolute_path)}")


def request(path, template, method="GET", headers=None, want=200, raw=False):
    req = urllib.request.Request(BASE + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, hdrs, data = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, data = e.code, e.headers, e.read()
    check(status == want, f"{method} {path}: {status} {data[:300]!r}, want {want}")
    if raw:
        return hdrs, data
    body = json.loads(data)
    validate(template, method, status, body)
    return body


def get(path, template, **kw):
    return request(path, template, **kw)


def q(params):
    return urllib.parse.urlencode(params, doseq=True)


# ---- the articles ----

def post(url, title, text, published=None):
    body = {"url": url, "title": title, "text": text}
    if published:
        body["published"] = published
    req = urllib.request.Request(FETCH + "/v1/articles", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    for _ in range(100):
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.load(r)["id"]
        except urllib.error.HTTPError as e:
            if e.code != 503:
                fail(f"POST {url}: {e.code} {e.read()[:200]!r}")
            time.sleep(0.2)
    fail(f"POST {url}: still busy")


def article(i):
    person, (city, country) = PEOPLE[i % 4], CITIES[(i // 4) % 4]
    org, subject = ORGS[i % 3], SUBJECTS[(i // 2) % 3]
    marker = " The zebra crossing plan was also raised." if i % 3 == 0 else ""
    title = f"{person} visits {city} for {subject} talks number {i}"
    text = (f"{city}, {country} - {person} met officials in {city} on Monday to discuss the "
            f"{subject} plan, the {org} said in a statement.{marker}\n\n"
            f"\"We made real progress today,\" {person} told reporters after the meeting in "
            f"{city}. The talks on item {i} will continue next week, officials said.\n")
    published = None if i % 7 == 3 else f"2024-02-{1 + i % 10:02d}T{(i * 5) % 24:02d}:30:00Z"
    return f"https://example.com/qa/{i:03d}", title, text, published


ids = []
for i in range(N):
    ids.append(post(*article(i)))


def stored():
    return get("/v1/articles?" + q({"limit": 1}), "/v1/articles")["total"]


deadline = time.time() + 120
while stored() < N:
    check(time.time() < deadline, f"only {stored()} of {N} articles stored")
    time.sleep(0.5)
# a second revision of article 0
url0, title0, text0, pub0 = article(0)
post(url0, title0 + " (updated)", text0 + "\nThis story was updated with more detail.\n", pub0)
deadline = time.time() + 60
while len(get(f"/v1/articles/{ids[0]}/revisions", "/v1/articles/{id}/revisions")["revisions"]) < 2:
    check(time.time() < deadline, "the revision of article 0 was not stored")
    time.sleep(0.5)
print("ok - stored", N, "articles and a revision")

ALL = get("/v1/articles?" + q({"limit": 1000, "fields": "all"}), "/v1/articles")["articles"]
check(len(ALL) == N, f"{len(ALL)} documents, want {N}")
BY_ID = {d["id"]: d for d in ALL}
check(set(BY_ID) == set(ids), "the stored ids are not the posted ones")
check(BY_ID[ids[0]]["title"].endswith("(updated)"), "article 0 is not its new revision")


# ---- time and time_source ----

for i, d in enumerate(a for a in (BY_ID[x] for x in ids)):
    pub = article(i)[3]
    if pub:
        check(d["time_source"] == "published" and d["time"].startswith(pub[:19]),
              f"article {i}: time {d['time']} {d['time_source']}, published {pub}")
    else:
        check(d["time_source"] == "stored", f"article {i}: no published date, {d['time_source']}")
print("ok - time is the published date, else the stored time, and says which")


# ---- each filter against a hand count ----

def topics(d):
    return d.get("topics") or []


def under(d, topic):
    return any(t == topic or t.startswith(topic + ".") for t in topics(d))


def places(d):
    return [(e["lat"], e["lon"]) for e in d.get("entities") or []
            if e.get("type") == "place" and ("lat" in e and "lon" in e)
            and (e["lat"] != 0 or e["lon"] != 0)]


def km(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def common(prefix):
    """The value under prefix that most documents have, and how many have it."""
    counts = {}
    for d in ALL:
        for t in set(topics(d)):
            if t.startswith(prefix + "."):
                counts[t] = counts.get(t, 0) + 1
    check(counts, f"no stored document has a {prefix}.* topic: the filter cannot be tested")
    t = max(sorted(counts), key=counts.get)
    return t[len(prefix) + 1:]


def page_ids(endpoint, params, template=None, key="articles"):
    """Every id of a filtered listing, paging with limit 5: no duplicate across pages."""
    seen, cursor, pages = [], None, 0
    while True:
        p = dict(params, limit=5)
        if cursor:
            p["cursor"] = cursor
        page = get(f"{endpoint}?{q(p)}", template or endpoint)
        seen += [a["id"] for a in page[key]]
        pages += 1
        check(pages < 100, f"{endpoint} {params}: paging does not end")
        if not page["has_more"]:
            check(page["next"] is None, f"{endpoint} {params}: next without has_more")
            break
        cursor = page["next"]
    check(len(seen) == len(set(seen)), f"{endpoint} {params}: an article twice across pages")
    return seen


def expect(params, pred, nonempty=True, endpoint="/v1/articles", key="articles"):
    want = {d["id"] for d in ALL if pred(d)}
    if nonempty:
        check(want and len(want) < N, f"{params}: the hand count ({len(want)}) cannot tell")
    got = page_ids(endpoint, params, key=key)
    check(set(got) == want, f"{endpoint} {params}: got {sorted(got)}, want {sorted(want)}")
    first = get(f"{endpoint}?{q(dict(params, limit=5))}", endpoint)
    check(first["total"] == len(want) and first["total_exact"],
          f"{endpoint} {params}: total {first.get('total')}, want {len(want)}")
    return want


person, org, theme = common("person"), common("org"), common("theme")
country, lang = common("country"), common("lang")
cc = next(t.split(".")[1] for d in ALL for t in topics(d) if t.startswith("place."))
story = next(d["story"] for d in ALL if d.get("story"))
expect({"person": person}, lambda d: under(d, "person." + person))
expect({"org": org}, lambda d: under(d, "org." + org), nonempty=False)
expect({"theme": theme}, lambda d: under(d, "theme." + theme), nonempty=False)
expect({"country": country}, lambda d: under(d, "country." + country))
expect({"place": cc}, lambda d: under(d, "place." + cc), nonempty=False)
expect({"lang": lang}, lambda d: under(d, "lang." + lang), nonempty=False)
expect({"story": story}, lambda d: under(d, "story." + story), nonempty=False)
expect({"topic": ["person.a", "person.e"]},
       lambda d: any(t.startswith(("person.a", "person.e")) for t in topics(d)))
expect({"q": "zebra"}, lambda d: "zebra" in (d["title"] + d["text"]).lower())
expect({"from": "2024-02-03", "to": "2024-02-06T12:00:00Z"},
       lambda d: "2024-02-03" <= d["time"] < "2024-02-06T12:00:00Z")
cairo = (30.0444, 31.2357)
expect({"near": f"{cairo[0]},{cairo[1]},50"}, lambda d: any(km(cairo, p) <= 50 for p in places(d)))
expect({"bbox": "-10,35,30,60"},
       lambda d: any(-10 <= p[1] <= 30 and 35 <= p[0] <= 60 for p in places(d)))
expect({"person": person, "q": "zebra", "from": "2024-02-01", "to": "2024-02-08"},
       lambda d: under(d, "person." + person) and "zebra" in (d["title"] + d["text"]).lower()
       and "2024-02-01" <= d["time"] < "2024-02-08", nonempty=False)
expect({"q": "zebra", "person": person}, lambda d: under(d, "person." + person)
       and "zebra" in (d["title"] + d["text"]).lower(), endpoint="/v1/search", key="hits")
none = get("/v1/articles?" + q({"topic": "nomatch.at.all", "since": 0}), "/v1/articles")
check(none["articles"] == [] and none["next"] is None and none["total"] == 0, f"no match: {none}")
print("ok - every filter matches a hand count over the stored documents")


# ---- paging in every sort ----

def walk(params, key="articles", endpoint="/v1/articles"):
    rows, cursor = [], None
    while True:
        p = dict(params, limit=7)
        if cursor:
            p["cursor"] = cursor
        page = get(f"{endpoint}?{q(p)}", endpoint)
        rows += page[key]
        if not page["has_more"]:
            return rows
        cursor = page["next"]


by_seq = walk({"sort": "seq"})
check([a["id"] for a in by_seq] == [d["id"] for d in sorted(ALL, key=lambda d: d["seq"])],
      "sort=seq: not every article once in seq order")
by_time = walk({"sort": "published"})
times = [a["time"] for a in by_time]
check(sorted(a["id"] for a in by_time) == sorted(BY_ID) and times == sorted(times, reverse=True),
      "sort=published: not every article once, newest first")
hits = walk({"q": "talks"}, key="hits", endpoint="/v1/search")
ranks = [h["rank"] for h in hits]
check(len(hits) == N and len({h["id"] for h in hits}) == N, f"search talks: {len(hits)} hits")
check(ranks == sorted(ranks, reverse=True) and all(r > 0 for r in ranks),
      f"search rank is not higher-is-better: {ranks[:5]}")
check(all("[" in (h["snippet"] or "") for h in hits), "a search hit without a marked snippet")
print("ok - paging by seq, by time and by relevance: every article once, in order")


# ---- facets ----

def hand_facet(prefix, lo, hi, pred=lambda d: True):
    counts = {}
    for d in ALL:
        if lo <= d["time"] < hi and pred(d):
            for t in set(topics(d)):
                if t.startswith(prefix + "."):
                    counts[t] = counts.get(t, 0) + 1
    return counts


f = get("/v1/facets?" + q({"facet": "person", "from": "2024-02-06", "to": "2024-02-11",
                           "bucket": "day", "top": 100}), "/v1/facets")
want = hand_facet("person", "2024-02-06", "2024-02-11")
prev = hand_facet("person", "2024-02-01", "2024-02-06")
check(want and {v["topic"]: v["count"] for v in f["values"]} == want,
      f"facets person: {f['values']}, want {want}")
check(len(f["buckets"]) == 5 and f["buckets"][0].startswith("2024-02-06"), f"buckets {f['buckets']}")
for v in f["values"]:
    check(v["previous"] == prev.get(v["topic"], 0), f"previous of {v['topic']}: {v['previous']}")
    check(v["change"] == v["count"] - v["previous"], "change is not count - previous")
    check(sum(v["counts"]) == v["count"], f"buckets of {v['topic']} do not add up")
    for k, day in enumerate(f["buckets"]):
        n = sum(1 for d in ALL if d["time"][:10] == day[:10] and v["topic"] in topics(d))
        check(v["counts"][k] == n, f"{v['topic']} on {day[:10]}: {v['counts'][k]}, want {n}")
counts = [v["count"] for v in f["values"]]
check(counts == sorted(counts, reverse=True), "facet values not by count")
top2 = get("/v1/facets?" + q({"facet": "person", "from": "2024-02-06", "to": "2024-02-11",
                              "top": 2, "trending": 1}), "/v1/facets")
changes = sorted((want[t] - prev.get(t, 0) for t in want), reverse=True)[:2]
check([v["change"] for v in top2["values"]] == changes, f"trending: {top2['values']}, {changes}")
fl = get("/v1/facets?" + q({"facet": "lang", "from": "2024-01-01", "to": "2030-01-01",
                            "person": person}), "/v1/facets")
wl = hand_facet("lang", "2024-01-01", "2030-01-01", lambda d: under(d, "person." + person))
check({v["topic"]: v["count"] for v in fl["values"]} == wl, f"facets lang|person: {fl}, {wl}")
# Nothing matches (a window with no article): an empty answer, not a crash (qsort of NULL
# killed newswire-query under UBSan, found by the web page asking with a live filter).
fe = get("/v1/facets?" + q({"facet": "person", "from": "1990-01-01", "to": "1990-01-02",
                            "bucket": "day"}), "/v1/facets")
check(fe["values"] == [], f"facets over an empty window: {fe}")
print("ok - facets: counts, day buckets, previous window and trending match a hand count")


# ---- stories, revisions, fields ----

s = get(f"/v1/stories/{story}?limit=1000", "/v1/stories/{id}")
check(s["story"] == story and {a["id"] for a in s["articles"]} ==
      {d["id"] for d in ALL if d.get("story") == story}, f"story {story}: {s}")
get("/v1/stories/nosuchstory", "/v1/stories/{id}", want=404)
r = get(f"/v1/articles/{ids[0]}/revisions", "/v1/articles/{id}/revisions")["revisions"]
check([x["rev"] for x in r] == [1, 2] and [x["current"] for x in r] == [False, True] and
      r[1]["seq"] > r[0]["seq"] and r[1]["av"] > 0 and r[1]["document"]["title"].endswith("(updated)"),
      f"revisions: {[(x['rev'], x['current'], x['seq']) for x in r]}")
get("/v1/articles/nosuchid/revisions", "/v1/articles/{id}/revisions", want=404)
one = get(f"/v1/articles/{ids[1]}", "/v1/articles/{id}")
full = get(f"/v1/articles/{ids[1]}?fields=all", "/v1/articles/{id}")
check("simhash" in full and "simhash" not in one and "minhash" not in one,
      "fingerprints are not left out by default")
few = get("/v1/articles?" + q({"limit": 3, "fields": "id,title"}), "/v1/articles")
check(all(set(a) == {"id", "title"} for a in few["articles"]), f"fields=id,title: {few}")
print("ok - stories, revisions with acceptance versions, fields= and fingerprints left out")


# ---- refusals, CORS, HEAD, gzip, SSE ----

for path, template in [("/v1/articles?bogus=1", "/v1/articles"),
                       ("/v1/search?q=x&bogus=1", "/v1/search"),
                       ("/v1/facets?facet=person&bogus=1", "/v1/facets"),
                       (f"/v1/articles/{ids[1]}?bogus=1", "/v1/articles/{id}"),
                       ("/v1/stream?bogus=1", "/v1/stream")]:
    e = get(path, template, want=400)
    check(e["error"] == "unknown-parameter" and "bogus" in e["message"], f"{path}: {e}")
for path, code in [("/v1/articles?near=1,2", "bad-near"), ("/v1/articles?bbox=5,5,1,1", "bad-bbox"),
                   ("/v1/articles?sort=relevance", "bad-sort"), ("/v1/articles?from=yesterday", "bad-from"),
                   ("/v1/facets?facet=colour", "bad-facet"), ("/v1/articles?cursor=zz", "bad-query")]:
    e = get(path, path.split("?")[0], want=400)
    check(e["error"] == code, f"{path}: {e}, want {code}")
print("ok - unknown parameters and bad values get 400 naming the parameter")

h, _ = request("/v1/articles?limit=1", "/v1/articles", headers={"Origin": ORIGIN}, raw=True)
check(h.get("Access-Control-Allow-Origin") == ORIGIN, f"no CORS header: {dict(h)}")
h, _ = request("/v1/articles?bogus=1", "/v1/articles", headers={"Origin": ORIGIN}, want=400, raw=True)
check(h.get("Access-Control-Allow-Origin") == ORIGIN, "an error answer without the CORS header")
h, body = request("/v1/search", "/v1/search", method="OPTIONS", want=204, raw=True,
                  headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
check("GET" in h.get("Access-Control-Allow-Methods", "") and
      h.get("Access-Control-Allow-Origin") == ORIGIN and body == b"", f"preflight: {dict(h)}")
h, body = request("/v1/articles?limit=2", "/v1/articles", method="HEAD", raw=True)
check(body == b"" and h.get("Content-Type") == "application/json", f"HEAD: {dict(h)} {body[:50]!r}")
h, body = request("/v1/articles?limit=20", "/v1/articles", headers={"Accept-Encoding": "gzip"}, raw=True)
check(h.get("Content-Encoding") == "gzip", f"no gzip: {dict(h)}")
plain = get("/v1/articles?limit=20", "/v1/articles")
check(json.loads(gzip.decompress(body)) == plain, "the gzipped answer is not the plain one")
check(len(body) < len(json.dumps(plain)) / 2, "gzip did not shrink the answer")
with urllib.request.urlopen(BASE + "/v1/stream?since=0", timeout=10) as r:
    head = r.read(200).decode()
check(head.startswith("retry: ") and "event: article" in head, f"SSE head: {head!r}")
print("ok - CORS on answers and errors, OPTIONS preflight, HEAD, gzip, SSE retry")
