// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-rangemap.c - fuzz harness for the range map (shared/rangemap.h).
 * The input is a sequence of operations (upsert, remove, lookup, evict,
 * iterate, clear, and upserts placed right after an existing mapping so
 * that merging is exercised), decoded byte by byte.  Each one runs on the
 * map and on a naive model (a sorted array of mappings, trimmed and split
 * by brute force); after each, the map must pass imap_check(), agree with
 * the model byte for byte in type, flags and device address, hold no two
 * neighbours it should have merged, and report the model's count and
 * span.  Results of remove, lookup, iteration and eviction are checked
 * against the model too.  Any divergence aborts.  (The whole-map
 * comparison runs after each of the first 64 operations, then after every
 * 16th and the last: every check is linear in the map's size.)
 *
 * Built twice: with the map's real node sizes, and with 4-slot nodes
 * (IMAP_TEST_SMALL_NODES) so that short inputs already build deep trees.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "iomap.h"
#include "rangemap.h"

/* Bounds that keep one input fast (every check is linear). */
#define FUZZ_MAX_OPS 2000
#define FUZZ_MAX_MAPPINGS 4096

struct model {
	struct iomap *m;	/* sorted, disjoint; not necessarily merged */
	size_t n, cap;
};

/* Both the map's current mappings (from iteration) and the model. */
static struct model model, seen;
static struct iomap evicted[256];
static size_t nevicted;

static void model_reserve(struct model *md, size_t n)
{
	struct iomap *nm;

	if (n <= md->cap)
		return;
	md->cap = n < 2 * md->cap ? 2 * md->cap : n;
	nm = realloc(md->m, md->cap * sizeof(*nm));
	if (!nm)
		fuzz_fail("out of memory for the model");
	md->m = nm;
}

static void model_insert_at(struct model *md, size_t i, const struct iomap *m)
{
	model_reserve(md, md->n + 1);
	memmove(&md->m[i + 1], &md->m[i], (md->n - i) * sizeof(*md->m));
	md->m[i] = *m;
	md->n++;
}

static void model_delete_at(struct model *md, size_t i)
{
	memmove(&md->m[i], &md->m[i + 1], (md->n - i - 1) * sizeof(*md->m));
	md->n--;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* The part of @m from byte @off (inside it) on. */
static struct iomap cut_from(const struct iomap *m, uint64_t off)
{
	struct iomap r = *m;

	r.offset = off;
	r.length = iomap_last(m) - off + 1;
	if (r.addr != IOMAP_NULL_ADDR)
		r.addr = m->addr + (off - m->offset);
	return r;
}

/* Remove [off, last] from the model; returns the bytes removed
 * (saturating: all of 2^64 is UINT64_MAX). */
static uint64_t model_remove(uint64_t off, uint64_t last)
{
	uint64_t removed = 0;
	size_t i = 0;

	while (i < model.n) {
		struct iomap *m = &model.m[i];
		uint64_t ml = iomap_last(m);
		uint64_t lo, hi;

		if (ml < off) {
			i++;
			continue;
		}
		if (m->offset > last)
			break;
		lo = m->offset > off ? m->offset : off;
		hi = ml < last ? ml : last;
		removed = sat_add(removed, hi - lo + 1 ? hi - lo + 1
						       : UINT64_MAX);
		if (m->offset < lo && ml > hi) {
			/* Split: keep both ends. */
			struct iomap right = cut_from(m, hi + 1);

			m->length = lo - m->offset;
			model_insert_at(&model, i + 1, &right);
			i += 2;
		} else if (m->offset < lo) {
			m->length = lo - m->offset;
			i++;
		} else if (ml > hi) {
			*m = cut_from(m, hi + 1);
			i++;
		} else {
			model_delete_at(&model, i);
		}
	}
	return removed;
}

static void model_upsert(const struct iomap *m)
{
	size_t i = 0;

	model_remove(m->offset, iomap_last(m));
	while (i < model.n && model.m[i].offset < m->offset)
		i++;
	model_insert_at(&model, i, m);
}

static uint64_t model_span(const struct model *md)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < md->n; i++)
		s = sat_add(s, md->m[i].length);
	return s;
}

