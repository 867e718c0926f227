/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs_remount.h - switching a mounted filesystem between read-write and
 * read-only, as "mount -o remount,ro|rw" does for ext4.  The kernel tells
 * a FUSE server nothing of a remount (fuse_reconfigure() only syncs), so
 * the switch comes through the control socket (SetReadOnly).
 */
#ifndef IOMAPFS_FS_REMOUNT_H
#define IOMAPFS_FS_REMOUNT_H

#include <stdbool.h>

struct iomapfs;

/*
 * Make the filesystem read-only (@ro) or read-write again.  Going
 * read-only writes everything out (pending timestamps, libext2fs's
 * metadata), marks the filesystem clean on disk (EXT2_VALID_FS, unless
 * errors are recorded), syncs the device, and from then on every change
 * gets EROFS.  Going read-write marks it in use again (EXT2_VALID_FS
 * cleared, the mount count and time updated, as ext4 does) before the
 * first change.  *was_ro (may be NULL) tells the state before; asking for
 * the state it is in changes nothing.
 *
 * Refused, with a reason in @why (of @size bytes): going read-only while
 * a file that lost its last link is still open (-EBUSY: it is freed at
 * its last close); going read-write when the source was opened read-only
 * (-o ro: -EROFS) or when errors are recorded (-EUCLEAN: e2fsck first).
 * Takes fs_lock; call with no lock held.  Returns 0 or -errno.
 */
int fs_remount(struct iomapfs *fsx, bool ro, bool *was_ro, char *why,
	       unsigned int size);

#endif /* IOMAPFS_FS_REMOUNT_H */
