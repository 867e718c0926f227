// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fsxlite.c - a small fsx: a seeded random sequence of writes, reads,
 * truncates and fallocate calls (preallocate, keep-size preallocate, punch
 * hole, zero range), and with -M reads and writes through shared mappings
 * (msync'd, as fsx's mapread and mapwrite), and with -f fsync and
 * fdatasync, and with -D reads through a second descriptor opened
 * with O_DIRECT (which must see every completed write, even one the
 * kernel still holds in dirty pages), on one file, checked against a copy
 * of what the file must hold.  Every read compares its bytes with the copy, every size
 * change is checked with fstat, and the whole file is compared every
 * CHECK operations and at the end.  A mismatch prints the offset, the
 * expected and the found bytes and the last operations, and exits 1.
 * The same seed replays the same operations.
 *
 * Usage: fsxlite [-s SEED] [-n OPS] [-l MAXLEN] [-c CHECK] [-Z] [-M] [-f]
 *                [-v] FILE
 *   -Z  O_DIRECT reads and writes, every offset and length a multiple of
 *       4096 (as fsx -Z with aligned I/O)
 *   -M  also read and write through mmap(MAP_SHARED), msync after writes
 *       (not with -Z: a direct-I/O descriptor cannot be mapped shared)
 *   -f  also fsync and fdatasync
 *   -D  also aligned O_DIRECT reads through a second descriptor
 *   -w GOOD  at the end, write what the file must hold to GOOD (to compare
 *       with the file once it went through an unmount)
 *   -v  print every operation
 * Defaults: seed 1, 10000 operations, files up to 256 KiB, a full check
 * every 1000 operations.  FILE is created or truncated.
 * Exit status: 0 all checks passed, 1 a check failed, 2 usage or an
 * unexpected error of a system call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FX_ALIGN    4096u
#define FX_HISTORY  32u
#define FX_MAX_SHOW 16u

enum fx_op {
	FX_READ,
	FX_WRITE,
	FX_TRUNCATE,
	FX_FALLOC,
	FX_FALLOC_KEEP,
	FX_PUNCH,
	FX_ZERO,
	FX_ZERO_KEEP,
	FX_MAPREAD,  /* with -M */
	FX_MAPWRITE, /* with -M */
	FX_FSYNC,    /* with -f */
	FX_FDATASYNC,
	FX_DREAD, /* with -D */
	FX_NOPS,
};

static const char *const fx_names[FX_NOPS] = {
	[FX_READ] = "read",
	[FX_WRITE] = "write",
	[FX_TRUNCATE] = "truncate",
	[FX_FALLOC] = "fallocate",
	[FX_FALLOC_KEEP] = "fallocate-keep-size",
	[FX_PUNCH] = "punch-hole",
	[FX_ZERO] = "zero-range",
	[FX_ZERO_KEEP] = "zero-range-keep-size",
	[FX_MAPREAD] = "mapread",
	[FX_MAPWRITE] = "mapwrite",
	[FX_FSYNC] = "fsync",
	[FX_FDATASYNC] = "fdatasync",
	[FX_DREAD] = "direct-read",
};

struct fx_rec {
	uint64_t n;
	enum fx_op op;
	uint64_t off, len, size_before;
};

static struct {
	uint64_t seed, ops, maxlen, check;
	bool direct, verbose, mapped, sync, dread;
	const char *goodpath;
	int dfd;		   /* -D: the O_DIRECT descriptor */
	enum fx_op opset[FX_NOPS]; /* the operations drawn from */
	unsigned int nopset;
	long page;
	const char *path;
	int fd;
	unsigned char *good; /* maxlen bytes: what the file holds */
	unsigned char *buf;  /* maxlen bytes, aligned */
	uint64_t size;
	uint64_t state;
	struct fx_rec hist[FX_HISTORY];
	uint64_t nhist;
} fx;

