#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# jorder.py - the journal's write ordering, checked on what reached the
# device: from the image as it was before a run (BASE, for the journal's
# place and format) and the log t/helper/logdev wrote during it (LOG),
# replay every write and flush in order and check the rules of
# daemon/journal.c on them (t6135):
#
#  R1 a block written home with the content that a transaction logged for
#     it is written only after that transaction's commit block is durable
#     (written, then a flush).  A home write whose content no transaction
#     logged (file data, or a block in place) is not a checkpoint and is
#     only counted; one whose content some transaction logged passes when
#     any such transaction's commit was durable before the write, and is
#     a violation otherwise, whether the log copy came before the home
#     write or after it.  A block that is metadata at a fixed place (the
#     superblock, group descriptors, bitmaps, inode tables) written with
#     content no transaction logged is a violation too (written in place,
#     past the journal), unless the log is empty then (at mount, after
#     the unmount's checkpoint).
#  R2 a commit block is written only after every other block of its
#     transaction (revoke blocks, descriptors, the blocks they tag) was
#     made durable by a flush.
#  R3 the journal superblock moves the tail (s_sequence from P to X) only
#     when, for every block logged by the committed transactions from P up
#     to X whose newest copy among them no later committed revoke
#     cancels, the durable content at home is that copy.
#
#   jorder.py BASE LOG
#       prints one line per violation ("R1 ...", "R2 ...", "R3 ..."), then
#       a summary line "transactions N commits C checkpoint_writes W
#       other_home_writes O tail_moves T violations V"; exits 1 when a
#       rule was broken or nothing was checked (no commit, no checkpoint
#       write or no tail move: the run proved nothing), 2 on bad input.
#
# The log's format is t/abuse/logreplay.py's, the journal's layout
# t/helper/jtool.py's (both written apart from the daemon's code).
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "helper"))
import logreplay  # noqa: E402
import jtool  # noqa: E402

JBD2_MAGIC = 0xC03B3998
DESCRIPTOR, COMMIT, SB1, SB2, REVOKE = 1, 2, 3, 4, 5
FLAG_ESCAPE, FLAG_SAME_UUID, FLAG_LAST_TAG = 1, 2, 8


def digest(b):
    return hashlib.sha1(b).digest()


