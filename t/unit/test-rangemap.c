// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-rangemap.c - unit tests of the range map (shared/rangemap.c): named
 * cases for every trim, split and merge rule, the edges of the offset space
 * and the CLOCK eviction, then a seeded random differential test that
 * drives the map and a byte-granular model with the same operations and
 * compares them.  IMAP_TEST_SEED sets the seed, IMAP_TEST_OPS the number
 * of random operations (default 1,000,000); a failure prints both, with
 * the index of the operation that went wrong.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iomap.h"
#include "rangemap.h"
#include "tap.h"

#define NA IOMAP_NULL_ADDR
#define MAXOFF UINT64_MAX

static struct iomap mk(uint64_t off, uint64_t len, unsigned int type,
		       uint64_t addr, unsigned int flags)
{
	struct iomap m = {
		.offset = off, .length = len, .addr = addr,
		.type = (uint16_t)type, .flags = (uint16_t)flags,
	};

	return m;
}

static void print_map(const struct imap *map)
{
	struct imap_iter it;
	struct iomap m;

	imap_iter_start(map, 0, &it);
	while (imap_iter_next(&it, &m))
		tap_diag("  [0x%" PRIx64 " +0x%" PRIx64 "] type %u addr 0x%"
			 PRIx64 " flags 0x%x", m.offset, m.length,
			 (unsigned int)m.type, m.addr, (unsigned int)m.flags);
}

static bool same_iomap(const struct iomap *a, const struct iomap *b)
{
	return a->offset == b->offset && a->length == b->length &&
	       a->addr == b->addr && a->type == b->type &&
	       a->flags == b->flags;
}

/* The map must hold exactly @want[0..n-1], and pass imap_check(). */
static void expect_map(const struct imap *map, const char *what,
		       const struct iomap *want, size_t n)
{
	struct imap_iter it;
	struct iomap m;
	size_t i = 0;
	bool ok = true;
	uint64_t span = 0;

	imap_iter_start(map, 0, &it);
	while (imap_iter_next(&it, &m)) {
		if (i >= n || !same_iomap(&m, &want[i]))
			ok = false;
		i++;
	}
	for (i = 0; i < n; i++)
		span = span + want[i].length < span ? UINT64_MAX :
						      span + want[i].length;
	if (i != n || imap_count(map) != n || imap_span_bytes(map) != span)
		ok = false;
	if (imap_check(map))
		ok = false;
	if (!tap_ok(ok, "%s", what)) {
		tap_diag("expected %zu mappings:", n);
		for (i = 0; i < n; i++)
			tap_diag("  [0x%" PRIx64 " +0x%" PRIx64
				 "] type %u addr 0x%" PRIx64 " flags 0x%x",
				 want[i].offset, want[i].length,
				 (unsigned int)want[i].type, want[i].addr,
				 (unsigned int)want[i].flags);
		tap_diag("got %zu mappings (check %d):", imap_count(map),
			 imap_check(map));
		print_map(map);
	}
}

#define EXPECT(map, what, ...)						\
	do {								\
		const struct iomap want_[] = { __VA_ARGS__ };		\
		expect_map(map, what, want_,				\
			   sizeof(want_) / sizeof(want_[0]));		\
	} while (0)

static int up(struct imap *map, struct iomap m, unsigned int *merged)
{
	return imap_upsert(map, &m, merged);
}

static void test_empty(void)
{
	struct imap *map = imap_new();
	struct imap_iter it;
	struct iomap m;

	tap_ok(map != NULL, "empty: imap_new");
	tap_eq_int(imap_lookup(map, 0, &m), -ENOENT, "empty: lookup 0");
	tap_eq_int(imap_lookup(map, MAXOFF, &m), -ENOENT,
		   "empty: lookup 2^64-1");
	tap_eq_int(imap_remove(map, 0, IMAP_TO_EOF), 0, "empty: remove all");
	tap_eq_u64(imap_count(map), 0, "empty: count");
	tap_eq_u64(imap_span_bytes(map), 0, "empty: span");
	tap_ok(imap_mem_bytes(map) > 0 && imap_mem_bytes(map) <= 128,
	       "empty: mem bytes small (%zu)", imap_mem_bytes(map));
	imap_iter_start(map, 0, &it);
	tap_eq_int(imap_iter_next(&it, &m), 0, "empty: iterator ends");
	tap_eq_u64(imap_evict(map, 10, NULL, NULL), 0, "empty: evict");
	tap_eq_int(imap_check(map), 0, "empty: check");
	imap_free(map);
	imap_free(NULL);
}

static void test_invalid(void)
{
	struct imap *map = imap_new();
	unsigned int merged = 7;

	tap_eq_int(up(map, mk(0, 0, IOMAP_HOLE, NA, 0), NULL), -EINVAL,
		   "invalid: length 0");
	tap_eq_int(up(map, mk(0, 4096, IOMAP_MAPPED, NA, 0), NULL), -EINVAL,
		   "invalid: MAPPED without addr");
	tap_eq_int(up(map, mk(0, 4096, IOMAP_HOLE, 0, 0), NULL), -EINVAL,
		   "invalid: HOLE with addr");
	tap_eq_int(up(map, mk(0, 4096, 9, NA, 0), NULL), -EINVAL,
		   "invalid: unknown type");
	tap_eq_int(up(map, mk(0, 4096, IOMAP_HOLE, NA, 0x40), NULL), -EINVAL,
		   "invalid: unknown flag");
	tap_eq_int(up(map, mk(MAXOFF, 2, IOMAP_HOLE, NA, 0), &merged),
		   -EINVAL, "invalid: past 2^64");
	tap_eq_int(up(map, mk(0, 2, IOMAP_MAPPED, MAXOFF, 0), NULL), -EINVAL,
		   "invalid: addr past 2^64");
	tap_eq_u64(imap_count(map), 0, "invalid: map unchanged");
	imap_free(map);
}

