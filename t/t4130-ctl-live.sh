#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4130-ctl-live.sh - the control socket of a live iomapfs mount, spoken to
# in raw Varlink: it lives at the default location named after the
# mountpoint, describes the mount, dumps exactly what reading a file
# cached (checked against debugfs), flushes, switches caching off and on
# while files are read, watches invalidations caused by writes, audits
# clean, and keeps the filesystem going while silent, non-reading and
# numerous clients hang on it.  It is removed at unmount; -o ctl_socket
# moves it, and a stale one left by a killed daemon is replaced.
test_description='control socket of a live mount'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq FUSE,ROOT,PYTHON3,E2FSPROGS,JQ,SYSTEMD_ESCAPE ||
	skip_all "needs FUSE, root, python3, jq, systemd-escape and e2fsprogs"

M=io.iomapfs.Cache
MNT=$TRASH/mnt
# drop_caches: make the next reads reach the daemon, not the page cache.
drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }

test_expect_success 'mount an image; the socket is where iomapctl looks' '
	make_ctl_image img &&
	iomapfs_mount img "$MNT" &&
	S=/run/iomapfs/$(systemd-escape --path "$(realpath "$MNT")").sock &&
	test -S "$S" &&
	test_eq 600 "$(stat -c %a "$S")"
'

test_expect_success 'GetStatus describes this mount' '
	vl_call "$S" GetStatus >out && expect_ok out &&
	test_eq "$(realpath "$MNT")" "$(jq -r .parameters.mountpoint out)" &&
	test_eq "$(realpath img)" "$(jq -r .parameters.image out)" &&
	test_eq "$IOMAPFS_PID" "$(jq .parameters.pid out)" &&
	test_eq "$S" "$(jq -r .parameters.socket out)" &&
	test_eq false "$(jq .parameters.read_only out)" &&
	test_eq true "$(jq .parameters.caching out)"
'

test_expect_success 'reading a file caches what debugfs shows; Dump tells it' '
	ino=$(stat -c %i "$MNT/sub/big") &&
	cat "$MNT/sub/big" >/dev/null &&
	vl_call "$S" Dump "{\"ino\":$ino}" >out && expect_ok out &&
	test_eq /sub/big "$(jq -r .parameters.path out)" &&
	phys=$(debugfs -R "bmap /sub/big 0" img 2>/dev/null) &&
	jq -c "[.parameters.mappings[] | [.offset, .length, .addr, .type]]" out >got &&
	echo "[[0,262144,$((phys * 4096)),\"MAPPED\"]]" >want &&
	test_cmp want got &&
	vl_call "$S" Map "{\"ino\":$ino}" >out &&
	jq -c "[.parameters.mappings[] | [.offset, .length, .addr, .type]]" out >got &&
	test_cmp want got
'

test_expect_success 'the sparse file: every extent read is cached, with its holes' '
	ino=$(stat -c %i "$MNT/sparse") &&
	cmp "$MNT/sparse" imgsrc/sparse &&
	vl_call "$S" Dump "{\"ino\":$ino}" --more >out && expect_ok out &&
	jq -s -e "[.[].parameters.mappings[] | select(.type == \"MAPPED\")] | length == 700" out &&
	vl_call "$S" Map "{\"ino\":$ino}" --more >map &&
	jq -s -c "[.[].parameters.mappings[] | select(.type == \"MAPPED\") | [.offset, .addr]]" map >want &&
	jq -s -c "[.[].parameters.mappings[] | select(.type == \"MAPPED\") | [.offset, .addr]]" out >got &&
	test_cmp want got &&
	vl_call "$S" Audit --more >out &&
	jq -e ".parameters.summary | .mismatches == 0 and .inodes >= 2" out
'

test_expect_success 'Flush of a range leaves the rest of the inode' '
	ino=$(stat -c %i "$MNT/sparse") &&
	vl_call "$S" Flush "{\"ino\":$ino,\"offset\":0,\"length\":81920}" >out &&
	test_eq 20 "$(jq .parameters.flushed out)" &&
	vl_call "$S" Dump "{\"ino\":$ino}" --more >out &&
	jq -s -e "[.[].parameters.mappings[]] | (.[0].offset == 81920) and (length == 1379)" out
'

