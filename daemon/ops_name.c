// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_name.c - the FUSE operations on names: lookup and forget, adding a
 * name (mknod, mkdir, symlink, link; newinode.c makes the inode), removing
 * one (unlink, rmdir) and rename (with RENAME_WHITEOUT, as overlayfs asks
 * of its upper layer).  Each runs its libext2fs calls under
 * fs_lock and replies after dropping it, with the errors Linux ext4 gives.
 * Directory entries change only through the directory index (dirindex.c).
 * Permissions are the kernel's business (default_permissions), except
 * with fakeroot, where everyone may do anything.  Inodes losing their last
 * link are freed at once, or by the last release when a handle is still
 * open (inode_drop()).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "dirindex.h"
#include "iflags.h"
#include "inode.h"
#include "newinode.h"
#include "ops_name.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

/*
 * LOOKUP of "." on any node id: how the kernel finds the inode of a file
 * handle it no longer holds (FUSE_CAP_EXPORT_SUPPORT; the node id is the
 * handle's).  The kernel compares the generation we answer with the
 * handle's, so a number a new inode reuses gives ESTALE.  Anything else
 * than a live inode - a node id that names no inode of ours, a reserved
 * or free inode, one whose last link is gone and that no handle holds
 * open - is -ENOENT, which the kernel turns into ESTALE, as ext4's
 * ext4_nfs_get_inode() gives.  fs_lock held.
 */
static int lookup_self(struct iomapfs *fsx, fuse_ino_t nodeid, ext2_ino_t *ino,
		       struct ext2_inode_large *inode)
{
	ext2_filsys fs = fsx->fs;
	struct fs_inode *fi;
	bool open = false;
	int ret;

	/* not a number fs_nodeid() gives: past 32 bits, or 2 (root is 1) */
	*ino = fs_ino(nodeid);
	if (fs_nodeid(*ino) != nodeid)
		return -ENOENT;
	if ((*ino < EXT2_FIRST_INO(fs->super) && *ino != EXT2_ROOT_INO) ||
	    *ino > fs->super->s_inodes_count)
		return -ENOENT;
	if (!fs->inode_map || !ext2fs_test_inode_bitmap2(fs->inode_map, *ino))
		return -ENOENT;
	ret = fs_peek_inode(fsx, *ino, inode);
	if (ret || inode->i_links_count)
		return ret;
	fi = fs_inode_find(fsx, *ino);
	if (fi) {
		pthread_mutex_lock(&fsx->itab_lock);
		open = fi->open_count > 0;
		pthread_mutex_unlock(&fsx->itab_lock);
		fs_inode_put(fsx, fi);
	}
	return open ? 0 : -ENOENT;
}

/*
 * Names, and "." and ".." for file handles: the kernel asks ".." of a
 * directory when it connects a directory's handle to the tree.
 */
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct fuse_entry_param e;
	ext2_ino_t ino;
	int ret;

	ret = inode_name_check(name);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	if (!strcmp(name, ".")) {
		ret = lookup_self(fsx, parent, &ino, &inode);
	} else {
		if (!strcmp(name, ".."))
			ret = inode_read_dir(fsx, fs_ino(parent), &inode);
		if (!ret)
			ret = dix_lookup(fsx, fs_ino(parent), name, &ino);
		if (!ret)
			ret = fs_peek_inode(fsx, ino, &inode);
	}
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

/* mknod, mkdir and symlink: make the inode, reply with its entry. */
static void make_and_reply(fuse_req_t req, fuse_ino_t parent, const char *name,
			   mode_t mode, dev_t rdev, const char *target)
{
	struct iomapfs *fsx = req_fs(req);
	struct fuse_entry_param e;
	int ret;

	fs_lock(fsx);
	ret = newinode_make(fsx, req, fs_ino(parent), name, mode, rdev, target,
			    &e);
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev)
{
	if (!S_ISREG(mode) && !S_ISCHR(mode) && !S_ISBLK(mode) &&
	    !S_ISFIFO(mode) && !S_ISSOCK(mode)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	make_and_reply(req, parent, name, mode, rdev, NULL);
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_and_reply(req, parent, name, (mode & 07777) | S_IFDIR, 0, NULL);
}

void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
		const char *name)
{
	make_and_reply(req, parent, name, S_IFLNK | 0777, 0, target);
}

