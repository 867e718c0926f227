/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * size.h - the one grammar of sizes, offsets and counts that iomapfs's
 * options (cache_max=, dir_index_max=, ...) and iomapctl's arguments (OFF,
 * LEN, limits KEY=VALUE, --count) accept.  SIZES in iomapfs(8) documents
 * it; t/unit/test-size.c tests it:
 *
 *	SIZE   := NUMBER [UNIT [ "iB" | "B" ]]
 *	NUMBER := decimal digits | "0x" or "0X" and hex digits
 *	UNIT   := k K m M g G t T p P e E   (2^10 ... 2^60)
 *
 * No sign, no blank, nothing after the unit; the result fits 64 bits.  In
 * hex the letters a-f are digits, never units (0x1e is 30).
 */
#ifndef IOMAPFS_SIZE_H
#define IOMAPFS_SIZE_H

#include <stdint.h>

/*
 * Parse @s as a SIZE into *out.  Returns 0, -EINVAL for text that is not a
 * SIZE, or -ERANGE for one of 2^64 or more; *out is untouched on failure.
 * When @why is not NULL, a failure sets it to a short static phrase saying
 * what was wrong ("empty", "negative", "not a number", "unknown unit",
 * "junk after the unit", "too large", ...), for a message that also names
 * the option and the value.
 */
int size_parse(const char *s, uint64_t *out, const char **why);

#endif /* IOMAPFS_SIZE_H */