test_expect_success 'a write into a hole shows as an invalidation to a watcher' '
	ino=$(stat -c %i "$MNT/sparse") &&
	cat "$MNT/sparse" >/dev/null &&
	{ timeout 3 python3 "$VLRAW" "$S" call $M.Watch --more >watch & } &&
	wpid=$! &&
	for i in $(seq 1 100); do [ -s watch ] && break; sleep 0.05; done &&
	dd if=/dev/urandom of="$MNT/sparse" bs=4096 seek=1 count=1 conv=notrunc,fsync 2>/dev/null &&
	# a watch without a count ends only by the timeout
	test_expect_code 124 wait $wpid &&
	cat watch &&
	jq -s -e "map(.parameters.event | select(.type == \"invalidate\" and .ino == $ino and .offset <= 4096)) | length >= 1" watch &&
	vl_call "$S" GetStats >out &&
	jq -e ".parameters.stats.invalidations >= 1" out &&
	vl_call "$S" Audit --more >out &&
	jq -e ".parameters.summary.mismatches == 0" out
'

test_expect_success 'caching off empties the cache; reads still give the right data; back on' '
	vl_call "$S" SetCaching "{\"enabled\":false}" >out && expect_ok out &&
	vl_call "$S" GetStats >out &&
	test_eq 0 "$(jq .parameters.stats.mappings out)" &&
	drop_caches &&
	cmp "$MNT/sub/big" imgsrc/sub/big &&
	cmp "$MNT/f" imgsrc/f &&
	vl_call "$S" GetStats >out &&
	test_eq 0 "$(jq .parameters.stats.mappings out)" &&
	vl_call "$S" SetCaching "{\"enabled\":true}" >out && expect_ok out &&
	drop_caches &&
	cmp "$MNT/f" imgsrc/f &&
	vl_call "$S" GetStats >out &&
	jq -e ".parameters.stats.mappings >= 1" out
'

test_expect_success 'silent, non-reading and 100 concurrent clients while I/O goes on' '
	{ vl "$S" many 200 4 >many.out & } && mpid=$! &&
	{ vl "$S" noread 100000 3 >noread.out & } && npid=$! &&
	{ vl "$S" watchslow 3 >slow.out & } && wpid=$! &&
	for i in $(seq 1 100); do
		grep -q connected many.out 2>/dev/null && grep -q sent noread.out 2>/dev/null &&
		grep -q ready slow.out 2>/dev/null && break
		sleep 0.05
	done &&
	# How long the I/O takes beside such clients is measured by
	# t/bench/ctlbench (make bench-ctl); here it must complete, right.
	for i in $(seq 1 20); do
		dd if=/dev/urandom of="$MNT/io$i" bs=64k count=4 2>/dev/null &&
		cmp "$MNT/sub/big" imgsrc/sub/big || return 1
	done &&
	sync "$MNT" &&
	test_eq 100 "$(vl -t 20 "$S" flood 100 $M.GetStatus)" &&
	test_wait_all $mpid $npid $wpid &&
	cat many.out noread.out slow.out &&
	vl_call "$S" Audit --more >out &&
	jq -e ".parameters.summary.mismatches == 0" out
'

test_expect_success 'unmount removes the socket' '
	iomapfs_unmount "$MNT" &&
	! test -e "$S"
'

test_expect_success '-o ctl_socket=PATH moves it; a stale one from a killed daemon is replaced' '
	P=$TRASH/my.sock &&
	iomapfs_mount img "$MNT" -o ctl_socket="$P" &&
	test -S "$P" && test_eq 600 "$(stat -c %a "$P")" &&
	vl_call "$P" GetStatus >out &&
	test_eq "$P" "$(jq -r .parameters.socket out)" &&
	kill -KILL $IOMAPFS_PID && test_expect_code 137 wait $IOMAPFS_PID &&
	fusermount3 -u -z "$MNT" &&
	test -S "$P" &&
	# a crashed read-write mount needs e2fsck before the next one
	{ e2fsck -fy img >fsck.out 2>&1; test $? -le 1 || { cat fsck.out; false; }; } &&
	iomapfs_mount img "$MNT" -o ctl_socket="$P" &&
	vl_call "$P" GetStatus >out &&
	test_eq "$IOMAPFS_PID" "$(jq .parameters.pid out)" &&
	iomapfs_unmount "$MNT" &&
	! test -e "$P"
'

test_expect_success 'a second daemon on a live socket refuses to run' '
	P=$TRASH/my.sock &&
	iomapfs_mount img "$MNT" -o ctl_socket="$P" &&
	cp img img2 && mkdir -p "$TRASH/mnt2" &&
	# (the copy of a mounted image is not clean: -o ro, which it allows)
	test_must_fail timeout 60 "$IOMAPFS" -f -o ro,ctl_socket="$P" img2 "$TRASH/mnt2" >second.log 2>&1 &&
	cat second.log &&
	grep "another daemon serves it" second.log &&
	! mountpoint -q "$TRASH/mnt2" &&
	vl_call "$P" GetStatus >out && expect_ok out &&
	iomapfs_unmount "$MNT"
'

test_done
