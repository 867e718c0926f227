#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4170-ctl-socket-file.sh - the control socket as a file, on the real
# daemon: one stopped by SIGTERM or SIGINT removes it, and so does one
# that aborts (errors=panic); a mount with -o ctl_socket=PATH leaves a
# record at the default place (ctlpath.h) that names PATH, and takes it
# away with the socket; a relative ctl_socket still goes away when a
# detached daemon (which leaves its working directory) stops; and a
# killed daemon's leftovers are pruned by "iomapctl list --prune MNT".
test_description='the control socket and its record: where they are, when they go'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq FUSE,ROOT,E2FSPROGS,JQ,PYTHON3 ||
	skip_all "needs FUSE, root, e2fsprogs, jq and python3"
[ -x "$IOMAPCTL" ] || skip_all "iomapctl is not built"

RUN=/run/iomapfs

# default_name MNT: the name of MNT's socket, or record, in $RUN.
default_name() {
	echo "$RUN/$(systemd-escape --path "$(realpath "$1")").sock"
}
command -v systemd-escape >/dev/null ||
	skip_all "systemd-escape (systemd) is not installed"

# wait_gone PID: wait up to 10 s for process PID to end (not our child).
wait_gone() {
	local i
	for i in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "process $1 still runs after 10 s"
	return 1
}

# mount_bg IMG MNT OPTS: start the daemon as iomapfs_mount does, but with
# SIGINT at its default action (a background job of a script ignores it,
# and libfuse then leaves it ignored).
mount_bg() {
	local img=$1 mnt=$2 i
	shift 2
	mkdir -p "$mnt" || return 1
	env --default-signal=INT "$IOMAPFS" -f "$@" "$img" "$mnt" \
		>"$TRASH/iomapfs-$(basename "$mnt").log" 2>&1 &
	IOMAPFS_PID=$!
	test_atexit "iomapfs_cleanup_ '$mnt' $IOMAPFS_PID"
	for i in $(seq 1 200); do
		grep -q " $(realpath "$mnt") fuse" /proc/mounts && return 0
		kill -0 "$IOMAPFS_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "iomapfs did not mount $mnt:"
	cat "$TRASH/iomapfs-$(basename "$mnt").log"
	return 1
}

# stopped_by SIG MNT: send SIG to the daemon; it must unmount, exit 0 and
# leave neither its mount nor a sanitizer report.
stopped_by() {
	kill -"$1" "$IOMAPFS_PID" &&
	wait "$IOMAPFS_PID" &&
	! grep -q " $(realpath "$2") fuse" /proc/mounts &&
	test_no_sanitizer_report_ "$TRASH/iomapfs-$(basename "$2").log"
}

test_expect_success 'set up an image' '
	make_image img 32M -t ext4
'

for sig in TERM INT; do
	test_expect_success "SIG$sig removes the default socket" '
		S=$(default_name mnt1) &&
		mount_bg img mnt1 &&
		test -S "$S" &&
		stopped_by '$sig' mnt1 &&
		{ ! test -e "$S" || { echo "$S is left"; false; }; }
	'
done

test_expect_success 'ctl_socket=PATH: a record at the default place names it' '
	R=$(default_name mnt2) &&
	mount_bg img mnt2 -o ctl_socket="$TRASH/my.sock" &&
	test -S "$TRASH/my.sock" &&
	test -f "$R" && test_eq 600 "$(stat -c %a "$R")" &&
	test_eq "iomapfs-ctl-record 1" "$(head -n 1 "$R")" &&
	test_grep -qx "socket $TRASH/my.sock" "$R" &&
	test_grep -qx "ino $(stat -c %i "$TRASH/my.sock")" "$R" &&
	test_grep -qx "pid $IOMAPFS_PID" "$R" &&
	"$IOMAPCTL" -J -m mnt2 status >out &&
	jq -e ".status.socket == \"$TRASH/my.sock\" and
		.status.pid == $IOMAPFS_PID" out
'

test_expect_success 'SIGTERM removes the socket and its record' '
	stopped_by TERM mnt2 &&
	! test -e "$TRASH/my.sock" &&
	{ ! test -e "$R" || { echo "record $R is left:"; cat "$R"; false; }; }
'

