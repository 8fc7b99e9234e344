#!/usr/bin/env python3
"""subscribe.py [TOPIC...]: the topic hub over ZeroMQ, with pyzmq and msgpack only."""
import sys

import msgpack
import zmq

sub = zmq.Context().socket(zmq.SUB)
sub.connect("tcp://127.0.0.1:5557")  # the hub: the broker's base port + 7
for topic in sys.argv[1:] or ["all"]:
    sub.setsockopt(zmq.SUBSCRIBE, topic.encode())  # prefix match: place.eg takes place.eg.cairo
while True:
    topic, body = sub.recv_multipart()  # frame 1 the topic, frame 2 the article (MessagePack)
    art = msgpack.unpackb(body)
    print(topic.decode(), art.get("dateline"), art.get("title"), flush=True)
