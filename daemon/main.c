// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main.c - iomapfs, the mount daemon: parses the command line, checks the
 * source (resolving LABEL=/UUID=, probing its type with libblkid, taking
 * an exclusive lock) and the mountpoint, opens the filesystem, mounts it
 * through FUSE, runs the multithreaded session loop and unwinds it all in
 * reverse order.  Every refusal has its own message and exit code
 * (IOMAPFS_EXIT_*, documented in iomapfs(8)), and all of them reach the
 * terminal: the daemon detaches only once the mount succeeded.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "busy.h"
#include "ctl.h"
#include "devio.h"
#include "dirindex.h"
#include "discard.h"
#include "fs.h"
#include "inode_free.h"
#include "journal.h"
#include "mntopts.h"
#include "ops.h"
#include "orphan.h"
#include "remount.h"
#include "replay.h"
#include "size.h"

/* Exit codes; iomapfs(8) lists them. */
enum {
	IOMAPFS_EXIT_OK = 0,
	IOMAPFS_EXIT_FAIL = 1,	     /* mount or run-time failure */
	IOMAPFS_EXIT_USAGE = 2,	     /* bad command line or option value */
	IOMAPFS_EXIT_NOSOURCE = 3,   /* SOURCE does not exist */
	IOMAPFS_EXIT_BADSOURCE = 4,  /* SOURCE is a directory or the like */
	IOMAPFS_EXIT_NOTEXT = 5,     /* SOURCE holds no ext2/3/4 */
	IOMAPFS_EXIT_MOUNTPOINT = 6, /* MOUNTPOINT missing or no directory */
	IOMAPFS_EXIT_BUSY = 7,	     /* SOURCE mounted or locked already */
	IOMAPFS_EXIT_FSCK = 8,	     /* needs e2fsck before a rw mount */
	IOMAPFS_EXIT_JOURNAL_DEV = 9,  /* journal to replay on another device */
	IOMAPFS_EXIT_JOURNAL_FEAT = 10, /* unknown incompatible journal feature */
	IOMAPFS_EXIT_FAST_COMMIT = 11, /* fast commits to replay (rw) */
	IOMAPFS_EXIT_REPLAY_MAX = 12,  /* ro replay would pass replay_max */
};

#define IOMAPFS_DEFAULT_THREADS 8u
#define IOMAPFS_MAX_THREADS	256u

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_FOREGROUND,
	KEY_DEBUG,
	KEY_RO,
	KEY_RW,
	KEY_FAKEROOT,
	KEY_ALLOW_OTHER,
	KEY_CACHE_ON,
	KEY_CACHE_OFF,
	KEY_WRITEBACK_ON,
	KEY_WRITEBACK_OFF,
	KEY_CACHE_MAX,
	KEY_CACHE_INODE_MAX,
	KEY_DIR_INDEX_MAX,
	KEY_REPLAY_MAX,
	KEY_CTL_SOCKET,
	KEY_CTL_GROUP,
	KEY_THREADS,
	KEY_ERRORS,
	KEY_COMMIT,
	KEY_JOURNAL,
	KEY_JOURNAL_TXN_MAX,
	KEY_JOURNAL_CP_MAX,
	KEY_JOURNAL_HISTORY,
	KEY_REMOUNT,
};

/* What the option parser collects besides struct iomapfs_opts. */
struct cmdline {
	struct iomapfs_opts *opts;
	char *source;
	char *mountpoint;
	bool show_help;
	bool show_version;
	bool remount;  /* -o remount: switch a running mount (remount.h) */
	bool ro_given; /* -o ro or -o rw was given */
	bool bad; /* a message was printed; exit 2 */
};

static const struct fuse_opt iomapfs_optspec[] = {
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("rw", KEY_RW),
	FUSE_OPT_KEY("fakeroot", KEY_FAKEROOT),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("iomap_cache", KEY_CACHE_ON),
	FUSE_OPT_KEY("noiomap_cache", KEY_CACHE_OFF),
	FUSE_OPT_KEY("writeback_cache", KEY_WRITEBACK_ON),
	FUSE_OPT_KEY("nowriteback_cache", KEY_WRITEBACK_OFF),
	FUSE_OPT_KEY("cache_max=", KEY_CACHE_MAX),
	FUSE_OPT_KEY("cache_inode_max=", KEY_CACHE_INODE_MAX),
	FUSE_OPT_KEY("dir_index_max=", KEY_DIR_INDEX_MAX),
	FUSE_OPT_KEY("replay_max=", KEY_REPLAY_MAX),
	FUSE_OPT_KEY("ctl_socket=", KEY_CTL_SOCKET),
	FUSE_OPT_KEY("ctl_group=", KEY_CTL_GROUP),
	FUSE_OPT_KEY("threads=", KEY_THREADS),
	FUSE_OPT_KEY("errors=", KEY_ERRORS),
	FUSE_OPT_KEY("commit=", KEY_COMMIT),
	FUSE_OPT_KEY("journal=", KEY_JOURNAL),
	FUSE_OPT_KEY("journal_txn_max=", KEY_JOURNAL_TXN_MAX),
	FUSE_OPT_KEY("journal_cp_max=", KEY_JOURNAL_CP_MAX),
	FUSE_OPT_KEY("journal_history=", KEY_JOURNAL_HISTORY),
	FUSE_OPT_KEY("remount", KEY_REMOUNT),
	FUSE_OPT_END};

