#!/usr/bin/env python3
"""chaos_load.py: the article load for tests/chaos/ and bench/{chaos,overload}.

Article i (0 <= i < N) is a deterministic English wire story titled "Chaos article NNNNNNN ...",
with its own text and no URL, so it has its own id. Even i go through the HTTP API, odd i
through the inbox, each source paced at --rate articles per second (0: as fast as it goes).

  http  API N OUT   post the even articles, each until it gets a 202 (on a refused connection,
                    a reset, a timeout or a 503 it waits and tries again, the way a real
                    sender must). Only a 202 counts: "i id" is appended to OUT for each one.
                    Refusals other than 503 (4xx, 500) go to OUT.refused and fail the run.
                    Counters (posts, 202s, 503s, 503s with Retry-After, connection errors) are
                    written to OUT.stats when done; "finished" is the last line of OUT.
  inbox DIR N STAGE write the odd articles to STAGE and rename(2) each into DIR, as inbox
                    writers are told to; "finished" is printed at the end. --burst S drops
                    S seconds' worth of files at once every S seconds.
  verify DB N OUT DONE
                    the verdict: compare the store (DB) with what was accepted (OUT from
                    `http`, the files in the inbox's DONE directory). N > 0: all N articles
                    must have been accepted; N = 0: whatever was accepted (the load was
                    stopped). Prints one line "accepted=.. stored=.. lost=.. duplicated=.. ..."
                    (shell assignments) and then one line per problem.

  revs API R OUT    revisions: R URLs (https://chaos.example.org/rev/NNNNNN), each sent as 2 or 3
                    versions (JSON {"url", "text"}; URL r has 2 + r % 2), version k+1 posted
                    right after version k got its 202 (0-0.4 s later), each until it gets a
                    202 as `http` does, the URLs paced at --rate per second and many URLs in
                    flight at once over --conns connections (8). "r k id" is appended to OUT
                    per accepted version, so acceptance order is version order.
  verify-revs DB OUT SSE
                    the revision verdict, from the database and the Server-Sent Events the
                    query service streamed (SSE file): per URL, revisions = distinct versions
                    accepted (none lost, none doubled), current = the last accepted, and on the
                    stream each id's versions in acceptance order, none twice, the last one
                    present. Prints "revs_urls=.. rev_lost=.. rev_extra=.. rev_stale=..
                    rev_late=.. sse_events=.. sse_out_of_order=.. sse_doubled=.. sse_missing=.."
                    and a line per problem.

--stop FILE (http, inbox): take no new article once FILE exists (the one in hand is still
posted until it gets a 202, so "accepted" stays exact).
--times FILE (http): also append "id unix_time" per 202 to FILE, for latency figures.
--conns K runs K HTTP connections in parallel (article i on connection (i/2) % K), so fetch's
group commit has company; --rate is shared between them.
"""
import argparse
import http.client
import os
import random
import re
import sqlite3
import sys
import threading
import time

PLACES = ["Oslo, Norway", "Lima, Peru", "Nairobi, Kenya", "Hanoi, Vietnam", "Porto, Portugal",
          "Quito, Ecuador", "Perth, Australia", "Accra, Ghana"]
WORDS = ("council harbour river minister report budget village railway school market weather "
         "festival bridge station energy water museum court union farmers hospital airport "
         "teachers library garden").split()


def title(i):
    return f"Chaos article {i:07d} on the {topic(i)}"


def topic(i):
    rng = random.Random(i * 7919 + 1)
    return " ".join(rng.choice(WORDS) for _ in range(3))


def article(i):
    """The text of article i: title, a dated dateline lead, a caption, three paragraphs."""
    rng = random.Random(i)
    t = topic(i)
    body = [f"date 2026-0{1 + i % 9}-1{i % 10} {rng.choice(PLACES)} - Officials said on Monday "
            f"that the {t} plan number {i} would go ahead after a long debate in the city."]
    body.append(f"A view of the {t} site before the vote. © Ana Lopes/Pool via REUTERS")
    for k in range(3):
        body.append(" ".join(rng.choice(WORDS) for _ in range(25)).capitalize()
                    + f" and the people of the town said they would wait, chaosmark{i:07d}x{k}.")
    return (title(i) + "\n\n" + "\n\n".join(body) + "\n").encode()


