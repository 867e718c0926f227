#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t1060-fstab.sh - iomapfs(8), FSTAB: with mount.fuse3 an /etc/fstab line
# of type fuse.iomapfs mounts an image through mount(8), and so does
# "mount -t fuse.iomapfs" by hand; the options reach the daemon.  mount(8)
# gives its helpers a PATH of its own (/usr/local/sbin first), where an
# installed iomapfs lives: each case runs in a private mount namespace
# whose /usr/local/sbin is a directory holding this build's iomapfs, so
# that nothing is installed on the machine.  The fstab is a scratch file
# read with "mount -a -T FILE".  The daemon detaches, as mount(8) expects:
# it is found by its control socket and must be gone after umount, with
# the image clean and holding what was written.
test_description='mount -t fuse.iomapfs and an fstab line, through mount.fuse3'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq FUSE,E2FSPROGS,ROOT,JQ || skip_all "needs FUSE, e2fsprogs, root and jq"
command -v mount.fuse3 >/dev/null || skip_all "no mount.fuse3 (Debian package fuse3)"
[ -d /usr/local/sbin ] || skip_all "no /usr/local/sbin to stand in for"
unshare -m --propagation private true 2>/dev/null ||
	skip_all "cannot make a private mount namespace (unshare -m)"

mkdir bin && ln -s "$IOMAPFS" bin/iomapfs

# in_ns SCRIPT: run the shell SCRIPT in a private mount namespace where
# /usr/local/sbin holds iomapfs.  The mounts it makes are unmounted and
# their daemons stopped when it ends, whatever happens (a daemon in the
# namespace would keep it alive).
in_ns() {
	cat >ns.sh <<-EOF &&
	cleanup() {
		for m in "$TRASH/mnt" "$TRASH/mnt2"; do
			mountpoint -q "\$m" && umount -l "\$m"
		done
		for s in "$TRASH"/*.sock; do
			[ -S "\$s" ] || continue
			pid=\$("$IOMAPCTL" -s "\$s" -J status 2>/dev/null |
				jq -r .status.pid 2>/dev/null)
			[ -n "\$pid" ] && [ "\$pid" != null ] && kill "\$pid" 2>/dev/null
		done
		return 0
	}
	trap cleanup EXIT
	mount --bind "$TRASH/bin" /usr/local/sbin || exit 1
	$1
	EOF
	unshare -m --propagation private bash -e ns.sh
}

# wait_daemon_gone PIDFILE: the detached daemon whose pid is in PIDFILE
# exits within 10 s.
wait_daemon_gone() {
	test_wait_for 10 "! kill -0 $(cat "$1") 2>/dev/null"
}

test_expect_success 'make an image' '
	make_image img 32M -t ext4 &&
	make_image img2 32M -t ext4
'

test_expect_success 'mount -t fuse.iomapfs IMG MNT -o ro,...: mounted read-only, options passed' '
	mkdir -p mnt &&
	in_ns "
		mount -t fuse.iomapfs \"$TRASH/img\" \"$TRASH/mnt\" \\
			-o ro,cache_max=32M,ctl_socket=\"$TRASH/one.sock\"
		grep \" $TRASH/mnt \" /proc/mounts >mounts
		\"$IOMAPCTL\" -s \"$TRASH/one.sock\" -J status >status.json
		ls \"$TRASH/mnt\" >ls.out
		umount \"$TRASH/mnt\"
	" >ns.out 2>&1 || { cat ns.out && false; } &&
	test_grep "^$TRASH/img $TRASH/mnt fuse.iomapfs ro," mounts &&
	test_eq true "$(jq .status.read_only status.json)" "read_only" &&
	test_eq $((32 << 20)) "$(jq .status.limits.cache_max status.json)" \
		"cache_max" &&
	test_eq "$TRASH/img" "$(jq -r .status.image status.json)" "image" &&
	test_grep "^lost+found$" ls.out &&
	jq .status.pid status.json >pid &&
	wait_daemon_gone pid &&
	fsck_clean img
'

test_expect_success 'mount -a -T FSTAB: a fuse.iomapfs line, read-write, noatime' '
	mkdir -p mnt2 &&
	printf "%s %s fuse.iomapfs defaults,noatime,cache_max=128M,ctl_socket=%s 0 0\n" \
		"$TRASH/img2" "$TRASH/mnt2" "$TRASH/two.sock" >fstab &&
	in_ns "
		mount -a -T \"$TRASH/fstab\"
		grep \" $TRASH/mnt2 \" /proc/mounts >mounts
		\"$IOMAPCTL\" -s \"$TRASH/two.sock\" -J status >status.json
		echo written >\"$TRASH/mnt2/f\"
		umount \"$TRASH/mnt2\"
	" >ns.out 2>&1 || { cat ns.out && false; } &&
	test_grep "^$TRASH/img2 $TRASH/mnt2 fuse.iomapfs rw,noatime," mounts &&
	test_eq false "$(jq .status.read_only status.json)" "read_only" &&
	test_eq $((128 << 20)) "$(jq .status.limits.cache_max status.json)" \
		"cache_max" &&
	jq .status.pid status.json >pid &&
	wait_daemon_gone pid &&
	fsck_clean img2 &&
	test_eq written "$(debugfs -R "cat /f" img2 2>/dev/null)" "/f on disk" &&
	dumpe2fs -h img2 2>/dev/null | test_grep "state: *clean$"
'

test_done
