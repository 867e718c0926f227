// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_xattr.c - extended attributes (getxattr, setxattr, listxattr,
 * removexattr) in the user., trusted. and security. namespaces, and POSIX
 * ACLs as system.posix_acl_access and system.posix_acl_default.
 *
 * ACLs: the kernel hands us the generic xattr form (a version-2 header
 * and 8-byte entries); libext2fs's xattr calls convert it to and from the
 * ext4 on-disk form (version 1, short entries for the owner, group, mask
 * and other classes), so getfacl and the kernel ext4 driver both read what
 * we store.  With FUSE_CAP_POSIX_ACL the kernel enforces ACLs, and leaves
 * us the rest of the POSIX rules: the mode follows a new access ACL (an ACL
 * the mode can express is not stored), chmod updates the access ACL, and a
 * new inode inherits its parent's default ACL (which then replaces the
 * umask).  Everything runs under fs_lock.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "ops.h"

#define ACL_XATTR_ACCESS  "system.posix_acl_access"
#define ACL_XATTR_DEFAULT "system.posix_acl_default"
#define ACL_XATTR_VERSION 2

/* Tags of ACL entries (linux/posix_acl.h). */
#define ACL_TAG_USER_OBJ  0x01
#define ACL_TAG_USER	  0x02
#define ACL_TAG_GROUP_OBJ 0x04
#define ACL_TAG_GROUP	  0x08
#define ACL_TAG_MASK	  0x10
#define ACL_TAG_OTHER	  0x20

struct acl_xattr_entry {
	uint16_t tag;
	uint16_t perm;
	uint32_t id;
};

/* Whether @name is in a namespace we store. */
static bool xattr_name_ok(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strncmp(name, "security.", 9) ||
	       !strcmp(name, ACL_XATTR_ACCESS) ||
	       !strcmp(name, ACL_XATTR_DEFAULT);
}

static int xattr_open(struct iomapfs *fsx, ext2_ino_t ino,
		      struct ext2_xattr_handle **h)
{
	errcode_t err;

	err = ext2fs_xattrs_open(fsx->fs, ino, h);
	if (err)
		return translate_error(fsx, err, ino);
	err = ext2fs_xattrs_read(*h);
	if (err) {
		ext2fs_xattrs_close(h);
		return translate_error(fsx, err, ino);
	}
	return 0;
}

/* The value of @name (malloc'd, *len bytes), or -ENODATA. */
static int xattr_get(struct iomapfs *fsx, ext2_ino_t ino, const char *name,
		     void **val, size_t *len)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	int ret;

	*val = NULL;
	*len = 0;
	ret = xattr_open(fsx, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, val, len);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		ret = -ENODATA;
	else
		ret = translate_error(fsx, err, ino);
	ext2fs_xattrs_close(&h);
	return ret;
}

static int touch_ctime(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct ext2_inode_large inode;
	struct timespec now;
	int ret;

	/* the xattr handle wrote its own copy of the inode: read it again */
	ret = fs_read_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	fs_now(&now);
	fs_set_time(&inode, FS_CTIME, &now);
	return fs_write_inode(fsx, ino, &inode);
}

/* Set @name; @flags XATTR_CREATE / XATTR_REPLACE as setxattr(2). */
static int xattr_set(struct iomapfs *fsx, ext2_ino_t ino, const char *name,
		     const void *val, size_t len, int flags)
{
	struct ext2_xattr_handle *h;
	void *old = NULL;
	size_t old_len;
	errcode_t err;
	int ret;

	ret = xattr_open(fsx, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, &old, &old_len);
	if (!err)
		ext2fs_free_mem(&old);
	if (err && err != EXT2_ET_EA_KEY_NOT_FOUND) {
		ret = translate_error(fsx, err, ino);
		goto out_close;
	}
	if ((flags & XATTR_CREATE) && !err) {
		ret = -EEXIST;
		goto out_close;
	}
	if ((flags & XATTR_REPLACE) && err) {
		ret = -ENODATA;
		goto out_close;
	}
	err = ext2fs_xattr_set(h, name, val, len);
	if (err == EXT2_ET_EA_NO_SPACE || err == EXT2_ET_EA_INODE_CORRUPTED)
		ret = err == EXT2_ET_EA_NO_SPACE
			      ? -ENOSPC
			      : translate_error(fsx, err, ino);
	else
		ret = translate_error(fsx, err, ino);
out_close:
	ext2fs_xattrs_close(&h);
	if (!ret)
		ret = touch_ctime(fsx, ino);
	return ret;
}

