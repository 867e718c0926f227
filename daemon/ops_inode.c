// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_inode.c - the FUSE operations on inodes and names: lookup, forget,
 * getattr, setattr, readlink, mknod, mkdir, unlink, rmdir, symlink,
 * rename, link, open, create, release and access.  Each one runs its
 * libext2fs calls under fs_lock and replies after dropping it, with the
 * errors Linux ext4 gives.  Permissions are the kernel's business
 * (default_permissions), except with fakeroot, where everyone may do
 * anything.  Inodes losing their last link are freed at once, or by the
 * last release when a handle is still open (fs_drop_inode()).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dirindex.h"
#include "io.h"
#include "ops.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int name_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -ENOENT;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	return 0;
}

/* Whether a name may be added to or removed from a directory: not on a
 * read-only mount (EROFS), and only a name ext2 can hold. */
static int may_add_or_remove(struct iomapfs *fsx, const char *name)
{
	return fs_is_ro(fsx) ? -EROFS : name_check(name);
}

static int ext2_ftype(mode_t mode)
{
	if (LINUX_S_ISREG(mode))
		return EXT2_FT_REG_FILE;
	if (LINUX_S_ISDIR(mode))
		return EXT2_FT_DIR;
	if (LINUX_S_ISCHR(mode))
		return EXT2_FT_CHRDEV;
	if (LINUX_S_ISBLK(mode))
		return EXT2_FT_BLKDEV;
	if (LINUX_S_ISLNK(mode))
		return EXT2_FT_SYMLINK;
	if (LINUX_S_ISFIFO(mode))
		return EXT2_FT_FIFO;
	if (LINUX_S_ISSOCK(mode))
		return EXT2_FT_SOCK;
	return EXT2_FT_UNKNOWN;
}

/* Find @name in directory @dir.  fs_lock held. */
static int dir_lookup(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
		      ext2_ino_t *ino)
{
	return dix_lookup(fsx, dir, name, ino);
}

/* Read directory @dir, which must be a live directory.  fs_lock held. */
static int read_dir_inode(struct iomapfs *fsx, ext2_ino_t dir,
			  struct ext2_inode_large *inode)
{
	int ret = fs_read_inode(fsx, dir, inode);

	if (ret)
		return ret;
	if (!LINUX_S_ISDIR(inode->i_mode))
		return -ENOTDIR;
	if (inode->i_links_count == 0)
		return -ENOENT; /* removed while the kernel held it */
	return 0;
}

/* A directory's contents changed: mtime and ctime become now. */
static int touch_dir(struct iomapfs *fsx, ext2_ino_t dir, int link_delta)
{
	struct ext2_inode_large inode;
	struct timespec now;
	int ret;

	ret = fs_read_inode(fsx, dir, &inode);
	if (ret)
		return ret;
	fs_now(&now);
	fs_set_time(&inode, FS_MTIME, &now);
	fs_set_time(&inode, FS_CTIME, &now);
	if (link_delta > 0) {
		/* dir_nlink: past the limit a directory counts 1 link */
		if (inode.i_links_count >= EXT2_LINK_MAX - 1 ||
		    inode.i_links_count == 1)
			inode.i_links_count = 1;
		else
			inode.i_links_count++;
	} else if (link_delta < 0) {
		if (inode.i_links_count > 2)
			inode.i_links_count--;
	}
	return fs_write_inode(fsx, dir, &inode);
}

/*
 * Undo a new inode that could not be linked: free it with what it holds.
 * Best effort: the error that made us undo it is the one reported.
 */
static void unmake_inode(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct ext2_inode_large inode;

	if (fs_read_inode(fsx, ino, &inode))
		return;
	inode.i_links_count = 0;
	if (fs_write_inode(fsx, ino, &inode))
		return;
	fs_free_inode(fsx, ino);
}

/* A new inode number is in use again: forget what we knew of the old. */
static void reset_fs_inode(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct fs_inode *fi = fs_inode_find(fsx, ino);

	if (!fi)
		return;
	fi->size = 0;
	fi->size_valid = false;
	pthread_mutex_lock(&fi->meta_lock);
	fi->times_dirty = false;
	pthread_mutex_unlock(&fi->meta_lock);
	fs_inode_put(fsx, fi);
}

/* Owner of a new inode in @parent: the caller's (root's with fakeroot);
 * the group is the parent's when it has S_ISGID. */
static void new_owner(struct iomapfs *fsx, fuse_req_t req,
		      const struct ext2_inode_large *parent, uid_t *uid,
		      gid_t *gid)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	*uid = fsx->opts.fakeroot ? 0 : ctx->uid;
	*gid = fsx->opts.fakeroot ? 0 : ctx->gid;
	if (parent->i_mode & S_ISGID)
		*gid = fs_inode_gid(parent);
}

static mode_t req_umask(struct iomapfs *fsx, fuse_req_t req)
{
	return fsx->opts.fakeroot ? 0 : fuse_req_ctx(req)->umask;
}

/* Room for the extended inode fields we use (nanoseconds, crtime). */
static uint16_t new_extra_isize(struct iomapfs *fsx)
{
	size_t isz = EXT2_INODE_SIZE(fsx->fs->super);
	size_t want =
		sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;

	if (isz <= EXT2_GOOD_OLD_INODE_SIZE)
		return 0;
	if (want > isz - EXT2_GOOD_OLD_INODE_SIZE)
		want = isz - EXT2_GOOD_OLD_INODE_SIZE;
	return (uint16_t)want;
}

