// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xattr.c - an inode's extended attributes, read and written through
 * libext2fs's xattr handles (in the inode's extra space, or in an xattr
 * block).  libext2fs converts the POSIX ACL names between the generic
 * xattr form the kernel uses and ext4's on-disk form.  Other names
 * (system.data of inline data, and the like) stay hidden.  Everything here
 * runs under fs_lock.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "inode.h"
#include "xattr.h"

bool xattr_name_ok(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strncmp(name, "security.", 9) ||
	       !strcmp(name, XATTR_NAME_ACL_ACCESS) ||
	       !strcmp(name, XATTR_NAME_ACL_DEFAULT);
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

int xattr_get(struct iomapfs *fsx, ext2_ino_t ino, const char *name, void **val,
	      size_t *len)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	int ret;

	*val = NULL;
	*len = 0;
	ret = xattr_open(fsx, ino, &h);
	if (!ret) {
		err = ext2fs_xattr_get(h, name, val, len);
		ret = err == EXT2_ET_EA_KEY_NOT_FOUND
			      ? -ENODATA
			      : translate_error(fsx, err, ino);
		ext2fs_xattrs_close(&h);
	}
	return ret;
}

/*
 * Set @name to @val, or remove it (@val NULL); @flags as setxattr(2).
 * As ext4, a change that succeeds moves ctime, and setting the value an
 * attribute already has changes nothing.
 */
static int xattr_change(struct iomapfs *fsx, ext2_ino_t ino, const char *name,
			const void *val, size_t len, int flags)
{
	struct ext2_xattr_handle *h;
	bool same = false;
	void *old = NULL;
	size_t old_len;
	errcode_t err;
	int ret;

	ret = xattr_open(fsx, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, &old, &old_len);
	if (!err) {
		same = val && old_len == len && !memcmp(old, val, len);
		ext2fs_free_mem(&old);
	}
	if (err && err != EXT2_ET_EA_KEY_NOT_FOUND)
		ret = translate_error(fsx, err, ino);
	else if (err && (!val || (flags & XATTR_REPLACE)))
		ret = -ENODATA;
	else if (!err && (flags & XATTR_CREATE))
		ret = -EEXIST;
	else if (!val)
		ret = translate_error(fsx, ext2fs_xattr_remove(h, name), ino);
	else if (!same && (err = ext2fs_xattr_set(h, name, val, len)))
		/* no room in the inode nor in one block: ENOSPC, as ext4 */
		ret = err == EXT2_ET_EA_NO_SPACE
			      ? -ENOSPC
			      : translate_error(fsx, err, ino);
	ext2fs_xattrs_close(&h);
	if (!ret && !same)
		ret = inode_touch(fsx, ino, 0);
	return ret;
}

int xattr_set(struct iomapfs *fsx, ext2_ino_t ino, const char *name,
	      const void *val, size_t len, int flags)
{
	return xattr_change(fsx, ino, name, val, len, flags);
}

int xattr_remove(struct iomapfs *fsx, ext2_ino_t ino, const char *name)
{
	return xattr_change(fsx, ino, name, NULL, 0, 0);
}

/* The names listed so far: only counted while buf is NULL. */
struct xattr_names {
	char *buf;
	size_t len;
};

static int xattr_list_cb(char *name, char *value, size_t value_len, void *data)
{
	struct xattr_names *xl = data;
	size_t n = strlen(name) + 1;

	if (!xattr_name_ok(name))
		return 0; /* system.data and the like stay hidden */
	if (xl->buf)
		memcpy(xl->buf + xl->len, name, n);
	xl->len += n;
	return 0;
}

int xattr_list(struct iomapfs *fsx, ext2_ino_t ino, char **buf, size_t *len)
{
	struct xattr_names xl = {0};
	struct ext2_xattr_handle *h;
	errcode_t err;
	int ret;

	*buf = NULL;
	*len = 0;
	ret = xattr_open(fsx, ino, &h);
	if (ret)
		return ret;
	/* the handle holds them all: count, then copy */
	err = ext2fs_xattrs_iterate(h, xattr_list_cb, &xl);
	if (!err && xl.len) {
		xl.buf = malloc(xl.len);
		xl.len = 0;
		if (xl.buf)
			err = ext2fs_xattrs_iterate(h, xattr_list_cb, &xl);
		else
			ret = -ENOMEM;
	}
	if (!ret)
		ret = translate_error(fsx, err, ino);
	ext2fs_xattrs_close(&h);
	if (ret) {
		free(xl.buf);
		return ret;
	}
	*buf = xl.buf;
	*len = xl.len;
	return 0;
}
