#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1110-corrupt-regress.sh - the bugs that t1100's corrupted images found,
# each as a small image broken on purpose with debugfs, so that they stay
# fixed without the random generator.
test_description='corrupted images: regressions found by t1100'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
command -v getfattr >/dev/null || skip_all "no getfattr (package attr)"

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

# inode_offset IMG PATH: the byte offset of PATH's inode record in IMG.
inode_offset() {
	debugfs -R "imap $2" "$1" 2>/dev/null |
		sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-f]*\)/\1 \2/p' |
		{ read -r blk off && echo $((blk * 1024 + off)); }
}

test_expect_success 'a bad xattr name length in the inode: EUCLEAN, not ERANGE' '
	mkdir -p src2 && echo hello >src2/a &&
	make_image xattr.img 8M -t ext4 -b 1024 -I 256 \
		-O inline_data,^metadata_csum -d src2 &&
	off=$(inode_offset xattr.img /a) &&
	test -n "$off" &&
	# The in-inode xattrs follow the 128-byte inode, its 32 extra bytes
	# and the 4-byte magic; the first entry starts with e_name_len.
	printf "\377" | dd of=xattr.img bs=1 seek=$((off + 164)) \
		conv=notrunc status=none &&
	iomapfs_mount xattr.img mnt-x -o ctl_socket="$TRASH/ctl-x.sock" &&
	test_must_fail cat mnt-x/a 2>err &&
	test_grep "Structure needs cleaning" err &&
	test_must_fail getfattr -d mnt-x/a 2>err &&
	test_grep "Structure needs cleaning" err &&
	iomapfs_unmount mnt-x
'

# Under the sanitizers, a leak makes the daemon exit 86 with a report.
grep -q '^SAN_CFLAGS = .*-fsanitize' "$BUILD_DIR/Makefile" 2>/dev/null &&
	test_set_prereq SANITIZED
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86

test_expect_success SANITIZED 'a directory still open when the daemon stops: no leak' '
	make_image leak.img 8M -t ext4 -d src &&
	iomapfs_mount leak.img mnt-l -o ctl_socket="$TRASH/ctl-l.sock" &&
	exec 3<mnt-l/d &&
	kill -TERM "$IOMAPFS_PID" &&
	{ wait "$IOMAPFS_PID"; rc=$?; } &&
	exec 3<&- &&
	{ fusermount3 -u -z mnt-l 2>/dev/null || :; } &&
	cat "$TRASH/iomapfs-mnt-l.log" &&
	test_eq 0 "$rc" "exit code" &&
	! grep -q LeakSanitizer "$TRASH/iomapfs-mnt-l.log"
'

test_done
