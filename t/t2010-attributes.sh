# SPDX-License-Identifier: GPL-2.0-or-later
test_description='FUSE getattr and setattr: mode, owner, size, nanosecond timestamps with UTIME_NOW and UTIME_OMIT, ctime upkeep'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3 for the errno checker"

test_expect_success 'mount a fresh ext4 (256-byte inodes)' '
	scratch_fs -t ext4 -I 256
'

test_expect_success 'chmod keeps the file type and sets every permission bit' '
	echo x >mnt/f &&
	chmod 4751 mnt/f &&
	test_eq "4751 regular file" "$(stat -c "%a %F" mnt/f)" &&
	mkdir mnt/d && chmod 1777 mnt/d &&
	test_eq "1777 directory" "$(stat -c "%a %F" mnt/d)" &&
	chmod 644 mnt/f
'

test_expect_success 'chown sets 32-bit owners' '
	chown 100000:200000 mnt/f &&
	test_eq "100000 200000" "$(stat -c "%u %g" mnt/f)" &&
	chown 7 mnt/f &&
	test_eq "7 200000" "$(stat -c "%u %g" mnt/f)" &&
	chgrp 0 mnt/f &&
	test_eq "7 0" "$(stat -c "%u %g" mnt/f)"
'

test_expect_success 'nanosecond timestamps, UTIME_NOW and UTIME_OMIT' '
	expect_sys OK utimens mnt/f 1000000000.123456789 1100000000.987654321 &&
	test_eq "1000000000.123456789 1100000000.987654321" \
		"$(stat -c "%.9X %.9Y" mnt/f)" &&
	expect_sys OK utimens mnt/f omit 1200000000.5 &&
	test_eq "1000000000.123456789 1200000000.500000000" \
		"$(stat -c "%.9X %.9Y" mnt/f)" &&
	before=$(date +%s) &&
	expect_sys OK utimens mnt/f now omit &&
	test "$(stat -c %X mnt/f)" -ge "$before" &&
	test_eq 1200000000.500000000 "$(stat -c %.9Y mnt/f)" &&
	expect_sys OK utimens mnt/f 0.0 now &&
	test_eq 0 "$(stat -c %X mnt/f)" &&
	test "$(stat -c %Y mnt/f)" -ge "$before"
'

test_expect_success 'timestamps past 2038 and before 1970 survive' '
	expect_sys OK utimens mnt/f 4102444800.25 -86400.5 &&
	test_eq "4102444800.250000000 -86400.500000000" \
		"$(stat -c "%.9X %.9Y" mnt/f)"
'

test_expect_success 'ctime follows every change; creation stamps all three' '
	expect_sys OK utimens mnt/f 1.0 1.0 &&
	c0=$(stat -c %.9Z mnt/f) &&
	sleep 0.02 && chmod 600 mnt/f &&
	c1=$(stat -c %.9Z mnt/f) && test "$c1" != "$c0" &&
	sleep 0.02 && ln mnt/f mnt/f2 &&
	c2=$(stat -c %.9Z mnt/f) && test "$c2" != "$c1" &&
	sleep 0.02 && rm mnt/f2 &&
	c3=$(stat -c %.9Z mnt/f) && test "$c3" != "$c2" &&
	sleep 0.02 && mv mnt/f mnt/g && mv mnt/g mnt/f &&
	test "$(stat -c %.9Z mnt/f)" != "$c3" &&
	: >mnt/new &&
	stat -c "%.9X %.9Y %.9Z" mnt/new >t &&
	read -r a m c <t && test "$a" = "$m" && test "$m" = "$c"
'

test_expect_success 'a directory gets new mtime and ctime when its entries change' '
	expect_sys OK utimens mnt/d 1.0 1.0 &&
	: >mnt/d/x &&
	test "$(stat -c %Y mnt/d)" -gt 1 &&
	expect_sys OK utimens mnt/d 1.0 1.0 &&
	rm mnt/d/x &&
	test "$(stat -c %Y mnt/d)" -gt 1
'

