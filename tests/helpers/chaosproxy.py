#!/usr/bin/env python3
"""chaosproxy.py: an HTTP proxy for absolute-form requests that stores and
forwards whole messages, and breaks some of them at random, for culvert's
tests of the HTTP tunnel (--tunnel-transport http).

Usage:
    chaosproxy.py [--host ADDR] [--port N] [--port-file FILE] [--log FILE]
                  [--faults RATE] [--seed N] [--kinds LIST] [--hold S]
                  [--refuse-chunked]

Each request ("GET http://host:port/path HTTP/1.1") is read whole, head
and body (by its Content-Length), before anything goes on; it is then
sent on a new connection to host:port in origin form with
"Connection: close", the whole response is read (Content-Length, chunked
or up to the close) and only then sent back, re-framed with a
Content-Length, on the client's connection, which stays open for the
next request.  So every body is held back until it is complete, as a
buffering proxy (or a virus scanner) does.  --hold S: wait S seconds more
before passing each response on.  CONNECT is refused with 403.
--refuse-chunked: a request with a chunked body is answered 411 at once,
unread, and the connection closes (logged with FAULT "refused-chunked"),
as a proxy that wants every body's length does.

--faults RATE (0 to 1, default 0): that share of requests meets one of
the --kinds (default all, comma-separated), chosen at random (--seed):
    drop-request       the client's connection closes, nothing forwarded
    reset-request      the same with an RST
    drop-response      forwarded and answered, but the client's connection
                       closes instead of the answer (the server acted)
    reset-response     the same with an RST
    truncate-response  half the answer, then close
    delay              forwarded after 0.2 to 1 s, answered after as much

--log FILE (created empty at start): one line per request,
"METHOD PATH STATUS FAULT" (FAULT "-" for none; STATUS "-" when none came),
and "CONNECT TARGET 403 -" for refused tunnels.  Standard library only.
"""

import argparse
import random
import socket
import struct
import sys
import threading
import time

from helperlib import add_listen_args, close_quietly, run_main, serve

HEAD_MAX = 65536
KINDS = ("drop-request", "reset-request", "drop-response", "reset-response",
         "truncate-response", "delay")
HOP = (b"connection", b"keep-alive", b"proxy-connection",
       b"proxy-authorization", b"transfer-encoding", b"content-length", b"te",
       b"upgrade")