static void init_times(struct ext2_inode_large *inode)
{
	struct timespec now;

	fs_now(&now);
	fs_set_time(inode, FS_ATIME, &now);
	fs_set_time(inode, FS_MTIME, &now);
	fs_set_time(inode, FS_CTIME, &now);
	fs_set_time(inode, FS_CRTIME, &now);
}

/*
 * Create a regular file, device, fifo or socket @name in @parent: write
 * the new inode, account it, then link it (undone when linking fails).
 * Fills *ino and *inode.  fs_lock held.
 */
static int make_node(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t parent,
		     const char *name, mode_t mode, dev_t rdev, ext2_ino_t *ino,
		     struct ext2_inode_large *inode)
{
	struct ext2_inode_large pinode;
	struct fs_acl_inherit ai;
	ext2_ino_t child, old;
	errcode_t err;
	uid_t uid;
	gid_t gid;
	int ret;

	memset(&ai, 0, sizeof(ai));
	ret = may_add_or_remove(fsx, name);
	if (ret)
		return ret;
	if (!S_ISREG(mode) && !S_ISCHR(mode) && !S_ISBLK(mode) &&
	    !S_ISFIFO(mode) && !S_ISSOCK(mode))
		return -EINVAL;
	ret = read_dir_inode(fsx, parent, &pinode);
	if (ret)
		return ret;
	ret = dir_lookup(fsx, parent, name, &old);
	if (ret == 0)
		return -EEXIST;
	if (ret != -ENOENT)
		return ret;
	ret = fs_acl_inherit_prepare(fsx, parent, false, req_umask(fsx, req),
				     &mode, &ai);
	if (ret)
		return ret;
	err = ext2fs_new_inode(fsx->fs, parent, mode, NULL, &child);
	if (err) {
		ret = translate_error(fsx, err, parent);
		goto out_acl;
	}
	new_owner(fsx, req, &pinode, &uid, &gid);
	if (S_ISDIR(pinode.i_mode) && (pinode.i_mode & S_ISGID) &&
	    (mode & S_ISGID) && !fsx->opts.fakeroot) {
		const struct fuse_ctx *ctx = fuse_req_ctx(req);

		/* as inode_init_owner(): no SGID file outside our groups */
		if (ctx->uid != 0 && ctx->gid != gid)
			mode &= ~S_ISGID;
	}

	memset(inode, 0, sizeof(*inode));
	inode->i_mode = mode;
	inode->i_links_count = 1;
	inode->i_extra_isize = new_extra_isize(fsx);
	fs_inode_set_uid(inode, uid);
	fs_inode_set_gid(inode, gid);
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		unsigned int ma = major(rdev), mi = minor(rdev);

		if (ma < 256 && mi < 256)
			inode->i_block[0] = (ma << 8) | mi;
		else
			inode->i_block[1] =
				(mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
	}
	init_times(inode);
	inode->i_generation = fs_next_generation(fsx);
	err = ext2fs_write_new_inode(fsx->fs, child, EXT2_INODE(inode));
	if (err) {
		ret = translate_error(fsx, err, child);
		goto out_acl;
	}
	if (S_ISREG(mode) && ext2fs_has_feature_extents(fsx->fs->super)) {
		ext2_extent_handle_t handle;

		/* opening the extent tree of an empty inode writes its header */
		err = ext2fs_extent_open2(fsx->fs, child, EXT2_INODE(inode),
					  &handle);
		if (err) {
			ret = translate_error(fsx, err, child);
			goto out_acl;
		}
		ext2fs_extent_free(handle);
	}
	ret = fs_write_inode(fsx, child, inode);
	if (ret)
		goto out_acl;
	ext2fs_inode_alloc_stats2(fsx->fs, child, +1, 0);

	ret = dix_link(fsx, parent, name, child, ext2_ftype(mode));
	if (ret) {
		inode->i_links_count = 0;
		inode->i_dtime = (uint32_t)time(NULL);
		fs_write_inode(fsx, child, inode);
		ext2fs_inode_alloc_stats2(fsx->fs, child, -1, 0);
		goto out_acl;
	}
	reset_fs_inode(fsx, child);
	ret = touch_dir(fsx, parent, 0);
	if (ret)
		goto out_acl;
	ret = fs_acl_inherit_apply(fsx, child, &ai);
	if (ret)
		goto out_acl;
	ret = fs_read_inode(fsx, child, inode);
	*ino = child;
out_acl:
	fs_acl_inherit_free(&ai);
	return ret;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct fuse_entry_param e;
	ext2_ino_t ino;
	int ret;

	ret = name_check(name);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	ret = dir_lookup(fsx, fs_ino(parent), name, &ino);
	if (!ret)
		ret = fs_load_inode(fsx, ino, &inode);
	if (!ret)
		ret = fs_fill_entry(fsx, ino, &inode, &e);
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_inode_forget(req_fs(req), fs_ino(ino), nlookup);
	fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets)
{
	struct iomapfs *fsx = req_fs(req);
	size_t i;

	for (i = 0; i < count; i++)
		fs_inode_forget(fsx, fs_ino(forgets[i].ino),
				forgets[i].nlookup);
	fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct stat st;
	int ret;

	fs_lock(fsx);
	ret = fs_load_inode(fsx, fs_ino(ino), &inode);
	if (!ret)
		fs_fill_stat(fsx, fs_ino(ino), &inode, &st);
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, FS_ATTR_TIMEOUT);
}

/*
 * setattr(size): the data path truncates under the inode's I/O lock.
 * Returns with *out referenced and its io_lock held exclusive (the caller
 * releases both, after the attribute change that follows), or an error
 * and *out NULL.
 */
