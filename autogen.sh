#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# autogen.sh - generate configure.  With --deps, first install the Debian
# packages that building and testing iomapfs need (as root, or through sudo).
# Running it twice is harmless: installed packages are skipped.
set -e
cd "$(dirname "$0")"

PKGS="autoconf automake libtool pkg-config make gcc
	libfuse3-dev fuse3 e2fsprogs e2fslibs-dev comerr-dev libblkid-dev
	libjansson-dev libsmartcols-dev libreadline-dev
	mandoc jq socat fio fuse2fs dosfstools util-linux tmux perl valgrind
	procps psmisc acl attr clang libclang-rt-14-dev
	xfsprogs python3 systemd"

if [ "$1" = "--deps" ]; then
	shift
	missing=
	for p in $PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "autogen.sh: installing:$missing"
		sudo=
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		export DEBIAN_FRONTEND=noninteractive
		$sudo apt-get update -qq
		$sudo apt-get install -y -qq --no-install-recommends $missing </dev/null
	fi
fi
autoreconf -fi
