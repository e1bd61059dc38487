#!/usr/bin/env python3
"""fakeproxy.py: a scripted HTTP CONNECT proxy for culvert's tests.

Usage:
    fakeproxy.py [--host ADDR]... [--port N] [--port-file FILE]
                 [--script NAME] [--log FILE] [--list]
                 [--user U --pass P --offer LIST [--accept LIST] ...]
    fakeproxy.py --self-test

Listens on ADDR (default 127.0.0.1; ::1 for IPv6; each of several --host
addresses, all on one port) port N (default 0: the kernel picks), writes
the port to FILE once listening (via FILE.tmp and a rename), serves each
connection in a thread until killed.  --list prints the script names
with one line each and exits.

Every connection: read the request head (up to the blank line, at most
64 KiB), append it byte for byte to the --log FILE (created empty at
start, so an empty file means nothing arrived), then run the behaviour
named by --script (default "ok").  Scripts that answer 2xx first connect to
the host:port of the CONNECT line (IPv6 in brackets) and then relay both
ways; if that connect fails they answer 502.

Two relay styles:
    close       (default, what squid 5.7 and tinyproxy 1.11 do) when either
                side sends EOF, the proxy ends the whole tunnel: both peers
                get EOF, later bytes are dropped.
    half        (scripts "halfclose", ...) EOF from one side becomes
                shutdown(SHUT_WR) towards the other, and the other
                direction keeps flowing until it ends too.

Counting connections: a connection whose request head starts with "SYNC"
is not logged; the proxy answers "SYNCED N\\n", N being the number of other
connections accepted so far, and closes.  Connections are accepted in
order by one thread, so a SYNC sent after a culvert run has ended counts
every connection that run made (common.bash: proxy_connections).

Scripts are rows of the SCRIPTS table: a name, a one-line description and
a function f(conn) where conn is a Conn (socket, request head, target,
helpers to read more heads, reply, tunnel).  Later issues add rows (407
authentication rounds: conn.read_head() reads the next request on the same
connection).  Script "auth" checks proxy authentication itself: see the
"proxy authentication" section below.  Standard library only.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import os
import secrets
import socket
import struct
import sys
import threading
import time

from helperlib import (CHUNK, add_listen_args, close_quietly, graceful_close,
                       hold, relay, run_main, serve)

HEAD_MAX = 65536

BINARY_PREAMBLE = bytes(range(256)) * 2 + b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\x00"


class Conn:
    """One client connection and what the proxy knows about it."""

    def __init__(self, server, sock, index):
        self.server = server
        self.sock = sock
        self.index = index          # 1-based order of acceptance
        self.buf = b""              # bytes read but not yet consumed
        self.head = b""             # the current request head
        self.target = None          # (host, port) of the CONNECT line

    # -- reading requests ---------------------------------------------
    def read_head(self):
        """Read the next request head; return it, or None on EOF/garbage."""
        while True:
            for sep in (b"\r\n\r\n", b"\n\n"):
                i = self.buf.find(sep)
                if i >= 0:
                    head = self.buf[:i + len(sep)]
                    self.buf = self.buf[i + len(sep):]
                    self.head = head
                    self.target = parse_target(head)
                    return head
            if len(self.buf) > HEAD_MAX:
                return None
            data = self.sock.recv(CHUNK)
            if not data:
                return None
            self.buf += data

    def header(self, name):
        """Value of the first request header called name, or None."""
        for line in self.head.split(b"\n")[1:]:
            k, sep, v = line.partition(b":")
            if sep and k.strip().lower() == name.lower().encode():
                return v.strip().decode("latin-1")
        return None

    # -- answering ----------------------------------------------------
    def send(self, data):
        self.sock.sendall(data)

    def dial(self):
        """Connect to the CONNECT target; return the socket or None."""
        if self.target is None:
            return None
        try:
            s = socket.create_connection(self.target, timeout=10)
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError:
            return None

    def reply_and_tunnel(self, head, style="close", extra=b"", bytewise=0.0):
        """Dial the target, send head (+extra), relay.  head is bytes."""
        far = self.dial()
        if far is None:
            self.send(refusal(502, "Bad Gateway"))
            self.finish()
            return
        if bytewise:
            for i in range(len(head)):
                self.send(head[i:i + 1])
                time.sleep(bytewise)
            if extra:
                self.send(extra)
        else:
            self.send(head + extra)
        relay(self.sock, far, style, self.buf)

    def finish(self, linger=30.0):
        """Graceful close: FIN, drain until the peer closes, close."""
        graceful_close(self.sock, linger)

    def hold(self):
        """Keep the connection open, reading and dropping, until killed."""
        hold(self.sock)

    def reset(self):
        """Close with an RST (SO_LINGER on, timeout 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()


def parse_target(head):
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] != b"CONNECT":
        return None
    hostport = parts[1].decode("latin-1")
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:]
    else:
        host, _, port = hostport.rpartition(":")
    try:
        return (host, int(port, 10))
    except ValueError:
        return None



