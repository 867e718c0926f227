/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inode_free.h - freeing inodes whose last link is gone (inode_free.c):
 * the work above the extent and block work and the directory index, and
 * below the FUSE operations that unlink, remove, rename over and release.
 */
#ifndef IOMAPFS_INODE_FREE_H
#define IOMAPFS_INODE_FREE_H

#include "fs.h"

/*
 * The last link of @ino is gone: free its blocks and the inode itself,
 * unless a handle is still open, in which case the inode is marked
 * unlinked and freed by the last release (inode_free()) or at unmount
 * (inode_free_unlinked()).  @inode holds the inode (links already 0) and
 * is written.  Call with fs_lock held.  Returns 0 or -errno.
 */
int inode_drop(struct iomapfs *fsx, ext2_ino_t ino,
	       struct ext2_inode_large *inode);

/*
 * Free inode @ino on disk now: blocks, extended attributes, directory
 * index, cached mappings, bitmap.  Nothing happens when it got a link
 * again or is free already.  Call with fs_lock held.  Returns 0 or -errno.
 */
int inode_free(struct iomapfs *fsx, ext2_ino_t ino);

/*
 * Free the inodes that lost their last link while open and are still
 * marked so (the session is over: no release will come).  Takes fs_lock.
 * Returns 0 or the first -errno; it frees all it can.
 */
int inode_free_unlinked(struct iomapfs *fsx);

/*
 * At mount, after the journal's replay and before any request: finish the
 * inodes on the orphan list (orphan.h) as the kernel's
 * ext4_orphan_cleanup() does: free those with no link left, cut the others
 * back to their i_size, and commit.  Prints what it did.  Takes fs_lock
 * (mount time: nothing else runs).  Returns 0, -EUCLEAN for a corrupt
 * list, or another -errno.
 */
int inode_free_orphans(struct iomapfs *fsx);

#endif /* IOMAPFS_INODE_FREE_H */
