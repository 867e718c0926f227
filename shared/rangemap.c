// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rangemap.c - the per-inode range map as a B+tree keyed by the first byte
 * of each mapping.  Leaves hold the mappings as packed parallel arrays
 * (no per-mapping allocation) in a wide layout (26 bytes a mapping) or a
 * compact one (14 bytes, 32-bit offsets from a base; see struct
 * imap_leaf), inner nodes hold separator keys and child pointers, and the
 * leaves are linked in offset order for iteration and for the CLOCK hand.
 * A map with one leaf grows that leaf in powers of two, so a small file's
 * map costs little.  A full leaf first shares entries with a sibling, so
 * leaves stay well filled (about 31 bytes of memory a mapping after random
 * inserts, 27 after sequential ones).
 *
 * Invariants (imap_check() verifies all of them):
 * - entries are sorted by start and never overlap; start <= last;
 * - every leaf is at the same depth; a non-root leaf or inner node is
 *   never empty, and an inner node has at least two children unless it
 *   is being rebalanced;
 * - separator rule S: key[i] of an inner node lies strictly above the last
 *   byte of every mapping under child[i] and at or below the start of
 *   every mapping under child[i + 1].  So a descent for byte X always ends
 *   in the one leaf that can contain X, and the mapping that follows X is
 *   in that leaf or first in the next one.  In-place changes of a start or
 *   last move the nearest separator on the path when they must.
 * - the map is canonical: no two adjacent mappings could merge (except
 *   when the merged mapping would cover all 2^64 bytes, which an iomap
 *   cannot express).
 *
 * Allocation happens only when an entry is inserted, and every node an
 * insertion needs is allocated before the tree is touched, so a failed
 * allocation never leaves a half-split tree.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "rangemap.h"

/*
 * Entries a full leaf holds; non-root leaves always have this capacity.
 * Tests build a variant with tiny nodes (IMAP_LEAF_MAX=4, IMAP_INNER_MAX=4)
 * to exercise deep trees with few mappings.  Both must be >= 4.
 */
#ifndef IMAP_LEAF_MAX
#define IMAP_LEAF_MAX 64
#endif
#define LEAF_MAX IMAP_LEAF_MAX
#define LEAF_MIN (LEAF_MAX / 2)
/* Children of an inner node. */
#ifndef IMAP_INNER_MAX
#define IMAP_INNER_MAX 64
#endif
#define INNER_MAX IMAP_INNER_MAX
#define INNER_MIN (INNER_MAX / 2)
_Static_assert(LEAF_MAX >= 4 && INNER_MAX >= 4, "nodes too small");
/*
 * Deepest tree.  Inner nodes other than the root keep at least INNER_MIN
 * children and leaves other than a lone root hold at least one mapping,
 * so 2^64 mappings need at most 64 levels even with the smallest nodes.
 */
#define MAX_HEIGHT 64

#define META_TYPE_BITS 3
#define META_TYPE_MASK ((1u << META_TYPE_BITS) - 1)

/*
 * A leaf holds its mappings in one of two layouts in the same allocation:
 *
 * wide:    u64 start[cap], u8 ref[cap], u8 meta[cap], {u64 last, addr}[cap]
 * compact: u32 key[cap],   u8 ref[cap], u8 meta[cap], {u32 last, addr}[cap]
 *
 * A compact leaf stores start and last relative to kbase and addr relative
 * to abase, so 14 bytes a mapping instead of 26; a random lookup then
 * touches half as much memory and a big map keeps far more of itself in
 * the CPU caches.  Only full-size leaves (cap == LEAF_MAX) are compact, so
 * a compact leaf can always be widened in place, without allocating, when
 * a value it must hold does not fit (leaf_widen()).  Structural changes
 * re-pack leaves (leaf_pack()).  The keys and the ref/meta bytes come
 * first, so that a search and a hit read few cache lines.
 * meta = type | flags << META_TYPE_BITS.
 */
struct imap_leaf {
	uint16_t count;
	uint16_t cap;
	uint8_t compact;
	struct imap_leaf *prev, *next;
	uint64_t kbase, abase;		/* compact only */
	uint64_t data[];
};

/* The rest of a mapping in a wide leaf. */
struct imap_rec {
	uint64_t last;
	uint64_t addr;		/* IOMAP_NULL_ADDR for types without */
};

/* ... and in a compact leaf: last - kbase, addr - abase (0 for none). */
struct imap_crec {
	uint32_t last;
	uint32_t addr;
};

struct imap_inner {
	uint16_t count;			/* children */
	uint64_t key[INNER_MAX - 1];	/* key[i]: child i | child i + 1 */
	void *child[INNER_MAX];
};

struct imap {
	void *root;		/* NULL when empty */
	unsigned int height;	/* inner levels above the leaves */
	size_t count;
	unsigned __int128 span;	/* exact: at most 2^64 */
	size_t mem;
	uint64_t hand;		/* CLOCK hand: next offset to examine */
};

/* One mapping as the tree code moves it around. */
struct ient {
	uint64_t start, last, addr;
	uint8_t ref, meta;
};

/* A root-to-leaf path; pos is the last entry with start <= key, or -1. */
struct ipath {
	struct imap_inner *node[MAX_HEIGHT];
	unsigned int idx[MAX_HEIGHT];
	struct imap_leaf *leaf;
	int pos;
};

/*
 * What glibc's malloc really uses for a request of @n bytes (chunk header
 * and 16-byte rounding), so imap_mem_bytes() is honest.
 */
static size_t alloc_cost(size_t n)
{
	size_t c = (n + sizeof(size_t) + 15) & ~(size_t)15;

	return c < 32 ? 32 : c;
}

#ifdef IMAP_FAULT_INJECTION
/*
 * Tests only (a test build compiles this file with the macro): when >= 0,
 * the number of allocations that still succeed before one fails.
 */
long imap_fault_countdown = -1;

static void *imap_zalloc(size_t n)
{
	if (imap_fault_countdown == 0)
		return NULL;
	if (imap_fault_countdown > 0)
		imap_fault_countdown--;
	return calloc(1, n);
}
#else
static void *imap_zalloc(size_t n)
{
	return calloc(1, n);
}
#endif

static size_t leaf_size(unsigned int cap)
{
	return sizeof(struct imap_leaf) + cap * sizeof(uint64_t) +
	       ((cap * 2u + 7) & ~7u) + cap * sizeof(struct imap_rec);
}

