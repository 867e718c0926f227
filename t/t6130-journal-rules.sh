#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t6130-journal-rules.sh - the journal's ordering rules, each in the one
# scenario that breaks when the rule does (journal.c names them R1-R5):
#  - a freed directory's blocks, still logged, become file data: only the
#    revoke records keep every replay (kernel, e2fsck) off the data;
#  - a deleted file's blocks are not given to another file before the
#    deletion commits: killed before it does, the file is back, intact;
#  - a file open after its last unlink is on the orphan list: whoever
#    replays (kernel, e2fsck, and iomapfs's own mount after a replay that
#    leaves the list alone) frees it;
#  - commit= commits on its own, no sooner;
#  - fdatasync of a file whose metadata did not change (timestamps aside)
#    commits nothing;
#  - what fsync returned for is there after the kill.
# The first two fill the filesystem and count on every byte write(2)
# reported written reaching the file: -o nowriteback_cache, whose promise
# that is (with the write-back cache the error comes at write-back, and
# the pages that failed are dropped: t2265).
test_description='the ordering rules of the journal writer'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

test_have_prereq FUSE,E2FSPROGS,DATAIO || skip_all "needs FUSE, e2fsprogs, dataio"

# Each test has its own image and mountpoint (IMG, MNT): a failure leaves
# nothing in the way of the next.
K=$TRASH/kmnt
mkdir -p "$K"
truncate -s 8M probe.img && mke2fs -q -F -t ext4 probe.img &&
	mount -o loop,ro probe.img "$K" 2>/dev/null && umount "$K" &&
	test_set_prereq LOOP

# kill_daemon: SIGKILL the daemon and drop its mount (test-lib).
kill_daemon() {
	iomapfs_kill9 "$MNT"
}

# replay_kernel IMG: the kernel mounts IMG (replaying its journal) and
# unmounts it.
replay_kernel() {
	mount -t ext4 -o loop "$1" "$K" && umount "$K"
}

# stat_of NAME: a journal counter from the unmount's stats line.
stat_of() {
	sed -n "s/.*journal stats:.* $1=\([0-9]*\).*/\1/p" \
		"$TRASH/iomapfs-$(basename "$MNT").log"
}

test_expect_success 'revoke: freed metadata blocks reused as data survive every replay' '
	IMG=$TRASH/img.1 && MNT=$TRASH/mnt.1 &&
	make_dirty_image "$IMG" 8M -t ext4 -b 1024 -N 512 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=600,nowriteback_cache &&
	mkdir "$MNT/bigdir" &&
	for i in $(seq 1 200); do
		: >"$MNT/bigdir/a-rather-long-file-name-to-fill-directory-blocks-$i" || return 1
	done &&
	sync "$MNT/bigdir" &&
	image_replayed "$IMG" view.img &&
	blocks_of view.img /bigdir >dirblocks &&
	test "$(wc -l <dirblocks)" -ge 8 &&
	rm -rf "$MNT/bigdir" && sync "$MNT" &&
	"$DATAIO" fill "$MNT/fill" 77 8K >fill.out &&
	read -r filled why <fill.out &&
	test_eq ENOSPC "$why" "fill stopped by" &&
	sync "$MNT/fill" &&
	kill_daemon &&
	debugfs -R logdump "$IMG" >logdump.out 2>&1 &&
	test_grep "type 5 (revoke table)" logdump.out &&
	cp "$IMG" e.img && image_replay e.img && fsck_clean e.img &&
	fillino=$(debugfs -R "stat /fill" e.img 2>/dev/null |
		  sed -n "s/^Inode: \([0-9]*\).*/\1/p") &&
	for b in $(head -n 4 dirblocks); do
		owner=$(debugfs -R "icheck $b" e.img 2>/dev/null | awk "NR == 2 { print \$2 }") &&
		test_eq "$fillino" "$owner" "owner of block $b" || return 1
	done &&
	rm -f dump.out && debugfs -R "dump /fill dump.out" e.img >/dev/null 2>&1 &&
	"$DATAIO" check dump.out 0 "$filled" 77 &&
	if test_have_prereq LOOP; then
		cp "$IMG" k.img && replay_kernel k.img && fsck_clean k.img &&
		rm -f dump.out && debugfs -R "dump /fill dump.out" k.img >/dev/null 2>&1 &&
		"$DATAIO" check dump.out 0 "$filled" 77
	fi
'

test_expect_success 'a deleted file is not overwritten before its deletion commits' '
	IMG=$TRASH/img.2 && MNT=$TRASH/mnt.2 &&
	make_dirty_image "$IMG" 16M -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=600,nowriteback_cache &&
	"$DATAIO" write "$MNT/a" 0 2M 5 &&
	"$DATAIO" fill "$MNT/filler" 6 64K >/dev/null &&
	sync "$MNT/a" && sync "$MNT/filler" &&
	rm "$MNT/a" &&
	{ "$DATAIO" fill "$MNT/b" 7 64K >b.out || true; } &&
	kill_daemon &&
	image_replay "$IMG" && fsck_clean "$IMG" &&
	if debugfs -R "stat /a" "$IMG" 2>&1 | grep -q "File not found"; then
		echo "the deletion committed first (space ran short)"
	else
		rm -f a.dump && debugfs -R "dump /a a.dump" "$IMG" >/dev/null 2>&1 &&
		"$DATAIO" check a.dump 0 2M 5
	fi
