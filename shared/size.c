// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * size.c - the SIZE parser that both programs share (grammar in size.h).
 * Digits are read by hand rather than with strtoull(), which would skip
 * blanks and accept a sign: " -5" would become 2^64 - 5.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "size.h"

static int size_fail(int err, const char *what, const char **why)
{
	if (why)
		*why = what;
	return err;
}

/* The value of @ch as a digit of @base, or -1. */
static int size_digit(char ch, unsigned int base)
{
	int d;

	if (ch >= '0' && ch <= '9')
		d = ch - '0';
	else if (ch >= 'a' && ch <= 'f')
		d = ch - 'a' + 10;
	else if (ch >= 'A' && ch <= 'F')
		d = ch - 'A' + 10;
	else
		return -1;
	return d < (int)base ? d : -1;
}

/* The power of two of UNIT @ch, or 0 when @ch is none. */
static unsigned int size_unit_shift(char ch)
{
	static const char units[] = "kmgtpe";
	const char *u;

	if (ch >= 'A' && ch <= 'Z')
		ch = (char)(ch - 'A' + 'a');
	u = ch ? strchr(units, ch) : NULL;
	return u ? 10u * (unsigned int)(u - units + 1) : 0;
}

int size_parse(const char *s, uint64_t *out, const char **why)
{
	unsigned int base = 10, shift;
	bool overflow = false;
	uint64_t v = 0;
	int d;

	if (!s || !*s)
		return size_fail(-EINVAL, "empty", why);
	if (*s == '-')
		return size_fail(-EINVAL, "negative", why);
	if (size_digit(*s, 10) < 0)
		return size_fail(-EINVAL, "not a number", why);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (size_digit(*s, 16) < 0)
			return size_fail(-EINVAL, "no hex digits after 0x",
					 why);
	}
	/* read every digit even past an overflow, so that the reason given
	 * is "too large" and not a complaint about the remaining digits */
	for (; (d = size_digit(*s, base)) >= 0; s++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		v = v * base + (uint64_t)d;
	}
	shift = size_unit_shift(*s);
	if (*s && !shift)
		return size_fail(-EINVAL, "unknown unit (k M G T P E)", why);
	if (shift) {
		s++;
		if (strcmp(s, "") && strcmp(s, "B") && strcmp(s, "iB"))
			return size_fail(-EINVAL, "junk after the unit", why);
	}
	if (overflow || (shift && v > (UINT64_MAX >> shift)))
		return size_fail(-ERANGE, "too large (2^64 bytes or more)",
				 why);
	*out = v << shift;
	return 0;
}