static void test_overlaps(void)
{
	struct imap *map = imap_new();
	unsigned int merged = 9;

	up(map, mk(0x1000, 0x3000, IOMAP_MAPPED, 0x100000, 0), &merged);
	tap_eq_int(merged, 0, "insert: merged 0");
	EXPECT(map, "insert one",
	       mk(0x1000, 0x3000, IOMAP_MAPPED, 0x100000, 0));

	tap_eq_int(up(map, mk(0x1000, 0x3000, IOMAP_UNWRITTEN, 0x200000,
			      IOMAP_F_NEW), &merged), 0, "exact: upsert");
	tap_eq_int(merged, 0, "exact: merged 0");
	EXPECT(map, "exact overlap replaces",
	       mk(0x1000, 0x3000, IOMAP_UNWRITTEN, 0x200000, IOMAP_F_NEW));

	up(map, mk(0x0, 0x2000, IOMAP_HOLE, NA, 0), &merged);
	EXPECT(map, "left partial overlap trims the old start",
	       mk(0x0, 0x2000, IOMAP_HOLE, NA, 0),
	       mk(0x2000, 0x2000, IOMAP_UNWRITTEN, 0x201000, IOMAP_F_NEW));

	up(map, mk(0x3000, 0x2000, IOMAP_DELALLOC, NA, 0), &merged);
	EXPECT(map, "right partial overlap trims the old end",
	       mk(0x0, 0x2000, IOMAP_HOLE, NA, 0),
	       mk(0x2000, 0x1000, IOMAP_UNWRITTEN, 0x201000, IOMAP_F_NEW),
	       mk(0x3000, 0x2000, IOMAP_DELALLOC, NA, 0));

	up(map, mk(0x1000, 0x3000, IOMAP_MAPPED, 0x500000, 0), &merged);
	EXPECT(map, "overlap of three: trims both, drops the middle",
	       mk(0x0, 0x1000, IOMAP_HOLE, NA, 0),
	       mk(0x1000, 0x3000, IOMAP_MAPPED, 0x500000, 0),
	       mk(0x4000, 0x1000, IOMAP_DELALLOC, NA, 0));
	imap_clear(map);
	tap_eq_u64(imap_count(map), 0, "clear: count 0");

	up(map, mk(0x0, 0x10000, IOMAP_MAPPED, 0x100000, 0), NULL);
	up(map, mk(0x4000, 0x2000, IOMAP_MAPPED, 0x900000, 0), &merged);
	tap_eq_int(merged, 0, "split: merged 0");
	EXPECT(map, "split in the middle",
	       mk(0x0, 0x4000, IOMAP_MAPPED, 0x100000, 0),
	       mk(0x4000, 0x2000, IOMAP_MAPPED, 0x900000, 0),
	       mk(0x6000, 0xa000, IOMAP_MAPPED, 0x106000, 0));

	up(map, mk(0x4000, 0x2000, IOMAP_MAPPED, 0x104000, 0), &merged);
	tap_eq_int(merged, 2, "merge both: merged 2");
	EXPECT(map, "merge left and right heals the split",
	       mk(0x0, 0x10000, IOMAP_MAPPED, 0x100000, 0));

	up(map, mk(0x8000, 0x1000, IOMAP_MAPPED, 0x108000, 0), &merged);
	tap_eq_int(merged, 2, "no-op inside an equal mapping: merged 2");
	EXPECT(map, "upsert of what is already there changes nothing",
	       mk(0x0, 0x10000, IOMAP_MAPPED, 0x100000, 0));
	imap_free(map);
}

