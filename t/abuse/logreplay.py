#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# logreplay.py - the image rebuilder of the power-cut tests: from the image
# as it was before a run (BASE) and the log t/helper/logdev wrote during
# it (LOG), write the images a power cut could have left, and run a
# caller's check on each (t/lib-crash.sh, t/t68xx).
#
#   logreplay.py dump LOG            one line per record
#   logreplay.py info LOG            "key value" counts
#   logreplay.py build BASE LOG OUT STATE
#                                    write the image of STATE to OUT
#   logreplay.py marks LOG STATE     the marks durable in STATE, one a line
#   logreplay.py states BASE LOG WORKDIR --check CMD [--random N]
#                [--seed S] [--flush-points M] [--piece BYTES]
#                [--timeout SECS] [--stop-after-failures F]
#       build every state in turn as WORKDIR/crash.img and run CMD (bash)
#       on it, with CRASH_IMAGE, CRASH_STATE, CRASH_MARKS (a file of the
#       marks durable in that state) and CRASH_WORK (a scratch directory,
#       emptied for each state) in its environment; exit status 0 passes.
#       Prints "ok STATE" or "FAIL STATE: first line of CMD's output" (the
#       whole output is kept in WORKDIR/fail-N.out), then one summary line
#       "states N passed P failed F flush_points A random B"; exits 1
#       when a state failed.
#
# A STATE names one crash image:
#   flush:K          everything logged before the K-th FLUSH record (K from
#                    1; flush:0 is BASE: nothing before the first flush is
#                    durable)
#   flush:K+rand:S   flush:K plus, drawn from seed S, what the writes
#                    logged after the K-th flush and before the next (or
#                    the end of the log) may have left on the disk: they
#                    reach it in any order, or not at all, one block (of
#                    --piece bytes, default 4096, what a disk writes whole)
#                    at a time.  Each block holds what it held at some
#                    instant: its content after a prefix, in log order, of
#                    the writes to it (none, some or all of them; never a
#                    later write without an earlier one to the same block,
#                    which no disk under a page cache or a block layer can
#                    show, since it writes a block whole, as it is then).
#                    Blocks are drawn independently, so a long write may be
#                    torn at block boundaries.
#   rec:N            every record before the N-th (from 0), durable or not
#   end              every record (the image as logdev left it)
# The marks of a state are the MARK records before its last durable
# record: for flush:K (with or without rand) those before the K-th flush;
# for rec:N those before record N; for end all of them.
#
# "states" checks every flush point where something changed since the one
# before (or --flush-points M of them, evenly spaced, always the last),
# then --random N random states, each a flush point drawn among those with
# writes after them and a subset seed, all drawn from --seed S: the same
# seed replays the same states, and each state's name rebuilds it alone.
import os
import random
import shutil
import struct
import subprocess
import sys

HEAD = struct.Struct("<8sQQQ")
REC = struct.Struct("<IIQQQII")
HEAD_MAGIC = b"LOGDEV1\n"
REC_MAGIC = 0x4352444C
WRITE, FLUSH, ZERO, MARK, FAILED, FULL = 1, 2, 3, 4, 5, 6
TYPE_NAMES = {WRITE: "write", FLUSH: "flush", ZERO: "zero", MARK: "mark",
              FAILED: "failed", FULL: "full"}
TYPE_COUNTS = {WRITE: "writes", FLUSH: "flushes", ZERO: "zeroes",
               MARK: "marks", FAILED: "failed", FULL: "full"}
FLUSH_FLAGS = {0: "fsync", 1: "fdatasync", 2: "sync-write"}
COPY_CHUNK = 1 << 20


class LogError(Exception):
    pass


