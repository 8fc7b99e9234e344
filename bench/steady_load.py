#!/usr/bin/env python3
"""bench/steady_load.py: the client side of bench/steady (run that, not this).

    steady_load.py API QUERY DIR RATE SECONDS CONNS OUT

Posts the files of DIR (wire articles, text/plain, no URL: each its own id) to API/v1/articles at
RATE per second for SECONDS, open loop: article i is due at start + i / RATE whatever happened to
the ones before, over CONNS keep-alive connections. Meanwhile it reads QUERY/v1/stream (Server-
Sent Events) from before the first post. For every article it notes when its 202 came back and
when the article arrived on the stream (both on this process's monotonic clock), and writes one
JSON line to OUT: the latencies from 202 to arrival, how late the posts went out against their
schedule, the 503s (each retried after its Retry-After), and what never arrived within 30 s of
the last post.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def main():
    api, query, src, rate, secs, conns, out = sys.argv[1:8]
    rate, secs, conns = float(rate), float(secs), int(conns)
    files = sorted(os.listdir(src))
    n = min(len(files), int(rate * secs))
    if n < int(rate * secs):
        print(f"note: only {n} articles for {rate * secs:.0f}", file=sys.stderr)
    bodies = [open(os.path.join(src, f), "rb").read() for f in files[:n]]

    lock = threading.Lock()
    accepted = {}  # id -> monotonic time of its 202
    arrived = {}  # id -> monotonic time of its arrival on the stream
    late = []  # seconds each post went out after it was due
    stats = {"503": 0, "errors": 0, "refused": 0}
    stream_up = threading.Event()

    q = urllib.parse.urlsplit(query)

    def reader():
        c = http.client.HTTPConnection(q.hostname, q.port, timeout=3600)
        c.request("GET", "/v1/stream", headers={"Accept": "text/event-stream"})
        r = c.getresponse()
        stream_up.set()
        while True:
            line = r.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                now = time.monotonic()
                try:
                    aid = json.loads(line[6:])["id"]
                except (ValueError, KeyError):
                    continue
                with lock:
                    arrived.setdefault(aid, now)

    threading.Thread(target=reader, daemon=True).start()
    stream_up.wait(10)
    time.sleep(0.5)  # the query service's subscription reaches the broker

    a = urllib.parse.urlsplit(api)
    nxt = [0]
    start = time.monotonic() + 0.2

    def sender():
        c = http.client.HTTPConnection(a.hostname, a.port, timeout=60)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= n:
                return
            due = start + i / rate
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
            with lock:
                late.append(max(0.0, time.monotonic() - due))
            while True:
                try:
                    c.request("POST", "/v1/articles", body=bodies[i],
                              headers={"Content-Type": "text/plain"})
                    r = c.getresponse()
                    body = r.read()
                except (OSError, http.client.HTTPException):
                    with lock:
                        stats["errors"] += 1
                    c.close()
                    c = http.client.HTTPConnection(a.hostname, a.port, timeout=60)
                    time.sleep(0.1)
                    continue
                now = time.monotonic()
                if r.status == 202:
                    with lock:
                        accepted[json.loads(body)["id"]] = now
                    break
                if r.status == 503:
                    with lock:
                        stats["503"] += 1
                    time.sleep(float(r.getheader("Retry-After") or 1))
                    continue
                with lock:
                    stats["refused"] += 1
                    if stats["refused"] <= 3:
                        print(f"refused {files[i]}: {r.status} {body[:200]!r}", file=sys.stderr)
                break

    threads = [threading.Thread(target=sender) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end_posts = time.monotonic()
    deadline = end_posts + 30
    while time.monotonic() < deadline:
        with lock:
            if all(k in arrived for k in accepted):
                break
        time.sleep(0.1)
    with lock:
        lat = sorted(arrived[k] - t for k, t in accepted.items() if k in arrived)
        missing = sum(1 for k in accepted if k not in arrived)
    late.sort()

    def pct(xs, p):
        return 1000 * xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")

    res = {"n": n, "accepted": len(accepted), "arrived": len(lat), "missing": missing,
           "posting_s": end_posts - start, "rate": len(accepted) / max(1e-9, end_posts - start),
           "p50": pct(lat, 0.5), "p90": pct(lat, 0.9), "p99": pct(lat, 0.99),
           "max": pct(lat, 1.0), "late_p99": pct(late, 0.99), **stats}
    with open(out, "a") as f:
        f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
