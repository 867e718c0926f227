/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xattr.h - an inode's extended attributes through libext2fs: get, set,
 * remove and list, in the namespaces iomapfs stores (user., trusted.,
 * security., and the two POSIX ACL names).  A change moves the inode's
 * ctime, as ext4's does.  Every function is called with fs_lock held and
 * returns 0 or a negative errno.
 */
#ifndef IOMAPFS_XATTR_H
#define IOMAPFS_XATTR_H

#include <stdbool.h>
#include <stddef.h>

#include "fs.h"

#define XATTR_NAME_ACL_ACCESS  "system.posix_acl_access"
#define XATTR_NAME_ACL_DEFAULT "system.posix_acl_default"

/* Whether @name is in a namespace we store. */
bool xattr_name_ok(const char *name);

/* The value of @name (malloc'd, *@len bytes), or -ENODATA. */
int xattr_get(struct iomapfs *fsx, ext2_ino_t ino, const char *name, void **val,
	      size_t *len);

/*
 * Set @name to @val (never NULL, though @len may be 0); @flags
 * XATTR_CREATE / XATTR_REPLACE as setxattr(2).
 */
int xattr_set(struct iomapfs *fsx, ext2_ino_t ino, const char *name,
	      const void *val, size_t len, int flags);

/* Remove @name, or -ENODATA when it is not there. */
int xattr_remove(struct iomapfs *fsx, ext2_ino_t ino, const char *name);

/*
 * The names we store, each NUL-terminated, one after the other, as
 * listxattr(2) gives them: *@buf (malloc'd, NULL when empty), *@len bytes.
 */
int xattr_list(struct iomapfs *fsx, ext2_ino_t ino, char **buf, size_t *len);

#endif /* IOMAPFS_XATTR_H */
