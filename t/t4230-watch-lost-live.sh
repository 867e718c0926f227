#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4230-watch-lost-live.sh - iomapfs-varlink(7): "a watcher that does not
# keep up loses events rather than slow the cache down, and is told how
# many it lost", on a real mount and through "iomapctl -J watch" (t4100
# tests the counting on t/helper/ctl-server).  The event ring is made
# small, the watcher is stopped (SIGSTOP: it reads nothing) while reading a
# sparse file over and over makes thousands of events, then it goes on.
# Every event carries its sequence number: each one the watcher prints
# must follow the one before it plus the number it was told it lost, and
# the printed and the lost together must be every event the cache counted
# (upserts, invalidations, evictions).
test_description='a slow watcher on a live mount is told how many events it lost'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq FUSE,E2FSPROGS,JQ,PYTHON3 ||
	skip_all "needs FUSE, e2fsprogs, jq and python3"

MNT=$TRASH/mnt
S=$TRASH/ctl.sock

# events_counted: how many events the cache made since the mount.
events_counted() {
	"$IOMAPCTL" -s "$S" -J stats |
		jq ".stats.upserts + .stats.invalidations + .stats.evictions"
}

# make_event: flush the cache and read /f past the page cache, which
# makes the daemon map it again: at least one event.
make_event() {
	"$IOMAPCTL" -s "$S" flush --all >/dev/null &&
	dd if="$MNT/f" of=/dev/null bs=4k iflag=direct status=none
}

# last_seq: the sequence number of the last event the watcher printed.
last_seq() {
	tail -n 1 watch.json | jq ".event.seq // 0"
}

test_expect_success 'mount; a small event ring' '
	make_ctl_image img &&
	iomapfs_mount img "$MNT" -o ctl_socket="$S" &&
	"$IOMAPCTL" -s "$S" limits event_ring=16 >limits.out &&
	test_grep "^event_ring: *16$" limits.out &&
	test_eq 0 "$(events_counted)" "events before the watch"
'

test_expect_success 'a stopped watcher loses events, and is told how many' '
	{ env --default-signal=INT "$IOMAPCTL" -s "$S" -J watch >watch.json 2>watch.err & } &&
	wpid=$! &&
	test_when_finished "kill -CONT $wpid; kill $wpid 2>/dev/null" &&
	# the watch has begun when an event reaches it
	test_wait_for 10 "make_event && test -s watch.json" &&
	kill -STOP $wpid &&
	for i in $(seq 10); do
		dd if="$MNT/sparse" of=/dev/null bs=1M iflag=direct status=none &&
		"$IOMAPCTL" -s "$S" flush --all >/dev/null || return 1
	done &&
	kill -CONT $wpid &&
	# Until the watcher has caught up: events made while its buffer is
	# still full are lost too, and a loss is told with the next event,
	# so each try makes one more and counts again.  (The wait used to
	# expand $(last_seq) once, before waiting, and passed only when the
	# watcher had already caught up: under ASan it had not.)
	test_wait_for 20 "make_event && total=\$(events_counted) &&
		test \"\$(last_seq)\" = \"\$total\"" &&
	test_eq "$total" "$(last_seq)" "the last event watched" &&
	kill -INT $wpid &&
	wait $wpid &&
	{ test ! -s watch.err || { cat watch.err && false; }; } &&
	jq -r "[.event.seq // \"-\", .lost] | @tsv" watch.json >seq-lost &&
	awk -v total=$total "
		\$1 == \"-\" { pending += \$2; next }
		\$1 != prev + pending + \$2 + 1 {
			print \"event\", \$1, \"after\", prev, \"with\", pending + \$2, \"said lost\"
			bad = 1
		}
		{ prev = \$1; pending = 0; lost += \$2; seen++ }
		END {
			print seen, \"events watched,\", lost, \"lost, of\", total
			if (lost == 0 || seen + lost != total)
				bad = 1
			exit bad
		}" seq-lost >check.out || { cat check.out && false; } &&
	test_note "$(tail -n 1 check.out)"
'
test_show_notes

test_expect_success 'the human watch prints a LOST row' '
	{ env --default-signal=INT "$IOMAPCTL" -s "$S" watch >watch.txt 2>&1 & } &&
	wpid=$! &&
	test_when_finished "kill -CONT $wpid; kill $wpid 2>/dev/null" &&
	test_wait_for 10 "make_event && test_grep -q \" upsert \" watch.txt" &&
	kill -STOP $wpid &&
	"$IOMAPCTL" -s "$S" flush --all >/dev/null &&
	dd if="$MNT/sparse" of=/dev/null bs=1M iflag=direct status=none &&
	kill -CONT $wpid &&
	test_wait_for 20 "test_grep -q \"^- *LOST *[1-9][0-9]* events lost: this watcher fell behind\" watch.txt" &&
	kill -INT $wpid &&
	wait $wpid
'

test_expect_success 'unmount' '
	iomapfs_unmount "$MNT" &&
	fsck_clean img
'

test_done
