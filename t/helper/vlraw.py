#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# vlraw.py - a Varlink client for the protocol tests, written apart from
# iomapfs's own code (only Python's socket and json modules) so that the
# tests check the server against bytes the project did not generate.
#
#   vlraw.py SOCK call METHOD [PARAMS-JSON] [--more] [--oneway]
#       send one call; print each reply as one line of JSON (sorted keys)
#       until a reply without "continues", or the end of the connection.
#   vlraw.py SOCK raw [--no-shutdown]
#       send standard input as it is, shut down our sending side (unless
#       --no-shutdown), print every reply until the server closes; a last
#       line "EOF" says it closed.
#   vlraw.py SOCK hold SECONDS
#       connect and say nothing; print "closed by server after N s" if the
#       server closes it first, else "still open".
#   vlraw.py SOCK watchslow SECONDS [PARAMS-JSON]
#       start a Watch, print "ready" after its first reply, then read
#       nothing for SECONDS (the server must not wait for us), then read
#       until no reply comes for 1 s and print "events N lost M".
#   vlraw.py SOCK noread N SECONDS
#       send up to N GetStatus calls without ever reading a reply (until
#       sending blocks), print "sent K", hold the connection for SECONDS,
#       then print "closed" if the server dropped us, else "open".
#   vlraw.py SOCK many N SECONDS
#       open N connections that never speak, hold them for SECONDS, print
#       how many the server closed.
#   vlraw.py SOCK flood N METHOD
#       N connections at once, each calling METHOD; print how many got a
#       good reply.
# Options before SOCK: -t SECONDS, the timeout for each reply (default 10).
import json
import socket
import sys
import threading
import time


def connect(path, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A non-blocking connect() of a UNIX socket fails with EAGAIN when
    # the backlog is full instead of waiting: connect blocking, retrying.
    deadline = time.time() + timeout
    while True:
        try:
            s.connect(path)
            break
        except BlockingIOError:
            if time.time() > deadline:
                raise
            time.sleep(0.01)
    s.settimeout(timeout)
    return s


def replies(s):
    """Yield each NUL-terminated message as bytes; None at end of file."""
    buf = b""
    while True:
        while b"\0" in buf:
            msg, buf = buf.split(b"\0", 1)
            yield msg
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            # The server closed with our bytes unread: an end of file.
            chunk = b""
        if not chunk:
            if buf:
                yield b"UNTERMINATED " + buf
            yield None
            return
        buf += chunk


def show(msg):
    try:
        obj = json.loads(msg.decode("utf-8"))
        print(json.dumps(obj, sort_keys=True, separators=(",", ":")))
    except (ValueError, UnicodeDecodeError):
        print("BADREPLY " + repr(msg))
    sys.stdout.flush()
    return obj


def call(path, timeout, args):
    method = args[0]
    params = None
    more = "--more" in args
    oneway = "--oneway" in args
    rest = [a for a in args[1:] if not a.startswith("--")]
    if rest:
        params = json.loads(rest[0])
    msg = {"method": method}
    if params is not None:
        msg["parameters"] = params
    if more:
        msg["more"] = True
    if oneway:
        msg["oneway"] = True
    s = connect(path, timeout)
    s.sendall(json.dumps(msg).encode("utf-8") + b"\0")
    if oneway:
        s.shutdown(socket.SHUT_WR)
    for m in replies(s):
        if m is None:
            print("EOF")
            return 0
        obj = show(m)
        if not obj.get("continues"):
            return 0
    return 0


def raw(path, timeout, args):
    data = sys.stdin.buffer.read()
    s = connect(path, timeout)
    try:
        s.sendall(data)
        if "--no-shutdown" not in args:
            s.shutdown(socket.SHUT_WR)
    except OSError as e:
        # The server may refuse a message before it is all sent; what it
        # answered is still to be read.
        print("SENDERROR %s" % e.strerror)
    try:
        for m in replies(s):
            if m is None:
                print("EOF")
                break
            if m.startswith(b"UNTERMINATED "):
                print(m.decode("utf-8", "replace"))
                continue
            show(m)
    except socket.timeout:
        print("TIMEOUT")
    return 0


def hold(path, timeout, args):
    secs = float(args[0])
    s = connect(path, secs + 5)
    start = time.time()
    s.settimeout(secs)
    try:
        data = s.recv(65536)
        if not data:
            print("closed by server after %d s" % int(time.time() - start))
            return 0
        print("got bytes: " + repr(data))
    except socket.timeout:
        print("still open")
    return 0


def flood(path, timeout, args):
    n, method = int(args[0]), args[1]
    good = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one():
        try:
            s = connect(path, timeout)
            barrier.wait(timeout)
            s.sendall(json.dumps({"method": method}).encode() + b"\0")
            m = next(replies(s))
            obj = json.loads(m.decode())
            if "error" not in obj:
                with lock:
                    good.append(1)
            s.close()
        except Exception as e:  # noqa: BLE001 - report, do not die
            sys.stderr.write("client failed: %r\n" % (e,))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(good))
    return 0


def watchslow(path, timeout, args):
    secs = float(args[0])
    params = json.loads(args[1]) if len(args) > 1 else {}
    s = connect(path, timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(json.dumps({"method": "io.iomapfs.Cache.Watch",
                          "parameters": params, "more": True}).encode()
              + b"\0")
    it = replies(s)
    first = json.loads(next(it).decode())
    if "error" in first:
        print(json.dumps(first, sort_keys=True))
        return 1
    print("ready")
    sys.stdout.flush()
    time.sleep(secs)
    s.settimeout(1.0)
    events = lost = 0
    try:
        for m in it:
            if m is None:
                break
            p = json.loads(m.decode()).get("parameters", {})
            if p.get("event"):
                events += 1
            lost += p.get("lost", 0)
    except socket.timeout:
        pass
    print("events %d lost %d" % (events, lost))
    return 0


def noread(path, timeout, args):
    n, secs = int(args[0]), float(args[1])
    s = connect(path, timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(0.5)
    msg = json.dumps({"method": "io.iomapfs.Cache.GetStatus"}).encode()
    sent = 0
    try:
        for _ in range(n):
            s.sendall(msg + b"\0")
            sent += 1
    except (socket.timeout, OSError):
        pass
    print("sent %d" % sent)
    sys.stdout.flush()
    time.sleep(secs)
    s.settimeout(5)
    try:
        while True:
            data = s.recv(1 << 20)
            if not data:
                print("closed")
                return 0
    except socket.timeout:
        print("open")
    except OSError:
        print("closed")
    return 0


def many(path, timeout, args):
    n, secs = int(args[0]), float(args[1])
    socks = [connect(path, timeout) for _ in range(n)]
    print("connected %d" % n)
    sys.stdout.flush()
    time.sleep(secs)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(65536) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print("closed %d" % closed)
    return 0


def main(argv):
    timeout = 10.0
    if len(argv) > 2 and argv[1] == "-t":
        timeout = float(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        sys.stderr.write("usage: vlraw.py [-t S] SOCK call|raw|hold|flood ...\n")
        return 2
    path, cmd, args = argv[1], argv[2], argv[3:]
    fn = {"call": call, "raw": raw, "hold": hold, "flood": flood,
          "watchslow": watchslow, "noread": noread, "many": many}.get(cmd)
    if not fn:
        sys.stderr.write("vlraw.py: unknown command %s\n" % cmd)
        return 2
    try:
        return fn(path, timeout, args)
    except socket.timeout:
        print("TIMEOUT")
        return 1
    except OSError as e:
        print("OSERROR %s" % e.strerror)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
