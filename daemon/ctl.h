/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl.h - the control server: the Varlink interface io.iomapfs.Cache (see
 * io.iomapfs.Cache.varlink) on a UNIX socket, served by one thread that
 * polls non-blocking sockets, plus one worker thread per call that
 * streams or touches the disk (Dump, Map, Audit, SetReadOnly) so that it
 * never stalls the other clients.  No lock is ever held while a client is written to: a
 * worker that has produced more than a connection's output bound waits
 * with no lock held, and a watcher that falls behind loses events instead.
 *
 * Access: every connection's SO_PEERCRED is checked.  Root and the mount's
 * owner are admins; members of -o ctl_group may call the read-only
 * methods; everyone else gets org.varlink.service.PermissionDenied.
 *
 * Locks taken: fs_lock (Map, Dump's sizes and paths, SetReadOnly; never
 * across client I/O) and the cache's internal locks through cache.h.  The
 * caller of ctl_start()/ctl_stop() must hold neither.
 *
 * The code: ctl_server.c is the transport, ctl_conn.c a connection's
 * output, ctl_socket.c the socket as a file (and its record),
 * ctl_methods.c the method table and its handlers, ctl_internal.h the
 * types they share (see there); the filesystem is reached through
 * fs_report.h and fs_remount.h only.
 */
#ifndef IOMAPFS_CTL_H
#define IOMAPFS_CTL_H

struct iomapfs;
struct ctl_server;

/*
 * Create the socket (fsx->opts.ctl_socket, or the default location of
 * ctlpath.h for fsx->mountpoint) and start serving.  Uses fsx->cache,
 * fsx->fs (under fs_lock), fsx->source, fsx->mountpoint, fsx->owner_uid,
 * fsx->opts.ctl_group.  Call it once the filesystem and the cache are set
 * up, before or after the FUSE session starts.
 *
 * A socket or record (ctlpath.h) left by a daemon that died is replaced;
 * one some live daemon serves gives -EADDRINUSE; anything else at the
 * path (a symlink, a file) gives -EEXIST and is left alone.  With -o
 * ctl_socket, ctl_run() leaves a record at the default place.
 * Errors are logged to stderr with the path.  Returns 0 and sets *out, or
 * -errno.
 */
int ctl_start(struct iomapfs *fsx, struct ctl_server **out);

/*
 * ctl_start() in two steps, for a daemon that forks (fuse_daemonize()):
 * ctl_prepare() checks and creates the socket (so that errors reach the
 * terminal before anything is mounted) and ctl_run() starts the server
 * thread in the process that stays, and leaves the record (it names that
 * process) and an abort() handler that removes record and socket.
 * ctl_stop() undoes either.  Same return values as ctl_start().
 */
int ctl_prepare(struct iomapfs *fsx, struct ctl_server **out);
int ctl_run(struct ctl_server *srv);

/*
 * Stop serving: close every connection (running calls are abandoned at
 * their next step), join the threads and remove the record and the socket
 * if they are still ours.  Call before the cache and the filesystem are torn down.  NULL is
 * allowed.
 */
void ctl_stop(struct ctl_server *srv);

/* The socket's path (owned by @srv). */
const char *ctl_socket_path(const struct ctl_server *srv);

#endif /* IOMAPFS_CTL_H */
