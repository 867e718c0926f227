#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1050-remount.sh - "mount -o remount,ro|rw" as for ext4.  The kernel
# tells a FUSE server nothing of a remount, and mount(8) runs mount.fuse3,
# which runs "iomapfs SOURCE MNT -o ...,remount,...": that process asks the
# daemon (SetReadOnly on its control socket) and remounts the kernel's
# side.  Going read-only writes everything out and marks the filesystem
# clean on disk; writes then fail with EROFS; going read-write marks it in
# use and writes work again.  Also: "iomapctl remount ro|rw" (the daemon's
# side only), and the refusals (a file open for writing, a removed file
# still open, a source mounted -o ro, errors recorded).
test_description='remount read-only and read-write'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,ROOT,E2FSPROGS,JQ ||
	skip_all "needs FUSE, root, e2fsprogs and jq"
[ -x "$IOMAPCTL" ] || skip_all "iomapctl is not built"
command -v unshare >/dev/null || skip_all "unshare (util-linux) is missing"

# state IMG: the filesystem state dumpe2fs reads from the superblock.
state() {
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^Filesystem state: *//p"
}

# in_use IMG: "in use" when the superblock says a read-write mount holds
# the filesystem: with the journal, needs_recovery (the state stays
# clean, the log is what a crash would replay); without, "not clean".
in_use() {
	if dumpe2fs -h "$1" 2>/dev/null |
		grep -q "^Filesystem features:.*needs_recovery" ||
		[ "$(state "$1")" = "not clean" ]; then
		echo "in use"
	else
		echo "not in use"
	fi
}

# kernel_opts MNT: the kernel's per-mount options of MNT.
kernel_opts() {
	awk -v m="$(realpath "$1")" '$5 == m { o = $6 } END { print o }' \
		/proc/self/mountinfo
}

# daemon_ro MNT: the daemon's read_only (true or false).
daemon_ro() {
	"$IOMAPCTL" -m "$1" -J status | jq .status.read_only
}

test_expect_success 'set up: an image with a file, mounted read-write' '
	mkdir -p src && echo before >src/f &&
	make_image img 32M -t ext4 -d src &&
	iomapfs_mount img mnt &&
	test_eq "in use" "$(in_use img)" "state while mounted"
'

test_expect_success 'iomapfs IMG MNT -o remount,ro (as mount.fuse3 runs it)' '
	echo more >>mnt/f &&
	"$IOMAPFS" img mnt -o ro,nosuid,nodev,relatime,remount,user_id=0,group_id=0,default_permissions &&
	test_eq clean "$(state img)" "state after remount,ro" &&
	fsck_clean img &&
	test_eq "before
more" "$(debugfs -R "cat /f" img 2>/dev/null)" "/f on disk" &&
	case ,$(kernel_opts mnt), in *,ro,*) ;; *) echo "kernel: $(kernel_opts mnt)"; false ;; esac &&
	case ,$(kernel_opts mnt), in *,nosuid,*nodev,*) ;; *) echo "lost nosuid/nodev: $(kernel_opts mnt)"; false ;; esac &&
	test_eq true "$(daemon_ro mnt)" &&
	test_must_fail touch mnt/new 2>err &&
	test_grep -q "Read-only file system" err &&
	test_eq "before
more" "$(cat mnt/f)"
'

test_expect_success 'iomapfs IMG MNT -o remount,rw: writable again, in use on disk' '
	"$IOMAPFS" img mnt -o rw,remount &&
	test_eq "in use" "$(in_use img)" "state after remount,rw" &&
	case ,$(kernel_opts mnt), in *,rw,*) ;; *) echo "kernel: $(kernel_opts mnt)"; false ;; esac &&
	test_eq false "$(daemon_ro mnt)" &&
	echo after >mnt/new &&
	test_eq after "$(cat mnt/new)"
'

test_expect_success 'remount,ro refused while a file is open for writing: nothing changes' '
	exec 8>>mnt/new &&
	test_when_finished "exec 8>&-" &&
	test_expect_code 7 "$IOMAPFS" img mnt -o ro,remount 2>err &&
	test_grep -q "open for writing" err &&
	test_eq false "$(daemon_ro mnt)" &&
	test_eq "in use" "$(in_use img)" &&
	echo still >mnt/new2
'

test_expect_success 'a removed file still open: the kernel and the daemon both refuse' '
	echo x >mnt/gone && exec 8<mnt/gone && rm mnt/gone &&
	test_when_finished "exec 8<&-" &&
	test_expect_code 7 "$IOMAPFS" img mnt -o ro,remount 2>err &&
	test_grep -q "removed file is still open" err &&
	test_expect_code 1 "$IOMAPCTL" -m mnt remount ro 2>err &&
	test_grep -q "RemountRefused" err &&
	test_grep -q "lost its last link is still open" err &&
	test_eq false "$(daemon_ro mnt)"