class Checker:
    def __init__(self, base, logpath):
        self.j = jtool.Journal(base)
        self.bs = self.j.fs.bs
        self.log = logreplay.Log(logpath)
        self.dev_to_log = {d: l for l, d in self.j.map.items()}
        self.set_format(self.j.incompat)
        self.violations = []
        self.commit_durable = {}
        self.fixed = self.fixed_metadata()

    def fixed_metadata(self):
        """The blocks that are metadata wherever the work goes, and what
        each is: the primary superblock and group descriptors, the
        bitmaps and the inode tables (jtool.Fs's reading of the base
        image)."""
        fs = self.j.fs
        itb = (fs.inodes_per_group * fs.inode_size + fs.bs - 1) // fs.bs
        out = {1024 // fs.bs: "superblock"}
        for b in range(fs.gdt_start, fs.gdt_start + fs.gdt_blocks):
            out[b] = "group descriptors"
        for g, (bb, ib, it) in enumerate(fs.gd):
            out[bb] = "block bitmap of group %d" % g
            out[ib] = "inode bitmap of group %d" % g
            for b in range(it, it + itb):
                out[b] = "inode table of group %d" % g
        return out

    def set_format(self, inc):
        """The sizes of tags, revoke records and block tails for the
        journal's incompat features @inc (a writer may set the checksum
        features at mount: the journal superblocks it writes tell)."""
        self.incompat = inc
        if inc & jtool.INCOMPAT_CSUM_V3:
            self.tag_bytes = 16
        else:
            self.tag_bytes = (12 if inc & jtool.INCOMPAT_64BIT else 8) + \
                (2 if inc & jtool.INCOMPAT_CSUM_V2 else 0)
        self.rec_bytes = 8 if inc & jtool.INCOMPAT_64BIT else 4
        self.tail = 4 if inc & (jtool.INCOMPAT_CSUM_V2 |
                                jtool.INCOMPAT_CSUM_V3) else 0

    def next_pos(self, pos):
        pos += 1
        return self.j.first if pos >= self.j.maxlen else pos

    def blocks(self, i):
        """The filesystem blocks record i writes: (blk, bytes), with None
        for the bytes of a block it writes only part of (file data: the
        journal and libext2fs write whole blocks)."""
        typ, off, length = self.log.recs[i][:3]
        data = self.log.data(i) if typ == logreplay.WRITE else None
        end = off + length
        while off < end:
            blk = off // self.bs
            cut = min(end, (blk + 1) * self.bs)
            if off % self.bs or cut - off != self.bs:
                b = None
            elif data is None:
                b = bytes(self.bs)
            else:
                at = off - self.log.recs[i][1]
                b = data[at:at + self.bs]
            yield blk, b
            off = cut

    def parse_desc(self, b):
        """The home blocks a descriptor tags, with their escape flags."""
        out = []
        pos, end = 12, len(b) - self.tail
        while pos + self.tag_bytes <= end:
            blk = struct.unpack_from(">I", b, pos)[0]
            if self.tag_bytes >= 12 and self.incompat & \
                    jtool.INCOMPAT_64BIT:
                blk |= struct.unpack_from(">I", b, pos + 8)[0] << 32
            flags = struct.unpack_from(">H", b, pos + 6)[0]
            out.append((blk, bool(flags & FLAG_ESCAPE)))
            pos += self.tag_bytes + (0 if flags & FLAG_SAME_UUID else 16)
            if flags & FLAG_LAST_TAG:
                break
        return out

    def parse_revoke(self, b):
        count = struct.unpack_from(">I", b, 12)[0]
        out = []
        pos = 16
        while pos + self.rec_bytes <= min(count, len(b)):
            fmt = ">Q" if self.rec_bytes == 8 else ">I"
            out.append(struct.unpack_from(fmt, b, pos)[0])
            pos += self.rec_bytes
        return out

    def bad(self, rule, text):
        self.violations.append("%s %s" % (rule, text))

    def run(self):
        log = self.log
        # Pass 1: the log's side.  copies[(blk, digest)] = [(seq, rec)];
        # txn_last[seq]: the last record writing a block of seq;
        # commit_rec / commit_durable[seq]: the commit block's record and
        # the first flush after it.
        copies = {}
        txn_blocks = {}     # seq -> [(blk, digest, rec)] in log order
        txn_revokes = {}    # seq -> [blk]
        txn_last = {}
        commit_rec = {}
        expect = {}         # log position -> (seq, home blk, escaped)
        pending_commits = []
        jsb_writes = []     # (rec, s_sequence, s_start)
        last_flush = -1
        for i, (typ, off, length, flags, _) in enumerate(log.recs):
            if typ == logreplay.FLUSH:
                for s in pending_commits:
                    self.commit_durable[s] = i
                pending_commits = []
                last_flush = i
                continue
            if typ not in (logreplay.WRITE, logreplay.ZERO):
                continue
            for dev, b in self.blocks(i):
                lpos = self.dev_to_log.get(dev)
                if lpos is None:
                    continue
                if b is None:
                    self.bad("LOG", "record %d writes part of log block "
                             "%d" % (i, lpos))
                    continue
                if lpos == 0:
                    if struct.unpack_from(">I", b, 0)[0] == JBD2_MAGIC:
                        self.set_format(struct.unpack_from(">I", b,
                                                           0x28)[0])
                        jsb_writes.append((i, struct.unpack_from(
                            ">I", b, 0x18)[0], struct.unpack_from(
                            ">I", b, 0x1C)[0]))
                    continue
                magic, kind, seq = struct.unpack_from(">III", b, 0)
                if lpos in expect:
                    eseq, home, esc = expect.pop(lpos)
                    if esc:
                        b = struct.pack(">I", JBD2_MAGIC) + b[4:]
                    d = digest(b)
                    copies.setdefault((home, d), []).append((eseq, i))
                    txn_blocks.setdefault(eseq, []).append((home, d, i))
                    txn_last[eseq] = i
                    continue
                if magic != JBD2_MAGIC:
                    continue
                if kind == DESCRIPTOR:
                    txn_last[seq] = i
                    p = lpos
                    for home, esc in self.parse_desc(b):
                        p = self.next_pos(p)
                        expect[p] = (seq, home, esc)
                elif kind == REVOKE:
                    txn_last[seq] = i
                    txn_revokes.setdefault(seq, []).extend(
                        self.parse_revoke(b))
                elif kind == COMMIT:
                    commit_rec[seq] = i
                    pending_commits.append(seq)
                    # R2: a flush between the transaction's last block
                    # and its commit block.
                    last = txn_last.get(seq)
                    if last is not None and not last < last_flush < i:
                        self.bad("R2", "commit block of transaction %d "
                                 "written at record %d, but its block "
                                 "written at record %d was not flushed "
                                 "before it (last flush: record %d)" %
                                 (seq, i, last, last_flush))
        self.commit_rec = commit_rec

        # Pass 2: the home side, in order.
        durable = {}        # blk -> digest durable at home
        unflushed = {}      # blk -> digest written since the last flush
        self.cp_writes = self.other_writes = 0
        # In place, a fixed metadata block may be written only while the
        # log is empty (as at mount and after the unmount's checkpoint):
        # the last journal superblock written says s_start 0 and no log
        # block was written since.
        log_empty = self.j.start == 0
        jsb_iter = iter(jsb_writes)
        next_jsb = next(jsb_iter, None)
        self.prev_tail = self.j.sequence
        for i, (typ, off, length, flags, _) in enumerate(log.recs):
            while next_jsb and next_jsb[0] == i:
                self.check_tail(next_jsb, durable, txn_blocks,
                                txn_revokes)
                log_empty = next_jsb[2] == 0
                next_jsb = next(jsb_iter, None)
            if typ == logreplay.FLUSH:
                durable.update(unflushed)
                unflushed = {}
                continue
            if typ not in (logreplay.WRITE, logreplay.ZERO):
                continue
            for dev, b in self.blocks(i):
                if dev in self.dev_to_log:
                    if self.dev_to_log[dev]:
                        log_empty = False
                    continue
                if b is None:
                    unflushed[dev] = None
                    self.other_writes += 1
                    continue
                d = digest(b)
                unflushed[dev] = d
                cands = copies.get((dev, d))
                if not cands:
                    self.other_writes += 1
                    if dev in self.fixed and not log_empty:
                        self.bad("R1", "block %d (%s) written at record "
                                 "%d with content no transaction logged, "
                                 "while the log is in use: metadata "
                                 "written in place" %
                                 (dev, self.fixed[dev], i))
                    continue
                self.cp_writes += 1
                if any(self.commit_durable.get(s, len(log.recs)) < i
                       for s, _ in cands):
                    continue
                s, lrec = cands[0]
                c = commit_rec.get(s)
                self.bad("R1", "block %d written home at record %d with "
                         "the copy transaction %d logged (log record %d), "
                         "whose commit block was %s" %
                         (dev, i, s, lrec,
                          "never written" if c is None else
                          "written at record %d and %s" %
                          (c, "made durable at record %d" %
                           self.commit_durable[s]
                           if s in self.commit_durable else
                           "never flushed")))
        self.tail_moves = len(jsb_writes)
        return self.summary(len(set(txn_last) | set(commit_rec)))

    def check_tail(self, jsb, durable, txn_blocks, txn_revokes):
        """R3 at a journal superblock write: (rec, s_sequence, s_start)."""
        rec, tail_seq, _ = jsb
        prev, self.prev_tail = self.prev_tail, tail_seq
        newest = {}
        # The transactions the move drops from the live log: committed,
        # at or after the tail before it and before the new one.  Older
        # ones were checked at an earlier move, and their blocks may have
        # been freed and reused since, without a revoke.
        for seq in sorted(s for s in self.commit_rec
                          if self.commit_rec[s] < rec and
                          not (s - prev) & 0x80000000 and
                          (s - tail_seq) & 0x80000000):
            for blk in txn_revokes.get(seq, ()):
                newest.pop(blk, None)
            for blk, d, _ in txn_blocks.get(seq, ()):
                newest[blk] = (seq, d)
        for blk, (seq, d) in sorted(newest.items()):
            if durable.get(blk) != d:
                self.bad("R3", "the journal superblock written at record "
                         "%d moves the tail to transaction %d, but block "
                         "%d does not hold, durably, the copy transaction "
                         "%d committed" % (rec, tail_seq, blk, seq))

    def summary(self, ntxn):
        for v in self.violations:
            print(v)
        commits = len(self.commit_rec)
        print("transactions %d commits %d checkpoint_writes %d "
              "other_home_writes %d tail_moves %d violations %d" %
              (ntxn, commits, self.cp_writes, self.other_writes,
               self.tail_moves, len(self.violations)))
        if self.violations:
            return 1
        if not commits or not self.cp_writes or not self.tail_moves:
            print("nothing to check: the run made no commit, no "
                  "checkpoint write or no tail move")
            return 1
        return 0


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: jorder.py BASE LOG\n")
        return 2
    try:
        c = Checker(argv[1], argv[2])
        return c.run()
    except (logreplay.LogError, OSError) as e:
        sys.stderr.write("jorder.py: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
