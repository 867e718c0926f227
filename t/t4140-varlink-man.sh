#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4140-varlink-man.sh - iomapfs-varlink(7) is lint-clean, holds the current
# interface description word for word, and documents every method and
# error of it; the description itself is well formed enough for Varlink
# tools (one interface line, balanced parentheses, known keywords).
test_description='iomapfs-varlink(7) and the interface description'
. "$(dirname "$0")/test-lib.sh"

PAGE=$SRC_DIR/man/iomapfs-varlink.7
IDL=$SRC_DIR/daemon/io.iomapfs.Cache.varlink
command -v mandoc >/dev/null && test_set_prereq MANDOC

test_expect_success MANDOC 'mandoc -Tlint finds nothing' '
	mandoc -Tlint "$PAGE" >lint.out 2>&1 || { cat lint.out; false; }
'

test_expect_success 'the page holds the interface description as it is now' '
	sed -f "$SRC_DIR/man/varlink-idl.sed" "$IDL" >want &&
	sed -n "/^\\.SH INTERFACE DESCRIPTION/,/^\\.SH /p" "$PAGE" |
		sed -n "/^\\.EX$/,/^\\.EE$/p" | sed "1d;\$d" >got &&
	test_cmp want got
'

test_expect_success MANDOC 'every method and error is documented' '
	mandoc -Tascii "$PAGE" | col -b >page.txt &&
	sed -n "/^METHODS/,/^INTERFACE DESCRIPTION/p" page.txt >body &&
	for m in $(sed -n "s/^method \\([A-Za-z]*\\).*/\\1/p" "$IDL") GetInfo GetInterfaceDescription; do
		grep -q "^ *\\(org.varlink.service.\\)\\?$m(" body ||
			{ echo "method $m is not in METHODS"; return 1; }
	done &&
	for e in $(sed -n "s/^error \\([A-Za-z]*\\).*/\\1/p" "$IDL"); do
		grep -q "io.iomapfs.Cache.$e (" body ||
			{ echo "error $e is not in ERRORS"; return 1; }
	done
'

test_expect_success 'the description is well formed' '
	test_eq 1 "$(grep -c "^interface io\\.iomapfs\\.Cache$" "$IDL")" &&
	grep -v "^ *#" "$IDL" | grep -v "^ *$" |
		grep -Ev "^(interface|type|method|error) |^  [a-z][a-z0-9_]*: |^\\)|^  -> \\(" >odd || true &&
	test_cmp /dev/null odd &&
	test_eq "$(grep -v "^ *#" "$IDL" | tr -cd "(" | wc -c)" \
		"$(grep -v "^ *#" "$IDL" | tr -cd ")" | wc -c)" "balanced parentheses"
'

test_done
