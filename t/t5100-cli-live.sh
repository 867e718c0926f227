#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5100-cli-live.sh - iomapctl against a live iomapfs mount: dump after
# reading part of a fragmented file shows exactly the mappings `debugfs ex`
# shows for that part; paths resolve through the mount; flush of a range
# leaves the rest; disable empties the cache while I/O goes on; audit is
# clean after writes; map is a report; watch sees the reads; -m and list
# find a mount by its default socket.
test_description='iomapctl against a live mount'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq FUSE || skip_all "no FUSE (or no iomapfs binary)"
test_have_prereq ROOT || skip_all "needs root (mount, drop_caches)"
test_have_prereq E2FSPROGS || skip_all "e2fsprogs (mke2fs, debugfs) missing"
test_have_prereq JQ || skip_all "jq is not installed"

IMG=$TRASH/frag.img
MNT=$TRASH/mnt
SOCK=$TRASH/ctl.sock
EXPECT_DIR=$SRC_DIR/t/t5100

c() {
	"$IOMAPCTL" -s "$SOCK" "$@"
}

inode_of() {
	debugfs -R "stat $1" "$IMG" 2>/dev/null | sed -n "s/^Inode: \([0-9]*\).*/\1/p"
}

# read_blocks FILE FIRST COUNT: read 1 KiB blocks with O_DIRECT, so that
# exactly these blocks go through the daemon (no readahead, no page cache).
read_blocks() {
	dd if="$1" of=/dev/null bs=1024 skip="$2" count="$3" iflag=direct \
		status=none
}

test_expect_success 'set up: an image with a fragmented file, mounted' '
	make_frag_image "$IMG" &&
	FRAG=$(inode_of /frag) && SPARSE=$(inode_of /sparse) &&
	debugfs_extents "$IMG" /frag >frag.extents &&
	debugfs -R "dump /frag $TRASH/frag.orig" "$IMG" 2>/dev/null &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$SOCK" &&
	for i in $(seq 1 100); do test -S "$SOCK" && break; sleep 0.05; done &&
	test -S "$SOCK"
'
# A daemon without its control socket fails the set-up above; the rest is
# then reported as skipped rather than as a cascade of failures.
test -S "$SOCK" && test_set_prereq CTLSOCK

test_expect_success CTLSOCK 'status names the mount, human and JSON' '
	c status >out &&
	test_grep -q "^mountpoint: *$MNT$" out &&
	c -J status >out &&
	jq -e ".status.mountpoint == \"$MNT\" and .status.image == \"$IMG\" and
		.status.caching == true and .status.read_only == false and
		.status.socket == \"$SOCK\"" out
'

test_expect_success CTLSOCK 'dump after reading part of a fragmented file matches debugfs ex' '
	c flush --all >/dev/null &&
	read_blocks "$MNT/frag" 5 10 &&
	awk "\$1 + \$3 > 5 && \$1 <= 14" frag.extents >expect &&
	c -rn -o OFFSET,ADDR,LENGTH dump --blocks "$MNT/frag" >out &&
	test_cmp expect out &&
	c -J dump "$MNT/frag" >out &&
	jq -r ".inodes[0].mappings[] | \"\(.offset / 1024) \(.addr / 1024) \(.length / 1024)\"" out >got &&
	test_cmp expect got &&
	jq -e ".inodes[0].ino == $FRAG and .inodes[0].path == \"/frag\" and
		.inodes[0].misses >= 10" out
'

test_expect_success CTLSOCK 'a PATH resolves through the mount like its inode number' '
	c -n dump "$MNT/frag" >by-path &&
	c -n dump $FRAG >by-ino &&
	test_cmp by-path by-ino &&
	(cd / && "$IOMAPCTL" -s "$SOCK" -n dump frag) >by-rel &&
	test_cmp by-path by-rel &&
	(cd "$MNT/dir" && "$IOMAPCTL" -s "$SOCK" -J stats ../frag) >out &&
	jq -e ".inode.ino == $FRAG" out
