// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_open.c - the FUSE operations that open and close regular files:
 * open, create (newinode.c makes the file) and release.  A file handle is
 * a reference to the in-memory inode (ffi->fh holds the struct fs_inode),
 * counted as open so that an unlinked file lives until its last release,
 * which frees it (fs_inode_close()).  O_DIRECT handles use the kernel's
 * direct-I/O mode with parallel direct writes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>

#include "atime.h"
#include "iflags.h"
#include "inode.h"
#include "inode_free.h"
#include "io_falloc.h"
#include "killpriv.h"
#include "newinode.h"
#include "ops_open.h"

/* Drop the handle in ffi->fh; free the inode when it was the last one
 * of an unlinked file. */
static void release_fh(struct iomapfs *fsx, struct fuse_file_info *ffi)
{
	struct fs_inode *fi = (struct fs_inode *)(uintptr_t)ffi->fh;
	bool last;

	if (!fi)
		return;
	/*
	 * op_read() replies first and drops io_lock after: the kernel may
	 * have sent this RELEASE, and a FORGET once it evicted the inode,
	 * before that read is done with fi.  Taking io_lock once waits for
	 * such a tail, so that the handle's reference outlives every request
	 * made through the handle.
	 */
	pthread_rwlock_wrlock(&fi->io_lock);
	pthread_rwlock_unlock(&fi->io_lock);
	last = fs_inode_close(fsx, fi);
	/* A write-back error nobody asked for is the closed handles' (the
	 * kernel reported it at close): not for the file's next opener. */
	pthread_mutex_lock(&fsx->itab_lock);
	if (!fi->open_count)
		__atomic_store_n(&fi->wb_error, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fsx->itab_lock);
	fs_lock(fsx);
	/* with -o lazytime the times wait for the inode's next write; a
	 * size an append left pending does not (fs_inode_grow()) */
	if (!fs_is_ro(fsx) &&
	    (!fsx->opts.lazytime || fs_inode_size_pending(fi)))
		fs_inode_sync_times(fsx, fi, NULL);
	if (last && !fs_is_ro(fsx))
		inode_free(fsx, fi->ino);
	fs_unlock(fsx);
	fs_inode_put(fsx, fi);
	ffi->fh = 0;
}

/*
 * Open regular file @ino for @req: reference its in-memory inode into
 * ffi->fh and count the handle; O_TRUNC (atomic_o_trunc) truncates under
 * the I/O lock, and clears the set-user-ID and set-group-ID bits a write
 * would, empty file or not, as ext4's open does (the kernel's FUSE never
 * sends the setattr that would ask for it: killpriv.c).
 * The inode's flags decide first (immutable, append-only), as the
 * kernel's may_open() does for ext4; the in-memory inode notes what was
 * read, under fs_lock, so that no flag change slips between.
 */
static int open_file(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t ino,
		     struct fuse_file_info *ffi)
{
	struct ext2_inode_large inode;
	struct fs_inode *fi = NULL;
	int ret;

	if (fs_is_ro(fsx) &&
	    ((ffi->flags & O_ACCMODE) != O_RDONLY || (ffi->flags & O_TRUNC)))
		return -EROFS;
	fs_lock(fsx);
	ret = inode_read_as(fsx, ino, LINUX_S_IFREG, &inode);
	if (!ret)
		ret = iflags_may_open(&inode, ffi->flags);
	if (!ret) {
		fi = fs_inode_get(fsx, ino);
		if (!fi)
			ret = -ENOMEM;
		else
			fs_inode_note(fi, &inode);
	}
	fs_unlock(fsx);
	if (ret)
		return ret;
	fs_inode_open(fsx, fi);
	if ((ffi->flags & O_TRUNC) && (ffi->flags & O_ACCMODE) != O_RDONLY) {
		pthread_rwlock_wrlock(&fi->io_lock);
		ret = fs_inode_load_size(fsx, fi);
		if (!ret)
			ret = killpriv_write(fsx, req, fi);
		if (!ret && fi->size) {
			ret = io_truncate(fsx, fi, 0);
			/* with the write-back cache, the kernel's times */
			if (!ret && !fsx->writeback)
				fs_inode_touch(fsx, fi);
		}
		pthread_rwlock_unlock(&fi->io_lock);
		if (ret) {
			fs_inode_close(fsx, fi);
			fs_inode_put(fsx, fi);
			return ret;
		}
	}
	ffi->fh = (uint64_t)(uintptr_t)fi;
	/*
	 * Every change passes through the kernel: its cache stays valid.
	 * Unless the access time waits for a read (atime.c): a read the
	 * kernel answers from its cache never reaches us.
	 */
	ffi->keep_cache = !atime_wants_reads(fsx, fi, ffi->flags);
	ffi->noflush = 1; /* see op_create() */
	/*
	 * O_DIRECT: the kernel's direct-I/O mode (FOPEN_DIRECT_IO), which
	 * op_open() combines with parallel direct writes.  In the cached
	 * mode a direct write holds the inode's i_rwsem exclusive (so the
	 * writers of one file run one at a time) and first asks us for
	 * security.capability (file_remove_privs(), a GETXATTR round trip
	 * per write).  The direct-I/O mode takes i_rwsem shared for writes
	 * inside i_size and asks nothing.  The kernel clears no set-user-ID
	 * or set-group-ID bit on its writes: op_write_buf() does, in either
	 * mode (killpriv.c).
	 */
	if (ffi->flags & O_DIRECT)
		ffi->direct_io = 1;
	/*
	 * Immutable or append-only, with the write-back cache: the kernel
	 * does not know the flags, and would take writes into its pages and
	 * write whole pages back, from before the end; in direct-I/O mode
	 * each write is judged as it comes (iflags_may_write()), as on ext4.
	 */
	if (fsx->writeback &&
	    (inode.i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL)))
		ffi->direct_io = 1;
	return 0;
}

