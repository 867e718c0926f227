#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4160-ctl-method-table.sh - the control server's method table
# (daemon/ctl_methods.c) is sorted by name, as its comment says and as
# ctl_method_find()'s bisection needs: two entries out of order would make
# some methods unreachable.  It also holds exactly the methods that the
# interface description io.iomapfs.Cache.varlink declares.
test_description='the control method table: sorted, and as the IDL says'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

test_have_prereq CTL_SERVER || skip_all "needs t/helper/ctl-server"

# at_least N FILE: FILE has N lines or more.
at_least() {
	test "$(wc -l <"$2")" -ge "$1" || {
		echo "expected at least $1 lines in $2, got:"
		cat "$2"
		return 1
	}
}

test_expect_success 'the table is sorted by name, with no name twice' '
	"$HELPER_DIR/ctl-server" -M >names &&
	at_least 10 names &&
	LC_ALL=C sort -u names >sorted &&
	test_cmp sorted names
'

test_expect_success 'the table serves every method of io.iomapfs.Cache and no other' '
	sed -n "s/^method \([A-Za-z]*\).*/io.iomapfs.Cache.\1/p" \
		"$SRC_DIR/daemon/io.iomapfs.Cache.varlink" | LC_ALL=C sort >idl &&
	at_least 10 idl &&
	grep "^io\.iomapfs\.Cache\." names >table &&
	test_cmp idl table
'

test_expect_success 'and both methods of org.varlink.service' '
	grep "^org\.varlink\.service\." names >svc &&
	printf "%s\n" org.varlink.service.GetInfo \
		org.varlink.service.GetInterfaceDescription >expect &&
	test_cmp expect svc
'

test_done
