// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs_report.c - the filesystem's answers to the control server (see
 * fs_report.h): inode size and kind, mapping reports, the path search and
 * the library version.  The only libext2fs calls the control server leads
 * to are here, each under fs_lock and each error through translate_error().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "fs_report.h"
#include "grow.h"
#include "journal.h"

int fs_report_inode(struct iomapfs *fsx, uint64_t ino,
		    struct fs_report_inode *out)
{
	struct ext2_inode_large inode;
	int ret;

	fs_lock(fsx);
	/* Checked first: libext2fs would call it a bad inode number, an
	 * error the errors= policy need not hear of. */
	if (ino == 0 || ino > fsx->fs->super->s_inodes_count) {
		fs_unlock(fsx);
		return -ENOENT;
	}
	ret = fs_read_inode(fsx, (ext2_ino_t)ino, &inode);
	fs_unlock(fsx);
	if (ret)
		return ret;
	out->size = EXT2_I_SIZE(&inode);
	out->is_dir = LINUX_S_ISDIR(inode.i_mode);
	out->in_use = inode.i_links_count || inode.i_mode;
	return 0;
}

int fs_report_map(struct iomapfs *fsx, uint64_t ino, uint64_t off, uint64_t len,
		  iomap_ext2_walk_fn fn, void *arg)
{
	int ret;

	if (ino == 0 || ino > UINT32_MAX)
		return -ENOENT;
	fs_lock(fsx);
	ret = iomap_ext2_walk(fsx->fs, (ext2_ino_t)ino, off, len, fn, arg);
	fs_unlock(fsx);
	return ret;
}

const char *fs_report_lib_version(void)
{
	const char *v = NULL;

	ext2fs_get_library_version(&v, NULL);
	return v ? v : "unknown";
}

/* ---- paths of inodes ---------------------------------------------------- */

struct fs_report_paths {
	uint32_t *keys, *vals; /* open addressing: ino -> parent */
	size_t cap, n;
	uint32_t *queue; /* directories still to read */
	size_t qhead, qlen, qcap;
	size_t dirs, entries;
	bool started;
};

struct fs_report_paths *fs_report_paths_new(void)
{
	return calloc(1, sizeof(struct fs_report_paths));
}

void fs_report_paths_free(struct fs_report_paths *p)
{
	if (!p)
		return;
	free(p->keys);
	free(p->vals);
	free(p->queue);
	free(p);
}

static size_t paths_slot(const struct fs_report_paths *p, uint32_t ino)
{
	size_t i = (ino * 2654435761u) & (p->cap - 1);

	while (p->keys[i] && p->keys[i] != ino)
		i = (i + 1) & (p->cap - 1);
	return i;
}

static int paths_put(struct fs_report_paths *p, uint32_t ino, uint32_t parent)
{
	size_t i;

	if ((p->n + 1) * 2 > p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 1024, j;
		struct fs_report_paths np = *p;

		np.keys = calloc(ncap, sizeof(*np.keys));
		np.vals = calloc(ncap, sizeof(*np.vals));
		if (!np.keys || !np.vals) {
			free(np.keys);
			free(np.vals);
			return -ENOMEM;
		}
		np.cap = ncap;
		for (j = 0; j < p->cap; j++) {
			if (!p->keys[j])
				continue;
			i = paths_slot(&np, p->keys[j]);
			np.keys[i] = p->keys[j];
			np.vals[i] = p->vals[j];
		}
		free(p->keys);
		free(p->vals);
		p->keys = np.keys;
		p->vals = np.vals;
		p->cap = ncap;
	}
	i = paths_slot(p, ino);
	if (p->keys[i])
		return 0; /* first name found wins (hard links) */
	p->keys[i] = ino;
	p->vals[i] = parent;
	p->n++;
	return 0;
}

static uint32_t paths_get(const struct fs_report_paths *p, uint32_t ino)
{
	size_t i;

	if (!p->cap)
		return 0;
	i = paths_slot(p, ino);
	return p->keys[i] ? p->vals[i] : 0;
}

