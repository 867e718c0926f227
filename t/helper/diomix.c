// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * diomix.c - an fsx-style check of coherence between direct and buffered
 * access to one file.  One process (the writer) overwrites random block
 * ranges of FILE through an O_DIRECT descriptor, with synchronous pwrite
 * and with Linux AIO (io_submit, through syscall(2): no libaio), while
 * reader processes read random ranges of the same file through buffered
 * descriptors (pread, using the page cache) and through a shared read-only
 * mapping.  Every 8-byte word of every block carries a stamp: the block
 * number, the word's place in the block, the block's write generation and
 * a check over them (and the seed), so a word torn between two writes, or
 * one from the wrong place, is told from a good one.  The writer
 * publishes, in shared memory, the newest generation of each block whose
 * write has completed.  A reader takes that value for each block before
 * its read begins, and every word it reads must be at least that new: a
 * completed direct write must never be hidden by an older page in the
 * kernel's cache.  A torn word is allowed only where a write of its block
 * was in flight during the read.  At the end every block must read back as the last
 * generation written, through the page cache and through the mapping.
 *
 * The writer's sequence of operations depends on the seed only (AIO writes
 * go in batches of non-overlapping ranges, each batch waited for before the
 * next), so a seed replays the same writes; the readers' interleaving is
 * the scheduler's.
 *
 * Usage: diomix [-s SEED] [-n OPS] [-t SECONDS] [-b BLOCKS] [-w sync|aio|mix]
 *               [-q DEPTH] [-r READERS] [-m MMAP_READERS] [-o REOPEN] FILE
 * Defaults: a seed from the clock (printed), 100000 writes, 10 s (whichever
 * ends first), 64 blocks of 4 KiB, mix, depth 8, 3 readers, 1 mmap reader.
 * With -o N, readers close and open (and map) the file again every N reads,
 * so that at times no buffered descriptor is open while the kernel may
 * still hold the file's pages.
 * FILE is created or truncated, and filled with generation 0.
 * Exit status: 0 coherent, 1 a reader saw stale or wrong data, 2 usage or
 * an I/O error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DM_BLOCK      4096u
#define DM_WORDS      (DM_BLOCK / 8u)
#define DM_MAX_RANGE  4u  /* blocks per write */
#define DM_MAX_READ   8u  /* blocks per read */
#define DM_MAX_DEPTH  64u /* AIO writes in flight */
#define DM_MAX_SHOWN  5u  /* violations printed per reader */
#define DM_MAX_GEN    ((UINT64_C(1) << 24) - 1)
#define DM_MAX_BLOCKS (UINT64_C(1) << 20)

/*
 * A word: generation (24 bits) | block (20) | word in block (9) | check
 * (11).  Written and read as aligned 8-byte words, so a word torn between
 * two writes can only come from a copy that does not move whole words.
 */
#define DM_GEN(w) ((w) >> 40)
#define DM_BLK(w) (((w) >> 20) & (DM_MAX_BLOCKS - 1))
#define DM_IDX(w) (((w) >> 11) & (DM_WORDS - 1))

/* Shared between the writer and the readers (MAP_SHARED, anonymous). */
struct dm_shared {
	atomic_int stop;
	atomic_uint_fast64_t reads;
	atomic_uint_fast64_t mmap_reads;
	atomic_uint_fast64_t fresh; /* reads that saw a newer gen than floor */
	/* Followed by done[blocks] and issued[blocks]. */
	atomic_uint_fast64_t gens[];
};

struct dm_opts {
	uint64_t seed;
	uint64_t ops;
	double seconds;
	uint64_t blocks;
	int mode; /* 0 sync, 1 aio, 2 mix */
	unsigned int depth;
	unsigned int readers;
	unsigned int mmap_readers;
	uint64_t
		reopen; /* reads between reopens of a reader's file; 0: never */
	const char *path;
};

static struct dm_shared *sh;
static const struct dm_opts *opt;

/* Newest generation of block b whose write completed. */
static atomic_uint_fast64_t *dm_done(uint64_t b)
{
	return &sh->gens[b];
}

