// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dataio.c - a small data-path tool for the shell tests: writes and checks
 * a position-dependent pattern (so a byte in the wrong place, a stale block
 * or a missing zero is caught and named by its offset), checks zeroes,
 * prints a file's data and hole segments with SEEK_DATA/SEEK_HOLE, and
 * fills a filesystem until it reports ENOSPC.
 *
 * The pattern byte at file offset X for seed S depends on X and S only, so
 * a check needs no copy of what was written.
 *
 * Usage:
 *   dataio write FILE OFF LEN SEED [CHUNK]  write the pattern (CHUNK bytes
 *                                           per write(2), default 65536)
 *   dataio mmapwrite FILE OFF LEN SEED      write the pattern through a shared
 *                                           mapping (the file must reach
 *                                           OFF + LEN), then msync
 *   dataio check FILE OFF LEN SEED [-n]     check the pattern; -n drops the
 *                                           file's page cache first so the
 *                                           reads reach the filesystem
 *   dataio zero FILE OFF LEN [-n]           check that the range reads zero
 *   dataio seek FILE                        print "data|hole START END" lines
 *   dataio seekat FILE OFF data|hole        print lseek(SEEK_DATA/SEEK_HOLE)
 *                                           from OFF, or the errno name
 *   dataio fill FILE SEED [CHUNK]           write the pattern from offset 0
 *                                           until ENOSPC; print the bytes
 *                                           written and the errno name
 * Offsets and lengths are bytes (decimal, or with a K/M/G suffix).
 * Exit status: 0 ok, 1 check failed or I/O error, 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DATAIO_CHUNK 65536u

static unsigned char pattern_byte(uint64_t off, uint64_t seed)
{
	uint64_t x = (off / 8) * 0x9e3779b97f4a7c15ull +
		     seed * 0xbf58476d1ce4e5b9ull;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return (unsigned char)(x >> ((off % 8) * 8));
}

static void pattern_fill(unsigned char *buf, size_t len, uint64_t off,
			 uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i, seed);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: dataio write FILE OFF LEN SEED [CHUNK]\n"
			"       dataio mmapwrite FILE OFF LEN SEED\n"
			"       dataio check FILE OFF LEN SEED [-n]\n"
			"       dataio zero FILE OFF LEN [-n]\n"
			"       dataio seek FILE\n"
			"       dataio seekat FILE OFF data|hole\n"
			"       dataio fill FILE SEED [CHUNK]\n");
	return 2;
}

static int do_write(const char *path, uint64_t off, uint64_t len, uint64_t seed,
		    uint64_t chunk)
{
	unsigned char *buf;
	ssize_t n;
	size_t want;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		fprintf(stderr, "dataio: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = malloc(chunk);
	if (!buf) {
		fprintf(stderr, "dataio: out of memory\n");
		close(fd);
		return 1;
	}
	while (len > 0) {
		want = (size_t)(len < chunk ? len : chunk);
		pattern_fill(buf, want, off, seed);
		n = pwrite(fd, buf, want, (off_t)off);
		if (n <= 0) {
			fprintf(stderr, "dataio: write %s at %" PRIu64 ": %s\n",
				path, off,
				n < 0 ? strerror(errno) : "no progress");
			free(buf);
			close(fd);
			return 1;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(buf);
	if (close(fd) < 0) {
		fprintf(stderr, "dataio: close %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int do_mmapwrite(const char *path, uint64_t off, uint64_t len,
			uint64_t seed)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = off - off % (uint64_t)page;
	unsigned char *map;
	int fd, ret = 1;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "dataio: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	map = mmap(NULL, (size_t)(off + len - start), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, (off_t)start);
	if (map == MAP_FAILED) {
		fprintf(stderr, "dataio: mmap %s: %s\n", path, strerror(errno));
		goto out_close;
	}
	pattern_fill(map + (off - start), (size_t)len, off, seed);
	if (msync(map, (size_t)(off + len - start), MS_SYNC) < 0)
		fprintf(stderr, "dataio: msync %s: %s\n", path,
			strerror(errno));
	else
		ret = 0;
	munmap(map, (size_t)(off + len - start));
out_close:
	close(fd);
	return ret;
}

/* Check [off, off + len): the pattern of @seed, or zeroes when !seed. */
static int do_check(const char *path, uint64_t off, uint64_t len, uint64_t seed,
		    int zero, int nocache)
{
	unsigned char *buf, want;
	uint64_t pos = off;
	ssize_t n;
	size_t i, chunk;
	int fd, ret = 1;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "dataio: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (nocache && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) {
		fprintf(stderr, "dataio: fadvise %s failed\n", path);
		goto out_close;
	}
	buf = malloc(DATAIO_CHUNK);
	if (!buf) {
		fprintf(stderr, "dataio: out of memory\n");
		goto out_close;
	}
	while (pos < off + len) {
		chunk = (size_t)(off + len - pos < DATAIO_CHUNK
					 ? off + len - pos
					 : DATAIO_CHUNK);
		n = pread(fd, buf, chunk, (off_t)pos);
		if (n < 0) {
			fprintf(stderr, "dataio: read %s at %" PRIu64 ": %s\n",
				path, pos, strerror(errno));
			goto out_free;
		}
		if (n == 0) {
			fprintf(stderr,
				"dataio: %s ends at %" PRIu64
				", expected data up to %" PRIu64 "\n",
				path, pos, off + len);
			goto out_free;
		}
		for (i = 0; i < (size_t)n; i++) {
			want = zero ? 0 : pattern_byte(pos + i, seed);
			if (buf[i] != want) {
				fprintf(stderr,
					"dataio: %s: byte %" PRIu64
					" is 0x%02x, expected 0x%02x (%s)\n",
					path, pos + i, buf[i], want,
					zero ? "zero" : "pattern");
				goto out_free;
			}
		}
		pos += (uint64_t)n;
	}
	ret = 0;
out_free:
	free(buf);
out_close:
	close(fd);
	return ret;
}

static int do_seek(const char *path)
{
	off_t pos = 0, data, hole, end;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "dataio: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	end = lseek(fd, 0, SEEK_END);
	if (end < 0) {
		fprintf(stderr, "dataio: lseek %s: %s\n", path,
			strerror(errno));
		close(fd);
		return 1;
	}
	while (pos < end) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno != ENXIO) {
			fprintf(stderr, "dataio: SEEK_DATA %s at %lld: %s\n",
				path, (long long)pos, strerror(errno));
			close(fd);
			return 1;
		}
		if (data < 0)
			data = end;
		if (data > pos)
			printf("hole %lld %lld\n", (long long)pos,
			       (long long)data);
		if (data >= end)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			fprintf(stderr, "dataio: SEEK_HOLE %s at %lld: %s\n",
				path, (long long)data, strerror(errno));
			close(fd);
			return 1;
		}
		printf("data %lld %lld\n", (long long)data, (long long)hole);
		pos = hole;
	}
	close(fd);
	return 0;
}