REV_BASE = "https://chaos.example.org/rev/"


def rev_versions(r):
    return 2 + r % 2


def rev_text(r, k):
    """Version k of revision URL r: English wire text whose words change from version to
    version, with a marker naming the version."""
    rng = random.Random(r * 104729 + k)
    t = topic(r + 5000000)
    paras = [f"Officials said on Monday that the {t} plan would change again, update {k}."]
    for p in range(3):
        paras.append(" ".join(rng.choice(WORDS) for _ in range(20)).capitalize()
                     + f" and the people of the town said they would wait, chaosrev{r:06d}v{k}p{p}.")
    return "\n\n".join(paras)


class Pacer:
    """At most `rate` calls of tick() per second in total, across threads (0: no limit)."""

    def __init__(self, rate):
        self.rate, self.lock, self.next = rate, threading.Lock(), time.monotonic()

    def tick(self):
        if self.rate <= 0:
            return
        with self.lock:
            now = time.monotonic()
            self.next = max(self.next, now - 1.0) + 1.0 / self.rate
            wait = self.next - now
        if wait > 0:
            time.sleep(wait)


def run_http(args):
    host, _, port = args.api.removeprefix("http://").partition(":")
    out = open(args.out, "a", buffering=1)
    times = open(args.times, "a", buffering=1) if args.times else None
    lock = threading.Lock()
    stats = {"posts": 0, "accepted": 0, "503": 0, "503_retry_after": 0, "conn_errors": 0,
             "other": 0}
    failed = []
    pacer = Pacer(args.rate)

    def worker(k):
        conn = None
        for i in range(2 * k, args.n, 2 * args.conns):
            if args.stop and os.path.exists(args.stop):
                break
            body = article(i)
            pacer.tick()
            while True:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=10)
                try:
                    conn.request("POST", "/v1/articles", body, {"Content-Type": "text/plain"})
                    r = conn.getresponse()
                    data = r.read()
                    status, retry_after = r.status, r.getheader("Retry-After")
                except (OSError, http.client.HTTPException):
                    # fetch is down or died mid-request: the article may or may not be
                    # spooled; posting it again is safe (same content, same id).
                    conn.close()
                    conn = None
                    with lock:
                        stats["conn_errors"] += 1
                    time.sleep(0.1)
                    continue
                with lock:
                    stats["posts"] += 1
                if status == 202:
                    aid = data.decode().split('"id":"', 1)[1].split('"', 1)[0]
                    with lock:
                        stats["accepted"] += 1
                        out.write(f"{i} {aid}\n")
                        if times:
                            times.write(f"{aid} {time.time():.3f}\n")
                    break
                if status == 503:
                    with lock:
                        stats["503"] += 1
                        stats["503_retry_after"] += retry_after is not None
                    # Honour Retry-After, but no longer than a second: the test wants the
                    # load on while fetch pushes back.
                    time.sleep(min(float(retry_after or 1), 1.0) if args.honour else 0.05)
                    continue
                with lock:
                    stats["other"] += 1
                    failed.append(f"{i} {status} {data[:200]!r}")
                break
        if conn:
            conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(args.out + ".stats", "w") as f:
        f.write(" ".join(f"{k}={v}" for k, v in stats.items()) + "\n")
    if failed:
        with open(args.out + ".refused", "w") as f:
            f.write("\n".join(failed) + "\n")
    out.write("finished\n")


def post_until_202(conn_box, host, port, body, ctype, stats, lock):
    """POST body until a 202; returns the id. conn_box[0] is the connection (reused)."""
    while True:
        if conn_box[0] is None:
            conn_box[0] = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn_box[0].request("POST", "/v1/articles", body, {"Content-Type": ctype})
            r = conn_box[0].getresponse()
            data = r.read()
            status = r.status
        except (OSError, http.client.HTTPException):
            conn_box[0].close()
            conn_box[0] = None
            with lock:
                stats["conn_errors"] += 1
            time.sleep(0.1)
            continue
        with lock:
            stats["posts"] += 1
        if status == 202:
            with lock:
                stats["accepted"] += 1
            return data.decode().split('"id":"', 1)[1].split('"', 1)[0]
        if status == 503:
            with lock:
                stats["503"] += 1
            time.sleep(0.1)
            continue
        raise SystemExit(f"revision post refused: {status} {data[:200]!r}")


