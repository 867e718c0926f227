/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jbd2_fs.h - the journal of an ext3/ext4 filesystem, found through
 * libext2fs: the journal inode (or, when that inode is damaged, the copy
 * of its block map that the superblock keeps, as e2fsck does), its
 * superblock, and the reading of its blocks for the journal reader
 * (jbd2_log.h).  Extent-mapped and block-mapped journal inodes both work.
 * No errcode_t leaves this file.
 *
 * Locking: libext2fs is not thread-safe; the caller holds whatever lock
 * guards @fs for every call.
 */
#ifndef IOMAPFS_JBD2_FS_H
#define IOMAPFS_JBD2_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "jbd2.h"

struct jbd2_fs;

/*
 * Find the journal of @fs and read its superblock.  Returns 0, or:
 * -ENOENT when @fs has no journal (has_journal is clear), -EXDEV when the
 * journal lives on an external device, -EUCLEAN when neither the journal
 * inode nor the superblock's backup of its map can be used, or another
 * -errno from the device; with a one-line reason in @why.
 */
int jbd2_fs_open(ext2_filsys fs, struct jbd2_fs **jp, char *why,
		 size_t why_len);
void jbd2_fs_close(struct jbd2_fs *j);

/* The journal superblock (log block 0) as read at jbd2_fs_open(). */
const struct jbd2_super *jbd2_fs_super(const struct jbd2_fs *j);
/* Blocks of the journal inode (its size over the block size). */
uint64_t jbd2_fs_blocks(const struct jbd2_fs *j);
/* The journal inode's number. */
uint32_t jbd2_fs_ino(const struct jbd2_fs *j);
/* Whether the map came from the superblock's backup (s_jnl_blocks). */
bool jbd2_fs_uses_backup(const struct jbd2_fs *j);
/* Whether the journal inode is extent-mapped. */
bool jbd2_fs_extents(const struct jbd2_fs *j);

/*
 * The device block of log block @lblk.  Returns 0, or -EUCLEAN when the
 * journal has a hole there or maps it outside the filesystem.
 */
int jbd2_fs_bmap(struct jbd2_fs *j, uint32_t lblk, uint64_t *pblk);

/*
 * Read log block @lblk into @buf (one block) through @fs's io channel:
 * the read callback of struct jbd2_log_ops (@arg is the struct jbd2_fs).
 * Returns 0 or -errno.
 */
int jbd2_fs_read(void *arg, uint32_t lblk, void *buf);

/*
 * Where the filesystem's journal is, for people: "internal: inode 8",
 * "external: device 0x801, UUID ...", "none".  Into @buf of @len bytes.
 */
void jbd2_fs_describe(ext2_filsys fs, char *buf, size_t len);

#endif /* IOMAPFS_JBD2_FS_H */
