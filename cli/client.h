/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.h - iomapctl's side of the control socket: finds the daemon (-s,
 * -m, or the one mount running), calls io.iomapfs.Cache methods, turns
 * Varlink errors into messages and exit codes, and resolves INODE|PATH
 * arguments (through the mount by stat, or inside the image with --image).
 */
#ifndef IOMAPCTL_CLIENT_H
#define IOMAPCTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ictl.h"

struct ctlpath_entry;

/*
 * The runtime directory (*dir, malloc'd) and the control sockets in it
 * (*list of *n, for ctlpath_list_free()).  Prints why not with @exit_code
 * and returns -errno on failure; nothing is left to free then.
 */
int client_sockets(struct ictl *c, int exit_code, char **dir,
		   struct ctlpath_entry **list, size_t *n);

/*
 * Connect to the daemon named by the options of @c, once per process.
 * Prints an error (exit code 3 for no daemon, 2 when several mounts run
 * and none was chosen) and returns -errno on failure.
 */
int client_connect(struct ictl *c);

/*
 * Call @method with @params (stolen; NULL for none) and wait for its one
 * reply.  On success returns 0 and *reply (a new reference to the reply's
 * parameters; pass NULL to drop it).  A Varlink error or a transport
 * failure is printed, the exit code set, and -errno returned.
 */
int client_call(struct ictl *c, const char *method, json_t *params,
		json_t **reply);

/*
 * Call @method with "more" and hand each reply's parameters (borrowed) to
 * @fn until the last one.  A non-zero return of @fn stops reading (the
 * connection is then dropped, since unread replies would follow) and is
 * returned.  Errors as client_call(), except that the Varlink error named
 * @expected (NULL: none), which the caller handles itself, returns
 * -ENODATA and prints nothing.
 */
int client_call_more(struct ictl *c, const char *method, json_t *params,
		     const char *expected,
		     int (*fn)(struct ictl *c, json_t *reply, void *arg),
		     void *arg);

/*
 * As client_call_more(), for endless streams (Watch): stops quietly and
 * returns 0 once CLOCK_MONOTONIC passes @deadline_ms (0: never) or, when
 * @interruptible, once SIGINT arrives (the handler is installed for the
 * call's duration).  The connection is dropped when it stops early.
 */
int client_call_stream(struct ictl *c, const char *method, json_t *params,
		       int (*fn)(struct ictl *c, json_t *reply, void *arg),
		       void *arg, uint64_t deadline_ms, bool interruptible);

/* CLOCK_MONOTONIC now, in milliseconds. */
uint64_t client_now_ms(void);

/*
 * The mountpoint of the daemon: -m, else the mountpoint its GetStatus
 * reports.  NULL (after printing why) when it cannot be learnt.
 */
const char *client_mountpoint(struct ictl *c);

/*
 * Resolve an INODE|PATH argument.  A decimal number is an inode number.
 * Otherwise @arg is a path: with --image, looked up inside the image;
 * else stat'ed (relative paths are tried from the current directory, then
 * from the mountpoint), and it must lie on the mount.  Sets *ino and, for a
 * path, *path to a malloc'd path from the root of the mount or image, as
 * the daemon names it (NULL for an inode number).
 * Prints an error and returns -errno on failure.
 */
int client_resolve(struct ictl *c, const char *arg, uint64_t *ino, char **path);

/* Open the --image of @c once per process; prints why on failure. */
int client_image(struct ictl *c);

/* Release the connection and the image of @c. */
void ictl_close(struct ictl *c);

#endif /* IOMAPCTL_CLIENT_H */
