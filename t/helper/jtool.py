#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# jtool.py - image and journal tools for the journal tests (t6xxx), written
# apart from iomapfs's own code (the JBD2 layout from the kernel's
# Documentation/filesystems/ext4/journal.rst, block locations from
# debugfs), so that the tests check the reader against journals and
# damage the project did not make with its own code.
#
#   jtool.py cmp EXPECTED GOT
#       compare two images block for block.  The primary superblock is
#       compared field by field, minus SB_MOUNT_FIELDS below; every other
#       block must be identical.  Prints each difference (the block, what
#       it is, and the first differing bytes of each) and exits 1, or
#       prints "identical" and exits 0.
#   jtool.py tree DIR
#       one line per file under DIR, sorted: path, type, mode, nlink, uid,
#       gid, size, blocks, mtime and ctime (ns), rdev, and a sha256 of the
#       content (the target of a symlink, the names of a directory), then
#       the xattrs.  Two mounts of one filesystem print the same lines.
#   jtool.py log IMG
#       the journal's blocks from s_start, as debugfs's logdump finds
#       them: "LOGBLOCK DEVBLOCK SEQ TYPE" per line (TYPE: descriptor,
#       data, commit, revoke).
#   jtool.py poke IMG LOGBLOCK OFFSET HEXBYTES [--fix]
#       write bytes into a log block; --fix recomputes the block's
#       checksum (descriptor and revoke tails, commit blocks; csum v2/v3).
#   jtool.py xor IMG LOGBLOCK OFFSET
#       flip the bits of one byte of a log block (damage).
#   jtool.py jsb IMG FIELD=VALUE...
#       set journal superblock fields (start, sequence, errno, maxlen,
#       incompat, incompat+=BITS, compat) and its checksum.
#   jtool.py rotate IMG K
#       move the whole log area of the journal so that the log starts K
#       blocks before the end of the log area: a log that wraps around.
#   jtool.py info IMG
#       "blocksize BLOCKS first maxlen start sequence incompat compat".
#   jtool.py extract IMG OUT [FLAGS] [--all]
#       the journal as an input of the journal fuzz harness
#       (t/fuzz/fuzz-jbd2.c): an 8-byte header (FLAGS, 0, the filesystem's
#       block count) and log blocks 0 to one past the end of the log (the
#       whole journal when the log wraps, or with --all).
#   jtool.py circle IMG
#       replace the log with descriptors of one transaction (32-bit tags,
#       no checksums) whose tag counts lead round the whole journal back
#       to the first: a log e2fsck 1.47 and the kernel walk for ever.
import hashlib
import os
import re
import stat
import struct
import subprocess
import sys

JBD2_MAGIC = 0xC03B3998
TYPES = {1: "descriptor", 2: "commit", 3: "sb1", 4: "sb2", 5: "revoke"}
INCOMPAT_REVOKE, INCOMPAT_64BIT, INCOMPAT_ASYNC = 0x1, 0x2, 0x4
INCOMPAT_CSUM_V2, INCOMPAT_CSUM_V3 = 0x8, 0x10

# Fields of the primary superblock that any mount, or any writer of the
# superblock, changes, and that a replay by e2fsck -E journal_only and one
# by an iomapfs mount and unmount may therefore leave different:
#   s_free_blocks_count, s_free_inodes_count, s_free_blocks_hi: ext4 does
#     not journal them; every mount recounts them from the group
#     descriptors (the kernel, and iomapfs after a replay), while
#     e2fsck -E journal_only leaves the stale ones;
#   s_mtime, s_mtime_hi, s_mnt_count, s_last_mounted: set by every mount;
#   s_wtime, s_wtime_hi: set by every write of the superblock;
#   s_kbytes_written: every writer adds what it wrote;
#   s_checksum: covers all of the above.
SB_MOUNT_FIELDS = {
    "s_free_blocks_count": (0x0C, 4),
    "s_free_inodes_count": (0x10, 4),
    "s_mtime": (0x2C, 4),
    "s_wtime": (0x30, 4),
    "s_mnt_count": (0x34, 2),
    "s_last_mounted": (0x88, 64),
    "s_free_blocks_hi": (0x158, 4),
    "s_kbytes_written": (0x178, 8),
    "s_wtime_hi": (0x274, 1),
    "s_mtime_hi": (0x275, 1),
    "s_checksum": (0x3FC, 4),
}


def crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_T = crc32c_table()