static void test_merges(void)
{
	struct imap *map = imap_new();
	unsigned int merged = 9;

	up(map, mk(0x0, 0x1000, IOMAP_MAPPED, 0x10000, 0), NULL);
	up(map, mk(0x1000, 0x1000, IOMAP_MAPPED, 0x11000, 0), &merged);
	tap_eq_int(merged, 1, "merge left: merged 1");
	EXPECT(map, "merge left",
	       mk(0x0, 0x2000, IOMAP_MAPPED, 0x10000, 0));

	up(map, mk(0x5000, 0x1000, IOMAP_HOLE, NA, IOMAP_F_LAST), NULL);
	up(map, mk(0x4000, 0x1000, IOMAP_HOLE, NA, IOMAP_F_LAST), &merged);
	tap_eq_int(merged, 1, "merge right: merged 1");
	EXPECT(map, "merge right (NULL_ADDR with NULL_ADDR)",
	       mk(0x0, 0x2000, IOMAP_MAPPED, 0x10000, 0),
	       mk(0x4000, 0x2000, IOMAP_HOLE, NA, IOMAP_F_LAST));

	up(map, mk(0x2000, 0x2000, IOMAP_MAPPED, 0x12000, 0), &merged);
	tap_eq_int(merged, 1, "merge left only: merged 1");
	up(map, mk(0x6000, 0x1000, IOMAP_HOLE, NA, IOMAP_F_LAST), &merged);
	tap_eq_int(merged, 1, "merge after a NULL_ADDR run: merged 1");
	EXPECT(map, "both runs grown",
	       mk(0x0, 0x4000, IOMAP_MAPPED, 0x10000, 0),
	       mk(0x4000, 0x3000, IOMAP_HOLE, NA, IOMAP_F_LAST));
	imap_clear(map);

	/* Refused merges: each neighbour differs in one way. */
	up(map, mk(0x0, 0x1000, IOMAP_MAPPED, 0x10000, 0), NULL);
	up(map, mk(0x1000, 0x1000, IOMAP_UNWRITTEN, 0x11000, 0), &merged);
	tap_eq_int(merged, 0, "refused: type differs");
	up(map, mk(0x2000, 0x1000, IOMAP_UNWRITTEN, 0x12000, IOMAP_F_NEW),
	   &merged);
	tap_eq_int(merged, 0, "refused: flags differ");
	up(map, mk(0x3000, 0x1000, IOMAP_UNWRITTEN, 0x14000, IOMAP_F_NEW),
	   &merged);
	tap_eq_int(merged, 0, "refused: addr not contiguous");
	up(map, mk(0x4000, 0x1000, IOMAP_DELALLOC, NA, IOMAP_F_NEW), &merged);
	tap_eq_int(merged, 0, "refused: NULL_ADDR after an addr");
	up(map, mk(0x5000, 0x1000, IOMAP_MAPPED, 0x15000, IOMAP_F_NEW),
	   &merged);
	tap_eq_int(merged, 0, "refused: addr after NULL_ADDR");
	up(map, mk(0x7000, 0x1000, IOMAP_MAPPED, 0x16000, IOMAP_F_NEW),
	   &merged);
	tap_eq_int(merged, 0, "refused: file offsets not contiguous");
	EXPECT(map, "refused merges keep six mappings",
	       mk(0x0, 0x1000, IOMAP_MAPPED, 0x10000, 0),
	       mk(0x1000, 0x1000, IOMAP_UNWRITTEN, 0x11000, 0),
	       mk(0x2000, 0x1000, IOMAP_UNWRITTEN, 0x12000, IOMAP_F_NEW),
	       mk(0x3000, 0x1000, IOMAP_UNWRITTEN, 0x14000, IOMAP_F_NEW),
	       mk(0x4000, 0x1000, IOMAP_DELALLOC, NA, IOMAP_F_NEW),
	       mk(0x5000, 0x1000, IOMAP_MAPPED, 0x15000, IOMAP_F_NEW),
	       mk(0x7000, 0x1000, IOMAP_MAPPED, 0x16000, IOMAP_F_NEW));

	/* A trimmed piece merges with the new mapping when it can. */
	imap_clear(map);
	up(map, mk(0x0, 0x4000, IOMAP_MAPPED, 0x10000, 0), NULL);
	up(map, mk(0x4000, 0x4000, IOMAP_HOLE, NA, 0), NULL);
	up(map, mk(0x2000, 0x4000, IOMAP_MAPPED, 0x12000, 0), &merged);
	tap_eq_int(merged, 1, "overlap then merge: merged 1");
	EXPECT(map, "overlap then merge with the trimmed left piece",
	       mk(0x0, 0x6000, IOMAP_MAPPED, 0x10000, 0),
	       mk(0x6000, 0x2000, IOMAP_HOLE, NA, 0));
	imap_free(map);
}

static void test_edges(void)
{
	struct imap *map = imap_new();
	unsigned int merged = 9;
	struct iomap m;
	int64_t got;

	tap_eq_int(up(map, mk(MAXOFF, 1, IOMAP_HOLE, NA, 0), &merged), 0,
		   "2^64-1: one byte at the top");
	tap_eq_int(imap_lookup(map, MAXOFF, &m), 0, "2^64-1: lookup");
	tap_eq_u64(m.offset, MAXOFF, "2^64-1: offset");
	tap_eq_u64(m.length, 1, "2^64-1: length");
	up(map, mk(MAXOFF - 0xfff, 0xfff, IOMAP_HOLE, NA, 0), &merged);
	tap_eq_int(merged, 1, "2^64-1: merge below the top");
	EXPECT(map, "top 4 KiB merged",
	       mk(MAXOFF - 0xfff, 0x1000, IOMAP_HOLE, NA, 0));
	tap_eq_int(imap_lookup(map, MAXOFF - 0x2000, &m), 0,
		   "2^64-1: lookup before gives the next");
	tap_eq_u64(m.offset, MAXOFF - 0xfff, "2^64-1: next offset");

	/* All of 2^64 cannot be one iomap: the merge is refused. */
	up(map, mk(0, MAXOFF - 0xfff, IOMAP_HOLE, NA, 0), &merged);
	tap_eq_int(merged, 0, "2^64: no merge that covers all 2^64 bytes");
	EXPECT(map, "the whole space as two mappings",
	       mk(0, MAXOFF - 0xfff, IOMAP_HOLE, NA, 0),
	       mk(MAXOFF - 0xfff, 0x1000, IOMAP_HOLE, NA, 0));
	tap_eq_u64(imap_span_bytes(map), UINT64_MAX,
		   "2^64: span saturates");
	got = imap_remove(map, 0, IMAP_TO_EOF);
	tap_eq_int(got, INT64_MAX, "2^64: remove all returns INT64_MAX");
	tap_eq_u64(imap_count(map), 0, "2^64: all removed");

	/* Addresses at the top: not contiguous with address 0. */
	up(map, mk(0x0, 0x1000, IOMAP_MAPPED, MAXOFF - 0xfff, 0), NULL);
	up(map, mk(0x1000, 0x1000, IOMAP_MAPPED, 0, 0), &merged);
	tap_eq_int(merged, 0, "addr 2^64-1 does not run on into addr 0");
	imap_clear(map);

	/* Removal edges. */
	up(map, mk(0x1000, 0x4000, IOMAP_MAPPED, 0x10000, 0), NULL);
	tap_eq_int(imap_remove(map, 0x2000, 0), 0, "remove len 0");
	tap_eq_int(imap_remove(map, 0x2000, 0x1000), 0x1000,
		   "remove a middle block: bytes");
	EXPECT(map, "remove splits",
	       mk(0x1000, 0x1000, IOMAP_MAPPED, 0x10000, 0),
	       mk(0x3000, 0x2000, IOMAP_MAPPED, 0x12000, 0));
	tap_eq_int(imap_remove(map, 0x3800, IMAP_TO_EOF), 0x1800,
		   "remove to EOF: bytes");
	EXPECT(map, "remove to EOF trims",
	       mk(0x1000, 0x1000, IOMAP_MAPPED, 0x10000, 0),
	       mk(0x3000, 0x800, IOMAP_MAPPED, 0x12000, 0));
	tap_eq_int(imap_remove(map, 0x800, 0x1000), 0x800,
		   "remove the front: bytes");
	EXPECT(map, "remove trims the front and moves addr",
	       mk(0x1800, 0x800, IOMAP_MAPPED, 0x10800, 0),
	       mk(0x3000, 0x800, IOMAP_MAPPED, 0x12000, 0));
	tap_eq_int(imap_remove(map, 0x2000, MAXOFF - 5), 0x800,
		   "remove with a length past 2^64");
	up(map, mk(MAXOFF, 1, IOMAP_HOLE, NA, 0), NULL);
	tap_eq_int(imap_remove(map, MAXOFF - 1, 2), 1,
		   "remove a length that ends at 2^64 - 1");
	up(map, mk(MAXOFF, 1, IOMAP_HOLE, NA, 0), NULL);
	tap_eq_int(imap_remove(map, 0x2000, IMAP_TO_EOF), 1,
		   "remove to EOF reaches 2^64 - 1");
	tap_eq_int(imap_remove(map, MAXOFF, 1), 0, "remove at 2^64-1");
	EXPECT(map, "one left",
	       mk(0x1800, 0x800, IOMAP_MAPPED, 0x10800, 0));
	imap_free(map);
}

