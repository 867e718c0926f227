#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1070-mount-options.sh - ext4's mount options (iomapfs(8), EXT4 MOUNT
# OPTIONS): every option that ext4(5) and the kernel's ext4 admin guide
# document is taken, honoured, accepted without effect or refused with a
# message naming it, as the page says; and each honoured one does what it
# does on ext4: the atime policy (relatime by default, strictatime,
# noatime, nodiratime, lazytime, O_NOATIME), acl/noacl, user_xattr,
# barrier/nobarrier (counted at a loop device), grpid, minixdf, nouid32,
# sb= and journal_checksum.  The lists below are written from the ext4
# documents, not from the code.
test_description='ext4 mount options: honoured, accepted or refused'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"
command -v mandoc >/dev/null && test_set_prereq MANDOC

# wait_until CMD: CMD (shell code) succeeds within 10 s.
wait_until() {
	local i
	for i in $(seq 1 100); do
		eval "$1" && return 0
		sleep 0.1
	done
	echo "not within 10 s: $1"
	return 1
}

# Honoured, or accepted without effect (iomapfs(8) says which).
ACCEPTED="relatime norelatime strictatime nostrictatime noatime atime
nodiratime diratime lazytime nolazytime acl noacl user_xattr nouser_xattr
barrier barrier=0 barrier=1 nobarrier discard nodiscard data=ordered data=writeback grpid
bsdgroups nogrpid sysvgroups bsddf minixdf nouid32
errors=continue journal_checksum nojournal_checksum abort nombcache
no_mbcache noiversion dax=never data_err=ignore delalloc nodelalloc
auto_da_alloc auto_da_alloc=0 noauto_da_alloc dioread_lock dioread_nolock
nodioread_nolock stripe=16 mb_optimize_scan=1 no_prefetch_block_bitmaps
block_validity noblock_validity inode_readahead_blks=64 init_itable
init_itable=10 noinit_itable max_batch_time=15000 min_batch_time=0
journal_ioprio=3 warn_on_error nowarn_on_error inlinecrypt quota noquota
usrquota grpquota"
# Removed from ext4, which ignores them with a message.
REMOVED="oldalloc orlov bh nobh mblk_io_submit nomblk_io_submit i_version
prefetch_block_bitmaps check=none nocheck reservation noreservation"
# What iomapfs cannot honour.
REFUSED="data=journal data_err=abort dax dax=always dax=inode
journal_async_commit journal_dev=2049 journal_path=/dev/null resuid=0
resgid=0 max_dir_size_kb=64 prjquota usrjquota=aquota.user
grpjquota=aquota.group jqfmt=vfsv1 test_dummy_encryption
test_dummy_encryption=v2 debug_want_extra_isize=32 iversion"
# Known options with values ext4 refuses too.
BAD_VALUES="inode_readahead_blks=3 journal_ioprio=8 barrier=x
mb_optimize_scan=2 data=bogus dax=sometimes stripe=-1 sb=0 sb=x
data_err=maybe"

# try_mount OPT...: run iomapfs -f with the options, expecting it to
# refuse before mounting; its stderr is in try.err, its status printed.
try_mount() {
	local IFS=,
	mkdir -p trymnt &&
	timeout 20 "$IOMAPFS" -f -o "$*" img trymnt >try.out 2>try.err
	echo $?
}

# atime FILE: the access time in seconds.nanoseconds.
atime() {
	stat -c %.9X "$1"
}

# set_old_atime FILE: an access time two hours old and older than the
# modification time, so that relatime updates it at the next read.
set_old_atime() {
	touch -a -d "@$(($(date +%s) - 7200))" "$1"
}

test_expect_success 'make an image' '
	make_image img 64M -t ext4
'

test_expect_success 'every option of ext4 is taken at once' '
	iomapfs_mount img mnt -o "$(echo $ACCEPTED | tr " " ,)" &&
	echo data >mnt/f &&
	test_eq data "$(cat mnt/f)" "a file on the mount" &&
	iomapfs_unmount mnt &&
	! grep "unknown option" iomapfs-mnt.log &&
	fsck_clean img
'

# ext4(5) documents commit=nrsec: the journal's commit interval (t6130
# checks that it drives the commits); a value that is no number of
# seconds is refused with its name.
test_expect_success 'commit=N, as ext4 takes it' '
	iomapfs_mount img mnt -o commit=5 &&
	iomapfs_unmount mnt &&
	test_eq 2 "$(try_mount commit=x)" "exit status of commit=x" &&
	test_grep "commit=x" try.err
