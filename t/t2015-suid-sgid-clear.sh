#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t2015-suid-sgid-clear.sh - a change to a file clears its set-user-ID and
# set-group-ID bits exactly as the kernel's ext4 clears them: write
# (buffered and O_DIRECT), fallocate in every mode, truncate and ftruncate,
# open with O_TRUNC, chmod, chown and setfacl, each made by an unprivileged
# user outside the file's group, by a member of the group, by root, and by
# root without CAP_FSETID.  The expected modes below are what ext4 gave;
# with a loop device the same cases run on ext4 first, so a kernel that
# behaves otherwise shows up as a failure of that first test, not of ours.
# iomapfs asks the kernel for default_permissions itself (unless
# fakeroot): "-o allow_other" and "-o allow_other,default_permissions" are
# both run.  After unmount the modes on disk must be the ones stat showed.
test_description='set-user-ID and set-group-ID bits cleared as ext4 clears them'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ops.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
test_have_prereq E2FSPROGS || skip_all "no e2fsprogs"
test_have_prereq ROOT || skip_all "needs root to act as other users"
command -v setpriv >/dev/null || skip_all "needs setpriv"
test_have_prereq ACL || skip_all "no getfacl/setfacl"
# The users' python, not a root-only shim on PATH.
PY3=$(PATH=/usr/local/bin:/usr/bin:/bin command -v python3) ||
	skip_all "python3 is not installed"

# The unprivileged users are numeric: 4242 (group 4242) outside group 1234,
# and the same with 1234 as a supplementary group.
chmod 755 "$TRASH"

if make_image e4.img 64M -t ext4 && mkdir -p e4 &&
	mount -o loop e4.img e4 2>/dev/null; then
	test_atexit "umount '$TRASH/e4'"
	test_set_prereq KEXT4
fi

# One change per run: ops.py OP FILE [ARG...], prints "ok" or "err ERRNO".
cat >ops.py <<'PYEOF'
import ctypes, mmap, os, subprocess, sys

libc = ctypes.CDLL(None, use_errno=True)
op, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]

def falloc(mode, off, length):
    fd = os.open(path, os.O_RDWR)
    try:
        if libc.fallocate(fd, mode, ctypes.c_long(off), ctypes.c_long(length)):
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    finally:
        os.close(fd)

try:
    if op == "write":
        fd = os.open(path, os.O_WRONLY)
        os.pwrite(fd, b"x", 0)
        os.close(fd)
    elif op == "dwrite":
        fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, 4096)
        buf.write(b"y" * 4096)
        os.pwritev(fd, [buf], 0)
        os.close(fd)
    elif op == "falloc":
        falloc(0, 0, 16384)
    elif op == "keepsize":
        falloc(1, 0, 65536)
    elif op == "punch":
        falloc(3, 0, 4096)
    elif op == "zero":
        falloc(0x10, 0, 4096)
    elif op == "truncate":
        os.truncate(path, int(args[0]))
    elif op == "ftruncate":
        fd = os.open(path, os.O_WRONLY)
        os.ftruncate(fd, int(args[0]))
        os.close(fd)
    elif op == "otrunc":
        os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))
    elif op == "chmod":
        os.chmod(path, int(args[0], 8))
    elif op == "chown":
        os.chown(path, int(args[0]), int(args[1]))
    elif op == "mmapw":
        fd = os.open(path, os.O_RDWR)
        m = mmap.mmap(fd, 4096)
        m[0:1] = b"m"
        m.flush()
        m.close()
        os.close(fd)
    elif op == "setfacl":
        if subprocess.run(["setfacl", "-m", args[0], path]).returncode:
            raise OSError(1, "setfacl failed")
    else:
        sys.exit("ops.py: unknown operation " + op)
    print("ok")
except OSError as e:
    print("err", e.errno)
PYEOF