static void test_iter(void)
{
	struct imap *map = imap_new();
	struct imap_iter it;
	struct iomap m;
	uint64_t i, n = 0, expect_off;
	bool ok = true;

	for (i = 0; i < 1000; i++)
		up(map, mk(i * 0x2000, 0x1000, IOMAP_MAPPED, i * 0x3000, 0),
		   NULL);
	tap_eq_u64(imap_count(map), 1000, "iter: 1000 mappings");
	tap_eq_int(imap_check(map), 0, "iter: check");
	imap_iter_start(map, 0x1800, &it);
	expect_off = 0x2000;
	while (imap_iter_next(&it, &m)) {
		if (m.offset != expect_off || m.length != 0x1000 ||
		    m.addr != expect_off / 0x2000 * 0x3000)
			ok = false;
		expect_off += 0x2000;
		n++;
	}
	tap_ok(ok && n == 999, "iter: from a gap, in order (%" PRIu64 ")",
	       n);
	imap_iter_start(map, 999 * 0x2000 + 0xfff, &it);
	tap_ok(imap_iter_next(&it, &m) && m.offset == 999 * 0x2000 &&
	       !imap_iter_next(&it, &m), "iter: from inside the last");
	imap_iter_start(map, 999 * 0x2000 + 0x1000, &it);
	tap_eq_int(imap_iter_next(&it, &m), 0, "iter: past the end");
	imap_free(map);
}

struct evict_log {
	uint64_t offs[64];
	size_t n;
};

static void log_evict(const struct iomap *m, void *arg)
{
	struct evict_log *log = arg;

	if (log->n < 64)
		log->offs[log->n] = m->offset;
	log->n++;
}

static void test_evict(void)
{
	struct imap *map = imap_new();
	struct evict_log log = { .n = 0 };
	struct iomap m;
	uint64_t i;
	size_t got;
	bool ok;

	for (i = 0; i < 8; i++)
		up(map, mk(i * 0x2000, 0x1000, IOMAP_HOLE, NA, 0), NULL);
	/* Every mapping starts referenced: the first pass clears them. */
	got = imap_evict(map, 2, log_evict, &log);
	tap_eq_u64(got, 2, "evict: two from a fresh map");
	tap_ok(log.n == 2 && log.offs[0] == 0 && log.offs[1] == 0x2000,
	       "evict: the callback saw the first two (%zu)", log.n);
	tap_eq_u64(imap_count(map), 6, "evict: six left");
	/* Touch 0x4000 and 0x8000: the hand skips them. */
	imap_lookup(map, 0x4000, &m);
	imap_lookup(map, 0x8000, &m);
	log.n = 0;
	got = imap_evict(map, 2, log_evict, &log);
	tap_ok(got == 2 && log.n == 2 && log.offs[0] == 0x6000 &&
	       log.offs[1] == 0xa000,
	       "evict: referenced mappings survive a pass (%zu: 0x%" PRIx64
	       " 0x%" PRIx64 ")", got, log.offs[0], log.offs[1]);
	log.n = 0;
	got = imap_evict(map, 100, log_evict, &log);
	tap_eq_u64(got, 4, "evict: everything within two turns");
	tap_eq_u64(imap_count(map), 0, "evict: empty");
	tap_eq_int(imap_check(map), 0, "evict: check");

	for (i = 0; i < 5000; i++)
		up(map, mk(i * 0x2000, 0x1000, IOMAP_HOLE, NA, 0), NULL);
	got = imap_evict(map, 1000, NULL, NULL);
	ok = got == 1000 && imap_count(map) == 4000 && !imap_check(map);
	tap_ok(ok, "evict: 1000 of 5000 with a NULL callback");
	for (i = 0; i < 5000; i += 2)
		imap_lookup(map, i * 0x2000, &m);
	got = imap_evict(map, 10000, NULL, NULL);
	tap_eq_u64(got, 4000, "evict: all in at most two turns");
	imap_free(map);
}