/* Newest generation of block b submitted (an upper bound for readers). */
static atomic_uint_fast64_t *dm_issued(uint64_t b)
{
	return &sh->gens[opt->blocks + b];
}

/* splitmix64: the seeded sequences. */
static uint64_t dm_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t dm_below(uint64_t *state, uint64_t n)
{
	return dm_rand(state) % n;
}

static uint64_t dm_check_bits(uint64_t gen, uint64_t block, uint64_t idx)
{
	uint64_t z = opt->seed ^ (gen << 40) ^ (block << 20) ^ (idx << 11);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31)) & 0x7ff;
}

static uint64_t dm_word(uint64_t gen, uint64_t block, uint64_t idx)
{
	return gen << 40 | block << 20 | idx << 11 |
	       dm_check_bits(gen, block, idx);
}

/* Whether @w is a well-formed word (not torn, not garbage). */
static bool dm_word_ok(uint64_t w)
{
	return (w & 0x7ff) == dm_check_bits(DM_GEN(w), DM_BLK(w), DM_IDX(w));
}

static void dm_stamp(unsigned char *buf, uint64_t block, uint64_t gen)
{
	uint64_t *words = (uint64_t *)buf, i;

	for (i = 0; i < DM_WORDS; i++)
		words[i] = dm_word(gen, block, i);
}

static double dm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- readers ---------------------------------------------------------- */

/*
 * Check @n blocks from block @b0 read into @buf against @floor (the
 * completed generations before the read began; NULL at the end, where
 * the read must show exactly the last generation).  Returns the number
 * of bad blocks, printing the first few.
 */
static unsigned int dm_check(const char *who, const unsigned char *buf,
			     uint64_t b0, uint64_t n, const uint64_t *floor,
			     unsigned int *shown)
{
	const uint64_t *words = (const uint64_t *)buf;
	unsigned int bad = 0;
	uint64_t b, i, w, lo, hi;
	const char *why;

	for (b = 0; b < n; b++) {
		lo = floor ? floor[b] : atomic_load(dm_done(b0 + b));
		hi = atomic_load(dm_issued(b0 + b));
		for (i = 0; i < DM_WORDS; i++) {
			w = words[b * DM_WORDS + i];
			if (!dm_word_ok(w)) {
				/* Torn: only while a write was in flight. */
				if (floor && hi > lo)
					continue;
				why = "torn or garbage";
			} else if (DM_BLK(w) != b0 + b || DM_IDX(w) != i) {
				why = "from another place";
			} else if (DM_GEN(w) < lo) {
				why = "STALE: older than a completed write";
			} else if (DM_GEN(w) > hi) {
				why = "newer than any write issued";
			} else if (!floor && DM_GEN(w) != lo) {
				why = "not the last write";
			} else {
				continue;
			}
			bad++;
			if ((*shown)++ < DM_MAX_SHOWN)
				fprintf(stderr,
					"diomix: seed %" PRIu64
					": %s: block %" PRIu64 " word %" PRIu64
					": %s: word %#018" PRIx64
					" (generation %" PRIu64
					" block %" PRIu64 " word %" PRIu64
					"), completed generation "
					"%" PRIu64 " before the read, %" PRIu64
					" issued\n",
					opt->seed, who, b0 + b, i, why, w,
					DM_GEN(w), DM_BLK(w), DM_IDX(w), lo,
					hi);
			break; /* one report per block */
		}
	}
	return bad;
}

/* Read @n blocks from block @b0 into @buf, through @map or @fd. */
static int dm_read(const char *who, int fd, const unsigned char *map,
		   unsigned char *buf, uint64_t b0, uint64_t n)
{
	size_t len = n * DM_BLOCK;
	ssize_t r;

	if (map) {
		memcpy(buf, map + b0 * DM_BLOCK, len);
		return 0;
	}
	r = pread(fd, buf, len, (off_t)(b0 * DM_BLOCK));
	if (r == (ssize_t)len)
		return 0;
	fprintf(stderr,
		"diomix: %s: read of blocks %" PRIu64 "+%" PRIu64 ": %s\n", who,
		b0, n, r < 0 ? strerror(errno) : "short");
	return -1;
}