static inline uint64_t *lf_wkey(const struct imap_leaf *l)
{
	return (uint64_t *)l->data;
}

static inline uint32_t *lf_ckey(const struct imap_leaf *l)
{
	return (uint32_t *)l->data;
}

static inline uint8_t *lf_ref(const struct imap_leaf *l)
{
	return (uint8_t *)l->data +
	       (size_t)l->cap * (l->compact ? sizeof(uint32_t) :
					      sizeof(uint64_t));
}

static inline uint8_t *lf_meta(const struct imap_leaf *l)
{
	return lf_ref(l) + l->cap;
}

/* Records follow ref and meta, 8-byte aligned. */
static inline void *lf_recs(const struct imap_leaf *l)
{
	return lf_ref(l) + (((size_t)l->cap * 2 + 7) & ~(size_t)7);
}

static inline struct imap_rec *lf_wrec(const struct imap_leaf *l)
{
	return lf_recs(l);
}

static inline struct imap_crec *lf_crec(const struct imap_leaf *l)
{
	return lf_recs(l);
}

static inline uint64_t lf_start(const struct imap_leaf *l, unsigned int i)
{
	return l->compact ? l->kbase + lf_ckey(l)[i] : lf_wkey(l)[i];
}

static inline uint64_t lf_last(const struct imap_leaf *l, unsigned int i)
{
	return l->compact ? l->kbase + lf_crec(l)[i].last :
			    lf_wrec(l)[i].last;
}

static struct imap_leaf *leaf_alloc(struct imap *map, unsigned int cap)
{
	/*
	 * Zeroed: leaf_widen() converts every slot, also ones not in use
	 * yet, and those must not be uninitialized memory.
	 */
	struct imap_leaf *l = imap_zalloc(leaf_size(cap));

	if (!l)
		return NULL;
	l->count = 0;
	l->cap = (uint16_t)cap;
	l->compact = 0;
	l->prev = l->next = NULL;
	map->mem += alloc_cost(leaf_size(cap));
	return l;
}

static void leaf_free(struct imap *map, struct imap_leaf *l)
{
	map->mem -= alloc_cost(leaf_size(l->cap));
	free(l);
}

static struct imap_inner *inner_alloc(struct imap *map)
{
	struct imap_inner *n = imap_zalloc(sizeof(*n));

	if (!n)
		return NULL;
	n->count = 0;
	map->mem += alloc_cost(sizeof(*n));
	return n;
}

static void inner_free(struct imap *map, struct imap_inner *n)
{
	map->mem -= alloc_cost(sizeof(*n));
	free(n);
}

static inline unsigned __int128 span_of(uint64_t start, uint64_t last)
{
	return (unsigned __int128)(last - start) + 1;
}

static inline bool meta_has_addr(uint8_t meta)
{
	return iomap_type_has_addr(meta & META_TYPE_MASK);
}

static inline void ent_get(const struct imap_leaf *l, unsigned int i,
			   struct ient *e)
{
	e->ref = lf_ref(l)[i];
	e->meta = lf_meta(l)[i];
	if (l->compact) {
		const struct imap_crec *r = &lf_crec(l)[i];

		e->start = l->kbase + lf_ckey(l)[i];
		e->last = l->kbase + r->last;
		e->addr = meta_has_addr(e->meta) ? l->abase + r->addr :
						   IOMAP_NULL_ADDR;
	} else {
		e->start = lf_wkey(l)[i];
		e->last = lf_wrec(l)[i].last;
		e->addr = lf_wrec(l)[i].addr;
	}
}

/* Whether compact leaf @l can hold @e. */
static bool ent_fits(const struct imap_leaf *l, const struct ient *e)
{
	if (e->start < l->kbase || e->last - l->kbase > UINT32_MAX)
		return false;
	return !meta_has_addr(e->meta) ||
	       (e->addr >= l->abase && e->addr - l->abase <= UINT32_MAX);
}

static void ent_put_raw(struct imap_leaf *l, unsigned int i,
			const struct ient *e)
{
	lf_ref(l)[i] = e->ref;
	lf_meta(l)[i] = e->meta;
	if (l->compact) {
		struct imap_crec *r = &lf_crec(l)[i];

		lf_ckey(l)[i] = (uint32_t)(e->start - l->kbase);
		r->last = (uint32_t)(e->last - l->kbase);
		r->addr = meta_has_addr(e->meta) ?
			  (uint32_t)(e->addr - l->abase) : 0;
	} else {
		lf_wkey(l)[i] = e->start;
		lf_wrec(l)[i].last = e->last;
		lf_wrec(l)[i].addr = e->addr;
	}
}

/*
 * Turn compact leaf @l wide, in place.  Every slot is converted, not only
 * the first count: callers may be in the middle of moving entries.
 */
static void leaf_widen(struct imap_leaf *l)
{
	struct ient tmp[LEAF_MAX];
	unsigned int i;

	if (!l->compact)
		return;
	for (i = 0; i < l->cap; i++)
		ent_get(l, i, &tmp[i]);
	l->compact = 0;
	for (i = 0; i < l->cap; i++)
		ent_put_raw(l, i, &tmp[i]);
}

static void ent_put(struct imap_leaf *l, unsigned int i, const struct ient *e)
{
	if (l->compact && !ent_fits(l, e))
		leaf_widen(l);
	ent_put_raw(l, i, e);
}

/*
 * Make wide full-size leaf @l compact when all its mappings fit 32-bit
 * offsets from its first start and its lowest address; else leave it as
 * it is.  A compact leaf stays as it is: its bases still fit.
 */
static void leaf_pack(struct imap_leaf *l)
{
	struct ient tmp[LEAF_MAX];
	uint64_t abase = UINT64_MAX;
	unsigned int i;

	if (l->compact || l->cap != LEAF_MAX || !l->count)
		return;
	for (i = 0; i < l->count; i++) {
		ent_get(l, i, &tmp[i]);
		if (meta_has_addr(tmp[i].meta) && tmp[i].addr < abase)
			abase = tmp[i].addr;
	}
	if (tmp[l->count - 1].last - tmp[0].start > UINT32_MAX)
		return;
	if (abase == UINT64_MAX)
		abase = 0;
	for (i = 0; i < l->count; i++)
		if (meta_has_addr(tmp[i].meta) &&
		    tmp[i].addr - abase > UINT32_MAX)
			return;
	l->compact = 1;
	l->kbase = tmp[0].start;
	l->abase = abase;
	for (i = 0; i < l->count; i++)
		ent_put_raw(l, i, &tmp[i]);
}

