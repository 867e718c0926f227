// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs_stat.c - an on-disk inode's timestamps, owners and stat: the seconds
 * and nanoseconds ext4 keeps in an inode (the extra word's epoch bits and
 * nanoseconds, present only when the inode is large enough), its 32-bit
 * owners (16 bits with -o nouid32), and the struct stat and FUSE entry the
 * operations reply with.  Pure functions of the inode given (no libext2fs
 * call), so callers hold whatever lock protects their copy.
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

/*
 * Where each timestamp lives in the on-disk inode: its seconds and its extra
 * word.  A word lies outside a small inode when it does not end inside the
 * used size (128 + i_extra_isize); the seconds of all but i_crtime always fit.
 */
static const struct fs_time_at {
	size_t sec, extra;
} fs_time_at[] = {
#define FS_AT(field) offsetof(struct ext2_inode_large, field)
	[FS_ATIME] = {FS_AT(i_atime), FS_AT(i_atime_extra)},
	[FS_MTIME] = {FS_AT(i_mtime), FS_AT(i_mtime_extra)},
	[FS_CTIME] = {FS_AT(i_ctime), FS_AT(i_ctime_extra)},
	[FS_CRTIME] = {FS_AT(i_crtime), FS_AT(i_crtime_extra)},
#undef FS_AT
};

/* The 32-bit word at @off in @inode, or NULL when the inode ends before it. */
static uint32_t *fs_time_word(const struct ext2_inode_large *inode, size_t off)
{
	if (off + sizeof(uint32_t) >
	    (size_t)EXT2_GOOD_OLD_INODE_SIZE + inode->i_extra_isize)
		return NULL;
	return (uint32_t *)((uintptr_t)inode + off);
}

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
	const uint32_t *sec = fs_time_word(inode, fs_time_at[which].sec);
	const uint32_t *extra = fs_time_word(inode, fs_time_at[which].extra);

	ts->tv_sec = sec ? (int32_t)*sec : 0;
	ts->tv_nsec = 0;
	if (extra)
		fs_decode_extra(ts, *extra);
}

void fs_set_time(struct ext2_inode_large *inode, enum fs_time which,
		 const struct timespec *ts)
{
	uint32_t *sec = fs_time_word(inode, fs_time_at[which].sec);
	uint32_t *extra = fs_time_word(inode, fs_time_at[which].extra);
	struct timespec t = *ts;
	bool has_extra = extra != NULL;

	/* Clamp to what the on-disk format can hold, as ext4 does. */
	if (t.tv_sec < INT32_MIN)
		t.tv_sec = INT32_MIN;
	if (has_extra && t.tv_sec > (int64_t)INT32_MAX + (3ll << 32))
		t.tv_sec = (int64_t)INT32_MAX + (3ll << 32);
	else if (!has_extra && t.tv_sec > INT32_MAX)
		t.tv_sec = INT32_MAX;

	if (sec)
		*sec = (uint32_t)t.tv_sec;
	if (extra)
		*extra = fs_encode_extra(&t);
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

/* --- owners ---------------------------------------------------------- */

/*
 * -o nouid32: owners are the low 16 bits on disk, as ext4 reads and writes
 * them with that option; an owner past 65535 is stored as the overflow
 * id.  The daemon serves one mount: set by fs_open() before the session,
 * read-only after.
 */
static bool fs_uid16;
#define FS_OVERFLOW_ID 65534u

void fs_set_uid16(bool on)
{
	fs_uid16 = on;
}

uid_t fs_inode_uid(const struct ext2_inode_large *inode)
{
	if (fs_uid16)
		return inode->i_uid;
	return inode->i_uid | ((uid_t)inode->osd2.linux2.l_i_uid_high << 16);
}

gid_t fs_inode_gid(const struct ext2_inode_large *inode)
{
	if (fs_uid16)
		return inode->i_gid;
	return inode->i_gid | ((gid_t)inode->osd2.linux2.l_i_gid_high << 16);
}

void fs_inode_set_uid(struct ext2_inode_large *inode, uid_t uid)
{
	if (fs_uid16 && uid > 0xffff)
		uid = FS_OVERFLOW_ID;
	inode->i_uid = uid & 0xffff;
	inode->osd2.linux2.l_i_uid_high = fs_uid16 ? 0 : uid >> 16;
}

void fs_inode_set_gid(struct ext2_inode_large *inode, gid_t gid)
{
	if (fs_uid16 && gid > 0xffff)
		gid = FS_OVERFLOW_ID;
	inode->i_gid = gid & 0xffff;
	inode->osd2.linux2.l_i_gid_high = fs_uid16 ? 0 : gid >> 16;
}
