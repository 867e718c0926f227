/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cache.h - the iomap cache: one global cache holding a range map per inode,
 * with a validity cookie per inode, a memory budget with CLOCK/LRU
 * eviction, statistics, an event ring for watchers and a run-time switch.
 *
 * The cache knows nothing of ext2: it computes mappings it does not hold by
 * calling the source function given to cache_new(), so unit tests can drive
 * it with a fake source.
 *
 * Correctness rule: a mapping computed by the source is inserted only when
 * the inode's cookie has not moved since the computation began.  Every
 * invalidation moves the cookie, even when nothing was cached and even
 * when caching is off, so an invalidation that races a lookup never leaves
 * a stale mapping behind.  Cookies come from one global counter, so an
 * inode dropped and cached again never repeats an old cookie.
 *
 * Locking: the cache has internal locks, held only for short sections and
 * never while the source runs or a dump/audit/watch callback runs.  Lock
 * order for callers: inode I/O lock -> libext2fs lock -> cache internal
 * locks.  The source is called with no cache lock held, so it may take the
 * libext2fs lock.  Every function here is thread-safe.
 *
 * Units: offsets, lengths and memory sizes are bytes; times are
 * nanoseconds.  Functions return 0 or a negative errno unless they say.
 */
#ifndef IOMAPFS_CACHE_H
#define IOMAPFS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iomap.h"

/* Why mappings were invalidated; names come from cache_reason_name(). */
enum cache_reason {
	CACHE_R_WRITE = 0,	/* allocation by a write into a hole */
	CACHE_R_CONVERT,	/* unwritten extent converted to written */
	CACHE_R_EXTEND,		/* file extended past its old EOF */
	CACHE_R_TRUNCATE,	/* truncate or O_TRUNC: new size to EOF */
	CACHE_R_PUNCH,		/* fallocate PUNCH_HOLE */
	CACHE_R_ZERO,		/* fallocate ZERO_RANGE */
	CACHE_R_COLLAPSE,	/* fallocate COLLAPSE_RANGE */
	CACHE_R_INSERT,		/* fallocate INSERT_RANGE */
	CACHE_R_FALLOCATE,	/* fallocate allocating (default, KEEP_SIZE) */
	CACHE_R_UNLINK,		/* last link removed, inode freed */
	CACHE_R_FLUSH,		/* explicit flush (control socket) */
	CACHE_R_DISABLE,	/* caching switched off */
	CACHE_R_COUNT
};

enum cache_event_type {
	CACHE_EV_UPSERT = 0,
	CACHE_EV_INVALIDATE,
	CACHE_EV_EVICT,
	CACHE_EV_ENABLE,
	CACHE_EV_DISABLE,
	CACHE_EV_COMMIT,     /* the journal: a transaction is durable */
	CACHE_EV_CHECKPOINT, /* the journal: committed blocks went home */
	CACHE_EV_COUNT
};

/* Lower-case names ("write", "truncate", ...); NULL when out of range. */
const char *cache_reason_name(unsigned int reason);
/* Lower-case names ("upsert", "invalidate", ...); NULL when out of range. */
const char *cache_event_name(unsigned int type);
/* Parse a reason name; returns the reason or -EINVAL. */
int cache_reason_parse(const char *name);

/* Limits; each has a name (used by the control socket and -o options). */
struct cache_limits {
	uint64_t max_bytes;	  /* "cache_max": global memory budget */
	uint64_t inode_max_bytes; /* "cache_inode_max": per-inode cap */
	uint32_t event_ring;	  /* "event_ring": events the ring holds */
};

#define CACHE_DEFAULT_MAX_BYTES (64ull << 20)
#define CACHE_DEFAULT_INODE_MAX_BYTES (16ull << 20)
#define CACHE_DEFAULT_EVENT_RING 4096u
/* Smallest accepted values; 0 is never a valid limit. */
#define CACHE_MIN_MAX_BYTES 4096ull
#define CACHE_MIN_INODE_MAX_BYTES 1024ull
#define CACHE_MIN_EVENT_RING 16u
#define CACHE_MAX_EVENT_RING (1u << 20)

