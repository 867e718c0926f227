#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2240: libext2fs's block cache must never write a stale copy of a block
# over file data, nor hide data written around it.  While mounted: make a
# file whose extent tree has a leaf block (many extents) and a directory of
# many blocks, free both, then fill the filesystem so that new file data
# reuses those very blocks (checked with debugfs icheck; while mounted on
# a copy with the journal replayed, after an fsync).  The data must
# read back through the mount, after unmounting (when libext2fs flushes
# everything it holds) in debugfs's dump, and after a remount; e2fsck clean.
# The fill must end in ENOSPC from write(2) with every byte written kept:
# that is ext4's promise, which -o nowriteback_cache keeps (with the
# write-back cache the error comes at write-back: t2265).
test_description='freed metadata blocks reused as file data'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

IMG=$TRASH/reuse.img
MNT=$TRASH/mnt
export IMG MNT

test_expect_success FUSE,E2FSPROGS,DATAIO 'mount a small 1 KiB-block ext4 image' '
	make_dirty_image "$IMG" 8M -t ext4 -b 1024 -N 512 &&
	iomapfs_mount "$IMG" "$MNT" -o nowriteback_cache
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'a fragmented file gets an extent tree block' '
	for i in $(seq 0 39); do
		"$DATAIO" write "$MNT/frag" $((i * 2048)) 1024 $i || return 1
	done &&
	sync "$MNT/frag" && image_replayed "$IMG" view.img &&
	debugfs -R "stat /frag" view.img 2>/dev/null >stat.out &&
	sed -n "s/.*(ETB0):\([0-9]*\).*/\1/p" stat.out >etb &&
	test -s etb || { echo "no extent tree block:"; cat stat.out; false; }
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'a directory of many blocks' '
	mkdir "$MNT/bigdir" &&
	for i in $(seq 1 200); do
		: >"$MNT/bigdir/a-rather-long-file-name-to-fill-directory-blocks-$i" || return 1
	done &&
	sync "$MNT/bigdir" && image_replayed "$IMG" view.img &&
	blocks_of view.img /bigdir >dirblocks &&
	test "$(wc -l <dirblocks)" -ge 8
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'free them while mounted, then fill the filesystem' '
	rm -f "$MNT/frag" && rm -rf "$MNT/bigdir" &&
	"$DATAIO" fill "$MNT/fill" 77 8K >fill.out &&
	read -r filled why <fill.out &&
	test_eq ENOSPC "$why" "fill stopped by" &&
	echo "$filled" >filled &&
	test "$filled" -gt $((4 << 20)) &&
	"$DATAIO" check "$MNT/fill" 0 "$filled" 77 -n
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'unmount: the freed blocks now hold file data' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	fillino=$(debugfs -R "stat /fill" "$IMG" 2>/dev/null |
		  sed -n "s/^Inode: \([0-9]*\).*/\1/p") &&
	for b in $(cat etb) $(head -n 4 dirblocks); do
		owner=$(debugfs -R "icheck $b" "$IMG" 2>/dev/null | awk "NR == 2 { print \$2 }") &&
		test_eq "$fillino" "$owner" "owner of block $b" || return 1
	done
'

test_expect_success FUSE,E2FSPROGS,DATAIO 'the data is intact in the dump and after a remount' '
	rm -f dump.out &&
	debugfs -R "dump /fill dump.out" "$IMG" >/dev/null 2>&1 &&
	"$DATAIO" check dump.out 0 "$(cat filled)" 77 &&
	iomapfs_mount "$IMG" "$MNT" -o nowriteback_cache &&
	"$DATAIO" check "$MNT/fill" 0 "$(cat filled)" 77 -n &&
	rm "$MNT/fill" &&
	"$DATAIO" write "$MNT/again" 0 1M 78 &&
	"$DATAIO" check "$MNT/again" 0 1M 78 -n &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
