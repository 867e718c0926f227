// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * busy.c - who holds a source that cannot be claimed, and waiting for an
 * iomapfs daemon that is stopping (see busy.h).  Everything is read from
 * /proc: the holders from the descriptors of every process, the mounts
 * from this process's mountinfo.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "busy.h"
#include "mountinfo.h"

/* How often to look again when the holder cannot be waited on directly. */
#define BUSY_POLL_MS 20
/* Claims tried again while no holder is to be found. */
#define BUSY_UNKNOWN_TRIES 3

uint64_t busy_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Whether process @pid is an iomapfs daemon, by its command name. */
static bool is_iomapfs(pid_t pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, "iomapfs");
}

/*
 * Whether one of @pid's descriptors is @st (the same file, or for a block
 * device the same device).  Every descriptor of every process is looked
 * at, also those on other FUSE mounts, whose server may be stopped or
 * slow: AT_STATX_DONT_SYNC takes the attributes the kernel has, so that
 * no filesystem is asked (the type, device and inode number never
 * change), and the search cannot hang on someone else's mount.
 */
static bool holds(pid_t pid, const struct stat *st)
{
	char path[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		struct statx stx;

		if (de->d_name[0] == '.' ||
		    statx(dirfd(d), de->d_name, AT_STATX_DONT_SYNC,
			  STATX_TYPE | STATX_INO, &stx) < 0)
			continue;
		if (S_ISBLK(st->st_mode))
			found = S_ISBLK(stx.stx_mode) &&
				makedev(stx.stx_rdev_major,
					stx.stx_rdev_minor) == st->st_rdev;
		else
			found = makedev(stx.stx_dev_major, stx.stx_dev_minor) ==
					st->st_dev &&
				stx.stx_ino == st->st_ino;
	}
	closedir(d);
	return found;
}

static int source_matches(const struct mountinfo_entry *e, void *arg)
{
	return !strcmp(e->source, arg);
}

/* Whether @source is mounted as iomapfs here. */
static bool source_mounted(const char *source)
{
	return mountinfo_each(source_matches, (void *)source) > 0;
}

enum busy_kind busy_holder(const char *source, const struct stat *st,
			   pid_t *pid)
{
	enum busy_kind kind = BUSY_UNKNOWN;
	pid_t self = getpid();
	struct dirent *de;
	DIR *d;

	*pid = 0;
	d = opendir("/proc");
	if (!d)
		return BUSY_UNKNOWN;
	while ((de = readdir(d))) {
		pid_t p;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		p = (pid_t)atoi(de->d_name);
		if (p == self || !holds(p, st))
			continue;
		*pid = p;
		if (!is_iomapfs(p)) {
			/* Any other program is reason enough to refuse. */
			kind = BUSY_OTHER;
			break;
		}
		kind = BUSY_STOPPING;
	}
	closedir(d);
	if (kind == BUSY_STOPPING && source_mounted(source))
		kind = BUSY_MOUNTED;
	return kind;
}

/* Wait up to @ms for process @pid to end. */
static void wait_exit(pid_t pid, uint64_t ms)
{
	struct pollfd pfd = {.events = POLLIN};
	int fd = -1;

#ifdef SYS_pidfd_open
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (fd < 0) {
		/* No pidfd (an old kernel), or the process is gone. */
		if (errno != ESRCH)
			usleep((useconds_t)(ms < BUSY_POLL_MS ? ms
							      : BUSY_POLL_MS) *
			       1000u);
		return;
	}
	pfd.fd = fd;
	if (poll(&pfd, 1, (int)ms) < 0 && errno != EINTR)
		usleep(BUSY_POLL_MS * 1000u);
	close(fd);
}

int busy_wait(const char *source, const struct stat *st, uint64_t deadline_ms,
	      unsigned int *tries, enum busy_kind *kind, pid_t *pid)
{
	uint64_t now;

	*kind = busy_holder(source, st, pid);
	/*
	 * Nobody holds it now: the holder may have closed it since the claim
	 * failed (a stopping daemon closes its descriptors as it exits), so
	 * try again, a few times, before taking it for the kernel's claim.
	 */
	if (*kind == BUSY_UNKNOWN && ++*tries <= BUSY_UNKNOWN_TRIES)
		return 0;
	if (*kind != BUSY_STOPPING)
		return -EBUSY;
	now = busy_now_ms();
	if (now >= deadline_ms)
		return -EBUSY;
	/*
	 * An iomapfs daemon that has no mount is stopping (or starting: then
	 * its mount appears, and the next look says BUSY_MOUNTED).  Its
	 * claim goes with its last descriptor, when it exits.
	 */
	wait_exit(*pid, deadline_ms - now < 100 ? deadline_ms - now : 100);
	return 0;
}