struct cache_stats {
	/* counters (cache_reset_stats() zeroes them) */
	uint64_t lookups;
	uint64_t hits;
	uint64_t misses;
	uint64_t source_calls;	/* mapping computations by the source */
	uint64_t source_errors;
	uint64_t upserts;
	uint64_t merges;
	uint64_t stale_skips;	/* inserts refused: cookie moved */
	uint64_t invalidations;	/* invalidate calls, by reason below */
	uint64_t invalidations_by_reason[CACHE_R_COUNT];
	uint64_t invalidated_mappings;
	uint64_t evictions;	/* mappings evicted */
	uint64_t events;	/* events emitted to watchers */
	/* gauges */
	uint64_t inodes;
	uint64_t mappings;
	uint64_t bytes;		/* memory held by range maps and inode entries */
	/* high-water marks of the gauges (reset to the current values) */
	uint64_t inodes_hwm;
	uint64_t mappings_hwm;
	uint64_t bytes_hwm;
	bool enabled;
};

struct cache_inode_stats {
	uint64_t ino;
	uint64_t cookie;
	uint64_t lookups;
	uint64_t hits;
	uint64_t misses;
	uint64_t upserts;
	uint64_t invalidations;
	uint64_t evictions;
	uint64_t mappings;
	uint64_t bytes;		/* memory held for this inode */
	uint64_t last_use_ns;	/* CLOCK_MONOTONIC */
};

/* What a journal event says (cache_journal_event()). */
struct cache_event_journal {
	uint32_t tid;	     /* COMMIT: its transaction; CHECKPOINT: the
			      * newest transaction home */
	uint32_t first_tid;  /* CHECKPOINT: the oldest transaction home */
	uint64_t blocks;     /* blocks logged; written home */
	uint64_t revokes;    /* COMMIT: revoke records */
	uint64_t latency_ns; /* how long it took */
	const char *cause;   /* a static name: why it happened */
};

struct cache_event {
	uint64_t seq;		/* global event number, from 1 */
	uint64_t time_ns;	/* CLOCK_REALTIME */
	uint32_t type;		/* enum cache_event_type */
	uint32_t reason;	/* enum cache_reason, for INVALIDATE */
	uint64_t ino;		/* 0 for ENABLE/DISABLE */
	uint64_t offset;	/* range invalidated, or the mapping's */
	uint64_t length;	/* IMAP_TO_EOF style UINT64_MAX = to EOF */
	union {
		struct iomap map; /* UPSERT and EVICT: the mapping */
		struct cache_event_journal jnl; /* COMMIT and CHECKPOINT */
	};
};

/*
 * Computes the mapping of @ino that contains byte @off, from disk.  Returns
 * 0 and fills *out, or -errno.  Called with no cache lock held.
 */
typedef int (*cache_source_fn)(void *arg, uint64_t ino, uint64_t off,
			       struct iomap *out);

struct cache;

/*
 * A new cache.  @lim may be NULL for the defaults.  Returns NULL with errno
 * set (EINVAL for a limit out of range, ENOMEM).
 */
struct cache *cache_new(const struct cache_limits *lim, bool enabled,
			cache_source_fn source, void *source_arg);
void cache_free(struct cache *c);

/*
 * The mapping of @ino that contains byte @off: from the cache on a hit; on
 * a miss (or with caching off) from the source, then upserted unless the
 * inode's cookie moved while the source ran (or caching is off).  The
 * caller holds what keeps the mapping stable while it uses the answer (the
 * inode's I/O lock).  Returns 0, or the source's -errno.  Allocates nothing
 * on a hit.
 */
int cache_lookup(struct cache *c, uint64_t ino, uint64_t off,
		 struct iomap *out);

/*
 * Drop bytes [off, off + len - 1] of @ino (len UINT64_MAX: to EOF) and move
 * the inode's cookie.  Call it after the mapping changed on disk and before
 * the change can be observed.  Always succeeds.
 */
void cache_invalidate(struct cache *c, uint64_t ino, uint64_t off,
		      uint64_t len, enum cache_reason why);

/* Drop every mapping of @ino and its entry (unlink of the last link). */
void cache_forget(struct cache *c, uint64_t ino, enum cache_reason why);

/*
 * Explicit flush: @ino 0 means every inode (then @off/@len are ignored).
 * Returns the number of mappings removed (>= 0), or -ENOENT when @ino is
 * given and not cached.
 */
