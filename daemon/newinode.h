/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * newinode.h - the one way to add a name to a directory, and to make the
 * inode behind it: mknod, create, mkdir and symlink make a new inode, link
 * adds a name for an existing one.  newinode_prepare() checks the name and
 * the parent; newinode_finish() links the inode, sets the parent's times
 * and link count, applies inherited ACLs and fills the kernel's entry.
 * newinode_make() does both around making the inode of the asked kind.
 * Every function is called with fs_lock held and returns 0 or -errno.
 */
#ifndef IOMAPFS_NEWINODE_H
#define IOMAPFS_NEWINODE_H

#include <stdbool.h>

#include "acl.h"
#include "fs.h"

/* A name about to be added to a directory, from prepare to finish. */
struct newinode {
	ext2_ino_t parent;
	const char *name;
	struct ext2_inode_large pinode; /* the parent, as prepare read it */
	ext2_ino_t ino;			/* what finish links */
	bool made;	       /* a new inode: unmade when linking fails */
	bool made_dir;	       /* ext2fs_mkdir() counted its ".." */
	struct acl_inherit ai; /* what the new inode inherits */
};

/*
 * Check that @name may be added to directory @parent for an inode of type
 * @mode: a writable mount, a name ext2 holds, a live parent with room for
 * one more subdirectory, and no such name yet (-EEXIST).  Fills @ni.
 */
int newinode_prepare(struct iomapfs *fsx, struct newinode *ni,
		     ext2_ino_t parent, const char *name, mode_t mode);

/*
 * Link ni->ino under its name: a new inode is freed again if that fails,
 * an existing one gains a link.  Then the parent's mtime, ctime and link
 * count, the inherited ACLs, and @e for the reply (one kernel lookup).
 */
int newinode_finish(struct iomapfs *fsx, struct newinode *ni,
		    struct fuse_entry_param *e);

/*
 * Make @name in @parent for the caller of @req: a regular file, device,
 * FIFO or socket (@rdev for devices), a directory, or a symlink to
 * @target, as the type in @mode says.  The permission bits of @mode are
 * masked by the umask, or by the parent's default ACL.
 */
int newinode_make(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t parent,
		  const char *name, mode_t mode, dev_t rdev, const char *target,
		  struct fuse_entry_param *e);

/* The permission bits of a whiteout (the kernel's WHITEOUT_MODE). */
#define NEWINODE_WHITEOUT_MODE 0

/*
 * A whiteout for RENAME_WHITEOUT in directory @dir: a character device
 * 0:0 of the caller of @req, made complete on disk with one link but not
 * yet in any directory; the rename puts it in place of the old name.
 * Sets *@ino.
 */
int newinode_whiteout(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t dir,
		      ext2_ino_t *ino);

/*
 * O_TMPFILE in directory @dir: a regular file of @mode (masked by the
 * umask or the default ACL) with no name and no link, for the caller of
 * @req; @e for the reply (one kernel lookup).  The caller opens it and
 * marks it unlinked, so that its last close frees it unless a link(2)
 * gave it a name first.
 */
int newinode_tmpfile(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t dir,
		     mode_t mode, struct fuse_entry_param *e);

/* Free whiteout @ino of @dir again, when the rename failed. */
void newinode_unmake_whiteout(struct iomapfs *fsx, ext2_ino_t dir,
			      ext2_ino_t ino);

#endif /* IOMAPFS_NEWINODE_H */
