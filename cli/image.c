// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * image.c - iomapctl's read-only view of an unmounted image: opens it with
 * libext2fs, resolves paths with ext2fs_namei() and walks mappings with the
 * shared mapping source, so that `iomapctl --image` shows what the daemon
 * would compute.  No errcode_t leaves this file.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "ext2map.h"
#include "image.h"
#include "jbd2_fs.h"

/* Where a group's metadata lies, for image_block_what(). */
struct image_meta {
	uint64_t start;
	uint64_t len;
	uint32_t group;
	enum { IMG_SB, IMG_GDT, IMG_BBITMAP, IMG_IBITMAP, IMG_ITABLE } kind;
};

struct ictl_image {
	ext2_filsys fs;
	char *path;
	/* The journal of the last image_journal_scan(). */
	struct jbd2_fs *jfs;
	struct jbd2_log *jlog;
	/* Metadata locations, sorted by start; built on first use. */
	struct image_meta *meta;
	size_t nmeta;
};

int image_open(const char *path, struct ictl_image **imgp, char *why,
	       size_t whylen)
{
	struct ictl_image *img;
	errcode_t err;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->path = strdup(path);
	if (!img->path) {
		free(img);
		return -ENOMEM;
	}
	err = ext2fs_open2(path, NULL, EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
			   &img->fs);
	if (err) {
		snprintf(why, whylen, "%s", iomap_ext2_strerror(err));
		free(img->path);
		free(img);
		return iomap_ext2_errno(err);
	}
	*imgp = img;
	return 0;
}

void image_close(struct ictl_image *img)
{
	if (!img)
		return;
	jbd2_log_free(img->jlog);
	jbd2_fs_close(img->jfs);
	free(img->meta);
	ext2fs_close_free(&img->fs);
	free(img->path);
	free(img);
}

uint32_t image_block_size(const struct ictl_image *img)
{
	return img->fs->blocksize;
}

int image_namei(struct ictl_image *img, const char *path, uint32_t *ino)
{
	ext2_ino_t found;
	errcode_t err;

	while (path[0] == '/' && path[1] == '/')
		path++;
	if (!strcmp(path, "/") || !*path) {
		*ino = EXT2_ROOT_INO;
		return 0;
	}
	err = ext2fs_namei(img->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &found);
	if (err)
		return iomap_ext2_errno(err);
	*ino = found;
	return 0;
}

int image_stat(struct ictl_image *img, uint32_t ino, uint64_t *size,
	       uint32_t *mode)
{
	struct ext2_inode inode;
	errcode_t err;

	if (ino < 1 || ino > img->fs->super->s_inodes_count)
		return -EINVAL;
	err = ext2fs_read_inode(img->fs, ino, &inode);
	if (err)
		return iomap_ext2_errno(err);
	if (!inode.i_links_count && !inode.i_mode)
		return -ENOENT;
	*size = EXT2_I_SIZE(&inode);
	*mode = inode.i_mode;
	return 0;
}

int image_walk(struct ictl_image *img, uint32_t ino, uint64_t off, uint64_t len,
	       int (*fn)(const struct iomap *m, void *arg), void *arg)
{
	return iomap_ext2_walk(img->fs, ino, off, len, fn, arg);
}

static const char *image_fs_type(struct ext2_super_block *sb)
{
	if (ext2fs_has_feature_extents(sb) || ext2fs_has_feature_flex_bg(sb) ||
	    ext2fs_has_feature_64bit(sb))
		return "ext4";
	if (ext2fs_has_feature_journal(sb))
		return "ext3";
	return "ext2";
}

json_t *image_status(struct ictl_image *img)
{
	struct ext2_super_block *sb = img->fs->super;
	char uuid[40], label[EXT2_LABEL_LEN + 1];
	const unsigned char *u = sb->s_uuid;

	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	memcpy(label, sb->s_volume_name, EXT2_LABEL_LEN);
	label[EXT2_LABEL_LEN] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b}",
			 "image", img->path, "type", image_fs_type(sb), "uuid",
			 uuid, "label", label, "block_size",
			 (json_int_t)img->fs->blocksize, "blocks",
			 (json_int_t)ext2fs_blocks_count(sb), "free_blocks",
			 (json_int_t)ext2fs_free_blocks_count(sb), "inodes",
			 (json_int_t)sb->s_inodes_count, "free_inodes",
			 (json_int_t)sb->s_free_inodes_count, "read_only", 1);
}

/* --- the journal ---------------------------------------------------------- */

/* The reader's callbacks share one argument: the journal and the
 * caller's note callback. */
