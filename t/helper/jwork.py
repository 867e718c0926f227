#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# jwork.py - the journal tests' work and their view of a tree.
#
#   jwork.py run ROOT LOG SEED [SECONDS]
#       Metadata-heavy work in ROOT until SECONDS pass (default 60) or the
#       filesystem fails (the daemon was killed): creates, appends and
#       overwrites, truncates, fallocate (plain, keep-size, punch), renames
#       (plain and over a file), unlinks, mkdir/rmdir, hard and symbolic
#       links, xattrs, a file kept open while unlinked; and markers: a
#       marker mJ is replaced version after version by writing mJ.new,
#       fsyncing it, logging "P mJ SHA256", renaming it over mJ and
#       fsyncing ROOT; once that fsync returns, "D mJ SHA256" goes to LOG
#       (outside the image, one line per write(2) on an O_APPEND
#       descriptor).  JWORK_STOP_AFTER=N in the environment: the work
#       stops itself (SIGSTOP) right after its Nth D line, for a test to
#       act at that point and let it go on (SIGCONT).
#   jwork.py markers ROOT LOG
#       Every marker LOG names as durable exists and holds its last D
#       version, or a version P-logged after it: a later rename may reach
#       the disk before its own fsync returns (any commit takes it, the
#       timer's or another file's fsync), and its data was fsynced before
#       its P line.  Prints one problem per line and "markers N ok", exits
#       1 on a problem.
#   jwork.py tree ROOT
#       One line per entry under ROOT, sorted: path, kind, mode, uid, gid,
#       size, link count, mtime and ctime in ns, the SHA-256 of a file's
#       bytes or a link's target, and its xattrs (names and SHA-256 of the
#       values).  Two trees that print the same hold the same files,
#       bytes and stat.
import ctypes
import errno
import hashlib
import os
import random
import signal
import sys
import time

MARKERS = 4
FALLOC_KEEP_SIZE = 1
FALLOC_PUNCH_HOLE = 2
_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                            ctypes.c_int64]


def fallocate(fd, mode, off, length):
    if _libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def log_line(fd, text):
    os.write(fd, (text + "\n").encode())


