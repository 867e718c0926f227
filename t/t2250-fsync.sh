#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2250: fsync reaches the image.  Files are written (allocating writes,
# overwrites, a truncate, an unwritten-extent conversion) and fsynced, then
# the daemon is killed with SIGKILL, so nothing after the fsync can help:
# once the journal is replayed (ext4), debugfs must find the data in the
# image and e2fsck must find it consistent.  The killed daemon's stale
# control socket is pruned.
test_description='fsync makes data and metadata durable'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

IMG=$TRASH/fsync.img
MNT=$TRASH/mnt
export IMG MNT

for kind in ext4 ext2; do
	export kind
	test_expect_success FUSE,E2FSPROGS,DATAIO,FALLOCATE "$kind: write, fsync, SIGKILL the daemon" '
		rm -rf model && mkdir model &&
		make_dirty_image "$IMG" 32M -t $kind -b 1024 &&
		iomapfs_mount "$IMG" "$MNT" &&
		dw f1 0 700K 1 && dw f1 100K 3000 2 &&
		dw f2 0 2M 3 && both truncate -s 1500000 f2 &&
		if [ $kind = ext4 ]; then
			fallocate -l 256K "$MNT/f3" && truncate -s 256K model/f3 &&
			dw f3 5000 20000 4
		else
			dw f3 5000 20000 4
		fi &&
		mkdir "$MNT/dir" model/dir && dw dir/f4 0 10K 5 &&
		for f in f1 f2 f3 dir/f4; do
			dd if=/dev/null of="$MNT/$f" conv=notrunc,fsync status=none || return 1
		done &&
		kill -KILL "$IOMAPFS_PID" &&
		test_expect_code 137 wait "$IOMAPFS_PID" &&
		{ fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"; } &&
		! grep -q " $MNT " /proc/mounts &&
		# nothing after SIGKILL removes the socket: prune it, ours only
		"$IOMAPCTL" list --prune "$MNT" >/dev/null &&
		test_eq "" "$("$IOMAPCTL" -rn list "$MNT")" "socket left for $MNT" &&
		image_replay "$IMG" &&
		fsck_clean "$IMG" &&
		dump_cmp "$IMG" /f1 model/f1 &&
		dump_cmp "$IMG" /f2 model/f2 &&
		dump_cmp "$IMG" /f3 model/f3 &&
		dump_cmp "$IMG" /dir/f4 model/dir/f4
	'
done

test_done
