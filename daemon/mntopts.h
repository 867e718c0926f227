/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mntopts.h - ext4's mount options, for fstab lines written for ext4: each
 * one that ext4(5) and the kernel's ext4 admin guide document is either
 * honoured as ext4 honours it, accepted where it tunes only what iomapfs
 * does not have (the kernel's allocator, journal thread or page cache) or
 * was removed from ext4 too, or refused with a message that names it and
 * says why.  One table in mntopts.c; iomapfs(8) lists the same.
 */
#ifndef IOMAPFS_MNTOPTS_H
#define IOMAPFS_MNTOPTS_H

#include <stdio.h>

#include "fs.h"

/* What mntopt_parse() made of an option. */
enum mntopt_result {
	MNTOPT_TAKEN = 0,    /* ext4's, recorded in the options */
	MNTOPT_NOT_OURS = 1, /* not ext4's: the FUSE options decide */
	MNTOPT_ALSO_FUSE = 2 /* recorded, and libfuse must see it too */
};

/*
 * Look at -o option @opt ("name" or "name=value").  Returns an enum
 * mntopt_result, or -EINVAL after a message naming the option and why it
 * is refused or its value wrong.
 */
int mntopt_parse(struct iomapfs_opts *o, const char *opt);

/*
 * The options taken together, once all are parsed: sb= only with ro.
 * Prints why not.  Returns 0 or -EINVAL.
 */
int mntopt_validate(const struct iomapfs_opts *o);

/*
 * What the options ask of the source before it is opened: with sb= the
 * primary superblock is not probed (it may be the broken one).
 */
bool mntopt_skip_probe(const struct iomapfs_opts *o);

/*
 * The checks that need the opened filesystem (fsx->fs): an option that
 * asks for a feature the filesystem lacks.  Prints why.
 * Returns 0 or -EINVAL.
 */
int mntopt_check(struct iomapfs *fsx);

/*
 * Mounted on fsx->mountpoint: give the mount the kernel's atime flags
 * the options asked for that libfuse cannot pass (strictatime,
 * nodiratime), so that findmnt and /proc/mounts say what the daemon
 * does.  Root only (a bind remount); a failure is only reported.  Starts
 * a thread that does it once the session loop answers requests: call in
 * the process that serves the mount, before the loop.
 */
void mntopt_mount_flags(struct iomapfs *fsx);

/* The help lines of ext4's options, for iomapfs -h. */
void mntopt_help(FILE *out);

#endif /* IOMAPFS_MNTOPTS_H */