class Log:
    """The records of a logdev log; the data stays in the file."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, "rb")
        head = self.f.read(HEAD.size)
        if len(head) != HEAD.size:
            raise LogError("%s: too short for a logdev log header" % path)
        magic, self.dev_size, self.log_max, _ = HEAD.unpack(head)
        if magic != HEAD_MAGIC:
            raise LogError("%s: not a logdev log (magic %r)" % (path, magic))
        # Each record: (type, offset, length, flags, data position).
        self.recs = []
        self.flushes = []   # index of each FLUSH record, in order
        self.full = False
        pos = HEAD.size
        size = os.fstat(self.f.fileno()).st_size
        while pos < size:
            self.f.seek(pos)
            raw = self.f.read(REC.size)
            if len(raw) != REC.size:
                raise LogError("%s: record %d at byte %d is torn (%d of "
                               "%d header bytes)" % (path, len(self.recs),
                                                     pos, len(raw),
                                                     REC.size))
            magic, typ, seq, off, length, flags, _ = REC.unpack(raw)
            if magic != REC_MAGIC or typ not in TYPE_NAMES:
                raise LogError("%s: record %d at byte %d: bad magic %#x or "
                               "type %d" % (path, len(self.recs), pos, magic,
                                            typ))
            if seq != len(self.recs):
                raise LogError("%s: record %d at byte %d has sequence "
                               "number %d" % (path, len(self.recs), pos,
                                              seq))
            data = pos + REC.size
            dlen = length if typ in (WRITE, MARK) else 0
            if data + dlen > size:
                raise LogError("%s: record %d (%s of %d bytes) is torn at "
                               "the end of the log" % (path, len(self.recs),
                                                       TYPE_NAMES[typ],
                                                       length))
            if typ in (WRITE, ZERO) and off + length > self.dev_size:
                raise LogError("%s: record %d: %s of [%d, %d) past the "
                               "device's %d bytes" % (path, len(self.recs),
                                                      TYPE_NAMES[typ], off,
                                                      off + length,
                                                      self.dev_size))
            if typ == FLUSH:
                self.flushes.append(len(self.recs))
            if typ == FULL:
                self.full = True
            self.recs.append((typ, off, length, flags, data))
            pos = data + dlen

    def data(self, i):
        typ, off, length, flags, data = self.recs[i]
        self.f.seek(data)
        return self.f.read(length)

    def mark_text(self, i):
        return self.data(i).decode("utf-8", "replace")


def sparse_copy(src, dst):
    """Copy src to dst, leaving holes where src has them."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        fo.truncate(size)
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(fi.fileno(), data, os.SEEK_HOLE)
            while data < hole:
                n = os.copy_file_range(fi.fileno(), fo.fileno(),
                                       min(hole - data, COPY_CHUNK),
                                       data, data)
                if n <= 0:
                    raise OSError("copy_file_range %s -> %s returned %d"
                                  % (src, dst, n))
                data += n
            pos = hole


def apply_range(log, fd, first, last):
    """Apply the WRITE and ZERO records first..last-1 to fd."""
    for i in range(first, last):
        typ, off, length = log.recs[i][:3]
        if typ == WRITE:
            os.pwrite(fd, log.data(i), off)
        elif typ == ZERO:
            zero(fd, off, length)


def zero(fd, off, length):
    while length:
        n = min(length, COPY_CHUNK)
        os.pwrite(fd, bytes(n), off)
        off += n
        length -= n


def epoch(log, k):
    """Records [first, last) logged after flush K (0: from the start)
    and before the next flush (or the end)."""
    first = log.flushes[k - 1] + 1 if k else 0
    last = log.flushes[k] if k < len(log.flushes) else len(log.recs)
    return first, last


