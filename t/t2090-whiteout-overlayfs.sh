#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2090-whiteout-overlayfs.sh - renameat2(RENAME_WHITEOUT) leaves a
# whiteout (a character device 0:0) at the old name in the same step as
# the rename, as ext4 does; and the kernel's overlayfs takes an iomapfs
# directory as its upper layer: files removed, renamed and created
# through the overlay, the overlay mounted again, the merged view, the
# whiteouts and the trusted.overlay.* attributes in the upper layer
# checked, with the default options, with -o allow_other,
# default_permissions and with -o fakeroot (no default_permissions).
test_description='RENAME_WHITEOUT, and overlayfs with an iomapfs upper layer'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE,E2FSPROGS,PYTHON3 || skip_all "needs FUSE, e2fsprogs, python3"

# rename2 OLD NEW FLAGS...: renameat2 with whiteout, noreplace, exchange;
# prints OK or the errno name.
rename2() {
	python3 - "$@" <<-\EOF
	import ctypes, errno, sys
	libc = ctypes.CDLL(None, use_errno=True)
	names = {"noreplace": 1, "exchange": 2, "whiteout": 4}
	flags = 0
	for f in sys.argv[3:]:
	    flags |= names[f]
	if libc.renameat2(-100, sys.argv[1].encode(), -100,
	                  sys.argv[2].encode(), flags):
	    print(errno.errorcode[ctypes.get_errno()])
	else:
	    print("OK")
	EOF
}

# is_whiteout PATH: a character device 0:0.
is_whiteout() {
	test "$(stat -c %F:%t:%T "$1")" = "character special file:0:0" || {
		echo "$1 is no whiteout: $(stat -c "%F %t:%T" "$1")"
		return 1
	}
}

# free_inodes DIR: statfs's free inodes.
free_inodes() {
	stat -f -c %d "$1"
}

test_expect_success 'make an image' '
	make_image img 64M -t ext4
'

test_expect_success 'RENAME_WHITEOUT: the data moves, a whiteout stays' '
	iomapfs_mount img mnt &&
	mkdir mnt/w mnt/w2 &&
	echo one >mnt/w/a &&
	test_eq OK "$(rename2 mnt/w/a mnt/w/b whiteout)" "rename" &&
	is_whiteout mnt/w/a &&
	test_eq one "$(cat mnt/w/b)" "moved data" &&
	echo two >mnt/w/c &&
	echo old >mnt/w2/c &&
	test_eq OK "$(rename2 mnt/w/c mnt/w2/c whiteout)" "over a name elsewhere" &&
	is_whiteout mnt/w/c &&
	test_eq two "$(cat mnt/w2/c)" "replaced data" &&
	mkdir mnt/w/d &&
	test_eq OK "$(rename2 mnt/w/d mnt/w2/d whiteout)" "a directory" &&
	is_whiteout mnt/w/d &&
	test -d mnt/w2/d &&
	test_eq 2 "$(stat -c %h mnt/w)" "links of the source directory" &&
	iomapfs_unmount mnt &&
	debugfs -R "ls -l /w" img 2>/dev/null >ls.out &&
	test_grep " 20000 (3) .* a$" ls.out &&
	fsck_clean img
'

test_expect_success 'RENAME_WHITEOUT: refusals leave no whiteout behind' '
	iomapfs_mount img mnt &&
	echo x >mnt/w/e &&
	mkdir -p mnt/w2/full &&
	touch mnt/w2/full/f &&
	mkdir mnt/w/edir &&
	before=$(free_inodes mnt) &&
	test_eq EINVAL "$(rename2 mnt/w/e mnt/w2/e whiteout exchange)" "with exchange" &&
	test_eq EEXIST "$(rename2 mnt/w/e mnt/w2/c whiteout noreplace)" "noreplace" &&
	test_eq ENOTEMPTY "$(rename2 mnt/w/edir mnt/w2/full whiteout)" "over a full dir" &&
	test_eq ENOENT "$(rename2 mnt/w/missing mnt/w2/x whiteout)" "no source" &&
	test_eq "$before" "$(free_inodes mnt)" "free inodes" &&
	test_eq x "$(cat mnt/w/e)" "the source" &&
	test -d mnt/w/edir &&
	test_eq OK "$(rename2 mnt/w/e mnt/w2/e2 whiteout noreplace)" "noreplace, new name" &&
	is_whiteout mnt/w/e &&
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_expect_success 'RENAME_WHITEOUT: no inode left for the whiteout, no rename' '
	make_image few.img 8M -t ext4 -N 64 &&
	iomapfs_mount few.img fmnt &&
	echo keep >fmnt/src &&
	i=0 &&
	while touch fmnt/fill$i 2>/dev/null; do i=$((i + 1)) || return 1; done &&
	test_eq ENOSPC "$(rename2 fmnt/src fmnt/dst whiteout)" "rename" &&
	test_eq keep "$(cat fmnt/src)" "the source" &&
	test ! -e fmnt/dst &&
	iomapfs_unmount fmnt &&
	fsck_clean few.img
