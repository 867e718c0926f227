// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iflags.c - the inode flags of chattr(1) as ext4 keeps and enforces them:
 * the sets ext4 shows and changes, the conversion to and from the xflags
 * of FS_IOC_FSGETXATTR, the SETFLAGS rules, and the immutable and
 * append-only checks that the name, attribute, open, xattr and data
 * operations call where the kernel makes them for ext4.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <endian.h>
#include <stddef.h>
#include <string.h>

#include <ext2fs/ext3_extents.h>

#include "iflags.h"

#define IFLAGS_FROZEN (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL)

uint32_t iflags_visible(const struct ext2_inode_large *inode)
{
	uint32_t flags = inode->i_flags & IFLAGS_USER_VISIBLE;

	/* as ext4_fileattr_get(): a file shows no project inheritance */
	if (LINUX_S_ISREG(inode->i_mode))
		flags &= ~EXT4_PROJINHERIT_FL;
	return flags;
}

/* The flags an inode of @mode may carry, of @flags (ext4_mask_flags()). */
static uint32_t iflags_mask(mode_t mode, uint32_t flags)
{
	if (LINUX_S_ISDIR(mode))
		return flags;
	if (LINUX_S_ISREG(mode))
		return flags & IFLAGS_REG_MASK;
	return flags & IFLAGS_OTHER_MASK;
}

/* Whether @inode has room for its project id. */
static bool iflags_fits_projid(const struct ext2_inode_large *inode)
{
	return offsetof(struct ext2_inode_large, i_projid) +
		       sizeof(inode->i_projid) <=
	       (size_t)EXT2_GOOD_OLD_INODE_SIZE + inode->i_extra_isize;
}

bool iflags_has_projid(ext2_filsys fs, const struct ext2_inode_large *inode)
{
	return ext2fs_has_feature_project(fs->super) &&
	       iflags_fits_projid(inode);
}

void iflags_inherit(ext2_filsys fs, const struct ext2_inode_large *dir,
		    struct ext2_inode_large *inode)
{
	inode->i_flags |=
		iflags_mask(inode->i_mode, dir->i_flags & IFLAGS_INHERITED);
	if ((dir->i_flags & EXT4_PROJINHERIT_FL) &&
	    iflags_has_projid(fs, dir) && iflags_has_projid(fs, inode))
		inode->i_projid = dir->i_projid;
}

/* i_flags and FS_XFLAG_* bits that mean the same (ext4's table). */
static const struct {
	uint32_t flag, xflag;
} iflags_xmap[] = {
	{EXT2_SYNC_FL, FS_XFLAG_SYNC},
	{EXT2_IMMUTABLE_FL, FS_XFLAG_IMMUTABLE},
	{EXT2_APPEND_FL, FS_XFLAG_APPEND},
	{EXT2_NODUMP_FL, FS_XFLAG_NODUMP},
	{EXT2_NOATIME_FL, FS_XFLAG_NOATIME},
	{EXT4_PROJINHERIT_FL, FS_XFLAG_PROJINHERIT},
	{IFLAGS_DAX_FL, FS_XFLAG_DAX},
};

/* @bits translated through iflags_xmap, from xflags when @from_x */
static uint32_t iflags_xlate(uint32_t bits, bool from_x)
{
	uint32_t out = 0, from, to;
	size_t i;

	for (i = 0; i < sizeof(iflags_xmap) / sizeof(iflags_xmap[0]); i++) {
		from = from_x ? iflags_xmap[i].xflag : iflags_xmap[i].flag;
		to = from_x ? iflags_xmap[i].flag : iflags_xmap[i].xflag;
		if (bits & from)
			out |= to;
	}
	return out;
}

uint32_t iflags_to_xflags(uint32_t flags)
{
	return iflags_xlate(flags, false);
}

uint32_t iflags_from_xflags(uint32_t xflags)
{
	return iflags_xlate(xflags, true);
}

int iflags_may_setattr(const struct ext2_inode_large *inode, int to_set)
{
	const int fixed = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
			  FUSE_SET_ATTR_GID | FUSE_SET_ATTR_SIZE;
	int explicit_times = 0;

	if (inode->i_flags & EXT2_IMMUTABLE_FL)
		return to_set ? -EPERM : 0;
	if (!(inode->i_flags & EXT2_APPEND_FL))
		return 0;
	/* a time without its _NOW bit is a given value (ATTR_TIMES_SET) */
	if ((to_set & FUSE_SET_ATTR_ATIME) &&
	    !(to_set & FUSE_SET_ATTR_ATIME_NOW))
		explicit_times = 1;
	if ((to_set & FUSE_SET_ATTR_MTIME) &&
	    !(to_set & FUSE_SET_ATTR_MTIME_NOW))
		explicit_times = 1;
	return (to_set & fixed) || explicit_times ? -EPERM : 0;
}

