/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ops_session.h - the FUSE operations of the whole session (ops_session.c):
 * init, destroy and statfs.  Every request handler replies exactly once.
 */
#ifndef IOMAPFS_OPS_SESSION_H
#define IOMAPFS_OPS_SESSION_H

#include "fs.h"

void op_init(void *userdata, struct fuse_conn_info *conn);
void op_destroy(void *userdata);
void op_statfs(fuse_req_t req, fuse_ino_t ino);

#endif /* IOMAPFS_OPS_SESSION_H */
