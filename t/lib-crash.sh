# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-crash.sh - the crash-test kit of the journal (the t68xx scripts, in
# the journal's t6 family), sourced after test-lib.sh.  Two ways to crash
# a filesystem and one check:
#
# - The kill loop (crash_kill_round): t/abuse/metawork.py works in a fresh
#   mount; at a random instant, 0.1 to 3 s after the work began, the mount
#   dies: kill -9 of the iomapfs daemon, or for the kernel's ext4 (the
#   reference a correct journal must match) a forced shutdown with
#   `xfs_io -x -c shutdown`, which stops the filesystem where it stands.
# - The power cut (crash_powercut): the filesystem runs on a file served by
#   t/helper/logdev, which logs every write and flush; after the run,
#   t/abuse/logreplay.py rebuilds the image at every flush point and at
#   random subsets of the writes after one, which is what a disk could
#   hold after a power cut.
# - The check (t/abuse/crashcheck) of each image: replay by a mount
#   (iomapfs's, or the kernel's), e2fsck -fn clean, and the tree one the
#   work could have produced with every durable marker intact.
#
# Each round and each power-cut run appends a line to $TRASH/crash.results
# ("round N seed S ... replay=ok fsck=ok tree=ok"); crash_summary sums them
# up.  CRASH_ROUNDS, CRASH_SEED, CRASH_STATES and CRASH_SECONDS let "make
# crash" run the same scripts long (see the Makefile and the README).

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP ${0##*/} is a test library, not a test"
	exit 0
fi

CRASH_ABUSE=$SRC_DIR/t/abuse
METAWORK="python3 $CRASH_ABUSE/metawork.py"
LOGREPLAY="python3 $CRASH_ABUSE/logreplay.py"
CRASHCHECK=$CRASH_ABUSE/crashcheck
LOGDEV=$HELPER_DIR/logdev
# The image of every crash test: big enough for a few seconds of work,
# small enough that e2fsck and copies are quick.
CRASH_IMAGE_SIZE=${CRASH_IMAGE_SIZE:-32M}
CRASH_WORKERS=${CRASH_WORKERS:-3}
export CRASH_WORKERS IOMAPFS

command -v python3 >/dev/null && test_set_prereq PYTHON
[ -x "$LOGDEV" ] && test_set_prereq LOGDEV
command -v xfs_io >/dev/null && test_set_prereq XFS_IO
command -v setfacl >/dev/null && test_set_prereq SETFACL
# The kernel's ext4 on a loop device: root, loop devices, ext4.
if test_have_prereq ROOT && command -v losetup >/dev/null &&
	[ -e /dev/loop-control ] && grep -qw ext4 /proc/filesystems; then
	test_set_prereq KEXT4
fi

# The pids and devices of the current round: one cleanup, registered once,
# stops what is still up at the end of the script (never a pid of an
# earlier round: pids are reused quickly here); a test that mounts runs it
# with test_when_finished too, so that a failure leaves nothing to the next.
CRASH_DAEMON=
CRASH_LOGDEV=
CRASH_LOOPS=
CRASH_MOUNTS=
crash_cleanup_() {
	local m l mounts=
	# Newest first: a kernel mount, then its loop device, then the FUSE
	# file under it.
	for m in $CRASH_MOUNTS; do
		mounts="$m $mounts"
	done
	for m in $mounts; do
		mountpoint -q "$m" 2>/dev/null || continue
		case $(findmnt -n -o FSTYPE "$m") in
		fuse*) ;;
		*) umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ;;
		esac
	done
	for l in $CRASH_LOOPS; do
		losetup -d "$l" 2>/dev/null
	done
	for m in $mounts; do
		if mountpoint -q "$m" 2>/dev/null; then
			fusermount3 -u "$m" 2>/dev/null ||
				fusermount3 -u -z "$m" 2>/dev/null
		fi
	done
	[ -n "$CRASH_DAEMON" ] && crash_stop_ "$CRASH_DAEMON" KILL
	[ -n "$CRASH_LOGDEV" ] && crash_stop_ "$CRASH_LOGDEV" TERM
	for m in $mounts; do
		crash_prune_ "$m"
	done
	CRASH_DAEMON=
	CRASH_LOGDEV=
	CRASH_LOOPS=
	CRASH_MOUNTS=
	return 0
}

