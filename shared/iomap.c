// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iomap.c - names of iomap types and flags, and the checks every producer
 * of a mapping must pass.  One table per enumeration serves every printer
 * and parser in the project.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iomap.h"

static const char *const iomap_type_names[IOMAP_TYPE_COUNT] = {
	[IOMAP_HOLE] = "HOLE",
	[IOMAP_DELALLOC] = "DELALLOC",
	[IOMAP_MAPPED] = "MAPPED",
	[IOMAP_UNWRITTEN] = "UNWRITTEN",
	[IOMAP_INLINE] = "INLINE",
};

/* Indexed by bit number. */
static const char *const iomap_flag_names[IOMAP_FLAG_COUNT] = {
	"NEW", "DIRTY", "SHARED", "MERGED", "LAST",
};

const char *iomap_type_name(unsigned int type)
{
	if (type >= IOMAP_TYPE_COUNT)
		return NULL;
	return iomap_type_names[type];
}

static int parse_number(const char *s, unsigned long *out)
{
	char *end;

	/* strtoul() would skip blanks and take a sign: only digits here. */
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int iomap_type_parse(const char *name)
{
	unsigned long n;
	int i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < IOMAP_TYPE_COUNT; i++)
		if (!strcasecmp(name, iomap_type_names[i]))
			return i;
	if (!parse_number(name, &n) && n < IOMAP_TYPE_COUNT)
		return (int)n;
	return -EINVAL;
}

const char *iomap_flag_name(unsigned int flag)
{
	int bit;

	if (!flag || (flag & (flag - 1)) || !(flag & IOMAP_F_ALL))
		return NULL;
	bit = __builtin_ctz(flag);
	return iomap_flag_names[bit];
}

int iomap_flags_format(unsigned int flags, char *buf, size_t size)
{
	size_t used = 0;
	int bit, n;

	if (!size)
		return -ENOSPC;
	buf[0] = '\0';
	for (bit = 0; bit < IOMAP_FLAG_COUNT; bit++) {
		if (!(flags & (1u << bit)))
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? "|" : "",
			     iomap_flag_names[bit]);
		if (n < 0 || (size_t)n >= size - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	if (flags & ~IOMAP_F_ALL) {
		n = snprintf(buf + used, size - used, "%s0x%x", used ? "|" : "",
			     flags & ~IOMAP_F_ALL);
		if (n < 0 || (size_t)n >= size - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return (int)used;
}

static int flag_by_name(const char *name, size_t len, unsigned int *flag)
{
	int bit;

	for (bit = 0; bit < IOMAP_FLAG_COUNT; bit++) {
		if (strlen(iomap_flag_names[bit]) == len &&
		    !strncasecmp(name, iomap_flag_names[bit], len)) {
			*flag = 1u << bit;
			return 0;
		}
	}
	return -EINVAL;
}

int iomap_flags_parse(const char *s, unsigned int *flags)
{
	unsigned int out = 0, f;
	unsigned long n;
	const char *p;
	size_t len;

	if (!s)
		return -EINVAL;
	if (!*s || !strcmp(s, "-")) {
		*flags = 0;
		return 0;
	}
	if (!parse_number(s, &n)) {
		if (n & ~(unsigned long)IOMAP_F_ALL)
			return -EINVAL;
		*flags = (unsigned int)n;
		return 0;
	}
	for (p = s; *p; p += len + (p[len] != '\0')) {
		len = strcspn(p, "|,");
		if (!len || flag_by_name(p, len, &f))
			return -EINVAL;
		if (p[len] && !p[len + 1])
			return -EINVAL;	/* trailing separator */
		out |= f;
	}
	*flags = out;
	return 0;
}

int iomap_validate(const struct iomap *m)
{
	if (!m || m->type >= IOMAP_TYPE_COUNT || (m->flags & ~IOMAP_F_ALL))
		return -EINVAL;
	if (!m->length || m->offset + (m->length - 1) < m->offset)
		return -EINVAL;
	if (iomap_type_has_addr(m->type)) {
		/*
		 * The last device byte must stay below IOMAP_NULL_ADDR, or a
		 * trim of the front could leave a piece whose address is the
		 * null address.
		 */
		if (m->addr + (m->length - 1) < m->addr ||
		    m->addr + (m->length - 1) >= IOMAP_NULL_ADDR)
			return -EINVAL;
	} else if (m->addr != IOMAP_NULL_ADDR) {
		return -EINVAL;
	}
	return 0;
}