/* From the kernel's <linux/fuse.h> (ABI 7.36); libfuse 3.14 lacks it. */
#define OPS_FOPEN_DIRECT_IO		 (1u << 0)
#define OPS_FOPEN_KEEP_CACHE		 (1u << 1)
#define OPS_FOPEN_NOFLUSH		 (1u << 5)
#define OPS_FOPEN_PARALLEL_DIRECT_WRITES (1u << 6)

/*
 * Reply to an open whose handle is in direct-I/O mode, adding
 * FOPEN_PARALLEL_DIRECT_WRITES, which libfuse 3.14's fuse_reply_open()
 * cannot send: the reply is the kernel's struct fuse_open_out (fh,
 * open_flags, padding), sent as is.  A kernel that does not know the flag
 * ignores it.  Returns what fuse_reply_open() would.
 */
static int reply_open_direct(fuse_req_t req, const struct fuse_file_info *ffi)
{
	struct {
		uint64_t fh;
		uint32_t open_flags;
		uint32_t padding;
	} out = {
		.fh = ffi->fh,
		.open_flags = OPS_FOPEN_DIRECT_IO |
			      OPS_FOPEN_PARALLEL_DIRECT_WRITES |
			      (ffi->keep_cache ? OPS_FOPEN_KEEP_CACHE : 0) |
			      (ffi->noflush ? OPS_FOPEN_NOFLUSH : 0),
	};
	struct iovec iov = {.iov_base = &out, .iov_len = sizeof(out)};

	return fuse_reply_iov(req, &iov, 1);
}

void op_open(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	int ret = open_file(fsx, req, fs_ino(nodeid), ffi);

	if (ret)
		fuse_reply_err(req, -ret);
	else if ((ffi->direct_io ? reply_open_direct(req, ffi)
				 : fuse_reply_open(req, ffi)) == -ENOENT)
		release_fh(fsx, ffi); /* interrupted: the kernel never knew */
}

/*
 * A new regular file in @parent, open: named @name (op_create()), or
 * without a name when @name is NULL (op_tmpfile(): its last close frees
 * it, unless link(2) named it first, op_link()).  Replies.
 */
static void create_open(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	mode_t imode = (mode & 07777) | S_IFREG;
	struct fuse_entry_param e;
	struct fs_inode *fi = NULL;
	int ret;

	fs_lock(fsx);
	if (name)
		ret = newinode_make(fsx, req, fs_ino(parent), name, imode, 0,
				    NULL, &e);
	else
		ret = newinode_tmpfile(fsx, req, fs_ino(parent), imode, &e);
	fs_unlock(fsx);
	if (!ret) {
		fi = fs_inode_get(fsx, fs_ino(e.ino));
		if (!fi)
			ret = -ENOMEM;
	}
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	fi->size = 0;
	fi->size_valid = true;
	if (name)
		killpriv_note(fsx, fi->ino, e.attr.st_mode);
	fs_inode_open(fsx, fi);
	if (!name) {
		pthread_mutex_lock(&fsx->itab_lock);
		fi->unlinked = true;
		fi->tmpfile = true;
		pthread_mutex_unlock(&fsx->itab_lock);
	}
	ffi->fh = (uint64_t)(uintptr_t)fi;
	ffi->keep_cache = 1;
	/*
	 * No FLUSH at close (FOPEN_NOFLUSH): our writes reach the device
	 * before they are answered, so a flush has no error to report, and
	 * the timestamps a lock-free overwrite left pending are folded into
	 * every getattr and written by release.  Shared mappings are written
	 * back when they are unmapped, not at close.  That saves one round
	 * trip per close(2): two per file in 'printf > file', where the shell
	 * closes the descriptor it dup2()s.  (With the write-back cache the
	 * kernel writes the file back at close anyway, and sends a FLUSH
	 * until op_flush()'s ENOSYS.)
	 */
	ffi->noflush = 1;
	if (fuse_reply_create(req, &e, ffi) == -ENOENT)
		release_fh(fsx, ffi);
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *ffi)
{
	create_open(req, parent, name, mode, ffi);
}

#ifdef HAVE_STRUCT_FUSE_LOWLEVEL_OPS_TMPFILE
/* O_TMPFILE (libfuse 3.17 and later). */
void op_tmpfile(fuse_req_t req, fuse_ino_t parent, mode_t mode,
		struct fuse_file_info *ffi)
{
	create_open(req, parent, NULL, mode, ffi);
}
#endif

void op_release(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *ffi)
{
	release_fh(req_fs(req), ffi);
	fuse_reply_err(req, 0);
}
