#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6110-journal-mount.sh - what a read-write mount of a filesystem with a
# journal looks like on disk, and what each way of unmounting leaves: the
# filesystem stays clean and needs_recovery is set while mounted (the
# kernel's way); the journal gets the kernel's features (csum v3 with
# metadata_csum, none without, no async_commit or v1 checksum); fsync
# commits, and the commit lands in the log as descriptor, data and commit
# blocks; unmount, SIGTERM and fusermount3 -u leave an empty log and a
# clean filesystem; journal=off writes in place (and says so), ext2 has
# no journal; the bitmaps of the groups a commit writes are all the ones
# that changed (IOMAPFS_JOURNAL_CHECK compares every group at each commit).
test_description='a journalled mount on disk, and after each way of unmounting'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"

IMG=$TRASH/img
MNT=$TRASH/mnt

# jfeatures IMG: the journal's features, one line.
jfeatures() {
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^Journal features: *//p"
}

# log_empty IMG: the journal superblock says the log is empty.
log_empty() {
	debugfs -R logdump "$1" >logdump.out 2>&1 &&
	test_grep "^Journal starts at block 0, transaction " logdump.out &&
	! grep -q "Found expected sequence" logdump.out
}

# some_work DIR: a bit of everything.
some_work() {
	mkdir "$1/d" && echo hello >"$1/d/f" && ln "$1/d/f" "$1/l" &&
	ln -s d/f "$1/s" && setfattr -n user.a -v b "$1/d/f" &&
	dd if=/dev/urandom of="$1/big" bs=64k count=40 status=none &&
	truncate -s 100000 "$1/big" && mv "$1/l" "$1/l2" && rm "$1/s"
}

test_expect_success 'mounted: clean, needs_recovery, the kernel features' '
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" &&
	dumpe2fs -h "$IMG" 2>/dev/null >sb &&
	test_grep "^Filesystem state: *clean$" sb &&
	test_grep "^Filesystem features:.* needs_recovery" sb &&
	jfeatures "$IMG" >jf &&
	test_grep "journal_checksum_v3" jf &&
	test_grep "journal_incompat_revoke" jf &&
	test_grep "journal_64bit" jf &&
	! grep -q "journal_async_commit\|journal_checksum_v2\|journal_checksum\b" jf &&
	! grep -q "journal is not used" "$TRASH/iomapfs-mnt.log" &&
	iomapfs_unmount "$MNT"
'

test_expect_success 'fsync commits: the log holds descriptor, blocks and commit' '
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=60 &&
	echo x >"$MNT/f" && sync "$MNT/f" &&
	debugfs -R logdump "$IMG" >logdump.out 2>&1 &&
	test_grep "type 1 (descriptor block)" logdump.out &&
	test_grep "type 2 (commit block)" logdump.out &&
	image_replayed "$IMG" view &&
	test_eq x "$(debugfs -R "cat /f" view 2>/dev/null)" &&
	iomapfs_unmount "$MNT"
'