static int setattr_size(struct iomapfs *fsx, ext2_ino_t ino,
			struct fuse_file_info *fi, uint64_t size,
			struct fs_inode **out)
{
	struct ext2_inode_large inode;
	struct fs_inode *fsi;
	int ret;

	*out = NULL;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, ino, &inode);
	fs_unlock(fsx);
	if (ret)
		return ret;
	if (LINUX_S_ISDIR(inode.i_mode))
		return -EISDIR;
	if (!LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	if (fi && fi->fh) {
		fsi = (struct fs_inode *)(uintptr_t)fi->fh;
		pthread_mutex_lock(&fsx->itab_lock);
		fsi->refs++;
		pthread_mutex_unlock(&fsx->itab_lock);
	} else {
		fsi = fs_inode_get(fsx, ino);
		if (!fsi)
			return -ENOMEM;
	}
	pthread_rwlock_wrlock(&fsi->io_lock);
	*out = fsi;
	/*
	 * journal: the truncate and the attribute change after it are one
	 * operation in two fs_lock sections: one handle over both (taken
	 * after io_lock, the lock order), so that no commit falls between
	 * (a truncate too large for one transaction still commits its
	 * pieces: journal_split()).
	 */
	fs_txn_start(fsx);
	return io_truncate(fsx, fsi, size);
}

void op_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat *attr,
		int to_set, struct fuse_file_info *fi)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid);
	struct ext2_inode_large inode;
	struct fs_inode *tfi = NULL;
	struct timespec now;
	struct stat st;
	bool mode_changed = false;
	int ret;

	if (fs_is_ro(fsx)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		ret = setattr_size(fsx, ino, fi, (uint64_t)attr->st_size, &tfi);
		if (ret)
			goto out_truncated;
	}

	fs_lock(fsx);
	ret = fs_load_inode(fsx, ino, &inode);
	if (ret)
		goto out_unlock;
	fs_now(&now);
	if (to_set & FUSE_SET_ATTR_MODE) {
		inode.i_mode =
			(inode.i_mode & LINUX_S_IFMT) | (attr->st_mode & 07777);
		mode_changed = true;
	}
	if (to_set & FUSE_SET_ATTR_UID)
		fs_inode_set_uid(&inode, attr->st_uid);
	if (to_set & FUSE_SET_ATTR_GID)
		fs_inode_set_gid(&inode, attr->st_gid);
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		fs_set_time(&inode, FS_ATIME, &now);
	else if (to_set & FUSE_SET_ATTR_ATIME)
		fs_set_time(&inode, FS_ATIME, &attr->st_atim);
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		fs_set_time(&inode, FS_MTIME, &now);
	else if (to_set & FUSE_SET_ATTR_MTIME)
		fs_set_time(&inode, FS_MTIME, &attr->st_mtim);
	else if (to_set & FUSE_SET_ATTR_SIZE)
		fs_set_time(&inode, FS_MTIME, &now);
	if (to_set & FUSE_SET_ATTR_CTIME)
		fs_set_time(&inode, FS_CTIME, &attr->st_ctim);
	else
		fs_set_time(&inode, FS_CTIME, &now);
	ret = fs_write_inode(fsx, ino, &inode);
	if (ret)
		goto out_unlock;
	if (mode_changed) {
		ret = fs_acl_chmod(fsx, ino, inode.i_mode);
		if (ret)
			goto out_unlock;
		ret = fs_read_inode(fsx, ino, &inode);
		if (ret)
			goto out_unlock;
	}
	fs_fill_stat(fsx, ino, &inode, &st);
out_unlock:
	fs_unlock(fsx);
out_truncated:
	if (tfi) {
		fs_txn_stop(fsx);
		pthread_rwlock_unlock(&tfi->io_lock);
		fs_inode_put(fsx, tfi);
	}
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, FS_ATTR_TIMEOUT);
}

