/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_socket.h - the control socket as a file (ctl_socket.c): where it
 * lives, putting it in place, the record of a socket that is not at the
 * default place (ctlpath.h), and removing them.
 */
#ifndef IOMAPFS_CTL_SOCKET_H
#define IOMAPFS_CTL_SOCKET_H

struct ctl_server;

/*
 * Put the socket in place (srv->path, srv->listen_fd, listening), from
 * srv->fsx's ctl_socket or mountpoint.  Errors are told on stderr with
 * the path; returns 0 or -errno.
 */
int ctl_socket_create(struct ctl_server *srv);

/*
 * Once the server runs, in the process that stays (a record names it):
 * when the socket is not at the mountpoint's default place, leave a
 * record there; and see that an abort() removes both.  Failures are told
 * on stderr and are not fatal.
 */
void ctl_socket_publish(struct ctl_server *srv);

/* Remove the record and the socket, each if it is still ours. */
void ctl_socket_remove(struct ctl_server *srv);

#endif /* IOMAPFS_CTL_SOCKET_H */
