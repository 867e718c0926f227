# SPDX-License-Identifier: GPL-2.0-or-later
test_description='the directory index: names added, removed, renamed and looked up in big directories match a model, the disk and e2fsck, on ext4, ext2, 1k blocks, htree directories, a tiny dir_index_max and none'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
command -v python3 >/dev/null || skip_all "no python3"

CHURN="python3 $T_DIR/helper/dirchurn.py"
[ -x "$IOMAPCTL" ] && test_set_prereq IOMAPCTL

# names_on_disk IMG DIR: the names in DIR as debugfs reads them, sorted
# (debugfs also shows unused records, which have inode number 0).
names_on_disk() {
	debugfs -R "ls -p $2" "$1" 2>/dev/null |
		awk -F/ 'NF >= 7 && $2 != 0 && $6 != "." && $6 != ".." && $6 != ".sub" { print $6 }' |
		LC_ALL=C sort
}

# is_htree IMG DIR: whether DIR has EXT2_INDEX_FL (0x1000), says debugfs.
is_htree() {
	local flags
	flags=$(debugfs -R "stat $2" "$1" 2>/dev/null |
		sed -n "s/.*Flags: \(0x[0-9a-f]*\).*/\1/p")
	if [ -z "$flags" ] || [ $((flags & 0x1000)) -eq 0 ]; then
		echo "$2 in $1: expected an htree directory (flag 0x1000), flags are '$flags'"
		return 1
	fi
}

# churn_and_check IMG OPS SEED [mount options]: churn mnt/c, then check the
# listing against the model after a remount, on disk and with e2fsck.
churn_and_check() {
	local img=$1 ops=$2 seed=$3
	shift 3
	iomapfs_mount "$img" mnt "$@" &&
	if ! { mkdir -p mnt/c && $CHURN run mnt/c "$ops" "$seed" model.json; }
	then
		iomapfs_unmount mnt
		return 1
	fi &&
	iomapfs_unmount mnt &&
	fsck_clean "$img" &&
	$CHURN names model.json | LC_ALL=C sort >expect &&
	names_on_disk "$img" /c >actual &&
	test_cmp expect actual &&
	iomapfs_mount "$img" mnt "$@" &&
	{ $CHURN verify mnt/c model.json || { iomapfs_unmount mnt; false; }; } &&
	iomapfs_unmount mnt
}

test_expect_success 'ext4, 4k blocks, metadata_csum: 4000 operations' '
	make_image img 256M -t ext4 &&
	churn_and_check img 4000 1
'

test_expect_success 'ext4, 1k blocks, with a budget too small for the index' '
	make_image img 256M -t ext4 -b 1024 &&
	churn_and_check img 3000 2 -o dir_index_max=4k
'

test_expect_success 'ext4 with no directory index at all (dir_index_max=0)' '
	make_image img 256M -t ext4 &&
	churn_and_check img 2000 3 -o dir_index_max=0
'

test_expect_success 'ext2 without the filetype feature: no checksums, block maps' '
	make_image img 256M -t ext2 -O ^filetype &&
	churn_and_check img 3000 4
'

test_expect_success 'ext3, 2k blocks' '
	make_image img 256M -t ext3 -b 2048 &&
	churn_and_check img 3000 5
'

test_expect_success 'a hashed-tree (htree) directory made by e2fsck -D stays one' '
	mkdir -p src/c &&
	for i in $(seq 1 1500); do
		echo "old $i" >src/c/old-file-$i || return 1
	done &&
	make_image img 256M -t ext4 -d src &&
	{ e2fsck -fyD img >fsck.log 2>&1; test $? -le 1; } &&
	is_htree img /c &&
	churn_and_check img 3000 6 &&
	is_htree img /c
'

test_expect_success 'a big directory is not empty until its last name goes' '
	make_image img7 64M -t ext4 &&
	iomapfs_mount img7 mnt &&
	mkdir mnt/big mnt/other &&
	for i in $(seq 1 400); do
		: >mnt/big/entry-with-a-longer-name-$i || return 1
	done &&
	test_must_fail rmdir mnt/big 2>err &&
	test_grep "not empty" err &&
	test_must_fail mv -T mnt/other mnt/big 2>err &&
	test_grep -i "not empty\|exists" err &&
	rm mnt/big/entry-with-a-longer-name-* &&
	test_eq 0 "$(ls -A mnt/big | wc -l)" &&
	rmdir mnt/big &&
	iomapfs_unmount mnt &&
	fsck_clean img7
