/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctlpath.h - where a mount's control socket lives, so that the daemon,
 * "iomapctl -m MOUNTPOINT" and "iomapctl list" agree without talking.  The
 * runtime directory is /run/iomapfs/ for root and $XDG_RUNTIME_DIR/iomapfs/
 * for others (/tmp/iomapfs-UID/ without XDG_RUNTIME_DIR), mode 0700.  The
 * socket is named after the absolute mountpoint escaped as
 * "systemd-escape --path" does, plus ".sock": /mnt/a b -> mnt-a\x20b.sock.
 *
 * A mount whose socket is elsewhere (-o ctl_socket=PATH) keeps a record at
 * that name instead: a small regular file that says where its socket is,
 * so that "iomapctl -m MOUNTPOINT" and "iomapctl list" find it too.  A
 * daemon puts a socket or record in place only once it serves it (it is
 * linked there from a temporary name), so whatever lies at such a name and
 * refuses connections is stale, and may be removed.
 *
 * Functions return 0 or a negative errno; strings they return are
 * malloc'd and belong to the caller.
 */
#ifndef IOMAPFS_CTLPATH_H
#define IOMAPFS_CTLPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CTLPATH_SUFFIX	 ".sock"
#define CTLPATH_ROOT_DIR "/run/iomapfs"

/*
 * The runtime directory for the calling user (root: CTLPATH_ROOT_DIR, by
 * effective uid).  Does not create it.  Sets *out.
 */
int ctlpath_runtime_dir(char **out);

/*
 * Create @dir with mode 0700 when missing (its parent must exist, except
 * for /tmp/iomapfs-UID whose parent /tmp always does).  An existing @dir
 * must be a real directory (not a symlink) owned by the effective uid and
 * not accessible to group or others; otherwise -EPERM (wrong owner or
 * mode) or -ENOTDIR.  Never follows a symlink at @dir and never changes
 * the mode of anything it did not create.
 */
int ctlpath_ensure_dir(const char *dir);

/*
 * Escape an absolute path like "systemd-escape --path": duplicate and
 * trailing slashes dropped, "/" between components becomes "-", bytes
 * other than [A-Za-z0-9:_.] become \xNN (lower-case hex), a leading "."
 * becomes \x2e, and "/" alone becomes "-".  -EINVAL when @path is not
 * absolute or has a "." or ".." component.
 */
int ctlpath_escape(const char *path, char **out);

/* The inverse of ctlpath_escape() (the result starts with "/"); -EINVAL
 * for a malformed name. */
int ctlpath_unescape(const char *name, char **out);

/*
 * The socket path for the mount at @mountpoint (absolute) in @dir (NULL:
 * ctlpath_runtime_dir()).  When the escaped name does not fit in a UNIX
 * socket address, it is cut and followed by "~" and a 64-bit hash of the
 * mountpoint (such a name does not unescape: ctlpath_list() gives it no
 * mountpoint).  -ENAMETOOLONG only when @dir itself leaves no room.
 */
int ctlpath_for_mountpoint(const char *dir, const char *mountpoint, char **out);

/* One socket or record found by ctlpath_list(). */
struct ctlpath_entry {
	char *path;	  /* the socket or the record, in the directory */
	char *mountpoint; /* unescaped from its name */
	char *socket;	  /* where to connect: @path for a socket, the
				 * socket a record names, NULL for a stale
				 * record (see ctlpath_record_read()) */
	bool record;	  /* @path is a record */
};

/*
 * The sockets ("*.sock" that are sockets, by lstat) and records in @dir
 * (NULL: the runtime directory), sorted by name.  A missing directory
 * gives 0 entries.  Sets *list (free with ctlpath_list_free()) and *n.
 */
int ctlpath_list(const char *dir, struct ctlpath_entry **list, size_t *n);
void ctlpath_list_free(struct ctlpath_entry *list, size_t n);

/* Whether @path fits in sockaddr_un.sun_path with its NUL. */
int ctlpath_check_len(const char *path);

/*
 * Whether a daemon listens on the socket @path (symlinks followed, as a
 * client would): 0 when one does (or its backlog is full), -ECONNREFUSED
 * for a stale socket, -ENOENT when nothing is there, another -errno.
 */
int ctlpath_probe(const char *path);

/* The first line of every record. */
#define CTLPATH_RECORD_MAGIC "iomapfs-ctl-record 1"

/*
 * Write the record @record for the socket @socket (absolute), which must
 * exist and which the calling process serves: the socket's device and
 * inode number and the process's pid and start time go into the record
 * too, so that a socket made at the same path by someone else later does
 * not pass for it.  The record is written under a temporary name and linked into
 * place, never over anything: -EEXIST when something is at @record.  Sets
 * *dev and *ino to the record's own, for ctlpath_remove_if().
 */
int ctlpath_record_write(const char *record, const char *socket, dev_t *dev,
			 ino_t *ino);

/*
 * Read the record @record and set *socket to the socket it names.
 * Returns 0 when that is still the socket the record was written for (the
 * same device and inode, and the writer still runs), -ESTALE (with
 * *socket set too) when it is gone or another, or the writer is gone, -EBADMSG when @record is no record, -ENOENT when it does
 * not exist.  Whether a daemon still listens is ctlpath_probe()'s
 * question.
 */
int ctlpath_record_read(const char *record, char **socket);

/*
 * Where to connect for the mount at @mountpoint (absolute): the name
 * ctlpath_for_mountpoint() gives in @dir (NULL: the runtime directory),
 * or the socket named by the record there.  Sets *name to that name (for
 * messages; also on failure, when it could be made) and *socket.
 * Returns 0, -ENOENT when nothing is there, -ESTALE for a record whose
 * socket is gone or another, -EBADMSG for a file there that is no record.
 */
int ctlpath_resolve(const char *dir, const char *mountpoint, char **name,
		    char **socket);

/* Remove @path if it is still the file @dev/@ino (lstat): 0, or -errno
 * (-ESTALE when another file is there now, -ENOENT when none is). */
int ctlpath_remove_if(const char *path, dev_t dev, ino_t ino);

/*
 * Remove the entry @e of ctlpath_list() when it is stale: a socket no
 * daemon listens on, or a record whose socket is gone, another, or
 * refuses connections (the socket a record names is not touched: it may
 * lie anywhere, and the next daemon to use it replaces it).  Returns 1
 * when it was removed, 0 when it is live (or vanished meanwhile), or
 * -errno.
 */
int ctlpath_prune(const struct ctlpath_entry *e);

#endif /* IOMAPFS_CTLPATH_H */
