/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap.h - a tiny TAP producer for the C unit tests under t/unit.  Each
 * check prints "ok N - name" or "not ok N - name" followed by a diagnostic
 * that says what was expected and what was got, so a failing log explains
 * itself.  tap_done() prints the plan and returns the exit status.
 */
#ifndef IOMAPFS_TAP_H
#define IOMAPFS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count;
static int tap_failed;

static inline __attribute__((format(printf, 2, 3)))
int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static inline __attribute__((format(printf, 1, 2)))
void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Compare two unsigned 64-bit values, printing both on failure. */
#define tap_eq_u64(got, want, ...)					\
	do {								\
		uint64_t tap_g_ = (uint64_t)(got);			\
		uint64_t tap_w_ = (uint64_t)(want);			\
		if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))		\
			tap_diag("expected %s = 0x%" PRIx64		\
				 ", got 0x%" PRIx64, #got, tap_w_, tap_g_); \
	} while (0)

/* Compare two ints (return codes), printing both on failure. */
#define tap_eq_int(got, want, ...)					\
	do {								\
		long long tap_g_ = (long long)(got);			\
		long long tap_w_ = (long long)(want);			\
		if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))		\
			tap_diag("expected %s = %lld, got %lld",	\
				 #got, tap_w_, tap_g_);			\
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		tap_diag("%d of %d checks failed", tap_failed, tap_count);
	return tap_failed ? 1 : 0;
}

#endif /* IOMAPFS_TAP_H */
