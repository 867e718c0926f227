#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2230: a completed O_DIRECT write is never hidden by older pages that the
# kernel caches for the file's other descriptors, as on ext4.  diomix
# (t/helper/diomix.c) overwrites random block ranges through an O_DIRECT
# descriptor, synchronously and with Linux AIO, while buffered and mmap
# readers check every block against the newest write that had completed
# before their read began.  Each run is seeded (replay one with
# "diomix -s SEED ..."); each is bounded by a number of writes and by time.
# Before the fix, the AIO runs saw stale blocks within a second.
test_description='coherence of O_DIRECT writes with buffered and mmap readers'
. "$(dirname "$0")/test-lib.sh"

DIOMIX=$HELPER_DIR/diomix
[ -x "$DIOMIX" ] && test_set_prereq DIOMIX
IMG=$TRASH/dio.img
MNT=$TRASH/mnt

# diomix_run NAME ARGS...: run diomix on $MNT/NAME; show its report when it
# fails.
diomix_run() {
	local name=$1
	shift
	"$DIOMIX" "$@" "$MNT/$name" >"$name.out" 2>&1 || {
		echo "diomix $* $MNT/$name failed:"
		cat "$name.out"
		return 1
	}
	cat "$name.out"
}

test_expect_success FUSE,E2FSPROGS,DIOMIX 'mount' '
	make_image "$IMG" 64M -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT"
'

test_expect_success FUSE,E2FSPROGS,DIOMIX 'AIO and sync direct writes; buffered and mmap readers' '
	diomix_run mix -s 1 -n 30000 -t 8 -w mix -q 8 -r 3 -m 1
'

test_expect_success FUSE,E2FSPROGS,DIOMIX 'AIO direct writes; readers reopen the file (at times no buffered opener)' '
	diomix_run reopen -s 2 -n 30000 -t 6 -w aio -q 16 -r 2 -m 1 -o 3
'

test_expect_success FUSE,E2FSPROGS,DIOMIX 'sync direct writes; mmap readers' '
	diomix_run mmap -s 3 -n 20000 -t 5 -w sync -r 0 -m 3
'

test_expect_success FUSE,E2FSPROGS,DIOMIX 'unmount; e2fsck clean' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
