/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * acl.h - POSIX ACLs the way the kernel leaves them to a FUSE server with
 * FUSE_CAP_POSIX_ACL: the kernel checks permissions against them, and we
 * keep the rest of the rules: the mode follows a new access ACL (an ACL a
 * mode can express is not stored), chmod rewrites the access ACL, and a new
 * inode inherits its parent's default ACL, which then replaces the umask.
 * With fakeroot there are no ACL rules at all.  Every function is called
 * with fs_lock held and returns 0 or a negative errno.
 */
#ifndef IOMAPFS_ACL_H
#define IOMAPFS_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "fs.h"

/* Whether @name is one of the two ACL xattr names. */
bool acl_is_name(const char *name);

/*
 * setxattr of ACL @name (system.posix_acl_access or _default) on @ino by
 * @req's caller, with @flags as setxattr(2): validates the ACL, updates
 * the mode for an access ACL (set-group-ID goes as killpriv_chmod() says),
 * and stores only what a mode cannot say.  @val NULL: removexattr.
 */
int acl_set(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t ino,
	    const char *name, const void *val, size_t len, int flags);

/*
 * chmod: make the access ACL of @ino, if any, agree with the new @mode
 * (owner, group class - the mask when there is one - and other).  Call
 * after the inode was written.
 */
int acl_chmod(struct iomapfs *fsx, ext2_ino_t ino, mode_t mode);

/*
 * ACLs a new inode inherits from its parent's default ACL: computed before
 * the inode is written (they decide its mode), applied after.
 */
struct acl_inherit {
	void *access; /* xattr value of system.posix_acl_access */
	size_t access_len;
	void *dflt; /* of system.posix_acl_default (directories) */
	size_t dflt_len;
};

/*
 * Work out the mode and ACLs of a new inode in @parent: with a default ACL
 * there, the ACL decides the permission bits (POSIX create masking) and
 * the umask is ignored; without, the umask applies.  *@mode is updated.
 */
int acl_inherit_prepare(struct iomapfs *fsx, ext2_ino_t parent, bool is_dir,
			mode_t umask, mode_t *mode, struct acl_inherit *ai);
/* Store the inherited ACLs on @child (already written) and free them. */
int acl_inherit_apply(struct iomapfs *fsx, ext2_ino_t child,
		      struct acl_inherit *ai);
void acl_inherit_free(struct acl_inherit *ai);

#endif /* IOMAPFS_ACL_H */