static void print_list(const char *what, const struct model *md)
{
	size_t i;

	fprintf(stderr, "%s: %zu mappings\n", what, md->n);
	for (i = 0; i < md->n && i < 64; i++)
		fprintf(stderr, "  [0x%" PRIx64 " +0x%" PRIx64 "] type %u "
			"addr 0x%" PRIx64 " flags 0x%x\n", md->m[i].offset,
			md->m[i].length, (unsigned int)md->m[i].type,
			md->m[i].addr, (unsigned int)md->m[i].flags);
}

static __attribute__((noreturn)) void diverged(unsigned int op,
					      const char *why)
{
	print_list("map", &seen);
	print_list("model", &model);
	fuzz_fail("operation %u: %s", op, why);
}

static void collect(const struct imap *map)
{
	struct imap_iter it;
	struct iomap m;

	seen.n = 0;
	imap_iter_start(map, 0, &it);
	while (imap_iter_next(&it, &m)) {
		if (seen.n > FUZZ_MAX_MAPPINGS * 4)
			fuzz_fail("iteration does not end");
		model_reserve(&seen, seen.n + 1);
		seen.m[seen.n++] = m;
	}
}

/* The range map's merge rule (rangemap.h), restated. */
static bool should_merge(const struct iomap *a, const struct iomap *b)
{
	if (a->type != b->type || a->flags != b->flags)
		return false;
	if (iomap_last(a) == UINT64_MAX || iomap_last(a) + 1 != b->offset)
		return false;
	if (a->offset == 0 && iomap_last(b) == UINT64_MAX)
		return false;
	if (a->addr == IOMAP_NULL_ADDR)
		return b->addr == IOMAP_NULL_ADDR;
	return b->addr != IOMAP_NULL_ADDR &&
	       a->addr + a->length == b->addr && a->addr + a->length != 0;
}

/* Index of the first mapping in @md that ends at or after @off. */
static size_t find_from(const struct model *md, uint64_t off)
{
	size_t i = 0;

	while (i < md->n && iomap_last(&md->m[i]) < off)
		i++;
	return i;
}

static bool same(const struct iomap *a, const struct iomap *b)
{
	return a->offset == b->offset && a->length == b->length &&
	       a->addr == b->addr && a->type == b->type &&
	       a->flags == b->flags;
}

