#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1080-shutdown.sh - FS_IOC_SHUTDOWN (iomapfs(8), SHUTDOWN) with ext4's
# three modes, driven as crash tests drive it (xfs_io -x -c shutdown):
# after it every request fails with EIO, a second shutdown succeeds, the
# unmount works and writes nothing, and a new mount serves what was made
# durable (with the journal: replays what committed, and needs no
# e2fsck); only CAP_SYS_ADMIN may do it.
test_description='the shutdown ioctl: three modes, EIO, unmount, remount'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"
command -v xfs_io >/dev/null || skip_all "needs xfs_io (xfsprogs)"
FSATTR=$HELPER_DIR/fsattr
[ -x "$FSATTR" ] || skip_all "t/helper/fsattr is not built"
[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	setpriv --bounding-set=-sys_admin true 2>/dev/null &&
	test_set_prereq SETPRIV

# state IMG: the filesystem state dumpe2fs shows.
state() {
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^Filesystem state: *//p"
}

# mounts_count IMG
mounts_count() {
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^Mount count: *//p"
}

test_expect_success SETPRIV 'only CAP_SYS_ADMIN may shut down' '
	make_image cap.img 32M -t ext4 &&
	iomapfs_mount cap.img mnt &&
	test_must_fail setpriv --bounding-set=-sys_admin xfs_io -x -c shutdown mnt 2>err &&
	test_grep "Operation not permitted" err &&
	echo still >mnt/f &&
	test_eq still "$(cat mnt/f)" "the filesystem after a refused shutdown" &&
	iomapfs_unmount mnt &&
	test_eq clean "$(state cap.img)" "state" &&
	fsck_clean cap.img
'

test_expect_success 'a mode ext4 does not know is EINVAL' '
	make_image inval.img 32M -t ext4 &&
	iomapfs_mount inval.img mnt &&
	test_eq EINVAL "$("$FSATTR" shutdown mnt 3)" "mode 3" &&
	touch mnt/alive &&
	iomapfs_unmount mnt &&
	fsck_clean inval.img
'

# needs_recovery IMG: the superblock asks for the journal's replay.
needs_recovery() {
	dumpe2fs -h "$1" 2>/dev/null | grep -q "^Filesystem features:.*needs_recovery" || {
		echo "needs_recovery is not set on $1:"
		dumpe2fs -h "$1" 2>/dev/null | grep "^Filesystem features:"
		return 1
	}
}

# Without a journal (ext2) the default mode flushes everything in place
# first: the image is consistent although not marked clean, and holds even
# what was never fsynced.
test_expect_success 'default, ext2: everything flushed, then EIO everywhere' '
	make_image def.img 32M -t ext2 &&
	iomapfs_mount def.img mnt &&
	echo synced >mnt/synced &&
	sync mnt/synced &&
	mkdir mnt/d &&
	echo late >mnt/d/late &&
	exec 7>>mnt/d/late &&
	test_eq OK "$("$FSATTR" shutdown mnt 0)" "shutdown" &&
	test_must_fail cat mnt/synced 2>err &&
	test_grep "Input/output error" err &&
	test_must_fail touch mnt/new 2>err &&
	test_grep "Input/output error" err &&
	test_must_fail ls mnt/d 2>err &&
	test_grep "Input/output error" err &&
	! echo more >&7 2>err &&
	test_grep "Input/output error" err &&
	exec 7>&- &&
	test_eq OK "$("$FSATTR" shutdown mnt 0)" "a second shutdown" &&
	iomapfs_unmount mnt &&
	test_eq "not clean" "$(state def.img)" "state after the unmount" &&
	fsck_clean def.img &&
	test_expect_code 8 timeout 60 "$IOMAPFS" -f def.img mnt 2>err &&
	test_grep "not cleanly unmounted" err &&
	iomapfs_mount def.img mnt -o ro &&
	test_eq synced "$(cat mnt/synced)" "fsynced file" &&
	test_eq late "$(cat mnt/d/late)" "file never fsynced" &&
	iomapfs_unmount mnt
'

# With the journal (ext4) the default mode commits: the log holds
# everything, the unmount writes nothing (needs_recovery stays set), a
# read-only mount replays in memory, a read-write one to the disk, and
# then e2fsck finds nothing, with no repair.
test_expect_success 'default, ext4: committed, then EIO; the next mount replays' '
	make_image jdef.img 32M -t ext4 &&
	iomapfs_mount jdef.img mnt &&
	echo synced >mnt/synced &&
	sync mnt/synced &&
	mkdir mnt/d &&
	echo late >mnt/d/late &&
	test_eq OK "$("$FSATTR" shutdown mnt 0)" "shutdown" &&
	test_must_fail touch mnt/new 2>err &&
	test_grep "Input/output error" err &&
	iomapfs_unmount mnt &&
	needs_recovery jdef.img &&
	iomapfs_mount jdef.img mnt -o ro &&
	test_eq late "$(cat mnt/d/late)" "file never fsynced, read-only" &&
	iomapfs_unmount mnt &&
	needs_recovery jdef.img &&
	iomapfs_mount jdef.img mnt &&
	test_eq synced "$(cat mnt/synced)" "fsynced file" &&
	test_eq late "$(cat mnt/d/late)" "file never fsynced" &&
	iomapfs_unmount mnt &&
	fsck_clean jdef.img
'

# LOGFLUSH commits the running transaction of the journal, as on ext4:
# what was never fsynced is in the log, and the next mount replays it.
test_expect_success 'xfs_io shutdown -f (LOGFLUSH): the journal committed, then stopped' '
	make_image log.img 32M -t ext4 &&
	iomapfs_mount log.img mnt -o commit=600 &&
	for i in 1 2 3 4 5; do echo "file $i" >mnt/f$i || return 1; done &&
	xfs_io -x -c "shutdown -f" mnt &&
	test_must_fail stat mnt/f6 2>err &&
	test_grep "Input/output error" err &&
	xfs_io -x -c "shutdown -f" mnt &&
	iomapfs_unmount mnt &&
	needs_recovery log.img &&
	iomapfs_mount log.img mnt &&
	for i in 1 2 3 4 5; do
		test_eq "file $i" "$(cat mnt/f$i)" "f$i" || return 1
	done &&
	iomapfs_unmount mnt &&
	fsck_clean log.img
'

# NOLOGFLUSH stops at once: the unmount writes nothing (the mount count
# and the superblock stay as the mount left them), what an fsync made
# durable is there after the replay, and no e2fsck is needed.
test_expect_success 'xfs_io shutdown (NOLOGFLUSH): stopped at once, replayed' '
	make_image now.img 32M -t ext4 &&
	iomapfs_mount now.img mnt -o commit=600 &&
	echo kept >mnt/kept &&
	sync mnt/kept &&
	count=$(mounts_count now.img) &&
	for i in $(seq 1 20); do echo "x $i" >mnt/x$i || return 1; done &&
	xfs_io -x -c shutdown mnt &&
	test_must_fail cat mnt/kept 2>err &&
	test_grep "Input/output error" err &&
	iomapfs_unmount mnt &&
	needs_recovery now.img &&
	test_eq "$count" "$(mounts_count now.img)" "mount count" &&
	iomapfs_mount now.img mnt -o ro &&
	test_eq kept "$(cat mnt/kept)" "the fsynced file, read-only" &&
	iomapfs_unmount mnt &&
	iomapfs_mount now.img mnt &&
	test_eq kept "$(cat mnt/kept)" "the fsynced file after the replay" &&
	! test -e mnt/x20 &&
	iomapfs_unmount mnt &&
	fsck_clean now.img
'

test_done
