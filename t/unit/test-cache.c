// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-cache.c - unit tests of the iomap cache (daemon/cache.c) driven by a
 * fake mapping source: a model "disk" whose mappings the test changes at
 * will, with hooks that run inside the source so that races with
 * invalidations happen deterministically.  A threaded stress test checks
 * that no lookup ever returns a mapping older than the last invalidation
 * that finished before it began.  "test-cache --quick" shortens the stress
 * test for valgrind.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "tap.h"

#define KIB 1024ull
#define BLK (4 * KIB)
#define MODEL_INOS 16

/* --- the fake source ---------------------------------------------------- */

struct model_ino {
	uint64_t ino;
	struct iomap *v;	/* sorted, non-overlapping */
	size_t n;
};

struct model;
typedef void (*model_hook_fn)(struct model *md, uint64_t ino, uint64_t off);

struct model {
	pthread_mutex_t lock;
	struct model_ino inos[MODEL_INOS];
	unsigned int calls;
	int fail;		/* error to return, 0 for none */
	bool bad;		/* answer a mapping that misses the offset */
	model_hook_fn hook;	/* runs before the answer, no lock held */
	int hook_runs;		/* how many more calls run the hook */
	struct cache *c;
};

static struct model_ino *model_find(struct model *md, uint64_t ino, bool add)
{
	unsigned int i;

	for (i = 0; i < MODEL_INOS; i++)
		if (md->inos[i].ino == ino)
			return &md->inos[i];
	if (!add)
		return NULL;
	for (i = 0; i < MODEL_INOS; i++) {
		if (!md->inos[i].ino) {
			md->inos[i].ino = ino;
			return &md->inos[i];
		}
	}
	abort();
}

/* Replace the mappings of @ino with @n mappings from @v. */
static void model_set(struct model *md, uint64_t ino, const struct iomap *v,
		      size_t n)
{
	struct model_ino *mi;

	pthread_mutex_lock(&md->lock);
	mi = model_find(md, ino, true);
	free(mi->v);
	mi->v = calloc(n ? n : 1, sizeof(*v));
	if (!mi->v)
		abort();
	memcpy(mi->v, v, n * sizeof(*v));
	mi->n = n;
	pthread_mutex_unlock(&md->lock);
}

static struct iomap mk(uint64_t off, uint64_t len, unsigned int type,
		       uint64_t addr)
{
	struct iomap m = {
		.offset = off, .length = len, .type = (uint16_t)type,
		.addr = iomap_type_has_addr(type) ? addr : IOMAP_NULL_ADDR,
	};

	return m;
}

/*
 * @nblocks 4 KiB blocks, each MAPPED to a device address 8 KiB apart from
 * its neighbour's, so that none merge: one cached mapping per block.
 */
static void model_sparse(struct model *md, uint64_t ino, size_t nblocks,
			 uint64_t base)
{
	struct iomap *v = calloc(nblocks, sizeof(*v));
	size_t i;

	if (!v)
		abort();
	for (i = 0; i < nblocks; i++)
		v[i] = mk(i * BLK, BLK, IOMAP_MAPPED, base + i * 2 * BLK);
	model_set(md, ino, v, nblocks);
	free(v);
}

/* What the model holds at @off: a table entry or a hole to the end. */
static int model_source(void *arg, uint64_t ino, uint64_t off,
			struct iomap *out)
{
	struct model *md = arg;
	struct model_ino *mi;
	model_hook_fn hook = NULL;
	uint64_t end = 0;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&md->lock);
	md->calls++;
	mi = model_find(md, ino, false);
	if (md->fail || !mi) {
		ret = md->fail ? md->fail : -ENOENT;
		goto out_unlock;
	}
	for (i = 0; i < mi->n; i++) {
		if (off >= mi->v[i].offset && off <= iomap_last(&mi->v[i])) {
			*out = mi->v[i];
			goto found;
		}
		if (mi->v[i].offset > off)
			break;
	}
	if (mi->n)
		end = iomap_last(&mi->v[mi->n - 1]) + 1;
	if (i < mi->n)		/* a gap in the table reads as a hole */
		*out = mk(off, mi->v[i].offset - off, IOMAP_HOLE, 0);
	else
		*out = mk(end > off ? end : off, UINT64_MAX - off, IOMAP_HOLE,
			  0);
found:
	if (md->bad)
		out->offset = off + 1;
	if (md->hook_runs > 0) {
		md->hook_runs--;
		hook = md->hook;
	}
out_unlock:
	pthread_mutex_unlock(&md->lock);
	/* The answer was computed before the hook changed anything. */
	if (hook)
		hook(md, ino, off);
	return ret;
}

static void model_free(struct model *md)
{
	unsigned int i;

	for (i = 0; i < MODEL_INOS; i++)
		free(md->inos[i].v);
	pthread_mutex_destroy(&md->lock);
}

static struct cache *new_cache(struct model *md, uint64_t max,
			       uint64_t inode_max, uint32_t ring)
{
	struct cache_limits lim = {
		.max_bytes = max ? max : CACHE_DEFAULT_MAX_BYTES,
		.inode_max_bytes = inode_max ? inode_max
					     : CACHE_DEFAULT_INODE_MAX_BYTES,
		.event_ring = ring ? ring : CACHE_DEFAULT_EVENT_RING,
	};

	memset(md, 0, sizeof(*md));
	pthread_mutex_init(&md->lock, NULL);
	md->c = cache_new(&lim, true, model_source, md);
	if (!md->c) {
		perror("cache_new");
		exit(1);
	}
	return md->c;
}

static void done_cache(struct model *md)
{
	cache_free(md->c);
	model_free(md);
}

/* A pointer to a mapping built in place. */
#define MK(...) ((struct iomap[]){ mk(__VA_ARGS__) })

static bool same_map(const struct iomap *a, const struct iomap *b)
{
	return a->offset == b->offset && a->length == b->length &&
	       a->addr == b->addr && a->type == b->type &&
	       a->flags == b->flags;
}

static void show_map(const char *what, const struct iomap *m)
{
	tap_diag("%s: off %llu len %llu addr %lld type %u flags %#x", what,
		 (unsigned long long)m->offset, (unsigned long long)m->length,
		 (long long)m->addr, m->type, m->flags);
}

static void check_map(const struct iomap *got, const struct iomap *want,
		      const char *name)
{
	if (!tap_ok(same_map(got, want), "%s", name)) {
		show_map("expected", want);
		show_map("got", got);
	}
}

static bool same_limits(const struct cache_limits *a,
			const struct cache_limits *b)
{
	return a->max_bytes == b->max_bytes &&
	       a->inode_max_bytes == b->inode_max_bytes &&
	       a->event_ring == b->event_ring;
}

static struct cache_stats stats(struct cache *c)
{
	struct cache_stats st;

	cache_get_stats(c, &st);
	return st;
}

static uint64_t ino_maps(struct cache *c, uint64_t ino)
{
	struct cache_inode_stats st;

	if (cache_get_inode_stats(c, ino, &st))
		return 0;
	return st.mappings;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- names and construction --------------------------------------------- */

static void test_names(void)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < CACHE_R_COUNT; i++)
		if (!cache_reason_name(i) ||
		    cache_reason_parse(cache_reason_name(i)) != (int)i)
			ok = false;
	tap_ok(ok, "every reason name parses back to its reason");
	tap_eq_int(cache_reason_parse("TRUNCATE"), CACHE_R_TRUNCATE,
		   "reason names parse case-insensitively");
	tap_eq_int(cache_reason_parse("bogus"), -EINVAL,
		   "an unknown reason name is refused");
	tap_eq_int(cache_reason_parse(NULL), -EINVAL, "a NULL name is refused");
	tap_ok(!cache_reason_name(CACHE_R_COUNT), "no name past the reasons");
	tap_ok(!strcmp(cache_reason_name(CACHE_R_WRITE), "write") &&
	       !strcmp(cache_reason_name(CACHE_R_DISABLE), "disable"),
	       "reason names are lower case words");
	tap_ok(!strcmp(cache_event_name(CACHE_EV_UPSERT), "upsert") &&
	       !strcmp(cache_event_name(CACHE_EV_INVALIDATE), "invalidate") &&
	       !strcmp(cache_event_name(CACHE_EV_EVICT), "evict") &&
	       !strcmp(cache_event_name(CACHE_EV_ENABLE), "enable") &&
	       !strcmp(cache_event_name(CACHE_EV_DISABLE), "disable"),
	       "event names");
	tap_ok(!cache_event_name(CACHE_EV_COUNT), "no name past the events");
}

