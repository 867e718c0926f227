# SPDX-License-Identifier: GPL-2.0-or-later
test_description='POSIX ACL changes set ctime and the mode exactly as the kernel'"'"'s ext4 does'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq PYTHON3 || skip_all "no python3 for the ACL steps"
test_have_prereq ACL || skip_all "no getfacl/setfacl"

# The kernel's ext4 on a loop device, the oracle (root, loop devices).
if test_have_prereq ROOT && make_image e4.img 64M -t ext4 && mkdir -p e4 &&
	mount -o loop e4.img e4 2>/dev/null; then
	test_atexit "umount '$TRASH/e4'"
	test_set_prereq KEXT4
fi

# acl_steps DIR: the same ACL changes, one a line, on files made in DIR;
# each line says what the change returned, whether ctime moved, the mode
# and getfacl's view after it.  Raw setxattr/removexattr calls make sure
# a system call is made even where setfacl would skip one.
cat >acl-steps.py <<'PYEOF'
import errno, os, struct, subprocess, sys, time

os.chdir(sys.argv[1])
ACCESS, DEFAULT = "system.posix_acl_access", "system.posix_acl_default"

def acl(*entries):
    # the kernel's xattr form: version 2, then (tag, perm, id) entries
    undef = 0xFFFFFFFF
    return struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", t, p, i if i is not None else undef)
        for t, p, i in entries)

def equiv(u, g, o):
    return acl((0x01, u, None), (0x04, g, None), (0x20, o, None))

def sh(cmd):
    return lambda: subprocess.run(cmd, shell=True, check=True,
                                  stderr=subprocess.DEVNULL)

def setx(path, name, val):
    return lambda: os.setxattr(path, name, val)

def rmx(path, name):
    return lambda: os.removexattr(path, name)

def same_again(path, name):
    return lambda: os.setxattr(path, name, os.getxattr(path, name))

os.umask(0o022)
for f in ("f", "f2", "f3"):
    open(f, "w").close()
    os.chmod(f, 0o644)
for d in ("d", "e", "h"):
    os.mkdir(d)
os.chown("h", 0, 1234)
os.chmod("h", 0o2775)
open("h/x", "w").close()
os.chmod("h/x", 0o664)

steps = [
    ("f", "setfacl -m u:1000:rw", sh("setfacl -m u:1000:rw f")),
    ("f", "the same ACL again", same_again("f", ACCESS)),
    ("f", "setfacl -m m::r", sh("setfacl -m m::r f")),
    ("f", "setfacl -x u:1000", sh("setfacl -x u:1000 f")),
    ("f", "setfacl -b", sh("setfacl -b f")),
    ("f", "removexattr of no access ACL", rmx("f", ACCESS)),
    ("f2", "setfacl of a mode (generic/307)",
     sh("setfacl -m u::rwx,g::r-x,o::r-- f2")),
    ("f3", "setfacl --set of its own mode", sh("setfacl --set u::rw,g::r,o::r f3")),
    ("f3", "setxattr of its own mode", setx("f3", ACCESS, equiv(6, 4, 4))),
    ("f3", "setxattr of another mode", setx("f3", ACCESS, equiv(6, 0, 0))),
    ("d", "setfacl -d -m u:1000:rwx", sh("setfacl -d -m u:1000:rwx d")),
    ("d", "the same default ACL again", same_again("d", DEFAULT)),
    ("d", "setfacl -k", sh("setfacl -k d")),
    ("e", "removexattr of no default ACL", rmx("e", DEFAULT)),
    ("h/x", "setfacl of a mode, set-group-ID directory",
     sh("setfacl -m u::rwx h/x")),
    ("f", "setfacl -m u:1000:rwx,m::rwx", sh("setfacl -m u:1000:rwx,m::rwx f")),
    ("f", "chmod 640 with an ACL", sh("chmod 640 f")),
    ("f", "setxattr user.a", setx("f", "user.a", b"1")),
    ("f", "setxattr user.a, same value", setx("f", "user.a", b"1")),
]

