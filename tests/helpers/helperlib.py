"""What the test servers (target.py, fakeproxy.py, fakesocks.py) share:
the listening loop with its port file, a graceful close, and the relay
that joins a client to the far side."""
import os
import socket
import sys
import threading

CHUNK = 1 << 16


def add_listen_args(ap):
    """--host, --port and --port-file, as every server takes them."""
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file",
                    help="write the port here once listening (atomically)")


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def serve(opts, handler):
    """Listen on opts.host and opts.port, write opts.port_file, then call
    handler(sock, index) on a thread of its own for each connection;
    index counts connections from 1.  Never returns."""
    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((opts.host, opts.port))
    srv.listen(128)
    if opts.port_file:
        write_port_file(opts.port_file, srv.getsockname()[1])
    index = 0
    while True:
        sock, _ = srv.accept()
        index += 1
        threading.Thread(target=handler, args=(sock, index),
                         daemon=True).start()


def close_quietly(*socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def graceful_close(sock, limit=30.0):
    """Send EOF, wait up to limit seconds for the peer's EOF, close."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        sock.settimeout(limit)
        while sock.recv(CHUNK):
            pass
    except OSError:
        pass
    close_quietly(sock)


def hold(sock):
    """Read and drop until the peer's EOF, then keep the connection open
    until the process is killed."""
    try:
        while sock.recv(CHUNK):
            pass
    except OSError:
        pass
    threading.Event().wait()


def relay(client, far, style, pending=b""):
    """Move bytes both ways until both directions are done; close both.
    pending goes to far first.  style "half" passes each EOF on as a
    half-close; any other style ends the whole tunnel at the first EOF,
    as squid and tinyproxy do."""
    state = {"closing": False}
    lock = threading.Lock()

    def pump(src, dst, first=b""):
        try:
            if first:
                dst.sendall(first)
            while True:
                data = src.recv(CHUNK)
                if not data:
                    break
                with lock:
                    dropping = state["closing"]
                if not dropping:
                    dst.sendall(data)
        except OSError:
            pass
        if style == "half":
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        else:
            with lock:
                state["closing"] = True
            for s in (dst, src):
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    t = threading.Thread(target=pump, args=(client, far, pending),
                         daemon=True)
    t.start()
    pump(far, client)
    t.join()
    close_quietly(client, far)


def run_main(main):
    """sys.exit(main()), with the usual codes for ^C and a closed stdout."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(141)
