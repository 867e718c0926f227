/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iflags.h - the inode flags of chattr(1) and lsattr(1) as ext4 keeps
 * them in i_flags: which ones a caller sees and may change
 * (FS_IOC_GETFLAGS/SETFLAGS, FS_IOC_FSGETXATTR/FSSETXATTR), and the rules
 * of the immutable and append-only flags that every operation obeys, each
 * where the kernel checks it for ext4, with ext4's errno (EPERM).  The
 * FUSE kernel module knows nothing of these flags (a FUSE inode never
 * carries S_IMMUTABLE or S_APPEND), so the daemon enforces them all.
 *
 * Functions that take an inode read nothing: they judge the inode given.
 * They return 0 or a negative errno.
 */
#ifndef IOMAPFS_IFLAGS_H
#define IOMAPFS_IFLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "fs.h"

/*
 * ext4's sets (fs/ext4/ext4.h): what FS_IOC_GETFLAGS shows, what
 * FS_IOC_SETFLAGS changes (other visible bits are ignored, invisible ones
 * refused), and what each kind of inode may carry.
 */
#define IFLAGS_DAX_FL 0x02000000u
#define IFLAGS_USER_MODIFIABLE                                              \
	(EXT2_SECRM_FL | EXT2_UNRM_FL | EXT2_COMPR_FL | EXT2_SYNC_FL |      \
	 EXT2_IMMUTABLE_FL | EXT2_APPEND_FL | EXT2_NODUMP_FL |              \
	 EXT2_NOATIME_FL | EXT3_JOURNAL_DATA_FL | EXT2_NOTAIL_FL |          \
	 EXT2_DIRSYNC_FL | EXT2_TOPDIR_FL | EXT4_EXTENTS_FL | 0x00400000u | \
	 IFLAGS_DAX_FL | EXT4_PROJINHERIT_FL | EXT4_CASEFOLD_FL)
#define IFLAGS_USER_VISIBLE                                                   \
	(IFLAGS_USER_MODIFIABLE | EXT2_DIRTY_FL | EXT2_COMPRBLK_FL |          \
	 EXT2_NOCOMPR_FL | EXT4_ENCRYPT_FL | EXT2_INDEX_FL | EXT4_VERITY_FL | \
	 EXT4_INLINE_DATA_FL)
#define IFLAGS_REG_MASK                                          \
	(~(EXT2_DIRSYNC_FL | EXT2_TOPDIR_FL | EXT4_CASEFOLD_FL | \
	   EXT4_PROJINHERIT_FL))
#define IFLAGS_OTHER_MASK (EXT2_NODUMP_FL | EXT2_NOATIME_FL)

/* What a new inode takes from its directory (ext4's EXT4_FL_INHERITED). */
#define IFLAGS_INHERITED                                               \
	(EXT2_SECRM_FL | EXT2_UNRM_FL | EXT2_COMPR_FL | EXT2_SYNC_FL | \
	 EXT2_NODUMP_FL | EXT2_NOATIME_FL | EXT2_NOCOMPR_FL |          \
	 EXT3_JOURNAL_DATA_FL | EXT2_NOTAIL_FL | EXT2_DIRSYNC_FL |     \
	 EXT4_PROJINHERIT_FL | EXT4_CASEFOLD_FL | IFLAGS_DAX_FL)

/*
 * New inode @inode (its mode set) in directory @dir: the flags it
 * inherits, those that fit its kind, and, when @dir has PROJINHERIT,
 * @dir's project id, as ext4's __ext4_new_inode() gives them.
 */
void iflags_inherit(ext2_filsys fs, const struct ext2_inode_large *dir,
		    struct ext2_inode_large *inode);

/*
 * Whether @inode has a project id: the filesystem has the project
 * feature, and the inode room for the field.
 */
bool iflags_has_projid(ext2_filsys fs, const struct ext2_inode_large *inode);

/* The flags FS_IOC_GETFLAGS shows of @inode. */
uint32_t iflags_visible(const struct ext2_inode_large *inode);

