"""newswire: a Python client for a running newswire system.

HTTP and Server-Sent Events use the standard library only (urllib); subscribe() over ZeroMQ
needs pyzmq and msgpack (``pip install 'clients/python[zmq]'``).

    from newswire import Client
    nw = Client(query="http://127.0.0.1:8081", fetch="http://127.0.0.1:8080", token=None)

Writes go to newswire-fetch (POST /v1/articles, /v1/urls), reads to newswire-query
(/v1/articles, /v1/search, /v1/facets, /v1/stream). Both take a bearer token when the server
has a token file (README "Security"); NEWSWIRE_TOKEN is the default. Busy answers (429, 503)
are retried after their Retry-After, so a bulk ingest slows down instead of failing.
"""

import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["Client", "NewswireError", "__version__"]
__version__ = "0.1.0"

_TYPES = {
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
    ".xml": "application/xml",
}


class NewswireError(Exception):
    """An error answer: HTTP status, the server's code ("invalid-utf8", "busy"...) and message."""

    def __init__(self, status, code, message, retry_after=None):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def _params(params):
    """Query string from a dict; None and "" are left out, lists repeat the key."""
    pairs = []
    for k, v in params.items():
        if v is None or v == "":
            continue
        for one in v if isinstance(v, (list, tuple)) else [v]:
            pairs.append((k, str(one)))
    return urllib.parse.urlencode(pairs)


