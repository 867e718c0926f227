// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * replay.c - runs a fuzz harness without libFuzzer: each argument is an
 * input file, or a directory whose files are all inputs (sorted by name,
 * not recursive).  Linked with one harness, it builds with any compiler,
 * so the committed corpus and crashers replay under gcc, valgrind or the
 * sanitizer build.  Prints "replay: N inputs" and exits 0; a harness that
 * finds a bug aborts, naming the input on the line before.
 * IOMAPFS_FUZZ_VERBOSE=1 names every input as it runs.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static bool verbose;

static int run_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nb;

			cap = cap ? 2 * cap : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				fprintf(stderr, "replay: %s: out of memory\n",
					path);
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (!n)
			break;
		len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	/* Crashes name the input: stderr is unbuffered, the abort follows. */
	setenv("IOMAPFS_FUZZ_INPUT", path, 1);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned long *count)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		char *path;

		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? 2 * cap : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				ret = -ENOMEM;
				goto out_free;
			}
			names = nn;
		}
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			ret = -ENOMEM;
			goto out_free;
		}
		names[n++] = path;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && !ret; i++) {
		struct stat st;

		if (stat(names[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		ret = run_file(names[i]);
		if (!ret)
			(*count)++;
	}
out_free:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	if (ret == -ENOMEM)
		fprintf(stderr, "replay: %s: out of memory\n", dir);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	const char *v = getenv("IOMAPFS_FUZZ_VERBOSE");
	int i;

	verbose = v && *v && strcmp(v, "0");
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count)
					: run_file(argv[i]))
			return 1;
		if (!S_ISDIR(st.st_mode))
			count++;
	}
	printf("replay: %lu inputs\n", count);
	return 0;
}