test_expect_success 'SIGINT too' '
	mount_bg img mnt2 -o ctl_socket="$TRASH/my.sock" &&
	test -f "$R" &&
	stopped_by INT mnt2 &&
	! test -e "$TRASH/my.sock" && ! test -e "$R"
'

# corrupt_image IMG: a directory /bad whose block is garbage (t1010's).
corrupt_image() {
	local blk
	mkdir -p src/bad && echo x >src/bad/f &&
	make_image "$1" 32M -t ext4 -b 1024 -d src || return 1
	blk=$(debugfs -R "blocks /bad" "$1" 2>/dev/null | awk "{print \$1}")
	test -n "$blk" || return 1
	printf "\377%.0s" $(seq 1024) |
		dd of="$1" bs=1024 seek="$blk" conv=notrunc status=none
}

test_expect_success 'errors=panic: the aborting daemon removes its socket' '
	corrupt_image bad1.img &&
	S=$(default_name mnt3) &&
	mount_bg bad1.img mnt3 -o errors=panic &&
	test -S "$S" &&
	test_must_fail ls mnt3/bad &&
	wait_gone "$IOMAPFS_PID" &&
	test_grep -q "errors=panic" "$TRASH/iomapfs-mnt3.log" &&
	fusermount3 -u -z mnt3 &&
	{ ! test -e "$S" || { echo "$S is left"; false; }; }
'

test_expect_success 'errors=panic with ctl_socket=PATH: socket and record go' '
	corrupt_image bad2.img &&
	R=$(default_name mnt4) &&
	mount_bg bad2.img mnt4 -o errors=panic,ctl_socket="$TRASH/p.sock" &&
	test -S "$TRASH/p.sock" && test -f "$R" &&
	test_must_fail ls mnt4/bad &&
	wait_gone "$IOMAPFS_PID" &&
	fusermount3 -u -z mnt4 &&
	! test -e "$TRASH/p.sock" &&
	{ ! test -e "$R" || { echo "record $R is left"; false; }; }
'

test_expect_success 'a detached daemon with a relative ctl_socket removes it' '
	mkdir -p mnt5 &&
	"$IOMAPFS" -o ctl_socket=rel.sock img mnt5 2>detached.log &&
	test_when_finished "fusermount3 -u -z mnt5 2>/dev/null; true" &&
	vl_call rel.sock GetStatus >out && expect_ok out &&
	test_eq "$TRASH/rel.sock" "$(jq -r .parameters.socket out)" &&
	pid=$(jq .parameters.pid out) &&
	fusermount3 -u mnt5 &&
	wait_gone "$pid" &&
	{ ! test -e rel.sock || { echo "rel.sock is left"; false; }; } &&
	! test -e "$(default_name mnt5)"
'

test_expect_success 'after SIGKILL, list --prune MNT removes the record, and only it' '
	R=$(default_name mnt6) &&
	mount_bg img mnt6 -o ctl_socket="$TRASH/k.sock" &&
	test -f "$R" &&
	kill -KILL "$IOMAPFS_PID" && { wait "$IOMAPFS_PID" || true; } &&
	fusermount3 -u -z mnt6 &&
	test -f "$R" && test -S "$TRASH/k.sock" &&
	"$IOMAPCTL" -J list mnt6 >out &&
	jq -e "[.mounts[] | [.mountpoint, .state]] ==
		[[\"$TRASH/mnt6\", \"stale\"]]" out &&
	"$IOMAPCTL" -J list --prune mnt6 >out &&
	jq -e "[.mounts[] | [.mountpoint, .state, .socket]] ==
		[[\"$TRASH/mnt6\", \"removed\", \"$TRASH/k.sock\"]]" out &&
	! test -e "$R" &&
	test -S "$TRASH/k.sock" &&
	{ e2fsck -fy img >fsck.out 2>&1; test $? -le 1 || { cat fsck.out; false; }; }
'

test_expect_success "a killed daemon's stale socket is replaced by the next mount" '
	mount_bg img mnt6 -o ctl_socket="$TRASH/k.sock" &&
	"$IOMAPCTL" -J -m mnt6 status >out &&
	jq -e ".status.pid == $IOMAPFS_PID" out &&
	stopped_by TERM mnt6 &&
	! test -e "$TRASH/k.sock" && ! test -e "$R"
'

test_done
