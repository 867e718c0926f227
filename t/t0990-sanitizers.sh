#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0990-sanitizers.sh - build a copy of the tree with --enable-sanitizers
# (AddressSanitizer + UndefinedBehaviorSanitizer) and run every C unit test
# under it.  A sanitizer report makes the unit test exit non-zero.
test_description='unit tests under ASan and UBSan'
. "$(dirname "$0")/test-lib.sh"

# The source must be the top of its own git work tree: an unpacked tarball
# inside some other checkout (make distcheck) has nothing to list.
top=$(git -C "$SRC_DIR" rev-parse --show-toplevel 2>/dev/null)
[ -n "$top" ] && [ "$(realpath "$top")" = "$(realpath "$SRC_DIR")" ] ||
	skip_all "needs the source as a git checkout to copy it"
[ -n "${IOMAPFS_SKIP_SANITIZER_BUILD:-}" ] &&
	skip_all "IOMAPFS_SKIP_SANITIZER_BUILD is set"

copy=$TRASH/src
test_expect_success 'copy the tree and configure it with --enable-sanitizers' '
	mkdir "$copy" &&
	git -C "$SRC_DIR" ls-files -z --cached --others --exclude-standard |
		(cd "$SRC_DIR" && xargs -0 cp --parents -t "$copy" 2>/dev/null; true) &&
	test -f "$copy/configure.ac" &&
	(cd "$copy" && autoreconf -fi >autoreconf.log 2>&1 &&
	 ./configure -q --enable-werror --enable-sanitizers >configure.log 2>&1) ||
	{ tail -n 30 "$copy/configure.log" "$copy/autoreconf.log"; false; }
'

test_expect_success 'build it' '
	(cd "$copy" && make -j"$(nproc)" >make.log 2>&1) ||
	{ grep -E "error|warning" "$copy/make.log" | head -n 40; false; }
'

units=$(cd "$copy/t/unit" 2>/dev/null && ls test-* 2>/dev/null | grep -v "\.[ch]$")
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for u in $units; do
	test_expect_success "$u is clean under the sanitizers" "
		\"$copy/t/unit/$u\" >$u.out 2>&1 ||
		{ echo \"$u failed (exit \$?); its last lines:\"; tail -n 40 $u.out; false; }
	"
done

test_expect_success 'at least one unit test ran' '
	test -n "$units"
'

test_done
