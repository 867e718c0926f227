// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cache.c - the iomap cache behind cache.h: a hash table of inode entries,
 * each holding a range map and a validity cookie, with a byte budget
 * enforced by LRU (inodes) and CLOCK (mappings) eviction, statistics, a run
 * time switch and a bounded event ring read by watchers.
 *
 * Locking, outermost first:
 *   switch_lock  serializes cache_set_enabled() and cache_set_limits();
 *   evict_lock   one thread enforces the global budget at a time;
 *   stripes[i]   rwlock over the hash chains of the buckets b with
 *                b % CACHE_STRIPES == i, and over the lifetime of the entries
 *                in them: an entry is only used with its stripe lock held
 *                (read is enough) and is freed only after being unlinked
 *                under the stripe's write lock, so no reference counts are
 *                needed.  Changing the bucket array takes every stripe.
 *   ent->lock    rwlock over the entry's range map, cookie and gauges:
 *                read-held for imap_lookup() (which may run concurrently),
 *                write-held for everything that changes or walks the map;
 *   lru_lock     the inode LRU list (never held while taking another lock);
 *   ring.lock    the event ring and the watcher list (innermost).
 * No lock is held while the source or a dump/audit callback runs.
 *
 * The hit path takes the stripe and entry locks shared, bumps one
 * per-entry relaxed counter (summed when stats are read, so no global
 * counter is written per hit), reads the coarse monotonic clock (a few ns,
 * where CLOCK_MONOTONIC can cost tens) and allocates nothing.  It moves the
 * inode to the head of the LRU at most once per CACHE_LRU_MOVE_NS, so a hot
 * set of inodes does not serialize on the LRU lock.
 *
 * Cookies: only invalidations move an inode's cookie (upserts and
 * evictions never make a cached mapping wrong, so they need not abort
 * concurrent lookups).  A lookup that misses records the cookie of the
 * inode's entry, creating the entry when there is none; an entry that is
 * freed and created again gets a new value from the global counter, so a
 * lookup whose entry vanished meanwhile never inserts.  An invalidation of
 * an inode without an entry needs no cookie: no lookup can hold a cookie
 * that a future entry would repeat.
 *
 * Choices the header leaves open:
 * - An invalidation keeps the inode's entry even when it empties it (the
 *   entry keeps the inode's statistics); an explicit flush of one inode
 *   frees an entry it leaves empty, and flush of all, disable and forget
 *   free every entry they touch.  Empty entries also go first under budget
 *   pressure, coldest first.
 * - "invalidations" counts one per inode and call: a flush of all or a
 *   disable counts one per inode it drops.  A flush of an uncached inode
 *   (-ENOENT) counts nothing; cache_invalidate() and cache_forget() of an
 *   uncached inode count and report an event.
 * - With caching off a lookup counts as a lookup and a source call, not a
 *   miss.  source_calls also counts the audit's calls.
 * - cache_dump() calls back for every cached inode, also when none of its
 *   mappings overlaps the range (n is 0 then); len 0 selects nothing.
 * - cache_audit() counts in "inodes" the inodes it judged; an inode
 *   dropped while it was audited is neither judged nor skipped.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "dlist.h"
#include "rangemap.h"

#define CACHE_STRIPES 64u		/* power of two */
#define CACHE_MIN_BUCKETS 256u		/* power of 2, >= CACHE_STRIPES */
#define CACHE_LRU_MOVE_NS 1000000ull	/* 1 ms */
#define CACHE_AUDIT_TRIES 4

/*
 * Counters kept per entry.  A hit bumps only @hits; an entry's lookups are
 * hits + misses.
 */
struct cache_ent_ctrs {
	_Atomic uint64_t hits;
	_Atomic uint64_t misses;
	_Atomic uint64_t upserts;
	_Atomic uint64_t invalidations;
	_Atomic uint64_t evictions;
};

struct cache_ent {
	uint64_t ino;
	struct cache_ent *hnext;	/* stripe lock */
	struct dlist_node lru;		/* lru_lock; prev is hotter */
	pthread_rwlock_t lock;
	struct imap *map;		/* lock */
	uint64_t cookie;		/* lock */
	uint64_t mem;			/* lock: bytes held, with this */
	uint64_t nmaps;			/* lock */
	_Atomic uint64_t lru_moved_ns;	/* lru_clock() of the last move */
	_Atomic uint64_t last_use_ns;	/* lru_clock() */
	struct cache_ent_ctrs ctr;
};

/* Counters kept only globally (slow paths), zeroed by cache_reset_stats(). */
struct cache_ctrs {
	_Atomic uint64_t misses;
	_Atomic uint64_t source_calls;
	_Atomic uint64_t source_errors;
	_Atomic uint64_t upserts;
	_Atomic uint64_t merges;
	_Atomic uint64_t stale_skips;
	_Atomic uint64_t invalidations;
	_Atomic uint64_t by_reason[CACHE_R_COUNT];
	_Atomic uint64_t invalidated_mappings;
	_Atomic uint64_t evictions;
	_Atomic uint64_t events;
	/* lookups and hits of freed entries and of lookups with no entry */
	_Atomic uint64_t lookups_other;
	_Atomic uint64_t hits_other;
};

struct cache_watch {
	struct cache *c;
	struct dlist_node link;		/* ring.lock */
	uint64_t pos;			/* ring.lock: next seq to read */
	int efd;
	bool armed;			/* ring.lock: waits for a wake-up */
};

struct cache_ring {
	pthread_mutex_t lock;
	struct cache_event *buf;	/* size slots, seq s in slot s % size */
	uint32_t size;
	uint64_t next_seq;		/* seq of the next event, from 1 */
	struct dlist watchers;		/* of struct cache_watch */
	unsigned int narmed;
	_Atomic unsigned int nwatchers;	/* read without the lock */
};

struct cache {
	cache_source_fn source;
	void *source_arg;

	pthread_mutex_t switch_lock;
	pthread_mutex_t evict_lock;
	pthread_rwlock_t stripes[CACHE_STRIPES];
	struct cache_ent **buckets;	/* every stripe lock */
	size_t nbuckets;		/* every stripe lock; power of two */
	_Atomic uint64_t grow_at;	/* inodes that make the table grow */
	pthread_rwlockattr_t rwattr;

	pthread_mutex_t lru_lock;
	struct dlist lru;		/* head most recently used */

	_Atomic bool enabled;
	_Atomic uint64_t max_bytes;
	_Atomic uint64_t inode_max_bytes;
	_Atomic uint64_t cookie_seq;

	_Atomic uint64_t inodes, mappings, bytes;
	_Atomic uint64_t inodes_hwm, mappings_hwm, bytes_hwm;
	struct cache_ctrs ctr;

	struct cache_ring ring;
};