'

test_expect_success 'the blocks of a deletion that did not commit stay out of reach' '
	IMG=$TRASH/img.3 && MNT=$TRASH/mnt.3 &&
	make_dirty_image "$IMG" 64M -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=600 &&
	"$DATAIO" write "$MNT/a" 0 4M 5 && sync "$MNT/a" &&
	rm "$MNT/a" &&
	"$DATAIO" write "$MNT/b" 0 4M 8 &&
	kill_daemon &&
	image_replay "$IMG" && fsck_clean "$IMG" &&
	rm -f a.dump && debugfs -R "dump /a a.dump" "$IMG" >/dev/null 2>&1 &&
	"$DATAIO" check a.dump 0 4M 5
'

test_expect_success 'a file open after its unlink: on the orphan list, freed by every replay' '
	IMG=$TRASH/img.4 && MNT=$TRASH/mnt.4 &&
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=600 &&
	"$DATAIO" write "$MNT/open" 0 3M 9 &&
	exec 8<"$MNT/open" &&
	rm "$MNT/open" && echo x >"$MNT/mark" && sync "$MNT/mark" &&
	kill_daemon && exec 8<&- &&
	cp "$IMG" j.img && debugfs -w -R journal_run j.img >/dev/null 2>&1 &&
	dumpe2fs -h j.img 2>/dev/null | test_grep "^First orphan inode:" &&
	cp "$IMG" e.img && image_replay e.img && fsck_clean e.img &&
	if test_have_prereq LOOP; then
		cp "$IMG" k.img && replay_kernel k.img && fsck_clean k.img
	fi &&
	iomapfs_mount j.img "$MNT" &&
	test_grep "orphan list: 1 inodes freed" \
		"$TRASH/iomapfs-$(basename "$MNT").log" &&
	test_eq x "$(cat "$MNT/mark")" &&
	iomapfs_unmount "$MNT" && fsck_clean j.img
'

test_expect_success 'commit=1 commits within a second or two, commit=600 does not' '
	IMG=$TRASH/img.5 && MNT=$TRASH/mnt.5 &&
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=1 &&
	echo soon >"$MNT/f" && sleep 2.5 &&
	kill_daemon &&
	image_replay "$IMG" && fsck_clean "$IMG" &&
	test_eq soon "$(debugfs -R "cat /f" "$IMG" 2>/dev/null)" &&
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=600 &&
	echo late >"$MNT/f" && sleep 2.5 &&
	kill_daemon &&
	image_replay "$IMG" && fsck_clean "$IMG" &&
	debugfs -R "stat /f" "$IMG" 2>&1 | test_grep "File not found"
'

# Five overwrites of a mapped block, each with fdatasync: only the first
# fsync (of the new file) and the last (of "busy", new) commit; the
# timestamps the overwrites leave do not.
test_expect_success 'fdatasync of a file the transaction did not touch commits nothing' '
	IMG=$TRASH/img.6 && MNT=$TRASH/mnt.6 &&
	make_image "$IMG" 64M -t ext4 &&
	IOMAPFS_JOURNAL_STATS=1 iomapfs_mount "$IMG" "$MNT" -o commit=600 &&
	"$DATAIO" write "$MNT/quiet" 0 1M 3 && sync "$MNT/quiet" &&
	echo busy >"$MNT/busy" &&
	for i in 1 2 3 4 5; do
		"$DATAIO" write "$MNT/quiet" 4096 4096 $i &&
		python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); os.fdatasync(fd)" "$MNT/quiet" ||
		return 1
	done &&
	sync "$MNT/busy" &&
	iomapfs_unmount "$MNT" &&
	test_eq 2 "$(stat_of commits_fsync)" "fsync commits" &&
	fsck_clean "$IMG"
'

test_expect_success 'fsync: the file and its data are there after the kill' '
	IMG=$TRASH/img.7 && MNT=$TRASH/mnt.7 &&
	make_image "$IMG" 64M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" -o commit=600 &&
	mkdir "$MNT/d" && "$DATAIO" write "$MNT/d/f" 0 700K 4 &&
	"$DATAIO" write "$MNT/d/f" 100K 3000 5 &&
	truncate -s 500000 "$MNT/d/f" &&
	cp "$MNT/d/f" model && sync "$MNT/d/f" &&
	kill_daemon &&
	image_replay "$IMG" && fsck_clean "$IMG" &&
	rm -f got && debugfs -R "dump /d/f got" "$IMG" >/dev/null 2>&1 &&
	cmp model got
'

test_done
