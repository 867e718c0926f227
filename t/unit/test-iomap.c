// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-iomap.c - unit tests of shared/iomap.c: type and flag names and
 * their parsers (round trips, case, numbers, bad input), the flags
 * formatter (separators, unknown bits, short buffers) and iomap_validate()
 * at the edges of the 64-bit offset and address spaces.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iomap.h"
#include "tap.h"

#define NA IOMAP_NULL_ADDR

static void test_type_names(void)
{
	static const char *const names[] = {
		"HOLE", "DELALLOC", "MAPPED", "UNWRITTEN", "INLINE",
	};
	unsigned int t;
	char buf[32];

	for (t = 0; t < IOMAP_TYPE_COUNT; t++) {
		const char *n = iomap_type_name(t);
		size_t i;

		tap_ok(n && !strcmp(n, names[t]), "type %u is named %s (%s)",
		       t, names[t], n ? n : "NULL");
		tap_eq_int(iomap_type_parse(names[t]), t, "parse %s", names[t]);
		snprintf(buf, sizeof(buf), "%s", names[t]);
		for (i = 0; buf[i]; i++)
			buf[i] = (char)(buf[i] - 'A' + 'a');
		tap_eq_int(iomap_type_parse(buf), t, "parse %s", buf);
		snprintf(buf, sizeof(buf), "%u", t);
		tap_eq_int(iomap_type_parse(buf), t, "parse number %s", buf);
	}
	tap_eq_int(iomap_type_parse("Mapped"), IOMAP_MAPPED, "parse Mapped");
	tap_ok(iomap_type_name(IOMAP_TYPE_COUNT) == NULL,
	       "type %d has no name", IOMAP_TYPE_COUNT);
	tap_ok(iomap_type_name(~0u) == NULL, "type ~0 has no name");
}

