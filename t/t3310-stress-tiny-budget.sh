#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t3310: coherence under stress with the smallest cache the daemon allows
# (-o cache_max=4096,cache_inode_max=1024), so that nearly every upsert
# evicts something.  The four verifying fio jobs of t3300 and its
# punch-check-refill loop run; then the evictions counted by
# "iomapctl -J stats" must be many, the budget must hold at rest, the data
# must verify, the audit and e2fsck must be clean.  IOMAPFS_STRESS_LONG=1
# ("make stress") writes 1 GiB.
test_description='fio verify with a tiny cache budget (eviction all the time)'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"
. "$SRC_DIR/t/lib-stress.sh"

IMG=$TRASH/tiny.img
MNT=$TRASH/mnt
SOCK=$TRASH/ctl.sock
export IMG MNT SOCK

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'mount with the minimum budget' '
	make_dirty_image "$IMG" "$STRESS_IMG" -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$SOCK" \
		-o cache_max=4096,cache_inode_max=1024 &&
	"$IOMAPCTL" -s "$SOCK" limits >limits.out &&
	test_grep "^cache_max: *4096$" limits.out &&
	test_grep "^cache_inode_max: *1024$" limits.out &&
	mkdir "$MNT/fio"
'

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'fio verify and punches while the cache evicts' '
	fio_jobs_file jobs.fio "$MNT/fio" "$STRESS_JOB_SIZE" &&
	test_when_finished "touch punch.stop" &&
	punch_loop_start "$MNT/punch" 16M 6 &&
	fio_rc=0 &&
	{ fio --output-format=json --output=fio.json jobs.fio >fio.err 2>&1 ||
		fio_rc=$?; } &&
	punch_loop_stop "$MNT/punch" 16M 6 &&
	"$IOMAPCTL" -s "$SOCK" -J stats >stats.json &&
	{
		fio_figures fio.json &&
		echo "verify errors: $(fio_errors fio.json) (fio exit $fio_rc)" &&
		echo "punch/check/refill rounds: $(cat punch.count)" &&
		echo "cache: $(jq -c ".stats | {lookups, hits, upserts,
			evictions, bytes_hwm, mappings_hwm}" stats.json)"
	} >figures &&
	cat figures &&
	test_eq 0 "$fio_rc" "fio exit code" &&
	test_eq 0 "$(fio_errors fio.json)" "sum of fio job errors" || {
		cat fio.err && jq ".jobs[] | {jobname, error}" fio.json && false
	}
'
[ -f "$TRASH/figures" ] && sed 's/^/# /' "$TRASH/figures"

# The budget is enforced right after an insert, so concurrent upserts may
# overshoot it for a moment (bytes_hwm); at rest the cache must be within
# it, and the overshoot must stay bounded by the few requests in flight.
test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'evictions ran, and the budget held' '
	ev=$(jq .stats.evictions stats.json) &&
	up=$(jq .stats.upserts stats.json) &&
	bytes=$(jq .stats.bytes stats.json) &&
	hwm=$(jq .stats.bytes_hwm stats.json) &&
	if [ "$ev" -lt 100 ]; then
		echo "expected at least 100 evictions with a 4 KiB budget" \
			"($up upserts), got $ev"
		false
	fi &&
	if [ "$bytes" -gt 4096 ]; then
		echo "expected the cache at rest within 4096 bytes, it holds" \
			"$bytes"
		false
	fi &&
	if [ "$hwm" -gt 16384 ]; then
		echo "expected the transient overshoot of the 4096-byte" \
			"budget to stay under 16384 bytes, the high water mark" \
			"is $hwm"
		false
	fi
'

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'audit after the run: mappings cached, none disagrees with the disk' '
	stress_audit "$SOCK" "$MNT"
'
[ -f "$TRASH/audit.figures" ] && sed 's/^/# /' "$TRASH/audit.figures"

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'unmount; e2fsck -fn clean' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
