#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# crashcheck.sh - the check of one image after a crash, for the kill loop
# and for each state the power-cut rebuilder makes (t/lib-crash.sh):
#   1. replay: "kernel" mounts the image (mount on a loop device) and
#      unmounts it, "iomapfs" mounts it read-write with $IOMAPFS and
#      unmounts it, "none" does nothing;
#   2. e2fsck -fn must exit 0: no problem found, nothing repaired (an
#      optimisation it merely offers, "extent tree could be shorter",
#      leaves the exit 0: libext2fs never shortens a tree, so a clean
#      unmount by iomapfs may show it);
#   3. the tree, read through the kernel's read-only mount of the replayed
#      image (-o ro,noload: what the replay left, nothing replayed again),
#      must be one the work could have produced, with every marker intact:
#      t/abuse/metawork.py check WORKLOG [--durable DURABLE].
# Every step runs even when one before it failed, so that a report counts
# each kind of failure.  The first line printed sums the steps up:
#     replay=ok|FAIL fsck=ok|FAIL(N lines) tree=ok|FAIL(N problems)|skip
# and the lines after it say why.  Exit 0 when all passed, 1 otherwise, 2
# on a usage error.
#
# Usage: crashcheck.sh IMAGE WORKLOG kernel|iomapfs|none [DURABLE]
# Environment: IOMAPFS (the daemon, for iomapfs replays), CRASH_WORK (a
# scratch directory; default: a new one under TMPDIR), CRASH_WORKERS (the
# work's --workers; default 3).
set -u
export LC_ALL=C
PATH=/usr/sbin:/sbin:$PATH

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	echo "usage: crashcheck.sh IMAGE WORKLOG kernel|iomapfs|none [DURABLE]" >&2
	exit 2
fi
img=$1 wlog=$2 replay=$3 durable=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
case $replay in
kernel | iomapfs | none) ;;
*)
	echo "crashcheck.sh: replay '$replay' is none of kernel, iomapfs, none" >&2
	exit 2
	;;
esac

own_work=
work=${CRASH_WORK:-}
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/crashcheck.XXXXXX") || exit 2
	own_work=1
fi
mnt=$work/mnt
loop=
daemon=
mkdir -p "$mnt" || exit 2

# Whatever happens, leave no mount, loop device or daemon behind.
cleanup() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		umount "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null ||
			umount -l "$mnt" 2>/dev/null
	fi
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
		kill -KILL "$daemon" 2>/dev/null
	fi
	[ -n "$own_work" ] && rm -rf "$work"
}
trap cleanup EXIT

# kmount OPTS: the image on a loop device, mounted by the kernel.
kmount() {
	loop=$(losetup -f --show "$img") || return 1
	if ! mount -t ext4 -o "$1" "$loop" "$mnt" 2>"$work/mount.err"; then
		cat "$work/mount.err"
		dmesg 2>/dev/null | tail -n 5
		losetup -d "$loop"
		loop=
		return 1
	fi
}

kumount() {
	local rc=0
	umount "$mnt" || rc=1
	losetup -d "$loop" || rc=1
	loop=
	return $rc
}

details=$work/details
: >"$details"
r_replay=ok r_fsck=ok r_tree=ok

case $replay in
kernel)
	if ! { kmount rw && kumount; } >>"$details" 2>&1; then
		r_replay=FAIL
		echo "replay: the kernel's mount and unmount failed" >>"$details"
	fi
	;;
iomapfs)
	"$IOMAPFS" -f -o "ctl_socket=$work/ctl.sock" "$img" "$mnt" \
		>"$work/iomapfs.log" 2>&1 &
	daemon=$!
	up=
	for _ in $(seq 1 200); do
		if grep -q " $mnt fuse" /proc/mounts; then
			up=1
			break
		fi
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.05
	done
	if [ -n "$up" ] && fusermount3 -u "$mnt" && wait "$daemon"; then
		daemon=
	else
		r_replay=FAIL
		{
			echo "replay: iomapfs's read-write mount and unmount failed;" \
				"its log:"
			sed 's/^/  /' "$work/iomapfs.log"
		} >>"$details"
		fusermount3 -u -z "$mnt" 2>/dev/null
		kill -KILL "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
		daemon=
	fi
	;;
esac

if ! e2fsck -fn "$img" >"$work/fsck.out" 2>&1; then
	n=$(grep -c . "$work/fsck.out")
	r_fsck="FAIL($n lines)"
	{
		echo "e2fsck -fn found problems:"
		sed 's/^/  /' "$work/fsck.out" | head -n 60
	} >>"$details"
fi

if kmount ro,noload >>"$details" 2>&1; then
	dur=()
	[ -n "$durable" ] && dur=(--durable "$durable")
	if ! python3 "$here/metawork.py" check "$mnt" "$wlog" "${dur[@]}" \
		--workers "${CRASH_WORKERS:-3}" >"$work/tree.out" 2>&1; then
		n=$(sed -n 's/.* bad \([0-9]*\)$/\1/p' "$work/tree.out")
		r_tree="FAIL(${n:-?} problems)"
		{
			echo "the tree is not one the work could have produced:"
			sed 's/^/  /' "$work/tree.out" | head -n 60
		} >>"$details"
	fi
	tail -n 1 "$work/tree.out" >>"$details"
	kumount >>"$details" 2>&1 || r_tree=FAIL
else
	r_tree="FAIL(no mount)"
	echo "the kernel cannot mount the image read-only" >>"$details"
fi

echo "replay=$r_replay fsck=$r_fsck tree=$r_tree"
cat "$details"
[ "$r_replay$r_fsck$r_tree" = okokok ]