def pieces(log, first, last, piece):
    """The writes of records [first, last), cut at multiples of piece:
    (record, offset, length) in log order."""
    out = []
    for i in range(first, last):
        typ, off, length = log.recs[i][:3]
        if typ not in (WRITE, ZERO):
            continue
        end = off + length
        while off < end:
            cut = min(end, (off // piece + 1) * piece)
            out.append((i, off, cut - off))
            off = cut
    return out


def apply_subset(log, fd, k, seed, piece):
    """Apply what the writes of flush K's epoch may have left, drawn from
    seed: for each block, a prefix of the pieces that write to it.
    Returns (pieces kept, pieces)."""
    first, last = epoch(log, k)
    ps = pieces(log, first, last, piece)
    rng = random.Random(seed)
    keep = rng.random()
    stopped = set()     # blocks whose prefix has ended
    kept = 0
    data_rec, data = -1, b""
    for i, off, length in ps:
        blk = off // piece
        if blk in stopped:
            continue
        if rng.random() >= keep:
            stopped.add(blk)
            continue
        kept += 1
        typ, roff = log.recs[i][:2]
        if typ == WRITE:
            if data_rec != i:
                data_rec, data = i, log.data(i)
            os.pwrite(fd, data[off - roff:off - roff + length], off)
        else:
            zero(fd, off, length)
    return kept, len(ps)


def parse_state(log, state):
    """(kind, K or N, seed): kind is flush, rand, rec or end."""
    try:
        if state == "end":
            return "end", len(log.recs), None
        if state.startswith("rec:"):
            n = int(state[4:])
            if not 0 <= n <= len(log.recs):
                raise ValueError
            return "rec", n, None
        if state.startswith("flush:"):
            rest = state[6:]
            seed = None
            if "+rand:" in rest:
                rest, s = rest.split("+rand:", 1)
                seed = int(s)
            k = int(rest)
            if not 0 <= k <= len(log.flushes):
                raise LogError("state %s: the log has %d flushes"
                               % (state, len(log.flushes)))
            return ("rand" if seed is not None else "flush"), k, seed
    except ValueError:
        pass
    raise LogError("state '%s' is none of flush:K, flush:K+rand:S, rec:N, "
                   "end (the log has %d records, %d flushes)"
                   % (state, len(log.recs), len(log.flushes)))


def durable_end(log, kind, k):
    """The index of the first record not durable in the state."""
    if kind in ("flush", "rand"):
        return log.flushes[k - 1] if k else 0
    return k


def marks(log, kind, k):
    end = durable_end(log, kind, k)
    return [log.mark_text(i) for i in range(end) if log.recs[i][0] == MARK]


def build(base, log, out, state, piece):
    kind, k, seed = parse_state(log, state)
    sparse_copy(base, out)
    fd = os.open(out, os.O_WRONLY)
    try:
        apply_range(log, fd, 0, durable_end(log, kind, k))
        if kind == "rand":
            return apply_subset(log, fd, k, seed, piece)
    finally:
        os.close(fd)
    return None


def cmd_dump(args):
    log = Log(args[0])
    print("# device %d bytes, %d records, %d flushes%s" %
          (log.dev_size, len(log.recs), len(log.flushes),
           ", FULL" if log.full else ""))
    nflush = 0
    for i, (typ, off, length, flags, _) in enumerate(log.recs):
        if typ == FLUSH:
            nflush += 1
            print("%d flush:%d %s" % (i, nflush,
                                      FLUSH_FLAGS.get(flags, flags)))
        elif typ == MARK:
            print("%d mark %s" % (i, log.mark_text(i)))
        elif typ == FULL:
            print("%d full" % i)
        else:
            print("%d %s %d %d" % (i, TYPE_NAMES[typ], off, length))
    return 0


def cmd_info(args):
    log = Log(args[0])
    count = {t: 0 for t in TYPE_NAMES}
    nbytes = 0
    for typ, off, length, flags, _ in log.recs:
        count[typ] += 1
        if typ == WRITE:
            nbytes += length
    print("device_bytes %d" % log.dev_size)
    print("records %d" % len(log.recs))
    for t, name in sorted(TYPE_NAMES.items()):
        print("%s %d" % (TYPE_COUNTS[t], count[t]))
    print("write_bytes %d" % nbytes)
    return 0


def cmd_build(args, piece):
    base, logpath, out, state = args
    log = Log(logpath)
    r = build(base, log, out, state, piece)
    if r:
        print("pieces kept %d of %d" % r)
    return 0


def cmd_marks(args):
    log = Log(args[0])
    kind, k, _ = parse_state(log, args[1])
    for m in marks(log, kind, k):
        print(m)
    return 0


def plan(log, nflush, nrandom, seed):
    """The states "states" checks, in log order."""
    changed = []
    for k in range(1, len(log.flushes) + 1):
        first, last = epoch(log, k - 1)
        if any(log.recs[i][0] in (WRITE, ZERO) for i in range(first, last)):
            changed.append(k)
    if nflush is not None and len(changed) > nflush:
        step = len(changed) / nflush
        pick = sorted({changed[min(len(changed) - 1, int(i * step))]
                       for i in range(nflush)} | {changed[-1]})
        changed = pick
    states = [(k, None) for k in changed]
    # Epochs with something to lose: the writes after flush K.
    lossy = [k for k in range(0, len(log.flushes) + 1)
             if pieces(log, *epoch(log, k), 1 << 62)]
    rng = random.Random(seed)
    if lossy:
        for _ in range(nrandom):
            states.append((rng.choice(lossy), rng.randrange(1 << 31)))
    states.sort(key=lambda s: (s[0], s[1] is not None, s[1] or 0))
    return states


def run_check(cmd, env, timeout, outpath):
    with open(outpath, "wb") as out:
        try:
            p = subprocess.run(["bash", "-c", cmd], env=env, stdout=out,
                               stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            out.write(b"the check did not finish within %d s\n" % timeout)
            rc = -1
    return rc


def cmd_states(args, opts):
    base, logpath, work = args
    log = Log(logpath)
    if log.full:
        print("# the log ended FULL: logdev refused the writes past it")
    os.makedirs(work, exist_ok=True)
    flush_img = os.path.join(work, "flush.img")
    img = os.path.join(work, "crash.img")
    scratch = os.path.join(work, "scratch")
    sparse_copy(base, flush_img)
    fd = os.open(flush_img, os.O_WRONLY)
    at = 0              # flush_img holds the state flush:at
    states = plan(log, opts["flush_points"], opts["random"], opts["seed"])
    npass = nfail = nflush = nrand = 0
    try:
        for k, seed in states:
            while at < k:
                apply_range(log, fd, *epoch(log, at))
                at += 1
            name = "flush:%d" % k + ("+rand:%d" % seed if seed is not None
                                     else "")
            sparse_copy(flush_img, img)
            extra = ""
            if seed is not None:
                nrand += 1
                cfd = os.open(img, os.O_WRONLY)
                try:
                    kept, total = apply_subset(log, cfd, k, seed,
                                               opts["piece"])
                finally:
                    os.close(cfd)
                extra = " (%d of %d pieces)" % (kept, total)
            else:
                nflush += 1
            shutil.rmtree(scratch, ignore_errors=True)
            os.makedirs(scratch)
            mpath = os.path.join(work, "marks")
            with open(mpath, "w") as f:
                for m in marks(log, "flush", k):
                    f.write(m + "\n")
            env = dict(os.environ, CRASH_IMAGE=img, CRASH_STATE=name,
                       CRASH_MARKS=mpath, CRASH_WORK=scratch)
            outpath = os.path.join(work, "check.out")
            rc = run_check(opts["check"], env, opts["timeout"], outpath)
            if rc == 0:
                npass += 1
                print("ok %s%s" % (name, extra))
            else:
                nfail += 1
                keep = os.path.join(work, "fail-%d.out" % nfail)
                shutil.copyfile(outpath, keep)
                with open(outpath, errors="replace") as f:
                    first = next((ln.strip() for ln in f if ln.strip()),
                                 "(no output)")
                print("FAIL %s%s: %s [exit %d; %s]" % (name, extra, first,
                                                      rc, keep))
                if nfail == 1:
                    shutil.copyfile(img, os.path.join(work, "fail-1.img"))
                if opts["stop"] and nfail >= opts["stop"]:
                    print("# stopped after %d failed states" % nfail)
                    break
            sys.stdout.flush()
    finally:
        os.close(fd)
        for p in (img, flush_img):
            if os.path.exists(p):
                os.unlink(p)
    print("states %d passed %d failed %d flush_points %d random %d" %
          (npass + nfail, npass, nfail, nflush, nrand))
    return 1 if nfail else 0


USAGE = """usage: logreplay.py dump LOG
       logreplay.py info LOG
       logreplay.py build [--piece BYTES] BASE LOG OUT STATE
       logreplay.py marks LOG STATE
       logreplay.py states BASE LOG WORKDIR --check CMD [--random N]
                    [--seed S] [--flush-points M] [--piece BYTES]
                    [--timeout SECS] [--stop-after-failures F]
STATE: flush:K, flush:K+rand:SEED, rec:N or end
"""


def main(argv):
    opts = {"check": None, "random": 0, "seed": 1, "flush_points": None,
            "piece": 4096, "timeout": 120, "stop": 0}
    names = {"--check": ("check", str), "--random": ("random", int),
             "--seed": ("seed", int), "--flush-points": ("flush_points", int),
             "--piece": ("piece", int), "--timeout": ("timeout", int),
             "--stop-after-failures": ("stop", int)}
    args = []
    i = 1
    try:
        while i < len(argv):
            a = argv[i]
            if a in names:
                key, conv = names[a]
                if i + 1 >= len(argv):
                    raise ValueError("%s needs a value" % a)
                opts[key] = conv(argv[i + 1])
                i += 2
            else:
                args.append(a)
                i += 1
    except ValueError as e:
        sys.stderr.write("logreplay.py: %s\n%s" % (e, USAGE))
        return 2
    if opts["piece"] < 1 or opts["random"] < 0:
        sys.stderr.write("logreplay.py: --piece must be at least 1 and "
                         "--random at least 0\n")
        return 2
    cmds = {"dump": 1, "info": 1, "build": 4, "marks": 2, "states": 3}
    if not args or args[0] not in cmds or len(args) - 1 != cmds[args[0]] \
            or (args[0] == "states" and not opts["check"]):
        sys.stderr.write(USAGE)
        return 2
    try:
        if args[0] == "dump":
            return cmd_dump(args[1:])
        if args[0] == "info":
            return cmd_info(args[1:])
        if args[0] == "build":
            return cmd_build(args[1:], opts["piece"])
        if args[0] == "marks":
            return cmd_marks(args[1:])
        return cmd_states(args[1:], opts)
    except (LogError, OSError) as e:
        sys.stderr.write("logreplay.py: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
