#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0960-fuzz.sh - the short fuzzing run of CI: build a copy of the tree
# with clang, libFuzzer, ASan and UBSan (--enable-fuzzing
# --enable-sanitizers, as t0990-sanitizers.sh copies it), check that every
# open bug of t/fuzz/crashers/KNOWN still reproduces, then run each
# harness for FUZZ_SECONDS (default 60) with t/fuzz/run-fuzz.  A crash,
# hang, leak or sanitizer report that is not a known bug fails.  The
# executions per harness are printed as TAP diagnostics.  Skips when clang
# or libFuzzer (Debian: clang, libclang-rt-14-dev) is missing, or when
# IOMAPFS_SKIP_FUZZ is set.  "make fuzz" is the long version.
test_description='libFuzzer harnesses, FUZZ_SECONDS each'
. "$(dirname "$0")/test-lib.sh"

secs=${FUZZ_SECONDS:-60}
harnesses="rangemap rangemap-small varlink ctl ext2map jbd2"

[ -n "${IOMAPFS_SKIP_FUZZ:-}" ] && skip_all "IOMAPFS_SKIP_FUZZ is set"
# The source must be the top of its own git work tree: a tarball unpacked
# inside another checkout (make distcheck) has nothing for git to list.
top=$(git -C "$SRC_DIR" rev-parse --show-toplevel 2>/dev/null)
[ -n "$top" ] && [ "$(realpath "$top")" = "$(realpath "$SRC_DIR")" ] ||
	skip_all "needs the source as a git checkout to copy it"
command -v clang >/dev/null ||
	skip_all "clang is not installed (Debian packages clang and libclang-rt-14-dev)"
cat >probe.c <<'EOC'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return d && n ? 0 : 0; }
EOC
clang -fsanitize=fuzzer,address,undefined probe.c -o probe >probe.log 2>&1 ||
	skip_all "clang cannot link libFuzzer harnesses (install libclang-rt-14-dev): $(head -n 1 probe.log)"

copy=$TRASH/src
test_expect_success 'copy the tree and configure it with clang and --enable-fuzzing' '
	mkdir "$copy" &&
	# (a file deleted but not yet committed is listed, and cannot be
	# copied: the configure and build below tell whether the copy works)
	git -C "$SRC_DIR" ls-files -z --cached --others --exclude-standard |
		(cd "$SRC_DIR" && { xargs -0 cp --parents -t "$copy" 2>/dev/null || :; }) &&
	test -f "$copy/configure.ac" &&
	(cd "$copy" && autoreconf -fi >autoreconf.log 2>&1 &&
	 ./configure -q CC=clang --enable-sanitizers --enable-fuzzing \
		>configure.log 2>&1) ||
	{ tail -n 30 "$copy/configure.log" "$copy/autoreconf.log"; false; }
'

# Only the harnesses (and what they link) are built; clang warnings in
# code outside t/fuzz are not this test's business, but the harnesses
# themselves must compile clean.
test_expect_success 'build the harnesses' '
	(cd "$copy" && make -j"$(nproc)" $(printf "t/fuzz/fuzz-%s " $harnesses) \
		>make.log 2>&1) ||
	{ grep -E "error|warning" "$copy/make.log" | head -n 40; false; }
'

test_expect_success 'the harnesses compile without warnings under clang' '
	! grep -E "^t/fuzz/.*(warning|error):|/t/fuzz/[^ ]*: (warning|error):" \
		"$copy/make.log"
'

# Each open bug must still reproduce (known breakage); a reproducer that
# runs clean means the bug was fixed: it then belongs to the corpus.  One
# that crashes with another report is a new bug.
known=$SRC_DIR/t/fuzz/crashers/KNOWN
n=0
while IFS='|' read -r h file pat desc; do
	case $h in '#'* | '') continue ;; esac
	f=$SRC_DIR/t/fuzz/crashers/$h/$file
	n=$((n + 1))
	printf '%s\n' "$pat" >"known-$n.pat"
	test_expect_failure "fixed: $desc ($h/$file)" "
		'$copy/t/fuzz/fuzz-$h' -timeout=10 '$f' \
			>known-$n.report 2>&1 && return 0
		grep -qEf known-$n.pat known-$n.report ||
			cp known-$n.report other-crash-$n
		false
	"
done <"$known"
test_expect_success 'the reproducers crash only with their known reports' '
	for f in other-crash-*; do
		[ -f "$f" ] || continue
		echo "$f: a reproducer crashed with another report:"
		tail -n 30 "$f"
		false
	done
'

# The suite's campaign is seeded (IOMAPFS_FUZZ_SEED, default 1): every run
# explores the same inputs, so a failure here reproduces exactly and does not
# come and go with the luck of the draw; IOMAPFS_FUZZ_SEED=random, or
# make fuzz, explores afresh.
case ${IOMAPFS_FUZZ_SEED:=1} in
random) unset IOMAPFS_FUZZ_SEED ;;
*) export IOMAPFS_FUZZ_SEED ;;
esac
test_expect_success "fuzz each harness for $secs s" '
	rc=0 &&
	{ "$SRC_DIR/t/fuzz/run-fuzz" "$copy" "$SRC_DIR" "$secs" "$TRASH/out" \
		$harnesses >results 2>&1 || rc=$?; } &&
	cat results &&
	test_eq 0 "$rc" "exit code of run-fuzz"
'
while read -r line; do
	say "$line"
done <"$TRASH/results"

test_done