static int xattr_remove(struct iomapfs *fsx, ext2_ino_t ino, const char *name)
{
	struct ext2_xattr_handle *h;
	void *old = NULL;
	size_t old_len;
	errcode_t err;
	int ret;

	ret = xattr_open(fsx, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, &old, &old_len);
	if (!err) {
		ext2fs_free_mem(&old);
		err = ext2fs_xattr_remove(h, name);
		ret = translate_error(fsx, err, ino);
	} else if (err == EXT2_ET_EA_KEY_NOT_FOUND) {
		ret = -ENODATA;
	} else {
		ret = translate_error(fsx, err, ino);
	}
	ext2fs_xattrs_close(&h);
	if (!ret)
		ret = touch_ctime(fsx, ino);
	return ret;
}

/* --- ACLs in their xattr form ------------------------------------------ */

/* Entries of an ACL xattr value, or -EINVAL when it is malformed. */
static int acl_entries(const void *val, size_t len,
		       struct acl_xattr_entry **ents, size_t *n)
{
	uint32_t version;

	if (len < sizeof(version) ||
	    (len - sizeof(version)) % sizeof(struct acl_xattr_entry))
		return -EINVAL;
	memcpy(&version, val, sizeof(version));
	if (le32toh(version) != ACL_XATTR_VERSION)
		return -EINVAL;
	*ents = (struct acl_xattr_entry *)((char *)val + sizeof(version));
	*n = (len - sizeof(version)) / sizeof(struct acl_xattr_entry);
	return 0;
}

/*
 * The permission bits an access ACL stands for; returns 1 when the ACL
 * says more than a mode can (named entries or a mask), 0 when the mode
 * says it all, -EINVAL when it is malformed.
 */
static int acl_to_mode(const void *val, size_t len, mode_t *mode)
{
	struct acl_xattr_entry *e;
	mode_t u = 0, g = 0, o = 0, m = 0;
	bool has_mask = false, named = false;
	size_t n, i;

	if (acl_entries(val, len, &e, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		mode_t perm = le16toh(e[i].perm) & 7;

		switch (le16toh(e[i].tag)) {
		case ACL_TAG_USER_OBJ:
			u = perm;
			break;
		case ACL_TAG_GROUP_OBJ:
			g = perm;
			break;
		case ACL_TAG_OTHER:
			o = perm;
			break;
		case ACL_TAG_MASK:
			m = perm;
			has_mask = true;
			break;
		case ACL_TAG_USER:
		case ACL_TAG_GROUP:
			named = true;
			break;
		default:
			return -EINVAL;
		}
	}
	*mode = (u << 6) | ((has_mask ? m : g) << 3) | o;
	return has_mask || named;
}

/*
 * POSIX create masking: restrict a copy of a default ACL by @mode, and
 * @mode by the ACL.  Returns 1 when the ACL says more than the mode.
 */
static int acl_create_masq(struct acl_xattr_entry *e, size_t n, mode_t *mode)
{
	struct acl_xattr_entry *group = NULL, *mask = NULL;
	mode_t m = *mode;
	int not_equiv = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint16_t perm = le16toh(e[i].perm);

		switch (le16toh(e[i].tag)) {
		case ACL_TAG_USER_OBJ:
			perm &= (m >> 6) | ~7u;
			m &= (mode_t)(perm << 6) | ~0700u;
			e[i].perm = htole16(perm);
			break;
		case ACL_TAG_USER:
		case ACL_TAG_GROUP:
			not_equiv = 1;
			break;
		case ACL_TAG_GROUP_OBJ:
			group = &e[i];
			break;
		case ACL_TAG_OTHER:
			perm &= m | ~7u;
			m &= perm | ~7u;
			e[i].perm = htole16(perm);
			break;
		case ACL_TAG_MASK:
			mask = &e[i];
			not_equiv = 1;
			break;
		default:
			return -EINVAL;
		}
	}
	if (mask) {
		uint16_t perm = le16toh(mask->perm) & ((m >> 3) | ~7u);

		mask->perm = htole16(perm);
		m &= (mode_t)(perm << 3) | ~070u;
	} else if (group) {
		uint16_t perm = le16toh(group->perm) & ((m >> 3) | ~7u);

		group->perm = htole16(perm);
		m &= (mode_t)(perm << 3) | ~070u;
	} else {
		return -EINVAL;
	}
	*mode = (*mode & ~0777u) | (m & 0777);
	return not_equiv;
}