static void usage(FILE *out)
{
	fprintf(out, "usage: iomapfs [-o opt,...] [-f] [-d] SOURCE MOUNTPOINT\n"
		     "       iomapfs -h | -V\n");
}

static void help(void)
{
	usage(stdout);
	printf("\n"
	       "Mount the ext2/ext3/ext4 filesystem in SOURCE (an image file, "
	       "a block\n"
	       "device, LABEL=... or UUID=...) on MOUNTPOINT, serving file "
	       "data through\n"
	       "an iomap cache.\n"
	       "\n"
	       "Options:\n"
	       "    -h, --help             show this help and exit\n"
	       "    -V, --version          show the versions and exit\n"
	       "    -f                     stay in the foreground (default: "
	       "detach after mounting)\n"
	       "    -d, -o debug           log every request; implies -f\n"
	       "    -o ro                  mount read-only (default: "
	       "read-write)\n"
	       "    -o rw                  mount read-write (the default)\n"
	       "    -o fakeroot            everyone may do anything; new files "
	       "belong to root\n"
	       "                           (default: off; the kernel checks "
	       "modes and ACLs)\n"
	       "    -o allow_other         let other users than the mounter in "
	       "(default: off)\n"
	       "    -o iomap_cache         cache file mappings (the default)\n"
	       "    -o noiomap_cache       compute every mapping from disk\n"
	       "    -o writeback_cache     gather buffered writes in the "
	       "kernel's page cache\n"
	       "                           (the default)\n"
	       "    -o nowriteback_cache   send every buffered write at once\n"
	       "    -o cache_max=SIZE      memory budget of the cache "
	       "(default: %lluM)\n"
	       "    -o cache_inode_max=SIZE  per-inode cap of the cache "
	       "(default: %lluM)\n"
	       "    -o dir_index_max=SIZE  memory budget of the directory "
	       "index (default: %lluM;\n"
	       "                           0: no index)\n"
	       "    -o replay_max=SIZE     memory for a journal replayed by a "
	       "read-only\n"
	       "                           mount (default: %lluM)\n"
	       "                           SIZE is bytes: 4096, 64M, 0x1000, "
	       "... (man page: SIZES)\n"
	       "    -o ctl_socket=PATH     control socket (default: "
	       "/run/iomapfs/ for root,\n"
	       "                           else $XDG_RUNTIME_DIR/iomapfs/, one "
	       "per mount)\n"
	       "    -o ctl_group=GROUP     group with read-only access to the "
	       "control socket\n"
	       "                           (default: none)\n"
	       "    -o threads=N           at most N request threads, 1-%u "
	       "(default: %u)\n"
	       "    -o errors=continue|remount-ro|panic\n"
	       "                           on corruption: go on, turn "
	       "read-only, or stop\n"
	       "                           (default: continue)\n"
	       "    -o commit=N            commit the journal at most N "
	       "seconds after a change,\n"
	       "                           1-%u (default: %u)\n"
	       "    -o journal_txn_max=SIZE  bound of one transaction "
	       "(default: %lluM, at most\n"
	       "                           a quarter of the log)\n"
	       "    -o journal_cp_max=SIZE memory for committed blocks not "
	       "yet written home\n"
	       "                           (default: %lluM)\n"
	       "    -o journal_history=N   recent transactions `iomapctl "
	       "journal` lists,\n"
	       "                           %u-%u (default: %u)\n"
	       "    -o journal=off         write metadata in place, not "
	       "through the journal:\n"
	       "                           UNSAFE, a crash may need e2fsck "
	       "(for comparisons)\n"
	       "\n",
	       CACHE_DEFAULT_MAX_BYTES >> 20,
	       CACHE_DEFAULT_INODE_MAX_BYTES >> 20,
	       DIX_DEFAULT_MAX_BYTES >> 20, REPLAY_DEFAULT_MAX_BYTES >> 20,
	       IOMAPFS_MAX_THREADS, IOMAPFS_DEFAULT_THREADS,
	       JOURNAL_MAX_COMMIT_SEC, JOURNAL_DEFAULT_COMMIT_SEC,
	       JOURNAL_DEFAULT_TXN_MAX >> 20, JOURNAL_DEFAULT_CP_MAX >> 20,
	       JOURNAL_MIN_HISTORY, JOURNAL_MAX_HISTORY,
	       JOURNAL_DEFAULT_HISTORY);
	mntopt_help(stdout);
	printf("\nFUSE options:\n");
	fflush(stdout);
	fuse_lowlevel_help();
}

static void version(void)
{
	const char *ext2_ver = NULL, *ext2_date = NULL;

	ext2fs_get_library_version(&ext2_ver, &ext2_date);
	printf("iomapfs %s\n", PACKAGE_VERSION);
	printf("libfuse %s\n", fuse_pkgversion());
	printf("libext2fs %s (%s)\n", ext2_ver ? ext2_ver : "?",
	       ext2_date ? ext2_date : "?");
}

/*
 * Parse the SIZE (shared/size.h) of the option @arg, whose value is @val,
 * into *out; it must be at least @min.  Returns 0, or -EINVAL after a
 * message naming the option, the value and what is wrong with it.
 */