test_expect_success 'truncate grows (a hole) and shrinks; mtime moves' '
	printf "0123456789" >mnt/t &&
	expect_sys OK utimens mnt/t 1.0 1.0 &&
	truncate -s 100000 mnt/t &&
	test_eq 100000 "$(stat -c %s mnt/t)" &&
	test "$(stat -c %Y mnt/t)" -gt 1 &&
	test_eq 0123456789 "$(head -c 10 mnt/t)" &&
	test_eq 99990 "$(tail -c +11 mnt/t | tr -d "\0" | wc -c | awk "{print 99990 - \$1}")" &&
	truncate -s 4 mnt/t &&
	test_eq 0123 "$(cat mnt/t)" &&
	expect_sys EISDIR truncate mnt/d 0 &&
	expect_sys EINVAL truncate mnt/t -1
'

test_expect_success 'O_TRUNC empties a file' '
	echo something >mnt/o &&
	expect_sys OK open mnt/o w,trunc &&
	test_eq 0 "$(stat -c %s mnt/o)"
'

# iomapfs(8): with -o noatime a read never updates the access time;
# utimensat(2) sets it.  (relatime, the default, and strictatime are
# t1070's.)  The access time is set older than the change time first, so
# that relatime would move it; O_DIRECT reads reach the daemon whatever the
# page cache holds.
test_expect_success 'with noatime reads leave the access time alone; utimensat sets it' '
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt -o noatime &&
	head -c 100000 /dev/urandom >mnt/atime &&
	touch -a -d "2001-02-03 04:05:06 UTC" mnt/atime &&
	a0=$(stat -c %X mnt/atime) &&
	test_eq "$(date -d "2001-02-03 04:05:06 UTC" +%s)" "$a0" "atime set" &&
	test "$a0" -lt "$(stat -c %Z mnt/atime)" &&
	cat mnt/atime >/dev/null &&
	dd if=mnt/atime of=/dev/null bs=4k iflag=direct status=none &&
	test_eq "$a0" "$(stat -c %X mnt/atime)" "atime after reads" &&
	touch -a -d "2005-06-07 08:09:10 UTC" mnt/atime &&
	a1=$(stat -c %X mnt/atime) &&
	test_eq "$(date -d "2005-06-07 08:09:10 UTC" +%s)" "$a1" "atime set again" &&
	dd if=mnt/atime of=/dev/null bs=4k iflag=direct status=none &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /atime" img 2>/dev/null >st &&
	test_grep "atime: $(printf "0x%08x" "$a1"):" st &&
	iomapfs_mount img mnt -o noatime &&
	cat mnt/atime >/dev/null &&
	test_eq "$a1" "$(stat -c %X mnt/atime)" "atime after a remount and a read" &&
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt
'

test_expect_success 'what stat shows is what debugfs finds on disk' '
	expect_sys OK utimens mnt/f 1500000000.111111111 1600000000.222222222 &&
	chown 1234:5678 mnt/f && chmod 640 mnt/f &&
	iomapfs_unmount mnt &&
	debugfs -R "stat /f" img 2>/dev/null >st &&
	test_grep "Mode:  0640" st &&
	test_grep "User:  1234   Group:  5678" st &&
	test_grep "atime: 0x59682f00:$(printf %08x $((111111111 << 2)))" st &&
	test_grep "mtime: 0x5f5e1000:$(printf %08x $((222222222 << 2)))" st &&
	fsck_clean img &&
	iomapfs_mount img mnt &&
	test_eq "1500000000.111111111 1600000000.222222222 640 1234 5678" \
		"$(stat -c "%.9X %.9Y %a %u %g" mnt/f)"
'

test_expect_success 'unmount; e2fsck is clean' '
	scratch_done
'

test_expect_success '128-byte inodes (ext2): whole seconds, nothing breaks' '
	make_image img 32M -t ext2 -I 128 &&
	iomapfs_mount img mnt &&
	: >mnt/f &&
	expect_sys OK utimens mnt/f 1000000000.5 1000000001.5 &&
	test_eq "1000000000.000000000 1000000001.000000000" \
		"$(stat -c "%.9X %.9Y" mnt/f)" &&
	scratch_done
'

test_done
