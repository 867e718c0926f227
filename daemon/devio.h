/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devio.h - the daemon's reads and writes of /dev/fuse, in place of
 * libfuse's own: the same system calls, with one change to the INIT reply
 * (devio.c says which and why).
 */
#ifndef IOMAPFS_DEVIO_H
#define IOMAPFS_DEVIO_H

#include "fs.h"

/*
 * Take over the device I/O of fsx->se, a session libfuse has mounted and
 * that has not read a request yet.  Returns 0 or -errno (nothing changed).
 */
int devio_setup(struct iomapfs *fsx);

/* Whether the kernel took FUSE_HANDLE_KILLPRIV_V2 from our INIT reply. */
bool devio_killpriv_v2(void);

/*
 * The largest WRITE to ask for (conn->max_write), at most @want: the
 * largest that libfuse still splices (devio.c).
 */
unsigned int devio_write_max(unsigned int want);

#endif /* IOMAPFS_DEVIO_H */