'

test_expect_success 'norecovery and its alias noload: read-only mounts only' '
	for o in norecovery noload; do
		rc=$(try_mount "$o") &&
		test_eq 2 "$rc" "exit code of -o $o (read-write)" &&
		test_grep -- "-o norecovery needs -o ro" try.err &&
		iomapfs_mount img mnt -o "ro,$o" &&
		test -f mnt/f &&
		iomapfs_unmount mnt || return 1
	done
'

test_expect_success 'options removed from ext4 are ignored, with a message' '
	iomapfs_mount img mnt -o "$(echo $REMOVED | tr " " ,)" &&
	iomapfs_unmount mnt &&
	for o in $REMOVED; do
		test_grep "ignoring removed option .$o., as ext4 does" \
			iomapfs-mnt.log || return 1
	done
'

test_expect_success 'what iomapfs cannot honour is refused, naming the option' '
	for o in $REFUSED; do
		test_eq 2 "$(try_mount "$o")" "exit status with $o" &&
		test_grep "option .$o. is refused: ..*" try.err &&
		! mountpoint -q trymnt || return 1
	done &&
	fsck_clean img
'

test_expect_success 'a value ext4 would refuse is refused, naming the option' '
	for o in $BAD_VALUES; do
		test_eq 2 "$(try_mount "$o")" "exit status with $o" &&
		test_grep "bad value in .$o.: want " try.err || return 1
	done
'

test_expect_success MANDOC 'iomapfs(8) names every option' '
	MANWIDTH=200 mandoc -Tascii "$SRC_DIR/man/iomapfs.8" | col -bx >man.txt &&
	for o in $ACCEPTED $REMOVED $REFUSED sb= norecovery noload; do
		name=${o%%=*} &&
		case $o in *=*) name=$name= ;; esac &&
		grep -q -- "$name" man.txt || {
			echo "iomapfs(8) does not name the option $name"
			return 1
		}
	done
'

test_expect_success 'relatime is the default, shown in the mount table' '
	iomapfs_mount img mnt &&
	grep " $TRASH/mnt fuse" /proc/mounts >mounts &&
	test_grep ",relatime," mounts &&
	echo x >mnt/r &&
	set_old_atime mnt/r &&
	sleep 0.02 &&
	a0=$(atime mnt/r) &&
	cat mnt/r >/dev/null &&
	a1=$(atime mnt/r) &&
	test "${a1%.*}" -gt "${a0%.*}" &&
	cat mnt/r >/dev/null &&
	test_eq "$a1" "$(atime mnt/r)" "atime after a second read" &&
	sleep 1.1 &&
	echo more >>mnt/r &&
	cat mnt/r >/dev/null &&
	a2=$(atime mnt/r) &&
	m2=$(stat -c %.9Y mnt/r) &&
	{ test "$(echo "$a1" | tr -d .)" -lt "$(echo "$a2" | tr -d .)" ||
		{ echo "expected the atime to move at the read after the append, got $a1 then $a2"; false; }; } &&
	{ test "$(echo "$m2" | tr -d .)" -le "$(echo "$a2" | tr -d .)" ||
		{ echo "expected an atime no older than the mtime $m2 (one clock tick may give both), got $a2"; false; }; } &&
	ls mnt >/dev/null &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /r" img 2>/dev/null >st &&
	test_grep "atime: $(printf "0x%08x" "${a2%.*}"):" st
'

test_expect_success 'relatime: an access time a day old is updated' '
	iomapfs_mount img mnt &&
	echo y >mnt/day &&
	touch -a -d "@$(($(date +%s) + 3600))" mnt/day &&
	a0=$(atime mnt/day) &&
	cat mnt/day >/dev/null &&
	test_eq "$a0" "$(atime mnt/day)" "a future atime stays" &&
	touch -a -d "@$(($(date +%s) - 90000))" mnt/day &&
	touch -m -d "@$(($(date +%s) - 100000))" mnt/day &&
	a1=$(atime mnt/day) &&
	cat mnt/day >/dev/null &&
	test "$(atime mnt/day | cut -d. -f1)" -gt "${a1%.*}" &&
	iomapfs_unmount mnt
'

