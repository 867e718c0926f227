# SPDX-License-Identifier: GPL-2.0-or-later
# varlink-idl.sed - turn io.iomapfs.Cache.varlink into roff text for the
# literal block of iomapfs-varlink(7): escape backslashes and protect lines
# that start with a control character.  t4140 checks that the page holds
# the file's current text.
s/\\/\\e/g
s/^\([.']\)/\\\&\1/