void fs_acl_inherit_free(struct fs_acl_inherit *ai)
{
	free(ai->access);
	free(ai->dflt);
	memset(ai, 0, sizeof(*ai));
}

int fs_acl_inherit_prepare(struct iomapfs *fsx, ext2_ino_t parent, bool is_dir,
			   mode_t umask, mode_t *mode,
			   struct fs_acl_inherit *ai)
{
	struct acl_xattr_entry *e;
	void *val = NULL;
	size_t len, n;
	int ret;

	memset(ai, 0, sizeof(*ai));
	if (fsx->opts.fakeroot) {
		*mode &= ~umask;
		return 0;
	}
	ret = xattr_get(fsx, parent, ACL_XATTR_DEFAULT, &val, &len);
	if (ret == -ENODATA || (!ret && len <= sizeof(uint32_t))) {
		free(val);
		*mode &= ~umask;
		return 0;
	}
	if (ret)
		return ret;
	if (acl_entries(val, len, &e, &n)) {
		/* a broken default ACL: ignore it, as if absent */
		free(val);
		*mode &= ~umask;
		return 0;
	}
	if (is_dir) {
		ai->dflt = malloc(len);
		if (!ai->dflt) {
			free(val);
			return -ENOMEM;
		}
		memcpy(ai->dflt, val, len);
		ai->dflt_len = len;
	}
	ret = acl_create_masq(e, n, mode);
	if (ret < 0) {
		free(val);
		fs_acl_inherit_free(ai);
		*mode &= ~umask;
		return 0;
	}
	if (ret > 0) {
		ai->access = val;
		ai->access_len = len;
	} else {
		free(val);
	}
	return 0;
}

int fs_acl_inherit_apply(struct iomapfs *fsx, ext2_ino_t child,
			 struct fs_acl_inherit *ai)
{
	int ret = 0;

	if (ai->access)
		ret = xattr_set(fsx, child, ACL_XATTR_ACCESS, ai->access,
				ai->access_len, 0);
	if (!ret && ai->dflt)
		ret = xattr_set(fsx, child, ACL_XATTR_DEFAULT, ai->dflt,
				ai->dflt_len, 0);
	fs_acl_inherit_free(ai);
	return ret;
}

int fs_acl_chmod(struct iomapfs *fsx, ext2_ino_t ino, mode_t mode)
{
	struct acl_xattr_entry *e, *group = NULL, *mask = NULL;
	void *val = NULL;
	size_t len, n, i;
	int ret;

	if (fsx->opts.fakeroot)
		return 0;
	ret = xattr_get(fsx, ino, ACL_XATTR_ACCESS, &val, &len);
	if (ret == -ENODATA)
		return 0;
	if (ret)
		return ret;
	if (acl_entries(val, len, &e, &n)) {
		free(val);
		return 0;
	}
	for (i = 0; i < n; i++) {
		switch (le16toh(e[i].tag)) {
		case ACL_TAG_USER_OBJ:
			e[i].perm = htole16((mode >> 6) & 7);
			break;
		case ACL_TAG_GROUP_OBJ:
			group = &e[i];
			break;
		case ACL_TAG_MASK:
			mask = &e[i];
			break;
		case ACL_TAG_OTHER:
			e[i].perm = htole16(mode & 7);
			break;
		}
	}
	if (mask)
		mask->perm = htole16((mode >> 3) & 7);
	else if (group)
		group->perm = htole16((mode >> 3) & 7);
	ret = xattr_set(fsx, ino, ACL_XATTR_ACCESS, val, len, 0);
	free(val);
	return ret;
}

