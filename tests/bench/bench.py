#!/usr/bin/env python3
"""make bench: culvert against the ideal splice client and every peer.

Runs on loopback, in one run: for each proxy (the splice proxy of
tests/bench/spliceproxy.c and a private squid) and each client, download
and upload of SIZE bytes, keystroke round trip, tunnel setup, syscalls per
MiB (strace -f -c) and peak RSS.  Every figure is reported as a ratio to
the ideal client (tests/bench/idealclient.c) measured in the same run:
median over the repetitions, spread = half the range over the median.
Through the splice proxy also: download into a pipe, /dev/null and a
regular file, upload from a pipe and a regular file.

Listen mode, for each proxy: LISTEN_N tunnels at once (tests/bench/
swarm.c) through culvert -L, culvert -D (SOCKS5), cntlm (Tunnel and
SOCKS5Proxy) and socat fork: set-up rate, memory of the forwarder with all
tunnels open, aggregate throughput; and one tunnel's throughput through
each, against culvert in stdio mode and against stdio mode with one more
hop relayed by the ideal splice proxy (what the connection a forwarder
adds costs).

culvert serve: as a CONNECT proxy beside the ideal splice proxy, tinyproxy
and squid, with the ideal client and culvert (throughput, the proxy's CPU
per GiB and RSS per tunnel); culvert --tunnel through squid, the http
transport with CONNECT denied (beside GNU httptunnel) and the stream
transport, each against a CONNECT tunnel through the same squid
(throughput, keystroke round trip); and the time from a cut of the
connection to data flowing again (tests/bench/cutter.c, drive cut).

Environment:
  QUICK=1        small sizes, 2 repetitions: a few minutes
  REPS=N         repetitions (default 3, QUICK 2)
  BENCH_MIB=N    transfer size in MiB (default 1024, QUICK 128)
  CULVERT=PATH   culvert binary (default ./culvert)
  BENCH_TOOLS    comma list of row names to run (default all)
  BENCH_PROXIES  comma list out of splice,squid (default both)
  BENCH_LISTEN   comma list of listen-mode rows (default all; "none" skips
                 the listen-mode section)
  LISTEN_N=N     concurrent tunnels (default 1000, QUICK 200)
  BENCH_SERVE    comma list out of proxy,http,stream (default all; "none"
                 skips the culvert serve sections)
  BENCH_NOINSTALL=1  never run apt-get

Output: markdown on stdout, also in build/bench/results.md; raw figures
in build/bench/results.json; client stderr in build/bench/logs/.
Needs build/bench/{spliceproxy,idealclient,target,drive,swarm,cutter}
(make bench-build).
"""

import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "build", "bench")
LOGS = os.path.join(BIN, "logs")
MIB = 1024 * 1024
GIB = 1024 * MIB
LO = "127.0.0.1"

QUICK = os.environ.get("QUICK", "") not in ("", "0")
REPS = int(os.environ.get("REPS", "2" if QUICK else "3"))
SIZE = int(os.environ.get("BENCH_MIB", "128" if QUICK else "1024")) * MIB
STRACE_SIZE = (16 if QUICK else 64) * MIB
RTT_N = 300 if QUICK else 1000
RTT_ROUNDS = 3 if QUICK else 5
SETUP_N = 20 if QUICK else 300
LISTEN_N = int(os.environ.get("LISTEN_N", "200" if QUICK else "1000"))
LISTEN_EACH = (256 if QUICK else 1024) * 1024   # bytes each way per tunnel
LISTEN_TIMEOUT = 15 if QUICK else 60            # per phase, seconds

PEER_PACKAGES = ["corkscrew", "connect-proxy", "proxytunnel", "netcat-openbsd",
                 "ncat", "socat", "strace", "squid", "cntlm", "tinyproxy", "httptunnel",
                 "curl"]

started = []            # Popen objects of servers we started

# Round trip and setup run with every process of the path on one CPU:
# where the scheduler puts them (same CPU or a wakeup across CPUs) moves
# the round trip by a factor of five on a small VM, and more than any
# client does.
PIN_CPU = max(os.sched_getaffinity(0))


def pin():
    os.sched_setaffinity(0, {PIN_CPU})


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- setup

def ensure_packages():
    missing = []
    for p in PEER_PACKAGES:
        r = subprocess.run(["dpkg", "-s", p], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        if r.returncode != 0 or "Status: install ok installed" not in r.stdout:
            missing.append(p)
    if not missing:
        return
    if os.environ.get("BENCH_NOINSTALL") or os.geteuid() != 0:
        note("missing packages (not installing): " + " ".join(missing))
        return
    note("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env)
    r = subprocess.run(["apt-get", "install", "-y", "-qq",
                        "--no-install-recommends"] + missing, env=env)
    if r.returncode != 0:
        note("apt-get install failed; rows for missing peers say so")


def start_server(argv, portfile=None, logpath=None, pinned=False):
    """Start a server in its own session; return (Popen, port)."""
    out = open(logpath, "w") if logpath else subprocess.PIPE
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL,
                         start_new_session=True, text=True,
                         preexec_fn=pin if pinned else None)
    started.append(p)
    deadline = time.time() + 10
    while time.time() < deadline:
        if portfile:
            try:
                with open(portfile) as f:
                    return p, int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.02)
                continue
        if logpath:
            try:
                with open(logpath) as f:
                    line = f.readline()
                if line.endswith("\n"):
                    return p, int(line)
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
            continue
        return p, int(p.stdout.readline())
    raise RuntimeError("server did not start: " + " ".join(argv))


