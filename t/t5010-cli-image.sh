#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5010-cli-image.sh - iomapctl --image on an unmounted image: dump and map
# show the on-disk mappings exactly as `debugfs ex` does, holes are rows of
# their own, paths resolve inside the image, and every output form (human,
# raw, -o, -n, -J) carries the same facts.
test_description='iomapctl --image inspects an unmounted image'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq E2FSPROGS || skip_all "e2fsprogs (mke2fs, debugfs) missing"

IMG=$TRASH/frag.img

test_expect_success 'set up an image with fragmented and sparse files' '
	make_frag_image "$IMG" &&
	debugfs_extents "$IMG" /frag >frag.extents &&
	test $(wc -l <frag.extents) -ge 20
'

test_expect_success '--blocks dump of a fragmented file matches debugfs ex' '
	ictl --image "$IMG" -rn -o OFFSET,ADDR,LENGTH dump --blocks /frag >out &&
	test_cmp frag.extents out
'

test_expect_success 'byte dump is the block dump times the block size' '
	ictl --image "$IMG" -rn -o OFFSET,ADDR,LENGTH dump /frag >bytes &&
	while read -r o a l; do
		printf "%d %d %d\n" $((o / 1024)) $((a / 1024)) $((l / 1024)) ||
			return 1
	done <bytes >blocks &&
	test_cmp frag.extents blocks
'

test_expect_success 'the human dump has a header line and hex columns' '
	ictl --image "$IMG" dump /frag >out &&
	ino=$(debugfs -R "stat /frag" "$IMG" 2>/dev/null | sed -n "s/^Inode: \([0-9]*\).*/\1/p") &&
	test_grep -q "^inode $ino  path /frag  size 40960  block_size 1024  maps $(wc -l <frag.extents)  hits -  misses -$" out &&
	sed -n 2p out >heading &&
	test_grep -q "^OFFSET *LENGTH *TYPE *ADDR *FLAGS$" heading &&
	test_grep -q "^ *0x0 *0x400 MAPPED *0x[0-9a-f]* *$" out &&
	tail -n 1 out | grep -q "LAST$"
'

test_expect_success 'an inode number works like its path' '
	ino=$(debugfs -R "stat /frag" "$IMG" 2>/dev/null | sed -n "s/^Inode: \([0-9]*\).*/\1/p") &&
	ictl --image "$IMG" -n dump /frag >by-path &&
	ictl --image "$IMG" -n dump "$ino" >by-ino &&
	test_cmp by-path by-ino
'

test_expect_success 'holes inside the file are explicit rows' '
	ictl --image "$IMG" -rn -o OFFSET,LENGTH,TYPE,FLAGS dump /sparse >out &&
	cat >expect <<-\EOF &&
	0x0 0x400 MAPPED 
	0x400 0x2400 HOLE 
	0x2800 0x400 MAPPED 
	0x2c00 0x4c00 HOLE 
	0x7800 0x400 MAPPED 
	0x7c00 0x2400 HOLE LAST
	EOF
	test_cmp expect out &&
	debugfs_extents "$IMG" /sparse >sparse.ext &&
	ictl --image "$IMG" -rn -o OFFSET,ADDR,LENGTH,TYPE dump --blocks /sparse |
		awk "\$4 == \"MAPPED\" { print \$1, \$2, \$3 }" >mapped &&
	test_cmp sparse.ext mapped
'

test_expect_success 'map OFF LEN takes hex and suffixes and covers the range' '
	ictl --image "$IMG" -rn -o OFFSET,LENGTH,TYPE map /sparse 0x400 8k >out &&
	cat >expect <<-\EOF &&
	0x400 0x2400 HOLE
	EOF
	test_cmp expect out &&
	ictl --image "$IMG" -rn -o OFFSET,TYPE map /sparse 1k 10k >out &&
	printf "0x400 HOLE\n0x2800 MAPPED\n" >expect &&
	test_cmp expect out
'

test_expect_success 'dump --range keeps only the overlapping mappings' '
	ictl --image "$IMG" -rn -o OFFSET,TYPE dump --range 0x2800:0x800 /sparse >out &&
	printf "0x2800 MAPPED\n0x2c00 HOLE\n" >expect &&
	test_cmp expect out
'

