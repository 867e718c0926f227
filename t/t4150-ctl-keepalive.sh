#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4150-ctl-keepalive.sh - one connection carries a streamed call (Dump,
# Audit) and then more calls.  The server once closed such connections
# about once in seventy: the poll round's clock was read before a worker
# was reaped, the reap stamped a later time, and the unsigned idle time
# wrapped around to "idle for ever".  Raw bytes from Python, no project
# client, so no client-side retry can hide a drop.
test_description='calls after a streamed call on one connection'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq FUSE,ROOT,PYTHON3,E2FSPROGS ||
	skip_all "needs FUSE, root, python3 and e2fsprogs"

test_expect_success 'mount with a control socket and cache a file' '
	make_image img 32M -t ext4 &&
	iomapfs_mount img mnt -o ctl_socket="$TRASH/ctl.sock" &&
	echo hello >mnt/f && cat mnt/f >/dev/null
'

cat >keepalive.py <<'PY'
import json, socket, sys

def call(s, method, more=False):
    m = {"method": "io.iomapfs.Cache." + method, "parameters": {}}
    if more:
        m["more"] = True
    s.sendall(json.dumps(m).encode() + b"\0")

def replies(s, buf):
    """Every reply of one call, up to the one without "continues"."""
    while True:
        while b"\0" not in buf[0]:
            d = s.recv(65536)
            if not d:
                raise ConnectionError("server closed the connection")
            buf[0] += d
        msg, _, buf[0] = buf[0].partition(b"\0")
        r = json.loads(msg)
        if "error" in r:
            raise RuntimeError("error reply: %r" % r)
        if not r.get("continues"):
            return

rounds, failures = int(sys.argv[2]), []
for i in range(rounds):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    buf = [b""]
    step = "connect"
    try:
        for step, more in (("Dump", True), ("Audit", True),
                           ("GetStatus", False), ("Dump", True),
                           ("GetStats", False)):
            call(s, step, more)
            replies(s, buf)
    except Exception as e:
        failures.append("round %d, %s: %r" % (i, step, e))
    s.close()
print("%d of %d rounds failed" % (len(failures), rounds))
for f in failures[:10]:
    print(f)
sys.exit(1 if failures else 0)
PY

test_expect_success '400 connections, five calls each, none dropped' '
	python3 keepalive.py "$TRASH/ctl.sock" 400
'

test_expect_success 'unmount' '
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_done
