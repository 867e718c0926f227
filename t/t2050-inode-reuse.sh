#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2050-inode-reuse.sh - an inode number freed while the kernel still holds
# the old inode (a process sits in the removed directory, or holds the
# removed file open) comes back for a new file or directory.  The new one
# must get a new generation, so the kernel tells the two apart: mkdir and
# create succeed, and the directory blocks' checksums (seeded with the
# generation under metadata_csum) stay valid.
test_description='inode numbers reused while the kernel holds the old inode'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

test_expect_success 'mount a metadata_csum ext4 image' '
	make_image img 32M -t ext4 -O metadata_csum &&
	iomapfs_mount img mnt
'

# generation INO: the inode's generation as the image holds it.  With the
# journal the inode sits in the log until a checkpoint: the fsync
# of the root directory (where the tests make their inodes) commits, and
# a replayed copy shows it.
generation() {
	sync mnt &&
	image_replayed img gen.img &&
	debugfs -R "stat <$1>" gen.img 2>/dev/null |
		sed -n "s/.*Generation: *\([0-9]*\).*/\1/p"
}

test_expect_success 'a directory reuses the number of a removed one still in use' '
	mkdir mnt/old &&
	old=$(stat -c %i mnt/old) &&
	oldgen=$(generation $old) && test -n "$oldgen" &&
	{ (cd mnt/old && exec sleep 600) & } &&
	holder=$! &&
	test_when_finished "kill $holder 2>/dev/null; wait $holder 2>/dev/null" &&
	test_wait_for 10 "test_eq \"$TRASH/mnt/old\" \"\$(readlink /proc/$holder/cwd)\" \"cwd of the holder\"" &&
	rmdir mnt/old &&
	test_eq "$TRASH/mnt/old (deleted)" "$(readlink /proc/$holder/cwd)" \
		"cwd of the holder after rmdir" &&
	mkdir mnt/new &&
	new=$(stat -c %i mnt/new) &&
	test_eq "$old" "$new" "reused inode number" &&
	newgen=$(generation $new) &&
	{ test "$newgen" != "$oldgen" ||
		{ echo "expected a new generation, got $newgen again" && false; }; } &&
	echo x >mnt/new/file &&
	test_eq x "$(cat mnt/new/file)" &&
	ls mnt/new >listing &&
	test_grep "^file\$" listing &&
	kill -0 $holder &&
	test_eq "$TRASH/mnt/old (deleted)" "$(readlink /proc/$holder/cwd)" \
		"cwd of the holder at the end"
'

test_expect_success 'a removed file keeps its number while open; after the last close it comes back' '
	echo one >mnt/f1 &&
	old=$(stat -c %i mnt/f1) &&
	oldgen=$(generation $old) && test -n "$oldgen" &&
	exec 7<mnt/f1 &&
	test_when_finished "exec 7<&-" &&
	rm mnt/f1 &&
	echo two >mnt/f2 &&
	f2=$(stat -c %i mnt/f2) &&
	{ test "$f2" != "$old" ||
		{ echo "expected a new number for f2 while f1 is open" && false; }; } &&
	test_eq "$old" "$(stat -L -c %i /proc/$$/fd/7)" "inode of the open file" &&
	test_eq one "$(cat <&7)" "data of the open removed file" &&
	free=$(stat -f -c %d mnt) &&
	exec 7<&- &&
	# the kernel sends RELEASE after close() has returned
	test_wait_for 10 "test_eq $((free + 1)) \"\$(stat -f -c %d mnt)\" \"free inodes\"" &&
	echo three >mnt/f3 &&
	test_eq "$old" "$(stat -c %i mnt/f3)" "reused inode number" &&
	newgen=$(generation $old) &&
	{ test "$newgen" != "$oldgen" ||
		{ echo "expected a new generation, got $newgen again" && false; }; } &&
	test_eq three "$(cat mnt/f3)" &&
	test_eq two "$(cat mnt/f2)" &&
	mkdir mnt/d2 && test -d mnt/d2
'

test_expect_success 'unmount; e2fsck finds the checksums good' '
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_done
