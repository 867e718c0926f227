// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * genrace.c - the race test of the cache's validity cookie (t3320).  One
 * file, the victim, is read by many O_DIRECT readers (so every read reaches
 * the daemon and fills its cache) while one writer punches holes in it,
 * zeroes ranges, truncates it down (and sometimes up again, leaving a
 * hole) and rewrites what it removed, each time with a new generation; a
 * thief thread keeps writing, checking and truncating a second file so
 * that the victim's freed blocks are handed out again; an overwriter
 * rewrites victim blocks in place (with the data they hold) during the
 * punches, so a write through a freed mapping would corrupt the thief.
 *
 * Every 32-byte record of every 4 KiB block holds (magic, file id, block
 * number, generation, check).  A reader recognises a stale read: a record
 * of another file (a freed block now owned by the thief), of another block,
 * of a generation older than the last write of that block completed before
 * the read began, or newer than any begun; and zeroes where no punch or
 * truncate of the block was in progress or began during the read.
 *
 * Usage: genrace DIR SECONDS [READERS]
 *        genrace --self-test    feed the checker forged blocks (a foreign
 *                               one, an old generation, a wrong block, an
 *                               unexpected hole, a torn check) and print
 *                               TAP: each must be caught, good ones pass
 * Prints "key value" figures on stdout; on a bad read prints what was
 * expected and what was got on stderr and exits 1.  Exit 2 on usage or
 * setup errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "fdio.h"

#define GR_BLOCK 4096u
#define GR_REC 32u
#define GR_MAGIC 0x47524143u	/* "GRAC" */
#define GR_VICTIM_ID 1u
#define GR_THIEF_ID 2u
#define GR_NBLOCKS 1024u	/* the victim: 4 MiB */
#define GR_THIEF_BLOCKS 1024u
#define GR_MAX_READ 16u		/* blocks per read */
#define GR_MAX_READERS 64

struct gr_rec {
	uint32_t magic;
	uint32_t file_id;
	uint64_t block;
	uint64_t gen;
	uint64_t check;
};

/*
 * Per victim block, updated by the writer only:
 * - floor: the generation of the last completed write of the block;
 * - holed: non-zero from just before a punch/zero/truncate of the block
 *   until the write that refills it has completed;
 * - changes: counts punches/truncates begun on the block.
 */
struct gr_block {
	_Atomic uint64_t floor;
	_Atomic uint32_t holed;
	_Atomic uint32_t changes;
};

struct gr_state {
	int victim_fd;
	char *thief_path;
	struct gr_block blocks[GR_NBLOCKS];
	_Atomic uint64_t gen;		/* the newest generation begun */
	_Atomic bool stop;
	_Atomic bool failed;
	_Atomic uint64_t reads, blocks_read, zero_blocks, short_reads;
	_Atomic uint64_t old_gen_ok;
	uint64_t punches, zeroes, truncates, overwrites, rewritten_blocks;
	uint64_t thief_cycles, thief_blocks_checked;
	/* The overwriter holds it shared, a rewrite exclusive: so the
	 * overwriter's copy of a block's floor generation is never older
	 * than what a rewrite just put there. */
	pthread_rwlock_t rewrite_lock;
	_Atomic uint64_t overwriter_writes;
	pthread_mutex_t report_lock;
};

static uint64_t gr_check(const struct gr_rec *r)
{
	return ((uint64_t)r->magic * 0x9e3779b97f4a7c15ull) ^
	       ((uint64_t)r->file_id << 48) ^
	       (r->block * 0xff51afd7ed558ccdull) ^
	       (r->gen * 0xc4ceb9fe1a85ec53ull);
}

static void gr_fill(void *buf, uint32_t file_id, uint64_t block, uint64_t gen)
{
	struct gr_rec r = { GR_MAGIC, file_id, block, gen, 0 };
	unsigned int i;

	r.check = gr_check(&r);
	for (i = 0; i < GR_BLOCK / GR_REC; i++)
		memcpy((char *)buf + i * GR_REC, &r, GR_REC);
}

static void *gr_alloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, GR_BLOCK, len))
		return NULL;
	return p;
}

