#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2300: several writers and readers at once.  fio (verify=crc32c) runs
# four writers on their own files (two into preallocated unwritten
# extents, two filling holes), then four jobs of mixed random reads and
# overwrites (the lock-free path), while two readers check a shared
# pattern file past the page cache and a fifth job appends to another
# file.  Every byte fio wrote is verified, and e2fsck stays clean.
test_description='concurrent writers and readers (fio verify)'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

IMG=$TRASH/conc.img
MNT=$TRASH/mnt
export IMG MNT

# fio_with_readers N JOBFILE OUT: run fio on JOBFILE (its output in OUT)
# while N readers check the shared file; both must succeed.
fio_with_readers() {
	local rpid
	(readers "$1" >readers.out 2>&1; echo $? >readers.rc) &
	rpid=$! &&
	fio --output="$3" "$2" &&
	wait $rpid &&
	test_eq 0 "$(cat readers.rc)" "readers exit code" || {
		cat "$3" readers.out
		false
	}
}

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO 'mount; a shared pattern file' '
	make_dirty_image "$IMG" 384M -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" &&
	"$DATAIO" write "$MNT/shared" 0 16M 9 1M
'

# readers LOOPS: check the shared file past the page cache, over and over.
readers() {
	local i
	for i in $(seq 1 "$1"); do
		"$DATAIO" check "$MNT/shared" 0 16M 9 -n || return 1
	done
}

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO 'four writers with verify, two readers alongside' '
	cat >w.fio <<-EOF &&
	[global]
	directory=$MNT
	ioengine=psync
	bs=4k
	size=32M
	verify=crc32c
	verify_fatal=1
	randrepeat=1
	[prealloc]
	rw=randwrite
	fallocate=native
	numjobs=2
	[holes]
	rw=randwrite
	fallocate=none
	numjobs=2
	[append]
	rw=write
	bs=12k
	fallocate=none
	EOF
	fio_with_readers 6 w.fio w.out
'

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO 'four jobs of random reads and overwrites with verify' '
	cat >rw.fio <<-EOF &&
	[global]
	directory=$MNT
	ioengine=psync
	bs=4k
	size=32M
	verify=crc32c
	verify_fatal=1
	rw=randrw
	rwmixread=50
	[prealloc]
	numjobs=2
	[holes]
	numjobs=2
	EOF
	fio_with_readers 4 rw.fio rw.out
'

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO 'unmount; e2fsck clean; the shared file is intact' '
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	rm -f dump.out &&
	debugfs -R "dump /shared dump.out" "$IMG" >/dev/null 2>&1 &&
	"$DATAIO" check dump.out 0 16M 9
'

test_expect_success FUSE,E2FSPROGS,DATAIO,FIO 'filled preallocated files end up in few extents' '
	for f in prealloc.0.0 prealloc.1.0; do
		n=$(debugfs -R "ex /$f" "$IMG" 2>/dev/null | tail -n +2 | wc -l) &&
		test "$n" -ge 1 && test "$n" -le 64 || {
			echo "/$f, preallocated and then written all over, has $n extents"
			return 1
		}
	done
'

test_done
