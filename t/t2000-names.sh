# SPDX-License-Identifier: GPL-2.0-or-later
test_description='FUSE operations on names: create, mknod, mkdir, symlink, link, unlink, rmdir, rename, with the errors ext4 gives'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3 for the errno checker"

test_expect_success 'mount a fresh ext4' '
	scratch_fs -t ext4
'

test_expect_success 'create, write, list, stat: st_ino is the ext2 inode number' '
	echo hello >mnt/file &&
	test_eq hello "$(cat mnt/file)" &&
	ls mnt >ls.out && test_grep "^file$" ls.out &&
	test_eq "1 6 regular file" "$(stat -c "%h %s %F" mnt/file)" &&
	ino=$(stat -c %i mnt/file) &&
	sync mnt/file && image_replayed img view &&
	test_eq "$(debugfs_ino view /file)" "$ino" "debugfs inode"
'

test_expect_success 'mknod: fifo, character and block devices, socket' '
	mkfifo mnt/fifo &&
	mknod mnt/cdev c 1 3 &&
	mknod mnt/bdev b 259 70000 &&
	python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\"mnt/sock\")" &&
	test_eq "fifo" "$(stat -c %F mnt/fifo)" &&
	test_eq "character special file 1 3" "$(stat -c "%F %Hr %Lr" mnt/cdev)" &&
	test_eq "block special file 259 70000" "$(stat -c "%F %Hr %Lr" mnt/bdev)" &&
	test_eq "socket" "$(stat -c %F mnt/sock)" &&
	expect_sys EEXIST mknod mnt/fifo
'

test_expect_success 'mkdir and rmdir keep the link counts' '
	test_eq 3 "$(stat -c %h mnt)" &&
	mkdir mnt/d &&
	test_eq 2 "$(stat -c %h mnt/d)" &&
	test_eq 4 "$(stat -c %h mnt)" &&
	mkdir mnt/d/sub &&
	test_eq 3 "$(stat -c %h mnt/d)" &&
	expect_sys EEXIST mkdir mnt/d &&
	expect_sys ENOTEMPTY rmdir mnt/d &&
	expect_sys ENOTDIR rmdir mnt/file &&
	expect_sys ENOENT rmdir mnt/none &&
	expect_sys ENOENT mkdir mnt/none/x &&
	expect_sys ENOTDIR mkdir mnt/file/x &&
	rmdir mnt/d/sub &&
	test_eq 2 "$(stat -c %h mnt/d)" &&
	rmdir mnt/d &&
	test_eq 3 "$(stat -c %h mnt)" &&
	expect_sys ENOENT open mnt/d r
'

test_expect_success 'names longer than 255 bytes: ENAMETOOLONG' '
	long=$(printf "n%.0s" $(seq 256)) &&
	ok=$(printf "n%.0s" $(seq 255)) &&
	expect_sys ENAMETOOLONG open "mnt/$long" w,creat &&
	expect_sys ENAMETOOLONG mkdir "mnt/$long" &&
	expect_sys OK open "mnt/$ok" w,creat &&
	expect_sys OK unlink "mnt/$ok"
'

test_expect_success 'O_EXCL, unlink of a directory, ENOENT' '
	expect_sys EEXIST open mnt/file w,creat,excl &&
	mkdir mnt/dir &&
	expect_sys EISDIR unlink mnt/dir &&
	expect_sys EISDIR open mnt/dir w &&
	expect_sys ENOENT unlink mnt/none &&
	expect_sys ENOTDIR open mnt/file/x r &&
	rmdir mnt/dir
'

test_expect_success 'symlinks: fast (in the inode) and slow (in a block)' '
	ln -s file mnt/fast &&
	slow=$(printf "s%.0s" $(seq 300)) &&
	ln -s "$slow" mnt/slow &&
	test_eq file "$(readlink mnt/fast)" &&
	test_eq "$slow" "$(readlink mnt/slow)" &&
	test_eq hello "$(cat mnt/fast)" &&
	test_eq "4 300" "$(stat -c %s mnt/fast) $(stat -c %s mnt/slow)" &&
	test_eq 0 "$(stat -c %b mnt/fast)" &&
	test "$(stat -c %b mnt/slow)" -gt 0 &&
	expect_sys EEXIST symlink x mnt/fast &&
	expect_sys EINVAL readlink mnt/file &&
	big=$(printf "b%.0s" $(seq 5000)) &&
	expect_sys ENAMETOOLONG symlink "$big" mnt/big
'

test_expect_success 'hard links count, and outlive the first name' '
	ln mnt/file mnt/hard &&
	test_eq 2 "$(stat -c %h mnt/file)" &&
	test_eq "$(stat -c %i mnt/file)" "$(stat -c %i mnt/hard)" &&
	expect_sys EEXIST link mnt/file mnt/hard &&
	mkdir mnt/dd &&
	expect_sys EPERM link mnt/dd mnt/dd2 &&
	rm mnt/file &&
	test_eq 1 "$(stat -c %h mnt/hard)" &&
	test_eq hello "$(cat mnt/hard)" &&
	mv mnt/hard mnt/file && rmdir mnt/dd
'

