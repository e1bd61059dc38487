#!/usr/bin/env python3
"""cutter.py: a TCP forwarder that cuts its connections on command or
when they are idle, for culvert's tests of resumable sessions.

Usage:
    cutter.py --to HOST:PORT [--host ADDR] [--port N] [--port-file FILE]
              [--control-port-file FILE] [--idle-cut S] [--tap DIR]
              [--rate BYTES]

Every connection accepted is joined to a new connection to HOST:PORT and
bytes are copied both ways; EOF from one side is passed on as
shutdown(SHUT_WR) and the pair ends when both ways are done.

Control port (127.0.0.1, chosen by the kernel, its number written to
--control-port-file): one line in, one line out, then close.
    CUT     reset (RST) both sockets of every open pair; answers "CUT N",
            N the pairs cut, after they are closed
    FREEZE  stop moving bytes on every open pair, both ways, and keep
            them open: a path that went silent ("FREEZE N"); pairs
            accepted later work
    STATS   "STATS conns N open N cut N idlecut N"
            (conns: pairs accepted so far; cut: pairs reset by CUT)

--idle-cut S: a pair with no byte either way for S seconds is closed
(FIN both ways, as proxies end idle tunnels); counted in idlecut.
--tap DIR: the first 64 KiB each way of pair N go to DIR/N.up (from the
client) and DIR/N.down, byte for byte, so a test can read a request or
an answer (a session id) and send a request again.
--rate N: at most N bytes a second each way of each pair, so that a
transfer lasts long enough to be cut in the middle.

One thread and poll(): a CUT acts on every pair at once.  Standard
library only.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

from helperlib import write_port_file

BUF_MAX = 256 * 1024
TAP_MAX = 64 * 1024


class Way:
    """One direction of a pair: bytes read from src, waiting for dst."""

    def __init__(self, rate):
        self.buf = bytearray()
        self.eof = False        # src is done
        self.shut = False       # dst was shut down
        self.rate = rate
        self.credit = float(rate) if rate else 0.0
        self.tap = None
        self.tapped = 0

    def room(self):
        if self.eof or len(self.buf) >= BUF_MAX:
            return 0
        if self.rate:
            return max(0, min(65536, int(self.credit)))
        return 65536


class Pair:
    def __init__(self, index, client, far, opts, now):
        self.index = index
        self.client = client
        self.far = far
        self.up = Way(opts.rate)     # client -> far
        self.down = Way(opts.rate)   # far -> client
        self.last = now
        self.frozen = False
        if opts.tap:
            self.up.tap = open(os.path.join(opts.tap, "%d.up" % index), "wb")
            self.down.tap = open(os.path.join(opts.tap, "%d.down" % index),
                                 "wb")

    def ways(self):
        """(source socket, destination socket, way) both ways."""
        return ((self.client, self.far, self.up),
                (self.far, self.client, self.down))

    def done(self):
        return all(w.eof and not w.buf for w in (self.up, self.down))

    def close(self, reset=False):
        for s in (self.client, self.far):
            try:
                if reset:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                s.close()
            except OSError:
                pass
        for w in (self.up, self.down):
            if w.tap is not None:
                w.tap.close()
                w.tap = None


class Cutter:
    def __init__(self, opts):
        self.opts = opts
        host, _, port = opts.to.rpartition(":")
        self.to = (host.strip("[]"), int(port))
        family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
        self.lsock = socket.socket(family, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((opts.host, opts.port))
        self.lsock.listen(128)
        self.csock = socket.socket()
        self.csock.bind(("127.0.0.1", 0))
        self.csock.listen(16)
        self.pairs = []
        self.conns = self.cut = self.idlecut = 0

    def accept(self, now):
        client, _ = self.lsock.accept()
        self.conns += 1
        try:
            far = socket.create_connection(self.to, timeout=5)
        except OSError:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack("ii", 1, 0))
            client.close()
            return
        for s in (client, far):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pairs.append(Pair(self.conns, client, far, self.opts, now))

    def control(self):
        conn, _ = self.csock.accept()
        conn.settimeout(5)
        line = b""
        try:
            while not line.endswith(b"\n"):
                chunk = conn.recv(256)
                if not chunk:
                    break
                line += chunk
            cmd = line.decode("ascii", "replace").strip().upper()
            if cmd == "CUT":
                n = len(self.pairs)
                for p in self.pairs:
                    p.close(reset=True)
                self.pairs = []
                self.cut += n
                answer = "CUT %d" % n
            elif cmd == "FREEZE":
                for p in self.pairs:
                    p.frozen = True
                answer = "FREEZE %d" % len(self.pairs)
            elif cmd == "STATS":
                answer = "STATS conns %d open %d cut %d idlecut %d" % (
                    self.conns, len(self.pairs), self.cut, self.idlecut)
            else:
                answer = "ERR unknown command"
            conn.sendall(answer.encode() + b"\n")
        except OSError:
            pass
        conn.close()

    def move(self, p, src, dst, way, readable, writable, now):
        """Read from src when it is ready, write to dst what waits."""
        if readable and way.room() > 0:
            try:
                data = src.recv(way.room())
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data is not None:
                if data:
                    way.buf += data
                    p.last = now
                    if way.rate:
                        way.credit -= len(data)
                    if way.tap is not None and way.tapped < TAP_MAX:
                        part = data[:TAP_MAX - way.tapped]
                        way.tap.write(part)
                        way.tap.flush()
                        way.tapped += len(part)
                else:
                    way.eof = True
        if writable and way.buf:
            try:
                n = dst.send(way.buf)
                del way.buf[:n]
                p.last = now
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                way.buf.clear()
                way.eof = True
        if way.eof and not way.buf and not way.shut:
            way.shut = True
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def run(self):
        last_tick = time.monotonic()
        while True:
            now = time.monotonic()
            if self.opts.rate:
                dt = now - last_tick
                for p in self.pairs:
                    for w in (p.up, p.down):
                        w.credit = min(float(self.opts.rate) * 0.1,
                                       w.credit + dt * self.opts.rate)
            last_tick = now
            poller = select.poll()
            poller.register(self.lsock, select.POLLIN)
            poller.register(self.csock, select.POLLIN)
            interest = {}
            for p in self.pairs:
                if p.frozen:
                    continue
                for src, dst, way in p.ways():
                    if way.room() > 0:
                        interest[src.fileno()] = interest.get(
                            src.fileno(), 0) | select.POLLIN
                    if way.buf:
                        interest[dst.fileno()] = interest.get(
                            dst.fileno(), 0) | select.POLLOUT
            for fd, ev in interest.items():
                poller.register(fd, ev)
            timeout = 1000
            if self.opts.rate:
                timeout = 10
            if self.opts.idle_cut:
                timeout = min(timeout, 100)
            ready = dict(poller.poll(timeout))
            now = time.monotonic()
            if ready.get(self.csock.fileno()):
                self.control()
            if ready.get(self.lsock.fileno()):
                self.accept(now)
            keep = []
            for p in self.pairs:
                if p.frozen:
                    keep.append(p)
                    continue
                for src, dst, way in p.ways():
                    rev = ready.get(src.fileno(), 0)
                    wev = ready.get(dst.fileno(), 0)
                    self.move(p, src, dst, way,
                              rev & (select.POLLIN | select.POLLHUP |
                                     select.POLLERR),
                              wev & (select.POLLOUT | select.POLLERR), now)
                if p.done():
                    p.close()
                elif (self.opts.idle_cut and
                      now - p.last >= self.opts.idle_cut):
                    p.close()
                    self.idlecut += 1
                else:
                    keep.append(p)
            self.pairs = keep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--control-port-file")
    ap.add_argument("--idle-cut", type=float, default=0)
    ap.add_argument("--tap")
    ap.add_argument("--rate", type=int, default=0)
    opts = ap.parse_args()
    c = Cutter(opts)
    if opts.control_port_file:
        write_port_file(opts.control_port_file, c.csock.getsockname()[1])
    if opts.port_file:
        write_port_file(opts.port_file, c.lsock.getsockname()[1])
    c.run()


if __name__ == "__main__":
    sys.exit(main())
