// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-fdio-grow.c - unit tests of two small shared helpers: grow_one()
 * (shared/grow.h: the first capacity, room left alone, doubling with the
 * contents kept, the overflows refused with the array untouched) and
 * fdio_pwrite_all() (shared/fdio.c: bytes where they belong, a short write
 * continued, errors as -errno).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fdio.h"
#include "grow.h"
#include "tap.h"

static void test_grow(void)
{
	size_t cap = 0, i;
	int *arr = NULL, *got;

	got = grow_one(arr, 0, &cap, sizeof(*arr), 4);
	tap_ok(got != NULL, "an empty array gets the first capacity");
	tap_eq_u64(cap, 4, "its capacity is the first size");
	arr = got;
	for (i = 0; i < 4; i++)
		arr[i] = (int)i * 7;
	got = grow_one(arr, 3, &cap, sizeof(*arr), 4);
	tap_ok(got == arr, "an array with room is not moved");
	tap_eq_u64(cap, 4, "nor its capacity changed");
	got = grow_one(arr, 4, &cap, sizeof(*arr), 4);
	tap_ok(got != NULL, "a full array grows");
	tap_eq_u64(cap, 8, "to twice its capacity");
	arr = got;
	for (i = 0; i < 4 && arr[i] == (int)i * 7; i++)
		;
	tap_eq_u64(i, 4, "with its elements kept");
	free(arr);

	/*
	 * Doubling would wrap, or the bytes would not fit a size_t: refused
	 * before realloc() (the capacities claimed are far beyond @arr's).
	 */
	arr = malloc(sizeof(*arr));
	if (!tap_ok(arr != NULL, "a small array"))
		return;
	cap = SIZE_MAX / 2 + 1;
	got = grow_one(arr, cap, &cap, 1, 4);
	tap_ok(got == NULL, "a capacity that would wrap is refused");
	tap_eq_u64(cap, SIZE_MAX / 2 + 1, "and the capacity left alone");
	cap = 4;
	got = grow_one(arr, 4, &cap, SIZE_MAX / 4, 4);
	tap_ok(got == NULL, "a size in bytes past SIZE_MAX is refused");
	tap_eq_u64(cap, 4, "and the capacity left alone");
	free(arr);
}

static void test_fdio(void)
{
	char path[] = "/tmp/test-fdio-XXXXXX", buf[300], back[300];
	struct rlimit old, lim;
	int fd, pfd[2], i;

	fd = mkstemp(path);
	if (!tap_ok(fd >= 0, "a scratch file")) {
		tap_diag("mkstemp: %s", strerror(errno));
		return;
	}
	unlink(path);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 13 + 1);
	tap_eq_int(fdio_pwrite_all(fd, buf, 100, 0), 0, "a write at 0");
	tap_eq_int(fdio_pwrite_all(fd, buf + 100, 200, 4096), 0,
		   "a write past the end");
	memset(back, 0, sizeof(back));
	tap_eq_int(pread(fd, back, 100, 0), 100, "the first one reads back");
	tap_ok(!memcmp(back, buf, 100), "byte for byte");
	tap_eq_int(pread(fd, back, 200, 4096), 200, "the second one too");
	tap_ok(!memcmp(back, buf + 100, 200), "byte for byte at its offset");

	/* A file size limit makes the kernel write part, then refuse. */
	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_FSIZE, &old) == 0) {
		lim = old;
		lim.rlim_cur = 8192 + 50;
		if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
			tap_eq_int(fdio_pwrite_all(fd, buf, 100, 8192), -EFBIG,
				   "a short write goes on, to the error");
			setrlimit(RLIMIT_FSIZE, &old);
			tap_eq_int(pread(fd, back, 100, 8192), 50,
				   "the part the kernel took is there");
			tap_ok(!memcmp(back, buf, 50), "byte for byte");
		}
	}
	close(fd);

	tap_eq_int(fdio_pwrite_all(fd, buf, 10, 0), -EBADF,
		   "a closed descriptor: -EBADF");
	if (pipe(pfd) == 0) {
		tap_eq_int(fdio_pwrite_all(pfd[1], buf, 10, 0), -ESPIPE,
			   "a pipe: -ESPIPE");
		close(pfd[0]);
		close(pfd[1]);
	}
	tap_eq_int(fdio_pwrite_all(-1, buf, 0, 0), 0,
		   "nothing to write: no call at all");
}

int main(void)
{
	test_grow();
	test_fdio();
	return tap_done();
}