/*
 * Whether inode @ino without links is an O_TMPFILE never named, still
 * open, which link(2) may name (the kernel's I_LINKABLE); any other inode
 * without links is gone (-ENOENT).  fs_lock held.
 */
static bool tmpfile_linkable(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct fs_inode *fi = fs_inode_find(fsx, ino);
	bool ok = false;

	if (!fi)
		return false;
	pthread_mutex_lock(&fsx->itab_lock);
	ok = fi->tmpfile && fi->unlinked && fi->open_count;
	pthread_mutex_unlock(&fsx->itab_lock);
	fs_inode_put(fsx, fi);
	return ok;
}

/* @ino has a name now: an O_TMPFILE lives on after its last close. */
static void tmpfile_named(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct fs_inode *fi = fs_inode_find(fsx, ino);

	if (!fi)
		return;
	pthread_mutex_lock(&fsx->itab_lock);
	if (fi->tmpfile) {
		fi->tmpfile = false;
		fi->unlinked = false;
	}
	pthread_mutex_unlock(&fsx->itab_lock);
	fs_inode_put(fsx, fi);
}

void op_link(fuse_req_t req, fuse_ino_t nodeid, fuse_ino_t nparent,
	     const char *nname)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t ino = fs_ino(nodeid);
	struct ext2_inode_large inode;
	struct fuse_entry_param e;
	struct newinode ni;
	int ret;

	fs_lock(fsx);
	ret = newinode_prepare(fsx, &ni, fs_ino(nparent), nname, 0);
	if (!ret)
		ret = fs_load_inode(fsx, ino, &inode);
	if (ret)
		goto out_unlock;
	if (LINUX_S_ISDIR(inode.i_mode))
		ret = -EPERM;
	else if (iflags_may_link(&inode))
		ret = -EPERM;
	else if (inode.i_links_count == 0 && !tmpfile_linkable(fsx, ino))
		ret = -ENOENT;
	else if (inode.i_links_count >= EXT2_LINK_MAX)
		ret = -EMLINK;
	if (ret)
		goto out_unlock;
	ni.ino = ino;
	ret = newinode_finish(fsx, &ni, &e);
	if (!ret)
		tmpfile_named(fsx, ino);
out_unlock:
	fs_unlock(fsx);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

/*
 * The name of @ino is gone: drop the link it held, or, for an emptied
 * directory, all of them (its "." and the parent's entry) and its index.
 */
static int drop_name(struct iomapfs *fsx, ext2_ino_t ino, bool dir)
{
	if (!dir)
		return inode_touch(fsx, ino, -1);
	dix_forget(fsx, ino);
	return inode_touch(fsx, ino, INODE_LINKS_ALL);
}

/* unlink (@dir false) and rmdir (@dir true) of @name in @nodeid. */
static void remove_and_reply(fuse_req_t req, fuse_ino_t nodeid,
			     const char *name, bool dir)
{
	struct iomapfs *fsx = req_fs(req);
	ext2_ino_t parent = fs_ino(nodeid), child;
	struct ext2_inode_large inode, pinode;
	int ret;

	ret = inode_may_add_or_remove(fsx, name);
	if (!ret && dir && !strcmp(name, "."))
		ret = -EINVAL;
	else if (!ret && dir && !strcmp(name, ".."))
		ret = -ENOTEMPTY;
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	ret = dix_lookup(fsx, parent, name, &child);
	if (!ret)
		ret = fs_read_inode(fsx, child, &inode);
	if (!ret)
		ret = fs_read_inode(fsx, parent, &pinode);
	/* the kernel's may_delete() judges the flags before the type */
	if (!ret)
		ret = iflags_may_delete(&pinode, &inode);
	if (!ret && dir && !LINUX_S_ISDIR(inode.i_mode))
		ret = -ENOTDIR;
	if (ret)
		goto out_unlock;
	if (!dir && LINUX_S_ISDIR(inode.i_mode))
		ret = -EISDIR;
	else if (dir && child == EXT2_ROOT_INO)
		ret = -EBUSY;
	else if (dir)
		ret = dix_is_empty(fsx, child);
	if (!ret)
		ret = dix_unlink(fsx, parent, name, child);
	if (!ret)
		ret = inode_touch_dir(fsx, parent, dir ? -1 : 0);
	if (!ret)
		ret = drop_name(fsx, child, dir);
out_unlock:
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
}

