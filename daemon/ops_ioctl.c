// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_ioctl.c - the FUSE ioctl operation: the ioctls that chattr(1),
 * lsattr(1), xfs_io(8) and fstrim(8) send to ext4, answered as ext4
 * answers them.  The kernel sends FS_IOC_GETFLAGS/SETFLAGS and
 * FS_IOC_FSGETXATTR/FSSETXATTR here through its fileattr calls (after its
 * own owner and CAP_LINUX_IMMUTABLE checks, which we make again); others
 * arrive as the caller made them, restricted to the in and out sizes the
 * command number encodes.  One table says which command each handler
 * serves; anything else gets ENOTTY, as from ext4.
 *
 * A capability is the caller's, read from /proc/PID/status of the thread
 * that made the request.  That thread sleeps in the ioctl until we reply
 * (once a request has reached the daemon, the kernel waits for the answer
 * even when the thread is killed), so its id cannot be reused and its
 * credentials cannot change before the reply: what we read is the
 * caller's.  A caller in another user namespace than the daemon's, or in
 * a pid namespace the daemon cannot see (pid 0), has no capability here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "discard.h"
#include "iflags.h"
#include "inode.h"
#include "ops_ioctl.h"

#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, uint32_t) /* as XFS_IOC_GOINGDOWN */
#endif

/* Whether the caller of @req has capability @cap (CAP_*). */
static bool caller_capable(struct iomapfs *fsx, fuse_req_t req, int cap)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char path[64], line[256];
	struct stat mine, theirs;
	unsigned long long eff = 0;
	bool found = false;
	FILE *f;

	if (fsx->opts.fakeroot)
		return true;
	if (ctx->pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)ctx->pid);
	if (stat(path, &theirs) < 0 || stat("/proc/self/ns/user", &mine) < 0 ||
	    theirs.st_ino != mine.st_ino || theirs.st_dev != mine.st_dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			found = true;
			break;
		}
	fclose(f);
	return found && (eff >> cap) & 1;
}

/*
 * Whether the caller of @req owns @inode, or has CAP_FOWNER (@cap_fowner):
 * the kernel's inode_owner_or_capable().
 */
static bool caller_owns(struct iomapfs *fsx, fuse_req_t req,
			const struct ext2_inode_large *inode, bool cap_fowner)
{
	return fsx->opts.fakeroot || cap_fowner ||
	       fuse_req_ctx(req)->uid == fs_inode_uid(inode);
}

/* The ioctl's answer: @ret, or @len bytes of @out. */
static void ioctl_reply(fuse_req_t req, int ret, const void *out, size_t len)
{
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_ioctl(req, 0, out, len);
}

/* What an ioctl handler gets. */
struct ioctl_call {
	fuse_req_t req;
	struct iomapfs *fsx;
	ext2_ino_t ino;
	void *arg; /* the caller's argument: an address in its memory */
	const void *in;
	size_t in_len;
	size_t out_len;
};

/*
 * Read @len bytes at @addr of the calling thread's memory, for an ioctl
 * whose number says nothing comes in (FS_IOC_SHUTDOWN is _IOR although
 * its flags go in: the kernel copies nothing for us).  The thread sleeps
 * in the ioctl until we answer, so the memory is its own and stays.
 * Returns 0 or -EFAULT, as ext4's get_user().
 */
static int caller_read(fuse_req_t req, const void *addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr,
			       .iov_len = len};
	pid_t pid = fuse_req_ctx(req)->pid;

	if (pid <= 0 ||
	    process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -EFAULT;
	return 0;
}

/* Answer one 32-bit field of the inode, which @get reads out of it. */
static void ioctl_get_u32(const struct ioctl_call *c,
			  uint32_t (*get)(const struct ext2_inode_large *inode))
{
	struct ext2_inode_large inode;
	uint32_t v = 0;
	int ret;

	fs_lock(c->fsx);
	ret = fs_read_inode(c->fsx, c->ino, &inode);
	fs_unlock(c->fsx);
	if (!ret)
		v = get(&inode);
	ioctl_reply(c->req, ret, &v, sizeof(v));
}

static uint32_t inode_generation(const struct ext2_inode_large *inode)
{
	return inode->i_generation;
}