static int do_seekat(const char *path, uint64_t off, const char *what)
{
	off_t r;
	int fd, whence;

	if (!strcmp(what, "data"))
		whence = SEEK_DATA;
	else if (!strcmp(what, "hole"))
		whence = SEEK_HOLE;
	else
		return usage();
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "dataio: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	r = lseek(fd, (off_t)off, whence);
	if (r < 0)
		printf("%s\n", errno == ENXIO ? "ENXIO" : strerror(errno));
	else
		printf("%lld\n", (long long)r);
	close(fd);
	return 0;
}

static int do_fill(const char *path, uint64_t seed, uint64_t chunk)
{
	unsigned char *buf;
	uint64_t off = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "dataio: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = malloc(chunk);
	if (!buf) {
		close(fd);
		return 1;
	}
	for (;;) {
		pattern_fill(buf, chunk, off, seed);
		n = pwrite(fd, buf, chunk, (off_t)off);
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0) {
			err = EIO;
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	if (close(fd) < 0 && !err)
		err = errno;
	printf("%" PRIu64 " %s\n", off,
	       err == ENOSPC  ? "ENOSPC"
	       : err == EFBIG ? "EFBIG"
			      : strerror(err));
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t off, len, seed, chunk = DATAIO_CHUNK;
	int nocache = 0;

	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "write") && (argc == 6 || argc == 7)) {
		if (parse_u64(argv[3], &off) || parse_u64(argv[4], &len) ||
		    parse_u64(argv[5], &seed) ||
		    (argc == 7 && (parse_u64(argv[6], &chunk) || !chunk)))
			return usage();
		return do_write(argv[2], off, len, seed, chunk);
	}
	if (!strcmp(argv[1], "mmapwrite") && argc == 6) {
		if (parse_u64(argv[3], &off) || parse_u64(argv[4], &len) ||
		    parse_u64(argv[5], &seed) || !len)
			return usage();
		return do_mmapwrite(argv[2], off, len, seed);
	}
	if (!strcmp(argv[1], "check") && (argc == 6 || argc == 7)) {
		if (argc == 7) {
			if (strcmp(argv[6], "-n"))
				return usage();
			nocache = 1;
		}
		if (parse_u64(argv[3], &off) || parse_u64(argv[4], &len) ||
		    parse_u64(argv[5], &seed))
			return usage();
		return do_check(argv[2], off, len, seed, 0, nocache);
	}
	if (!strcmp(argv[1], "zero") && (argc == 5 || argc == 6)) {
		if (argc == 6) {
			if (strcmp(argv[5], "-n"))
				return usage();
			nocache = 1;
		}
		if (parse_u64(argv[3], &off) || parse_u64(argv[4], &len))
			return usage();
		return do_check(argv[2], off, len, 0, 1, nocache);
	}
	if (!strcmp(argv[1], "seek") && argc == 3)
		return do_seek(argv[2]);
	if (!strcmp(argv[1], "seekat") && argc == 5) {
		if (parse_u64(argv[3], &off))
			return usage();
		return do_seekat(argv[2], off, argv[4]);
	}
	if (!strcmp(argv[1], "fill") && (argc == 4 || argc == 5)) {
		if (parse_u64(argv[3], &seed) ||
		    (argc == 5 && (parse_u64(argv[4], &chunk) || !chunk)))
			return usage();
		return do_fill(argv[2], seed, chunk);
	}
	return usage();
}