def refusal(code, reason, extra_headers=b"", keepalive=False):
    body = (b"<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
            b"<body><h1>%s</h1><p>The proxy says no.\x00</p></body></html>\n"
            % (code, reason.encode(), reason.encode()))
    return (b"HTTP/1.1 %d %s\r\nServer: fakeproxy\r\n"
            b"Content-Type: text/html\r\nContent-Length: %d\r\n%s"
            b"Connection: %s\r\n\r\n%s"
            % (code, reason.encode(), len(body), extra_headers,
               b"keep-alive" if keepalive else b"close", body))


OK11 = b"HTTP/1.1 200 Connection established\r\n\r\n"


def many_headers(total, line_len=96):
    out = b""
    i = 0
    while len(out) < total:
        name = b"X-Filler-%03d: " % i
        out += name + b"v" * (line_len - len(name) - 2) + b"\r\n"
        i += 1
    return out


def s_endless(conn, line):
    """Send 1 MiB of header lines that never end, then stay open."""
    try:
        conn.send(b"HTTP/1.1 200 Connection established\r\n")
        sent = 0
        while sent < (1 << 20):
            conn.send(line)
            sent += len(line)
    except OSError:
        return
    conn.hold()


def s_trickle(conn):
    """Start a 200 head, then one byte every 0.1 s, never ending it."""
    try:
        conn.send(b"HTTP/1.1 200 Connection established\r\nX-Trickle: ")
        while True:
            time.sleep(0.1)
            conn.send(b"a")
    except OSError:
        pass


def s_slow(conn):
    """Wait before answering; log whatever arrived early (stdin leaks)."""
    time.sleep(0.5)
    conn.sock.setblocking(False)
    try:
        while True:
            data = conn.sock.recv(CHUNK)
            if not data:
                break
            conn.buf += data
    except (BlockingIOError, OSError):
        pass
    conn.sock.setblocking(True)
    if conn.buf:
        conn.server.log(conn.buf)
    conn.reply_and_tunnel(OK11, "half")


def s_rst(conn):
    far = conn.dial()
    if far is None:
        conn.send(refusal(502, "Bad Gateway"))
        conn.finish()
        return
    conn.send(OK11 + b"before the reset\n")
    time.sleep(0.3)
    conn.reset()
    far.close()


