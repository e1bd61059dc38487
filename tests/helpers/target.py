#!/usr/bin/env python3
"""target.py: the far end of a tunnel, for culvert's tests and benchmarks.

Usage:
    target.py [--host ADDR]... [--port N] [--port-file FILE] [--log FILE]
              MODE [ARGS...]

--log FILE: the sink also appends its "SHA256HEX COUNT" line to FILE.

Listens on ADDR (default 127.0.0.1; use ::1 for IPv6) port N (default 0:
the kernel picks), writes the port number to FILE once it is listening
(written to FILE.tmp and renamed, so a reader never sees half a number),
and serves every connection in its own thread until it is killed.  With
--host given more than once it listens on each address, all on one port
(--host 127.0.0.1 --host ::1: a target that a name such as localhost
reaches whichever loopback address the name resolves to first).

Modes:
    echo                send back everything received; close after EOF.
    sink [EXPECT]       read to EOF (or until EXPECT bytes arrived), then
                        send "SHA256HEX COUNT\\n" of what was read, close.
    source N            send N bytes of the deterministic stream, close.
    gen N               no server: write the same N bytes to stdout, so a
                        test can compare (target.py gen N | sha256sum).
    late N DELAY_MS     wait up to DELAY_MS for the first bytes of a
                        request (or EOF), then wait DELAY_MS more, then
                        send N bytes of the stream and close.  The reply is
                        sent even if the client half-closed right after
                        its request.
    http N              read one HTTP request head, answer 200 with a
                        Content-Length of N and N bytes of the stream.
    hold                accept, read and discard, never send, never close
                        (a silent far side).
    stall               accept, never read, never send, never close (a
                        far side whose buffers fill).
    duplex N [EXPECT]   at the same time read to EOF (or until EXPECT
                        bytes arrived) and send N bytes of the stream; when
                        both are done send "SHA256HEX COUNT\\n" of what was
                        read, close.  The client receives N stream bytes
                        followed by that line, so one run checks both
                        directions.  Without EXPECT the client must make
                        the target see EOF (culvert -N through a proxy that
                        keeps half-closed tunnels open); with EXPECT it
                        also works through squid and tinyproxy.

N, EXPECT and DELAY_MS accept suffixes K, M, G (powers of 1024) for N and
EXPECT, e.g. "64M".

The deterministic stream is a 65521-byte pseudo-random block (SHA-256 in
counter mode, a prime length so no power-of-two offset error hides in it)
repeated; byte i of the stream is block[i % 65521].

"Close" is graceful everywhere: shutdown(SHUT_WR) after the last byte, then
read and discard until the peer closes (at most 30 s), then close(), so the
kernel never answers unread data with an RST that could destroy data still
in flight.  Standard library only.
"""

import argparse
import hashlib
import socket
import sys
import threading
import time

from helperlib import (add_listen_args, close_quietly, graceful_close,
                       hold, run_main, serve)

BLOCK_LEN = 65521
CHUNK = 1 << 20


def make_block():
    out = bytearray()
    i = 0
    while len(out) < BLOCK_LEN:
        out += hashlib.sha256(b"culvert-test-stream-%d" % i).digest()
        i += 1
    return bytes(out[:BLOCK_LEN])