static void test_new(void)
{
	struct cache_limits lim = {
		.max_bytes = CACHE_MIN_MAX_BYTES - 1,
		.inode_max_bytes = CACHE_DEFAULT_INODE_MAX_BYTES,
		.event_ring = CACHE_DEFAULT_EVENT_RING,
	};
	struct cache_limits got;
	struct model md;
	struct cache *c;

	memset(&md, 0, sizeof(md));
	errno = 0;
	c = cache_new(&lim, true, model_source, &md);
	tap_ok(!c && errno == EINVAL,
	       "cache_new refuses a budget below the minimum");
	cache_free(c);
	errno = 0;
	c = cache_new(NULL, true, NULL, &md);
	tap_ok(!c && errno == EINVAL, "cache_new refuses a NULL source");
	c = cache_new(NULL, false, model_source, &md);
	tap_ok(c != NULL, "cache_new with default limits");
	if (!c)
		return;
	cache_get_limits(c, &got);
	tap_ok(got.max_bytes == CACHE_DEFAULT_MAX_BYTES &&
	       got.inode_max_bytes == CACHE_DEFAULT_INODE_MAX_BYTES &&
	       got.event_ring == CACHE_DEFAULT_EVENT_RING,
	       "NULL limits are the defaults");
	tap_ok(!cache_enabled(c), "a cache made disabled starts disabled");
	cache_free(c);
}

/* --- lookups ------------------------------------------------------------ */

static void test_hit_miss(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct iomap v[3], m;
	struct cache_inode_stats ist;
	struct cache_stats st;

	v[0] = mk(0, 4 * BLK, IOMAP_MAPPED, 1ull << 20);
	v[1] = mk(4 * BLK, 4 * BLK, IOMAP_MAPPED, (1ull << 20) + 4 * BLK);
	v[2] = mk(8 * BLK, 2 * BLK, IOMAP_UNWRITTEN, 8ull << 20);
	v[2].flags = IOMAP_F_LAST;
	model_set(&md, 12, v, 3);

	tap_eq_int(cache_lookup(c, 12, 100, &m), 0, "a first lookup succeeds");
	check_map(&m, &v[0], "it answers the source's mapping");
	tap_eq_int(md.calls, 1, "a miss calls the source once");
	tap_eq_int(cache_lookup(c, 12, 4 * BLK - 1, &m), 0,
		   "a lookup in the cached mapping succeeds");
	check_map(&m, &v[0], "the hit answers the cached mapping");
	tap_eq_int(md.calls, 1, "a hit does not call the source");
	tap_eq_int(cache_lookup(c, 12, 4 * BLK, &m), 0,
		   "a lookup of the next extent");
	check_map(&m, &v[1], "the next extent comes from the source");
	tap_eq_int(cache_lookup(c, 12, 9 * BLK, &m), 0, "the last extent");
	check_map(&m, &v[2], "flags and type come through");
	tap_eq_int(cache_lookup(c, 12, 5 * BLK, &m), 0,
		   "a lookup inside the merged extents");
	check_map(&m, MK(0, 8 * BLK, IOMAP_MAPPED, 1ull << 20),
		  "contiguous extents merged in the cache");
	tap_eq_int(md.calls, 3, "three misses called the source three times");

	st = stats(c);
	tap_eq_u64(st.lookups, 5, "lookups counted");
	tap_eq_u64(st.hits, 2, "hits counted");
	tap_eq_u64(st.misses, 3, "misses counted");
	tap_eq_u64(st.source_calls, 3, "source calls counted");
	tap_eq_u64(st.upserts, 3, "upserts counted");
	tap_eq_u64(st.merges, 1, "the merge counted");
	tap_eq_u64(st.inodes, 1, "one inode cached");
	tap_eq_u64(st.mappings, 2, "two mappings cached after the merge");
	tap_ok(st.bytes > 0 && st.bytes_hwm >= st.bytes,
	       "bytes held are counted, under their high-water mark");
	tap_eq_u64(st.mappings_hwm, 2, "the mappings high-water mark");
	tap_ok(st.enabled, "stats say caching is on");

	tap_eq_int(cache_get_inode_stats(c, 12, &ist), 0, "inode stats");
	tap_ok(ist.ino == 12 && ist.lookups == 5 && ist.hits == 2 &&
	       ist.misses == 3 && ist.upserts == 3 && ist.mappings == 2 &&
	       ist.bytes == st.bytes && ist.cookie != 0 &&
	       ist.last_use_ns != 0,
	       "inode stats match the global ones");
	tap_eq_int(cache_get_inode_stats(c, 13, &ist), -ENOENT,
		   "no stats for an uncached inode");

	md.fail = -EIO;
	tap_eq_int(cache_lookup(c, 99, 0, &m), -EIO,
		   "a source error is returned");
	md.fail = 5;
	tap_eq_int(cache_lookup(c, 99, 0, &m), -EIO,
		   "a positive source value becomes -EIO");
	md.fail = 0;
	md.bad = true;
	tap_eq_int(cache_lookup(c, 12, 10 * BLK, &m), -EIO,
		   "an answer that misses the offset is refused with -EIO");
	md.bad = false;
	st = stats(c);
	tap_eq_u64(st.source_errors, 3, "source errors counted");
	tap_eq_u64(st.mappings, 2, "nothing inserted from failed lookups");

	{
		struct mallinfo2 before, after;
		unsigned int calls = md.calls;
		int i, fails = 0;

		before = mallinfo2();
		for (i = 0; i < 1000; i++)
			fails += cache_lookup(c, 12, (uint64_t)i * 37, &m) != 0;
		after = mallinfo2();
		tap_ok(!fails && after.uordblks == before.uordblks &&
		       after.hblks == before.hblks,
		       "a thousand hits allocate nothing (%zu -> %zu bytes)",
		       before.uordblks, after.uordblks);
		tap_eq_int(md.calls, calls, "and never call the source");
	}

	cache_reset_stats(c);
	st = stats(c);
	tap_ok(!st.lookups && !st.hits && !st.misses && !st.upserts &&
	       !st.merges && !st.source_calls && !st.source_errors,
	       "reset zeroes the counters");
	tap_ok(st.mappings == 2 && st.mappings_hwm == 2 &&
	       st.bytes_hwm == st.bytes && st.inodes_hwm == st.inodes,
	       "reset restarts high-water marks from the gauges");
	cache_get_inode_stats(c, 12, &ist);
	tap_ok(!ist.lookups && !ist.hits && !ist.upserts && ist.mappings == 2,
	       "reset zeroes the inode counters, not its gauges");
	done_cache(&md);
}

/* --- the cookie race ---------------------------------------------------- */

static struct iomap race_new;

/* Runs inside the source: the disk changes and is invalidated meanwhile. */
static void hook_invalidate(struct model *md, uint64_t ino, uint64_t off)
{
	model_set(md, ino, &race_new, 1);
	cache_invalidate(md->c, ino, 0, UINT64_MAX, CACHE_R_WRITE);
}

