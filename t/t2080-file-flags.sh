#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2080-file-flags.sh - chattr and lsattr on iomapfs (iomapfs(8), FILE
# ATTRIBUTES): FS_IOC_GETFLAGS/SETFLAGS and FS_IOC_FSGETXATTR/FSSETXATTR
# through the FUSE ioctl operation, the flags stored in i_flags as ext4
# stores them (the kernel's ext4 reads them from the unmounted image, and
# iomapfs obeys flags the kernel set), and enforced as ext4 enforces them.
# The expected outputs in t2080/ were made by the same scripts on the
# kernel's ext4; when the machine can loop-mount ext4, the test runs them
# there again, so that the files stay the kernel's word.
test_description='inode flags: chattr, lsattr, immutable, append-only'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE,E2FSPROGS,PYTHON3 || skip_all "needs FUSE, e2fsprogs, python3"
command -v chattr >/dev/null && command -v lsattr >/dev/null ||
	skip_all "needs chattr and lsattr (e2fsprogs)"
FSATTR=$HELPER_DIR/fsattr
[ -x "$FSATTR" ] || skip_all "t/helper/fsattr is not built"
T2080=$T_DIR/t2080

# A descriptor opened before chattr +i or +a must see EPERM at its next
# write(2): ext4's promise, which -o nowriteback_cache keeps.  With the
# write-back cache the kernel, which does not know the flags, takes such a
# write into its pages and the daemon refuses it at write-back (iomapfs(8)):
# the tests of such descriptors mount without it.  New opens of a flagged
# file are in direct-I/O mode either way.
# The scripts run as root with CAP_LINUX_IMMUTABLE (chattr +i and +a
# succeed) and without CAP_SYS_RESOURCE (chattr +j fails as it does for
# most callers): setpriv takes the latter out of the bounding set.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	setpriv --bounding-set=-sys_resource true 2>/dev/null &&
	grep -q "^CapEff:.*" /proc/self/status &&
	[ $((0x$(sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status) >> 9 & 1)) = 1 ]; then
	test_set_prereq CAPS
fi
# A loop-mounted ext4 to compare with.
if [ "$(id -u)" -eq 0 ] && command -v losetup >/dev/null; then
	truncate -s 64M ext4.img && mke2fs -q -F -t ext4 ext4.img &&
	mkdir ext4mnt && mount -o loop ext4.img ext4mnt 2>/dev/null &&
	umount ext4mnt && test_set_prereq KERNEL_EXT4
fi

# as_caller CMD...: CMD without CAP_SYS_RESOURCE.
as_caller() {
	setpriv --bounding-set=-sys_resource "$@"
}

test_expect_success 'make an image' '
	make_image img 64M -t ext4
'

test_expect_success CAPS 'flags allowed and refused, bit by bit, as ext4' '
	iomapfs_mount img mnt &&
	mkdir mnt/pr &&
	as_caller sh "$T2080/probe" "$FSATTR" mnt/pr >probe.out 2>&1 &&
	iomapfs_unmount mnt &&
	test_cmp "$T2080/probe.expect" probe.out
'

test_expect_success CAPS,KERNEL_EXT4 'the kernel ext4 still answers probe.expect' '
	mount -o loop ext4.img ext4mnt &&
	test_when_finished "umount ext4mnt" &&
	rm -rf ext4mnt/pr && mkdir ext4mnt/pr &&
	as_caller sh "$T2080/probe" "$FSATTR" ext4mnt/pr >probe-ext4.out 2>&1 &&
	test_cmp "$T2080/probe.expect" probe-ext4.out
'

test_expect_success CAPS 'immutable and append-only, operation by operation, as ext4' '
	iomapfs_mount img mnt -o nowriteback_cache &&
	mkdir mnt/ops &&
	as_caller python3 "$T2080/flagops.py" mnt/ops >flagops.out 2>&1 &&
	iomapfs_unmount mnt &&
	test_cmp "$T2080/flagops.expect" flagops.out &&
	fsck_clean img
'

test_expect_success CAPS,KERNEL_EXT4 'the kernel ext4 still answers flagops.expect' '
	mount -o loop ext4.img ext4mnt &&
	test_when_finished "umount ext4mnt" &&
	rm -rf ext4mnt/ops && mkdir ext4mnt/ops &&
	as_caller python3 "$T2080/flagops.py" ext4mnt/ops >flagops-ext4.out 2>&1 &&
	test_cmp "$T2080/flagops.expect" flagops-ext4.out
'