static uint64_t fx_rand(void)
{
	uint64_t z = (fx.state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fx_below(uint64_t n)
{
	return n ? fx_rand() % n : 0;
}

static uint64_t fx_align_down(uint64_t x)
{
	return fx.direct ? x - x % FX_ALIGN : x;
}

static void fx_history(void)
{
	uint64_t i = fx.nhist > FX_HISTORY ? fx.nhist - FX_HISTORY : 0;
	const struct fx_rec *r;

	fprintf(stderr, "fsxlite: seed %" PRIu64 ": the last operations:\n",
		fx.seed);
	for (; i < fx.nhist; i++) {
		r = &fx.hist[i % FX_HISTORY];
		fprintf(stderr,
			"  %7" PRIu64 " %-20s %#9" PRIx64 " +%#8" PRIx64
			"  (size was %#" PRIx64 ")\n",
			r->n, fx_names[r->op], r->off, r->len, r->size_before);
	}
}

static int fx_fail_errno(const char *what, uint64_t off, uint64_t len)
{
	fprintf(stderr,
		"fsxlite: seed %" PRIu64 ": %s at %#" PRIx64 " +%#" PRIx64
		": %s\n",
		fx.seed, what, off, len, strerror(errno));
	fx_history();
	return 2;
}

/* Compare @len bytes read at @off (in fx.buf) with the copy. */
static int fx_compare(const char *what, uint64_t off, uint64_t len)
{
	uint64_t i, first = UINT64_MAX, bad = 0;

	for (i = 0; i < len; i++) {
		if (fx.buf[i] == fx.good[off + i])
			continue;
		if (first == UINT64_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	fprintf(stderr,
		"fsxlite: seed %" PRIu64 ": %s at %#" PRIx64 " +%#" PRIx64
		": %" PRIu64 " bytes differ, the first at %#" PRIx64 ":\n",
		fx.seed, what, off, len, bad, off + first);
	for (i = first; i < len && i < first + FX_MAX_SHOW; i++)
		fprintf(stderr, "  %#9" PRIx64 ": expected %02x, found %02x\n",
			off + i, fx.good[off + i], fx.buf[i]);
	fx_history();
	return 1;
}

static int fx_check_size(const char *what)
{
	struct stat st;

	if (fstat(fx.fd, &st) < 0)
		return fx_fail_errno("fstat", 0, 0);
	if ((uint64_t)st.st_size == fx.size)
		return 0;
	fprintf(stderr,
		"fsxlite: seed %" PRIu64 ": after %s the size is %#" PRIx64
		", expected %#" PRIx64 "\n",
		fx.seed, what, (uint64_t)st.st_size, fx.size);
	fx_history();
	return 1;
}

static int fx_read(uint64_t off, uint64_t len, const char *what)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fx.fd, fx.buf + done, len - done,
			  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fx_fail_errno("read", off, len);
		if (n == 0) {
			fprintf(stderr,
				"fsxlite: seed %" PRIu64 ": %s at %#" PRIx64
				": end of file at %#" PRIx64
				", the size is %#" PRIx64 "\n",
				fx.seed, what, off, off + done, fx.size);
			fx_history();
			return 1;
		}
		done += (uint64_t)n;
	}
	return fx_compare(what, off, len);
}

static int fx_check_all(void)
{
	int ret = fx_check_size("the operations");

	return ret ? ret : fx_read(0, fx.size, "full check");
}

/* Offset and length for an operation: inside maxlen, aligned with -Z. */
static void fx_range(uint64_t *off, uint64_t *len)
{
	uint64_t o = fx_align_down(fx_below(fx.maxlen));
	uint64_t l = fx_below(fx.maxlen - o) + 1;

	if (fx.direct)
		l = (l + FX_ALIGN - 1) / FX_ALIGN * FX_ALIGN;
	if (o + l > fx.maxlen)
		l = fx.maxlen - o;
	*off = o;
	*len = l;
}

static int fx_do_write(uint64_t off, uint64_t len)
{
	uint64_t i, done = 0;
	ssize_t n;

	for (i = 0; i < len; i++)
		fx.buf[i] = (unsigned char)(fx_rand() | 1); /* never zero */
	while (done < len) {
		n = pwrite(fx.fd, fx.buf + done, len - done,
			   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fx_fail_errno("write", off, len);
		done += (uint64_t)n;
	}
	memcpy(fx.good + off, fx.buf, len);
	if (off + len > fx.size)
		fx.size = off + len;
	return 0;
}

static int fx_do_falloc(enum fx_op op, uint64_t off, uint64_t len)
{
	static const int modes[FX_NOPS] = {
		[FX_FALLOC] = 0,
		[FX_FALLOC_KEEP] = FALLOC_FL_KEEP_SIZE,
		[FX_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		[FX_ZERO] = FALLOC_FL_ZERO_RANGE,
		[FX_ZERO_KEEP] = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	};
	int mode = modes[op];
	uint64_t end = off + len, zend;

	if (fallocate(fx.fd, mode, (off_t)off, (off_t)len) < 0)
		return fx_fail_errno(fx_names[op], off, len);
	if (op == FX_PUNCH || op == FX_ZERO || op == FX_ZERO_KEEP) {
		zend = (mode & FALLOC_FL_KEEP_SIZE) && end > fx.size ? fx.size
								     : end;
		if (zend > off)
			memset(fx.good + off, 0, zend - off);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > fx.size)
		fx.size = end;
	return fx_check_size(fx_names[op]);
}

/*
 * Map the pages holding [off, off + len) shared; *base is where byte
 * @off is.  The file must reach off + len.
 */
static int fx_map(uint64_t off, uint64_t len, int prot, void **map,
		  size_t *maplen, unsigned char **base)
{
	uint64_t pg = off - off % (uint64_t)fx.page;

	*maplen = (size_t)(off + len - pg);
	*map = mmap(NULL, *maplen, prot, MAP_SHARED, fx.fd, (off_t)pg);
	if (*map == MAP_FAILED)
		return fx_fail_errno("mmap", off, len);
	*base = (unsigned char *)*map + (off - pg);
	return 0;
}

static int fx_do_mapread(uint64_t off, uint64_t len)
{
	unsigned char *base;
	size_t maplen;
	void *map;
	int ret;

	ret = fx_map(off, len, PROT_READ, &map, &maplen, &base);
	if (ret)
		return ret;
	memcpy(fx.buf, base, len);
	munmap(map, maplen);
	return fx_compare("mapread", off, len);
}

/* As fsx: a write past the end first extends the file with ftruncate. */
static int fx_do_mapwrite(uint64_t off, uint64_t len)
{
	unsigned char *base;
	size_t maplen;
	uint64_t i;
	void *map;
	int ret;

	if (off + len > fx.size) {
		if (ftruncate(fx.fd, (off_t)(off + len)) < 0)
			return fx_fail_errno("ftruncate before mapwrite", off,
					     len);
		fx.size = off + len;
	}
	ret = fx_map(off, len, PROT_READ | PROT_WRITE, &map, &maplen, &base);
	if (ret)
		return ret;
	for (i = 0; i < len; i++)
		base[i] = fx.good[off + i] = (unsigned char)(fx_rand() | 1);
	if (msync(map, maplen, MS_SYNC) < 0) {
		ret = fx_fail_errno("msync", off, len);
		munmap(map, maplen);
		return ret;
	}
	munmap(map, maplen);
	return fx_check_size("mapwrite");
}

/* An aligned O_DIRECT read of the blocks that [off, off + len) touches,
 * inside the size. */
static int fx_do_dread(uint64_t off, uint64_t len)
{
	uint64_t start = off - off % FX_ALIGN, end, done = 0;
	ssize_t n;

	end = (off + len) - (off + len) % FX_ALIGN;
	if (end > fx.size - fx.size % FX_ALIGN)
		end = fx.size - fx.size % FX_ALIGN;
	if (end <= start)
		return 0;
	while (done < end - start) {
		n = pread(fx.dfd, fx.buf + done, end - start - done,
			  (off_t)(start + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fx_fail_errno("direct read", start, end - start);
		done += (uint64_t)n;
	}
	return fx_compare("direct read", start, end - start);
}

/* -w: what the file must hold, for a comparison after the run. */
static int fx_write_good(void)
{
	FILE *f = fopen(fx.goodpath, "wb");

	if (!f || fwrite(fx.good, 1, fx.size, f) != fx.size || fclose(f)) {
		fprintf(stderr, "fsxlite: writing %s: %s\n", fx.goodpath,
			strerror(errno));
		return 2;
	}
	return 0;
}

static int fx_step(uint64_t n)
{
	enum fx_op op = fx.opset[fx_below(fx.nopset)];
	struct fx_rec *r = &fx.hist[fx.nhist++ % FX_HISTORY];
	uint64_t off, len, nsize;

	fx_range(&off, &len);
	if (op == FX_TRUNCATE) {
		nsize = fx_align_down(fx_below(fx.maxlen + 1));
		off = nsize;
		len = 0;
	}
	*r = (struct fx_rec){n, op, off, len, fx.size};
	if (fx.verbose)
		printf("%7" PRIu64 " %-20s %#9" PRIx64 " +%#8" PRIx64 "\n", n,
		       fx_names[op], off, len);
	switch (op) {
	case FX_READ:
		if (off >= fx.size)
			return 0;
		if (off + len > fx.size)
			len = fx.direct ? fx_align_down(fx.size - off)
					: fx.size - off;
		return len ? fx_read(off, len, "read") : 0;
	case FX_WRITE:
		return fx_do_write(off, len);
	case FX_MAPREAD:
		if (off >= fx.size)
			return 0;
		if (off + len > fx.size)
			len = fx.size - off;
		return fx_do_mapread(off, len);
	case FX_MAPWRITE:
		return fx_do_mapwrite(off, len);
	case FX_DREAD:
		return fx_do_dread(off, len);
	case FX_FSYNC:
		return fsync(fx.fd) < 0 ? fx_fail_errno("fsync", 0, 0) : 0;
	case FX_FDATASYNC:
		return fdatasync(fx.fd) < 0 ? fx_fail_errno("fdatasync", 0, 0)
					    : 0;
	case FX_TRUNCATE:
		if (ftruncate(fx.fd, (off_t)off) < 0)
			return fx_fail_errno("truncate", off, 0);
		if (off < fx.size)
			memset(fx.good + off, 0, fx.size - off);
		fx.size = off;
		return fx_check_size("truncate");
	default:
		return fx_do_falloc(op, off, len);
	}
}

static int fx_parse(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (*end == 'k' || *end == 'K') {
		v <<= 10;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v <<= 20;
		end++;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int fx_usage(void)
{
	fprintf(stderr, "usage: fsxlite [-s SEED] [-n OPS] [-l MAXLEN] "
			"[-c CHECK] [-Z] [-M] [-f] [-D] [-w GOOD] [-v] "
			"FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t n;
	int c, ret = 0;

	fx.seed = 1;
	fx.ops = 10000;
	fx.maxlen = 256u << 10;
	fx.check = 1000;
	while ((c = getopt(argc, argv, "s:n:l:c:ZMfDw:v")) != -1) {
		switch (c) {
		case 's':
			if (fx_parse(optarg, &fx.seed))
				return fx_usage();
			break;
		case 'n':
			if (fx_parse(optarg, &fx.ops))
				return fx_usage();
			break;
		case 'l':
			if (fx_parse(optarg, &fx.maxlen) || fx.maxlen == 0 ||
			    fx.maxlen > (1u << 30))
				return fx_usage();
			break;
		case 'c':
			if (fx_parse(optarg, &fx.check))
				return fx_usage();
			break;
		case 'Z':
			fx.direct = true;
			break;
		case 'M':
			fx.mapped = true;
			break;
		case 'f':
			fx.sync = true;
			break;
		case 'D':
			fx.dread = true;
			break;
		case 'w':
			fx.goodpath = optarg;
			break;
		case 'v':
			fx.verbose = true;
			break;
		default:
			return fx_usage();
		}
	}
	if (optind != argc - 1 || (fx.mapped && fx.direct))
		return fx_usage();
	fx.page = sysconf(_SC_PAGESIZE);
	for (c = 0; c < FX_NOPS; c++) {
		if ((c == FX_MAPREAD || c == FX_MAPWRITE) && !fx.mapped)
			continue;
		if ((c == FX_FSYNC || c == FX_FDATASYNC) && !fx.sync)
			continue;
		if (c == FX_DREAD && !fx.dread)
			continue;
		fx.opset[fx.nopset++] = (enum fx_op)c;
	}
	fx.path = argv[optind];
	if (fx.direct)
		fx.maxlen = (fx.maxlen + FX_ALIGN - 1) / FX_ALIGN * FX_ALIGN;
	fx.state = fx.seed;
	fx.good = calloc(1, fx.maxlen);
	if (!fx.good || posix_memalign((void **)&fx.buf, FX_ALIGN, fx.maxlen)) {
		fprintf(stderr, "fsxlite: out of memory\n");
		return 2;
	}
	fx.fd = open(fx.path,
		     O_RDWR | O_CREAT | O_TRUNC | (fx.direct ? O_DIRECT : 0),
		     0644);
	if (fx.fd < 0) {
		fprintf(stderr, "fsxlite: open %s: %s\n", fx.path,
			strerror(errno));
		return 2;
	}
	fx.dfd = -1;
	if (fx.dread) {
		fx.dfd = open(fx.path, O_RDONLY | O_DIRECT);
		if (fx.dfd < 0) {
			fprintf(stderr, "fsxlite: open %s O_DIRECT: %s\n",
				fx.path, strerror(errno));
			return 2;
		}
	}
	for (n = 1; n <= fx.ops && !ret; n++) {
		ret = fx_step(n);
		if (!ret && fx.check && n % fx.check == 0)
			ret = fx_check_all();
	}
	if (!ret)
		ret = fx_check_all();
	if (!ret)
		printf("fsxlite: seed %" PRIu64 ": %" PRIu64
		       " operations, all checks passed\n",
		       fx.seed, fx.ops);
	if (!ret && fx.goodpath)
		ret = fx_write_good();
	if (fx.dfd >= 0)
		close(fx.dfd);
	close(fx.fd);
	free(fx.buf);
	free(fx.good);
	return ret;
}
