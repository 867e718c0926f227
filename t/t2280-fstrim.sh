#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2280-fstrim.sh - giving free space back (iomapfs(8), FSTRIM AND
# DISCARD): FITRIM discards the free blocks of the range it is given, in
# runs of its minimum length, as ext4 does; on an image file that punches
# holes, so fstrim shrinks a sparse image by what the filesystem does not
# use, and on a block device it is BLKDISCARD (a loop device punches its
# backing file).  -o discard does the same for each change's freed
# blocks, once the journal's transaction that freed them has committed.  A block in use is never discarded: every file's data stays,
# also while writers run beside fstrim, and e2fsck stays clean.
test_description='fstrim (FITRIM) and -o discard'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"
command -v fstrim >/dev/null || skip_all "needs fstrim (util-linux)"
FSATTR=$HELPER_DIR/fsattr
[ -x "$FSATTR" ] || skip_all "t/helper/fsattr is not built"

# allocated FILE: the bytes the host gives FILE.
allocated() {
	echo $(($(stat -c %b "$1") * 512))
}

# fill DIR N SIZE: files f1..fN of random bytes, their sums in DIR.sums.
fill() {
	local i
	for i in $(seq 1 "$2"); do
		head -c "$3" /dev/urandom >"$1/f$i" || return 1
	done &&
	(cd "$1" && md5sum f*) >"$1.sums"
}

# check DIR: every file still has its data.
check() {
	(cd "$1" && md5sum -c --quiet "../$(basename "$1").sums")
}

test_expect_success 'fstrim shrinks a sparse image by what is unused' '
	make_image img 128M -t ext4 -b 4096 &&
	iomapfs_mount img mnt &&
	mkdir mnt/keep mnt/gone &&
	fill mnt/keep 4 3000000 &&
	fill mnt/gone 6 4000000 &&
	sync mnt/keep/f1 &&
	before=$(allocated img) &&
	rm -r mnt/gone &&
	fstrim -v mnt >trim.out &&
	after=$(allocated img) &&
	trimmed=$(sed -n "s/.*(\([0-9]*\) bytes) trimmed.*/\1/p" trim.out) &&
	test "$trimmed" -gt 0 &&
	test $((before - after)) -ge $((6 * 4000000 - 1048576)) || {
		echo "allocated before $before, after $after"
		false
	} &&
	check mnt/keep &&
	iomapfs_unmount mnt &&
	fsck_clean img &&
	iomapfs_mount img mnt &&
	check mnt/keep &&
	iomapfs_unmount mnt
'

test_expect_success 'the range and the minimum length of FITRIM' '
	make_image r.img 64M -t ext4 -b 4096 &&
	iomapfs_mount r.img rmnt &&
	head -c 20000000 /dev/urandom >rmnt/big &&
	rm rmnt/big &&
	out=$("$FSATTR" trim rmnt 0 1048576 4096) &&
	test "${out%% *}" = OK &&
	test "${out#OK }" -le 1048576 &&
	test_eq "OK 0" "$("$FSATTR" trim rmnt 0 67108864 134217728)" "minlen of a whole group" &&
	test_eq EINVAL "$("$FSATTR" trim rmnt 0 67108864 268435456)" "minlen past a group" &&
	test_eq EINVAL "$("$FSATTR" trim rmnt 68719476736 4096 0)" "start past the end" &&
	test_eq EINVAL "$("$FSATTR" trim rmnt 0 100 0)" "len under a block" &&
	out=$("$FSATTR" trim rmnt 0 18446744073709551615 0) &&
	test "${out#OK }" -gt 20000000 &&
	iomapfs_unmount rmnt &&
	fsck_clean r.img
'

test_expect_success 'no block in use is discarded, with writers running' '
	make_image w.img 128M -t ext4 -b 4096 &&
	iomapfs_mount w.img wmnt &&
	mkdir wmnt/w &&
	pids= &&
	for j in 1 2 3; do
		(for i in $(seq 1 30); do
			head -c 300000 /dev/urandom >"wmnt/w/t$j.$i.tmp" &&
			mv "wmnt/w/t$j.$i.tmp" "wmnt/w/t$j.$i" &&
			{ [ $((i % 3)) != 0 ] || rm "wmnt/w/t$j.$((i - 1))"; } ||
			exit 1
		done) &
		pids="$pids $!"
	done &&
	for k in 1 2 3 4 5 6; do fstrim wmnt || return 1; done &&
	for p in $pids; do wait "$p" || return 1; done &&
	(cd wmnt/w && md5sum t*) >w.sums &&
	fstrim wmnt &&
	iomapfs_unmount wmnt &&
	fsck_clean w.img &&
	iomapfs_mount w.img wmnt &&
	(cd wmnt/w && md5sum -c --quiet "$TRASH/w.sums") &&
	iomapfs_unmount wmnt
