#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2290-fuseblk-filefrag.sh - a block device is mounted as fuseblk
# (iomapfs(8), FILEFRAG AND FUSEBLK), with the filesystem's block size,
# so that the kernel passes FIBMAP to the daemon's bmap: filefrag on the
# mount then agrees with iomapctl map block for block (written extents;
# FIBMAP answers 0 for unwritten ones, as on ext4), and never fills the
# iomap cache.  The kernel holds the device's exclusive claim while it is
# mounted.  On an image file there is no FIBMAP: filefrag finds nothing.
test_description='fuseblk mounts of block devices; filefrag through bmap'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE,E2FSPROGS,ROOT,JQ || skip_all "needs FUSE, e2fsprogs, root and jq"
command -v filefrag >/dev/null && command -v losetup >/dev/null ||
	skip_all "needs filefrag and losetup"

# frags MNT FILE: the written extents filefrag finds, one "LOGICAL
# PHYSICAL LENGTH" line each, contiguous ones joined.
frags() {
	filefrag -e "$1" | awk -F'[:. ]+' '
		/^ *[0-9]+:/ { print $3, $5, $7 }' | join_runs
}

# maps SOCKET FILE: the MAPPED mappings iomapctl map finds, the same way.
maps() {
	"$IOMAPCTL" -s "$1" -J map "$2" --blocks |
		jq -r '.mappings[] | select(.type == "MAPPED") |
			"\(.offset) \(.addr) \(.length)"' | join_runs
}

join_runs() {
	awk '
		NF == 3 && n && $1 == l + len && $2 == p + len { len += $3; next }
		NF == 3 { if (n) print l, p, len; l = $1; p = $2; len = $3; n = 1 }
		END { if (n) print l, p, len }'
}

# upserts SOCKET: how many mappings the cache took in so far.
upserts() {
	"$IOMAPCTL" -s "$1" -J stats | jq .stats.upserts
}

loop_setup() {
	make_image "$1" 64M -t ext4 "${@:2}" &&
	LOOPDEV=$(losetup -f --show "$1") &&
	test_atexit "losetup -d $LOOPDEV 2>/dev/null"
}

test_expect_success 'a block device is mounted as fuseblk, with its block size' '
	loop_setup dev.img -b 4096 &&
	echo "$LOOPDEV" >loopdev &&
	iomapfs_mount "$LOOPDEV" mnt -o ctl_socket="$TRASH/ctl.sock" &&
	grep " $TRASH/mnt " /proc/mounts >mounts &&
	test_grep "^$LOOPDEV $TRASH/mnt fuseblk.iomapfs rw,.*,blksize=4096" mounts
'

test_expect_success 'the kernel holds the claim: no second mount of the device' '
	dev=$(cat loopdev) &&
	mkdir -p other &&
	test_must_fail mount -t ext4 "$dev" other 2>err &&
	test_expect_code 7 timeout 60 "$IOMAPFS" -f "$dev" other 2>err &&
	test_grep "busy" err
'

test_expect_success 'filefrag agrees with iomapctl map, block for block' '
	head -c 300000 /dev/urandom >mnt/f &&
	dd if=/dev/urandom of=mnt/f bs=4k seek=100 count=3 conv=notrunc status=none &&
	dd if=/dev/urandom of=mnt/f bs=4k seek=200 count=1 conv=notrunc status=none &&
	fallocate -o 1000000 -l 40000 mnt/f &&
	: >mnt/empty &&
	for f in f empty; do
		frags "mnt/$f" >"frag.$f" &&
		maps "$TRASH/ctl.sock" "mnt/$f" >"map.$f" &&
		test_cmp "map.$f" "frag.$f" || return 1
	done &&
	test_eq 3 "$(wc -l <frag.f)" "written extents of f" &&
	test_eq 0 "$(wc -l <frag.empty)" "extents of an empty file"
'

test_expect_success 'filefrag never fills the iomap cache' '
	head -c 200000 /dev/urandom >mnt/cold &&
	"$IOMAPCTL" -s "$TRASH/ctl.sock" flush --all >/dev/null &&
	u0=$(upserts "$TRASH/ctl.sock") &&
	filefrag -e mnt/cold >/dev/null &&
	filefrag -e mnt/f >/dev/null &&
	test_eq "$u0" "$(upserts "$TRASH/ctl.sock")" "upserts after filefrag" &&
	# the write-back cache keeps every page written: drop them, so the
	# read reaches the daemon
	sync mnt/cold &&
	dd if=mnt/cold iflag=nocache count=0 status=none &&
	cat mnt/cold >/dev/null &&
	test "$(upserts "$TRASH/ctl.sock")" -gt "$u0"
'

test_expect_success 'the kernel ext4 sees the same blocks' '
	frags mnt/f >before &&
	iomapfs_unmount mnt &&
	dev=$(cat loopdev) &&
	mkdir -p kmnt &&
	mount -o ro "$dev" kmnt &&
	filefrag -e kmnt/f | awk -F"[:. ]+" "/^ *[0-9]+:/ && !/unwritten/ { print \$3, \$5, \$7 }" |
		join_runs >kernel &&
	umount kmnt &&
	test_cmp before kernel &&
	fsck_clean "$dev"
'

test_expect_success 'an image file is a plain FUSE mount: no FIBMAP' '
	make_image file.img 32M -t ext4 &&
	iomapfs_mount file.img fmnt &&
	grep " $TRASH/fmnt " /proc/mounts >fmounts &&
	test_grep " fuse.iomapfs " fmounts &&
	head -c 100000 /dev/urandom >fmnt/h &&
	filefrag fmnt/h >ff &&
	test_grep "0 extents found" ff &&
	iomapfs_unmount fmnt
'

test_done
