// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-extent.c - a differential test of the daemon's extent work
 * (daemon/extent.c) on a real image: a seeded random sequence of unwritten
 * allocation (fallocate), writes (allocate the holes, then convert the
 * unwritten blocks to written, as the data path does) and punches on a few
 * files, with every file's extent tree compared after every step against a
 * simple model: for each file block, hole, unwritten or written, and at
 * which device block.  Blocks keep their device block until punched, a new
 * block is marked in the bitmap and belongs to no other file block, a
 * punched one is free again, i_blocks counts the data and the tree blocks,
 * extents are sorted, disjoint and within their length limits, and right
 * after a conversion the converted range is merged with a written
 * neighbour that continues it on the device.  The files are interleaved on
 * the device, so the trees grow index levels and split leaves.
 *
 * Usage: test-extent [-s SEED] [-n STEPS] [-f FILES] [-b BLOCKS] [-v] [IMG]
 * Defaults: seed 1, 600 steps, 3 files of up to 2048 blocks.  IMG is an
 * ext4 image (made by the caller), written in place; run e2fsck on it
 * afterwards.  Without IMG it makes a 64 MiB image of its own with mke2fs,
 * runs e2fsck -fn on it at the end, and removes it.  A failure prints the seed, the step, what differs, the
 * file's extents and the last operations; the verdict is TAP.  Exit
 * status: 0 passed, 1 a check failed, 2 usage or set-up error.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "extent.h"
#include "tap.h"

#define TE_MAX_FILES 8u
#define TE_MAX_RANGE 64u /* blocks per operation */
#define TE_HISTORY   16u
#define TE_MAX_TREE  4096u /* tree blocks of one file remembered */

enum te_state { TE_HOLE = 0, TE_UNWRITTEN, TE_WRITTEN };

enum te_op { TE_ALLOC, TE_WRITE, TE_PUNCH, TE_ZERO, TE_NOPS };

static const char *const te_op_names[TE_NOPS] = {
	[TE_ALLOC] = "alloc",
	[TE_WRITE] = "write",
	[TE_PUNCH] = "punch",
	[TE_ZERO] = "zero",
};

struct te_file {
	ext2_ino_t ino;
	struct ext2_inode inode;
	unsigned char *state; /* enum te_state per file block */
	blk64_t *pblk;	      /* device block of each mapped file block */
};

struct te_rec {
	uint64_t step;
	enum te_op op;
	unsigned int file;
	blk64_t start, end;
};

static struct {
	uint64_t seed, steps, state;
	unsigned int nfiles;
	blk64_t blocks; /* file blocks per file */
	bool verbose;
	ext2_filsys fs;
	struct te_file files[TE_MAX_FILES];
	/* Owner of each device block: 0 free here, else file * blocks +
	 * lblk + 1 (blocks the model does not know of are left 0). */
	uint64_t *owner;
	struct te_rec hist[TE_HISTORY];
	uint64_t nhist;
	uint64_t step;
	/* The tree blocks of the file last walked. */
	blk64_t tree[TE_MAX_TREE];
	unsigned int ntree;
} te;

