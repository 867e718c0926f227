#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1040-mount-after-unmount.sh - "umount MNT && iomapfs IMG MNT" works
# every time.  umount of a FUSE mount returns as soon as the kernel has
# detached it, while the daemon still flushes and closes the image and
# holds its lock: the new daemon waits for a holder that is an iomapfs
# whose mount is gone (at most 10 s), and still refuses at once a live
# mount of the same image, or another program holding it.
test_description='mount right after unmount'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,ROOT,E2FSPROGS,JQ ||
	skip_all "needs FUSE, root, e2fsprogs and jq"
[ -x "$IOMAPCTL" ] || skip_all "iomapctl is not built"
PY3=$(PATH=/usr/local/bin:/usr/bin:/bin command -v python3) ||
	skip_all "python3 is not installed"

ROUNDS=${IOMAPFS_REMOUNT_ROUNDS:-30}

# daemon_pid MNT: the pid of the daemon serving MNT.
daemon_pid() {
	"$IOMAPCTL" -m "$1" -J status | jq -e .status.pid
}

# stop MNT: unmount MNT (a detached daemon's) and wait for its daemon.
stop() {
	local pid i
	pid=$(daemon_pid "$1") || return 1
	umount "$1" || return 1
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "the daemon of $1 (pid $pid) still runs 10 s after umount"
	return 1
}
test_atexit 'for m in mnt mnt2; do mountpoint -q $m && umount $m; done'

# churn MNT ROUND: give the daemon something to flush at unmount.
churn() {
	dd if=/dev/urandom of="$1/f$(($2 % 3))" bs=1M count=4 status=none
}

# holder NAME: a process named NAME holds the image's lock, with no mount
# of it; it lets go (and ends) when "go" is written to the fifo
# "release".  Sets HOLDER.  Named iomapfs, it looks like a daemon that is
# stopping.
holder() {
	local i
	rm -f release holder.out && mkfifo release || return 1
	"$PY3" -c "
import fcntl, sys
f = open(sys.argv[1], 'rb')
fcntl.flock(f, fcntl.LOCK_EX)
open('/proc/self/comm', 'w').write(sys.argv[3])
print('locked', flush=True)
open(sys.argv[2]).read()
" img release "$1" >holder.out &
	HOLDER=$!
	for i in $(seq 1 100); do
		grep -q locked holder.out && return 0
		sleep 0.05
	done
	echo "the holder did not start"
	return 1
}

test_expect_success 'set up' '
	make_image img 64M -t ext4 &&
	mkdir -p mnt mnt2
'

test_expect_success "umount && iomapfs IMG MNT, $ROUNDS times: never busy" '
	"$IOMAPFS" img mnt 2>>mount.err &&
	for i in $(seq 1 $ROUNDS); do
		churn mnt $i &&
		umount mnt &&
		"$IOMAPFS" img mnt 2>>mount.err || {
			echo "round $i failed:"; grep -v "journal is not used" mount.err
			return 1
		}
	done &&
	stop mnt &&
	fsck_clean img
'

# The mount(8) path: mount.fuse3 runs "iomapfs" from the standard PATH
# (mount(8) gives its helpers no other), so a private mount namespace puts
# the built one in /usr/local/sbin for the length of the loop.
test_expect_success "umount && mount -t fuse.iomapfs IMG MNT, $ROUNDS times" '
	mkdir -p sbin && ln -sf "$IOMAPFS" sbin/iomapfs &&
	cat >loop.sh <<-EOF &&
	set -u
	trap "mountpoint -q mnt && umount mnt" EXIT
	mount --bind "$TRASH/sbin" /usr/local/sbin || exit 1
	mount -t fuse.iomapfs "$TRASH/img" "$TRASH/mnt" 2>>mount8.err || exit 1
	for i in \$(seq 1 $ROUNDS); do
		dd if=/dev/urandom of=mnt/f\$((i % 3)) bs=1M count=4 status=none &&
		umount mnt &&
		mount -t fuse.iomapfs "$TRASH/img" "$TRASH/mnt" 2>>mount8.err || {
			echo "round \$i failed:"; cat mount8.err; exit 1
		}
	done
	pid=\$("$IOMAPCTL" -m mnt -J status | jq .status.pid)
	umount mnt
	for i in \$(seq 1 200); do kill -0 \$pid 2>/dev/null || exit 0; sleep 0.05; done
	echo "the daemon still runs 10 s after umount"; exit 1
	EOF
	unshare -m --propagation private bash loop.sh &&
	fsck_clean img
'

test_expect_success 'a second live mount of the image is refused, without waiting' '
	"$IOMAPFS" img mnt &&
	test_expect_code 7 "$IOMAPFS" img mnt2 2>err &&
	test_grep -q "already mounted by another iomapfs" err &&
	! test_grep -q "waiting for" err &&
	! mountpoint -q mnt2 &&
	stop mnt
'

test_expect_success 'another program holding the image is refused, without waiting' '
	holder hold &&
	test_when_finished "kill $HOLDER" &&
	test_expect_code 7 "$IOMAPFS" img mnt 2>err &&
	test_grep -q "locked by another program" err &&
	! test_grep -q "waiting for" err
'

# mount_waiting: start "iomapfs img mnt" (sets NEW) and wait until it says
# that it waits.
mount_waiting() {
	local i
	"$IOMAPFS" img mnt 2>wait.err &
	NEW=$!
	for i in $(seq 1 200); do
		grep -q "waiting for" wait.err && return 0
		kill -0 "$NEW" 2>/dev/null || break
		sleep 0.05
	done
	echo "iomapfs did not wait; it said:"
	cat wait.err
	return 1
}

test_expect_success 'a stopping iomapfs is waited for, then the mount goes on' '
	holder iomapfs &&
	test_when_finished "kill $HOLDER 2>/dev/null" &&
	mount_waiting &&
	test_grep -q "waiting for iomapfs (pid $HOLDER), whose mount is gone" wait.err &&
	! mountpoint -q mnt &&
	echo go >release &&
	wait $NEW &&
	mountpoint -q mnt &&
	stop mnt
'

test_expect_success 'one that does not stop within 10 s: refused, and says so' '
	holder iomapfs &&
	test_when_finished "kill $HOLDER 2>/dev/null" &&
	test_expect_code 7 "$IOMAPFS" img mnt 2>err &&
	test_grep -q "still held by iomapfs (pid $HOLDER) after 10 s" err &&
	! mountpoint -q mnt
'

test_done