int iflags_may_change_xattr(const struct ext2_inode_large *inode)
{
	return inode->i_flags & IFLAGS_FROZEN ? -EPERM : 0;
}

int iflags_may_open(const struct ext2_inode_large *inode, int flags)
{
	bool writing = (flags & O_ACCMODE) != O_RDONLY;

	if (inode->i_flags & EXT2_IMMUTABLE_FL)
		return writing || (flags & O_TRUNC) ? -EPERM : 0;
	if (inode->i_flags & EXT2_APPEND_FL) {
		if (writing && !(flags & O_APPEND))
			return -EPERM;
		if (flags & O_TRUNC)
			return -EPERM;
	}
	return 0;
}

int iflags_may_add(const struct ext2_inode_large *dir)
{
	return dir->i_flags & EXT2_IMMUTABLE_FL ? -EPERM : 0;
}

int iflags_may_delete(const struct ext2_inode_large *dir,
		      const struct ext2_inode_large *victim)
{
	if (dir && (dir->i_flags & IFLAGS_FROZEN))
		return -EPERM;
	return victim->i_flags & IFLAGS_FROZEN ? -EPERM : 0;
}

int iflags_may_link(const struct ext2_inode_large *inode)
{
	return inode->i_flags & IFLAGS_FROZEN ? -EPERM : 0;
}

int iflags_may_fallocate(const struct ext2_inode_large *inode, int mode)
{
	if (inode->i_flags & EXT2_IMMUTABLE_FL)
		return -EPERM;
	if ((inode->i_flags & EXT2_APPEND_FL) && (mode & ~FALLOC_FL_KEEP_SIZE))
		return -EPERM;
	return 0;
}

int iflags_may_write(struct fs_inode *fi, uint64_t off, uint64_t size)
{
	uint32_t flags;
	bool known;

	pthread_mutex_lock(&fi->meta_lock);
	known = fi->attrs_known;
	flags = fi->iflags;
	pthread_mutex_unlock(&fi->meta_lock);
	/* Unknown only without an open handle, which writes always have. */
	if (!known)
		return 0;
	if (flags & EXT2_IMMUTABLE_FL)
		return -EPERM;
	if ((flags & EXT2_APPEND_FL) && off != size)
		return -EPERM;
	return 0;
}

/* Flags that do not go with DAX (ext4's EXT4_DAX_MUT_EXCL). */
#define IFLAGS_DAX_EXCL                                            \
	(EXT4_VERITY_FL | EXT4_ENCRYPT_FL | EXT3_JOURNAL_DATA_FL | \
	 EXT4_INLINE_DATA_FL)

/*
 * chattr -e, as ext4_ind_migrate(): an extent-mapped inode of at most one
 * written extent inside the twelve direct blocks (or of none) gets a block
 * map of the same blocks; anything else is -EOPNOTSUPP, as in ext4.  The
 * file's mapping is the same before and after: the cache stays valid.
 */
static int iflags_to_blockmap(ext2_filsys fs, struct ext2_inode_large *inode)
{
	uint32_t blocks[EXT2_N_BLOCKS] = {0};
	struct ext3_extent_header eh;
	struct ext3_extent ex;
	uint64_t start;
	uint32_t lblk, len, i;

	memcpy(&eh, inode->i_block, sizeof(eh));
	if (le16toh(eh.eh_magic) != EXT3_EXT_MAGIC || eh.eh_depth != 0 ||
	    le16toh(eh.eh_entries) > 1 ||
	    ext2fs_blocks_count(fs->super) > UINT32_MAX)
		return -EOPNOTSUPP;
	if (le16toh(eh.eh_entries) == 1) {
		memcpy(&ex, (const char *)inode->i_block + sizeof(eh),
		       sizeof(ex));
		len = le16toh(ex.ee_len);
		lblk = le32toh(ex.ee_block);
		start = ((uint64_t)le16toh(ex.ee_start_hi) << 32) |
			le32toh(ex.ee_start);
		/* an unwritten extent would read as data in a block map */
		if (len > EXT_INIT_MAX_LEN || lblk >= EXT2_NDIR_BLOCKS ||
		    len > EXT2_NDIR_BLOCKS - lblk || start + len > UINT32_MAX)
			return -EOPNOTSUPP;
		for (i = 0; i < len; i++)
			blocks[lblk + i] = htole32((uint32_t)(start + i));
	}
	memcpy(inode->i_block, blocks, sizeof(blocks));
	inode->i_flags &= ~EXT4_EXTENTS_FL;
	return 0;
}

/*
 * chattr +e: a block map that uses only the twelve direct blocks (no
 * indirect block) becomes an extent tree in the inode, one extent per run
 * of contiguous blocks, at most four of them.  ext4 (ext4_ext_migrate())
 * also converts bigger files, building a tree in new blocks, which iomapfs
 * does not: -EOPNOTSUPP.  Without the extents feature, -EINVAL as ext4.
 * The mapping stays the same, so the cache stays valid.
 */