static int opt_size(const char *arg, const char *val, uint64_t min,
		    const char *example, uint64_t *out)
{
	const char *why = NULL;
	uint64_t v;

	if (!size_parse(val, &v, &why) && v < min)
		why = "too small";
	if (!why) {
		*out = v;
		return 0;
	}
	if (min)
		fprintf(stderr,
			"iomapfs: bad value in '%s': %s; want a SIZE of at "
			"least %" PRIu64 " bytes (e.g. %s)\n",
			arg, why, min, example);
	else
		fprintf(stderr,
			"iomapfs: bad value in '%s': %s; want a SIZE (e.g. "
			"%s)\n",
			arg, why, example);
	return -EINVAL;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct cmdline *cl = data;
	struct iomapfs_opts *o = cl->opts;
	const char *val = strchr(arg, '=');
	unsigned long n;
	char *end;

	if (val)
		val++;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!cl->source) {
			cl->source = strdup(arg);
			return cl->source ? 0 : -1;
		}
		if (!cl->mountpoint) {
			cl->mountpoint = strdup(arg);
			return cl->mountpoint ? 0 : -1;
		}
		fprintf(stderr, "iomapfs: too many arguments: '%s'\n", arg);
		cl->bad = true;
		return 0;
	case FUSE_OPT_KEY_OPT:
		/* ext4's options (mntopts.c); the rest are FUSE's, which
		 * fuse_session_new() judges */
		switch (mntopt_parse(o, arg)) {
		case MNTOPT_TAKEN:
			return 0;
		case MNTOPT_NOT_OURS:
		case MNTOPT_ALSO_FUSE:
			return 1;
		default:
			cl->bad = true;
			return 0;
		}
	case KEY_HELP:
		cl->show_help = true;
		return 0;
	case KEY_VERSION:
		cl->show_version = true;
		return 0;
	case KEY_FOREGROUND:
		o->foreground = true;
		return 0;
	case KEY_DEBUG:
		o->debug = true;
		o->foreground = true;
		return fuse_opt_add_arg(outargs, "-odebug") ? -1 : 0;
	case KEY_RO:
		o->ro = true;
		cl->ro_given = true;
		return 1;
	case KEY_RW:
		o->ro = false;
		cl->ro_given = true;
		return 1;
	case KEY_REMOUNT:
		cl->remount = true;
		return 0;
	case KEY_FAKEROOT:
		o->fakeroot = true;
		return 0;
	case KEY_ALLOW_OTHER:
		o->allow_other = true;
		return 1;
	case KEY_CACHE_ON:
		o->iomap_cache = true;
		return 0;
	case KEY_CACHE_OFF:
		o->iomap_cache = false;
		return 0;
	case KEY_WRITEBACK_ON:
		o->writeback_cache = true;
		return 0;
	case KEY_WRITEBACK_OFF:
		o->writeback_cache = false;
		return 0;
	case KEY_CACHE_MAX:
		if (opt_size(arg, val, CACHE_MIN_MAX_BYTES, "64M",
			     &o->cache_max))
			cl->bad = true;
		return 0;
	case KEY_CACHE_INODE_MAX:
		if (opt_size(arg, val, CACHE_MIN_INODE_MAX_BYTES, "16M",
			     &o->cache_inode_max))
			cl->bad = true;
		return 0;
	case KEY_DIR_INDEX_MAX:
		if (opt_size(arg, val, 0, "64M, or 0 for no index",
			     &o->dir_index_max))
			cl->bad = true;
		return 0;
	case KEY_REPLAY_MAX:
		if (opt_size(arg, val, 1, "256M", &o->replay_max))
			cl->bad = true;
		return 0;
	case KEY_CTL_SOCKET:
		if (!*val || strlen(val) >= 108) {
			fprintf(stderr,
				"iomapfs: bad value in '%s': want a socket "
				"path of 1 to 107 bytes\n",
				arg);
			cl->bad = true;
			return 0;
		}
		free(o->ctl_socket);
		o->ctl_socket = strdup(val);
		return o->ctl_socket ? 0 : -1;
	case KEY_CTL_GROUP:
		if (!*val) {
			fprintf(stderr,
				"iomapfs: bad value in '%s': want a group name "
				"or number\n",
				arg);
			cl->bad = true;
			return 0;
		}
		free(o->ctl_group);
		o->ctl_group = strdup(val);
		return o->ctl_group ? 0 : -1;
	case KEY_THREADS:
		errno = 0;
		n = strtoul(val, &end, 10);
		if (errno || end == val || *end || *val == '-' || n < 1 ||
		    n > IOMAPFS_MAX_THREADS) {
			fprintf(stderr,
				"iomapfs: bad value in '%s': want a number of "
				"threads from 1 to %u\n",
				arg, IOMAPFS_MAX_THREADS);
			cl->bad = true;
			return 0;
		}
		o->threads = (unsigned int)n;
		return 0;
	case KEY_COMMIT:
		errno = 0;
		n = strtoul(val, &end, 10);
		if (errno || end == val || *end || *val == '-' ||
		    n > JOURNAL_MAX_COMMIT_SEC) {
			fprintf(stderr,
				"iomapfs: bad value in '%s': want a number of "
				"seconds from 0 (the default, %u) to %u\n",
				arg, JOURNAL_DEFAULT_COMMIT_SEC,
				JOURNAL_MAX_COMMIT_SEC);
			cl->bad = true;
			return 0;
		}
		o->commit_sec = (unsigned int)n;
		return 0;
	case KEY_JOURNAL:
		if (!strcmp(val, "off")) {
			o->journal_off = true;
		} else if (!strcmp(val, "on")) {
			o->journal_off = false;
		} else {
			fprintf(stderr,
				"iomapfs: bad value in '%s': want on or off\n",
				arg);
			cl->bad = true;
		}
		return 0;
	case KEY_JOURNAL_TXN_MAX:
		if (opt_size(arg, val, JOURNAL_MIN_TXN_MAX, "8M",
			     &o->journal_txn_max))
			cl->bad = true;
		return 0;
	case KEY_JOURNAL_CP_MAX:
		if (opt_size(arg, val, JOURNAL_MIN_CP_MAX, "64M",
			     &o->journal_cp_max))
			cl->bad = true;
		return 0;
	case KEY_JOURNAL_HISTORY:
		errno = 0;
		n = strtoul(val, &end, 10);
		if (errno || end == val || *end || *val == '-' ||
		    n < JOURNAL_MIN_HISTORY || n > JOURNAL_MAX_HISTORY) {
			fprintf(stderr,
				"iomapfs: bad value in '%s': want a number of "
				"transactions from %u to %u (default %u)\n",
				arg, JOURNAL_MIN_HISTORY, JOURNAL_MAX_HISTORY,
				JOURNAL_DEFAULT_HISTORY);
			cl->bad = true;
			return 0;
		}
		o->journal_history = (unsigned int)n;
		return 0;
	case KEY_ERRORS:
		if (!strcmp(val, "continue")) {
			o->errors = FS_ERRORS_CONTINUE;
		} else if (!strcmp(val, "remount-ro")) {
			o->errors = FS_ERRORS_REMOUNT_RO;
		} else if (!strcmp(val, "panic")) {
			o->errors = FS_ERRORS_PANIC;
		} else {
			fprintf(stderr,
				"iomapfs: bad value in '%s': want continue, "
				"remount-ro or panic\n",
				arg);
			cl->bad = true;
		}
		return 0;
	}
	return 1;
}

