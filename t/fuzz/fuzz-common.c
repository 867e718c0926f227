// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-common.c - the failure report every harness shares (see fuzz.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void fuzz_fail(const char *fmt, ...)
{
	const char *input = getenv("IOMAPFS_FUZZ_INPUT");
	va_list ap;

	if (input)
		fprintf(stderr, "fuzz: input %s\n", input);
	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}