class Reader:
    """Buffered reads from a socket: heads, exact lengths, lines."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > HEAD_MAX:
                raise ValueError("head too long")
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def rest(self):
        try:
            while True:
                self.fill()
        except EOFError:
            pass
        data, self.buf = self.buf, b""
        return data


def fields(head):
    """(first line, [(name, value)]) of a message head."""
    lines = head.split(b"\r\n")
    out = []
    for ln in lines[1:]:
        name, _, value = ln.partition(b":")
        out.append((name.strip(), value.strip()))
    return lines[0], out


def field(flds, name):
    for n, v in flds:
        if n.lower() == name:
            return v
    return None


def read_body(r, flds, to_close):
    te = field(flds, b"transfer-encoding")
    if te is not None and te.lower().endswith(b"chunked"):
        body = b""
        while True:
            size = int(r.line().split(b";")[0], 16)
            if size == 0:
                while r.line():
                    pass
                return body
            body += r.exact(size)
            r.line()
    cl = field(flds, b"content-length")
    if cl is not None:
        return r.exact(int(cl))
    return r.rest() if to_close else b""


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    close_quietly(sock)


class Chaos:
    def __init__(self, opts):
        self.opts = opts
        self.rng = random.Random(opts.seed)
        self.lock = threading.Lock()
        self.kinds = opts.kinds.split(",") if opts.kinds else list(KINDS)
        for k in self.kinds:
            if k not in KINDS:
                raise SystemExit("chaosproxy: unknown fault kind %s" % k)
        if opts.log:
            open(opts.log, "w").close()

    def log(self, line):
        if self.opts.log:
            with self.lock, open(self.opts.log, "a") as f:
                f.write(line + "\n")

    def pick(self):
        with self.lock:
            if self.rng.random() >= self.opts.faults:
                return None, 0.0
            return self.rng.choice(self.kinds), self.rng.uniform(0.2, 1.0)

    def forward(self, host, port, method, path, flds, body):
        """Send the request on, return (status line, fields, body)."""
        far = socket.create_connection((host, port), timeout=120)
        try:
            out = [b"%s %s HTTP/1.1" % (method, path)]
            out += [n + b": " + v for n, v in flds if n.lower() not in HOP]
            out += [b"Content-Length: %d" % len(body), b"Connection: close"]
            far.sendall(b"\r\n".join(out) + b"\r\n\r\n" + body)
            r = Reader(far)
            while True:
                status, rflds = fields(r.head())
                code = int(status.split()[1])
                if code >= 200:
                    break
            if method == b"HEAD" or code in (204, 304):
                rbody = b""
            else:
                rbody = read_body(r, rflds, True)
            return status, rflds, rbody
        finally:
            close_quietly(far)

    def handle(self, client, _index):
        r = Reader(client)
        try:
            while True:
                try:
                    head = r.head()
                except (EOFError, OSError, ValueError):
                    break
                line, flds = fields(head)
                try:
                    method, target, _ = line.split(b" ", 2)
                except ValueError:
                    break
                if method == b"CONNECT":
                    self.log("CONNECT %s 403 -" % target.decode("latin-1"))
                    client.sendall(b"HTTP/1.1 403 Forbidden\r\n"
                                   b"Content-Length: 0\r\n"
                                   b"Connection: close\r\n\r\n")
                    break
                te = field(flds, b"transfer-encoding")
                if self.opts.refuse_chunked and te is not None and \
                        te.lower().endswith(b"chunked"):
                    path = target.partition(b"//")[2].partition(b"/")
                    self.log("%s /%s 411 refused-chunked" % (
                        method.decode(), path[2].decode("latin-1")))
                    client.sendall(b"HTTP/1.1 411 Length Required\r\n"
                                   b"Content-Length: 0\r\n"
                                   b"Connection: close\r\n\r\n")
                    break
                body = read_body(r, flds, False)
                if not target.lower().startswith(b"http://"):
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\n"
                                   b"Content-Length: 0\r\n"
                                   b"Connection: close\r\n\r\n")
                    break
                rest = target[7:]
                hostport, slash, path = rest.partition(b"/")
                path = slash + path
                host, _, port = hostport.rpartition(b":")
                kind, delay = self.pick()
                what = "%s %s" % (method.decode(), path.decode("latin-1"))
                if kind in ("drop-request", "reset-request"):
                    self.log("%s - %s" % (what, kind))
                    if kind == "reset-request":
                        reset(client)
                    else:
                        close_quietly(client)
                    return
                if kind == "delay":
                    time.sleep(delay)
                try:
                    status, rflds, rbody = self.forward(
                        host.strip(b"[]").decode(), int(port or 80), method,
                        path, flds, body)
                except (OSError, EOFError, ValueError):
                    self.log("%s - upstream-failed" % what)
                    client.sendall(b"HTTP/1.1 502 Bad Gateway\r\n"
                                   b"Content-Length: 0\r\n"
                                   b"Connection: close\r\n\r\n")
                    break
                code = status.split()[1].decode()
                self.log("%s %s %s" % (what, code, kind or "-"))
                if kind in ("drop-response", "reset-response"):
                    if kind == "reset-response":
                        reset(client)
                    else:
                        close_quietly(client)
                    return
                if kind == "delay":
                    time.sleep(delay)
                if self.opts.hold:
                    time.sleep(self.opts.hold)
                out = [status]
                out += [n + b": " + v for n, v in rflds
                        if n.lower() not in HOP]
                out.append(b"Content-Length: %d" % len(rbody))
                close = (field(flds, b"connection") or b"").lower() == \
                    b"close"
                if close:
                    out.append(b"Connection: close")
                msg = b"\r\n".join(out) + b"\r\n\r\n" + rbody
                if kind == "truncate-response":
                    client.sendall(msg[:len(msg) // 2])
                    close_quietly(client)
                    return
                client.sendall(msg)
                if close:
                    break
        except OSError:
            pass
        close_quietly(client)


def main():
    ap = argparse.ArgumentParser()
    add_listen_args(ap)
    ap.add_argument("--log")
    ap.add_argument("--faults", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds")
    ap.add_argument("--hold", type=float, default=0.0)
    ap.add_argument("--refuse-chunked", action="store_true")
    opts = ap.parse_args()
    chaos = Chaos(opts)
    serve(opts, chaos.handle)


if __name__ == "__main__":
    run_main(main)
