#!/usr/bin/env python3
"""fakesocks.py: a scripted SOCKS4, SOCKS4a and SOCKS5 server for culvert's
tests.

Usage:
    fakesocks.py [--host ADDR]... [--port N] [--port-file FILE]
                 [--script NAME] [--log FILE] [--user USER] [--pass PASS]
                 [--expect HEX] [--bound real|ipv4|ipv6|name]
                 [--delay SECONDS] [--relay half|close] [--list]

Listens on ADDR (default 127.0.0.1; ::1 for IPv6; each of several --host
addresses, all on one port) port N (default 0: the kernel picks), writes
the port to FILE once listening (via FILE.tmp and a rename), serves each
connection in a thread until killed.  --list prints the script names
with one line each and exits.

The protocol is told by the first byte: 4 is SOCKS4 (SOCKS4a when the
address is 0.0.0.x, x nonzero, and a name follows the user id), 5 is
SOCKS5 (RFC 1928, RFC 1929 username/password).  A connection starting
with "SYNC" gets "SYNCED N\\n", N being the number of other connections
accepted so far, as fakeproxy.py does (common.bash: proxy_connections).

--log FILE (created empty at start): one line per connection with the
client's handshake messages in hex, separated by single spaces, e.g.
    050100 0501000309...0016
    04010016000000016200...00
A connection that stops in the middle of a message logs what it sent.
Bytes the client sends after its CONNECT request are tunnel data and are
not logged.

Checks done by every script: versions, command CONNECT (else "command not
supported" / 0x5B), address type (else "address type not supported").
--user/--pass: SOCKS5 then requires username/password authentication with
exactly these (status 1 otherwise); SOCKS4 requires the user id to equal
--user (0x5D otherwise).  --expect HEX: the whole handshake, hex without
spaces, must equal HEX, else the request is refused (SOCKS5 reply 2,
SOCKS4 0x5B) and "MISMATCH" is written to stderr.

Scripts that succeed connect to the requested target (resolving names,
as socks4a/socks5h ask) and relay both ways; "half" relay (default, as
dante does) turns EOF from one side into shutdown(SHUT_WR) towards the
other, "close" ends the tunnel at the first EOF.  If the target cannot be
reached the reply is "connection refused" / "host unreachable" (5/4), or
0x5B for SOCKS4.  The bound address in success replies is the proxy's
local address towards the target (--bound real) or a fixed IPv4, IPv6 or
domain-name address.

Standard library only.
"""

import argparse
import ipaddress
import socket
import struct
import sys
import threading
import time

from helperlib import (CHUNK, add_listen_args, close_quietly, graceful_close,
                       hold, relay, run_main, serve)

FIELD_MAX = 1024          # longest SOCKS4 user id or name we accept

BINARY_PREAMBLE = bytes(range(256)) * 2 + b"\x05\x00\x00\x01\x00"

S5_TEXT = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused by destination",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
    9: "(unassigned code 9)",
    255: "(unassigned code 255)",
}

S4_TEXT = {
    0x5B: "request rejected or failed",
    0x5C: "rejected: cannot reach identd",
    0x5D: "rejected: user id not confirmed by identd",
}


def sc(desc, **kw):
    return (desc, kw)