def pattern(seed, n):
    """n bytes that say which write made them."""
    unit = ("%08x" % (seed & 0xFFFFFFFF)).encode() * 8
    return (unit * (n // len(unit) + 1))[:n]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def fs_gone(e):
    # ENOTCONN: the daemon was killed (ECONNABORTED: during this request);
    # EIO/EROFS: the mount failed.
    return e.errno in (errno.ENOTCONN, errno.ECONNABORTED, errno.EIO,
                       errno.EROFS, errno.ENODEV)


def marker_step(root, logfd, j, version):
    data = pattern(j * 1000003 + version, 512 + (version % 7) * 977)
    tmp = os.path.join(root, "m%d.new" % j)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    log_line(logfd, "P m%d %s" % (j, sha(data)))
    os.rename(tmp, os.path.join(root, "m%d" % j))
    dfd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    log_line(logfd, "D m%d %s" % (j, sha(data)))


def one_op(rng, root, opened):
    d = os.path.join(root, "d%d" % rng.randrange(6))
    name = os.path.join(d, "f%d" % rng.randrange(40))
    other = os.path.join(rng.choice([d, root]), "f%d" % rng.randrange(40))
    op = rng.randrange(16)
    try:
        if op == 0:
            os.makedirs(d, exist_ok=True)
        elif op in (1, 2):
            os.makedirs(d, exist_ok=True)
            with open(name, "ab") as f:
                f.write(pattern(rng.randrange(1 << 30), rng.choice(
                    [10, 100, 4096, 5000, 70000])))
        elif op == 3:
            with open(name, "r+b") as f:
                f.seek(rng.randrange(8192))
                f.write(pattern(rng.randrange(1 << 30), 3000))
        elif op == 4:
            os.truncate(name, rng.choice([0, 1, 4095, 4096, 20000, 300000]))
        elif op == 5:
            fd = os.open(name, os.O_WRONLY)
            try:
                # plain, keep size, or punch (with keep size)
                mode = rng.choice([0, FALLOC_KEEP_SIZE,
                                   FALLOC_KEEP_SIZE | FALLOC_PUNCH_HOLE])
                fallocate(fd, mode, rng.randrange(16) * 4096,
                          rng.randrange(1, 64) * 4096)
            finally:
                os.close(fd)
        elif op == 6:
            os.rename(name, other)
        elif op == 7:
            os.unlink(name)
        elif op == 8:
            os.link(name, other)
        elif op == 9:
            os.symlink("target-" + "x" * rng.choice([5, 300]), name)
        elif op == 10:
            os.setxattr(name, "user.k%d" % rng.randrange(4),
                        pattern(rng.randrange(1 << 30), rng.choice([8, 200,
                                                                    3000])))
        elif op == 11:
            os.removexattr(name, "user.k%d" % rng.randrange(4))
        elif op == 12:
            sub = os.path.join(d, "s%d" % rng.randrange(4))
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, "g"), "wb") as f:
                f.write(b"sub")
        elif op == 13:
            sub = os.path.join(d, "s%d" % rng.randrange(4))
            for e in os.listdir(sub):
                os.unlink(os.path.join(sub, e))
            os.rmdir(sub)
        elif op == 14:
            # A file kept open after its last link goes (the orphan list).
            fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
            os.write(fd, pattern(rng.randrange(1 << 30), 50000))
            os.unlink(name)
            opened.append(fd)
            if len(opened) > 3:
                os.close(opened.pop(0))
        else:
            fd = os.open(name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as e:
        if fs_gone(e):
            raise
        # ENOENT, EEXIST, ENOTEMPTY, ENOSPC...: the work goes on.


def run(root, log, seed, seconds):
    rng = random.Random(seed)
    logfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    # Every path goes through a descriptor of ROOT opened now, on the
    # mount under test: once the daemon is killed, each step fails there
    # (ENOTCONN) even after the mount is dropped, where ROOT's own path
    # would name the directory underneath and the work, fsyncs
    # succeeding, would log as durable markers the image never saw.
    rootfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    root = "/proc/self/fd/%d" % rootfd
    stop_after = int(os.environ.get("JWORK_STOP_AFTER", "0"))
    end = time.monotonic() + seconds
    opened = []
    version = 0
    try:
        while time.monotonic() < end:
            for _ in range(rng.randrange(1, 20)):
                one_op(rng, root, opened)
            version += 1
            marker_step(root, logfd, version % MARKERS, version)
            if version == stop_after:
                # A test's fixed point between two steps (see the top).
                os.kill(os.getpid(), signal.SIGSTOP)
    except OSError as e:
        if not fs_gone(e):
            raise
    log_line(logfd, "E stopped")
    return 0


def markers(root, log):
    last = {}     # marker: SHA-256 of its versions, the last D one first
    with open(log) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "D":
                last[w[1]] = [w[2]]
            elif len(w) == 3 and w[0] == "P" and w[1] in last:
                last[w[1]].append(w[2])
    bad = 0
    for m, shas in sorted(last.items()):
        try:
            with open(os.path.join(root, m), "rb") as f:
                got = sha(f.read())
        except OSError as e:
            print("%s: durable as %s, but %s" % (m, shas[0][:12], e))
            bad += 1
            continue
        # The last durable version, or one written after it (the
        # versions of one marker only ever go forward).
        if got not in shas:
            print("%s: holds %s, the last durable version is %s (%d later "
                  "ones prepared)" % (m, got[:12], shas[0][:12],
                                      len(shas) - 1))
            bad += 1
    print("markers %d ok" % (len(last) - bad))
    return 1 if bad else 0


def tree(root):
    lines = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            kind = "d" if os.path.isdir(p) and not os.path.islink(p) else \
                "l" if os.path.islink(p) else "f"
            if kind == "f":
                with open(p, "rb") as f:
                    h = sha(f.read())
            elif kind == "l":
                h = sha(os.readlink(p).encode())
            else:
                h = "-"
            try:
                xs = sorted(os.listxattr(p, follow_symlinks=False))
            except OSError:
                xs = []
            xa = ",".join("%s=%s" % (x, sha(os.getxattr(
                p, x, follow_symlinks=False))[:12]) for x in xs)
            lines.append("%s %s %o %d %d %d %d %d %d %s %s" % (
                rel, kind, st.st_mode, st.st_uid, st.st_gid,
                st.st_size if kind != "d" else 0, st.st_nlink,
                st.st_mtime_ns, st.st_ctime_ns, h, xa))
    for line in sorted(lines):
        print(line)
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "run":
        return run(argv[2], argv[3], int(argv[4]),
                   float(argv[5]) if len(argv) > 5 else 60)
    if len(argv) == 4 and argv[1] == "markers":
        return markers(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "tree":
        return tree(argv[2])
    print("usage: jwork.py run ROOT LOG SEED [SECONDS] | "
          "markers ROOT LOG | tree ROOT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
