#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# metawork.py - the metadata-heavy work of the crash tests, and the check
# of a tree it leaves after a crash (t/lib-crash.sh, t/t68xx).
#
#   metawork.py run ROOT LOG SEED [--seconds S] [--workers W] [--ctl CTL]
#                   [--min-markers N]
#       W worker threads (default 3), each in its own directory ROOT/wK,
#       create, append, overwrite, truncate, fallocate, punch and zero
#       files; rename them (plain, RENAME_NOREPLACE, RENAME_EXCHANGE,
#       over another file) and directories; unlink, mkdir, rmdir, link,
#       symlink; set and remove xattrs and ACLs (setfacl, access and
#       default); fsync files and directories.  A marker thread in ROOT/m
#       keeps MARKERS files mJ, each replaced by version after version:
#       write ROOT/m/mJ.tmpV, fsync it, rename it over mJ, fsync ROOT/m.
#       Runs until S seconds pass (default 600) or the filesystem fails
#       (the daemon was killed, the kernel's mount shut down); with
#       --min-markers, the marker thread goes on past S until it has made
#       N marker versions (more than MARKERS gives some marker two), so
#       that a short run proves the same on a slow or loaded machine.
#   metawork.py check ROOT LOG [--durable FILE] [--workers W]
#       Checks the tree at ROOT (after the crash and the replay) against
#       LOG; with --durable, the D lines of FILE (the marks of a power-cut
#       state) say which marker versions were durable instead of LOG's.
#       Prints each problem, then one line of counts; exits 1 on a problem.
#
# LOG is written outside the image, a line at a time (write(2) on an
# O_APPEND descriptor; D lines are fdatasync'd too):
#   S start                  the setup is done: the work begins
#   I OP NAME                before an operation that gives NAME to an
#                            entry (create, mkdir, symlink, link, rename)
#   P mJ V SHA256 SIZE       version V of marker mJ is written and fsynced
#                            in mJ.tmpV (logged before the rename)
#   D mJ V SHA256 SIZE       the fsync of ROOT/m after renaming version V
#                            over mJ has returned: V is durable
#   E TEXT                   the error that stopped a thread
# With --ctl CTL (t/helper/logdev's ctl file), each D line is also written
# to CTL as "mark D ...", so that the power-cut tests know which versions
# each rebuilt state must hold.
#
# What "a tree the work could have produced" means, as checked:
#  1. ROOT holds only lost+found (empty), m and the wK directories.
#  2. Every other entry's name is one an I line gave (the work logs a name
#     before it gives it), of the form fK_N, dK_N or sK_N (or mJ, mJ.tmpV
#     in m), and its kind is the one its first letter says: f a regular
#     file, d a directory, s a symbolic link (RENAME_EXCHANGE only swaps
#     entries of one kind).  No directory appears twice.
#  3. Every byte of a regular file fK_N is zero or the byte of its birth
#     pattern at that offset: every write the work makes writes, at
#     offset O, the bytes the file's pattern has at O, in whole 32-byte
#     records that name the file, the record's number and a check (every
#     offset, size and length the work uses is a multiple of 32).  The
#     birth is the name of a create some I line logged, and every record
#     of a file names the same birth; size at most MAX_FILE.
#  4. A symbolic link's target is "target-of-" + a name a symlink I line
#     logged, with or without the long tail the work adds to some.
#  5. xattrs: user.kJ (J < 8) holding "vJ-" one or more times; the access
#     and default ACLs, well formed, of the work's users and groups only.
#  6. Link counts: a file's st_nlink is the number of its names in the
#     tree; a directory's is 2 plus its subdirectories.
#  7. Markers: every marker with a durable version exists (no marker is
#     lost) and holds exactly one version V' at least its last durable
#     one, V' a version whose P line was logged (its bytes were fsynced
#     before the rename); mJ.tmpV holds zeroes or version V's records.
import ctypes
import errno
import hashlib
import os
import random
import re
import stat as S
import struct
import subprocess
import sys
import threading
import time

