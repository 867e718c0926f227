#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2225: fsx-style runs (t/helper/fsxlite: writes, reads, truncate,
# preallocation, punch and zero range, checked against a copy of the file)
# on a 1 GiB metadata_csum,64bit image, aligned O_DIRECT and buffered.  The
# data must check, e2fsck must be clean, and the daemon must not have
# logged a complaint of libext2fs: with libext2fs 1.47.0's fallocate, zero
# ranges between extents whose device blocks run backwards made it test a
# bitmap range of negative length ("Illegal block number passed to
# ext2fs_test_block_bitmap", once "Unknown code ext2 47").  Also: a write
# into a sparse file takes the blocks it writes, not every block up to the
# file's next extent (that fallocate's other bug).
test_description='fsx with zero range; what a write into a hole allocates'
. "$(dirname "$0")/test-lib.sh"

FSXLITE=$HELPER_DIR/fsxlite
[ -x "$FSXLITE" ] && test_set_prereq FSXLITE
IMG=$TRASH/fsx.img
MNT=$TRASH/mnt
LOG=$TRASH/iomapfs-mnt.log

# no_ext2fs_complaint: the daemon's log holds no message of libext2fs's
# bitmaps (they go to stderr through com_err).
no_ext2fs_complaint() {
	if grep -E 'passed to ext2fs_|Unknown code' "$LOG"; then
		echo "the daemon logged libext2fs complaints (above)"
		return 1
	fi
}

test_expect_success FUSE,E2FSPROGS,FSXLITE 'mount a 1 GiB metadata_csum,64bit image' '
	make_image "$IMG" 1G -t ext4 -O metadata_csum,64bit &&
	iomapfs_mount "$IMG" "$MNT"
'

test_expect_success FUSE,E2FSPROGS,FSXLITE 'fsx, aligned O_DIRECT, seed 1: data right, nothing logged' '
	"$FSXLITE" -s 1 -n 20000 -Z "$MNT/direct" &&
	no_ext2fs_complaint
'

test_expect_success FUSE,E2FSPROGS,FSXLITE 'fsx, buffered, seed 1: data right, nothing logged' '
	"$FSXLITE" -s 1 -n 10000 "$MNT/buffered" &&
	no_ext2fs_complaint
'

test_expect_success FUSE,E2FSPROGS 'a 4 KiB write into a sparse file allocates one block' '
	dd if=/dev/urandom of="$MNT/sparse" bs=4k seek=100 count=1 conv=notrunc status=none &&
	dd if=/dev/urandom of="$MNT/sparse" bs=4k seek=0 count=1 conv=notrunc status=none &&
	fallocate -n -o $((50 * 4096)) -l 4096 "$MNT/sparse" &&
	test_eq 24 "$(stat -c %b "$MNT/sparse")" "512-byte blocks of 3 written or preallocated 4 KiB blocks"
'

test_expect_success FUSE,E2FSPROGS 'unmount; e2fsck clean' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
