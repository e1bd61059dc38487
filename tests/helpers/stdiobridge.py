#!/usr/bin/env python3
"""stdiobridge.py: connect stdin and stdout to a TCP or Unix socket, as
`nc` or `ssh -W` would for culvert's --proxy-command.

Usage:
    stdiobridge.py HOST PORT        a TCP connection
    stdiobridge.py --unix PATH      a Unix-domain connection
    stdiobridge.py --die MESSAGE    write MESSAGE to stderr, exit 3

End of stdin becomes shutdown(SHUT_WR); the peer's EOF ends the program.
With --pidfile FILE, writes its pid there first; with --ignore-term it
ignores SIGTERM (a command that has to be killed).  Standard library only.
"""

import os
import signal
import socket
import sys
import threading


def main(argv):
    if argv[:1] == ["--pidfile"]:
        with open(argv[1], "w") as f:
            f.write("%d\n" % os.getpid())
        argv = argv[2:]
    if argv[:1] == ["--ignore-term"]:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        argv = argv[1:]
    if argv[:1] == ["--die"]:
        sys.stderr.write(argv[1] + "\n")
        return 3
    if argv[:1] == ["--unix"]:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(argv[1])
    else:
        sock = socket.create_connection((argv[0], int(argv[1])))

    def up():
        while True:
            data = os.read(0, 65536)
            if not data:
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            sock.sendall(data)

    threading.Thread(target=up, daemon=True).start()
    while True:
        data = sock.recv(65536)
        if not data:
            return 0
        view = memoryview(data)
        while view:
            n = os.write(1, view)
            view = view[n:]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