static void hook_other_range(struct model *md, uint64_t ino, uint64_t off)
{
	model_set(md, ino, &race_new, 1);
	cache_invalidate(md->c, ino, 1ull << 30, BLK, CACHE_R_PUNCH);
}

static void hook_forget(struct model *md, uint64_t ino, uint64_t off)
{
	model_set(md, ino, &race_new, 1);
	cache_forget(md->c, ino, CACHE_R_UNLINK);
}

static void hook_toggle(struct model *md, uint64_t ino, uint64_t off)
{
	model_set(md, ino, &race_new, 1);
	cache_set_enabled(md->c, false);
	cache_set_enabled(md->c, true);
}

static void hook_flush(struct model *md, uint64_t ino, uint64_t off)
{
	model_set(md, ino, &race_new, 1);
	cache_flush(md->c, 0, 0, 0);
}

static void race_case(model_hook_fn hook, const char *what)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct iomap old = mk(0, 16 * BLK, IOMAP_UNWRITTEN, 1ull << 20), m;
	struct cache_stats st;

	race_new = mk(0, 16 * BLK, IOMAP_MAPPED, 1ull << 20);
	model_set(&md, 5, &old, 1);
	md.hook = hook;
	md.hook_runs = 1;
	tap_eq_int(cache_lookup(c, 5, 0, &m), 0, "%s: the lookup succeeds",
		   what);
	check_map(&m, &old, "it answers what the source computed");
	st = stats(c);
	tap_eq_u64(st.stale_skips, 1, "%s: the insert is refused as stale",
		   what);
	tap_eq_u64(st.mappings, 0, "%s: nothing is cached", what);
	tap_eq_int(cache_lookup(c, 5, BLK, &m), 0, "%s: a later lookup", what);
	check_map(&m, &race_new, "it sees the new mapping");
	tap_eq_u64(ino_maps(c, 5), 1, "%s: which is cached", what);
	done_cache(&md);
}

static void test_cookie_race(void)
{
	struct model md;
	struct cache *c;
	struct iomap old = mk(0, 16 * BLK, IOMAP_MAPPED, 1ull << 20), m;
	struct cache_inode_stats a, b;

	race_case(hook_invalidate, "invalidate during the source");
	race_case(hook_other_range, "invalidate of another range");
	race_case(hook_forget, "forget during the source");
	race_case(hook_toggle, "disable and enable during the source");
	race_case(hook_flush, "flush all during the source");

	/* The cookie moves even when the inode holds nothing. */
	c = new_cache(&md, 0, 0, 0);
	model_set(&md, 5, &old, 1);
	cache_lookup(c, 5, 0, &m);
	cache_invalidate(c, 5, 0, UINT64_MAX, CACHE_R_TRUNCATE);
	cache_get_inode_stats(c, 5, &a);
	cache_invalidate(c, 5, 0, UINT64_MAX, CACHE_R_TRUNCATE);
	cache_get_inode_stats(c, 5, &b);
	tap_ok(a.mappings == 0 && b.cookie != a.cookie,
	       "an invalidation of an empty inode moves its cookie");
	cache_forget(c, 5, CACHE_R_UNLINK);
	cache_lookup(c, 5, 0, &m);
	cache_get_inode_stats(c, 5, &a);
	tap_ok(a.cookie > b.cookie,
	       "an inode cached again never repeats an old cookie");
	cache_lookup(c, 5, 0, &m);
	cache_get_inode_stats(c, 5, &b);
	tap_eq_u64(b.cookie, a.cookie, "hits and upserts leave the cookie");
	done_cache(&md);
}

/* --- invalidation, forget and flush ------------------------------------- */

static void fill(struct cache *c, uint64_t ino, size_t nblocks)
{
	struct iomap m;
	size_t i;

	for (i = 0; i < nblocks; i++)
		if (cache_lookup(c, ino, i * BLK, &m))
			tap_diag("fill: lookup of ino %llu block %zu failed",
				 (unsigned long long)ino, i);
}

static void test_invalidate(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct cache_stats st;
	struct iomap m;
	unsigned int r, calls;
	bool ok = true;

	model_sparse(&md, 3, 8, 1ull << 20);
	fill(c, 3, 8);
	tap_eq_u64(ino_maps(c, 3), 8, "eight blocks cached");
	cache_invalidate(c, 3, 2 * BLK, 2 * BLK, CACHE_R_PUNCH);
	tap_eq_u64(ino_maps(c, 3), 6, "invalidating two blocks drops two");
	calls = md.calls;
	cache_lookup(c, 3, BLK, &m);
	cache_lookup(c, 3, 4 * BLK, &m);
	tap_eq_int(md.calls, calls, "the mappings around the range still hit");
	cache_lookup(c, 3, 2 * BLK, &m);
	tap_eq_int(md.calls, calls + 1, "the invalidated range misses");
	cache_invalidate(c, 3, 6 * BLK + 100, UINT64_MAX, CACHE_R_TRUNCATE);
	tap_eq_u64(ino_maps(c, 3), 6,
		   "a truncate to EOF trims the straddling block, drops the rest");
	cache_invalidate(c, 3, 0, 0, CACHE_R_ZERO);
	tap_eq_u64(ino_maps(c, 3), 6, "a zero-length range drops nothing");
	cache_invalidate(c, 777, 0, UINT64_MAX, CACHE_R_WRITE);

	for (r = 0; r < CACHE_R_COUNT; r++)
		cache_invalidate(c, 3, 1ull << 40, BLK, r);
	st = stats(c);
	for (r = 0; r < CACHE_R_COUNT; r++) {
		uint64_t want = 1 + (r == CACHE_R_PUNCH) + (r == CACHE_R_ZERO) +
				(r == CACHE_R_WRITE) + (r == CACHE_R_TRUNCATE);

		if (st.invalidations_by_reason[r] != want) {
			tap_diag("reason %s: expected %llu, got %llu",
				 cache_reason_name(r),
				 (unsigned long long)want,
				 (unsigned long long)
				 st.invalidations_by_reason[r]);
			ok = false;
		}
	}
	tap_ok(ok, "invalidations counted by reason");
	tap_eq_u64(st.invalidations, CACHE_R_COUNT + 4,
		   "every invalidate call counted, cached or not");
	tap_eq_u64(st.invalidated_mappings, 4,
		   "invalidated mappings counted (2 punched, 2 truncated)");

	cache_forget(c, 3, CACHE_R_UNLINK);
	tap_eq_int(cache_get_inode_stats(c, 3, &(struct cache_inode_stats){0}),
		   -ENOENT, "forget drops the inode's entry");
	st = stats(c);
	tap_ok(st.inodes == 0 && st.mappings == 0 && st.bytes == 0,
	       "forget releases every gauge");
	tap_eq_u64(st.invalidations_by_reason[CACHE_R_UNLINK], 2,
		   "forget counted under its reason");
	tap_eq_u64(st.invalidated_mappings, 10, "forget counts what it drops");
	cache_forget(c, 3, CACHE_R_UNLINK);
	tap_eq_u64(stats(c).invalidations_by_reason[CACHE_R_UNLINK], 3,
		   "forgetting an uncached inode still counts");
	done_cache(&md);
}