static uint64_t te_rand(void)
{
	uint64_t z = (te.state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t te_below(uint64_t n)
{
	return n ? te_rand() % n : 0;
}

static const char *te_state_name(int s)
{
	return s == TE_HOLE	   ? "hole"
	       : s == TE_UNWRITTEN ? "unwritten"
				   : "written";
}

static void te_history(void)
{
	uint64_t i = te.nhist > TE_HISTORY ? te.nhist - TE_HISTORY : 0;
	const struct te_rec *r;

	fprintf(stderr, "test-extent: seed %" PRIu64 ": the last operations:\n",
		te.seed);
	for (; i < te.nhist; i++) {
		r = &te.hist[i % TE_HISTORY];
		fprintf(stderr,
			"  step %6" PRIu64 ": %-5s file %u blocks %llu-%llu\n",
			r->step, te_op_names[r->op], r->file,
			(unsigned long long)r->start,
			(unsigned long long)r->end);
	}
}

static void te_dump_extents(struct te_file *f)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	unsigned int n = 0;
	int op;

	if (ext2fs_extent_open2(te.fs, f->ino, &f->inode, &h))
		return;
	fprintf(stderr, "test-extent: the extents of inode %u:\n", f->ino);
	for (op = EXT2_EXTENT_ROOT; n < 64; op = EXT2_EXTENT_NEXT) {
		if (ext2fs_extent_get(h, op, &ex))
			break;
		if (ex.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
			continue;
		fprintf(stderr, "  %s %llu-%llu -> %llu (%u)%s\n",
			ex.e_flags & EXT2_EXTENT_FLAGS_LEAF ? "leaf " : "index",
			(unsigned long long)ex.e_lblk,
			(unsigned long long)(ex.e_lblk + ex.e_len - 1),
			(unsigned long long)ex.e_pblk, ex.e_len,
			ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT ? " unwritten"
							      : "");
		n++;
	}
	ext2fs_extent_free(h);
}

static __attribute__((format(printf, 2, 3))) int te_fail(struct te_file *f,
							 const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test-extent: seed %" PRIu64 " step %" PRIu64 ": ",
		te.seed, te.step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (f)
		te_dump_extents(f);
	te_history();
	return 1;
}

static int te_err(struct te_file *f, const char *what, errcode_t err)
{
	return te_fail(f, "%s: %s", what, error_message(err));
}

/* Read the file's leaf extents into the scratch model (@st, @pb). */
static int te_walk(struct te_file *f, unsigned char *st, blk64_t *pb,
		   blk64_t *tree_blocks)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	blk64_t next = 0, b, max;
	errcode_t err;
	int op;

	memset(st, 0, te.blocks);
	*tree_blocks = 0;
	te.ntree = 0;
	err = ext2fs_extent_open2(te.fs, f->ino, &f->inode, &h);
	if (err)
		return te_err(f, "extent_open2", err);
	for (op = EXT2_EXTENT_ROOT;; op = EXT2_EXTENT_NEXT) {
		err = ext2fs_extent_get(h, op, &ex);
		if (err == EXT2_ET_EXTENT_NO_NEXT)
			break;
		if (err) {
			ext2fs_extent_free(h);
			return te_err(f, "extent_get", err);
		}
		if (ex.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
			continue;
		if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF)) {
			(*tree_blocks)++; /* an index entry: one child block */
			if (te.ntree < TE_MAX_TREE)
				te.tree[te.ntree++] = ex.e_pblk;
			continue;
		}
		max = ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT ? EXT_UNINIT_MAX_LEN
							    : EXT_INIT_MAX_LEN;
		if (ex.e_len == 0 || ex.e_len > max || ex.e_lblk < next ||
		    ex.e_lblk + ex.e_len > te.blocks ||
		    ex.e_pblk < te.fs->super->s_first_data_block ||
		    ex.e_pblk + ex.e_len > ext2fs_blocks_count(te.fs->super)) {
			ext2fs_extent_free(h);
			return te_fail(
				f,
				"bad extent %llu-%llu -> %llu (%u)%s: "
				"out of order, overlapping, too long, "
				"past block %llu or off the device",
				(unsigned long long)ex.e_lblk,
				(unsigned long long)(ex.e_lblk + ex.e_len - 1),
				(unsigned long long)ex.e_pblk, ex.e_len,
				ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT
					? " unwritten"
					: "",
				(unsigned long long)te.blocks - 1);
		}
		for (b = 0; b < ex.e_len; b++) {
			st[ex.e_lblk + b] =
				ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT
					? TE_UNWRITTEN
					: TE_WRITTEN;
			pb[ex.e_lblk + b] = ex.e_pblk + b;
		}
		next = ex.e_lblk + ex.e_len;
	}
	ext2fs_extent_free(h);
	return 0;
}

/*
 * Compare file @fi with its model.  Blocks in [ns, ne] the model expects
 * to have become unwritten (@fresh) take their device block from the tree.
 */
