// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-ctl.c - fuzz harness for the control server's request handling
 * (daemon/ctl_server.c and ctl_methods.c), driven the only way it can be:
 * through its socket.  The server runs in this process, as
 * t/helper/ctl-server runs it (no FUSE): over the built-in ext4 seed image
 * opened read-only, with the real cache (daemon/cache.c) filled from the
 * real mapping source.  For each input:
 *   byte 0     low 4 bits: send the rest in chunks of 2^(n-1) bytes (0:
 *              in one send); 0x10: close the connection right after
 *              sending, without reading a reply;
 *   the rest   the bytes sent on one new connection, then shut down for
 *              writing.
 * The harness reads until the server closes (or stays quiet for
 * FUZZ_QUIET_MS, as a Watch does), and every byte it gets must form
 * NUL-terminated Varlink replies: JSON objects with only "parameters" (an
 * object), "continues" (a boolean) and "error" (an interface.Error name).
 * Then a fresh connection must still get an answer to GetStatus within
 * FUZZ_ALIVE_MS: an input that wedges or kills the server is a bug, as is
 * any crash or sanitizer report.  Before each input the cache is set back
 * to its defaults and refilled, so that inputs do not depend on each
 * other (beyond what the server keeps, such as connections closing).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cache.h"
#include "ctl.h"
#include "ext2map.h"
#include "fs.h"
#include "fuzz-image.h"
#include "fuzz.h"
#include "varlink.h"

#define FUZZ_QUIET_MS 50
#define FUZZ_ALIVE_MS 5000
/* More reply bytes than any seed input can ask for: a runaway server. */
#define FUZZ_MAX_REPLY_BYTES (64u << 20)

static struct iomapfs fsx;
static struct ctl_server *srv;
static char *inbuf;
static size_t inbuf_cap;
static bool verbose;		/* IOMAPFS_FUZZ_VERBOSE: show the replies */

static void stop_server(void)
{
	ctl_stop(srv);
	srv = NULL;
	cache_free(fsx.cache);
	fsx.cache = NULL;
	ext2fs_close_free(&fsx.fs);
	free(inbuf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *img, *sock, *v = getenv("IOMAPFS_FUZZ_VERBOSE");
	uint8_t *buf;
	size_t i;
	errcode_t err;
	int ret;

	verbose = v && *v && strcmp(v, "0");
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < fuzz_nimages; i++)
		if (!strcmp(fuzz_images[i].name, "ext4"))
			break;
	if (i == fuzz_nimages)
		fuzz_fail("no ext4 seed image built in");
	buf = malloc(fuzz_images[i].size);
	if (!buf)
		fuzz_fail("out of memory for the image");
	fuzz_image_fill(i, buf);
	img = fuzz_scratch_path("ctl.img");
	fuzz_scratch_write(img, buf, fuzz_images[i].size);
	free(buf);
	sock = fuzz_scratch_path("ctl.sock");
	unlink(sock);

	fsx.source = (char *)img;
	fsx.mountpoint = (char *)"/fuzz";
	fsx.opts.ctl_socket = (char *)sock;
	fsx.owner_uid = getuid();
	fsx.owner_gid = getgid();
	fsx.ro_now = true;
	fsx.dev_fd = -1;
	clock_gettime(CLOCK_REALTIME, &fsx.start_time);
	pthread_mutex_init(&fsx.fs_lock, NULL);
	err = ext2fs_open(img, EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
			  &fsx.fs);
	if (err)
		fuzz_fail("%s: %s", img, iomap_ext2_strerror(err));
	fsx.blocksize = fsx.fs->blocksize;
	fsx.cache = cache_new(NULL, true, fs_map_source, &fsx);
	if (!fsx.cache)
		fuzz_fail("cache_new: %s", strerror(errno));
	ret = ctl_start(&fsx, &srv);
	if (ret)
		fuzz_fail("ctl_start: %s", strerror(-ret));
	atexit(stop_server);
	return 0;
}

