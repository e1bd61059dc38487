#!/usr/bin/env python3
"""Run a command whose standard input and output are sockets.

usage: sockstdio.py [--family unix|tcp] [--split] [--in FILE]
                    [--out FILE] [--close-after N] -- COMMAND...

By default stdin and stdout are the same connected socket, as inetd or
socat hand them over; with --split they are two sockets.  The bytes of
--in FILE (nothing by default) are written to the command's stdin,
followed by a half-close (shutdown SHUT_WR).  Everything the command
writes to stdout goes to --out FILE until EOF; with --close-after N the
reading side instead closes its socket after N bytes.  Exits with the
command's exit status (128 + signal when it was killed).
"""
import argparse
import os
import socket
import subprocess
import sys
import threading


def tcp_pair():
    """Two ends of a loopback TCP connection."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        a = socket.create_connection(lsock.getsockname())
        b, _ = lsock.accept()
    return a, b


def make_pair(family):
    if family == "tcp":
        return tcp_pair()
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def feed(sock, path):
    try:
        if path is not None:
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(1 << 16)
                    if not chunk:
                        break
                    sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        print("sockstdio: writing stdin: %s" % e, file=sys.stderr)


def drain(sock, path, close_after):
    got = 0
    with open(path or os.devnull, "wb") as out:
        while close_after is None or got < close_after:
            want = 1 << 16
            if close_after is not None:
                want = min(want, close_after - got)
            try:
                chunk = sock.recv(want)
            except OSError as e:
                print("sockstdio: reading stdout: %s" % e, file=sys.stderr)
                break
            if not chunk:
                break
            out.write(chunk)
            got += len(chunk)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=("unix", "tcp"), default="unix")
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--in", dest="infile")
    ap.add_argument("--out")
    ap.add_argument("--close-after", type=int)
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()

    in_mine, in_theirs = make_pair(a.family)
    if a.split:
        out_mine, out_theirs = make_pair(a.family)
    else:
        out_mine, out_theirs = in_mine, in_theirs
    proc = subprocess.Popen(a.command, stdin=in_theirs.fileno(),
                            stdout=out_theirs.fileno())
    in_theirs.close()
    out_theirs.close()

    writer = threading.Thread(target=feed, args=(in_mine, a.infile),
                              daemon=True)
    writer.start()
    drain(out_mine, a.out, a.close_after)
    if a.close_after is not None:
        out_mine.close()
        if a.split:
            in_mine.close()
    rc = proc.wait()
    return 128 - rc if rc < 0 else rc


if __name__ == "__main__":
    sys.exit(main())