struct image_jcb {
	struct jbd2_fs *jfs;
	void (*note)(void *arg, const struct jbd2_log_note *n);
	void *arg;
};

static int image_jread(void *arg, uint32_t lblk, void *buf)
{
	struct image_jcb *cb = arg;

	return jbd2_fs_read(cb->jfs, lblk, buf);
}

static void image_jnote(void *arg, const struct jbd2_log_note *n)
{
	struct image_jcb *cb = arg;

	cb->note(cb->arg, n);
}

int image_journal_scan(struct ictl_image *img, struct image_journal *ij,
		       void (*note)(void *arg, const struct jbd2_log_note *n),
		       void *arg)
{
	struct image_jcb cb = {.note = note, .arg = arg};
	struct jbd2_log_ops ops = {
		.read = image_jread,
		.note = note ? image_jnote : NULL,
		.arg = &cb,
	};
	ext2_filsys fs = img->fs;
	int ret;

	memset(ij, 0, sizeof(*ij));
	jbd2_log_free(img->jlog);
	jbd2_fs_close(img->jfs);
	img->jlog = NULL;
	img->jfs = NULL;
	jbd2_fs_describe(fs, ij->where, sizeof(ij->where));
	ij->needs_recovery =
		ext2fs_has_feature_journal_needs_recovery(fs->super);
	ret = jbd2_fs_open(fs, &img->jfs, ij->why, sizeof(ij->why));
	if (ret == -ENOENT || ret == -EXDEV || ret == -EUCLEAN) {
		ij->sb_error = ret;
		return 0;
	}
	if (ret)
		return ret;
	ij->has_journal = true;
	ij->sb_read = true;
	memcpy(&ij->sb, jbd2_fs_super(img->jfs), sizeof(ij->sb));
	ij->inode_blocks = jbd2_fs_blocks(img->jfs);
	ij->backup = jbd2_fs_uses_backup(img->jfs);
	ij->extents = jbd2_fs_extents(img->jfs);
	cb.jfs = img->jfs;
	ret = jbd2_log_new(&ij->sb, ij->inode_blocks,
			   ext2fs_blocks_count(fs->super), fs->blocksize, &ops,
			   &img->jlog, ij->why, sizeof(ij->why));
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		ij->sb_error = ret;
		return 0;
	}
	ij->log_end = jbd2_log_last(img->jlog);
	/* The passes without a replay callback: nothing is written, and
	 * the result is the one a replay would have. */
	ret = jbd2_log_recover(img->jlog, JBD2_LOG_VERIFY_DATA, &ij->res);
	if (ret)
		return ret;
	ij->scanned = true;
	return 0;
}

bool image_journal_revoked(const struct ictl_image *img, uint64_t blk,
			   uint32_t seq)
{
	return img->jlog && jbd2_log_is_revoked(img->jlog, blk, seq);
}