/* Big trees: shape under sequential, reverse and random fills. */
static void test_bulk(void)
{
#ifdef IMAP_TEST_SMALL_NODES
	const bool check_mem = false;	/* tiny nodes cost more */
#else
	const bool check_mem = true;
#endif
	struct imap *map = imap_new();
	uint64_t i, n = 200000, x = 12345;
	struct iomap m;
	bool ok = true;
	int64_t got;

	for (i = 0; i < n; i++)
		up(map, mk(i * 0x2000, 0x1000, IOMAP_MAPPED, i * 0x2000, 0),
		   NULL);
	tap_eq_int(imap_check(map), 0, "bulk: sequential fill");
	tap_ok(!check_mem ||
	       imap_mem_bytes(map) <= n * IMAP_BYTES_PER_MAPPING_GOAL,
	       "bulk: sequential fill costs %.1f bytes a mapping",
	       (double)imap_mem_bytes(map) / (double)n);
	for (i = 0; i < n && ok; i++)
		ok = !imap_lookup(map, i * 0x2000 + 0x1800, &m) &&
		     m.offset == (i + 1) * 0x2000;
	tap_ok(ok || i == n, "bulk: every gap looks up the next mapping");
	/* Fill the gaps: everything merges into one mapping. */
	for (i = 0; i < n; i++)
		up(map, mk(i * 0x2000 + 0x1000, 0x1000, IOMAP_MAPPED,
			   i * 0x2000 + 0x1000, 0), NULL);
	tap_eq_u64(imap_count(map), 1, "bulk: gaps filled merge into one");
	tap_eq_int(imap_check(map), 0, "bulk: check after the merges");
	imap_clear(map);

	for (i = n; i-- > 0;)
		up(map, mk(i * 0x2000, 0x1000, IOMAP_HOLE, NA, i & 1), NULL);
	tap_eq_int(imap_check(map), 0, "bulk: reverse fill");
	tap_ok(!check_mem ||
	       imap_mem_bytes(map) <= n * IMAP_BYTES_PER_MAPPING_GOAL,
	       "bulk: reverse fill costs %.1f bytes a mapping",
	       (double)imap_mem_bytes(map) / (double)n);
	got = imap_remove(map, 0x2000 * 1000, 0x2000 * 150000);
	tap_eq_int(got, 150000 * 0x1000, "bulk: remove 150000 at once");
	tap_eq_int(imap_check(map), 0, "bulk: check after the big remove");
	tap_eq_u64(imap_count(map), n - 150000, "bulk: count after remove");
	imap_clear(map);

	for (i = 0; i < n; i++) {
		uint64_t k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % (n * 4);
		up(map, mk(k * 0x2000, 0x1000, IOMAP_HOLE, NA, 0), NULL);
	}
	tap_eq_int(imap_check(map), 0, "bulk: random fill");
	tap_ok(!check_mem || imap_mem_bytes(map) <= imap_count(map) *
						   IMAP_BYTES_PER_MAPPING_GOAL,
	       "bulk: random fill costs %.1f bytes a mapping",
	       (double)imap_mem_bytes(map) / (double)imap_count(map));
	for (i = 0; i < n * 4; i += 3)
		imap_remove(map, i * 0x2000, 0x1000);
	tap_eq_int(imap_check(map), 0, "bulk: random removes");
	imap_free(map);
}

#ifdef IMAP_FAULT_INJECTION
extern long imap_fault_countdown;

/* Failed allocations: never a wrong mapping, never a half-split tree. */
static void test_enomem(void)
{
	struct imap *map;
	unsigned int merged;
	uint64_t i;
	int ret, failed = 0, ok = 1;

	imap_fault_countdown = 0;
	map = imap_new();
	tap_ok(map == NULL, "enomem: imap_new fails cleanly");
	imap_fault_countdown = -1;
	map = imap_new();

	imap_fault_countdown = 0;
	tap_eq_int(up(map, mk(0, 0x1000, IOMAP_HOLE, NA, 0), NULL), -ENOMEM,
		   "enomem: first upsert");
	imap_fault_countdown = -1;
	tap_eq_u64(imap_count(map), 0, "enomem: map still empty");
	tap_eq_int(imap_check(map), 0, "enomem: check");

	/* A split of a lone mapping needs the root leaf to grow. */
	up(map, mk(0, 0x10000, IOMAP_MAPPED, 0x100000, 0), NULL);
	imap_fault_countdown = 0;
	tap_eq_int(up(map, mk(0x4000, 0x1000, IOMAP_HOLE, NA, 0), &merged),
		   -ENOMEM, "enomem: split upsert fails first");
	imap_fault_countdown = -1;
	EXPECT(map, "enomem: ... and leaves the map unchanged",
	       mk(0, 0x10000, IOMAP_MAPPED, 0x100000, 0));
	imap_fault_countdown = 1;
	tap_eq_int(up(map, mk(0x4000, 0x1000, IOMAP_HOLE, NA, 0), &merged),
		   -ENOMEM, "enomem: split upsert fails second");
	imap_fault_countdown = -1;
	EXPECT(map, "enomem: ... and loses only the new range",
	       mk(0, 0x4000, IOMAP_MAPPED, 0x100000, 0),
	       mk(0x5000, 0xb000, IOMAP_MAPPED, 0x105000, 0));
	imap_clear(map);

	up(map, mk(0, 0x10000, IOMAP_MAPPED, 0x100000, 0), NULL);
	imap_fault_countdown = 0;
	tap_eq_int(imap_remove(map, 0x4000, 0x1000), -ENOMEM,
		   "enomem: a remove that must split");
	imap_fault_countdown = -1;
	tap_eq_u64(imap_count(map), 0,
		   "enomem: ... removes the whole mapping instead");
	tap_eq_int(imap_check(map), 0, "enomem: check after remove");

	/* Inserts into a big tree with no memory: all or nothing. */
	for (i = 0; i < 3000; i++)
		up(map, mk(i * 0x4000, 0x1000, IOMAP_HOLE, NA, 0), NULL);
	for (i = 0; i < 3000 && ok; i++) {
		size_t before = imap_count(map);

		imap_fault_countdown = (long)(i % 3);
		ret = up(map, mk(i * 0x4000 + 0x2000, 0x1000, IOMAP_MAPPED,
				 i * 0x4000, 0), NULL);
		imap_fault_countdown = -1;
		if (ret == -ENOMEM) {
			failed++;
			ok = imap_count(map) == before;
		} else {
			ok = !ret && imap_count(map) == before + 1;
		}
		ok = ok && !imap_check(map);
	}
	tap_ok(ok && failed > 0, "enomem: failed inserts leave the tree "
	       "whole (%d of %" PRIu64 " failed)", failed, i);
	imap_free(map);
}
#endif

