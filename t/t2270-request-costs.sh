#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2270: what common operations cost in FUSE requests, counted in the
# daemon's -d log.  Round trips, not our own code, set the speed of these
# paths (see the performance notes in issue 5): a cold `ls -l` must cost
# no LOOKUP or GETATTR per file (READDIRPLUS brings every entry with its
# attributes), a 1 MiB write(2) one WRITE of max_write (1 MiB or a page
# less, with the kernel's max_pages to match), and a 64 KiB append one
# WRITE.  The GETXATTR calls the kernel sends on its own (security.capability before each write(2),
# and ls's security.selinux and ACL lookups) are bounded, so that a new
# one per operation shows up here.
test_description='FUSE requests per ls -l entry, per write and per append'
. "$(dirname "$0")/test-lib.sh"

IMG=$TRASH/req.img
MNT=$TRASH/mnt
LOG=$TRASH/iomapfs-mnt.log
NFILES=500

# mark: the current length of the daemon's log, to count from there.
mark() {
	wc -l <"$LOG"
}

# count FROM OPCODE: the requests of type OPCODE logged after line FROM.
count() {
	tail -n +"$(($1 + 1))" "$LOG" | grep -c "opcode: $2 ("
}

# at_most WHAT N LIMIT: N must not exceed LIMIT; say which count failed.
at_most() {
	test "$2" -le "$3" || {
		echo "$1: $2 requests, expected at most $3"
		return 1
	}
}

test_expect_success FUSE,E2FSPROGS 'an image with a directory of small files' '
	mkdir -p src/many &&
	for i in $(seq $NFILES); do
		echo "$i" >"src/many/f$i" || return 1
	done &&
	make_image "$IMG" 64M -t ext4 -b 4096 -d src &&
	iomapfs_mount "$IMG" "$MNT" -d
'

test_expect_success FUSE,E2FSPROGS 'a cold ls -l: no LOOKUP or GETATTR per file' '
	m=$(mark) &&
	ls -l "$MNT/many" >listing &&
	test_eq $((NFILES + 1)) "$(wc -l <listing)" &&
	n=$(count $m READDIRPLUS) &&
	test "$n" -ge 1 &&
	at_most LOOKUP "$(count $m LOOKUP)" 2 &&
	at_most GETATTR "$(count $m GETATTR)" 2 &&
	at_most GETXATTR "$(count $m GETXATTR)" $((2 * NFILES + 4))
'

# The largest WRITE is 1 MiB, or a page less where a pipe of 1 MiB and a
# page cannot be had (devio_write_max(): a WRITE that fits the pipe is spliced,
# not copied).  The write-back cache sends them at close at the latest.
test_expect_success FUSE,E2FSPROGS '8 MiB of 1 MiB write(2)s go in WRITEs of max_write, 1 MiB or a page less' '
	mw=$(sed -n "s/^ *max_write=0x\([0-9a-f]*\)$/\1/p" "$LOG" | tail -n 1) &&
	test -n "$mw" &&
	mw=$((16#$mw)) &&
	test "$mw" -ge $((1048576 - 4096)) && test "$mw" -le 1048576 || {
		echo "max_write is ${mw:-not in the log}, expected 1 MiB or a page less"
		return 1
	} &&
	m=$(mark) &&
	dd if=/dev/zero of="$MNT/seq" bs=1M count=8 status=none &&
	want=$(((8 * 1048576 + mw - 1) / mw)) &&
	test_eq "$want" "$(count $m WRITE)" &&
	tail -n +"$((m + 1))" "$LOG" | grep "opcode: WRITE (" |
		sed -n "s/.*insize: \([0-9]*\).*/\1/p" | sort -rn | head -n $((want - 1)) >sizes &&
	test_eq $((want - 1)) "$(wc -l <sizes)" &&
	while read -r s; do
		test "$s" -eq $((mw + 80)) || {
			echo "a WRITE of $s bytes (with headers), not max_write ($mw) + 80"
			return 1
		}
	done <sizes &&
	at_most GETXATTR "$(count $m GETXATTR)" 8
'

test_expect_success FUSE,E2FSPROGS 'a 64 KiB append is one WRITE' '
	: >"$MNT/app" &&
	m=$(mark) &&
	for i in $(seq 16); do
		dd if=/dev/zero bs=64K count=1 status=none || return 1
	done >>"$MNT/app" &&
	test_eq 1048576 "$(stat -c %s "$MNT/app")" &&
	test_eq 16 "$(count $m WRITE)" &&
	at_most GETXATTR "$(count $m GETXATTR)" 16
'

test_expect_success FUSE,E2FSPROGS 'unmount; e2fsck is clean' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