for how in fusermount SIGTERM; do
	test_expect_success "$how: the log is empty and the filesystem clean" "
		make_image \"\$IMG\" 64M -t ext4 &&
		iomapfs_mount \"\$IMG\" \"\$MNT\" &&
		some_work \"\$MNT\" &&
		if [ $how = SIGTERM ]; then
			kill -TERM \$IOMAPFS_PID &&
			for i in \$(seq 100); do
				kill -0 \$IOMAPFS_PID 2>/dev/null || break
				sleep 0.05
			done &&
			! kill -0 \$IOMAPFS_PID 2>/dev/null &&
			{ fusermount3 -u -z \"\$MNT\" 2>/dev/null || true; }
		else
			iomapfs_unmount \"\$MNT\"
		fi &&
		log_empty \"\$IMG\" &&
		dumpe2fs -h \"\$IMG\" 2>/dev/null >sb &&
		! grep -q needs_recovery sb &&
		test_grep \"^Filesystem state: *clean\$\" sb &&
		fsck_clean \"\$IMG\" &&
		test_eq hello \"\$(debugfs -R \"cat /l2\" \"\$IMG\" 2>/dev/null)\"
	"
done

test_expect_success 'without metadata_csum: no journal checksums' '
	make_image "$IMG" 64M -t ext4 -O ^metadata_csum &&
	iomapfs_mount "$IMG" "$MNT" &&
	some_work "$MNT" &&
	jfeatures "$IMG" >jf &&
	! grep -q checksum jf &&
	iomapfs_unmount "$MNT" && fsck_clean "$IMG" && log_empty "$IMG"
'

test_expect_success 'ext3 (block maps, no checksums): journalled too' '
	make_image "$IMG" 64M -t ext3 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=60 &&
	some_work "$MNT" && sync "$MNT/d/f" &&
	debugfs -R logdump "$IMG" 2>&1 | test_grep "commit block" &&
	iomapfs_unmount "$MNT" && fsck_clean "$IMG" && log_empty "$IMG"
'

test_expect_success 'journal=off: in place, not clean while mounted, said so' '
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o journal=off &&
	test_grep "journal=off: the journal is not used" "$TRASH/iomapfs-mnt.log" &&
	dumpe2fs -h "$IMG" 2>/dev/null >sb &&
	test_grep "^Filesystem state: *not clean" sb &&
	! grep -q needs_recovery sb &&
	echo inplace >"$MNT/f" && sync "$MNT/f" &&
	test_eq inplace "$(debugfs -R "cat /f" "$IMG" 2>/dev/null)" &&
	debugfs -R logdump "$IMG" 2>&1 | test_grep "Journal starts at block 0" &&
	iomapfs_unmount "$MNT" && fsck_clean "$IMG"
'

test_expect_success 'a bad journal= or commit= value is refused' '
	mkdir -p m &&
	test_expect_code 2 "$IOMAPFS" -f -o journal=maybe "$IMG" m 2>err &&
	test_grep "want on or off" err &&
	test_expect_code 2 "$IOMAPFS" -f -o commit=-1 "$IMG" m 2>err &&
	test_grep "number of seconds" err &&
	test_expect_code 2 "$IOMAPFS" -f -o journal_txn_max=1k "$IMG" m 2>err &&
	test_grep "at least" err &&
	test_expect_code 2 "$IOMAPFS" -f -o journal_cp_max=x "$IMG" m 2>err &&
	test_grep "want a SIZE" err
'

test_expect_success 'ext2: no journal, in place' '
	make_image "$IMG" 64M -t ext2 &&
	iomapfs_mount "$IMG" "$MNT" &&
	echo inplace >"$MNT/f" && sync "$MNT/f" &&
	test_eq inplace "$(debugfs -R "cat /f" "$IMG" 2>/dev/null)" &&
	iomapfs_unmount "$MNT" && fsck_clean "$IMG"
'

test_expect_success 'every commit writes the bitmaps of every group that changed' '
	make_image "$IMG" 256M -t ext4 -b 1024 &&
	IOMAPFS_JOURNAL_CHECK=1 IOMAPFS_JOURNAL_STATS=1 \
		iomapfs_mount "$IMG" "$MNT" -o commit=1 &&
	some_work "$MNT" &&
	for i in $(seq 1 30); do
		dd if=/dev/zero of="$MNT/g$i" bs=1M count=2 status=none &&
		rm -f "$MNT/g$((i - 3))" || return 1
	done &&
	sleep 1.5 && rm -rf "$MNT/d" && sync "$MNT/big" &&
	iomapfs_unmount "$MNT" &&
	test_grep "bitmap_misses=0 " "$TRASH/iomapfs-mnt.log" &&
	! grep -q "no dirty group named" "$TRASH/iomapfs-mnt.log" &&
	fsck_clean "$IMG"
'

test_done