static int image_meta_cmp(const void *a, const void *b)
{
	const struct image_meta *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int image_meta_add(struct ictl_image *img, size_t *cap, uint64_t start,
			  uint64_t len, uint32_t group, int kind)
{
	struct image_meta *n;

	if (!start || !len)
		return 0;
	if (img->nmeta == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		n = realloc(img->meta, *cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		img->meta = n;
	}
	img->meta[img->nmeta++] = (struct image_meta){
		.start = start, .len = len, .group = group, .kind = kind};
	return 0;
}

/* Index the superblocks, descriptors, bitmaps and inode tables. */
static int image_meta_build(struct ictl_image *img)
{
	ext2_filsys fs = img->fs;
	uint64_t sb_blk = fs->super->s_first_data_block;
	size_t cap = 0;
	dgrp_t g;
	int ret = 0;

	for (g = 0; g < fs->group_desc_count && !ret; g++) {
		if (g && ext2fs_bg_has_super(fs, (int)g))
			ret = image_meta_add(img, &cap,
					     ext2fs_group_first_block2(fs, g),
					     1, g, IMG_SB);
		ret = ret
			      ?: image_meta_add(img, &cap,
						ext2fs_block_bitmap_loc(fs, g),
						1, g, IMG_BBITMAP);
		ret = ret
			      ?: image_meta_add(img, &cap,
						ext2fs_inode_bitmap_loc(fs, g),
						1, g, IMG_IBITMAP);
		ret = ret
			      ?: image_meta_add(img, &cap,
						ext2fs_inode_table_loc(fs, g),
						fs->inode_blocks_per_group, g,
						IMG_ITABLE);
	}
	for (g = 0; g < fs->desc_blocks && !ret; g++)
		ret = image_meta_add(
			img, &cap, ext2fs_descriptor_block_loc2(fs, sb_blk, g),
			1, g, IMG_GDT);
	if (ret)
		return ret;
	if (img->nmeta)
		qsort(img->meta, img->nmeta, sizeof(*img->meta),
		      image_meta_cmp);
	return 0;
}

static uint16_t image_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t image_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * Whether @d is a directory block: a chain of entries whose rec_len
 * covers it exactly.  Sets what it is in @buf.
 */
static bool image_dir_what(ext2_filsys fs, const uint8_t *d, char *buf,
			   size_t len)
{
	uint32_t bs = fs->blocksize, pos = 0, n = 0, ino, dot = 0;
	uint32_t rec, name_len;

	while (pos + 8 <= bs) {
		ino = image_le32(d + pos);
		rec = image_le16(d + pos + 4);
		/* 64 KiB blocks: the kernel's EXT4_MAX_REC_LEN encoding. */
		if (bs >= 65536 && (rec == 65535 || rec == 0))
			rec = bs;
		name_len = d[pos + 6];
		if (rec < 12 || rec % 4 || pos + rec > bs ||
		    (ino && name_len + 8u > rec) ||
		    ino > fs->super->s_inodes_count)
			return false;
		if (pos == 0 && ino && name_len == 1 && d[8] == '.')
			dot = ino;
		if (ino)
			n++;
		pos += rec;
	}
	if (pos != bs)
		return false;
	if (dot && image_le16(d + 4) == 12 && image_le16(d + 16) == bs - 12 &&
	    d[12 + 6] == 2 && d[12 + 8] == '.' && d[12 + 9] == '.' &&
	    image_le32(d + 0x18) == 0 && d[0x1d] == 8)
		snprintf(buf, len, "directory index root (inode %u)", dot);
	else if (dot)
		snprintf(buf, len, "directory block of inode %u (%u entries)",
			 dot, n);
	else if (!n && image_le16(d + 4) == (bs >= 65536 ? 0 : bs))
		snprintf(buf, len, "directory index node");
	else
		snprintf(buf, len, "directory block (%u entries)", n);
	return true;
}

void image_block_what(struct ictl_image *img, uint64_t blk, const void *data,
		      char *buf, size_t len)
{
	ext2_filsys fs = img->fs;
	const struct image_meta *m;
	const uint8_t *d = data;
	size_t lo = 0, hi;

	*buf = '\0';
	if (!img->meta && image_meta_build(img))
		return;
	if (blk == fs->super->s_first_data_block) {
		snprintf(buf, len, "superblock");
		return;
	}
	hi = img->nmeta;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (img->meta[mid].start <= blk)
			lo = mid;
		else
			hi = mid;
	}
	m = img->nmeta ? &img->meta[lo] : NULL;
	if (m && blk >= m->start && blk - m->start < m->len) {
		switch (m->kind) {
		case IMG_SB:
			snprintf(buf, len, "superblock backup (group %u)",
				 m->group);
			return;
		case IMG_GDT:
			snprintf(buf, len,
				 "group descriptors (groups %llu-%llu)",
				 (unsigned long long)m->group *
					 EXT2_DESC_PER_BLOCK(fs->super),
				 ((unsigned long long)m->group +
				  1) * EXT2_DESC_PER_BLOCK(fs->super) -
					 1);
			return;
		case IMG_BBITMAP:
			snprintf(buf, len, "block bitmap (group %u)", m->group);
			return;
		case IMG_IBITMAP:
			snprintf(buf, len, "inode bitmap (group %u)", m->group);
			return;
		case IMG_ITABLE: {
			uint64_t per =
				fs->blocksize / EXT2_INODE_SIZE(fs->super);
			uint64_t first = (uint64_t)m->group *
						 fs->super->s_inodes_per_group +
					 (blk - m->start) * per + 1;

			snprintf(buf, len,
				 "inode table (group %u, inodes %llu-%llu)",
				 m->group, (unsigned long long)first,
				 (unsigned long long)(first + per - 1));
			return;
		}
		}
	}
	if (!d)
		return;
	if (image_le16(d) == EXT3_EXT_MAGIC) {
		snprintf(buf, len, "extent tree block (depth %u, %u entries)",
			 image_le16(d + 6), image_le16(d + 2));
		return;
	}
	if (image_le32(d) == EXT2_EXT_ATTR_MAGIC) {
		snprintf(buf, len, "xattr block (%u references)",
			 image_le32(d + 4));
		return;
	}
	image_dir_what(fs, d, buf, len);
}
