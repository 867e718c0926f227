# SPDX-License-Identifier: GPL-2.0-or-later
test_description='iomapfs lifecycle: options, refused sources, locking, recovery, signals, unmount'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"

test_expect_success '-h lists every option with its default' '
	"$IOMAPFS" -h >out 2>&1 &&
	for o in ro rw fakeroot allow_other iomap_cache noiomap_cache \
		cache_max= cache_inode_max= ctl_socket= ctl_group= threads= \
		errors=; do
		test_grep -e "-o $o" out || return 1
	done &&
	test_grep "default: 64M" out &&
	test_grep "default: 16M" out &&
	test_grep "default: 8)" out &&
	test_grep "default: continue" out
'

test_expect_success '-V prints our version and the libraries'"'"' versions' '
	"$IOMAPFS" -V >out &&
	test_grep "^iomapfs [0-9]" out &&
	test_grep "^libfuse 3\." out &&
	test_grep "^libext2fs 1\." out
'

test_expect_success 'bad command lines exit 2 with a message' '
	mkdir -p m &&
	make_image ok.img 16M -t ext4 &&
	test_expect_code 2 "$IOMAPFS" 2>err && test_grep "no SOURCE" err &&
	test_expect_code 2 "$IOMAPFS" ok.img 2>err && test_grep "no MOUNTPOINT" err &&
	test_expect_code 2 "$IOMAPFS" ok.img m extra 2>err &&
	test_grep "too many arguments" err &&
	test_expect_code 2 "$IOMAPFS" -o threads=0 ok.img m 2>err &&
	test_grep "threads=0" err &&
	test_expect_code 2 "$IOMAPFS" -o threads=x ok.img m 2>err &&
	test_expect_code 2 "$IOMAPFS" -o cache_max=12Q ok.img m 2>err &&
	test_grep "cache_max=12Q" err &&
	test_expect_code 2 "$IOMAPFS" -o cache_inode_max=1 ok.img m 2>err &&
	test_expect_code 2 "$IOMAPFS" -o cache_max=1M,cache_inode_max=2M ok.img m 2>err &&
	test_grep "exceeds" err &&
	test_expect_code 2 "$IOMAPFS" -o errors=maybe ok.img m 2>err &&
	test_grep "continue, remount-ro or panic" err &&
	test_expect_code 2 "$IOMAPFS" -o no_such_option ok.img m 2>err &&
	test_grep "unknown option" err &&
	fsck_clean ok.img &&
	dumpe2fs -h ok.img 2>/dev/null | test_grep "state: *clean"
'

test_expect_success 'a missing source, a directory and a bad mountpoint are refused' '
	mkdir -p m adir && touch afile &&
	make_image ok.img 16M &&
	test_expect_code 3 "$IOMAPFS" nope.img m 2>err &&
	test_grep "nope.img: no such image file or block device" err &&
	test_expect_code 4 "$IOMAPFS" adir m 2>err &&
	test_grep "adir is a directory" err &&
	test_expect_code 6 "$IOMAPFS" ok.img nomnt 2>err &&
	test_grep "mountpoint nomnt does not exist" err &&
	test_expect_code 6 "$IOMAPFS" ok.img afile 2>err &&
	test_grep "mountpoint afile is not a directory" err
'

# Opening a FIFO would wait for a writer: the bound catches a hang.
test_expect_success 'a FIFO or a character device as SOURCE exits 4, naming it' '
	mkdir -p m && rm -f fifo && mkfifo fifo &&
	test_expect_code 4 timeout 20 "$IOMAPFS" -f fifo m 2>err &&
	test_grep "fifo is neither an image file nor a block device" err &&
	test_expect_code 4 timeout 20 "$IOMAPFS" -f /dev/null m 2>err &&
	test_grep "/dev/null is neither an image file nor a block device" err &&
	! mountpoint -q m
'

# A loop device, for the block device tests (root, a free loop device).
if test_have_prereq ROOT && command -v losetup >/dev/null &&
	losetup -f >/dev/null 2>&1; then
	test_set_prereq LOOP
fi

test_expect_success 'an unknown LABEL= or UUID= is refused' '
	mkdir -p m &&
	test_expect_code 3 "$IOMAPFS" LABEL=no-such-label-$$ m 2>err &&
	test_grep "LABEL=no-such-label-$$: no such filesystem found" err &&
	test_expect_code 3 "$IOMAPFS" UUID=00000000-1111-2222-3333-444444444444 m 2>err &&
	test_grep "no such filesystem found" err
'

