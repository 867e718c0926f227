# SPDX-License-Identifier: GPL-2.0-or-later
test_description='mount options seen from the operations (fakeroot, allow_other, noiomap_cache, threads) and running out of inodes'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3 for the errno checker"
command -v setpriv >/dev/null && test_have_prereq ROOT && test_set_prereq SETPRIV

# as_user CMD...: run CMD as uid/gid 4242, no supplementary groups.
as_user() {
	setpriv --reuid=4242 --regid=4242 --clear-groups "$@"
}

test_expect_success SETPRIV 'allow_other without fakeroot: the kernel checks modes' '
	make_image img 32M -t ext4 &&
	chmod 755 "$TRASH" &&
	iomapfs_mount img mnt -o allow_other &&
	as_user ls mnt >/dev/null &&
	test_must_fail as_user touch mnt/denied 2>err &&
	test_grep "Permission denied" err &&
	mkdir mnt/open && chmod 1777 mnt/open &&
	as_user touch mnt/open/mine &&
	test_eq "4242 4242" "$(stat -c "%u %g" mnt/open/mine)" &&
	touch mnt/open/roots &&
	test_must_fail as_user rm mnt/open/roots 2>err &&
	test_grep "Operation not permitted" err &&
	scratch_done
'

test_expect_success SETPRIV 'fakeroot: anyone may do anything, new files belong to root' '
	make_image img 32M -t ext4 &&
	chmod 755 "$TRASH" &&
	iomapfs_mount img mnt -o allow_other,fakeroot &&
	mkdir mnt/d && chmod 700 mnt/d &&
	as_user touch mnt/d/f &&
	test_eq "0 0" "$(stat -c "%u %g" mnt/d/f)" &&
	as_user sh -c "echo x >mnt/d/f" &&
	test_eq x "$(cat mnt/d/f)" &&
	as_user rm mnt/d/f &&
	as_user test -w mnt/d &&
	scratch_done
'

test_expect_success 'noiomap_cache, threads=1 and cache limits still make a working mount' '
	make_image img 32M -t ext4 &&
	iomapfs_mount img mnt -o noiomap_cache,threads=1,cache_max=1M,cache_inode_max=64k &&
	head -c 200000 /dev/urandom >data &&
	cp data mnt/data && cmp data mnt/data &&
	iomapfs_unmount mnt && fsck_clean img &&
	iomapfs_mount img mnt -o iomap_cache,threads=32 &&
	cmp data mnt/data &&
	scratch_done
'

test_expect_success 'out of inodes: ENOSPC, never corruption; freeing makes room' '
	make_image img 16M -t ext4 -N 64 &&
	iomapfs_mount img mnt &&
	n=0 &&
	while expect_sys OK open "mnt/f$n" w,creat >/dev/null; do
		n=$((n + 1)) && test $n -lt 200 || break
	done &&
	test $n -lt 200 &&
	expect_sys ENOSPC open mnt/more w,creat &&
	expect_sys ENOSPC mkdir mnt/moredir &&
	expect_sys ENOSPC symlink target mnt/morelink &&
	test_eq 0 "$(stat -f -c %d mnt)" &&
	rm mnt/f0 mnt/f1 &&
	expect_sys OK mkdir mnt/moredir &&
	expect_sys OK open mnt/more w,creat &&
	iomapfs_unmount mnt && fsck_clean img
'

test_done