def s_mixed(conn):
    """Answer by the CONNECT target's name, for many tunnels at once.

    slow*: 200 after 3 s.  deny*: 403.  auth*: 407 on the same
    connection (Basic u:p) until the credentials come, then 200.
    authclose*: 407 with Connection: close until they come, then 200.
    Anything else: 200 at once.  A 200 is not followed by a relay: the
    connection is held until the client closes it.
    """
    host = (conn.target or ("", 0))[0]
    want = "Basic " + base64.b64encode(b"u:p").decode()
    body = b"authentication required\n"
    if host.startswith("slow"):
        time.sleep(3)
    elif host.startswith("deny"):
        conn.send(refusal(403, "Forbidden"))
        conn.finish()
        return
    elif host.startswith("authclose"):
        if conn.header("Proxy-Authorization") != want:
            conn.send(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                      b'Proxy-Authenticate: Basic realm="mixed"\r\n'
                      b"Connection: close\r\nContent-Length: %d\r\n\r\n"
                      % len(body) + body)
            conn.finish()
            return
    elif host.startswith("auth"):
        while conn.header("Proxy-Authorization") != want:
            conn.send(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                      b'Proxy-Authenticate: Basic realm="mixed"\r\n'
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            if conn.read_head() is None:
                return
    conn.send(OK11)
    conn.hold()


def s_refuse(code, reason, extra=b"", keepalive=False):
    def run(conn):
        conn.send(refusal(code, reason, extra, keepalive))
        if keepalive:
            conn.hold()
        else:
            conn.finish()
    return run


def s_raw(data, then="finish"):
    """Send fixed bytes, then finish (graceful close), hold or reset."""
    def run(conn):
        if data:
            conn.send(data)
        getattr(conn, then)()
    return run


def s_tunnel(head, style="close", extra=b"", bytewise=0.0):
    def run(conn):
        conn.reply_and_tunnel(head, style, extra, bytewise)
    return run


# -- proxy authentication (issue 4) -----------------------------------------
#
# Script "auth" (options --user, --pass, --realm, --offer, --accept,
# --joined, --on-407, --stale) checks Proxy-Authorization independently of culvert:
# Basic by comparing the bytes, Digest (RFC 7616: MD5, SHA-256 and their
# -sess forms, qop=auth, userhash) by recomputing the response with hashlib,
# NTLMv2 (MS-NLMP) by sending its own challenge and recomputing the
# NTProofStr (MD4 in pure Python: OpenSSL 3 has no md4).  Answers 200 and
# relays when the credentials are right, else 407 with fresh challenges
# (Connection: close, or kept alive with an HTML body: --on-407).  One line
# per decision goes to stderr: "auth: conn N: SCHEME ok|bad (why)".
# --self-test checks these implementations against RFC 1320, RFC 7616 3.9.1
# and MS-NLMP 4.2.4 and exits.

def _md4_rotl(x, n):
    x &= 0xffffffff
    return ((x << n) | (x >> (32 - n))) & 0xffffffff


def md4(data):
    """MD4 (RFC 1320), pure Python."""
    msg = bytearray(data)
    bitlen = (8 * len(data)) & 0xffffffffffffffff
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", bitlen)
    a, b, c, d = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", bytes(msg[off:off + 64]))
        aa, bb, cc, dd = a, b, c, d

        def f(x_, y, z):
            return (x_ & y) | (~x_ & z)

        def g(x_, y, z):
            return (x_ & y) | (x_ & z) | (y & z)

        def h(x_, y, z):
            return x_ ^ y ^ z

        for i in range(16):
            k = i
            s = (3, 7, 11, 19)[i % 4]
            t = _md4_rotl(a + f(b, c, d) + x[k], s)
            a, b, c, d = d, t, b, c
        for i in range(16):
            k = (i % 4) * 4 + i // 4
            s = (3, 5, 9, 13)[i % 4]
            t = _md4_rotl(a + g(b, c, d) + x[k] + 0x5a827999, s)
            a, b, c, d = d, t, b, c
        order = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
        for i in range(16):
            k = order[i]
            s = (3, 9, 11, 15)[i % 4]
            t = _md4_rotl(a + h(b, c, d) + x[k] + 0x6ed9eba1, s)
            a, b, c, d = d, t, b, c
        a = (a + aa) & 0xffffffff
        b = (b + bb) & 0xffffffff
        c = (c + cc) & 0xffffffff
        d = (d + dd) & 0xffffffff
    return struct.pack("<4I", a, b, c, d)


def hmac_md5(key, data):
    return hmac.new(key, data, hashlib.md5).digest()


def ntowfv2(user, password, domain):
    """ResponseKeyNT: user, password and domain are str."""
    nt = md4(password.encode("utf-16-le"))
    return hmac_md5(nt, (user.upper() + domain).encode("utf-16-le"))


def ntlmv2_proof(key, server_challenge, blob):
    return hmac_md5(key, server_challenge + blob)


DIGEST_ALGS = {
    "md5": ("MD5", hashlib.md5, False),
    "md5-sess": ("MD5-sess", hashlib.md5, True),
    "sha-256": ("SHA-256", hashlib.sha256, False),
    "sha-256-sess": ("SHA-256-sess", hashlib.sha256, True),
}

OFFER_ALGS = {
    "digest-md5": "MD5", "digest-md5-sess": "MD5-sess",
    "digest-sha256": "SHA-256", "digest-sha256-sess": "SHA-256-sess",
}


def digest_response(alg, user, realm, password, method, uri, nonce, nc,
                    cnonce, qop):
    """RFC 7616 response; every argument bytes except alg (a str)."""
    _, hfun, sess = DIGEST_ALGS[alg.lower()]

    def H(x):
        return hfun(x).hexdigest().encode()

    a1 = H(user + b":" + realm + b":" + password)
    if sess:
        a1 = H(a1 + b":" + nonce + b":" + cnonce)
    a2 = H(method + b":" + uri)
    return H(a1 + b":" + nonce + b":" + nc + b":" + cnonce + b":" + qop
             + b":" + a2).decode()


def parse_auth_params(text):
    """'a=b, c="d, \\"e"' -> {'a': 'b', 'c': 'd, "e'} (names lower-cased)."""
    out = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        j = i
        while j < n and text[j] not in "= \t,":
            j += 1
        name = text[i:j].lower()
        i = j
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] != "=":
            if name:
                out[name] = None
            continue
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            val = ""
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                val += text[i]
                i += 1
            i += 1
        else:
            j = i
            while j < n and text[j] not in ", \t":
                j += 1
            val = text[i:j]
            i = j
        out[name] = val
    return out


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


