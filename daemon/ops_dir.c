// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_dir.c - directory handles: opendir, readdir, readdirplus,
 * releasedir and fsyncdir.
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
#include <unistd.h>

#include "atime.h"
#include "inode.h"
#include "ops_dir.h"

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

void ops_dir_free_all(void)
{
	while (dir_handles)
		dir_handle_free(dir_handles);
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
	ret = inode_read_as(fsx, ino, LINUX_S_IFDIR, &inode);
	if (ret)
		goto out_unlock;
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

void op_opendir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	struct ext2_inode_large inode;
	struct dir_handle *dh;
	int ret;

	fs_lock(fsx);
	ret = inode_read_as(fsx, fs_ino(nodeid), LINUX_S_IFDIR, &inode);
	fs_unlock(fsx);
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
	ffi->fh = (uint64_t)(uintptr_t)dh;
	ffi->cache_readdir = 0;
	if (fuse_reply_open(req, ffi) == -ENOENT)
		dir_handle_free(dh);
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static void do_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size,
		       off_t off, struct fuse_file_info *ffi, bool plus)
{
	struct iomapfs *fsx = req_fs(req);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)ffi->fh;
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
			st.st_mode = inode_ftype_mode(de->ftype);
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
			r = fs_peek_inode(fsx, de->ino, &inode);
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
					e.attr.st_mode =
						inode_ftype_mode(de->ftype);
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
	if (!ret)
		atime_accessed(fsx, fs_ino(nodeid), NULL, true, ffi->flags);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *ffi)
{
	do_readdir(req, ino, size, off, ffi, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *ffi)
{
	do_readdir(req, ino, size, off, ffi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *ffi)
{
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)ffi->fh;

	if (dh)
		dir_handle_free(dh);
	fuse_reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *ffi)
{
	struct iomapfs *fsx = req_fs(req);
	bool need_datasync = false;
	int ret = 0;

	fs_lock(fsx);
	if (!fs_is_ro(fsx) || fsx->journal)
		ret = fs_sync_inode(fsx, fs_ino(ino), datasync,
				    &need_datasync);
	fs_unlock(fsx);
	if (!ret && need_datasync)
		ret = fs_dev_flush(fsx); /* none with nobarrier */
	fuse_reply_err(req, -ret);
}