class Client:
    """A newswire system: its fetch API (writes), query API (reads) and topic hub (ZeroMQ).

    query, fetch: base URLs of newswire-query and newswire-fetch.
    broker: the broker's base endpoint; the topic hub is its port + 7.
    token: bearer token (default $NEWSWIRE_TOKEN), sent to both APIs.
    retries: how often one request answered 429/503 is retried (after Retry-After).
    """

    def __init__(self, query="http://127.0.0.1:8081", fetch="http://127.0.0.1:8080",
                 broker="tcp://127.0.0.1:5550", token=None, timeout=30.0, retries=60):
        self.query = query.rstrip("/")
        self.fetch = fetch.rstrip("/")
        self.broker = broker
        self.token = token if token is not None else os.environ.get("NEWSWIRE_TOKEN") or None
        self.timeout = timeout
        self.retries = retries

    # ---- HTTP ----

    def _headers(self, extra=None):
        h = {"Accept": "application/json", "User-Agent": f"newswire-python/{__version__}"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra or {})
        return h

    def _request(self, method, url, body=None, headers=None):
        """One request with retries on 429/503; the decoded JSON answer, or NewswireError."""
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(url, data=body, method=method,
                                         headers=self._headers(headers))
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    return json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                raw = e.read()
                try:
                    j = json.loads(raw)
                    code, message = j.get("error", ""), j.get("message", "")
                except (ValueError, AttributeError):
                    code, message = "", raw.decode("utf-8", "replace")[:200]
                retry_after = e.headers.get("Retry-After")
                err = NewswireError(e.code, code, message, retry_after)
                if e.code not in (429, 503) or attempt == self.retries:
                    raise err from None
                time.sleep(_retry_delay(retry_after))
        raise AssertionError("unreachable")

    def _get(self, path, **params):
        q = _params(params)
        return self._request("GET", f"{self.query}{path}{'?' + q if q else ''}")

    # ---- ingest (newswire-fetch) ----

    def ingest_bytes(self, data, content_type, url=None):
        """Send one document's bytes; returns {"id": ..., "status": "accepted"}."""
        q = f"?{_params({'url': url})}" if url else ""
        return self._request("POST", f"{self.fetch}/v1/articles{q}", data,
                             {"Content-Type": content_type})

    def ingest_text(self, text, url=None, content_type="text/plain; charset=utf-8"):
        """Send text (wire copy, HTML, JSON: say which with content_type)."""
        return self.ingest_bytes(text.encode("utf-8"), content_type, url)

    def ingest_file(self, path, url=None, content_type=None):
        """Send a file; its type is guessed from the extension unless given."""
        with open(path, "rb") as f:
            data = f.read()
        ctype = content_type or _TYPES.get(os.path.splitext(path)[1].lower(), "text/plain; charset=utf-8")
        return self.ingest_bytes(data, ctype, url)

    def ingest_url(self, url):
        """Have fetch fetch a web page (POST /v1/urls)."""
        return self._request("POST", f"{self.fetch}/v1/urls", json.dumps({"url": url}).encode(),
                             {"Content-Type": "application/json"})

    def ingest_many(self, items):
        """Ingest files, directories (every visible regular file under them, sorted) and http(s)
        URLs. Yields (item, answer, error) per document: the answer dict when accepted, else
        None and the NewswireError (or OSError). Busy answers are retried, never yielded."""
        for item in items:
            if isinstance(item, str) and item.startswith(("http://", "https://")) and not os.path.exists(item):
                paths = [(item, True)]
            elif os.path.isdir(item):
                paths = [(p, False) for p in _walk(item)]
            else:
                paths = [(item, False)]
            for p, is_url in paths:
                try:
                    yield p, (self.ingest_url(p) if is_url else self.ingest_file(p)), None
                except (NewswireError, OSError) as e:
                    yield p, None, e

    # ---- queries (newswire-query) ----

    def get(self, article_id):
        """The stored article (the enriched document as JSON)."""
        return self._get(f"/v1/articles/{urllib.parse.quote(article_id, safe='')}")

    def articles(self, topic=None, since=None, limit=None, **filters):
        """One page of stored articles: {"articles": [...], "next": ...}. topic may be a list
        (any matches, by prefix); filters (from_=, to=, lang=, person=, cursor=...) go to the
        server as they are ("from" is a keyword in Python: pass from_)."""
        return self._get("/v1/articles", topic=_topics(topic), since=since, limit=limit,
                         **_filters(filters))

    def iter_articles(self, topic=None, since=None, limit=None, **filters):
        """Every stored article matching, page after page, up to limit. Pages on with "cursor"
        where the server pages by cursor (its answers carry "total" or "has_more"), else with
        since=<next> until "next" stops moving (an empty page that moved on only means the
        server's scan bound was reached)."""
        n = 0
        params = dict(filters)
        while True:
            page = self.articles(topic=topic, since=since, **params)
            for a in page.get("articles", []):
                yield a
                n += 1
                if limit and n >= limit:
                    return
            nxt = page.get("next")
            if nxt in (None, ""):
                return
            if "total" in page or "has_more" in page:
                if page.get("has_more") is False or not page.get("articles"):
                    return
                params["cursor"] = nxt
            else:
                if str(nxt) == str(since):
                    return
                since = nxt

    def search(self, q, limit=None, **filters):
        """Full-text search: {"hits": [{"id", "title", "snippet", "rank", ...}]}."""
        return self._get("/v1/search", q=q, limit=limit, **_filters(filters))

    def facets(self, by, **filters):
        """Counts by person, org, country, place, theme, lang or story (/v1/facets; a newer
        newswire-query). Filters and bucket=, top=, trending= as for articles(). The facet is
        sent as facet=, and as by= when the server refuses that name."""
        try:
            return self._get("/v1/facets", facet=by, **_filters(filters))
        except NewswireError as e:
            if e.status != 400 or "facet" not in (e.message + e.code):
                raise
            return self._get("/v1/facets", by=by, **_filters(filters))

    # ---- live ----

    def follow(self, topic="all", since="now", last_event_id=None, reconnect=True):
        """Yield every article on topic (a prefix, or a list of them) over Server-Sent Events:
        the stored ones after since (a seq, "now", "10m"/"2h"/"7d" ago, an ISO 8601 time), then
        live. On a dropped connection it reconnects with Last-Event-ID, so nothing is missed or
        repeated. Each article carries "seq"."""
        last = str(last_event_id) if last_event_id is not None else None
        delay = 1.0
        while True:
            q = _params({"topic": ",".join(_topics(topic) or ["all"]), "since": since})
            headers = self._headers({"Accept": "text/event-stream"})
            if last is not None:
                headers["Last-Event-ID"] = last
            req = urllib.request.Request(f"{self.query}/v1/stream?{q}", headers=headers)
            try:
                # The server writes a keep-alive every 15 s: a longer silence is a dead link.
                with urllib.request.urlopen(req, timeout=max(self.timeout, 45)) as r:
                    delay = 1.0
                    for event, data, eid in _sse(r):
                        if eid:
                            last = eid
                        if event == "article":
                            yield json.loads(data)
            except urllib.error.HTTPError as e:
                if e.code not in (429, 503) or not reconnect:
                    raise NewswireError(e.code, "", e.read().decode("utf-8", "replace")[:200]) from None
            except (urllib.error.URLError, socket.timeout, ConnectionError, OSError):
                if not reconnect:
                    raise
            if not reconnect:
                return
            time.sleep(delay)
            delay = min(delay * 2, 30.0)

    def subscribe(self, topics="all", broker=None):
        """Yield (topic, article) from the topic hub over ZeroMQ (the broker's port + 7),
        matching by prefix. Live only: what was published before is in follow(since=...).
        Needs pyzmq and msgpack."""
        import msgpack  # optional dependencies: imported only here
        import zmq

        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.LINGER, 0)
        for t in _topics(topics) or ["all"]:
            s.setsockopt(zmq.SUBSCRIBE, t.encode())
        s.connect(hub_endpoint(broker or self.broker))
        try:
            while True:
                frames = s.recv_multipart()
                if len(frames) == 2:
                    yield frames[0].decode("utf-8", "replace"), msgpack.unpackb(frames[1], raw=False)
        finally:
            s.close()


def hub_endpoint(broker):
    """The topic hub's endpoint for a broker base endpoint: tcp://host:PORT -> tcp://host:PORT+7."""
    head, _, port = broker.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"broker endpoint without a port: {broker!r}")
    return f"{head}:{int(port) + 7}"


def _retry_delay(value):
    try:
        return min(max(float(value), 0.05), 60.0)
    except (TypeError, ValueError):
        return 1.0


def _topics(t):
    if t is None:
        return None
    return [t] if isinstance(t, str) else list(t)


def _filters(f):
    out = {}
    for k, v in f.items():
        out["from" if k == "from_" else k] = v
    return out


def _walk(d):
    out = []
    for root, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        out.extend(os.path.join(root, f) for f in files if not f.startswith("."))
    return sorted(p for p in out if os.path.isfile(p))


def _sse(r):
    """(event, data, id) per event of a text/event-stream response (the WHATWG format)."""
    event, data, eid = "message", [], None
    for raw in r:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data), eid
            event, data, eid = "message", [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            eid = value
