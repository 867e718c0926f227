#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# sockabuse.py - hostile clients of a live iomapfs control socket, in raw
# bytes (Python's socket, json and random modules only, nothing from the
# project), for t/t4200-ctl-live-abuse.sh.  Every mode prints "key value"
# lines that the test checks and turns into TAP diagnostics.  Meanwhile a
# well-behaved client thread calls GetStatus every 50 ms and records the
# worst latency and any call that was not answered ("good_*" lines).
#
#   sockabuse.py SOCK fuzz N SEED      N mutated or random messages, 10 a
#                                      connection, 8 connections at a time
#   sockabuse.py SOCK partial N        N calls dribbled byte by byte (each
#                                      must be answered) and N calls cut in
#                                      the middle, then closed
#   sockabuse.py SOCK idle N SECS PID  N connections opened and left idle
#                                      for SECS; samples /proc/PID/fd
#   sockabuse.py SOCK noread N SECS    N clients start Dump and Watch
#                                      streams and pipelined calls, and
#                                      never read a reply, for SECS
#   sockabuse.py SOCK first METHOD [PARAMS-JSON] [--more]
#                                      one call; print its first reply only
#                                      (a Watch need not wait for an event)
#   sockabuse.py ioloop FILE SECS [STOP]
#                                      4 KiB O_DIRECT reads and writes of
#                                      FILE (not a socket mode) for SECS,
#                                      or until the file STOP exists; prints
#                                      the operation count, worst latency
import json
import mmap
import os
import random
import resource
import socket
import sys
import threading
import time

# The Varlink framing helpers are shared with the protocol tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "helper"))
import vlraw  # noqa: E402

M = "io.iomapfs.Cache."
VALID = [
    {"method": M + "GetStatus"},
    {"method": M + "GetStats"},
    {"method": M + "GetStats", "parameters": {"ino": 12}},
    {"method": M + "GetLimits"},
    {"method": M + "Dump", "more": True},
    {"method": M + "Dump", "parameters": {"ino": 12}, "more": True},
    {"method": M + "Map", "parameters": {"ino": 12, "offset": 0,
                                         "length": 65536}},
    {"method": M + "Audit", "more": True},
    {"method": M + "Watch", "parameters": {"count": 3}, "more": True},
    {"method": M + "Flush", "parameters": {"ino": 12}},
    {"method": M + "Flush"},
    {"method": M + "SetCaching", "parameters": {"enabled": True}},
    {"method": M + "SetLimits", "parameters": {"cache_max": 1 << 20}},
    {"method": M + "SetLimits", "parameters": {"cache_max": 64 << 20}},
    {"method": M + "ResetStats"},
    {"method": "org.varlink.service.GetInfo"},
    {"method": "org.varlink.service.GetInterfaceDescription",
     "parameters": {"interface": "io.iomapfs.Cache"}},
]
WEIRD = [None, True, False, -1, 0, 2**63, 2**64, 2**64 + 1, -2**63 - 1,
         10**30, 1e308, -1e308, 0.5, "", "x" * 300, "\u00e9\u2603", [],
         [1, [2, [3]]], {}, {"a": {"b": None}}]


