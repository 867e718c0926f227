/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz.h - what every fuzz harness under t/fuzz/ shares: the two entry
 * points libFuzzer calls (each harness defines both; replay.c calls them
 * without libFuzzer, so the harnesses also run under gcc and valgrind), a
 * reader that decodes numbers from the fuzz input without ever reading
 * past its end, and fuzz_fail(), which reports a divergence or a broken
 * invariant and aborts: libFuzzer and the replay driver both treat an
 * abort as a crash and keep the input.
 */
#ifndef IOMAPFS_FUZZ_H
#define IOMAPFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Called once before the first input; may change nothing in argv. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Runs one input; always returns 0 (a failure aborts). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print "fuzz: <what>" with the printf-style details to stderr, abort. */
__attribute__((noreturn, format(printf, 1, 2)))
void fuzz_fail(const char *fmt, ...);

#define FUZZ_ASSERT(cond, ...)                                               \
	do {                                                                 \
		if (!(cond))                                                 \
			fuzz_fail(__VA_ARGS__);                              \
	} while (0)

/* The input as a stream of bytes; reads past the end give zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline void fuzz_in_init(struct fuzz_in *in, const uint8_t *data,
				size_t size)
{
	in->p = data;
	in->left = size;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* @n bytes (at most 8), little endian. */
static inline uint64_t fuzz_bytes(struct fuzz_in *in, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)fuzz_u8(in) << (8 * i);
	return v;
}

/* The part of the input not read yet, and consume it. */
static inline const uint8_t *fuzz_rest(struct fuzz_in *in, size_t *len)
{
	const uint8_t *p = in->p;

	*len = in->left;
	in->p += in->left;
	in->left = 0;
	return p;
}

#endif /* IOMAPFS_FUZZ_H */