static void reset_cache(void)
{
	struct cache_limits lim = {
		.max_bytes = CACHE_DEFAULT_MAX_BYTES,
		.inode_max_bytes = CACHE_DEFAULT_INODE_MAX_BYTES,
		.event_ring = CACHE_DEFAULT_EVENT_RING,
	};
	struct iomap m;
	uint64_t ino;

	cache_set_enabled(fsx.cache, true);
	if (cache_set_limits(fsx.cache, &lim))
		fuzz_fail("cache_set_limits refused the defaults");
	cache_flush(fsx.cache, 0, 0, 0);
	/* Files of the seed image (make-corpus): some answers are
	 * errors (symlinks, directories past EOF), which is fine. */
	for (ino = 2; ino <= 20; ino++) {
		cache_lookup(fsx.cache, ino, 0, &m);
		cache_lookup(fsx.cache, ino, 8192, &m);
	}
}

static int connect_server(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = ctl_socket_path(srv);
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fuzz_fail("socket: %s", strerror(errno));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fuzz_fail("connect %s: %s", path, strerror(errno));
	return fd;
}

static void check_reply(const char *text, size_t len)
{
	char err[VARLINK_ERRMSG_SIZE];
	const char *key;
	json_t *msg, *v;

	if (varlink_parse(text, len, &msg, err))
		fuzz_fail("the server sent a malformed message (%s): %.*s",
			  err, (int)(len > 200 ? 200 : len), text);
	json_object_foreach(msg, key, v) {
		if (!strcmp(key, "parameters") ? !json_is_object(v)
		    : !strcmp(key, "continues") ? !json_is_boolean(v)
		    : !strcmp(key, "error") ? !json_is_string(v) ||
						  !strchr(json_string_value(v),
							  '.')
					    : true)
			fuzz_fail("the server sent a bad reply: %.*s",
				  (int)(len > 200 ? 200 : len), text);
	}
	json_decref(msg);
}

/* Read replies on @fd until EOF, or quiet for FUZZ_QUIET_MS. */
static void read_replies(int fd)
{
	size_t len = 0, total = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nul;
		ssize_t n;
		int r;

		r = poll(&p, 1, FUZZ_QUIET_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (len == inbuf_cap) {
			char *nb;

			inbuf_cap = inbuf_cap ? 2 * inbuf_cap : 65536;
			nb = realloc(inbuf, inbuf_cap);
			if (!nb)
				fuzz_fail("out of memory for replies");
			inbuf = nb;
		}
		n = recv(fd, inbuf + len, inbuf_cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET)
			break;
		if (n < 0)
			fuzz_fail("recv: %s", strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		total += (size_t)n;
		if (total > FUZZ_MAX_REPLY_BYTES)
			fuzz_fail("more than %u bytes of replies",
				  FUZZ_MAX_REPLY_BYTES);
		while ((nul = memchr(inbuf, 0, len))) {
			size_t one = (size_t)(nul - inbuf);

			check_reply(inbuf, one);
			if (verbose)
				fprintf(stderr, "ctl: reply: %.*s\n",
					(int)(one > 160 ? 160 : one), inbuf);
			memmove(inbuf, nul + 1, len - one - 1);
			len -= one + 1;
		}
	}
	if (len > VARLINK_MAX_REPLY_DEFAULT)
		fuzz_fail("%zu bytes of a reply with no end", len);
}

/* The server must still answer a well-behaved client. */
static void check_alive(void)
{
	struct varlink_conn *c;
	struct varlink_reply r;
	int ret;

	ret = varlink_connect(ctl_socket_path(srv), &c);
	if (ret)
		fuzz_fail("the server no longer accepts: %s", strerror(-ret));
	varlink_conn_set_timeout(c, FUZZ_ALIVE_MS);
	ret = varlink_call(c, "io.iomapfs.Cache.GetStatus", NULL, 0);
	if (!ret)
		ret = varlink_recv_reply(c, &r);
	if (ret)
		fuzz_fail("the server no longer answers GetStatus: %s (%s)",
			  strerror(-ret), varlink_conn_error(c));
	if (r.error)
		fuzz_fail("GetStatus failed: %s", r.error);
	varlink_reply_clear(&r);
	varlink_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 1, chunk;
	uint8_t mode;
	int fd;

	if (!size)
		return 0;
	mode = data[0];
	chunk = (mode & 0x0f) ? (size_t)1 << ((mode & 0x0f) - 1) : size;
	reset_cache();
	fd = connect_server();
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t w = send(fd, data + off, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;	/* the server gave up on us: allowed */
		if (w < 0)
			fuzz_fail("send: %s", strerror(errno));
		off += (size_t)w;
	}
	if (!(mode & 0x10)) {
		shutdown(fd, SHUT_WR);
		read_replies(fd);
	}
	close(fd);
	check_alive();
	return 0;
}
