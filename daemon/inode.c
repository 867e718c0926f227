// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inode.c - the inode-level rules the name, attribute and xattr operations
 * share: names ext2 can hold, entry types, live parent directories, and the
 * times and link counts a change leaves behind, as Linux ext4 sets them.
 * Everything here runs under fs_lock.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "inode.h"
#include "inode_free.h"

int inode_name_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -ENOENT;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	return 0;
}

int inode_may_add_or_remove(struct iomapfs *fsx, const char *name)
{
	return fs_is_ro(fsx) ? -EROFS : inode_name_check(name);
}

/* File types: mode bits and directory entry types, both ways. */
static const struct {
	mode_t mode;
	uint8_t ftype;
} inode_ftypes[] = {
	{LINUX_S_IFREG, EXT2_FT_REG_FILE}, {LINUX_S_IFDIR, EXT2_FT_DIR},
	{LINUX_S_IFCHR, EXT2_FT_CHRDEV},   {LINUX_S_IFBLK, EXT2_FT_BLKDEV},
	{LINUX_S_IFLNK, EXT2_FT_SYMLINK},  {LINUX_S_IFIFO, EXT2_FT_FIFO},
	{LINUX_S_IFSOCK, EXT2_FT_SOCK},
};

int inode_ftype(mode_t mode)
{
	size_t i;

	for (i = 0; i < sizeof(inode_ftypes) / sizeof(inode_ftypes[0]); i++)
		if (inode_ftypes[i].mode == (mode & LINUX_S_IFMT))
			return inode_ftypes[i].ftype;
	return EXT2_FT_UNKNOWN;
}

mode_t inode_ftype_mode(int ftype)
{
	size_t i;

	for (i = 0; i < sizeof(inode_ftypes) / sizeof(inode_ftypes[0]); i++)
		if (inode_ftypes[i].ftype == ftype)
			return inode_ftypes[i].mode;
	return 0;
}

int inode_read_as(struct iomapfs *fsx, ext2_ino_t ino, mode_t type,
		  struct ext2_inode_large *inode)
{
	int ret = fs_read_inode(fsx, ino, inode);

	if (ret || (inode->i_mode & LINUX_S_IFMT) == type)
		return ret;
	if (type == LINUX_S_IFDIR)
		return -ENOTDIR;
	if (type == LINUX_S_IFREG && LINUX_S_ISDIR(inode->i_mode))
		return -EISDIR;
	return -EINVAL;
}

int inode_read_dir(struct iomapfs *fsx, ext2_ino_t dir,
		   struct ext2_inode_large *inode)
{
	int ret = inode_read_as(fsx, dir, LINUX_S_IFDIR, inode);

	if (!ret && inode->i_links_count == 0)
		return -ENOENT; /* removed while the kernel held it */
	return ret;
}

void inode_dir_nlink(struct ext2_inode_large *dir, int delta)
{
	if (delta > 0) {
		/* dir_nlink: past the limit a directory counts 1 link */
		if (dir->i_links_count >= EXT2_LINK_MAX - 1 ||
		    dir->i_links_count == 1)
			dir->i_links_count = 1;
		else
			dir->i_links_count++;
	} else if (delta < 0) {
		if (dir->i_links_count > 2)
			dir->i_links_count--;
	}
}

/*
 * ctime now, and mtime too when a directory's @contents changed; the link
 * count follows @link_delta, by dir_nlink's rule for @contents.
 */
static int touch(struct iomapfs *fsx, ext2_ino_t ino, bool contents,
		 int link_delta)
{
	struct ext2_inode_large inode;
	struct timespec now;
	int links, ret;

	/*
	 * fs_load_inode() keeps the times a lock-free overwrite left pending,
	 * and reads what a libext2fs xattr handle may have written itself.
	 */
	ret = fs_load_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	fs_now(fsx, &now);
	if (contents)
		fs_set_time(&inode, FS_MTIME, &now);
	fs_set_time(&inode, FS_CTIME, &now);
	if (contents) {
		inode_dir_nlink(&inode, link_delta);
	} else if (link_delta) {
		links = (int)inode.i_links_count + link_delta;
		inode.i_links_count = (uint16_t)(links > 0 ? links : 0);
		if (link_delta < 0 && inode.i_links_count == 0)
			return inode_drop(fsx, ino, &inode);
	}
	return fs_write_inode(fsx, ino, &inode);
}

int inode_touch_dir(struct iomapfs *fsx, ext2_ino_t dir, int link_delta)
{
	return touch(fsx, dir, true, link_delta);
}

int inode_touch(struct iomapfs *fsx, ext2_ino_t ino, int link_delta)
{
	return touch(fsx, ino, false, link_delta);
}