for path, what, step in steps:
    before = os.lstat(path).st_ctime_ns
    # let the clock move past the last ctime, coarse kernel clocks too
    while time.time_ns() < before + 20000000:
        time.sleep(0.005)
    try:
        step()
        res = "ok"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    except subprocess.CalledProcessError as e:
        res = "exit %d" % e.returncode
    st = os.lstat(path)
    facl = subprocess.run(["getfacl", "-cnp", path], capture_output=True,
                          text=True).stdout.strip().replace("\n", ",")
    print("%s: %s: %s, ctime %s, mode %o, %s" % (
        path, what, res, "moved" if st.st_ctime_ns != before else "kept",
        st.st_mode & 0o7777, facl))
PYEOF

# acl_state DIR: mode, ACL and ctime (to the nanosecond) of what
# acl_steps left in DIR.
acl_state() {
	(cd "$1" && for p in f f2 f3 d e h h/x; do
		printf "%s %s %s\n" "$p" "$(stat -c "%a %.9Z" "$p")" \
			"$(getfacl -cnp "$p" | tr "\n" ,)" || return 1
	done)
}

# wait_clock_past T: wait until the clock is 20 ms past T (seconds since
# the epoch), so that a change made then gets another timestamp.
wait_clock_past() {
	python3 -c "
import sys, time
while time.time() < float(sys.argv[1]) + 0.02:
    time.sleep(0.005)" "$1"
}

# With the write-back cache the kernel owns a regular file's ctime and
# moves it itself at every setxattr, changed or not (fuse_update_ctime()):
# the exact comparison with ext4 holds without it (iomapfs(8)); the last
# test checks that with it the kernel's ctime reaches the disk.
test_expect_success 'mount iomapfs on a fresh ext4' '
	make_image img 64M -t ext4 &&
	iomapfs_mount img mnt -o nowriteback_cache
'

test_expect_success KEXT4 'setfacl and ACL xattrs: ctime, mode and ACL as on ext4' '
	python3 acl-steps.py e4 >expect &&
	python3 acl-steps.py mnt >actual &&
	test_cmp expect actual
'

test_expect_success 'an ACL equal to a new mode moves ctime, and ctime is on disk' '
	mkdir mnt/p && : >mnt/p/g && chmod 644 mnt/p/g &&
	c0=$(stat -c %.9Z mnt/p/g) &&
	wait_clock_past "$c0" &&
	setfacl -m u::rwx,g::r-x,o::r-- mnt/p/g &&
	c1=$(stat -c %.9Z mnt/p/g) &&
	test_eq 754 "$(stat -c %a mnt/p/g)" &&
	if test "$c0" = "$c1"; then
		echo "ctime stayed $c0 when setfacl changed the mode to 754"
		return 1
	fi &&
	acl_state mnt >before &&
	iomapfs_unmount mnt && fsck_clean img &&
	iomapfs_mount img mnt -o nowriteback_cache &&
	test_eq "$c1" "$(stat -c %.9Z mnt/p/g)" &&
	acl_state mnt >after &&
	test_cmp before after
'

test_expect_success 'write-back cache: an ACL change moves ctime, and the kernel'"'"'s ctime is on disk' '
	iomapfs_unmount mnt &&
	iomapfs_mount img mnt &&
	: >mnt/p/h && chmod 644 mnt/p/h &&
	c0=$(stat -c %.9Z mnt/p/h) &&
	wait_clock_past "$c0" &&
	setfacl -m u:1000:rw mnt/p/h &&
	c1=$(stat -c %.9Z mnt/p/h) &&
	if test "$c0" = "$c1"; then
		echo "ctime stayed $c0 when setfacl added an entry"
		return 1
	fi &&
	acl_state mnt >before &&
	iomapfs_unmount mnt && fsck_clean img &&
	iomapfs_mount img mnt &&
	test_eq "$c1" "$(stat -c %.9Z mnt/p/h)" "ctime after a remount" &&
	acl_state mnt >after &&
	test_cmp before after
'

test_expect_success 'unmount cleanly' '
	iomapfs_unmount mnt && fsck_clean img
'

test_done
