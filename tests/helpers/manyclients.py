#!/usr/bin/env python3
"""manyclients.py: N clients at once, each downloading from a listener.

Usage:
    manyclients.py N HOST PORT SIZE [--hold SECONDS]

Opens N connections to HOST:PORT at the same time (one thread each),
reads SIZE bytes from each (a target.py "source SIZE" behind the
listener), and checks every download against the deterministic stream
(target.py gen SIZE) by SHA-256.  With --hold, every connection stays open
until all N are established and then SECONDS more.  Prints
"ok N" or one line per failure; exit status 0 only when all N matched.
"""

import argparse
import hashlib
import socket
import sys
import threading

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from target import stream_chunks  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("size", type=int)
    ap.add_argument("--hold", type=float, default=0)
    o = ap.parse_args()
    h = hashlib.sha256()
    for chunk in stream_chunks(o.size):
        h.update(chunk)
    want = h.hexdigest()
    errors = []
    barrier = threading.Barrier(o.n, timeout=60)
    lock = threading.Lock()

    def one(i):
        try:
            s = socket.create_connection((o.host, o.port), timeout=60)
            if o.hold:
                barrier.wait()
            h = hashlib.sha256()
            got = 0
            while got < o.size:
                chunk = s.recv(65536)
                if not chunk:
                    break
                h.update(chunk)
                got += len(chunk)
            if o.hold:
                threading.Event().wait(o.hold)
            s.close()
            if got != o.size or h.hexdigest() != want:
                raise ValueError("got %d bytes, sha %s" % (got,
                                                          h.hexdigest()))
        except Exception as e:  # noqa: BLE001 - report every failure
            with lock:
                errors.append("client %d: %s" % (i, e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(o.n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        print(e)
    if not errors:
        print("ok %d" % o.n)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