NTLM_SIG = b"NTLMSSP\x00"
NTLM_UNICODE = 0x00000001
NTLM_OEM = 0x00000002
NTLM_REQUEST_TARGET = 0x00000004
NTLM_NTLM = 0x00000200
NTLM_ALWAYS_SIGN = 0x00008000
NTLM_TARGET_TYPE_DOMAIN = 0x00010000
NTLM_ESS = 0x00080000
NTLM_TARGET_INFO = 0x00800000
NTLM_VERSION = 0x02000000
NTLM_128 = 0x20000000
NTLM_56 = 0x80000000
# MS-NLMP 4.2.4: server challenge and target (domain "Domain", server
# "Server"), plus a DNS domain name.
NTLM_SERVER_CHALLENGE = bytes.fromhex("0123456789abcdef")
NTLM_DOMAIN = "Domain"


def av_pair(av_id, value):
    return struct.pack("<HH", av_id, len(value)) + value


NTLM_TARGET_INFO_BYTES = (av_pair(2, NTLM_DOMAIN.encode("utf-16-le"))
                          + av_pair(1, "Server".encode("utf-16-le"))
                          + av_pair(4, "domain.example".encode("utf-16-le"))
                          + av_pair(0, b""))


def ntlm_type2(server_challenge):
    flags = (NTLM_UNICODE | NTLM_REQUEST_TARGET | NTLM_NTLM | NTLM_ALWAYS_SIGN
             | NTLM_TARGET_TYPE_DOMAIN | NTLM_ESS | NTLM_TARGET_INFO
             | NTLM_VERSION | NTLM_128 | NTLM_56)
    target = NTLM_DOMAIN.encode("utf-16-le")
    info = NTLM_TARGET_INFO_BYTES
    off = 56
    return (NTLM_SIG + struct.pack("<I", 2)
            + struct.pack("<HHI", len(target), len(target), off)
            + struct.pack("<I", flags) + server_challenge + b"\x00" * 8
            + struct.pack("<HHI", len(info), len(info), off + len(target))
            + bytes([6, 1, 0xb1, 0x1d, 0, 0, 0, 15])
            + target + info)


def ntlm_field(msg, at):
    ln, _, off = struct.unpack_from("<HHI", msg, at)
    if off + ln > len(msg):
        raise ValueError("field at %d runs past the message" % at)
    return msg[off:off + ln]


def ntlm_check_type3(msg, server_challenge, user, domain, password):
    """Return (ok, why) for an NTLMv2 authenticate message."""
    if msg[:8] != NTLM_SIG or struct.unpack_from("<I", msg, 8)[0] != 3:
        return False, "not an NTLM type-3 message"
    flags = struct.unpack_from("<I", msg, 60)[0]
    enc = "utf-16-le" if flags & NTLM_UNICODE else "latin-1"
    lm = ntlm_field(msg, 12)
    nt = ntlm_field(msg, 20)
    got_domain = ntlm_field(msg, 28).decode(enc)
    got_user = ntlm_field(msg, 36).decode(enc)
    if len(nt) <= 24:
        return False, "NT response of %d bytes: not NTLMv2" % len(nt)
    if got_user.lower() != user.lower():
        return False, "user %r, expected %r" % (got_user, user)
    if got_domain.lower() != domain.lower():
        return False, "domain %r, expected %r" % (got_domain, domain)
    proof, blob = nt[:16], nt[16:]
    if blob[:2] != b"\x01\x01":
        return False, "NTLMv2 blob does not start 01 01"
    if NTLM_TARGET_INFO_BYTES[:-4] not in blob[28:]:
        return False, "target info not echoed in the NTLMv2 blob"
    key = ntowfv2(got_user, password, got_domain)
    want = ntlmv2_proof(key, server_challenge, blob)
    if not hmac.compare_digest(proof, want):
        return False, "NTProofStr %s, expected %s" % (proof.hex(), want.hex())
    if len(lm) == 24 and lm != b"\x00" * 24:
        lmwant = hmac_md5(key, server_challenge + lm[16:])
        if lm[:16] != lmwant:
            return False, "LMv2 response wrong"
    return True, "user %s\\%s" % (got_domain, got_user)


