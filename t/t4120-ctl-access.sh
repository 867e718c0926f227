#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4120-ctl-access.sh - who may use the control socket, and where it
# lives: default locations for root and for a user with their modes, peer
# credentials (a stranger is denied every method, the owner is admin, a
# ctl_group member gets the read-only methods only), a stale socket is
# replaced, a live one is refused, and a symlink or file planted at the
# socket path is neither followed nor removed.  Test users are created with
# useradd when missing.
test_description='control socket: access and location'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

ctl_access_setup
U1ID=$(id -u $U1)

# The scratch directory is private; the users need a way in.
chmod 711 "$TRASH"
PUB=$TRASH/pub
mkdir -m 1777 "$PUB"

test_expect_success 'set up an image everybody can read' '
	make_ctl_image "$PUB/img" &&
	chmod 644 "$PUB/img"
'

test_expect_success SYSTEMD_ESCAPE 'root: /run/iomapfs/ (0700), socket 0600 named after the mountpoint' '
	mnt="$TRASH/mnt a-b" &&
	ctl_server_start "$PUB/img" "$mnt" &&
	want=/run/iomapfs/$(systemd-escape --path "$mnt").sock &&
	test_eq "$want" "$CTL_SOCK" &&
	test -S "$want" &&
	test_eq "700 root" "$(stat -c "%a %U" /run/iomapfs)" &&
	test_eq "600 root" "$(stat -c "%a %U" "$want")" &&
	vl_call "$want" GetStatus >out && expect_ok out &&
	ctl_server_stop &&
	! test -e "$want"
'

test_expect_success 'a user: $XDG_RUNTIME_DIR/iomapfs/, or /tmp/iomapfs-UID/' '
	xdg=$PUB/xdg && mkdir -m 700 "$xdg" && chown $U1 "$xdg" &&
	ctl_as $U1 env XDG_RUNTIME_DIR="$xdg" "$HELPER_DIR/ctl-server" \
		"$PUB/img" /mnt/user-t4120 </dev/null >user.out 2>&1 &&
	grep "^socket $xdg/iomapfs/mnt-user\\\\x2dt4120.sock$" user.out &&
	test_eq "700 $U1" "$(stat -c "%a %U" "$xdg/iomapfs")" &&
	! test -e "$xdg/iomapfs/mnt-user\\x2dt4120.sock" &&
	rm -rf "/tmp/iomapfs-$U1ID" &&
	ctl_as $U1 "$HELPER_DIR/ctl-server" "$PUB/img" /mnt/user-t4120 </dev/null >user.out 2>&1 &&
	grep "^socket /tmp/iomapfs-$U1ID/mnt-user" user.out &&
	test_eq "700 $U1" "$(stat -c "%a %U" "/tmp/iomapfs-$U1ID")" &&
	rm -rf "/tmp/iomapfs-$U1ID"
'

test_expect_success 'a runtime directory open to others is refused' '
	xdg=$PUB/xdg2 && mkdir -m 700 "$xdg" && mkdir -m 755 "$xdg/iomapfs" &&
	chown $U1 "$xdg" "$xdg/iomapfs" &&
	test_must_fail ctl_as $U1 env XDG_RUNTIME_DIR="$xdg" "$HELPER_DIR/ctl-server" \
		"$PUB/img" /mnt/x </dev/null >user.out 2>&1 &&
	cat user.out &&
	grep "mode 0700" user.out &&
	test_eq 755 "$(stat -c %a "$xdg/iomapfs")"
'

S=$PUB/ctl.sock

test_expect_success 'a stranger is denied every method' '
	ctl_server_start "$PUB/img" /mnt/t4120 -s "$S" &&
	test_eq 600 "$(stat -c %a "$S")" &&
	test_must_fail ctl_as $U1 $PY "$VLRAW" "$S" call io.iomapfs.Cache.GetStatus >out &&
	grep "OSERROR Permission denied" out &&
	chmod 666 "$S" &&
	for m in GetStatus GetStats Dump Map Audit Watch Flush SetCaching \
		GetLimits SetLimits ResetStats org.varlink.service.GetInfo Nope; do
		vl_as $U1 "$S" $m --more >out &&
		expect_error org.varlink.service.PermissionDenied out || return 1
	done &&
	vl_call "$S" GetStatus >out && test_eq true "$(jq .parameters.caching out)"
'

test_expect_success 'without ctl_group, a group member is a stranger too' '
	vl_as $U2 "$S" GetStatus >out &&
	expect_error org.varlink.service.PermissionDenied out &&
	ctl_server_stop
'

