/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inode.h - small inode-level rules the FUSE operations share: which names
 * ext2 directories can hold, the directory entry type of a mode, reading a
 * parent directory that must still be live, reading an inode of a given
 * type, and the timestamps and link count a change gives a directory or
 * an inode.  Every function is called
 * with fs_lock held and returns 0 or a negative errno.
 */
#ifndef IOMAPFS_INODE_H
#define IOMAPFS_INODE_H

#include "fs.h"

/* A name ext2 can hold: -ENOENT when empty, -ENAMETOOLONG past 255. */
int inode_name_check(const char *name);

/*
 * Whether a name may be added to or removed from a directory: not on a
 * read-only mount (-EROFS), and only a name ext2 can hold.
 */
int inode_may_add_or_remove(struct iomapfs *fsx, const char *name);

/* The EXT2_FT_* directory entry type of @mode, and back (0: unknown). */
int inode_ftype(mode_t mode);
mode_t inode_ftype_mode(int ftype);

/*
 * Read @ino, which must be of type @type (LINUX_S_IFREG, _IFDIR, _IFLNK),
 * or fail as Linux does for the operation on another type: -EISDIR for a
 * directory where a regular file is wanted, -ENOTDIR for anything else
 * where a directory is wanted, and -EINVAL otherwise.
 */
int inode_read_as(struct iomapfs *fsx, ext2_ino_t ino, mode_t type,
		  struct ext2_inode_large *inode);

/*
 * Read directory @dir, which must be a live directory: -ENOTDIR, or
 * -ENOENT when it was removed while the kernel still held it.
 */
int inode_read_dir(struct iomapfs *fsx, ext2_ino_t dir,
		   struct ext2_inode_large *inode);

/*
 * @delta subdirectories come (+1) or go (-1) in directory @dir: its link
 * count follows, with dir_nlink's rule (past the limit it counts 1).
 */
void inode_dir_nlink(struct ext2_inode_large *dir, int delta);

/*
 * Directory @dir's contents changed: mtime and ctime become now, and its
 * link count follows @link_delta (inode_dir_nlink()).
 */
int inode_touch_dir(struct iomapfs *fsx, ext2_ino_t dir, int link_delta);

/* @link_delta of inode_touch() for a removed directory: all its links go. */
#define INODE_LINKS_ALL (-(int)EXT2_LINK_MAX)

/*
 * @ino itself changed (its attributes, xattrs or names): ctime becomes
 * now, and its link count changes by @link_delta (+1 a new name, -1 a
 * name removed, INODE_LINKS_ALL).  When a removal takes the last link,
 * the inode is dropped (inode_drop(): freed now, or at its last close).
 */
int inode_touch(struct iomapfs *fsx, ext2_ino_t ino, int link_delta);

#endif /* IOMAPFS_INODE_H */