void op_unlink(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	remove_and_reply(req, nodeid, name, false);
}

void op_rmdir(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	remove_and_reply(req, nodeid, name, true);
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

	ret = dix_set(fsx, odir, oname, dst, inode_ftype(dinode->i_mode));
	if (ret)
		return ret;
	ret = dix_set(fsx, ndir, nname, src, inode_ftype(sinode->i_mode));
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
	ret = inode_touch(fsx, src, 0);
	if (!ret)
		ret = inode_touch(fsx, dst, 0);
	if (ret)
		return ret;
	if (odir == ndir)
		return inode_touch_dir(fsx, odir, 0);
	ret = inode_touch_dir(fsx, odir, (int)ddir - (int)sdir);
	if (!ret)
		ret = inode_touch_dir(fsx, ndir, (int)sdir - (int)ddir);
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
	struct ext2_inode_large sinode, dinode, dirinode, odinode, ndinode;
	ext2_ino_t src, dst = 0, wh = 0;
	bool sdir, ddir = false;
	int ret;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) ||
	    ((flags & RENAME_EXCHANGE) &&
	     (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (fs_is_ro(fsx)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	ret = inode_name_check(oname);
	if (!ret)
		ret = inode_name_check(nname);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fs_lock(fsx);
	ret = inode_read_dir(fsx, odir, &odinode);
	if (!ret)
		ret = inode_read_dir(fsx, ndir, &ndinode);
	if (ret)
		goto out_unlock;
	ret = dix_lookup(fsx, odir, oname, &src);
	if (ret)
		goto out_unlock;
	ret = fs_read_inode(fsx, src, &sinode);
	if (ret)
		goto out_unlock;
	sdir = LINUX_S_ISDIR(sinode.i_mode);
	ret = dix_lookup(fsx, ndir, nname, &dst);
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

	/* Immutable and append-only, as the kernel's may_delete() and
	 * may_create() judge them for ext4. */
	ret = iflags_may_delete(&odinode, &sinode);
	if (!ret)
		ret = dst ? iflags_may_delete(&ndinode, &dinode)
			  : iflags_may_add(&ndinode);
	if (ret)
		goto out_unlock;

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
	if (dst && sdir && !ddir) {
		ret = -ENOTDIR;
		goto out_unlock;
	}
	if (dst && !sdir && ddir) {
		ret = -EISDIR;
		goto out_unlock;
	}
	/* The whiteout is complete before any entry changes: if it cannot
	 * be made, nothing happened. */
	if (flags & RENAME_WHITEOUT) {
		ret = newinode_whiteout(fsx, req, odir, &wh);
		if (ret)
			goto out_unlock;
	}
	if (dst) {
		if (ddir) {
			ret = dix_is_empty(fsx, dst);
			if (ret)
				goto out_unlock;
		}
		/* Replace in place: no new space needed, never ENOSPC. */
		ret = dix_set(fsx, ndir, nname, src,
			      inode_ftype(sinode.i_mode));
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
			       inode_ftype(sinode.i_mode));
	}
	if (ret)
		goto out_unlock;
	/*
	 * RENAME_WHITEOUT, as ext4: the old entry is not removed but given
	 * the whiteout, in place, under the same fs_lock as the rest, so no
	 * one sees the old name missing.
	 */
	if (wh)
		ret = dix_set(fsx, odir, oname, wh, EXT2_FT_CHRDEV);
	else
		ret = dix_unlink(fsx, odir, oname, src);
	if (ret)
		goto out_unlock;
	wh = 0; /* linked: it stays */
	if (sdir && odir != ndir) {
		ret = dotdot_set(fsx, src, ndir);
		if (ret)
			goto out_unlock;
	}
	ret = inode_touch(fsx, src, 0);
	if (ret)
		goto out_unlock;
	if (odir == ndir) {
		ret = inode_touch_dir(fsx, odir, ddir ? -1 : 0);
	} else {
		ret = inode_touch_dir(fsx, odir, sdir ? -1 : 0);
		if (!ret)
			ret = inode_touch_dir(fsx, ndir, (int)sdir - (int)ddir);
	}
	if (ret)
		goto out_unlock;
	if (dst)
		ret = drop_name(fsx, dst, ddir);
out_unlock:
	if (wh)
		newinode_unmake_whiteout(fsx, odir, wh);
	fs_unlock(fsx);
	fuse_reply_err(req, -ret);
}
