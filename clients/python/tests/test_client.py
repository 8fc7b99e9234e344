"""The Python client against a real `newswire up` (started by
tests/integration/test_python_client.sh, which passes its addresses in NW_QUERY, NW_FETCH,
NW_BROKER and the data directory's run/ in NW_RUN). Retry on 503 is checked against a small
local HTTP server that answers busy first, since a real fetch is busy only under overload."""

import http.server
import json
import os
import signal
import threading
import time
import unittest

import newswire
from newswire import Client, NewswireError

QUERY = os.environ.get("NW_QUERY", "http://127.0.0.1:8081")
FETCH = os.environ.get("NW_FETCH", "http://127.0.0.1:8080")
BROKER = os.environ.get("NW_BROKER", "tcp://127.0.0.1:5550")
RUN = os.environ.get("NW_RUN", "")
TMP = os.environ.get("NW_TMP", "/tmp")


def read_pid(run):
    with open(os.path.join(run, "query.pid")) as f:
        return int(f.read())


def story(tag, city="Oslo, Norway"):
    return (f"Harbour story {tag}\n\n{city} - The harbour authority said on Monday that story {tag} "
            f"was about ferries and ice on the fjord, and that commuters should check departures.\n")


def wait_for(pred, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Live(unittest.TestCase):
    nw = Client(query=QUERY, fetch=FETCH, broker=BROKER, timeout=20)

    def stored(self, article_id):
        try:
            return self.nw.get(article_id)
        except NewswireError as e:
            if e.status == 404:
                return None
            raise

    def test_ingest_get_search_articles(self):
        a = self.nw.ingest_text(story("alpha-walrus"), url="https://example.org/py/alpha")
        self.assertEqual(a["status"], "accepted")
        doc = wait_for(lambda: self.stored(a["id"]), what="the article stored")
        self.assertEqual(doc["id"], a["id"])
        self.assertIn("lang.en", doc["topics"])
        hits = wait_for(lambda: self.nw.search("walrus", limit=5)["hits"], what="a search hit")
        self.assertEqual([h["id"] for h in hits], [a["id"]])
        ids = [x["id"] for x in self.nw.iter_articles(topic="lang.en", since=0)]
        self.assertIn(a["id"], ids)
        self.assertEqual(len(ids), len(set(ids)))
        # A topic nothing matches: no articles, and paging stops.
        self.assertEqual(list(self.nw.iter_articles(topic="person.nobody-at-all", since=0)), [])

    def test_ingest_many_files_and_errors(self):
        d = os.path.join(TMP, "many")
        os.makedirs(os.path.join(d, "sub"), exist_ok=True)
        for i in range(3):
            with open(os.path.join(d, "sub" if i else "", f"doc{i}.txt"), "w") as f:
                f.write(story(f"many-{i}-pelican"))
        with open(os.path.join(d, ".hidden.txt"), "w") as f:
            f.write(story("hidden"))
        with open(os.path.join(d, "bad.txt"), "wb") as f:
            f.write(b"Bad \xff\xfe bytes\n\nnot UTF-8 at all\n")
        results = list(self.nw.ingest_many([d]))
        self.assertEqual(len(results), 4, results)  # the hidden file is skipped
        ok = [r for r in results if r[1]]
        bad = [r for r in results if r[2]]
        self.assertEqual(len(ok), 3)
        self.assertEqual(len(bad), 1)
        self.assertTrue(bad[0][0].endswith("bad.txt"))
        self.assertEqual(bad[0][2].status // 100, 4)
        self.assertEqual(bad[0][2].code, "invalid-utf8")
        for _, ans, _ in ok:
            wait_for(lambda: self.stored(ans["id"]), what="each file stored")

    def test_follow_resumes_after_the_server_restarts(self):
        first = self.nw.ingest_text(story("follow-one-heron"), url="https://example.org/py/f1")
        wait_for(lambda: self.stored(first["id"]), what="the first article stored")
        got = []
        errors = []
        nw = Client(query=QUERY, fetch=FETCH, timeout=5)

        def reader():
            try:
                for art in nw.follow("lang.en", since=0):
                    got.append(art)
            except Exception as e:  # reported by the assertions below
                errors.append(e)

        threading.Thread(target=reader, daemon=True).start()
        wait_for(lambda: any(a["id"] == first["id"] for a in got), what="the backfill")
        seqs = [a["seq"] for a in got]
        self.assertEqual(seqs, sorted(seqs))
        if RUN and os.path.exists(os.path.join(RUN, "query.pid")):
            # Kill newswire-query; `up` restarts it and follow() reconnects with Last-Event-ID.
            pid = read_pid(RUN)
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: _pid_changed(RUN, pid), what="query restarted by up")
        second = self.nw.ingest_text(story("follow-two-heron"), url="https://example.org/py/f2")
        wait_for(lambda: any(a["id"] == second["id"] for a in got), timeout=90,
                 what="the article stored after the restart")
        ids = [(a["id"], a["seq"]) for a in got]
        self.assertEqual(len(ids), len(set(ids)), f"a duplicate after resuming: {ids}")
        self.assertEqual(errors, [])

    def test_subscribe_over_zeromq(self):
        try:
            import msgpack  # noqa: F401
            import zmq  # noqa: F401
        except ImportError:
            self.skipTest("pyzmq or msgpack not installed")
        self.assertEqual(newswire.hub_endpoint("tcp://127.0.0.1:5550"), "tcp://127.0.0.1:5557")
        got = []

        def reader():
            for topic, art in self.nw.subscribe("place.no"):
                got.append((topic, art))

        threading.Thread(target=reader, daemon=True).start()
        # A subscription takes a moment to reach the hub: send until one arrives.
        for i in range(60):
            a = self.nw.ingest_text(story(f"sub-{i}-gannet", "Bergen, Norway"),
                                    url=f"https://example.org/py/sub{i}")
            if wait_for_quiet(lambda: got, 1.0):
                break
        self.assertTrue(got, "nothing arrived on place.no")
        topic, art = got[0]
        self.assertTrue(topic.startswith("place.no"), topic)
        self.assertIn("Bergen", art.get("dateline", ""))
        self.assertIn("sub-", art["text"])
        self.assertIn(topic, art.get("topics", [topic]))
        del a


def wait_for_quiet(pred, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def _pid_changed(run, old):
    try:
        new = read_pid(run)
    except (OSError, ValueError):
        return False
    return new != old


class Busy(unittest.TestCase):
    """Retry on 503 honouring Retry-After, against a local server that is busy twice."""

    def test_retry_after(self):
        calls = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                calls.append((time.monotonic(), self.headers.get("Authorization")))
                if len(calls) <= 2:
                    body = b'{"error":"busy","message":"queue full"}'
                    self.send_response(503)
                    self.send_header("Retry-After", "0.3")
                else:
                    body = b'{"id":"abc","status":"accepted"}'
                    self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            nw = Client(fetch=f"http://127.0.0.1:{srv.server_port}", token="tok-1", retries=5)
            self.assertEqual(nw.ingest_text("x")["id"], "abc")
            self.assertEqual(len(calls), 3)
            self.assertGreaterEqual(calls[1][0] - calls[0][0], 0.28)  # Retry-After honoured
            self.assertEqual(calls[0][1], "Bearer tok-1")
            calls.clear()
            nw.retries = 1
            with self.assertRaises(NewswireError) as cm:
                nw.ingest_text("x")
            self.assertEqual((cm.exception.status, cm.exception.code), (503, "busy"))
            self.assertEqual(len(calls), 2)
        finally:
            srv.shutdown()
            srv.server_close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