void op_readlink(fuse_req_t req, fuse_ino_t nodeid)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid);
	struct ext2_inode_large inode;
	ext2_file_t file;
	unsigned int got;
	char *buf = NULL;
	size_t len = 0;
	errcode_t err;
	int ret;

	fs_lock(fsx);
	ret = fs_read_inode(fsx, ino, &inode);
	if (ret)
		goto out_unlock;
	if (!LINUX_S_ISLNK(inode.i_mode)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	len = EXT2_I_SIZE(&inode);
	if (len == 0 || len >= fsx->blocksize + 1u) {
		ret = translate_error(fsx, EXT2_ET_FILESYSTEM_CORRUPTED, ino);
		goto out_unlock;
	}
	buf = malloc(len + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	if (inode.i_flags & EXT4_INLINE_DATA_FL) {
		size_t isz = 0;

		err = ext2fs_inline_data_size(fsx->fs, ino, &isz);
		if (!err && isz < len)
			err = EXT2_ET_FILESYSTEM_CORRUPTED;
		if (!err) {
			char *tmp = malloc(isz + 1);

			if (!tmp) {
				ret = -ENOMEM;
				goto out_unlock;
			}
			err = ext2fs_inline_data_get(
				fsx->fs, ino, EXT2_INODE(&inode), tmp, NULL);
			if (!err)
				memcpy(buf, tmp, len);
			free(tmp);
		}
		ret = translate_error(fsx, err, ino);
	} else if (ext2fs_is_fast_symlink(EXT2_INODE(&inode))) {
		if (len > sizeof(inode.i_block)) {
			ret = translate_error(fsx, EXT2_ET_FILESYSTEM_CORRUPTED,
					      ino);
			goto out_unlock;
		}
		memcpy(buf, inode.i_block, len);
	} else {
		err = ext2fs_file_open2(fsx->fs, ino, EXT2_INODE(&inode), 0,
					&file);
		if (err) {
			ret = translate_error(fsx, err, ino);
			goto out_unlock;
		}
		err = ext2fs_file_read(file, buf, (unsigned int)len, &got);
		ext2fs_file_close(file);
		if (!err && got != len)
			err = EXT2_ET_SHORT_READ;
		ret = translate_error(fsx, err, ino);
	}
out_unlock:
	fs_unlock(fsx);
	if (ret) {
		fuse_reply_err(req, -ret);
	} else {
		buf[len] = '\0';
		fuse_reply_readlink(req, buf);
	}
	free(buf);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct fuse_entry_param e;
	ext2_ino_t ino = 0;
	int ret;

	fs_lock(fsx);
	ret = make_node(fsx, req, fs_ino(parent), name, mode, rdev, &ino,
			&inode);
	if (!ret)
		ret = fs_fill_entry(fsx, ino, &inode, &e);
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

/*
 * With metadata_csum, a directory block's checksum is seeded with its
 * inode's generation.  ext2fs_mkdir() sealed the first block with
 * generation 0; after the generation changed, seal it again.  Inline
 * directories live in the inode, whose checksum fs_write_inode() sets.
 */
static int reseal_dir_block(struct iomapfs *fsx, ext2_ino_t dir,
			    struct ext2_inode_large *inode)
{
	ext2_filsys fs = fsx->fs;
	int ignore = fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS;
	errcode_t err;
	blk64_t blk;
	char *buf;
	int ret;

	if (!ext2fs_has_feature_metadata_csum(fs->super) ||
	    (inode->i_flags & EXT4_INLINE_DATA_FL))
		return 0;
	err = ext2fs_bmap2(fs, dir, EXT2_INODE(inode), NULL, 0, 0, NULL, &blk);
	if (err)
		return translate_error(fsx, err, dir);
	err = ext2fs_get_mem(fs->blocksize, &buf);
	if (err)
		return translate_error(fsx, err, dir);
	/* the old seal is known to be wrong: read past it */
	fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
	err = ext2fs_read_dir_block4(fs, blk, buf, 0, dir);
	fs->flags = (fs->flags & ~EXT2_FLAG_IGNORE_CSUM_ERRORS) | ignore;
	if (!err)
		err = ext2fs_write_dir_block4(fs, blk, buf, 0, dir);
	ret = translate_error(fsx, err, dir);
	ext2fs_free_mem(&buf);
	return ret;
}

void op_mkdir(fuse_req_t req, fuse_ino_t nodeid, const char *name, mode_t mode)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t parent = fs_ino(nodeid), child = 0;
	struct ext2_inode_large pinode, inode;
	struct fuse_entry_param e;
	struct fs_acl_inherit ai;
	uint16_t plinks;
	errcode_t err;
	uid_t uid;
	gid_t gid;
	int ret;

	memset(&ai, 0, sizeof(ai));
	ret = may_add_or_remove(fsx, name);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	mode = (mode & 07777) | S_IFDIR;
	fs_lock(fsx);
	ret = read_dir_inode(fsx, parent, &pinode);
	if (ret)
		goto out_unlock;
	plinks = pinode.i_links_count;
	if (plinks >= EXT2_LINK_MAX &&
	    !ext2fs_has_feature_dir_nlink(fsx->fs->super)) {
		ret = -EMLINK;
		goto out_unlock;
	}
	ret = dir_lookup(fsx, parent, name, &child);
	if (ret == 0) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (ret != -ENOENT)
		goto out_unlock;
	ret = fs_acl_inherit_prepare(fsx, parent, true, req_umask(fsx, req),
				     &mode, &ai);
	if (ret)
		goto out_unlock;
	/* made unlinked, then linked through the directory index */
	err = ext2fs_new_inode(fsx->fs, parent, LINUX_S_IFDIR | 0755, NULL,
			       &child);
	if (!err)
		err = ext2fs_mkdir(fsx->fs, parent, child, NULL);
	if (err) {
		ret = translate_error(fsx, err, parent);
		goto out_acl;
	}
	ret = dix_link(fsx, parent, name, child, EXT2_FT_DIR);
	if (ret) {
		unmake_inode(fsx, child);
		if (plinks != 1 && plinks < EXT2_LINK_MAX - 1)
			touch_dir(fsx, parent, -1); /* the ".." it counted */
		goto out_acl;
	}
	reset_fs_inode(fsx, child);
	ret = fs_read_inode(fsx, child, &inode);
	if (ret)
		goto out_acl;
	new_owner(fsx, req, &pinode, &uid, &gid);
	if (pinode.i_mode & S_ISGID)
		mode |= S_ISGID;
	inode.i_mode = mode;
	fs_inode_set_uid(&inode, uid);
	fs_inode_set_gid(&inode, gid);
	init_times(&inode);
	/*
	 * ext2fs_mkdir() leaves the generation 0.  A directory whose inode
	 * number is reused must differ from the old one in generation, or
	 * the kernel takes it for the old inode it still holds and fails
	 * the mkdir with ESTALE.
	 */
	inode.i_generation = fs_next_generation(fsx);
	ret = fs_write_inode(fsx, child, &inode);
	if (!ret)
		ret = reseal_dir_block(fsx, child, &inode);
	if (ret)
		goto out_acl;
	/* ext2fs_mkdir() counted the new ".." in the parent; dir_nlink */
	if (plinks >= EXT2_LINK_MAX - 1 || plinks == 1) {
		ret = fs_read_inode(fsx, parent, &pinode);
		if (ret)
			goto out_acl;
		pinode.i_links_count = 1;
		ret = fs_write_inode(fsx, parent, &pinode);
		if (ret)
			goto out_acl;
	}
	ret = touch_dir(fsx, parent, 0);
	if (ret)
		goto out_acl;
	ret = fs_acl_inherit_apply(fsx, child, &ai);
	if (ret)
		goto out_acl;
	ret = fs_read_inode(fsx, child, &inode);
	if (!ret)
		ret = fs_fill_entry(fsx, child, &inode, &e);
out_acl:
	fs_acl_inherit_free(&ai);
out_unlock:
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

/* Drop one link of @ino (not a directory), freeing it at the last. */
static int drop_link(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct ext2_inode_large inode;
	struct timespec now;
	int ret;

	ret = fs_load_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	if (inode.i_links_count > 0)
		inode.i_links_count--;
	fs_now(&now);
	fs_set_time(&inode, FS_CTIME, &now);
	if (inode.i_links_count)
		return fs_write_inode(fsx, ino, &inode);
	return fs_drop_inode(fsx, ino, &inode);
}

/* Remove empty directory @child: its entry is already gone. */
static int drop_dir(struct iomapfs *fsx, ext2_ino_t child)
{
	struct ext2_inode_large inode;
	struct timespec now;
	int ret;

	dix_forget(fsx, child);
	ret = fs_read_inode(fsx, child, &inode);
	if (ret)
		return ret;
	inode.i_links_count = 0;
	fs_now(&now);
	fs_set_time(&inode, FS_CTIME, &now);
	return fs_drop_inode(fsx, child, &inode);
}

void op_unlink(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t parent = fs_ino(nodeid), child;
	struct ext2_inode_large inode;
	int ret;

	ret = may_add_or_remove(fsx, name);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	ret = dir_lookup(fsx, parent, name, &child);
	if (ret)
		goto out_unlock;
	ret = fs_read_inode(fsx, child, &inode);
	if (ret)
		goto out_unlock;
	if (LINUX_S_ISDIR(inode.i_mode)) {
		ret = -EISDIR;
		goto out_unlock;
	}
	ret = dix_unlink(fsx, parent, name, child);
	if (ret)
		goto out_unlock;
	ret = touch_dir(fsx, parent, 0);
	if (ret)
		goto out_unlock;
	ret = drop_link(fsx, child);
out_unlock:
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
}

void op_rmdir(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t parent = fs_ino(nodeid), child;
	struct ext2_inode_large inode;
	int ret;

	ret = may_add_or_remove(fsx, name);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	if (!strcmp(name, ".")) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!strcmp(name, "..")) {
		fuse_reply_err(req, ENOTEMPTY);
		return;
	}
	fs_lock(fsx);
	ret = dir_lookup(fsx, parent, name, &child);
	if (ret)
		goto out_unlock;
	ret = fs_read_inode(fsx, child, &inode);
	if (ret)
		goto out_unlock;
	if (!LINUX_S_ISDIR(inode.i_mode)) {
		ret = -ENOTDIR;
		goto out_unlock;
	}
	if (child == EXT2_ROOT_INO) {
		ret = -EBUSY;
		goto out_unlock;
	}
	ret = dix_is_empty(fsx, child);
	if (ret)
		goto out_unlock;
	ret = dix_unlink(fsx, parent, name, child);
	if (ret)
		goto out_unlock;
	ret = touch_dir(fsx, parent, -1);
	if (ret)
		goto out_unlock;
	ret = drop_dir(fsx, child);
out_unlock:
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
}

void op_symlink(fuse_req_t req, const char *target, fuse_ino_t nodeid,
		const char *name)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t parent = fs_ino(nodeid), child;
	struct ext2_inode_large pinode, inode;
	struct fuse_entry_param e;
	errcode_t err;
	uid_t uid;
	gid_t gid;
	int ret;

	ret = may_add_or_remove(fsx, name);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	if (strlen(target) >= fsx->blocksize) {
		ret = -ENAMETOOLONG;
		goto out_unlock;
	}
	ret = read_dir_inode(fsx, parent, &pinode);
	if (ret)
		goto out_unlock;
	ret = dir_lookup(fsx, parent, name, &child);
	if (ret == 0) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (ret != -ENOENT)
		goto out_unlock;
	/* made unlinked, then linked through the directory index */
	err = ext2fs_new_inode(fsx->fs, parent, LINUX_S_IFLNK | 0755, NULL,
			       &child);
	if (!err)
		err = ext2fs_symlink(fsx->fs, parent, child, NULL, target);
	ret = translate_error(fsx, err, parent);
	if (ret)
		goto out_unlock;
	ret = dix_link(fsx, parent, name, child, EXT2_FT_SYMLINK);
	if (ret) {
		unmake_inode(fsx, child);
		goto out_unlock;
	}
	reset_fs_inode(fsx, child);
	ret = fs_read_inode(fsx, child, &inode);
	if (ret)
		goto out_unlock;
	new_owner(fsx, req, &pinode, &uid, &gid);
	fs_inode_set_uid(&inode, uid);
	fs_inode_set_gid(&inode, gid);
	init_times(&inode);
	inode.i_generation = fs_next_generation(fsx);
	ret = fs_write_inode(fsx, child, &inode);
	if (ret)
		goto out_unlock;
	ret = touch_dir(fsx, parent, 0);
	if (!ret)
		ret = fs_fill_entry(fsx, child, &inode, &e);
out_unlock:
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

static int dotdot_set_cb(ext2_ino_t dir, int entry,
			 struct ext2_dir_entry *dirent, int offset,
			 int blocksize, char *buf, void *priv)
{
	ext2_ino_t *parent = priv;

	if (ext2fs_dirent_name_len(dirent) == 2 && dirent->name[0] == '.' &&
	    dirent->name[1] == '.') {
		dirent->inode = *parent;
		return DIRENT_CHANGED | DIRENT_ABORT;
	}
	return 0;
}

/* A directory moved to @parent: its ".." follows. */
static int dotdot_set(struct iomapfs *fsx, ext2_ino_t dir, ext2_ino_t parent)
{
	errcode_t err;

	err = ext2fs_dir_iterate2(fsx->fs, dir, 0, NULL, dotdot_set_cb,
				  &parent);
	return translate_error(fsx, err, dir);
}

static int touch_ctime(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct ext2_inode_large inode;
	struct timespec now;
	int ret;

	ret = fs_load_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	fs_now(&now);
	fs_set_time(&inode, FS_CTIME, &now);
	return fs_write_inode(fsx, ino, &inode);
}

/* RENAME_EXCHANGE: the two entries swap their inodes. */
static int rename_exchange(struct iomapfs *fsx, ext2_ino_t odir,
			   const char *oname, ext2_ino_t src,
			   const struct ext2_inode_large *sinode,
			   ext2_ino_t ndir, const char *nname, ext2_ino_t dst,
			   const struct ext2_inode_large *dinode)
{
	bool sdir = LINUX_S_ISDIR(sinode->i_mode);
	bool ddir = LINUX_S_ISDIR(dinode->i_mode);
	int ret;

	ret = dix_set(fsx, odir, oname, dst, ext2_ftype(dinode->i_mode));
	if (ret)
		return ret;
	ret = dix_set(fsx, ndir, nname, src, ext2_ftype(sinode->i_mode));
	if (ret)
		return ret;
	if (odir != ndir) {
		if (sdir) {
			ret = dotdot_set(fsx, src, ndir);
			if (ret)
				return ret;
		}
		if (ddir) {
			ret = dotdot_set(fsx, dst, odir);
			if (ret)
				return ret;
		}
	}
	ret = touch_ctime(fsx, src);
	if (!ret)
		ret = touch_ctime(fsx, dst);
	if (ret)
		return ret;
	if (odir == ndir)
		return touch_dir(fsx, odir, 0);
	ret = touch_dir(fsx, odir, (int)ddir - (int)sdir);
	if (!ret)
		ret = touch_dir(fsx, ndir, (int)sdir - (int)ddir);
	return ret;
}

/* Whether directory @dir lies inside the tree of directory @top. */
static int is_inside(struct iomapfs *fsx, ext2_ino_t dir, ext2_ino_t top)
{
	ext2_ino_t cur = dir, up;
	unsigned int depth;
	errcode_t err;

	for (depth = 0; depth < 4096; depth++) {
		if (cur == top)
			return 1;
		if (cur == EXT2_ROOT_INO)
			return 0;
		err = ext2fs_lookup(fsx->fs, cur, "..", 2, NULL, &up);
		if (err)
			return translate_error(fsx, err, cur);
		if (up == cur)
			return 0;
		cur = up;
	}
	return translate_error(fsx, EXT2_ET_FILESYSTEM_CORRUPTED, dir);
}

void op_rename(fuse_req_t req, fuse_ino_t oparent, const char *oname,
	       fuse_ino_t nparent, const char *nname, unsigned int flags)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t odir = fs_ino(oparent), ndir = fs_ino(nparent);
	struct ext2_inode_large sinode, dinode, dirinode;
	ext2_ino_t src, dst = 0;
	bool sdir, ddir = false;
	int ret;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) ||
	    ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (fs_is_ro(fsx)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	ret = name_check(oname);
	if (!ret)
		ret = name_check(nname);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	ret = read_dir_inode(fsx, odir, &dirinode);
	if (!ret)
		ret = read_dir_inode(fsx, ndir, &dirinode);
	if (ret)
		goto out_unlock;
	ret = dir_lookup(fsx, odir, oname, &src);
	if (ret)
		goto out_unlock;
	ret = fs_read_inode(fsx, src, &sinode);
	if (ret)
		goto out_unlock;
	sdir = LINUX_S_ISDIR(sinode.i_mode);
	ret = dir_lookup(fsx, ndir, nname, &dst);
	if (ret && ret != -ENOENT)
		goto out_unlock;
	if (ret == -ENOENT) {
		dst = 0;
		if (flags & RENAME_EXCHANGE)
			goto out_unlock;
	} else {
		if (flags & RENAME_NOREPLACE) {
			ret = -EEXIST;
			goto out_unlock;
		}
		ret = fs_read_inode(fsx, dst, &dinode);
		if (ret)
			goto out_unlock;
		ddir = LINUX_S_ISDIR(dinode.i_mode);
	}
	ret = 0;
	if (dst == src)
		goto out_unlock; /* same file: nothing to do */

	/* No directory may move into its own tree. */
	if (sdir && odir != ndir) {
		ret = is_inside(fsx, ndir, src);
		if (ret > 0)
			ret = -EINVAL;
		if (ret)
			goto out_unlock;
	}
	if ((flags & RENAME_EXCHANGE) && ddir && odir != ndir) {
		ret = is_inside(fsx, odir, dst);
		if (ret > 0)
			ret = -EINVAL;
		if (ret)
			goto out_unlock;
	}
	if (flags & RENAME_EXCHANGE) {
		ret = rename_exchange(fsx, odir, oname, src, &sinode, ndir,
				      nname, dst, &dinode);
		goto out_unlock;
	}
	if (dst) {
		if (sdir && !ddir) {
			ret = -ENOTDIR;
			goto out_unlock;
		}
		if (!sdir && ddir) {
			ret = -EISDIR;
			goto out_unlock;
		}
		if (ddir) {
			ret = dix_is_empty(fsx, dst);
			if (ret)
				goto out_unlock;
		}
		/* Replace in place: no new space needed, never ENOSPC. */
		ret = dix_set(fsx, ndir, nname, src, ext2_ftype(sinode.i_mode));
	} else {
		if (sdir && odir != ndir) {
			ret = fs_read_inode(fsx, ndir, &dirinode);
			if (ret)
				goto out_unlock;
			if (dirinode.i_links_count >= EXT2_LINK_MAX &&
			    !ext2fs_has_feature_dir_nlink(fsx->fs->super)) {
				ret = -EMLINK;
				goto out_unlock;
			}
		}
		ret = dix_link(fsx, ndir, nname, src,
			       ext2_ftype(sinode.i_mode));
	}
	if (ret)
		goto out_unlock;
	ret = dix_unlink(fsx, odir, oname, src);
	if (ret)
		goto out_unlock;
	if (sdir && odir != ndir) {
		ret = dotdot_set(fsx, src, ndir);
		if (ret)
			goto out_unlock;
	}
	ret = touch_ctime(fsx, src);
	if (ret)
		goto out_unlock;
	if (odir == ndir) {
		ret = touch_dir(fsx, odir, ddir ? -1 : 0);
	} else {
		ret = touch_dir(fsx, odir, sdir ? -1 : 0);
		if (!ret)
			ret = touch_dir(fsx, ndir, (int)sdir - (int)ddir);
	}
	if (ret)
		goto out_unlock;
	if (dst)
		ret = ddir ? drop_dir(fsx, dst) : drop_link(fsx, dst);
out_unlock:
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
}