/* --- the differential test ---------------------------------------------- */

/*
 * The model: one cell per byte of a small window [base, base + MODEL_N)
 * of the offset space, holding what the map should say about that byte.
 * Runs of cells that could merge are exactly the mappings the canonical
 * map must hold.
 */
#define MODEL_N 16384

struct cell {
	uint8_t present;
	uint8_t type;
	uint8_t flags;
	uint64_t addr;		/* device address of this very byte */
};

struct model {
	struct cell c[MODEL_N];
	uint64_t base;		/* offset of cell 0 */
	uint64_t unit;		/* bytes a cell stands for */
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static bool cells_merge(const struct model *md, const struct cell *a,
			const struct cell *b)
{
	if (!a->present || !b->present || a->type != b->type ||
	    a->flags != b->flags)
		return false;
	if (!iomap_type_has_addr(a->type))
		return true;
	return a->addr <= UINT64_MAX - md->unit &&
	       a->addr + md->unit == b->addr;
}

/* The canonical mapping that holds cell @i (which is present). */
static struct iomap model_run(const struct model *md, size_t i)
{
	size_t s = i, e = i;
	struct iomap m;

	while (s > 0 && cells_merge(md, &md->c[s - 1], &md->c[s]))
		s--;
	while (e + 1 < MODEL_N && cells_merge(md, &md->c[e], &md->c[e + 1]))
		e++;
	m.offset = md->base + s * md->unit;
	m.length = (e - s + 1) * md->unit;
	m.type = md->c[s].type;
	m.flags = md->c[s].flags;
	m.addr = iomap_type_has_addr(m.type) ? md->c[s].addr : NA;
	return m;
}

/* What imap_lookup(off) should give: 0 and *m, or -ENOENT. */
static int model_lookup(const struct model *md, uint64_t off,
			struct iomap *m)
{
	size_t i;

