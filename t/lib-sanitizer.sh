# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-sanitizer.sh - one ASan+UBSan build of the tree, shared by the scripts
# that need it (t0990 runs the unit tests in it, t9990 the whole suite).
# The build is a copy of the source files git knows (tracked, or untracked
# and not ignored), configured with --enable-sanitizers --enable-werror and
# made in place.  It is cached under /tmp in a directory named after a hash
# of those files' names and contents, so a second script of the same run
# reuses it and any change to the tree makes a new one.  Source it after
# test-lib.sh; it skips the whole script when the tree is not a git
# checkout (a dist tarball) or IOMAPFS_SKIP_SANITIZER_BUILD is set.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP lib-sanitizer.sh is a test library, not a test"
	exit 0
fi

# The top of a git work tree: a dist tarball unpacked inside a checkout
# (make distcheck) is not one, and git would list none of its files.
command -v git >/dev/null &&
	[ "$(git -C "$SRC_DIR" rev-parse --show-toplevel 2>/dev/null)" = \
		"$(cd "$SRC_DIR" && pwd -P)" ] ||
	skip_all "needs the source as a git checkout to copy it"
[ -n "${IOMAPFS_SKIP_SANITIZER_BUILD:-}" ] &&
	skip_all "IOMAPFS_SKIP_SANITIZER_BUILD is set"

# Sanitizer settings for everything run from the build: any report is fatal
# (exit code 86, distinct from the programs' own codes) and goes to stderr.
# abort_on_error=0: an abort would make a shell report "killed by a signal"
# and hide the exit code that says "sanitizer".
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

san_list_sources_() {
	git -C "$SRC_DIR" ls-files -z --cached --others --exclude-standard
}

# The cache key: names and contents of the files that are copied.  Files
# listed by git but deleted in the work tree are left out, as cp would.
san_key_() {
	(cd "$SRC_DIR" && san_list_sources_ |
		xargs -0 sha1sum 2>/dev/null | sort -k 2 | sha1sum | cut -c1-16)
}

SAN_CACHE_ROOT=${IOMAPFS_SANITIZER_CACHE:-${TMPDIR:-/tmp}}
SAN_KEY=$(san_key_)
SAN_BUILD=$SAN_CACHE_ROOT/iomapfs-sanbuild-$SAN_KEY

# sanitizer_build: make $SAN_BUILD unless it is already complete (it holds
# .build-ok).  Serialised by a lock, so that two scripts run in parallel
# (make -j check) build it once.  On failure prints the tail of the logs.
sanitizer_build() {
	(
		flock 9 || exit 1
		[ -f "$SAN_BUILD/.build-ok" ] && exit 0
		# Builds of older trees: drop those unused for an hour.
		find "$SAN_CACHE_ROOT" -maxdepth 1 -name 'iomapfs-sanbuild-*' \
			-type d -mmin +60 -exec rm -rf {} + 2>/dev/null
		# An incomplete build (no .build-ok) was interrupted: redo it.
		rm -rf "$SAN_BUILD"
		mkdir -p "$SAN_BUILD" || exit 1
		(cd "$SRC_DIR" && san_list_sources_ |
			xargs -0 cp --parents -t "$SAN_BUILD" 2>/dev/null)
		cd "$SAN_BUILD" && test -f configure.ac || exit 1
		if ! { autoreconf -fi >autoreconf.log 2>&1 &&
			./configure -q --enable-werror --enable-sanitizers \
				>configure.log 2>&1; }; then
			tail -n 30 configure.log autoreconf.log
			exit 1
		fi
		if ! make -j"$(nproc)" >make.log 2>&1; then
			grep -E "error|warning" make.log | head -n 40
			exit 1
		fi
		touch .build-ok
	) 9>"$SAN_CACHE_ROOT/iomapfs-sanbuild.lock"
}