'

test_expect_success 'a directory on a reused inode number starts empty' '
	make_image img8 64M -t ext4 -N 512 -b 1024 &&
	iomapfs_mount img8 mnt &&
	mkdir mnt/d1 &&
	for i in $(seq 1 300); do
		: >mnt/d1/f$i || return 1
	done &&
	ino=$(stat -c %i mnt/d1) &&
	rm mnt/d1/f* &&
	rmdir mnt/d1 &&
	mkdir mnt/d2 &&
	test_eq "$ino" "$(stat -c %i mnt/d2)" &&
	test_eq 0 "$(ls -A mnt/d2 | wc -l)" &&
	test_must_fail stat mnt/d2/f7 2>err &&
	test_grep "No such file" err &&
	: >mnt/d2/f7 &&
	test_eq f7 "$(ls mnt/d2)" &&
	iomapfs_unmount mnt &&
	fsck_clean img8
'

# dix_stat FIELD: a counter of the mount's directory index.
dix_stat() {
	"$IOMAPCTL" -m mnt -J stats | jq -r ".dir_index.$1"
}

test_expect_success IOMAPCTL,JQ 'iomapctl stats shows the index at work, and its absence' '
	make_image img10 64M -t ext4 &&
	iomapfs_mount img10 mnt &&
	mkdir mnt/s &&
	for i in $(seq 1 500); do
		: >mnt/s/file-$i || return 1
	done &&
	rm mnt/s/file-1* &&
	stat mnt/s/file-2 >/dev/null &&
	test_must_fail stat mnt/s/nothing-here 2>/dev/null &&
	test_eq 0 "$(dix_stat fallbacks)" "operations left to libext2fs" &&
	test "$(dix_stat hits)" -ge 1000 &&
	test "$(dix_stat builds)" -ge 1 &&
	test "$(dix_stat entries)" -ge 389 &&
	test "$(dix_stat bytes)" -gt 0 &&
	test "$(dix_stat bytes)" -le "$(dix_stat bytes_max)" &&
	"$IOMAPCTL" -m mnt stats >human &&
	test_grep "^dir_index:" human &&
	"$IOMAPCTL" -m mnt stats --reset >/dev/null &&
	test_eq 0 "$(dix_stat hits)" "hits after --reset" &&
	iomapfs_unmount mnt &&
	iomapfs_mount img10 mnt -o dir_index_max=0 &&
	ls mnt/s >/dev/null &&
	stat mnt/s/file-2 >/dev/null &&
	: >mnt/s/new &&
	test_eq 0 "$(dix_stat hits)" "hits with dir_index_max=0" &&
	test "$(dix_stat fallbacks)" -ge 2 &&
	iomapfs_unmount mnt &&
	iomapfs_mount img10 mnt -o dir_index_max=2k &&
	stat mnt/s/file-2 >/dev/null &&
	: >mnt/s/new2 &&
	test "$(dix_stat too_big)" -ge 1 &&
	test "$(dix_stat bytes)" -le 2048 &&
	iomapfs_unmount mnt &&
	fsck_clean img10
'

test_expect_success IOMAPCTL,JQ 'a directory whose size is no whole number of blocks is left to libext2fs' '
	mkdir -p src11/c &&
	for i in $(seq 1 200); do
		echo "$i" >src11/c/file-$i || return 1
	done &&
	make_image img11 64M -t ext4 -d src11 &&
	debugfs -w -R "sif /c size 6000" img11 2>/dev/null &&
	iomapfs_mount img11 mnt &&
	test_eq 150 "$(cat mnt/c/file-150)" &&
	test_must_fail stat mnt/c/nothing 2>err &&
	test_grep "No such file" err &&
	test_eq 200 "$(ls mnt/c | wc -l)" &&
	test "$(dix_stat fallbacks)" -ge 2 &&
	iomapfs_unmount mnt
'

test_expect_success 'dir_index_max takes a size, and refuses what is none' '
	make_image img9 16M -t ext4 &&
	mkdir -p mnt2 &&
	test_expect_code 2 timeout 60 "$IOMAPFS" -f -o dir_index_max=lots img9 mnt2 2>err &&
	test_grep "dir_index_max=lots" err &&
	"$IOMAPFS" -h >help &&
	test_grep "dir_index_max=SIZE" help
'

test_done
