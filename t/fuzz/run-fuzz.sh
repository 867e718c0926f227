#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-fuzz.sh - run libFuzzer harnesses for a fixed time and judge what
# they found; "make fuzz" and t/t0950-fuzz.sh both use it.
#
# Usage: run-fuzz.sh BUILD-DIR SOURCE-DIR SECONDS OUT-DIR HARNESS...
#
# Each harness (BUILD-DIR/t/fuzz/fuzz-NAME) runs SECONDS in libFuzzer's
# fork mode, which keeps going after a crash, a hang (-timeout=10) or an
# out-of-memory, on a copy of SOURCE-DIR/t/fuzz/corpus/NAME (the
# small-node range map shares the range map's corpus), up to `nproc`
# harnesses at once.  Every input it saved as a crash, timeout, leak or
# oom is run again alone and its report matched against
# t/fuzz/crashers/KNOWN: a known bug is reported and tolerated, anything
# else fails.  Prints one line per harness:
#   NAME: N executions, C new corpus inputs, K known bug(s), U new bug(s)
# and, for new bugs, the end of each report.  Exits 1 when a harness found
# a new bug or did not run, else 0.  OUT-DIR/NAME/ keeps the corpus, the
# log and the reports.
set -u
build=$1 src=$2 secs=$3 out=$4
shift 4
known=$src/t/fuzz/crashers/KNOWN
jobs=$(nproc 2>/dev/null || echo 1)
mkdir -p "$out"

run_one() { # NAME
	local h=$1 bin=$build/t/fuzz/fuzz-$1 w=$out/$1 c=${1%-small}
	local execs new nknown=0 nnew=0 a n=0 pat desc hit
	rm -rf "$w"
	mkdir -p "$w/corpus" "$w/artifacts"
	if [ ! -x "$bin" ]; then
		echo "$h: not built ($bin)" >"$w/result"
		echo fail >"$w/status"
		return
	fi
	cp "$src/t/fuzz/corpus/$c"/* "$w/corpus/" 2>/dev/null
	local seeds
	seeds=$(ls "$w/corpus" | wc -l)
	"$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
		-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$w/artifacts/" "$w/corpus" >"$w/log" 2>&1
	execs=$(grep -oE '^#[0-9]+' "$w/log" | tail -n 1 | tr -d '#')
	new=$(($(ls "$w/corpus" | wc -l) - seeds))
	: >"$w/new-bugs"
	for a in "$w"/artifacts/*; do
		[ -f "$a" ] || continue
		case $a in *.report) continue ;; esac
		n=$((n + 1))
		[ $n -le 50 ] || break
		IOMAPFS_FUZZ_STRICT=0 "$bin" -timeout=10 -rss_limit_mb=2048 \
			"$a" >"$a.report" 2>&1
		hit=
		while IFS='|' read -r kh _ pat desc; do
			case $kh in '#'* | '') continue ;; esac
			[ "$kh" = "$h" ] || continue
			if grep -qE -- "$pat" "$a.report"; then
				hit=$desc
				break
			fi
		done <"$known"
		if [ -n "$hit" ]; then
			nknown=$((nknown + 1))
			echo "$hit" >>"$w/known-bugs"
		else
			nnew=$((nnew + 1))
			{
				echo "--- new bug: $a"
				grep -E 'ERROR|runtime error|fuzz:|SUMMARY|^    #[0-9] ' \
					"$a.report" | head -n 20
			} >>"$w/new-bugs"
		fi
	done
	echo "$h: ${execs:-0} executions, $new new corpus inputs, $nknown known bug(s), $nnew new bug(s)" >"$w/result"
	if [ -z "$execs" ] || [ "$nnew" -gt 0 ]; then
		echo fail >"$w/status"
	else
		echo ok >"$w/status"
	fi
}

running=0
for h in "$@"; do
	run_one "$h" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

rc=0
for h in "$@"; do
	cat "$out/$h/result"
	[ -s "$out/$h/known-bugs" ] && sort "$out/$h/known-bugs" | uniq -c |
		sed 's/^ */  known: /'
	if [ "$(cat "$out/$h/status")" != ok ]; then
		rc=1
		[ -s "$out/$h/new-bugs" ] && cat "$out/$h/new-bugs"
		[ -s "$out/$h/new-bugs" ] || tail -n 20 "$out/$h/log"
	fi
done
exit $rc
