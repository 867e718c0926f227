#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4200-ctl-live-abuse.sh - the control socket of a LIVE mount under hostile
# clients (t/abuse/sockabuse.py, raw bytes): 10,000 mutated or random
# messages over 1,000 connections, calls dribbled byte by byte and calls
# cut in the middle, 1,000 idle connections (the server keeps at most 256
# and evicts the idlest: its fd count must stay bounded), and clients that
# start Dump/Watch streams and never read.  Meanwhile a well-behaved client
# must get every GetStatus answered within 2 s, and a reader/writer loop on
# the mount must see no 4 KiB O_DIRECT operation take more than 2 s nor
# read back wrong data.  The figures are printed as TAP diagnostics.
test_description='control socket of a live mount: hostile clients'
. "$(dirname "$0")/test-lib.sh"

command -v python3 >/dev/null || skip_all "needs python3"
test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"

ABUSE="python3 $T_DIR/abuse/sockabuse.py"
IMG=$TRASH/img
MNT=$TRASH/mnt
S=$TRASH/ctl.sock
# The bound on one I/O or one GetStatus; an unloaded machine sees tens of
# ms.  IOMAPFS_ABUSE_MAX_MS raises it for slow (sanitizer) builds.
MAX_MS=${IOMAPFS_ABUSE_MAX_MS:-2000}
# The number of hostile messages (make check-hardening-long sends more).
MESSAGES=${IOMAPFS_ABUSE_MESSAGES:-10000}

# val KEY FILE: the value of "KEY value" in FILE.
val() {
	sed -n "s/^$1 //p" "$2"
}

# good_ok FILE: the well-behaved client of that phase was always answered,
# within MAX_MS; its figures become diagnostics.
good_ok() {
	test_note "$(basename "$1" .out): GetStatus calls $(val good_calls "$1")," \
		"failed $(val good_failed "$1"), max $(val good_max_ms "$1") ms"
	test "$(val good_calls "$1")" -gt 0 &&
	test_eq 0 "$(val good_failed "$1")" "failed GetStatus calls" &&
	test "$(val good_max_ms "$1")" -le $MAX_MS || {
		echo "a well-behaved client suffered:"
		cat "$1"
		return 1
	}
}

# rss PID: the resident memory of PID, in KiB.
rss() {
	sed -n "s/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/$1/status
}

# alive: the daemon still runs and the mount still answers.
alive() {
	kill -0 "$IOMAPFS_PID" && stat "$MNT" >/dev/null &&
	mountpoint -q "$MNT"
}

test_expect_success 'mount an image with a few files and start I/O' '
	rm -rf src && mkdir src &&
	dd if=/dev/urandom of=src/f bs=4096 count=64 status=none &&
	make_image "$IMG" 64M -t ext4 -b 4096 -d src &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$S" &&
	test -S "$S" &&
	cat "$MNT/f" >/dev/null &&
	rm -f io.stop &&
	{ $ABUSE ioloop "$MNT/io" 600 io.stop >io.out 2>io.err & } &&
	echo $! >io.pid &&
	rss $IOMAPFS_PID >rss.start
'
# The I/O loop runs through all the phases below, until io.stop.

test_expect_success "$MESSAGES mutated and random messages" '
	$ABUSE "$S" fuzz $MESSAGES 4200 >fuzz.out &&
	cat fuzz.out &&
	test_note "fuzz: sent $(val sent fuzz.out) messages over" \
		"$(val conns fuzz.out) connections, $(val replies fuzz.out)" \
		"replies, $(val server_closed fuzz.out) closed by the server;" \
		"$(val kinds fuzz.out)" &&
	test_eq $((MESSAGES / 10)) "$(val conns fuzz.out)" connections &&
	test "$(val sent fuzz.out)" -ge $((MESSAGES * 9 / 10)) &&
	test "$(val replies fuzz.out)" -gt $((MESSAGES / 10)) &&
	good_ok fuzz.out &&
	alive
'
test_show_notes

test_expect_success 'calls dribbled byte by byte are answered; cut calls are dropped' '
	$ABUSE "$S" partial 40 >partial.out &&
	cat partial.out &&
	test_note "partial: $(val dribbled partial.out) dribbled," \
		"$(val dribbled_answered partial.out) answered," \
		"$(val cut partial.out) cut and closed" &&
	test_eq 40 "$(val dribbled_answered partial.out)" "dribbled calls answered" &&
	good_ok partial.out &&
	alive
'
test_show_notes

test_expect_success '1,000 idle connections: the idlest are evicted, fds stay bounded' '
	$ABUSE "$S" idle 1000 3 "$IOMAPFS_PID" >idle.out &&
	cat idle.out &&
	test_note "idle: $(val opened idle.out) connections, $(val evicted idle.out)" \
		"evicted, daemon max $(val daemon_max_fds idle.out) fds" &&
	test_eq 1000 "$(val opened idle.out)" &&
	test "$(val evicted idle.out)" -ge 744 &&
	test "$(val daemon_max_fds idle.out)" -le 600 &&
	good_ok idle.out &&
	test "$(ls /proc/$IOMAPFS_PID/fd | wc -l)" -le 100 &&
	alive
'
test_show_notes

test_expect_success 'clients that never read their Dump and Watch streams' '
	$ABUSE "$S" noread 50 4 >noread.out &&
	cat noread.out &&
	test_note "noread: $(val noread_clients noread.out) clients sent" \
		"$(val noread_calls noread.out) calls, the server dropped" \
		"$(val noread_dropped noread.out)" &&
	good_ok noread.out &&
	for i in $(seq 1 100); do
		test "$(ls /proc/$IOMAPFS_PID/fd | wc -l)" -le 100 && break
		sleep 0.1
	done &&
	test "$(ls /proc/$IOMAPFS_PID/fd | wc -l)" -le 100 &&
	alive
'
test_show_notes

test_expect_success 'I/O on the mount went on, with bounded latency and right data' '
	touch io.stop &&
	wait "$(cat io.pid)" &&
	cat io.out io.err &&
	test_note "I/O: $(val io_ops io.out) 4 KiB O_DIRECT operations," \
		"max $(val io_max_ms io.out) ms, $(val io_bad io.out) bad reads" &&
	test "$(val io_ops io.out)" -gt 100 &&
	test_eq 0 "$(val io_bad io.out)" "bad reads" &&
	test "$(val io_max_ms io.out)" -le $MAX_MS
'
test_show_notes

test_expect_success 'the daemon holds no more memory than before, give or take' '
	start=$(cat rss.start) && now=$(rss $IOMAPFS_PID) &&
	test_note "daemon RSS: $start KiB before, $now KiB after" &&
	# (ASan keeps freed memory in quarantine, up to 256 MiB and more.)
	if ldd "$IOMAPFS" | grep -q libasan; then
		slack=1048576
	else
		slack=65536
	fi &&
	test "$now" -le $((start + slack))
'
test_show_notes

test_expect_success 'the daemon unmounts cleanly and the image is clean' '
	! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$TRASH/iomapfs-mnt.log" &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'
test_show_notes

test_done