static int te_check(unsigned int fi, unsigned char *st, blk64_t *pb)
{
	struct te_file *f = &te.files[fi];
	blk64_t b, tree, mapped = 0;
	uint64_t own;
	int ret;

	ret = te_walk(f, st, pb, &tree);
	if (ret)
		return ret;
	for (b = 0; b < te.blocks; b++) {
		if (st[b] != f->state[b])
			return te_fail(f,
				       "file %u block %llu: expected %s, found "
				       "%s",
				       fi, (unsigned long long)b,
				       te_state_name(f->state[b]),
				       te_state_name(st[b]));
		if (st[b] == TE_HOLE)
			continue;
		mapped++;
		if (f->pblk[b] == 0) {
			/* Newly allocated: free in the model, marked in the
			 * bitmap. */
			own = te.owner[pb[b]];
			if (own)
				return te_fail(f,
					       "file %u block %llu got device "
					       "block %llu, which belongs to "
					       "file %llu block %llu",
					       fi, (unsigned long long)b,
					       (unsigned long long)pb[b],
					       (unsigned long long)(own - 1) /
						       te.blocks,
					       (unsigned long long)(own - 1) %
						       te.blocks);
			f->pblk[b] = pb[b];
			te.owner[pb[b]] = fi * te.blocks + b + 1;
		} else if (f->pblk[b] != pb[b]) {
			return te_fail(f,
				       "file %u block %llu moved from device "
				       "block %llu to %llu",
				       fi, (unsigned long long)b,
				       (unsigned long long)f->pblk[b],
				       (unsigned long long)pb[b]);
		}
		if (!ext2fs_test_block_bitmap2(te.fs->block_map, pb[b]))
			return te_fail(f,
				       "file %u block %llu: device block %llu "
				       "is free in the bitmap",
				       fi, (unsigned long long)b,
				       (unsigned long long)pb[b]);
	}
	if (ext2fs_get_stat_i_blocks(te.fs, &f->inode) !=
	    (mapped + tree) * (te.fs->blocksize / 512))
		return te_fail(f,
			       "file %u: i_blocks %llu, expected %llu (%llu "
			       "data and %llu tree blocks)",
			       fi,
			       (unsigned long long)ext2fs_get_stat_i_blocks(
				       te.fs, &f->inode),
			       (unsigned long long)((mapped + tree) *
						    (te.fs->blocksize / 512)),
			       (unsigned long long)mapped,
			       (unsigned long long)tree);
	return 0;
}

/* The leaf extent holding file block @lblk, if any. */
static bool te_extent_at(ext2_extent_handle_t h, blk64_t lblk,
			 struct ext2fs_extent *ex)
{
	return !ext2fs_extent_goto(h, lblk) &&
	       !ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, ex);
}

/*
 * After converting [s, e]: the written extents at both ends must have
 * taken in a written neighbour that continues them in the file and on
 * the device, when the two fit in one extent.
 */
static int te_check_joined(struct te_file *f, blk64_t s, blk64_t e)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent a, b;
	blk64_t ends[2] = {s ? s - 1 : s, e};
	bool joinable;
	int i, ret = 0;

	if (ext2fs_extent_open2(te.fs, f->ino, &f->inode, &h))
		return te_fail(f, "extent_open2 failed");
	for (i = 0; i < 2 && !ret; i++) {
		if (!te_extent_at(h, ends[i], &a) ||
		    ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &b) ||
		    b.e_lblk <= a.e_lblk)
			continue;
		joinable = !(a.e_flags & EXT2_EXTENT_FLAGS_UNINIT) &&
			   !(b.e_flags & EXT2_EXTENT_FLAGS_UNINIT) &&
			   a.e_lblk + a.e_len == b.e_lblk &&
			   a.e_pblk + a.e_len == b.e_pblk &&
			   a.e_len + b.e_len <= EXT_INIT_MAX_LEN &&
			   b.e_lblk >= s && a.e_lblk <= e + 1;
		if (joinable)
			ret = te_fail(
				f,
				"after converting %llu-%llu, written "
				"extents %llu-%llu and %llu-%llu continue "
				"each other on the device but were not "
				"joined",
				(unsigned long long)s, (unsigned long long)e,
				(unsigned long long)a.e_lblk,
				(unsigned long long)(a.e_lblk + a.e_len - 1),
				(unsigned long long)b.e_lblk,
				(unsigned long long)(b.e_lblk + b.e_len - 1));
	}
	ext2fs_extent_free(h);
	return ret;
}