test_expect_success 'rename: plain, over a file, over an empty directory, and the errors' '
	echo a >mnt/a && echo b >mnt/b &&
	ino_a=$(stat -c %i mnt/a) &&
	mv mnt/a mnt/c &&
	test_eq "$ino_a" "$(stat -c %i mnt/c)" &&
	expect_sys ENOENT open mnt/a r &&
	mv -f mnt/c mnt/b &&
	test_eq a "$(cat mnt/b)" &&
	mkdir mnt/d1 mnt/d2 && touch mnt/d2/f &&
	expect_sys ENOTEMPTY rename mnt/d1 mnt/d2 &&
	expect_sys ENOTDIR rename mnt/d1 mnt/b &&
	expect_sys EISDIR rename mnt/b mnt/d1 &&
	expect_sys EINVAL rename mnt/d2 mnt/d2/sub &&
	expect_sys ENOENT rename mnt/none mnt/x &&
	rm mnt/d2/f &&
	links=$(stat -c %h mnt) &&
	expect_sys OK rename mnt/d1 mnt/d2 &&
	test_eq $((links - 1)) "$(stat -c %h mnt)" &&
	expect_sys ENOENT open mnt/d1 r &&
	rmdir mnt/d2 && rm mnt/b
'

test_expect_success 'rename of a directory to another parent updates ".." and the link counts' '
	mkdir -p mnt/p1/child mnt/p2 &&
	touch mnt/p1/child/f &&
	mv mnt/p1/child mnt/p2/ &&
	test_eq 2 "$(stat -c %h mnt/p1)" &&
	test_eq 3 "$(stat -c %h mnt/p2)" &&
	test_eq "$(stat -c %i mnt/p2)" "$(stat -c %i mnt/p2/child/..)" &&
	ls mnt/p2/child/../child >out && test_grep "^f$" out
'

test_expect_success 'RENAME_NOREPLACE and RENAME_EXCHANGE' '
	echo one >mnt/x1 && echo two >mnt/x2 &&
	expect_sys EEXIST rename mnt/x1 mnt/x2 noreplace &&
	expect_sys OK rename mnt/x1 mnt/x3 noreplace &&
	expect_sys OK rename mnt/x3 mnt/x2 exchange &&
	test_eq two "$(cat mnt/x3)" &&
	test_eq one "$(cat mnt/x2)" &&
	expect_sys ENOENT rename mnt/x3 mnt/none exchange &&
	expect_sys OK rename mnt/p1 mnt/x2 exchange &&
	test_eq one "$(cat mnt/p1)" &&
	test_eq "directory" "$(stat -c %F mnt/x2)" &&
	expect_sys OK rename mnt/x2 mnt/p2/child/f exchange &&
	test_eq "$(stat -c %i mnt/p2/child)" "$(stat -c %i mnt/p2/child/f/..)" &&
	test_eq 3 "$(stat -c %h mnt/p2/child)" &&
	rm -r mnt/p1 mnt/p2 mnt/x2 mnt/x3
'

test_expect_success 'many names: the directory grows past one block, all listed' '
	mkdir mnt/many &&
	for i in $(seq 400); do
		: >"mnt/many/file-with-a-longish-name-$i" || return 1
	done &&
	test_eq 400 "$(ls mnt/many | wc -l)" &&
	test_eq 400 "$(find mnt/many -type f | wc -l)" &&
	for i in $(seq 1 2 400); do
		rm "mnt/many/file-with-a-longish-name-$i" || return 1
	done &&
	test_eq 200 "$(ls mnt/many | wc -l)" &&
	rm -r mnt/many
'

test_expect_success 'unlink of an open file frees it at the last close' '
	free0=$(stat -f -c %f mnt) &&
	dd if=/dev/zero of=mnt/big bs=1M count=4 status=none &&
	exec 8<mnt/big &&
	rm mnt/big &&
	expect_sys ENOENT open mnt/big r &&
	test "$(stat -f -c %f mnt)" -lt "$free0" &&
	test_eq 4194304 "$(stat -L -c %s /proc/self/fd/8)" &&
	exec 8<&- &&
	# the kernel sends RELEASE after close() has returned
	test_wait_for 10 "test_eq \$free0 \"\$(stat -f -c %f mnt)\" \"free blocks\""
'

test_expect_success 'statfs counts what is used' '
	stat -f -c "%S %l" mnt >sf && test_eq "1024 255" "$(cat sf)" &&
	f0=$(stat -f -c %f mnt) && i0=$(stat -f -c %d mnt) &&
	dd if=/dev/zero of=mnt/s bs=64k count=4 status=none && sync mnt/s &&
	test "$(stat -f -c %f mnt)" -le $((f0 - 256)) &&
	test_eq $((i0 - 1)) "$(stat -f -c %d mnt)" &&
	rm mnt/s
'

test_expect_success 'everything is right after a remount and e2fsck is clean' '
	mkdir mnt/keep && ln -s ../file mnt/keep/l &&
	iomapfs_unmount mnt && fsck_clean img &&
	iomapfs_mount img mnt &&
	test_eq hello "$(cat mnt/keep/l)" &&
	test_eq fifo "$(stat -c %F mnt/fifo)" &&
	scratch_done
'

test_done