test_expect_success LOOP 'a block device by UUID= and LABEL=, claimed exclusively' '
	make_image loop.img 32M -t ext4 -L iomt1000-$$ &&
	loop=$(losetup -f --show loop.img) &&
	test_atexit "losetup -d $loop" &&
	uuid=$(blkid -s UUID -o value "$loop") && test -n "$uuid" &&
	iomapfs_mount "UUID=$uuid" mnt &&
	test_grep "^$loop $TRASH/mnt fuseblk.iomapfs" /proc/mounts &&
	echo dev >mnt/f &&
	mkdir -p mnt2 &&
	test_expect_code 7 timeout 60 "$IOMAPFS" -f "$loop" mnt2 2>err &&
	test_grep "$loop is busy" err &&
	iomapfs_unmount mnt &&
	iomapfs_mount "LABEL=iomt1000-$$" mnt &&
	test_eq dev "$(cat mnt/f)" &&
	iomapfs_unmount mnt &&
	fsck_clean "$loop"
'

# The search for who holds a busy device looks at every descriptor of
# every process: one on another FUSE mount whose server does not answer
# (stopped here) must not make it hang.
test_expect_success LOOP 'a busy device is refused even when another FUSE mount does not answer' '
	make_image held.img 32M -t ext4 &&
	loop=$(losetup -f --show held.img) &&
	test_atexit "losetup -d $loop" &&
	iomapfs_mount "$loop" hmnt &&
	make_image other.img 32M -t ext4 &&
	iomapfs_mount other.img omnt &&
	other=$IOMAPFS_PID &&
	exec 9<>omnt/f &&
	echo x >&9 &&
	kill -STOP "$other" &&
	test_when_finished "kill -CONT $other; exec 9>&-" &&
	mkdir -p hmnt2 &&
	rc=0 &&
	timeout 20 "$IOMAPFS" -f "$loop" hmnt2 2>err || rc=$? &&
	test_eq 7 "$rc" "exit status (124: it hung)" &&
	test_grep "$loop is busy" err &&
	kill -CONT "$other" &&
	exec 9>&- &&
	iomapfs_unmount omnt "$other" &&
	iomapfs_unmount hmnt
'

test_expect_success 'vfat, swap and empty images are refused, naming what they hold' '
	mkdir -p m &&
	mkfs.vfat -C vfat.img 8192 >/dev/null &&
	test_expect_code 5 "$IOMAPFS" vfat.img m 2>err &&
	test_grep "vfat.img is vfat, not ext2/3/4" err &&
	truncate -s 8M swap.img && mkswap swap.img >/dev/null &&
	test_expect_code 5 "$IOMAPFS" swap.img m 2>err &&
	test_grep "swap.img is swap, not ext2/3/4" err &&
	truncate -s 8M zero.img &&
	test_expect_code 5 "$IOMAPFS" zero.img m 2>err &&
	test_grep "zero.img holds no filesystem" err &&
	! mountpoint -q m
'

test_expect_success 'mount, list, stat and unmount; the image ends clean' '
	make_image img 32M -t ext4 &&
	iomapfs_mount img mnt &&
	grep " $TRASH/mnt fuse.iomapfs " /proc/mounts >mounts &&
	test_grep "^$TRASH/img " mounts &&
	ls -a mnt >ls.out && test_grep "^lost+found$" ls.out &&
	test_eq 2 "$(stat -c %i mnt)" "root inode" &&
	test_eq 11 "$(stat -c %i mnt/lost+found)" "lost+found inode" &&
	dumpe2fs -h img 2>/dev/null >sb.mounted &&
	test_grep "^Filesystem features:.* needs_recovery" sb.mounted &&
	count=$(dumpe2fs -h img 2>/dev/null | sed -n "s/^Mount count: *//p") &&
	iomapfs_unmount mnt &&
	! mountpoint -q mnt &&
	fsck_clean img &&
	dumpe2fs -h img 2>/dev/null >sb &&
	test_grep "state: *clean$" sb &&
	test_grep "Last mount time" sb &&
	test_grep "^Last mounted on: *$TRASH/mnt$" sb &&
	test "$count" -ge 1
'

test_expect_success 'a second mount of the same image is refused' '
	make_image img 32M -t ext4 &&
	iomapfs_mount img mnt &&
	mkdir -p mnt2 &&
	test_expect_code 7 timeout 60 "$IOMAPFS" -f img mnt2 2>err &&
	test_grep "already mounted by another iomapfs" err &&
	! mountpoint -q mnt2 &&
	iomapfs_unmount mnt && fsck_clean img
'

test_expect_success PYTHON3 'a read-only mount gives EROFS to every change' '
	make_image img 32M -t ext4 &&
	mkdir -p src/d && echo data >src/f && ln -s f src/l &&
	make_image img 32M -t ext4 -d src &&
	iomapfs_mount img mnt -o ro &&
	test_grep " $TRASH/mnt fuse.iomapfs ro," /proc/mounts &&
	test_eq data "$(cat mnt/f)" &&
	expect_sys EROFS open mnt/new w,creat &&
	expect_sys EROFS open mnt/f w &&
	expect_sys EROFS mkdir mnt/x &&
	expect_sys EROFS unlink mnt/f &&
	expect_sys EROFS rmdir mnt/d &&
	expect_sys EROFS rename mnt/f mnt/g &&
	expect_sys EROFS link mnt/f mnt/g &&
	expect_sys EROFS symlink f mnt/s &&
	expect_sys EROFS truncate mnt/f 0 &&
	expect_sys EROFS setxattr mnt/f user.a b &&
	expect_sys EROFS utimens mnt/f now now &&
	test_must_fail chmod 600 mnt/f &&
	iomapfs_unmount mnt &&
	fsck_clean img
