"""What the test servers (target.py, fakeproxy.py, fakesocks.py) share:
the listening loop with its port file, a graceful close, and the relay
that joins a client to the far side."""
import errno
import os
import selectors
import socket
import sys
import threading

CHUNK = 1 << 16


def add_listen_args(ap):
    """--host (repeatable), --port and --port-file, as every server takes
    them."""
    ap.add_argument("--host", action="append",
                    help="listen on this address (default 127.0.0.1); "
                    "given more than once, on each, all on one port")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file",
                    help="write the port here once listening (atomically)")


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def listen_all(hosts, port, tries=50):
    """Listening sockets on every address in hosts, all on one port: port,
    or when it is 0 the one the kernel gives the first address, retried
    (at most tries times) while that port is taken on another address."""
    for _ in range(tries):
        socks = []
        want = port
        try:
            for host in hosts:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                srv = socket.socket(family, socket.SOCK_STREAM)
                socks.append(srv)
                srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                srv.bind((host, want))
                srv.listen(128)
                want = srv.getsockname()[1]
            return socks
        except OSError as e:
            close_quietly(*socks)
            if port != 0 or e.errno != errno.EADDRINUSE or len(socks) < 2:
                raise
    raise OSError(errno.EADDRINUSE, "no port free on all of %s" %
                  ", ".join(hosts))


def serve(opts, handler):
    """Listen on each of opts.host (default 127.0.0.1) at opts.port, write
    opts.port_file, then call handler(sock, index) on a thread of its own
    for each connection; index counts connections from 1, in the order one
    thread accepts them.  Never returns."""
    listeners = listen_all(opts.host or ["127.0.0.1"], opts.port)
    if opts.port_file:
        write_port_file(opts.port_file, listeners[0].getsockname()[1])
    sel = selectors.DefaultSelector()
    for srv in listeners:
        sel.register(srv, selectors.EVENT_READ)
    index = 0
    while True:
        for key, _ in sel.select():
            sock, _ = key.fileobj.accept()
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
