/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mountinfo.h - the iomapfs mounts of this process's mount namespace, from
 * /proc/self/mountinfo: for the busy check (is a source mounted?) and for
 * remounting (which mount is at a mountpoint, with which flags?).
 */
#ifndef IOMAPFS_MOUNTINFO_H
#define IOMAPFS_MOUNTINFO_H

#include <stdbool.h>

/* One iomapfs mount (fuse.iomapfs or fuseblk.iomapfs), escapes undone. */
struct mountinfo_entry {
	const char *source; /* the fsname: the image or device */
	const char *mountpoint;
	const char *mount_opts; /* per mount: "rw,nosuid,nodev,relatime" */
	const char *super_opts; /* per superblock: "rw,user_id=0,..." */
};

/*
 * Call @fn for each iomapfs mount until it returns non-zero.  The strings
 * live only during the call.  Returns @fn's non-zero value, 0 when every
 * mount was seen, or -errno when mountinfo cannot be read.
 */
int mountinfo_each(int (*fn)(const struct mountinfo_entry *e, void *arg),
		   void *arg);

/* Whether the comma-separated option list @opts holds @opt. */
bool mountinfo_has_opt(const char *opts, const char *opt);

#endif /* IOMAPFS_MOUNTINFO_H */
