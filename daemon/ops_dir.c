// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_dir.c - the session's init and destroy, directory handles (opendir,
 * readdir, readdirplus, releasedir, fsyncdir) and statfs.
 *
 * A directory handle holds a snapshot of the directory's entries, taken
 * at the first readdir and again whenever the kernel reads from offset 0
 * (rewinddir).  The offset of an entry is its index in the snapshot plus
 * one, so a listing read in several calls neither skips nor repeats an
 * entry while other threads change the directory.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ops.h"

/* conn->max_write and max_readahead we ask for: 1 MiB */
#define OPS_MAX_IO (1u << 20)

void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct iomapfs *fsx = userdata;
	unsigned int want = FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			    FUSE_CAP_SPLICE_MOVE | FUSE_CAP_ASYNC_READ |
			    FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_ATOMIC_O_TRUNC |
			    FUSE_CAP_READDIRPLUS;

	/*
	 * The kernel enforces ACLs only with default_permissions.  It then
	 * leaves the umask to us (DONT_MASK: we get the mode unmasked and
	 * the umask apart), since a default ACL replaces the umask.
	 */
	if (!fsx->opts.fakeroot)
		want |= FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
	conn->want |= want & conn->capable;
	/*
	 * READDIRPLUS for every batch, not only the first (libfuse turns
	 * READDIRPLUS_AUTO on by default).  Our directories are linear: a
	 * LOOKUP of one name scans the directory, while the attributes
	 * readdirplus sends cost one inode read each.  With AUTO, rm -rf of
	 * a directory of 3000 files sent 2799 LOOKUPs before the UNLINKs;
	 * with plus on every batch it sends none.
	 */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/* write_buf wants the data in the pipe, not copied to memory */
	conn->max_write = OPS_MAX_IO;
	if (conn->max_readahead > OPS_MAX_IO)
		conn->max_readahead = OPS_MAX_IO;
	conn->time_gran = 1;
}

struct dir_ent {
	ext2_ino_t ino;
	uint32_t name_off; /* into dir_handle.names */
	uint16_t name_len;
	uint8_t ftype; /* EXT2_FT_*, 0 when unknown */
};

struct dir_handle {
	pthread_mutex_t lock; /* protects the snapshot */
	bool loaded;
	bool oom; /* the last snapshot ran out of memory */
	struct dir_ent *ents;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	struct dir_handle *prev, *next; /* dir_handles, under its lock */
};

/*
 * Every open directory handle.  The kernel queues RELEASEDIR in the
 * background and drops what is still queued when the filesystem is
 * unmounted right after the last close: op_destroy frees those handles.
 */
static pthread_mutex_t dir_handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dir_handle *dir_handles;

static void dir_handle_clear(struct dir_handle *dh)
{
	free(dh->ents);
	free(dh->names);
	dh->ents = NULL;
	dh->names = NULL;
	dh->n = dh->cap = dh->names_len = dh->names_cap = 0;
	dh->loaded = false;
}

static void dir_handle_link(struct dir_handle *dh)
{
	pthread_mutex_lock(&dir_handles_lock);
	dh->prev = NULL;
	dh->next = dir_handles;
	if (dir_handles)
		dir_handles->prev = dh;
	dir_handles = dh;
	pthread_mutex_unlock(&dir_handles_lock);
}

/* Unlink @dh from dir_handles and free it. */
static void dir_handle_free(struct dir_handle *dh)
{
	pthread_mutex_lock(&dir_handles_lock);
	if (dh->prev)
		dh->prev->next = dh->next;
	else
		dir_handles = dh->next;
	if (dh->next)
		dh->next->prev = dh->prev;
	pthread_mutex_unlock(&dir_handles_lock);
	dir_handle_clear(dh);
	pthread_mutex_destroy(&dh->lock);
	free(dh);
}

void op_destroy(void *userdata)
{
	struct iomapfs *fsx = userdata;
	int ret;

	/* No request runs any more: free what RELEASEDIR did not. */
	while (dir_handles)
		dir_handle_free(dir_handles);
	if (!fsx->fs)
		return;
	fs_lock(fsx);
	ret = fs_flush_all(fsx);
	fs_unlock(fsx);
	if (ret)
		fprintf(stderr, "iomapfs: %s: flush at unmount failed: %s\n",
			fsx->source, strerror(-ret));
}