/* Open FILE for a reader, and map it for an mmap reader. */
static int dm_open_reader(const char *who, bool use_mmap, int *fd,
			  unsigned char **map)
{
	*map = NULL;
	*fd = open(opt->path, O_RDONLY);
	if (*fd < 0) {
		fprintf(stderr, "diomix: %s: open %s: %s\n", who, opt->path,
			strerror(errno));
		return -1;
	}
	if (!use_mmap)
		return 0;
	*map = mmap(NULL, opt->blocks * DM_BLOCK, PROT_READ, MAP_SHARED, *fd,
		    0);
	if (*map != MAP_FAILED)
		return 0;
	fprintf(stderr, "diomix: %s: mmap: %s\n", who, strerror(errno));
	*map = NULL;
	close(*fd);
	*fd = -1;
	return -1;
}

static void dm_close_reader(int fd, unsigned char *map)
{
	if (map)
		munmap(map, opt->blocks * DM_BLOCK);
	if (fd >= 0)
		close(fd);
}

/* A reader process: buffered preads, or reads of a shared mapping. */
static int dm_reader(unsigned int idx, bool use_mmap)
{
	uint64_t state = opt->seed * 1000003u + idx + 1;
	uint64_t b0, n, b, w, size = opt->blocks * DM_BLOCK, *floor;
	unsigned char *buf, *map = NULL;
	unsigned int bad = 0, shown = 0;
	uint64_t nreads = 0;
	char who[40];
	int fd = -1, ret = 2;

	snprintf(who, sizeof(who), "%s reader %u",
		 use_mmap ? "mmap" : "buffered", idx);
	buf = malloc(size);
	floor = malloc(opt->blocks * sizeof(*floor));
	if (!buf || !floor) {
		fprintf(stderr, "diomix: out of memory\n");
		goto out_free;
	}
	if (dm_open_reader(who, use_mmap, &fd, &map))
		goto out_free;
	while (!atomic_load(&sh->stop)) {
		/* A new descriptor: the kernel may keep the file's pages
		 * across it, or must drop them at open. */
		if (opt->reopen && ++nreads % opt->reopen == 0) {
			dm_close_reader(fd, map);
			map = NULL;
			if (dm_open_reader(who, use_mmap, &fd, &map)) {
				fd = -1;
				goto out_free;
			}
		}
		/* Now and then the whole file, for the readahead. */
		if (dm_below(&state, 16) == 0) {
			b0 = 0;
			n = opt->blocks;
		} else {
			n = 1 + dm_below(&state, DM_MAX_READ);
			if (n > opt->blocks)
				n = opt->blocks;
			b0 = dm_below(&state, opt->blocks - n + 1);
		}
		for (b = 0; b < n; b++)
			floor[b] = atomic_load(dm_done(b0 + b));
		if (dm_read(who, fd, map, buf, b0, n))
			goto out_free;
		bad += dm_check(who, buf, b0, n, floor, &shown);
		for (b = 0; b < n; b++) {
			w = ((const uint64_t *)buf)[b * DM_WORDS];
			if (dm_word_ok(w) && DM_GEN(w) > floor[b]) {
				atomic_fetch_add(&sh->fresh, 1);
				break;
			}
		}
		atomic_fetch_add(use_mmap ? &sh->mmap_reads : &sh->reads, 1);
	}
	/* The writer has stopped: everything must read as the last
	 * generation, through the cache or the mapping. */
	if (dm_read(who, fd, map, buf, 0, opt->blocks))
		goto out_free;
	snprintf(who + strlen(who), sizeof(who) - strlen(who), ", at the end");
	bad += dm_check(who, buf, 0, opt->blocks, NULL, &shown);
	ret = bad ? 1 : 0;
out_free:
	dm_close_reader(fd, map);
	free(floor);
	free(buf);
	return ret;
}

/* --- the writer ------------------------------------------------------- */