'

test_expect_success CTLSOCK 'a path outside the mount is refused, naming it' '
	test_expect_code 1 c dump "$TRASH/frag.extents" 2>err &&
	test_grep -q "is not inside the mount $MNT" err &&
	test_expect_code 1 c dump "$MNT/nope" 2>err &&
	test_grep -q "nope.*No such file or directory" err
'

test_expect_success CTLSOCK 'hits are counted when the same blocks are read again' '
	read_blocks "$MNT/frag" 5 10 &&
	c -J dump $FRAG >out &&
	jq -e ".inodes[0].hits >= 10" out
'

test_expect_success CTLSOCK 'flush of a range leaves the rest' '
	c flush "$MNT/frag" --range 7k:3k >out &&
	test_grep -q "^flushed 3 mappings of inode $FRAG in 0x1c00:0xc00$" out &&
	awk "\$1 + \$3 > 5 && \$1 <= 14 && (\$1 < 7 || \$1 > 9)" frag.extents >expect &&
	c -rn -o OFFSET,ADDR,LENGTH dump --blocks $FRAG >out &&
	test_cmp expect out
'

test_expect_success CTLSOCK 'map is a report from disk that does not fill the cache' '
	c -J stats >before &&
	c -rn -o OFFSET,ADDR,LENGTH map --blocks "$MNT/frag" >out &&
	test_cmp frag.extents out &&
	c map "$MNT/frag" >out &&
	test_grep -q "^inode $FRAG  path /frag  size 40960  block_size 1024  maps $(wc -l <frag.extents)" out &&
	c -J map "$MNT/sparse" >out &&
	jq -e ".path == \"/sparse\"" out &&
	jq -e "[.mappings[].type] == [\"MAPPED\",\"HOLE\",\"MAPPED\",\"HOLE\",\"MAPPED\",\"HOLE\"] and
		[.mappings[] | select(.type == \"HOLE\") | .addr] == [null,null,null]" out &&
	c -J stats >after &&
	test "$(jq .stats.mappings before)" = "$(jq .stats.mappings after)"
'

test_expect_success CTLSOCK 'disable empties the cache and I/O still works' '
	c disable >out &&
	test_grep -q "^caching disabled$" out &&
	c -J dump >out &&
	jq -e ".inodes == []" out &&
	echo 3 >/proc/sys/vm/drop_caches &&
	cmp "$TRASH/frag.orig" "$MNT/frag" &&
	read_blocks "$MNT/frag" 0 40 &&
	c -J dump >out &&
	jq -e ".inodes == []" out &&
	c -J status >out &&
	jq -e ".status.caching == false" out
'

test_expect_success CTLSOCK 'enable: reads fill the cache again' '
	c -J enable >out &&
	jq -e ".enabled == true and .previous == false" out &&
	read_blocks "$MNT/frag" 0 40 &&
	c -rn -o OFFSET,ADDR,LENGTH dump --blocks "$MNT/frag" >out &&
	test_cmp frag.extents out
'

test_expect_success CTLSOCK 'audit is clean (exit 0) after writes through the mount' '
	dd if=/dev/urandom of="$MNT/sparse" bs=1024 seek=3 count=2 \
		conv=notrunc status=none &&
	dd if=/dev/urandom of="$MNT/frag" bs=1024 seek=20 count=1 \
		conv=notrunc oflag=direct status=none &&
	sync &&
	read_blocks "$MNT/sparse" 0 40 &&
	c audit >out &&
	test_grep -q "^audit: clean$" out &&
	c -J audit >out &&
	jq -e ".clean == true and .summary.mismatches == 0 and
		.summary.mappings > 0" out &&
	c audit "$MNT/sparse" >out
'

test_expect_success CTLSOCK 'stats, human and JSON, for one file, and --reset' '
	c stats >out &&
	test_grep -q "^lookups: *[1-9]" out &&
	c -J stats "$MNT/frag" >out &&
	jq -e ".inode.ino == $FRAG and .stats.lookups > 0" out &&
	c stats --reset >/dev/null &&
	c -J stats >out &&
	jq -e ".stats.lookups == 0" out
'

test_expect_success CTLSOCK 'limits, human and JSON' '
	c limits cache_max=8M >out &&
	test_grep -q "^cache_max: *8388608$" out &&
	c -J limits >out &&
	jq -e ".limits.cache_max == 8388608" out
'

test_expect_success CTLSOCK 'flush everything before watching' '
	c flush --all >/dev/null
'

# started on its own: a list ending in & would run wholly in the background
test_expect_success CTLSOCK 'start a watcher' '
	(c watch --count 1 >watch.out; echo "rc=$?" >>watch.out) &
	for i in $(seq 1 100); do
		grep -q "^TIME" watch.out 2>/dev/null && break
		sleep 0.05
	done &&
	test_grep -q "^TIME" watch.out
'

test_expect_success CTLSOCK 'the watcher saw the upsert of a read' '
	read_blocks "$MNT/frag" 30 1 &&
	for i in $(seq 1 100); do grep -q "^rc=" watch.out && break; sleep 0.05; done &&
	test_grep -q " upsert  *$FRAG  *0x7800  *0x400 MAPPED@0x[0-9a-f]*" watch.out &&
	test_grep -q "^rc=0$" watch.out
'

test_expect_success CTLSOCK 'completion: cached inodes and paths inside the mount' '
	c complete -- dump "" >out &&
	test_grep -qx "$FRAG" out &&
	c complete -- dump fr >out &&
	echo frag >expect &&
	test_cmp expect out &&
	c complete -- dump "$MNT/di" >out &&
	echo "$MNT/dir/" >expect &&
	test_cmp expect out
'

test_expect_success CTLSOCK 'a scripted cache audit matches its transcript' '
	c flush --all >/dev/null &&
	c enable >/dev/null &&
	read_blocks "$MNT/sparse" 0 1 &&
	cat >audit.iomapctl <<-EOF &&
	# scripted cache audit of a live mount
	dump --blocks $MNT/sparse
	audit
	flush --all
	dump
	audit
	EOF
	c -f audit.iomapctl >raw &&
	awk "{ \$1 = \$1 } \$3 == \"MAPPED\" { \$4 = \"A\" } { print }" raw |
		sed -e "s|$MNT|MNT|g" -e "s/^inode $SPARSE /inode N /" \
		    -e "s/hits [0-9]*  *misses [0-9]*/hits H misses M/" >actual &&
	test_cmp "$EXPECT_DIR/audit.expect" actual
'

test_expect_success CTLSOCK 'the default socket: -m MOUNTPOINT and list find the mount' '
	cp "$IMG" "$IMG.2" &&
	# a copy of a mounted image is not clean: read-only is what it allows
	iomapfs_mount "$IMG.2" "$TRASH/mnt2" -o ro &&
	for i in $(seq 1 100); do
		"$IOMAPCTL" -m "$TRASH/mnt2" status >/dev/null 2>&1 && break
		sleep 0.05
	done &&
	"$IOMAPCTL" -m "$TRASH/mnt2" -J status >out &&
	jq -e ".status.mountpoint == \"$TRASH/mnt2\"" out &&
	"$IOMAPCTL" -J list >out &&
	jq -e "[.mounts[] | select(.mountpoint == \"$TRASH/mnt2\") | .state] == [\"live\"]" out &&
	"$IOMAPCTL" -o MOUNTPOINT,STATE,PID list >out &&
	test_grep -q "^$TRASH/mnt2 *live *[0-9]" out &&
	iomapfs_unmount "$TRASH/mnt2"
'

test_expect_success CTLSOCK 'unmount; the socket is gone and iomapctl says so' '
	iomapfs_unmount "$MNT" &&
	test_expect_code 3 c status 2>err &&
	test_grep -q "ctl.sock" err &&
	fsck_clean "$IMG"
'

test_done
