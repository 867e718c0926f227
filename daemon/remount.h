/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * remount.h - "iomapfs SOURCE MOUNTPOINT -o remount,ro|rw": what mount(8)
 * runs, through mount.fuse3, for "mount -o remount,ro MOUNTPOINT".  This
 * process mounts nothing: it switches the running daemon (SetReadOnly on
 * its control socket) and makes the MS_REMOUNT call for the kernel's side.
 */
#ifndef IOMAPFS_REMOUNT_H
#define IOMAPFS_REMOUNT_H

#include <stdbool.h>

/*
 * Switch the iomapfs mount at @mountpoint (whose source must be @source,
 * when it is not NULL) to read-only (@ro) or read-write.  Going read-only
 * remounts the kernel's side first (it syncs, and refuses with EBUSY while
 * a file is open for writing), then the daemon; going read-write, the
 * daemon first.  When the second step fails, the first is undone.  Says
 * what went wrong on stderr.  Returns 0, -EBUSY (a file in the way),
 * -ENOENT (no iomapfs mount there, or no control socket for it), or
 * another -errno.
 */
int remount_run(const char *source, const char *mountpoint, bool ro);

#endif /* IOMAPFS_REMOUNT_H */
