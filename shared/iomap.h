/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iomap.h - the iomap: one mapping of a file byte range to a device byte
 * address, with its type and flags.  Types and their numbers follow Linux
 * fuse-iomap.  Every printer and parser of types and flags goes through the
 * one name table behind the functions declared here.
 */
#ifndef IOMAPFS_IOMAP_H
#define IOMAPFS_IOMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* addr of a mapping that has no device address (HOLE, DELALLOC, INLINE). */
#define IOMAP_NULL_ADDR UINT64_MAX

enum iomap_type {
	IOMAP_HOLE = 0,
	IOMAP_DELALLOC = 1,
	IOMAP_MAPPED = 2,
	IOMAP_UNWRITTEN = 3,
	IOMAP_INLINE = 4,
};
#define IOMAP_TYPE_COUNT 5

enum iomap_flag {
	IOMAP_F_NEW = 1u << 0,		/* blocks allocated by this operation */
	IOMAP_F_DIRTY = 1u << 1,	/* metadata not yet on disk */
	IOMAP_F_SHARED = 1u << 2,	/* blocks shared with another file */
	IOMAP_F_MERGED = 1u << 3,	/* merged from several extents */
	IOMAP_F_LAST = 1u << 4,		/* the mapping reaches EOF */
};
#define IOMAP_F_ALL 0x1fu
#define IOMAP_FLAG_COUNT 5

/*
 * One mapping.  All quantities are bytes.  The mapping covers the closed
 * interval [offset, offset + length - 1]; length is never 0.  addr is the
 * device byte address of offset for MAPPED and UNWRITTEN, IOMAP_NULL_ADDR
 * for the other types.
 */
struct iomap {
	uint64_t offset;
	uint64_t length;
	uint64_t addr;
	uint16_t type;		/* enum iomap_type */
	uint16_t flags;		/* IOMAP_F_* */
};

/* Last byte covered by @m (closed interval; never overflows for valid maps). */
static inline uint64_t iomap_last(const struct iomap *m)
{
	return m->offset + (m->length - 1);
}

/* Whether the type carries a device address (MAPPED, UNWRITTEN). */
static inline bool iomap_type_has_addr(unsigned int type)
{
	return type == IOMAP_MAPPED || type == IOMAP_UNWRITTEN;
}

/*
 * Upper-case name of @type ("HOLE", "MAPPED", ...), or NULL when @type is
 * not a valid iomap type.
 */
const char *iomap_type_name(unsigned int type);

/*
 * Parse a type name, case-insensitive, or its decimal number.
 * Returns the type (>= 0), or -EINVAL.
 */
int iomap_type_parse(const char *name);

/* Upper-case name of the single flag bit @flag, or NULL if it is not one. */
const char *iomap_flag_name(unsigned int flag);

/*
 * Format @flags as names joined by '|' ("NEW|LAST"); no flag gives "".
 * Unknown bits are printed as a hex number ("0x40").
 * Returns the length written (not counting the NUL), or -ENOSPC when @size
 * is too small (the buffer then holds a truncated, terminated string).
 */
int iomap_flags_format(unsigned int flags, char *buf, size_t size);

/*
 * Parse flags written as names joined by '|' or ',' (case-insensitive), or
 * as a number (decimal or 0x hex).  "", "-" and "0" mean no flag.
 * Returns 0 and sets *flags, or -EINVAL naming no flag it did not know.
 */
int iomap_flags_parse(const char *s, unsigned int *flags);

/*
 * Check that @m is well formed: known type and flags, length > 0, no
 * overflow past 2^64 - 1, addr set exactly for the types that have one,
 * and the last device byte, addr + length - 1, below IOMAP_NULL_ADDR (so no
 * trimmed piece can have the null address).  Returns 0 or -EINVAL.
 */
int iomap_validate(const struct iomap *m);

#endif /* IOMAPFS_IOMAP_H */
