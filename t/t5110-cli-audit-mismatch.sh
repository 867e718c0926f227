#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5110-cli-audit-mismatch.sh - iomapctl(8): audit "exits 0 when the cache
# agrees with the disk and 4 when it does not", end to end on a real
# mount with a real mismatch.  The image is mounted read-only (the daemon
# writes nothing to it), a file is read so that its mapping is cached,
# then debugfs punches a hole in the file's middle behind the daemon's
# back.  The cache still says MAPPED there, the disk says HOLE: audit
# must say so, in its table and in JSON, and exit 4.  (libext2fs keeps a
# few inodes and blocks of its own: listing a directory of 300 files makes
# the daemon read other inodes, so that it reads /f's inode from the disk
# again when it audits.)
test_description='iomapctl audit exits 4 on a real mismatch'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,E2FSPROGS,JQ || skip_all "needs FUSE, e2fsprogs and jq"
[ -x "$IOMAPCTL" ] || skip_all "iomapctl is not built"

MNT=$TRASH/mnt
S=$TRASH/ctl.sock
c() { "$IOMAPCTL" -s "$S" "$@"; }

test_expect_success 'a read-only mount; reading /f caches its mapping' '
	mkdir -p src/many &&
	head -c 64K /dev/urandom >src/f &&
	for i in $(seq 300); do
		echo $i >src/many/f$i || return 1
	done &&
	make_image img 32M -t ext4 -b 4096 -d src &&
	ino=$(debugfs -R "stat /f" img 2>/dev/null | sed -n "s/^Inode: \([0-9]*\).*/\1/p") &&
	blk=$(debugfs -R "bmap /f 4" img 2>/dev/null) &&
	test -n "$ino" && test -n "$blk" &&
	echo "$ino $blk" >f.ids &&
	iomapfs_mount img "$MNT" -o ro,ctl_socket="$S" &&
	dd if="$MNT/f" of=/dev/null bs=4k iflag=direct status=none &&
	c audit >out &&
	test_grep "^audit: clean$" out &&
	test_grep "^  mappings: *1$" out
'

test_expect_success 'a hole punched behind the daemon: audit exits 4 and shows it' '
	read -r ino blk <f.ids &&
	debugfs -w -R "punch /f 4 7" img 2>/dev/null &&
	debugfs -R "ex /f" img 2>/dev/null >ex &&
	test_grep "^ *0/ *0 *1/ *2 *0 - *3 " ex &&
	test_grep "^ *0/ *0 *2/ *2 *8 - *15 " ex &&
	ls -l "$MNT/many" >/dev/null &&
	test_expect_code 4 c audit >out &&
	cat out &&
	test_grep "^audit: MISMATCH$" out &&
	test_grep "^  mismatches: *1$" out &&
	addr=$(printf "0x%x" $((blk * 4096))) &&
	test_grep "^ *$ino 0x4000 0x4000 MAPPED@$addr .*HOLE$" out
'

test_expect_success 'the same in JSON, and for the file by its path' '
	read -r ino blk <f.ids &&
	test_expect_code 4 c -J audit >out.json &&
	jq -e ".clean == false and .summary.mismatches == 1 and
		.summary.inodes == 1" out.json &&
	jq -c ".differences[] | [.ino, .cached.offset, .cached.length,
		.cached.type, .cached.addr, .disk.offset, .disk.length,
		.disk.type, .disk.addr]" out.json >got &&
	echo "[$ino,16384,16384,\"MAPPED\",$((blk * 4096)),16384,16384,\"HOLE\",null]" >want &&
	test_cmp want got &&
	test_expect_code 4 c audit "$MNT/f" >out &&
	test_grep "^audit: MISMATCH$" out
'

test_expect_success 'a script stops at the failed audit with its status' '
	printf "audit\nstatus\n" >script &&
	test_expect_code 4 c -f script >out &&
	test_grep "^audit: MISMATCH$" out &&
	! grep -q "^image:" out
'

test_expect_success 'after a flush the cache agrees again: exit 0' '
	c flush --all >/dev/null &&
	dd if="$MNT/f" of=/dev/null bs=4k iflag=direct status=none &&
	c audit >out &&
	test_grep "^audit: clean$" out &&
	iomapfs_unmount "$MNT" &&
	fsck_clean img
'

test_done
