#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1210-faults.sh - faults under the image, each of which must give a clear
# error and never lose data silently: an image truncated to half while
# mounted (reads of data past its end fail with EIO and a log line, they
# do not come back short), a read-only loop device (refused read-write
# with the reason, served with -o ro), an image chmod'ed 0444 while
# mounted (the daemon's descriptor was opened read-write at mount, so
# writing goes on and lands in the image; a user who may not write the
# image is told to mount it with -o ro), and a full disk under the image
# (a sparse image on a small tmpfs: writes get ENOSPC, what was reported
# written reads back, and e2fsck brings the image to clean).
test_description='faults under the image: truncated, read-only, full'
. "$(dirname "$0")/test-lib.sh"

command -v python3 >/dev/null || skip_all "needs python3"
test_have_prereq FUSE,E2FSPROGS || skip_all "needs FUSE and e2fsprogs"

IMG=$TRASH/img
MNT=$TRASH/mnt

# mount_log: the daemon's log for $MNT (as iomapfs_mount names it).
mount_log() {
	echo "$TRASH/iomapfs-$(basename "$MNT").log"
}

# unmount_quietly: after a failed test, leave no mount for the next one.
unmount_quietly() {
	if mountpoint -q "$MNT"; then
		iomapfs_cleanup_ "$MNT" "$IOMAPFS_PID"
	fi
	return 0
}

drop_caches() {
	sync && echo 3 >/proc/sys/vm/drop_caches
}

test_expect_success ROOT 'an image truncated to half while mounted: EIO past its end, logged' '
	rm -rf src && mkdir src &&
	dd if=/dev/urandom of=src/low bs=1M count=4 status=none &&
	dd if=/dev/urandom of=big bs=1M count=40 status=none &&
	make_image "$IMG" 64M -t ext4 -b 4096 -d src &&
	debugfs -w -R "write big big" "$IMG" >/dev/null 2>&1 &&
	last=$(debugfs -R "blocks /low" "$IMG" 2>/dev/null | tr " " "\n" | sort -n | tail -n 1) &&
	test "$last" -lt 8192 &&
	iomapfs_mount "$IMG" "$MNT" &&
	test_when_finished "unmount_quietly" &&
	cmp big "$MNT/big" &&
	truncate -s 32M "$IMG" &&
	drop_caches &&
	test_must_fail cat "$MNT/big" >got 2>err &&
	cat err &&
	grep "Input/output error" err &&
	test_eq 41943040 "$(stat -c %s "$MNT/big")" "size after the failed read" &&
	test_grep "past the end of the device (33554432 bytes): was the image truncated" "$(mount_log)" &&
	cmp src/low "$MNT/low" &&
	kill -0 $IOMAPFS_PID &&
	stat "$MNT" >/dev/null &&
	iomapfs_unmount "$MNT"
'

test_expect_success ROOT 'a read-only loop device: refused read-write with the reason, served with -o ro' '
	rm -rf src && mkdir src && echo hello >src/f &&
	make_image "$IMG" 32M -t ext4 -d src &&
	loop=$(losetup -r -f --show "$IMG") &&
	test_when_finished "losetup -d $loop" &&
	test_expect_code 1 timeout 60 "$IOMAPFS" -f "$loop" "$MNT" >rw.out 2>&1 &&
	cat rw.out &&
	test_grep "is a read-only block device: mount it with -o ro" rw.out &&
	! mountpoint -q "$MNT" &&
	iomapfs_mount "$loop" "$MNT" -o ro &&
	test_when_finished "unmount_quietly" &&
	test_eq hello "$(cat "$MNT/f")" &&
	test_must_fail sh -c "echo x >\"$MNT/g\"" 2>err &&
	grep "Read-only file system" err &&
	iomapfs_unmount "$MNT"
'

test_expect_success ROOT 'an image made 0444 while mounted: writes go on and reach it' '
	make_image "$IMG" 32M -t ext4 &&
	iomapfs_mount "$IMG" "$MNT" &&
	test_when_finished "unmount_quietly" &&
	chmod 0444 "$IMG" &&
	test_when_finished "chmod 0644 \"$IMG\"" &&
	dd if=/dev/urandom of=data bs=64k count=16 status=none &&
	dd if=data of="$MNT/after" bs=64k conv=fsync status=none &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	debugfs -R "dump /after got" "$IMG" 2>/dev/null &&
	cmp data got
'

