# SPDX-License-Identifier: GPL-2.0-or-later
# probe.sh FSATTR DIR - which flags a file and a directory take, and what
# the xflags of FS_IOC_FSGETXATTR/FSSETXATTR and inheritance give, on the
# filesystem mounted at DIR (an empty directory of it).  t2080 compares
# iomapfs's output with the kernel's ext4's (t2080/probe.expect).
fsattr=$1 d=$2
mkdir "$d/d" "$d/inh" && touch "$d/f" || exit 1
"$fsattr" probe "$d/f"
"$fsattr" probe "$d/d"
"$fsattr" xget "$d/f"
"$fsattr" xset "$d/f" 0x1 0
"$fsattr" xset "$d/f" 0x800 0
"$fsattr" xset "$d/f" 0x80 0
"$fsattr" get "$d/f"
"$fsattr" xset "$d/f" 0x8 0
"$fsattr" xget "$d/f"
"$fsattr" set "$d/f" 0x00080018
"$fsattr" set "$d/f" 0x00080000
"$fsattr" xset "$d/f" 0x0 5
"$fsattr" set "$d/d" 0x40000000
"$fsattr" set "$d/f" 0x00000000
"$fsattr" get "$d/f"
"$fsattr" set "$d/inh" 0x000300c8
touch "$d/inh/f" && mkdir "$d/inh/s" && mknod "$d/inh/p" p || exit 1
"$fsattr" get "$d/inh/f"
"$fsattr" get "$d/inh/s"
"$fsattr" version "$d/f" | sed 's/^[0-9][0-9]*$/a number/'
