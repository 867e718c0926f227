#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# crashwriter.py - heavy writes with a record of what was fsynced, and the
# check of that record after a crash, for t/t1200-crash-kill9.sh.
#
#   crashwriter.py write DIR LOG SECONDS SEED
#       Several threads write under DIR until SECONDS pass or the
#       filesystem goes away (the daemon was killed): appenders grow
#       files by chunks of random size, an overwriter rewrites one file
#       whole generation after generation, and a creator makes many small
#       files in new directories.  After each successful fsync() or
#       fdatasync() a line goes to LOG (written and flushed at once):
#           append PATH SIZE     PATH's first SIZE bytes are durable
#           gen PATH G           PATH was all generation G at the fsync
#       Prints "writes N fsyncs M" at the end.
#   crashwriter.py verify LOG ROOT
#       Checks the LOG against the tree at ROOT (a remount, or a debugfs
#       rdump): an append file holds its pattern up to the last SIZE
#       logged, and past it only its pattern or zeroes (never another
#       file's bytes); every block of a gen file is generation G, G+1 or
#       G+2 (the fsync of G+1 may have returned just before the kill with
#       its LOG line unwritten).  Prints the counts; exits 1 on a mismatch,
#       naming the file, the offset and what was found.
#
# Every 4 KiB block of the data names its file, its block number and its
# generation, so misplaced, stale or foreign data is recognised.
import os
import random
import struct
import sys
import threading
import time

BLK = 4096


def block(fid, b, gen=0):
    return struct.pack("<QQQQ", 0x494f4d4150465321, fid, b, gen) * (BLK // 32)


def pattern(fid, off, n, gen=0):
    """The bytes [off, off + n) of file FID at generation GEN."""
    out = bytearray()
    b = off // BLK
    skip = off % BLK
    while len(out) < n + skip:
        out += block(fid, b, gen)
        b += 1
    return bytes(out[skip:skip + n])


def fid_of(path):
    # A stable number from the path, the same at write and verify time.
    h = 1469598103934665603
    for c in path.encode():
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFF
    return h


class Log:
    def __init__(self, path):
        self.f = open(path, "a")
        self.lock = threading.Lock()

    def put(self, line):
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


def sync(fd, rng):
    if rng.random() < 0.5:
        os.fsync(fd)
    else:
        os.fdatasync(fd)


def appender(root, log, end, seed, k, st):
    rng = random.Random(seed * 100 + k)
    rel = "app-%d" % k
    fid = fid_of(rel)
    fd = os.open(os.path.join(root, rel), os.O_WRONLY | os.O_CREAT, 0o644)
    size = 0
    while time.monotonic() < end:
        n = rng.choice([1, 100, 4096, 5000, 65536, 200000])
        os.pwrite(fd, pattern(fid, size, n), size)
        size += n
        st["writes"] += 1
        if rng.random() < 0.3:
            sync(fd, rng)
            st["fsyncs"] += 1
            log.put("append %s %d" % (rel, size))
        if size > 24 << 20:
            break


def overwriter(root, log, end, seed, st):
    rng = random.Random(seed * 100 + 99)
    rel = "gen"
    fid = fid_of(rel)
    fd = os.open(os.path.join(root, rel), os.O_WRONLY | os.O_CREAT, 0o644)
    g = 0
    while time.monotonic() < end:
        g += 1
        order = list(range(64))
        rng.shuffle(order)
        for b in order:
            os.pwrite(fd, block(fid, b, g), b * BLK)
            st["writes"] += 1
        sync(fd, rng)
        st["fsyncs"] += 1
        log.put("gen %s %d" % (rel, g))


def creator(root, log, end, seed, st):
    rng = random.Random(seed * 100 + 77)
    i = 0
    while time.monotonic() < end:
        d = "d%d" % (i // 20)
        os.makedirs(os.path.join(root, d), exist_ok=True)
        rel = "%s/s%d" % (d, i)
        n = rng.choice([0, 10, 3000, 4096, 12000])
        fd = os.open(os.path.join(root, rel), os.O_WRONLY | os.O_CREAT,
                     0o644)
        os.write(fd, pattern(fid_of(rel), 0, n))
        st["writes"] += 1
        if i % 3 == 0:
            sync(fd, rng)
            st["fsyncs"] += 1
            log.put("append %s %d" % (rel, n))
        os.close(fd)
        i += 1


def write(args):
    root, logpath, secs, seed = args[0], args[1], float(args[2]), int(args[3])
    log = Log(logpath)
    end = time.monotonic() + secs
    st = {"writes": 0, "fsyncs": 0}
    errors = []

    def guard(fn, *a):
        try:
            fn(*a)
        except OSError as e:
            errors.append(str(e))

    ts = [threading.Thread(target=guard, args=(appender, root, log, end,
                                               seed, k, st))
          for k in range(4)]
    ts.append(threading.Thread(target=guard, args=(overwriter, root, log,
                                                   end, seed, st)))
    ts.append(threading.Thread(target=guard, args=(creator, root, log, end,
                                                   seed, st)))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("writes %d fsyncs %d" % (st["writes"], st["fsyncs"]))
    if errors:
        print("stopped by: %s" % errors[0])
    return 0


def verify(args):
    logpath, root = args[0], args[1]
    last = {}
    kind = {}
    with open(logpath) as f:
        for line in f:
            w = line.split()
            if len(w) != 3:
                continue
            kind[w[1]] = w[0]
            last[w[1]] = max(last.get(w[1], 0), int(w[2]))
    bad = 0
    nbytes = 0
    for rel in sorted(last):
        fid = fid_of(rel)
        p = os.path.join(root, rel)
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError as e:
            print("MISSING %s: %s (fsynced %s %d)" % (rel, e, kind[rel],
                                                    last[rel]))
            bad += 1
            continue
        if kind[rel] == "append":
            n = last[rel]
            if len(data) < n:
                print("SHORT %s: %d bytes, %d were fsynced" % (rel,
                                                              len(data), n))
                bad += 1
                continue
            want = pattern(fid, 0, len(data))
            if data[:n] != want[:n]:
                off = next(i for i in range(n) if data[i] != want[i])
                print("CORRUPT %s at %d (fsynced %d): %r" %
                      (rel, off, n, data[off:off + 32]))
                bad += 1
                continue
            for o in range(n, len(data), BLK):
                got, exp = data[o:o + BLK], want[o:o + BLK]
                if got != exp and got != bytes(len(got)):
                    print("FOREIGN %s at %d past the fsynced %d: %r" %
                          (rel, o, n, got[:32]))
                    bad += 1
                    break
            nbytes += n
        else:
            g = last[rel]
            for b in range(64):
                got = data[b * BLK:(b + 1) * BLK]
                if got not in (block(fid, b, g), block(fid, b, g + 1),
                               block(fid, b, g + 2)):
                    print("STALE %s block %d: want generation %d: %r" %
                          (rel, b, g, got[:32]))
                    bad += 1
                    break
            nbytes += 64 * BLK
    print("files %d verified_bytes %d bad %d" % (len(last), nbytes, bad))
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "write" and len(argv) == 6:
        return write(argv[2:])
    if len(argv) >= 2 and argv[1] == "verify" and len(argv) == 4:
        return verify(argv[2:])
    sys.stderr.write("usage: crashwriter.py write DIR LOG SECONDS SEED\n"
                     "       crashwriter.py verify LOG ROOT\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
