# SPDX-License-Identifier: GPL-2.0-or-later
test_description='errors=continue|remount-ro|panic on a corrupt directory; the error is recorded for e2fsck'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

mkdir -p src/bad src/good &&
for i in $(seq 5); do echo "$i" >"src/bad/f$i"; done

# corrupt_image IMG: an ext4 image whose directory /bad has a block of
# garbage (its checksum and structure both fail).
corrupt_image() {
	local blk
	make_image "$1" 32M -t ext4 -b 1024 -d src || return 1
	blk=$(debugfs -R "blocks /bad" "$1" 2>/dev/null | awk "{print \$1}")
	test -n "$blk" || return 1
	printf '\377%.0s' $(seq 1024) |
		dd of="$1" bs=1024 seek="$blk" conv=notrunc status=none
}

test_expect_success 'errors=continue: the corrupt directory gives EUCLEAN, the rest works' '
	corrupt_image img1 &&
	iomapfs_mount img1 mnt1 -o errors=continue &&
	test_must_fail ls mnt1/bad 2>err &&
	test_grep "Structure needs cleaning" err &&
	echo ok >mnt1/good/new &&
	test_eq ok "$(cat mnt1/good/new)" &&
	test_grep "inode [0-9]*:" "$TRASH/iomapfs-mnt1.log" &&
	iomapfs_unmount mnt1 &&
	dumpe2fs -h img1 2>/dev/null | test_grep "state:.*with errors" &&
	dumpe2fs -h img1 2>/dev/null | test_grep "^FS Error count: *[1-9]" &&
	test_expect_code 8 timeout 60 "$IOMAPFS" -f img1 mnt1 2>err &&
	test_grep "run e2fsck" err
'

test_expect_success 'errors=remount-ro: after the error every change gives EROFS' '
	corrupt_image img2 &&
	iomapfs_mount img2 mnt2 -o errors=remount-ro &&
	echo before >mnt2/good/before &&
	test_must_fail ls mnt2/bad 2>err &&
	test_grep "Structure needs cleaning" err &&
	test_must_fail touch mnt2/good/after 2>err &&
	test_grep "Read-only file system" err &&
	test_eq before "$(cat mnt2/good/before)" &&
	test_grep "now read-only" "$TRASH/iomapfs-mnt2.log" &&
	iomapfs_unmount mnt2 &&
	dumpe2fs -h img2 2>/dev/null | test_grep "state:.*with errors" &&
	test_eq before "$(debugfs -R "cat /good/before" img2 2>/dev/null)"
'

test_expect_success 'errors=panic: the daemon stops at the error, which is recorded' '
	corrupt_image img3 &&
	iomapfs_mount img3 mnt3 -o errors=panic &&
	test_must_fail ls mnt3/bad &&
	for i in $(seq 100); do
		kill -0 "$IOMAPFS_PID" 2>/dev/null || break; sleep 0.05
	done &&
	! kill -0 "$IOMAPFS_PID" 2>/dev/null &&
	test_grep "errors=panic" "$TRASH/iomapfs-mnt3.log" &&
	fusermount3 -u -z mnt3 &&
	dumpe2fs -h img3 2>/dev/null | test_grep "state:.*with errors"
'

test_done