test_expect_success 'extra columns INO and END with -o +' '
	ictl --image "$IMG" -rn -o +INO,END dump /dir/small >out &&
	ino=$(debugfs -R "stat /dir/small" "$IMG" 2>/dev/null | sed -n "s/^Inode: \([0-9]*\).*/\1/p") &&
	echo "0x0 0xc00 MAPPED $(awk "{print \$4}" out) LAST $ino 0xbff" >expect &&
	test_cmp expect out
'

test_expect_success 'an unknown column is a usage error listing the columns' '
	test_expect_code 2 ictl --image "$IMG" -o OFFSET,BOGUS dump /frag 2>err &&
	test_grep -q "unknown column .BOGUS." err &&
	test_grep -q "OFFSET,LENGTH" err
'

test_expect_success JQ 'JSON dump: schema, units, numbers and flags' '
	ictl --image "$IMG" -J dump /frag /sparse >out &&
	jq -e ".schema_version == 1 and .command == \"dump\" and
		.source == \"disk\" and .units == \"bytes\" and
		(.inodes | length) == 2" out &&
	jq -r ".inodes[0].mappings[] | \"\(.offset / 1024) \(.addr / 1024) \(.length / 1024)\"" out >got &&
	test_cmp frag.extents got &&
	jq -e ".inodes[0].path == \"/frag\" and .inodes[0].size == 40960 and
		.inodes[0].block_size == 1024 and
		.inodes[0].maps == (.inodes[0].mappings | length) and
		.inodes[0].hits == null" out &&
	jq -e "[.inodes[1].mappings[] | select(.type == \"HOLE\") | .addr] == [null, null, null]" out &&
	jq -e ".inodes[1].mappings[-1].flags == [\"LAST\"]" out
'

test_expect_success JQ 'JSON map of one file is one flat document' '
	ictl --image "$IMG" -J map /sparse 0 1k >out &&
	jq -e ".command == \"map\" and .path == \"/sparse\" and
		.mappings == [{\"offset\": 0, \"length\": 1024, \"type\": \"MAPPED\",
		\"addr\": .mappings[0].addr, \"flags\": []}]" out
'

test_expect_success JQ 'status --image describes the filesystem' '
	ictl --image "$IMG" status >out &&
	test_grep -q "^block_size: *1024$" out &&
	test_grep -q "^type: *ext4$" out &&
	ictl --image "$IMG" -r status >out &&
	test_grep -qx "block_size=1024" out &&
	test_grep -qx "read_only=yes" out &&
	ictl --image "$IMG" -J status >out &&
	uuid=$(dumpe2fs -h "$IMG" 2>/dev/null | sed -n "s/^Filesystem UUID: *//p") &&
	jq -e ".status.uuid == \"$uuid\" and .status.block_size == 1024 and
		.status.read_only == true" out
'

test_expect_success 'errors: no such path, unused inode, bad image' '
	test_expect_code 1 ictl --image "$IMG" map /nope 2>err &&
	test_grep -q "/nope in image .*: No such file or directory" err &&
	test_expect_code 1 ictl --image "$IMG" map 100 2>err &&
	test_grep -q "inode 100 is not in use" err &&
	test_expect_code 1 ictl --image "$IMG" map 0 2>err &&
	test_grep -q "out of range" err &&
	test_expect_code 1 ictl --image "$TRASH/none.img" map 2 2>err &&
	test_grep -q "cannot open image .*none.img" err &&
	truncate -s 1M junk.img &&
	test_expect_code 1 ictl --image junk.img status 2>err &&
	test_grep -q "cannot open image junk.img" err
'

test_expect_success 'dump --image needs the inodes to show' '
	test_expect_code 2 ictl --image "$IMG" dump 2>err &&
	test_grep -q "name the inodes" err
'

test_expect_success 'a directory has mappings too; a device inode has none' '
	ictl --image "$IMG" -rn -o TYPE dump / >out &&
	test_grep -q MAPPED out &&
	debugfs -w -R "mknod dev c 1 3" "$IMG" >/dev/null 2>&1 &&
	test_expect_code 1 ictl --image "$IMG" map /dev 2>err &&
	test_grep -q "has no mappings" err
'

test_expect_success 'the image is not changed by inspection' '
	md5sum <"$IMG" >before &&
	ictl --image "$IMG" dump /frag /sparse >/dev/null &&
	ictl --image "$IMG" status >/dev/null &&
	md5sum <"$IMG" >after &&
	test_cmp before after
'

test_done
