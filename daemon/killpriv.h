/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * killpriv.h - clearing the set-user-ID and set-group-ID bits of a file
 * when it changes, as the kernel's ext4 clears them: the caller of a FUSE
 * request (its fsuid, fsgid, supplementary groups and CAP_FSETID), and the
 * kernel's rules for a change of the contents (write, truncate,
 * fallocate, open with O_TRUNC), of the owner (chown) and of the mode
 * (chmod, an access ACL).  Why the daemon does it rather than the kernel's
 * FUSE module: killpriv.c.
 */
#ifndef IOMAPFS_KILLPRIV_H
#define IOMAPFS_KILLPRIV_H

#include <stdbool.h>

#include "fs.h"

/* fs_inode.sxid: the bits were read (0 means not yet). */
#define KILLPRIV_KNOWN 0x80000000u

/*
 * The mode a regular file with @mode and group @gid keeps once @req's
 * caller changed its contents (the kernel's setattr_should_drop_suidgid()):
 * a caller without CAP_FSETID loses set-user-ID, and set-group-ID when the
 * group may execute it or the caller is not in group @gid.  Other types
 * keep their mode.  Never takes fs_lock.
 */
mode_t killpriv_modify(struct iomapfs *fsx, fuse_req_t req, mode_t mode,
		       gid_t gid);

/*
 * The mode a file with @mode and group @gid keeps once @req's caller
 * changed its owner or group (chown_common()): anything but a directory
 * loses set-user-ID, whoever asks, and set-group-ID as
 * setattr_should_drop_sgid() says (the group may execute it, or the caller
 * is neither in group @gid nor has CAP_FSETID).
 */
mode_t killpriv_chown(struct iomapfs *fsx, fuse_req_t req, mode_t mode,
		      gid_t gid);

/*
 * The mode @mode that @req's caller sets (chmod, or an access ACL) on a
 * file of group @gid: without set-group-ID when the caller is neither in
 * the group nor has CAP_FSETID (setattr_prepare(),
 * posix_acl_update_mode()).
 */
mode_t killpriv_chmod(struct iomapfs *fsx, fuse_req_t req, mode_t mode,
		      gid_t gid);

/* Record @mode's set-user-ID and set-group-ID bits in @ino's in-memory
 * inode, if it has one, after the mode was written. */
void killpriv_note(struct iomapfs *fsx, ext2_ino_t ino, mode_t mode);

/*
 * Before @req changes the contents of @fi (write, fallocate, open with
 * O_TRUNC): clear what killpriv_modify() says in the inode on disk, with
 * ctime now, and tell the kernel (killpriv_tell_kernel()).  Cheap when the
 * file has neither bit (no fs_lock once fi->sxid is known).  Call with
 * fs_lock NOT held (io_lock in any mode, or none).  Returns 0 or -errno.
 */
int killpriv_write(struct iomapfs *fsx, fuse_req_t req, struct fs_inode *fi);

/*
 * The same on @inode, a copy of @fi's on-disk inode the caller holds under
 * fs_lock: when the mode changes, it is written (with ctime now) and
 * @inode follows.  Returns 1 when the mode changed (the caller tells the
 * kernel once it dropped fs_lock), 0, or -errno.
 */
int killpriv_write_locked(struct iomapfs *fsx, fuse_req_t req,
			  struct fs_inode *fi, struct ext2_inode_large *inode);

/*
 * Make the kernel drop the attributes it caches for @ino, after a mode
 * change that no reply carries to it: the reply to a WRITE or FALLOCATE
 * makes it forget times and size, not the mode, and stat(1) asking only
 * for the mode would see the old one.  Attributes only, never pages, so
 * it waits for no page lock (compare io_write.c).  Call with fs_lock NOT
 * held.
 */
void killpriv_tell_kernel(struct iomapfs *fsx, ext2_ino_t ino);

#endif /* IOMAPFS_KILLPRIV_H */