def free_port():
    s = socket.socket()
    s.bind((LO, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((LO, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def start_squid(tmp, name, pinned=False):
    """A private squid: own config and port, no cache, CONNECT anywhere:
    (port, None) or (None, why)."""
    p, port = squid_start(tmp, name, pinned)
    return (port, None) if p else (None, port)


def squid_start(tmp, name, pinned=False, deny_connect=False):
    """start_squid, as (Popen, port) or (None, why); deny_connect: every
    CONNECT refused (403), plain requests (GET, POST) let through, as a
    proxy that forbids tunnels does."""
    squid = shutil.which("squid") or "/usr/sbin/squid"
    if not os.path.exists(squid):
        return None, "squid not installed"
    d = os.path.join(tmp, name)
    os.mkdir(d)
    os.chmod(d, 0o777)      # squid drops root privileges to its own user
    port = free_port()
    conf = os.path.join(d, "squid.conf")
    with open(conf, "w") as f:
        f.write(f"""http_port {LO}:{port}
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log none
cache deny all
cache_mem 0 MB
acl lo src 127.0.0.0/8
{"http_access deny CONNECT" if deny_connect else ""}
http_access allow lo
http_access deny all
visible_hostname bench.localhost
pinger_enable off
shutdown_lifetime 0 seconds
coredump_dir {d}
logfile_rotate 0
max_filedescriptors {max(4096, 4 * LISTEN_N + 256)}
""")
    p = subprocess.Popen([squid, "-N", "-f", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True,
                         preexec_fn=pin if pinned else None)
    started.append(p)
    if not wait_port(port, 20):
        return None, "squid did not start (see " + d + "/cache.log)"
    return p, port


def stop_servers():
    for p in started:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
    for p in started:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()


# ---------------------------------------------------------------- tools

def culvert_path():
    c = os.environ.get("CULVERT") or os.path.join(ROOT, "culvert")
    return c if os.access(c, os.X_OK) else None


def culvert_has(c, opt):
    try:
        r = subprocess.run([c, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return opt in r.stdout


def tools():
    """Rows: (name, argv(proxy_port, target_port, mode) or None, why-missing)."""
    rows = []
    ideal = os.path.join(BIN, "idealclient")
    rows.append(("ideal client", lambda pp, tp, m: [ideal, LO, str(pp), LO, str(tp)], None))
    c = culvert_path()
    if c:
        def cul(extra):
            return lambda pp, tp, m: ([c] + extra + ["-p", f"{LO}:{pp}"] +
                                      (["-N"] if m == "up" else []) + [LO, str(tp)])
        rows.append(("culvert", cul([]), None))
        if culvert_has(c, "--no-splice"):
            rows.append(("culvert --no-splice", cul(["--no-splice"]), None))
    else:
        rows.append(("culvert", None, "not built"))

    def peer(name, binary, fn):
        path = shutil.which(binary)
        rows.append((name, (lambda pp, tp, m: fn(path, pp, tp)) if path else None,
                     None if path else "not installed"))
    peer("corkscrew", "corkscrew", lambda b, pp, tp: [b, LO, str(pp), LO, str(tp)])
    peer("connect-proxy", "connect", lambda b, pp, tp: [b, "-H", f"{LO}:{pp}", LO, str(tp)])
    peer("proxytunnel", "proxytunnel", lambda b, pp, tp: [b, "-p", f"{LO}:{pp}", "-d", f"{LO}:{tp}"])
    peer("nc -X connect", "nc", lambda b, pp, tp: [b, "-N", "-X", "connect", "-x", f"{LO}:{pp}", LO, str(tp)])
    peer("ncat", "ncat", lambda b, pp, tp: [b, "--proxy", f"{LO}:{pp}", "--proxy-type", "http", LO, str(tp)])
    peer("socat", "socat", lambda b, pp, tp: [b, "-", f"PROXY:{LO}:{LO}:{tp},proxyport={pp}"])
    want = os.environ.get("BENCH_TOOLS")
    if want:
        names = [w.strip() for w in want.split(",")]
        rows = [r for r in rows if r[0] in names or r[0] == "ideal client"]
    return rows


# ---------------------------------------------------------------- measuring

def drive(mode, n, timeout, argv, log, prefix=(), pinned=False, files=()):
    """files: ["-o", PATH] or ["-i", PATH] for drive's stdio files."""
    cmd = ([os.path.join(BIN, "drive"), mode, str(n), str(timeout)] + list(files) +
           ["--"] + list(prefix) + argv)
    with open(log, "a") as err:
        err.write("$ " + " ".join(cmd) + "\n")
        err.flush()
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True,
                               timeout=timeout + 30, preexec_fn=pin if pinned else None)
        except subprocess.TimeoutExpired:
            return {"ok": "0", "why": "hung"}
    kv = {}
    for tok in r.stdout.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            kv[k] = v
    if not kv:
        kv = {"ok": "0", "why": "drive-error"}
    return kv


class Sink:
    """The sink target's log: one line "COUNT T_EOF T_LAST STATUS" per connection."""

    def __init__(self, path):
        self.path = path
        self.seen = 1           # the port line

    def next_line(self, timeout):
        deadline = time.time() + timeout
        while True:
            with open(self.path) as f:
                lines = f.read().split("\n")[:-1]
            if len(lines) > self.seen:
                self.seen += 1
                return lines[self.seen - 1].split(None, 3)
            if time.time() > deadline:
                return None
            time.sleep(0.01)

    def skip_all(self):
        with open(self.path) as f:
            self.seen = len(f.read().split("\n")[:-1])


def strace_calls(path):
    try:
        with open(path) as f:
            for line in f:
                fields = line.split()
                if fields and fields[-1] == "total":
                    return int(fields[3])
    except (OSError, ValueError, IndexError):
        pass
    return None


METRICS = [
    # key, header, unit, higher is better
    ("down", "download", "MiB/s", True),
    ("up", "upload", "MiB/s", True),
    ("cpu_down", "CPU ↓", "s/GiB", False),
    ("cpu_up", "CPU ↑", "s/GiB", False),
    ("sys_down", "syscalls ↓", "/MiB", False),
    ("sys_up", "syscalls ↑", "/MiB", False),
    ("rtt", "keystroke RTT", "µs", False),
    ("setup", "setup", "µs", False),
    ("rss", "peak RSS", "MiB", False),
]


def make_file(path, size):
    """A regular file of size bytes, for uploads from a file on stdin."""
    chunk = b"x" * MIB
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(chunk[:min(left, MIB)])
            left -= MIB


# Stdout and stdin kinds beside a pipe: key suffix, what it is.
KINDS_DOWN = [("null", "/dev/null"), ("file", "a regular file")]
KINDS_UP = [("file", "a regular file")]


def measure_kinds(pport, ports, sink, argv, log, res, fl, tmp, add):
    """Stdio-mode transfers with stdout /dev/null or a file, stdin a file."""
    xfer_timeout = 20 + SIZE / (40 * MIB)
    for kind, _ in KINDS_DOWN:
        key = "down_" + kind
        if key in fl:
            continue
        path = "/dev/null" if kind == "null" else os.path.join(tmp, "down.bin")
        kv = drive("down", SIZE, xfer_timeout, argv(pport, ports["source"], "down"), log,
                   files=["-o", path])
        if kind == "file":
            try:
                os.unlink(path)     # before writeback: no disk traffic
            except OSError:
                pass
        if kv.get("ok") == "1":
            add(key, SIZE / MIB / float(kv["wall"]))
            add("cpu_" + key, (float(kv["user"]) + float(kv["sys"])) / (SIZE / GIB))
        else:
            fl[key] = kv.get("why", "?")
    for kind, _ in KINDS_UP:
        key = "up_" + kind
        if key in fl:
            continue
        sink.skip_all()
        kv = drive("up", SIZE, xfer_timeout, argv(pport, ports["sink"], "up"), log,
                   files=["-i", os.path.join(tmp, "up.bin")])
        got = sink.next_line(3)
        if kv.get("ok") != "1" and kv.get("why") != "stdinclosed":
            fl[key] = kv.get("why", "?")
        elif got is None:
            fl[key] = "no EOF at sink"
        elif int(got[0]) != SIZE:
            fl[key] = f"sink got {int(got[0]) / MIB:.1f} MiB"
        else:
            add(key, SIZE / MIB / (float(got[1]) - float(kv["t0"])))
            add("cpu_" + key, (float(kv["user"]) + float(kv["sys"])) / (SIZE / GIB))


def measure_proxy(label, pport, lport, ports, sink, rows, results, fails, tmp,
                  kinds=False):
    """pport: the proxy for transfers; lport: its pinned twin for latency.
    kinds: also the stdio kinds (stdout /dev/null and a file, stdin a file)."""
    xfer_timeout = 20 + SIZE / (40 * MIB)
    for rep in range(REPS):
        for name, argv, missing in rows:
            if argv is None:
                continue
            log = os.path.join(LOGS, f"{label}-{name.replace(' ', '_')}.log")
            res = results.setdefault(name, {})
            fl = fails.setdefault(name, {})

            def add(key, value):
                res.setdefault(key, []).append(value)

            if "down" not in fl:
                kv = drive("down", SIZE, xfer_timeout, argv(pport, ports["source"], "down"), log)
                if kv.get("ok") == "1":
                    wall = float(kv["wall"])
                    add("down", SIZE / MIB / wall)
                    add("cpu_down", (float(kv["user"]) + float(kv["sys"])) / (SIZE / GIB))
                    add("rss", int(kv["maxrss_kb"]) / 1024)
                else:
                    fl["down"] = kv.get("why", "?")
            if "up" not in fl:
                sink.skip_all()
                kv = drive("up", SIZE, xfer_timeout, argv(pport, ports["sink"], "up"), log)
                got = sink.next_line(3)
                if kv.get("ok") != "1" and kv.get("why") != "stdinclosed":
                    fl["up"] = kv.get("why", "?")
                elif got is None:
                    fl["up"] = "no EOF at sink"
                elif int(got[0]) != SIZE:
                    fl["up"] = f"sink got {int(got[0]) / MIB:.1f} MiB"
                else:
                    wall = float(got[1]) - float(kv["t0"])
                    add("up", SIZE / MIB / wall)
                    add("cpu_up", (float(kv["user"]) + float(kv["sys"])) / (SIZE / GIB))
                    add("rss", int(kv["maxrss_kb"]) / 1024)
            if kinds:
                measure_kinds(pport, ports, sink, argv, log, res, fl, tmp, add)
            if "rtt" not in fl:
                # several short runs: where the scheduler puts the processes
                # moves the round trip more than anything else
                meds = []
                for _ in range(RTT_ROUNDS):
                    kv = drive("rtt", RTT_N, 10 + RTT_N * 0.01, argv(lport, ports["echo"], "rtt"), log,
                               pinned=True)
                    if kv.get("ok") != "1":
                        fl["rtt"] = kv.get("why", "?")
                        break
                    meds.append(float(kv["med_us"]))
                else:
                    add("rtt", statistics.median(meds))
            if "setup" not in fl:
                kv = drive("setup", SETUP_N, 10 + SETUP_N * 0.3, argv(lport, ports["one"], "setup"),
                           log, pinned=True)
                if kv.get("ok") == "1":
                    add("setup", float(kv["med_us"]))
                else:
                    fl["setup"] = kv.get("why", "?")
            note(f"{label} rep {rep + 1}/{REPS} {name}: " +
                 ", ".join(f"{k} {v[-1]:.4g}" for k, v in res.items() if v) +
                 ("; fail " + str(fl) if fl else ""))
    # Syscall counts follow how the proxy happens to chunk its writes, so
    # they get repetitions, a median and a spread like everything else.
    strace = shutil.which("strace")
    for rep in range(REPS):
        for name, argv, missing in rows:
            if argv is None:
                continue
            res = results.setdefault(name, {})
            fl = fails.setdefault(name, {})
            log = os.path.join(LOGS, f"{label}-{name.replace(' ', '_')}.log")
            for mode, target in (("down", "source_small"), ("up", "sink")):
                key = "sys_" + mode
                if key in fl:
                    continue
                if not strace:
                    fl[key] = "no strace"
                    continue
                out = os.path.join(tmp, f"strace-{label}-{mode}.txt")
                sink.skip_all()
                kv = drive(mode, STRACE_SIZE, 60 + STRACE_SIZE / (5 * MIB),
                           argv(pport, ports[target], mode), log,
                           prefix=[strace, "-f", "-c", "-o", out, "--"])
                calls = strace_calls(out)
                if mode == "down" and kv.get("ok") != "1":
                    fl[key] = kv.get("why", "?")
                elif calls is None:
                    fl[key] = "no strace total"
                else:
                    res.setdefault(key, []).append(calls / (STRACE_SIZE / MIB))
            note(f"{label} strace rep {rep + 1}/{REPS} {name}: " +
                 ", ".join(f"{k} {res[k][-1]:.3g}" for k in ("sys_down", "sys_up") if res.get(k)))


# ---------------------------------------------------------------- listen mode

CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_nofile():
    """Soft descriptor limit up to the hard one, for us and what we start;
    as root the hard one first to 65536 if lower (a thousand tunnels take
    six descriptors each in culvert and the splice proxy)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if os.geteuid() == 0 and hard != resource.RLIM_INFINITY and hard < 65536:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
            return 65536
        except (OSError, ValueError):
            pass
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def wait_listen(port, timeout=10):
    """Wait until a socket listens on port, without connecting to it (a
    connection to a forwarder would open a tunnel)."""
    want = f":{port:04X}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(path) as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        if fields[1].endswith(want) and fields[3] == "0A":
                            return True
            except (OSError, StopIteration, IndexError):
                pass
        time.sleep(0.02)
    return False


def proc_tree(pid):
    """pid and all its descendants (socat forks one process a tunnel)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def task_cpu(p):
    """On-CPU seconds of p's live threads, to the nanosecond (schedstat)."""
    ns = 0
    try:
        for tid in os.listdir(f"/proc/{p}/task"):
            with open(f"/proc/{p}/task/{tid}/schedstat") as f:
                ns += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return ns / 1e9


def sample(pid):
    """Sums over pid's process tree: VmRSS, VmHWM and Pss (KiB), CPU seconds,
    processes, threads, descriptors.  CPU per process is the larger of
    utime+stime (clock ticks, ended threads included) and its live threads'
    schedstat (exact: a thousand processes of a few ms each round to zero
    ticks), plus the reaped children's ticks for pid itself."""
    s = {"rss_kb": 0, "hwm_kb": 0, "pss_kb": 0, "cpu_s": 0.0, "procs": 0,
         "threads": 0, "fds": 0}
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k == "VmRSS":
                        s["rss_kb"] += int(v.split()[0])
                    elif k == "VmHWM":
                        s["hwm_kb"] += int(v.split()[0])
                    elif k == "Threads":
                        s["threads"] += int(v)
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        s["pss_kb"] += int(line.split()[1])
                        break
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            s["cpu_s"] += max((int(fields[11]) + int(fields[12])) / CLK_TCK, task_cpu(p))
            if p == pid:
                s["cpu_s"] += (int(fields[13]) + int(fields[14])) / CLK_TCK
            s["fds"] += len(os.listdir(f"/proc/{p}/fd"))
            s["procs"] += 1
        except (OSError, ValueError, IndexError):
            pass
    return s


def listen_rows(tmp):
    """Forwarders: (name, socks, argv(lport, proxy_port, target_port) or None,
    why-missing).  socks: clients ask for the target with SOCKS5."""
    rows = []
    c = culvert_path()
    if c:
        rows.append(("culvert -L", False, lambda lp, pp, tp: [
            c, "-L", f"{LO}:{lp}", "-p", f"{LO}:{pp}", LO, str(tp)], None))
        rows.append(("culvert -D", True, lambda lp, pp, tp: [
            c, "-D", f"{LO}:{lp}", "-p", f"{LO}:{pp}"], None))
    else:
        rows.append(("culvert -L", False, None, "not built"))
        rows.append(("culvert -D", True, None, "not built"))
    cntlm = shutil.which("cntlm") or shutil.which("cntlm", path="/usr/sbin")

    def cntlm_argv(lp, pp, tp, socks):
        conf = os.path.join(tmp, f"cntlm-{lp}.conf")
        with open(conf, "w") as f:
            # cntlm opens no tunnel without credentials; the proxy asks for none
            f.write(f"Username bench\nPassword bench\nProxy {LO}:{pp}\n"
                    f"Listen {LO}:{free_port()}\n" +
                    (f"SOCKS5Proxy {LO}:{lp}\n" if socks else f"Tunnel {LO}:{lp}:{LO}:{tp}\n"))
        return [cntlm, "-f", "-c", conf]
    why = None if cntlm else "not installed"
    rows.append(("cntlm Tunnel", False,
                 (lambda lp, pp, tp: cntlm_argv(lp, pp, tp, False)) if cntlm else None, why))
    rows.append(("cntlm SOCKS5Proxy", True,
                 (lambda lp, pp, tp: cntlm_argv(lp, pp, tp, True)) if cntlm else None, why))
    socat = shutil.which("socat")
    why = None if socat else "not installed"

    def socat_argv(lp, pp, tp, extra):
        return [socat, f"TCP-LISTEN:{lp},bind={LO},fork,reuseaddr{extra}",
                f"PROXY:{LO}:{LO}:{tp},proxyport={pp}"]
    rows.append(("socat fork", False,
                 (lambda lp, pp, tp: socat_argv(lp, pp, tp, "")) if socat else None, why))
    rows.append(("socat backlog=1024", False,
                 (lambda lp, pp, tp: socat_argv(lp, pp, tp, ",backlog=1024")) if socat else None,
                 why))
    want = os.environ.get("BENCH_LISTEN")
    if want:
        names = [w.strip() for w in want.split(",")]
        rows = [r for r in rows if r[0] in names]
    return rows


def stop_proc(p, grace=2.0):
    """SIGTERM to p's process group, SIGKILL after grace seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
    try:
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()


def start_forwarder(argv, lport, log):
    """Start a forwarder in its own session; None when it does not listen."""
    err = open(log, "a")
    err.write("$ " + " ".join(argv) + "\n")
    err.flush()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                         start_new_session=True)
    err.close()
    started.append(p)
    if not wait_listen(lport):
        stop_proc(p)
        return None
    return p


def kv_line(line):
    kv = {}
    for tok in (line or "").split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            kv[k] = v
    return kv


def run_load(argv, socks, pport, echo_port, log):
    """LISTEN_N tunnels at once through one forwarder: a dict of figures,
    with "why" when something went wrong."""
    lport = free_port()
    p = start_forwarder(argv(lport, pport, echo_port), lport, log)
    if p is None:
        return {"why": "did not start"}
    time.sleep(0.2)
    return swarm_load(p, lport, ["-5", f"{LO}:{echo_port}"] if socks else [], log)


def swarm_load(p, lport, opts, log):
    """LISTEN_N tunnels at once through p, listening on lport (swarm's opts
    say how to ask for the echo target); p is stopped at the end."""
    s0 = sample(p.pid)
    cmd = ([os.path.join(BIN, "swarm"), "-w"] + opts +
           ["echo", str(LISTEN_N), str(LISTEN_EACH), str(LISTEN_TIMEOUT), LO, str(lport)])
    res, up, data, s1, s2 = {}, {}, {}, s0, s0
    with open(log, "a") as err:
        err.write("$ " + " ".join(cmd) + "\n")
        err.flush()
        sw = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=err, text=True)
    try:
        # swarm bounds each phase by LISTEN_TIMEOUT, so these reads end
        up = kv_line(sw.stdout.readline())
        s1 = s2 = sample(p.pid)
        sw.stdin.write("go\n")
        sw.stdin.flush()
        data = kv_line(sw.stdout.readline())
        s2 = sample(p.pid)
        sw.stdin.write("go\n")
        sw.stdin.flush()
        sw.stdout.readline()
        sw.wait(timeout=LISTEN_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        pass
    finally:
        if sw.poll() is None:
            sw.kill()
            sw.wait()
    alive = p.poll() is None
    time.sleep(0.3)
    s3 = sample(p.pid) if alive else None
    stop_proc(p)
    n_up = int(up.get("up", "0"))
    if not alive:
        res["why"] = f"forwarder exited ({p.returncode})"
    elif up.get("ok") != "1":
        res["why"] = up.get("why", "no answer")
    elif data.get("ok") != "1":
        res["why"] = f"data: {data.get('why', 'no answer')}"
    res["raw"] = {"before": s0, "up": s1, "data": s2, "closed": s3, "swarm_up": up,
                  "swarm_data": data}
    if n_up == 0 or not alive:
        return res
    res["up"] = n_up
    res["rate"] = float(up["rate"])
    res["setup_cpu"] = (s1["cpu_s"] - s0["cpu_s"]) / n_up * 1000
    res["rss"] = s2["rss_kb"] / 1024
    res["rss_per"] = (s2["rss_kb"] - s0["rss_kb"]) / n_up
    res["pss_per"] = (s2["pss_kb"] - s0["pss_kb"]) / n_up
    res["hwm"] = s2["hwm_kb"] / 1024
    res["procs"] = s2["procs"]
    res["threads"] = s2["threads"]
    res["fds"] = s2["fds"]
    if data.get("mib_s") and int(data.get("bytes", "0")) > 0:
        res["agg"] = float(data["mib_s"])
        res["cpu_data"] = (s2["cpu_s"] - s1["cpu_s"]) / (int(data["bytes"]) / GIB)
    return res


def run_single(argv, socks, pport, ports, sink, mode, log):
    """One tunnel through a forwarder: SIZE bytes down from the source target
    or up to the sink; (MiB/s, forwarder CPU s/GiB) or a why string."""
    tport = ports["source" if mode == "down" else "sink"]
    lport = free_port()
    p = start_forwarder(argv(lport, pport, tport), lport, log)
    if p is None:
        return "did not start"
    c0 = sample(p.pid)["cpu_s"]
    sink.skip_all()
    cmd = ([os.path.join(BIN, "swarm")] + (["-5", f"{LO}:{tport}"] if socks else []) +
           [mode, "1", str(SIZE), str(20 + SIZE / (40 * MIB)), LO, str(lport)])
    with open(log, "a") as err:
        err.write("$ " + " ".join(cmd) + "\n")
        err.flush()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True,
                           timeout=60 + SIZE / (40 * MIB))
    kv = kv_line(r.stdout)
    # socat's child for the tunnel: once it is reaped its CPU is in the
    # parent's, with no moment where it is counted twice or missed
    deadline = time.time() + 3
    while len(proc_tree(p.pid)) > 1 and time.time() < deadline:
        time.sleep(0.02)
    c1 = sample(p.pid)["cpu_s"]
    alive = p.poll() is None
    stop_proc(p)
    if not alive:
        return f"forwarder exited ({p.returncode})"
    cpu = (c1 - c0) / (SIZE / GIB)
    if mode == "down":
        if kv.get("ok") != "1":
            return kv.get("why", "?")
        return SIZE / MIB / float(kv["wall"]), cpu
    got = sink.next_line(3)
    if kv.get("ok") != "1" and kv.get("why") not in ("short", "recv"):
        return kv.get("why", "?")
    if got is None:
        return "no EOF at sink"
    if int(got[0]) != SIZE:
        return f"sink got {int(got[0]) / MIB:.1f} MiB"
    return SIZE / MIB / (float(got[1]) - float(kv["t0"])), cpu


LOAD_METRICS = [
    # key, header, unit, higher is better, format
    ("rate", "set-up rate", "tunnels/s", True),
    ("setup_cpu", "set-up CPU", "ms/tunnel", False),
    ("rss", "RSS, all open", "MiB", False),
    ("rss_per", "RSS per tunnel", "KiB", False),
    ("pss_per", "PSS per tunnel", "KiB", False),
    ("hwm", "peak RSS", "MiB", False),
    ("agg", "throughput", "MiB/s", True),
    ("cpu_data", "CPU", "s/GiB", False),
]

SINGLE_ROWS_STDIO = "culvert (stdio mode)"
# A forwarder adds a TCP connection (client to forwarder) that stdio mode
# does not have; this row is stdio mode with one more connection, relayed
# by the ideal splice proxy: what that connection costs by itself.
SINGLE_ROWS_HOP = "culvert (stdio mode) + ideal hop"
SINGLE_SKIP = {"socat backlog=1024"}   # one tunnel: the same as socat fork
SINGLE_REFS = [(SINGLE_ROWS_STDIO, False, None, None), (SINGLE_ROWS_HOP, False, None, None)]


def measure_listen(label, pport, ports, sink, rows, tmp):
    """The listen-mode section through one proxy: (markdown, raw)."""
    load, lfail = {}, {}
    single, sfail = {}, {}
    culvert = culvert_path()
    for rep in range(REPS):
        for name, socks, argv, missing in rows:
            if argv is None:
                continue
            log = os.path.join(LOGS, f"listen-{label.replace(' ', '_')}-{name.replace(' ', '_')}.log")
            if name not in lfail:
                r = run_load(argv, socks, pport, ports["echo_many"], log)
                figures = load.setdefault(name, {})
                for k, v in r.items():
                    if k != "why":
                        figures.setdefault(k, []).append(v)
                if "why" in r:
                    # a timeout is a finding; more runs of it only cost minutes
                    lfail[name] = r["why"]
                note(f"listen {label} rep {rep + 1}/{REPS} {name}: " +
                     ", ".join(f"{k} {r[k]:.4g}" for k, _, _, _ in LOAD_METRICS if k in r) +
                     (f"; {r['why']}" if "why" in r else ""))
        for name, socks, argv, missing in SINGLE_REFS + rows:
            if name in (SINGLE_ROWS_STDIO, SINGLE_ROWS_HOP):
                if not culvert:
                    continue
            elif argv is None or name in SINGLE_SKIP:
                continue
            log = os.path.join(LOGS, f"listen-{label.replace(' ', '_')}-{name.replace(' ', '_')}.log")
            fl = sfail.setdefault(name, {})
            res = single.setdefault(name, {})
            for mode in ("down", "up"):
                if mode in fl:
                    continue
                if name == SINGLE_ROWS_STDIO:
                    r = stdio_transfer(culvert, [pport], ports, sink, mode, log)
                elif name == SINGLE_ROWS_HOP:
                    r = stdio_transfer(culvert, [ports["hop"], pport], ports, sink, mode, log)
                else:
                    r = run_single(argv, socks, pport, ports, sink, mode, log)
                if isinstance(r, str):
                    fl[mode] = r
                else:
                    res.setdefault(mode, []).append(r[0])
                    res.setdefault("cpu_" + mode, []).append(r[1])
            note(f"listen {label} single rep {rep + 1}/{REPS} {name}: " +
                 ", ".join(f"{k} {v[-1]:.4g}" for k, v in res.items() if v) +
                 (f"; fail {fl}" if fl else ""))
    return (listen_tables(label, rows, load, lfail, single, sfail),
            {"load": load, "load_fails": lfail, "single": single, "single_fails": sfail})


def stdio_transfer(culvert, pports, ports, sink, mode, log):
    """culvert in stdio mode under drive, as in the main table, through
    the chain of proxies on pports."""
    xfer_timeout = 20 + SIZE / (40 * MIB)
    argv = [culvert] + [a for p in pports for a in ("-p", f"{LO}:{p}")] + \
        (["-N"] if mode == "up" else []) + [
        LO, str(ports["source" if mode == "down" else "sink"])]
    sink.skip_all()
    kv = drive(mode, SIZE, xfer_timeout, argv, log)
    cpu = (float(kv.get("user", 0)) + float(kv.get("sys", 0))) / (SIZE / GIB)
    if mode == "down":
        if kv.get("ok") != "1":
            return kv.get("why", "?")
        return SIZE / MIB / float(kv["wall"]), cpu
    got = sink.next_line(3)
    if kv.get("ok") != "1" and kv.get("why") != "stdinclosed":
        return kv.get("why", "?")
    if got is None or int(got[0]) != SIZE:
        return "sink: " + ("no EOF" if got is None else f"{int(got[0]) / MIB:.1f} MiB")
    return SIZE / MIB / (float(got[1]) - float(kv["t0"])), cpu


def med(v):
    return statistics.median(v) if v else None


def listen_tables(label, rows, load, lfail, single, sfail):
    out = [f"### Listen mode: {LISTEN_N} tunnels at once through {label}"
           f" (median{' ±half-range' if REPS > 1 else ''} of the runs)", ""]
    out.append("| forwarder | tunnels up | " +
               " | ".join(f"{h} ({u}, {'↑' if hi else '↓'} better)" for _, h, u, hi in LOAD_METRICS) +
               " | processes / threads | descriptors |")
    out.append("|" + "---|" * (len(LOAD_METRICS) + 4))
    for name, socks, argv, missing in rows:
        if missing:
            out.append(f"| {name} | {missing} |" + " |" * (len(LOAD_METRICS) + 2))
            continue
        r = load.get(name, {})
        ups = r.get("up", [])
        cells = [name + (" (SOCKS5)" if socks and "SOCKS" not in name else "")]
        upcell = f"{min(ups)}/{LISTEN_N}" if ups else f"0/{LISTEN_N}"
        if name in lfail:
            upcell += f" ({lfail[name]})"
        cells.append(upcell)
        for key, _, unit, _ in LOAD_METRICS:
            v = r.get(key)
            cells.append(f"{fmt_abs(med(v))}{spread(v)}" if v else "–")
        p, t, fd = med(r.get("procs")), med(r.get("threads")), med(r.get("fds"))
        cells.append(f"{p:.0f} / {t:.0f}" if p is not None else "–")
        cells.append(f"{fd:.0f}" if fd is not None else "–")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append(f"### Listen mode: one tunnel through {label} (median{' ±half-range' if REPS > 1 else ''}"
               f" of {REPS} runs; ×stdio = ratio to culvert in stdio mode, goal ≥ 0.9;"
               " ×hop = ratio to stdio mode plus an ideal hop)")
    out.append("")
    out.append("| path | download (MiB/s) | ×stdio | ×hop | upload (MiB/s) | ×stdio | ×hop |"
               " forwarder CPU ↓ (s/GiB) | forwarder CPU ↑ (s/GiB) |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    refs = (single.get(SINGLE_ROWS_STDIO, {}), single.get(SINGLE_ROWS_HOP, {}))
    for name, socks, argv, missing in SINGLE_REFS + rows:
        if name in SINGLE_SKIP:
            continue
        if missing:
            out.append(f"| {name} | {missing} | | | | | | | |")
            continue
        r, fl = single.get(name, {}), sfail.get(name, {})
        cells = [name]
        for mode in ("down", "up"):
            v = r.get(mode)
            if mode in fl and not v:
                cells += [f"fail ({fl[mode]})", "–", "–"]
                continue
            cells.append(f"{fmt_abs(med(v))}{spread(v)}" if v else "–")
            for ref in refs:
                rv = med(ref.get(mode))
                cells.append(f"{med(v) / rv:.2f}" if v and rv else "–")
        for mode in ("down", "up"):
            v = r.get("cpu_" + mode)
            cells.append(f"{fmt_abs(med(v))}{spread(v)}" if v else "–")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------- culvert serve

# GNU httptunnel is slow upstream through squid and may stop short:
# bounded sizes and times, and what it reached is reported.
HT_DOWN = (8 if QUICK else 32) * MIB
HT_UP = (512 if QUICK else 2048) * 1024
HT_TIMEOUT = 15 if QUICK else 40
HT_RTT_N = 50 if QUICK else 200
CUTS = 3 if QUICK else 5
ALL_CPUS = os.sched_getaffinity(0)


def serve_sections():
    """The sections of BENCH_SERVE to run, out of proxy, http, stream."""
    want = os.environ.get("BENCH_SERVE", "proxy,http,stream")
    return [w.strip() for w in want.split(",") if w.strip() in ("proxy", "http", "stream")]


def set_affinity(pids, cpus):
    """Every thread of every process under pids onto cpus (threads they
    start later inherit it)."""
    for pid in pids:
        for p in proc_tree(pid):
            try:
                tids = os.listdir(f"/proc/{p}/task")
            except OSError:
                continue
            for t in tids:
                try:
                    os.sched_setaffinity(int(t), cpus)
                except OSError:
                    pass


def start_serve(name, extra=()):
    """culvert serve on a free loopback port, every loopback target allowed:
    (Popen, port) or (None, why).  Its log is build/bench/logs/NAME.log."""
    c = culvert_path()
    if not c:
        return None, "not built"
    port = free_port()
    # it counts client connections; a thousand tunnels need room
    more = ["--max-sessions", str(LISTEN_N // 3 + 1)] if LISTEN_N > 1000 else []
    p = start_forwarder([c, "serve", "--listen", f"{LO}:{port}", "--allow", "127.0.0.1:*"] +
                        more + list(extra), port, os.path.join(LOGS, name + ".log"))
    return (p, port) if p else (None, "did not start")


def start_tinyproxy(tmp, name):
    """A private tinyproxy allowing CONNECT to any port: (Popen, port) or
    (None, why)."""
    tp = shutil.which("tinyproxy") or shutil.which("tinyproxy", path="/usr/sbin")
    if not tp:
        return None, "not installed"
    d = os.path.join(tmp, name)
    os.mkdir(d)
    port = free_port()
    conf = os.path.join(d, "tinyproxy.conf")
    with open(conf, "w") as f:
        # no ConnectPort line: CONNECT to every port
        f.write(f"Port {port}\nListen {LO}\nTimeout 120\nLogLevel Warning\n"
                f"PidFile \"{d}/tinyproxy.pid\"\nMaxClients {LISTEN_N + 100}\n"
                f"Allow 127.0.0.1\nDisableViaHeader Yes\n")
    p = start_forwarder([tp, "-d", "-c", conf], port, os.path.join(LOGS, name + ".log"))
    return (p, port) if p else (None, "did not start")


def serve_proxies(tmp):
    """The CONNECT proxies beside culvert serve: (name, start(rep) ->
    (Popen, port) or (None, why)).  The ideal proxy is the splice proxy's
    -t twin: one process, so its CPU and memory are all in /proc."""
    sp = os.path.join(BIN, "spliceproxy")

    def splice(rep):
        pf = os.path.join(tmp, f"spliceproxy-serve-{rep}.port")
        return start_server([sp, "-t", pf], portfile=pf)
    return [("ideal splice proxy", splice),
            ("culvert serve", lambda rep: start_serve(f"serve-proxy-{rep}")),
            ("tinyproxy", lambda rep: start_tinyproxy(tmp, f"tinyproxy-{rep}")),
            ("squid", lambda rep: squid_start(tmp, f"squid-serve-{rep}"))]


def serve_clients():
    """(name, argv(proxy_port, target_port, mode)) of the clients used
    through every proxy of the serve section."""
    ideal = os.path.join(BIN, "idealclient")
    rows = [("ideal client", lambda pp, tp, m: [ideal, LO, str(pp), LO, str(tp)])]
    c = culvert_path()
    if c:
        rows.append(("culvert", lambda pp, tp, m: [c, "-p", f"{LO}:{pp}"] +
                     (["-N"] if m == "up" else []) + [LO, str(tp)]))
    return rows


def transfer(mode, size, argv, sink, log, timeout=None, pid=None):
    """size bytes down from a source target or up to the sink through
    argv, under drive: {"mib_s", "cpu" (client s/GiB), "pcpu" (pid's
    process tree, s/GiB, when pid is given)} or {"why"}."""
    timeout = timeout or 20 + size / (40 * MIB)
    c0 = sample(pid)["cpu_s"] if pid else 0
    if mode == "up":
        sink.skip_all()
    kv = drive(mode, size, timeout, argv, log)
    if mode == "down":
        if kv.get("ok") != "1":
            return {"why": kv.get("why", "?")}
        wall = float(kv["wall"])
    else:
        got = sink.next_line(3)
        # squid closes the whole tunnel at the client's half-close
        if kv.get("ok") != "1" and kv.get("why") != "stdinclosed":
            return {"why": kv.get("why", "?")}
        if got is None:
            return {"why": "no EOF at sink"}
        if int(got[0]) != size:
            return {"why": f"sink got {int(got[0]) / MIB:.1f} MiB"}
        wall = float(got[1]) - float(kv["t0"])
    r = {"mib_s": size / MIB / wall,
         "cpu": (float(kv["user"]) + float(kv["sys"])) / (size / GIB)}
    if pid:
        r["pcpu"] = (sample(pid)["cpu_s"] - c0) / (size / GIB)
    return r


def rtt_rounds(argv, log, n=RTT_N, rounds=RTT_ROUNDS):
    """Median over rounds of drive rtt's median (µs), or a why string."""
    meds = []
    for _ in range(rounds):
        kv = drive("rtt", n, 10 + n * 0.05, argv, log, pinned=True)
        if kv.get("ok") != "1":
            return kv.get("why", "?")
        meds.append(float(kv["med_us"]))
    return statistics.median(meds)


def measure_serve_proxy(ports, sink, tmp):
    """culvert serve as a CONNECT proxy beside the ideal splice proxy,
    tinyproxy and squid, with the same clients: (markdown, raw)."""
    proxies, clients = serve_proxies(tmp), serve_clients()
    res, fails = {}, {}
    for rep in range(REPS):
        for pname, start in proxies:
            r, fl = res.setdefault(pname, {}), fails.setdefault(pname, {})

            def add(key, v):
                r.setdefault(key, []).append(v)
            log = os.path.join(LOGS, f"serve-proxy-{pname.replace(' ', '_')}.log")
            # memory: LISTEN_N tunnels through a fresh proxy
            if "load" not in fl:
                p, port = start(f"{rep}-load")
                if p is None:
                    fl["load"] = fl["start"] = port
                    continue
                time.sleep(0.2)
                ld = swarm_load(p, port, ["-c", f"{LO}:{ports['echo_many']}"], log)
                if "up" in ld:
                    add("up_n", ld["up"])
                    add("rss_per", ld["rss_per"])
                if "why" in ld:
                    fl["load"] = ld["why"]
            # throughput and the proxy's CPU: another fresh one
            p, port = start(rep)
            if p is None:
                fl["start"] = port
                continue
            for cname, argv in clients:
                for mode in ("down", "up"):
                    key = f"{cname}:{mode}"
                    if key in fl:
                        continue
                    tp = ports["source" if mode == "down" else "sink"]
                    t = transfer(mode, SIZE, argv(port, tp, mode), sink, log, pid=p.pid)
                    if "why" in t:
                        fl[key] = t["why"]
                        continue
                    add(key, t["mib_s"])
                    add(f"{cname}:cpu_{mode}", t["cpu"])
                    add(f"{cname}:pcpu_{mode}", t["pcpu"])
            stop_proc(p)
            note(f"serve proxy rep {rep + 1}/{REPS} {pname}: " +
                 ", ".join(f"{k} {v[-1]:.4g}" for k, v in r.items() if v) +
                 (f"; fail {fl}" if fl else ""))
    return serve_proxy_table(proxies, clients, res, fails), {"results": res, "fails": fails}


def cell(vals, why=None):
    """A median with its spread, or why it is missing."""
    if vals:
        return f"{fmt_abs(med(vals))}{spread(vals)}"
    return f"fail ({why})" if why else "–"


def ratio(vals, ref):
    """med(vals) / med(ref), two significant digits below 0.1."""
    if not vals or not ref or not med(ref):
        return "–"
    r = med(vals) / med(ref)
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


def serve_proxy_table(proxies, clients, res, fails):
    runs = f"median{' ±half-range' if REPS > 1 else ''} of {REPS} runs"
    out = [f"### culvert serve as a CONNECT proxy ({runs}; ×ideal = ratio to the ideal"
           " splice proxy with the same client; goal for culvert serve ≥ 0.9 both ways)", ""]
    head = ["proxy"]
    for cname, _ in clients:
        head += [f"{cname} ↓ (MiB/s)", "×ideal", f"{cname} ↑ (MiB/s)", "×ideal"]
    head += ["proxy CPU ↓ (s/GiB)", "proxy CPU ↑ (s/GiB)", "RSS per tunnel (KiB)", "tunnels up"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    ref = res.get("ideal splice proxy", {})
    for pname, _ in proxies:
        r, fl = res.get(pname, {}), fails.get(pname, {})
        if "start" in fl and not r:
            out.append(f"| {pname} | {fl['start']} |" + " |" * (len(head) - 2))
            continue
        cells = [pname]
        for cname, _ in clients:
            for mode in ("down", "up"):
                key = f"{cname}:{mode}"
                cells += [cell(r.get(key), fl.get(key)), ratio(r.get(key), ref.get(key))]
        for mode in ("down", "up"):
            cells.append(cell(r.get(f"ideal client:pcpu_{mode}")))
        cells.append(cell(r.get("rss_per"), fl.get("load")))
        ups = r.get("up_n")
        cells.append((f"{min(ups)}/{LISTEN_N}" if ups else f"0/{LISTEN_N}") +
                     (f" ({fl['load']})" if "load" in fl else ""))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# -- tunnels to culvert serve through squid

def httptunnel_run(what, tport, squid_port, sink, log, pinned=False):
    """GNU httptunnel through squid: a fresh hts forwarding to tport (it
    serves one tunnel, then reconnects to its target every few seconds),
    htc -s under drive.  what: down, up or rtt.  A dict: mib_s or rtt_us,
    and got/want/secs (what it reached) or why."""
    hts, htc = shutil.which("hts"), shutil.which("htc")
    port = free_port()
    p = start_forwarder([hts, "-w", "-F", f"{LO}:{tport}", str(port)], port, log)
    if p is None:
        return {"why": "hts did not start"}
    if pinned:
        set_affinity([p.pid], {PIN_CPU})
    argv = [htc, "-s", "-P", f"{LO}:{squid_port}", f"{LO}:{port}"]
    try:
        if what == "rtt":
            kv = drive("rtt", HT_RTT_N, HT_TIMEOUT, argv, log, pinned=True)
            if kv.get("ok") != "1":
                return {"why": kv.get("why", "?")}
            return {"rtt_us": float(kv["med_us"])}
        if what == "down":
            kv = drive("down", HT_DOWN, HT_TIMEOUT, argv, log)
            got, secs = int(kv.get("bytes", "0")), float(kv.get("wall", "0"))
            r = {"got": got, "want": HT_DOWN, "secs": secs}
            if kv.get("ok") != "1":
                r["why"] = kv.get("why", "?")
            if got > 0 and secs > 0:
                r["mib_s"] = min(got, HT_DOWN) / MIB / secs
            return r
        # htc never exits at the end of its input: drive stops it at the
        # timeout, then hts, so that the sink sees its EOF
        sink.skip_all()
        kv = drive("up", HT_UP, HT_TIMEOUT, argv, log)
        stop_proc(p)
        got = sink.next_line(5)
        if got is None:
            return {"why": "no EOF at sink", "got": 0, "want": HT_UP, "secs": HT_TIMEOUT}
        # all of it: up to the last byte; less: it had until drive gave up
        n, t_last = int(got[0]), float(got[2].split()[0])
        secs = t_last - float(kv["t0"]) if n == HT_UP else float(kv.get("wall", HT_TIMEOUT))
        r = {"got": n, "want": HT_UP, "secs": secs}
        if n != HT_UP:
            r["why"] = f"sink got {n / MIB:.2f} MiB"
        if n > 0 and secs > 0:
            r["mib_s"] = n / MIB / secs
        return r
    finally:
        stop_proc(p)


TUN_REF = "CONNECT through squid"
TUN_STREAM = "culvert --tunnel, stream transport"
TUN_HTTP = "culvert --tunnel, http transport"
TUN_HT = "GNU httptunnel (htc, hts)"
# The stream transport's hops without its frames: what the hop through
# culvert serve costs by itself.
TUN_HOPS = "CONNECT through squid, then through culvert serve"
# What squid's path for answers carries at most: one plain GET, no tunnel.
TUN_GET = "one plain GET through squid (curl, no tunnel): squid's most"


def measure_tunnels(ports, sink, ht_sink, tmp, sections):
    """culvert --tunnel through squid, each transport against a CONNECT
    tunnel through the same squid, and GNU httptunnel beside the http
    transport; then the time from a cut to data again: (markdown, raw)."""
    c = culvert_path()
    if not c:
        return "### Tunnels to culvert serve through squid\n\nskipped: culvert not built\n", {}
    serve, sport = start_serve("serve-tunnel")
    squid_a, aport = squid_start(tmp, "squid-tunnel")
    squid_d, dport = squid_start(tmp, "squid-deny", deny_connect=True)
    for p, why in ((serve, sport), (squid_a, aport), (squid_d, dport)):
        if p is None:
            return f"### Tunnels to culvert serve through squid\n\nskipped: {why}\n", {}
    url = f"http://{LO}:{sport}/"

    def culvert_argv(extra, squid_port):
        return lambda tp, m: ([c] + extra + ["-p", f"http://{LO}:{squid_port}"] +
                              (["-N"] if m == "up" else []) + [LO, str(tp)])
    rows = [(TUN_REF, culvert_argv([], aport), None)]
    if "stream" in sections:
        rows.append((TUN_HOPS, culvert_argv(["-p", f"http://{LO}:{aport}"], sport), serve.pid))
        rows.append((TUN_STREAM, culvert_argv(["--tunnel", url, "--tunnel-transport", "stream"],
                                              aport), serve.pid))
    if "http" in sections:
        rows.append((TUN_HTTP, culvert_argv(["--tunnel", url, "--tunnel-transport", "http"],
                                            dport), serve.pid))
    have_ht = shutil.which("hts") and shutil.which("htc")
    res, fails = {}, {}
    servers = [serve.pid, squid_a.pid, squid_d.pid]
    web = None
    if "http" in sections and shutil.which("curl"):
        web, wport = start_server([os.path.join(BIN, "target"), "http", str(SIZE)])
    for rep in range(REPS):
        if web is not None:
            t = transfer("down", SIZE, ["curl", "-s", "--proxy", f"http://{LO}:{dport}",
                                        f"http://{LO}:{wport}/x"], sink,
                         os.path.join(LOGS, "tunnel-get.log"))
            res.setdefault(TUN_GET, {}).setdefault("down", []).append(t.get("mib_s"))
            if "why" in t:
                fails.setdefault(TUN_GET, {})["down"] = t["why"]
                web = None
        for name, argv, spid in rows:
            r, fl = res.setdefault(name, {}), fails.setdefault(name, {})
            log = os.path.join(LOGS, f"tunnel-{name.replace(' ', '_').replace(',', '')}.log")
            for mode in ("down", "up"):
                if mode in fl:
                    continue
                tp = ports["source" if mode == "down" else "sink"]
                t = transfer(mode, SIZE, argv(tp, mode), sink, log, pid=spid)
                if "why" in t:
                    fl[mode] = t["why"]
                    continue
                r.setdefault(mode, []).append(t["mib_s"])
                r.setdefault("cpu_" + mode, []).append(t["cpu"])
                if spid:
                    r.setdefault("scpu_" + mode, []).append(t["pcpu"])
            if "rtt" not in fl:
                set_affinity(servers, {PIN_CPU})
                v = rtt_rounds(argv(ports["echo"], "rtt"), log)
                set_affinity(servers, ALL_CPUS)
                if isinstance(v, str):
                    fl["rtt"] = v
                else:
                    r.setdefault("rtt", []).append(v)
            note(f"tunnels rep {rep + 1}/{REPS} {name}: " +
                 ", ".join(f"{k} {v[-1]:.4g}" for k, v in r.items() if v) +
                 (f"; fail {fl}" if fl else ""))
        if "http" in sections and have_ht:
            r = res.setdefault(TUN_HT, {})
            log = os.path.join(LOGS, "tunnel-httptunnel.log")
            for what, tp in (("down", ports["source_ht"]), ("up", ports["sink_ht"]),
                             ("rtt", ports["echo"])):
                if what == "rtt":
                    set_affinity([squid_d.pid], {PIN_CPU})
                t = httptunnel_run(what, tp, dport, ht_sink, log, pinned=what == "rtt")
                set_affinity([squid_d.pid], ALL_CPUS)
                r.setdefault(what, []).append(t)
            note(f"tunnels rep {rep + 1}/{REPS} httptunnel: " +
                 "; ".join(f"{k} {v[-1]}" for k, v in r.items()))
    cuts = {}
    for name, extra, squid_port in ((TUN_STREAM, "stream", aport), (TUN_HTTP, "http", dport)):
        if extra not in sections:
            continue
        cuts[name] = measure_cuts(c, url, extra, squid_port, ports, tmp)
    text = tunnel_tables(sections, res, fails, cuts, have_ht)
    return text, {"results": res, "fails": fails, "cuts": cuts}


def measure_cuts(c, url, transport, squid_port, ports, tmp):
    """REPS runs of drive cut: culvert --tunnel through a cutter in front of
    squid, CUTS cuts a run: {"ms": [...], "records": [...], "why": ...}."""
    out = {"ms": [], "records": []}
    log = os.path.join(LOGS, f"cut-{transport}.log")
    for rep in range(REPS):
        cp, cport = start_server([os.path.join(BIN, "cutter"), str(squid_port)])
        argv = [c, "--tunnel", url, "--tunnel-transport", transport,
                "-p", f"http://{LO}:{cport}", LO, str(ports["echo"])]
        kv = drive("cut", CUTS, CUTS * 32 + 10, argv, log, files=["-k", str(cp.pid)])
        stop_proc(cp)
        if kv.get("all", "-") != "-":
            out["ms"] += [float(x) for x in kv["all"].split(",")]
        out["records"].append(int(kv.get("records", "0")))
        note(f"cut rep {rep + 1}/{REPS} {transport}: {kv.get('all')} ms" +
             ("" if kv.get("ok") == "1" else f"; fail {kv.get('why')}"))
        if kv.get("ok") != "1":
            out["why"] = kv.get("why", "?")
            break
    return out


def ht_cell(runs, key):
    """httptunnel's figure: the median, and what it reached when a run did
    not finish."""
    vals = [t[key] for t in runs if key in t]
    short = [t for t in runs if "why" in t]
    s = cell(vals, short[0]["why"] if short and not vals else None)
    if short and vals:
        t = short[0]
        s += (f" ({len(short)} of {len(runs)} runs short: reached {t['got'] / MIB:.2f} of"
              f" {t['want'] / MIB:.2f} MiB in {t['secs']:.1f} s"
              f"{'' if t['why'].startswith('sink got') else ', ' + t['why']})")
    return s


def serve_notes(sections):
    """The notes on the culvert serve sections."""
    out = []
    if "proxy" in sections:
        out.append(
            "- culvert serve as a CONNECT proxy: `culvert serve --listen 127.0.0.1:PORT --allow"
            " '127.0.0.1:*'`, tinyproxy (no ConnectPort: CONNECT to any port), squid (as above)"
            " and the ideal splice proxy (its -t twin: a thread per direction, in one process)."
            f" Each run starts each proxy afresh twice: for {LISTEN_N} tunnels at once (swarm -c:"
            " HTTP CONNECT, then as in listen mode; RSS per tunnel = (VmRSS with all open - before)"
            " / tunnels up), then for the transfers of the ideal client and of culvert in stdio"
            " mode (as in the main table). Proxy CPU = utime+stime of the proxy's process tree"
            " from /proc over the ideal client's transfers, per GiB: to the nanosecond for squid and"
            " culvert serve, to a clock tick for the splice proxy and tinyproxy, whose threads end"
            " with the tunnel.")
    if "http" in sections or "stream" in sections:
        out.append(
            "- Tunnels to culvert serve: one culvert serve, one squid allowing CONNECT and one"
            " denying every CONNECT (`http_access deny CONNECT` first), all for the whole section."
            " The reference is culvert in stdio mode with -p through the squid that allows CONNECT;"
            " the stream transport goes through the same squid, the http transport through the"
            " one that denies CONNECT. \"Then through culvert serve\": the same client with -p"
            " SQUID -p SERVE, a CONNECT chain over the stream transport's hops (client, squid,"
            " culvert serve, target) without its frames: what the extra hop costs by itself."
            " Transfers and keystroke RTT as in the main table (for the RTT"
            " the squids and culvert serve are moved onto the pinned CPU). Client CPU from wait4,"
            " serve CPU from /proc, per GiB.")
    if "http" in sections:
        out.append(
            f"- \"{TUN_GET}\": curl under drive fetches the same size in one GET through the squid"
            " that denies CONNECT from `target http` (vmsplice/splice, as fast as the source):"
            " the most squid passes in answers, the ceiling of any download by GET through it.")
    if "http" in sections:
        out.append(
            "- GNU httptunnel: a fresh `hts -w -F 127.0.0.1:TARGET PORT` for every measurement (it"
            " serves one tunnel, then reconnects to its target every few seconds), `htc -s -P"
            f" SQUID 127.0.0.1:PORT` under drive, through the squid that denies CONNECT. Bounded:"
            f" {HT_DOWN // MIB} MiB down, {HT_UP // 1024} KiB up, {HT_TIMEOUT} s each, RTT over"
            f" {HT_RTT_N} round trips. htc does not exit at the end of its input: its upload rate is"
            " the bytes the sink got over the time to the last of them when all came, else over the"
            " whole time allowed; a short run shows what it reached.")
    if "http" in sections or "stream" in sections:
        out.append(
            "- Resume: culvert --tunnel through tests/bench/cutter.c, a forwarder in front of squid"
            " that resets every connection through it on SIGUSR1. drive cut writes a 4 KiB record"
            " every millisecond through the tunnel to an echo target and checks each one that comes"
            f" back; after a second of that it signals the cutter, {CUTS} times a run: the figure is"
            " the time from the signal until the first record written after it is back. Every"
            " record must come back, in order, once. A CONNECT tunnel has no resume: culvert"
            " exits when its connection is cut.")
    return out


def tunnel_tables(sections, res, fails, cuts, have_ht):
    runs = f"median{' ±half-range' if REPS > 1 else ''} of {REPS} runs"
    ref = res.get(TUN_REF, {})
    head = ("| path | download (MiB/s) | ×CONNECT | upload (MiB/s) | ×CONNECT |"
            " keystroke RTT (µs) | ×CONNECT | client CPU ↓ (s/GiB) | client CPU ↑ (s/GiB) |"
            " serve CPU ↓ (s/GiB) | serve CPU ↑ (s/GiB) |\n" + "|---" * 11 + "|")

    def row(name):
        r, fl = res.get(name, {}), fails.get(name, {})
        cells = [name]
        for key in ("down", "up", "rtt"):
            cells += [cell(r.get(key), fl.get(key)), ratio(r.get(key), ref.get(key))]
        for key in ("cpu_down", "cpu_up", "scpu_down", "scpu_up"):
            cells.append(cell(r.get(key)))
        return "| " + " | ".join(cells) + " |"
    out = []
    if "http" in sections:
        out += [f"### HTTP tunnel through squid with CONNECT denied ({runs}; ×CONNECT = ratio"
                " to a CONNECT tunnel through the same squid, CONNECT allowed there;"
                " goals ≥ 0.5 both ways, RTT ≤ 2)", "", head, row(TUN_REF), row(TUN_HTTP)]
        if TUN_GET in res:
            out.append(f"| {TUN_GET} | " + " | ".join(
                [cell([v for v in res[TUN_GET]["down"] if v], fails.get(TUN_GET, {}).get("down")),
                 ratio([v for v in res[TUN_GET]["down"] if v], ref.get("down"))]) +
                " |" + " – |" * 8)
        if not have_ht:
            out.append(f"| {TUN_HT} | not installed |" + " |" * 9)
        else:
            r = res.get(TUN_HT, {})
            cells = [TUN_HT]
            for key, fig in (("down", "mib_s"), ("up", "mib_s"), ("rtt", "rtt_us")):
                runs_ = r.get(key, [])
                cells += [ht_cell(runs_, fig),
                          ratio([t[fig] for t in runs_ if fig in t], ref.get(key))]
            out.append("| " + " | ".join(cells) + " | – | – | – | – |")
        out.append("")
    if "stream" in sections:
        out += [f"### Stream transport through squid ({runs}; ×CONNECT = ratio to a CONNECT"
                " tunnel through the same squid; goals ≥ 0.9 both ways, RTT ≤ 1.2)", "",
                head, row(TUN_REF), row(TUN_HOPS), row(TUN_STREAM), ""]
    if cuts:
        out += [f"### Resume: from a cut to data flowing again ({REPS} runs of {CUTS} cuts;"
                " a cutter in front of squid resets every connection through it)", "",
                "| transport | median (ms) | min (ms) | max (ms) | cuts | records back, in order |",
                "|---|---|---|---|---|---|"]
        for name, cu in cuts.items():
            ms = cu["ms"]
            done = f"{len(ms)}/{REPS * CUTS}" if "why" not in cu else \
                f"{len(ms)}/{REPS * CUTS} (fail: {cu['why']})"
            out.append(f"| {name} | " + (" | ".join(f"{x:.1f}" for x in
                                                     (med(ms), min(ms), max(ms))) if ms else "– | – | –") +
                       f" | {done} | {sum(cu['records'])} |")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- report

def fmt_abs(v):
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def spread(vals):
    if len(vals) < 2:
        return ""
    m = statistics.median(vals)
    if m == 0:
        return ""
    return f" ±{(max(vals) - min(vals)) / 2 / m * 100:.0f}%"


PARENT = {"cpu_down": "down", "cpu_up": "up", "rss": "down"}


KIND_METRICS = [
    ("down", "↓ pipe", "MiB/s", True),
    ("down_null", "↓ /dev/null", "MiB/s", True),
    ("down_file", "↓ file", "MiB/s", True),
    ("up", "↑ pipe", "MiB/s", True),
    ("up_file", "↑ file", "MiB/s", True),
    ("cpu_down", "CPU ↓ pipe", "s/GiB", False),
    ("cpu_down_null", "CPU ↓ /dev/null", "s/GiB", False),
    ("cpu_down_file", "CPU ↓ file", "s/GiB", False),
    ("cpu_up", "CPU ↑ pipe", "s/GiB", False),
    ("cpu_up_file", "CPU ↑ file", "s/GiB", False),
]


def failure(fails, name, key):
    """Why a figure is missing: its own failure or the transfer it comes from."""
    fl = fails.get(name, {})
    parent = PARENT.get(key) or (key[4:] if key.startswith("cpu_") else "")
    return fl.get(key) or fl.get(parent)


def table(label, rows, results, fails, missing_rows, metrics=None):
    metrics = metrics or METRICS
    ideal = results.get("ideal client", {})
    out = []
    head = "| tool | " + " | ".join(f"{h} ({'↑' if hi else '↓'} better)" for _, h, _, hi in metrics) + " |"
    out.append(head)
    out.append("|" + "---|" * (len(metrics) + 1))
    cells = ["**ideal client (absolute)**"]
    for key, _, unit, _ in metrics:
        v = ideal.get(key)
        f = failure(fails, "ideal client", key)
        cells.append(f"fail ({f})" if f else
                     (f"{fmt_abs(statistics.median(v))} {unit}{spread(v)}" if v else "–"))
    out.append("| " + " | ".join(cells) + " |")
    for name, argv, missing in rows:
        cells = [name]
        for key, _, unit, _ in metrics:
            if missing:
                cells.append(missing)
                continue
            f = failure(fails, name, key) if not results.get(name, {}).get(key) else None
            v = results.get(name, {}).get(key)
            iv = ideal.get(key)
            if f:
                cells.append(f"fail ({f})")
            elif not v:
                cells.append("–")
            elif not iv or statistics.median(iv) == 0:
                cells.append(f"{fmt_abs(statistics.median(v))} {unit}")
            else:
                cells.append(f"{statistics.median(v) / statistics.median(iv):.2f}{spread(v)}")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append(f"Absolute medians through {label}:")
    out.append("")
    out.append("| tool | " + " | ".join(f"{h} {u}" for _, h, u, _ in metrics) + " |")
    out.append("|" + "---|" * (len(metrics) + 1))
    for name, argv, missing in rows:
        if missing:
            continue
        cells = [name]
        for key, _, unit, _ in metrics:
            f = failure(fails, name, key) if not results.get(name, {}).get(key) else None
            v = results.get(name, {}).get(key)
            cells.append("fail" if f else (fmt_abs(statistics.median(v)) if v else "–"))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    for b in ("spliceproxy", "idealclient", "target", "drive", "swarm", "cutter"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            sys.exit(f"bench: {BIN}/{b} missing: run make bench-build")
    if not os.environ.get("BENCH_NOINSTALL"):
        ensure_packages()
    nofile = raise_nofile()
    os.makedirs(LOGS, exist_ok=True)
    for f in os.listdir(LOGS):
        os.unlink(os.path.join(LOGS, f))
    rows = tools()
    lrows = [] if os.environ.get("BENCH_LISTEN") == "none" else None
    proxies = [p.strip() for p in os.environ.get("BENCH_PROXIES", "splice,squid").split(",")]
    sections = serve_sections()
    tmp = tempfile.mkdtemp(prefix="culvert-bench.")
    os.chmod(tmp, 0o755)
    t_start = time.time()
    report = []
    raw = {}
    try:
        ports = {}
        _, ports["source"] = start_server([os.path.join(BIN, "target"), "source", str(SIZE)])
        _, ports["source_small"] = start_server([os.path.join(BIN, "target"), "source", str(STRACE_SIZE)])
        _, ports["one"] = start_server([os.path.join(BIN, "target"), "source", "1"], pinned=True)
        _, ports["echo"] = start_server([os.path.join(BIN, "target"), "echo"], pinned=True)
        sinklog = os.path.join(tmp, "sink.log")
        _, ports["sink"] = start_server([os.path.join(BIN, "target"), "sink"], logpath=sinklog)
        sink = Sink(sinklog)
        if lrows is None:
            lrows = listen_rows(tmp)
        if lrows or "proxy" in sections:
            _, ports["echo_many"] = start_server([os.path.join(BIN, "target"), "echo-many"])
        if lrows:
            pf = os.path.join(tmp, "spliceproxy-hop.port")
            _, ports["hop"] = start_server([os.path.join(BIN, "spliceproxy"), pf], portfile=pf)
        if "http" in sections:
            # GNU httptunnel: its own sizes, and a sink of its own (its
            # server reconnects to the target every few seconds)
            _, ports["source_ht"] = start_server([os.path.join(BIN, "target"), "source",
                                                  str(HT_DOWN)])
            htlog = os.path.join(tmp, "sink-ht.log")
            _, ports["sink_ht"] = start_server([os.path.join(BIN, "target"), "sink"],
                                               logpath=htlog)
            ht_sink = Sink(htlog)
        else:
            ht_sink = None
        if "splice" in proxies:
            make_file(os.path.join(tmp, "up.bin"), SIZE)
        for proxy in proxies:
            if proxy == "splice":
                pf = os.path.join(tmp, "spliceproxy.port")
                _, pport = start_server([os.path.join(BIN, "spliceproxy"), pf], portfile=pf)
                pf = os.path.join(tmp, "spliceproxy-pinned.port")
                _, lport = start_server([os.path.join(BIN, "spliceproxy"), pf], portfile=pf,
                                        pinned=True)
                # listen mode: a thousand tunnels, a thread (not a process) a direction
                pf = os.path.join(tmp, "spliceproxy-threads.port")
                _, mport = start_server([os.path.join(BIN, "spliceproxy"), "-t", pf],
                                        portfile=pf)
                label = "splice proxy"
            elif proxy == "squid":
                pport, err = start_squid(tmp, "squid")
                lport, err2 = start_squid(tmp, "squid-pinned", pinned=True)
                err = err or err2
                mport = pport
                label = "squid"
                if pport is None or lport is None:
                    report.append(f"### Through {label}\n\nskipped: {err}\n")
                    continue
            else:
                continue
            results, fails = {}, {}
            measure_proxy(label, pport, lport, ports, sink, rows, results, fails, tmp,
                          kinds=proxy == "splice")
            raw[label] = {"results": results, "fails": fails}
            report.append(f"### Through {label} (ratio to the ideal client; median{' ±half-range' if REPS > 1 else ''} of {REPS} runs)\n")
            report.append(table(label, rows, results, fails, None))
            report.append("")
            if proxy == "splice":
                report.append("### Stdio mode by kind of stdin and stdout, through the splice proxy"
                              f" (ratio to the ideal client; median{' ±half-range' if REPS > 1 else ''}"
                              f" of {REPS} runs)\n")
                report.append(table(label, rows, results, fails, None, KIND_METRICS))
                report.append("")
            if lrows:
                text, raw[label]["listen"] = measure_listen(label, mport, ports, sink, lrows, tmp)
                report.append(text)
                report.append("")
        if "proxy" in sections:
            text, raw["serve proxy"] = measure_serve_proxy(ports, sink, tmp)
            report.append(text)
            report.append("")
        if "http" in sections or "stream" in sections:
            text, raw["tunnels"] = measure_tunnels(ports, sink, ht_sink, tmp, sections)
            report.append(text)
    finally:
        stop_servers()
        shutil.rmtree(tmp, ignore_errors=True)
    kernel = os.uname().release
    report.append("\n".join([
        f"Notes: loopback, Linux {kernel}, {os.cpu_count()} CPUs, {REPS} runs per figure"
        f"{' (QUICK=1)' if QUICK else ''}; run took {time.time() - t_start:.0f} s.",
        "",
        "- Ratios are tool / ideal client, medians of the runs; ±x% is half the range over the median."
        " Higher is better for download and upload, lower for everything else.",
        f"- Download and upload move {SIZE // MIB} MiB through pipes on the client's stdin and stdout,"
        " as ssh gives a ProxyCommand. CPU = user+sys of the client process (wait4 rusage) per GiB;"
        " peak RSS = ru_maxrss of the client.",
        "- Upload: stdin is N bytes then EOF; the time ends when the sink target sees EOF."
        " culvert runs with -N for uploads (without it, culvert keeps the tunnel open after stdin EOF"
        " and waits for the far side, like ssh needs); peers use their own EOF handling (nc -N)."
        " squid closes the whole tunnel on a client half-close, so only the byte count at the sink is"
        " checked there.",
        f"- Syscalls per MiB: `strace -f -c` total calls over a {STRACE_SIZE // MIB} MiB transfer per run,"
        " process startup included.",
        f"- Keystroke RTT: median over {RTT_ROUNDS} clients of the median of {RTT_N} one-byte round"
        f" trips through an echo target. Setup: median of {SETUP_N} tunnels from spawn to the first"
        " byte sent by the target (connect, CONNECT, response, first byte). For both, driver, client,"
        f" proxy and target are pinned to CPU {PIN_CPU}; unpinned, cross-CPU wakeups move the round"
        " trip by up to 5x between runs.",
        "- \"fail (why)\": the client did not deliver exactly N bytes (short, timeout, no EOF at sink).",
        "- Stdio kinds: download with stdout a pipe (the main table's figures), /dev/null or a new"
        " regular file on the bench's file system (removed right after, before writeback); upload with"
        " stdin a pipe or a regular file of N bytes. With stdout a file or /dev/null the time ends, as"
        " with a pipe, at the last byte: when the client's socket has the far end's FIN and nothing"
        " left to read (drive looks with pidfd_getfd(2) and TCP_INFO) and a file holds N bytes, or at"
        " the client's exit if sooner; a file must hold exactly N bytes. The ideal client splices"
        " through a pipe of its own into a file or /dev/null and sends a regular file with sendfile(2).",
        f"- Listen mode: swarm (tests/bench/swarm.c, one epoll loop) opens {LISTEN_N} connections at"
        " once to the forwarder (-D and cntlm's SOCKS5Proxy: SOCKS5 CONNECT to an IPv4 address first);"
        " a tunnel is up when one byte comes back from a one-process echo target. Set-up rate = tunnels"
        f" up / time to the last; then each tunnel sends {LISTEN_EACH // 1024} KiB and reads it back,"
        " all at once: throughput = bytes each way / time to the last. Memory and CPU are sums over the"
        " forwarder's process tree from /proc (VmRSS, VmHWM, Pss of smaps_rollup, utime+stime):"
        " RSS all open and the descriptors after the data, with every tunnel still open; per tunnel ="
        " (that - before the first connect) / tunnels up; peak = VmHWM; set-up CPU per tunnel and data"
        " CPU per GiB each way. Kernel memory (socket and pipe buffers) is not in RSS. Through the"
        " splice proxy, listen mode uses its -t twin (a thread per direction: fork costs"
        " milliseconds here) and squid gets max_filedescriptors. Forwarders log at their default"
        " level to build/bench/logs/. cntlm gets a dummy user (it opens no tunnel without one) and"
        " listens with a backlog of 5, as does socat unless told otherwise; socat binds 127.0.0.1."
        f" A forwarder that has not brought all tunnels up within {LISTEN_TIMEOUT} s is shown with"
        f" how many were up and is not run again. Descriptor limit: {nofile} (soft raised to hard).",
        "- One tunnel: the same forwarders, one connection from swarm moving N bytes from the source"
        " target or to the sink (time to the sink's EOF), against culvert in stdio mode under drive"
        " through the same proxy; forwarder CPU from /proc, per GiB. A forwarder adds a TCP"
        " connection (client to forwarder) whose kernel work on loopback falls to the forwarder;"
        " \"stdio mode + ideal hop\" is culvert in stdio mode with that connection added, relayed"
        " by the ideal splice proxy chained in front of the proxy (-p HOP -p PROXY): what one more"
        " loopback connection costs when an ideal relay carries it; ×hop is the ratio to it.",
    ] + (serve_notes(sections) if sections else [])))
    text = "\n".join(report) + "\n"
    with open(os.path.join(BIN, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(BIN, "results.json"), "w") as f:
        json.dump({"size": SIZE, "reps": REPS, "raw": raw}, f, indent=1)
    print(text)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        stop_servers()
        sys.exit(130)