'

# O_TMPFILE works with a libfuse that has the tmpfile operation (3.17
# and later, found by configure); without, the kernel answers EOPNOTSUPP.
if grep -q "^#define HAVE_STRUCT_FUSE_LOWLEVEL_OPS_TMPFILE 1" "$BUILD_DIR/config.h"; then
	test_set_prereq TMPFILE
fi

# tmpfile_try DIR: an O_TMPFILE in DIR written, linked as DIR/named and
# read back, and one closed unnamed; prints what happened.
tmpfile_try() {
	python3 - "$1" <<-\EOF
	import errno, os, sys
	d = sys.argv[1]
	try:
	    fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
	except OSError as e:
	    print("open", errno.errorcode[e.errno])
	    sys.exit(0)
	os.write(fd, b"anonymous")
	os.link("/proc/self/fd/%d" % fd, os.path.join(d, "named"))
	os.close(fd)
	print("named:", open(os.path.join(d, "named")).read())
	fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
	os.close(fd)
	print("unnamed closed")
	EOF
}

test_expect_success !TMPFILE 'O_TMPFILE without the libfuse operation: EOPNOTSUPP' '
	iomapfs_mount img mnt &&
	mkdir -p mnt/tmp &&
	test_eq "open ENOTSUP" "$(tmpfile_try mnt/tmp)" "O_TMPFILE" &&
	iomapfs_unmount mnt
'

test_expect_success TMPFILE 'O_TMPFILE: a file without a name, linked or freed' '
	iomapfs_mount img mnt &&
	mkdir -p mnt/tmp &&
	before=$(free_inodes mnt) &&
	tmpfile_try mnt/tmp >tmp.out &&
	printf "named: anonymous\nunnamed closed\n" >tmp.expect &&
	test_cmp tmp.expect tmp.out &&
	test_eq $((before - 1)) "$(free_inodes mnt)" "free inodes" &&
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_have_prereq ROOT && grep -qw overlay /proc/filesystems && test_set_prereq OVERLAY
command -v getfattr >/dev/null && test_set_prereq GETFATTR

# overlay_case NAME OPTS: an overlay whose upper layer is on an iomapfs
# mount with OPTS; changes through it, an unmount and a second mount, and
# what the upper layer holds.
overlay_case() {
	local name=$1 opts=$2
	make_image "$name.img" 64M -t ext4 &&
	iomapfs_mount "$name.img" "$name.up" $opts &&
	mkdir -p "$name.low/dir" "$name.up/upper" "$name.up/work" "$name.ov" &&
	echo l1 >"$name.low/a" &&
	echo l2 >"$name.low/b" &&
	echo l3 >"$name.low/dir/c" &&
	echo l4 >"$name.low/dir/d" &&
	mount -t overlay overlay -o "lowerdir=$name.low,upperdir=$name.up/upper,workdir=$name.up/work" "$name.ov" &&
	test_when_finished "umount $name.ov 2>/dev/null" &&
	rm "$name.ov/a" &&
	mv "$name.ov/b" "$name.ov/b2" &&
	echo new >"$name.ov/n" &&
	echo changed >>"$name.ov/dir/d" &&
	rm -r "$name.ov/dir" &&
	mkdir "$name.ov/dir" &&
	echo fresh >"$name.ov/dir/e" &&
	umount "$name.ov" &&
	mount -t overlay overlay -o "lowerdir=$name.low,upperdir=$name.up/upper,workdir=$name.up/work" "$name.ov" &&
	(cd "$name.ov" && find . | sort) >"$name.merged" &&
	printf ".\n./b2\n./dir\n./dir/e\n./n\n" >"$name.expect" &&
	test_cmp "$name.expect" "$name.merged" &&
	test_eq l2 "$(cat "$name.ov/b2")" "renamed file" &&
	test_eq fresh "$(cat "$name.ov/dir/e")" "new file in an opaque dir" &&
	umount "$name.ov" &&
	is_whiteout "$name.up/upper/a" &&
	is_whiteout "$name.up/upper/b" &&
	getfattr -n trusted.overlay.opaque --only-values "$name.up/upper/dir" >"$name.opaque" &&
	test_eq y "$(cat "$name.opaque")" "the opaque directory" &&
	getfattr -d -m "^trusted\.overlay\." "$name.up/upper/b2" >"$name.xattrs" &&
	test_grep "^trusted.overlay.origin=" "$name.xattrs" &&
	iomapfs_unmount "$name.up" &&
	fsck_clean "$name.img"
}

test_expect_success OVERLAY,GETFATTR 'overlayfs, upper layer on iomapfs (default options)' '
	overlay_case plain ""
'

test_expect_success OVERLAY,GETFATTR 'overlayfs with -o allow_other,default_permissions' '
	overlay_case other "-o allow_other,default_permissions"
'

test_expect_success OVERLAY,GETFATTR 'overlayfs with -o fakeroot (no default_permissions)' '
	overlay_case fake "-o fakeroot"
'

test_done