# name: (description, behaviour).  Behaviour keys:
#   rep5/rep4    answer CONNECT with this SOCKS5 / SOCKS4 code
#   trunc        send only part of the CONNECT reply, then close
#   truncgreet   SOCKS5: send one byte of the method reply, then close
#   slow         send every reply one byte at a time, --delay apart
#   silent       read the first message, never answer, stay open
#   empty        close at once without a byte
#   nomethod     SOCKS5: answer the greeting with 0xFF
#   authfail     SOCKS5: choose username/password, then reject it
#   auth         SOCKS5: require username/password (--user/--pass)
#   http         answer like an HTTP proxy
#   badversion   answer with the wrong version byte
#   badatyp      SOCKS5: success reply with address type 5
#   withdata     success reply and a binary preamble in one segment
SCRIPTS = {
    "ok": sc("check the request, connect, reply success, relay"),
    "withdata": sc("success reply plus 517 binary bytes in one segment, "
                   "then relay", withdata=True),
    "slow": sc("every reply byte by byte, --delay apart, then relay",
               slow=True),
    "auth": sc("SOCKS5 requires username/password (--user/--pass, default "
               "user/pass), then as ok", auth=True),
    "authfail": sc("SOCKS5 chooses username/password, rejects any "
                   "(status 1)", authfail=True),
    "nomethod": sc("SOCKS5 answers the greeting with 0xFF (no acceptable "
                   "method); SOCKS4 gets 0x5B", nomethod=True, rep4=0x5B),
    "silent": sc("read the first message, never answer, stay open",
                 silent=True),
    "empty": sc("close at once without a byte", empty=True),
    "truncgreet": sc("SOCKS5: one byte of the method reply, then close; "
                     "SOCKS4: nothing", truncgreet=True),
    "truncated": sc("half of the CONNECT reply, then close", trunc=True),
    "http": sc("answer HTTP/1.1 400 like an HTTP proxy, close", http=True),
    "badversion": sc("answer with version 4 to SOCKS5 and 0x5A to SOCKS4, "
                     "close", badversion=True),
    "badatyp": sc("SOCKS5 success reply with address type 5, close",
                  badatyp=True),
}
for _code, _text in S5_TEXT.items():
    SCRIPTS["rep%d" % _code] = sc(
        "SOCKS5 reply %d %s (SOCKS4 gets 0x5B), close" % (_code, _text),
        rep5=_code, rep4=0x5B)
for _code, _text in S4_TEXT.items():
    SCRIPTS["rep%d" % _code] = sc(
        "SOCKS4 reply 0x%02X %s (SOCKS5 gets 1), close" % (_code, _text),
        rep4=_code, rep5=1)


class Closed(Exception):
    """The client went away in the middle of a message."""


