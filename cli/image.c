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

struct ictl_image {
	ext2_filsys fs;
	char *path;
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
