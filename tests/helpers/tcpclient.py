#!/usr/bin/env python3
"""tcpclient.py: one TCP client for culvert's listen-mode tests.

Usage:
    tcpclient.py [--from ADDR] [--send FILE | --data TEXT] [--half-close]
                 [--expect N] [--socks5 HOST:PORT] [--timeout S] HOST PORT

Connects to HOST:PORT (from source address ADDR when given), optionally
speaks SOCKS5 (no authentication) asking for HOST:PORT given to --socks5,
sends FILE or TEXT, shuts down its sending side with --half-close, and
copies everything it receives to stdout until EOF or until N bytes came.
Exit status: 0 on EOF or N bytes, 3 when the connection was refused or
reset before anything arrived, 4 on a timeout, 5 on a SOCKS5 refusal
(the reply code on stderr).  Standard library only.
"""

import argparse
import socket
import struct
import sys


def socks5(sock, target):
    host, _, port = target.rpartition(":")
    sock.sendall(b"\x05\x01\x00")
    if sock.recv(2) != b"\x05\x00":
        return False
    name = host.strip("[]").encode()
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name
                 + struct.pack(">H", int(port)))
    reply = b""
    while len(reply) < 10:
        chunk = sock.recv(10 - len(reply))
        if not chunk:
            break
        reply += chunk
    if len(reply) < 2 or reply[1] != 0:
        sys.stderr.write("socks5 reply %d\n" % (reply[1] if len(reply) > 1
                                                else -1))
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="source")
    ap.add_argument("--send")
    ap.add_argument("--data")
    ap.add_argument("--half-close", action="store_true")
    ap.add_argument("--expect", type=int)
    ap.add_argument("--socks5")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    o = ap.parse_args()
    try:
        sock = socket.create_connection(
            (o.host, o.port), timeout=o.timeout,
            source_address=(o.source, 0) if o.source else None)
    except ConnectionRefusedError:
        return 3
    got = 0
    out = sys.stdout.buffer
    try:
        if o.socks5 and not socks5(sock, o.socks5):
            return 5
        if o.send:
            with open(o.send, "rb") as f:
                sock.sendall(f.read())
        if o.data:
            sock.sendall(o.data.encode())
        if o.half_close:
            sock.shutdown(socket.SHUT_WR)
        while o.expect is None or got < o.expect:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += len(chunk)
            out.write(chunk)
    except socket.timeout:
        return 4
    except (ConnectionResetError, BrokenPipeError):
        return 3 if got == 0 else 0
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
