#!/usr/bin/env python3
"""bus_peer.py: a peer on newswire's bus that does one thing, for the roles tests.

It is what a stolen or misplaced key would be used for: publish on the hub, push into a
stage queue, join a stage as a worker, subscribe to a topic. It speaks the wire of
include/newswire/stage.h (endpoints are the broker's base port +0..+7) with pyzmq, CURVE
with the given key, and prints one JSON line of what it saw, so the shell test decides.

  bus_peer.py --broker tcp://127.0.0.1:P --key K.key --server broker.pub \
      publish TOPIC JSON | push TYPE JSON | work STAGE | subscribe TOPIC   [--seconds S]

JSON is one MessagePack map to send, or a list of them sent in turn.
"""
import argparse
import json
import signal
import sys
import time

import msgpack
import zmq

ENDPOINTS = ["raw.in", "raw.out", "article.in", "article.out", "enriched.in", "enriched.out",
             "pub.in", "pub.out"]
TYPE_QUEUE = {"raw": "raw.in", "article": "article.in", "enriched": "enriched.in",
              "dead": "enriched.in"}


def endpoint(base, name):
    host, port = base.rsplit(":", 1)
    return "%s:%d" % (host, int(port) + ENDPOINTS.index(name))


def key_field(path, name):
    for line in open(path, encoding="ascii"):
        if line.startswith(name):
            return line.split("=", 1)[1].strip().encode()
    raise SystemExit("%s: no %s" % (path, name))


def socket(ctx, kind, args):
    s = ctx.socket(kind)
    s.linger = 0
    if args.key:
        s.curve_publickey = key_field(args.key, "public-key")
        s.curve_secretkey = key_field(args.key, "secret-key")
        s.curve_serverkey = key_field(args.server, "public-key")
    return s


def send(s, frames, out):
    """Never block: a refused peer has no pipe, and a DEALER or PUSH would wait forever."""
    try:
        s.send_multipart(frames, zmq.NOBLOCK)
        out["sent"] += 1
    except zmq.Again:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("--key")
    ap.add_argument("--server")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("action", choices=["publish", "push", "work", "subscribe"])
    ap.add_argument("what")
    ap.add_argument("payload", nargs="?", default="{}")
    args = ap.parse_args()
    ctx = zmq.Context()
    end = [time.monotonic() + args.seconds]
    # SIGTERM ends the run early, with the report (for listeners the test stops when done)
    signal.signal(signal.SIGTERM, lambda *_: end.__setitem__(0, 0))
    out = {"action": args.action, "sent": 0, "received": 0, "topics": []}
    payload = json.loads(args.payload)
    # a JSON list is several payloads, sent in turn (one fake ack per spool number)
    bodies = [msgpack.packb(p) for p in (payload if isinstance(payload, list) else [payload])]

    if args.action in ("publish", "push"):
        kind, name = (zmq.PUB, "pub.in") if args.action == "publish" else \
            (zmq.PUSH, TYPE_QUEUE[args.what])
        s = socket(ctx, kind, args)
        s.sndhwm = 100
        s.connect(endpoint(args.broker, name))
        # keep sending: a PUB drops until connected, and every attempt is a chance to get in
        while time.monotonic() < end[0]:
            send(s, [args.what.encode(), bodies[out["sent"] % len(bodies)]], out)
            time.sleep(0.05)
    elif args.action == "work":
        s = socket(ctx, zmq.DEALER, args)
        s.connect(endpoint(args.broker, args.what))
        send(s, [b"HELLO", b"100"], out)
        while time.monotonic() < end[0]:
            if s.poll(100):
                f = s.recv_multipart()
                if f[0] == b"JOB":
                    out["received"] += 1
                    send(s, [b"READY", b"1"], out)  # "done": what a thief would report
            else:
                send(s, [b"HB"], out)
    else:
        s = socket(ctx, zmq.SUB, args)
        s.subscribe(args.what.encode())
        s.connect(endpoint(args.broker, "pub.out"))
        while time.monotonic() < end[0]:
            if s.poll(100):
                f = s.recv_multipart()
                out["received"] += 1
                topic = f[0].decode("utf-8", "replace")
                if topic not in out["topics"]:
                    out["topics"].append(topic)
    s.close()
    ctx.term()
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
