// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs_stat.c - an on-disk inode's timestamps and its stat: the seconds and
 * nanoseconds ext4 keeps in an inode (the extra word's epoch bits and
 * nanoseconds, present only when the inode is large enough), and the
 * struct stat and FUSE entry the operations reply with.  Pure functions
 * of the inode given (no libext2fs call), so callers hold whatever lock
 * protects their copy.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs.h"

/* The extra timestamp word: 2 epoch bits, then 30 bits of nanoseconds. */
#define FS_EPOCH_BITS 2
#define FS_EPOCH_MASK ((1u << FS_EPOCH_BITS) - 1)
#define FS_NSEC_MASK  (~0u << FS_EPOCH_BITS)

/* Whether @field lies inside the inode's used size (128 + i_extra_isize). */
#define FS_FITS(inode, field)                                                 \
	(offsetof(struct ext2_inode_large, field) + sizeof((inode)->field) <= \
	 (size_t)EXT2_GOOD_OLD_INODE_SIZE + (inode)->i_extra_isize)

static uint32_t fs_encode_extra(const struct timespec *ts)
{
	uint32_t extra;

	extra = (uint32_t)(((int64_t)ts->tv_sec - (int32_t)ts->tv_sec) >> 32) &
		FS_EPOCH_MASK;
	return extra | ((uint32_t)ts->tv_nsec << FS_EPOCH_BITS);
}

static void fs_decode_extra(struct timespec *ts, uint32_t extra)
{
	if (extra & FS_EPOCH_MASK)
		ts->tv_sec += (int64_t)(extra & FS_EPOCH_MASK) << 32;
	ts->tv_nsec = (extra & FS_NSEC_MASK) >> FS_EPOCH_BITS;
}

void fs_get_time(const struct ext2_inode_large *inode, enum fs_time which,
		 struct timespec *ts)
{
	uint32_t sec = 0, extra = 0;
	bool has_extra = false;

	switch (which) {
	case FS_ATIME:
		sec = inode->i_atime;
		has_extra = FS_FITS(inode, i_atime_extra);
		extra = has_extra ? inode->i_atime_extra : 0;
		break;
	case FS_MTIME:
		sec = inode->i_mtime;
		has_extra = FS_FITS(inode, i_mtime_extra);
		extra = has_extra ? inode->i_mtime_extra : 0;
		break;
	case FS_CTIME:
		sec = inode->i_ctime;
		has_extra = FS_FITS(inode, i_ctime_extra);
		extra = has_extra ? inode->i_ctime_extra : 0;
		break;
	case FS_CRTIME:
		sec = FS_FITS(inode, i_crtime) ? inode->i_crtime : 0;
		has_extra = FS_FITS(inode, i_crtime_extra);
		extra = has_extra ? inode->i_crtime_extra : 0;
		break;
	}
	ts->tv_sec = (int32_t)sec;
	ts->tv_nsec = 0;
	if (has_extra)
		fs_decode_extra(ts, extra);
}

void fs_set_time(struct ext2_inode_large *inode, enum fs_time which,
		 const struct timespec *ts)
{
	struct timespec t = *ts;
	bool has_extra;

	switch (which) {
	case FS_ATIME:
		has_extra = FS_FITS(inode, i_atime_extra);
		break;
	case FS_MTIME:
		has_extra = FS_FITS(inode, i_mtime_extra);
		break;
	case FS_CTIME:
		has_extra = FS_FITS(inode, i_ctime_extra);
		break;
	default:
		has_extra = FS_FITS(inode, i_crtime_extra);
		break;
	}
	/* Clamp to what the on-disk format can hold, as ext4 does. */
	if (t.tv_sec < INT32_MIN)
		t.tv_sec = INT32_MIN;
	if (has_extra && t.tv_sec > (int64_t)INT32_MAX + (3ll << 32))
		t.tv_sec = (int64_t)INT32_MAX + (3ll << 32);
	else if (!has_extra && t.tv_sec > INT32_MAX)
		t.tv_sec = INT32_MAX;

	switch (which) {
	case FS_ATIME:
		inode->i_atime = (uint32_t)t.tv_sec;
		if (has_extra)
			inode->i_atime_extra = fs_encode_extra(&t);
		break;
	case FS_MTIME:
		inode->i_mtime = (uint32_t)t.tv_sec;
		if (has_extra)
			inode->i_mtime_extra = fs_encode_extra(&t);
		break;
	case FS_CTIME:
		inode->i_ctime = (uint32_t)t.tv_sec;
		if (has_extra)
			inode->i_ctime_extra = fs_encode_extra(&t);
		break;
	case FS_CRTIME:
		if (FS_FITS(inode, i_crtime))
			inode->i_crtime = (uint32_t)t.tv_sec;
		if (has_extra)
			inode->i_crtime_extra = fs_encode_extra(&t);
		break;
	}
}

/* Device number of a device inode, in either of the two encodings. */
static dev_t fs_inode_rdev(const struct ext2_inode_large *inode)
{
	uint32_t old = inode->i_block[0], new = inode->i_block[1];

	if (old)
		return makedev((old >> 8) & 0xff, old & 0xff);
	return makedev((new & 0xfff00) >> 8,
		       (new & 0xff) | ((new >> 12) & 0xfff00));
}

void fs_fill_stat(struct iomapfs *fsx, ext2_ino_t ino,
		  const struct ext2_inode_large *inode, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_dev = 0;
	st->st_mode = inode->i_mode;
	st->st_nlink = inode->i_links_count;
	/* dir_nlink: a directory with too many subdirectories says 1 */
	st->st_uid = fs_inode_uid(inode);
	st->st_gid = fs_inode_gid(inode);
	st->st_size = EXT2_I_SIZE(inode);
	st->st_blksize = fsx->blocksize;
	st->st_blocks = ext2fs_get_stat_i_blocks(
		fsx->fs, EXT2_INODE((struct ext2_inode_large *)inode));
	if (LINUX_S_ISCHR(inode->i_mode) || LINUX_S_ISBLK(inode->i_mode))
		st->st_rdev = fs_inode_rdev(inode);
	fs_get_time(inode, FS_ATIME, &st->st_atim);
	fs_get_time(inode, FS_MTIME, &st->st_mtim);
	fs_get_time(inode, FS_CTIME, &st->st_ctim);
}

int fs_fill_entry(struct iomapfs *fsx, ext2_ino_t ino,
		  const struct ext2_inode_large *inode,
		  struct fuse_entry_param *e)
{
	struct fs_inode *fi;

	memset(e, 0, sizeof(*e));
	fi = fs_inode_get(fsx, ino);
	if (!fi)
		return -ENOMEM;
	pthread_mutex_lock(&fsx->itab_lock);
	fi->nlookup++;
	pthread_mutex_unlock(&fsx->itab_lock);
	fs_inode_put(fsx, fi);

	e->ino = fs_nodeid(ino);
	e->generation = inode->i_generation;
	e->attr_timeout = FS_ATTR_TIMEOUT;
	e->entry_timeout = FS_ATTR_TIMEOUT;
	fs_fill_stat(fsx, ino, inode, &e->attr);
	return 0;
}