test_expect_success 'O_NOATIME reads leave the access time' '
	iomapfs_mount img mnt &&
	set_old_atime mnt/r &&
	a0=$(atime mnt/r) &&
	python3 -c "import os; fd = os.open(\"mnt/r\", os.O_RDONLY | os.O_NOATIME); os.read(fd, 10); os.close(fd)" &&
	test_eq "$a0" "$(atime mnt/r)" "atime after an O_NOATIME read" &&
	cat mnt/r >/dev/null &&
	test "$(atime mnt/r | cut -d. -f1)" -gt "${a0%.*}" &&
	iomapfs_unmount mnt
'

test_expect_success 'strictatime: every read updates it; the table says so' '
	iomapfs_mount img mnt -o strictatime &&
	wait_until "grep -q \" $TRASH/mnt fuse.*,nodev,user_id\" /proc/mounts" &&
	grep " $TRASH/mnt fuse" /proc/mounts >mounts &&
	! grep "relatime\\|noatime" mounts &&
	echo z >mnt/s &&
	cat mnt/s >/dev/null &&
	a0=$(atime mnt/s) &&
	sleep 0.05 &&
	cat mnt/s >/dev/null &&
	a1=$(atime mnt/s) &&
	test "$(echo "$a1" | tr -d .)" -gt "$(echo "$a0" | tr -d .)" &&
	iomapfs_unmount mnt
'

test_expect_success 'noatime: reads never update it' '
	iomapfs_mount img mnt -o noatime &&
	grep " $TRASH/mnt fuse" /proc/mounts >mounts &&
	test_grep ",noatime," mounts &&
	set_old_atime mnt/s &&
	a0=$(atime mnt/s) &&
	cat mnt/s >/dev/null &&
	ls mnt >/dev/null &&
	test_eq "$a0" "$(atime mnt/s)" "atime after a read" &&
	iomapfs_unmount mnt
'

test_expect_success 'nodiratime: listings leave directories alone, not files' '
	iomapfs_mount img mnt -o nodiratime &&
	wait_until "grep -q \" $TRASH/mnt fuse.*nodiratime\" /proc/mounts" &&
	mkdir -p mnt/d &&
	echo f >mnt/d/f &&
	set_old_atime mnt/d &&
	set_old_atime mnt/d/f &&
	d0=$(atime mnt/d) &&
	f0=$(atime mnt/d/f) &&
	ls mnt/d >/dev/null &&
	cat mnt/d/f >/dev/null &&
	test_eq "$d0" "$(atime mnt/d)" "directory atime" &&
	test "$(atime mnt/d/f | cut -d. -f1)" -gt "${f0%.*}" &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt &&
	set_old_atime mnt/d &&
	d0=$(atime mnt/d) &&
	ls mnt/d >/dev/null &&
	test "$(atime mnt/d | cut -d. -f1)" -gt "${d0%.*}" &&
	iomapfs_unmount mnt
'

# lazytime: the new access time is in stat but not on disk, until the
# inode is written anyway, forgotten by the kernel, or unmounted.  These two
# read the inode's home block with debugfs while mounted, so they mount
# with journal=off: the journal would hold the write in its log until a
# checkpoint (what the journal makes durable and when is t61xx's).
test_expect_success 'lazytime: the access time waits in memory' '
	iomapfs_mount img mnt -o lazytime,journal=off &&
	echo l >mnt/lazy &&
	echo l >mnt/lazy2 &&
	set_old_atime mnt/lazy &&
	set_old_atime mnt/lazy2 &&
	old=$(atime mnt/lazy) &&
	cat mnt/lazy mnt/lazy2 >/dev/null &&
	new=$(atime mnt/lazy) &&
	test "${new%.*}" -gt "${old%.*}" &&
	debugfs -R "stat /lazy" img 2>/dev/null >st0 &&
	test_grep "atime: $(printf "0x%08x" "${old%.*}"):" st0 &&
	chmod 600 mnt/lazy2 &&
	debugfs -R "stat /lazy2" img 2>/dev/null >st1 &&
	test_grep "atime: $(printf "0x%08x" "${new%.*}"):" st1 &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /lazy" img 2>/dev/null >st2 &&
	test_grep "atime: $(printf "0x%08x" "${new%.*}"):" st2
'

test_expect_success 'lazytime: an inode the kernel forgets is written' '
	iomapfs_mount img mnt -o lazytime,journal=off &&
	set_old_atime mnt/lazy &&
	old=$(atime mnt/lazy) &&
	cat mnt/lazy >/dev/null &&
	new=$(atime mnt/lazy) &&
	test "${new%.*}" -gt "${old%.*}" &&
	echo 2 >/proc/sys/vm/drop_caches &&
	wait_until "debugfs -R \"stat /lazy\" img 2>/dev/null |
		grep -q \"atime: $(printf "0x%08x" "${new%.*}"):\"" &&
	iomapfs_unmount mnt