/* The map (already collected in seen) against the model, byte for byte. */
static void compare(const struct imap *map, unsigned int op)
{
	size_t ia = 0, ib = 0, i;
	uint64_t pos = 0;

	for (i = 0; i < seen.n; i++)
		if (iomap_type_has_addr(seen.m[i].type) &&
		    seen.m[i].addr == IOMAP_NULL_ADDR)
			diverged(op, "a mapped piece has IOMAP_NULL_ADDR as "
				 "its device address");
	/* Before imap_check(), which would fail too: the report then says
	 * which rule broke, and where (t/fuzz/crashers/KNOWN matches it). */
	for (i = 0; i + 1 < seen.n; i++) {
		if (iomap_last(&seen.m[i]) >= seen.m[i + 1].offset)
			diverged(op, "iteration out of order or overlapping");
		if (!should_merge(&seen.m[i], &seen.m[i + 1]))
			continue;
		if (seen.m[i].offset == 0 ||
		    iomap_last(&seen.m[i + 1]) == UINT64_MAX)
			diverged(op, "two neighbours were not merged, one of "
				 "them at an end of the offset space");
		diverged(op, "two neighbours were not merged");
	}
	if (imap_check(map))
		diverged(op, "imap_check() found the map corrupt");
	if (imap_count(map) != seen.n)
		diverged(op, "imap_count() differs from the iteration");
	if (imap_span_bytes(map) != model_span(&model))
		diverged(op, "imap_span_bytes() differs from the model");
	for (i = 0; i < seen.n; i++)
		if (iomap_validate(&seen.m[i]))
			diverged(op, "the map holds a malformed mapping");
	for (;;) {
		const struct iomap *a, *b;
		bool ca, cb;
		uint64_t end;

		while (ia < seen.n && iomap_last(&seen.m[ia]) < pos)
			ia++;
		while (ib < model.n && iomap_last(&model.m[ib]) < pos)
			ib++;
		a = ia < seen.n ? &seen.m[ia] : NULL;
		b = ib < model.n ? &model.m[ib] : NULL;
		if (!a && !b)
			return;
		ca = a && a->offset <= pos;
		cb = b && b->offset <= pos;
		if (ca != cb)
			diverged(op, "a byte is mapped in only one of them");
		if (ca) {
			uint64_t aa = a->addr, ab = b->addr;

			if (aa != IOMAP_NULL_ADDR)
				aa += pos - a->offset;
			if (ab != IOMAP_NULL_ADDR)
				ab += pos - b->offset;
			if (a->type != b->type || a->flags != b->flags ||
			    aa != ab)
				diverged(op, "a byte maps differently");
			end = iomap_last(a) < iomap_last(b) ? iomap_last(a)
							    : iomap_last(b);
		} else {
			uint64_t na = a ? a->offset : UINT64_MAX;
			uint64_t nb = b ? b->offset : UINT64_MAX;

			end = (na < nb ? na : nb) - 1;
		}
		if (end == UINT64_MAX)
			return;
		pos = end + 1;
	}
}

/* A number spread over the sizes that matter: small block multiples,
 * sector multiples, anything, and the top of the offset space. */
static uint64_t get_num(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);

	switch (sel & 3) {
	case 0:
		return fuzz_u8(in) * 4096ull;
	case 1:
		return fuzz_bytes(in, 2) * 512ull;
	case 2:
		return fuzz_bytes(in, 8);
	default:
		return UINT64_MAX - fuzz_bytes(in, 2);
	}
}

static void on_evict(const struct iomap *m, void *arg)
{
	if (nevicted >= sizeof(evicted) / sizeof(evicted[0]))
		fuzz_fail("more mappings evicted than asked for");
	evicted[nevicted++] = *m;
}

static void op_upsert(struct imap *map, const struct iomap *m,
		      unsigned int op)
{
	unsigned int merged = 3;
	int want = iomap_validate(m) ? -EINVAL : 0;
	int ret;

	ret = imap_upsert(map, m, &merged);
	if (ret != want) {
		fprintf(stderr, "upsert [0x%" PRIx64 " +0x%" PRIx64 "] type "
			"%u addr 0x%" PRIx64 " flags 0x%x: %d, expected %d\n",
			m->offset, m->length, (unsigned int)m->type, m->addr,
			(unsigned int)m->flags, ret, want);
		diverged(op, "imap_upsert() returned the wrong value");
	}
	if (ret)
		return;
	if (merged > 2)
		diverged(op, "imap_upsert() merged with more than 2");
	model_upsert(m);
}