static void test_flush(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct cache_stats st;

	model_sparse(&md, 2, 6, 1ull << 20);
	model_sparse(&md, 4, 6, 2ull << 20);
	model_sparse(&md, 9, 6, 3ull << 20);
	fill(c, 2, 6);
	fill(c, 4, 6);
	fill(c, 9, 6);
	tap_eq_int(cache_flush(c, 4, BLK, 2 * BLK), 2,
		   "a range flush returns the mappings it removed");
	tap_eq_u64(ino_maps(c, 4), 4, "a range flush leaves the rest");
	tap_eq_u64(ino_maps(c, 2) + ino_maps(c, 9), 12,
		   "a range flush leaves other inodes");
	tap_eq_int(cache_flush(c, 4, 0, UINT64_MAX), 4,
		   "an inode flush returns what it removed");
	tap_eq_int(cache_get_inode_stats(c, 4, &(struct cache_inode_stats){0}),
		   -ENOENT, "a flushed-empty inode is dropped");
	tap_eq_int(cache_flush(c, 4, 0, UINT64_MAX), -ENOENT,
		   "flushing an uncached inode is -ENOENT");
	tap_eq_u64(ino_maps(c, 2) + ino_maps(c, 9), 12,
		   "an inode flush leaves other inodes");
	tap_eq_int(cache_flush(c, 0, 5, 5), 12, "a full flush removes all");
	st = stats(c);
	tap_ok(st.inodes == 0 && st.mappings == 0 && st.bytes == 0,
	       "a full flush empties the cache");
	tap_eq_u64(st.invalidations_by_reason[CACHE_R_FLUSH], 4,
		   "flushes counted as FLUSH invalidations, one per inode");
	tap_eq_int(cache_flush(c, 0, 0, 0), 0, "flushing an empty cache");
	done_cache(&md);
}

/* --- the switch --------------------------------------------------------- */

static void test_disable(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct cache_watch *w = cache_watch_open(c);
	struct cache_event ev[16];
	struct cache_stats st;
	struct iomap m;
	uint64_t lost, upserts;
	ssize_t n;

	model_sparse(&md, 2, 4, 1ull << 20);
	model_sparse(&md, 3, 4, 2ull << 20);
	fill(c, 2, 4);
	fill(c, 3, 4);
	cache_watch_read(w, ev, 16, &lost);
	tap_ok(cache_set_enabled(c, false), "disabling returns the old state");
	tap_ok(!cache_enabled(c), "the cache says it is off");
	st = stats(c);
	tap_ok(st.inodes == 0 && st.mappings == 0 && st.bytes == 0 &&
	       !st.enabled, "disabling empties the cache");
	tap_eq_u64(st.invalidations_by_reason[CACHE_R_DISABLE], 2,
		   "each emptied inode counted as a DISABLE invalidation");
	n = cache_watch_read(w, ev, 16, &lost);
	tap_ok(n == 3 && ev[0].type == CACHE_EV_DISABLE &&
	       ev[1].type == CACHE_EV_INVALIDATE &&
	       ev[1].reason == CACHE_R_DISABLE &&
	       ev[2].type == CACHE_EV_INVALIDATE,
	       "events: DISABLE, then an invalidation per inode");
	tap_ok(!cache_set_enabled(c, false), "disabling twice returns off");
	tap_eq_int(cache_watch_read(w, ev, 16, &lost), 0,
		   "no event when the state does not change");

	md.calls = 0;
	upserts = stats(c).upserts;
	cache_lookup(c, 2, 0, &m);
	cache_lookup(c, 2, 0, &m);
	tap_eq_int(md.calls, 2,
		   "with caching off every lookup asks the source");
	st = stats(c);
	tap_ok(st.inodes == 0 && st.mappings == 0 && st.upserts == upserts,
	       "with caching off nothing is inserted");
	cache_invalidate(c, 2, 0, UINT64_MAX, CACHE_R_WRITE);
	tap_eq_u64(stats(c).invalidations_by_reason[CACHE_R_WRITE], 1,
		   "invalidations are counted with caching off");

	tap_ok(!cache_set_enabled(c, true), "enabling returns the old state");
	n = cache_watch_read(w, ev, 16, &lost);
	tap_ok(n == 2 && ev[0].type == CACHE_EV_INVALIDATE &&
	       ev[1].type == CACHE_EV_ENABLE && ev[1].ino == 0,
	       "events: the invalidation, then ENABLE");
	cache_lookup(c, 2, 0, &m);
	cache_lookup(c, 2, 0, &m);
	tap_eq_int(md.calls, 3, "enabled again, the cache hits");
	tap_ok(cache_set_enabled(c, true), "enabling twice returns on");
	cache_watch_close(w);
	done_cache(&md);
}

/* --- limits and eviction ------------------------------------------------ */

static void test_limits(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct cache_limits lim, bad, got;
	uint64_t before;

	cache_get_limits(c, &lim);
	bad = lim;
	bad.max_bytes = 0;
	tap_eq_int(cache_set_limits(c, &bad), -EINVAL,
		   "a zero budget is refused");
	bad = lim;
	bad.max_bytes = CACHE_MIN_MAX_BYTES - 1;
	bad.inode_max_bytes = 1 << 20;
	tap_eq_int(cache_set_limits(c, &bad), -EINVAL,
		   "a budget below the minimum is refused");
	bad = lim;
	bad.inode_max_bytes = CACHE_MIN_INODE_MAX_BYTES - 1;
	tap_eq_int(cache_set_limits(c, &bad), -EINVAL,
		   "an inode cap below the minimum is refused");
	bad = lim;
	bad.event_ring = CACHE_MIN_EVENT_RING - 1;
	tap_eq_int(cache_set_limits(c, &bad), -EINVAL,
		   "a tiny event ring is refused");
	bad = lim;
	bad.event_ring = CACHE_MAX_EVENT_RING + 1;
	tap_eq_int(cache_set_limits(c, &bad), -EINVAL,
		   "a huge event ring is refused");
	cache_get_limits(c, &got);
	tap_ok(same_limits(&got, &lim),
	       "refused limits change nothing");

	model_sparse(&md, 2, 64, 1ull << 20);
	fill(c, 2, 64);
	before = stats(c).bytes;
	bad = lim;
	bad.max_bytes = 1;
	bad.inode_max_bytes = 1024;
	tap_eq_int(cache_set_limits(c, &bad), -EINVAL,
		   "a bad budget with a good cap is refused");
	tap_ok(stats(c).bytes == before && stats(c).evictions == 0,
	       "a refused change evicts nothing");

	lim.max_bytes = CACHE_MIN_MAX_BYTES;
	lim.inode_max_bytes = CACHE_MIN_INODE_MAX_BYTES;
	lim.event_ring = CACHE_MIN_EVENT_RING;
	tap_eq_int(cache_set_limits(c, &lim), 0,
		   "the smallest limits are valid");
	cache_get_limits(c, &got);
	tap_ok(same_limits(&got, &lim), "limits read back");
	done_cache(&md);
}

static void test_budget(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct cache_watch *w = cache_watch_open(c);
	struct cache_limits lim;
	struct cache_event ev[64];
	struct cache_stats st;
	uint64_t lost, nev = 0, i;
	ssize_t n;

	for (i = 1; i <= 8; i++) {
		model_sparse(&md, i, 256, i << 30);
		fill(c, i, 256);
	}
	st = stats(c);
	tap_eq_u64(st.mappings, 8 * 256, "2048 mappings cached");
	tap_diag("8 inodes x 256 mappings hold %llu bytes (%.1f per mapping)",
		 (unsigned long long)st.bytes, (double)st.bytes / 2048);
	while ((n = cache_watch_read(w, ev, 64, &lost)) > 0)
		;
	cache_get_limits(c, &lim);
	lim.max_bytes = st.bytes / 2;
	tap_eq_int(cache_set_limits(c, &lim), 0, "halve the budget");
	st = stats(c);
	tap_ok(st.bytes <= lim.max_bytes,
	       "the cache fits the new budget at once");
	if (st.bytes > lim.max_bytes)
		tap_diag("bytes %llu, budget %llu",
			 (unsigned long long)st.bytes,
			 (unsigned long long)lim.max_bytes);
	tap_ok(st.evictions > 0 && st.mappings + st.evictions == 2048,
	       "every mapping that left was counted as evicted");
	tap_ok(st.mappings > 700, "eviction was gradual (%llu mappings kept)",
	       (unsigned long long)st.mappings);
	while ((n = cache_watch_read(w, ev, 64, &lost)) > 0) {
		for (i = 0; i < (uint64_t)n; i++)
			nev += ev[i].type == CACHE_EV_EVICT;
	}
	tap_eq_u64(nev, st.evictions, "one EVICT event per evicted mapping");
	tap_ok(ino_maps(c, 1) < 256 && ino_maps(c, 8) == 256,
	       "the coldest inode lost mappings, the hottest none");

	/* Lookups beyond the budget keep the cache inside it. */
	for (i = 1; i <= 8; i++)
		fill(c, i, 256);
	st = stats(c);
	tap_ok(st.bytes <= lim.max_bytes && st.mappings > 700,
	       "refilling stays within the budget");
	cache_watch_close(w);
	done_cache(&md);
}