class Auth:
    """What the "auth" script expects and has handed out."""

    def __init__(self, opts):
        self.user = os.fsencode(opts.user or "")
        self.password = os.fsencode(opts.password or "")
        self.realm = opts.realm
        self.offers = [o.strip().lower() for o in opts.offer.split(",")
                       if o.strip()]
        self.accepts = [o.strip().lower() for o in
                        (opts.accept or opts.offer).split(",") if o.strip()]
        self.joined = opts.joined
        self.keep = opts.on_407 == "keep"
        self.stale_left = opts.stale
        self.opaque = secrets.token_hex(8)
        self.nonces = {}        # nonce -> (alg, last nc) while valid
        self.lock = threading.Lock()

    def note(self, conn, text):
        sys.stderr.write("auth: conn %d: %s\n" % (conn.index, text))
        sys.stderr.flush()

    def challenges(self, stale=False):
        out = []
        for o in self.offers:
            if o == "basic":
                out.append('Basic realm=%s, charset="UTF-8"'
                           % quote(self.realm))
            elif o in OFFER_ALGS:
                nonce = secrets.token_urlsafe(18)
                with self.lock:
                    self.nonces[nonce] = (OFFER_ALGS[o], 0)
                out.append('Digest realm=%s, qop="auth", algorithm=%s, '
                           'nonce="%s", opaque="%s"%s'
                           % (quote(self.realm), OFFER_ALGS[o], nonce,
                              self.opaque, ", stale=true" if stale else ""))
            elif o == "ntlm":
                out.append("NTLM")
            elif o == "negotiate":
                out.append("Negotiate")
            else:
                out.append(o.capitalize() + " realm=" + quote(self.realm))
        if self.joined:
            out = [", ".join(out)]
        return b"".join(b"Proxy-Authenticate: " + c.encode("utf-8")
                        + b"\r\n" for c in out)

    def check_basic(self, cred):
        try:
            got = base64.b64decode(cred.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False, "bad base64"
        if got == self.user + b":" + self.password:
            return True, "user %s" % self.user.decode("utf-8", "replace")
        return False, "wrong user:password (%d bytes)" % len(got)

    def check_digest(self, conn, cred):
        """(ok, stale, why)"""
        p = parse_auth_params(cred)
        for k in ("username", "realm", "nonce", "uri", "response"):
            if p.get(k) is None:
                return False, False, "no %s" % k
        raw = {k: (v or "").encode("latin-1") for k, v in p.items()}
        want_uri = "%s:%d" % conn.target if ":" not in conn.target[0] \
            else "[%s]:%d" % conn.target
        with self.lock:
            known = self.nonces.get(p["nonce"])
        if known is None:
            return False, False, "unknown or retired nonce"
        alg, last_nc = known
        if (p.get("algorithm") or "MD5").lower() != alg.lower():
            return False, False, "algorithm %s, challenge said %s" % (
                p.get("algorithm"), alg)
        if alg not in [OFFER_ALGS.get(o) for o in self.accepts]:
            return False, False, "%s offered but not accepted" % alg
        if raw["realm"] != self.realm.encode("utf-8"):
            return False, False, "realm %r" % p["realm"]
        if p["uri"] != want_uri:
            return False, False, "uri %r, expected %r" % (p["uri"], want_uri)
        if p.get("opaque") != self.opaque:
            return False, False, "opaque not echoed"
        if p.get("qop") != "auth" or not p.get("cnonce") or \
                not re_nc(p.get("nc")):
            return False, False, "qop/cnonce/nc missing or malformed"
        nc = int(p["nc"], 16)
        if nc <= last_nc:
            return False, False, "nc %s reused" % p["nc"]
        _, hfun, _ = DIGEST_ALGS[alg.lower()]
        if (p.get("userhash") or "").lower() == "true":
            uh = hfun(self.user + b":" + self.realm.encode()).hexdigest()
            if p["username"] != uh:
                return False, False, "userhash wrong"
        elif raw["username"] != self.user:
            return False, False, "username %r" % p["username"]
        want = digest_response(alg, self.user, self.realm.encode("utf-8"),
                               self.password, b"CONNECT",
                               raw["uri"], raw["nonce"], raw["nc"],
                               raw["cnonce"], b"auth")
        if not hmac.compare_digest(p["response"].lower(), want):
            return False, False, "response %s, expected %s" % (
                p["response"], want)
        with self.lock:
            self.nonces[p["nonce"]] = (alg, nc)
            if self.stale_left > 0:
                self.stale_left -= 1
                del self.nonces[p["nonce"]]
                return False, True, "%s right, nonce now stale" % alg
        return True, False, "%s user %s" % (alg, p["username"])


def re_nc(v):
    return v is not None and len(v) == 8 and all(
        ch in "0123456789abcdefABCDEF" for ch in v)


def s_auth(conn):
    a = conn.server.auth
    user = a.user.decode("utf-8", "surrogateescape")
    if "\\" in user:
        ntlm_domain, ntlm_user = user.split("\\", 1)
    else:
        ntlm_domain, ntlm_user = NTLM_DOMAIN, user
    password = a.password.decode("utf-8", "surrogateescape")
    server_challenge = None
    while True:
        value = conn.header("Proxy-Authorization")
        scheme, _, cred = (value or "").strip().partition(" ")
        scheme = scheme.lower()
        ok, stale = False, False
        if value is None:
            why = "none: no Proxy-Authorization"
        elif scheme == "basic" and "basic" in a.accepts:
            ok, why = a.check_basic(cred)
            why = "basic " + why
        elif scheme == "digest" and any(o in OFFER_ALGS for o in a.accepts):
            ok, stale, why = a.check_digest(conn, cred)
            why = "digest " + why
        elif scheme == "ntlm" and "ntlm" in a.accepts:
            try:
                msg = base64.b64decode(cred.strip(), validate=True)
            except (binascii.Error, ValueError):
                msg = b""
            mtype = (struct.unpack_from("<I", msg, 8)[0]
                     if len(msg) >= 16 and msg[:8] == NTLM_SIG else 0)
            if mtype == 1:
                flags = struct.unpack_from("<I", msg, 12)[0]
                if not flags & NTLM_NTLM:
                    why = "ntlm type-1 without NEGOTIATE_NTLM"
                else:
                    a.note(conn, "ntlm type-1 ok, flags %08x" % flags)
                    server_challenge = NTLM_SERVER_CHALLENGE
                    t2 = base64.b64encode(ntlm_type2(server_challenge))
                    conn.send(refusal(407, "Proxy Authentication Required",
                                      b"Proxy-Authenticate: NTLM " + t2
                                      + b"\r\n", keepalive=True))
                    if conn.read_head() is None:
                        a.note(conn, "ntlm closed after type-2")
                        return
                    conn.server.log(conn.head)
                    continue
            elif mtype == 3 and server_challenge is not None:
                try:
                    ok, why = ntlm_check_type3(msg, server_challenge,
                                               ntlm_user, ntlm_domain,
                                               password)
                except (ValueError, struct.error, UnicodeError) as e:
                    ok, why = False, "malformed type-3: %s" % e
                why = "ntlm type-3 " + why
            elif mtype == 3:
                why = "ntlm type-3 on a connection that had no type-2"
            else:
                why = "ntlm message of type %d" % mtype
            server_challenge = None
        else:
            why = "scheme %r not accepted" % scheme
        a.note(conn, ("ok " if ok else "bad ") + why)
        if ok:
            conn.reply_and_tunnel(OK11)
            return
        conn.send(refusal(407, "Proxy Authentication Required",
                          a.challenges(stale), keepalive=a.keep))
        if not a.keep:
            conn.finish()
            return
        if conn.read_head() is None:
            return
        conn.server.log(conn.head)


def self_test():
    """Check md4, Digest and NTLMv2 against published vectors."""
    assert md4(b"").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"
    assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"
    assert md4(b"12345678901234567890123456789012345678901234567890123456"
               b"789012345678901234567890").hex() == \
        "e33b4ddc9c38f2199c3e7b164fcc0536"
    # RFC 7616 3.9.1
    args = (b"Mufasa", b"http-auth@example.org", b"Circle of Life", b"GET",
            b"/dir/index.html",
            b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", b"00000001",
            b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", b"auth")
    assert digest_response("MD5", *args) == \
        "8ca523f5e9506fed4657c9700eebdbec"
    assert digest_response("SHA-256", *args) == \
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    # MS-NLMP 4.2.4: User, Domain, Password; time 0; client challenge aa*8
    assert md4("Password".encode("utf-16-le")).hex() == \
        "a4f49c406510bdcab6824ee7c30fd852"
    key = ntowfv2("User", "Password", "Domain")
    assert key.hex() == "0c868a403bfd7a93a3001ef22ef02e3f"
    info = (av_pair(2, "Domain".encode("utf-16-le"))
            + av_pair(1, "Server".encode("utf-16-le")) + av_pair(0, b""))
    blob = (b"\x01\x01" + b"\x00" * 6 + b"\x00" * 8 + b"\xaa" * 8
            + b"\x00" * 4 + info + b"\x00" * 4)
    assert ntlmv2_proof(key, NTLM_SERVER_CHALLENGE, blob).hex() == \
        "68cd0ab851e51c96aabc927bebef6a1c"
    assert hmac_md5(key, NTLM_SERVER_CHALLENGE + b"\xaa" * 8).hex() == \
        "86c35097ac9cec102554764a57cccc19"
    print("self-test ok")
    return 0


SCRIPTS = {
    # name: (description, function(conn))
    "ok": ("HTTP/1.1 200 Connection established, relay like squid",
           s_tunnel(OK11)),
    "halfclose": ("200, then relay keeping half-closed tunnels open",
                  s_tunnel(OK11, "half")),
    "http10": ("HTTP/1.0 200 Connection established",
               s_tunnel(b"HTTP/1.0 200 Connection established\r\n\r\n")),
    "noreason": ("HTTP/1.1 200 with no reason phrase",
                 s_tunnel(b"HTTP/1.1 200\r\n\r\n")),
    "noreason10": ("HTTP/1.0 200 with no reason phrase",
                   s_tunnel(b"HTTP/1.0 200\r\n\r\n")),
    "barelf": ("200 with headers, every line ending in a bare LF",
               s_tunnel(b"HTTP/1.1 200 OK\nVia: 1.1 fakeproxy\n"
                        b"X-Note: bare LF\n\n")),
    "bigheaders": ("200 followed by 6 KiB of headers",
                   s_tunnel(b"HTTP/1.1 200 Connection established\r\n"
                            + many_headers(6 * 1024) + b"\r\n")),
    "bytewise": ("200 with headers, sent one byte at a time",
                 s_tunnel(b"HTTP/1.1 200 Connection established\r\n"
                          b"Via: 1.1 fakeproxy\r\nX-Slow: yes\r\n\r\n",
                          bytewise=0.002)),
    "lines100": ("200 head of exactly 100 lines (status, 98 headers, blank)",
                 s_tunnel(b"HTTP/1.1 200 Connection established\r\n"
                          + b"".join(b"X-L%02d: v\r\n" % i
                                     for i in range(98)) + b"\r\n")),
    "head60k": ("200 followed by 60 lines of 1000-byte headers (60 KB)",
                s_tunnel(b"HTTP/1.1 200 Connection established\r\n"
                         + many_headers(60 * 1000, 1000) + b"\r\n")),
    "contentlength": ("200 with Content-Length and Transfer-Encoding, "
                      "which a 2xx to CONNECT must ignore",
                      s_tunnel(b"HTTP/1.1 200 Connection established\r\n"
                               b"Content-Length: 12345\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n")),
    "trickle": ("start a 200 head, then one byte each 0.1 s, forever",
                s_trickle),
    "withdata": ("200 head and binary tunnel data in one segment, relay",
                 s_tunnel(OK11, extra=BINARY_PREAMBLE)),
    "created": ("HTTP/1.1 201 Created, relay",
                s_tunnel(b"HTTP/1.1 201 Created\r\n\r\n")),
    "status2000": ("HTTP/1.1 2000 (four digits), then close",
                   s_raw(b"HTTP/1.1 2000 Connection established\r\n\r\n")),
    "status20": ("HTTP/1.1 20 (two digits), then close",
                 s_raw(b"HTTP/1.1 20 OK\r\n\r\n")),
    "http2": ("HTTP/2 200, then close",
              s_raw(b"HTTP/2 200\r\n\r\n")),
    "intercept": ("200, then an HTTP 400 as if the target had answered "
                  "(an intercepting proxy), close",
                  s_raw(OK11 + refusal(400, "Bad Request"))),
    "garbage": ("not HTTP at all, then close",
                s_raw(b"SSH-2.0-OpenSSH_9.2p1 \x00\xff\xfe\r\n\r\n")),
    "empty": ("close at once without a byte", s_raw(b"")),
    "midhead": ("close in the middle of a 200 head",
                s_raw(b"HTTP/1.1 200 Connection established\r\nVia: 1.1 fa")),
    "midstatus": ("close in the middle of the status line",
                  s_raw(b"HTTP/1.1 20")),
    "endless": ("1 MiB of short header lines without an end, stay open",
                lambda c: s_endless(c, b"X-More: " + b"m" * 54 + b"\r\n")),
    "endlessline": ("one header line of 1 MiB without an end, stay open",
                    lambda c: s_endless(c, b"x" * 4096)),
    "mixed": ("by target name: slow* 200 after 3 s, deny* 403, auth* and "
              "authclose* 407 rounds, else 200; no relay", s_mixed),
    "silent": ("read the request, never answer, stay open",
               lambda c: c.hold()),
    "slow": ("wait 0.5 s before 200, log bytes that came early, half relay",
             s_slow),
    "rst": ("200, 17 bytes of data, then an RST after 0.3 s", s_rst),
    "forbidden": ("403 Forbidden with an HTML body, close",
                  s_refuse(403, "Forbidden")),
    "forbiddenkeep": ("403 Forbidden with an HTML body, keep-alive, "
                      "never close", s_refuse(403, "Forbidden",
                                              keepalive=True)),
    "authrequired": ("407 with Basic challenge and an HTML body, close",
                     s_refuse(407, "Proxy Authentication Required",
                              b'Proxy-Authenticate: Basic realm="fake"\r\n')),
    "badgateway": ("502 Bad Gateway with an HTML body, close",
                   s_refuse(502, "Bad Gateway")),
    "unavailable": ("503 Service Unavailable with an HTML body, close",
                    s_refuse(503, "Service Unavailable")),
    "auth": ("check Proxy-Authorization (--user, --pass, --offer ...): "
             "200 and relay, else 407", s_auth),
}


class Server:
    def __init__(self, script, log_path):
        self.script = script
        self.log_path = log_path
        self.lock = threading.Lock()
        self.syncs = 0
        if log_path:
            open(log_path, "wb").close()

    def log(self, data):
        if not self.log_path:
            return
        with self.lock:
            with open(self.log_path, "ab") as f:
                f.write(data)

    def handle(self, sock, index):
        conn = Conn(self, sock, index)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            head = conn.read_head()
            if head is None:
                self.log(conn.buf)
                sock.close()
                return
            if head.startswith(b"SYNC"):
                with self.lock:
                    self.syncs += 1
                    others = index - self.syncs
                sock.sendall(b"SYNCED %d\n" % others)
                sock.close()
                return
            self.log(head)
            SCRIPTS[self.script][1](conn)
        except OSError:
            pass
        finally:
            close_quietly(sock)


def main():
    ap = argparse.ArgumentParser(description="scripted fake CONNECT proxy")
    add_listen_args(ap)
    ap.add_argument("--script", default="ok")
    ap.add_argument("--log")
    ap.add_argument("--list", action="store_true")
    # Script "auth" (issue 4):
    ap.add_argument("--user", help="expected user (DOMAIN\\user for NTLM)")
    ap.add_argument("--pass", dest="password", help="expected password")
    ap.add_argument("--realm", default="fakeproxy")
    ap.add_argument("--offer", default="basic",
                    help="comma list: basic, digest-md5, digest-md5-sess, "
                    "digest-sha256, digest-sha256-sess, ntlm, negotiate, "
                    "or another word (an unknown scheme)")
    ap.add_argument("--accept",
                    help="comma list of the offered schemes actually "
                    "accepted (default: all offered)")
    ap.add_argument("--joined", action="store_true",
                    help="all challenges in one Proxy-Authenticate header")
    ap.add_argument("--on-407", choices=("close", "keep"), default="close",
                    help="407 with Connection: close, or kept alive with "
                    "a Content-Length body")
    ap.add_argument("--stale", type=int, default=0,
                    help="answer the first N right Digest responses with "
                    "stale=true and a fresh nonce")
    ap.add_argument("--self-test", action="store_true",
                    help="check MD4, Digest and NTLMv2 against the RFC "
                    "and MS-NLMP vectors, exit")
    opts = ap.parse_args()
    if opts.self_test:
        return self_test()
    if opts.list:
        for name, (desc, _) in SCRIPTS.items():
            print("%-14s %s" % (name, desc))
        return 0
    if opts.script not in SCRIPTS:
        ap.error("unknown script %r (see --list)" % opts.script)

    server = Server(opts.script, opts.log)
    server.auth = Auth(opts)
    serve(opts, server.handle)


if __name__ == "__main__":
    run_main(main)
