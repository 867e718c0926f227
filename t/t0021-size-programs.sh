#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0021-size-programs.sh - iomapfs's options and iomapctl's arguments take
# the same SIZEs through the one parser (shared/size.c): both accept the
# same values, and both refuse the same bad ones with a message naming the
# option, the value and the reason.  Nothing is mounted: the daemon parses
# its options before it looks at SOURCE (exit 3 when the options pass),
# and iomapctl before it connects (exit 3 when the arguments pass).
test_description='one SIZE grammar in iomapfs and iomapctl'
. "$(dirname "$0")/test-lib.sh"

[ -x "$IOMAPFS" ] || skip_all "iomapfs is not built"
[ -x "$IOMAPCTL" ] || skip_all "iomapctl is not built"

NOSRC=$TRASH/no-such.img
NOSOCK=$TRASH/no-such.sock

test_expect_success 'both programs accept the same SIZEs' '
	mkdir -p m &&
	for v in 0 4096 0010 64M 64m 1MiB 2GB 0x10k 0XFF 7E 15E; do
		test_expect_code 3 "$IOMAPFS" -o "dir_index_max=$v" \
			"$NOSRC" m 2>err || {
			echo "iomapfs refused dir_index_max=$v:"; cat err
			return 1
		}
	done &&
	for v in 0 4096 0010 64M 64m 1MiB 2GB 0x10k 0XFF 7E; do
		test_expect_code 3 "$IOMAPCTL" -s "$NOSOCK" limits \
			"event_ring=$v" 2>err || {
			echo "iomapctl refused event_ring=$v:"; cat err
			return 1
		}
	done
'

# VALUE|REASON: a bad SIZE and the reason both programs must give.
cat >bad.list <<'LIST'
|empty
-1|negative
-4k|negative
+1|not a number
 1|not a number
lots|not a number
0x|no hex digits
12Q|unknown unit
4B|unknown unit
4.5M|unknown unit
4kz|junk after the unit
1MiBs|junk after the unit
16E|too large
18446744073709551616|too large
LIST

test_expect_success 'both programs refuse bad SIZEs naming option, value and reason' '
	while IFS="|" read -r v why; do
		test_expect_code 2 "$IOMAPFS" -o "dir_index_max=$v" \
			"$NOSRC" m 2>err &&
		grep -F -q "'\''dir_index_max=$v'\'': $why" err &&
		test_expect_code 2 "$IOMAPCTL" -s "$NOSOCK" limits \
			"cache_max=$v" 2>err &&
		grep -F -q "'\''cache_max=$v'\'': $why" err || {
			echo "for the value \"$v\" expected \"$why\" from both, got:"
			cat err
			return 1
		}
	done <bad.list
'

test_expect_success 'iomapctl names the argument for OFF, LEN and --range' '
	test_expect_code 2 "$IOMAPCTL" -s "$NOSOCK" map 12 0x 2>err &&
	grep -F -q "bad offset '\''0x'\'': no hex digits" err &&
	test_expect_code 2 "$IOMAPCTL" -s "$NOSOCK" map 12 0 4kz 2>err &&
	grep -F -q "bad length '\''4kz'\'': junk after the unit" err &&
	test_expect_code 2 "$IOMAPCTL" -s "$NOSOCK" dump --range 0:16E 2>err &&
	grep -F -q "bad --range '\''0:16E'\'': too large" err &&
	test_expect_code 2 "$IOMAPCTL" -s "$NOSOCK" watch --count 1x 2>err &&
	grep -F -q "bad --count '\''1x'\'': unknown unit" err
'

test_done
