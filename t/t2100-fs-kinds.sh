# SPDX-License-Identifier: GPL-2.0-or-later
test_description='every kind of filesystem: ext2, ext3, ext4 (extents, flex_bg, 64bit, metadata_csum), inline_data, 1 KiB and 4 KiB blocks'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

# A source tree for mke2fs -d: small and larger files, a symlink, a
# directory with enough names to need several blocks.
mkdir -p src/dir/many &&
echo small >src/small &&
head -c 300000 /dev/urandom >src/large &&
ln -s small src/link &&
for i in $(seq 60); do echo "$i" >"src/dir/many/entry-with-a-long-name-$i"; done

# exercise KIND MKE2FS-OPTIONS...: mount, check what mke2fs -d put there,
# change names and contents, remount, check, unmount, e2fsck.
exercise() {
	local kind=$1
	shift
	make_image "$kind.img" 64M -d src "$@" &&
	iomapfs_mount "$kind.img" mnt &&
	test_eq small "$(cat mnt/small)" &&
	cmp src/large mnt/large &&
	test_eq small "$(readlink mnt/link)" &&
	test_eq 60 "$(ls mnt/dir/many | wc -l)" &&
	test_eq "$(debugfs_ino "$kind.img" /large)" "$(stat -c %i mnt/large)" &&
	echo new >mnt/new && mkdir mnt/newdir && echo in >mnt/newdir/f &&
	mv mnt/dir/many mnt/newdir/ && ln -s newdir/f mnt/l2 &&
	cp src/large mnt/copy && rm mnt/small &&
	test_eq 4 "$(ls mnt/newdir/many/entry-with-a-long-name-4 >/dev/null && cat mnt/newdir/many/entry-with-a-long-name-4)" &&
	iomapfs_unmount mnt &&
	fsck_clean "$kind.img" &&
	iomapfs_mount "$kind.img" mnt &&
	test_eq new "$(cat mnt/new)" &&
	test_eq in "$(cat mnt/l2)" &&
	cmp src/large mnt/copy &&
	test_eq 60 "$(ls mnt/newdir/many | wc -l)" &&
	test_eq "$(stat -c %i mnt/newdir)" "$(stat -c %i mnt/newdir/many/..)" &&
	rm -r mnt/newdir mnt/copy &&
	iomapfs_unmount mnt &&
	fsck_clean "$kind.img" &&
	test -z "$(debugfs_ino "$kind.img" /newdir)" &&
	test -n "$(debugfs_ino "$kind.img" /new)"
}

test_expect_success 'ext2, 1 KiB blocks, 128-byte inodes' '
	exercise ext2 -t ext2 -b 1024 -I 128
'

test_expect_success 'ext3, 4 KiB blocks (block maps, journal)' '
	exercise ext3 -t ext3 -b 4096
'

test_expect_success 'ext4: extents, flex_bg, 64bit, metadata_csum, 4 KiB blocks' '
	exercise ext4 -t ext4 -b 4096 -O extent,flex_bg,64bit,metadata_csum
'

test_expect_success 'ext4 with 1 KiB blocks and no metadata_csum' '
	exercise ext4-1k -t ext4 -b 1024 -O ^metadata_csum
'

test_expect_success 'ext4 with inline_data: small files and directories in the inode' '
	exercise inline -t ext4 -O inline_data,metadata_csum -I 256 &&
	make_image in.img 32M -t ext4 -O inline_data -I 256 -d src &&
	debugfs -R "stat /small" in.img 2>/dev/null | test_grep "Size of inline data" &&
	iomapfs_mount in.img mnt &&
	test_eq small "$(cat mnt/small)" &&
	mkdir mnt/tiny mnt/tiny2 && echo t >mnt/tiny/t &&
	mv mnt/tiny mnt/tiny2/ &&
	test_eq "$(stat -c %i mnt/tiny2)" "$(stat -c %i mnt/tiny2/tiny/..)" &&
	ls -a mnt/tiny2/tiny >ls.out && test_eq ". .. t" "$(echo $(cat ls.out))" &&
	rm -r mnt/tiny2 &&
	iomapfs_unmount mnt &&
	fsck_clean in.img
'

test_done
