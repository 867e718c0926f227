#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4000-varlink-unit.sh - the shared protocol code without a daemon: the
# unit test of Varlink framing, call and parameter checks, the JSON form of
# iomaps and the socket location rule, then the escaping of mountpoints
# checked against systemd-escape itself.
test_description='Varlink framing, parameter checks, socket location rule'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'the protocol unit test passes' '
	"$UNIT_DIR/test-varlink" >unit.out 2>&1 || { cat unit.out; false; }
'

test_expect_success SYSTEMD_ESCAPE 'socket names are escaped as systemd-escape --path does' '
	for p in "/mnt/a b" /srv/x-y "/m/.d/e\\f" / /mnt/x:y_z.w //a//b/ \
		"/.dot" "/t/$(printf "\\303\\244")" "/tab/$(printf "a\\tb")"; do
		want=$(systemd-escape --path "$p") &&
		got=$("$UNIT_DIR/test-varlink" escape "$p") &&
		test_eq "$want" "$got" "name of $p" || return 1
	done
'

test_done