static void test_type_parse_bad(void)
{
	static const char *const bad[] = {
		"", "5", "-1", "+2", " 2", "2 ", "MAP", "MAPPEDX", "HOLE ",
		"99999999999999999999999", "0x", "two",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_eq_int(iomap_type_parse(bad[i]), -EINVAL,
			   "type parse rejects \"%s\"", bad[i]);
	tap_eq_int(iomap_type_parse(NULL), -EINVAL, "type parse rejects NULL");
}

static void test_flag_names(void)
{
	static const char *const names[] = {
		"NEW", "DIRTY", "SHARED", "MERGED", "LAST",
	};
	unsigned int bit;

	for (bit = 0; bit < IOMAP_FLAG_COUNT; bit++) {
		const char *n = iomap_flag_name(1u << bit);

		tap_ok(n && !strcmp(n, names[bit]), "flag bit %u is %s (%s)",
		       bit, names[bit], n ? n : "NULL");
	}
	tap_eq_int(IOMAP_F_NEW | IOMAP_F_DIRTY | IOMAP_F_SHARED |
		   IOMAP_F_MERGED | IOMAP_F_LAST, IOMAP_F_ALL,
		   "IOMAP_F_ALL is every flag");
	tap_ok(iomap_flag_name(0) == NULL, "no name for 0");
	tap_ok(iomap_flag_name(IOMAP_F_NEW | IOMAP_F_LAST) == NULL,
	       "no name for two bits");
	tap_ok(iomap_flag_name(1u << IOMAP_FLAG_COUNT) == NULL,
	       "no name for an unknown bit");
	tap_ok(iomap_flag_name(1u << 31) == NULL, "no name for bit 31");
}

static void test_flags_format(void)
{
	char buf[64];
	int n;

	n = iomap_flags_format(0, buf, sizeof(buf));
	tap_ok(n == 0 && !strcmp(buf, ""), "format 0 is \"\" (%d \"%s\")",
	       n, buf);
	n = iomap_flags_format(IOMAP_F_NEW | IOMAP_F_LAST, buf, sizeof(buf));
	tap_ok(n == 8 && !strcmp(buf, "NEW|LAST"), "format NEW|LAST (%d %s)",
	       n, buf);
	n = iomap_flags_format(IOMAP_F_ALL, buf, sizeof(buf));
	tap_ok(n == 28 && !strcmp(buf, "NEW|DIRTY|SHARED|MERGED|LAST"),
	       "format every flag (%d %s)", n, buf);
	n = iomap_flags_format(0x40, buf, sizeof(buf));
	tap_ok(n == 4 && !strcmp(buf, "0x40"), "format an unknown bit (%s)",
	       buf);
	n = iomap_flags_format(IOMAP_F_DIRTY | 0xc0, buf, sizeof(buf));
	tap_ok(n == 10 && !strcmp(buf, "DIRTY|0xc0"),
	       "format a flag and unknown bits (%s)", buf);

	/* Short buffers: -ENOSPC and a terminated prefix. */
	n = iomap_flags_format(IOMAP_F_NEW, buf, 4);
	tap_ok(n == 3 && !strcmp(buf, "NEW"), "format into an exact buffer");
	memset(buf, 'x', sizeof(buf));
	n = iomap_flags_format(IOMAP_F_NEW, buf, 3);
	tap_ok(n == -ENOSPC && !strcmp(buf, "NE"),
	       "format one byte short: -ENOSPC, \"NE\" (%d \"%s\")", n, buf);
	memset(buf, 'x', sizeof(buf));
	n = iomap_flags_format(IOMAP_F_NEW | IOMAP_F_SHARED, buf, 8);
	tap_ok(n == -ENOSPC && strlen(buf) == 7,
	       "format short at the second flag: terminated (%d \"%s\")",
	       n, buf);
	memset(buf, 'x', sizeof(buf));
	n = iomap_flags_format(IOMAP_F_NEW | 0x40, buf, 6);
	tap_ok(n == -ENOSPC && strlen(buf) == 5,
	       "format short at the unknown bits: terminated (%d \"%s\")",
	       n, buf);
	tap_eq_int(iomap_flags_format(0, buf, 0), -ENOSPC,
		   "format into 0 bytes");
}

static void test_flags_parse(void)
{
	static const struct {
		const char *s;
		unsigned int want;
	} good[] = {
		{ "", 0 }, { "-", 0 }, { "0", 0 },
		{ "NEW", IOMAP_F_NEW }, { "last", IOMAP_F_LAST },
		{ "NEW|LAST", IOMAP_F_NEW | IOMAP_F_LAST },
		{ "new,last", IOMAP_F_NEW | IOMAP_F_LAST },
		{ "Dirty,Shared|Merged",
		  IOMAP_F_DIRTY | IOMAP_F_SHARED | IOMAP_F_MERGED },
		{ "NEW|NEW", IOMAP_F_NEW },
		{ "17", IOMAP_F_NEW | IOMAP_F_LAST },
		{ "0x1f", IOMAP_F_ALL },
	};
	static const char *const bad[] = {
		"BOGUS", "NEW|BOGUS", "NEW|", "|NEW", "NEW||LAST", ",",
		"0x20", "32", "0x100000000", "-1", "+1", " 1", "NEW ",
		" NEW", "0x", "NEWLAST", "1e3",
	};
	unsigned int f, got;
	size_t i;
	char buf[64];

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int ret;

		got = 0xdead;
		ret = iomap_flags_parse(good[i].s, &got);
		tap_ok(ret == 0 && got == good[i].want,
		       "flags parse \"%s\" = 0x%x (%d 0x%x)", good[i].s,
		       good[i].want, ret, got);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_eq_int(iomap_flags_parse(bad[i], &got), -EINVAL,
			   "flags parse rejects \"%s\"", bad[i]);
	tap_eq_int(iomap_flags_parse(NULL, &got), -EINVAL,
		   "flags parse rejects NULL");

	/* Every combination survives format -> parse. */
	for (f = 0; f <= IOMAP_F_ALL; f++) {
		if (iomap_flags_format(f, buf, sizeof(buf)) < 0 ||
		    iomap_flags_parse(buf, &got) || got != f)
			break;
	}
	tap_ok(f == IOMAP_F_ALL + 1, "flags round trip for all 32 sets "
	       "(stopped at 0x%x)", f);
}

static struct iomap mk(uint64_t off, uint64_t len, unsigned int type,
		       uint64_t addr, unsigned int flags)
{
	struct iomap m = {
		.offset = off, .length = len, .addr = addr,
		.type = (uint16_t)type, .flags = (uint16_t)flags,
	};

	return m;
}

static void test_validate(void)
{
	static const struct {
		const char *what;
		struct iomap m;
		int want;
	} cases[] = {
		{ "MAPPED", { 0, 4096, 8192, IOMAP_MAPPED, 0 }, 0 },
		{ "UNWRITTEN", { 0, 4096, 0, IOMAP_UNWRITTEN, 0 }, 0 },
		{ "HOLE", { 4096, 4096, NA, IOMAP_HOLE, IOMAP_F_LAST }, 0 },
		{ "DELALLOC", { 0, 1, NA, IOMAP_DELALLOC, IOMAP_F_NEW }, 0 },
		{ "INLINE", { 0, 60, NA, IOMAP_INLINE, 0 }, 0 },
		{ "every flag", { 0, 1, NA, IOMAP_HOLE, IOMAP_F_ALL }, 0 },
		{ "length 0", { 0, 0, NA, IOMAP_HOLE, 0 }, -EINVAL },
		{ "last byte 2^64-1", { UINT64_MAX, 1, NA, IOMAP_HOLE, 0 }, 0 },
		{ "length 2^64-1 from 0", { 0, UINT64_MAX, NA, IOMAP_HOLE, 0 },
		  0 },
		{ "length 2^64-1 from 1", { 1, UINT64_MAX, NA, IOMAP_HOLE, 0 },
		  0 },
		{ "past 2^64", { 2, UINT64_MAX, NA, IOMAP_HOLE, 0 }, -EINVAL },
		{ "past 2^64 by one", { UINT64_MAX, 2, NA, IOMAP_HOLE, 0 },
		  -EINVAL },
		{ "MAPPED without addr", { 0, 1, NA, IOMAP_MAPPED, 0 },
		  -EINVAL },
		{ "UNWRITTEN without addr", { 0, 1, NA, IOMAP_UNWRITTEN, 0 },
		  -EINVAL },
		{ "HOLE with addr", { 0, 1, 0, IOMAP_HOLE, 0 }, -EINVAL },
		{ "DELALLOC with addr", { 0, 1, 4096, IOMAP_DELALLOC, 0 },
		  -EINVAL },
		{ "INLINE with addr", { 0, 1, 4096, IOMAP_INLINE, 0 },
		  -EINVAL },
		{ "addr ends at 2^64-2",
		  { 0, 4096, UINT64_MAX - 4096, IOMAP_MAPPED, 0 }, 0 },
		/* its last byte would be IOMAP_NULL_ADDR: a trim of its
		 * front could leave a piece at the null address */
		{ "addr ends at 2^64-1 (the null address)",
		  { 0, 4096, UINT64_MAX - 4095, IOMAP_MAPPED, 0 }, -EINVAL },
		{ "addr past 2^64",
		  { 0, 4096, UINT64_MAX - 4094, IOMAP_MAPPED, 0 }, -EINVAL },
		{ "type 5", { 0, 1, NA, 5, 0 }, -EINVAL },
		{ "type 0xffff", { 0, 1, NA, 0xffff, 0 }, -EINVAL },
		{ "unknown flag", { 0, 1, NA, IOMAP_HOLE, 0x20 }, -EINVAL },
		{ "flag bit 15", { 0, 1, NA, IOMAP_HOLE, 0x8000 }, -EINVAL },
	};
	struct iomap m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_eq_int(iomap_validate(&cases[i].m), cases[i].want,
			   "validate: %s", cases[i].what);
	tap_eq_int(iomap_validate(NULL), -EINVAL, "validate: NULL");
	m = mk(UINT64_MAX - 4095, 4096, IOMAP_MAPPED, 0, 0);
	tap_eq_int(iomap_validate(&m), 0, "validate: last block of 2^64");
	tap_eq_u64(iomap_last(&m), UINT64_MAX, "iomap_last at 2^64-1");
	m = mk(4096, 1, IOMAP_HOLE, NA, 0);
	tap_eq_u64(iomap_last(&m), 4096, "iomap_last of one byte");
	tap_ok(iomap_type_has_addr(IOMAP_MAPPED) &&
	       iomap_type_has_addr(IOMAP_UNWRITTEN) &&
	       !iomap_type_has_addr(IOMAP_HOLE) &&
	       !iomap_type_has_addr(IOMAP_DELALLOC) &&
	       !iomap_type_has_addr(IOMAP_INLINE),
	       "only MAPPED and UNWRITTEN have an address");
}

int main(void)
{
	test_type_names();
	test_type_parse_bad();
	test_flag_names();
	test_flags_format();
	test_flags_parse();
	test_validate();
	return tap_done();
}