void op_link(fuse_req_t req, fuse_ino_t nodeid, fuse_ino_t nparent,
	     const char *nname)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid), dir = fs_ino(nparent), old;
	struct ext2_inode_large inode, dinode;
	struct fuse_entry_param e;
	struct timespec now;
	int ret;

	ret = may_add_or_remove(fsx, nname);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	ret = read_dir_inode(fsx, dir, &dinode);
	if (ret)
		goto out_unlock;
	ret = fs_load_inode(fsx, ino, &inode);
	if (ret)
		goto out_unlock;
	if (LINUX_S_ISDIR(inode.i_mode)) {
		ret = -EPERM;
		goto out_unlock;
	}
	if (inode.i_links_count == 0) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (inode.i_links_count >= EXT2_LINK_MAX) {
		ret = -EMLINK;
		goto out_unlock;
	}
	ret = dir_lookup(fsx, dir, nname, &old);
	if (ret == 0) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (ret != -ENOENT)
		goto out_unlock;
	ret = dix_link(fsx, dir, nname, ino, ext2_ftype(inode.i_mode));
	if (ret)
		goto out_unlock;
	inode.i_links_count++;
	fs_now(&now);
	fs_set_time(&inode, FS_CTIME, &now);
	ret = fs_write_inode(fsx, ino, &inode);
	if (ret)
		goto out_unlock;
	ret = touch_dir(fsx, dir, 0);
	if (!ret)
		ret = fs_fill_entry(fsx, ino, &inode, &e);
