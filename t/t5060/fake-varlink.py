#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# fake-varlink.py - a scripted Varlink peer for iomapctl's tests, for the
# replies a healthy daemon cannot be made to give on demand: audit
# differences, lost watch events, Varlink errors, malformed replies.
#
# Usage: fake-varlink.py SOCKET SCRIPT.json
# SCRIPT maps a method name to the list of raw replies to send, in order;
# a string reply is sent as is (bytes, then NUL), an object is JSON
# encoded.  Every call received is appended as one JSON line to
# SOCKET.calls.  The server serves connections one after another until
# killed.
import json
import os
import socket
import sys


def main():
    path, script_path = sys.argv[1], sys.argv[2]
    with open(script_path) as f:
        script = json.load(f)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        buf = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
                while b"\0" in buf:
                    raw, buf = buf.split(b"\0", 1)
                    call = json.loads(raw)
                    with open(path + ".calls", "a") as log:
                        log.write(json.dumps(call, sort_keys=True) + "\n")
                    method = call.get("method", "").rsplit(".", 1)[-1]
                    replies = script.get(method)
                    if replies is None:
                        replies = [{"error":
                                    "org.varlink.service.MethodNotFound",
                                    "parameters": {"method": method}}]
                    for r in replies:
                        if isinstance(r, str):
                            out = r.encode()
                        else:
                            out = json.dumps(r).encode()
                        try:
                            conn.sendall(out + b"\0")
                        except BrokenPipeError:
                            break


main()