static void test_inode_cap(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 8 * KIB, 0);
	struct cache_inode_stats ist;
	struct cache_stats st;
	struct iomap m;
	unsigned int calls;

	model_sparse(&md, 6, 1024, 1ull << 30);
	model_sparse(&md, 7, 8, 2ull << 30);
	fill(c, 7, 8);
	fill(c, 6, 1024);
	cache_get_inode_stats(c, 6, &ist);
	tap_ok(ist.bytes <= 8 * KIB,
	       "the inode stays under its cap (%llu bytes)",
	       (unsigned long long)ist.bytes);
	tap_ok(ist.mappings > 16 && ist.mappings < 1024,
	       "crossing the cap evicts gradually (%llu mappings kept)",
	       (unsigned long long)ist.mappings);
	tap_ok(ist.evictions > 0 && ist.evictions + ist.mappings == 1024,
	       "the inode counts its evictions");
	tap_eq_u64(ino_maps(c, 7), 8, "the cap does not touch other inodes");
	calls = md.calls;
	cache_lookup(c, 6, 1023 * BLK, &m);
	tap_eq_int(md.calls, calls, "the newest mapping is still cached");
	st = stats(c);
	tap_eq_u64(st.evictions, ist.evictions, "global evictions counted");

	/* Lowering the cap evicts at once, still keeping some. */
	{
		struct cache_limits lim;

		cache_get_limits(c, &lim);
		lim.inode_max_bytes = 2 * KIB;
		tap_eq_int(cache_set_limits(c, &lim), 0, "lower the inode cap");
		cache_get_inode_stats(c, 6, &ist);
		tap_ok(ist.bytes <= 2 * KIB && ist.mappings > 0,
		       "the inode shrank to the new cap (%llu bytes, %llu mappings)",
		       (unsigned long long)ist.bytes,
		       (unsigned long long)ist.mappings);
	}
	done_cache(&md);
}

static void test_lru_order(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct cache_limits lim;
	struct cache_stats st;
	struct iomap m;
	int round;

	model_sparse(&md, 1, 128, 1ull << 30);
	model_sparse(&md, 2, 128, 2ull << 30);
	model_sparse(&md, 3, 128, 3ull << 30);
	fill(c, 2, 128);
	sleep_ms(10);
	fill(c, 1, 128);
	sleep_ms(10);
	fill(c, 3, 128);
	/*
	 * Inode 2 became hot again; inode 1 is now the coldest.  The sleeps
	 * outlast the cache's coarse clock tick (4 ms at HZ=250).
	 */
	for (round = 0; round < 3; round++) {
		sleep_ms(10);
		cache_lookup(c, 2, 0, &m);
		cache_lookup(c, 3, 0, &m);
	}
	st = stats(c);
	cache_get_limits(c, &lim);
	lim.max_bytes = st.bytes - st.bytes / 6;
	cache_set_limits(c, &lim);
	tap_ok(ino_maps(c, 1) < 128 && ino_maps(c, 2) == 128 &&
	       ino_maps(c, 3) == 128,
	       "eviction takes from the least recently used inode (%llu %llu %llu)",
	       (unsigned long long)ino_maps(c, 1),
	       (unsigned long long)ino_maps(c, 2),
	       (unsigned long long)ino_maps(c, 3));
	tap_ok(ino_maps(c, 1) > 0, "and only as much as needed");
	lim.max_bytes = CACHE_MIN_MAX_BYTES;
	cache_set_limits(c, &lim);
	st = stats(c);
	tap_ok(st.bytes <= CACHE_MIN_MAX_BYTES, "the smallest budget is kept");
	tap_ok(ino_maps(c, 3) > 0 && st.inodes < 3,
	       "cold inodes emptied are dropped, the hottest keeps mappings");
	done_cache(&md);
}

/* --- many inodes: the table grows -------------------------------------- */

/* Inode N is one MAPPED extent of N blocks at N GiB, then a hole. */
static int formula_source(void *arg, uint64_t ino, uint64_t off,
			  struct iomap *out)
{
	uint64_t end = ino * BLK;

	if (off < end)
		*out = mk(0, end, IOMAP_MAPPED, ino << 30);
	else
		*out = mk(end, UINT64_MAX - end, IOMAP_HOLE, 0);
	return 0;
}

struct order_check {
	uint64_t prev, n;
	bool sorted;
};

static int order_cb(void *arg, const struct cache_inode_stats *st,
		    const struct iomap *maps, size_t n)
{
	struct order_check *o = arg;

	if (st->ino <= o->prev || n != 1 || maps[0].length != st->ino * BLK)
		o->sorted = false;
	o->prev = st->ino;
	o->n++;
	return 0;
}

static void test_many_inodes(void)
{
	const uint64_t nino = 3000;
	struct cache *c = cache_new(NULL, true, formula_source, NULL);
	struct order_check o = { .sorted = true };
	struct cache_inode_stats ist;
	struct cache_stats st;
	struct iomap m;
	uint64_t i, bad = 0;

	if (!c)
		abort();
	/* A stride that is not a power of two spreads over every stripe. */
	for (i = 0; i < nino; i++)
		cache_lookup(c, 1 + (i * 7919) % nino, 0, &m);
	for (i = 1; i <= nino; i++)
		if (cache_lookup(c, i, i * BLK - 1, &m) ||
		    !same_map(&m, MK(0, i * BLK, IOMAP_MAPPED, i << 30)))
			bad++;
	st = stats(c);
	tap_eq_u64(bad, 0, "3000 inodes answer their own mappings");
	tap_ok(st.inodes == nino && st.hits == nino && st.misses == nino,
	       "the second pass only hits, after the table grew");
	cache_dump(c, 0, 0, UINT64_MAX, order_cb, &o);
	tap_ok(o.sorted && o.n == nino, "a dump of all is in inode order");
	for (i = 3; i <= nino; i += 3)
		cache_forget(c, i, CACHE_R_UNLINK);
	bad = 0;
	for (i = 1; i <= nino; i++)
		if (cache_get_inode_stats(c, i, &ist) != (i % 3 ? 0 : -ENOENT))
			bad++;
	tap_eq_u64(bad, 0, "forgetting every third inode leaves the others");
	tap_eq_int(cache_flush(c, 0, 0, 0), (int)(nino - nino / 3),
		   "a full flush removes every inode's mapping");
	tap_eq_u64(stats(c).bytes, 0, "and every byte");
	cache_free(c);
}

/* --- dump --------------------------------------------------------------- */

struct dump_log {
	uint64_t inos[8];
	size_t counts[8];
	struct iomap first[8];
	int calls;
	int stop_at;
};

static int dump_cb(void *arg, const struct cache_inode_stats *st,
		   const struct iomap *maps, size_t n)
{
	struct dump_log *d = arg;

	if (d->calls < 8) {
		d->inos[d->calls] = st->ino;
		d->counts[d->calls] = n;
		if (n)
			d->first[d->calls] = maps[0];
	}
	d->calls++;
	return d->calls == d->stop_at ? 42 : 0;
}