# capimm.sh FSATTR DIR: what a caller without CAP_LINUX_IMMUTABLE may do
# with the flags of DIR/f (a plain file) and DIR/frozen (immutable,
# append-only and nodump, set by a caller with the capability): one line
# each, OK or the errno name.  Run on iomapfs and, when it can, on the
# kernel's ext4, whose answers the expected lines are.  The kernel's VFS
# makes this check itself, against the flags the daemon's GETFLAGS
# reports, before it asks the daemon; t2081 tests the daemon's own.
cat >capimm.sh <<'EOF'
fsattr=$1 d=$2
nocap() { setpriv --bounding-set=-linux_immutable "$@"; }
echo "set immutable: $(nocap "$fsattr" set "$d/f" 0x00080010)"
echo "set append-only: $(nocap "$fsattr" set "$d/f" 0x00080020)"
echo "xset immutable: $(nocap "$fsattr" xset "$d/f" 0x8 0)"
echo "xset append-only: $(nocap "$fsattr" xset "$d/f" 0x10 0)"
echo "set nodump: $(nocap "$fsattr" set "$d/f" 0x00080040)"
echo "clear nodump: $(nocap "$fsattr" set "$d/f" 0x00080000)"
echo "clear immutable: $(nocap "$fsattr" set "$d/frozen" 0x00080060)"
echo "clear append-only: $(nocap "$fsattr" set "$d/frozen" 0x00080050)"
echo "clear both: $(nocap "$fsattr" set "$d/frozen" 0x00080000)"
echo "frozen keeps: $("$fsattr" get "$d/frozen")"
echo "with the capability: $("$fsattr" set "$d/frozen" 0x00080000)"
EOF
cat >capimm.expect <<'EOF'
set immutable: EPERM
set append-only: EPERM
xset immutable: EPERM
xset append-only: EPERM
set nodump: OK
clear nodump: OK
clear immutable: EPERM
clear append-only: EPERM
clear both: EPERM
frozen keeps: 0x00080070
with the capability: OK
EOF

# capimm_on DIR OUT: capimm.sh on a fresh DIR of a mounted filesystem.
capimm_on() {
	rm -rf "$1" && mkdir "$1" && touch "$1/f" "$1/frozen" &&
	"$FSATTR" set "$1/frozen" 0x00080070 >/dev/null &&
	as_caller sh capimm.sh "$FSATTR" "$1" >"$2" 2>&1
}

test_expect_success CAPS 'without CAP_LINUX_IMMUTABLE: immutable and append-only stay as they are' '
	iomapfs_mount img mnt &&
	capimm_on mnt/cap capimm.out &&
	iomapfs_unmount mnt &&
	test_cmp capimm.expect capimm.out &&
	debugfs -R "stat /cap/f" img 2>/dev/null | test_grep "Flags: 0x80000$"
'

test_expect_success CAPS,KERNEL_EXT4 'the kernel ext4 answers the same without CAP_LINUX_IMMUTABLE' '
	mount -o loop ext4.img ext4mnt &&
	test_when_finished "umount ext4mnt" &&
	capimm_on ext4mnt/cap capimm-ext4.out &&
	test_cmp capimm.expect capimm-ext4.out
'

test_expect_success 'lsattr and chattr, and the flags in i_flags on disk' '
	iomapfs_mount img mnt &&
	touch mnt/f &&
	mkdir mnt/d &&
	chattr +dA mnt/f &&
	chattr +i mnt/d &&
	lsattr mnt/f >l1 &&
	test_grep "^------dA------e------- mnt/f$" l1 &&
	lsattr -d mnt/d >l2 &&
	test_grep "^----i---------e------- mnt/d$" l2 &&
	xfs_io -c lsattr mnt/f >l3 &&
	test_grep "^-----Ad---------- mnt/f" l3 &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /f" img 2>/dev/null | test_grep "Flags: 0x800c0$" &&
	debugfs -R "stat /d" img 2>/dev/null | test_grep "Flags: 0x80010$"
'

test_expect_success KERNEL_EXT4 'the kernel reads the flags iomapfs wrote, and back' '
	mount -o loop img ext4mnt &&
	lsattr ext4mnt/f >k1 &&
	lsattr -d ext4mnt/d >k2 &&
	test_must_fail touch ext4mnt/d/new 2>/dev/null &&
	chattr -i ext4mnt/d &&
	chattr +a ext4mnt/f &&
	umount ext4mnt &&
	test_grep "^------dA------e------- ext4mnt/f$" k1 &&
	test_grep "^----i---------e------- ext4mnt/d$" k2 &&
	iomapfs_mount img mnt &&
	lsattr mnt/f >l4 &&
	test_grep "^-----adA------e------- mnt/f$" l4 &&
	expect_sys EPERM open mnt/f w &&
	expect_sys EPERM unlink mnt/f &&
	touch mnt/d/new &&
	chattr -a mnt/f &&
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_expect_success 'the noatime flag: reads leave the access time' '
	iomapfs_mount img mnt &&
	echo a >mnt/na &&
	chattr +A mnt/na &&
	touch -a -d "@$(($(date +%s) - 7200))" mnt/na &&
	a0=$(stat -c %X mnt/na) &&
	cat mnt/na >/dev/null &&
	test_eq "$a0" "$(stat -c %X mnt/na)" "atime with +A" &&
	chattr -A mnt/na &&
	cat mnt/na >/dev/null &&
	test "$(stat -c %X mnt/na)" -gt "$a0" &&
	iomapfs_unmount mnt
'

