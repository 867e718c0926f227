#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t0950-fuzz-replay.sh - run every fuzz harness over its committed seed
# corpus (t/fuzz/corpus/) with the plain replay drivers of the normal
# build (no clang needed), then again under valgrind's memcheck when it is
# installed.  A harness aborts on any divergence from its model or broken
# invariant, so each run is a test of the code it drives.
test_description='fuzz harnesses replay their seed corpus (plain and valgrind)'
. "$(dirname "$0")/test-lib.sh"

fuzz=$BUILD_DIR/t/fuzz
corpus=$SRC_DIR/t/fuzz/corpus
[ -x "$fuzz/replay-varlink" ] ||
	skip_all "$fuzz/replay-varlink is not built (run make)"
# valgrind cannot run a sanitizer build's binaries (t9990 runs this there)
if command -v valgrind >/dev/null &&
	! ldd "$fuzz/replay-rangemap" 2>/dev/null | grep -q libasan; then
	test_set_prereq VALGRIND
fi

# name of the harness -> its corpus
declare -A corpus_of=(
	[rangemap]=rangemap [rangemap-small]=rangemap [varlink]=varlink
	[ctl]=ctl [ext2map]=ext2map [jbd2]=jbd2
)

for h in rangemap rangemap-small varlink ctl ext2map jbd2; do
	test_expect_success "replay-$h runs its corpus clean" "
		test -n \"\$(ls '$corpus/${corpus_of[$h]}')\" &&
		timeout 300 '$fuzz/replay-$h' '$corpus/${corpus_of[$h]}' >$h.out 2>$h.err ||
		{ echo \"replay-$h failed (exit \$?):\"; tail -n 30 $h.err; false; }
	"
	n=$(sed -n 's/^replay: \([0-9]*\) inputs$/\1/p' "$TRASH/$h.out" 2>/dev/null)
	say "$h: ${n:-0} inputs replayed"
done

# ctl is left out: its 50 ms quiet periods make it slow under valgrind.
for h in rangemap varlink ext2map jbd2; do
	test_expect_success VALGRIND "replay-$h is clean under valgrind" "
		timeout 600 valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite \
			'$fuzz/replay-$h' '$corpus/${corpus_of[$h]}' \
			>vg-$h.out 2>vg-$h.err ||
		{ echo \"valgrind on replay-$h failed (exit \$?):\"; tail -n 40 vg-$h.err; false; }
	"
done

# Bugs the harnesses found, fixed: their reproducers are corpus/*/fixed-*.
test_expect_success 'range map: neighbours apart for the 2^64 rule re-merge after a trim' "
	'$fuzz/replay-rangemap' '$corpus/rangemap/fixed-remerge-full-range'
"
test_expect_success 'range map: a trim never leaves a piece at device address IOMAP_NULL_ADDR' "
	'$fuzz/replay-rangemap-small' '$corpus/rangemap/fixed-device-end-null-addr'
"
test_expect_success VALGRIND 'ext2map: reading the bitmaps of an image with a bad s_first_data_block is memory-safe' "
	valgrind -q --error-exitcode=99 '$fuzz/replay-ext2map' '$corpus/ext2map/fixed-bitmaps-first-data-block'
"

test_done