/* Whether blkid's type names an ext2/3/4 filesystem. */
static bool is_ext_type(const char *type)
{
	return !strcmp(type, "ext2") || !strcmp(type, "ext3") ||
	       !strcmp(type, "ext4") || !strcmp(type, "ext4dev") ||
	       !strcmp(type, "jbd");
}

/*
 * Check that @path holds ext2/3/4, by libblkid's probe.  Prints why not.
 * Returns 0 or an exit code.
 */
static int probe_source(const char *path)
{
	blkid_probe pr;
	const char *type = NULL;
	int rc, ret = IOMAPFS_EXIT_OK;

	pr = blkid_new_probe_from_filename(path);
	if (!pr) {
		fprintf(stderr, "iomapfs: %s: cannot probe its type: %s\n",
			path, strerror(errno ? errno : EIO));
		return IOMAPFS_EXIT_FAIL;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	rc = blkid_do_safeprobe(pr);
	if (rc == 0)
		blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
	if (rc == 0 && !type &&
	    !blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL)) {
		fprintf(stderr,
			"iomapfs: %s holds a %s partition table, not ext2/3/4: "
			"give a partition\n",
			path, type);
		ret = IOMAPFS_EXIT_NOTEXT;
	} else if (rc == 0 && type && !strcmp(type, "jbd")) {
		fprintf(stderr,
			"iomapfs: %s is an external ext3/4 journal, not a "
			"filesystem\n",
			path);
		ret = IOMAPFS_EXIT_NOTEXT;
	} else if (rc == 0 && type && !is_ext_type(type)) {
		fprintf(stderr, "iomapfs: %s is %s, not ext2/3/4\n", path,
			type);
		ret = IOMAPFS_EXIT_NOTEXT;
	} else if (rc == 1 || (rc == 0 && !type)) {
		fprintf(stderr,
			"iomapfs: %s holds no filesystem that libblkid knows, "
			"not ext2/3/4\n",
			path);
		ret = IOMAPFS_EXIT_NOTEXT;
	} else if (rc == -2) {
		fprintf(stderr,
			"iomapfs: %s holds signatures of several filesystems; "
			"wipe the stale ones (wipefs)\n",
			path);
		ret = IOMAPFS_EXIT_NOTEXT;
	} else if (rc < 0) {
		fprintf(stderr, "iomapfs: %s: cannot probe its type\n", path);
		ret = IOMAPFS_EXIT_FAIL;
	}
	blkid_free_probe(pr);
	return ret;
}

/*
 * The block size of the fuseblk mount of block device @path: the
 * filesystem's (from the primary superblock), so that FIBMAP counts in
 * filesystem blocks as filefrag and iomapctl do, but at most a page, the
 * most the kernel takes; a page when the superblock cannot be read (-o
 * sb= with a broken primary).
 */
static unsigned int blkdev_block_size(const char *path)
{
	unsigned char sb[1024];
	unsigned int page = (unsigned int)sysconf(_SC_PAGESIZE), log, bs;
	ssize_t n = -1;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, sb, sizeof(sb), 1024);
		close(fd);
	}
	if (n != (ssize_t)sizeof(sb) || sb[56] != 0x53 || sb[57] != 0xef)
		return page;
	log = sb[24] | sb[25] << 8 | sb[26] << 16 | (unsigned int)sb[27] << 24;
	bs = log <= 6 ? 1024u << log : page;
	return bs < page ? bs : page;
}

