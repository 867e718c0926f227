/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops.h - the one table of FUSE low-level operations of iomapfs (ops.c),
 * given to fuse_session_new().  The handlers are declared beside their
 * files: ops_session.h, ops_name.h, ops_attr.h, ops_open.h, ops_dir.h,
 * ops_xattr.h, and io.h for file data.
 */
#ifndef IOMAPFS_OPS_H
#define IOMAPFS_OPS_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops iomapfs_ops;

#endif /* IOMAPFS_OPS_H */
