// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_attr.c - the FUSE operations on an inode's attributes: getattr,
 * setattr (mode, owner, times; a size change goes to the data path,
 * io_truncate(), under the inode's I/O lock), access, and readlink, which
 * reads what a symlink says.  Attributes are read and written under
 * fs_lock; getattr folds in the times a lock-free overwrite left pending
 * (fs_peek_inode()).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "iflags.h"
#include "inode.h"
#include "io_falloc.h"
#include "killpriv.h"
#include "ops_attr.h"

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct stat st;
	int ret;

	/* The error of a failed write-back, for the write(2) that asks
	 * (io_write_back_failed()). */
	if (ffi && ffi->fh) {
		ret = __atomic_exchange_n(
			&((struct fs_inode *)(uintptr_t)ffi->fh)->wb_error, 0,
			__ATOMIC_ACQ_REL);
		if (ret) {
			fuse_reply_err(req, -ret);
			return;
		}
	}
	fs_lock(fsx);
	ret = fs_peek_inode(fsx, fs_ino(ino), &inode);
	if (!ret)
		fs_fill_stat(fsx, fs_ino(ino), &inode, &st);
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, FS_ATTR_TIMEOUT);
}

/*
 * setattr(size): the data path truncates under the inode's I/O lock.  The
 * inode's flags (@to_set: iflags_may_setattr()) are judged under that
 * lock too, which SETFLAGS takes to change them.  A negative @size is
 * -EINVAL.  Returns with *out referenced and its io_lock held exclusive,
 * and a journal handle open (the caller drops all three after the
 * attribute change that follows: setattr_done()), or an error and *out
 * NULL when the truncate did not start.
 */
static int setattr_size(struct iomapfs *fsx, ext2_ino_t ino,
			struct fuse_file_info *ffi, off_t size, int to_set,
			struct fs_inode **out)
{
	struct ext2_inode_large inode;
	struct fs_inode *fi;
	int ret;

	*out = NULL;
	if (size < 0)
		return -EINVAL;
	if (ffi && ffi->fh) {
		fi = (struct fs_inode *)(uintptr_t)ffi->fh;
		pthread_mutex_lock(&fsx->itab_lock);
		fi->refs++;
		pthread_mutex_unlock(&fsx->itab_lock);
	} else {
		fi = fs_inode_get(fsx, ino);
		if (!fi)
			return -ENOMEM;
	}
	pthread_rwlock_wrlock(&fi->io_lock);
	fs_lock(fsx);
	ret = inode_read_as(fsx, ino, LINUX_S_IFREG, &inode);
	if (!ret)
		ret = iflags_may_setattr(&inode, to_set);
	fs_unlock(fsx);
	if (ret) {
		pthread_rwlock_unlock(&fi->io_lock);
		fs_inode_put(fsx, fi);
		return ret;
	}
	*out = fi;
	/*
	 * journal: the truncate and the attribute change after it are one
	 * operation in two fs_lock sections: one handle over both (taken
	 * after io_lock, the lock order), so that no commit falls between.
	 * A truncate too large for one transaction still commits between
	 * its pieces (journal_split()), each a consistent state.
	 */
	fs_txn_start(fsx);
	return io_truncate(fsx, fi, (uint64_t)size);
}

/* The end of what setattr_size() began: the handle, io_lock, the ref. */
static void setattr_done(struct iomapfs *fsx, struct fs_inode *fi)
{
	if (!fi)
		return;
	fs_txn_stop(fsx);
	pthread_rwlock_unlock(&fi->io_lock);
	fs_inode_put(fsx, fi);
}

/* The attributes a SETATTR names; one that names none is the kernel's
 * file_remove_privs() for a change of the contents (killpriv.c). */
#define SETATTR_NAMED                                                     \
	(FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |     \
	 FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | \
	 FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW |              \
	 FUSE_SET_ATTR_CTIME)

/*
 * The mode @inode gets from a SETATTR of @to_set by @req's caller, with
 * the set-user-ID and set-group-ID bits ext4 would clear cleared
 * (killpriv.h): a new mode loses set-group-ID when the caller is outside
 * the file's (new) group; chown clears as chown(2) does, with the group
 * the file had; a truncate, and a SETATTR that names nothing, as a write.
 * The kernel checks the first itself with default_permissions; the others
 * are left to us (killpriv.c).
 */
