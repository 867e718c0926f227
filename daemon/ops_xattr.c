// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_xattr.c - the FUSE operations on extended attributes: getxattr,
 * setxattr, listxattr and removexattr, in the user., trusted. and security.
 * namespaces (xattr.c), and POSIX ACLs as system.posix_acl_access and
 * system.posix_acl_default (acl.c, which keeps the mode in step).  Each
 * runs under fs_lock and replies after dropping it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <linux/limits.h>
#include <string.h>

#include "acl.h"
#include "iflags.h"
#include "ops_xattr.h"
#include "xattr.h"

/*
 * Whether the mount options leave namespace of @name on: -o
 * nouser_xattr turns user.* off and -o noacl the POSIX ACLs, as those
 * options of ext4 do (EOPNOTSUPP, and listxattr leaves them out).
 */
static bool name_enabled(struct iomapfs *fsx, const char *name)
{
	if (fsx->opts.nouser_xattr && !strncmp(name, "user.", 5))
		return false;
	return !(fsx->opts.noacl && acl_is_name(name));
}

/*
 * Whether xattr @name may be set or removed: a namespace we store, a name
 * setxattr(2) accepts (removexattr(2) gives no longer ones), a writable
 * mount.
 */
static int may_change(struct iomapfs *fsx, const char *name)
{
	if (!xattr_name_ok(name) || !name_enabled(fsx, name))
		return -EOPNOTSUPP;
	if (strlen(name) > XATTR_NAME_MAX)
		return -ERANGE;
	return fs_is_ro(fsx) ? -EROFS : 0;
}

/* Set @name to @value, or remove it (@value NULL).  fs_lock held. */
static int change(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t ino,
		  const char *name, const char *value, size_t size, int flags)
{
	if (acl_is_name(name))
		return acl_set(fsx, req, ino, name, value, size, flags);
	if (value)
		return xattr_set(fsx, ino, name, value, size, flags);
	return xattr_remove(fsx, ino, name);
}

/* setxattr, and removexattr (@value NULL) */
static void change_and_reply(fuse_req_t req, fuse_ino_t nodeid,
			     const char *name, const char *value, size_t size,
			     int flags)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid);
	struct ext2_inode_large inode;
	int ret;

	fs_lock(fsx);
	ret = may_change(fsx, name);
	if (!ret)
		ret = fs_read_inode(fsx, ino, &inode);
	if (!ret)
		ret = iflags_may_change_xattr(&inode);
	if (!ret)
		ret = change(fsx, req, ino, name, value, size, flags);
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
}

void op_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name,
		 const char *value, size_t size, int flags)
{
	/* setxattr(2) may set an empty value: never a NULL one */
	change_and_reply(req, nodeid, name, value ? value : "", size, flags);
}

/*
 * Reply to getxattr or listxattr: the error @ret, or the size when @size
 * is 0, ERANGE when the value does not fit, else the value.
 */
static void reply_value(fuse_req_t req, int ret, const void *val, size_t len,
			size_t size)
{
	if (ret)
		fuse_reply_err(req, -ret);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, len);
}

void op_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name,
		 size_t size)
{
	struct iomapfs *fsx = req_fs(req);
	void *val = NULL;
	size_t len = 0;
	int ret;

	if (!xattr_name_ok(name)) {
		fuse_reply_err(req, strncmp(name, "system.", 7) ? EOPNOTSUPP
								: ENODATA);
		return;
	}
	if (!name_enabled(fsx, name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	fs_lock(fsx);
	ret = xattr_get(fsx, fs_ino(nodeid), name, &val, &len);
	fs_unlock(fsx);
	reply_value(req, ret, val, len, size);
	free(val);
}

/* Leave out of the list in @buf the names the mount options turn off;
 * returns the new length. */
static size_t drop_disabled(struct iomapfs *fsx, char *buf, size_t len)
{
	size_t in = 0, out = 0, n;

	while (in < len) {
		n = strnlen(buf + in, len - in) + 1;
		if (name_enabled(fsx, buf + in)) {
			memmove(buf + out, buf + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

void op_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size)
{
	struct iomapfs *fsx = req_fs(req);
	char *buf = NULL;
	size_t len = 0;
	int ret;

	fs_lock(fsx);
	ret = xattr_list(fsx, fs_ino(nodeid), &buf, &len);
	fs_unlock(fsx);
	if (!ret)
		len = drop_disabled(fsx, buf, len);
	reply_value(req, ret, buf, len, size);
	free(buf);
}

void op_removexattr(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	change_and_reply(req, nodeid, name, NULL, 0, 0);
}
