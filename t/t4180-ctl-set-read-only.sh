#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4180-ctl-set-read-only.sh - SetReadOnly, the method behind "mount -o
# remount,ro|rw", on t/helper/ctl-server over an image opened read-write:
# read-only marks the filesystem clean on disk, read-write marks it in use
# again, parameters are checked, and a source opened read-only refuses to
# go read-write with RemountRefused.  iomapctl's remount command is the
# client.  t1050 runs it all on the real daemon and through mount(8).
test_description='control socket: SetReadOnly'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq PYTHON3,CTL_SERVER,E2FSPROGS,JQ ||
	skip_all "needs python3, jq, e2fsprogs and t/helper/ctl-server"
[ -x "$IOMAPCTL" ] || skip_all "iomapctl is not built"

S=$TRASH/ctl.sock

state() {
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^Filesystem state: *//p"
}

test_expect_success 'set up: an image marked in use, served read-write' '
	make_ctl_image img &&
	debugfs -w -R "ssv state 0" img 2>/dev/null &&
	test_eq "not clean" "$(state img)" &&
	ctl_server_start img "$TRASH/mnt" -w -s "$S"
'

test_expect_success 'SetReadOnly true: clean on disk, GetStatus says read-only' '
	vl_call "$S" SetReadOnly "{\"readonly\":true}" >out &&
	expect_ok out &&
	jq -e ".parameters == {\"readonly\": true, \"previous\": false}" out &&
	test_eq clean "$(state img)" &&
	vl_call "$S" GetStatus >out &&
	test_eq true "$(jq .parameters.read_only out)"
'

test_expect_success 'SetReadOnly true again changes nothing' '
	vl_call "$S" SetReadOnly "{\"readonly\":true}" >out &&
	jq -e ".parameters == {\"readonly\": true, \"previous\": true}" out
'

test_expect_success 'SetReadOnly false: in use again, the mount count goes up' '
	count=$(dumpe2fs -h img 2>/dev/null | sed -n "s/^Mount count: *//p") &&
	vl_call "$S" SetReadOnly "{\"readonly\":false}" >out &&
	jq -e ".parameters == {\"readonly\": false, \"previous\": true}" out &&
	test_eq "not clean" "$(state img)" &&
	test_eq $((count + 1)) \
		"$(dumpe2fs -h img 2>/dev/null | sed -n "s/^Mount count: *//p")" &&
	vl_call "$S" GetStatus >out &&
	test_eq false "$(jq .parameters.read_only out)"
'

test_expect_success 'parameters are checked before anything happens' '
	for p in "{}" "{\"readonly\":1}" "{\"readonly\":\"yes\"}" \
		"{\"readonly\":null}" "{\"readonly\":true,\"now\":1}"; do
		vl_call "$S" SetReadOnly "$p" >out &&
		expect_error org.varlink.service.InvalidParameter out ||
			{ echo "parameters: $p"; return 1; }
	done &&
	test_eq "not clean" "$(state img)"
'

test_expect_success 'iomapctl remount ro|rw talks to it' '
	"$IOMAPCTL" -s "$S" remount ro >out &&
	test_eq read-only "$(cat out)" &&
	test_eq clean "$(state img)" &&
	"$IOMAPCTL" -s "$S" -J remount rw >out &&
	jq -e ".readonly == false and .previous == true" out &&
	test_eq "not clean" "$(state img)" &&
	test_expect_code 2 "$IOMAPCTL" -s "$S" remount maybe 2>err &&
	test_grep -q "remount ro or remount rw" err &&
	test_expect_code 2 "$IOMAPCTL" -s "$S" remount 2>err
'

test_expect_success 'a source opened read-only refuses to go read-write' '
	ctl_server_stop &&
	ctl_server_start img "$TRASH/mnt" -s "$S" &&
	vl_call "$S" SetReadOnly "{\"readonly\":false}" >out &&
	expect_error io.iomapfs.Cache.RemountRefused out &&
	test_eq 30 "$(jq .parameters.errno out)" &&
	jq -r .parameters.reason out | test_grep -q "opened read-only" &&
	test_expect_code 1 "$IOMAPCTL" -s "$S" remount rw 2>err &&
	test_grep -q "RemountRefused" err &&
	vl_call "$S" SetReadOnly "{\"readonly\":true}" >out &&
	jq -e ".parameters == {\"readonly\": true, \"previous\": true}" out
'

test_expect_success 'errors recorded: read-only works, read-write is refused' '
	ctl_server_stop &&
	debugfs -w -R "ssv state 2" img 2>/dev/null &&
	ctl_server_start img "$TRASH/mnt" -w -s "$S" &&
	vl_call "$S" SetReadOnly "{\"readonly\":true}" >out &&
	expect_ok out &&
	test_eq "not clean with errors" "$(state img)" &&
	vl_call "$S" SetReadOnly "{\"readonly\":false}" >out &&
	expect_error io.iomapfs.Cache.RemountRefused out &&
	test_eq 117 "$(jq .parameters.errno out)" &&
	jq -r .parameters.reason out | test_grep -q "e2fsck" &&
	vl_call "$S" GetStatus >out &&
	test_eq true "$(jq .parameters.read_only out)"
'

test_done
