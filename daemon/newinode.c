// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * newinode.c - the one path by which a name is added to a directory, and
 * by which every new inode is made (mknod, create, mkdir, symlink), in the
 * manner of libfuse's passthrough_ll, where one routine serves mknod, mkdir
 * and symlink: check the name and the parent, work out mode, owner and
 * inherited ACLs, make the inode by its kind (with the flags and project
 * id it inherits, iflags.c), then link it and finish.
 *
 * Order: the inode is complete on disk (owner, mode, times, generation,
 * accounted in the bitmaps) before any entry points to it, and it is freed
 * again if the entry cannot be added, so no failure leaves a half-made
 * inode linked nor a made one unlinked.  Everything runs under fs_lock.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "dirindex.h"
#include "iflags.h"
#include "inode.h"
#include "inode_free.h"
#include "newinode.h"

/*
 * Owner and mode of a new inode in @parent, as the kernel's
 * inode_init_owner(): the caller's uid and gid (root's with fakeroot); in
 * a set-group-ID directory the directory's group, which a new directory
 * inherits with S_ISGID, while a file loses S_ISGID when its group is not
 * the caller's.  With -o grpid, as ext4's __ext4_new_inode(): always the
 * directory's group, and the mode as asked.
 */
static void new_owner(struct iomapfs *fsx, fuse_req_t req,
		      const struct ext2_inode_large *parent, mode_t *mode,
		      uid_t *uid, gid_t *gid)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	*uid = fsx->opts.fakeroot ? 0 : ctx->uid;
	*gid = fsx->opts.fakeroot ? 0 : ctx->gid;
	if (fsx->opts.grpid) {
		*gid = fs_inode_gid(parent);
		return;
	}
	if (!(parent->i_mode & S_ISGID))
		return;
	*gid = fs_inode_gid(parent);
	if (S_ISDIR(*mode))
		*mode |= S_ISGID;
	else if ((*mode & S_ISGID) && !fsx->opts.fakeroot && ctx->uid != 0 &&
		 ctx->gid != *gid)
		*mode &= ~S_ISGID;
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

/*
 * What every new inode gets, whoever allocated it: @mode, the owner, all
 * four times now, and a new generation.  A number that is reused must
 * differ from the old inode in generation, or the kernel takes the new
 * inode for the old one it may still hold (and file handles of the old
 * one would open the new).
 */