BLOCK = make_block()
# Enough repetitions of the block that any chunk of CHUNK bytes starting at
# any offset inside the block is a plain slice.
BIG = BLOCK * (CHUNK // BLOCK_LEN + 2)


def stream_chunks(n):
    """Yield the first n bytes of the deterministic stream, in chunks."""
    pos = 0
    while pos < n:
        want = min(CHUNK, n - pos)
        off = pos % BLOCK_LEN
        yield BIG[off:off + want]
        pos += want


def parse_size(text):
    mult = 1
    t = text.strip()
    suffixes = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if t and t[-1].upper() in suffixes:
        mult = suffixes[t[-1].upper()]
        t = t[:-1]
    value = int(t, 10)
    if value < 0:
        raise ValueError("negative size")
    return value * mult


def send_stream(sock, n):
    for chunk in stream_chunks(n):
        sock.sendall(chunk)


def read_all(sock, expect=None):
    """Read to EOF (or until expect bytes); return (sha256 hex, count)."""
    h = hashlib.sha256()
    count = 0
    while expect is None or count < expect:
        want = CHUNK if expect is None else min(CHUNK, expect - count)
        data = sock.recv(want)
        if not data:
            break
        h.update(data)
        count += len(data)
    return h.hexdigest(), count


def serve_echo(sock, args):
    while True:
        data = sock.recv(CHUNK)
        if not data:
            break
        sock.sendall(data)
    graceful_close(sock)


LOG_PATH = None
LOG_LOCK = threading.Lock()


def serve_sink(sock, args):
    expect = parse_size(args[0]) if args else None
    digest, count = read_all(sock, expect)
    line = b"%s %d\n" % (digest.encode(), count)
    if LOG_PATH:
        # The record survives proxies that drop the reply after a
        # half-close (squid, tinyproxy).
        with LOG_LOCK, open(LOG_PATH, "ab") as f:
            f.write(line)
    try:
        sock.sendall(line)
    except OSError:
        pass
    graceful_close(sock)


def serve_source(sock, args):
    send_stream(sock, parse_size(args[0]))
    graceful_close(sock)


def serve_late(sock, args):
    n = parse_size(args[0])
    delay = int(args[1]) / 1000.0
    sock.settimeout(delay)
    try:
        sock.recv(CHUNK)
    except socket.timeout:
        pass
    sock.settimeout(None)
    time.sleep(delay)
    try:
        send_stream(sock, n)
    except OSError:
        pass
    graceful_close(sock)


def serve_http(sock, args):
    """Read one request head, answer 200 with N bytes of the stream."""
    n = parse_size(args[0])
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        data = sock.recv(4096)
        if not data:
            return
        head += data
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/"
                 b"octet-stream\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n" % n)
    send_stream(sock, n)
    graceful_close(sock)


def serve_hold(sock, args):
    hold(sock)


def serve_stall(sock, args):
    threading.Event().wait()


def serve_duplex(sock, args):
    n = parse_size(args[0])
    expect = parse_size(args[1]) if len(args) > 1 else None
    result = {}

    def reader():
        result["read"] = read_all(sock, expect)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    send_stream(sock, n)
    t.join()
    digest, count = result["read"]
    sock.sendall(b"%s %d\n" % (digest.encode(), count))
    graceful_close(sock)


MODES = {
    # name: (handler, minimum args, maximum args)
    "echo": (serve_echo, 0, 0),
    "sink": (serve_sink, 0, 1),
    "source": (serve_source, 1, 1),
    "late": (serve_late, 2, 2),
    "hold": (serve_hold, 0, 0),
    "stall": (serve_stall, 0, 0),
    "http": (serve_http, 1, 1),
    "duplex": (serve_duplex, 1, 2),
}


def handle(conn, handler, args):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        handler(conn, args)
    except OSError:
        pass
    finally:
        close_quietly(conn)


def main():
    ap = argparse.ArgumentParser(description="culvert test target")
    add_listen_args(ap)
    ap.add_argument("--log", help="sink: also append its line to this file")
    ap.add_argument("mode")
    ap.add_argument("args", nargs="*")
    opts = ap.parse_args()
    global LOG_PATH
    LOG_PATH = opts.log

    if opts.mode == "gen":
        if len(opts.args) != 1:
            ap.error("gen takes N")
        out = sys.stdout.buffer
        for chunk in stream_chunks(parse_size(opts.args[0])):
            out.write(chunk)
        out.flush()
        return 0

    if opts.mode not in MODES:
        ap.error("unknown mode %r" % opts.mode)
    handler, lo, hi = MODES[opts.mode]
    if not lo <= len(opts.args) <= hi:
        ap.error("mode %s takes %d to %d arguments" % (opts.mode, lo, hi))
    for a in opts.args:
        parse_size(a)       # fail now, not in a connection thread

    serve(opts, lambda conn, _index: handle(conn, handler, opts.args))


if __name__ == "__main__":
    run_main(main)
