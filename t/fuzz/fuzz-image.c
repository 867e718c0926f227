// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-image.c - materializes the built-in seed images and keeps the
 * scratch files the ext2 harnesses hand to libext2fs (see fuzz-image.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-image.h"
#include "fuzz.h"

#define FUZZ_MAX_SCRATCH 4

static char scratch[FUZZ_MAX_SCRATCH][256];
static unsigned int nscratch;

void fuzz_image_fill(size_t i, uint8_t *buf)
{
	const struct fuzz_image *im = &fuzz_images[i];
	size_t b;

	memset(buf, 0, im->size);
	for (b = 0; b < im->nblocks; b++) {
		size_t off = (size_t)im->blocks[b].blk * FUZZ_IMAGE_BLOCK;

		if (off + FUZZ_IMAGE_BLOCK > im->size)
			fuzz_fail("image %s: block %u past its end", im->name,
				  (unsigned int)im->blocks[b].blk);
		memcpy(buf + off, im->blocks[b].data, FUZZ_IMAGE_BLOCK);
	}
}

static void remove_scratch(void)
{
	unsigned int i;

	for (i = 0; i < nscratch; i++)
		unlink(scratch[i]);
}

/*
 * A harness that crashes leaves its scratch files behind, and libFuzzer's
 * fork mode crashes on purpose many times: remove those of processes that
 * are gone.
 */
static void remove_stale(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[512];
		long pid;

		if (sscanf(de->d_name, "iomapfs-fuzz-%ld-", &pid) != 1 ||
		    pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     de->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(d);
}

const char *fuzz_scratch_path(const char *tag)
{
	const char *dir = "/dev/shm";
	char *p;

	if (access(dir, W_OK)) {
		dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
	}
	if (nscratch == FUZZ_MAX_SCRATCH)
		fuzz_fail("too many scratch files");
	p = scratch[nscratch];
	if ((size_t)snprintf(p, sizeof(scratch[0]), "%s/iomapfs-fuzz-%ld-%s",
			     dir, (long)getpid(), tag) >= sizeof(scratch[0]))
		fuzz_fail("scratch path too long in %s", dir);
	if (!nscratch) {
		remove_stale(dir);
		atexit(remove_scratch);
	}
	nscratch++;
	return p;
}

void fuzz_scratch_write(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		fuzz_fail("%s: %s", path, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fuzz_fail("%s: write: %s", path,
				  n < 0 ? strerror(errno) : "no progress");
		off += (size_t)n;
	}
	if (close(fd))
		fuzz_fail("%s: close: %s", path, strerror(errno));
}
