/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * orphan.h - the orphan list, as ext4 keeps it: inodes whose last link is
 * gone while a file handle still holds them, and files in the middle of a
 * truncate too large for one transaction, are chained from the
 * superblock's s_last_orphan through their i_dtime, in the same
 * transaction that makes them orphans.  After a crash, the next mount
 * (iomapfs's or the kernel's) frees the unlinked ones and finishes the
 * truncates, so that no crash leaves an inode half-dropped.  Only with
 * the journal: without one, nothing is atomic anyway.
 *
 * Everything here runs with fs_lock held; functions return 0 or -errno.
 */
#ifndef IOMAPFS_ORPHAN_H
#define IOMAPFS_ORPHAN_H

#include <stdbool.h>

#include "fs.h"

/*
 * Put @ino on the orphan list: @inode (the caller's copy, written here)
 * chains to the old head, the superblock (marked dirty) points at @ino.
 * A no-op when @ino is an orphan already or there is no journal.
 */
int orphan_add(struct iomapfs *fsx, ext2_ino_t ino,
	       struct ext2_inode_large *inode);

/*
 * Take @ino off the orphan list (its predecessor, or the superblock, now
 * points past it; its i_dtime is cleared, in @inode when not NULL, else
 * on disk).  A no-op when @ino is not an orphan.
 */
int orphan_del(struct iomapfs *fsx, ext2_ino_t ino,
	       struct ext2_inode_large *inode);

/* Whether @ino is on the orphan list this mount made. */
bool orphan_is(struct iomapfs *fsx, ext2_ino_t ino);

/*
 * At mount, after the journal's replay: learn the chain the superblock
 * names (every inode on it is then orphan_is()), and hand a copy of it
 * back in *list (*n inodes, freed by the caller) for the caller to finish
 * each, which takes it off with orphan_del().  -EUCLEAN, with a message,
 * for a chain that loops or names an inode out of range.  Nothing without
 * the journal.
 */
int orphan_load(struct iomapfs *fsx, ext2_ino_t **list, size_t *n);

/* Forget the in-memory list (unmount). */
void orphan_forget_all(struct iomapfs *fsx);

#endif /* IOMAPFS_ORPHAN_H */