static long dm_io_setup(unsigned int nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long dm_io_destroy(aio_context_t ctx)
{
	return syscall(SYS_io_destroy, ctx);
}

static long dm_io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, nr, iocbs);
}

static long dm_io_getevents(aio_context_t ctx, long min_nr, long nr,
			    struct io_event *ev)
{
	return syscall(SYS_io_getevents, ctx, min_nr, nr, ev, NULL);
}

struct dm_write {
	uint64_t b0, n;
	unsigned char *buf;
};

/* Prepare write @w: next generation of each of its blocks. */
static void dm_prepare(struct dm_write *w)
{
	uint64_t b, gen;

	for (b = 0; b < w->n; b++) {
		gen = atomic_load(dm_issued(w->b0 + b)) + 1;
		dm_stamp(w->buf + b * DM_BLOCK, w->b0 + b, gen);
		atomic_store(dm_issued(w->b0 + b), gen);
	}
}

/* Write @w completed: publish its generations. */
static void dm_complete(const struct dm_write *w)
{
	const uint64_t *words = (const uint64_t *)w->buf;
	uint64_t b;

	for (b = 0; b < w->n; b++)
		atomic_store(dm_done(w->b0 + b), DM_GEN(words[b * DM_WORDS]));
}

/* Pick a range for a write that overlaps none of @w[0..k). */
static bool dm_pick(uint64_t *state, struct dm_write *w, unsigned int k)
{
	unsigned int tries, j;
	uint64_t n, b0;
	bool clash;

	for (tries = 0; tries < 16; tries++) {
		n = 1 + dm_below(state, DM_MAX_RANGE);
		if (n > opt->blocks)
			n = opt->blocks;
		b0 = dm_below(state, opt->blocks - n + 1);
		clash = false;
		for (j = 0; j < k && !clash; j++)
			clash = b0 < w[j].b0 + w[j].n && w[j].b0 < b0 + n;
		if (!clash) {
			w[k].b0 = b0;
			w[k].n = n;
			return true;
		}
	}
	return false;
}