# The cases: mode and owner of a 10000-byte file, who changes it (u: uid
# and gid 4242, no other group; m: the same with group 1234; r: root; rn:
# root without CAP_FSETID), the change, and the mode ext4 leaves.
cat >cases <<'EOF'
2666 0:1234 u write = 666
2666 0:1234 m write = 2666
2676 0:1234 m write = 676
2666 0:1234 r write = 2666
2676 0:1234 r write = 2676
4666 0:1234 u write = 666
4666 0:1234 r write = 4666
4666 0:1234 rn write = 666
2666 0:1234 rn write = 666
6666 0:1234 u write = 666
2666 0:1234 u dwrite = 666
4666 0:1234 u dwrite = 666
2666 0:1234 m dwrite = 2666
4666 0:1234 r dwrite = 4666
2666 0:1234 u falloc = 666
2666 0:1234 u keepsize = 666
2666 0:1234 u punch = 666
2666 0:1234 u zero = 666
4666 0:1234 u punch = 666
4666 0:1234 r zero = 4666
2666 0:1234 m zero = 2666
2666 0:1234 u truncate 20000 = 666
2666 0:1234 u truncate 100 = 666
2666 0:1234 u truncate 10000 = 666
2666 0:1234 u ftruncate 100 = 666
2666 0:1234 u ftruncate 10000 = 666
4666 0:1234 u truncate 100 = 666
4666 0:1234 r truncate 100 = 4666
2666 0:1234 m truncate 100 = 2666
2666 0:1234 u otrunc = 666
4666 0:1234 u otrunc = 666
4666 0:1234 r otrunc = 4666
2666 4242:1234 u chmod 2644 = 644
2666 4242:1234 m chmod 2644 = 2644
2666 4242:4242 u chmod 2644 = 2644
6755 0:1234 r chown 0 0 = 755
6755 0:1234 r chown 0 1234 = 755
2744 0:1234 r chown 0 0 = 2744
2754 0:1234 r chown 0 0 = 754
4744 0:1234 r chown 0 0 = 744
2666 4242:1234 u chown 4242 4242 = 666
2666 4242:1234 m chown 4242 4242 = 2666
2664 4242:1234 u setfacl u:1000:rw = 664
2664 4242:1234 m setfacl u:1000:rw = 2664
2666 4242:1234 u mmapw = 2666
4666 0:1234 u mmapw = 4666
EOF

# as WHO CMD...: run CMD as one of the callers of the cases.
as() {
	local who=$1
	shift
	case $who in
	u) setpriv --reuid=4242 --regid=4242 --clear-groups "$@" ;;
	m) setpriv --reuid=4242 --regid=4242 --groups=1234 "$@" ;;
	r) "$@" ;;
	rn) setpriv --bounding-set=-fsetid --inh-caps=-fsetid "$@" ;;
	esac
}

# run_cases DIR: make each case's file in DIR, change it, and print one
# line per case: the case, what the change returned, the mode stat shows.
run_cases() {
	local dir=$1 n=0 line mode own who op args f res
	while read -r line; do
		n=$((n + 1))
		read -r mode own who op args <<<"${line% = *}"
		f=$dir/c$n
		head -c 10000 /dev/zero >"$f" && chown "$own" "$f" &&
			chmod "$mode" "$f" || return 1
		# shellcheck disable=SC2086
		res=$(as "$who" "$PY3" "$TRASH/ops.py" "$op" "$f" $args 2>&1)
		echo "c$n ${line% = *}: $res, $(stat -c %a "$f")"
	done <cases
}

# expected: the lines run_cases must print.
expected() {
	local n=0 line
	while read -r line; do
		n=$((n + 1))
		echo "c$n ${line% = *}: ok, ${line##* = }"
	done <cases
}
expected >expect

test_expect_success KEXT4 'the kernel'"'"'s ext4 clears the bits as the table says' '
	chmod 777 e4 &&
	run_cases "$TRASH/e4" >e4.out &&
	test_cmp expect e4.out
'

# check_mount OPTS: the cases through an iomapfs mount with OPTS, then
# the modes on disk after unmount, then e2fsck.
check_mount() {
	make_image img 64M -t ext4 &&
	iomapfs_mount img mnt -o "$1" &&
	chmod 777 mnt &&
	run_cases "$TRASH/mnt" >mnt.out &&
	test_cmp expect mnt.out &&
	iomapfs_unmount mnt &&
	sed "s/^\(c[0-9]*\) .*, \([0-7]*\)$/\1 \2/" mnt.out >disk.expect &&
	n=$(wc -l <cases) &&
	for i in $(seq 1 "$n"); do
		printf "c%s %o\n" "$i" "$(debugfs -R "stat /c$i" img 2>/dev/null |
			sed -n "s/.*Mode: *\(0[0-7]*\).*/\1/p")" || return 1
	done >disk.out &&
	test_cmp disk.expect disk.out &&
	fsck_clean img
}

test_expect_success 'iomapfs -o allow_other,default_permissions clears as ext4' '
	check_mount allow_other,default_permissions
'

test_expect_success 'iomapfs -o allow_other clears as ext4' '
	check_mount allow_other
'

test_done
