"""hostile.py: hostile HTTP clients against a running newswire service, over raw sockets.

Used by tests/integration/test_http_hostile.sh (small numbers, verdicts) and
bench/http_hostile.sh (larger numbers, figures). Each attack prints one JSON object.

    python3 hostile.py ATTACK HOST PORT [key=value...]

Client addresses: Linux accepts any 127.0.0.0/8 source on loopback, so "other clients" bind
127.0.0.2 and up while the attacker uses 127.0.0.1.
"""
import json
import os
import select
import socket
import sys
import time


def conn(host, port, src=None, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if src:
        s.bind((src, 0))
    s.settimeout(5)
    s.connect((host, port))
    return s


def closed(s):
    """True when the peer closed (EOF or reset); reads and drops whatever arrived."""
    try:
        p = select.poll()  # select() stops at descriptor 1024
        p.register(s, select.POLLIN)
        if not p.poll(0):
            return False
        s.setblocking(False)
        while True:
            if s.recv(65536) == b"":
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False
    finally:
        s.setblocking(True)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def get(host, port, path, src="127.0.0.2", timeout=5, headers=""):
    t0 = time.monotonic()
    s = conn(host, port, src)
    s.settimeout(timeout)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode())
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, time.monotonic() - t0


def read_until_close(s, limit):
    data = b""
    deadline = time.monotonic() + limit
    s.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            b = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not b:
            return data, True
        data += b
    return data, False


def slowloris(host, port, n=20, interval=0.3, limit=30, **_):
    """n connections sending one byte of a never-ending head every interval seconds."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-a: b\r\n" * 100000
    socks = [conn(host, port, f"127.0.0.{1 + i % 200}") for i in range(n)]
    t0 = time.monotonic()
    pos, alive, last_close = 0, set(range(n)), 0.0
    while alive and time.monotonic() - t0 < limit:
        for i in list(alive):
            try:
                socks[i].send(head[pos : pos + 1])
            except OSError:
                alive.discard(i)
                last_close = time.monotonic() - t0
                continue
            if closed(socks[i]):
                alive.discard(i)
                last_close = time.monotonic() - t0
        pos += 1
        time.sleep(interval)
    healthz, took = get(host, port, "/healthz", src="127.0.0.250")
    for s in socks:
        s.close()
    return {"attack": "slowloris", "connections": n, "bytes_sent_each": pos,
            "still_open": len(alive), "all_closed_after_s": round(last_close, 2) if not alive else None,
            "healthz_status": healthz, "healthz_s": round(took, 3)}


def idle(host, port, n=200, limit=30, **_):
    """n idle connections from one address: how many the server keeps, and for how long."""
    socks = []
    refused = 0
    for _ in range(n):
        try:
            socks.append(conn(host, port, "127.0.0.1"))
        except OSError:
            refused += 1
    time.sleep(1.0)
    held = [s for s in socks if not closed(s)]
    held_after_1s = len(held)
    healthz, took = get(host, port, "/healthz", src="127.0.0.3")
    t0 = time.monotonic()
    while held and time.monotonic() - t0 < limit:
        held = [s for s in held if not closed(s)]
        time.sleep(0.1)
    for s in socks:
        s.close()
    return {"attack": "idle", "opened": n, "refused_at_connect": refused,
            "held_after_1s": held_after_1s, "still_held": len(held),
            "all_closed_after_s": round(1.0 + time.monotonic() - t0, 2) if not held else None,
            "other_client_healthz": healthz, "other_client_s": round(took, 3)}


def uploads(host, port, pid, n=20, declared=15 << 20, sent=4 << 20, path="/v1/articles",
            hold=2.0, **_):
    """n uploads from n addresses declaring `declared` bytes, sending `sent`, then held."""
    n, declared, sent, pid = int(n), int(declared), int(sent), int(pid)
    before = rss_kb(pid)
    socks, statuses = [], {}
    chunk = b"x" * 65536
    for i in range(n):
        s = conn(host, port, f"127.0.1.{1 + i % 250}")
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                  f"Content-Length: {declared}\r\n\r\n".encode())
        s.settimeout(0.05)
        left = sent
        try:
            while left > 0:
                left -= s.send(chunk[: min(left, len(chunk))])
        except (socket.timeout, OSError):
            pass  # the server stopped reading: refused
        socks.append(s)
    time.sleep(hold)
    peak = rss_kb(pid)
    for s in socks:
        data, _ = read_until_close(s, 0.3)
        st = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
        statuses[st] = statuses.get(st, 0) + 1
        s.close()
    return {"attack": "uploads", "connections": n, "declared": declared, "sent_each": sent,
            "rss_before_kb": before, "rss_held_kb": peak, "rss_growth_mb": round((peak - before) / 1024, 1),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


def early(host, port, method="POST", path="/nope", declared=10 << 20, headers="", **_):
    """A head declaring a big body that never comes: the answer must not wait for the body."""
    s = conn(host, port, "127.0.0.4")
    t0 = time.monotonic()
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n{headers}"
              f"Content-Length: {declared}\r\n\r\n".encode())
    data, was_closed = read_until_close(s, 5)
    s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return {"attack": "early", "method": method, "path": path, "status": status,
            "answered_s": round(time.monotonic() - t0, 3), "closed": was_closed}


def smuggle(host, port, kind="two-cl", path="/v1/articles", headers="", **_):
    """Framing a proxy may read differently: the surplus must never become a second request."""
    inner = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    if kind == "two-cl":
        body = b"hello" + inner
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n{headers}"
                f"Content-Length: 5\r\nContent-Length: {len(body)}\r\n\r\n")
    else:
        body = b"5\r\nhello\r\n0\r\n\r\n" + inner
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n{headers}"
                f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n\r\n")
    s = conn(host, port, "127.0.0.5")
    s.sendall(head.encode() + body)
    data, was_closed = read_until_close(s, 5)
    s.close()
    statuses = [int(line.split(b" ", 2)[1]) for line in data.split(b"\r\n")
                if line.startswith(b"HTTP/1.")]
    return {"attack": "smuggle", "kind": kind, "statuses": statuses, "closed": was_closed}


def stream_readers(host, port, n=5, path="/v1/stream?since=0", hold=0, **_):
    """n stream clients with tiny receive buffers that never read; they stay open for hold s."""
    socks = []
    for i in range(int(n)):
        s = conn(host, port, f"127.0.2.{1 + i}", rcvbuf=4096)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        socks.append(s)
    time.sleep(float(hold))
    gone = sum(1 for s in socks if closed(s))
    return {"attack": "stream", "clients": int(n), "closed_by_server": gone}


ATTACKS = {f.__name__: f for f in (slowloris, idle, uploads, early, smuggle, stream_readers)}

if __name__ == "__main__":
    attack, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    kw = dict(a.split("=", 1) for a in sys.argv[4:])
    for k in ("n", "declared", "sent"):
        if k in kw:
            kw[k] = int(kw[k])
    for k in ("interval", "limit", "hold"):
        if k in kw:
            kw[k] = float(kw[k])
    if "headers" in kw:
        kw["headers"] = kw["headers"].replace("\\r\\n", "\r\n")
    print(json.dumps(ATTACKS[attack](host, port, **kw)))
    sys.stdout.flush()
    os._exit(0)