/*
 * Store @e in slot @i of @l, whose first count slots are all live: a
 * compact leaf that cannot hold @e is re-packed around it (new bases)
 * rather than left wide.
 */
static void ent_update(struct imap_leaf *l, unsigned int i,
		       const struct ient *e)
{
	bool repack = l->compact && !ent_fits(l, e);

	ent_put(l, i, e);
	if (repack)
		leaf_pack(l);
}

/* Move @n entries from @src at @si to @dst at @di (may be one leaf). */
static void ent_move(struct imap_leaf *dst, unsigned int di,
		     const struct imap_leaf *src, unsigned int si,
		     unsigned int n)
{
	struct ient e;
	unsigned int i;
	size_t ksz;

	if (!n)
		return;
	if (dst != src) {
		/* Distinct leaves never overlap; layouts may differ. */
		for (i = 0; i < n; i++) {
			ent_get(src, si + i, &e);
			ent_put(dst, di + i, &e);
		}
		return;
	}
	ksz = dst->compact ? sizeof(uint32_t) : sizeof(uint64_t);
	memmove((char *)dst->data + di * ksz, (char *)dst->data + si * ksz,
		n * ksz);
	if (dst->compact)
		memmove(lf_crec(dst) + di, lf_crec(dst) + si,
			n * sizeof(struct imap_crec));
	else
		memmove(lf_wrec(dst) + di, lf_wrec(dst) + si,
			n * sizeof(struct imap_rec));
	memmove(lf_ref(dst) + di, lf_ref(dst) + si, n);
	memmove(lf_meta(dst) + di, lf_meta(dst) + si, n);
}

static inline void ent_to_iomap(const struct ient *e, struct iomap *out)
{
	out->offset = e->start;
	out->length = e->last - e->start + 1;
	out->addr = e->addr;
	out->type = e->meta & META_TYPE_MASK;
	out->flags = e->meta >> META_TYPE_BITS;
}

static bool has_addr(const struct ient *e)
{
	return meta_has_addr(e->meta);
}

/* Device address of byte @off inside @e (which has an address). */
static uint64_t addr_at(const struct ient *e, uint64_t off)
{
	return e->addr + (off - e->start);
}

/*
 * Whether @a, immediately followed by @b in the file, may become one
 * mapping: same type and flags, device addresses contiguous (or none),
 * and the result expressible as an iomap (not all 2^64 bytes).
 */
static bool mergeable(const struct ient *a, const struct ient *b)
{
	uint64_t end;

	if (a->meta != b->meta || a->last == UINT64_MAX ||
	    a->last + 1 != b->start)
		return false;
	if (a->start == 0 && b->last == UINT64_MAX)
		return false;
	if (!has_addr(a))
		return true;
	end = addr_at(a, a->last);
	return end != UINT64_MAX && end + 1 == b->addr;
}

/*
 * Number of the @n sorted values in @a that are <= @key, in two
 * branch-free scans: the last key of each block of eight says how many
 * blocks lie wholly at or below @key, then a scan of the next block
 * finishes the count.  About 16 comparisons for 64 keys, independent of
 * each other within a scan, and no branch that depends on the data, so
 * random lookups do not mispredict.  Measured faster here than branchy
 * or branch-free bisection and than a full scan.
 */
#define COUNT_LE_BLOCKED(name, type)					\
static inline unsigned int name(const type *a, unsigned int n, type key) \
{									\
	unsigned int blocks = n / 8, base = 0, c = 0, b, j, end;	\
									\
	for (b = 0; b < blocks; b++)					\
		base += 8u * (a[b * 8 + 7] <= key);			\
	end = base + 8 < n ? base + 8 : n;				\
	for (j = base; j < end; j++)					\
		c += a[j] <= key;					\
	return base + c;						\
}
COUNT_LE_BLOCKED(count_le_blk, uint64_t)
COUNT_LE_BLOCKED(count_le32_blk, uint32_t)

/* The child of @n to descend into for @key. */
static inline unsigned int inner_slot(const struct imap_inner *n,
				      uint64_t key)
{
	return count_le_blk(n->key, n->count - 1u, key);
}

/* Keys of compact leaf @l that are <= @key. */
static inline unsigned int ckey_count_le(const struct imap_leaf *l,
					 uint64_t key)
{
	if (key < l->kbase)
		return 0;
	if (key - l->kbase > UINT32_MAX)
		return l->count;
	return count_le32_blk(lf_ckey(l), l->count,
			      (uint32_t)(key - l->kbase));
}

/* Index of the last entry with start <= @key, or -1. */
static inline int leaf_slot(const struct imap_leaf *l, uint64_t key)
{
	if (l->compact)
		return (int)ckey_count_le(l, key) - 1;
	return (int)count_le_blk(lf_wkey(l), l->count, key) - 1;
}

/* Fill @p for @key.  p->leaf is NULL when the map is empty. */
static void descend(const struct imap *map, uint64_t key, struct ipath *p)
{
	void *n = map->root;
	unsigned int lvl;

	for (lvl = 0; lvl < map->height; lvl++) {
		struct imap_inner *in = n;
		unsigned int i = inner_slot(in, key);

		p->node[lvl] = in;
		p->idx[lvl] = i;
		n = in->child[i];
	}
	p->leaf = n;
	p->pos = n ? leaf_slot(n, key) : -1;
}

/*
 * Point @p at the mapping that contains @off or else follows it.  Returns
 * false when there is none.  The path stays usable for changes.
 */
static bool seek(const struct imap *map, uint64_t off, struct ipath *p)
{
	struct imap_leaf *l;

	descend(map, off, p);
	l = p->leaf;
	if (!l)
		return false;
	if (p->pos >= 0 && lf_last(l, p->pos) >= off)
		return true;
	if (p->pos + 1 < l->count) {
		p->pos++;
		return true;
	}
	if (!l->next)
		return false;
	descend(map, lf_start(l->next, 0), p);
	return true;
}

/*
 * Keep rule S when the entry at @p gets last byte @last: the nearest
 * separator above the leaf must stay above it.
 */