'

test_expect_success 'iomapctl remount ro|rw: the daemon side only' '
	"$IOMAPCTL" -m mnt remount ro >out &&
	test_eq read-only "$(cat out)" &&
	test_eq clean "$(state img)" &&
	case ,$(kernel_opts mnt), in *,rw,*) ;; *) echo "kernel: $(kernel_opts mnt)"; false ;; esac &&
	test_must_fail touch mnt/x 2>err &&
	test_grep -q "Read-only file system" err &&
	"$IOMAPCTL" -m mnt remount ro >out &&
	test_eq "read-only (it already was)" "$(cat out)" &&
	"$IOMAPCTL" -m mnt -J remount rw >out &&
	jq -e ".readonly == false and .previous == true" out &&
	touch mnt/x &&
	test_eq "in use" "$(in_use img)"
'

test_expect_success 'bad uses: no ro or rw, not an iomapfs mount, the wrong source' '
	test_expect_code 2 "$IOMAPFS" img mnt -o remount 2>err &&
	test_grep -q "wants ro or rw" err &&
	mkdir -p plain &&
	test_expect_code 6 "$IOMAPFS" img plain -o remount,ro 2>err &&
	test_grep -q "not an iomapfs mount" err &&
	cp img other.img &&
	test_expect_code 1 "$IOMAPFS" other.img mnt -o remount,ro 2>err &&
	test_grep -q "is the mount of $TRASH/img, not of other.img" err &&
	test_eq false "$(daemon_ro mnt)"
'

test_expect_success 'unmount: clean, and the data is there' '
	iomapfs_unmount mnt &&
	test_eq clean "$(state img)" &&
	fsck_clean img &&
	test_eq after "$(debugfs -R "cat /new" img 2>/dev/null)"
'

test_expect_success 'a source mounted -o ro stays read-only: remount,rw is refused' '
	iomapfs_mount img mnt -o ro &&
	test_expect_code 1 "$IOMAPFS" img mnt -o rw,remount 2>err &&
	test_grep -q "opened read-only" err &&
	case ,$(kernel_opts mnt), in *,ro,*) ;; *) echo "kernel: $(kernel_opts mnt)"; false ;; esac &&
	test_eq true "$(daemon_ro mnt)" &&
	iomapfs_unmount mnt
'

# The real thing: mount(8) runs mount.fuse3, which runs "iomapfs" from the
# standard PATH only, so a private mount namespace puts the built daemon
# in /usr/local/sbin.  The mount lives and dies inside it.
test_expect_success 'mount -o remount,ro and remount,rw through mount(8)' '
	mkdir -p sbin && ln -sf "$IOMAPFS" sbin/iomapfs &&
	cat >remount.sh <<-EOF &&
	set -u
	cd "$TRASH"
	fail() { echo "\$*"; exit 1; }
	trap "mountpoint -q mnt && umount mnt" EXIT
	mount --bind sbin /usr/local/sbin || exit 1
	mount -t fuse.iomapfs -o ctl_socket="$TRASH/ctl.sock" img mnt || exit 1
	echo one >mnt/one || fail "write before"
	mount -o remount,ro mnt || fail "remount,ro failed"
	grep -q " \$(realpath mnt) ro," /proc/self/mountinfo || fail "kernel not ro"
	test "\$(dumpe2fs -h img 2>/dev/null | sed -n "s/^Filesystem state: *//p")" = clean ||
		fail "not clean after remount,ro"
	touch mnt/two 2>/dev/null && fail "a write after remount,ro worked"
	test "\$("$IOMAPCTL" -s ctl.sock -J status | jq .status.read_only)" = true ||
		fail "the daemon is not read-only"
	mount -o remount,rw mnt || fail "remount,rw failed"
	grep -q " \$(realpath mnt) rw," /proc/self/mountinfo || fail "kernel not rw"
	echo two >mnt/two || fail "write after remount,rw"
	pid=\$("$IOMAPCTL" -s ctl.sock -J status | jq .status.pid)
	umount mnt
	for i in \$(seq 1 200); do kill -0 \$pid 2>/dev/null || exit 0; sleep 0.05; done
	fail "the daemon still runs 10 s after umount"
	EOF
	unshare -m --propagation private bash remount.sh &&
	test_eq clean "$(state img)" &&
	fsck_clean img &&
	test_eq two "$(debugfs -R "cat /two" img 2>/dev/null)"
'

test_done