static void ioctl_getflags(const struct ioctl_call *c)
{
	ioctl_get_u32(c, iflags_visible);
}

static void ioctl_getversion(const struct ioctl_call *c)
{
	ioctl_get_u32(c, inode_generation);
}

static void ioctl_fsgetxattr(const struct ioctl_call *c)
{
	struct ext2_inode_large inode;
	struct fsxattr fx;
	int ret;

	memset(&fx, 0, sizeof(fx));
	fs_lock(c->fsx);
	ret = fs_read_inode(c->fsx, c->ino, &inode);
	if (!ret) {
		fx.fsx_xflags = iflags_to_xflags(iflags_visible(&inode));
		if (iflags_has_projid(c->fsx->fs, &inode))
			fx.fsx_projid = inode.i_projid;
	}
	fs_unlock(c->fsx);
	ioctl_reply(c->req, ret, &fx, sizeof(fx));
}

/*
 * Give @c->ino the flags @want (as FS_IOC_SETFLAGS takes them) and, when
 * @projid is not NULL, that project id, by ext4's rules.  The inode's I/O
 * lock is held exclusive across, so that no write judged by the old
 * immutable and append-only flags completes after the new ones are in
 * (iflags_may_write()).  Returns 0 or -errno.
 */
static int set_flags(const struct ioctl_call *c, uint32_t want,
		     const uint32_t *projid)
{
	struct iomapfs *fsx = c->fsx;
	struct ext2_inode_large inode;
	bool cap_imm, cap_res, cap_own, was_immutable;
	struct fs_inode *fi;
	struct timespec now;
	int ret;

	if (fs_is_ro(fsx))
		return -EROFS;
	/* read before any lock: the caller sleeps until we answer */
	cap_imm = caller_capable(fsx, c->req, CAP_LINUX_IMMUTABLE);
	cap_res = caller_capable(fsx, c->req, CAP_SYS_RESOURCE);
	cap_own = caller_capable(fsx, c->req, CAP_FOWNER);
	/*
	 * With the write-back cache, what was written before the file turns
	 * immutable or append-only must reach it first: once the flag is in,
	 * writing it back would be refused.  Dropping the kernel's pages
	 * writes the dirty ones back (other threads serve the WRITEs; no
	 * lock of ours is held).  Handles opened before still write into the
	 * kernel's pages: iomapfs(8) says what that loses.
	 */
	if (fsx->writeback && fsx->opts.threads > 1 &&
	    (want & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))) {
		ret = fuse_lowlevel_notify_inval_inode(fsx->se,
						       fs_nodeid(c->ino), 0, 0);
		if (ret && ret != -ENOENT)
			return ret;
	}
	fi = fs_inode_get(fsx, c->ino);
	if (!fi)
		return -ENOMEM;
	pthread_rwlock_wrlock(&fi->io_lock);
	fs_lock(fsx);
	ret = fs_load_inode(fsx, c->ino, &inode);
	if (ret)
		goto out_unlock;
	if (!caller_owns(fsx, c->req, &inode, cap_own)) {
		ret = -EPERM;
		goto out_unlock;
	}
	was_immutable = inode.i_flags & EXT2_IMMUTABLE_FL;
	ret = iflags_apply(fsx->fs, &inode, want, cap_imm, cap_res);
	if (ret)
		goto out_unlock;
	if (projid &&
	    *projid !=
		    (iflags_has_projid(fsx->fs, &inode) ? inode.i_projid : 0)) {
		/* as ext4: no project without the feature and the room */
		if (!iflags_has_projid(fsx->fs, &inode)) {
			ret = -EOPNOTSUPP;
			goto out_unlock;
		}
		/* an immutable inode keeps its project too */
		if (was_immutable && (inode.i_flags & EXT2_IMMUTABLE_FL)) {
			ret = -EPERM;
			goto out_unlock;
		}
		inode.i_projid = *projid;
	}
	fs_now(c->fsx, &now);
	fs_set_time(&inode, FS_CTIME, &now);
	ret = fs_write_inode(fsx, c->ino, &inode);
out_unlock:
	fs_unlock(fsx);
	pthread_rwlock_unlock(&fi->io_lock);
	fs_inode_put(fsx, fi);
	return ret;
}

