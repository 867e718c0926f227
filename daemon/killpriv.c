// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * killpriv.c - the set-user-ID and set-group-ID bits a change clears, as
 * the kernel's ext4 clears them, decided from the credentials of the
 * request's caller.
 *
 * Why the daemon does it, and not the kernel's FUSE module
 * --------------------------------------------------------
 * The VFS decides what a write, truncate, fallocate or chown clears
 * (setattr_should_drop_suidgid(), setattr_should_drop_sgid()) and asks the
 * filesystem to clear it with a setattr.  FUSE's setattr throws that
 * request away and, unless the server handles it (FUSE_HANDLE_KILLPRIV,
 * or _V2), clears set-user-ID, and set-group-ID only where the group may
 * execute the file: it never clears set-group-ID of a file without group
 * execute permission written by someone outside its group, as ext4 does
 * (a 2666 file stays 2666).  It loses the clearing of open(O_TRUNC)
 * entirely: with atomic_o_trunc the truncation is the OPEN, and the
 * setattr that would clear the bits is never sent.  And an access ACL is
 * handed to the server with FUSE_SETXATTR_ACL_KILL_SGID only on
 * connections with FUSE_SETXATTR_EXT, which libfuse 3.14 neither asks for
 * nor passes on.  libfuse 3.14 turns FUSE_CAP_HANDLE_KILLPRIV on in
 * conn->want but never puts FUSE_HANDLE_KILLPRIV in its INIT reply, so the
 * kernel does its part; a libfuse that sends it makes the kernel leave all
 * of it to us.  Either way the complete rule is ours to keep: every
 * request that changes a file arrives with its caller's fsuid, fsgid and
 * pid, and this file applies ext4's rule to it.  Where the kernel already
 * cleared a bit, nothing is left to clear.
 *
 * The one change that arrives without a caller is a write-back WRITE
 * (ffi->writepage, with the write-back cache): the page was dirtied by a
 * write() long before.  For those the kernel's file_remove_privs() at
 * write() time, in the writer's context, sends a SETATTR that names no
 * attribute (FUSE dropped the bits it carried) when its own rule says a
 * bit goes; op_setattr() takes such a SETATTR as a change of the contents
 * by its caller, and clears what this file says.
 *
 * The caller's supplementary groups and CAP_FSETID are read from
 * /proc/PID/status of the thread that made the request (FUSE sends its
 * thread id; the thread waits in its system call, so it is there).  That
 * costs a file read, so it happens only when a bit is there to clear and
 * the cheaper checks (root, the caller's own fsgid) did not decide.  A
 * capability counts only in the daemon's user namespace, as capable()
 * counts it in the initial one.  A request from outside our pid namespace
 * has pid 0: no groups beyond its fsgid and no capabilities, so it loses
 * the bits.  With -o fakeroot every caller is root and keeps them where
 * root keeps them.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "killpriv.h"

/* linux/capability.h */
#define KILLPRIV_CAP_FSETID 4

/* What the daemon learnt of a request's caller, read once on demand. */
struct killpriv_caller {
	struct iomapfs *fsx;
	const struct fuse_ctx *ctx;
	bool loaded;
	bool fsetid;   /* CAP_FSETID in our user namespace */
	gid_t *groups; /* supplementary groups */
	size_t ngroups;
};

/* Parse the "Groups:" value of /proc/PID/status into @c. */
static int killpriv_parse_groups(struct killpriv_caller *c, const char *s)
{
	size_t cap = 0;
	gid_t *nv;
	char *end;
	unsigned long v;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || v > UINT32_MAX)
			return -EINVAL;
		s = end;
		if (c->ngroups == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(c->groups, cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			c->groups = nv;
		}
		c->groups[c->ngroups++] = (gid_t)v;
	}
}

/* Whether /proc/PID/ns/user is ours. */
static bool killpriv_same_userns(pid_t pid)
{
	char path[64], theirs[64], ours[64];
	ssize_t n, m;

	snprintf(path, sizeof(path), "/proc/%ld/ns/user", (long)pid);
	n = readlink(path, theirs, sizeof(theirs) - 1);
	m = readlink("/proc/self/ns/user", ours, sizeof(ours) - 1);
	/* no namespaces in this kernel: one namespace */
	if (n < 0 && m < 0)
		return true;
	return n == m && n > 0 && !memcmp(theirs, ours, (size_t)n);
}

/*
 * Read the caller's supplementary groups and CAP_FSETID.  A caller whose
 * status cannot be read (pid 0: outside our pid namespace) has neither.
 */
static void killpriv_load(struct killpriv_caller *c)
{
	char path[64], *line = NULL;
	unsigned long long capeff;
	size_t cap = 0;
	FILE *f;

	if (c->loaded)
		return;
	c->loaded = true;
	if (c->ctx->pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)c->ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "Groups:", 7)) {
			if (killpriv_parse_groups(c, line + 7))
				c->ngroups = 0; /* unreadable: none */
		} else if (!strncmp(line, "CapEff:", 7) &&
			   sscanf(line + 7, "%llx", &capeff) == 1) {
			c->fsetid = capeff & (1ULL << KILLPRIV_CAP_FSETID);
		}
	}
	free(line);
	fclose(f);
	if (c->fsetid && !killpriv_same_userns(c->ctx->pid))
		c->fsetid = false;
}