static int te_write_inode(struct te_file *f)
{
	errcode_t err = ext2fs_write_inode(te.fs, f->ino, &f->inode);

	return err ? te_err(f, "write_inode", err) : 0;
}

/* Allocate the holes of [s, e] as unwritten (extent_alloc()). */
static int te_alloc(unsigned int fi, blk64_t s, blk64_t e)
{
	struct te_file *f = &te.files[fi];
	errcode_t err;
	blk64_t b;

	err = extent_alloc(te.fs, f->ino, &f->inode, s, e);
	if (err)
		return te_err(f, "extent_alloc", err);
	for (b = s; b <= e; b++) {
		if (f->state[b] == TE_HOLE) {
			f->state[b] = TE_UNWRITTEN;
			f->pblk[b] = 0; /* learnt from the tree */
		}
	}
	return te_write_inode(f);
}

static bool te_is_tree_block(blk64_t pblk)
{
	unsigned int i;

	for (i = 0; i < te.ntree; i++)
		if (te.tree[i] == pblk)
			return true;
	return false;
}

/* Punch [s, e] (extent_punch()): the blocks are free again, unless the
 * punch took one back for the tree. */
static int te_punch(unsigned int fi, blk64_t s, blk64_t e, unsigned char *st,
		    blk64_t *pb)
{
	struct te_file *f = &te.files[fi];
	blk64_t b, tree;
	errcode_t err;
	int ret;

	err = extent_punch(te.fs, f->ino, &f->inode, s, e);
	if (err)
		return te_err(f, "extent_punch", err);
	ret = te_walk(f, st, pb, &tree);
	if (ret)
		return ret;
	for (b = s; b <= e; b++) {
		if (f->state[b] == TE_HOLE)
			continue;
		if (ext2fs_test_block_bitmap2(te.fs->block_map, f->pblk[b]) &&
		    !te_is_tree_block(f->pblk[b]))
			return te_fail(f,
				       "file %u block %llu punched, but its "
				       "device block %llu is still in use",
				       fi, (unsigned long long)b,
				       (unsigned long long)f->pblk[b]);
		te.owner[f->pblk[b]] = 0;
		f->state[b] = TE_HOLE;
		f->pblk[b] = 0;
	}
	return te_write_inode(f);
}

/*
 * A write of [s, e], as the data path does it: allocate the holes, then
 * convert each run of unwritten blocks, in order, to written.
 */
static int te_write(unsigned int fi, blk64_t s, blk64_t e, unsigned char *st,
		    blk64_t *pb)
{
	struct te_file *f = &te.files[fi];
	ext2_extent_handle_t h;
	blk64_t b, a, done;
	errcode_t err;
	int ret;

	ret = te_alloc(fi, s, e);
	if (!ret)
		ret = te_check(fi, st, pb); /* learn the new blocks */
	if (ret)
		return ret;
	err = ext2fs_extent_open2(te.fs, f->ino, &f->inode, &h);
	if (err)
		return te_err(f, "extent_open2", err);
	for (b = s; b <= e;) {
		if (f->state[b] != TE_UNWRITTEN) {
			b++;
			continue;
		}
		for (a = b; b <= e && f->state[b] == TE_UNWRITTEN; b++)
			f->state[b] = TE_WRITTEN;
		err = extent_convert(h, a, b - 1, &done);
		if (err) {
			ext2fs_extent_free(h);
			return te_err(f, "extent_convert", err);
		}
		if (done != b) {
			ext2fs_extent_free(h);
			return te_fail(f,
				       "converting %llu-%llu: done %llu, "
				       "expected %llu",
				       (unsigned long long)a,
				       (unsigned long long)(b - 1),
				       (unsigned long long)done,
				       (unsigned long long)b);
		}
	}
	ext2fs_extent_free(h);
	ret = te_write_inode(f);
	if (!ret)
		ret = te_check(fi, st, pb);
	if (!ret)
		ret = te_check_joined(f, s, e);
	return ret;
}