static void ioctl_setflags(const struct ioctl_call *c)
{
	uint32_t want;

	memcpy(&want, c->in, sizeof(want));
	ioctl_reply(c->req, set_flags(c, want, NULL), NULL, 0);
}

static void ioctl_fssetxattr(const struct ioctl_call *c)
{
	struct ext2_inode_large inode;
	struct fsxattr fx;
	uint32_t want;
	int ret;

	memcpy(&fx, c->in, sizeof(fx));
	/*
	 * The xflags ext4 keeps replace their flags; the other flags stay,
	 * and other xflags (realtime, extent size hints) are ignored, as
	 * ext4 ignores them.
	 */
	fs_lock(c->fsx);
	ret = fs_read_inode(c->fsx, c->ino, &inode);
	fs_unlock(c->fsx);
	if (ret) {
		fuse_reply_err(c->req, -ret);
		return;
	}
	want = (iflags_visible(&inode) &
		~iflags_from_xflags(IFLAGS_XFLAGS_SUPPORTED)) |
	       iflags_from_xflags(fx.fsx_xflags);
	ioctl_reply(c->req, set_flags(c, want, &fx.fsx_projid), NULL, 0);
}

/* ext4's modes of FS_IOC_SHUTDOWN (EXT4_GOING_FLAGS_*). */
#define IOCTL_SHUTDOWN_DEFAULT	  0u /* flush everything, then stop */
#define IOCTL_SHUTDOWN_LOGFLUSH	  1u /* commit the journal, then stop */
#define IOCTL_SHUTDOWN_NOLOGFLUSH 2u /* stop at once */

/*
 * With the write-back cache a write(2) goes to the kernel's pages, and
 * reaches us only at write-back: the kernel asks for the file's size
 * first when its attributes are stale, and that GETATTR, like every
 * request after a shutdown, fails with EIO.  So every file's attributes
 * are made stale, and its next write(2) fails as on ext4.  (Only the
 * attributes: no page is touched, no lock taken.)
 */
static void shutdown_stale_attrs(struct iomapfs *fsx)
{
	struct fs_inode **arr;
	size_t i, n;

	if (fs_inode_snapshot(fsx, &arr, &n))
		return;
	for (i = 0; i < n; i++) {
		/* -ENOENT: the kernel forgot the inode, nothing to do */
		(void)fuse_lowlevel_notify_inval_inode(
			fsx->se, fs_nodeid(arr[i]->ino), -1, 0);
		fs_inode_put(fsx, arr[i]);
	}
	free(arr);
}

/*
 * FS_IOC_SHUTDOWN, as ext4: only CAP_SYS_ADMIN; the default mode flushes
 * everything first; LOGFLUSH commits the journal, which for iomapfs (its
 * metadata written in place) is the same flush; NOLOGFLUSH stops at
 * once.  A second shutdown succeeds and does nothing.
 */
static void ioctl_shutdown(const struct ioctl_call *c)
{
	uint32_t how;
	int ret;

	if (!caller_capable(c->fsx, c->req, CAP_SYS_ADMIN)) {
		fuse_reply_err(c->req, EPERM);
		return;
	}
	ret = caller_read(c->req, c->arg, &how, sizeof(how));
	if (!ret && how > IOCTL_SHUTDOWN_NOLOGFLUSH)
		ret = -EINVAL;
	if (!ret)
		ret = fs_shutdown(c->fsx, how != IOCTL_SHUTDOWN_NOLOGFLUSH);
	if (!ret && c->fsx->writeback)
		shutdown_stale_attrs(c->fsx);
	ioctl_reply(c->req, ret, NULL, 0);
}

/*
 * FITRIM (fstrim(8)), as ext4: only CAP_SYS_ADMIN, the range and minimum
 * length of struct fstrim_range in bytes, and the bytes discarded given
 * back in its len (discard.c).
 */
static void ioctl_fitrim(const struct ioctl_call *c)
{
	struct fstrim_range r;
	uint64_t trimmed = 0;
	int ret;

	memcpy(&r, c->in, sizeof(r));
	if (!caller_capable(c->fsx, c->req, CAP_SYS_ADMIN))
		ret = -EPERM;
	else if (fs_is_ro(c->fsx))
		ret = -EROFS;
	else
		ret = discard_fitrim(c->fsx, r.start, r.len, r.minlen,
				     &trimmed);
	r.len = trimmed;
	ioctl_reply(c->req, ret, &r, sizeof(r));
}