'

test_expect_success 'needs_recovery with an empty journal: mounted read-write, flag cleared' '
	make_image img 32M -t ext4 &&
	debugfs -w -R "feature needs_recovery" img >/dev/null 2>&1 &&
	iomapfs_mount img mnt &&
	test_grep "replayed 0 transactions" "$TRASH/iomapfs-mnt.log" &&
	echo x >mnt/f &&
	iomapfs_unmount mnt &&
	dumpe2fs -h img 2>/dev/null >features &&
	! grep -q needs_recovery features &&
	fsck_clean img
'

test_expect_success 'recorded errors: refused read-write, allowed read-only' '
	make_image img 32M -t ext4 &&
	debugfs -w -R "ssv state 3" img >/dev/null 2>&1 &&
	mkdir -p mnt &&
	test_expect_code 8 timeout 60 "$IOMAPFS" -f img mnt 2>err &&
	test_grep "errors are recorded.*run e2fsck" err &&
	iomapfs_mount img mnt -o ro &&
	iomapfs_unmount mnt &&
	dumpe2fs -h img 2>/dev/null | test_grep "state: *clean with errors"
'

# wait_gone PID: the daemon must exit, with status 0, within 5 s.
wait_gone() {
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "iomapfs (pid $1) still runs"
		return 1
	fi
	wait "$1"
}

test_expect_success 'SIGTERM, SIGHUP and SIGINT unmount cleanly, with everything on disk' '
	for sig in TERM HUP INT; do
		make_image img 32M -t ext4 && mkdir -p mnt || return 1
		# a shell starts background jobs with SIGINT ignored: undo that
		env --default-signal=INT "$IOMAPFS" -f img mnt 2>log &
		pid=$! &&
		test_atexit "iomapfs_cleanup_ \"$TRASH/mnt\" $pid" &&
		for i in $(seq 100); do mountpoint -q mnt && break; sleep 0.05; done &&
		echo "$sig" >mnt/file && mkdir mnt/dir &&
		kill -$sig $pid &&
		wait_gone $pid &&
		! mountpoint -q mnt &&
		fsck_clean img &&
		dumpe2fs -h img 2>/dev/null | test_grep "state: *clean$" &&
		test_eq "$sig" "$(debugfs -R "cat /file" img 2>/dev/null)" || return 1
	done
'

test_expect_success 'fsync reaches the image while mounted' '
	make_image img 32M -t ext4 &&
	iomapfs_mount img mnt &&
	echo synced >mnt/f && mkdir mnt/d &&
	sync mnt/f && sync -f mnt &&
	image_replayed img view &&
	test_eq synced "$(debugfs -R "cat /f" view 2>/dev/null)" &&
	debugfs -R "ls -l /" view 2>/dev/null | test_grep " d$" &&
	iomapfs_unmount mnt && fsck_clean img
'

test_expect_success 'without -f it detaches only after mounting; fusermount3 -u ends it' '
	make_image img 32M -t ext4 &&
	mkdir -p mnt &&
	"$IOMAPFS" img mnt 2>err &&
	test_atexit "fusermount3 -u -z \"$TRASH/mnt\"" &&
	mountpoint -q mnt &&
	pid=$(pgrep -f "^$IOMAPFS img mnt\$") && test -n "$pid" &&
	echo x >mnt/x &&
	fusermount3 -u mnt &&
	for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done &&
	! kill -0 $pid 2>/dev/null &&
	fsck_clean img &&
	test_must_fail "$IOMAPFS" vfat.img mnt 2>err &&
	test_grep "is vfat" err
'

test_expect_success 'mount.fuse3 runs it as fstab does (type fuse.iomapfs)' '
	make_image img 32M -t ext4 &&
	mkdir -p mnt &&
	PATH="$BUILD_DIR/daemon:$PATH" mount.fuse3 "$TRASH/img" "$TRASH/mnt" \
		-t iomapfs -o rw,noatime,errors=remount-ro,threads=4 &&
	test_atexit "fusermount3 -u -z \"$TRASH/mnt\"" &&
	test_grep " $TRASH/mnt fuse.iomapfs rw,.*noatime" /proc/mounts &&
	echo fstab >mnt/f &&
	umount mnt &&
	for i in $(seq 100); do
		pgrep -f "iomapfs $TRASH/img" >/dev/null || break; sleep 0.05
	done &&
	fsck_clean img &&
	test_eq fstab "$(debugfs -R "cat /f" img 2>/dev/null)"
'

test_done
