// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-size.c - unit tests of size_parse() (shared/size.c), the one SIZE
 * grammar of iomapfs's options and iomapctl's arguments: every form the
 * grammar in size.h and SIZES in iomapfs(8) promise, the limits of 64
 * bits, and every kind of bad text with its errno and its reason.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "size.h"
#include "tap.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

/* @s parses to @want. */
static void good(const char *s, uint64_t want)
{
	uint64_t got = SENTINEL;
	const char *why = NULL;
	int ret = size_parse(s, &got, &why);

	if (!tap_ok(ret == 0 && got == want, "'%s' is %llu", s,
		    (unsigned long long)want))
		tap_diag("expected 0 and %llu, got %d (%s) and %llu",
			 (unsigned long long)want, ret, why ? why : "-",
			 (unsigned long long)got);
}

/* @s fails with @err, leaves the output alone, and says @reason. */
static void bad(const char *s, int err, const char *reason)
{
	uint64_t got = SENTINEL;
	const char *why = NULL;
	int ret = size_parse(s, &got, &why);

	if (!tap_ok(ret == err && got == SENTINEL && why &&
			    !strncmp(why, reason, strlen(reason)),
		    "'%s' is refused: %s", s ? s : "(null)", reason))
		tap_diag("expected %d (%s) and the output untouched, got %d "
			 "(%s) and 0x%llx",
			 err, reason, ret, why ? why : "no reason",
			 (unsigned long long)got);
}

static void test_decimal(void)
{
	good("0", 0);
	good("1", 1);
	good("4096", 4096);
	good("0010", 10); /* leading zeros: still decimal, not octal */
	good("18446744073709551615", UINT64_MAX);
}

static void test_units(void)
{
	good("4k", 4096);
	good("4K", 4096);
	good("1m", 1ull << 20);
	good("1M", 1ull << 20);
	good("1MiB", 1ull << 20);
	good("1MB", 1ull << 20);
	good("64M", 64ull << 20);
	good("2G", 2ull << 30);
	good("3T", 3ull << 40);
	good("5P", 5ull << 50);
	good("1E", 1ull << 60);
	good("15E", 15ull << 60);
	good("0E", 0);
	good("16777215T", 16777215ull << 40);
}

static void test_hex(void)
{
	good("0x10", 16);
	good("0X1f", 31);
	good("0xFF", 255);
	good("0xffffffffffffffff", UINT64_MAX);
	good("0x10k", 16 << 10);
	good("0x1e", 30); /* e is a digit in hex, not the unit */
	good("0x1M", 1ull << 20);
	bad("0x", -EINVAL, "no hex digits");
	bad("0xg", -EINVAL, "no hex digits");
	bad("0x-1", -EINVAL, "no hex digits");
}

static void test_overflow(void)
{
	bad("18446744073709551616", -ERANGE, "too large");
	bad("99999999999999999999999999", -ERANGE, "too large");
	bad("0x10000000000000000", -ERANGE, "too large");
	bad("16E", -ERANGE, "too large");
	bad("16384P", -ERANGE, "too large");
	bad("16777216T", -ERANGE, "too large");
	bad("18446744073709551615k", -ERANGE, "too large");
}

static void test_refused(void)
{
	bad(NULL, -EINVAL, "empty");
	bad("", -EINVAL, "empty");
	bad("-1", -EINVAL, "negative");
	bad("-0", -EINVAL, "negative");
	bad("-4k", -EINVAL, "negative");
	bad("+1", -EINVAL, "not a number");
	bad(" 1", -EINVAL, "not a number");
	bad(" -5", -EINVAL, "not a number");
	bad("k", -EINVAL, "not a number");
	bad("lots", -EINVAL, "not a number");
	bad("1x", -EINVAL, "unknown unit");
	bad("12Q", -EINVAL, "unknown unit");
	bad("4B", -EINVAL, "unknown unit");
	bad("4.5M", -EINVAL, "unknown unit");
	bad("4 k", -EINVAL, "unknown unit");
	bad("1 ", -EINVAL, "unknown unit");
	bad("4kz", -EINVAL, "junk after the unit");
	bad("4kib", -EINVAL, "junk after the unit");
	bad("4KIB", -EINVAL, "junk after the unit");
	bad("1MiBs", -EINVAL, "junk after the unit");
	bad("1M ", -EINVAL, "junk after the unit");
	bad("1kk", -EINVAL, "junk after the unit");
}

int main(void)
{
	test_decimal();
	test_units();
	test_hex();
	test_overflow();
	test_refused();
	return tap_done();
}