static void set_up(struct iomapfs *fsx, struct ext2_inode_large *inode,
		   mode_t mode, uid_t uid, gid_t gid)
{
	struct timespec now;

	inode->i_mode = mode;
	fs_inode_set_uid(inode, uid);
	fs_inode_set_gid(inode, gid);
	fs_now(fsx, &now);
	fs_set_time(inode, FS_ATIME, &now);
	fs_set_time(inode, FS_MTIME, &now);
	fs_set_time(inode, FS_CTIME, &now);
	fs_set_time(inode, FS_CRTIME, &now);
	inode->i_generation = fs_next_generation(fsx);
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

/* A regular file, device, FIFO or socket: written here, field by field. */
static int make_node(struct iomapfs *fsx, struct newinode *ni, mode_t mode,
		     dev_t rdev, uid_t uid, gid_t gid)
{
	struct ext2_inode_large inode;
	ext2_ino_t child;
	errcode_t err;
	int ret;

	err = ext2fs_new_inode(fsx->fs, ni->parent, mode, NULL, &child);
	if (err)
		return translate_error(fsx, err, ni->parent);
	memset(&inode, 0, sizeof(inode));
	inode.i_links_count = 1;
	inode.i_extra_isize = new_extra_isize(fsx);
	set_up(fsx, &inode, mode, uid, gid);
	iflags_inherit(fsx->fs, &ni->pinode, &inode);
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		unsigned int ma = major(rdev), mi = minor(rdev);

		if (ma < 256 && mi < 256)
			inode.i_block[0] = (ma << 8) | mi;
		else
			inode.i_block[1] =
				(mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
	}
	err = ext2fs_write_new_inode(fsx->fs, child, EXT2_INODE(&inode));
	if (err)
		return translate_error(fsx, err, child);
	if (S_ISREG(mode) && ext2fs_has_feature_extents(fsx->fs->super)) {
		ext2_extent_handle_t handle;

		/* opening the extent tree of an empty inode writes its header */
		err = ext2fs_extent_open2(fsx->fs, child, EXT2_INODE(&inode),
					  &handle);
		if (err)
			return translate_error(fsx, err, child);
		ext2fs_extent_free(handle);
	}
	ret = fs_write_inode(fsx, child, &inode);
	if (ret)
		return ret;
	ext2fs_inode_alloc_stats2(fsx->fs, child, +1, 0);
	ni->ino = child;
	ni->made = true;
	return 0;
}

/*
 * A directory or a symlink: libext2fs makes it (its first block or inline
 * data, "." and "..", or the target), then it gets what every new inode
 * gets.  ext2fs_mkdir() also counts the new ".." in the parent.
 */
static int make_dir_or_symlink(struct iomapfs *fsx, struct newinode *ni,
			       mode_t mode, const char *target, uid_t uid,
			       gid_t gid)
{
	struct ext2_inode_large inode;
	ext2_ino_t child;
	errcode_t err;
	int ret;

	err = ext2fs_new_inode(fsx->fs, ni->parent, mode & LINUX_S_IFMT, NULL,
			       &child);
	if (!err && S_ISDIR(mode))
		err = ext2fs_mkdir(fsx->fs, ni->parent, child, NULL);
	else if (!err)
		err = ext2fs_symlink(fsx->fs, ni->parent, child, NULL, target);
	if (err)
		return translate_error(fsx, err, ni->parent);
	ni->ino = child;
	ni->made = true;
	ni->made_dir = S_ISDIR(mode);
	ret = fs_read_inode(fsx, child, &inode);
	if (ret)
		return ret;
	set_up(fsx, &inode, S_ISDIR(mode) ? mode : inode.i_mode, uid, gid);
	iflags_inherit(fsx->fs, &ni->pinode, &inode);
	ret = fs_write_inode(fsx, child, &inode);
	if (!ret && S_ISDIR(mode))
		ret = reseal_dir_block(fsx, child, &inode);
	return ret;
}

/*
 * The parent after its entry was added (@linked), or after adding it
 * failed: mtime and ctime, and one more subdirectory for a directory.
 * ext2fs_mkdir() counted that one naively already; the count is made
 * again from the one prepare read, with dir_nlink's rule.
 */
static int parent_update(struct iomapfs *fsx, struct newinode *ni, bool linked)
{
	struct ext2_inode_large inode;
	struct timespec now;
	int ret;

	if (!ni->made_dir)
		return linked ? inode_touch_dir(fsx, ni->parent, 0) : 0;
	ret = fs_read_inode(fsx, ni->parent, &inode);
	if (ret)
		return ret;
	inode.i_links_count = ni->pinode.i_links_count;
	if (linked) {
		inode_dir_nlink(&inode, +1);
		fs_now(fsx, &now);
		fs_set_time(&inode, FS_MTIME, &now);
		fs_set_time(&inode, FS_CTIME, &now);
	}
	return fs_write_inode(fsx, ni->parent, &inode);
}

/*
 * Free a new inode that could not be linked, with what it holds.  Best
 * effort: the error that made us undo it is the one reported.
 */
static void unmake(struct iomapfs *fsx, struct newinode *ni)
{
	struct ext2_inode_large inode;

	if (!ni->made)
		return;
	parent_update(fsx, ni, false);
	if (fs_read_inode(fsx, ni->ino, &inode))
		return;
	inode.i_links_count = 0;
	if (fs_write_inode(fsx, ni->ino, &inode))
		return;
	inode_free(fsx, ni->ino);
}

/* A new inode number is in use again: forget what we knew of the old. */
static void forget_old(struct iomapfs *fsx, ext2_ino_t ino)
{
	struct fs_inode *fi = fs_inode_find(fsx, ino);

	if (!fi)
		return;
	fi->size = 0;
	fi->size_valid = false;
	fs_inode_forget_attrs(fi);
	fs_inode_put(fsx, fi);
}

int newinode_prepare(struct iomapfs *fsx, struct newinode *ni,
		     ext2_ino_t parent, const char *name, mode_t mode)
{
	ext2_ino_t old;
	int ret;

	memset(ni, 0, sizeof(*ni));
	ni->parent = parent;
	ni->name = name;
	ret = inode_may_add_or_remove(fsx, name);
	if (ret)
		return ret;
	ret = inode_read_dir(fsx, parent, &ni->pinode);
	if (!ret)
		ret = iflags_may_add(&ni->pinode);
	if (ret)
		return ret;
	if (S_ISDIR(mode) && ni->pinode.i_links_count >= EXT2_LINK_MAX &&
	    !ext2fs_has_feature_dir_nlink(fsx->fs->super))
		return -EMLINK;
	ret = dix_lookup(fsx, parent, name, &old);
	if (ret == 0)
		return -EEXIST;
	return ret == -ENOENT ? 0 : ret;
}

int newinode_finish(struct iomapfs *fsx, struct newinode *ni,
		    struct fuse_entry_param *e)
{
	struct ext2_inode_large inode;
	int ret;

	if (ni->made)
		forget_old(fsx, ni->ino);
	ret = fs_read_inode(fsx, ni->ino, &inode);
	if (!ret)
		ret = dix_link(fsx, ni->parent, ni->name, ni->ino,
			       inode_ftype(inode.i_mode));
	if (ret) {
		unmake(fsx, ni);
		return ret;
	}
	if (!ni->made)
		ret = inode_touch(fsx, ni->ino, +1);
	if (!ret)
		ret = parent_update(fsx, ni, true);
	if (!ret)
		ret = acl_inherit_apply(fsx, ni->ino, &ni->ai);
	if (!ret)
		ret = fs_peek_inode(fsx, ni->ino, &inode);
	if (!ret)
		ret = fs_fill_entry(fsx, ni->ino, &inode, e);
	return ret;
}

int newinode_whiteout(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t dir,
		      ext2_ino_t *ino)
{
	mode_t mode = S_IFCHR | NEWINODE_WHITEOUT_MODE;
	struct newinode ni;
	uid_t uid;
	gid_t gid;
	int ret;

	memset(&ni, 0, sizeof(ni));
	ni.parent = dir;
	ret = inode_read_dir(fsx, dir, &ni.pinode);
	if (ret)
		return ret;
	new_owner(fsx, req, &ni.pinode, &mode, &uid, &gid);
	ret = make_node(fsx, &ni, mode, 0, uid, gid);
	if (ret) {
		unmake(fsx, &ni);
		return ret;
	}
	forget_old(fsx, ni.ino);
	*ino = ni.ino;
	return 0;
}

int newinode_tmpfile(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t dir,
		     mode_t mode, struct fuse_entry_param *e)
{
	struct ext2_inode_large inode;
	struct newinode ni;
	uid_t uid;
	gid_t gid;
	int ret;

	if (fs_is_ro(fsx))
		return -EROFS;
	memset(&ni, 0, sizeof(ni));
	ni.parent = dir;
	ret = inode_read_dir(fsx, dir, &ni.pinode);
	if (!ret)
		ret = iflags_may_add(&ni.pinode);
	if (!ret)
		ret = acl_inherit_prepare(fsx, dir, false, req_umask(fsx, req),
					  &mode, &ni.ai);
	if (ret)
		return ret;
	new_owner(fsx, req, &ni.pinode, &mode, &uid, &gid);
	ret = make_node(fsx, &ni, mode, 0, uid, gid);
	if (!ret) {
		forget_old(fsx, ni.ino);
		ret = acl_inherit_apply(fsx, ni.ino, &ni.ai);
	}
	/* as ext4's O_TMPFILE: no name, no link, until linkat gives one */
	if (!ret)
		ret = fs_read_inode(fsx, ni.ino, &inode);
	if (!ret) {
		inode.i_links_count = 0;
		ret = fs_write_inode(fsx, ni.ino, &inode);
	}
	if (!ret)
		ret = fs_fill_entry(fsx, ni.ino, &inode, e);
	if (ret)
		unmake(fsx, &ni);
	acl_inherit_free(&ni.ai);
	return ret;
}

void newinode_unmake_whiteout(struct iomapfs *fsx, ext2_ino_t dir,
			      ext2_ino_t ino)
{
	struct newinode ni;

	memset(&ni, 0, sizeof(ni));
	ni.parent = dir;
	ni.ino = ino;
	ni.made = true;
	unmake(fsx, &ni);
}

int newinode_make(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t parent,
		  const char *name, mode_t mode, dev_t rdev, const char *target,
		  struct fuse_entry_param *e)
{
	struct newinode ni;
	uid_t uid;
	gid_t gid;
	int ret;

	ret = newinode_prepare(fsx, &ni, parent, name, mode);
	if (ret)
		return ret;
	if (S_ISLNK(mode) && strlen(target) >= fsx->blocksize)
		return -ENAMETOOLONG;
	/* symlinks have neither ACLs nor a umask: always 0777 */
	if (!S_ISLNK(mode)) {
		ret = acl_inherit_prepare(fsx, parent, S_ISDIR(mode),
					  req_umask(fsx, req), &mode, &ni.ai);
		if (ret)
			return ret;
	}
	new_owner(fsx, req, &ni.pinode, &mode, &uid, &gid);
	if (S_ISDIR(mode) || S_ISLNK(mode))
		ret = make_dir_or_symlink(fsx, &ni, mode, target, uid, gid);
	else
		ret = make_node(fsx, &ni, mode, rdev, uid, gid);
	if (ret)
		unmake(fsx, &ni);
	else
		ret = newinode_finish(fsx, &ni, e);
	acl_inherit_free(&ni.ai);
	return ret;
}