# crash_prune_ MNT: a daemon killed with SIGKILL leaves the record of its
# -o ctl_socket at the default place (ctlpath.h): remove it, as
# "iomapctl list --prune" does (test-lib fails a script that leaves one).
# Call it once MNT is unmounted.
crash_prune_() {
	"$IOMAPCTL" list --prune "$1" >/dev/null 2>&1
	return 0
}

# crash_stop_ PID SIGNAL: signal a child of this shell and reap it; KILL
# it if it still runs 5 s later.
crash_stop_() {
	kill -"$2" "$1" 2>/dev/null || {
		wait "$1" 2>/dev/null
		return 0
	}
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
test_atexit crash_cleanup_

crash_track_mount_() {
	case " $CRASH_MOUNTS " in
	*" $1 "*) ;;
	*) CRASH_MOUNTS="$CRASH_MOUNTS $1" ;;
	esac
}

# crash_image IMG: a fresh ext4 image with a journal (4 KiB blocks).
crash_image() {
	make_image "$1" "$CRASH_IMAGE_SIZE" -t ext4 -b 4096
}

# crash_journal_ranges IMG: the journal's extents (inode 8), one
# "START,LEN" in bytes a line: logdev's --fail ranges for the journal.
crash_journal_ranges() {
	local bs
	bs=$(dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block size: *//p') &&
	[ -n "$bs" ] &&
	debugfs -R "stat <8>" "$1" 2>/dev/null | sed -n '/^EXTENTS:/{n;p;}' |
		tr ',' '\n' |
		sed -n 's/^ *([0-9-]*):\([0-9]*\)-\{0,1\}\([0-9]*\)$/\1 \2/p' |
		awk -v bs="$bs" '{ e = $2 == "" ? $1 : $2
			print $1 * bs "," (e - $1 + 1) * bs }'
}

# crash_delay SEED: the kill's delay in seconds, 0.1 to 3.0, from SEED.
crash_delay() {
	local ms
	RANDOM=$1
	ms=$((100 + (RANDOM * 32768 + RANDOM) % 2901))
	printf '%d.%03d\n' $((ms / 1000)) $((ms % 1000))
}

# crash_wait_start WORKLOG: until the work has set up (its "S start").
crash_wait_start() {
	for _ in $(seq 1 600); do
		grep -q '^S start' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "the work did not start within 30 s; its log:"
	cat "$1"
	return 1
}

# crash_wait_up_ PID LOG WHAT CMD...: wait up to 10 s for CMD to succeed;
# fail, showing LOG, when PID exits first.  The caller forgets PID then
# (the shell has reaped it, or it is killed here).
crash_wait_up_() {
	local pid=$1 log=$2 what=$3
	shift 3
	for _ in $(seq 1 200); do
		"$@" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$what: it exited first; its log:"
			cat "$log"
			wait "$pid" 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	echo "$what: not up within 10 s; its log:"
	cat "$log"
	crash_stop_ "$pid" KILL
	return 1
}

# crash_daemon_up IMG MNT: iomapfs on IMG at MNT (CRASH_DAEMON).
crash_daemon_up() {
	mkdir -p "$2" &&
	crash_track_mount_ "$2" || return 1
	"$IOMAPFS" -f -o "ctl_socket=$TRASH/crash-ctl.sock" "$1" "$2" \
		>"$TRASH/iomapfs-crash.log" 2>&1 &
	CRASH_DAEMON=$!
	crash_wait_up_ "$CRASH_DAEMON" "$TRASH/iomapfs-crash.log" \
		"iomapfs mounting $2" grep -q " $2 fuse" /proc/mounts ||
		CRASH_DAEMON=
	[ -n "$CRASH_DAEMON" ]
}

# crash_daemon_down MNT [kill]: unmount cleanly, or kill -9 the daemon
# (the dead mount stays, every access failing with ENOTCONN, until the
# caller drops it with fusermount3 -u -z).
crash_daemon_down() {
	local rc=0
	if [ "${2:-}" = kill ]; then
		kill -KILL "$CRASH_DAEMON"
		wait "$CRASH_DAEMON" 2>/dev/null
	else
		fusermount3 -u "$1" || rc=1
		wait "$CRASH_DAEMON" || rc=1
	fi
	CRASH_DAEMON=
	return $rc
}

# crash_kmount FILE MNT: the kernel's ext4 on a loop device over FILE.
crash_kmount() {
	local dev
	mkdir -p "$2" &&
	dev=$(losetup -f --show "$1") || return 1
	CRASH_LOOPS="$CRASH_LOOPS $dev"
	crash_track_mount_ "$2"
	mount -t ext4 "$dev" "$2" || {
		losetup -d "$dev"
		return 1
	}
}