static struct cache *dump_forget_c;

/* Drops inode 20 while the dump of inode 10 is in its callback. */
static int dump_forget_cb(void *arg, const struct cache_inode_stats *st,
			  const struct iomap *maps, size_t n)
{
	if (st->ino == 10)
		cache_forget(dump_forget_c, 20, CACHE_R_UNLINK);
	return dump_cb(arg, st, maps, n);
}

static void test_dump(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct dump_log d;
	unsigned int calls;

	model_sparse(&md, 30, 8, 1ull << 20);
	model_sparse(&md, 10, 8, 2ull << 20);
	model_sparse(&md, 20, 8, 3ull << 20);
	fill(c, 30, 8);
	fill(c, 10, 8);
	fill(c, 20, 8);
	calls = md.calls;

	memset(&d, 0, sizeof(d));
	tap_eq_int(cache_dump(c, 0, 0, UINT64_MAX, dump_cb, &d), 0, "dump all");
	tap_ok(d.calls == 3 && d.inos[0] == 10 && d.inos[1] == 20 &&
	       d.inos[2] == 30, "every inode once, in inode order");
	tap_ok(d.counts[0] == 8 && d.counts[1] == 8 && d.counts[2] == 8,
	       "with all their mappings");

	memset(&d, 0, sizeof(d));
	tap_eq_int(cache_dump(c, 20, BLK + 1, BLK, dump_cb, &d), 0,
		   "dump one inode's range");
	tap_ok(d.calls == 1 && d.counts[0] == 2 &&
	       same_map(&d.first[0], MK(BLK, BLK, IOMAP_MAPPED,
					 (3ull << 20) + 2 * BLK)),
	       "the range keeps the overlapping mappings, unclipped");
	memset(&d, 0, sizeof(d));
	cache_dump(c, 20, 7 * BLK, UINT64_MAX, dump_cb, &d);
	tap_ok(d.calls == 1 && d.counts[0] == 1, "a range to the end");
	memset(&d, 0, sizeof(d));
	cache_dump(c, 20, 100 * BLK, BLK, dump_cb, &d);
	tap_ok(d.calls == 1 && d.counts[0] == 0,
	       "a range past the mappings gives the inode, with none");
	memset(&d, 0, sizeof(d));
	d.stop_at = 2;
	tap_eq_int(cache_dump(c, 0, 0, UINT64_MAX, dump_cb, &d), 42,
		   "a callback's non-zero value stops the dump");
	tap_eq_int(d.calls, 2, "no call after the stop");
	tap_eq_int(cache_dump(c, 99, 0, UINT64_MAX, dump_cb, &d), -ENOENT,
		   "dumping an uncached inode is -ENOENT");
	memset(&d, 0, sizeof(d));
	dump_forget_c = c;
	tap_eq_int(cache_dump(c, 0, 0, UINT64_MAX, dump_forget_cb, &d), 0,
		   "an inode dropped during a dump is passed over");
	tap_ok(d.calls == 2 && d.inos[0] == 10 && d.inos[1] == 30,
	       "the dump went on with the next inode");
	tap_eq_int(md.calls, calls, "dumping never asks the source");
	tap_eq_u64(stats(c).lookups, 24, "dumping counts no lookup");
	done_cache(&md);
}

/* --- audit -------------------------------------------------------------- */

struct audit_log {
	int n;
	uint64_t ino;
	struct iomap cached[4], disk[4];
};

static int audit_cb(void *arg, uint64_t ino, const struct iomap *cached,
		    const struct iomap *disk)
{
	struct audit_log *a = arg;

	if (a->n < 4) {
		a->cached[a->n] = *cached;
		a->disk[a->n] = *disk;
	}
	a->ino = ino;
	a->n++;
	return 0;
}

static void hook_churn(struct model *md, uint64_t ino, uint64_t off)
{
	cache_invalidate(md->c, ino, 1ull << 40, BLK, CACHE_R_WRITE);
}

static void hook_forget_audited(struct model *md, uint64_t ino, uint64_t off)
{
	cache_forget(md->c, ino, CACHE_R_UNLINK);
}

static void test_audit(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 0);
	struct cache_audit_summary sum;
	struct audit_log a;
	struct iomap v[3], m;
	unsigned int upserts;

	v[0] = mk(0, 16 * BLK, IOMAP_MAPPED, 1ull << 20);
	model_set(&md, 8, v, 1);
	model_sparse(&md, 9, 4, 4ull << 20);
	cache_lookup(c, 8, 0, &m);
	fill(c, 9, 4);

	memset(&a, 0, sizeof(a));
	tap_eq_int(cache_audit(c, 0, audit_cb, &a, &sum), 0, "audit all");
	tap_ok(sum.inodes == 2 && sum.mappings == 5 && sum.mismatches == 0 &&
	       sum.skipped == 0 && sum.errors == 0 && a.n == 0,
	       "a coherent cache audits clean");

	/* The disk changes under the cache without an invalidation. */
	v[0] = mk(0, 4 * BLK, IOMAP_MAPPED, 1ull << 20);
	v[1] = mk(4 * BLK, 4 * BLK, IOMAP_MAPPED, 9ull << 20);
	v[2] = mk(8 * BLK, 8 * BLK, IOMAP_MAPPED, (1ull << 20) + 8 * BLK);
	v[2].flags = IOMAP_F_LAST | IOMAP_F_NEW;
	model_set(&md, 8, v, 3);
	upserts = (unsigned int)stats(c).upserts;
	memset(&a, 0, sizeof(a));
	tap_eq_int(cache_audit(c, 8, audit_cb, &a, &sum), 0, "audit one inode");
	tap_ok(sum.inodes == 1 && sum.mappings == 1 && sum.mismatches == 1 &&
	       a.n == 1 && a.ino == 8,
	       "a planted difference is found once (flags are ignored)");
	check_map(&a.cached[0], MK(4 * BLK, 4 * BLK, IOMAP_MAPPED,
				    (1ull << 20) + 4 * BLK),
		  "the cached side is clipped to the difference");
	check_map(&a.disk[0], &v[1], "the disk side is what the source says");
	tap_eq_u64(stats(c).upserts, upserts, "an audit never fills the cache");

	v[0] = mk(0, 16 * BLK, IOMAP_HOLE, 0);
	model_set(&md, 8, v, 1);
	memset(&a, 0, sizeof(a));
	cache_audit(c, 8, audit_cb, &a, &sum);
	tap_ok(a.n == 1 && a.disk[0].type == IOMAP_HOLE &&
	       a.cached[0].length == 16 * BLK,
	       "a type difference is found");
	cache_invalidate(c, 8, 0, UINT64_MAX, CACHE_R_PUNCH);
	cache_audit(c, 0, NULL, NULL, &sum);
	tap_ok(sum.mismatches == 0 && sum.inodes == 2,
	       "after the invalidation the audit is clean again");

	md.hook = hook_churn;
	md.hook_runs = 1000;
	cache_audit(c, 9, audit_cb, &a, &sum);
	tap_ok(sum.skipped == 1 && sum.inodes == 0,
	       "an inode that keeps changing is skipped, not judged");
	md.hook_runs = 0;

	md.fail = -EIO;
	cache_audit(c, 9, NULL, NULL, &sum);
	tap_ok(sum.errors == 4 && sum.mismatches == 0,
	       "source errors are counted, not reported as differences");
	md.fail = 0;
	tap_eq_int(cache_audit(c, 77, NULL, NULL, &sum), -ENOENT,
		   "auditing an uncached inode is -ENOENT");
	tap_eq_int(cache_audit(c, 9, NULL, NULL, NULL), 0,
		   "the summary is optional");
	md.hook = hook_forget_audited;
	md.hook_runs = 1;
	tap_eq_int(cache_audit(c, 0, audit_cb, &a, &sum), 0,
		   "audit while an inode is forgotten");
	tap_ok(sum.inodes == 1 && sum.skipped == 0 && sum.mismatches == 0,
	       "an inode dropped during its audit is neither judged nor skipped");
	done_cache(&md);
}