class Good(threading.Thread):
    """A well-behaved client: GetStatus every 50 ms, each on a new
    connection, recording the worst latency and the failures."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.calls = 0
        self.failed = 0
        self.worst = 0.0
        self.why = ""

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                # connect() retries while the backlog is full, as a
                # patient client would: that is no failure of the server.
                s = connect(self.path)
                s.sendall(json.dumps({"method": M + "GetStatus"}).encode()
                          + b"\0")
                buf = b""
                while b"\0" not in buf:
                    c = s.recv(65536)
                    if not c:
                        raise OSError("closed before the reply")
                    buf += c
                s.close()
                r = json.loads(buf.split(b"\0")[0])
                if "error" in r or "caching" not in r.get("parameters", {}):
                    raise OSError("bad reply " + repr(r))
            except (OSError, ValueError) as e:
                self.failed += 1
                self.why = str(e)
            self.calls += 1
            self.worst = max(self.worst, time.monotonic() - t0)
            self.stop.wait(0.05)

    def report(self):
        self.stop.set()
        self.join()
        print("good_calls %d" % self.calls)
        print("good_failed %d" % self.failed)
        print("good_max_ms %d" % int(self.worst * 1000))
        if self.why:
            print("good_last_error %s" % self.why)


def connect(path, timeout=5.0):
    return vlraw.connect(path, timeout)


def enc(obj):
    return json.dumps(obj).encode()


def mutate(rng):
    """One hostile message, bytes, usually NUL-terminated."""
    base = dict(rng.choice(VALID))
    kind = rng.randrange(10)
    if kind == 0:  # flipped bytes
        b = bytearray(enc(base))
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b) + b"\0", "flip"
    if kind == 1:  # truncated, then terminated
        b = enc(base)
        return b[:rng.randrange(len(b))] + b"\0", "trunc"
    if kind == 2:  # wrong types and huge numbers in the parameters
        p = dict(base.get("parameters") or {})
        for k in rng.sample(["ino", "offset", "length", "count", "enabled",
                             "cache_max", "cache_inode_max", "interface",
                             "zz"], rng.randint(1, 3)):
            p[k] = rng.choice(WEIRD)
        base["parameters"] = p
        return enc(base) + b"\0", "types"
    if kind == 3:  # wrong types at the top
        k = rng.choice(["method", "parameters", "more", "oneway", "upgrade"])
        base[k] = rng.choice(WEIRD)
        return enc(base) + b"\0", "top"
    if kind == 4:  # unknown methods and interfaces
        name = rng.choice([M + "Nope", M, "io.iomapfs.Cache", "", ".", "..",
                           "org.varlink.service.", "a.b.c.D" * 50,
                           M + "GetStatus\u0000", M + "getstatus",
                           "io.iomapfs.Cachex.GetStatus"])
        base["method"] = name
        return enc(base) + b"\0", "unknown"
    if kind == 5:  # missing NUL: two messages glued
        return enc(base) + enc(rng.choice(VALID)) + b"\0", "nonul"
    if kind == 6:  # binary junk
        n = rng.choice([1, 7, 100, 4000])
        return bytes(rng.randrange(256) for _ in range(n)) + b"\0", "junk"
    if kind == 7:  # junk with no NUL, the connection closes after it
        n = rng.choice([1, 50, 3000])
        return bytes(rng.randrange(1, 256) for _ in range(n)), "junknonul"
    if kind == 8:  # deep or long values
        d = rng.choice([10, 100, 3000])
        return (b'{"method":"' + (M + "GetStatus").encode() +
                b'","parameters":{"x":' + b"[" * d + b"]" * d + b"}}\0",
                "deep")
    return enc(base) + b"\0", "valid"


def drain(s, limit):
    """Read replies until EOF or LIMIT seconds; return (replies, eof)."""
    n = 0
    end = time.monotonic() + limit
    eof = False
    try:
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            c = s.recv(65536)
            if not c:
                eof = True
                break
            n += c.count(b"\0")
    except (socket.timeout, ConnectionResetError):
        pass
    return n, eof


def fuzz(path, args):
    total, seed = int(args[0]), int(args[1])
    per = 10
    lock = threading.Lock()
    st = {"sent": 0, "conns": 0, "replies": 0, "server_closed": 0,
          "send_refused": 0}
    kinds = {}
    jobs = list(range(0, total, per))

    def worker(wid):
        rng = random.Random(seed * 1000 + wid)
        while True:
            with lock:
                if not jobs:
                    return
                jobs.pop()
            msgs = [mutate(rng) for _ in range(per)]
            sent = 0
            try:
                s = connect(path)
                for m, k in msgs:
                    s.sendall(m)
                    sent += 1
                    with lock:
                        kinds[k] = kinds.get(k, 0) + 1
                s.shutdown(socket.SHUT_WR)
            except OSError:
                # The server closed on a bad message: the rest is unsent.
                with lock:
                    st["send_refused"] += 1
            n, eof = drain(s, 0.5)
            s.close()
            with lock:
                st["sent"] += sent
                st["conns"] += 1
                st["replies"] += n
                st["server_closed"] += eof

    good = Good(path)
    good.start()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in sorted(st):
        print("%s %d" % (k, st[k]))
    print("kinds " + " ".join("%s=%d" % kv for kv in sorted(kinds.items())))
    good.report()


def partial(path, args):
    n = int(args[0])
    msg = enc({"method": M + "GetStatus"}) + b"\0"
    good = Good(path)
    good.start()
    answered = cut = 0
    for i in range(n):
        s = connect(path)
        for b in msg:
            s.send(bytes([b]))
            time.sleep(0.001)
        buf = b""
        while b"\0" not in buf:
            c = s.recv(65536)
            if not c:
                break
            buf += c
        if b'"caching"' in buf:
            answered += 1
        s.close()
        s = connect(path)
        s.sendall(msg[:random.Random(i).randrange(1, len(msg) - 1)])
        s.close()
        cut += 1
    print("dribbled %d" % n)
    print("dribbled_answered %d" % answered)
    print("cut %d" % cut)
    good.report()


def fdcount(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def idle(path, args):
    n, secs, pid = int(args[0]), float(args[1]), int(args[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    good = Good(path)
    good.start()
    socks = []
    maxfd = fdcount(pid)
    for i in range(n):
        socks.append(connect(path, 10))
        if i % 50 == 0:
            maxfd = max(maxfd, fdcount(pid))
    print("opened %d" % len(socks))
    end = time.monotonic() + secs
    while time.monotonic() < end:
        maxfd = max(maxfd, fdcount(pid))
        time.sleep(0.1)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    print("evicted %d" % closed)
    print("daemon_max_fds %d" % maxfd)
    for s in socks:
        s.close()
    good.report()


def noread(path, args):
    n, secs = int(args[0]), float(args[1])
    good = Good(path)
    good.start()
    socks = []
    sent = 0
    for i in range(n):
        s = connect(path)
        s.setblocking(False)
        calls = [{"method": M + "Dump", "more": True},
                 {"method": M + "Watch", "more": True},
                 {"method": M + "Audit", "more": True},
                 {"method": "org.varlink.service.GetInterfaceDescription",
                  "parameters": {"interface": "io.iomapfs.Cache"}}]
        try:
            for k in range(2000):
                s.send(enc(calls[(i + k) % len(calls)]) + b"\0")
                sent += 1
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass
        socks.append(s)
    print("noread_clients %d" % n)
    print("noread_calls %d" % sent)
    time.sleep(secs)
    dropped = 0
    for s in socks:
        try:
            while True:
                if s.recv(1 << 20) == b"":
                    dropped += 1
                    break
        except BlockingIOError:
            pass
        except ConnectionResetError:
            dropped += 1
        s.close()
    print("noread_dropped %d" % dropped)
    good.report()


def first(path, args):
    msg = {"method": args[0]}
    rest = [a for a in args[1:] if not a.startswith("--")]
    if rest:
        msg["parameters"] = json.loads(rest[0])
    if "--more" in args:
        msg["more"] = True
    s = connect(path, 10)
    s.sendall(enc(msg) + b"\0")
    buf = b""
    while b"\0" not in buf:
        c = s.recv(65536)
        if not c:
            print("EOF")
            return
        buf += c
    s.close()
    print(json.dumps(json.loads(buf.split(b"\0")[0]), sort_keys=True))


def ioloop(path, args):
    secs = float(args[0])
    stop = args[1] if len(args) > 1 else None
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644)
    nblk = 1024
    buf = mmap.mmap(-1, 4096)
    rng = random.Random(1)
    # Each block holds its own number and the pass that wrote it, so that
    # a read is checked too.
    stamp = [0] * nblk
    for b in range(nblk):
        buf.seek(0)
        buf.write(("%08d %08d\n" % (b, 0)).encode() * 227)
        os.pwritev(fd, [buf], b * 4096)
    worst = 0.0
    ops = bad = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if stop and ops % 256 == 0 and os.path.exists(stop):
            break
        b = rng.randrange(nblk)
        t0 = time.monotonic()
        if rng.random() < 0.5:
            stamp[b] += 1
            buf.seek(0)
            buf.write(("%08d %08d\n" % (b, stamp[b])).encode() * 227)
            os.pwritev(fd, [buf], b * 4096)
        else:
            os.preadv(fd, [buf], b * 4096)
            if buf[:18] != ("%08d %08d\n" % (b, stamp[b])).encode():
                bad += 1
        worst = max(worst, time.monotonic() - t0)
        ops += 1
    os.close(fd)
    print("io_ops %d" % ops)
    print("io_bad %d" % bad)
    print("io_max_ms %d" % int(worst * 1000))


def main(argv):
    if len(argv) >= 3 and argv[1] == "ioloop":
        ioloop(argv[2], argv[3:])
        return 0
    if len(argv) < 3:
        sys.stderr.write(
            "usage: sockabuse.py SOCK fuzz|partial|idle|noread ARGS...\n"
            "       sockabuse.py ioloop FILE SECONDS\n")
        return 2
    modes = {"fuzz": fuzz, "partial": partial, "idle": idle,
             "noread": noread, "first": first}
    if argv[2] not in modes:
        sys.stderr.write("sockabuse.py: unknown mode %s\n" % argv[2])
        return 2
    modes[argv[2]](argv[1], argv[3:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
