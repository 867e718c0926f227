#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2600: the open modes the daemon picks for speed keep their promises.
# O_DIRECT handles get the kernel's direct-I/O mode with parallel direct
# writes: four fio writers on one file must still write every byte they
# verify, and a write by an unprivileged user must still clear the
# set-user-ID bit (the daemon clears it: t2015).  Handles are opened
# without FLUSH at close: the mtime of an overwrite must still be seen
# right after close and be on disk after unmount.
test_description='O_DIRECT in direct-I/O mode, mapped shared as on ext4, no FLUSH at close'
. "$(dirname "$0")/test-lib.sh"

IMG=$TRASH/modes.img
MNT=$TRASH/mnt

test_expect_success FUSE,E2FSPROGS 'mount' '
	make_image "$IMG" 128M -t ext4 -b 4096 &&
	iomapfs_mount "$IMG" "$MNT" -o allow_other &&
	chmod 755 "$TRASH" "$MNT"
'

test_expect_success FUSE,E2FSPROGS,FIO 'four O_DIRECT writers on one file, verified' '
	cat >w.fio <<-EOF &&
	[global]
	filename=$MNT/shared
	size=16M
	bs=4k
	direct=1
	ioengine=psync
	verify=crc32c
	verify_fatal=1
	[fill]
	rw=write
	[over]
	stonewall
	rw=randwrite
	numjobs=4
	offset_increment=4M
	size=4M
	EOF
	fio --output=w.out w.fio || { cat w.out; false; }
'

test_expect_success FUSE,E2FSPROGS,ROOT 'an unprivileged O_DIRECT write clears set-user-ID' '
	dd if=/dev/zero of="$MNT/suid" bs=4k count=4 status=none &&
	chown 65534 "$MNT/suid" &&
	chmod 4777 "$MNT/suid" &&
	test_eq 4777 "$(stat -c %a "$MNT/suid")" "mode before" &&
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		dd if=/dev/zero of="$MNT/suid" bs=4k count=1 oflag=direct \
		conv=notrunc status=none &&
	test_eq 777 "$(stat -c %a "$MNT/suid")" "mode after the write"
'

# iomapfs(8): "a shared mmap(2) of that descriptor fails with ENODEV (map
# a descriptor opened without O_DIRECT)".
# The daemon asks for FUSE_DIRECT_IO_ALLOW_MMAP (devio.c, Linux 6.6 and
# later): a direct-I/O descriptor maps shared, as on ext4, and a direct
# read sees what the map wrote once msync returned.
test_expect_success FUSE,E2FSPROGS,PYTHON3 'a shared mmap of an O_DIRECT descriptor maps, as on ext4, and direct reads see its writes' '
	dd if=/dev/urandom of="$MNT/mapped" bs=4k count=4 status=none &&
	python3 -c "
import mmap, os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_DIRECT)
try:
    m = mmap.mmap(fd, 8192, mmap.MAP_SHARED)
except OSError as e:
    sys.exit(\"expected a shared map of an O_DIRECT descriptor, as ext4 gives: %s\" % e)
m[4096:4102] = b\"direct\"
m.flush()
m.close()
buf = mmap.mmap(-1, 4096)
if os.preadv(fd, [buf], 4096) != 4096 or buf[0:6] != b\"direct\":
    sys.exit(\"an O_DIRECT read after msync: expected direct, got %r\" % buf[0:6])
os.close(fd)
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
m[0:6] = b\"mapped\"
m.flush()
m.close()
os.close(fd)
" "$MNT/mapped" &&
	test_eq mapped "$(head -c 6 "$MNT/mapped")" "the first bytes, written through the map" &&
	test_eq direct "$(tail -c +4097 "$MNT/mapped" | head -c 6)" "the bytes the O_DIRECT map wrote"
'

test_expect_success FUSE,E2FSPROGS 'the mtime of an overwrite is seen after close and kept' '
	dd if=/dev/zero of="$MNT/times" bs=4k count=4 status=none &&
	touch -d "2001-02-03 04:05:06" "$MNT/times" &&
	dd if=/dev/zero of="$MNT/times" bs=4k count=1 conv=notrunc \
		status=none &&
	now=$(stat -c %Y "$MNT/times") &&
	test "$now" -gt 981173106 &&
	iomapfs_unmount "$MNT" &&
	debugfs -R "stat /times" "$IMG" 2>/dev/null >stat.out &&
	test_grep "mtime: 0x$(printf %08x "$now")" stat.out &&
	fsck_clean "$IMG"
'

test_done