/* --- watchers ----------------------------------------------------------- */

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_watch(void)
{
	struct model md;
	struct cache *c = new_cache(&md, 0, 0, 16);
	struct cache_watch *w, *w2;
	struct cache_event ev[32];
	struct cache_limits lim;
	struct iomap m;
	uint64_t lost = 99, t0, t1, i;
	ssize_t n;
	bool ok;

	model_sparse(&md, 4, 64, 1ull << 20);
	cache_lookup(c, 4, 0, &m);
	tap_eq_u64(stats(c).events, 0, "no event is recorded without watchers");

	w = cache_watch_open(c);
	tap_ok(w && cache_watch_fd(w) >= 0,
	       "a watcher opens with a descriptor");
	tap_ok(!fd_readable(cache_watch_fd(w)), "nothing pending at first");
	tap_eq_int(cache_watch_read(w, ev, 32, &lost), 0, "no event yet");
	tap_eq_u64(lost, 0, "nothing lost");

	t0 = realtime_ns();
	cache_lookup(c, 4, BLK, &m);
	cache_invalidate(c, 4, BLK, BLK, CACHE_R_CONVERT);
	cache_set_enabled(c, false);
	t1 = realtime_ns();
	tap_ok(fd_readable(cache_watch_fd(w)), "the descriptor polls readable");
	n = cache_watch_read(w, ev, 32, &lost);
	tap_eq_int(n, 4, "four events");
	ok = n == 4 && ev[0].type == CACHE_EV_UPSERT && ev[0].ino == 4 &&
	     ev[0].map.offset == BLK && ev[0].offset == BLK &&
	     ev[1].type == CACHE_EV_INVALIDATE &&
	     ev[1].reason == CACHE_R_CONVERT && ev[1].offset == BLK &&
	     ev[1].length == BLK && ev[2].type == CACHE_EV_DISABLE &&
	     ev[3].type == CACHE_EV_INVALIDATE &&
	     ev[3].reason == CACHE_R_DISABLE;
	tap_ok(ok,
	       "upsert, invalidate (convert), disable, invalidate (disable)");
	ok = n == 4;
	for (i = 0; ok && i < 4; i++)
		ok = ev[i].seq == ev[0].seq + i && ev[i].time_ns >= t0 &&
		     ev[i].time_ns <= t1 && (!i || ev[i].time_ns >=
						   ev[i - 1].time_ns);
	tap_ok(ok,
	       "sequence numbers follow each other; realtime stamps in order");
	tap_ok(ev[0].seq == 1, "the first recorded event is number 1");
	tap_ok(!fd_readable(cache_watch_fd(w)),
	       "a caught-up watcher's descriptor is clear");
	{
		uint64_t cnt = 0;
		ssize_t rd;

		cache_invalidate(c, 4, 0, BLK, CACHE_R_WRITE);
		cache_invalidate(c, 4, 0, BLK, CACHE_R_WRITE);
		cache_invalidate(c, 4, 0, BLK, CACHE_R_WRITE);
		/* The eventfd counts the writes: one wake-up, not three. */
		rd = read(cache_watch_fd(w), &cnt, sizeof(cnt));
		tap_ok(rd == sizeof(cnt) && cnt == 1,
		       "only the first of three events woke the watcher (%llu)",
		       (unsigned long long)cnt);
		n = cache_watch_read(w, ev, 32, &lost);
		tap_eq_int(n, 3, "all three are pending");
	}
	cache_set_enabled(c, true);

	/* Overflow the 16-slot ring. */
	w2 = cache_watch_open(c);
	for (i = 0; i < 40; i++)
		cache_invalidate(c, 4, i * BLK, BLK, CACHE_R_WRITE);
	n = cache_watch_read(w, ev, 32, &lost);
	tap_eq_int(n, 16, "a watcher that fell behind gets the newest 16");
	tap_eq_u64(lost, 25, "and is told it lost 25 (the ENABLE and 24)");
	tap_ok(ev[15].type == CACHE_EV_INVALIDATE &&
	       ev[15].offset == 39 * BLK && ev[15].seq == ev[0].seq + 15,
	       "the newest events, in order");
	n = cache_watch_read(w2, ev, 4, &lost);
	tap_ok(n == 4 && lost == 24, "each watcher has its own position");
	n = cache_watch_read(w2, ev, 32, &lost);
	tap_ok(n == 12 && lost == 0, "and reads the rest of the ring");
	tap_eq_u64(stats(c).events, 48, "recorded events counted");

	cache_get_limits(c, &lim);
	cache_invalidate(c, 4, 0, BLK, CACHE_R_WRITE);
	cache_invalidate(c, 4, BLK, BLK, CACHE_R_WRITE);
	lim.event_ring = 64;
	tap_eq_int(cache_set_limits(c, &lim), 0, "grow the ring");
	n = cache_watch_read(w, ev, 32, &lost);
	tap_ok(n == 2 && lost == 0 && ev[1].offset == BLK,
	       "pending events survive a ring resize");
	for (i = 0; i < 40; i++)
		cache_invalidate(c, 4, i * BLK, BLK, CACHE_R_EXTEND);
	lim.event_ring = 16;
	tap_eq_int(cache_set_limits(c, &lim), 0, "shrink the ring");
	n = cache_watch_read(w, ev, 32, &lost);
	tap_ok(n == 16 && lost == 24 && ev[15].offset == 39 * BLK,
	       "shrinking keeps the newest events (lost %llu)",
	       (unsigned long long)lost);
	/* The older watcher sits behind the newer one in the list. */
	cache_watch_close(w);
	cache_watch_close(w2);
	cache_invalidate(c, 4, 0, BLK, CACHE_R_WRITE);
	tap_eq_u64(stats(c).events, 90, "closed watchers record nothing more");
	w = cache_watch_open(c);
	tap_ok(w != NULL, "a watcher left open at cache_free");
	done_cache(&md);
}

/* --- stress ------------------------------------------------------------- */

#define ST_INO 77
#define ST_EXT 64
#define ST_EXT_LEN (64 * KIB)
#define ST_READERS 3

struct stress {
	struct cache *c;
	_Atomic uint64_t gen[ST_EXT];		/* what the disk holds */
	_Atomic uint64_t published[ST_EXT];	/* invalidated up to this */
	_Atomic bool stop, stop_chaos;
	_Atomic uint64_t lookups, bad, errors;
	uint64_t writer_until;	/* lookups after which the writer stops */
	unsigned long iters;
};

static uint64_t st_addr(uint64_t gen, uint64_t k)
{
	return (gen << 32) + (1ull << 20) + k * ST_EXT_LEN;
}

/* Extent k is MAPPED in even generations and UNWRITTEN in odd ones. */
static int stress_source(void *arg, uint64_t ino, uint64_t off,
			 struct iomap *out)
{
	struct stress *s = arg;
	uint64_t k = off / ST_EXT_LEN, g;

