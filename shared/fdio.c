// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fdio.c - whole writes on a file descriptor (fdio.h): the one loop over
 * pwrite()'s short writes and EINTR, for the daemon's data path and the
 * journal replay.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <sys/types.h>
#include <unistd.h>

#include "fdio.h"

int fdio_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		/* pwrite() of more than SSIZE_MAX is implementation-defined. */
		n = pwrite(fd, p, len < SSIZE_MAX ? len : SSIZE_MAX,
			   (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}
