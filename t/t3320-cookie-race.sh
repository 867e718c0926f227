#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t3320: the race of the validity cookie.  t/helper/genrace reads one file
# with eight O_DIRECT readers (every read reaches the daemon and fills the
# cache) while a writer punches, zeroes and truncates it and rewrites what
# it removed with a new generation, and a thief thread keeps allocating
# and freeing a second file so the freed blocks come back with foreign
# data (and checks that file: an overwriter rewrites the first file in
# place during the punches, and must never write into a freed block).  Every 32 bytes of the files say (file, block, generation): a read
# that returns a freed block, another block, or a generation older than
# the last completed write is caught and named.  Runs with the default
# cache, then with the minimum budget while iomapctl flushes, disables and
# enables it every 10 ms; then the audit and e2fsck must be clean.
test_description='validity cookie: readers fill the cache while truncates and punches run'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"
. "$SRC_DIR/t/lib-stress.sh"

IMG=$TRASH/race.img
MNT=$TRASH/mnt
SOCK=$TRASH/ctl.sock
GENRACE=$HELPER_DIR/genrace
export IMG MNT SOCK GENRACE
[ -x "$GENRACE" ] && test_set_prereq GENRACE

# race NAME: run genrace in $MNT/NAME for STRESS_SECONDS; figures in
# NAME.out, failures (what was expected, what was got) in NAME.err.
race() {
	mkdir -p "$MNT/$1" &&
	"$GENRACE" "$MNT/$1" "$STRESS_SECONDS" 8 >"$1.out" 2>"$1.err"
	rc=$?
	sed "s/^/$1: /" "$1.out" >>figures
	if [ $rc -ne 0 ]; then
		echo "expected genrace to find no bad read, it exited $rc:"
		cat "$1.err"
		return 1
	fi
	reads=$(sed -n "s/^reads //p" "$1.out") &&
	changes=$(awk '/^(punches|zero_ranges|truncates) /{s += $2} END {print s + 0}' "$1.out") &&
	if [ "${reads:-0}" -lt 100 ] || [ "$changes" -lt 10 ]; then
		echo "expected at least 100 reads and 10 punches/truncates," \
			"got ${reads:-0} and $changes"
		return 1
	fi
}

test_expect_success GENRACE 'the checker catches forged stale blocks' '
	"$GENRACE" --self-test >self.out 2>&1 ||
	{ echo "expected every forged case to be judged right:"; cat self.out; false; }
'

test_expect_success FUSE,E2FSPROGS,GENRACE,JQ 'mount' '
	: >figures &&
	make_dirty_image "$IMG" 128M -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$SOCK"
'

test_expect_success FUSE,E2FSPROGS,GENRACE,JQ 'no stale read with the cache on' '
	race cached &&
	"$IOMAPCTL" -s "$SOCK" -J stats >stats1.json &&
	echo "cached: cache $(jq -c ".stats | {lookups, hits, upserts,
		stale_skips, invalidations}" stats1.json)" >>figures &&
	hits=$(jq .stats.hits stats1.json) &&
	if [ "$hits" -lt 100 ]; then
		echo "expected the readers to hit the cache, got $hits hits"
		false
	fi
'

test_expect_success FUSE,E2FSPROGS,GENRACE,JQ 'no stale read with a tiny cache flipped every 10 ms' '
	"$IOMAPCTL" -s "$SOCK" limits cache_max=4096 cache_inode_max=1024 \
		>/dev/null &&
	mkdir -p "$MNT/squeezed" && : >"$MNT/squeezed/victim" &&
	test_when_finished "touch ctl.stop" &&
	ctl_loop_start "$SOCK" 4096 8k "$MNT/squeezed/victim" &&
	rc=0 &&
	{ race squeezed || rc=$?; } &&
	ctl_loop_stop && test_eq 0 $rc "the status of the squeezed race" &&
	echo "squeezed: control calls $(cat ctl.count)" >>figures &&
	"$IOMAPCTL" -s "$SOCK" -J stats >stats2.json &&
	echo "squeezed: cache $(jq -c ".stats | {lookups, hits, upserts,
		stale_skips, evictions}" stats2.json)" >>figures
'
[ -s "$TRASH/figures" ] && sed 's/^/# /' "$TRASH/figures"

test_expect_success FUSE,E2FSPROGS,GENRACE,JQ 'audit after the races: mappings cached, none disagrees with the disk' '
	stress_audit "$SOCK" "$MNT"
'
[ -f "$TRASH/audit.figures" ] && sed 's/^/# /' "$TRASH/audit.figures"

test_expect_success FUSE,E2FSPROGS,GENRACE,JQ 'unmount; e2fsck -fn clean' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