static mode_t setattr_mode(struct iomapfs *fsx, fuse_req_t req,
			   const struct ext2_inode_large *inode,
			   const struct stat *attr, int to_set)
{
	gid_t gid = fs_inode_gid(inode);
	mode_t mode = inode->i_mode;

	if (to_set & FUSE_SET_ATTR_MODE)
		mode = killpriv_chmod(
			fsx, req,
			(mode & LINUX_S_IFMT) | (attr->st_mode & 07777),
			(to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : gid);
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		mode = killpriv_chown(fsx, req, mode, gid);
	else if ((to_set & FUSE_SET_ATTR_SIZE) || !(to_set & SETATTR_NAMED))
		mode = killpriv_modify(fsx, req, mode, gid);
	return mode;
}

/*
 * The times setattr sets, explicitly or to now, replace what @ino's
 * in-memory inode keeps pending for them (lazytime).  fs_lock held.
 */
static void setattr_drop_times(struct iomapfs *fsx, ext2_ino_t ino, int to_set)
{
	struct fs_inode *fi = fs_inode_find(fsx, ino);

	if (!fi)
		return;
	fs_inode_drop_times(fi, to_set & FUSE_SET_ATTR_ATIME,
			    to_set &
				    (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_SIZE));
	fs_inode_put(fsx, fi);
}

/*
 * The times of @to_set as the append-only check should judge them.  With
 * the write-back cache the kernel owns a regular file's mtime and ctime
 * and sends them as given values: its own, after writes and renames
 * (fuse_flush_times()), and a utimensat() to now as ATIME_NOW with a given
 * mtime.  Those count as now, which an append-only file allows, as ext4
 * does; a given atime still marks the times as given.  (A utimensat() of
 * mtime alone to a given value looks the same as the kernel's own and
 * passes: iomapfs(8).)
 */
static int setattr_flag_times(const struct iomapfs *fsx,
			      const struct ext2_inode_large *inode, int to_set)
{
	if (!fsx->writeback || !LINUX_S_ISREG(inode->i_mode) ||
	    !(to_set & FUSE_SET_ATTR_MTIME))
		return to_set;
	if (!(to_set & FUSE_SET_ATTR_ATIME) ||
	    (to_set & FUSE_SET_ATTR_ATIME_NOW))
		return to_set | FUSE_SET_ATTR_MTIME_NOW;
	return to_set;
}

/*
 * Write @inode, which a SETATTR of @to_set made of @old (fs_lock held).
 * With the write-back cache the kernel sends its times at every
 * write-back, close after a change and fsync, and before each other
 * SETATTR (a tree copy: three per file): one that changes nothing writes
 * nothing, and one of times alone is written as such, so that fdatasync
 * does not commit for it (journal), as ext4's does not for timestamps.
 */
static int setattr_write(struct iomapfs *fsx, ext2_ino_t ino,
			 const struct ext2_inode_large *old,
			 struct ext2_inode_large *inode, int to_set)
{
	if (!memcmp(old, inode, sizeof(*inode)))
		return 0;
	if (!(to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
			FUSE_SET_ATTR_GID | FUSE_SET_ATTR_SIZE)) &&
	    old->i_mode == inode->i_mode)
		return fs_write_inode_times(fsx, ino, inode);
	return fs_write_inode(fsx, ino, inode);
}

/*
 * Everything setattr changes but the size, under fs_lock; the new
 * attributes go to @st.
 */
static int setattr_inode(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t ino,
			 const struct stat *attr, int to_set, struct stat *st)
{
	struct ext2_inode_large inode, old;
	struct timespec now;
	bool mode_changed = false;
	mode_t mode;
	int ret;

	fs_lock(fsx);
	ret = fs_load_inode(fsx, ino, &inode);
	if (!ret)
		ret = iflags_may_setattr(
			&inode, setattr_flag_times(fsx, &inode, to_set));
	if (ret)
		goto out_unlock;
	old = inode;
	fs_now(fsx, &now);
	mode = setattr_mode(fsx, req, &inode, attr, to_set);
	if (to_set & FUSE_SET_ATTR_MODE)
		mode_changed = true;
	inode.i_mode = (__u16)mode;
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
	setattr_drop_times(fsx, ino, to_set);
	ret = setattr_write(fsx, ino, &old, &inode, to_set);
	if (ret)
		goto out_unlock;
	killpriv_note(fsx, ino, inode.i_mode);
	if (mode_changed) {
		ret = acl_chmod(fsx, ino, inode.i_mode);
		if (ret)
			goto out_unlock;
		ret = fs_read_inode(fsx, ino, &inode);
		if (ret)
			goto out_unlock;
	}
	fs_fill_stat(fsx, ino, &inode, st);
out_unlock:
	fs_unlock(fsx);
	return ret;
}

void op_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat *attr,
		int to_set, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid);
	struct fs_inode *tfi = NULL;
	struct stat st;
	int ret;

	ret = fs_is_ro(fsx) ? -EROFS : 0;
	if (!ret && (to_set & FUSE_SET_ATTR_SIZE))
		ret = setattr_size(fsx, ino, ffi, attr->st_size, to_set, &tfi);
	if (!ret)
		ret = setattr_inode(fsx, req, ino, attr, to_set, &st);
	setattr_done(fsx, tfi);
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
	ret = inode_read_as(fsx, ino, LINUX_S_IFLNK, &inode);
	if (ret)
		goto out_unlock;
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