/*
 * One ioctl: its command, its name, and the bytes it must be given and
 * may answer (the kernel sizes both from the command, or from what its
 * fileattr calls pass).  Answers are 32 bits where the command says long:
 * the kernel copies out only what we answer, as ext4 writes an int.
 */
struct ioctl_op {
	unsigned int cmd;
	const char *name;
	size_t in, out;
	void (*fn)(const struct ioctl_call *c);
};

/* An FS_IOC_ command and its name for debug output, spelled once. */
#define IOCTL_FS(nm) .cmd = FS_IOC_##nm, .name = #nm

static const struct ioctl_op ioctl_ops[] = {
	{IOCTL_FS(GETFLAGS), .out = sizeof(uint32_t), .fn = ioctl_getflags},
	{IOCTL_FS(SETFLAGS), .in = sizeof(uint32_t), .fn = ioctl_setflags},
	{IOCTL_FS(GETVERSION), .out = sizeof(uint32_t), .fn = ioctl_getversion},
	{IOCTL_FS(FSGETXATTR), .out = sizeof(struct fsxattr),
	 .fn = ioctl_fsgetxattr},
	{IOCTL_FS(FSSETXATTR), .in = sizeof(struct fsxattr),
	 .fn = ioctl_fssetxattr},
	{IOCTL_FS(SHUTDOWN), .fn = ioctl_shutdown},
	{.cmd = FITRIM,
	 .name = "FITRIM",
	 .in = sizeof(struct fstrim_range),
	 .out = sizeof(struct fstrim_range),
	 .fn = ioctl_fitrim},
};

/*
 * FIBMAP, which the kernel passes to bmap on a fuseblk mount only: the
 * device block, in @blocksize units (the mount's blksize, which filefrag
 * also counts in), of block @idx of the file, or 0 for a hole or an
 * unwritten block, as ext4's iomap_bmap() answers.  A report: read from
 * the mapping source, never through the cache, so that filefrag does not
 * fill it.
 */
void op_bmap(fuse_req_t req, fuse_ino_t nodeid, size_t blocksize, uint64_t idx)
{
	struct iomapfs *fsx = req_fs(req);
	struct iomap m;
	uint64_t off, blk = 0;
	int ret;

	if (!blocksize || idx > UINT64_MAX / blocksize) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	off = idx * blocksize;
	ret = fs_map_source(fsx, fs_ino(nodeid), off, &m);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	if (m.type == IOMAP_MAPPED && m.offset <= off && off <= iomap_last(&m))
		blk = (m.addr + (off - m.offset)) / blocksize;
	fuse_reply_bmap(req, blk);
}

void op_ioctl(fuse_req_t req, fuse_ino_t nodeid, unsigned int cmd, void *arg,
	      struct fuse_file_info *ffi, unsigned int flags,
	      const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct ioctl_call c = {
		.req = req,
		.fsx = req_fs(req),
		.ino = fs_ino(nodeid),
		.arg = arg,
		.in = in_buf,
		.in_len = in_bufsz,
		.out_len = out_bufsz,
	};
	size_t i;

	(void)ffi;
	/* 32-bit callers use other command numbers: none of ours */
	if (flags & FUSE_IOCTL_COMPAT) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	/* shut down: EIO, but for a second shutdown (ops.c) */
	if (fs_is_shut_down(c.fsx) && cmd != FS_IOC_SHUTDOWN) {
		fuse_reply_err(req, EIO);
		return;
	}
	for (i = 0; i < sizeof(ioctl_ops) / sizeof(ioctl_ops[0]); i++) {
		const struct ioctl_op *op = &ioctl_ops[i];

		if (op->cmd != cmd)
			continue;
		if (in_bufsz < op->in || out_bufsz < op->out) {
			if (c.fsx->opts.debug)
				fprintf(stderr,
					"iomapfs: ioctl %s: %zu bytes in, %zu "
					"out: too few\n",
					op->name, in_bufsz, out_bufsz);
			fuse_reply_err(req, EINVAL);
			return;
		}
		op->fn(&c);
		return;
	}
	fuse_reply_err(req, ENOTTY);
}
