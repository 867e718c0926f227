#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t9991-valgrind.sh - valgrind memcheck on the normal build: every C unit
# test, and the daemon itself across a mount with some file operations, an
# unmount and its exit.  Any invalid access, use of uninitialised memory or
# definite/indirect leak fails (memcheck's exit code 99 and a non-empty
# log).  Suppressions, if any, live in t/valgrind.supp, each with the reason
# it is a false positive of a library and not ours.  Skipped without
# valgrind, and for a sanitizer build (valgrind cannot run ASan binaries).
test_description='unit tests and a mount under valgrind memcheck'
. "$(dirname "$0")/test-lib.sh"

command -v valgrind >/dev/null || skip_all "valgrind is not installed"
if nm "$IOMAPFS" 2>/dev/null | grep -q __asan_init ||
	ldd "$IOMAPFS" 2>/dev/null | grep -q libasan; then
	skip_all "$IOMAPFS is built with sanitizers"
fi

SUPP=$SRC_DIR/t/valgrind.supp
VG="valgrind -q --error-exitcode=99 --leak-check=full"
VG="$VG --errors-for-leak-kinds=definite,indirect --suppressions=$SUPP"

units=$(cd "$UNIT_DIR" 2>/dev/null && ls test-* 2>/dev/null | grep -v "\.[cho]$")
test_expect_success 'the unit tests are built' '
	test -n "$units"
'

for u in $units; do
	args=
	# The cache's stress test at full length takes minutes under
	# valgrind; t3010 runs it --quick too.
	[ "$u" = test-cache ] && args=--quick
	test_expect_success "$u is clean under memcheck" "
		rc=0 &&
		{ $VG --log-file=$u.vg \"$UNIT_DIR/$u\" $args >$u.out 2>&1 ||
			rc=\$?; } &&
		cat $u.vg &&
		sed -n '/^not ok/p' $u.out &&
		test_eq 0 \$rc \"exit code of $u under valgrind\" &&
		test -f $u.vg && test_must_fail test -s $u.vg &&
		test_grep -q '^1\.\.[0-9][0-9]*\$' $u.out
	"
done

# The daemon under valgrind: iomapfs_mount runs "$IOMAPFS", so point it at
# a wrapper that execs valgrind (the pid stays the one iomapfs_mount sees).
cat >vg-iomapfs <<WRAP
#!/bin/sh
exec $VG --log-file="$TRASH/daemon.vg" "$IOMAPFS" "\$@"
WRAP
chmod +x vg-iomapfs

test_expect_success ROOT,E2FSPROGS,FUSE 'a mount: the daemon under memcheck' '
	make_image img 64M -t ext4 &&
	IOMAPFS=$TRASH/vg-iomapfs iomapfs_mount img mnt
'

test_expect_success ROOT,E2FSPROGS,FUSE 'file operations on the mount' '
	mkdir mnt/d &&
	head -c 300000 /dev/urandom >data &&
	cp data mnt/d/f &&
	cmp data mnt/d/f &&
	dd if=data of=mnt/d/f bs=4096 seek=100 conv=notrunc status=none &&
	echo tail >>mnt/d/f &&
	truncate -s 100000 mnt/d/f &&
	cmp -n 100000 data mnt/d/f &&
	ln -s f mnt/d/link && test_eq f "$(readlink mnt/d/link)" &&
	mv mnt/d/f mnt/d/g && test -f mnt/d/g && ! test -e mnt/d/f &&
	setfattr -n user.k -v v mnt/d/g &&
	test_eq v "$(getfattr --only-values -n user.k mnt/d/g)" "xattr" &&
	ls -lR mnt >/dev/null && stat mnt/d/g >/dev/null &&
	sync && rm mnt/d/g mnt/d/link && rmdir mnt/d
'

test_expect_success ROOT,E2FSPROGS,FUSE 'unmount: the daemon exits 0, memcheck clean' '
	rc=0 &&
	{ iomapfs_unmount mnt || rc=$?; } &&
	cat daemon.vg &&
	test_eq 0 "$rc" "unmount and exit code of iomapfs under valgrind" &&
	test -f daemon.vg && test_must_fail test -s daemon.vg &&
	fsck_clean img
'

test_done