REC = 32
BLK = 4096
MAGIC = 0x4B524F5741544D  # "MTAWORK"
MARKER_MAGIC = 0x4B52414D52  # "RMARK"
MAX_FILE = 256 * 1024
MARKERS = 6
XATTRS = 8
ACL_IDS = (1000, 1001, 1002, 1003)
LONG_TAIL = "-" + "x" * 200
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 1, 2, 16
AT_FDCWD = -100
# An error in this set is the work meeting the tree as it is (a name
# another step removed, a directory not empty); any other stops the work.
EXPECTED = {errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY, errno.EINVAL,
            errno.ENOSPC, errno.ENOTDIR, errno.EISDIR, errno.EMLINK,
            errno.ENODATA, errno.EPERM}

REC_STRUCT = struct.Struct("<QQQQ")
BLK_STRUCT = struct.Struct("<%dQ" % (BLK // 8))

_libc = ctypes.CDLL(None, use_errno=True)


def fid_of(name):
    h = 1469598103934665603
    for c in name.encode():
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFF
    return h


def check_word(magic, fid, n):
    return ((magic * 0x9E3779B97F4A7C15) ^ (fid << 16) ^
            (n * 0xFF51AFD7ED558CCD)) & 0xFFFFFFFFFFFFFFFF


def records(magic, fid, first, count):
    vals = []
    for n in range(first, first + count):
        vals += (magic, fid, n, check_word(magic, fid, n))
    return struct.pack("<%dQ" % len(vals), *vals)


def pattern(fid, off, n, magic=MAGIC):
    """The bytes [off, off + n) of a file of birth FID (32-aligned)."""
    assert off % REC == 0 and n % REC == 0
    return records(magic, fid, off // REC, n // REC)


def renameat2(src, dst, flags):
    if _libc.renameat2(AT_FDCWD, src.encode(), AT_FDCWD, dst.encode(),
                       flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), src)


def fallocate(fd, mode, off, length):
    if _libc.fallocate(fd, mode, ctypes.c_long(off),
                       ctypes.c_long(length)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Log:
    def __init__(self, path, ctl):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                          0o644)
        self.ctl = ctl
        self.lock = threading.Lock()

    def put(self, line, durable=False):
        with self.lock:
            os.write(self.fd, (line + "\n").encode())
            if durable:
                os.fdatasync(self.fd)
                if self.ctl:
                    cfd = os.open(self.ctl, os.O_WRONLY)
                    try:
                        os.write(cfd, ("mark " + line + "\n").encode())
                    finally:
                        os.close(cfd)


class Stop(Exception):
    pass


class Worker:
    def __init__(self, k, root, log, seed, end, stats):
        self.k = k
        self.top = os.path.join(root, "w%d" % k)
        self.log = log
        self.rng = random.Random(seed * 1000 + k)
        self.end = end
        self.n = 0
        self.births = {}    # st_ino -> fid, for the files this worker made
        self.files = 0      # about how many files live: bounds the tree
        self.stats = stats

    def new(self, prefix, op):
        self.n += 1
        name = "%s%d_%d" % (prefix, self.k, self.n)
        self.log.put("I %s %s" % (op, name))
        return name

    def pick_dir(self):
        d = self.top
        for _ in range(self.rng.randint(0, 3)):
            subs = [e.path for e in os.scandir(d)
                    if e.is_dir(follow_symlinks=False)]
            if not subs:
                break
            d = self.rng.choice(subs)
        return d

    def pick(self, kind):
        """An entry of kind f, d or s, or None."""
        for _ in range(4):
            d = self.pick_dir()
            if kind == "d" and d != self.top and self.rng.random() < 0.5:
                return d
            ents = [e.path for e in os.scandir(d) if e.name[0] == kind]
            if ents:
                return self.rng.choice(ents)
        return None

    def size32(self, hi):
        return self.rng.randrange(0, hi // REC + 1) * REC

    def write_pattern(self, fd, fid, off, n):
        if n:
            os.pwrite(fd, pattern(fid, off, n), off)

    # -- the operations; each raises OSError --

    def op_create(self):
        name = self.new("f", "create")
        path = os.path.join(self.pick_dir(), name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fid = fid_of(name)
            self.births[os.fstat(fd).st_ino] = fid
            self.files += 1
            self.write_pattern(fd, fid, 0, self.size32(16 * 1024))
            if self.rng.random() < 0.3:
                os.fsync(fd)
        finally:
            os.close(fd)

    def open_file(self):
        p = self.pick("f")
        if not p:
            return None, None
        fd = os.open(p, os.O_WRONLY)
        fid = self.births.get(os.fstat(fd).st_ino)
        if fid is None:
            os.close(fd)
            return None, None
        return fd, fid

    def op_data(self):
        fd, fid = self.open_file()
        if fd is None:
            return
        try:
            size = os.fstat(fd).st_size
            what = self.rng.randrange(7)
            if what == 0:                   # append
                n = min(self.size32(32 * 1024), MAX_FILE - size)
                self.write_pattern(fd, fid, size, max(0, n))
            elif what == 1:                 # overwrite
                off = self.size32(max(size, REC))
                n = min(self.size32(16 * 1024), MAX_FILE - off)
                self.write_pattern(fd, fid, off, max(0, n))
            elif what == 2:                 # truncate
                os.ftruncate(fd, self.size32(MAX_FILE))
            elif what == 3:                 # fallocate, maybe past EOF
                off = self.size32(MAX_FILE - 64 * 1024)
                fallocate(fd, self.rng.choice([0, FALLOC_FL_KEEP_SIZE]),
                          off, self.size32(64 * 1024 - REC) + REC)
            elif what == 4:                 # punch
                fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                          self.size32(max(size, REC)),
                          self.size32(64 * 1024) + REC)
            elif what == 5:                 # zero range
                fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                          self.size32(max(size, REC)),
                          self.size32(64 * 1024) + REC)
            else:
                self.rng.choice([os.fsync, os.fdatasync])(fd)
        finally:
            os.close(fd)

    def op_unlink(self):
        p = self.pick(self.rng.choice("ffs"))
        if p:
            os.unlink(p)
            if os.path.basename(p)[0] == "f":
                self.files -= 1

    def op_mkdir(self):
        name = self.new("d", "mkdir")
        os.mkdir(os.path.join(self.pick_dir(), name))

    def op_rmdir(self):
        p = self.pick("d")
        if p and p != self.top:
            os.rmdir(p)

    def op_rename(self):
        kind = self.rng.choice("ffds")
        src = self.pick(kind)
        if not src:
            return
        how = self.rng.randrange(4)
        if how == 0 and kind != "d":        # over an existing entry
            dst = self.pick(kind)
            if dst:
                os.rename(src, dst)
            return
        if how == 1:                        # RENAME_EXCHANGE
            dst = self.pick(kind)
            if dst and dst != src:
                renameat2(src, dst, RENAME_EXCHANGE)
            return
        if how == 2:                        # NOREPLACE onto a name in use
            dst = self.pick(kind)
            if dst and dst != src:
                try:
                    renameat2(src, dst, RENAME_NOREPLACE)
                except OSError as e:
                    if e.errno != errno.EEXIST:
                        raise
                else:
                    self.stats["noreplace_replaced"] += 1
            return
        name = self.new(kind, "rename")
        dst = os.path.join(self.pick_dir(), name)
        if self.rng.random() < 0.5:
            renameat2(src, dst, RENAME_NOREPLACE)
        else:
            os.rename(src, dst)

    def op_link(self):
        src = self.pick("f")
        if src:
            name = self.new("f", "link")
            os.link(src, os.path.join(self.pick_dir(), name))

    def op_symlink(self):
        name = self.new("s", "symlink")
        target = "target-of-" + name
        if self.rng.random() < 0.3:
            target += LONG_TAIL
        os.symlink(target, os.path.join(self.pick_dir(), name))

    def op_xattr(self):
        p = self.pick(self.rng.choice("fd"))
        if not p:
            return
        j = self.rng.randrange(XATTRS)
        if self.rng.random() < 0.25:
            os.removexattr(p, "user.k%d" % j)
        else:
            val = ("v%d-" % j) * self.rng.choice([1, 3, 40, 400])
            os.setxattr(p, "user.k%d" % j, val.encode())

    def op_acl(self):
        p = self.pick(self.rng.choice("fd"))
        if not p:
            return
        spec = "u:%d:%s,g:%d:%s" % (self.rng.choice(ACL_IDS),
                                    self.rng.choice(["r", "rw", "rwx"]),
                                    self.rng.choice(ACL_IDS),
                                    self.rng.choice(["r", "rx"]))
        args = ["setfacl", "-m", spec, p]
        if os.path.isdir(p) and self.rng.random() < 0.5:
            args[1:1] = ["-d"]
        if self.rng.random() < 0.15:
            args = ["setfacl", "-b", p]
        r = subprocess.run(args, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        if r.returncode:
            msg = r.stderr.decode(errors="replace").strip()
            # A name that another step removed is no failure.
            if "No such file" not in msg:
                raise OSError(errno.EIO, "setfacl: " + msg)

    def op_fsync_dir(self):
        fd = os.open(self.pick_dir(), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def run(self):
        ops = [(self.op_create, 14), (self.op_data, 26),
               (self.op_unlink, 7), (self.op_mkdir, 4),
               (self.op_rmdir, 3), (self.op_rename, 14),
               (self.op_link, 5), (self.op_symlink, 5),
               (self.op_xattr, 8), (self.op_acl, 2),
               (self.op_fsync_dir, 2)]
        fns = [f for f, _ in ops]
        weights = [w for _, w in ops]
        while time.monotonic() < self.end:
            fn = self.rng.choices(fns, weights)[0]
            if fn == self.op_create and self.files > 150:
                fn = self.op_unlink
            try:
                fn()
                self.stats["ops"] += 1
            except OSError as e:
                # A refusal is the tree as it is, unless the tree is gone
                # (a mount that died and was dropped).
                if e.errno not in EXPECTED or not os.path.isdir(self.top):
                    raise
                self.stats["refused"] += 1


def marker_run(root, log, seed, end, stats, min_markers=0):
    rng = random.Random(seed * 1000 + 999)
    mdir = os.path.join(root, "m")
    ver = [0] * MARKERS
    while time.monotonic() < end or stats["markers"] < min_markers:
        j = rng.randrange(MARKERS)
        ver[j] += 1
        v = ver[j]
        size = rng.randint(1, 256) * REC * 4
        data = pattern(fid_of("m%d" % j), 0, size, MARKER_MAGIC + v)
        sha = hashlib.sha256(data).hexdigest()
        tmp = os.path.join(mdir, "m%d.tmp%d" % (j, v))
        log.put("I create m%d.tmp%d" % (j, v))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        log.put("P m%d %d %s %d" % (j, v, sha, size))
        renameat2(tmp, os.path.join(mdir, "m%d" % j), 0)
        dfd = os.open(mdir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        log.put("D m%d %d %s %d" % (j, v, sha, size), durable=True)
        stats["markers"] += 1


def cmd_run(args):
    root, logpath, seed = args["pos"]
    seed = int(seed)
    log = Log(logpath, args["ctl"])
    workers = args["workers"]
    for k in range(workers):
        log.put("I mkdir w%d" % k)
        os.makedirs(os.path.join(root, "w%d" % k), exist_ok=True)
    log.put("I mkdir m")
    os.makedirs(os.path.join(root, "m"), exist_ok=True)
    log.put("S start")
    end = time.monotonic() + args["seconds"]
    stats = {"ops": 0, "refused": 0, "markers": 0, "noreplace_replaced": 0}
    errors = []

    def guard(fn, *a):
        try:
            fn(*a)
        except Exception as e:          # the filesystem went away
            errors.append("%s: %s" % (type(e).__name__, e))

    ts = [threading.Thread(target=guard,
                           args=(Worker(k, root, log, seed, end, stats).run,))
          for k in range(workers)]
    ts.append(threading.Thread(target=guard,
                               args=(marker_run, root, log, seed, end,
                                     stats, args["min_markers"])))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for e in errors[:1]:
        try:
            log.put("E " + e)
        except OSError:
            pass
    print("ops %d refused %d markers %d noreplace_replaced %d%s" %
          (stats["ops"], stats["refused"], stats["markers"],
           stats["noreplace_replaced"],
           (" stopped_by %s" % errors[0]) if errors else ""))
    # RENAME_NOREPLACE that replaced is a filesystem bug, not a crash.
    return 1 if stats["noreplace_replaced"] else 0


# -- the check --

class Checker:
    def __init__(self, root, logpath, durable, workers):
        self.root = root
        self.workers = workers
        self.names = set()
        self.births = {}        # fid -> name, of creates
        self.symlinks = set()
        self.prepared = {}      # marker -> {version: (sha, size)}
        self.durable = {}       # marker -> last durable version
        self.problems = []
        self.count = {"entries": 0, "files": 0, "dirs": 0, "symlinks": 0,
                      "bytes": 0, "xattrs": 0, "acls": 0, "markers": 0}
        with open(logpath, errors="replace") as f:
            for line in f:
                w = line.split()
                if len(w) == 3 and w[0] == "I":
                    self.names.add(w[2])
                    if w[1] == "create":
                        self.births[fid_of(w[2])] = w[2]
                    elif w[1] == "symlink":
                        self.symlinks.add(w[2])
                elif len(w) == 5 and w[0] == "P":
                    self.prepared.setdefault(w[1], {})[int(w[2])] = \
                        (w[3], int(w[4]))
                elif len(w) == 5 and w[0] == "D" and durable is None:
                    self.note_durable(w)
        if durable is not None:
            with open(durable, errors="replace") as f:
                for line in f:
                    w = line.split()
                    if len(w) == 5 and w[0] == "D":
                        self.note_durable(w)

    def note_durable(self, w):
        self.durable[w[1]] = max(self.durable.get(w[1], 0), int(w[2]))

    def bad(self, path, what):
        self.problems.append("%s: %s" % (os.path.relpath(path, self.root),
                                         what))

    def check_records(self, path, data, magic, fid):
        """Every 32-byte record zero or the pattern's; returns the fid."""
        zero = bytes(REC)
        for b in range(0, len(data), BLK):
            blk = data[b:b + BLK]
            if fid is not None and len(blk) == BLK and \
                    blk == pattern(fid, b, BLK, magic):
                continue
            for r in range(0, len(blk), REC):
                rec = blk[r:r + REC]
                if rec == zero[:len(rec)]:
                    continue
                if len(rec) < REC:
                    self.bad(path, "%d bytes at %d end in a torn record "
                             "%r" % (len(data), b + r, rec))
                    return fid
                m, f, n, c = REC_STRUCT.unpack(rec)
                if fid is None and m == magic:
                    fid = f
                want = pattern(fid, b + r, REC, magic) if fid is not None \
                    else None
                if rec != want:
                    self.bad(path, "offset %d holds %r, not zeroes or the "
                             "record %r" % (b + r, rec, want))
                    return fid
        return fid

    def check_file(self, path, st):
        name = os.path.basename(path)
        if st.st_size > MAX_FILE:
            self.bad(path, "size %d is past the work's %d" % (st.st_size,
                                                             MAX_FILE))
            return
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            return self.bad(path, "read: %s" % e)
        if len(data) != st.st_size:
            self.bad(path, "read %d bytes of %d" % (len(data), st.st_size))
        self.count["bytes"] += len(data)
        if name.startswith("m") and os.path.dirname(path) == \
                os.path.join(self.root, "m"):
            return self.check_marker(path, name, data)
        fid = self.check_records(path, data, MAGIC, None)
        if fid is not None and fid not in self.births:
            self.bad(path, "holds the records of file id %#x, which no "
                     "create of the work made" % fid)
        if fid is not None:
            owner = self.inode_fid.setdefault(st.st_ino, fid)
            if owner != fid:
                self.bad(path, "inode %d holds records of two births"
                         % st.st_ino)

    def check_marker(self, path, name, data):
        mm = re.fullmatch(r"(m\d+)(?:\.tmp(\d+))?", name)
        if not mm:
            return self.bad(path, "not a name of the marker thread")
        marker, tmpv = mm.group(1), mm.group(2)
        if tmpv is not None and name not in self.names:
            self.bad(path, "the work never gave this name")
        versions = self.prepared.get(marker, {})
        self.count["markers"] += 1
        if tmpv is not None:
            v = int(tmpv)
            self.check_records(path, data, MARKER_MAGIC + v,
                               fid_of(marker))
            return
        self.seen_markers.add(marker)
        sha = hashlib.sha256(data).hexdigest()
        floor = self.durable.get(marker, 0)
        got = [v for v, (s, n) in versions.items() if s == sha]
        if not got:
            self.bad(path, "holds %d bytes that are no fsynced version "
                     "(sha256 %s; the last durable version is %d)"
                     % (len(data), sha[:16], floor))
        elif max(got) < floor:
            self.bad(path, "holds version %d, older than its durable "
                     "version %d" % (max(got), floor))

    def check_xattrs(self, path):
        try:
            names = os.listxattr(path, follow_symlinks=False)
        except OSError as e:
            return self.bad(path, "listxattr: %s" % e)
        for x in names:
            try:
                val = os.getxattr(path, x, follow_symlinks=False)
            except OSError as e:
                self.bad(path, "getxattr %s: %s" % (x, e))
                continue
            mx = re.fullmatch(r"user\.k(\d+)", x)
            if mx and int(mx.group(1)) < XATTRS:
                self.count["xattrs"] += 1
                unit = ("v%s-" % mx.group(1)).encode()
                if not val or val != unit * (len(val) // len(unit)):
                    self.bad(path, "xattr %s holds %r" % (x, val[:40]))
            elif x in ("system.posix_acl_access",
                       "system.posix_acl_default"):
                self.count["acls"] += 1
                self.check_acl(path, x, val)
            else:
                self.bad(path, "xattr %s was never set by the work" % x)

    def check_acl(self, path, x, val):
        if len(val) < 4 or (len(val) - 4) % 8 or \
                struct.unpack_from("<I", val)[0] != 2:
            return self.bad(path, "%s is malformed: %r" % (x, val[:40]))
        for i in range(4, len(val), 8):
            tag, perm, xid = struct.unpack_from("<HHI", val, i)
            if tag not in (1, 2, 4, 8, 0x10, 0x20) or perm > 7 or \
                    (tag in (2, 8) and xid not in ACL_IDS):
                self.bad(path, "%s has an entry tag %#x perm %o id %d the "
                         "work never set" % (x, tag, perm, xid))

    def walk(self, d, top):
        try:
            ents = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as e:
            return self.bad(d, "readdir: %s" % e), 0
        subdirs = 0
        for e in ents:
            path = e.path
            self.count["entries"] += 1
            try:
                st = os.lstat(path)
            except OSError as ex:
                self.bad(path, "lstat: %s" % ex)
                continue
            name = e.name
            if top == "m":
                if not S.S_ISREG(st.st_mode):
                    self.bad(path, "is no regular file")
                    continue
                self.check_file(path, st)
                self.check_xattrs(path)
                continue
            kind = name[0]
            if name not in self.names or \
                    not re.fullmatch(r"[fds]%s_\d+" % top[1:], name):
                self.bad(path, "the work never gave this name")
            if kind == "d" and S.S_ISDIR(st.st_mode):
                self.count["dirs"] += 1
                subdirs += 1
                if name in self.dirs_seen:
                    self.bad(path, "a second directory of that name")
                self.dirs_seen.add(name)
                self.check_xattrs(path)
                n = self.walk(path, top)[1]
                if st.st_nlink != 2 + n:
                    self.bad(path, "st_nlink %d, but %d subdirectories"
                             % (st.st_nlink, n))
            elif kind == "f" and S.S_ISREG(st.st_mode):
                self.count["files"] += 1
                self.names_of.setdefault(st.st_ino, []).append(path)
                self.nlink[st.st_ino] = st.st_nlink
                self.check_file(path, st)
                self.check_xattrs(path)
            elif kind == "s" and S.S_ISLNK(st.st_mode):
                self.count["symlinks"] += 1
                try:
                    t = os.readlink(path)
                except OSError as ex:
                    self.bad(path, "readlink: %s" % ex)
                    continue
                base = t[:-len(LONG_TAIL)] if t.endswith(LONG_TAIL) else t
                if not base.startswith("target-of-") or \
                        base[10:] not in self.symlinks:
                    self.bad(path, "symlink target %r is none the work "
                             "made" % t[:80])
            else:
                self.bad(path, "is of mode %o, not the kind its name "
                         "says" % st.st_mode)
        return None, subdirs

    def run(self):
        self.dirs_seen = set()
        self.names_of = {}
        self.nlink = {}
        self.inode_fid = {}
        self.seen_markers = set()
        allowed = {"lost+found", "m"} | {"w%d" % k
                                          for k in range(self.workers)}
        try:
            top = sorted(os.scandir(self.root), key=lambda e: e.name)
        except OSError as e:
            top = []
            self.bad(self.root, "readdir: %s" % e)
        for e in top:
            self.count["entries"] += 1
            if e.name not in allowed:
                self.bad(e.path, "the work never made this at the root")
                continue
            try:
                st = os.lstat(e.path)
            except OSError as ex:
                self.bad(e.path, "lstat: %s" % ex)
                continue
            if not S.S_ISDIR(st.st_mode):
                self.bad(e.path, "is no directory")
                continue
            if e.name == "lost+found":
                try:
                    left = os.listdir(e.path)
                except OSError as ex:
                    left = ["(readdir: %s)" % ex]
                if left:
                    self.bad(e.path, "holds %d entries: %s" %
                             (len(left), " ".join(sorted(left)[:5])))
                continue
            self.check_xattrs(e.path)
            self.walk(e.path, e.name)
        for ino, paths in self.names_of.items():
            if self.nlink[ino] != len(paths):
                self.bad(paths[0], "st_nlink %d, but %d names: %s" %
                         (self.nlink[ino], len(paths), " ".join(
                             os.path.relpath(p, self.root) for p in paths)))
        for marker, v in sorted(self.durable.items()):
            if v and marker not in self.seen_markers:
                self.bad(os.path.join(self.root, "m", marker),
                         "lost: version %d was durable" % v)
        for p in self.problems[:40]:
            print("BAD " + p)
        if len(self.problems) > 40:
            print("BAD ... and %d more" % (len(self.problems) - 40))
        c = self.count
        print("entries %d files %d dirs %d symlinks %d bytes %d xattrs %d "
              "acls %d markers %d durable_markers %d bad %d" %
              (c["entries"], c["files"], c["dirs"], c["symlinks"],
               c["bytes"], c["xattrs"], c["acls"], c["markers"],
               len(self.durable), len(self.problems)))
        return 1 if self.problems else 0


USAGE = """usage: metawork.py run ROOT LOG SEED [--seconds S] [--workers W] [--ctl CTL]
                          [--min-markers N]
       metawork.py check ROOT LOG [--durable FILE] [--workers W]
"""


def main(argv):
    args = {"pos": [], "seconds": 600.0, "workers": 3, "ctl": None,
            "durable": None, "min_markers": 0}
    conv = {"--seconds": ("seconds", float), "--workers": ("workers", int),
            "--ctl": ("ctl", str), "--durable": ("durable", str),
            "--min-markers": ("min_markers", int)}
    i = 2
    try:
        while i < len(argv):
            if argv[i] in conv:
                key, fn = conv[argv[i]]
                args[key] = fn(argv[i + 1])
                i += 2
            else:
                args["pos"].append(argv[i])
                i += 1
    except (IndexError, ValueError):
        sys.stderr.write(USAGE)
        return 2
    cmd = argv[1] if len(argv) > 1 else None
    if cmd == "run" and len(args["pos"]) == 3 and args["workers"] >= 1:
        return cmd_run(args)
    if cmd == "check" and len(args["pos"]) == 2:
        root, logpath = args["pos"]
        return Checker(root, logpath, args["durable"], args["workers"]).run()
    sys.stderr.write(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