static void run_op(struct imap *map, struct fuzz_in *in, unsigned int op)
{
	uint8_t code = fuzz_u8(in) % 16;
	struct iomap m = { 0 }, got;
	uint64_t off, len;
	size_t i;
	int ret;

	switch (code) {
	case 0: case 1: case 2: case 3: case 4: case 5: {
		uint8_t t = fuzz_u8(in), f = fuzz_u8(in);

		m.offset = get_num(in);
		m.length = get_num(in);
		m.type = t % 6;	/* 5 is no type: must be refused */
		m.flags = f & 0x3f;
		if (m.type < IOMAP_TYPE_COUNT && !(f & 0x40))
			m.flags &= IOMAP_F_ALL;
		m.addr = IOMAP_NULL_ADDR;
		if (iomap_type_has_addr(m.type) != !!(f & 0x80))
			m.addr = get_num(in);
		op_upsert(map, &m, op);
		break;
	}
	case 6: case 7: case 8: {
		int64_t ret64, want;
		uint64_t last, removed;

		off = get_num(in);
		len = get_num(in);
		/* IMAP_TO_EOF, or past 2^64 - 1: to the end. */
		last = len == IMAP_TO_EOF || off + len - 1 < off
			       ? UINT64_MAX
			       : off + len - 1;
		removed = len ? model_remove(off, last) : 0;
		want = removed > INT64_MAX ? INT64_MAX : (int64_t)removed;
		ret64 = imap_remove(map, off, len);
		if (ret64 != want) {
			fprintf(stderr, "remove 0x%" PRIx64 " +0x%" PRIx64
				": %" PRId64 ", expected %" PRId64 "\n", off,
				len, ret64, want);
			collect(map);
			diverged(op, "imap_remove() returned the wrong count");
		}
		break;
	}
	case 9: case 10:
		off = get_num(in);
		collect(map);
		i = find_from(&seen, off);
		ret = imap_lookup(map, off, &got);
		if (i == seen.n ? ret != -ENOENT
				: ret != 0 || !same(&got, &seen.m[i]))
			diverged(op, "imap_lookup() found something else");
		break;
	case 11: {
		size_t nr = fuzz_u8(in) % 9, done, j;

		collect(map);
		nevicted = 0;
		done = imap_evict(map, nr, on_evict, NULL);
		if (done != nevicted || done > nr)
			diverged(op, "imap_evict() count is wrong");
		for (j = 0; j < nevicted; j++) {
			i = find_from(&seen, evicted[j].offset);
			if (i == seen.n || !same(&seen.m[i], &evicted[j]))
				diverged(op, "evicted a mapping it did not "
					 "hold");
			model_remove(evicted[j].offset,
				     iomap_last(&evicted[j]));
		}
		break;
	}
	case 12: {
		struct imap_iter it;

		off = get_num(in);
		collect(map);
		i = find_from(&seen, off);
		imap_iter_start(map, off, &it);
		while (imap_iter_next(&it, &got)) {
			if (i == seen.n || !same(&got, &seen.m[i]))
				diverged(op, "iteration from an offset "
					 "differs");
			i++;
		}
		if (i != seen.n)
			diverged(op, "iteration from an offset ended early");
		break;
	}
	case 13:
		if (fuzz_u8(in) != 0x5a)
			break;	/* rare on purpose: it throws state away */
		imap_clear(map);
		model.n = 0;
		break;
	default:
		/* Right after an existing mapping, often mergeable. */
		collect(map);
		if (!seen.n)
			break;
		i = fuzz_u8(in) % seen.n;
		m = seen.m[i];
		if (iomap_last(&m) == UINT64_MAX)
			break;
		m.offset = iomap_last(&seen.m[i]) + 1;
		if (m.addr != IOMAP_NULL_ADDR)
			m.addr += seen.m[i].length;
		m.length = (fuzz_u8(in) % 16 + 1) * 4096ull;
		if (code == 15)
			m.flags ^= fuzz_u8(in) & IOMAP_F_ALL;
		op_upsert(map, &m, op);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Allocated once: an input that grows them would look like a leak
	 * to libFuzzer, whose leak check then runs (slowly) every time. */
	model_reserve(&model, 2 * FUZZ_MAX_MAPPINGS + 16);
	model_reserve(&seen, 2 * FUZZ_MAX_MAPPINGS + 16);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;
	struct imap *map;
	unsigned int op;

	fuzz_in_init(&in, data, size);
	map = imap_new();
	if (!map)
		fuzz_fail("imap_new: out of memory");
	model.n = 0;
	for (op = 0; in.left && op < FUZZ_MAX_OPS; op++) {
		if (model.n >= FUZZ_MAX_MAPPINGS)
			break;
		run_op(map, &in, op);
		if (op < 64 || op % 16 == 0 || !in.left) {
			collect(map);
			compare(map, op);
		}
	}
	collect(map);
	compare(map, op);
	imap_free(map);
	return 0;
}
