#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t9000-docs-man.sh - the manual pages against the code: every command of
# iomapctl's table, every option and output column and exit code is in
# iomapctl(8); every method and error of the io.iomapfs.Cache interface is
# in iomapfs-varlink(7); and `mandoc -Tlint` is clean on every page.
test_description='man pages agree with the command table and the interface'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-cli.sh"

test_have_prereq IOMAPCTL || skip_all "iomapctl is not built"
test_have_prereq MANDOC || skip_all "mandoc is not installed"

MAN_DIR=$SRC_DIR/man
CTL_MAN=$MAN_DIR/iomapctl.8
VARLINK_MAN=$MAN_DIR/iomapfs-varlink.7
INTERFACE=$SRC_DIR/daemon/io.iomapfs.Cache.varlink

# render PAGE: the page as plain text, as man(1) shows it.
render() {
	MANWIDTH=200 mandoc -Tascii -Owidth=200 "$1" | col -bx
}

test_expect_success 'mandoc -Tlint is clean on every man page' '
	ls "$MAN_DIR"/*.[1-8] >pages &&
	test -s pages &&
	while read -r p; do
		mandoc -Tlint "$p" >lint 2>&1 &&
		test ! -s lint || { echo "$p:" && cat lint && return 1; }
	done <pages
'

test_expect_success 'every command of the table has its section in iomapctl(8)' '
	render "$CTL_MAN" >ctl.txt &&
	ictl commands >names &&
	test -s names &&
	while read -r c; do
		grep -q "^   $c\$" ctl.txt || {
			echo "iomapctl(8) has no section for the command $c"
			return 1
		}
	done <names
'

test_expect_success 'the hidden commands are documented too' '
	for c in $(ictl commands --all); do
		grep -q "iomapctl $c\\|^   $c\$" ctl.txt || {
			echo "iomapctl(8) does not mention the command $c"
			return 1
		}
	done
'

# section CMD: the section of the command CMD in the rendered iomapctl(8),
# from its heading to the next heading.
section() {
	awk -v cmd="$1" '
		$0 == "   " cmd { on = 1; next }
		on && (/^   [^ ]/ || /^[^ ]/) { exit }
		on' ctl.txt
}

# The options come from the command table (through `complete`, which
# offers what each record declares); each must be in its command's own
# section, or for a hidden command (which has none) in the page.
test_expect_success 'every option of every command is in its section of iomapctl(8)' '
	for c in $(ictl commands --all); do
		ictl complete -- "$c" -- >opts &&
		section "$c" >sect &&
		if ! test -s sect; then
			cp ctl.txt sect
		fi &&
		while read -r o; do
			grep -q -- "$o" sect || {
				echo "iomapctl(8) does not document $o of $c"
				return 1
			}
		done <opts || return 1
	done &&
	ictl complete -- dump -- >opts &&
	test_grep -qx -- --range opts
'

test_expect_success 'every global option is in iomapctl(8)' '
	ictl complete -- - >gopts &&
	test $(wc -l <gopts) -ge 10 &&
	while read -r o; do
		grep -q -- "$o" ctl.txt || {
			echo "iomapctl(8) does not document $o"
			return 1
		}
	done <gopts
'

test_expect_success 'every exit code is in iomapctl(8)' '
	sed -n "/^EXIT STATUS/,/^[A-Z]/p" ctl.txt >exit.txt &&
	for n in 0 1 2 3 4; do
		grep -q "^       $n\( \|\$\)" exit.txt || {
			echo "EXIT STATUS does not describe $n"
			return 1
		}
	done
'

# columns NAME: the column names of a table, from the usage error that
# iomapctl gives for an unknown column.
columns() {
	sed -n "s/.*(this table has \(.*\))\$/\1/p" "$1" | tr , "\n"
}

test_expect_success E2FSPROGS 'every output column is in iomapctl(8)' '
	make_image "$TRASH/c.img" 1M &&
	test_expect_code 2 ictl --image "$TRASH/c.img" -o BOGUS map 2 2>err1 &&
	test_expect_code 2 ictl -s "$TRASH/none.sock" -o BOGUS audit 2>err2 &&
	test_expect_code 2 ictl -o BOGUS list 2>err3 &&
	{ columns err1 && columns err2 && columns err3; } | sort -u >cols &&
	test $(wc -l <cols) -ge 12 &&
	sed -n "/^OUTPUT COLUMNS/,/^SHELL/p" ctl.txt >cols.txt &&
	while read -r col; do
		grep -q "^       $col\( \|\$\)" cols.txt || {
			echo "OUTPUT COLUMNS does not describe $col"
			return 1
		}
	done <cols
'

test_expect_success 'every method and error of the interface is in iomapfs-varlink(7)' '
	test -f "$INTERFACE" &&
	test -f "$VARLINK_MAN" || {
		echo "missing $VARLINK_MAN or $INTERFACE"
		return 1
	}
	sed -n "s/^method \([A-Za-z]*\).*/\1/p" "$INTERFACE" >methods &&
	test $(wc -l <methods) -ge 11 &&
	sed -n "s/^error \([A-Za-z]*\).*/\1/p" "$INTERFACE" >errors &&
	render "$VARLINK_MAN" >varlink.txt &&
	while read -r m; do
		grep -q "\\b$m\\b" varlink.txt || {
			echo "iomapfs-varlink(7) does not document the method $m"
			return 1
		}
	done <methods &&
	while read -r e; do
		grep -q "\\b$e\\b" varlink.txt || {
			echo "iomapfs-varlink(7) does not document the error $e"
			return 1
		}
	done <errors
'

test_expect_success 'iomapctl(8) names the methods each command calls' '
	test -f "$INTERFACE" &&
	sed -n "s/^method \([A-Za-z]*\).*/\1/p" "$INTERFACE" >methods &&
	for m in GetStatus GetStats ResetStats Dump Map Flush SetCaching \
		GetLimits SetLimits Audit Watch; do
		grep -qx "$m" methods || {
			echo "the interface lost the method $m that iomapctl calls"
			return 1
		}
	done
'

test_done