static const char *const cache_reason_names[CACHE_R_COUNT] = {
	[CACHE_R_WRITE] = "write",
	[CACHE_R_CONVERT] = "convert",
	[CACHE_R_EXTEND] = "extend",
	[CACHE_R_TRUNCATE] = "truncate",
	[CACHE_R_PUNCH] = "punch",
	[CACHE_R_ZERO] = "zero",
	[CACHE_R_COLLAPSE] = "collapse",
	[CACHE_R_INSERT] = "insert",
	[CACHE_R_FALLOCATE] = "fallocate",
	[CACHE_R_UNLINK] = "unlink",
	[CACHE_R_FLUSH] = "flush",
	[CACHE_R_DISABLE] = "disable",
};

static const char *const cache_event_names[CACHE_EV_COUNT] = {
	[CACHE_EV_UPSERT] = "upsert",
	[CACHE_EV_INVALIDATE] = "invalidate",
	[CACHE_EV_EVICT] = "evict",
	[CACHE_EV_ENABLE] = "enable",
	[CACHE_EV_DISABLE] = "disable",
};

const char *cache_reason_name(unsigned int reason)
{
	if (reason >= CACHE_R_COUNT)
		return NULL;
	return cache_reason_names[reason];
}

const char *cache_event_name(unsigned int type)
{
	if (type >= CACHE_EV_COUNT)
		return NULL;
	return cache_event_names[type];
}

int cache_reason_parse(const char *name)
{
	unsigned int i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < CACHE_R_COUNT; i++)
		if (!strcasecmp(name, cache_reason_names[i]))
			return (int)i;
	return -EINVAL;
}

/* --- small helpers ------------------------------------------------------ */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * CLOCK_MONOTONIC at tick resolution: last use and LRU moves need no
 * better, and it is several times cheaper to read on the hit path.
 */
