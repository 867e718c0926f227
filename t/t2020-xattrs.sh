# SPDX-License-Identifier: GPL-2.0-or-later
test_description='FUSE extended attributes (user., trusted., security.) and POSIX ACLs stored the ext4 way'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3 for the errno checker"

test_expect_success 'mount a fresh ext4' '
	scratch_fs -t ext4 &&
	echo data >mnt/f && mkdir mnt/d
'

test_expect_success 'set, get, list and remove xattrs in three namespaces' '
	expect_sys OK setxattr mnt/f user.color blue &&
	expect_sys OK setxattr mnt/f trusted.t secret &&
	expect_sys OK setxattr mnt/f security.s label &&
	expect_sys OK setxattr mnt/d user.dir yes &&
	python3 -c "import os; print(os.getxattr(\"mnt/f\", \"user.color\").decode())" >v &&
	test_eq blue "$(cat v)" &&
	python3 -c "import os; print(\" \".join(sorted(os.listxattr(\"mnt/f\"))))" >l &&
	test_eq "security.s trusted.t user.color" "$(cat l)" &&
	expect_sys OK removexattr mnt/f trusted.t &&
	expect_sys ENODATA getxattr mnt/f trusted.t &&
	expect_sys ENODATA removexattr mnt/f trusted.t
'

test_expect_success 'XATTR_CREATE and XATTR_REPLACE' '
	expect_sys EEXIST setxattr mnt/f user.color red create &&
	expect_sys OK setxattr mnt/f user.color red replace &&
	expect_sys ENODATA setxattr mnt/f user.none x replace &&
	expect_sys OK setxattr mnt/f user.new x create &&
	python3 -c "import os; print(os.getxattr(\"mnt/f\", \"user.color\").decode())" >v &&
	test_eq red "$(cat v)"
'

test_expect_success 'unknown namespaces, long names, ERANGE for a small buffer' '
	expect_sys ENOTSUP setxattr mnt/f bogus.x y &&
	expect_sys ENODATA getxattr mnt/f system.nothing &&
	long=$(printf "n%.0s" $(seq 256)) &&
	expect_sys ERANGE setxattr mnt/f "user.$long" y &&
	python3 - <<-\EOF
	import ctypes, os
	libc = ctypes.CDLL(None, use_errno=True)
	buf = ctypes.create_string_buffer(2)
	r = libc.getxattr(b"mnt/f", b"user.color", buf, 2)
	assert r == -1 and ctypes.get_errno() == 34, (r, ctypes.get_errno())
	r = libc.getxattr(b"mnt/f", b"user.color", None, 0)
	assert r == 3, r
	EOF
'

test_expect_success 'a large value goes to an xattr block; setting a xattr moves ctime' '
	big=$(head -c 600 /dev/zero | tr "\0" x) &&
	c0=$(stat -c %.9Z mnt/f) && sleep 0.02 &&
	expect_sys OK setxattr mnt/f user.big "$big" &&
	test "$(stat -c %.9Z mnt/f)" != "$c0" &&
	python3 -c "import os; print(len(os.getxattr(\"mnt/f\", \"user.big\")))" >v &&
	test_eq 600 "$(cat v)" &&
	big=$(head -c 2000 /dev/zero | tr "\0" y) &&
	expect_sys ENOSPC setxattr mnt/f user.huge "$big"
'

test_expect_success ATTR 'getfattr and setfattr agree' '
	setfattr -n user.tool -v value mnt/f &&
	getfattr --absolute-names -n user.tool --only-values mnt/f >v &&
	test_eq value "$(cat v)" &&
	setfattr -x user.tool mnt/f &&
	test_must_fail getfattr --absolute-names -n user.tool mnt/f
'

test_expect_success ACL 'an access ACL: getfacl shows it, the mode follows, chmod updates the mask' '
	: >mnt/a && chmod 640 mnt/a &&
	setfacl -m u:1000:rw,g:2000:r mnt/a &&
	getfacl -cn mnt/a >acl &&
	test_grep "^user:1000:rw-$" acl &&
	test_grep "^group:2000:r--$" acl &&
	test_grep "^mask::rw-$" acl &&
	test_eq 660 "$(stat -c %a mnt/a)" &&
	chmod 600 mnt/a &&
	getfacl -cn mnt/a >acl &&
	test_grep "^mask::---$" acl &&
	test_grep "^user:1000:rw-" acl &&
	setfacl -b mnt/a &&
	expect_sys ENODATA getxattr mnt/a system.posix_acl_access
'

test_expect_success ACL 'an ACL equal to a mode is not stored; the mode changes' '
	: >mnt/m && chmod 600 mnt/m &&
	setfacl -m u::rwx,g::r-x,o::r-- mnt/m &&
	test_eq 754 "$(stat -c %a mnt/m)" &&
	expect_sys ENODATA getxattr mnt/m system.posix_acl_access
'

test_expect_success ACL 'a default ACL is inherited by new files and directories' '
	mkdir mnt/inh &&
	setfacl -d -m u:1000:rwx,g::rx,o::- mnt/inh &&
	: >mnt/inh/file &&
	mkdir mnt/inh/sub &&
	getfacl -cn mnt/inh/file >acl &&
	test_grep "^user:1000:rwx	#effective:rw-$" acl &&
	test_eq 660 "$(stat -c %a mnt/inh/file)" &&
	getfacl -cn mnt/inh/sub >acl &&
	test_grep "^default:user:1000:rwx$" acl &&
	test_grep "^user:1000:rwx$" acl &&
	test_eq 770 "$(stat -c %a mnt/inh/sub)"
'

test_expect_success ACL 'without a default ACL the umask applies' '
	(umask 027 && : >mnt/um && mkdir mnt/umd) &&
	test_eq "640 750" "$(stat -c %a mnt/um) $(stat -c %a mnt/umd)"
'

test_expect_success 'xattrs and ACLs are on disk the ext4 way (debugfs, remount)' '
	iomapfs_unmount mnt && fsck_clean img &&
	debugfs -R "ea_get /f user.color" img 2>/dev/null >v &&
	test_grep "red" v &&
	if test_have_prereq ACL; then
		debugfs -R "ea_list /inh/sub" img 2>/dev/null >v &&
		test_grep "system.posix_acl_default" v &&
		test_grep "system.posix_acl_access" v
	fi &&
	iomapfs_mount img mnt &&
	python3 -c "import os; print(os.getxattr(\"mnt/f\", \"user.color\").decode())" >v &&
	test_eq red "$(cat v)" &&
	if test_have_prereq ACL; then
		getfacl -cn mnt/inh/sub >acl &&
		test_grep "^default:user:1000:rwx$" acl
	fi
'

test_expect_success 'removing the last link frees the xattr block too' '
	free0=$(stat -f -c %f mnt) &&
	rm mnt/f &&
	test "$(stat -f -c %f mnt)" -gt "$free0" &&
	scratch_done
'

test_done