static void fix_upper(const struct imap *map, struct ipath *p, uint64_t last)
{
	unsigned int lvl = map->height;

	/* Nothing can follow a mapping that ends at 2^64 - 1: no separator. */
	if (last == UINT64_MAX)
		return;

	while (lvl-- > 0) {
		struct imap_inner *n = p->node[lvl];

		if (p->idx[lvl] + 1u < n->count) {
			if (n->key[p->idx[lvl]] <= last)
				n->key[p->idx[lvl]] = last + 1;
			return;
		}
	}
}

/* Keep rule S when the entry at @p gets first byte @start. */
static void fix_lower(const struct imap *map, struct ipath *p, uint64_t start)
{
	unsigned int lvl = map->height;

	while (lvl-- > 0) {
		struct imap_inner *n = p->node[lvl];

		if (p->idx[lvl] > 0) {
			if (n->key[p->idx[lvl] - 1] > start)
				n->key[p->idx[lvl] - 1] = start;
			return;
		}
	}
}

struct imap *imap_new(void)
{
	struct imap *map = imap_zalloc(sizeof(*map));

	if (!map)
		return NULL;
	map->mem = alloc_cost(sizeof(*map));
	return map;
}

static void free_subtree(struct imap *map, void *n, unsigned int height)
{
	if (height) {
		struct imap_inner *in = n;
		unsigned int i;

		for (i = 0; i < in->count; i++)
			free_subtree(map, in->child[i], height - 1);
		inner_free(map, in);
	} else {
		leaf_free(map, n);
	}
}

void imap_clear(struct imap *map)
{
	if (!map)
		return;
	if (map->root)
		free_subtree(map, map->root, map->height);
	map->root = NULL;
	map->height = 0;
	map->count = 0;
	map->span = 0;
	map->hand = 0;
}

void imap_free(struct imap *map)
{
	if (!map)
		return;
	imap_clear(map);
	free(map);
}

size_t imap_count(const struct imap *map)
{
	return map->count;
}

uint64_t imap_span_bytes(const struct imap *map)
{
	return map->span > UINT64_MAX ? UINT64_MAX : (uint64_t)map->span;
}

size_t imap_mem_bytes(const struct imap *map)
{
	return map->mem;
}

/* Start fetching the first @bytes of a node before searching it. */
static inline void prefetch_node(const void *n, size_t bytes)
{
	const char *p = n;
	size_t i;

	for (i = 0; i < bytes; i += 64)
		__builtin_prefetch(p + i);
}

int imap_lookup(const struct imap *map, uint64_t off, struct iomap *out)
{
	const struct imap_leaf *l;
	const void *n = map->root;
	unsigned int h;
	uint8_t *ref;
	struct ient e;
	int pos;

	if (!n)
		return -ENOENT;
	/*
	 * No path is recorded: this is the hot read path.  Each inner node
	 * and the compact part of the leaf are prefetched whole, so a cold
	 * node costs one memory latency rather than one per search step.
	 */
	for (h = map->height; h; h--) {
		const struct imap_inner *in = n;

		n = in->child[inner_slot(in, off)];
		prefetch_node(n, h > 1 ? sizeof(struct imap_inner) :
				     sizeof(struct imap_leaf) + LEAF_MAX *
				     (sizeof(uint32_t) + 2 +
				      sizeof(struct imap_crec)));
	}
	l = n;
	pos = leaf_slot(l, off);
	if (pos < 0 || lf_last(l, pos) < off) {
		if (++pos >= l->count) {
			l = l->next;
			pos = 0;
			if (!l)
				return -ENOENT;
		}
	}
	ent_get(l, (unsigned int)pos, &e);
	ent_to_iomap(&e, out);
	/*
	 * Lookups may run concurrently with each other: they only ever set
	 * the byte to 1, and skip the store when it is set already so that
	 * hot leaves stay shared in every CPU's cache.
	 */
	ref = &lf_ref(l)[pos];
	if (!__atomic_load_n(ref, __ATOMIC_RELAXED))
		__atomic_store_n(ref, 1, __ATOMIC_RELAXED);
	return 0;
}

/* --- insertion ---------------------------------------------------------- */

/*
 * Spread the entries of neighbour leaves @a and @b (a before b), plus @e
 * at position @pos of their joint sequence, evenly over both.  They must
 * have room for it.  The caller moves the separator between them to b's
 * new first start: everything left of it then ends below it (no overlap).
 */
static void leaf_share(struct imap_leaf *a, struct imap_leaf *b,
		       const struct ient *e, unsigned int pos)
{
	union {
		struct imap_leaf l;
		uint64_t words[(sizeof(struct imap_leaf) + 2 * LEAF_MAX *
				(sizeof(uint64_t) + 2 +
				 sizeof(struct imap_rec))) /
			       sizeof(uint64_t) + 1];
	} tmp;
	struct imap_leaf *t = &tmp.l;
	unsigned int total = a->count + b->count + 1u, na = total / 2;

	t->cap = 2 * LEAF_MAX;
	t->compact = 0;
	ent_move(t, 0, a, 0, pos < a->count ? pos : a->count);
	if (pos < a->count) {
		ent_move(t, pos + 1, a, pos, a->count - pos);
		ent_move(t, a->count + 1u, b, 0, b->count);
	} else {
		ent_move(t, a->count, b, 0, pos - a->count);
		ent_move(t, pos + 1, b, pos - a->count,
			 b->count - (pos - a->count));
	}
	ent_put(t, pos, e);
	ent_move(a, 0, t, 0, na);
	ent_move(b, 0, t, na, total - na);
	a->count = (uint16_t)na;
	b->count = (uint16_t)(total - na);
	leaf_pack(a);
	leaf_pack(b);
}

/*
 * Insert @e after p->pos in p->leaf (p from descend(e->start); @e must not
 * overlap anything).  Allocates every node the insertion needs first, so
 * on -ENOMEM the map is unchanged.
 */