static int iflags_to_extents(ext2_filsys fs, struct ext2_inode_large *inode)
{
	struct ext3_extent_header eh = {0};
	struct ext3_extent ex[4], *cur = NULL;
	uint32_t lblk, pblk;
	size_t n = 0;

	if (!ext2fs_has_feature_extents(fs->super))
		return -EINVAL;
	if (inode->i_block[EXT2_IND_BLOCK] || inode->i_block[EXT2_DIND_BLOCK] ||
	    inode->i_block[EXT2_TIND_BLOCK] ||
	    (inode->i_flags & EXT4_INLINE_DATA_FL))
		return -EOPNOTSUPP;
	memset(ex, 0, sizeof(ex));
	for (lblk = 0; lblk < EXT2_NDIR_BLOCKS; lblk++) {
		pblk = le32toh(inode->i_block[lblk]);
		if (!pblk) {
			cur = NULL;
			continue;
		}
		if (cur &&
		    le32toh(cur->ee_block) + le16toh(cur->ee_len) == lblk &&
		    le32toh(cur->ee_start) + le16toh(cur->ee_len) == pblk) {
			cur->ee_len = htole16(le16toh(cur->ee_len) + 1);
			continue;
		}
		if (n == sizeof(ex) / sizeof(ex[0]))
			return -EOPNOTSUPP;
		cur = &ex[n++];
		cur->ee_block = htole32(lblk);
		cur->ee_len = htole16(1);
		cur->ee_start = htole32(pblk);
	}
	eh.eh_magic = htole16(EXT3_EXT_MAGIC);
	eh.eh_entries = htole16((uint16_t)n);
	eh.eh_max = htole16(sizeof(ex) / sizeof(ex[0]));
	memset(inode->i_block, 0, sizeof(inode->i_block));
	memcpy(inode->i_block, &eh, sizeof(eh));
	memcpy((char *)inode->i_block + sizeof(eh), ex, sizeof(ex));
	inode->i_flags |= EXT4_EXTENTS_FL;
	return 0;
}

int iflags_apply(ext2_filsys fs, struct ext2_inode_large *inode, uint32_t want,
		 bool cap_immutable, bool cap_resource)
{
	struct ext2_inode_large new = *inode;
	uint32_t old = inode->i_flags, flags, dax_old;
	mode_t mode = inode->i_mode;
	int ret = 0;

	/* the kernel's fileattr_set_prepare() asks before ext4 does */
	if (((want ^ iflags_visible(inode)) & IFLAGS_FROZEN) && !cap_immutable)
		return -EPERM;
	if (want & ~IFLAGS_USER_VISIBLE)
		return -EOPNOTSUPP;
	/* visible but not settable bits are ignored, as chattr expects */
	flags = want & IFLAGS_USER_MODIFIABLE;
	if (iflags_mask(mode, flags) != flags)
		return -EOPNOTSUPP;
	/*
	 * An immutable inode that stays so changes nothing else.  As in
	 * ext4_ioctl_check_immutable(), all of i_flags is compared, also
	 * the bits no caller can set.
	 */
	if ((old & EXT2_IMMUTABLE_FL) && (flags & EXT2_IMMUTABLE_FL) &&
	    (old & ~EXT2_IMMUTABLE_FL) != (flags & ~EXT2_IMMUTABLE_FL))
		return -EPERM;
	if (((flags ^ old) & EXT3_JOURNAL_DATA_FL) && !cap_resource)
		return -EPERM;
	dax_old = LINUX_S_ISDIR(mode) ? old & ~EXT4_INLINE_DATA_FL : old;
	if (((flags & IFLAGS_DAX_FL) && (dax_old & IFLAGS_DAX_EXCL)) ||
	    ((flags & IFLAGS_DAX_EXCL) && (dax_old & IFLAGS_DAX_FL)))
		return -EOPNOTSUPP;
	/* casefolding needs the casefold feature, which iomapfs refuses */
	if ((flags ^ old) & EXT4_CASEFOLD_FL)
		return -EOPNOTSUPP;
	/* ext4 would journal the file's data from now on; iomapfs never */
	if ((flags ^ old) & EXT3_JOURNAL_DATA_FL)
		return -EOPNOTSUPP;
	new.i_flags = (old & ~IFLAGS_USER_MODIFIABLE) |
		      (flags & ~EXT4_EXTENTS_FL) | (old & EXT4_EXTENTS_FL);
	if ((flags ^ old) & EXT4_EXTENTS_FL)
		ret = flags & EXT4_EXTENTS_FL ? iflags_to_extents(fs, &new)
					      : iflags_to_blockmap(fs, &new);
	if (!ret)
		*inode = new;
	return ret;
}