/*
 * Resolve and check SOURCE: LABEL=/UUID= through libblkid, then it must
 * exist and be a regular file or a block device.  Sets fsx->source to the
 * resolved absolute path.  Returns 0 or an exit code.
 */
static int check_source(struct iomapfs *fsx, const char *given)
{
	struct stat st;
	char *path = NULL;

	if (!strncmp(given, "LABEL=", 6) || !strncmp(given, "UUID=", 5) ||
	    !strncmp(given, "PARTLABEL=", 10) ||
	    !strncmp(given, "PARTUUID=", 9)) {
		path = blkid_evaluate_tag(given, NULL, NULL);
		if (!path) {
			fprintf(stderr,
				"iomapfs: %s: no such filesystem found\n",
				given);
			return IOMAPFS_EXIT_NOSOURCE;
		}
	} else {
		path = strdup(given);
		if (!path) {
			perror("iomapfs");
			return IOMAPFS_EXIT_FAIL;
		}
	}
	if (stat(path, &st) < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR)
			fprintf(stderr,
				"iomapfs: %s: no such image file or block "
				"device\n",
				path);
		else
			fprintf(stderr, "iomapfs: %s: %s\n", path, strerror(e));
		free(path);
		return e == ENOENT || e == ENOTDIR ? IOMAPFS_EXIT_NOSOURCE
						   : IOMAPFS_EXIT_BADSOURCE;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"iomapfs: %s is a directory, not an image file or "
			"block device\n",
			path);
		free(path);
		return IOMAPFS_EXIT_BADSOURCE;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		fprintf(stderr,
			"iomapfs: %s is neither an image file nor a block "
			"device\n",
			path);
		free(path);
		return IOMAPFS_EXIT_BADSOURCE;
	}
	fsx->source = realpath(path, NULL);
	free(path);
	if (!fsx->source) {
		perror("iomapfs: realpath");
		return IOMAPFS_EXIT_FAIL;
	}
	if (S_ISBLK(st.st_mode)) {
		fsx->blkdev = true;
		fsx->blkdev_blksize = blkdev_block_size(fsx->source);
	}
	return IOMAPFS_EXIT_OK;
}

static int check_mountpoint(struct iomapfs *fsx, const char *given)
{
	struct stat st;

	if (stat(given, &st) < 0) {
		if (errno == ENOENT)
			fprintf(stderr,
				"iomapfs: mountpoint %s does not exist\n",
				given);
		else
			fprintf(stderr, "iomapfs: mountpoint %s: %s\n", given,
				strerror(errno));
		return IOMAPFS_EXIT_MOUNTPOINT;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "iomapfs: mountpoint %s is not a directory\n",
			given);
		return IOMAPFS_EXIT_MOUNTPOINT;
	}
	fsx->mountpoint = realpath(given, NULL);
	if (!fsx->mountpoint) {
		fprintf(stderr, "iomapfs: mountpoint %s: %s\n", given,
			strerror(errno));
		return IOMAPFS_EXIT_MOUNTPOINT;
	}
	return IOMAPFS_EXIT_OK;
}

/*
 * Open dev_fd, the data path's descriptor, and with it the exclusive
 * claim on the source @st: O_EXCL on a block device (refused while mounted
 * or claimed elsewhere), flock(LOCK_EX) on an image file, held until exit.
 * Returns 0, an exit code, or -EBUSY when someone else has the claim.
 */