static int tree_insert(struct imap *map, struct ipath *p, const struct ient *e)
{
	struct imap_inner *spare[MAX_HEIGHT + 1];
	struct imap_leaf *l = p->leaf, *r;
	unsigned int nspare = 0, need = 0, ins, m, lvl;
	bool grown = false;
	uint64_t sep;
	void *child;

	if (!l) {
		l = leaf_alloc(map, 1);
		if (!l)
			return -ENOMEM;
		map->root = l;
		map->height = 0;
		p->leaf = l;
		p->pos = -1;
	}
	if (l->count == l->cap && l->cap < LEAF_MAX) {
		/* Only a root leaf is small: grow it. */
		unsigned int cap = l->cap * 2u;
		struct imap_leaf *g;

		g = leaf_alloc(map, cap < LEAF_MAX ? cap : LEAF_MAX);
		if (!g)
			return -ENOMEM;
		ent_move(g, 0, l, 0, l->count);
		g->count = l->count;
		leaf_free(map, l);
		map->root = g;
		l = p->leaf = g;
		grown = true;
	}
	fix_upper(map, p, e->last);
	ins = (unsigned int)(p->pos + 1);
	if (l->count < l->cap) {
		bool repack = grown || (l->compact && !ent_fits(l, e));

		ent_move(l, ins + 1, l, ins, l->count - ins);
		ent_put(l, ins, e);
		l->count++;
		if (repack)
			leaf_pack(l);
		goto out_account;
	}

	/*
	 * Full leaf: share with a sibling that has room, so that random
	 * inserts fill leaves well beyond half before any split.
	 */
	if (map->height) {
		struct imap_inner *parent = p->node[map->height - 1];
		unsigned int i = p->idx[map->height - 1];
		struct imap_leaf *sib;

		sib = i > 0 ? parent->child[i - 1] : NULL;
		if (sib && sib->count < LEAF_MAX) {
			leaf_share(sib, l, e, sib->count + ins);
			parent->key[i - 1] = lf_start(l, 0);
			goto out_account;
		}
		sib = i + 1u < parent->count ? parent->child[i + 1] : NULL;
		if (sib && sib->count < LEAF_MAX) {
			leaf_share(l, sib, e, ins);
			parent->key[i] = lf_start(sib, 0);
			goto out_account;
		}
	}

	/* Full leaf: count the inner nodes that will split, allocate all. */
	lvl = map->height;
	while (lvl > 0 && p->node[lvl - 1]->count == INNER_MAX) {
		need++;
		lvl--;
	}
	if (lvl == 0)
		need++;		/* a new root */
	r = leaf_alloc(map, LEAF_MAX);
	if (!r)
		return -ENOMEM;
	for (nspare = 0; nspare < need; nspare++) {
		spare[nspare] = inner_alloc(map);
		if (!spare[nspare])
			goto out_free_spare;
	}

	/*
	 * Split.  Appending past the last leaf, or prepending before the
	 * first, leaves the old leaf full: sequential fills stay dense.
	 */
	if (ins == l->count && !l->next)
		m = l->count;
	else if (ins == 0 && !l->prev)
		m = 0;
	else
		m = l->count / 2;
	ent_move(r, 0, l, m, l->count - m);
	r->count = (uint16_t)(l->count - m);
	l->count = (uint16_t)m;
	if (ins < m || (ins == m && m < LEAF_MAX)) {
		ent_move(l, ins + 1, l, ins, l->count - ins);
		ent_put(l, ins, e);
		l->count++;
	} else {
		ins -= m;
		ent_move(r, ins + 1, r, ins, r->count - ins);
		ent_put(r, ins, e);
		r->count++;
	}
	r->next = l->next;
	r->prev = l;
	if (l->next)
		l->next->prev = r;
	l->next = r;
	leaf_pack(l);
	leaf_pack(r);
	sep = lf_start(r, 0);
	child = r;

	/* Push (sep, child) up, splitting full inner nodes. */
	lvl = map->height;
	while (lvl > 0) {
		struct imap_inner *n = p->node[lvl - 1], *nr;
		uint64_t keys[INNER_MAX];
		void *kids[INNER_MAX + 1];
		unsigned int at = p->idx[lvl - 1] + 1, total, half;

		if (n->count < INNER_MAX) {
			memmove(&n->child[at + 1], &n->child[at],
				(n->count - at) * sizeof(void *));
			memmove(&n->key[at], &n->key[at - 1],
				(n->count - at) * sizeof(uint64_t));
			n->child[at] = child;
			n->key[at - 1] = sep;
			n->count++;
			goto out_free_unused;
		}
		memcpy(kids, n->child, at * sizeof(void *));
		kids[at] = child;
		memcpy(kids + at + 1, n->child + at,
		       (n->count - at) * sizeof(void *));
		memcpy(keys, n->key, (at - 1) * sizeof(uint64_t));
		keys[at - 1] = sep;
		memcpy(keys + at, n->key + (at - 1),
		       (n->count - at) * sizeof(uint64_t));
		total = n->count + 1u;
		half = total / 2;
		nr = spare[--nspare];
		memcpy(n->child, kids, half * sizeof(void *));
		memcpy(n->key, keys, (half - 1) * sizeof(uint64_t));
		n->count = (uint16_t)half;
		memcpy(nr->child, kids + half, (total - half) * sizeof(void *));
		memcpy(nr->key, keys + half,
		       (total - half - 1) * sizeof(uint64_t));
		nr->count = (uint16_t)(total - half);
		sep = keys[half - 1];
		child = nr;
		lvl--;
	}
	/* The root split: a new root above it. */
	{
		struct imap_inner *root = spare[--nspare];

		root->child[0] = map->root;
		root->child[1] = child;
		root->key[0] = sep;
		root->count = 2;
		map->root = root;
		map->height++;
	}
out_free_unused:
	while (nspare)
		inner_free(map, spare[--nspare]);
out_account:
	map->count++;
	map->span += span_of(e->start, e->last);
	return 0;

out_free_spare:
	while (nspare)
		inner_free(map, spare[--nspare]);
	leaf_free(map, r);
	return -ENOMEM;
}

/* --- deletion ----------------------------------------------------------- */

/*
 * After child @ki + 1 of @n was merged into child @ki: drop it and the key
 * between the two.
 */
static void inner_drop_merged(struct imap_inner *n, unsigned int ki)
{
	memmove(&n->key[ki], &n->key[ki + 1],
		(n->count - ki - 2u) * sizeof(uint64_t));
	memmove(&n->child[ki + 1], &n->child[ki + 2],
		(n->count - ki - 2u) * sizeof(void *));
	n->count--;
}

