#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0110-rangemap-replay.sh - replays range-map command files under t/t0110/
# with t/helper/imap-replay and compares each transcript with its expected
# file; then checks that bad commands stop the replay with an error that
# names the file and line.
test_description='range map command replay transcripts'
. "$(dirname "$0")/test-lib.sh"

REPLAY=$HELPER_DIR/imap-replay
DATA=$SRC_DIR/t/t0110

if [ ! -x "$REPLAY" ]; then
	echo "Bail out! $REPLAY is not built (run make)"
	exit 1
fi

for cmds in "$DATA"/*.cmds; do
	name=$(basename "$cmds" .cmds)
	test_expect_success "transcript: $name" '
		"$REPLAY" "$cmds" >actual &&
		test_cmp "$DATA/$name.expect" actual
	'
done

test_expect_success 'commands from stdin' '
	printf "upsert 0 4096 MAPPED 0x1000\nlookup 100\n" |
		"$REPLAY" >actual &&
	cat >expect <<-\END &&
	> upsert 0 4096 MAPPED 0x1000
	merged 0
	> lookup 100
	0x0 +0x1000 MAPPED addr 0x1000 flags -
	END
	test_cmp expect actual
'

# replay_fails LINE MESSAGE: the commands in ./bad.cmds must fail at LINE
# with MESSAGE (a grep pattern) on stderr.
replay_fails() {
	test_must_fail "$REPLAY" bad.cmds >out 2>err &&
	test_grep "^imap-replay: bad.cmds:$1: $2" err
}

test_expect_success 'error: unknown command, with its line number' '
	printf "count\n# comment\n\nfrobnicate 1 2\ncount\n" >bad.cmds &&
	replay_fails 4 "unknown command .frobnicate." &&
	test_grep -c "^> count" out >n && test_eq 1 "$(cat n)" "commands run"
'

test_expect_success 'error: bad numbers' '
	echo "lookup 0x1g" >bad.cmds &&
	replay_fails 1 "lookup: bad offset .0x1g." &&
	echo "lookup -1" >bad.cmds &&
	replay_fails 1 "lookup: bad offset" &&
	echo "remove 0 99999999999999999999" >bad.cmds &&
	replay_fails 1 "remove: bad length" &&
	echo "upsert 0 1k HOLE -" >bad.cmds &&
	replay_fails 1 "upsert: bad length .1k."
'

test_expect_success 'error: bad type, address and flags' '
	printf "upsert 0 0x1000 MAPPED 0x1000\nupsert 0 1 MAPPPED 0\n" \
		>bad.cmds &&
	replay_fails 2 "upsert: unknown type .MAPPPED." &&
	echo "upsert 0 1 MAPPED none" >bad.cmds &&
	replay_fails 1 "upsert: bad address .none." &&
	echo "upsert 0 1 HOLE - NEW|OLD" >bad.cmds &&
	replay_fails 1 "upsert: bad flags .NEW|OLD."
'

test_expect_success 'error: wrong number of arguments' '
	echo "upsert 0 1 HOLE" >bad.cmds &&
	replay_fails 1 "usage: upsert OFF LEN TYPE ADDR \\[FLAGS\\]" &&
	echo "remove 0" >bad.cmds &&
	replay_fails 1 "usage: remove OFF LEN|eof" &&
	echo "dump all" >bad.cmds &&
	replay_fails 1 "usage: dump" &&
	echo "lookup 1 2 3 4 5 6 7 8 9" >bad.cmds &&
	replay_fails 1 "too many words"
'

test_expect_success 'error: mappings the map refuses' '
	echo "upsert 0 0 HOLE -" >bad.cmds &&
	replay_fails 1 "upsert: invalid mapping" &&
	echo "upsert 0xffffffffffffffff 2 HOLE -" >bad.cmds &&
	replay_fails 1 "upsert: invalid mapping" &&
	echo "upsert 0 0x1000 MAPPED -" >bad.cmds &&
	replay_fails 1 "upsert: invalid mapping" &&
	echo "upsert 0 0x1000 HOLE 0x1000" >bad.cmds &&
	replay_fails 1 "upsert: invalid mapping"
'

test_expect_success 'error: a missing file' '
	test_must_fail "$REPLAY" no-such.cmds 2>err &&
	test_grep "cannot open no-such.cmds" err
'

test_done
