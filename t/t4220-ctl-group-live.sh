#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4220-ctl-group-live.sh - "-o ctl_group=GROUP" on a real mount (t4120
# and t4210 test the access rules on t/helper/ctl-server): a member of the
# group gets the read-only methods, through raw Varlink and through
# iomapctl, and is denied the others; a stranger is denied everything;
# the owner (root) stays admin.  As iomapfs-varlink(7) says, the socket's
# mode is the administrator's business: it is given to the group here.
# A group that does not exist stops the daemon before it mounts, naming
# the option.
test_description='-o ctl_group on a live mount'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq FUSE || skip_all "no usable /dev/fuse, fusermount3 or iomapfs"
ctl_access_setup

# The scratch directory is private; the users need a way in.
chmod 711 "$TRASH"
MNT=$TRASH/mnt
S=$TRASH/ctl.sock

test_expect_success 'mount with ctl_group; give the socket to the group' '
	make_ctl_image img &&
	iomapfs_mount img "$MNT" -o ctl_socket="$S",ctl_group=$G &&
	chgrp $G "$S" && chmod 660 "$S" &&
	cat "$MNT/f" >/dev/null
'

test_expect_success 'the member: read-only access, the read-only methods answered' '
	vl_as $U2 "$S" GetStatus >out && expect_ok out &&
	test_eq read-only "$(jq -r .parameters.access out)" &&
	test_eq "$IOMAPFS_PID" "$(jq .parameters.pid out)" &&
	for m in GetStats GetLimits org.varlink.service.GetInfo; do
		vl_as $U2 "$S" $m >out && expect_ok out || return 1
	done &&
	vl_as $U2 "$S" Dump "{\"ino\":12}" >out && expect_ok out &&
	test_eq /f "$(jq -r .parameters.path out)"
'

test_expect_success 'the member is denied every change' '
	vl_as $U2 "$S" SetCaching "{\"enabled\":false}" >out &&
	expect_error org.varlink.service.PermissionDenied out &&
	vl_as $U2 "$S" Flush "{\"ino\":12}" >out &&
	expect_error org.varlink.service.PermissionDenied out &&
	vl_as $U2 "$S" SetLimits "{\"cache_max\":8192}" >out &&
	expect_error org.varlink.service.PermissionDenied out &&
	vl_as $U2 "$S" ResetStats >out &&
	expect_error org.varlink.service.PermissionDenied out &&
	vl_call "$S" GetStatus >out &&
	test_eq true "$(jq .parameters.caching out)" "caching after the denied calls"
'

test_expect_success 'through iomapctl: the member reads stats, cannot disable' '
	ctl_as $U2 "$IOMAPCTL" -s "$S" -J status >out &&
	test_eq read-only "$(jq -r .status.access out)" &&
	ctl_as $U2 "$IOMAPCTL" -s "$S" stats >out &&
	test_grep "^lookups: *[1-9]" out &&
	test_expect_code 1 ctl_as $U2 "$IOMAPCTL" -s "$S" disable >out 2>err &&
	test_grep "PermissionDenied" err
'

test_expect_success 'a stranger is denied even the read-only methods' '
	chmod 666 "$S" &&
	test_when_finished "chmod 660 \"$S\"" &&
	vl_as $U1 "$S" GetStatus >out &&
	expect_error org.varlink.service.PermissionDenied out &&
	vl_as $U1 "$S" Dump "{\"ino\":12}" >out &&
	expect_error org.varlink.service.PermissionDenied out
'

test_expect_success 'root, the owner, is still admin' '
	vl_call "$S" GetStatus >out &&
	test_eq admin "$(jq -r .parameters.access out)" &&
	vl_call "$S" SetCaching "{\"enabled\":false}" >out && expect_ok out &&
	vl_call "$S" SetCaching "{\"enabled\":true}" >out && expect_ok out &&
	iomapfs_unmount "$MNT" &&
	! test -e "$S"
'

test_expect_success 'a group that does not exist: the daemon stops before mounting' '
	grp=iomapfs-no-such-group-$$ &&
	! getent group $grp &&
	mkdir -p "$MNT" &&
	# (bounded: a daemon that took the option would mount and stay)
	test_expect_code 1 timeout 20 "$IOMAPFS" -f \
		-o ctl_socket="$S",ctl_group=$grp img "$MNT" 2>err &&
	test_grep "ctl_group=$grp: no such group" err &&
	! mountpoint -q "$MNT" &&
	! test -e "$S" &&
	fsck_clean img
'

test_done