/* Rebalance inner node p->node[lvl] after it lost a child. */
static void inner_rebalance(struct imap *map, struct ipath *p,
			    unsigned int lvl)
{
	struct imap_inner *n = p->node[lvl], *parent, *sib;
	unsigned int i;

	if (lvl == 0) {
		if (n->count == 1) {
			map->root = n->child[0];
			map->height--;
			inner_free(map, n);
		}
		return;
	}
	if (n->count >= INNER_MIN)
		return;
	parent = p->node[lvl - 1];
	i = p->idx[lvl - 1];
	if (i > 0 && ((struct imap_inner *)parent->child[i - 1])->count >
		     INNER_MIN) {
		/* Rotate the left sibling's last child through the parent. */
		sib = parent->child[i - 1];
		memmove(&n->child[1], &n->child[0], n->count * sizeof(void *));
		memmove(&n->key[1], &n->key[0],
			(n->count - 1u) * sizeof(uint64_t));
		n->child[0] = sib->child[sib->count - 1];
		n->key[0] = parent->key[i - 1];
		parent->key[i - 1] = sib->key[sib->count - 2];
		n->count++;
		sib->count--;
		return;
	}
	if (i + 1u < parent->count &&
	    ((struct imap_inner *)parent->child[i + 1])->count > INNER_MIN) {
		sib = parent->child[i + 1];
		n->child[n->count] = sib->child[0];
		n->key[n->count - 1] = parent->key[i];
		parent->key[i] = sib->key[0];
		n->count++;
		memmove(&sib->child[0], &sib->child[1],
			(sib->count - 1u) * sizeof(void *));
		memmove(&sib->key[0], &sib->key[1],
			(sib->count - 2u) * sizeof(uint64_t));
		sib->count--;
		return;
	}
	/* Merge the right one of a pair into the left one. */
	{
		/* @n is child @i of @parent: it pairs with a sibling */
		unsigned int ki = i > 0 ? i - 1 : i;
		struct imap_inner *left = parent->child[ki];
		struct imap_inner *right = parent->child[ki + 1];

		left->key[left->count - 1] = parent->key[ki];
		memcpy(&left->key[left->count], right->key,
		       (right->count - 1u) * sizeof(uint64_t));
		memcpy(&left->child[left->count], right->child,
		       right->count * sizeof(void *));
		left->count = (uint16_t)(left->count + right->count);
		inner_free(map, right);
		inner_drop_merged(parent, ki);
	}
	inner_rebalance(map, p, lvl - 1);
}

/* Delete the entry at @p (which must point at one).  Never allocates. */
static void tree_delete(struct imap *map, struct ipath *p)
{
	struct imap_leaf *l = p->leaf, *sib;
	struct imap_inner *parent;
	unsigned int pos = (unsigned int)p->pos, i;

	map->count--;
	map->span -= span_of(lf_start(l, pos), lf_last(l, pos));
	ent_move(l, pos, l, pos + 1, l->count - pos - 1u);
	l->count--;
	if (!map->height) {
		if (!l->count) {
			leaf_free(map, l);
			map->root = NULL;
		}
		return;
	}
	if (l->count >= LEAF_MIN)
		return;
	parent = p->node[map->height - 1];
	i = p->idx[map->height - 1];
	if (i > 0 && ((struct imap_leaf *)parent->child[i - 1])->count >
		     LEAF_MIN) {
		sib = parent->child[i - 1];
		ent_move(l, 1, l, 0, l->count);
		ent_move(l, 0, sib, sib->count - 1u, 1);
		l->count++;
		sib->count--;
		leaf_pack(l);
		leaf_pack(sib);
		parent->key[i - 1] = lf_start(l, 0);
		return;
	}
	if (i + 1u < parent->count &&
	    ((struct imap_leaf *)parent->child[i + 1])->count > LEAF_MIN) {
		sib = parent->child[i + 1];
		ent_move(l, l->count, sib, 0, 1);
		ent_move(sib, 0, sib, 1, sib->count - 1u);
		l->count++;
		sib->count--;
		leaf_pack(l);
		leaf_pack(sib);
		parent->key[i] = lf_start(sib, 0);
		return;
	}
	{
		/* @l is child @i of @parent: it pairs with a sibling */
		unsigned int ki = i > 0 ? i - 1 : i;
		struct imap_leaf *left = parent->child[ki];
		struct imap_leaf *right = parent->child[ki + 1];

		ent_move(left, left->count, right, 0, right->count);
		left->count = (uint16_t)(left->count + right->count);
		leaf_pack(left);
		left->next = right->next;
		if (right->next)
			right->next->prev = left;
		leaf_free(map, right);
		inner_drop_merged(parent, ki);
	}
	inner_rebalance(map, p, map->height - 1);
}

/* --- in-place changes --------------------------------------------------- */

static void set_last(struct imap *map, struct ipath *p, uint64_t last)
{
	struct ient e;

	ent_get(p->leaf, (unsigned int)p->pos, &e);
	map->span -= span_of(e.start, e.last);
	map->span += span_of(e.start, last);
	if (last > e.last)
		fix_upper(map, p, last);
	e.last = last;
	ent_update(p->leaf, (unsigned int)p->pos, &e);
}

/* Move the first byte of the entry at @p; its address follows. */
static void set_start(struct imap *map, struct ipath *p, uint64_t start,
		      uint64_t addr)
{
	struct ient e;

	ent_get(p->leaf, (unsigned int)p->pos, &e);
	map->span -= span_of(e.start, e.last);
	map->span += span_of(start, e.last);
	if (start < e.start)
		fix_lower(map, p, start);
	e.start = start;
	e.addr = addr;
	ent_update(p->leaf, (unsigned int)p->pos, &e);
}

/*
 * Remove bytes [s, l].  Adds what went to *removed.  Returns 0, or -ENOMEM
 * when a mapping strictly containing [s, l] could not be split; then that
 * whole mapping is gone.
 */