'

test_expect_success ACL 'noacl: no ACL is enforced, inherited or stored' '
	iomapfs_mount img mnt &&
	mkdir mnt/acl &&
	setfacl -d -m u:1234:rwx mnt/acl &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt -o noacl &&
	(umask 022 && touch mnt/acl/f) &&
	test_eq 644 "$(stat -c %a mnt/acl/f)" "mode under a default ACL" &&
	test_must_fail setfacl -m u:1234:r mnt/acl/f 2>err &&
	test_grep "Operation not supported" err &&
	expect_sys ENOTSUP getxattr mnt/acl system.posix_acl_default &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt &&
	getfacl -p mnt/acl 2>/dev/null | test_grep "default:user:1234:rwx" &&
	iomapfs_unmount mnt
'

test_expect_success ATTR 'nouser_xattr: no user.* attributes' '
	iomapfs_mount img mnt &&
	setfattr -n user.kept -v 1 mnt/f &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt -o nouser_xattr &&
	expect_sys ENOTSUP setxattr mnt/f user.new v &&
	expect_sys ENOTSUP getxattr mnt/f user.kept &&
	expect_sys OK setxattr mnt/f trusted.t v &&
	getfattr -d -m - mnt/f >attrs 2>&1 &&
	test_grep "trusted.t" attrs &&
	! grep "user.kept" attrs &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt &&
	expect_sys OK getxattr mnt/f user.kept &&
	iomapfs_unmount mnt
'

test_expect_success 'grpid: new inodes take the group of their directory' '
	iomapfs_mount img mnt -o grpid &&
	mkdir mnt/g &&
	chgrp 4321 mnt/g &&
	touch mnt/g/f &&
	mkdir mnt/g/d &&
	test_eq 4321 "$(stat -c %g mnt/g/f)" "group of a new file" &&
	test_eq 4321 "$(stat -c %g mnt/g/d)" "group of a new directory" &&
	test_eq 755 "$(stat -c %a mnt/g/d)" "no set-group-ID bit" &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt &&
	touch mnt/g/f2 &&
	test_eq 0 "$(stat -c %g mnt/g/f2)" "group without grpid" &&
	iomapfs_unmount mnt
'

test_expect_success 'minixdf counts every block, bsddf not the metadata' '
	iomapfs_mount img mnt &&
	bsd=$(stat -f -c %b mnt) &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt -o minixdf &&
	minix=$(stat -f -c %b mnt) &&
	frsize=$(stat -f -c %S mnt) &&
	iomapfs_unmount mnt &&
	test_eq $((64 << 20)) "$((minix * frsize))" "minixdf total" &&
	test "$bsd" -lt "$minix"
'

test_expect_success 'nouid32: owners are 16 bits on disk' '
	iomapfs_mount img mnt -o nouid32 &&
	touch mnt/u &&
	chown 70000:70001 mnt/u &&
	test_eq 65534:65534 "$(stat -c %u:%g mnt/u)" "owner through the mount" &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /u" img 2>/dev/null >st &&
	test_grep "User: *65534 *Group: *65534" st &&
	iomapfs_mount img mnt &&
	chown 70000 mnt/u &&
	test_eq 70000 "$(stat -c %u mnt/u)" "owner without nouid32" &&
	iomapfs_unmount mnt
'

test_expect_success 'sb=: a damaged primary superblock, read from a backup' '
	make_image sb.img 64M -t ext4 -b 1024 &&
	iomapfs_mount sb.img sbmnt &&
	echo kept >sbmnt/k &&
	iomapfs_unmount sbmnt &&
	dd if=/dev/zero of=sb.img bs=1024 seek=1 count=1 conv=notrunc status=none &&
	test_expect_code 5 timeout 60 "$IOMAPFS" -f sb.img sbmnt 2>err &&
	test_eq 2 "$(timeout 20 "$IOMAPFS" -f -o sb=8193 sb.img sbmnt \
		2>err; echo $?)" "exit status of a read-write sb=" &&
	test_grep "option .sb=8193. is refused on a read-write mount" err &&
	iomapfs_mount sb.img sbmnt -o ro,sb=8193 &&
	test_eq kept "$(cat sbmnt/k)" "a file read through the backup" &&
	iomapfs_unmount sbmnt
