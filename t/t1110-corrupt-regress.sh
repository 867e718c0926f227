#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1110-corrupt-regress.sh - the bugs that t1100's corrupted images found,
# each as a small image broken on purpose with debugfs, so that they stay
# fixed without the random generator.
test_description='corrupted images: regressions found by t1100'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

mkdir -p src/d && echo data >src/d/f

# refused IMG [-o ro]: the daemon must refuse IMG (exit 8, "run e2fsck")
# and leave no mount; before the fix it mounted a filesystem whose every
# request failed, even the stat of the mountpoint.
refused() {
	local img=$1 rc
	shift
	mkdir -p mnt &&
	timeout 20 "$IOMAPFS" -f "$@" -o ctl_socket="$TRASH/ctl.sock" \
		"$img" mnt 2>err
	rc=$?
	if grep -q " $(realpath mnt) fuse" /proc/mounts; then
		fusermount3 -u -z mnt
		echo "$img was mounted"
		return 1
	fi
	cat err &&
	test_eq 8 "$rc" "exit code" &&
	test_grep "run e2fsck" err
}

test_expect_success 'an inode table outside its group: refused' '
	make_image bad-gdt.img 8M -t ext4 -b 1024 -O ^metadata_csum -d src &&
	debugfs -w -R "set_bg 0 inode_table 100000" bad-gdt.img &&
	refused bad-gdt.img &&
	test_grep "corrupt group descriptors" err &&
	refused bad-gdt.img -o ro &&
	test_grep "corrupt group descriptors" err
'

test_expect_success 'a root inode that is no directory: refused' '
	make_image bad-root.img 8M -t ext2 -b 1024 -d src &&
	debugfs -w -R "sif <2> mode 0100644" bad-root.img &&
	refused bad-root.img &&
	test_grep "corrupt root inode" err &&
	refused bad-root.img -o ro
'

test_done
