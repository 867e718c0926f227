// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-rangemap.c - microbenchmark of the range map, run by "make bench".
 * For 1K, 64K and 1M mappings, with keys in sequential and in random order,
 * it measures upsert (building the map from empty), lookup of an offset
 * inside a mapping (hit), lookup of an offset in a gap (miss: the call
 * returns the next mapping), and remove (emptying the map), in nanoseconds
 * per operation, and the memory the map holds per mapping.  The mappings
 * are 4 KiB long with 4 KiB gaps, so none merge.  Times are the thread's
 * CPU time, so that other work on a shared machine does not count; each
 * figure is the best of several rounds.  Last, the machine's dependent
 * load latency over 32 MiB, the yardstick for the 1M-mapping lookups.
 * Options: -r ROUNDS (default 3),
 * -s SEED.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iomap.h"
#include "rangemap.h"

#define BLOCK 4096u
#define LOOKUPS (1u << 21)

struct result {
	double upsert, hit, miss, remove, bytes;
};

static uint64_t rng_state = 42;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A key below @n from xorshift64 state *@x: a few cycles, no memory. */
static inline uint64_t next_key(uint64_t *x, uint64_t n)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint64_t)(((unsigned __int128)*x * n) >> 64);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

/* Mapping number k: 4 KiB at 8 KiB * k, device address apart from both. */
static struct iomap mapping(uint64_t k)
{
	struct iomap m = {
		.offset = k * 2 * BLOCK,
		.length = BLOCK,
		.addr = k * 3 * BLOCK,
		.type = IOMAP_MAPPED,
		.flags = 0,
	};

	return m;
}

/* Returns 0, or -1 after printing what went wrong. */
static int run_one(size_t n, int random_keys, struct result *res)
{
	uint64_t *order = NULL, sink = 0, seed = rnd() | 1, x;
	struct imap *map = NULL;
	struct iomap m;
	double t0, t1;
	size_t i;
	int ret = -1;

	order = malloc(n * sizeof(*order));
	map = imap_new();
	if (!order || !map) {
		fprintf(stderr, "bench-rangemap: out of memory\n");
		goto out_free;
	}
	for (i = 0; i < n; i++)
		order[i] = i;
	if (random_keys) {
		for (i = n - 1; i > 0; i--) {
			size_t j = rnd() % (i + 1);
			uint64_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	}

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		m = mapping(order[i]);
		if (imap_upsert(map, &m, NULL)) {
			fprintf(stderr, "bench-rangemap: upsert failed\n");
			goto out_free;
		}
	}
	t1 = now_ns();
	res->upsert = min_d(res->upsert, (t1 - t0) / (double)n);
	res->bytes = (double)imap_mem_bytes(map) / (double)n;
	if (imap_count(map) != n) {
		fprintf(stderr, "bench-rangemap: %zu mappings, expected %zu\n",
			imap_count(map), n);
		goto out_free;
	}

	/*
	 * Hits: an offset inside each mapping, in key order or at random.
	 * Random keys come from a cheap inline generator rather than from a
	 * table, so that the table does not compete with the map for cache.
	 */
	t0 = now_ns();
	for (i = 0, x = seed; i < LOOKUPS; i++) {
		uint64_t k = random_keys ? next_key(&x, n) : i % n;

		if (imap_lookup(map, k * 2 * BLOCK + 100, &m))
			goto out_lookup;
		sink += m.addr;
	}
	t1 = now_ns();
	res->hit = min_d(res->hit, (t1 - t0) / LOOKUPS);

	/* Misses: an offset in each gap; the call finds the next mapping. */
	t0 = now_ns();
	for (i = 0, x = seed; i < LOOKUPS; i++) {
		uint64_t k = random_keys ? next_key(&x, n) : i % n;
		int r = imap_lookup(map, k * 2 * BLOCK + BLOCK + 100, &m);

		if (r && r != -ENOENT)
			goto out_lookup;
		sink += (uint64_t)r + m.offset;
	}
	t1 = now_ns();
	res->miss = min_d(res->miss, (t1 - t0) / LOOKUPS);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		m = mapping(order[i]);
		if (imap_remove(map, m.offset, m.length) != BLOCK) {
			fprintf(stderr, "bench-rangemap: remove failed\n");
			goto out_free;
		}
	}
	t1 = now_ns();
	res->remove = min_d(res->remove, (t1 - t0) / (double)n);
	if (imap_count(map)) {
		fprintf(stderr, "bench-rangemap: map not empty at the end\n");
		goto out_free;
	}
	/* Use the results, so that the lookups are not optimized out. */
	if (sink == 1)
		putchar(' ');
	ret = 0;
	goto out_free;