'

test_expect_success 'journal_checksum: refused without metadata_csum' '
	make_image nocsum.img 32M -t ext4 -O ^metadata_csum &&
	test_eq 2 "$(timeout 20 "$IOMAPFS" -f -o journal_checksum nocsum.img \
		trymnt 2>err; echo $?)" "exit status" &&
	test_grep "option .journal_checksum. is refused: .* has no metadata_csum" err
'

# flushes DEV: the flush requests block device DEV (loopN) completed.
flushes() {
	awk "{ print \$16 }" "/sys/block/$1/stat"
}

test_expect_success ROOT 'barrier: fsync flushes the device; nobarrier not' '
	make_image loop.img 64M -t ext4 &&
	dev=$(losetup -f --show loop.img) &&
	test_when_finished "losetup -d $dev" &&
	name=${dev#/dev/} &&
	test -n "$(flushes "$name")" &&
	iomapfs_mount "$dev" lmnt &&
	f0=$(flushes "$name") &&
	dd if=/dev/zero of=lmnt/f bs=64k count=4 conv=fsync status=none &&
	f1=$(flushes "$name") &&
	test "$f1" -gt "$f0" &&
	iomapfs_unmount lmnt &&
	iomapfs_mount "$dev" lmnt -o nobarrier &&
	f0=$(flushes "$name") &&
	dd if=/dev/zero of=lmnt/g bs=64k count=4 conv=fsync status=none &&
	sync lmnt/g &&
	f1=$(flushes "$name") &&
	test_eq "$f0" "$f1" "flushes of fsync with nobarrier" &&
	iomapfs_unmount lmnt &&
	fsck_clean "$dev"
'

# An fstab line written for ext4, through mount(8) and mount.fuse3, in a
# private mount namespace whose /usr/local/sbin holds this build's
# iomapfs (mount(8) gives its helpers a PATH of its own), as t1060 does
# for iomapfs's own options.
if test_have_prereq ROOT && command -v mount.fuse3 >/dev/null &&
	[ -d /usr/local/sbin ] &&
	unshare -m --propagation private true 2>/dev/null; then
	test_set_prereq FSTAB
fi

test_expect_success FSTAB 'an ext4 fstab line: mount -a, mount MOUNTPOINT, mount -t' '
	make_image fstab.img 64M -t ext4 &&
	mkdir -p bin fmnt &&
	ln -sf "$IOMAPFS" bin/iomapfs &&
	opts=defaults,relatime,nodiratime,acl,user_xattr,data=ordered,barrier=1 &&
	opts=$opts,errors=remount-ro,discard,lazytime,grpid,noauto_da_alloc &&
	printf "%s %s fuse.iomapfs %s,ctl_socket=%s 0 2\n" "$TRASH/fstab.img" \
		"$TRASH/fmnt" "$opts" "$TRASH/f.sock" >fstab &&
	cat >ns.sh <<-EOF &&
	mount --bind "$TRASH/bin" /usr/local/sbin || exit 1
	mount -a -T "$TRASH/fstab" || exit 1
	grep " $TRASH/fmnt " /proc/mounts >mounts
	echo written >"$TRASH/fmnt/f"
	umount "$TRASH/fmnt" || exit 1
	mount -T "$TRASH/fstab" "$TRASH/fmnt" || exit 1
	grep " $TRASH/fmnt " /proc/mounts >mounts2
	cat "$TRASH/fmnt/f" >read-back
	umount "$TRASH/fmnt" || exit 1
	mount -t fuse.iomapfs -o data=journal "$TRASH/fstab.img" "$TRASH/fmnt" 2>refused
	echo "\$?" >refused.rc
	EOF
	timeout 60 unshare -m --propagation private bash ns.sh >ns.out 2>&1 ||
		{ cat ns.out; false; } &&
	test_grep "^$TRASH/fstab.img $TRASH/fmnt fuse.iomapfs rw,.*nodiratime,relatime," mounts &&
	test_cmp mounts mounts2 &&
	test_eq written "$(cat read-back)" "/f through the second mount" &&
	test_grep "option .data=journal. is refused" refused &&
	test "$(cat refused.rc)" -ne 0 &&
	wait_until "! pgrep -f \"iomapfs $TRASH/fstab.img\" >/dev/null" &&
	fsck_clean fstab.img &&
	test_eq written "$(debugfs -R "cat /f" fstab.img 2>/dev/null)" "/f on disk"
'

test_done