	if (k >= ST_EXT) {
		*out = mk(ST_EXT * ST_EXT_LEN, UINT64_MAX - ST_EXT * ST_EXT_LEN,
			  IOMAP_HOLE, 0);
		return 0;
	}
	g = atomic_load(&s->gen[k]);
	if (!(off & 3))
		sched_yield();	/* widen the race window */
	*out = mk(k * ST_EXT_LEN, ST_EXT_LEN,
		  (g & 1) ? IOMAP_UNWRITTEN : IOMAP_MAPPED, st_addr(g, k));
	return 0;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void *stress_reader(void *arg)
{
	struct stress *s = arg;
	uint64_t x = (uint64_t)pthread_self() | 1, k, off, want, g, at;
	struct iomap m;
	unsigned long i;

	for (i = 0; i < s->iters; i++) {
		k = rnd(&x) % ST_EXT;
		off = k * ST_EXT_LEN + rnd(&x) % ST_EXT_LEN;
		want = atomic_load(&s->published[k]);
		if (cache_lookup(s->c, ST_INO, off, &m)) {
			atomic_fetch_add(&s->errors, 1);
			continue;
		}
		atomic_fetch_add(&s->lookups, 1);
		at = m.addr + (off - m.offset);
		g = at >> 32;
		if (g < want ||
		    m.type != ((g & 1) ? IOMAP_UNWRITTEN : IOMAP_MAPPED) ||
		    at != st_addr(g, k) + off % ST_EXT_LEN) {
			if (atomic_fetch_add(&s->bad, 1) < 3)
				tap_diag("stale: extent %llu gen %llu < %llu",
					 (unsigned long long)k,
					 (unsigned long long)g,
					 (unsigned long long)want);
		}
	}
	return NULL;
}

static void *stress_writer(void *arg)
{
	struct stress *s = arg;
	uint64_t x = 0x9e3779b97f4a7c15ull, k, g;

	while (!atomic_load(&s->stop) &&
	       atomic_load(&s->lookups) < s->writer_until) {
		k = rnd(&x) % ST_EXT;
		g = atomic_fetch_add(&s->gen[k], 1) + 1;
		cache_invalidate(s->c, ST_INO, k * ST_EXT_LEN, ST_EXT_LEN,
				 CACHE_R_WRITE);
		atomic_store(&s->published[k], g);
		if (!(rnd(&x) & 7))
			sched_yield();
	}
	return NULL;
}

/* Flushes, switches, small budgets, dumps and audits while others run. */
static int stress_dump_cb(void *arg, const struct cache_inode_stats *st,
			  const struct iomap *maps, size_t n)
{
	return 0;
}

static void *stress_chaos(void *arg)
{
	struct stress *s = arg;
	struct cache_limits lim;
	struct cache_audit_summary sum;
	uint64_t x = 12345;
	unsigned int op;

	cache_get_limits(s->c, &lim);
	while (!atomic_load(&s->stop_chaos)) {
		op = (unsigned int)(rnd(&x) % 6);
		switch (op) {
		case 0:
			cache_flush(s->c, rnd(&x) & 1 ? ST_INO : 0, 0,
				    UINT64_MAX);
			break;
		case 1:
			cache_set_enabled(s->c, false);
			sched_yield();
			cache_set_enabled(s->c, true);
			break;
		case 2:
			lim.max_bytes = rnd(&x) & 1 ? CACHE_MIN_MAX_BYTES
						    : CACHE_DEFAULT_MAX_BYTES;
			lim.inode_max_bytes = rnd(&x) & 1 ? 1024 : 1 << 20;
			cache_set_limits(s->c, &lim);
			break;
		case 3:
			cache_dump(s->c, 0, 0, UINT64_MAX, stress_dump_cb,
				   NULL);
			break;
		case 4:
			cache_audit(s->c, 0, NULL, NULL, &sum);
			break;
		default:
			cache_forget(s->c, ST_INO, CACHE_R_UNLINK);
			break;
		}
		usleep(200);
	}
	cache_set_enabled(s->c, true);
	lim.max_bytes = CACHE_DEFAULT_MAX_BYTES;
	lim.inode_max_bytes = CACHE_DEFAULT_INODE_MAX_BYTES;
	cache_set_limits(s->c, &lim);
	return NULL;
}

static void *stress_watcher(void *arg)
{
	struct stress *s = arg;
	struct cache_watch *w = cache_watch_open(s->c);
	struct cache_event ev[8];
	struct pollfd p;
	uint64_t lost, last = 0;
	ssize_t n;
	int i;

	if (!w)
		return NULL;
	p.fd = cache_watch_fd(w);
	p.events = POLLIN;
	while (!atomic_load(&s->stop)) {
		if (poll(&p, 1, 10) < 0)
			break;
		while ((n = cache_watch_read(w, ev, 8, &lost)) > 0) {
			for (i = 0; i < n; i++) {
				if (last && ev[i].seq != last + 1 + lost)
					atomic_fetch_add(&s->bad, 1);
				last = ev[i].seq;
				lost = 0;
			}
		}
	}
	cache_watch_close(w);
	return NULL;
}

static void test_stress(bool quick)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct cache_audit_summary sum;
	struct cache_stats st;
	pthread_t rd[ST_READERS], wr, chaos, watcher;
	int i;

	if (!s)
		abort();
	s->iters = quick ? 2000 : 100000;
	/*
	 * The writer retires during the last tenth of phase two, so that
	 * readers leave mappings cached during the race for the final audit
	 * to judge, instead of an invalidation emptying the cache at the end.
	 */
	s->writer_until = 2ull * ST_READERS * s->iters -
			  ST_READERS * s->iters / 10;
	s->c = cache_new(NULL, true, stress_source, s);
	if (!s->c)
		abort();
	pthread_create(&wr, NULL, stress_writer, s);
	pthread_create(&chaos, NULL, stress_chaos, s);
	pthread_create(&watcher, NULL, stress_watcher, s);
	for (i = 0; i < ST_READERS; i++)
		pthread_create(&rd[i], NULL, stress_reader, s);
	for (i = 0; i < ST_READERS; i++)
		pthread_join(rd[i], NULL);
	/* Phase two: no chaos, default limits, so the cache ends up full. */
	atomic_store(&s->stop_chaos, true);
	pthread_join(chaos, NULL);
	for (i = 0; i < ST_READERS; i++)
		pthread_create(&rd[i], NULL, stress_reader, s);
	for (i = 0; i < ST_READERS; i++)
		pthread_join(rd[i], NULL);
	atomic_store(&s->stop, true);
	pthread_join(wr, NULL);
	pthread_join(watcher, NULL);

	st = stats(s->c);
	tap_diag("stress: %llu lookups, %llu hits, %llu stale skips, "
		 "%llu invalidations, %llu evictions",
		 (unsigned long long)st.lookups, (unsigned long long)st.hits,
		 (unsigned long long)st.stale_skips,
		 (unsigned long long)st.invalidations,
		 (unsigned long long)st.evictions);
	tap_eq_u64(s->errors, 0, "stress: no lookup failed");
	tap_eq_u64(s->bad, 0,
		   "stress: no lookup saw a mapping older than a finished invalidation");
	tap_eq_u64(st.lookups, 2ull * ST_READERS * s->iters,
		   "stress: every lookup counted");
	tap_ok(st.hits > 0 && st.stale_skips > 0,
	       "stress: the run hit the cache and raced invalidations");
	cache_set_enabled(s->c, true);
	tap_eq_int(cache_audit(s->c, 0, NULL, NULL, &sum), 0, "stress: audit");
	if (!tap_ok(sum.mismatches == 0 && sum.skipped == 0 &&
		    sum.mappings > 0,
		    "stress: no stale mapping survived (%llu mappings audited)",
		    (unsigned long long)sum.mappings))
		tap_diag("audit: %llu inodes, %llu mismatches, %llu skipped",
			 (unsigned long long)sum.inodes,
			 (unsigned long long)sum.mismatches,
			 (unsigned long long)sum.skipped);
	cache_free(s->c);
	free(s);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");

	test_names();
	test_new();
	test_hit_miss();
	test_cookie_race();
	test_invalidate();
	test_flush();
	test_disable();
	test_limits();
	test_budget();
	test_inode_cap();
	test_lru_order();
	test_many_inodes();
	test_dump();
	test_audit();
	test_watch();
	test_stress(quick);
	return tap_done();
}
