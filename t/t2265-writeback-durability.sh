#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2265: with the write-back cache, written data may live in the kernel's
# dirty pages until write-back; every promise of durability must still
# hold.  One process writes files in small pieces and makes each durable
# its own way (fsync, fdatasync, O_SYNC, msync(MS_SYNC) of a shared map,
# fsync of a mapped file, and appends inside the last block before fsync),
# then, its descriptors still open, kills the daemon with SIGKILL: nothing
# after the promise can help.  debugfs must find each file whole, with its
# size, in the image once its journal is replayed, and e2fsck must find
# the image consistent.  syncfs
# reaches the daemon only as write-back: its data must be in the image.
# And a full filesystem: write-back fails with ENOSPC, and the program's
# next write(2) says so (it does not write to the page cache forever);
# fsync reports it; the file fsynced before is intact.
test_description='write-back cache: fsync, fdatasync, O_SYNC, msync, syncfs survive kill -9; ENOSPC'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

command -v python3 >/dev/null && test_set_prereq PYTHON3
IMG=$TRASH/dur.img
MNT=$TRASH/mnt
export IMG MNT

# The writer: each file gets 300 writes of 1 to 200 bytes (seeded), a
# model copy in model/, and its own way to durability; then the daemon
# (pid in argv[3]) is killed while every descriptor is still open.
cat >writer.py <<'EOF'
import ctypes, mmap, os, random, signal, sys, time
mnt, model, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
rnd = random.Random(15)
keep = []

def data():
    out = bytearray()
    for _ in range(300):
        out += bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(1, 200)))
    return bytes(out)

def model_write(name, b):
    with open(os.path.join(model, name), "wb") as f:
        f.write(b)

def pieces(fd, b):
    i = 0
    while i < len(b):
        n = rnd.randrange(1, 200)
        if os.write(fd, b[i:i + n]) != len(b[i:i + n]):
            sys.exit("short write")
        i += n

for name, how in (("f-fsync", "fsync"), ("f-fdatasync", "fdatasync"),
                  ("f-osync", "osync"), ("f-syncfs", "syncfs")):
    b = data()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    if how == "osync":
        flags |= os.O_SYNC
    fd = os.open(os.path.join(mnt, name), flags, 0o644)
    pieces(fd, b)
    if how == "fsync":
        os.fsync(fd)
    elif how == "fdatasync":
        os.fdatasync(fd)
    elif how == "syncfs" and libc.syncfs(fd) != 0:
        sys.exit("syncfs: errno %d" % ctypes.get_errno())
    model_write(name, b)
    keep.append(fd)

# an overwrite in the middle of a written, fsynced file, fdatasync'd
fd = os.open(os.path.join(mnt, "f-over"), os.O_RDWR | os.O_CREAT, 0o644)
b = bytearray(data())
pieces(fd, bytes(b))
os.fsync(fd)
patch = bytes(rnd.randrange(256) for _ in range(5000))
os.pwrite(fd, patch, 7000)
b[7000:12000] = patch
os.fdatasync(fd)
model_write("f-over", bytes(b))
keep.append(fd)

# shared maps: msync(MS_SYNC), and fsync of the descriptor
for name, how in (("f-msync", "msync"), ("f-mapfsync", "fsync")):
    b = data()
    fd = os.open(os.path.join(mnt, name), os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, len(b))
    m = mmap.mmap(fd, len(b), mmap.MAP_SHARED)
    for i in range(0, len(b), 997):
        m[i:i + 997] = b[i:i + 997]
    if how == "msync":
        m.flush()
    else:
        os.fsync(fd)
    model_write(name, b)
    keep.append((fd, m))

# appends inside the last block of a durable file (the size they reach
# waits in the daemon's memory), then fdatasync, or fsync; last, so that
# no later commit writes that size for them
for name, how in (("f-appfsync", "fsync"), ("f-appdsync", "fdatasync")):
    b = bytes(rnd.randrange(256) for _ in range(1000))
    fd = os.open(os.path.join(mnt, name), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b)
    os.fsync(fd)
    for _ in range(20):
        more = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 100)))
        os.write(fd, more)
        b += more
    if how == "fsync":
        os.fsync(fd)
    else:
        os.fdatasync(fd)
    model_write(name, b)
    keep.append(fd)

os.kill(pid, signal.SIGKILL)
time.sleep(0.2)
EOF

for wb in "" nowriteback_cache; do
	export wb
	test_expect_success FUSE,E2FSPROGS,PYTHON3 "${wb:-write-back cache}: what fsync, fdatasync, O_SYNC, msync and syncfs promised survives kill -9" '
		rm -rf model && mkdir model &&
		make_image "$IMG" 64M -t ext4 -b 4096 &&
		iomapfs_mount "$IMG" "$MNT" ${wb:+-o $wb} &&
		python3 writer.py "$MNT" model "$IOMAPFS_PID" &&
		test_expect_code 137 wait "$IOMAPFS_PID" &&
		{ fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"; } &&
		! grep -q " $MNT " /proc/mounts &&
		"$IOMAPCTL" list --prune "$MNT" >/dev/null &&
		image_replay "$IMG" &&
		for f in f-fsync f-fdatasync f-osync f-over f-appdsync f-appfsync \
			f-msync f-mapfsync f-syncfs; do
			dump_cmp "$IMG" /$f model/$f || {
				echo "$f: not in the image as written and made durable"
				return 1
			}
		done &&
		# syncfs reaches no FUSE daemon but as write-back: the blocks
		# it allocated, and its size, are in the journal since the
		# commit of the fsync of f-over, after it
		fsck_clean "$IMG"
	'
done

test_expect_success FUSE,E2FSPROGS,PYTHON3 'write-back cache, a full filesystem: write(2) ends in ENOSPC, fsync reports it, what was fsynced is kept' '
	rm -rf model && mkdir model &&
	make_image "$IMG" 16M -t ext4 -b 1024 &&
	iomapfs_mount "$IMG" "$MNT" &&
	"$DATAIO" write "$MNT/keep" 0 100K 1 &&
	"$DATAIO" write model/keep 0 100K 1 &&
	sync "$MNT/keep" &&
	timeout 120 "$DATAIO" fill "$MNT/big" 2 24K >fill.out &&
	read -r filled why <fill.out &&
	test_eq ENOSPC "$why" "the fill stopped with" &&
	test_must_fail python3 -c "
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b\"x\" * (1 << 20))
os.fsync(fd)
" "$MNT/more" 2>err &&
	test_grep "No space left" err &&
	"$DATAIO" check "$MNT/keep" 0 100K 1 -n &&
	rm -f "$MNT/big" "$MNT/more" &&
	"$DATAIO" write "$MNT/again" 0 4M 4 &&
	"$DATAIO" check "$MNT/again" 0 4M 4 -n &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	dump_cmp "$IMG" /keep model/keep
'

test_done
