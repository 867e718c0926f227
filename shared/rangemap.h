/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rangemap.h - the per-inode range map: an ordered set of non-overlapping
 * iomaps keyed by file offset, with O(log n) lookup, upsert and remove.
 *
 * Internally every mapping is a closed interval [start, last], so a mapping
 * that ends at byte 2^64 - 1 never overflows.  Upsert follows the kernel
 * fuse-iomap rule: the new mapping wins, overlapped parts of old mappings
 * are trimmed (or split when the new one falls in their middle), and the
 * result merges with neighbours that are contiguous both in file offset and
 * in device address (or both IOMAP_NULL_ADDR) and have the same type and
 * flags.
 *
 * Every mapping carries a reference bit for CLOCK eviction: imap_lookup()
 * sets it, imap_evict() clears it on its first pass and evicts mappings
 * whose bit is already clear, so the coldest mappings leave first.
 *
 * Locking: a map is not thread-safe.  The caller serializes every call,
 * except that imap_lookup() calls may run concurrently with each other on
 * one map (they only set reference bits, with relaxed atomic stores); no
 * other call may run at the same time as a lookup.
 *
 * Memory: each mapping held costs at most IMAP_BYTES_PER_MAPPING_GOAL bytes
 * on average, counting the tree's internal nodes; imap_mem_bytes() reports
 * what the map really holds.
 */
#ifndef IOMAPFS_RANGEMAP_H
#define IOMAPFS_RANGEMAP_H

#include <stddef.h>
#include <stdint.h>

#include "iomap.h"

/* imap_remove() length meaning "from the offset to the end of the file". */
#define IMAP_TO_EOF UINT64_MAX

#define IMAP_BYTES_PER_MAPPING_GOAL 48

struct imap;

/* A new empty map, or NULL when out of memory. */
struct imap *imap_new(void);

/* Free @map and every mapping in it.  NULL is allowed. */
void imap_free(struct imap *map);

/*
 * Find the mapping that contains byte @off, or else the first mapping after
 * @off.  Returns 0 and fills *out, or -ENOENT when no mapping contains or
 * follows @off.  Sets the mapping's reference bit.
 */
int imap_lookup(const struct imap *map, uint64_t off, struct iomap *out);

/*
 * Insert @m; the new mapping wins over what it overlaps (see above).
 * @m must pass iomap_validate().  Returns 0, -EINVAL for a malformed
 * mapping (the map is unchanged), or -ENOMEM.  On -ENOMEM the map may have
 * lost mappings inside [m->offset, last], but never holds a wrong one.
 * The inserted mapping starts with its reference bit set.
 * When @merged is not NULL it is set to the number of neighbours the new
 * mapping merged with (0, 1 or 2).
 */
int imap_upsert(struct imap *map, const struct iomap *m, unsigned int *merged);

/*
 * Remove bytes [off, off + len - 1] from the map, trimming or splitting
 * mappings that straddle the range.  @len may be IMAP_TO_EOF, or any length
 * that reaches past 2^64 - 1, both meaning "to the end".  len 0 removes
 * nothing.  Returns the number of bytes of mappings removed (>= 0, capped at
 * INT64_MAX), or -ENOMEM when a split could not allocate (then the whole
 * straddling mapping is removed instead, so nothing stale remains, and the
 * call still succeeds: -ENOMEM is never returned with stale data left).
 */
int64_t imap_remove(struct imap *map, uint64_t off, uint64_t len);

/* Remove every mapping. */
void imap_clear(struct imap *map);

/* Number of mappings held. */
size_t imap_count(const struct imap *map);

/* Sum of the lengths of the mappings held, in bytes (saturates). */
uint64_t imap_span_bytes(const struct imap *map);

/* Bytes of memory the map holds, including its tree nodes. */
size_t imap_mem_bytes(const struct imap *map);

/*
 * Iteration in offset order.  Start at the mapping that contains or follows
 * @off.  The map must not change during an iteration.  Iteration does not
 * touch reference bits.
 */
struct imap_iter {
	const struct imap *map;
	const void *node;	/* private */
	unsigned int slot;	/* private */
};

void imap_iter_start(const struct imap *map, uint64_t off,
		     struct imap_iter *it);

/* Returns 1 and fills *out with the next mapping, or 0 at the end. */
int imap_iter_next(struct imap_iter *it, struct iomap *out);

/*
 * Called for each evicted mapping, before it is freed; may be NULL.
 */
typedef void (*imap_evict_fn)(const struct iomap *m, void *arg);

/*
 * Evict up to @nr of the coldest mappings with a CLOCK sweep (the hand
 * position is kept in the map between calls).  A sweep clears set
 * reference bits and evicts clear ones; it stops after two full turns, so
 * it always ends.  Returns the number of mappings evicted.
 */
size_t imap_evict(struct imap *map, size_t nr, imap_evict_fn fn, void *arg);

/*
 * Verify every internal invariant of @map (order, no overlap, canonical
 * merging, tree shape and separators, count, span and memory totals); for
 * tests and debugging.  O(n).  Returns 0, or -EUCLEAN when the map is
 * corrupt.  Same locking as imap_count().
 */
int imap_check(const struct imap *map);

#endif /* IOMAPFS_RANGEMAP_H */
