#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2310-threads.sh - iomapfs(8): "-o threads=N: serve at most N FUSE
# requests at once, 1 to 256".  Sixteen O_DIRECT readers keep many READ
# requests waiting in the kernel; the daemon runs with -d, which logs each
# request when a worker takes it ("unique: U, opcode: ...") and again when
# it is answered ("   unique: U, ..."), so the log tells how many requests
# were being served at once.  With threads=1 and threads=2 that is exactly
# N (never more, and the readers make it reach N); with threads=6 it goes
# past 2, so the cap follows N (the image is dropped from the page cache
# first, so that the daemon's reads wait for the disk).  Out of range
# values are refused.
test_description='-o threads=N caps the requests served at once'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"

READERS=16

# most_at_once LOG: the most requests taken and not yet answered at one
# time.  FORGET and BATCH_FORGET get no answer, so they are not counted.
most_at_once() {
	awk '
	/^unique: [0-9]+, opcode: / {
		if ($4 == "FORGET" || $4 == "BATCH_FORGET")
			next
		u = $2
		open[u] = 1
		if (++n > most)
			most = n
		next
	}
	/^   unique: [0-9]+, / {
		u = $2
		if (u in open) {
			delete open[u]
			n--
		}
	}
	END { print most + 0 }' "$1"
}

# serve_readers N: mount with -d -o threads=N, read every file with
# O_DIRECT from READERS processes at once, unmount; leaves the log in
# threads-N.log and the count in most-N.
serve_readers() {
	local n=$1 i pids=
	mkdir -p mnt &&
	"$IOMAPFS" -d -o threads="$n" img mnt >"threads-$n.log" 2>&1 &
	IOMAPFS_PID=$!
	test_atexit "iomapfs_cleanup_ '$TRASH/mnt' $IOMAPFS_PID"
	test_wait_for 10 "mountpoint -q mnt" || return 1
	# The daemon reads the image through the page cache: drop the
	# image's pages, so that its reads wait for the disk and a worker
	# that waits lets the next one take a request (else two CPUs bound
	# how many requests run at once, whatever N is).
	sync img && dd if=img iflag=nocache count=0 status=none || return 1
	for i in $(seq $READERS); do
		dd if=mnt/f$i of=/dev/null bs=128k iflag=direct status=none &
		pids="$pids $!"
	done
	test_wait_all $pids &&
	iomapfs_unmount mnt &&
	test_grep -q "opcode: READ" "threads-$n.log" &&
	most_at_once "threads-$n.log" >"most-$n"
}

test_expect_success 'an image with one file per reader' '
	mkdir src &&
	for i in $(seq $READERS); do
		head -c 8M /dev/urandom >src/f$i || return 1
	done &&
	make_image img 256M -t ext4 -b 4096 -d src
'

test_expect_success 'threads=1: one request at a time' '
	serve_readers 1 &&
	test_eq 1 "$(cat most-1)" "requests served at once"
'

test_expect_success 'threads=2: two at a time, never more' '
	serve_readers 2 &&
	test_eq 2 "$(cat most-2)" "requests served at once"
'

test_expect_success 'threads=6: more than two, at most six' '
	serve_readers 6 &&
	most=$(cat most-6) &&
	test_note "threads=6: at most $most requests served at once" &&
	test "$most" -gt 2 && test "$most" -le 6 ||
		{ echo "expected 3 to 6 requests served at once, got $most" && false; }
'

test_show_notes

test_expect_success 'threads outside 1-256 is refused; 256 is allowed' '
	mkdir -p m &&
	test_expect_code 2 "$IOMAPFS" -o threads=257 img m 2>err &&
	test_grep "threads=257" err &&
	test_expect_code 2 "$IOMAPFS" -o threads=0 img m 2>err &&
	iomapfs_mount img m -o threads=256 &&
	cat m/f1 >/dev/null &&
	iomapfs_unmount m &&
	fsck_clean img
'

test_done