def run_revs(args):
    """The revision load. Each URL's versions are posted in order, version k+1 only after
    version k got its 202 (so acceptance order is version order), but the URLs do not wait for
    each other: every connection takes whichever version is due next. Holding a connection
    through the pause between two versions (as this client once did, two connections, one URL
    at a time) capped the load at about 2.5 URLs a second whatever --rate asked for, so the
    long form spent most of its time here with the pipeline idle."""
    import heapq
    import json
    host, _, port = args.api.removeprefix("http://").partition(":")
    out = open(args.out, "a", buffering=1)
    lock = threading.Lock()
    cond = threading.Condition(lock)
    stats = {"posts": 0, "accepted": 0, "503": 0, "conn_errors": 0}
    t0 = time.monotonic()
    # (due, r, k): URL r's first version is due at its place in the --rate schedule; each next
    # version 0-0.4 s after the previous one's 202 (from a seed of its own, so a run replays).
    due = [(t0 + (r / args.rate if args.rate > 0 else 0), r, 0) for r in range(args.n)]
    heapq.heapify(due)
    left = [sum(rev_versions(r) for r in range(args.n))]

    def worker():
        box = [None]
        while True:
            with cond:
                while True:
                    if left[0] == 0:
                        cond.notify_all()
                        if box[0]:
                            box[0].close()
                        return
                    wait = due[0][0] - time.monotonic() if due else 1.0
                    if wait <= 0:
                        break
                    cond.wait(min(wait, 1.0))
                _, r, k = heapq.heappop(due)
            body = json.dumps({"url": f"{REV_BASE}{r:06d}", "text": rev_text(r, k)}).encode()
            aid = post_until_202(box, host, port, body, "application/json", stats, lock)
            with cond:
                out.write(f"{r} {k} {aid}\n")
                left[0] -= 1
                if k + 1 < rev_versions(r):
                    pause = random.Random(r * 7 + k).uniform(0, 0.4)
                    heapq.heappush(due, (time.monotonic() + pause, r, k + 1))
                cond.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(args.out + ".stats", "w") as f:
        f.write(" ".join(f"{k}={v}" for k, v in stats.items()) + "\n")
    out.write("finished\n")


def read_sse(path, only=None):
    """The events of an SSE capture: (seq, document) pairs, in stream order. With `only` (a
    substring), documents whose data line lacks it are counted but not decoded (None): the
    long form's capture is over half a gigabyte of enriched JSON, nearly all of it not
    revisions, and is read line by line."""
    import json
    events, seq, data = [], None, None
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return events
    with f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "":
                if seq is not None and data:
                    if only is not None and only not in data:
                        events.append((seq, None))
                    else:
                        try:
                            events.append((seq, json.loads(data)))
                        except ValueError:
                            pass  # the last event may be cut by the end of the capture
                seq, data = None, None
    return events