test_expect_success 'append-only: a descriptor opened before writes only at the end' '
	iomapfs_mount img mnt -o nowriteback_cache &&
	echo 0123456789 >mnt/ap &&
	python3 - mnt/ap >ap.out <<-\EOF &&
	import errno, os, subprocess, sys
	fd = os.open(sys.argv[1], os.O_WRONLY)
	subprocess.run(["chattr", "+a", sys.argv[1]], check=True)
	for off in (0, 11):
	    try:
	        os.pwrite(fd, b"X", off)
	        print(off, "OK")
	    except OSError as e:
	        print(off, errno.errorcode[e.errno])
	EOF
	printf "0 EPERM\n11 OK\n" >ap.expect &&
	test_cmp ap.expect ap.out &&
	chattr -a mnt/ap &&
	iomapfs_unmount mnt
'

# SETFLAGS takes the inode's I/O lock: once chattr +i has returned, no
# write lands, not even one that was under way.
test_expect_success 'no write lands after chattr +i returns' '
	iomapfs_mount img mnt -o nowriteback_cache &&
	: >mnt/busy &&
	python3 - mnt/busy >race.out <<-\EOF &&
	import errno, os, subprocess, sys, threading
	path = sys.argv[1]
	stop = threading.Event()
	fd = os.open(path, os.O_WRONLY | os.O_APPEND)
	def writer():
	    while not stop.is_set():
	        try:
	            os.write(fd, b"x" * 4096)
	        except OSError as e:
	            print("writer", errno.errorcode[e.errno])
	            break
	t = threading.Thread(target=writer)
	t.start()
	subprocess.run(["chattr", "+i", path], check=True)
	size = os.stat(path).st_size
	t.join()
	os.close(fd)
	print("grew after +i:", os.stat(path).st_size - size)
	EOF
	printf "writer EPERM\ngrew after +i: 0\n" >race.expect &&
	test_cmp race.expect race.out &&
	chattr -i mnt/busy &&
	iomapfs_unmount mnt
'

test_expect_success 'data journalling is refused, even with the capability' '
	iomapfs_mount img mnt -o fakeroot &&
	touch mnt/j &&
	test_eq EOPNOTSUPP "$("$FSATTR" set mnt/j 0x00084000)" "chattr +j" &&
	iomapfs_unmount mnt
'

test_expect_success 'chattr -e and +e: a small file changes its block map' '
	iomapfs_mount img mnt &&
	head -c 4000 /dev/urandom >mnt/small &&
	sum0=$(md5sum <mnt/small) &&
	chattr -e mnt/small &&
	lsattr mnt/small | test_grep "^---------------------- mnt/small$" &&
	test_eq "$sum0" "$(md5sum <mnt/small)" "data after -e" &&
	head -c 200000 /dev/urandom >mnt/big &&
	test_must_fail chattr -e mnt/big 2>err &&
	test_grep "Operation not supported" err &&
	chattr +e mnt/small &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /small" img 2>/dev/null | test_grep "Flags: 0x80000$" &&
	fsck_clean img &&
	iomapfs_mount img mnt &&
	test_eq "$sum0" "$(md5sum <mnt/small)" "data after +e" &&
	iomapfs_unmount mnt
'

test_expect_success 'project ids, where the filesystem has the project feature' '
	make_image prj.img 64M -t ext4 -O project -I 256 &&
	iomapfs_mount prj.img pmnt &&
	mkdir pmnt/d &&
	touch pmnt/f &&
	test_eq OK "$("$FSATTR" xset pmnt/f 0 42)" "set project 42" &&
	test_eq OK "$("$FSATTR" xset pmnt/d 0x200 7)" "set project 7, inherit" &&
	touch pmnt/d/new &&
	mkdir pmnt/d/sub &&
	"$FSATTR" xget pmnt/f >x1 &&
	"$FSATTR" xget pmnt/d/new >x2 &&
	"$FSATTR" xget pmnt/d/sub >x3 &&
	chattr +i pmnt/f &&
	test_eq EPERM "$("$FSATTR" xset pmnt/f 0x8 43)" "immutable keeps its project" &&
	chattr -i pmnt/f &&
	iomapfs_unmount pmnt &&
	test_grep "^xflags 0x0 projid 42 " x1 &&
	test_grep "^xflags 0x0 projid 7 " x2 &&
	test_grep "^xflags 0x200 projid 7 " x3 &&
	debugfs -R "stat /d/new" prj.img 2>/dev/null | test_grep "Project: *7 " &&
	fsck_clean prj.img &&
	iomapfs_mount img mnt &&
	test_eq EOPNOTSUPP "$("$FSATTR" xset mnt/f 0 5)" "project without the feature" &&
	iomapfs_unmount mnt
'

test_expect_success 'lsattr -v: the generation debugfs shows' '
	iomapfs_mount img mnt &&
	gen=$("$FSATTR" version mnt/f) &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /f" img 2>/dev/null | test_grep "Generation: $gen "
'

test_expect_success 'read-only: the flags read, a change is EROFS' '
	iomapfs_mount img mnt -o ro &&
	lsattr mnt/f | test_grep "dA" &&
	test_eq EROFS "$("$FSATTR" set mnt/f 0x00080000)" "chattr on ro" &&
	iomapfs_unmount mnt
'

test_done