static int claim_source(struct iomapfs *fsx, const struct stat *st)
{
	int flags = (fsx->opts.ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	if (S_ISBLK(st->st_mode))
		flags |= O_EXCL;
	fsx->dev_fd = open(fsx->source, flags);
	if (fsx->dev_fd >= 0 && S_ISBLK(st->st_mode) && !fsx->opts.ro) {
		int ro = 0;

		/* A read-only block device (losetup -r, a write-protected
		 * disk) opens for writing, and only the first write fails:
		 * refuse it here, with the reason. */
		if (ioctl(fsx->dev_fd, BLKROGET, &ro) == 0 && ro) {
			fprintf(stderr,
				"iomapfs: %s is a read-only block device: "
				"mount it with -o ro\n",
				fsx->source);
			close(fsx->dev_fd);
			fsx->dev_fd = -1;
			return IOMAPFS_EXIT_FAIL;
		}
	}
	if (fsx->dev_fd < 0) {
		int e = errno;

		if (e == EBUSY)
			return -EBUSY;
		fprintf(stderr, "iomapfs: cannot open %s%s: %s\n", fsx->source,
			fsx->opts.ro ? "" : " for writing", strerror(e));
		if (!fsx->opts.ro && (e == EACCES || e == EROFS || e == EPERM))
			fprintf(stderr, "iomapfs: mount it with -o ro\n");
		return IOMAPFS_EXIT_FAIL;
	}
	/*
	 * fuseblk: the kernel claims the device exclusively itself when it
	 * mounts, and refuses the mount (EBUSY) while we hold O_EXCL.  The
	 * claim moves to claim_fd, kept until just before the mount, and
	 * the data path gets a descriptor of its own.
	 */
	if (S_ISBLK(st->st_mode)) {
		fsx->claim_fd = fsx->dev_fd;
		fsx->dev_fd = open(fsx->source, flags & ~O_EXCL);
		if (fsx->dev_fd < 0) {
			fprintf(stderr, "iomapfs: cannot open %s: %s\n",
				fsx->source, strerror(errno));
			return IOMAPFS_EXIT_FAIL;
		}
	}
	if (S_ISREG(st->st_mode) && flock(fsx->dev_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fsx->dev_fd);
		fsx->dev_fd = -1;
		if (e == EWOULDBLOCK)
			return -EBUSY;
		fprintf(stderr, "iomapfs: cannot lock %s: %s\n", fsx->source,
			strerror(e));
		return IOMAPFS_EXIT_FAIL;
	}
	return IOMAPFS_EXIT_OK;
}

/* Why the source cannot be claimed, for the user; the exit code. */
static int refuse_busy(struct iomapfs *fsx, const struct stat *st,
		       enum busy_kind kind, pid_t pid)
{
	if (kind == BUSY_STOPPING)
		fprintf(stderr,
			"iomapfs: %s is still held by iomapfs (pid %d) after "
			"%d s: its mount is gone, but it has not finished "
			"stopping\n",
			fsx->source, (int)pid, BUSY_STOPPING_WAIT_MS / 1000);
	else if (S_ISBLK(st->st_mode))
		fprintf(stderr,
			"iomapfs: %s is busy: mounted, or held open "
			"exclusively by another program\n",
			fsx->source);
	else
		fprintf(stderr,
			"iomapfs: %s is already mounted by another iomapfs (or "
			"locked by another program)\n",
			fsx->source);
	return IOMAPFS_EXIT_BUSY;
}

/*
 * Claim the source.  When an iomapfs daemon whose mount is gone holds it
 * (umount returned while it still flushes), wait for it to finish, for at
 * most BUSY_STOPPING_WAIT_MS; anyone else holding it is refused at once.
 */
static int open_source(struct iomapfs *fsx)
{
	uint64_t start = busy_now_ms();
	uint64_t deadline = start + BUSY_STOPPING_WAIT_MS;
	unsigned int tries = 0;
	enum busy_kind kind;
	bool told = false;
	struct stat st;
	pid_t pid;
	int ret;

	if (stat(fsx->source, &st) < 0) {
		fprintf(stderr, "iomapfs: %s: %s\n", fsx->source,
			strerror(errno));
		return IOMAPFS_EXIT_NOSOURCE;
	}
	while ((ret = claim_source(fsx, &st)) == -EBUSY) {
		if (busy_wait(fsx->source, &st, deadline, &tries, &kind, &pid))
			return refuse_busy(fsx, &st, kind, pid);
		/* Say why there is a pause, if it is a long one. */
		if (kind == BUSY_STOPPING && !told &&
		    busy_now_ms() - start >= BUSY_STOPPING_TELL_MS) {
			fprintf(stderr,
				"iomapfs: %s: waiting for iomapfs (pid %d), "
				"whose mount is gone, to finish stopping\n",
				fsx->source, (int)pid);
			told = true;
		}
	}
	return ret;
}

/* The FUSE mount options we always add. */
static int add_mount_options(struct iomapfs *fsx, struct fuse_args *args)
{
	char *buf;
	size_t len;
	int ret;
	const char *p;
	char *q;

	/* fsname is a comma-separated option value: escape ',' and '\'. */
	len = strlen(fsx->source) * 2 + 64;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	q = buf + sprintf(buf, "-osubtype=iomapfs,fsname=");
	for (p = fsx->source; *p; p++) {
		if (*p == ',' || *p == '\\')
			*q++ = '\\';
		*q++ = *p;
	}
	*q = '\0';
	ret = fuse_opt_add_arg(args, buf);
	free(buf);
	if (ret)
		return -ENOMEM;
	if (!fsx->opts.fakeroot &&
	    fuse_opt_add_arg(args, "-odefault_permissions"))
		return -ENOMEM;
	if (fsx->blkdev) {
		char opt[64];

		snprintf(opt, sizeof(opt), "-oblkdev,blksize=%u",
			 fsx->blkdev_blksize);
		if (fuse_opt_add_arg(args, opt))
			return -ENOMEM;
	}
	if (fsx->opts.ro && fuse_opt_add_arg(args, "-oro"))
		return -ENOMEM;
	return 0;
}

/*
 * The session is made before the source is opened, so that a bad FUSE
 * option is refused before anything is written to the filesystem.
 */
static int new_session(struct iomapfs *fsx, struct fuse_args *args)
{
	if (add_mount_options(fsx, args)) {
		fprintf(stderr, "iomapfs: out of memory\n");
		return IOMAPFS_EXIT_FAIL;
	}
	fsx->se =
		fuse_session_new(args, &iomapfs_ops, sizeof(iomapfs_ops), fsx);
	if (!fsx->se) {
		fprintf(stderr, "iomapfs: bad FUSE options (see iomapfs -h)\n");
		return IOMAPFS_EXIT_USAGE;
	}
	return IOMAPFS_EXIT_OK;
}

static int run_session(struct iomapfs *fsx)
{
	struct ctl_server *ctl = NULL;
	struct fuse_loop_config *cfg;
	int ret = IOMAPFS_EXIT_FAIL, rc;

	if (fuse_set_signal_handlers(fsx->se)) {
		fprintf(stderr, "iomapfs: cannot set signal handlers\n");
		return IOMAPFS_EXIT_FAIL;
	}
	/* The control socket first, so that a socket in the way is told on
	 * the terminal and nothing gets mounted. */
	rc = ctl_prepare(fsx, &ctl);
	if (rc) {
		fprintf(stderr, "iomapfs: cannot serve the control socket: "
			"%s\n", strerror(-rc));
		goto out_signals;
	}
	/* fuseblk: the kernel takes over the claim (open_source()) */
	if (fsx->claim_fd >= 0) {
		close(fsx->claim_fd);
		fsx->claim_fd = -1;
	}
	if (fuse_session_mount(fsx->se, fsx->mountpoint)) {
		fprintf(stderr, "iomapfs: cannot mount %s on %s\n", fsx->source,
			fsx->mountpoint);
		goto out_ctl;
	}
	/* Our device I/O, for the INIT reply libfuse cannot make (devio.c). */
	rc = devio_setup(fsx);
	if (rc) {
		fprintf(stderr, "iomapfs: cannot set up /dev/fuse I/O: %s\n",
			strerror(-rc));
		goto out_unmount;
	}
	/* Mount errors have reached the terminal; now we may detach. */
	if (fuse_daemonize(fsx->opts.foreground)) {
		fprintf(stderr, "iomapfs: cannot detach\n");
		goto out_unmount;
	}
	/* After fuse_daemonize(): the server's thread must run in the
	 * process that stays. */
	if (ctl_run(ctl))
		goto out_unmount;
	rc = fs_run(fsx);
	if (rc) {
		fprintf(stderr, "iomapfs: cannot start the journal's thread: "
			"%s\n", strerror(-rc));
		goto out_unmount;
	}
	mntopt_mount_flags(fsx);
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		fprintf(stderr, "iomapfs: out of memory\n");
		goto out_unmount;
	}
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, fsx->opts.threads);
	fuse_loop_cfg_set_idle_threads(cfg, fsx->opts.threads);
	rc = fuse_session_loop_mt(fsx->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	/* A positive value is the signal (SIGTERM, SIGINT, SIGHUP) that
	 * ended the loop: a clean unmount like any other. */
	ret = rc < 0 ? IOMAPFS_EXIT_FAIL : IOMAPFS_EXIT_OK;
	if (rc < 0)
		fprintf(stderr,
			"iomapfs: the session ended with an error: %s\n",
			strerror(-rc));
out_unmount:
	fuse_session_unmount(fsx->se);
out_ctl:
	ctl_stop(ctl);
out_signals:
	fuse_remove_signal_handlers(fsx->se);
	return ret;
}