'

test_expect_success ROOT 'a block device: BLKDISCARD, the loop file shrinks' '
	make_image dev.img 128M -t ext4 -b 4096 &&
	dev=$(losetup -f --show dev.img) &&
	test_when_finished "losetup -d $dev" &&
	iomapfs_mount "$dev" dmnt &&
	mkdir dmnt/keep &&
	fill dmnt/keep 2 2000000 &&
	head -c 30000000 /dev/urandom >dmnt/gone &&
	sync dmnt/gone &&
	before=$(allocated dev.img) &&
	rm dmnt/gone &&
	fstrim dmnt &&
	after=$(allocated dev.img) &&
	test $((before - after)) -ge 28000000 || {
		echo "allocated before $before, after $after"
		false
	} &&
	check dmnt/keep &&
	iomapfs_unmount dmnt &&
	fsck_clean "$dev"
'

# With the journal, what a transaction frees is discarded when it
# commits, not before: a crash before the commit brings the freeing
# back out of existence, and the blocks must still hold what they held
# (R4 in daemon/journal.c).  commit=600 keeps the timer out of the way;
# the fsync of the directory commits.
test_expect_success '-o discard: freed blocks are discarded at the commit' '
	make_image d.img 128M -t ext4 -b 4096 &&
	iomapfs_mount d.img omnt -o discard,commit=600 &&
	mkdir omnt/keep &&
	fill omnt/keep 3 2000000 &&
	head -c 20000000 /dev/urandom >omnt/gone &&
	head -c 8000000 /dev/urandom >omnt/cut &&
	sync omnt/gone omnt/cut &&
	before=$(allocated d.img) &&
	rm omnt/gone &&
	truncate -s 1000000 omnt/cut &&
	ls omnt >/dev/null &&
	test_eq "$before" "$(allocated d.img)" \
		"allocated after rm and truncate, before the commit" &&
	sync omnt &&
	after=$(allocated d.img) &&
	test $((before - after)) -ge 26000000 || {
		echo "allocated before $before, after the commit $after"
		false
	} &&
	check omnt/keep &&
	test_eq 1000000 "$(stat -c %s omnt/cut)" "truncated size" &&
	iomapfs_unmount omnt &&
	fsck_clean d.img
'

test_expect_success ROOT '-o discard on a block device: BLKDISCARD as blocks are freed' '
	make_image od.img 128M -t ext4 -b 4096 &&
	dev=$(losetup -f --show od.img) &&
	test_when_finished "losetup -d $dev" &&
	iomapfs_mount "$dev" odmnt -o discard &&
	mkdir odmnt/keep &&
	fill odmnt/keep 2 2000000 &&
	head -c 30000000 /dev/urandom >odmnt/gone &&
	sync odmnt/gone &&
	before=$(allocated od.img) &&
	rm odmnt/gone &&
	# the fsync of the directory commits the deletion: its blocks go
	# (as on an image file, above)
	sync odmnt &&
	after=$(allocated od.img) &&
	test $((before - after)) -ge 28000000 || {
		echo "allocated before $before, after the commit $after"
		false
	} &&
	check odmnt/keep &&
	iomapfs_unmount odmnt &&
	fsck_clean "$dev"
'

test_expect_success 'without -o discard nothing is discarded until fstrim' '
	iomapfs_mount d.img omnt &&
	head -c 20000000 /dev/urandom >omnt/gone2 &&
	sync omnt/gone2 &&
	before=$(allocated d.img) &&
	rm omnt/gone2 &&
	ls omnt >/dev/null &&
	test_eq "$before" "$(allocated d.img)" "allocated after rm" &&
	iomapfs_unmount omnt
'

test_have_prereq ROOT && command -v setpriv >/dev/null &&
	setpriv --bounding-set=-sys_admin true 2>/dev/null && test_set_prereq SETPRIV

test_expect_success SETPRIV 'only CAP_SYS_ADMIN; not on a read-only mount' '
	iomapfs_mount d.img omnt &&
	test_must_fail setpriv --bounding-set=-sys_admin fstrim omnt 2>err &&
	test_grep "Operation not permitted" err &&
	iomapfs_unmount omnt &&
	iomapfs_mount d.img omnt -o ro &&
	test_eq EROFS "$("$FSATTR" trim omnt 0 134217728 0)" "FITRIM read-only" &&
	iomapfs_unmount omnt
'

test_done
