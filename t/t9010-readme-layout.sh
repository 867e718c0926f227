#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t9010-readme-layout.sh - README.md's Layout table against the tree: every
# file of daemon/, cli/ and shared/ has its row (a pair X.c and X.h may
# share one, written `X.[ch]`), and every row names something that exists.
# The table is the newcomer's map; a file missing from it is a room
# without a door.
test_description='README Layout names every source file'
. "$(dirname "$0")/test-lib.sh"

README=$SRC_DIR/README.md

# The source files: from git when SRC_DIR is the top of a checkout, else
# from the directory (a dist tarball, maybe unpacked inside a checkout, as
# make distcheck does).
list_sources() {
	if [ "$(git -C "$SRC_DIR" rev-parse --show-toplevel 2>/dev/null)" = \
		"$(cd "$SRC_DIR" && pwd -P)" ]; then
		git -C "$SRC_DIR" ls-files daemon cli shared
	else
		(cd "$SRC_DIR" && find daemon cli shared -type f \
			\( -name "*.[ch]" -o -name "*.varlink" \
			-o -name "*.bash-completion" \))
	fi | grep -v -e "Makemodule.am$" -e "ctl-idl.c$" | sort
}

test_expect_success 'the Layout section and its table exist' '
	sed -n "/^## Layout$/,/^## /p" "$README" >layout &&
	grep "^| \`" layout | sed "s/^| \`\\([^\`]*\\)\`.*/\\1/" >rows &&
	test "$(wc -l <rows)" -ge 40
'

test_expect_success 'every file of daemon/, cli/ and shared/ has a row' '
	list_sources >files &&
	test -s files &&
	missing= &&
	while read -r f; do
		pair=${f%.[ch]}.[ch] &&
		{ grep -qxF -- "$f" rows || grep -qxF -- "$pair" rows ||
			missing="$missing $f"; } || return 1
	done <files &&
	test_eq "" "$missing" "files without a row in README.md Layout"
'

test_expect_success 'every row names files that exist' '
	stale= &&
	while read -r r; do
		case $r in
		*.\[ch\])
			b=${r%.\[ch\]} &&
			{ test -f "$SRC_DIR/$b.c" && test -f "$SRC_DIR/$b.h" ||
				stale="$stale $r"; } ;;
		*/) { test -d "$SRC_DIR/$r" || stale="$stale $r"; } ;;
		*) { test -f "$SRC_DIR/$r" || stale="$stale $r"; } ;;
		esac || return 1
	done <rows &&
	test_eq "" "$stale" "rows of README.md Layout that name no file"
'

test_done