class Conn:
    def __init__(self, server, sock, index):
        self.server = server
        self.opts = server.opts
        self.how = SCRIPTS[server.opts.script][1]
        self.sock = sock
        self.index = index
        self.buf = b""          # received, not yet consumed
        self.msgs = []          # handshake messages, for the log
        self.cur = b""          # the message being read
        self.logged = False

    # -- reading --------------------------------------------------------
    def fill(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(CHUNK)
            if not data:
                raise Closed()
            self.buf += data

    def take(self, n):
        self.fill(n)
        data, self.buf = self.buf[:n], self.buf[n:]
        self.cur += data
        return data

    def take_cstring(self):
        out = b""
        while True:
            c = self.take(1)
            if c == b"\x00":
                return out
            out += c
            if len(out) > FIELD_MAX:
                raise Closed()

    def end_msg(self):
        self.msgs.append(self.cur)
        self.cur = b""

    def log(self):
        if self.logged:
            return
        self.logged = True
        parts = self.msgs + ([self.cur] if self.cur else [])
        if parts:
            self.server.log(" ".join(p.hex() for p in parts))

    def handshake_hex(self):
        return b"".join(self.msgs).hex()

    # -- writing --------------------------------------------------------
    def send(self, data):
        if self.how.get("slow"):
            for i in range(len(data)):
                self.sock.sendall(data[i:i + 1])
                time.sleep(self.opts.delay)
        else:
            self.sock.sendall(data)

    def finish(self):
        graceful_close(self.sock)

    def hold(self):
        hold(self.sock)

    def expect_ok(self):
        if self.opts.expect is None:
            return True
        if self.handshake_hex() == self.opts.expect.lower():
            return True
        sys.stderr.write("MISMATCH connection %d: got %s want %s\n" %
                         (self.index, self.handshake_hex(),
                          self.opts.expect.lower()))
        sys.stderr.flush()
        return False

    def dial(self, host, port):
        """Connect to the target: (socket, None) or (None, errno-ish)."""
        try:
            s = socket.create_connection((host, port), timeout=10)
        except ConnectionRefusedError:
            return None, "refused"
        except socket.gaierror:
            return None, "unreach"
        except OSError:
            return None, "other"
        s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s, None

    # -- SOCKS4 / SOCKS4a ------------------------------------------------
    def socks4(self):
        how = self.how
        hdr = self.take(8)
        _, cmd, port = struct.unpack("!BBH", hdr[:4])
        ip = hdr[4:8]
        userid = self.take_cstring()
        host = socket.inet_ntoa(ip)
        if ip[:3] == b"\0\0\0" and ip[3] != 0:
            host = self.take_cstring().decode("latin-1")
        self.end_msg()
        self.log()
        if how.get("silent"):
            self.hold()
        if how.get("truncgreet"):
            return self.finish()
        if how.get("http"):
            return self.http()
        if how.get("badversion"):
            self.send(b"\x5a\x5a" + b"\0" * 6)
            return self.finish()
        code = how.get("rep4")
        if code is None and cmd != 1:
            code = 0x5B
        if code is None and self.opts.user is not None and \
                userid != self.opts.user.encode():
            code = 0x5D
        if code is None and not self.expect_ok():
            code = 0x5B
        if code is not None:
            self.send(struct.pack("!BBH4s", 0, code, 0, b"\0" * 4))
            return self.finish()
        if how.get("trunc"):
            self.send(b"\x00\x5a\x00\x00")
            return self.finish()
        far, _ = self.dial(host, port)
        if far is None:
            self.send(struct.pack("!BBH4s", 0, 0x5B, 0, b"\0" * 4))
            return self.finish()
        bport, baddr = far.getsockname()[1], b"\0" * 4
        try:
            baddr = socket.inet_aton(far.getsockname()[0])
        except OSError:
            pass
        reply = struct.pack("!BBH4s", 0, 0x5A, bport, baddr)
        self.tunnel(far, reply)

    # -- SOCKS5 ------------------------------------------------------------
    def socks5(self):
        how, opts = self.how, self.opts
        nmethods = self.take(2)[1]
        methods = self.take(nmethods)
        self.end_msg()
        if how.get("silent"):
            self.log()
            self.hold()
        if how.get("http"):
            self.log()
            return self.http()
        if how.get("badversion"):
            self.log()
            self.send(b"\x04\x00")
            return self.finish()
        if how.get("truncgreet"):
            self.log()
            self.send(b"\x05")
            return self.finish()
        need_auth = how.get("auth") or how.get("authfail") or \
            opts.user is not None
        if how.get("nomethod") or (need_auth and 2 not in methods) or \
                (not need_auth and 0 not in methods):
            self.log()
            self.send(b"\x05\xff")
            return self.finish()
        if need_auth:
            self.send(b"\x05\x02")
            ver = self.take(1)[0]
            user = self.take(self.take(1)[0])
            pw = self.take(self.take(1)[0])
            self.end_msg()
            if opts.user is None:
                want_user, want_pass = b"user", b"pass"
            else:
                want_user = opts.user.encode()
                want_pass = (opts.password or "").encode()
            good = (ver == 1 and user == want_user and pw == want_pass and
                    not how.get("authfail"))
            if not good:
                self.log()
                self.send(b"\x01\x01")
                return self.finish()
            self.send(b"\x01\x00")
        else:
            self.send(b"\x05\x00")
        ver, cmd, _, atyp = self.take(4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, self.take(4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, self.take(16))
        elif atyp == 3:
            host = self.take(self.take(1)[0]).decode("latin-1")
        else:
            host = None
        port = struct.unpack("!H", self.take(2))[0] if host else 0
        self.end_msg()
        self.log()
        code = how.get("rep5")
        if code is None and ver != 5:
            code = 1
        if code is None and cmd != 1:
            code = 7
        if code is None and host is None:
            code = 8
        if code is None and not self.expect_ok():
            code = 2
        if code is not None:
            self.send(b"\x05" + bytes([code]) + b"\x00\x01" + b"\0" * 6)
            return self.finish()
        if how.get("trunc"):
            self.send(b"\x05\x00\x00\x01\x7f")
            return self.finish()
        if how.get("badatyp"):
            self.send(b"\x05\x00\x00\x05" + b"\0" * 6)
            return self.finish()
        far, err = self.dial(host, port)
        if far is None:
            code = {"refused": 5, "unreach": 4}.get(err, 1)
            self.send(b"\x05" + bytes([code]) + b"\x00\x01" + b"\0" * 6)
            return self.finish()
        self.tunnel(far, b"\x05\x00\x00" + self.bound(far))

    def bound(self, far):
        """ATYP, address and port for a success reply."""
        kind = self.opts.bound
        if kind == "ipv4":
            return b"\x01" + bytes([192, 0, 2, 1]) + struct.pack("!H", 1080)
        if kind == "ipv6":
            return (b"\x04" + ipaddress.IPv6Address("2001:db8::1").packed +
                    struct.pack("!H", 1080))
        if kind == "name":
            name = b"fakesocks.invalid"
            return (b"\x03" + bytes([len(name)]) + name +
                    struct.pack("!H", 1080))
        addr, port = far.getsockname()[:2]
        ip = ipaddress.ip_address(addr.split("%")[0])
        return (bytes([1 if ip.version == 4 else 4]) + ip.packed +
                struct.pack("!H", port))

    # -- common ------------------------------------------------------------
    def http(self):
        body = b"<html><body>This is an HTTP proxy.</body></html>\n"
        self.send(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                  % (len(body), body))
        self.finish()

    def tunnel(self, far, reply):
        if self.how.get("withdata"):
            # The reply and tunnel bytes in one segment: the client must
            # not swallow the preamble as part of the reply.
            self.sock.sendall(reply + BINARY_PREAMBLE)
        else:
            self.send(reply)
        relay(self.sock, far, self.opts.relay, self.buf)

    def run(self):
        if self.how.get("empty"):
            self.sock.close()
            return
        first = self.take(1)
        self.buf = first + self.buf
        self.cur = b""
        if first == b"S":
            self.fill(4)
            if self.buf.startswith(b"SYNC"):
                return self.sync()
        if first == b"\x04":
            return self.socks4()
        if first == b"\x05":
            return self.socks5()
        # Not SOCKS: log what came and hang up.
        self.cur = self.buf
        self.log()
        self.finish()

    def sync(self):
        self.logged = True
        with self.server.lock:
            self.server.syncs += 1
            others = self.index - self.server.syncs
        self.sock.sendall(b"SYNCED %d\n" % others)
        self.sock.close()



class Server:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.syncs = 0
        if opts.log:
            open(opts.log, "w").close()

    def log(self, line):
        if not self.opts.log:
            return
        with self.lock:
            with open(self.opts.log, "a") as f:
                f.write(line + "\n")

    def handle(self, sock, index):
        conn = Conn(self, sock, index)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.run()
        except (Closed, OSError):
            conn.log()
        finally:
            close_quietly(sock)


def main():
    ap = argparse.ArgumentParser(description="scripted fake SOCKS server")
    add_listen_args(ap)
    ap.add_argument("--script", default="ok")
    ap.add_argument("--log")
    ap.add_argument("--user")
    ap.add_argument("--pass", dest="password")
    ap.add_argument("--expect")
    ap.add_argument("--bound", default="real",
                    choices=("real", "ipv4", "ipv6", "name"))
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--relay", default="half", choices=("half", "close"))
    ap.add_argument("--list", action="store_true")
    opts = ap.parse_args()
    if opts.list:
        for name, (desc, _) in SCRIPTS.items():
            print("%-12s %s" % (name, desc))
        return 0
    if opts.script not in SCRIPTS:
        ap.error("unknown script %r (see --list)" % opts.script)
    if opts.password is not None and opts.user is None:
        ap.error("--pass needs --user")

    server = Server(opts)
    serve(opts, server.handle)


if __name__ == "__main__":
    run_main(main)