static int dir_snap_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent,
		       int offset, int blocksize, char *buf, void *priv)
{
	struct dir_handle *dh = priv;
	size_t len = (size_t)ext2fs_dirent_name_len(dirent);
	struct dir_ent *de;

	if (dirent->inode == 0)
		return 0;
	if (dh->n == dh->cap) {
		size_t cap = dh->cap ? dh->cap * 2 : 64;
		struct dir_ent *p = realloc(dh->ents, cap * sizeof(*p));

		if (!p) {
			dh->oom = true;
			return DIRENT_ABORT;
		}
		dh->ents = p;
		dh->cap = cap;
	}
	if (dh->names_len + len + 1 > dh->names_cap) {
		size_t cap = dh->names_cap ? dh->names_cap * 2 : 4096;
		char *p;

		while (cap < dh->names_len + len + 1)
			cap *= 2;
		p = realloc(dh->names, cap);
		if (!p) {
			dh->oom = true;
			return DIRENT_ABORT;
		}
		dh->names = p;
		dh->names_cap = cap;
	}
	de = &dh->ents[dh->n++];
	de->ino = dirent->inode;
	de->name_off = (uint32_t)dh->names_len;
	de->name_len = (uint16_t)len;
	de->ftype = (uint8_t)ext2fs_dirent_file_type(dirent);
	memcpy(dh->names + dh->names_len, dirent->name, len);
	dh->names[dh->names_len + len] = '\0';
	dh->names_len += len + 1;
	return 0;
}

/* (Re)take the snapshot of directory @ino.  dh->lock held. */
static int dir_snapshot(struct iomapfs *fsx, ext2_ino_t ino,
			struct dir_handle *dh)
{
	struct ext2_inode_large inode;
	errcode_t err;
	int ret;

	dir_handle_clear(dh);
	dh->oom = false;
	fs_lock(fsx);
	ret = fs_read_inode(fsx, ino, &inode);
	if (ret)
		goto out_unlock;
	if (!LINUX_S_ISDIR(inode.i_mode)) {
		ret = -ENOTDIR;
		goto out_unlock;
	}
	dh->loaded = true;
	if (inode.i_links_count == 0)
		goto out_unlock; /* removed: lists as empty */
	err = ext2fs_dir_iterate2(fsx->fs, ino, 0, NULL, dir_snap_cb, dh);
	ret = translate_error(fsx, err, ino);
	if (!ret && dh->oom)
		ret = -ENOMEM;
out_unlock:
	fs_unlock(fsx);
	if (ret)
		dir_handle_clear(dh);
	return ret;
}

void op_opendir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct dir_handle *dh;
	int ret;

	fs_lock(fsx);
	ret = fs_read_inode(fsx, fs_ino(nodeid), &inode);
	fs_unlock(fsx);
	if (!ret && !LINUX_S_ISDIR(inode.i_mode))
		ret = -ENOTDIR;
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	dh = calloc(1, sizeof(*dh));
	if (!dh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_init(&dh->lock, NULL);
	dir_handle_link(dh);
	fi->fh = (uint64_t)(uintptr_t)dh;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT)
		dir_handle_free(dh);
}

