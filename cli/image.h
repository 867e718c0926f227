/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image.h - iomapctl --image: read-only inspection of an unmounted ext2/3/4
 * image through libext2fs and the shared mapping source, as debugfs and
 * filefrag do.  This is the only file of iomapctl that talks to libext2fs:
 * every errcode_t becomes -errno here (iomap_ext2_errno()).
 */
#ifndef IOMAPCTL_IMAGE_H
#define IOMAPCTL_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "iomap.h"
#include "jbd2_log.h"

struct ictl_image;

/*
 * Open the image at @path read-only.  Returns 0 and *imgp, or -errno with
 * a message in @why (the libext2fs text).
 */
int image_open(const char *path, struct ictl_image **imgp, char *why,
	       size_t whylen);
void image_close(struct ictl_image *img);

/* Block size of the filesystem, in bytes. */
uint32_t image_block_size(const struct ictl_image *img);

/*
 * The inode of @path, absolute inside the image ("/" is the root; a
 * relative path is taken from the root too).  Returns 0, -ENOENT, or
 * another -errno.
 */
int image_namei(struct ictl_image *img, const char *path, uint32_t *ino);

/*
 * Size in bytes and mode of inode @ino.  Returns 0, -ENOENT for an inode
 * that is not in use, -EINVAL for a number out of range, or -errno.
 */
int image_stat(struct ictl_image *img, uint32_t ino, uint64_t *size,
	       uint32_t *mode);

/*
 * Every mapping of @ino overlapping [off, off + len - 1] (len 0: to EOF
 * and past it to the last extent), in order; see iomap_ext2_walk().
 */
int image_walk(struct ictl_image *img, uint32_t ino, uint64_t off, uint64_t len,
	       int (*fn)(const struct iomap *m, void *arg), void *arg);

/*
 * Facts about the filesystem for `status --image`: a new JSON object
 * (image, type, uuid, label, block_size, blocks, free_blocks, inodes,
 * free_inodes, features), or NULL when out of memory.
 */
json_t *image_status(struct ictl_image *img);

/* The image's journal, as image_journal_scan() found it. */
struct image_journal {
	char where[128];     /* "internal: inode 8", "external: ...", "none" */
	bool has_journal;    /* an internal one we could look at */
	bool needs_recovery; /* the filesystem's flag */
	bool sb_read;	     /* @sb holds log block 0 */
	struct jbd2_super sb;
	int sb_error;	     /* 0, or why the reader refuses @sb */
	char why[192];	     /* ... in words */
	uint64_t inode_blocks;
	bool backup;  /* mapped through the superblock's s_jnl_blocks */
	bool extents; /* an extent-mapped journal inode */
	uint32_t log_end; /* where the ordinary log ends (fast commits after) */
	bool scanned;	  /* @res is filled */
	struct jbd2_log_result res;
};

/*
 * Read the image's journal and run the reader's passes over it without
 * writing anything (a replay into nowhere, so that @res says exactly
 * what a replay would do, checksums of logged blocks included).  @note
 * gets every block the scan meets, data blocks read (see jbd2_log.h).
 * Returns 0 with @ij filled (also when there is no journal, or its
 * superblock is refused: ij->sb_error), or -errno.
 */
int image_journal_scan(struct ictl_image *img, struct image_journal *ij,
		       void (*note)(void *arg, const struct jbd2_log_note *n),
		       void *arg);

/* After image_journal_scan(): whether a revoke covers @blk of @seq. */
bool image_journal_revoked(const struct ictl_image *img, uint64_t blk,
			   uint32_t seq);

/*
 * What filesystem block @blk is, for people, into @buf: the superblock
 * or a backup, group descriptors, a bitmap, part of an inode table (with
 * its inodes), or, from its contents @data (one block; may be NULL), a
 * directory block, an extent tree block, an xattr block.  "" when it
 * cannot be told.
 */
void image_block_what(struct ictl_image *img, uint64_t blk, const void *data,
		      char *buf, size_t len);

#endif /* IOMAPCTL_IMAGE_H */