/* Write blocks [@b, @b + @n) of the victim with generation @gen. */
static int gr_write_blocks(struct gr_state *st, void *buf, uint64_t b,
			   uint64_t n, uint64_t gen)
{
	uint64_t i;
	int ret;

	for (i = 0; i < n; i++)
		gr_fill((char *)buf + i * GR_BLOCK, GR_VICTIM_ID, b + i, gen);
	ret = fdio_pwrite_all(st->victim_fd, buf, n * GR_BLOCK,
			    (off_t)(b * GR_BLOCK));
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		atomic_store(&st->blocks[b + i].floor, gen);
		atomic_store(&st->blocks[b + i].holed, 0);
	}
	st->rewritten_blocks += n;
	return 0;
}

static void gr_fail(struct gr_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool gr_quiet;	/* --self-test: failures are expected */

static void gr_fail(struct gr_state *st, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&st->report_lock);
	if (!atomic_exchange(&st->failed, true) && !gr_quiet) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&st->report_lock);
	atomic_store(&st->stop, true);
}

static uint64_t gr_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The writer: punch, zero, truncate or overwrite, then rewrite. */
static void *gr_writer(void *arg)
{
	struct gr_state *st = arg;
	uint64_t seed = 0x1234567ull ^ (uint64_t)time(NULL);
	uint64_t b, n, i, gen;
	void *buf = gr_alloc(GR_NBLOCKS * GR_BLOCK);
	int op, ret = 0, mode;

	if (!buf) {
		gr_fail(st, "writer: out of memory");
		return NULL;
	}
	while (!atomic_load(&st->stop)) {
		/* 0 punch, 1 zero range, 2 truncate, 3 overwrite, 4 truncate
		 * down and up again (a hole up to the old size) */
		op = (int)(gr_rand(&seed) % 5);
		b = gr_rand(&seed) % GR_NBLOCKS;
		n = 1 + gr_rand(&seed) % 64;
		/* A truncate cuts at most 64 blocks off the end. */
		if (op == 2 || op == 4)
			b = GR_NBLOCKS - n;
		else if (b + n > GR_NBLOCKS)
			n = GR_NBLOCKS - b;
		if (op != 3) {
			for (i = b; i < b + n; i++) {
				atomic_store(&st->blocks[i].holed, 1);
				atomic_fetch_add(&st->blocks[i].changes, 1);
			}
		}
		switch (op) {
		case 0:
		case 1:
			mode = FALLOC_FL_KEEP_SIZE | (op == 0 ?
				FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
			ret = fallocate(st->victim_fd, mode,
					(off_t)(b * GR_BLOCK),
					(off_t)(n * GR_BLOCK)) ? -errno : 0;
			if (op == 0)
				st->punches++;
			else
				st->zeroes++;
			break;
		case 2:
		case 4:
			ret = ftruncate(st->victim_fd, (off_t)(b * GR_BLOCK))
				? -errno : 0;
			if (!ret && op == 4)
				ret = ftruncate(st->victim_fd,
						(off_t)GR_NBLOCKS * GR_BLOCK)
					? -errno : 0;
			st->truncates++;
			break;
		case 3:
			st->overwrites++;
			break;
		}
		if (ret) {
			gr_fail(st, "writer: %s of blocks %" PRIu64 "+%" PRIu64
				" failed: %s", op >= 2 ? "truncate" :
				op == 1 ? "zero range" : "punch", b, n,
				strerror(-ret));
			break;
		}
		/* Let the readers see the hole, and the thief take it. */
		if (op != 3)
			usleep(200);
		pthread_rwlock_wrlock(&st->rewrite_lock);
		gen = atomic_fetch_add(&st->gen, 1) + 1;
		ret = gr_write_blocks(st, buf, b, n, gen);
		pthread_rwlock_unlock(&st->rewrite_lock);
		if (ret) {
			gr_fail(st, "writer: rewrite of blocks %" PRIu64 "+%"
				PRIu64 " failed: %s", b, n, strerror(-ret));
			break;
		}
	}
	free(buf);
	return NULL;
}

/*
 * The overwriter: rewrites random victim blocks with the data they already
 * hold (their floor generation), concurrently with the writer's punches and
 * truncates; a write that used a mapping the punch freed would land in a
 * block the thief owns by now, and the thief's check catches it.
 */
static void *gr_overwriter(void *arg)
{
	struct gr_state *st = arg;
	uint64_t seed = 0xfeedfaceull ^ (uint64_t)time(NULL);
	void *buf = gr_alloc(16 * GR_BLOCK);
	uint64_t b, n, i;
	int ret;

	if (!buf) {
		gr_fail(st, "overwriter: out of memory");
		return NULL;
	}
	while (!atomic_load(&st->stop)) {
		b = gr_rand(&seed) % GR_NBLOCKS;
		n = 1 + gr_rand(&seed) % 16;
		if (b + n > GR_NBLOCKS)
			n = GR_NBLOCKS - b;
		pthread_rwlock_rdlock(&st->rewrite_lock);
		for (i = 0; i < n; i++)
			gr_fill((char *)buf + i * GR_BLOCK, GR_VICTIM_ID, b + i,
				atomic_load(&st->blocks[b + i].floor));
		ret = fdio_pwrite_all(st->victim_fd, buf, n * GR_BLOCK,
				    (off_t)(b * GR_BLOCK));
		pthread_rwlock_unlock(&st->rewrite_lock);
		if (ret) {
			gr_fail(st, "overwriter: write of blocks %" PRIu64 "+%"
				PRIu64 " failed: %s", b, n, strerror(-ret));
			break;
		}
		atomic_fetch_add(&st->overwriter_writes, 1);
		usleep(100);
	}
	free(buf);
	return NULL;
}

/* Check the thief's whole file: every block its own, of cycle @cycle. */
static int gr_thief_check(struct gr_state *st, int fd, void *buf,
			  uint64_t cycle)
{
	uint64_t b, i, k;
	struct gr_rec r, want = { GR_MAGIC, GR_THIEF_ID, 0, cycle, 0 };
	ssize_t got;

	for (b = 0; b < GR_THIEF_BLOCKS; b += 64) {
		got = pread(fd, buf, 64 * GR_BLOCK, (off_t)(b * GR_BLOCK));
		if (got != 64 * GR_BLOCK) {
			gr_fail(st, "thief: read of blocks %" PRIu64 "+64 "
				"returned %zd, expected %u bytes%s%s", b, got,
				64 * GR_BLOCK, got < 0 ? ": " : "",
				got < 0 ? strerror(errno) : "");
			return -1;
		}
		for (i = 0; i < 64; i++) {
			want.block = b + i;
			want.check = gr_check(&want);
			for (k = 0; k < GR_BLOCK / GR_REC; k++) {
				memcpy(&r, (char *)buf + i * GR_BLOCK +
				       k * GR_REC, sizeof(r));
				if (!memcmp(&r, &want, sizeof(r)))
					continue;
				gr_fail(st, "thief block %" PRIu64 ", byte %"
					PRIu64 ": expected file %u block %"
					PRIu64 " generation %" PRIu64 ", got "
					"magic %#x file %u block %" PRIu64
					" generation %" PRIu64 "%s", b + i,
					k * GR_REC, GR_THIEF_ID, b + i, cycle,
					r.magic, r.file_id, r.block, r.gen,
					r.file_id == GR_VICTIM_ID ?
					" (a victim write landed in a block "
					"the thief owns: a stale mapping)" :
					"");
				return -1;
			}
		}
		st->thief_blocks_checked += 64;
	}
	return 0;
}

/* The thief: allocate freed blocks again, with foreign data, over and over. */
static void *gr_thief(void *arg)
{
	struct gr_state *st = arg;
	void *buf = gr_alloc(64 * GR_BLOCK);
	uint64_t b, i, n;
	int fd, ret = 0;

	if (!buf) {
		gr_fail(st, "thief: out of memory");
		return NULL;
	}
	fd = open(st->thief_path, O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (fd < 0) {
		gr_fail(st, "thief: cannot open %s: %s", st->thief_path,
			strerror(errno));
		free(buf);
		return NULL;
	}
	while (!atomic_load(&st->stop)) {
		for (b = 0; b < GR_THIEF_BLOCKS && !ret; b += n) {
			n = 64;
			for (i = 0; i < n; i++)
				gr_fill((char *)buf + i * GR_BLOCK, GR_THIEF_ID,
					b + i, st->thief_cycles);
			ret = fdio_pwrite_all(fd, buf, n * GR_BLOCK,
					    (off_t)(b * GR_BLOCK));
			if (atomic_load(&st->stop))
				break;
		}
		if (!ret && !atomic_load(&st->stop) &&
		    gr_thief_check(st, fd, buf, st->thief_cycles))
			break;
		if (!ret && ftruncate(fd, 0))
			ret = -errno;
		if (ret) {
			gr_fail(st, "thief: write or truncate of %s failed: %s",
				st->thief_path, strerror(-ret));
			break;
		}
		st->thief_cycles++;
	}
	close(fd);
	free(buf);
	return NULL;
}

struct gr_snap {
	uint64_t floor;
	uint32_t holed;
	uint32_t changes;
};

/* Check block @b of a read; @data NULL means past EOF (a short read). */
static int gr_check_block(struct gr_state *st, uint64_t b, const char *data,
			  const struct gr_snap *before, uint64_t gen_hi)
{
	uint32_t changes_after = atomic_load(&st->blocks[b].changes);
	bool may_be_zero = before->holed || before->changes != changes_after ||
			   before->floor == 0;
	static const char zero[GR_REC];
	struct gr_rec r;
	unsigned int i;
	bool zeroes = false, old = false;

	if (!data) {
		if (!may_be_zero) {
			gr_fail(st, "block %" PRIu64 " of the victim: read past"
				" EOF, expected generation >= %" PRIu64
				" (no truncate was in progress)", b,
				before->floor);
			return -1;
		}
		atomic_fetch_add(&st->short_reads, 1);
		return 0;
	}
	for (i = 0; i < GR_BLOCK / GR_REC; i++) {
		const char *p = data + i * GR_REC;

		if (!memcmp(p, zero, GR_REC)) {
			if (!may_be_zero) {
				gr_fail(st, "block %" PRIu64 " of the victim, "
					"byte %u: expected generation %"
					PRIu64 "..%" PRIu64 ", got zeroes "
					"with no punch or truncate in progress",
					b,
					i * GR_REC, before->floor, gen_hi);
				return -1;
			}
			zeroes = true;
			continue;
		}
		memcpy(&r, p, sizeof(r));
		if (r.magic != GR_MAGIC || r.check != gr_check(&r) ||
		    r.file_id != GR_VICTIM_ID || r.block != b ||
		    r.gen < before->floor || r.gen > gen_hi) {
			gr_fail(st, "block %" PRIu64 " of the victim, byte %u:"
				" expected file %u block %" PRIu64
				" generation %" PRIu64 "..%" PRIu64 "%s; got "
				"magic %#x file %u block %" PRIu64
				" generation %" PRIu64 "%s%s", b, i * GR_REC,
				GR_VICTIM_ID, b, before->floor, gen_hi,
				may_be_zero ? " or zeroes" : "", r.magic,
				r.file_id, r.block, r.gen,
				r.check != gr_check(&r) ? " (bad check)" : "",
				r.file_id == GR_THIEF_ID ?
				" (a freed block, now the thief's)" :
				r.gen < before->floor ?
				" (an older generation: stale mapping)" : "");
			return -1;
		}
		old = old || r.gen < gen_hi;
	}
	if (zeroes)
		atomic_fetch_add(&st->zero_blocks, 1);
	if (old)
		atomic_fetch_add(&st->old_gen_ok, 1);
	return 0;
}

static void *gr_reader(void *arg)
{
	struct gr_state *st = arg;
	uint64_t seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull;
	struct gr_snap snap[GR_MAX_READ];
	char *buf = gr_alloc(GR_MAX_READ * GR_BLOCK);
	uint64_t b, n, i, got, gen_hi;
	ssize_t r;

	if (!buf) {
		gr_fail(st, "reader: out of memory");
		return NULL;
	}
	while (!atomic_load(&st->stop)) {
		b = gr_rand(&seed) % GR_NBLOCKS;
		n = 1 + gr_rand(&seed) % GR_MAX_READ;
		if (b + n > GR_NBLOCKS)
			n = GR_NBLOCKS - b;
		for (i = 0; i < n; i++) {
			snap[i].holed = atomic_load(&st->blocks[b + i].holed);
			snap[i].changes =
				atomic_load(&st->blocks[b + i].changes);
			snap[i].floor = atomic_load(&st->blocks[b + i].floor);
		}
		do {
			r = pread(st->victim_fd, buf, n * GR_BLOCK,
				  (off_t)(b * GR_BLOCK));
		} while (r < 0 && errno == EINTR);
		gen_hi = atomic_load(&st->gen);
		if (r < 0) {
			gr_fail(st, "reader: pread of blocks %" PRIu64 "+%"
				PRIu64 " failed: %s", b, n, strerror(errno));
			break;
		}
		if (r % GR_BLOCK) {
			gr_fail(st, "reader: pread of blocks %" PRIu64 "+%"
				PRIu64 " returned %zd bytes, expected a whole "
				"number of blocks (the file size stays "
				"block-aligned)", b, n, r);
			break;
		}
		got = (uint64_t)r / GR_BLOCK;
		for (i = 0; i < n; i++)
			if (gr_check_block(st, b + i, i < got ?
					   buf + i * GR_BLOCK : NULL,
					   &snap[i], gen_hi))
				break;
		atomic_fetch_add(&st->reads, 1);
		atomic_fetch_add(&st->blocks_read, n);
	}
	free(buf);
	return NULL;
}

/* One forged case of --self-test: block 7, floor 5, no punch. */
static int gr_self_case(int *num, const char *what, bool want_ok,
			uint32_t file_id, uint64_t block, uint64_t gen,
			bool holed, bool zero, bool torn)
{
	static struct gr_state st;
	struct gr_snap snap = { 5, holed, 0 };
	char *buf = gr_alloc(GR_BLOCK);
	bool ok;

	if (!buf)
		return 1;
	pthread_mutex_init(&st.report_lock, NULL);
	atomic_store(&st.failed, false);
	atomic_store(&st.blocks[7].changes, 0);
	if (zero)
		memset(buf, 0, GR_BLOCK);
	else
		gr_fill(buf, file_id, block, gen);
	if (torn)
		buf[100] ^= 1;
	ok = gr_check_block(&st, 7, buf, &snap, 9) == 0 &&
	     !atomic_load(&st.failed);
	free(buf);
	printf("%sok %d - %s is %s\n", ok == want_ok ? "" : "not ", ++*num,
	       what, want_ok ? "accepted" : "caught");
	return ok != want_ok;
}

static int gr_self_test(void)
{
	int n = 0, bad = 0;

	gr_quiet = true;
	bad += gr_self_case(&n, "the last written generation", true,
			    GR_VICTIM_ID, 7, 5, false, false, false);
	bad += gr_self_case(&n, "a newer generation", true,
			    GR_VICTIM_ID, 7, 9, false, false, false);
	bad += gr_self_case(&n, "a hole while punched", true,
			    GR_VICTIM_ID, 7, 5, true, true, false);
	bad += gr_self_case(&n, "a freed block now the thief's", false,
			    GR_THIEF_ID, 7, 5, false, false, false);
	bad += gr_self_case(&n, "an older generation", false,
			    GR_VICTIM_ID, 7, 4, false, false, false);
	bad += gr_self_case(&n, "a generation not yet begun", false,
			    GR_VICTIM_ID, 7, 10, false, false, false);
	bad += gr_self_case(&n, "another block of the file", false,
			    GR_VICTIM_ID, 8, 5, false, false, false);
	bad += gr_self_case(&n, "a hole with no punch", false,
			    GR_VICTIM_ID, 7, 5, false, true, false);
	bad += gr_self_case(&n, "a record with a bad check", false,
			    GR_VICTIM_ID, 7, 5, false, false, true);
	printf("1..%d\n", n);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct gr_state st;
	pthread_t writer, thief, overwriter, readers[GR_MAX_READERS];
	char *victim_path = NULL;
	unsigned int nreaders = 8, i;
	struct timespec end, now;
	long seconds;
	void *buf;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--self-test"))
		return gr_self_test();
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: genrace DIR SECONDS [READERS]\n");
		return 2;
	}
	seconds = strtol(argv[2], NULL, 10);
	if (argc == 4)
		nreaders = (unsigned int)strtoul(argv[3], NULL, 10);
	if (seconds <= 0 || nreaders < 1 || nreaders > GR_MAX_READERS) {
		fprintf(stderr, "genrace: SECONDS must be > 0 and READERS "
			"1..%d\n", GR_MAX_READERS);
		return 2;
	}
	if (asprintf(&victim_path, "%s/victim", argv[1]) < 0 ||
	    asprintf(&st.thief_path, "%s/thief", argv[1]) < 0) {
		fprintf(stderr, "genrace: out of memory\n");
		return 2;
	}
	pthread_mutex_init(&st.report_lock, NULL);
	pthread_rwlock_init(&st.rewrite_lock, NULL);
	st.victim_fd = open(victim_path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT,
			    0644);
	if (st.victim_fd < 0) {
		fprintf(stderr, "genrace: cannot open %s: %s\n", victim_path,
			strerror(errno));
		return 2;
	}
	buf = gr_alloc(GR_NBLOCKS * GR_BLOCK);
	if (!buf) {
		fprintf(stderr, "genrace: out of memory\n");
		return 2;
	}
	atomic_store(&st.gen, 1);
	ret = gr_write_blocks(&st, buf, 0, GR_NBLOCKS, 1);
	free(buf);
	if (ret) {
		fprintf(stderr, "genrace: cannot write %s: %s\n", victim_path,
			strerror(-ret));
		return 2;
	}
	if (pthread_create(&writer, NULL, gr_writer, &st) ||
	    pthread_create(&thief, NULL, gr_thief, &st) ||
	    pthread_create(&overwriter, NULL, gr_overwriter, &st)) {
		fprintf(stderr, "genrace: cannot start threads\n");
		return 2;
	}
	for (i = 0; i < nreaders; i++)
		if (pthread_create(&readers[i], NULL, gr_reader, &st)) {
			fprintf(stderr, "genrace: cannot start readers\n");
			return 2;
		}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	do {
		usleep(50000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!atomic_load(&st.stop) && (now.tv_sec < end.tv_sec ||
		 (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)));
	atomic_store(&st.stop, true);
	pthread_join(writer, NULL);
	pthread_join(thief, NULL);
	pthread_join(overwriter, NULL);
	for (i = 0; i < nreaders; i++)
		pthread_join(readers[i], NULL);
	close(st.victim_fd);
	printf("generations %" PRIu64 "\n", atomic_load(&st.gen));
	printf("punches %" PRIu64 "\nzero_ranges %" PRIu64 "\n"
	       "truncates %" PRIu64 "\noverwrites %" PRIu64 "\n"
	       "rewritten_blocks %" PRIu64 "\nthief_cycles %" PRIu64 "\n",
	       st.punches, st.zeroes, st.truncates, st.overwrites,
	       st.rewritten_blocks, st.thief_cycles);
	printf("thief_blocks_checked %" PRIu64 "\noverwriter_writes %" PRIu64
	       "\n", st.thief_blocks_checked,
	       atomic_load(&st.overwriter_writes));
	printf("reads %" PRIu64 "\nblocks_read %" PRIu64 "\n"
	       "zero_blocks %" PRIu64 "\nshort_reads %" PRIu64 "\n"
	       "older_generation_blocks %" PRIu64 "\n",
	       atomic_load(&st.reads), atomic_load(&st.blocks_read),
	       atomic_load(&st.zero_blocks), atomic_load(&st.short_reads),
	       atomic_load(&st.old_gen_ok));
	free(victim_path);
	free(st.thief_path);
	return atomic_load(&st.failed) ? 1 : 0;
}
