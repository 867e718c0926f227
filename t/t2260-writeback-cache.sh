#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2260: the kernel's write-back cache (issue 15), on by default.  Small
# appends are gathered: 10,000 4-byte O_APPEND writes reach the daemon as
# a few large WRITEs, not 10,000 (and with no GETXATTR of
# security.capability each, FUSE_HANDLE_KILLPRIV_V2); -o nowriteback_cache
# sends each one.  The kernel owns size, mtime and ctime of a cached file:
# after sync, stat through the mount and debugfs's stat of the unmounted
# image agree to the nanosecond, for appends, overwrites, truncates up and
# down, writes through a shared map, utimensat and a file that grew inside
# its last block only.  The daemon stamps times with the kernel's clock, so
# that a file written in the tick it was created in never sees its times
# go back.  fsxlite with every operation (writes, truncates,
# fallocate, mmap reads and writes with msync, fsync and fdatasync), four
# seeds, and without the write-back cache also O_DIRECT reads through a
# second descriptor;
# what it leaves is compared with debugfs's dump; e2fsck clean.
test_description='write-back cache: writes gathered, size and times from the kernel, fsx'
. "$(dirname "$0")/test-lib.sh"
. "$SRC_DIR/t/lib-data.sh"

FSXLITE=$HELPER_DIR/fsxlite
[ -x "$FSXLITE" ] && test_set_prereq FSXLITE
command -v python3 >/dev/null && test_set_prereq PYTHON3
IMG=$TRASH/wb.img
MNT=$TRASH/mnt
LOG=$TRASH/iomapfs-mnt.log
# fsxlite's length: `make fsx-long` runs 100,000 (FSX_OPS).
FSX_OPS=${FSX_OPS:-20000}

# count FROM OPCODE: the requests of type OPCODE logged after line FROM.
count() {
	tail -n +"$(($1 + 1))" "$LOG" | grep -c "opcode: $2 ("
}

# appends FILE N: N 4-byte O_APPEND writes by one process, one descriptor.
appends() {
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(int(sys.argv[2])):
    if os.write(fd, b"%04d" % (i % 10000)) != 4:
        sys.exit("short write")
os.close(fd)
' "$@"
}

test_expect_success FUSE,E2FSPROGS,PYTHON3 'write-back cache: 10,000 4-byte appends are gathered' '
	make_image "$IMG" 512M -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" -d &&
	m=$(wc -l <"$LOG") &&
	appends "$MNT/log" 10000 &&
	test_eq 40000 "$(stat -c %s "$MNT/log")" "size after the appends" &&
	w=$(count "$m" WRITE) && x=$(count "$m" GETXATTR) &&
	test "$w" -ge 1 && test "$w" -le 20 || {
		echo "10,000 appends sent $w WRITEs, expected 1 to 20 (gathered)"
		return 1
	} &&
	test "$x" -le 2 || {
		echo "10,000 appends sent $x GETXATTRs, expected at most 2"
		return 1
	} &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	python3 -c "import sys; sys.stdout.write(\"\".join(\"%04d\" % i for i in range(10000)))" >want &&
	dump_cmp "$IMG" /log want
'

test_expect_success FUSE,E2FSPROGS,PYTHON3 '-o nowriteback_cache: each append is one WRITE' '
	iomapfs_mount "$IMG" "$MNT" -d -o nowriteback_cache &&
	m=$(wc -l <"$LOG") &&
	appends "$MNT/log2" 2000 &&
	w=$(count "$m" WRITE) &&
	test_eq 2000 "$w" "WRITEs of 2,000 appends without the write-back cache" &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

# stat_ns FILE: size, mtime and ctime in seconds.nanoseconds, through the
# mount.
stat_ns() {
	stat -c "%s %.9Y %.9Z" "$1"
}

# debugfs_ns IMG PATH: the same from debugfs's stat of the unmounted image
# ("mtime: 0xSECONDS:EXTRA", the nanoseconds in EXTRA's upper 30 bits).
debugfs_ns() {
	debugfs -R "stat $2" "$1" 2>/dev/null | python3 -c '
import re, sys
text = sys.stdin.read()
size = re.search(r"Size: (\d+)", text).group(1)
def ns(name):
    s, e = re.search(r"^ *" + name + r": 0x([0-9a-f]+):([0-9a-f]+)", text, re.M).groups()
    s, e = int(s, 16), int(e, 16)
    return "%d.%09d" % (s + (e & 3) * 2**32, e >> 2)
print(size, ns("mtime"), ns("ctime"))
'
}

test_expect_success FUSE,E2FSPROGS,PYTHON3 'size, mtime and ctime: the mount after sync and the unmounted image agree' '
	iomapfs_mount "$IMG" "$MNT" &&
	appends "$MNT/s-append" 3000 &&
	dd if=/dev/urandom of="$MNT/s-over" bs=64K count=4 status=none &&
	sleep 0.02 &&
	dd if=/dev/urandom of="$MNT/s-over" bs=4K seek=3 count=1 conv=notrunc status=none &&
	dd if=/dev/urandom of="$MNT/s-trunc" bs=10000 count=3 status=none &&
	truncate -s 12345 "$MNT/s-trunc" &&
	truncate -s 1000000 "$MNT/s-up" &&
	printf abc >"$MNT/s-last" && printf defgh >>"$MNT/s-last" &&
	touch -d "2001-02-03 04:05:06.789" "$MNT/s-last" &&
	printf ij >>"$MNT/s-last" &&
	python3 -c "
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 20000)
m = mmap.mmap(fd, 20000, mmap.MAP_SHARED)
m[5000:5010] = b\"0123456789\"
m.close()
os.close(fd)
" "$MNT/s-mmap" &&
	touch -m -d "1999-12-31 23:59:59.5" "$MNT/s-utime" &&
	sync &&
	for f in s-append s-over s-trunc s-up s-last s-mmap s-utime; do
		stat_ns "$MNT/$f" >"mnt-$f" || return 1
	done &&
	iomapfs_unmount "$MNT" &&
	for f in s-append s-over s-trunc s-up s-last s-mmap s-utime; do
		debugfs_ns "$IMG" "/$f" >"img-$f" &&
		test_eq "$(cat "mnt-$f")" "$(cat "img-$f")" "size mtime ctime of $f on the image (as the mount showed)" ||
			return 1
	done &&
	test_eq 12000 "$(cut -d" " -f1 mnt-s-append)" "size of s-append" &&
	test_eq 10 "$(cut -d" " -f1 mnt-s-last)" "size of s-last" &&
	fsck_clean "$IMG"