test_expect_success ROOT 'a user who may not write the image is told to mount it -o ro' '
	chmod 0444 "$IMG" && chmod 755 "$TRASH" &&
	mkdir -p "$MNT" &&
	test_must_fail setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$IOMAPFS" -f "$IMG" "$MNT" >user.out 2>&1 &&
	cat user.out &&
	test_grep "cannot open $IMG for writing: Permission denied" user.out &&
	test_grep "mount it with -o ro" user.out &&
	! mountpoint -q "$MNT"
'

# fill FILE LOG: write 64 KiB records of a per-offset pattern until a write
# fails, then fsync; LOG gets "written N", the bytes write() reported,
# "error E" for the failure and "fsync ok" or "fsync E".
FILL='
import os, struct, sys
p, log = sys.argv[1], open(sys.argv[2], "w")
fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
done = 0
while True:
    rec = struct.pack("<QQ", 0x46554c4c, done) * 4096
    try:
        n = os.write(fd, rec)
    except OSError as e:
        log.write("error %s\n" % e.strerror.replace(" ", "_"))
        break
    done += n
    if n < len(rec):
        log.write("short %d\n" % n)
log.write("written %d\n" % done)
try:
    os.fsync(fd)
    log.write("fsync ok\n")
except OSError as e:
    log.write("fsync %s\n" % e.strerror.replace(" ", "_"))
'
# check FILE N: the first N bytes of FILE hold the pattern of fill.
CHECK='
import struct, sys
data = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
if len(data) < n:
    sys.exit("%s: %d bytes, %d were reported written" % (sys.argv[1], len(data), n))
for off in range(0, n, 65536):
    rec = struct.pack("<QQ", 0x46554c4c, off) * 4096
    if data[off:min(n, off + 65536)] != rec[:min(n, off + 65536) - off]:
        sys.exit("%s: wrong data at %d" % (sys.argv[1], off))
print("verified %d bytes" % n)
'

# What write(2) reported written reads back: ext4's promise, which
# -o nowriteback_cache keeps; with the write-back cache the error comes at
# write-back and the pages that failed are lost (iomapfs(8), t2265).
test_expect_success ROOT 'a full disk under the image: ENOSPC, and what was written reads back' '
	mkdir -p small &&
	mount -t tmpfs -o size=24M tmpfs small &&
	test_atexit "umount -l \"$TRASH/small\"" &&
	truncate -s 64M small/img &&
	mke2fs -q -F -t ext4 -b 4096 small/img &&
	iomapfs_mount small/img "$MNT" -o nowriteback_cache &&
	test_when_finished "unmount_quietly" &&
	python3 -c "$FILL" "$MNT/fill" fill.log &&
	cat fill.log &&
	grep -E "^error (No_space_left_on_device|Input/output_error)" fill.log &&
	n=$(sed -n "s/^written //p" fill.log) &&
	test "$n" -gt $((8 << 20)) &&
	drop_caches &&
	python3 -c "$CHECK" "$MNT/fill" "$n" &&
	{
		# New metadata now has nowhere to go in the image: creating
		# must fail somewhere, loudly (create, write or fsync).
		python3 -c "
import os, sys
ok = 0
try:
    for i in range(200):
        d = sys.argv[1] + \"/d%d\" % i
        os.mkdir(d)
        fd = os.open(d + \"/f\", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b\"x\" * 8192)
        os.fsync(fd)
        os.close(fd)
        ok += 1
    print(\"all %d created and fsynced\" % ok)
except OSError as e:
    print(\"failed after %d: %s\" % (ok, e))
" "$MNT" >meta.out &&
		cat meta.out
	} &&
	grep -E "failed after [0-9]+: \[Errno (28|5)\]" meta.out &&
	python3 -c "$CHECK" "$MNT/fill" "$n" &&
	kill -0 $IOMAPFS_PID &&
	mount -o remount,size=96M small &&
	sync -f "$MNT/fill" &&
	iomapfs_unmount "$MNT" &&
	{ e2fsck -fy small/img >fsck.out 2>&1; test $? -le 1 || { cat fsck.out; false; }; } &&
	fsck_clean small/img &&
	debugfs -R "dump /fill fill.dump" small/img 2>/dev/null &&
	python3 -c "$CHECK" fill.dump "$n" &&
	cat fsck.out &&
	test_note "full disk: $(tr "\n" " " <fill.log); then $(cat meta.out);" \
		"e2fsck -fy: $(grep -c "^Fix" fsck.out) fixes; $n bytes verified"
'

test_show_notes
test_done