static int te_step(unsigned char *st, blk64_t *pb)
{
	enum te_op op = (enum te_op)te_below(TE_NOPS);
	unsigned int fi = (unsigned int)te_below(te.nfiles);
	blk64_t s = te_below(te.blocks), n = 1 + te_below(TE_MAX_RANGE), e;
	struct te_rec *r = &te.hist[te.nhist++ % TE_HISTORY];
	int ret;

	/* Writes and allocations more often than punches. */
	if (op == TE_PUNCH && te_below(2))
		op = TE_WRITE;
	e = s + n - 1 < te.blocks ? s + n - 1 : te.blocks - 1;
	*r = (struct te_rec){te.step, op, fi, s, e};
	if (te.verbose)
		printf("step %" PRIu64 ": %s file %u %llu-%llu\n", te.step,
		       te_op_names[op], fi, (unsigned long long)s,
		       (unsigned long long)e);
	switch (op) {
	case TE_ALLOC:
		ret = te_alloc(fi, s, e);
		break;
	case TE_WRITE:
		return te_write(fi, s, e, st, pb);
	case TE_PUNCH:
		ret = te_punch(fi, s, e, st, pb);
		break;
	default: /* zero range: punch, then unwritten blocks again */
		ret = te_punch(fi, s, e, st, pb);
		if (!ret)
			ret = te_alloc(fi, s, e);
		break;
	}
	return ret ? ret : te_check(fi, st, pb);
}

/* A new empty extent-mapped regular file, linked in the root. */
static int te_new_file(unsigned int fi)
{
	struct te_file *f = &te.files[fi];
	ext2_extent_handle_t h;
	char name[32];
	errcode_t err;

	err = ext2fs_new_inode(te.fs, EXT2_ROOT_INO, LINUX_S_IFREG | 0644, NULL,
			       &f->ino);
	if (err)
		return te_err(NULL, "new_inode", err);
	ext2fs_inode_alloc_stats2(te.fs, f->ino, +1, 0);
	memset(&f->inode, 0, sizeof(f->inode));
	f->inode.i_mode = LINUX_S_IFREG | 0644;
	f->inode.i_links_count = 1;
	f->inode.i_flags = EXT4_EXTENTS_FL;
	err = ext2fs_inode_size_set(te.fs, &f->inode,
				    (uint64_t)te.blocks * te.fs->blocksize);
	if (!err)
		err = ext2fs_write_new_inode(te.fs, f->ino, &f->inode);
	/* An empty i_block gets its extent header at open. */
	if (!err)
		err = ext2fs_extent_open2(te.fs, f->ino, &f->inode, &h);
	if (err)
		return te_err(NULL, "setting up a file", err);
	ext2fs_extent_free(h);
	snprintf(name, sizeof(name), "model-%" PRIu64 "-%u", te.seed, fi);
	err = ext2fs_link(te.fs, EXT2_ROOT_INO, name, f->ino, EXT2_FT_REG_FILE);
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(te.fs, EXT2_ROOT_INO);
		if (!err)
			err = ext2fs_link(te.fs, EXT2_ROOT_INO, name, f->ino,
					  EXT2_FT_REG_FILE);
	}
	if (!err)
		err = ext2fs_write_inode(te.fs, f->ino, &f->inode);
	if (err)
		return te_err(NULL, "linking a file", err);
	f->state = calloc(te.blocks, 1);
	f->pblk = calloc(te.blocks, sizeof(*f->pblk));
	if (!f->state || !f->pblk)
		return te_fail(NULL, "out of memory");
	return 0;
}