out_lookup:
	fprintf(stderr, "bench-rangemap: lookup failed\n");
out_free:
	imap_free(map);
	free(order);
	return ret;
}

/*
 * The machine's own yardstick: nanoseconds per load when each load's
 * address comes from the one before, over @bytes of memory in a random
 * cycle (the 1M-mapping map is about 30 MiB).  A lookup in a map that big
 * cannot be much faster than one such load; on a shared VM this number
 * moves from day to day, and the lookup times with it.
 */
static int chase_ns(size_t bytes, double *out)
{
	size_t n = bytes / sizeof(size_t), i, j, t, p, steps = 4000000;
	size_t *next = malloc(n * sizeof(*next));
	size_t *perm = malloc(n * sizeof(*perm));
	double t0;

	if (!next || !perm) {
		free(next);
		free(perm);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = (size_t)(rnd() % (i + 1));
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (i = 0; i < n; i++)
		next[perm[i]] = perm[(i + 1) % n];
	p = perm[0];
	t0 = now_ns();
	for (i = 0; i < steps; i++)
		p = next[p];
	*out = (now_ns() - t0) / (double)steps;
	/* keep the chain alive */
	if (p == n)
		*out = 0;
	free(next);
	free(perm);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-rangemap [-r ROUNDS] [-s SEED]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1024, 65536, 1048576 };
	static const char *const sizenames[] = { "1K", "64K", "1M" };
	unsigned long rounds = 3;
	size_t s;
	int opt, r;

	while ((opt = getopt(argc, argv, "r:s:")) != -1) {
		char *end;

		switch (opt) {
		case 'r':
			rounds = strtoul(optarg, &end, 0);
			if (*end || !rounds || rounds > 100)
				usage();
			break;
		case 's':
			rng_state = strtoull(optarg, &end, 0);
			if (*end)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	printf("range map benchmark: ns/op (best of %lu rounds), 4 KiB "
	       "mappings with 4 KiB gaps\n", rounds);
	printf("%-8s %-10s %9s %11s %12s %9s %14s\n", "mappings", "keys",
	       "upsert", "lookup-hit", "lookup-miss", "remove",
	       "bytes/mapping");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (r = 0; r < 2; r++) {
			struct result res = {
				1e300, 1e300, 1e300, 1e300, 0,
			};
			unsigned long k;

			for (k = 0; k < rounds; k++)
				if (run_one(sizes[s], r, &res))
					return 1;
			printf("%-8s %-10s %9.1f %11.1f %12.1f %9.1f %14.1f\n",
			       sizenames[s], r ? "random" : "sequential",
			       res.upsert, res.hit, res.miss, res.remove,
			       res.bytes);
			fflush(stdout);
		}
	}
	printf("targets: lookup <= 100 ns at 1M mappings, <= %d bytes a "
	       "mapping\n", IMAP_BYTES_PER_MAPPING_GOAL);
	{
		double ns = 0, best = 1e300;
		unsigned long k;

		for (k = 0; k < rounds; k++) {
			if (chase_ns(32u << 20, &ns))
				return 1;
			best = min_d(best, ns);
		}
		printf("this machine: %.1f ns per dependent load over 32 MiB "
		       "at random (the floor under a 1M-mapping lookup)\n",
		       best);
	}
	return 0;
}