static int cut(struct imap *map, uint64_t s, uint64_t l,
	       unsigned __int128 *removed)
{
	struct ipath p;
	struct ient e;

	descend(map, s, &p);
	if (p.leaf && p.pos >= 0 && lf_last(p.leaf, p.pos) >= s &&
	    lf_start(p.leaf, p.pos) < s) {
		ent_get(p.leaf, (unsigned int)p.pos, &e);
		if (e.last > l) {
			struct ient r = e;

			r.start = l + 1;
			if (has_addr(&e))
				r.addr = addr_at(&e, r.start);
			descend(map, r.start, &p);
			if (tree_insert(map, &p, &r)) {
				descend(map, s, &p);
				*removed += span_of(e.start, e.last);
				tree_delete(map, &p);
				return -ENOMEM;
			}
			descend(map, s, &p);
			set_last(map, &p, s - 1);
			*removed += span_of(s, l);
			return 0;
		}
		set_last(map, &p, s - 1);
		*removed += span_of(s, e.last);
	}
	for (;;) {
		struct imap_leaf *lf;

		if (!seek(map, s, &p))
			break;
		lf = p.leaf;
		ent_get(lf, (unsigned int)p.pos, &e);
		if (e.start > l)
			break;
		if (e.last <= l) {
			*removed += span_of(e.start, e.last);
			tree_delete(map, &p);
			if (e.last == UINT64_MAX)
				break;
			continue;
		}
		*removed += span_of(e.start, l);
		set_start(map, &p, l + 1,
			  has_addr(&e) ? addr_at(&e, l + 1) : e.addr);
		break;
	}
	return 0;
}

/*
 * The canonical rule keeps two mergeable neighbours apart only when
 * together they would cover all 2^64 bytes, so such a pair is the whole
 * map.  A cut that trims the far end of either makes them mergeable:
 * take the second out and put it back, and upsert merges the two.
 * (Putting back a mapping next to one it merges with allocates nothing.)
 */
static void remerge_full_span(struct imap *map)
{
	unsigned __int128 removed = 0;
	struct imap_iter it;
	struct iomap a, b;
	struct ient ea, eb;

	if (imap_count(map) != 2)
		return;
	imap_iter_start(map, 0, &it);
	if (imap_iter_next(&it, &a) != 1 || imap_iter_next(&it, &b) != 1)
		return;
	ea = (struct ient){ .start = a.offset, .last = iomap_last(&a),
			    .addr = a.addr,
			    .meta = (uint8_t)(a.type | a.flags << META_TYPE_BITS) };
	eb = (struct ient){ .start = b.offset, .last = iomap_last(&b),
			    .addr = b.addr,
			    .meta = (uint8_t)(b.type | b.flags << META_TYPE_BITS) };
	if (!mergeable(&ea, &eb))
		return;
	if (cut(map, eb.start, eb.last, &removed))
		return;
	imap_upsert(map, &b, NULL);
}

int64_t imap_remove(struct imap *map, uint64_t off, uint64_t len)
{
	unsigned __int128 removed = 0;
	uint64_t last;
	int ret;

	if (!len)
		return 0;
	if (len == IMAP_TO_EOF || len - 1 > UINT64_MAX - off)
		last = UINT64_MAX;
	else
		last = off + (len - 1);
	ret = cut(map, off, last, &removed);
	if (ret)
		return ret;
	if (removed)
		remerge_full_span(map);
	return removed > INT64_MAX ? INT64_MAX : (int64_t)removed;
}

int imap_upsert(struct imap *map, const struct iomap *m, unsigned int *merged)
{
	unsigned __int128 removed = 0;
	struct ient e, old, left, right;
	bool lm = false, rm = false;
	struct ipath p;
	int ret;

	if (iomap_validate(m))
		return -EINVAL;
	if (merged)
		*merged = 0;
	e.start = m->offset;
	e.last = iomap_last(m);
	e.addr = m->addr;
	e.ref = 1;
	e.meta = (uint8_t)(m->type | m->flags << META_TYPE_BITS);

	descend(map, e.start, &p);
	if (p.leaf) {
		/*
		 * The common case in one descent: nothing overlaps @m and at
		 * most the mapping before it merges with it.
		 */
		const struct imap_leaf *nl = p.leaf;
		int ni = p.pos + 1;
		bool before = p.pos >= 0;

		if (ni >= nl->count) {
			nl = nl->next;
			ni = 0;
		}
		/* The mapping before may end the previous leaf: go slow. */
		if (!before && p.leaf->prev)
			goto slow;
		if (before)
			ent_get(p.leaf, (unsigned int)p.pos, &left);
		if ((!before || left.last < e.start) &&
		    (!nl || lf_start(nl, (unsigned int)ni) > e.last)) {
			if (nl)
				ent_get(nl, (unsigned int)ni, &right);
			if (nl && mergeable(&e, &right))
				goto slow;
			if (!before || !mergeable(&left, &e))
				return tree_insert(map, &p, &e);
			set_last(map, &p, e.last);
			lf_ref(p.leaf)[p.pos] = 1;
			if (merged)
				*merged = 1;
			return 0;
		}
	} else {
		return tree_insert(map, &p, &e);
	}
slow:
	if (p.leaf && p.pos >= 0 && lf_last(p.leaf, p.pos) >= e.last) {
		/* One mapping covers all of @m. */
		ent_get(p.leaf, (unsigned int)p.pos, &old);
		if (old.meta == e.meta &&
		    (!has_addr(&e) || addr_at(&old, e.start) == e.addr)) {
			/* It already says what @m says. */
			lf_ref(p.leaf)[p.pos] = 1;
			if (merged)
				*merged = (old.start < e.start) +
					  (old.last > e.last);
			return 0;
		}
		if (old.start < e.start && old.last > e.last) {
			/* Split it around @m: the right part first. */
			struct ient r = old;

			r.start = e.last + 1;
			if (has_addr(&old))
				r.addr = addr_at(&old, r.start);
			descend(map, r.start, &p);
			ret = tree_insert(map, &p, &r);
			if (ret)
				return ret;
			descend(map, e.start, &p);
			set_last(map, &p, e.start - 1);
			descend(map, e.start, &p);
			return tree_insert(map, &p, &e);
		}
	}

	/* No mapping strictly contains @m here, so cut() cannot fail. */
	ret = cut(map, e.start, e.last, &removed);
	if (ret)
		return ret;

	if (e.start > 0) {
		descend(map, e.start - 1, &p);
		if (p.leaf && p.pos >= 0) {
			ent_get(p.leaf, (unsigned int)p.pos, &left);
			lm = mergeable(&left, &e);
		}
	}
	if (e.last < UINT64_MAX) {
		descend(map, e.last + 1, &p);
		if (p.leaf && p.pos >= 0 &&
		    lf_start(p.leaf, p.pos) == e.last + 1) {
			ent_get(p.leaf, (unsigned int)p.pos, &right);
			rm = mergeable(&e, &right);
			/* Both merges may not make an inexpressible map. */
			if (rm && lm && left.start == 0 &&
			    right.last == UINT64_MAX)
				rm = false;
		}
	}
	if (lm) {
		uint64_t last = e.last;

		if (rm) {
			last = right.last;
			descend(map, right.start, &p);
			tree_delete(map, &p);
		}
		descend(map, left.start, &p);
		set_last(map, &p, last);
		lf_ref(p.leaf)[p.pos] = 1;
		if (merged)
			*merged = 1u + rm;
		return 0;
	}
	if (rm) {
		descend(map, right.start, &p);
		set_start(map, &p, e.start, e.addr);
		lf_ref(p.leaf)[p.pos] = 1;
		if (merged)
			*merged = 1;
		return 0;
	}
	descend(map, e.start, &p);
	return tree_insert(map, &p, &e);
}

