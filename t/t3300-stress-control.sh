#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t3300: coherence under stress while the cache is flipped around.  Four
# fio jobs with verify=crc32c (random writes into holes, random writes
# into unwritten preallocations, extending appends, mixed random reads and
# overwrites) and a loop that punches holes in a fifth file and fills them
# again, while iomapctl flushes, disables, enables and squeezes the cache
# (limits cache_max=8k and back) every 10 ms.  No verify error, every
# control call succeeds, the audit is clean, e2fsck is clean.  CI writes
# 4 x 32 MiB; IOMAPFS_STRESS_LONG=1 ("make stress") writes 1 GiB.
test_description='fio verify while the cache is flushed, disabled and squeezed'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"
. "$SRC_DIR/t/lib-stress.sh"

IMG=$TRASH/stress.img
MNT=$TRASH/mnt
SOCK=$TRASH/ctl.sock
export IMG MNT SOCK

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'mount' '
	make_dirty_image "$IMG" "$STRESS_IMG" -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" -o ctl_socket="$SOCK" &&
	mkdir "$MNT/fio"
'

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'fio verify, punches and control calls every 10 ms' '
	fio_jobs_file jobs.fio "$MNT/fio" "$STRESS_JOB_SIZE" &&
	test_when_finished "touch punch.stop ctl.stop" &&
	punch_loop_start "$MNT/punch" 16M 5 &&
	ctl_loop_start "$SOCK" 8k 64M "$MNT/punch" &&
	start=$(date +%s.%N) &&
	fio_rc=0 &&
	{ fio --output-format=json --output=fio.json jobs.fio >fio.err 2>&1 ||
		fio_rc=$?; } &&
	end=$(date +%s.%N) &&
	punch_loop_stop "$MNT/punch" 16M 5 &&
	ctl_loop_stop &&
	{
		fio_figures fio.json &&
		echo "verify errors: $(fio_errors fio.json) (fio exit $fio_rc)" &&
		echo "control calls: $(cat ctl.count) in" \
			"$(awk "BEGIN {printf \"%.1f\", $end - $start}") s" \
			"($CTL_NOTCACHED ranged flushes found nothing cached)" &&
		echo "punch/check/refill rounds: $(cat punch.count)" &&
		echo "cache: $("$IOMAPCTL" -s "$SOCK" -J stats | jq -c ".stats |
			{lookups, hits, upserts, stale_skips, invalidations,
			 evictions}")"
	} >figures &&
	cat figures &&
	test_eq 0 "$fio_rc" "fio exit code" &&
	test_eq 0 "$(fio_errors fio.json)" "sum of fio job errors" || {
		cat fio.err && jq ".jobs[] | {jobname, error}" fio.json && false
	}
'
[ -f "$TRASH/figures" ] && sed 's/^/# /' "$TRASH/figures"

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'audit after the run: mappings cached, none disagrees with the disk' '
	stress_audit "$SOCK" "$MNT"
'
[ -f "$TRASH/audit.figures" ] && sed 's/^/# /' "$TRASH/audit.figures"

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO,JQ,FALLOCATE 'unmount; e2fsck -fn clean' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

test_done
