/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * atime.h - the access time, as the kernel keeps it for ext4 by the
 * mount's policy: relatime (the default), strictatime, noatime,
 * nodiratime, lazytime, and the noatime inode flag and O_NOATIME.  The
 * kernel's FUSE module never updates an access time itself (every FUSE
 * inode is S_NOATIME): it only forgets the one it cached after a read, so
 * that the next stat asks us.  These are the daemon's side.
 */
#ifndef IOMAPFS_ATIME_H
#define IOMAPFS_ATIME_H

#include <stdbool.h>

#include "fs.h"

/*
 * A read of file @ino (@fi, its in-memory inode when the caller holds
 * one, else NULL) or a readdir of directory @ino (@dir) reached us, from
 * a file opened with @open_flags: update the access time if the policy
 * says so.  Without lazytime the new time is written at once; with it,
 * it waits in the in-memory inode.  Call with no lock held: takes
 * meta_lock, and fs_lock when the inode must be read or written.
 */
void atime_accessed(struct iomapfs *fsx, ext2_ino_t ino, struct fs_inode *fi,
		    bool dir, int open_flags);

/*
 * Whether a new handle on @fi, opened with @open_flags, must drop the
 * kernel's cached pages of the file so that its next read reaches us:
 * with strictatime always, with relatime when an update is due.  A read
 * the kernel answers from its cache is never seen by the daemon.  Call
 * after fs_inode_note() of the inode just read.  Takes meta_lock.
 */
bool atime_wants_reads(struct iomapfs *fsx, struct fs_inode *fi,
		       int open_flags);

#endif /* IOMAPFS_ATIME_H */