/* --- iteration and eviction --------------------------------------------- */

void imap_iter_start(const struct imap *map, uint64_t off,
		     struct imap_iter *it)
{
	struct ipath p;

	it->map = map;
	it->node = NULL;
	it->slot = 0;
	if (seek(map, off, &p)) {
		it->node = p.leaf;
		it->slot = (unsigned int)p.pos;
	}
}

int imap_iter_next(struct imap_iter *it, struct iomap *out)
{
	const struct imap_leaf *l = it->node;
	struct ient e;

	if (!l)
		return 0;
	ent_get(l, it->slot, &e);
	ent_to_iomap(&e, out);
	if (++it->slot >= l->count) {
		it->node = l->next;
		it->slot = 0;
	}
	return 1;
}

size_t imap_evict(struct imap *map, size_t nr, imap_evict_fn fn, void *arg)
{
	size_t evicted = 0, steps;
	struct ipath p;

	if (!nr || !map->count)
		return 0;
	/* Two full turns: the first clears every bit, the second evicts. */
	steps = 2 * map->count;
	while (evicted < nr && steps && map->count) {
		struct imap_leaf *l;
		unsigned int i;
		struct ient e;

		if (!seek(map, map->hand, &p)) {
			map->hand = 0;
			continue;
		}
		l = p.leaf;
		i = (unsigned int)p.pos;
		/* Clear set bits without restructuring, leaf by leaf. */
		while (steps && l && lf_ref(l)[i]) {
			steps--;
			lf_ref(l)[i] = 0;
			if (lf_last(l, i) == UINT64_MAX) {
				l = NULL;
				break;
			}
			map->hand = lf_last(l, i) + 1;
			if (++i >= l->count) {
				l = l->next;
				i = 0;
			}
		}
		if (!l) {
			map->hand = 0;	/* wrap around */
			continue;
		}
		if (!steps)
			break;
		steps--;
		ent_get(l, i, &e);
		map->hand = e.last == UINT64_MAX ? 0 : e.last + 1;
		if (fn) {
			struct iomap m;

			ent_to_iomap(&e, &m);
			fn(&m, arg);
		}
		descend(map, e.start, &p);
		tree_delete(map, &p);
		evicted++;
	}
	return evicted;
}

/* --- self-check --------------------------------------------------------- */

struct check_state {
	const struct imap_leaf *prev_leaf;
	bool have_prev;
	struct ient prev;
	size_t count;
	unsigned __int128 span;
	size_t mem;
};

static int check_node(const struct imap *map, const void *n,
		      unsigned int depth, uint64_t lo, bool has_lo,
		      uint64_t hi, bool has_hi, struct check_state *st)
{
	unsigned int i;

	if (depth < map->height) {
		const struct imap_inner *in = n;

		st->mem += alloc_cost(sizeof(*in));
		if (in->count < 2 || in->count > INNER_MAX)
			return -EUCLEAN;
		for (i = 0; i + 2u < in->count; i++)
			if (in->key[i] >= in->key[i + 1])
				return -EUCLEAN;
		for (i = 0; i < in->count; i++) {
			bool clo = i > 0 || has_lo, chi = i + 1u < in->count ||
							   has_hi;
			uint64_t klo = i > 0 ? in->key[i - 1] : lo;
			uint64_t khi = i + 1u < in->count ? in->key[i] : hi;
			int ret = check_node(map, in->child[i], depth + 1,
					     klo, clo, khi, chi, st);

			if (ret)
				return ret;
		}
		return 0;
	} else {
		const struct imap_leaf *l = n;

		st->mem += alloc_cost(leaf_size(l->cap));
		if (!l->count || l->count > l->cap)
			return -EUCLEAN;
		if ((map->height || l->compact) && l->cap != LEAF_MAX)
			return -EUCLEAN;
		if (l->prev != st->prev_leaf ||
		    (st->prev_leaf && st->prev_leaf->next != l))
			return -EUCLEAN;
		st->prev_leaf = l;
		for (i = 0; i < l->count; i++) {
			struct ient e;
			struct iomap m;

			ent_get(l, i, &e);
			if (e.start > e.last || e.ref > 1)
				return -EUCLEAN;
			if (has_lo && e.start < lo)
				return -EUCLEAN;
			if (has_hi && e.last >= hi)
				return -EUCLEAN;
			ent_to_iomap(&e, &m);
			if (iomap_validate(&m))
				return -EUCLEAN;
			if (st->have_prev) {
				if (st->prev.last >= e.start)
					return -EUCLEAN;
				if (mergeable(&st->prev, &e))
					return -EUCLEAN;
			}
			st->prev = e;
			st->have_prev = true;
			st->count++;
			st->span += span_of(e.start, e.last);
		}
		return 0;
	}
}

int imap_check(const struct imap *map)
{
	struct check_state st = { 0 };
	int ret;

	st.mem = alloc_cost(sizeof(*map));
	if (map->root) {
		ret = check_node(map, map->root, 0, 0, false, 0, false, &st);
		if (ret)
			return ret;
		if (st.prev_leaf->next)
			return -EUCLEAN;
	} else if (map->height) {
		return -EUCLEAN;
	}
	if (st.count != map->count || st.span != map->span ||
	    st.mem != map->mem)
		return -EUCLEAN;
	return 0;
}