'

# The kernel stamps a cached file's writes with its coarse clock, a tick
# behind CLOCK_REALTIME: the daemon's own times (create, chmod, link...)
# must come from the same clock, or a file created and written within one
# tick shows a modification or change time that goes back at its write.
test_expect_success FUSE,E2FSPROGS,PYTHON3 'times never go back: create, then write within the same tick' '
	iomapfs_mount "$IMG" "$MNT" &&
	python3 -c "
import os, sys
back = []
for i in range(100):
    p = os.path.join(sys.argv[1], \"tick%d\" % i)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    a = os.fstat(fd)
    os.write(fd, b\"x\")
    os.fchmod(fd, 0o600)
    b = os.fstat(fd)
    os.close(fd)
    if b.st_mtime_ns < a.st_mtime_ns or b.st_ctime_ns < a.st_ctime_ns:
        back.append(\"%s: mtime %d -> %d, ctime %d -> %d\" % (p, a.st_mtime_ns, b.st_mtime_ns, a.st_ctime_ns, b.st_ctime_ns))
if back:
    sys.exit(\"expected times that never go back, got %d of 100 files going back, e.g. %s\" % (len(back), back[0]))
" "$MNT" &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG"
'

# chattr +i and +a with the write-back cache: what was written before is
# written back before the flag is in (it would be refused after), and a
# descriptor opened after the flag is judged write by write (direct-I/O
# mode): an append to an append-only file must not be written back as the
# whole page it ends in, from before the end, which would be refused.
test_expect_success FUSE,E2FSPROGS,PYTHON3 'chattr +i and +a: dirty data reaches the disk first; appends after +a are kept' '
	iomapfs_mount "$IMG" "$MNT" &&
	python3 -c "
import errno, os, subprocess, sys
d = sys.argv[1]
for name, flag in ((\"imm\", \"+i\"), (\"app\", \"+a\")):
    fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, name.encode() * 3000)
    subprocess.run([\"chattr\", flag, os.path.join(d, name)], check=True)
    os.close(fd)
try:
    os.open(os.path.join(d, \"app\"), os.O_WRONLY)
    sys.exit(\"an open for writing without O_APPEND of an append-only file: expected EPERM, it opened\")
except OSError as e:
    if e.errno != errno.EPERM:
        sys.exit(\"an open without O_APPEND of an append-only file: expected EPERM, got %s\" % errno.errorcode[e.errno])
fd = os.open(os.path.join(d, \"app\"), os.O_WRONLY | os.O_APPEND)
if os.write(fd, b\"end\") != 3:
    sys.exit(\"an append to an append-only file failed\")
os.close(fd)
" "$MNT" &&
	test_eq 9003 "$(stat -c %s "$MNT/app")" "size of app" &&
	chattr -i "$MNT/imm" && chattr -a "$MNT/app" &&
	iomapfs_unmount "$MNT" &&
	python3 -c "import sys; open(\"want-imm\", \"wb\").write(b\"imm\" * 3000); open(\"want-app\", \"wb\").write(b\"app\" * 3000 + b\"end\")" &&
	dump_cmp "$IMG" /imm want-imm &&
	dump_cmp "$IMG" /app want-app &&
	fsck_clean "$IMG"
'

# fsx FLAGS SEED NAME: an fsxlite run on $MNT/NAME that leaves what the
# file must hold in NAME.good, compared with the image once unmounted.
fsx() {
	"$FSXLITE" $1 -s "$2" -n "$FSX_OPS" -w "$3.good" "$MNT/$3"
}

# With the write-back cache, fsxlite -D (O_DIRECT reads through a second
# descriptor) would fail: a direct read past the end the daemon knows, in
# a hole the kernel's dirty pages further on made, ends short (io_read.c,
# iomapfs(8)).  t2230 checks direct and buffered access to one file.
test_expect_success FUSE,E2FSPROGS,FSXLITE 'fsx with mmap and fsync, four seeds, write-back cache' '
	iomapfs_mount "$IMG" "$MNT" &&
	fsx "-M -f" 1 fsx1 &&
	fsx "-M -f" 2 fsx2 &&
	fsx "-M -f" 3 fsx3 &&
	fsx "-f" 4 fsx4 &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	for n in 1 2 3 4; do
		dump_cmp "$IMG" /fsx$n fsx$n.good || return 1
	done
'

test_expect_success FUSE,E2FSPROGS,FSXLITE 'without the write-back cache, with O_DIRECT reads too' '
	iomapfs_mount "$IMG" "$MNT" -o nowriteback_cache &&
	fsx "-M -f -D" 5 fsx5 &&
	iomapfs_unmount "$MNT" &&
	fsck_clean "$IMG" &&
	dump_cmp "$IMG" /fsx5 fsx5.good
'

test_done
