/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctlpath.h - where a mount's control socket lives, so that the daemon,
 * "iomapctl -m MOUNTPOINT" and "iomapctl list" agree without talking.  The
 * runtime directory is /run/iomapfs/ for root and $XDG_RUNTIME_DIR/iomapfs/
 * for others (/tmp/iomapfs-UID/ without XDG_RUNTIME_DIR), mode 0700.  The
 * socket is named after the absolute mountpoint escaped as
 * "systemd-escape --path" does, plus ".sock": /mnt/a b -> mnt-a\x20b.sock.
 *
 * Functions return 0 or a negative errno; strings they return are
 * malloc'd and belong to the caller.
 */
#ifndef IOMAPFS_CTLPATH_H
#define IOMAPFS_CTLPATH_H

#include <stddef.h>
#include <sys/types.h>

#define CTLPATH_SUFFIX ".sock"
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
int ctlpath_for_mountpoint(const char *dir, const char *mountpoint,
			   char **out);

/* One socket found by ctlpath_list(). */
struct ctlpath_entry {
	char *path;		/* the socket */
	char *mountpoint;	/* unescaped from its name */
};

/*
 * The sockets ("*.sock" that are sockets, by lstat) in @dir (NULL: the
 * runtime directory), sorted by name.  A missing directory gives 0
 * entries.  Sets *list (free with ctlpath_list_free()) and *n.
 */
int ctlpath_list(const char *dir, struct ctlpath_entry **list, size_t *n);
void ctlpath_list_free(struct ctlpath_entry *list, size_t n);

/* Whether @path fits in sockaddr_un.sun_path with its NUL. */
int ctlpath_check_len(const char *path);

#endif /* IOMAPFS_CTLPATH_H */
