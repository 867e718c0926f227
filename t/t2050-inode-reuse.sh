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

test_expect_success 'a directory reuses the number of a removed one still in use' '
	mkdir mnt/old &&
	old=$(stat -c %i mnt/old) &&
	{ (cd mnt/old && exec sleep 3) & } &&
	holder=$! &&
	test_when_finished "kill $holder 2>/dev/null; wait $holder 2>/dev/null" &&
	sleep 0.3 &&
	rmdir mnt/old &&
	mkdir mnt/new &&
	new=$(stat -c %i mnt/new) &&
	test_eq "$old" "$new" "reused inode number" &&
	echo x >mnt/new/file &&
	test_eq x "$(cat mnt/new/file)" &&
	ls mnt/new >listing &&
	test_grep "^file\$" listing
'

test_expect_success 'a file reuses the number of a removed file still open' '
	echo one >mnt/f1 &&
	old=$(stat -c %i mnt/f1) &&
	exec 7<mnt/f1 &&
	rm mnt/f1 &&
	exec 7<&- &&
	echo two >mnt/f2 &&
	test_eq two "$(cat mnt/f2)" &&
	mkdir mnt/d2 && test -d mnt/d2
'

test_expect_success 'unmount; e2fsck finds the checksums good' '
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_done
