// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl-server.c - the control server without FUSE, for the protocol tests:
 * opens an ext2/3/4 image read-only with libext2fs, builds the cache over
 * the shared mapping source, and runs ctl_start() on a minimal struct
 * iomapfs.  Commands on standard input drive the cache the way the data
 * path would, so Dump, Audit and Watch have something to show:
 *   lookup INO OFF          cache_lookup()
 *   invalidate INO OFF LEN  cache_invalidate() (reason write; LEN 0: EOF)
 *   sleep MS                pause (for ordering in scripts)
 *   punch INO OFF LEN       (with -w) free the blocks of a byte range on
 *                           disk WITHOUT telling the cache, so that an
 *                           audit has a stale mapping to find
 * With -w the image is open read-write (SetReadOnly can switch it).
 * It prints "socket PATH" once serving, "ok ..." or "error ..." per
 * command, and stops (removing the socket) at end of input or SIGTERM.
 *
 * Usage: ctl-server [-w] [-s SOCKET] [-g GROUP] [-u OWNER_UID] IMAGE
 *        MOUNTPOINT
 *        ctl-server -M
 * MOUNTPOINT only names the socket; nothing is mounted.  -M prints the
 * names of the server's method table in table order, one per line, and
 * exits (t4160 checks that the order is sorted).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "ctl.h"
#include "ctl_methods.h"
#include "dirindex.h"
#include "ext2map.h"
#include "fs.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void command(struct iomapfs *fsx, char *line)
{
	unsigned long long a = 0, b = 0, c = 0;
	struct iomap m;
	int ret;

	if (sscanf(line, "lookup %llu %llu", &a, &b) == 2) {
		ret = cache_lookup(fsx->cache, a, b, &m);
		if (ret)
			printf("error lookup: %s\n", strerror(-ret));
		else
			printf("ok %llu %" PRIu64 " %" PRIu64 " %s\n", a,
			       m.offset, m.length, iomap_type_name(m.type));
	} else if (sscanf(line, "invalidate %llu %llu %llu", &a, &b, &c) ==
		   3) {
		cache_invalidate(fsx->cache, a, b, c ? c : UINT64_MAX,
				 CACHE_R_WRITE);
		printf("ok\n");
	} else if (sscanf(line, "punch %llu %llu %llu", &a, &b, &c) == 3) {
		errcode_t err;
		blk64_t first = b / fsx->blocksize;
		blk64_t last = (b + c) / fsx->blocksize - 1;

		fs_lock(fsx);
		err = ext2fs_punch(fsx->fs, (ext2_ino_t)a, NULL, NULL, first,
				   last);
		if (!err)
			err = ext2fs_flush(fsx->fs);
		fs_unlock(fsx);
		if (err)
			printf("error punch: %s\n", iomap_ext2_strerror(err));
		else
			printf("ok\n");
	} else if (sscanf(line, "sleep %llu", &a) == 1) {
		usleep((useconds_t)(a * 1000));
		printf("ok\n");
	} else {
		printf("error unknown command: %s", line);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct iomapfs fsx = { 0 };
	struct ctl_server *srv;
	struct sigaction sa = { .sa_handler = on_signal };
	char line[256], *img;
	errcode_t err;
	int opt, ret, flags = EXT2_FLAG_64BITS;

	fsx.owner_uid = getuid();
	fsx.owner_gid = getgid();
	while ((opt = getopt(argc, argv, "Mws:g:u:")) != -1) {
		switch (opt) {
		case 'M':
			for (size_t i = 0; i < ctl_methods_count; i++)
				printf("%s\n", ctl_methods[i].name);
			return fflush(stdout) ? 1 : 0;
		case 'w':
			flags |= EXT2_FLAG_RW;
			break;
		case 's':
			fsx.opts.ctl_socket = optarg;
			break;
		case 'g':
			fsx.opts.ctl_group = optarg;
			break;
		case 'u':
			fsx.owner_uid = (uid_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: ctl-server [-w] [-s SOCKET] "
				"[-g GROUP] [-u UID] IMAGE MOUNTPOINT\n"
				"       ctl-server -M\n");
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "ctl-server: need IMAGE and MOUNTPOINT\n");
		return 2;
	}
	img = realpath(argv[optind], NULL);
	if (!img) {
		fprintf(stderr, "ctl-server: %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	fsx.source = img;
	fsx.mountpoint = argv[optind + 1];
	fsx.ro_now = !(flags & EXT2_FLAG_RW);
	fsx.dev_fd = -1;
	clock_gettime(CLOCK_REALTIME, &fsx.start_time);
	pthread_mutex_init(&fsx.fs_lock, NULL);
	err = ext2fs_open(img, flags, 0, 0, unix_io_manager, &fsx.fs);
	if (!err && (flags & EXT2_FLAG_RW))
		err = ext2fs_read_bitmaps(fsx.fs);
	if (err) {
		fprintf(stderr, "ctl-server: %s: %s\n", img,
			iomap_ext2_strerror(err));
		return 1;
	}
	fsx.blocksize = fsx.fs->blocksize;
	/* SetReadOnly syncs the device, as the daemon's dev_fd. */
	if (flags & EXT2_FLAG_RW) {
		fsx.dev_fd = open(img, O_RDWR | O_CLOEXEC);
		if (fsx.dev_fd < 0) {
			fprintf(stderr, "ctl-server: %s: %s\n", img,
				strerror(errno));
			return 1;
		}
	}
	fsx.cache = cache_new(NULL, true, fs_map_source, &fsx);
	if (!fsx.cache) {
		fprintf(stderr, "ctl-server: cache_new: %s\n",
			strerror(errno));
		return 1;
	}
	fsx.dix = dix_new(DIX_DEFAULT_MAX_BYTES);
	if (!fsx.dix) {
		fprintf(stderr, "ctl-server: dix_new: out of memory\n");
		return 1;
	}
	ret = ctl_start(&fsx, &srv);
	if (ret) {
		fprintf(stderr, "ctl-server: ctl_start: %s\n",
			strerror(-ret));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("socket %s\n", ctl_socket_path(srv));
	fflush(stdout);
	/* No SA_RESTART: a signal makes fgets() return NULL. */
	while (!stop && fgets(line, sizeof(line), stdin))
		command(&fsx, line);
	ctl_stop(srv);
	cache_free(fsx.cache);
	dix_free(fsx.dix);
	ext2fs_close_free(&fsx.fs);
	if (fsx.dev_fd >= 0)
		close(fsx.dev_fd);
	free(img);
	return 0;
}
