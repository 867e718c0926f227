#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1030-unclean.sh - after a crash (the daemon killed while mounted
# read-write) a filesystem without a journal (ext2) is marked not clean
# and its bitmaps may be stale; a read-write mount is refused until e2fsck
# has run, so that no block in use is handed out twice.  Read-only is
# allowed, with a warning.  (A filesystem with a journal stays clean and
# needs a replay instead: t61xx.)
test_description='a filesystem not cleanly unmounted is refused read-write'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

test_expect_success 'kill the daemon of a read-write mount' '
	make_image img 32M -t ext2 &&
	iomapfs_mount img mnt &&
	dd if=/dev/urandom of=mnt/f bs=64k count=16 status=none &&
	kill -9 "$IOMAPFS_PID" &&
	test_expect_code 137 wait "$IOMAPFS_PID" &&
	fusermount3 -u -z mnt &&
	! mountpoint -q mnt &&
	dumpe2fs -h img 2>/dev/null | grep "^Filesystem state:" >state &&
	test_grep "not clean" state
'

test_expect_success 'a read-write mount is refused with the reason' '
	test_expect_code 8 timeout 20 "$IOMAPFS" -f img mnt 2>err &&
	test_grep "not cleanly unmounted" err &&
	test_grep "run e2fsck" err &&
	! mountpoint -q mnt
'

test_expect_success 'a read-only mount is allowed, with a warning' '
	iomapfs_mount img mnt -o ro &&
	ls mnt >/dev/null &&
	test_grep "not cleanly unmounted; mounting read-only anyway" \
		"$TRASH/iomapfs-mnt.log" &&
	iomapfs_unmount mnt
'

test_expect_success 'after e2fsck -fy it mounts read-write again' '
	e2fsck -fy img >fsck.out 2>&1; rc=$? &&
	test "$rc" -le 1 || { cat fsck.out; false; } &&
	iomapfs_mount img mnt &&
	echo again >mnt/g && test_eq again "$(cat mnt/g)" &&
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_done