out_unlock:
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

static void release_fh(struct iomapfs *fsx, struct fuse_file_info *fi);

/*
 * Open regular file @ino: reference its in-memory inode into fi->fh and
 * count the handle; O_TRUNC (atomic_o_trunc) truncates under the I/O lock.
 */
static int open_file(struct iomapfs *fsx, ext2_ino_t ino,
		     struct fuse_file_info *fi)
{
	struct ext2_inode_large inode;
	struct fs_inode *fsi;
	int ret;

	if (fs_is_ro(fsx) &&
	    ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)))
		return -EROFS;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, ino, &inode);
	fs_unlock(fsx);
	if (ret)
		return ret;
	if (LINUX_S_ISDIR(inode.i_mode))
		return -EISDIR;
	if (!LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	fsi = fs_inode_get(fsx, ino);
	if (!fsi)
		return -ENOMEM;
	fs_inode_open(fsx, fsi);
	if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
		pthread_rwlock_wrlock(&fsi->io_lock);
		ret = fs_inode_load_size(fsx, fsi);
		if (!ret && fsi->size) {
			ret = io_truncate(fsx, fsi, 0);
			if (!ret)
				fs_inode_touch(fsi);
		}
		pthread_rwlock_unlock(&fsi->io_lock);
		if (ret) {
			fs_inode_close(fsx, fsi);
			fs_inode_put(fsx, fsi);
			return ret;
		}
	}
	fi->fh = (uint64_t)(uintptr_t)fsi;
	/* Every change passes through the kernel: its cache stays valid. */
	fi->keep_cache = 1;
	fi->noflush = 1; /* see op_create() */
	/*
	 * O_DIRECT: the kernel's direct-I/O mode (FOPEN_DIRECT_IO), which
	 * op_open() combines with parallel direct writes.  In the cached
	 * mode a direct write holds the inode's i_rwsem exclusive (so the
	 * writers of one file run one at a time) and first asks us for
	 * security.capability (file_remove_privs(), a GETXATTR round trip
	 * per write).  The direct-I/O mode takes i_rwsem shared for writes
	 * inside i_size and asks nothing.  It does not kill set-user-ID and
	 * set-group-ID bits on write either, so files that have them keep
	 * the cached mode, where the kernel does.
	 */
	if ((fi->flags & O_DIRECT) &&
	    !(inode.i_mode & (LINUX_S_ISUID | LINUX_S_ISGID)))
		fi->direct_io = 1;
	return 0;
}