def run_verify_revs(args):
    marker = re.compile(r"chaosrev(\d{6})v(\d)p0")
    accepted = {}  # r -> (id, [k in acceptance order])
    for line in open(args.out):
        parts = line.split()
        if len(parts) == 3:
            r, k, aid = int(parts[0]), int(parts[1]), parts[2]
            ent = accepted.setdefault(r, (aid, []))
            if k not in ent[1]:
                ent[1].append(k)
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, timeout=10)
    # A database before schema v6 (an older build under test) has no av and late columns.
    have = {row[1] for row in con.execute("pragma table_info(revisions)")}
    cols = "av, late" if "late" in have else "0, 0"
    problems, lost, extra, stale, late = [], 0, 0, 0, 0
    for r, (aid, ks) in sorted(accepted.items()):
        row = con.execute("select text from articles where id = ?", (aid,)).fetchone()
        if row is None:
            lost += 1
            problems.append(f"  rev lost: url {r} id {aid}")
            continue
        revs = con.execute(f"select content_hash, {cols} from revisions where id = ?",
                           (aid,)).fetchall()
        hashes = [h for h, _, _ in revs]
        late += sum(1 for _, _, lt in revs if lt)
        if len(revs) > len(ks) or len(set(hashes)) != len(hashes):
            extra += len(revs) - len(set(hashes)) + max(0, len(set(hashes)) - len(ks))
            problems.append(f"  rev extra: url {r} id {aid} has {len(revs)} revisions "
                            f"({len(set(hashes))} distinct), {len(ks)} versions accepted")
        elif len(revs) < len(ks):
            lost += 1
            problems.append(f"  rev lost: url {r} id {aid} has {len(revs)} revisions, "
                            f"{len(ks)} versions accepted")
        m = marker.search(row[0] or "")
        if not m or int(m.group(2)) != ks[-1]:
            stale += 1
            problems.append(f"  stale current: url {r} id {aid} current version "
                            f"{m.group(2) if m else '?'}, last accepted {ks[-1]}")
    ids = {aid: r for r, (aid, _) in accepted.items()}
    seen, order_bad, doubled, n_events = {}, 0, 0, 0
    seqs = set()
    for seq, doc in read_sse(args.sse, only="chaos.example.org"):
        n_events += 1
        if seq in seqs:
            doubled += 1
            problems.append(f"  sse doubled: seq {seq}")
        seqs.add(seq)
        if doc is None:
            continue
        aid = doc.get("id")
        if aid not in ids:
            continue
        m = marker.search(doc.get("text", ""))
        k = int(m.group(2)) if m else -1
        prev = seen.setdefault(aid, [])
        if prev and k <= prev[-1]:
            order_bad += 1
            problems.append(f"  sse order: id {aid} version {k} (av {doc.get('av')}) after "
                            f"version {prev[-1]}")
        prev.append(k)
    missing = 0
    for aid, r in ids.items():
        ks = accepted[r][1]
        if not seen.get(aid) or seen[aid][-1] != ks[-1]:
            missing += 1
            problems.append(f"  sse missing: id {aid} streamed {seen.get(aid)}, last accepted "
                            f"{ks[-1]}")
    print(f"revs_urls={len(accepted)} rev_versions={sum(len(k) for _, k in accepted.values())} "
          f"rev_lost={lost} rev_extra={extra} rev_stale={stale} rev_late={late} "
          f"sse_events={n_events} sse_out_of_order={order_bad} sse_doubled={doubled} "
          f"sse_missing={missing}")
    for p in problems[:30]:
        print(p)


def run_inbox(args):
    pacer = Pacer(args.rate)
    os.makedirs(args.stage, exist_ok=True)
    per_burst = max(1, round(args.rate * args.burst)) if args.rate > 0 and args.burst > 0 else 0
    for k, i in enumerate(range(1, args.n, 2)):
        if args.stop and os.path.exists(args.stop):
            break
        # A bounded producer: wait while the inbox holds max_pending files (fetch paused).
        while args.max_pending and len(os.listdir(args.dir)) - 2 >= args.max_pending:
            time.sleep(0.05)
        if per_burst == 0:
            pacer.tick()
        elif k % per_burst == 0 and k > 0:
            time.sleep(args.burst)
        name = f"chaos-{i:07d}.txt"
        tmp = os.path.join(args.stage, name)
        with open(tmp, "wb") as f:
            f.write(article(i))
        os.rename(tmp, os.path.join(args.dir, name))
    print("finished", flush=True)