	if (off < md->base)
		off = md->base;
	for (i = (off - md->base) / md->unit; i < MODEL_N; i++) {
		if (md->c[i].present) {
			*m = model_run(md, i);
			return 0;
		}
	}
	return -ENOENT;
}

static uint64_t model_remove(struct model *md, size_t i, size_t end)
{
	uint64_t n = 0;

	for (; i < end; i++) {
		n += md->c[i].present;
		md->c[i].present = 0;
	}
	return n;
}

#ifdef IMAP_FAULT_INJECTION
/* Now and then, make one of the next few allocations fail. */
static bool arm_fault(bool faults)
{
	if (!faults || rnd_below(20))
		return false;
	imap_fault_countdown = (long)rnd_below(3);
	return true;
}

static void disarm_fault(void)
{
	imap_fault_countdown = -1;
}
#else
static bool arm_fault(bool faults)
{
	return false;
}

static void disarm_fault(void)
{
}
#endif

struct diff_ctx {
	struct model *md;
	unsigned long long seed;
	unsigned long op;
	bool failed;
	bool faults;		/* inject allocation failures */
	unsigned long enomem;	/* calls that failed with -ENOMEM */
};

static void diff_fail(struct diff_ctx *cx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void diff_fail(struct diff_ctx *cx, const char *fmt, ...)
{
	va_list ap;

	if (cx->failed)
		return;
	cx->failed = true;
	printf("# differential test failed: seed %llu (IMAP_TEST_SEED=%llu),"
	       " operation %lu: ", cx->seed, cx->seed, cx->op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void compare_all(struct diff_ctx *cx, const struct imap *map)
{
	const struct model *md = cx->md;
	struct imap_iter it;
	struct iomap got, want;
	size_t i = 0, n = 0;
	uint64_t span = 0;
	int ret;

	ret = imap_check(map);
	if (ret) {
		diff_fail(cx, "imap_check() = %d", ret);
		print_map(map);
		return;
	}
	imap_iter_start(map, 0, &it);
	while (imap_iter_next(&it, &got)) {
		while (i < MODEL_N && !md->c[i].present)
			i++;
		if (i == MODEL_N) {
			diff_fail(cx, "map holds 0x%" PRIx64 "+0x%" PRIx64
				  " beyond the model", got.offset,
				  got.length);
			return;
		}
		want = model_run(md, i);
		if (!same_iomap(&got, &want)) {
			diff_fail(cx, "mapping %zu: map 0x%" PRIx64 "+0x%"
				  PRIx64 " t%u a0x%" PRIx64 " f%u, model 0x%"
				  PRIx64 "+0x%" PRIx64 " t%u a0x%" PRIx64
				  " f%u", n, got.offset, got.length,
				  (unsigned int)got.type, got.addr,
				  (unsigned int)got.flags, want.offset,
				  want.length, (unsigned int)want.type,
				  want.addr, (unsigned int)want.flags);
			return;
		}
		i += want.length / md->unit;
		span += want.length;
		n++;
	}
	while (i < MODEL_N && !md->c[i].present)
		i++;
	if (i < MODEL_N) {
		diff_fail(cx, "map misses model byte 0x%" PRIx64,
			  md->base + i * md->unit);
		return;
	}
	if (imap_count(map) != n || imap_span_bytes(map) != span)
		diff_fail(cx, "count %zu span %" PRIu64 ", expected %zu %"
			  PRIu64, imap_count(map), imap_span_bytes(map), n,
			  span);
}

static void evict_to_model(const struct iomap *m, void *arg)
{
	struct diff_ctx *cx = arg;
	struct iomap want;
	size_t i = (m->offset - cx->md->base) / cx->md->unit;

	if (m->offset < cx->md->base || i >= MODEL_N ||
	    !cx->md->c[i].present) {
		diff_fail(cx, "evicted 0x%" PRIx64 " is not in the model",
			  m->offset);
		return;
	}
	want = model_run(cx->md, i);
	if (!same_iomap(m, &want)) {
		diff_fail(cx, "evicted 0x%" PRIx64 "+0x%" PRIx64
			  " is not a whole model mapping", m->offset,
			  m->length);
		return;
	}
	model_remove(cx->md, i, i + m->length / cx->md->unit);
}

static unsigned int rnd_type(void)
{
	static const uint8_t types[] = {
		IOMAP_MAPPED, IOMAP_MAPPED, IOMAP_MAPPED, IOMAP_UNWRITTEN,
		IOMAP_UNWRITTEN, IOMAP_HOLE, IOMAP_HOLE, IOMAP_DELALLOC,
		IOMAP_INLINE,
	};

	return types[rnd_below(sizeof(types))];
}

static uint64_t rnd_len(void)
{
	uint64_t r = rnd_below(100);

	if (r < 80)
		return 1 + rnd_below(8);
	if (r < 97)
		return 1 + rnd_below(128);
	return 1 + rnd_below(MODEL_N / 4);
}

/*
 * An upsert of cells [i, i + len) failed with -ENOMEM: the map may have
 * lost what it held there, but must not say anything the model does not.
 * Then both forget that range, and must agree everywhere.
 */
static void upsert_enomem(struct diff_ctx *cx, struct imap *map, uint64_t i,
			  uint64_t len)
{
	struct model *md = cx->md;
	uint64_t j;

	for (j = i; j < i + len && !cx->failed; j++) {
		uint64_t off = md->base + j * md->unit;
		const struct cell *c = &md->c[j];
		struct iomap got;

		if (imap_lookup(map, off, &got) || got.offset > off)
			continue;	/* lost: allowed */
		if (!c->present || got.type != c->type ||
		    got.flags != c->flags ||
		    (iomap_type_has_addr(c->type) &&
		     got.addr + (off - got.offset) != c->addr))
			diff_fail(cx, "after -ENOMEM the map says something "
				  "new at 0x%" PRIx64, off);
	}
	imap_remove(map, md->base + i * md->unit, len * md->unit);
	model_remove(md, i, i + len);
	compare_all(cx, map);
}

/* One random upsert; also checks the merged count against the model. */
static void diff_upsert(struct diff_ctx *cx, struct imap *map,
			uint64_t abase)
{
	struct model *md = cx->md;
	uint64_t i = rnd_below(MODEL_N), len = rnd_len(), j;
	unsigned int type = rnd_type(), flags = 0, merged = 9;
	bool valid = true, armed;
	struct iomap m, want;
	int ret;

	if (rnd_below(4) == 0)
		flags = (unsigned int)rnd_below(IOMAP_F_ALL + 1);
	if (i + len > MODEL_N) {
		if (md->base && rnd_below(2)) {
			/* Past 2^64 - 1: must be refused. */
			len = MODEL_N - i + 1 + rnd_below(16);
			valid = false;
		} else {
			len = MODEL_N - i;
		}
	}
	m = mk(md->base + i * md->unit, len * md->unit, type, NA, flags);
	if (iomap_type_has_addr(type)) {
		/* Few address offsets, so that neighbours often merge. */
		m.addr = abase + (i + rnd_below(8) * 64) * md->unit;
		if (m.addr + (m.length - 1) < m.addr)
			valid = false;
	}
	if (rnd_below(500) == 0) {
		/* A malformed mapping now and then. */
		switch (rnd_below(3)) {
		case 0: m.length = 0; break;
		case 1: m.type = 5 + (uint16_t)rnd_below(10); break;
		default: m.addr = iomap_type_has_addr(type) ? NA : 0; break;
		}
		valid = false;
	}
	armed = arm_fault(cx->faults);
	ret = imap_upsert(map, &m, &merged);
	disarm_fault();
	if (armed && ret == -ENOMEM && valid) {
		cx->enomem++;
		upsert_enomem(cx, map, i, len);
		return;
	}
	if (!valid) {
		if (ret != -EINVAL)
			diff_fail(cx, "malformed upsert 0x%" PRIx64 "+0x%"
				  PRIx64 " t%u a0x%" PRIx64 " returned %d",
				  m.offset, m.length, (unsigned int)m.type,
				  m.addr, ret);
		return;
	}
	if (ret) {
		diff_fail(cx, "upsert returned %d", ret);
		return;
	}
	for (j = 0; j < len; j++) {
		struct cell *c = &md->c[i + j];

		c->present = 1;
		c->type = (uint8_t)type;
		c->flags = (uint8_t)flags;
		c->addr = iomap_type_has_addr(type) ? m.addr + j * md->unit :
						      NA;
	}
	want = model_run(md, i);
	j = (want.offset < m.offset) + (iomap_last(&want) > iomap_last(&m));
	if (merged != j)
		diff_fail(cx, "upsert 0x%" PRIx64 "+0x%" PRIx64
			  " merged %u, expected %" PRIu64, m.offset, m.length,
			  merged, j);
}

static void diff_remove(struct diff_ctx *cx, struct imap *map)
{
	struct model *md = cx->md;
	uint64_t i = rnd_below(MODEL_N), len, r = rnd_below(100), want;
	uint64_t off = md->base + i * md->unit;
	struct iomap straddler = { 0 };
	bool armed, inside;
	int64_t got;

	if (r < 1 && rnd_below(4) == 0)
		len = IMAP_TO_EOF;
	else if (r < 2)
		len = 0;
	else if (r < 3)
		len = UINT64_MAX - rnd_below(1000);	/* past 2^64 */
	else
		len = rnd_len() * md->unit;
	inside = md->c[i].present;
	if (inside)
		straddler = model_run(md, i);
	if (len / md->unit >= MODEL_N - i)
		want = model_remove(md, i, MODEL_N);	/* to the end */
	else
		want = model_remove(md, i, i + len / md->unit);
	want *= md->unit;
	armed = arm_fault(cx->faults);
	got = imap_remove(map, off, len);
	disarm_fault();
	if (armed && got == -ENOMEM) {
		/* Only a split fails, and then the whole mapping goes. */
		cx->enomem++;
		if (!inside || straddler.offset >= off || !len ||
		    len - 1 >= iomap_last(&straddler) - off)
			diff_fail(cx, "remove 0x%" PRIx64 "+0x%" PRIx64
				  " returned -ENOMEM without a split", off,
				  len);
		i = (straddler.offset - md->base) / md->unit;
		model_remove(md, i, i + straddler.length / md->unit);
		compare_all(cx, map);
		return;
	}
	if (got < 0 || (uint64_t)got != want)
		diff_fail(cx, "remove 0x%" PRIx64 "+0x%" PRIx64 " returned %"
			  PRId64 ", expected %" PRIu64, off, len, got, want);
}

static void diff_lookup(struct diff_ctx *cx, struct imap *map)
{
	uint64_t off = cx->md->base + rnd_below(MODEL_N + 64) * cx->md->unit +
		       rnd_below(cx->md->unit);
	struct iomap got = { 0 }, want = { 0 };
	int gret, wret;

	if (!cx->md->base && rnd_below(8) == 0)
		off = rnd();	/* far away: nothing there */
	if (off < cx->md->base)
		off = cx->md->base;
	wret = model_lookup(cx->md, off, &want);
	gret = imap_lookup(map, off, &got);
	if (gret != wret || (!gret && !same_iomap(&got, &want)))
		diff_fail(cx, "lookup 0x%" PRIx64 ": got %d 0x%" PRIx64 "+0x%"
			  PRIx64 ", expected %d 0x%" PRIx64 "+0x%" PRIx64,
			  off, gret, got.offset, got.length, wret,
			  want.offset, want.length);
}

static void diff_iterate(struct diff_ctx *cx, struct imap *map)
{
	uint64_t off = cx->md->base + rnd_below(MODEL_N) * cx->md->unit +
		       rnd_below(cx->md->unit);
	struct imap_iter it;
	struct iomap got, want;
	int k;

	imap_iter_start(map, off, &it);
	for (k = 0; k < 8; k++) {
		int gret = imap_iter_next(&it, &got);
		int wret = model_lookup(cx->md, off, &want);

		if (gret != (wret == 0) ||
		    (gret && !same_iomap(&got, &want))) {
			diff_fail(cx, "iteration from 0x%" PRIx64 " step %d "
				  "differs", off, k);
			return;
		}
		if (!gret || iomap_last(&got) == UINT64_MAX)
			return;
		off = iomap_last(&got) + 1;
	}
}

static void differential(unsigned long long seed, unsigned long ops,
			 uint64_t base, uint64_t unit, uint64_t abase,
			 bool faults, const char *what)
{
	struct diff_ctx cx = { .seed = seed, .faults = faults };
	struct imap *map = imap_new();
	struct model *md = calloc(1, sizeof(*md));
	size_t maxcount = 0;

	if (!map || !md) {
		tap_ok(0, "differential %s: out of memory", what);
		goto out_free;
	}
	md->base = base;
	md->unit = unit;
	cx.md = md;
	rng_state = seed;
	for (cx.op = 0; cx.op < ops && !cx.failed; cx.op++) {
		uint64_t r = rnd_below(1000);

		if (r < 450)
			diff_upsert(&cx, map, abase);
		else if (r < 600)
			diff_remove(&cx, map);
		else if (r < 930)
			diff_lookup(&cx, map);
		else if (r < 995)
			diff_iterate(&cx, map);
		else if (r < 998)
			imap_evict(map, 1 + rnd_below(16), evict_to_model,
				   &cx);
		else
			compare_all(&cx, map);
		if (imap_count(map) > maxcount)
			maxcount = imap_count(map);
		if (cx.op % 4096 == 0)
			compare_all(&cx, map);
	}
	if (!cx.failed)
		compare_all(&cx, map);
	tap_ok(!cx.failed && (!faults || cx.enomem),
	       "differential %s: %lu operations, seed %llu, up to %zu "
	       "mappings, %lu failed allocations", what, cx.op, seed,
	       maxcount, cx.enomem);
out_free:
	imap_free(map);
	free(md);
}

int main(void)
{
	const char *s = getenv("IMAP_TEST_SEED");
	const char *o = getenv("IMAP_TEST_OPS");
	unsigned long long seed;
	unsigned long ops = 1000000;

	if (s && *s)
		seed = strtoull(s, NULL, 0);
	else
		seed = (unsigned long long)time(NULL);
	if (o && *o)
		ops = strtoul(o, NULL, 0);

	test_empty();
	test_invalid();
	test_overlaps();
	test_merges();
	test_edges();
	test_iter();
	test_evict();
	test_bulk();
#ifdef IMAP_FAULT_INJECTION
	test_enomem();
#endif

	tap_diag("differential seed %llu (set IMAP_TEST_SEED to repeat)",
		 seed);
	differential(seed, ops, 0, 1, 0x100000, false, "near 0");
	/*
	 * 4 MiB cells: leaves span more than 2^32 bytes now and then, so
	 * they switch between the compact and the wide layout.
	 */
	differential(seed + 2, ops / 4, 0, 1u << 22, 1ull << 40, false,
		     "4 MiB cells");
	differential(seed + 1, ops / 4, UINT64_MAX - MODEL_N + 1, 1,
		     UINT64_MAX - MODEL_N - 1000, false, "near 2^64");
#ifdef IMAP_FAULT_INJECTION
	differential(seed + 3, ops / 4, 0, 1, 0x100000, true,
		     "with failing allocations");
#endif
	return tap_done();
}