/*
 * -o remount: what mount(8) runs through mount.fuse3 for "mount -o
 * remount,ro|rw".  Only ro and rw change; the other options given (mount
 * passes the mount's whole list) keep the values the mount has.
 */
static int remount(const struct cmdline *cl)
{
	int rc;

	if (!cl->ro_given) {
		fprintf(stderr, "iomapfs: -o remount wants ro or rw\n");
		return IOMAPFS_EXIT_USAGE;
	}
	rc = remount_run(cl->source, cl->mountpoint, cl->opts->ro);
	return rc == 0	       ? IOMAPFS_EXIT_OK
	       : rc == -EBUSY  ? IOMAPFS_EXIT_BUSY
	       : rc == -ENOENT ? IOMAPFS_EXIT_MOUNTPOINT
			       : IOMAPFS_EXIT_FAIL;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct iomapfs fsx_storage, *fsx = &fsx_storage;
	struct cache_limits limits;
	struct cmdline cl;
	int ret, rc, rc2;

	memset(fsx, 0, sizeof(*fsx));
	memset(&cl, 0, sizeof(cl));
	fsx->dev_fd = -1;
	fsx->claim_fd = -1;
	fsx->opts.iomap_cache = true;
	fsx->opts.writeback_cache = true;
	fsx->opts.cache_max = CACHE_DEFAULT_MAX_BYTES;
	fsx->opts.cache_inode_max = CACHE_DEFAULT_INODE_MAX_BYTES;
	fsx->opts.dir_index_max = DIX_DEFAULT_MAX_BYTES;
	fsx->opts.replay_max = REPLAY_DEFAULT_MAX_BYTES;
	fsx->opts.threads = IOMAPFS_DEFAULT_THREADS;
	fsx->opts.errors = FS_ERRORS_CONTINUE;
	fsx->opts.commit_sec = JOURNAL_DEFAULT_COMMIT_SEC;
	fsx->opts.journal_txn_max = JOURNAL_DEFAULT_TXN_MAX;
	fsx->opts.journal_cp_max = JOURNAL_DEFAULT_CP_MAX;
	fsx->opts.journal_history = JOURNAL_DEFAULT_HISTORY;
	cl.opts = &fsx->opts;

	if (fuse_opt_parse(&args, &cl, iomapfs_optspec, opt_proc)) {
		usage(stderr);
		ret = IOMAPFS_EXIT_USAGE;
		goto out_args;
	}
	if (cl.show_help) {
		help();
		ret = IOMAPFS_EXIT_OK;
		goto out_args;
	}
	if (cl.show_version) {
		version();
		ret = IOMAPFS_EXIT_OK;
		goto out_args;
	}
	if (cl.bad || mntopt_validate(&fsx->opts)) {
		ret = IOMAPFS_EXIT_USAGE;
		goto out_args;
	}
	if (!cl.source || !cl.mountpoint) {
		fprintf(stderr, "iomapfs: %s\n",
			cl.source ? "no MOUNTPOINT given" : "no SOURCE given");
		usage(stderr);
		ret = IOMAPFS_EXIT_USAGE;
		goto out_args;
	}
	if (cl.remount) {
		ret = remount(&cl);
		goto out_args;
	}
	if (fsx->opts.cache_inode_max > fsx->opts.cache_max) {
		fprintf(stderr,
			"iomapfs: cache_inode_max (%" PRIu64
			") exceeds cache_max (%" PRIu64 ")\n",
			fsx->opts.cache_inode_max, fsx->opts.cache_max);
		ret = IOMAPFS_EXIT_USAGE;
		goto out_args;
	}
	if (fsx->opts.norecovery && !fsx->opts.ro) {
		/* The kernel's rule: a read-write mount must replay. */
		fprintf(stderr,
			"iomapfs: -o norecovery needs -o ro: a read-write "
			"mount must replay the journal first\n");
		ret = IOMAPFS_EXIT_USAGE;
		goto out_args;
	}
	fsx->owner_uid = getuid();
	fsx->owner_gid = getgid();
	fs_now(fsx, &fsx->start_time);

	ret = check_source(fsx, cl.source);
	if (ret)
		goto out_args;
	ret = check_mountpoint(fsx, cl.mountpoint);
	if (ret)
		goto out_args;
	ret = mntopt_skip_probe(&fsx->opts) ? IOMAPFS_EXIT_OK
					    : probe_source(fsx->source);
	if (ret)
		goto out_args;
	ret = new_session(fsx, &args);
	if (ret)
		goto out_args;
	ret = open_source(fsx);
	if (ret)
		goto out_close_fd;
	if (fs_init(fsx)) {
		fprintf(stderr, "iomapfs: out of memory\n");
		ret = IOMAPFS_EXIT_FAIL;
		goto out_fini;
	}
	rc = fs_open(fsx);
	if (rc) {
		ret = rc == -EUCLEAN		   ? IOMAPFS_EXIT_FSCK
		      : rc == -EMEDIUMTYPE	   ? IOMAPFS_EXIT_NOTEXT
		      : rc == -REPLAY_E_EXTERNAL   ? IOMAPFS_EXIT_JOURNAL_DEV
		      : rc == -REPLAY_E_FEATURE	   ? IOMAPFS_EXIT_JOURNAL_FEAT
		      : rc == -REPLAY_E_FASTCOMMIT ? IOMAPFS_EXIT_FAST_COMMIT
		      : rc == -REPLAY_E_MEMORY	   ? IOMAPFS_EXIT_REPLAY_MAX
						   : IOMAPFS_EXIT_FAIL;
		goto out_fini;
	}
	if (mntopt_check(fsx)) {
		ret = IOMAPFS_EXIT_USAGE;
		goto out_fs;
	}
	discard_online_start(fsx);

	memset(&limits, 0, sizeof(limits));
	limits.max_bytes = fsx->opts.cache_max;
	limits.inode_max_bytes = fsx->opts.cache_inode_max;
	limits.event_ring = CACHE_DEFAULT_EVENT_RING;
	fsx->cache =
		cache_new(&limits, fsx->opts.iomap_cache, fs_map_source, fsx);
	if (!fsx->cache) {
		fprintf(stderr, "iomapfs: cannot set up the iomap cache: %s\n",
			strerror(errno));
		ret = errno == EINVAL ? IOMAPFS_EXIT_USAGE : IOMAPFS_EXIT_FAIL;
		goto out_fs;
	}

	fsx->dix = dix_new(fsx->opts.dir_index_max);
	if (!fsx->dix) {
		fprintf(stderr, "iomapfs: out of memory\n");
		ret = IOMAPFS_EXIT_FAIL;
		goto out_cache;
	}

	/* After the journal's replay, before any request (needs the cache). */
	rc = inode_free_orphans(fsx);
	if (rc) {
		fprintf(stderr, "iomapfs: %s: cannot process the orphan list: "
			"%s\n", fsx->source, strerror(-rc));
		ret = rc == -EUCLEAN ? IOMAPFS_EXIT_FSCK : IOMAPFS_EXIT_FAIL;
		goto out_cache;
	}

	ret = run_session(fsx);

	/* Calls op_destroy when the kernel did not (fuse mounts). */
	fuse_session_destroy(fsx->se);
	fsx->se = NULL;
	/* The session is over: no thread uses the filesystem any more. */
	rc = inode_free_unlinked(fsx); /* deleted while open */
	rc2 = fs_close(fsx);
	orphan_forget_all(fsx);
	if (!rc)
		rc = rc2;
	if (rc) {
		fprintf(stderr, "iomapfs: %s: error while closing: %s\n",
			fsx->source, strerror(-rc));
		if (!ret)
			ret = IOMAPFS_EXIT_FAIL;
	}
out_cache:
	cache_free(fsx->cache);
	fsx->cache = NULL;
out_fs:
	fs_close(fsx);
out_fini:
	dix_free(fsx->dix);
	fsx->dix = NULL;
	fs_fini(fsx);
out_close_fd:
	if (fsx->dev_fd >= 0)
		close(fsx->dev_fd);
	if (fsx->claim_fd >= 0)
		close(fsx->claim_fd);
out_args:
	if (fsx->se)
		fuse_session_destroy(fsx->se);
	fuse_opt_free_args(&args);
	free(cl.source);
	free(cl.mountpoint);
	free(fsx->source);
	free(fsx->mountpoint);
	free(fsx->opts.ctl_socket);
	free(fsx->opts.ctl_group);
	return ret;
}