static int dm_writer(int fd, uint64_t *done_ops, uint64_t *aio_ops)
{
	struct dm_write w[DM_MAX_DEPTH];
	struct iocb cb[DM_MAX_DEPTH], *cbp[DM_MAX_DEPTH];
	struct io_event ev[DM_MAX_DEPTH];
	uint64_t state = opt->seed, ops = 0, naio = 0;
	aio_context_t ctx = 0;
	double end = dm_now() + opt->seconds;
	unsigned int k, nr, got;
	bool aio;
	long r;
	int ret = 0;

	memset(w, 0, sizeof(w));
	for (k = 0; k < opt->depth; k++) {
		if (posix_memalign((void **)&w[k].buf, DM_BLOCK,
				   DM_MAX_RANGE * DM_BLOCK)) {
			fprintf(stderr, "diomix: out of memory\n");
			ret = 2;
			goto out_free;
		}
	}
	if (opt->mode != 0 && dm_io_setup(opt->depth, &ctx) < 0) {
		fprintf(stderr, "diomix: io_setup: %s\n", strerror(errno));
		ret = 2;
		goto out_free;
	}
	while (ops < opt->ops && dm_now() < end) {
		aio = opt->mode == 1 || (opt->mode == 2 && dm_below(&state, 2));
		if (!aio) {
			dm_pick(&state, w, 0);
			dm_prepare(&w[0]);
			r = pwrite(fd, w[0].buf, w[0].n * DM_BLOCK,
				   (off_t)(w[0].b0 * DM_BLOCK));
			if (r != (long)(w[0].n * DM_BLOCK)) {
				fprintf(stderr,
					"diomix: seed %" PRIu64 ": op %" PRIu64
					": pwrite: %s\n",
					opt->seed, ops,
					r < 0 ? strerror(errno) : "short");
				ret = 2;
				break;
			}
			dm_complete(&w[0]);
			ops++;
			continue;
		}
		/* A batch of non-overlapping AIO writes. */
		nr = 1 + (unsigned int)dm_below(&state, opt->depth);
		for (k = 0; k < nr; k++) {
			if (!dm_pick(&state, w, k))
				break;
			dm_prepare(&w[k]);
			memset(&cb[k], 0, sizeof(cb[k]));
			cb[k].aio_lio_opcode = IOCB_CMD_PWRITE;
			cb[k].aio_fildes = (uint32_t)fd;
			cb[k].aio_buf = (uint64_t)(uintptr_t)w[k].buf;
			cb[k].aio_nbytes = w[k].n * DM_BLOCK;
			cb[k].aio_offset = (int64_t)(w[k].b0 * DM_BLOCK);
			cb[k].aio_data = k;
			cbp[k] = &cb[k];
		}
		nr = k;
		r = dm_io_submit(ctx, nr, cbp);
		if (r != (long)nr) {
			fprintf(stderr,
				"diomix: seed %" PRIu64 ": op %" PRIu64
				": io_submit of %u: %s\n",
				opt->seed, ops, nr,
				r < 0 ? strerror(errno) : "partial");
			ret = 2;
			break; /* io_destroy waits for what was submitted */
		}
		for (got = 0; got < nr;) {
			r = dm_io_getevents(ctx, 1, nr - got, ev);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fprintf(stderr, "diomix: io_getevents: %s\n",
					r < 0 ? strerror(errno) : "none");
				ret = 2;
				goto out_destroy;
			}
			for (k = 0; k < (unsigned int)r; k++) {
				struct dm_write *d = &w[ev[k].data];

				if (ev[k].res != (int64_t)(d->n * DM_BLOCK)) {
					fprintf(stderr,
						"diomix: seed %" PRIu64
						": AIO write of block %" PRIu64
						": %s\n",
						opt->seed, d->b0,
						ev[k].res < 0
							? strerror((int)-ev[k]
									   .res)
							: "short");
					ret = 2;
					goto out_destroy;
				}
				dm_complete(d);
			}
			got += (unsigned int)r;
		}
		ops += nr;
		naio += nr;
	}
out_destroy:
	if (ctx)
		dm_io_destroy(ctx);
out_free:
	for (k = 0; k < opt->depth; k++)
		free(w[k].buf);
	*done_ops = ops;
	*aio_ops = naio;
	return ret;
}