# crash_kumount MNT: unmount and free its loop device.
crash_kumount() {
	local dev
	dev=$(findmnt -n -o SOURCE "$1") &&
	umount "$1" &&
	losetup -d "$dev" &&
	CRASH_LOOPS=${CRASH_LOOPS/ $dev/}
}

# crash_logdev_up IMG LOG MNT [logdev options]: serve IMG as MNT/disk.
crash_logdev_up() {
	local img=$1 log=$2 mnt=$3
	shift 3
	mkdir -p "$mnt" &&
	crash_track_mount_ "$mnt" || return 1
	"$LOGDEV" "$@" "$img" "$log" "$mnt" 2>"$TRASH/logdev.err" &
	CRASH_LOGDEV=$!
	crash_wait_up_ "$CRASH_LOGDEV" "$TRASH/logdev.err" \
		"logdev serving $mnt/disk" test -f "$mnt/disk" ||
		CRASH_LOGDEV=
	[ -n "$CRASH_LOGDEV" ]
}

crash_logdev_down() {
	fusermount3 -u "$1" &&
	wait "$CRASH_LOGDEV" || {
		echo "logdev did not exit cleanly; it said:"
		cat "$TRASH/logdev.err"
		return 1
	}
	CRASH_LOGDEV=
}

# crash_result LINE: one line of $TRASH/crash.results, and a note.
crash_result() {
	echo "$*" >>"$TRASH/crash.results"
	test_note "$*"
}

# crash_kill_round N SEED FS REPLAY: one round of the kill loop.  FS is
# iomapfs (kill -9 of the daemon) or kernel (xfs_io shutdown, with the
# log flushed first in odd rounds: -f); REPLAY is iomapfs, kernel or none.
# Fails when the check fails; the round's files stay in $TRASH/rN then.
crash_kill_round() {
	local n=$1 seed=$2 fs=$3 replay=$4 dir=$TRASH/r$1 delay wpid how rc
	delay=$(crash_delay "$seed")
	rm -rf "$dir" && mkdir -p "$dir" &&
	crash_image "$dir/img" || return 1
	case $fs in
	iomapfs) crash_daemon_up "$dir/img" "$TRASH/mnt" || return 1 ;;
	kernel) crash_kmount "$dir/img" "$TRASH/mnt" || return 1 ;;
	esac
	$METAWORK run "$TRASH/mnt" "$dir/work.log" "$seed" --seconds 60 \
		--workers "$CRASH_WORKERS" >"$dir/work.out" 2>&1 &
	wpid=$!
	crash_wait_start "$dir/work.log" || {
		kill "$wpid"
		return 1
	}
	sleep "$delay"
	# The work stops at its next step (ENOTCONN, EIO) before the mount
	# goes: after a lazy unmount it would go on in the empty directory.
	case $fs in
	iomapfs)
		how="kill -9"
		crash_daemon_down "$TRASH/mnt" kill
		wait "$wpid"
		fusermount3 -u -z "$TRASH/mnt" 2>/dev/null || umount -l "$TRASH/mnt"
		crash_prune_ "$TRASH/mnt"
		;;
	kernel)
		how="shutdown"
		[ $((n % 2)) -eq 1 ] && how="shutdown -f"
		xfs_io -x -c "$how" "$TRASH/mnt" || return 1
		wait "$wpid"
		crash_kumount "$TRASH/mnt" || return 1
		;;
	esac
	CRASH_WORK=$dir/check bash "$CRASHCHECK" "$dir/img" "$dir/work.log" \
		"$replay" >"$dir/check.out" 2>&1
	rc=$?
	crash_result "round $n seed $seed $fs $how at ${delay}s, replay by" \
		"$replay: $(head -n 1 "$dir/check.out");" \
		"work: $(head -n 1 "$dir/work.out" | cut -d' ' -f1-6)"
	if [ $rc -ne 0 ]; then
		sed -n '2,40p' "$dir/check.out"
		return 1
	fi
	rm -rf "$dir"
}

# crash_kill_loop ROUNDS SEED: ROUNDS rounds of kill -9 of iomapfs, the
# image replayed by iomapfs, or by the kernel in every third round; all
# rounds run, and it fails when one did.
crash_kill_loop() {
	local n s replay rc=0
	for n in $(seq 1 "$1"); do
		s=$(($2 * 1000 + n))
		replay=iomapfs
		[ $((n % 3)) -eq 0 ] && replay=kernel
		crash_kill_round "$n" "$s" iomapfs "$replay" || rc=1
		crash_cleanup_
	done
	crash_summary
	return $rc
}