static int te_parse(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int te_usage(void)
{
	fprintf(stderr, "usage: test-extent [-s SEED] [-n STEPS] [-f FILES] "
			"[-b BLOCKS] [-v] [IMG]\n");
	return 2;
}

/* Run shell command @cmd; returns its exit status (-1: not run). */
static int te_run(const char *cmd)
{
	int rc;

	fflush(stdout);
	rc = system(cmd);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* Make a fresh image in a new directory under $TMPDIR: "DIR/te.img". */
static int te_make_image(char *dir, size_t dir_size, char *img, size_t img_size)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[1024];

	snprintf(dir, dir_size, "%s/test-extent.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "test-extent: mkdtemp %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	snprintf(img, img_size, "%s/te.img", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && truncate -s 64M te.img && "
		 "PATH=/usr/sbin:/sbin:$PATH mke2fs -q -F -t ext4 -b 4096 "
		 "te.img >/dev/null 2>&1",
		 dir);
	if (te_run(cmd)) {
		fprintf(stderr, "test-extent: mke2fs failed in %s\n", dir);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[512] = "", own_img[600], cmd[1400];
	unsigned char *st = NULL;
	const char *img;
	blk64_t *pb = NULL;
	uint64_t v;
	unsigned int i;
	errcode_t err;
	int c, ret = 0;

	te.seed = 1;
	te.steps = 600;
	te.nfiles = 3;
	te.blocks = 2048;
	while ((c = getopt(argc, argv, "s:n:f:b:v")) != -1) {
		switch (c) {
		case 's':
			if (te_parse(optarg, &te.seed))
				return te_usage();
			break;
		case 'n':
			if (te_parse(optarg, &te.steps))
				return te_usage();
			break;
		case 'f':
			if (te_parse(optarg, &v) || v == 0 || v > TE_MAX_FILES)
				return te_usage();
			te.nfiles = (unsigned int)v;
			break;
		case 'b':
			if (te_parse(optarg, &v) || v == 0 || v > (1u << 20))
				return te_usage();
			te.blocks = v;
			break;
		case 'v':
			te.verbose = true;
			break;
		default:
			return te_usage();
		}
	}
	if (optind < argc - 1)
		return te_usage();
	if (optind == argc - 1) {
		img = argv[optind];
	} else {
		if (te_make_image(dir, sizeof(dir), own_img, sizeof(own_img)))
			return 2;
		img = own_img;
	}
	te.state = te.seed;
	initialize_ext2_error_table();
	err = ext2fs_open2(img, NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
			   unix_io_manager, &te.fs);
	if (!err)
		err = extent_nocache(te.fs);
	if (err) {
		fprintf(stderr, "test-extent: %s: %s\n", img,
			error_message(err));
		return 2;
	}
	te.owner = calloc(ext2fs_blocks_count(te.fs->super), sizeof(*te.owner));
	st = malloc(te.blocks);
	pb = malloc(te.blocks * sizeof(*pb));
	if (!te.owner || !st || !pb) {
		fprintf(stderr, "test-extent: out of memory\n");
		return 2;
	}
	for (i = 0; i < te.nfiles && !ret; i++)
		ret = te_new_file(i) ? 2 : 0;
	for (te.step = 1; te.step <= te.steps && !ret; te.step++)
		ret = te_step(st, pb);
	err = ext2fs_close_free(&te.fs);
	if (err && !ret) {
		fprintf(stderr, "test-extent: closing: %s\n",
			error_message(err));
		ret = 2;
	}
	tap_ok(!ret,
	       "seed %" PRIu64 ": %" PRIu64 " steps on %u files, every extent "
	       "tree as the model says",
	       te.seed, te.steps, te.nfiles);
	if (*dir) {
		snprintf(cmd, sizeof(cmd),
			 "PATH=/usr/sbin:/sbin:$PATH e2fsck -fn '%s' >&2", img);
		tap_ok(!ret && !te_run(cmd),
		       "e2fsck -fn finds the image clean");
		if (!tap_failed) {
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
			te_run(cmd);
		} else {
			tap_diag("the image is kept: %s", img);
		}
	}
	for (i = 0; i < te.nfiles; i++) {
		free(te.files[i].state);
		free(te.files[i].pblk);
	}
	free(te.owner);
	free(st);
	free(pb);
	ret = ret == 2 ? 2 : tap_done();
	return ret;
}