int64_t cache_flush(struct cache *c, uint64_t ino, uint64_t off,
		    uint64_t len);

/* Switch caching; off empties the cache.  Emits ENABLE/DISABLE events
 * only when the state changes.  Returns the previous state. */
bool cache_set_enabled(struct cache *c, bool on);
bool cache_enabled(struct cache *c);

void cache_get_limits(struct cache *c, struct cache_limits *out);
/* Validate and apply; evicts at once down to the new budget.  -EINVAL when
 * a value is out of range (nothing changes then). */
int cache_set_limits(struct cache *c, const struct cache_limits *lim);

void cache_get_stats(struct cache *c, struct cache_stats *out);
/* Zero the counters; high-water marks restart from the current gauges. */
void cache_reset_stats(struct cache *c);
/* -ENOENT when @ino has no entry. */
int cache_get_inode_stats(struct cache *c, uint64_t ino,
			  struct cache_inode_stats *out);

/*
 * Called once per inode by cache_dump() with a private copy of its
 * mappings that overlap the range (not clipped).  Runs with no lock held.
 * Non-zero stops the dump and becomes its return value.
 */
typedef int (*cache_dump_fn)(void *arg, const struct cache_inode_stats *st,
			     const struct iomap *maps, size_t n);

/*
 * Dump @ino (0: every cached inode, in inode order) restricted to
 * [off, off + len - 1] (len UINT64_MAX: to the end).  Never fills the
 * cache.  Returns 0, -ENOENT when @ino is given and not cached, -ENOMEM, or
 * the callback's value.
 */
int cache_dump(struct cache *c, uint64_t ino, uint64_t off, uint64_t len,
	       cache_dump_fn fn, void *arg);

/* One difference found by an audit: @cached is the cached mapping (clipped
 * to the differing part), @disk what the source says there. */
typedef int (*cache_audit_fn)(void *arg, uint64_t ino,
			      const struct iomap *cached,
			      const struct iomap *disk);

struct cache_audit_summary {
	uint64_t inodes;	/* inodes audited */
	uint64_t mappings;	/* cached mappings compared */
	uint64_t mismatches;	/* differences reported */
	uint64_t skipped;	/* inodes that kept changing; not judged */
	uint64_t errors;	/* source errors while auditing */
};

/*
 * Compare every cached mapping of @ino (0: every inode) with the source,
 * byte for byte in type and address (flags are not compared).  Reports
 * each difference through @fn (may be NULL).  Never fills the cache.
 * Snapshots under the cache lock, asks the source with no lock held, and
 * re-checks the cookie: an inode that changed meanwhile is retried, then
 * counted as skipped.  Returns 0, -ENOENT for an uncached @ino, or the
 * callback's non-zero value.
 */
int cache_audit(struct cache *c, uint64_t ino, cache_audit_fn fn, void *arg,
		struct cache_audit_summary *sum);

/*
 * Watchers.  Events are recorded in a bounded ring only while at least one
 * watcher exists; emitting never blocks and never makes a system call
 * unless a watcher is waiting.  A watcher that falls behind loses the
 * oldest events and is told how many.
 */
struct cache_watch;

/* NULL with errno set on failure. */
struct cache_watch *cache_watch_open(struct cache *c);
/* A file descriptor that polls readable while events are pending. */
int cache_watch_fd(const struct cache_watch *w);
/*
 * Copy up to @max pending events to @ev.  Returns how many (0 when none),
 * and sets *lost to the events this watcher missed since its last read.
 */
ssize_t cache_watch_read(struct cache_watch *w, struct cache_event *ev,
			 size_t max, uint64_t *lost);
void cache_watch_close(struct cache_watch *w);

/*
 * Hand an event of the journal (@type CACHE_EV_COMMIT or
 * CACHE_EV_CHECKPOINT, described by @jnl, whose cause must be a static
 * string) to the watchers, in the same ring and sequence as the cache's
 * own events.  Never blocks beyond the ring lock (innermost): may be
 * called with any other lock held.
 */
void cache_journal_event(struct cache *c, unsigned int type,
			 const struct cache_event_journal *jnl);

#endif /* IOMAPFS_CACHE_H */
