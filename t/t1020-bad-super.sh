#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1020-bad-super.sh - a superblock whose first data block is wrong is
# refused at mount with a message that names it.  libext2fs 1.47.0 opens
# such an image and then writes past a heap buffer when it reads the
# bitmaps (found by the ext2map fuzz harness), so the daemon must check
# before it reads them, read-write and read-only alike.
test_description='mount refuses a superblock with a wrong first data block'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

# refused IMG WANT-TEXT [OPTS]: the mount fails (not by a signal), says
# WANT-TEXT, and leaves no mount behind.
refused() {
	local img=$1 want=$2 rc
	shift 2
	mkdir -p mnt &&
	timeout 20 "$IOMAPFS" -f "$@" "$img" mnt >out 2>&1
	rc=$?
	if mountpoint -q mnt; then
		fusermount3 -u mnt
		echo "the mount of $img succeeded; expected a refusal"
		return 1
	fi
	if [ $rc -eq 0 ] || [ $rc -ge 124 ]; then
		echo "iomapfs exited $rc; expected a plain failure. It said:"
		cat out
		return 1
	fi
	test_grep "$want" out
}

test_expect_success '1 KiB blocks, first data block 104 instead of 1' '
	make_image one.img 8M -t ext4 -b 1024 &&
	debugfs -w -R "ssv first_data_block 104" one.img &&
	refused one.img "first data block is 104, not 1" &&
	test_grep "run e2fsck" out &&
	refused one.img "first data block is 104, not 1" -o ro
'

test_expect_success '4 KiB blocks, first data block 1 instead of 0' '
	make_image four.img 16M -t ext4 -b 4096 &&
	debugfs -w -R "ssv first_data_block 1" four.img &&
	refused four.img "first data block is 1, not 0"
'

test_expect_success 'a good image still mounts' '
	make_image good.img 8M -t ext4 -b 1024 &&
	iomapfs_mount good.img mnt &&
	echo ok >mnt/f && test_eq ok "$(cat mnt/f)" &&
	iomapfs_unmount mnt &&
	fsck_clean good.img
'

test_done