/* FS_IOC_FSGETXATTR's xflags of i_flags @flags, and back. */
uint32_t iflags_to_xflags(uint32_t flags);
uint32_t iflags_from_xflags(uint32_t xflags);

/* The xflags ext4 keeps (FS_IOC_FSSETXATTR ignores the others). */
#define IFLAGS_XFLAGS_SUPPORTED                                      \
	(FS_XFLAG_SYNC | FS_XFLAG_IMMUTABLE | FS_XFLAG_APPEND |      \
	 FS_XFLAG_NODUMP | FS_XFLAG_NOATIME | FS_XFLAG_PROJINHERIT | \
	 FS_XFLAG_DAX)

/*
 * Whether @inode's attributes may change as FUSE setattr @to_set asks
 * (FUSE_SET_ATTR_*): nothing of an immutable inode, and of an
 * append-only one not its mode, owner, size or times set to a given value
 * (setting them to now is allowed), as ext4_setattr() and the kernel's
 * may_setattr() and truncate paths decide.
 */
int iflags_may_setattr(const struct ext2_inode_large *inode, int to_set);

/*
 * Whether @inode's extended attributes (ACLs too) may be set or removed:
 * not when immutable or append-only (the kernel's xattr_permission()).
 */
int iflags_may_change_xattr(const struct ext2_inode_large *inode);

/*
 * Whether regular file @inode may be opened with open(2) @flags: an
 * immutable one not for writing nor with O_TRUNC, an append-only one for
 * writing only with O_APPEND and never with O_TRUNC (the kernel's
 * may_open()).
 */
int iflags_may_open(const struct ext2_inode_large *inode, int flags);

/* Whether directory @dir may gain an entry: not when immutable. */
int iflags_may_add(const struct ext2_inode_large *dir);

/*
 * Whether the entry of @victim may be removed from (or replaced in)
 * directory @dir: neither may be immutable, nor append-only (the
 * kernel's may_delete()).  @dir may be NULL when it was checked already.
 */
int iflags_may_delete(const struct ext2_inode_large *dir,
		      const struct ext2_inode_large *victim);

/* Whether @inode may gain a name (link(2)): not immutable nor append-only. */
int iflags_may_link(const struct ext2_inode_large *inode);

/*
 * Whether fallocate(2) @mode may run on @inode: nothing on an immutable
 * file, and on an append-only one only plain allocation (mode 0 or
 * FALLOC_FL_KEEP_SIZE), as vfs_fallocate() decides.
 */
int iflags_may_fallocate(const struct ext2_inode_large *inode, int mode);

/*
 * The write path's check, for the @len bytes at @off of @fi, whose size
 * is @size: -EPERM when the file is immutable, or append-only and the
 * write does not start at the end of the file.  Reads the flags @fi noted
 * (fs_inode_note(), at open and at every inode write), under meta_lock.
 * Call with fi->io_lock held (either mode): SETFLAGS changes these two
 * flags under io_lock exclusive, so no write checked before the change
 * lands after it.
 */
int iflags_may_write(struct fs_inode *fi, uint64_t off, uint64_t size);

/*
 * Give @inode the flags FS_IOC_SETFLAGS @want (as the caller passed them)
 * by ext4's rules (ext4_fileattr_set(), ext4_ioctl_setflags()):
 * -EOPNOTSUPP for flags ext4 does not know or that do not fit the kind of
 * inode, -EPERM when an immutable inode would change otherwise, and the
 * capability checks: immutable and append-only need CAP_LINUX_IMMUTABLE
 * (@cap_immutable), data journalling CAP_SYS_RESOURCE (@cap_resource).
 * Clearing the extents flag converts a small file to a block map as ext4
 * does, and setting it a file within its direct blocks to extents; flags
 * that ext4 honours and iomapfs cannot (data journalling, converting a
 * bigger block map to extents, casefolding) are refused with -EOPNOTSUPP.  Changes only i_flags and, for a conversion, i_block, and
 * nothing when it fails.
 */
int iflags_apply(ext2_filsys fs, struct ext2_inode_large *inode, uint32_t want,
		 bool cap_immutable, bool cap_resource);

#endif /* IOMAPFS_IFLAGS_H */
