/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * busy.h - when the source cannot be claimed (flock on an image, O_EXCL
 * on a block device): who holds it, and waiting for an iomapfs daemon
 * that is only stopping.  umount(8) of a FUSE mount returns as soon as the
 * kernel has detached it, while the daemon still flushes and closes the
 * filesystem; "umount MNT && iomapfs IMG MNT" would otherwise find the
 * source busy.  A daemon whose mount is still there, and any other
 * program, are not waited for.
 */
#ifndef IOMAPFS_BUSY_H
#define IOMAPFS_BUSY_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* How long a new daemon waits for a stopping one, in milliseconds. */
#define BUSY_STOPPING_WAIT_MS 10000
/* After how long of it the new daemon says that it waits. */
#define BUSY_STOPPING_TELL_MS 1000

/* Who holds the source, from busy_holder(). */
enum busy_kind {
	BUSY_UNKNOWN = 0, /* no process has it open (the kernel's claim) */
	BUSY_OTHER,	  /* a program that is not iomapfs */
	BUSY_MOUNTED,	  /* iomapfs, with the source mounted */
	BUSY_STOPPING,	  /* iomapfs, with no mount of the source left */
};

/*
 * Who holds @source (an image file or block device, @st its stat): the
 * processes that have it open (/proc/PID/fd), and whether @source is
 * mounted as iomapfs (/proc/self/mountinfo).  *pid is one holder, 0 when
 * none was found.  An iomapfs holder with no mount is starting or
 * stopping (BUSY_STOPPING).
 */
enum busy_kind busy_holder(const char *source, const struct stat *st,
			   pid_t *pid);

/*
 * @source could not be claimed: when an iomapfs daemon whose mount is gone
 * holds it, wait a little (at most 100 ms, never past the CLOCK_MONOTONIC
 * time @deadline_ms) for it to exit and return 0: the caller tries to
 * claim the source again, and calls again if it is still busy.  Also 0,
 * at once, the first few times that no holder is found (*tries counts
 * them; start it at 0): the holder may just have let go.  Otherwise
 * -EBUSY, with *kind and *pid saying who holds it: another program, a
 * mounted iomapfs, nobody we can see (the kernel), or (at the deadline) a
 * daemon still stopping.
 */
int busy_wait(const char *source, const struct stat *st, uint64_t deadline_ms,
	      unsigned int *tries, enum busy_kind *kind, pid_t *pid);

/* Now on CLOCK_MONOTONIC, in milliseconds. */
uint64_t busy_now_ms(void);

#endif /* IOMAPFS_BUSY_H */
