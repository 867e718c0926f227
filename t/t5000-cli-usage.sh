#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t5000-cli-usage.sh - iomapctl without a daemon: help from the command
# table, usage errors and their exit codes, JSON errors, version, and
# `list` when no mount runs.
test_description='iomapctl usage, help and exit codes'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"

test_expect_success 'the command table is sorted and has no duplicates' '
	ictl commands --all >names &&
	LC_ALL=C sort -u names >sorted &&
	test_cmp sorted names &&
	test_grep -qx dump names &&
	test_grep -qx complete names
'

test_expect_success 'help lists every visible command with its one-liner' '
	ictl help >out &&
	ictl commands >names &&
	while read -r c; do
		test_grep -q "^  $c " out || return 1
	done <names &&
	! grep -q "^  complete " out &&
	! grep -q "^  commands " out
'

test_expect_success 'help CMD prints the usage line of every command' '
	for c in $(ictl commands --all); do
		ictl help "$c" >out &&
		test_grep -q "^usage: iomapctl $c" out || return 1
	done
'

test_expect_success 'help of an alias, and of an unknown command' '
	ictl help ls >out &&
	test_grep -q "^usage: iomapctl list" out &&
	test_expect_code 2 ictl help nosuchcmd 2>err &&
	test_grep -q "no command .nosuchcmd." err
'

