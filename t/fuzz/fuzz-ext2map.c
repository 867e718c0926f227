// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-ext2map.c - fuzz harness for the ext2 mapping source
 * (shared/ext2map.h) over corrupted images.  The input patches a small
 * valid seed image (built in: see fuzz-image.h):
 *   byte 0     bit 0: the ext2 image (block maps) instead of the ext4 one;
 *              bit 1: open with EXT2_FLAG_IGNORE_CSUM_ERRORS, so damage
 *              gets past the checksums; bit 2: read the bitmaps (the
 *              source then asks the inode bitmap which inodes are in use)
 *   then, repeated: a 3-byte offset (modulo the image size), a count - 1
 *              (1 byte, at most 32 bytes), and that many bytes to write.
 * The image goes to a scratch file in /dev/shm, ext2fs_open() opens it
 * (refusing it is fine), and every inode is walked with iomap_ext2_walk()
 * from 0 to EOF and past it; a few lookups follow at offsets the walk
 * reported.  Every mapping must pass iomap_validate(), follow the previous
 * one without gap or overlap, point inside the filesystem, and agree with
 * iomap_ext2_lookup() at its start; every error must be a negative errno.
 * A crash, a hang (libFuzzer's -timeout) or a sanitizer report is a bug.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "ext2map.h"
#include "fuzz-image.h"
#include "fuzz.h"
#include "iomap.h"

/* Inodes walked per input (the seed images have 32). */
#define FUZZ_MAX_INODES 64
/* Mappings one walk may report before it is called endless. */
#define FUZZ_MAX_WALK (1u << 20)

static const char *scratch_path;
static bool verbose;		/* IOMAPFS_FUZZ_VERBOSE: say what happened */
static unsigned long nmappings, nerrors;
static uint8_t *image;
static size_t image_cap;

struct walk {
	ext2_filsys fs;
	ext2_ino_t ino;
	uint64_t next;		/* where the next mapping must start */
	uint64_t dev_lo, dev_hi;	/* bytes of the filesystem's blocks */
	uint64_t max;
	unsigned long n;
	struct iomap first[4];	/* re-checked with lookups */
	unsigned int nfirst;
};

static int on_mapping(const struct iomap *m, void *arg)
{
	struct walk *w = arg;

	if (iomap_validate(m))
		fuzz_fail("inode %u: malformed mapping [0x%" PRIx64 " +0x%"
			  PRIx64 "] type %u addr 0x%" PRIx64 " flags 0x%x",
			  w->ino, m->offset, m->length, (unsigned int)m->type,
			  m->addr, (unsigned int)m->flags);
	if (w->n && m->offset != w->next)
		fuzz_fail("inode %u: mapping at 0x%" PRIx64 " does not follow"
			  " the last one, which ended at 0x%" PRIx64, w->ino,
			  m->offset, w->next);
	if (!w->n && m->offset != 0)
		fuzz_fail("inode %u: the walk from 0 starts at 0x%" PRIx64,
			  w->ino, m->offset);
	if (m->offset + m->length > w->max)
		fuzz_fail("inode %u: mapping ends at 0x%" PRIx64 ", past the"
			  " maximum file size 0x%" PRIx64, w->ino,
			  m->offset + m->length, w->max);
	if (iomap_type_has_addr(m->type) &&
	    (m->addr < w->dev_lo || m->addr + m->length > w->dev_hi ||
	     m->addr + m->length < m->addr))
		fuzz_fail("inode %u: mapping [0x%" PRIx64 " +0x%" PRIx64
			  "] points outside the filesystem (addr 0x%" PRIx64
			  ")", w->ino, m->offset, m->length, m->addr);
	if (w->nfirst < sizeof(w->first) / sizeof(w->first[0]))
		w->first[w->nfirst++] = *m;
	w->next = m->offset + m->length;
	if (++w->n > FUZZ_MAX_WALK)
		fuzz_fail("inode %u: the walk does not end", w->ino);
	return 0;
}

static void check_errno(int ret, const char *what, ext2_ino_t ino)
{
	if (ret >= 0 || ret < -4095)
		fuzz_fail("inode %u: %s returned %d, not a -errno", ino, what,
			  ret);
}

static void walk_inode(ext2_filsys fs, ext2_ino_t ino)
{
	struct ext2_inode inode;
	struct walk w = { .fs = fs, .ino = ino };
	unsigned int i;
	int ret;

	w.dev_lo = (uint64_t)fs->super->s_first_data_block * fs->blocksize;
	w.dev_hi = ext2fs_blocks_count(fs->super) * (uint64_t)fs->blocksize;
	if (ext2fs_read_inode(fs, ino, &inode))
		w.max = UINT64_MAX;
	else
		w.max = iomap_ext2_max_bytes(fs, &inode);
	ret = iomap_ext2_walk(fs, ino, 0, 0, on_mapping, &w);
	nmappings += w.n;
	if (ret) {
		check_errno(ret, "iomap_ext2_walk", ino);
		if (ret != -ENOENT && ret != -EINVAL)
			nerrors++;
	}
	for (i = 0; i < w.nfirst; i++) {
		struct iomap m;

		ret = iomap_ext2_lookup(fs, ino, w.first[i].offset, &m);
		if (ret) {
			check_errno(ret, "iomap_ext2_lookup", ino);
			continue;
		}
		if (m.offset != w.first[i].offset ||
		    m.type != w.first[i].type || m.addr != w.first[i].addr ||
		    (m.length != w.first[i].length &&
		     m.offset + m.length != w.max))
			fuzz_fail("inode %u: lookup at 0x%" PRIx64 " gives "
				  "[+0x%" PRIx64 "] type %u addr 0x%" PRIx64
				  ", the walk gave [+0x%" PRIx64 "] type %u "
				  "addr 0x%" PRIx64, ino, m.offset, m.length,
				  (unsigned int)m.type, m.addr,
				  w.first[i].length,
				  (unsigned int)w.first[i].type,
				  w.first[i].addr);
	}
	/* At the maximum file size there is nothing to map. */
	if (w.max != UINT64_MAX) {
		struct iomap m;

		ret = iomap_ext2_lookup(fs, ino, w.max, &m);
		if (!ret)
			fuzz_fail("inode %u: a lookup at the maximum file size "
				  "0x%" PRIx64 " succeeded", ino, w.max);
		check_errno(ret, "iomap_ext2_lookup", ino);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *v = getenv("IOMAPFS_FUZZ_VERBOSE");
	size_t i;

	verbose = v && *v && strcmp(v, "0");
	for (i = 0; i < fuzz_nimages; i++)
		if (fuzz_images[i].size > image_cap)
			image_cap = fuzz_images[i].size;
	image = malloc(image_cap);
	if (!image)
		fuzz_fail("out of memory for the image");
	scratch_path = fuzz_scratch_path("ext2map.img");
	/* libext2fs reports some damage on stderr through com_err. */
	initialize_ext2_error_table();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;
	const struct fuzz_image *im;
	ext2_filsys fs = NULL;
	char why[128];
	uint8_t mode;
	int flags = EXT2_FLAG_64BITS;
	errcode_t err;
	ext2_ino_t ino, last;

	fuzz_in_init(&in, data, size);
	mode = fuzz_u8(&in);
	im = &fuzz_images[(mode & 1) % fuzz_nimages];
	fuzz_image_fill((size_t)(im - fuzz_images), image);
	while (in.left >= 4) {
		size_t off = fuzz_bytes(&in, 3) % im->size;
		size_t n = fuzz_u8(&in) % 32 + 1, k;

		for (k = 0; k < n && in.left; k++)
			image[(off + k) % im->size] = fuzz_u8(&in);
	}
	fuzz_scratch_write(scratch_path, image, im->size);
	if (mode & 2)
		flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
	err = ext2fs_open(scratch_path, flags, 0, 0, unix_io_manager, &fs);
	if (err) {
		/* Refusing a bad image is the right answer. */
		if (verbose)
			fprintf(stderr, "ext2map: %s refused: %s\n", im->name,
				error_message(err));
		return 0;
	}
	/* as the daemon does: only a superblock that passes the checks
	 * gets its bitmaps read (libext2fs trusts s_first_data_block) */
	if ((mode & 4) && !iomap_ext2_check_super(fs, why, sizeof(why)))
		ext2fs_read_bitmaps(fs);	/* may fail: walk without */
	last = fs->super->s_inodes_count;
	if (last > FUZZ_MAX_INODES)
		last = FUZZ_MAX_INODES;
	nmappings = nerrors = 0;
	for (ino = 1; ino <= last; ino++)
		walk_inode(fs, ino);
	if (verbose)
		fprintf(stderr, "ext2map: %s: %u inodes, %lu mappings, %lu "
			"walks failed\n", im->name, last, nmappings, nerrors);
	ext2fs_close_free(&fs);
	return 0;
}