# crash_powercut NAME SEED FS REPLAY SECONDS FLUSHPOINTS RANDOM: FS
# (iomapfs or kernel) runs the work for SECONDS on a logdev-served image;
# then FLUSHPOINTS flush points (all when empty) and RANDOM random states
# are rebuilt and checked with a replay by REPLAY.
crash_powercut() {
	local name=$1 seed=$2 fs=$3 replay=$4 secs=$5 nflush=$6 nrand=$7
	local dir=$TRASH/$1 rc fp=()
	rm -rf "$dir" && mkdir -p "$dir" &&
	crash_image "$dir/img" &&
	cp --sparse=always "$dir/img" "$dir/base" &&
	crash_logdev_up "$dir/img" "$dir/dev.log" "$TRASH/dev" || return 1
	case $fs in
	iomapfs) crash_daemon_up "$TRASH/dev/disk" "$TRASH/mnt" ;;
	kernel) crash_kmount "$TRASH/dev/disk" "$TRASH/mnt" ;;
	esac || return 1
	$METAWORK run "$TRASH/mnt" "$dir/work.log" "$seed" --seconds "$secs" \
		--workers "$CRASH_WORKERS" --ctl "$TRASH/dev/ctl" \
		>"$dir/work.out" 2>&1 && ! grep -q stopped_by "$dir/work.out" || {
		echo "the work failed on a live mount:"
		cat "$dir/work.out"
		return 1
	}
	case $fs in
	iomapfs) crash_daemon_down "$TRASH/mnt" ;;
	kernel) crash_kumount "$TRASH/mnt" ;;
	esac || return 1
	grep -q '^full 0' "$TRASH/dev/ctl" || {
		echo "the log is full:"
		cat "$TRASH/logdev.err"
		return 1
	}
	crash_logdev_down "$TRASH/dev" || return 1
	[ -n "$nflush" ] && fp=(--flush-points "$nflush")
	$LOGREPLAY states "$dir/base" "$dir/dev.log" "$dir/states" \
		--seed "$seed" --random "$nrand" "${fp[@]}" \
		--check "CRASH_WORK=\$CRASH_WORK bash '$CRASHCHECK' \"\$CRASH_IMAGE\" '$dir/work.log' $replay \"\$CRASH_MARKS\"" \
		>"$dir/states.out" 2>&1
	rc=$?
	crash_result "$name: $fs, seed $seed, ${secs}s of work" \
		"($(head -n 1 "$dir/work.out" | cut -d' ' -f1-6))," \
		"log: $($LOGREPLAY info "$dir/dev.log" | awk '$1=="writes"||$1=="flushes"{printf "%s %s ", $1, $2}')" \
		"replay by $replay: $(tail -n 1 "$dir/states.out");" \
		"failed states: replay $(grep -c '^FAIL.*replay=FAIL' "$dir/states.out")," \
		"e2fsck $(grep -c '^FAIL.*fsck=FAIL' "$dir/states.out")," \
		"tree $(grep -c '^FAIL.*tree=FAIL' "$dir/states.out")"
	if [ $rc -ne 0 ]; then
		grep -v '^ok ' "$dir/states.out" | head -n 20
		sed -n '1,30p' "$dir/states/fail-1.out" 2>/dev/null
		return 1
	fi
	rm -rf "$dir"
}

# crash_flush_points N: how many flush points a power-cut run checks: N,
# or CRASH_FLUSH_POINTS ("all": an empty word, every one).
crash_flush_points() {
	local n=${CRASH_FLUSH_POINTS:-$1}
	[ "$n" = all ] && n=
	echo "$n"
}

# crash_summary: the sums of $TRASH/crash.results, as a note.
crash_summary() {
	[ -f "$TRASH/crash.results" ] || return 0
	awk '
	/^round/ { r++; if (/replay=ok fsck=ok tree=ok/) p++;
		if (/replay=FAIL/) rf++; if (/fsck=FAIL/) ff++;
		if (/tree=FAIL/) tf++ }
	END { if (r) printf "kill loop: %d rounds, %d kills, %d passed; " \
		"replay failed %d, e2fsck -fn found problems %d, tree bad %d\n",
		r, r, p, rf, ff, tf }' "$TRASH/crash.results" >"$TRASH/.sum"
	[ -s "$TRASH/.sum" ] && test_note "$(cat "$TRASH/.sum")"
	return 0
}