/* DT_* of an EXT2_FT_* type, as st_mode type bits. */
static mode_t ftype_mode(uint8_t ftype)
{
	switch (ftype) {
	case EXT2_FT_REG_FILE:
		return S_IFREG;
	case EXT2_FT_DIR:
		return S_IFDIR;
	case EXT2_FT_CHRDEV:
		return S_IFCHR;
	case EXT2_FT_BLKDEV:
		return S_IFBLK;
	case EXT2_FT_FIFO:
		return S_IFIFO;
	case EXT2_FT_SOCK:
		return S_IFSOCK;
	case EXT2_FT_SYMLINK:
		return S_IFLNK;
	default:
		return 0;
	}
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static void do_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size,
		       off_t off, struct fuse_file_info *fi, bool plus)
{
	struct iomapfs *fsx = req_fs(req);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;
	size_t pos = 0, i;
	char *buf;
	int ret = 0;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&dh->lock);
	if (off == 0 || !dh->loaded) {
		ret = dir_snapshot(fsx, fs_ino(nodeid), dh);
		if (ret)
			goto out_unlock;
	}
	for (i = (size_t)off; i < dh->n; i++) {
		const struct dir_ent *de = &dh->ents[i];
		const char *name = dh->names + de->name_off;
		size_t need;

		if (!plus) {
			struct stat st;

			memset(&st, 0, sizeof(st));
			st.st_ino = de->ino;
			st.st_mode = ftype_mode(de->ftype);
			need = fuse_add_direntry(req, buf + pos, size - pos,
						 name, &st, (off_t)(i + 1));
			if (need > size - pos)
				break;
			pos += need;
			continue;
		}
		need = fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0);
		if (need > size - pos)
			break;
		{
			struct ext2_inode_large inode;
			struct fuse_entry_param e;
			int r;

			memset(&e, 0, sizeof(e));
			fs_lock(fsx);
			r = fs_load_inode(fsx, de->ino, &inode);
			if (!r && !is_dot_or_dotdot(name))
				r = fs_fill_entry(fsx, de->ino, &inode, &e);
			else if (!r)
				fs_fill_stat(fsx, de->ino, &inode, &e.attr);
			fs_unlock(fsx);
			if (r || is_dot_or_dotdot(name)) {
				/* no entry for the kernel to remember */
				e.ino = 0;
				e.attr.st_ino = de->ino;
				if (r)
					e.attr.st_mode = ftype_mode(de->ftype);
			}
			pos += fuse_add_direntry_plus(req, buf + pos,
						      size - pos, name, &e,
						      (off_t)(i + 1));
		}
	}
out_unlock:
	pthread_mutex_unlock(&dh->lock);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, buf, pos);
	free(buf);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;

	if (dh)
		dir_handle_free(dh);
	fuse_reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi)
{
	struct iomapfs *fsx = req_fs(req);
	bool need_datasync = false;
	int ret = 0;

	fs_lock(fsx);
	if (!fs_is_ro(fsx) || fsx->journal)
		ret = fs_sync_inode(fsx, fs_ino(ino), datasync,
				    &need_datasync);
	fs_unlock(fsx);
	if (!ret && need_datasync && fdatasync(fsx->dev_fd) < 0)
		ret = -errno;
	fuse_reply_err(req, -ret);
}

void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_super_block *sb;
	struct statvfs sv;
	uint64_t blocks, bfree, resv, overhead;
	const uint32_t *uuid;

	memset(&sv, 0, sizeof(sv));
	fs_lock(fsx);
	sb = fsx->fs->super;
	blocks = ext2fs_blocks_count(sb);
	bfree = ext2fs_free_blocks_count(sb);
	resv = ext2fs_r_blocks_count(sb);
	/* like ext4: metadata overhead is not counted as capacity */
	overhead = sb->s_overhead_clusters;
	if (!overhead)
		overhead = (uint64_t)fsx->fs->desc_blocks +
			   (uint64_t)fsx->fs->group_desc_count *
				   (fsx->fs->inode_blocks_per_group + 2) +
			   sb->s_first_data_block;
	if (overhead > blocks - bfree)
		overhead = blocks - bfree;
	sv.f_bsize = fsx->blocksize;
	sv.f_frsize = fsx->blocksize;
	sv.f_blocks = blocks - overhead;
	sv.f_bfree = bfree;
	sv.f_bavail = bfree > resv ? bfree - resv : 0;
	sv.f_files = sb->s_inodes_count;
	sv.f_ffree = sb->s_free_inodes_count;
	sv.f_favail = sv.f_ffree;
	uuid = (const uint32_t *)sb->s_uuid;
	sv.f_fsid = (unsigned long)(uuid[0] ^ uuid[1]) |
		    ((unsigned long)(uuid[2] ^ uuid[3]) << 16 << 16);
	sv.f_namemax = EXT2_NAME_LEN;
	if (fs_is_ro(fsx))
		sv.f_flag |= ST_RDONLY;
	fs_unlock(fsx);
	fuse_reply_statfs(req, &sv);
}
