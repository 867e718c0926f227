/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image.h - iomapctl --image: read-only inspection of an unmounted ext2/3/4
 * image through libext2fs and the shared mapping source, as debugfs and
 * filefrag do.  This is the only file of iomapctl that talks to libext2fs:
 * every errcode_t becomes -errno here (iomap_ext2_errno()).
 */
#ifndef IOMAPCTL_IMAGE_H
#define IOMAPCTL_IMAGE_H

#include <stdint.h>

#include <jansson.h>

#include "iomap.h"

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

#endif /* IOMAPCTL_IMAGE_H */
