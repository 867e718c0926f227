# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-ops.sh - helpers of the daemon's lifecycle and operation tests
# (t1xxx, t20xx-t21xx): one system call with its errno, debugfs queries of
# an unmounted image, and a mounted scratch filesystem.  Source it after
# test-lib.sh.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP ${0##*/} is a test library, not a test"
	exit 0
fi

command -v getfacl >/dev/null && command -v setfacl >/dev/null &&
	test_set_prereq ACL
command -v getfattr >/dev/null && command -v setfattr >/dev/null &&
	test_set_prereq ATTR

# sys OP ARG...: make one system call and print "OK" or the errno name
# (ENOENT, EEXIST, ...), so a test checks the very error Linux ext4 gives.
#   rename OLD NEW [noreplace|exchange]   mkdir PATH [MODE]   rmdir PATH
#   unlink PATH   link OLD NEW   symlink TARGET PATH   mknod PATH
#   open PATH FLAGS (r, w, rw, creat, excl, trunc, dir joined by ,)
#   truncate PATH SIZE   setxattr PATH NAME VALUE [create|replace]
#   getxattr PATH NAME   removexattr PATH NAME   readlink PATH
#   utimens PATH ATIME MTIME (seconds.nanoseconds, "now" or "omit")
sys() {
	python3 - "$@" <<'EOF'
import ctypes, decimal, errno, os, sys

libc = ctypes.CDLL(None, use_errno=True)
op, args = sys.argv[1], sys.argv[2:]

def ts(v):
    if v == "now":
        return (0, (1 << 30) - 1)
    if v == "omit":
        return (0, (1 << 30) - 2)
    t = decimal.Decimal(v)
    s = int(t.to_integral_value(rounding=decimal.ROUND_FLOOR))
    return (s, int((t - s) * 1000000000))

try:
    if op == "rename":
        flags = {"": 0, "noreplace": 1, "exchange": 2}[args[2] if len(args) > 2 else ""]
        r = libc.renameat2(-100, args[0].encode(), -100, args[1].encode(), flags)
        if r:
            raise OSError(ctypes.get_errno(), "")
    elif op == "mkdir":
        os.mkdir(args[0], int(args[1], 8) if len(args) > 1 else 0o777)
    elif op == "rmdir":
        os.rmdir(args[0])
    elif op == "unlink":
        os.unlink(args[0])
    elif op == "link":
        os.link(args[0], args[1])
    elif op == "symlink":
        os.symlink(args[0], args[1])
    elif op == "mknod":
        os.mknod(args[0])
    elif op == "readlink":
        os.readlink(args[0])
    elif op == "open":
        fl = 0
        names = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR,
                 "creat": os.O_CREAT, "excl": os.O_EXCL,
                 "trunc": os.O_TRUNC, "dir": os.O_DIRECTORY}
        for n in args[1].split(","):
            fl |= names[n]
        os.close(os.open(args[0], fl, 0o644))
    elif op == "truncate":
        os.truncate(args[0], int(args[1]))
    elif op == "setxattr":
        fl = {"": 0, "create": os.XATTR_CREATE,
              "replace": os.XATTR_REPLACE}[args[3] if len(args) > 3 else ""]
        os.setxattr(args[0], args[1], args[2].encode(), fl,
                    follow_symlinks=False)
    elif op == "getxattr":
        os.getxattr(args[0], args[1], follow_symlinks=False)
    elif op == "removexattr":
        os.removexattr(args[0], args[1], follow_symlinks=False)
    elif op == "utimens":
        class Ts(ctypes.Structure):
            _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]
        t = (Ts * 2)(Ts(*ts(args[1])), Ts(*ts(args[2])))
        if libc.utimensat(-100, args[0].encode(), t, 0x100):
            raise OSError(ctypes.get_errno(), "")
    else:
        print("sys: unknown operation " + op, file=sys.stderr)
        sys.exit(2)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
EOF
}

# expect_sys WANT OP ARG...: sys must print WANT.
expect_sys() {
	local want=$1 got
	shift
	got=$(sys "$@") || return 1
	if [ "$got" != "$want" ]; then
		echo "sys $*: expected $want, got $got"
		return 1
	fi
}

# debugfs_ino IMG PATH: the inode number debugfs gives PATH.
debugfs_ino() {
	debugfs -R "stat $2" "$1" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'
}

# scratch_fs [mke2fs options]: a fresh 64 MiB image img, mounted on mnt.
scratch_fs() {
	make_image img 64M "$@" && iomapfs_mount img mnt
}

# scratch_done: unmount mnt and check the image with e2fsck -fn.
scratch_done() {
	iomapfs_unmount mnt && fsck_clean img
}