static uint64_t lru_clock(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

static inline void ctr_add(_Atomic uint64_t *p, uint64_t n)
{
	atomic_fetch_add_explicit(p, n, memory_order_relaxed);
}

static inline uint64_t ctr_get(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline void ctr_zero(_Atomic uint64_t *p)
{
	atomic_store_explicit(p, 0, memory_order_relaxed);
}

static void hwm_raise(_Atomic uint64_t *hwm, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(hwm, memory_order_relaxed);

	while (v > cur &&
	       !atomic_compare_exchange_weak_explicit(hwm, &cur, v,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

/* Add a signed @delta to a gauge and keep its high-water mark. */
static void gauge_add(_Atomic uint64_t *g, _Atomic uint64_t *hwm,
		      int64_t delta)
{
	uint64_t v;

	if (!delta)
		return;
	v = atomic_fetch_add(g, (uint64_t)delta) + (uint64_t)delta;
	if (delta > 0)
		hwm_raise(hwm, v);
}

/* Last byte of [off, off + len - 1], saturating; len must not be 0. */
static uint64_t range_last(uint64_t off, uint64_t len)
{
	if (len - 1 > UINT64_MAX - off)
		return UINT64_MAX;
	return off + (len - 1);
}

static uint64_t ino_hash(uint64_t ino)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ull;

	return h ^ (h >> 29);
}

/*
 * The bucket of a hash is h & (nbuckets - 1) and its stripe h &
 * (CACHE_STRIPES - 1); nbuckets is a multiple of CACHE_STRIPES, so a bucket
 * always belongs to the same stripe and growing the table keeps every
 * entry in its stripe.
 */
static pthread_rwlock_t *stripe_of(struct cache *c, uint64_t h)
{
	return &c->stripes[h & (CACHE_STRIPES - 1)];
}

/* Caller holds the stripe lock of @h. */
static struct cache_ent *ent_find(struct cache *c, uint64_t h, uint64_t ino)
{
	struct cache_ent *e = c->buckets[h & (c->nbuckets - 1)];

	while (e && e->ino != ino)
		e = e->hnext;
	return e;
}

static uint64_t next_cookie(struct cache *c)
{
	return atomic_fetch_add(&c->cookie_seq, 1) + 1;
}

/* --- events ------------------------------------------------------------- */

/*
 * Record an event if someone watches.  Never blocks beyond the ring lock
 * and makes a system call only to wake a watcher that waits.
 */
static void ev_emit(struct cache *c, unsigned int type, unsigned int reason,
		    uint64_t ino, uint64_t off, uint64_t len,
		    const struct iomap *m)
{
	struct cache_ring *r = &c->ring;
	struct cache_event *ev;
	struct cache_watch *w;
	struct dlist_node *n;
	uint64_t one = 1;

	if (!atomic_load_explicit(&r->nwatchers, memory_order_relaxed))
		return;
	pthread_mutex_lock(&r->lock);
	if (!r->watchers.head)
		goto out_unlock;
	ev = &r->buf[r->next_seq % r->size];
	memset(ev, 0, sizeof(*ev));
	ev->seq = r->next_seq++;
	ev->time_ns = clock_ns(CLOCK_REALTIME);
	ev->type = type;
	ev->reason = reason;
	ev->ino = ino;
	ev->offset = off;
	ev->length = len;
	if (m)
		ev->map = *m;
	else
		ev->map.addr = IOMAP_NULL_ADDR;
	ctr_add(&c->ctr.events, 1);
	if (r->narmed) {
		for (n = r->watchers.head; n; n = n->next) {
			w = dlist_entry(n, struct cache_watch, link);
			if (!w->armed)
				continue;
			/* An eventfd write of 1 cannot block or fail here. */
			if (write(w->efd, &one, sizeof(one)) < 0)
				continue;
			w->armed = false;
			r->narmed--;
		}
	}
out_unlock:
	pthread_mutex_unlock(&r->lock);
}

/* Caller holds ring.lock.  Keeps the newest events that fit. */
static int ring_resize(struct cache_ring *r, uint32_t size)
{
	struct cache_event *buf;
	uint64_t seq, first;

	if (size == r->size)
		return 0;
	buf = calloc(size, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	first = r->next_seq > r->size ? r->next_seq - r->size : 1;
	if (r->next_seq - first > size)
		first = r->next_seq - size;
	for (seq = first; seq < r->next_seq; seq++)
		buf[seq % size] = r->buf[seq % r->size];
	free(r->buf);
	r->buf = buf;
	r->size = size;
	return 0;
}

/* --- entries ------------------------------------------------------------ */

static struct cache_ent *ent_alloc(struct cache *c, uint64_t ino,
				   uint64_t now)
{
	struct cache_ent *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->map = imap_new();
	if (!e->map)
		goto out_free;
	if (pthread_rwlock_init(&e->lock, &c->rwattr))
		goto out_map;
	e->ino = ino;
	e->cookie = next_cookie(c);
	e->mem = sizeof(*e) + imap_mem_bytes(e->map);
	atomic_init(&e->lru_moved_ns, now);
	atomic_init(&e->last_use_ns, now);
	return e;

out_map:
	imap_free(e->map);
out_free:
	free(e);
	return NULL;
}

static void ent_destroy(struct cache_ent *e)
{
	pthread_rwlock_destroy(&e->lock);
	imap_free(e->map);
	free(e);
}

/*
 * Mark @e used at @now.  Caller holds its stripe lock.  @force moves it to
 * the LRU head at once (slow paths); otherwise at most once per
 * CACHE_LRU_MOVE_NS, by the one thread that wins the compare-exchange.
 */
static void ent_touch(struct cache *c, struct cache_ent *e, uint64_t now,
		      bool force)
{
	uint64_t moved = atomic_load_explicit(&e->lru_moved_ns,
					      memory_order_relaxed);

	atomic_store_explicit(&e->last_use_ns, now, memory_order_relaxed);
	/* @now was read before the locks: another thread may be later. */
	if (!force && (now <= moved || now - moved < CACHE_LRU_MOVE_NS))
		return;
	if (!force && !atomic_compare_exchange_strong_explicit(
			&e->lru_moved_ns, &moved, now,
			memory_order_relaxed, memory_order_relaxed))
		return;
	if (force)
		atomic_store_explicit(&e->lru_moved_ns, now,
				      memory_order_relaxed);
	pthread_mutex_lock(&c->lru_lock);
	if (c->lru.head != &e->lru) {
		dlist_del(&c->lru, &e->lru);
		dlist_add_head(&c->lru, &e->lru);
	}
	pthread_mutex_unlock(&c->lru_lock);
}

/* Caller holds the stripe write lock of @h; @e is not linked yet. */
static void ent_link(struct cache *c, uint64_t h, struct cache_ent *e)
{
	struct cache_ent **b = &c->buckets[h & (c->nbuckets - 1)];

	e->hnext = *b;
	*b = e;
	pthread_mutex_lock(&c->lru_lock);
	dlist_add_head(&c->lru, &e->lru);
	pthread_mutex_unlock(&c->lru_lock);
	gauge_add(&c->inodes, &c->inodes_hwm, 1);
	gauge_add(&c->bytes, &c->bytes_hwm, (int64_t)e->mem);
	gauge_add(&c->mappings, &c->mappings_hwm, (int64_t)e->nmaps);
}

/*
 * Caller holds the stripe write lock of @h, which excludes every other
 * user of @e; the caller frees @e after dropping the lock.
 */
static void ent_unlink(struct cache *c, uint64_t h, struct cache_ent *e)
{
	struct cache_ent **p = &c->buckets[h & (c->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	e->hnext = NULL;
	pthread_mutex_lock(&c->lru_lock);
	dlist_del(&c->lru, &e->lru);
	pthread_mutex_unlock(&c->lru_lock);
	gauge_add(&c->inodes, &c->inodes_hwm, -1);
	gauge_add(&c->bytes, &c->bytes_hwm, -(int64_t)e->mem);
	gauge_add(&c->mappings, &c->mappings_hwm, -(int64_t)e->nmaps);
	ctr_add(&c->ctr.lookups_other,
		ctr_get(&e->ctr.hits) + ctr_get(&e->ctr.misses));
	ctr_add(&c->ctr.hits_other, ctr_get(&e->ctr.hits));
}

/* Re-read the map's size after a change.  Caller holds e->lock for write. */
static void ent_account(struct cache *c, struct cache_ent *e)
{
	uint64_t mem = sizeof(*e) + imap_mem_bytes(e->map);
	uint64_t n = imap_count(e->map);

	gauge_add(&c->bytes, &c->bytes_hwm, (int64_t)(mem - e->mem));
	gauge_add(&c->mappings, &c->mappings_hwm, (int64_t)(n - e->nmaps));
	e->mem = mem;
	e->nmaps = n;
}

/* Mappings of @e overlapping [off, last].  Caller holds e->lock for write. */
static uint64_t ent_count_range(struct cache_ent *e, uint64_t off,
				uint64_t last)
{
	struct imap_iter it;
	struct iomap m;
	uint64_t n = 0;

	imap_iter_start(e->map, off, &it);
	while (imap_iter_next(&it, &m) && m.offset <= last)
		n++;
	return n;
}

/* --- eviction ----------------------------------------------------------- */

struct evict_ctx {
	struct cache *c;
	uint64_t ino;
};

static void evict_one(const struct iomap *m, void *arg)
{
	struct evict_ctx *x = arg;

	ev_emit(x->c, CACHE_EV_EVICT, 0, x->ino, m->offset, m->length, m);
}

/* How many mappings to evict from @e to free about @excess bytes. */
static size_t evict_goal(const struct cache_ent *e, uint64_t excess)
{
	uint64_t per, nr;

	if (!e->nmaps)
		return 0;
	per = (e->mem - sizeof(*e)) / e->nmaps;
	if (!per)
		per = 1;
	nr = excess / per + 1;
	return nr > e->nmaps ? (size_t)e->nmaps : (size_t)nr;
}

/*
 * Evict up to @nr of the coldest mappings of @e.  Caller holds e->lock for
 * write.  Returns the number evicted (>= 1 while @e holds any mapping).
 */
static size_t ent_evict(struct cache *c, struct cache_ent *e, size_t nr)
{
	struct evict_ctx x = { .c = c, .ino = e->ino };
	struct imap_iter it;
	struct iomap m;
	size_t n;

	n = imap_evict(e->map, nr, evict_one, &x);
	if (!n && imap_count(e->map)) {
		/* A sweep always makes progress; never spin if it did not. */
		imap_iter_start(e->map, 0, &it);
		if (imap_iter_next(&it, &m)) {
			evict_one(&m, &x);
			imap_remove(e->map, m.offset, m.length);
			n = 1;
		}
	}
	ctr_add(&e->ctr.evictions, n);
	ctr_add(&c->ctr.evictions, n);
	ent_account(c, e);
	return n;
}

/*
 * Bring @e under the per-inode cap by evicting its coldest mappings, as few
 * as needed: the inode keeps the rest.  Caller holds e->lock for write.
 */
static void ent_enforce_cap(struct cache *c, struct cache_ent *e)
{
	uint64_t cap = atomic_load(&c->inode_max_bytes);

	while (e->mem > cap && e->nmaps)
		if (!ent_evict(c, e, evict_goal(e, e->mem - cap)))
			break;
}

/* Free the entry of @ino if it holds no mapping.  No lock held. */
static void ent_free_if_empty(struct cache *c, uint64_t ino)
{
	uint64_t h = ino_hash(ino);
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e;

	pthread_rwlock_wrlock(s);
	e = ent_find(c, h, ino);
	if (e && !e->nmaps)
		ent_unlink(c, h, e);
	else
		e = NULL;
	pthread_rwlock_unlock(s);
	if (e)
		ent_destroy(e);
}

/*
 * Evict down to the global budget: the coldest mappings of the coldest
 * inode first, only as many as needed; an inode left empty is freed.
 * Called with no lock held.
 */
static void cache_enforce_budget(struct cache *c)
{
	struct cache_ent *e;
	pthread_rwlock_t *s;
	uint64_t ino, h, bytes, max;
	bool empty;

	if (atomic_load(&c->bytes) <= atomic_load(&c->max_bytes))
		return;
	pthread_mutex_lock(&c->evict_lock);
	for (;;) {
		bytes = atomic_load(&c->bytes);
		max = atomic_load(&c->max_bytes);
		if (bytes <= max)
			break;
		pthread_mutex_lock(&c->lru_lock);
		e = dlist_entry(c->lru.tail, struct cache_ent, lru);
		ino = e ? e->ino : 0;
		pthread_mutex_unlock(&c->lru_lock);
		if (!e)
			break;
		h = ino_hash(ino);
		s = stripe_of(c, h);
		pthread_rwlock_rdlock(s);
		e = ent_find(c, h, ino);
		if (!e) {
			pthread_rwlock_unlock(s);
			continue;
		}
		pthread_rwlock_wrlock(&e->lock);
		if (e->nmaps)
			ent_evict(c, e, evict_goal(e, bytes - max));
		empty = !e->nmaps;
		pthread_rwlock_unlock(&e->lock);
		pthread_rwlock_unlock(s);
		if (empty)
			ent_free_if_empty(c, ino);
	}
	pthread_mutex_unlock(&c->evict_lock);
}

/* --- the table ---------------------------------------------------------- */

static void stripes_lock_all(struct cache *c, bool write)
{
	unsigned int i;

	for (i = 0; i < CACHE_STRIPES; i++) {
		if (write)
			pthread_rwlock_wrlock(&c->stripes[i]);
		else
			pthread_rwlock_rdlock(&c->stripes[i]);
	}
}

static void stripes_unlock_all(struct cache *c)
{
	unsigned int i;

	for (i = CACHE_STRIPES; i-- > 0;)
		pthread_rwlock_unlock(&c->stripes[i]);
}

/* Double the bucket array when chains grow long.  No lock held. */
static void cache_maybe_grow(struct cache *c)
{
	struct cache_ent **nb, *e, *next;
	size_t i, n;

	/* A peek without the locks; the decision is re-made under them. */
	if (atomic_load(&c->inodes) <= atomic_load(&c->grow_at))
		return;
	stripes_lock_all(c, true);
	if (atomic_load(&c->inodes) <= 2 * (uint64_t)c->nbuckets ||
	    c->nbuckets > SIZE_MAX / 2 / sizeof(*nb))
		goto out_unlock;
	n = c->nbuckets * 2;
	nb = calloc(n, sizeof(*nb));
	if (!nb) {
		/* Longer chains, still correct; retry a while later. */
		atomic_store(&c->grow_at,
			     atomic_load(&c->inodes) + c->nbuckets);
		goto out_unlock;
	}
	for (i = 0; i < c->nbuckets; i++) {
		for (e = c->buckets[i]; e; e = next) {
			uint64_t b = ino_hash(e->ino) & (n - 1);

			next = e->hnext;
			e->hnext = nb[b];
			nb[b] = e;
		}
	}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
	atomic_store(&c->grow_at, 2 * (uint64_t)n);
out_unlock:
	stripes_unlock_all(c);
}

/*
 * Unlink every entry, counting an invalidation of each for @why.  Returns
 * the number of mappings dropped.
 */
static uint64_t cache_drop_all(struct cache *c, enum cache_reason why)
{
	struct cache_ent *e, *dead = NULL;
	uint64_t total = 0;
	unsigned int i;
	size_t b;

	for (i = 0; i < CACHE_STRIPES; i++) {
		pthread_rwlock_wrlock(&c->stripes[i]);
		for (b = i; b < c->nbuckets; b += CACHE_STRIPES) {
			while ((e = c->buckets[b])) {
				total += e->nmaps;
				ctr_add(&c->ctr.invalidations, 1);
				ctr_add(&c->ctr.by_reason[why], 1);
				ctr_add(&c->ctr.invalidated_mappings, e->nmaps);
				ev_emit(c, CACHE_EV_INVALIDATE, why, e->ino, 0,
					UINT64_MAX, NULL);
				ent_unlink(c, ino_hash(e->ino), e);
				e->hnext = dead;
				dead = e;
			}
		}
		pthread_rwlock_unlock(&c->stripes[i]);
	}
	while (dead) {
		e = dead;
		dead = e->hnext;
		ent_destroy(e);
	}
	return total;
}

/* Every cached inode number, sorted.  Returns the count or -ENOMEM. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static ssize_t cache_list_inodes(struct cache *c, uint64_t **out)
{
	struct cache_ent *e;
	uint64_t *v;
	size_t n = 0, cap;
	size_t b;

	stripes_lock_all(c, false);
	cap = atomic_load(&c->inodes);
	v = malloc((cap ? cap : 1) * sizeof(*v));
	if (!v) {
		stripes_unlock_all(c);
		return -ENOMEM;
	}
	for (b = 0; b < c->nbuckets; b++)
		for (e = c->buckets[b]; e && n < cap; e = e->hnext)
			v[n++] = e->ino;
	stripes_unlock_all(c);
	qsort(v, n, sizeof(*v), cmp_u64);
	*out = v;
	return (ssize_t)n;
}

/* --- construction ------------------------------------------------------- */

static int limits_check(const struct cache_limits *lim)
{
	if (lim->max_bytes < CACHE_MIN_MAX_BYTES ||
	    lim->inode_max_bytes < CACHE_MIN_INODE_MAX_BYTES ||
	    lim->event_ring < CACHE_MIN_EVENT_RING ||
	    lim->event_ring > CACHE_MAX_EVENT_RING)
		return -EINVAL;
	return 0;
}

struct cache *cache_new(const struct cache_limits *lim, bool enabled,
			cache_source_fn source, void *source_arg)
{
	struct cache_limits def = {
		.max_bytes = CACHE_DEFAULT_MAX_BYTES,
		.inode_max_bytes = CACHE_DEFAULT_INODE_MAX_BYTES,
		.event_ring = CACHE_DEFAULT_EVENT_RING,
	};
	struct cache *c;
	unsigned int i;
	int err = ENOMEM;

	if (!lim)
		lim = &def;
	if (!source || limits_check(lim)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	c->source = source;
	c->source_arg = source_arg;
	c->nbuckets = CACHE_MIN_BUCKETS;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets)
		goto out_free;
	c->ring.size = lim->event_ring;
	c->ring.next_seq = 1;
	c->ring.buf = calloc(c->ring.size, sizeof(*c->ring.buf));
	if (!c->ring.buf)
		goto out_buckets;
	err = pthread_rwlockattr_init(&c->rwattr);
	if (err)
		goto out_ring;
	/* Invalidations and new inodes must not starve behind readers. */
	err = pthread_rwlockattr_setkind_np(&c->rwattr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (err)
		goto out_attr;
	for (i = 0; i < CACHE_STRIPES; i++) {
		err = pthread_rwlock_init(&c->stripes[i], &c->rwattr);
		if (err)
			goto out_stripes;
	}
	err = pthread_mutex_init(&c->switch_lock, NULL);
	if (err)
		goto out_stripes;
	err = pthread_mutex_init(&c->evict_lock, NULL);
	if (err)
		goto out_switch;
	err = pthread_mutex_init(&c->lru_lock, NULL);
	if (err)
		goto out_evict;
	err = pthread_mutex_init(&c->ring.lock, NULL);
	if (err)
		goto out_lru;
	atomic_init(&c->grow_at, 2 * (uint64_t)c->nbuckets);
	atomic_init(&c->enabled, enabled);
	atomic_init(&c->max_bytes, lim->max_bytes);
	atomic_init(&c->inode_max_bytes, lim->inode_max_bytes);
	return c;

out_lru:
	pthread_mutex_destroy(&c->lru_lock);
out_evict:
	pthread_mutex_destroy(&c->evict_lock);
out_switch:
	pthread_mutex_destroy(&c->switch_lock);
out_stripes:
	while (i-- > 0)
		pthread_rwlock_destroy(&c->stripes[i]);
out_attr:
	pthread_rwlockattr_destroy(&c->rwattr);
out_ring:
	free(c->ring.buf);
out_buckets:
	free(c->buckets);
out_free:
	free(c);
out:
	errno = err;
	return NULL;
}

void cache_free(struct cache *c)
{
	struct cache_watch *w;
	struct cache_ent *e;
	unsigned int i;
	size_t b;

	if (!c)
		return;
	/* Watchers left open are the caller's bug; do not leak them. */
	while ((w = dlist_entry(c->ring.watchers.head, struct cache_watch,
				link))) {
		dlist_del(&c->ring.watchers, &w->link);
		close(w->efd);
		free(w);
	}
	for (b = 0; b < c->nbuckets; b++) {
		while ((e = c->buckets[b])) {
			c->buckets[b] = e->hnext;
			ent_destroy(e);
		}
	}
	free(c->buckets);
	free(c->ring.buf);
	pthread_mutex_destroy(&c->ring.lock);
	pthread_mutex_destroy(&c->lru_lock);
	pthread_mutex_destroy(&c->evict_lock);
	pthread_mutex_destroy(&c->switch_lock);
	for (i = 0; i < CACHE_STRIPES; i++)
		pthread_rwlock_destroy(&c->stripes[i]);
	pthread_rwlockattr_destroy(&c->rwattr);
	free(c);
}

/* --- lookup ------------------------------------------------------------- */

/* Ask the source, and refuse an answer that does not contain @off. */
static int source_call(struct cache *c, uint64_t ino, uint64_t off,
		       struct iomap *out)
{
	int ret;

	ctr_add(&c->ctr.source_calls, 1);
	ret = c->source(c->source_arg, ino, off, out);
	if (ret > 0)
		ret = -EIO;
	if (!ret && (iomap_validate(out) || out->offset > off ||
		     iomap_last(out) < off))
		ret = -EIO;
	if (ret)
		ctr_add(&c->ctr.source_errors, 1);
	return ret;
}

/*
 * The entry of @ino, created if there is none (only while caching is on),
 * counted as a lookup that missed; returns its cookie in *cookie.
 */
static int ent_get_for_miss(struct cache *c, uint64_t ino, uint64_t h,
			    uint64_t now, uint64_t *cookie)
{
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e, *n;
	bool grown = false;
	int ret = 0;

	n = ent_alloc(c, ino, now);
	if (!n)
		return -ENOMEM;
	pthread_rwlock_wrlock(s);
	e = ent_find(c, h, ino);
	if (!e) {
		if (!atomic_load(&c->enabled)) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		ent_link(c, h, n);
		e = n;
		n = NULL;
		grown = true;
	}
	ctr_add(&e->ctr.misses, 1);
	atomic_store_explicit(&e->last_use_ns, now, memory_order_relaxed);
	*cookie = e->cookie;
out_unlock:
	pthread_rwlock_unlock(s);
	if (n)
		ent_destroy(n);
	if (grown)
		cache_maybe_grow(c);
	return ret;
}

/* Upsert @m into @ino if its cookie is still @cookie and caching is on. */
static void upsert_checked(struct cache *c, uint64_t ino, uint64_t h,
			   uint64_t cookie, const struct iomap *m,
			   uint64_t now)
{
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e;
	unsigned int merged = 0;

	pthread_rwlock_rdlock(s);
	e = ent_find(c, h, ino);
	if (!e || !atomic_load(&c->enabled))
		goto out_stale;
	pthread_rwlock_wrlock(&e->lock);
	if (e->cookie != cookie) {
		pthread_rwlock_unlock(&e->lock);
		goto out_stale;
	}
	if (!imap_upsert(e->map, m, &merged)) {
		ctr_add(&e->ctr.upserts, 1);
		ctr_add(&c->ctr.upserts, 1);
		ctr_add(&c->ctr.merges, merged);
		ev_emit(c, CACHE_EV_UPSERT, 0, ino, m->offset, m->length, m);
	}
	/* On -ENOMEM the map may have lost mappings: account either way. */
	ent_account(c, e);
	ent_enforce_cap(c, e);
	pthread_rwlock_unlock(&e->lock);
	ent_touch(c, e, now, true);
	pthread_rwlock_unlock(s);
	return;

out_stale:
	ctr_add(&c->ctr.stale_skips, 1);
	pthread_rwlock_unlock(s);
}

int cache_lookup(struct cache *c, uint64_t ino, uint64_t off,
		 struct iomap *out)
{
	uint64_t h = ino_hash(ino), now = lru_clock();
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e;
	struct iomap m;
	uint64_t cookie = 0;
	bool counted = false, have_cookie = false;
	int ret;

	pthread_rwlock_rdlock(s);
	e = ent_find(c, h, ino);
	if (e) {
		pthread_rwlock_rdlock(&e->lock);
		ret = imap_lookup(e->map, off, &m);
		if (!ret && m.offset <= off) {
			ctr_add(&e->ctr.hits, 1);
			pthread_rwlock_unlock(&e->lock);
			ent_touch(c, e, now, false);
			pthread_rwlock_unlock(s);
			*out = m;
			return 0;
		}
		ctr_add(&e->ctr.misses, 1);
		cookie = e->cookie;
		counted = have_cookie = true;
		pthread_rwlock_unlock(&e->lock);
	}
	pthread_rwlock_unlock(s);

	if (!atomic_load(&c->enabled)) {
		/* Caching off: not a miss, just a computation. */
		if (!counted)
			ctr_add(&c->ctr.lookups_other, 1);
		return source_call(c, ino, off, out);
	}
	if (!have_cookie) {
		ret = ent_get_for_miss(c, ino, h, now, &cookie);
		have_cookie = !ret;
		if (ret)
			ctr_add(&c->ctr.lookups_other, 1);
	}
	ctr_add(&c->ctr.misses, 1);
	ret = source_call(c, ino, off, &m);
	if (ret)
		return ret;
	if (have_cookie)
		upsert_checked(c, ino, h, cookie, &m, now);
	*out = m;
	cache_enforce_budget(c);
	return 0;
}

/* --- invalidation ------------------------------------------------------- */

static void count_invalidation(struct cache *c, enum cache_reason why)
{
	ctr_add(&c->ctr.invalidations, 1);
	if ((unsigned int)why < CACHE_R_COUNT)
		ctr_add(&c->ctr.by_reason[why], 1);
}

/*
 * Remove [off, off + len - 1] from @ino and move its cookie.  Returns the
 * mappings removed, or -ENOENT when @ino has no entry (then the call is
 * counted and reported only when @need_entry is false).  Sets *empty when
 * the entry is left without mappings.
 */
static int64_t ent_invalidate(struct cache *c, uint64_t ino, uint64_t off,
			      uint64_t len, enum cache_reason why,
			      bool need_entry, bool *empty)
{
	uint64_t h = ino_hash(ino), n = 0;
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e;

	pthread_rwlock_rdlock(s);
	e = ent_find(c, h, ino);
	if (!e) {
		if (!need_entry) {
			count_invalidation(c, why);
			ev_emit(c, CACHE_EV_INVALIDATE, why, ino, off, len,
				NULL);
		}
		pthread_rwlock_unlock(s);
		return -ENOENT;
	}
	count_invalidation(c, why);
	pthread_rwlock_wrlock(&e->lock);
	if (len) {
		n = ent_count_range(e, off, range_last(off, len));
		if (n)
			imap_remove(e->map, off, len);
	}
	e->cookie = next_cookie(c);
	ctr_add(&e->ctr.invalidations, 1);
	ctr_add(&c->ctr.invalidated_mappings, n);
	ent_account(c, e);
	ev_emit(c, CACHE_EV_INVALIDATE, why, ino, off, len, NULL);
	*empty = !e->nmaps;
	pthread_rwlock_unlock(&e->lock);
	pthread_rwlock_unlock(s);
	return (int64_t)n;
}

void cache_invalidate(struct cache *c, uint64_t ino, uint64_t off,
		      uint64_t len, enum cache_reason why)
{
	bool empty;

	/* The entry stays even when emptied: it keeps the inode's stats. */
	ent_invalidate(c, ino, off, len, why, false, &empty);
}

void cache_forget(struct cache *c, uint64_t ino, enum cache_reason why)
{
	uint64_t h = ino_hash(ino);
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e;

	count_invalidation(c, why);
	pthread_rwlock_wrlock(s);
	e = ent_find(c, h, ino);
	if (e) {
		ctr_add(&c->ctr.invalidated_mappings, e->nmaps);
		ent_unlink(c, h, e);
	}
	ev_emit(c, CACHE_EV_INVALIDATE, why, ino, 0, UINT64_MAX, NULL);
	pthread_rwlock_unlock(s);
	if (e)
		ent_destroy(e);
}

int64_t cache_flush(struct cache *c, uint64_t ino, uint64_t off,
		    uint64_t len)
{
	bool empty = false;
	int64_t n;

	if (!ino)
		return (int64_t)cache_drop_all(c, CACHE_R_FLUSH);
	n = ent_invalidate(c, ino, off, len, CACHE_R_FLUSH, true, &empty);
	if (n >= 0 && empty)
		ent_free_if_empty(c, ino);
	return n;
}

/* --- switch and limits -------------------------------------------------- */

bool cache_set_enabled(struct cache *c, bool on)
{
	bool prev;

	pthread_mutex_lock(&c->switch_lock);
	/*
	 * The flag changes first: a lookup that checks it under a stripe
	 * lock after the sweep below passed that stripe sees it off.
	 */
	prev = atomic_exchange(&c->enabled, on);
	if (prev != on) {
		ev_emit(c, on ? CACHE_EV_ENABLE : CACHE_EV_DISABLE, 0, 0, 0, 0,
			NULL);
		if (!on)
			cache_drop_all(c, CACHE_R_DISABLE);
	}
	pthread_mutex_unlock(&c->switch_lock);
	return prev;
}

bool cache_enabled(struct cache *c)
{
	return atomic_load(&c->enabled);
}

void cache_get_limits(struct cache *c, struct cache_limits *out)
{
	out->max_bytes = atomic_load(&c->max_bytes);
	out->inode_max_bytes = atomic_load(&c->inode_max_bytes);
	pthread_mutex_lock(&c->ring.lock);
	out->event_ring = c->ring.size;
	pthread_mutex_unlock(&c->ring.lock);
}

int cache_set_limits(struct cache *c, const struct cache_limits *lim)
{
	struct cache_ent *e;
	unsigned int i;
	size_t b;
	int ret;

	ret = limits_check(lim);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->switch_lock);
	pthread_mutex_lock(&c->ring.lock);
	ret = ring_resize(&c->ring, lim->event_ring);
	pthread_mutex_unlock(&c->ring.lock);
	if (ret)
		goto out_unlock;
	atomic_store(&c->max_bytes, lim->max_bytes);
	atomic_store(&c->inode_max_bytes, lim->inode_max_bytes);
	for (i = 0; i < CACHE_STRIPES; i++) {
		pthread_rwlock_rdlock(&c->stripes[i]);
		for (b = i; b < c->nbuckets; b += CACHE_STRIPES) {
			for (e = c->buckets[b]; e; e = e->hnext) {
				pthread_rwlock_wrlock(&e->lock);
				ent_enforce_cap(c, e);
				pthread_rwlock_unlock(&e->lock);
			}
		}
		pthread_rwlock_unlock(&c->stripes[i]);
	}
	cache_enforce_budget(c);
out_unlock:
	pthread_mutex_unlock(&c->switch_lock);
	return ret;
}

/* --- statistics --------------------------------------------------------- */

void cache_get_stats(struct cache *c, struct cache_stats *out)
{
	struct cache_ctrs *g = &c->ctr;
	struct cache_ent *e;
	unsigned int i;
	size_t b;

	memset(out, 0, sizeof(*out));
	/* Every stripe: no entry can fold its counts in while we sum. */
	stripes_lock_all(c, false);
	for (b = 0; b < c->nbuckets; b++) {
		for (e = c->buckets[b]; e; e = e->hnext) {
			out->lookups += ctr_get(&e->ctr.hits) +
					ctr_get(&e->ctr.misses);
			out->hits += ctr_get(&e->ctr.hits);
		}
	}
	out->lookups += ctr_get(&g->lookups_other);
	out->hits += ctr_get(&g->hits_other);
	stripes_unlock_all(c);
	out->misses = ctr_get(&g->misses);
	out->source_calls = ctr_get(&g->source_calls);
	out->source_errors = ctr_get(&g->source_errors);
	out->upserts = ctr_get(&g->upserts);
	out->merges = ctr_get(&g->merges);
	out->stale_skips = ctr_get(&g->stale_skips);
	out->invalidations = ctr_get(&g->invalidations);
	for (i = 0; i < CACHE_R_COUNT; i++)
		out->invalidations_by_reason[i] = ctr_get(&g->by_reason[i]);
	out->invalidated_mappings = ctr_get(&g->invalidated_mappings);
	out->evictions = ctr_get(&g->evictions);
	out->events = ctr_get(&g->events);
	out->inodes = atomic_load(&c->inodes);
	out->mappings = atomic_load(&c->mappings);
	out->bytes = atomic_load(&c->bytes);
	out->inodes_hwm = atomic_load(&c->inodes_hwm);
	out->mappings_hwm = atomic_load(&c->mappings_hwm);
	out->bytes_hwm = atomic_load(&c->bytes_hwm);
	out->enabled = atomic_load(&c->enabled);
}

void cache_reset_stats(struct cache *c)
{
	struct cache_ctrs *g = &c->ctr;
	struct cache_ent *e;
	unsigned int i;
	size_t b;

	stripes_lock_all(c, false);
	for (b = 0; b < c->nbuckets; b++) {
		for (e = c->buckets[b]; e; e = e->hnext) {
			ctr_zero(&e->ctr.hits);
			ctr_zero(&e->ctr.misses);
			ctr_zero(&e->ctr.upserts);
			ctr_zero(&e->ctr.invalidations);
			ctr_zero(&e->ctr.evictions);
		}
	}
	ctr_zero(&g->lookups_other);
	ctr_zero(&g->hits_other);
	stripes_unlock_all(c);
	ctr_zero(&g->misses);
	ctr_zero(&g->source_calls);
	ctr_zero(&g->source_errors);
	ctr_zero(&g->upserts);
	ctr_zero(&g->merges);
	ctr_zero(&g->stale_skips);
	ctr_zero(&g->invalidations);
	for (i = 0; i < CACHE_R_COUNT; i++)
		ctr_zero(&g->by_reason[i]);
	ctr_zero(&g->invalidated_mappings);
	ctr_zero(&g->evictions);
	ctr_zero(&g->events);
	atomic_store(&c->inodes_hwm, atomic_load(&c->inodes));
	atomic_store(&c->mappings_hwm, atomic_load(&c->mappings));
	atomic_store(&c->bytes_hwm, atomic_load(&c->bytes));
}

/* Caller holds e->lock (either way). */
static void ent_stats(struct cache_ent *e, struct cache_inode_stats *st)
{
	st->ino = e->ino;
	st->cookie = e->cookie;
	st->hits = ctr_get(&e->ctr.hits);
	st->misses = ctr_get(&e->ctr.misses);
	st->lookups = st->hits + st->misses;
	st->upserts = ctr_get(&e->ctr.upserts);
	st->invalidations = ctr_get(&e->ctr.invalidations);
	st->evictions = ctr_get(&e->ctr.evictions);
	st->mappings = e->nmaps;
	st->bytes = e->mem;
	st->last_use_ns = atomic_load_explicit(&e->last_use_ns,
					       memory_order_relaxed);
}

int cache_get_inode_stats(struct cache *c, uint64_t ino,
			  struct cache_inode_stats *out)
{
	uint64_t h = ino_hash(ino);
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e;
	int ret = -ENOENT;

	pthread_rwlock_rdlock(s);
	e = ent_find(c, h, ino);
	if (e) {
		pthread_rwlock_rdlock(&e->lock);
		ent_stats(e, out);
		pthread_rwlock_unlock(&e->lock);
		ret = 0;
	}
	pthread_rwlock_unlock(s);
	return ret;
}

/* --- dump and audit ----------------------------------------------------- */

/*
 * A private copy of the mappings of @ino overlapping [off, last], its stats
 * and its cookie.  Returns 0, -ENOENT or -ENOMEM; *maps is freed by the
 * caller.
 */
static int ent_snapshot(struct cache *c, uint64_t ino, uint64_t off,
			uint64_t len, struct iomap **maps, size_t *n,
			struct cache_inode_stats *st, uint64_t *cookie)
{
	uint64_t h = ino_hash(ino), last;
	pthread_rwlock_t *s = stripe_of(c, h);
	struct cache_ent *e;
	struct imap_iter it;
	struct iomap *v;
	size_t k = 0;
	int ret = 0;

	pthread_rwlock_rdlock(s);
	e = ent_find(c, h, ino);
	if (!e) {
		ret = -ENOENT;
		goto out_unlock;
	}
	/* Iteration may not run beside imap_lookup(): take it for write. */
	pthread_rwlock_wrlock(&e->lock);
	v = malloc((e->nmaps ? e->nmaps : 1) * sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out_unlock_ent;
	}
	if (len) {
		last = range_last(off, len);
		imap_iter_start(e->map, off, &it);
		while (k < e->nmaps && imap_iter_next(&it, &v[k]) &&
		       v[k].offset <= last)
			k++;
	}
	if (st)
		ent_stats(e, st);
	if (cookie)
		*cookie = e->cookie;
	*maps = v;
	*n = k;
out_unlock_ent:
	pthread_rwlock_unlock(&e->lock);
out_unlock:
	pthread_rwlock_unlock(s);
	return ret;
}

static int dump_one(struct cache *c, uint64_t ino, uint64_t off,
		    uint64_t len, cache_dump_fn fn, void *arg)
{
	struct cache_inode_stats st;
	struct iomap *maps;
	size_t n;
	int ret;

	ret = ent_snapshot(c, ino, off, len, &maps, &n, &st, NULL);
	if (ret)
		return ret;
	ret = fn(arg, &st, maps, n);
	free(maps);
	return ret;
}

int cache_dump(struct cache *c, uint64_t ino, uint64_t off, uint64_t len,
	       cache_dump_fn fn, void *arg)
{
	uint64_t *inos;
	ssize_t n, i;
	int ret = 0;

	if (ino)
		return dump_one(c, ino, off, len, fn, arg);
	n = cache_list_inodes(c, &inos);
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		ret = dump_one(c, inos[i], off, len, fn, arg);
		if (ret == -ENOENT) {
			ret = 0;	/* dropped since the listing */
			continue;
		}
		if (ret)
			break;
	}
	free(inos);
	return ret;
}

/* One difference found, reported once the inode's cookie held still. */
struct audit_diff {
	struct iomap cached;
	struct iomap disk;
};

struct audit_diffs {
	struct audit_diff *v;
	size_t n, cap;
	uint64_t errors;
};

static struct iomap clip(const struct iomap *m, uint64_t from, uint64_t last)
{
	struct iomap r = *m;

	r.offset = from;
	r.length = last - from + 1;
	if (iomap_type_has_addr(m->type))
		r.addr = m->addr + (from - m->offset);
	return r;
}

static int diffs_add(struct audit_diffs *d, const struct iomap *cm,
		     const struct iomap *dm, uint64_t from, uint64_t last)
{
	struct audit_diff *v;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;

		v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].cached = clip(cm, from, last);
	d->v[d->n].disk = clip(dm, from, last);
	d->n++;
	return 0;
}

/*
 * Walk one cached mapping with source lookups until its end, recording
 * every sub-range whose type or device address differs.
 */
static int audit_mapping(struct cache *c, uint64_t ino, const struct iomap *cm,
			 struct audit_diffs *d)
{
	uint64_t pos = cm->offset, last = iomap_last(cm), end;
	struct iomap dm;
	bool same;
	int ret;

	for (;;) {
		if (source_call(c, ino, pos, &dm)) {
			d->errors++;
			return 0;
		}
		end = iomap_last(&dm) < last ? iomap_last(&dm) : last;
		same = dm.type == cm->type;
		if (same && iomap_type_has_addr(cm->type))
			same = cm->addr + (pos - cm->offset) ==
			       dm.addr + (pos - dm.offset);
		if (!same) {
			ret = diffs_add(d, cm, &dm, pos, end);
			if (ret)
				return ret;
		}
		if (end == last)
			return 0;
		pos = end + 1;
	}
}

static int audit_one(struct cache *c, uint64_t ino, cache_audit_fn fn,
		     void *arg, struct cache_audit_summary *sum)
{
	struct audit_diffs d;
	struct iomap *maps;
	struct cache_inode_stats now;
	uint64_t cookie;
	size_t n, i;
	int try, ret;

	for (try = 0; try < CACHE_AUDIT_TRIES; try++) {
		ret = ent_snapshot(c, ino, 0, UINT64_MAX, &maps, &n, NULL,
				   &cookie);
		if (ret == -ENOENT && try)
			return 0;	/* dropped meanwhile: nothing held */
		if (ret)
			return ret;
		memset(&d, 0, sizeof(d));
		for (i = 0; i < n && !ret; i++)
			ret = audit_mapping(c, ino, &maps[i], &d);
		if (ret)
			goto out_free;
		if (cache_get_inode_stats(c, ino, &now) ||
		    now.cookie != cookie) {
			free(d.v);
			free(maps);
			continue;
		}
		sum->inodes++;
		sum->mappings += n;
		sum->errors += d.errors;
		sum->mismatches += d.n;
		for (i = 0; i < d.n && !ret; i++)
			if (fn)
				ret = fn(arg, ino, &d.v[i].cached,
					 &d.v[i].disk);
		goto out_free;
	}
	sum->skipped++;
	return 0;

out_free:
	free(d.v);
	free(maps);
	return ret;
}

int cache_audit(struct cache *c, uint64_t ino, cache_audit_fn fn, void *arg,
		struct cache_audit_summary *sum)
{
	struct cache_audit_summary local;
	uint64_t *inos;
	ssize_t n, i;
	int ret = 0;

	if (!sum)
		sum = &local;
	memset(sum, 0, sizeof(*sum));
	if (ino)
		return audit_one(c, ino, fn, arg, sum);
	n = cache_list_inodes(c, &inos);
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		ret = audit_one(c, inos[i], fn, arg, sum);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
	}
	free(inos);
	return ret;
}

/* --- watchers ----------------------------------------------------------- */

struct cache_watch *cache_watch_open(struct cache *c)
{
	struct cache_ring *r = &c->ring;
	struct cache_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->c = c;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		free(w);
		return NULL;
	}
	pthread_mutex_lock(&r->lock);
	w->pos = r->next_seq;
	w->armed = true;
	r->narmed++;
	dlist_add_head(&r->watchers, &w->link);
	atomic_fetch_add(&r->nwatchers, 1);
	pthread_mutex_unlock(&r->lock);
	return w;
}

int cache_watch_fd(const struct cache_watch *w)
{
	return w->efd;
}

ssize_t cache_watch_read(struct cache_watch *w, struct cache_event *ev,
			 size_t max, uint64_t *lost)
{
	struct cache_ring *r = &w->c->ring;
	uint64_t oldest, missed = 0, avail, k, drain;
	ssize_t rd;

	pthread_mutex_lock(&r->lock);
	oldest = r->next_seq > r->size ? r->next_seq - r->size : 1;
	if (w->pos < oldest) {
		missed = oldest - w->pos;
		w->pos = oldest;
	}
	avail = r->next_seq - w->pos;
	if (avail > max)
		avail = max;
	for (k = 0; k < avail; k++)
		ev[k] = r->buf[(w->pos + k) % r->size];
	w->pos += avail;
	if (w->pos == r->next_seq && !w->armed) {
		/* Caught up: clear the fd and ask for a wake-up. */
		rd = read(w->efd, &drain, sizeof(drain));
		(void)rd;	/* EAGAIN: nothing was signalled */
		w->armed = true;
		r->narmed++;
	}
	pthread_mutex_unlock(&r->lock);
	if (lost)
		*lost = missed;
	return (ssize_t)avail;
}

void cache_watch_close(struct cache_watch *w)
{
	struct cache_ring *r;

	if (!w)
		return;
	r = &w->c->ring;
	pthread_mutex_lock(&r->lock);
	dlist_del(&r->watchers, &w->link);
	if (w->armed)
		r->narmed--;
	atomic_fetch_sub(&r->nwatchers, 1);
	pthread_mutex_unlock(&r->lock);
	close(w->efd);
	free(w);
}
