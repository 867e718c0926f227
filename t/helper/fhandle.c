// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fhandle.c - file handles for the shell tests: name_to_handle_at(2) and
 * open_by_handle_at(2), the calls NFS servers and backup tools use to name
 * a file by something that survives renames and cache eviction.  A handle
 * is printed as its type and bytes in hex, one line, so a test can keep
 * it, edit it (a hostile handle) and give it back.  open_by_handle_at
 * needs CAP_DAC_READ_SEARCH.
 *
 * Usage:
 *   fhandle get PATH              print "TYPE HEX" of PATH's handle
 *   fhandle open MOUNT TYPE HEX   open the handle on the filesystem of
 *                                 MOUNT; print "ino N" and, for a regular
 *                                 file, its first line ("data ...");
 *                                 or the errno name (ESTALE, ...)
 *   fhandle fuse NODEID GEN       print a handle as the kernel's FUSE makes
 *                                 them (FILEID_INO64_GEN: the node id's
 *                                 high and low 32 bits, the generation),
 *                                 for any node id and generation
 * Exit status: 0 (also when a call failed and its errno was printed),
 * 2 usage or a handle that does not parse.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FH_MAX 128 /* MAX_HANDLE_SZ in the kernel */

/* The name of @err, for the errors a handle can give. */
static const char *errname(int err)
{
	static char buf[16];

	switch (err) {
	case ESTALE:
		return "ESTALE";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EIO:
		return "EIO";
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENOTDIR:
		return "ENOTDIR";
	case EOVERFLOW:
		return "EOVERFLOW";
	case ENOMEM:
		return "ENOMEM";
	default:
		snprintf(buf, sizeof(buf), "errno %d", err);
		return buf;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: fhandle get PATH\n"
			"       fhandle open MOUNT TYPE HEX\n"
			"       fhandle fuse NODEID GEN\n");
	return 2;
}

/* Print @fh as "TYPE HEX". */
static void print_handle(const struct file_handle *fh)
{
	unsigned int i;

	printf("%d ", fh->handle_type);
	for (i = 0; i < fh->handle_bytes; i++)
		printf("%02x", fh->f_handle[i]);
	printf("\n");
}

static int cmd_get(const char *path)
{
	struct file_handle *fh;
	int mount_id;

	fh = malloc(sizeof(*fh) + FH_MAX);
	if (!fh) {
		perror("fhandle");
		return 1;
	}
	fh->handle_bytes = FH_MAX;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0)) {
		printf("%s\n", errname(errno));
		free(fh);
		return 0;
	}
	print_handle(fh);
	free(fh);
	return 0;
}

static int cmd_fuse(const char *nodeid, const char *gen)
{
	union {
		struct file_handle fh;
		char room[sizeof(struct file_handle) + 3 * sizeof(uint32_t)];
	} u;
	uint32_t words[3];
	unsigned long long id, g;
	char *end, *gend;

	errno = 0;
	id = strtoull(nodeid, &end, 0);
	g = strtoull(gen, &gend, 0);
	if (errno || *end || *gend || end == nodeid || gend == gen ||
	    g > UINT32_MAX)
		return usage();
	words[0] = (uint32_t)(id >> 32);
	words[1] = (uint32_t)id;
	words[2] = (uint32_t)g;
	u.fh.handle_type = 0x81; /* FILEID_INO64_GEN */
	u.fh.handle_bytes = sizeof(words);
	memcpy(u.fh.f_handle, words, sizeof(words));
	print_handle(&u.fh);
	return 0;
}

/* Parse "TYPE HEX" into @fh (room for FH_MAX bytes). */
static int parse_handle(const char *type, const char *hex,
			struct file_handle *fh)
{
	size_t len = strlen(hex), i;
	char *end;
	long t;

	errno = 0;
	t = strtol(type, &end, 0);
	if (errno || *end || end == type || t < 0 || t > 0xffff || len % 2 ||
	    len / 2 > FH_MAX)
		return -1;
	fh->handle_type = (int)t;
	fh->handle_bytes = (unsigned int)(len / 2);
	for (i = 0; i < len / 2; i++) {
		char byte[3] = {hex[2 * i], hex[2 * i + 1], 0};
		unsigned long v = strtoul(byte, &end, 16);

		if (*end)
			return -1;
		fh->f_handle[i] = (unsigned char)v;
	}
	return 0;
}

static int cmd_open(const char *mount, const char *type, const char *hex)
{
	struct file_handle *fh;
	struct stat st;
	char line[256];
	int mfd, fd;
	ssize_t n;

	fh = malloc(sizeof(*fh) + FH_MAX);
	if (!fh) {
		perror("fhandle");
		return 1;
	}
	if (parse_handle(type, hex, fh)) {
		fprintf(stderr, "fhandle: bad handle \"%s %s\"\n", type, hex);
		free(fh);
		return 2;
	}
	mfd = open(mount, O_RDONLY | O_DIRECTORY);
	if (mfd < 0) {
		perror(mount);
		free(fh);
		return 1;
	}
	fd = open_by_handle_at(mfd, fh, O_RDONLY);
	free(fh);
	close(mfd);
	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 0;
	}
	if (fstat(fd, &st)) {
		perror("fstat");
		close(fd);
		return 1;
	}
	printf("ino %llu\n", (unsigned long long)st.st_ino);
	if (S_ISREG(st.st_mode)) {
		n = pread(fd, line, sizeof(line) - 1, 0);
		if (n < 0) {
			printf("%s\n", errname(errno));
			n = 0;
		}
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
		printf("data %s\n", line);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "get"))
		return cmd_get(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "open"))
		return cmd_open(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "fuse"))
		return cmd_fuse(argv[2], argv[3]);
	return usage();
}