/* A new access ACL: the mode follows it; an ACL equal to a mode is not
 * stored (as the kernel's posix_acl_update_mode()). */
static int acl_set_access(struct iomapfs *fsx, ext2_ino_t ino, const void *val,
			  size_t len, int flags)
{
	struct ext2_inode_large inode;
	mode_t mode;
	int ret, equiv;

	equiv = acl_to_mode(val, len, &mode);
	if (equiv < 0)
		return -EINVAL;
	if (equiv == 0) {
		ret = xattr_remove(fsx, ino, ACL_XATTR_ACCESS);
		if (ret == -ENODATA)
			ret = (flags & XATTR_REPLACE) ? -ENODATA : 0;
	} else {
		ret = xattr_set(fsx, ino, ACL_XATTR_ACCESS, val, len, flags);
	}
	if (ret)
		return ret;
	ret = fs_read_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	inode.i_mode = (inode.i_mode & ~0777u) | mode;
	return fs_write_inode(fsx, ino, &inode);
}

void op_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name,
		 const char *value, size_t size, int flags)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid);
	int ret;

	if (!xattr_name_ok(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (strlen(name) > 255) {
		fuse_reply_err(req, ERANGE);
		return;
	}
	if (fs_is_ro(fsx)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fs_lock(fsx);
	if (!strcmp(name, ACL_XATTR_ACCESS)) {
		ret = acl_set_access(fsx, ino, value, size, flags);
	} else if (!strcmp(name, ACL_XATTR_DEFAULT) &&
		   size <= sizeof(uint32_t)) {
		ret = xattr_remove(fsx, ino, name); /* an empty default ACL */
		if (ret == -ENODATA && !(flags & XATTR_REPLACE))
			ret = 0;
	} else {
		if (!strcmp(name, ACL_XATTR_DEFAULT)) {
			struct acl_xattr_entry *e;
			size_t n;

			if (acl_entries(value, size, &e, &n)) {
				ret = -EINVAL;
				goto out_unlock;
			}
		}
		ret = xattr_set(fsx, ino, name, value, size, flags);
	}
out_unlock:
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
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
	fs_lock(fsx);
	ret = xattr_get(fsx, fs_ino(nodeid), name, &val, &len);
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, len);
	free(val);
}

struct xattr_list {
	char *buf;
	size_t len, cap;
	bool oom;
};

static int xattr_list_cb(char *name, char *value, size_t value_len, void *data)
{
	struct xattr_list *xl = data;
	size_t n = strlen(name) + 1;

	if (!xattr_name_ok(name))
		return 0; /* system.data and the like stay hidden */
	if (xl->len + n > xl->cap) {
		size_t cap = xl->cap ? xl->cap * 2 : 256;
		char *p;

		while (cap < xl->len + n)
			cap *= 2;
		p = realloc(xl->buf, cap);
		if (!p) {
			xl->oom = true;
			return XATTR_ABORT;
		}
		xl->buf = p;
		xl->cap = cap;
	}
	memcpy(xl->buf + xl->len, name, n);
	xl->len += n;
	return 0;
}

void op_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid);
	struct ext2_xattr_handle *h;
	struct xattr_list xl = {0};
	errcode_t err;
	int ret;

	fs_lock(fsx);
	ret = xattr_open(fsx, ino, &h);
	if (!ret) {
		err = ext2fs_xattrs_iterate(h, xattr_list_cb, &xl);
		ret = translate_error(fsx, err, ino);
		if (!ret && xl.oom)
			ret = -ENOMEM;
		ext2fs_xattrs_close(&h);
	}
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else if (size == 0)
		fuse_reply_xattr(req, xl.len);
	else if (xl.len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, xl.buf, xl.len);
	free(xl.buf);
}

void op_removexattr(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	struct iomapfs *fsx = req_fs(req);
	int ret;

	if (!xattr_name_ok(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (fs_is_ro(fsx)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fs_lock(fsx);
	ret = xattr_remove(fsx, fs_ino(nodeid), name);
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
}