test_expect_success JQ 'help -J lists the table; help -J CMD describes one' '
	ictl -J help >out &&
	jq -r ".commands[].name" out >names &&
	ictl commands >expect &&
	test_cmp expect names &&
	jq -e ".schema_version == 1 and
		(.commands[] | select(.name == \"flush\") |
		 .admin == true and .needs_daemon == true and
		 .options == [\"--all\", \"--range\"])" out &&
	ictl -J help ls >out &&
	jq -e ".help.name == \"list\" and .help.alias == \"ls\" and
		(.help.help | test(\"runtime directory\"))" out &&
	test_expect_code 2 ictl -J help nosuch >out &&
	jq -e ".error.exit_code == 2" out
'

# The options of a command are declared once, in its record of the
# command table: completion, help -J, the usage line and the option lines
# of help all list the same ones.
test_expect_success JQ 'a command has one list of options, wherever it shows' '
	for c in $(ictl commands --all); do
		ictl complete -- "$c" -- >comp &&
		ictl -J help "$c" >doc &&
		jq -r ".help.options[]" doc >json &&
		test_cmp comp json &&
		ictl help "$c" >help &&
		while read -r o; do
			head -n 1 help | grep -q -- "$o" &&
			grep -q -- "^  $o" help || {
				echo "$c: $o is not in the usage line and the options of help:"
				cat help
				return 1
			}
		done <comp || return 1
	done &&
	ictl complete -- flush -- >comp &&
	printf -- "--all\n--range\n" >expect &&
	test_cmp expect comp
'

test_expect_success 'options are parsed as declared: abbreviations, =VALUE, no value for a flag' '
	test_expect_code 3 ictl -s "$TRASH/none.sock" dump --bl --range=0:4k 2>err &&
	test_grep -q "none.sock" err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" dump --blocks=1 2>err &&
	test_grep -q "option --blocks takes no argument" err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" map 12 --range 0:1 2>err &&
	test_grep -q "unknown option --range" err &&
	test_grep -q "^usage: iomapctl map INODE|PATH \[OFF \[LEN\]\] \[--blocks\]$" err
'

test_expect_success 'unknown command exits 2 and names it' '
	test_expect_code 2 ictl frobnicate 2>err &&
	test_grep -q "unknown command .frobnicate." err
'

test_expect_success 'argument counts are checked from the table' '
	test_expect_code 2 ictl map 2>err &&
	test_grep -q "too few arguments" err &&
	test_grep -q "^usage: iomapctl map" err &&
	test_expect_code 2 ictl status extra 2>err &&
	test_grep -q "too many arguments" err &&
	test_expect_code 2 ictl help a b 2>err
'

test_expect_success 'unknown options of a command exit 2' '
	test_expect_code 2 ictl -s "$TRASH/none.sock" dump --bogus 2>err &&
	test_grep -q "unknown option" err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" watch --count 2>err &&
	test_grep -q "needs an argument" err &&
	test_expect_code 2 ictl --bogus status 2>err
'

test_expect_success 'bad numbers are usage errors naming the value' '
	test_expect_code 2 ictl -s "$TRASH/none.sock" dump --range 12 1 2>err &&
	test_grep -q "bad --range .12." err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" map 12 1x 2>err &&
	test_grep -q "bad offset .1x." err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" watch --duration 3y 2>err &&
	test_grep -q "bad --duration" err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" limits cache_max=lots 2>err &&
	test_grep -q "bad value" err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" limits size=1 2>err &&
	test_grep -q "bad limit .size=1." err
'

test_expect_success 'flush needs --all or one inode, not both' '
	test_expect_code 2 ictl -s "$TRASH/none.sock" flush --all 12 2>err &&
	test_grep -q -- "--all takes no" err &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" flush --range 0:4k 2>err
'

test_expect_success 'only one target option' '
	test_expect_code 2 ictl -m /mnt -s /x.sock status 2>err &&
	test_grep -q "at most one" err
'

test_expect_success 'daemon-only commands refuse --image with exit 2' '
	for c in audit disable enable stats limits watch "flush --all"; do
		test_expect_code 2 ictl --image "$TRASH/x.img" $c 2>err &&
		test_grep -q "needs a running daemon" err || return 1
	done
'

test_expect_success 'a missing socket exits 3 and names it' '
	test_expect_code 3 ictl -s "$TRASH/none.sock" status 2>err &&
	test_grep -q "none.sock" err
'

test_expect_success PYTHON3 'a stale socket (nobody listens) exits 3' '
	python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" \
		"$TRASH/stale.sock" &&
	test -S "$TRASH/stale.sock" &&
	test_expect_code 3 ictl -s "$TRASH/stale.sock" stats 2>err &&
	test_grep -q "stale" err
'

test_expect_success 'a mountpoint without a daemon exits 3' '
	mkdir -p "$TRASH/notamount" &&
	test_expect_code 3 ictl -m "$TRASH/notamount" status 2>err &&
	test_grep -q "notamount" err
'

test_expect_success JQ 'errors are JSON documents with -J' '
	test_expect_code 3 ictl -J -s "$TRASH/none.sock" status >out 2>err &&
	test_must_be_empty_ err &&
	jq -e ".schema_version == 1 and .command == \"status\" and
		.error.exit_code == 3 and (.error.message | length > 0)" out &&
	test_expect_code 2 ictl -J nosuch >out &&
	jq -e ".error.exit_code == 2" out &&
	test_expect_code 2 ictl -J -m /a -s /b status >out &&
	jq -e ".error.message | test(\"at most one\")" out
'

test_expect_success JQ 'version, human and JSON' '
	ictl version >out &&
	test_grep -q "^iomapctl [0-9]" out &&
	ictl -J version >out &&
	jq -e ".schema_version == 1 and (.version | test(\"^[0-9]\"))" out &&
	ictl --version >out &&
	test_grep -q "^iomapctl [0-9]" out
'

test_expect_success 'no command with stdin not a terminal is a usage error' '
	test_expect_code 2 ictl </dev/null 2>err &&
	test_grep -q "no command" err
'

# `list` looks in the runtime directory of the caller: as an unprivileged
# user with our own XDG_RUNTIME_DIR (as_nobody, t/lib-cli.sh) it is empty
# whatever else runs here.
test_expect_success NOBODY,JQ 'list with no mount running' '
	mkdir -p "$TRASH/run" && chmod 777 "$TRASH/run" && chmod 755 "$TRASH" &&
	as_nobody "$IOMAPCTL" list >out &&
	test_grep -q "no iomapfs mount is running" out &&
	as_nobody "$IOMAPCTL" -J list >out &&
	jq -e ".mounts == [] and .runtime_dir == \"$TRASH/run/iomapfs\"" out
'

test_expect_success NOBODY 'status with no mount running exits 3' '
	test_expect_code 3 as_nobody "$IOMAPCTL" status 2>err &&
	test_grep -q "no iomapfs mount is running" err
'

test_expect_success NOBODY,JQ,PYTHON3 'list shows a stale socket as stale' '
	mkdir -p "$TRASH/run/iomapfs" && chmod 777 "$TRASH/run/iomapfs" &&
	as_nobody python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" \
		"$TRASH/run/iomapfs/mnt-gone.sock" &&
	as_nobody "$IOMAPCTL" -J -o MOUNTPOINT,STATE list >out &&
	jq -e ".mounts == [{\"mountpoint\": \"/mnt/gone\", \"state\": \"stale\"}]" out &&
	as_nobody "$IOMAPCTL" -rn list >out &&
	test_grep -q "^/mnt/gone stale " out &&
	test_expect_code 3 as_nobody "$IOMAPCTL" status 2>err
'

test_done