static int paths_enqueue(struct fs_report_paths *p, uint32_t dir)
{
	uint32_t *nq = grow_one(p->queue, p->qlen, &p->qcap, sizeof(*nq), 256);

	if (!nq)
		return -ENOMEM;
	p->queue = nq;
	p->queue[p->qlen++] = dir;
	return 0;
}

struct paths_iter {
	struct fs_report_paths *p;
	int ret;
};

static int paths_dirent(ext2_ino_t dir, int entry,
			struct ext2_dir_entry *dirent, int offset,
			int blocksize, char *buf, void *arg)
{
	struct paths_iter *it = arg;
	ext2_ino_t ino = dirent->inode;

	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || !ino)
		return 0;
	it->p->entries++;
	if (paths_put(it->p, ino, dir) ||
	    (ext2fs_dirent_file_type(dirent) == EXT2_FT_DIR &&
	     paths_enqueue(it->p, ino))) {
		it->ret = -ENOMEM;
		return DIRENT_ABORT;
	}
	return it->p->entries >= FS_REPORT_PATH_MAX_ENTRIES ? DIRENT_ABORT : 0;
}

/* Read directory @dir into the search.  A directory that cannot be read
 * only names nothing: the error is reported (and its policy applied) and
 * the search goes on. */
static int paths_read_dir(struct iomapfs *fsx, struct fs_report_paths *p,
			  uint32_t dir)
{
	struct paths_iter it = {.p = p};
	errcode_t err;

	fs_lock(fsx);
	err = ext2fs_dir_iterate2(fsx->fs, dir, 0, NULL, paths_dirent, &it);
	if (err && !it.ret)
		translate_error(fsx, err, dir);
	fs_unlock(fsx);
	return it.ret;
}

int fs_report_path(struct iomapfs *fsx, struct fs_report_paths *p, uint64_t ino,
		   bool is_dir, char **out)
{
	uint32_t parent = 0;
	char *name = NULL;
	errcode_t err;
	int ret;

	*out = NULL;
	if (ino == 0 || ino > UINT32_MAX)
		return -ENOENT;
	if (!p->started) {
		p->started = true;
		if (paths_enqueue(p, EXT2_ROOT_INO))
			return -ENOMEM;
	}
	while (!is_dir && !(parent = paths_get(p, (uint32_t)ino))) {
		if (p->qhead == p->qlen || p->dirs >= FS_REPORT_PATH_MAX_DIRS ||
		    p->entries >= FS_REPORT_PATH_MAX_ENTRIES)
			return -ENOENT;
		p->dirs++;
		ret = paths_read_dir(fsx, p, p->queue[p->qhead++]);
		if (ret)
			return ret;
	}
	fs_lock(fsx);
	if (is_dir)
		err = ext2fs_get_pathname(fsx->fs, (ext2_ino_t)ino, 0, &name);
	else
		err = ext2fs_get_pathname(fsx->fs, parent, (ext2_ino_t)ino,
					  &name);
	ret = translate_error(fsx, err, (ext2_ino_t)ino);
	fs_unlock(fsx);
	if (ret)
		return ret;
	if (!name)
		return -ENOENT;
	*out = strdup(name);
	ext2fs_free_mem(&name);
	return *out ? 0 : -ENOMEM;
}

int fs_report_journal(struct iomapfs *fsx, struct journal_stats *st,
		      struct journal_txn *txns, size_t max, size_t *n)
{
	int ret = 0;

	*n = 0;
	/* The mutex alone, not fs_lock(): a look changes nothing, so it
	 * must not start the commit fs_lock() starts at a bound. */
	pthread_mutex_lock(&fsx->fs_lock);
	if (!fsx->journal) {
		ret = -ENOENT;
		goto out_unlock;
	}
	journal_get_stats(fsx->journal, st);
	if (max)
		*n = journal_get_history(fsx->journal, txns, max);
out_unlock:
	pthread_mutex_unlock(&fsx->fs_lock);
	return ret;
}

int fs_report_journal_published(struct iomapfs *fsx, struct journal_stats *st)
{
	/* fsx->journal is set before the control server starts and cleared
	 * after it stopped. */
	if (!fsx->journal)
		return -ENOENT;
	journal_get_published(fsx->journal, st);
	return 0;
}