test_expect_success 'the ctl_group member gets the read-only methods only' '
	ctl_server_start "$PUB/img" /mnt/t4120 -s "$S" -g $G &&
	chmod 666 "$S" &&
	ctl_cmd lookup 12 0 &&
	vl_as $U2 "$S" GetStatus >out && expect_ok out &&
	test_eq read-only "$(jq -r .parameters.access out)" &&
	for m in GetStats GetLimits org.varlink.service.GetInfo; do
		vl_as $U2 "$S" $m >out && expect_ok out || return 1
	done &&
	vl_as $U2 "$S" Dump --more >out && expect_ok out &&
	test_eq 12 "$(jq .parameters.ino out)" &&
	vl_as $U2 "$S" Map "{\"ino\":12}" >out && expect_ok out &&
	vl_as $U2 "$S" Audit --more >out && expect_ok out &&
	vl_as $U2 "$S" org.varlink.service.GetInterfaceDescription \
		"{\"interface\":\"io.iomapfs.Cache\"}" >out && expect_ok out &&
	for m in "Flush" "SetCaching {\"enabled\":false}" "SetLimits {}" ResetStats; do
		vl_as $U2 "$S" $m >out &&
		expect_error org.varlink.service.PermissionDenied out || return 1
	done &&
	vl_call "$S" GetStats >out &&
	test_eq 1 "$(jq .parameters.stats.inodes out)" &&
	test_eq true "$(jq .parameters.stats.enabled out)" &&
	vl_as $U1 "$S" GetStatus >out &&
	expect_error org.varlink.service.PermissionDenied out
'

test_expect_success 'a watch by the group member works' '
	{ vl_as $U2 "$S" Watch "{\"count\":1}" --more >watch & } &&
	wpid=$! &&
	for i in $(seq 1 100); do [ -s watch ] && break; sleep 0.05; done &&
	ctl_cmd invalidate 12 0 0 &&
	wait $wpid &&
	test_eq invalidate "$(tail -n 1 watch | jq -r .parameters.event.type)" &&
	ctl_server_stop
'

test_expect_success 'the mount owner is admin' '
	ctl_server_start "$PUB/img" /mnt/t4120 -s "$S" -u $U1ID &&
	chmod 666 "$S" &&
	vl_as $U1 "$S" GetStatus >out &&
	test_eq admin "$(jq -r .parameters.access out)" &&
	vl_as $U1 "$S" SetCaching "{\"enabled\":false}" >out && expect_ok out &&
	vl_as $U2 "$S" GetStatus >out &&
	expect_error org.varlink.service.PermissionDenied out
'

test_expect_success 'a live socket is refused, and keeps serving' '
	test_must_fail "$HELPER_DIR/ctl-server" -s "$S" "$PUB/img" /mnt/y </dev/null >second.out 2>&1 &&
	grep "another daemon serves it" second.out &&
	vl_call "$S" GetStatus >out && expect_ok out
'

test_expect_success 'a stale socket of a killed server is replaced' '
	kill -KILL $CTL_PID && test_expect_code 137 wait $CTL_PID && CTL_PID= &&
	test -S "$S" &&
	test_expect_code 1 vl "$S" call io.iomapfs.Cache.GetStatus >out &&
	test_grep "OSERROR Connection refused" out &&
	ctl_server_start "$PUB/img" /mnt/t4120 -s "$S" &&
	vl_call "$S" GetStatus >out && expect_ok out &&
	ctl_server_stop &&
	! test -e "$S"
'

test_expect_success 'a symlink at the socket path is not followed, and stays' '
	ln -s "$TRASH/target" "$S" &&
	test_must_fail "$HELPER_DIR/ctl-server" -s "$S" "$PUB/img" /mnt/y </dev/null >sym.out 2>&1 &&
	grep "not a socket" sym.out &&
	test -L "$S" && ! test -e "$TRASH/target" &&
	: >"$TRASH/target" && chmod 644 "$TRASH/target" &&
	test_must_fail "$HELPER_DIR/ctl-server" -s "$S" "$PUB/img" /mnt/y </dev/null >sym.out 2>&1 &&
	test -L "$S" && test_eq "644 0" "$(stat -c "%a %s" "$TRASH/target")" &&
	rm "$S"
'

test_expect_success 'a regular file at the socket path is left alone' '
	echo precious >"$S" &&
	test_must_fail "$HELPER_DIR/ctl-server" -s "$S" "$PUB/img" /mnt/y </dev/null >file.out 2>&1 &&
	test_eq precious "$(cat "$S")" &&
	rm "$S"
'

test_expect_success 'a symlinked socket path swapped in while serving is not removed at stop' '
	ctl_server_start "$PUB/img" /mnt/t4120 -s "$S" &&
	mv "$S" "$S.moved" && ln -s "$S.moved" "$S" &&
	ctl_server_stop &&
	test -L "$S" && test -S "$S.moved" &&
	rm -f "$S" "$S.moved"
'

test_done