/* From the kernel's <linux/fuse.h> (ABI 7.36); libfuse 3.14 lacks it. */
#define OPS_FOPEN_DIRECT_IO		 (1u << 0)
#define OPS_FOPEN_KEEP_CACHE		 (1u << 1)
#define OPS_FOPEN_NOFLUSH		 (1u << 5)
#define OPS_FOPEN_PARALLEL_DIRECT_WRITES (1u << 6)

/*
 * Reply to an open whose handle is in direct-I/O mode, adding
 * FOPEN_PARALLEL_DIRECT_WRITES, which libfuse 3.14's fuse_reply_open()
 * cannot send: the reply is the kernel's struct fuse_open_out (fh,
 * open_flags, padding), sent as is.  A kernel that does not know the flag
 * ignores it.  Returns what fuse_reply_open() would.
 */
static int reply_open_direct(fuse_req_t req, const struct fuse_file_info *fi)
{
	struct {
		uint64_t fh;
		uint32_t open_flags;
		uint32_t padding;
	} out = {
		.fh = fi->fh,
		.open_flags = OPS_FOPEN_DIRECT_IO |
			      OPS_FOPEN_PARALLEL_DIRECT_WRITES |
			      (fi->keep_cache ? OPS_FOPEN_KEEP_CACHE : 0) |
			      (fi->noflush ? OPS_FOPEN_NOFLUSH : 0),
	};
	struct iovec iov = {.iov_base = &out, .iov_len = sizeof(out)};

	return fuse_reply_iov(req, &iov, 1);
}