def run_verify(args):
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, timeout=10)
    # Revision URLs (`revs`) have their own verdict (verify-revs).
    rows = con.execute("select id, title, lang, words from articles"
                       " where url is null or url not like ?", (REV_BASE + "%",)).fetchall()
    by_title, ids = {}, {}
    for aid, t, lang, words in rows:
        by_title.setdefault(t, []).append(aid)
        ids[aid] = (t, lang, words)
    # Accepted: the HTTP articles answered 202 (with the id), the inbox files moved to done/.
    http_ids, accepted = {}, set()
    for line in open(args.out):
        parts = line.split()
        if len(parts) == 2:
            http_ids[int(parts[0])] = parts[1]
            accepted.add(int(parts[0]))
    for f in os.listdir(args.done):
        m = re.fullmatch(r"chaos-(\d+)\.txt", f)
        if m:
            accepted.add(int(m.group(1)))
    expected = {title(i) for i in (range(args.n) if args.n else accepted)}
    lost = sorted(i for i in accepted if title(i) not in by_title)
    lost += sorted(i for i, aid in http_ids.items() if aid not in ids and i not in lost)
    dup_titles = {t: v for t, v in by_title.items() if len(v) > 1}
    revs = con.execute("select r.id, count(*) from revisions r join articles a on a.id = r.id"
                       " where a.url is null or a.url not like ? group by r.id having count(*) > 1",
                       (REV_BASE + "%",))
    revs = revs.fetchall()
    unexpected = [t for t in by_title if t not in expected]
    unenriched = [(t, lang, words) for aid, (t, lang, words) in ids.items()
                  if not lang or lang in ("un", "und", "xx") or not words or words <= 0]
    dead = con.execute("select id, stage, reason, coalesce(detail, ''), "
                       "coalesce(article_id, '') from dead_letters").fetchall()
    print(f"accepted={len(accepted)} stored={len(rows)} distinct={len(by_title)} "
          f"lost={len(lost)} duplicated="
          f"{sum(len(v) - 1 for v in dup_titles.values()) + sum(c - 1 for _, c in revs)} "
          f"unexpected={len(unexpected)} unenriched={len(unenriched)} dead={len(dead)} "
          f"never_accepted={args.n - len(accepted) if args.n else 0}")
    for i in lost[:20]:
        print(f"  lost: article {i} {http_ids.get(i, '(inbox)')} {title(i)!r}")
    for t, v in list(dup_titles.items())[:20]:
        print(f"  duplicated: {t!r} stored as {v}")
    for aid, c in revs[:20]:
        print(f"  duplicated: {aid} has {c} revisions")
    for t in unexpected[:20]:
        print(f"  unexpected: {t!r}")
    for t, lang, words in unenriched[:20]:
        print(f"  not enriched: {t!r} lang={lang!r} words={words!r}")
    for d in dead:
        print("  dead letter: #%s stage=%s reason=%s detail=%r article=%s" % d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("http")
    h.add_argument("api")
    h.add_argument("n", type=int)
    h.add_argument("out")
    h.add_argument("--conns", type=int, default=4)
    h.add_argument("--rate", type=float, default=0)
    h.add_argument("--honour", action="store_true", help="sleep Retry-After (at most 1 s) on 503")
    h.add_argument("--stop")
    h.add_argument("--times")
    b = sub.add_parser("inbox")
    b.add_argument("dir")
    b.add_argument("n", type=int)
    b.add_argument("stage")
    b.add_argument("--rate", type=float, default=0)
    b.add_argument("--burst", type=float, default=0,
                   help="drop rate*burst files at once every burst seconds")
    b.add_argument("--max-pending", type=int, default=0,
                   help="wait while the inbox holds this many files")
    b.add_argument("--stop")
    v = sub.add_parser("verify")
    v.add_argument("db")
    v.add_argument("n", type=int)
    v.add_argument("out")
    v.add_argument("done")
    rv = sub.add_parser("revs")
    rv.add_argument("api")
    rv.add_argument("n", type=int)
    rv.add_argument("out")
    rv.add_argument("--rate", type=float, default=0)
    rv.add_argument("--conns", type=int, default=8)
    vr = sub.add_parser("verify-revs")
    vr.add_argument("db")
    vr.add_argument("out")
    vr.add_argument("sse")
    e = sub.add_parser("expect")
    e.add_argument("n", type=int)
    args = ap.parse_args()
    if args.cmd == "http":
        run_http(args)
    elif args.cmd == "inbox":
        run_inbox(args)
    elif args.cmd == "verify":
        run_verify(args)
    elif args.cmd == "revs":
        run_revs(args)
    elif args.cmd == "verify-revs":
        run_verify_revs(args)
    else:
        for i in range(args.n):
            print(title(i))


if __name__ == "__main__":
    sys.exit(main())