/* capable(CAP_FSETID) */
static bool killpriv_capable(struct killpriv_caller *c)
{
	if (c->fsx->opts.fakeroot)
		return true;
	killpriv_load(c);
	return c->fsetid;
}

/* in_group_or_capable(): fsgid, a supplementary group, or CAP_FSETID */
static bool killpriv_in_group_or_capable(struct killpriv_caller *c, gid_t gid)
{
	size_t i;

	if (c->fsx->opts.fakeroot || c->ctx->gid == gid)
		return true;
	killpriv_load(c);
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return c->fsetid;
}

static void killpriv_caller_init(struct killpriv_caller *c, struct iomapfs *fsx,
				 fuse_req_t req)
{
	memset(c, 0, sizeof(*c));
	c->fsx = fsx;
	c->ctx = fuse_req_ctx(req);
}

/* setattr_should_drop_sgid(): the set-group-ID bit goes */
static bool killpriv_drop_sgid(struct killpriv_caller *c, mode_t mode,
			       gid_t gid)
{
	if (!(mode & LINUX_S_ISGID))
		return false;
	return (mode & LINUX_S_IXGRP) || !killpriv_in_group_or_capable(c, gid);
}

mode_t killpriv_modify(struct iomapfs *fsx, fuse_req_t req, mode_t mode,
		       gid_t gid)
{
	struct killpriv_caller c;
	mode_t kill;

	if (!LINUX_S_ISREG(mode) || !(mode & (LINUX_S_ISUID | LINUX_S_ISGID)))
		return mode;
	killpriv_caller_init(&c, fsx, req);
	kill = mode & LINUX_S_ISUID;
	if (killpriv_drop_sgid(&c, mode, gid))
		kill |= LINUX_S_ISGID;
	if (kill && !killpriv_capable(&c))
		mode &= ~kill;
	free(c.groups);
	return mode;
}

mode_t killpriv_chown(struct iomapfs *fsx, fuse_req_t req, mode_t mode,
		      gid_t gid)
{
	struct killpriv_caller c;

	if (LINUX_S_ISDIR(mode) || !(mode & (LINUX_S_ISUID | LINUX_S_ISGID)))
		return mode;
	killpriv_caller_init(&c, fsx, req);
	mode &= ~(mode_t)LINUX_S_ISUID;
	if (killpriv_drop_sgid(&c, mode, gid))
		mode &= ~(mode_t)LINUX_S_ISGID;
	free(c.groups);
	return mode;
}

mode_t killpriv_chmod(struct iomapfs *fsx, fuse_req_t req, mode_t mode,
		      gid_t gid)
{
	struct killpriv_caller c;

	if (!(mode & LINUX_S_ISGID))
		return mode;
	killpriv_caller_init(&c, fsx, req);
	if (!killpriv_in_group_or_capable(&c, gid))
		mode &= ~(mode_t)LINUX_S_ISGID;
	free(c.groups);
	return mode;
}

static uint32_t killpriv_bits(mode_t mode)
{
	return KILLPRIV_KNOWN | (mode & (LINUX_S_ISUID | LINUX_S_ISGID));
}

void killpriv_note(struct iomapfs *fsx, ext2_ino_t ino, mode_t mode)
{
	struct fs_inode *fi = fs_inode_find(fsx, ino);

	if (!fi)
		return;
	__atomic_store_n(&fi->sxid, killpriv_bits(mode), __ATOMIC_RELEASE);
	fs_inode_put(fsx, fi);
}

int killpriv_write_locked(struct iomapfs *fsx, fuse_req_t req,
			  struct fs_inode *fi, struct ext2_inode_large *inode)
{
	struct timespec now;
	mode_t mode;
	int ret = 0;

	mode = killpriv_modify(fsx, req, inode->i_mode, fs_inode_gid(inode));
	if (mode != inode->i_mode) {
		inode->i_mode = (__u16)mode;
		fs_now(fsx, &now);
		fs_set_time(inode, FS_CTIME, &now);
		ret = fs_write_inode(fsx, fi->ino, inode);
		if (ret)
			return ret;
		ret = 1;
	}
	__atomic_store_n(&fi->sxid, killpriv_bits(inode->i_mode),
			 __ATOMIC_RELEASE);
	return ret;
}

void killpriv_tell_kernel(struct iomapfs *fsx, ext2_ino_t ino)
{
	int ret;

	if (!fsx->se)
		return;
	ret = fuse_lowlevel_notify_inval_inode(fsx->se, fs_nodeid(ino), -1, 0);
	if (ret && ret != -ENOENT && ret != -ENOSYS)
		fprintf(stderr,
			"iomapfs: inode %u: telling the kernel its mode "
			"changed failed: %s\n",
			ino, strerror(-ret));
}

int killpriv_write(struct iomapfs *fsx, fuse_req_t req, struct fs_inode *fi)
{
	struct ext2_inode_large inode;
	int ret;

	if (__atomic_load_n(&fi->sxid, __ATOMIC_ACQUIRE) == KILLPRIV_KNOWN ||
	    fs_is_ro(fsx))
		return 0;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, fi->ino, &inode);
	if (!ret)
		ret = killpriv_write_locked(fsx, req, fi, &inode);
	fs_unlock(fsx);
	if (ret <= 0)
		return ret;
	killpriv_tell_kernel(fsx, fi->ino);
	return 0;
}
