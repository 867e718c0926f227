/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-image.h - the seed images built into the harnesses (generated from
 * the gzipped images in t/fuzz/images by embed-images; make-corpus
 * makes them), and the scratch files in /dev/shm that libext2fs's unix
 * I/O manager opens.
 */
#ifndef IOMAPFS_FUZZ_IMAGE_H
#define IOMAPFS_FUZZ_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_IMAGE_BLOCK 1024

struct fuzz_image_block {
	uint32_t blk;		/* index of a 1 KiB block */
	const char *data;	/* FUZZ_IMAGE_BLOCK bytes */
};

struct fuzz_image {
	const char *name;
	size_t size;		/* bytes */
	const struct fuzz_image_block *blocks;	/* the non-zero ones */
	size_t nblocks;
};

extern const struct fuzz_image fuzz_images[];
extern const size_t fuzz_nimages;

/* Fill @buf (fuzz_images[i].size bytes) with image @i. */
void fuzz_image_fill(size_t i, uint8_t *buf);

/*
 * A scratch file for this process, in /dev/shm when it exists (else
 * $TMPDIR or /tmp), removed at exit.  @tag tells several apart.  Returns
 * its path (static storage); aborts on failure.
 */
const char *fuzz_scratch_path(const char *tag);

/* Replace the scratch file's contents with @len bytes at @buf. */
void fuzz_scratch_write(const char *path, const uint8_t *buf, size_t len);

#endif /* IOMAPFS_FUZZ_IMAGE_H */