/* Create FILE with generation 0 in every block. */
static int dm_fill(int fd)
{
	unsigned char *buf;
	uint64_t b;
	int ret = 0;

	if (ftruncate(fd, 0) < 0 ||
	    posix_memalign((void **)&buf, DM_BLOCK, DM_BLOCK)) {
		fprintf(stderr, "diomix: %s: %s\n", opt->path, strerror(errno));
		return 2;
	}
	for (b = 0; b < opt->blocks && !ret; b++) {
		dm_stamp(buf, b, 0);
		if (pwrite(fd, buf, DM_BLOCK, (off_t)(b * DM_BLOCK)) !=
		    (ssize_t)DM_BLOCK) {
			fprintf(stderr, "diomix: %s: fill: %s\n", opt->path,
				strerror(errno));
			ret = 2;
		}
	}
	free(buf);
	if (!ret && fsync(fd) < 0) {
		fprintf(stderr, "diomix: %s: fsync: %s\n", opt->path,
			strerror(errno));
		ret = 2;
	}
	return ret;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: diomix [-s SEED] [-n OPS] [-t SECONDS] [-b BLOCKS] "
		"[-w sync|aio|mix]\n"
		"              [-q DEPTH] [-r READERS] [-m MMAP_READERS] "
		"FILE\n");
	return 2;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct dm_opts o = {
		.ops = 100000,
		.seconds = 10,
		.blocks = 64,
		.mode = 2,
		.depth = 8,
		.readers = 3,
		.mmap_readers = 1,
	};
	uint64_t v, ops = 0, aio_ops = 0;
	bool seeded = false;
	unsigned int i, nproc, bad = 0, err = 0;
	pid_t *pids;
	size_t shsize;
	int c, fd, ret, status;
	double t0;

	while ((c = getopt(argc, argv, "s:n:t:b:w:q:r:m:o:")) != -1) {
		switch (c) {
		case 's':
			if (parse_uint(optarg, UINT64_MAX, &o.seed))
				return usage();
			seeded = true;
			break;
		case 'n':
			/* A block's generation fits in DM_MAX_GEN. */
			if (parse_uint(optarg, DM_MAX_GEN, &o.ops))
				return usage();
			break;
		case 't':
			if (parse_uint(optarg, 3600, &v))
				return usage();
			o.seconds = (double)v;
			break;
		case 'b':
			if (parse_uint(optarg, DM_MAX_BLOCKS, &o.blocks) ||
			    o.blocks == 0)
				return usage();
			break;
		case 'w':
			if (!strcmp(optarg, "sync"))
				o.mode = 0;
			else if (!strcmp(optarg, "aio"))
				o.mode = 1;
			else if (!strcmp(optarg, "mix"))
				o.mode = 2;
			else
				return usage();
			break;
		case 'q':
			if (parse_uint(optarg, DM_MAX_DEPTH, &v) || v == 0)
				return usage();
			o.depth = (unsigned int)v;
			break;
		case 'r':
			if (parse_uint(optarg, 64, &v))
				return usage();
			o.readers = (unsigned int)v;
			break;
		case 'm':
			if (parse_uint(optarg, 64, &v))
				return usage();
			o.mmap_readers = (unsigned int)v;
			break;
		case 'o':
			if (parse_uint(optarg, UINT64_MAX, &o.reopen))
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	o.path = argv[optind];
	if (!seeded)
		o.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	opt = &o;
	printf("diomix: seed %" PRIu64 ", %" PRIu64 " blocks, writer %s\n",
	       o.seed, o.blocks,
	       o.mode == 0   ? "sync"
	       : o.mode == 1 ? "aio"
			     : "mix");
	fflush(stdout);

	shsize = sizeof(*sh) + 2 * o.blocks * sizeof(sh->gens[0]);
	sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fprintf(stderr, "diomix: mmap: %s\n", strerror(errno));
		return 2;
	}
	fd = open(o.path, O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (fd < 0) {
		fprintf(stderr, "diomix: open %s with O_DIRECT: %s\n", o.path,
			strerror(errno));
		return 2;
	}
	ret = dm_fill(fd);
	if (ret)
		return ret;

	nproc = o.readers + o.mmap_readers;
	pids = calloc(nproc ? nproc : 1, sizeof(*pids));
	if (!pids) {
		fprintf(stderr, "diomix: out of memory\n");
		return 2;
	}
	for (i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			fprintf(stderr, "diomix: fork: %s\n", strerror(errno));
			atomic_store(&sh->stop, 1);
			nproc = i;
			err++;
			break;
		}
		if (pids[i] == 0)
			_exit(dm_reader(i, i >= o.readers));
	}
	t0 = dm_now();
	if (!err)
		ret = dm_writer(fd, &ops, &aio_ops);
	atomic_store(&sh->stop, 1);
	for (i = 0; i < nproc; i++) {
		if (waitpid(pids[i], &status, 0) < 0) {
			err++;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			bad++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			err++;
	}
	printf("diomix: %" PRIu64 " writes (%" PRIu64 " AIO) in %.1f s, "
	       "%" PRIu64 " buffered reads, %" PRIu64 " mmap reads, "
	       "%" PRIu64 " saw a newer write than the last completed\n",
	       ops, aio_ops, dm_now() - t0, (uint64_t)atomic_load(&sh->reads),
	       (uint64_t)atomic_load(&sh->mmap_reads),
	       (uint64_t)atomic_load(&sh->fresh));
	free(pids);
	close(fd);
	if (bad) {
		printf("diomix: seed %" PRIu64 ": %u of %u readers saw stale "
		       "or wrong data\n",
		       o.seed, bad, nproc);
		return 1;
	}
	if (ret || err)
		return 2;
	return 0;
}