void op_open(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct iomapfs *fsx = req_fs(req);
	int ret = open_file(fsx, fs_ino(nodeid), fi);

	if (ret)
		fuse_reply_err(req, -ret);
	else if ((fi->direct_io ? reply_open_direct(req, fi)
				: fuse_reply_open(req, fi)) == -ENOENT)
		release_fh(fsx, fi); /* interrupted: the kernel never knew */
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct fuse_entry_param e;
	struct fs_inode *fsi = NULL;
	ext2_ino_t ino = 0;
	int ret;

	fs_lock(fsx);
	ret = make_node(fsx, req, fs_ino(parent), name,
			(mode & 07777) | S_IFREG, 0, &ino, &inode);
	if (!ret)
		ret = fs_fill_entry(fsx, ino, &inode, &e);
	fs_unlock(fsx);
	if (!ret) {
		fsi = fs_inode_get(fsx, ino);
		if (!fsi)
			ret = -ENOMEM;
	}
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fsi->size = 0;
	fsi->size_valid = true;
	fs_inode_open(fsx, fsi);
	fi->fh = (uint64_t)(uintptr_t)fsi;
	fi->keep_cache = 1;
	/*
	 * No FLUSH at close (FOPEN_NOFLUSH): our writes reach the device
	 * before they are answered, so a flush has no error to report, and
	 * the timestamps a lock-free overwrite left pending are folded into
	 * every getattr and written by release.  Shared mappings are written
	 * back when they are unmapped, not at close.  That saves one round
	 * trip per close(2): two per file in 'printf > file', where the shell
	 * closes the descriptor it dup2()s.
	 */
	fi->noflush = 1;
	if (fuse_reply_create(req, &e, fi) == -ENOENT)
		release_fh(fsx, fi);
}

/* Drop the handle in fi->fh; free the inode when it was the last one
 * of an unlinked file. */
static void release_fh(struct iomapfs *fsx, struct fuse_file_info *fi)
{
	struct fs_inode *fsi = (struct fs_inode *)(uintptr_t)fi->fh;
	bool last;

	if (!fsi)
		return;
	last = fs_inode_close(fsx, fsi);
	fs_lock(fsx);
	if (!fs_is_ro(fsx))
		fs_inode_sync_times(fsx, fsi, NULL);
	if (last && !fs_is_ro(fsx))
		fs_free_inode(fsx, fsi->ino);
	fs_unlock(fsx);
	fs_inode_put(fsx, fsi);
	fi->fh = 0;
}

void op_release(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	release_fh(req_fs(req), fi);
	fuse_reply_err(req, 0);
}

void op_access(fuse_req_t req, fuse_ino_t nodeid, int mask)
{
	struct iomapfs *fsx = req_fs(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct ext2_inode_large inode;
	mode_t mode, bits;
	int ret;

	fs_lock(fsx);
	ret = fs_read_inode(fsx, fs_ino(nodeid), &inode);
	fs_unlock(fsx);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	mode = inode.i_mode;
	if ((mask & W_OK) && fs_is_ro(fsx) &&
	    (LINUX_S_ISREG(mode) || LINUX_S_ISDIR(mode) ||
	     LINUX_S_ISLNK(mode))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (mask == F_OK || fsx->opts.fakeroot) {
		fuse_reply_err(req, 0);
		return;
	}
	if (ctx->uid == 0) {
		/* root may execute only what someone may execute */
		ret = (mask & X_OK) && !LINUX_S_ISDIR(mode) && !(mode & 0111)
			      ? EACCES
			      : 0;
		fuse_reply_err(req, ret);
		return;
	}
	if (ctx->uid == fs_inode_uid(&inode))
		bits = (mode >> 6) & 7;
	else if (ctx->gid == fs_inode_gid(&inode))
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	fuse_reply_err(req, ((unsigned int)mask & ~bits) & 7 ? EACCES : 0);
}
