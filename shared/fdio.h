/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fdio.h - whole writes on a file descriptor: pwrite() again after a short
 * write or a signal, until every byte is written or an error says why not.
 */
#ifndef IOMAPFS_FDIO_H
#define IOMAPFS_FDIO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Write @len bytes of @buf at byte @off of @fd.  Returns 0, -errno from
 * pwrite(), or -EIO when the descriptor takes no more bytes.
 */
int fdio_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

#endif
