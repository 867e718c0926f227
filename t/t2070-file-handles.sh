# SPDX-License-Identifier: GPL-2.0-or-later
test_description='file handles (name_to_handle_at, open_by_handle_at) work as on ext4: cached or not, after renames and remounts; ESTALE once the inode is gone'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
# open_by_handle_at needs CAP_DAC_READ_SEARCH, drop_caches root
test_have_prereq ROOT || skip_all "open_by_handle_at and drop_caches need root"
FH=$HELPER_DIR/fhandle
test -x "$FH" || skip_all "t/helper/fhandle is not built"

# drop_caches: the kernel forgets every dentry and inode nobody holds, so
# a handle must be looked up in the daemon again (LOOKUP of "." and "..").
drop_caches() {
	sync && echo 2 >/proc/sys/vm/drop_caches
}

# expect_open HANDLE WANT: fhandle open on mnt must print WANT (lines
# joined by ";"): "ino N;data ..." for a file, "ino N" for a directory,
# or an errno name.
expect_open() {
	local got
	got=$("$FH" open mnt $1 | paste -sd ";") || return 1
	if [ "$got" != "$2" ]; then
		echo "open_by_handle_at($1): expected \"$2\", got \"$got\""
		return 1
	fi
}

test_expect_success 'mount a fresh ext4 with files and nested directories' '
	make_image img 64M -t ext4 -N 2048 &&
	iomapfs_mount img mnt &&
	echo hello >mnt/f &&
	mkdir -p mnt/a/b/c mnt/x &&
	echo deep >mnt/a/b/c/g &&
	hf=$("$FH" get mnt/f) && test_note "handle of f: $hf" &&
	hc=$("$FH" get mnt/a/b/c) &&
	hg=$("$FH" get mnt/a/b/c/g) &&
	echo "$hf" >hf && echo "$hc" >hc && echo "$hg" >hg &&
	test_grep "^129 " hf
'

test_expect_success 'a handle opens its file while the kernel holds the inode' '
	expect_open "$(cat hf)" "ino $(stat -c %i mnt/f);data hello"
'

# (the inode numbers are taken first: stat would bring the inode back)
test_expect_success 'a handle opens its file after the kernel dropped the inode' '
	ino=$(stat -c %i mnt/f) && ino_g=$(stat -c %i mnt/a/b/c/g) &&
	drop_caches &&
	expect_open "$(cat hf)" "ino $ino;data hello" &&
	drop_caches &&
	expect_open "$(cat hg)" "ino $ino_g;data deep"
'

test_expect_success 'a directory handle is connected again through ".." lookups' '
	ino=$(stat -c %i mnt/a/b/c) &&
	drop_caches &&
	expect_open "$(cat hc)" "ino $ino" &&
	mv mnt/a/b mnt/x/b &&
	drop_caches &&
	expect_open "$(cat hc)" "ino $ino" &&
	test_eq deep "$(cat mnt/x/b/c/g)"
'

test_expect_success 'after a rename, and after its old directory was removed' '
	ino=$(stat -c %i mnt/x/b/c/g) &&
	mv mnt/x/b/c/g mnt/g2 &&
	expect_open "$(cat hg)" "ino $ino;data deep" &&
	rmdir mnt/x/b/c &&
	drop_caches &&
	expect_open "$(cat hg)" "ino $ino;data deep" &&
	expect_open "$(cat hc)" ESTALE
'

test_expect_success 'handles outlive an unmount and a new daemon' '
	ino=$(stat -c %i mnt/f) &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt &&
	expect_open "$(cat hf)" "ino $ino;data hello" &&
	expect_open "$("$FH" get mnt)" "ino 2"
'

test_expect_success 'an unlinked file that is still open: its handle opens it' '
	echo open >mnt/o &&
	ho=$("$FH" get mnt/o) &&
	ino=$(stat -c %i mnt/o) &&
	exec 3<mnt/o &&
	test_when_finished "exec 3<&-" &&
	rm mnt/o &&
	drop_caches &&
	expect_open "$ho" "ino $ino;data open"
'

test_expect_success 'ESTALE once the inode is gone, cached or not' '
	echo gone >mnt/d1 && echo gone >mnt/d2 &&
	h1=$("$FH" get mnt/d1) && h2=$("$FH" get mnt/d2) &&
	rm mnt/d1 mnt/d2 &&
	expect_open "$h1" ESTALE &&
	drop_caches &&
	expect_open "$h2" ESTALE
'

test_expect_success 'ESTALE once its number is reused by a new inode (new generation)' '
	echo old >mnt/r &&
	hr=$("$FH" get mnt/r) &&
	ino=$(stat -c %i mnt/r) &&
	rm mnt/r &&
	i=0 && echo new >mnt/n0 &&
	while [ "$(stat -c %i mnt/n$i)" != "$ino" ] && [ $i -lt 100 ]; do
		i=$((i + 1)) && echo new >mnt/n$i || return 1
	done &&
	test "$(stat -c %i mnt/n$i)" = "$ino" &&
	expect_open "$hr" ESTALE &&
	drop_caches &&
	expect_open "$hr" ESTALE &&
	expect_open "$("$FH" get mnt/n$i)" "ino $ino;data new"
'

test_expect_success 'handles that name no live inode of ours give ESTALE, never another file' '
	hf=$(cat hf) &&
	gen=${hf: -8} &&
	other=$(printf %x $((0x${gen:7:1} ^ 1))) &&
	drop_caches &&
	expect_open "${hf%?}$other" ESTALE &&
	expect_open "$(echo "$hf" | sed "s/^129 00000000/129 01000000/")" ESTALE &&
	count=$(dumpe2fs -h img 2>/dev/null | sed -n "s/^Inode count: *//p") &&
	for nodeid in 0 2 7 8 $((count + 1)) $((1 << 40)); do
		expect_open "$("$FH" fuse $nodeid 0)" ESTALE || return 1
	done &&
	expect_open "$("$FH" fuse 1 0)" "ino 2" &&
	test_eq hello "$(cat mnt/f)"
'

test_expect_success 'unmount; the image is clean' '
	iomapfs_unmount mnt && fsck_clean img
'

test_done