def crc32c(crc, data):
    """Raw crc32c, no inversions: the kernel's jbd2_chksum()."""
    for b in data:
        crc = CRC_T[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def be32(b, o):
    return struct.unpack_from(">I", b, o)[0]


def le(b, o, n):
    return int.from_bytes(b[o:o + n], "little")


class Fs:
    """The superblock facts of an ext2/3/4 image."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            f.seek(1024)
            sb = f.read(1024)
        self.sb = sb
        self.bs = 1024 << le(sb, 0x18, 4)
        self.blocks = le(sb, 0x04, 4) | (le(sb, 0x150, 4) << 32)
        self.first_data = le(sb, 0x14, 4)
        self.per_group = le(sb, 0x20, 4)
        self.inodes_per_group = le(sb, 0x28, 4)
        self.inode_size = le(sb, 0x58, 2) if le(sb, 0x4C, 4) else 128
        incompat = le(sb, 0x60, 4)
        self.desc_size = le(sb, 0xFE, 2) if incompat & 0x80 else 32
        if not self.desc_size:
            self.desc_size = 32
        self.groups = (self.blocks - self.first_data + self.per_group - 1) \
            // self.per_group
        self.journal_ino = le(sb, 0xE0, 4)
        self.gdt_start = self.first_data + 1
        self.gdt_blocks = (self.groups * self.desc_size + self.bs - 1) \
            // self.bs
        self.reserved_gdt = le(sb, 0xCE, 2)
        with open(path, "rb") as f:
            f.seek(self.gdt_start * self.bs)
            gdt = f.read(self.gdt_blocks * self.bs)
        self.gd = []
        for g in range(self.groups):
            d = gdt[g * self.desc_size:(g + 1) * self.desc_size]
            wide = self.desc_size >= 64
            bb = le(d, 0, 4) | (le(d, 0x20, 4) << 32 if wide else 0)
            ib = le(d, 4, 4) | (le(d, 0x24, 4) << 32 if wide else 0)
            it = le(d, 8, 4) | (le(d, 0x28, 4) << 32 if wide else 0)
            self.gd.append((bb, ib, it))

    def what(self, blk):
        """What block @blk is, when its place tells."""
        if blk * self.bs <= 1024 < (blk + 1) * self.bs:
            return "primary superblock"
        if self.gdt_start <= blk < self.gdt_start + self.gdt_blocks:
            return "group descriptors (primary)"
        itb = (self.inodes_per_group * self.inode_size + self.bs - 1) \
            // self.bs
        for g, (bb, ib, it) in enumerate(self.gd):
            if blk == bb:
                return "block bitmap of group %d" % g
            if blk == ib:
                return "inode bitmap of group %d" % g
            if it <= blk < it + itb:
                per = self.bs // self.inode_size
                first = g * self.inodes_per_group + (blk - it) * per + 1
                return "inode table of group %d (inodes %d-%d)" % (
                    g, first, first + per - 1)
        out = debugfs(self.path, ["icheck %d" % blk])
        m = re.search(r"^%d\s+(\d+)" % blk, out, re.M)
        if m:
            return "block of inode %s" % m.group(1)
        return "unowned block"


def debugfs(img, cmds):
    # -c: without the bitmaps, which a replay may not have made
    # consistent yet (their checksums fail until then).
    r = subprocess.run(["debugfs", "-c", "-f", "-", img],
                       input="\n".join(cmds),
                       capture_output=True, text=True, check=False)
    return r.stdout


def hexline(b):
    return " ".join("%02x" % x for x in b)


def cmd_cmp(a, b):
    fs = Fs(a)
    bs = fs.bs
    # Whole chunks first (most of an image is equal), blocks where they
    # differ.
    chunk = max(bs, 1 << 20)
    diffs = 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        pos = 0
        while True:
            x = fa.read(chunk)
            y = fb.read(chunk)
            if not x and not y:
                break
            if x != y:
                for off in range(0, max(len(x), len(y)), bs):
                    bx = x[off:off + bs]
                    by = y[off:off + bs]
                    if bx != by:
                        diffs += cmp_block(fs, (pos + off) // bs, bx, by)
            pos += chunk
    if diffs:
        print("%d difference(s) between %s and %s" % (diffs, a, b))
        return 1
    print("identical (apart from the superblock's mount fields: %s)" %
          ", ".join(sorted(SB_MOUNT_FIELDS)))
    return 0


def cmp_block(fs, blk, x, y):
    bs = fs.bs
    if len(x) != len(y):
        print("block %d: one image ends here (%d and %d bytes)" %
              (blk, len(x), len(y)))
        return 1
    sb_off = 1024 - blk * bs
    if 0 <= sb_off < bs:
        # The primary superblock: field by field, minus the mount fields.
        x = bytearray(x)
        y = bytearray(y)
        for off, n in SB_MOUNT_FIELDS.values():
            x[sb_off + off:sb_off + off + n] = bytes(n)
            y[sb_off + off:sb_off + off + n] = bytes(n)
        if x == y:
            return 0
    first = next(i for i in range(len(x)) if x[i] != y[i])
    last = max(i for i in range(len(x)) if x[i] != y[i])
    count = sum(1 for i in range(len(x)) if x[i] != y[i])
    print("block %d (%s): %d bytes differ, from byte %d to %d" %
          (blk, fs.what(blk), count, first, last))
    if 0 <= sb_off < bs and sb_off <= first < sb_off + 1024:
        print("  superblock offset 0x%x" % (first - sb_off))
    lo = first - first % 16
    print("  expected %04x: %s" % (lo, hexline(x[lo:lo + 32])))
    print("  got      %04x: %s" % (lo, hexline(y[lo:lo + 32])))
    return 1


def cmd_tree(top):
    lines = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(dirs + files):
            p = os.path.join(root, name)
            rel = os.path.relpath(p, top)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                digest = h.hexdigest()[:16]
            elif stat.S_ISLNK(st.st_mode):
                digest = "-> " + os.readlink(p)
            elif stat.S_ISDIR(st.st_mode):
                digest = hashlib.sha256(
                    "/".join(sorted(os.listdir(p))).encode()).hexdigest()[:16]
            else:
                digest = "-"
            xattrs = []
            try:
                for k in sorted(os.listxattr(p, follow_symlinks=False)):
                    v = os.getxattr(p, k, follow_symlinks=False)
                    xattrs.append("%s=%s" % (k, v.hex()))
            except OSError:
                pass
            lines.append("%s %o %d %d %d %d %d %d %d %d %s %s" % (
                rel, st.st_mode, st.st_nlink, st.st_uid, st.st_gid,
                st.st_size, st.st_blocks, st.st_mtime_ns, st.st_ctime_ns,
                st.st_rdev, digest, " ".join(xattrs)))
    print("\n".join(lines))
    return 0


class Journal:
    """The journal inode of an image: its block map and superblock."""

    def __init__(self, path):
        self.fs = Fs(path)
        self.path = path
        out = debugfs(path, ["stat <%d>" % self.fs.journal_ino])
        self.map = {}
        for m in re.finditer(r"\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?", out):
            a = int(m.group(1))
            b = int(m.group(2) or a)
            p = int(m.group(3))
            for i in range(b - a + 1):
                self.map[a + i] = p + i
        sb = self.read(0)
        if be32(sb, 0) != JBD2_MAGIC:
            raise SystemExit("%s: no journal superblock" % path)
        self.bs = be32(sb, 0x0C)
        self.maxlen = be32(sb, 0x10)
        self.first = be32(sb, 0x14)
        self.sequence = be32(sb, 0x18)
        self.start = be32(sb, 0x1C)
        self.compat = be32(sb, 0x24)
        self.incompat = be32(sb, 0x28)
        self.uuid = sb[0x30:0x40]
        self.seed = crc32c(0xFFFFFFFF, self.uuid)

    def dev(self, lblk):
        return self.map[lblk]

    def read(self, lblk):
        with open(self.path, "rb") as f:
            f.seek(self.map[lblk] * self.fs.bs)
            return bytearray(f.read(self.fs.bs))

    def write(self, lblk, data):
        with open(self.path, "r+b") as f:
            f.seek(self.map[lblk] * self.fs.bs)
            f.write(bytes(data))

    def csums(self):
        return self.incompat & (INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3)

    def fix(self, b):
        """Recompute the v2/v3 checksum of a metadata block @b."""
        if not self.csums():
            return
        kind = be32(b, 4)
        if kind in (1, 5):
            b[-4:] = bytes(4)
            struct.pack_into(">I", b, len(b) - 4, crc32c(self.seed, b))
        elif kind == 2:
            b[0x10:0x14] = bytes(4)
            struct.pack_into(">I", b, 0x10, crc32c(self.seed, b))

    def set_super(self, updates):
        sb = self.read(0)
        for off, val in updates:
            struct.pack_into(">I", sb, off, val & 0xFFFFFFFF)
        if self.csums():
            sb[0xFC:0x100] = bytes(4)
            struct.pack_into(">I", sb, 0xFC,
                             crc32c(0xFFFFFFFF, bytes(sb[:1024])))
        self.write(0, sb)


def cmd_log(img):
    j = Journal(img)
    out = subprocess.run(["debugfs", "-c", "-R", "logdump", img],
                         capture_output=True, text=True, check=False).stdout
    for m in re.finditer(
            r"Found expected sequence (\d+), type (\d+) \([^)]*\) "
            r"at block (\d+)", out):
        seq, kind, lblk = int(m.group(1)), int(m.group(2)), int(m.group(3))
        print("%d %d %d %s" % (lblk, j.dev(lblk), seq, TYPES.get(kind, "?")))
        if kind == 1:
            # The data blocks that follow, as the kernel's count_tags().
            b = j.read(lblk)
            tag = 16 if j.incompat & INCOMPAT_CSUM_V3 else \
                (12 if j.incompat & INCOMPAT_64BIT else 8) + \
                (2 if j.incompat & INCOMPAT_CSUM_V2 else 0)
            end = len(b) - (4 if j.csums() else 0)
            pos, n = 12, lblk
            while pos + tag <= end:
                flags = struct.unpack_from(">H", b, pos + 6)[0]
                n += 1
                if n >= j.maxlen:
                    n -= j.maxlen - j.first
                print("%d %d %d data" % (n, j.dev(n), seq))
                pos += tag + (0 if flags & 2 else 16)
                if flags & 8:
                    break
    return 0


def cmd_poke(img, lblk, off, data, fix):
    j = Journal(img)
    b = j.read(lblk)
    b[off:off + len(data)] = data
    if fix:
        j.fix(b)
    j.write(lblk, b)
    return 0


def cmd_jsb(img, args):
    j = Journal(img)
    fields = {"start": 0x1C, "sequence": 0x18, "errno": 0x20, "maxlen": 0x10,
              "incompat": 0x28, "compat": 0x24}
    updates = []
    for a in args:
        k, v = a.split("=", 1)
        if k.endswith("+"):
            k = k[:-1]
            cur = be32(j.read(0), fields[k])
            updates.append((fields[k], cur | int(v, 0)))
        else:
            updates.append((fields[k], int(v, 0)))
    j.set_super(updates)
    return 0


def cmd_rotate(img, k):
    j = Journal(img)
    n = j.maxlen - j.first
    blocks = [j.read(j.first + i) for i in range(n)]
    # The log at offset o moves to offset (o + shift) mod n; its start
    # ends k blocks before the end of the log area.
    start = j.start - j.first
    shift = (n - k - start) % n
    for i in range(n):
        j.write(j.first + (i + shift) % n, blocks[i])
    j.set_super([(0x1C, j.first + (start + shift) % n)])
    return 0


def cmd_extract(img, out, flags, whole):
    j = Journal(img)
    end = j.first + 1
    prev = 0
    r = [] if whole else subprocess.run(
        ["python3", __file__, "log", img], capture_output=True, text=True,
        check=True).stdout.split("\n")
    if whole:
        end = j.maxlen
    for line in r:
        if not line:
            continue
        lblk = int(line.split()[0])
        if lblk < prev:
            end = j.maxlen
            break
        prev = lblk
        end = max(end, lblk + 2)
    with open(out, "wb") as f:
        f.write(struct.pack("<BBIH", flags, 0, j.fs.blocks & 0xFFFFFFFF, 0))
        for lblk in range(min(end, j.maxlen)):
            f.write(bytes(j.read(lblk)))
    return 0


def cmd_circle(img):
    j = Journal(img)
    if j.incompat & ~INCOMPAT_REVOKE or j.compat:
        raise SystemExit("circle: wants a journal without checksums and "
                         "64-bit tags")
    per = (j.bs - 12) // 8
    ring = j.maxlen - j.first
    pos, left = j.first, ring
    while left > 0:
        n = min(per, left - 1)
        b = bytearray(j.bs)
        struct.pack_into(">III", b, 0, JBD2_MAGIC, 1, j.sequence)
        for i in range(n):
            # SAME_UUID on every tag, LAST_TAG on the last.
            struct.pack_into(">IHH", b, 12 + 8 * i, 5000 + i, 0,
                             2 | (8 if i == n - 1 else 0))
        j.write(pos, b)
        pos += n + 1
        left -= n + 1
    j.set_super([(0x1C, j.first)])
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__ or "see the comment at the top", file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "cmp":
        return cmd_cmp(argv[2], argv[3])
    if cmd == "tree":
        return cmd_tree(argv[2])
    if cmd == "log":
        return cmd_log(argv[2])
    if cmd == "poke":
        return cmd_poke(argv[2], int(argv[3]), int(argv[4], 0),
                        bytes.fromhex(argv[5]), "--fix" in argv[6:])
    if cmd == "xor":
        j = Journal(argv[2])
        b = j.read(int(argv[3]))
        b[int(argv[4], 0)] ^= 0xFF
        j.write(int(argv[3]), b)
        return 0
    if cmd == "jsb":
        return cmd_jsb(argv[2], argv[3:])
    if cmd == "rotate":
        return cmd_rotate(argv[2], int(argv[3]))
    if cmd == "extract":
        rest = [a for a in argv[4:] if a != "--all"]
        return cmd_extract(argv[2], argv[3], int(rest[0], 0) if rest else 0,
                           "--all" in argv[4:])
    if cmd == "circle":
        return cmd_circle(argv[2])
    if cmd == "info":
        j = Journal(argv[2])
        print("%d %d %d %d %d %d 0x%x 0x%x" % (
            j.bs, j.fs.blocks, j.first, j.maxlen, j.start, j.sequence,
            j.incompat, j.compat))
        return 0
    print("jtool.py: unknown command %s" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
