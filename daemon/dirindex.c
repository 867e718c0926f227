// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dirindex.c - the in-memory directory index (see dirindex.h): building it
 * from a directory's blocks, the block edits that add, remove and repoint
 * entries, and the fallbacks to libext2fs for directories it does not
 * index.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dirindex.h"
#include "dlist.h"
#include "fs.h"

/* An entry whose block is not known (htree directories). */
#define DIX_NOWHERE UINT32_MAX
/* Buckets of the table of indexed directories. */
#define DIX_DIR_BUCKETS 256
/* Larger directories are left to libext2fs (2^24 blocks: 64 GiB at 4k). */
#define DIX_MAX_BLOCKS (1u << 24)
/* The first size of a directory's name table. */
#define DIX_MIN_TAB 16

struct dix_ent {
	struct dix_ent *next;
	uint32_t hash;
	ext2_ino_t ino;
	uint32_t lblk; /* directory block holding it, or DIX_NOWHERE */
	uint8_t len;
	char name[];
};

struct dix_dir {
	ext2_ino_t ino;
	uint32_t generation;
	struct dix_dir *hnext;
	struct dlist_node lru; /* head: most recently used */
	/*
	 * false: a stub recording that this directory is too big for the
	 * budget; every operation on it goes to libext2fs.
	 */
	bool indexed;
	bool htree;
	/* Linear directories only (NULL for htree ones): */
	uint32_t nblocks;
	blk64_t *pblk;	 /* device block of each directory block; 0: hole */
	uint32_t *avail; /* largest record length that fits in each block */
	uint32_t rover;	 /* where the last insertion found room */
	struct dix_ent **tab;
	uint32_t tab_size; /* a power of two */
	uint32_t count;	   /* entries, "." and ".." not counted */
	size_t bytes;	   /* memory held by this directory's index */
};

struct dix {
	uint64_t max_bytes;
	uint64_t seed;
	struct dix_dir *dirs[DIX_DIR_BUCKETS];
	struct dlist lru; /* of struct dix_dir */
	struct dix_stats st;
};

struct dix *dix_new(uint64_t max_bytes)
{
	struct dix *dix = calloc(1, sizeof(*dix));

	if (!dix)
		return NULL;
	dix->max_bytes = max_bytes;
	dix->st.bytes_max = max_bytes;
	/* A secret seed: names chosen to collide cannot be planned. */
	if (getrandom(&dix->seed, sizeof(dix->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(dix->seed))
		dix->seed = (uint64_t)(uintptr_t)dix ^ 0x9e3779b97f4a7c15ULL;
	return dix;
}

static void dir_free_entries(struct dix_dir *d)
{
	uint32_t i;

	if (!d->tab)
		return;
	for (i = 0; i < d->tab_size; i++) {
		struct dix_ent *e = d->tab[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(d->tab);
	d->tab = NULL;
}

static void dir_free(struct dix_dir *d)
{
	dir_free_entries(d);
	free(d->pblk);
	free(d->avail);
	free(d);
}

void dix_free(struct dix *dix)
{
	struct dix_dir *d;

	if (!dix)
		return;
	while ((d = dlist_entry(dix->lru.head, struct dix_dir, lru))) {
		dlist_del(&dix->lru, &d->lru);
		dir_free(d);
	}
	free(dix);
}

void dix_get_stats(const struct dix *dix, struct dix_stats *st)
{
	*st = dix->st;
}

void dix_reset_stats(struct dix *dix)
{
	dix->st.builds = 0;
	dix->st.hits = 0;
	dix->st.fallbacks = 0;
	dix->st.evictions = 0;
	dix->st.too_big = 0;
}

static uint32_t name_hash(const struct dix *dix, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ dix->seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static bool is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') ||
	       (len == 2 && name[0] == '.' && name[1] == '.');
}

/* -- the table of indexed directories and the budget -- */

static struct dix_dir **dir_slot(struct dix *dix, ext2_ino_t ino)
{
	struct dix_dir **pp = &dix->dirs[ino % DIX_DIR_BUCKETS];

	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->hnext;
	return pp;
}

/* Account @delta bytes (may be negative) to @d. */
static void dir_charge(struct dix *dix, struct dix_dir *d, ptrdiff_t delta)
{
	d->bytes += delta;
	dix->st.bytes += delta;
}

static void dir_drop(struct dix *dix, struct dix_dir *d)
{
	struct dix_dir **pp = dir_slot(dix, d->ino);

	if (*pp == d)
		*pp = d->hnext;
	dlist_del(&dix->lru, &d->lru);
	dix->st.bytes -= d->bytes;
	if (d->indexed) {
		dix->st.dirs--;
		dix->st.entries -= d->count;
	}
	dir_free(d);
}

/* Drop least recently used indexes, never @keep, until under budget. */
static void dix_trim(struct dix *dix, struct dix_dir *keep)
{
	struct dlist_node *n = dix->lru.tail, *prev;
	struct dix_dir *d;

	while (n && dix->st.bytes > dix->max_bytes) {
		prev = n->prev;
		d = dlist_entry(n, struct dix_dir, lru);
		if (d != keep) {
			dir_drop(dix, d);
			dix->st.evictions++;
		}
		n = prev;
	}
}

/* Turn @d into a stub: its directory is too big for the budget. */
static void dir_make_stub(struct dix *dix, struct dix_dir *d)
{
	if (d->indexed) {
		dix->st.dirs--;
		dix->st.entries -= d->count;
	}
	dir_free_entries(d);
	free(d->pblk);
	free(d->avail);
	d->pblk = NULL;
	d->avail = NULL;
	d->indexed = false;
	d->count = 0;
	d->tab_size = 0;
	dix->st.bytes -= d->bytes;
	d->bytes = 0;
	dir_charge(dix, d, sizeof(*d));
	dix->st.too_big++;
}

/* After @d grew: keep to the budget, dropping others first. */
static void dir_grew(struct dix *dix, struct dix_dir *d)
{
	if (dix->st.bytes <= dix->max_bytes)
		return;
	dix_trim(dix, d);
	if (dix->st.bytes > dix->max_bytes && d->indexed)
		dir_make_stub(dix, d);
}

/* -- names -- */

static struct dix_ent **ent_slot(struct dix *dix, struct dix_dir *d,
				 const char *name, size_t len, uint32_t *hash)
{
	uint32_t h = name_hash(dix, name, len);
	struct dix_ent **pp = &d->tab[h & (d->tab_size - 1)];

	while (*pp && ((*pp)->hash != h || (*pp)->len != len ||
		       memcmp((*pp)->name, name, len)))
		pp = &(*pp)->next;
	if (hash)
		*hash = h;
	return pp;
}

static int tab_grow(struct dix *dix, struct dix_dir *d)
{
	uint32_t size = d->tab_size * 2, i;
	struct dix_ent **tab;

	if (size < d->tab_size)
		return 0; /* cannot double: longer chains, still correct */
	tab = calloc(size, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (i = 0; i < d->tab_size; i++) {
		struct dix_ent *e = d->tab[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = tab[e->hash & (size - 1)];
			tab[e->hash & (size - 1)] = e;
		}
	}
	free(d->tab);
	dir_charge(dix, d, (ptrdiff_t)(size - d->tab_size) * sizeof(*tab));
	d->tab = tab;
	d->tab_size = size;
	return 0;
}

/* Index @name -> @ino in block @lblk; a name already there keeps its first
 * entry, as a lookup finds the first. */
static int ent_add(struct dix *dix, struct dix_dir *d, const char *name,
		   size_t len, ext2_ino_t ino, uint32_t lblk)
{
	struct dix_ent **pp, *e;
	uint32_t hash;
	int ret;

	if (is_dot(name, len))
		return 0;
	if (d->count >= d->tab_size) {
		ret = tab_grow(dix, d);
		if (ret)
			return ret;
	}
	pp = ent_slot(dix, d, name, len, &hash);
	if (*pp)
		return 0;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->next = NULL;
	e->hash = hash;
	e->ino = ino;
	e->lblk = lblk;
	e->len = (uint8_t)len;
	memcpy(e->name, name, len);
	*pp = e;
	d->count++;
	dix->st.entries++;
	dir_charge(dix, d, (ptrdiff_t)(sizeof(*e) + len));
	return 0;
}

static void ent_del(struct dix *dix, struct dix_dir *d, struct dix_ent **pp)
{
	struct dix_ent *e = *pp;

	*pp = e->next;
	d->count--;
	dix->st.entries--;
	dir_charge(dix, d, -(ptrdiff_t)(sizeof(*e) + e->len));
	free(e);
}

/* -- directory blocks -- */

/*
 * Walk the entries of directory block @buf, checking each record as
 * ext2fs_validate_entry() does.  Calls @fn on each live entry (unless
 * @fn is NULL) and sets *avail to the largest record length that fits:
 * an unused record whole, or what a live one holds beyond its own needs.
 * A checksummed block's tail is no room; one without a tail gets none.
 * Returns 0, the first non-zero value of @fn, or -EUCLEAN.
 */
static int block_walk(ext2_filsys fs, char *buf, uint32_t *avail,
		      int (*fn)(void *, struct ext2_dir_entry *, int),
		      void *arg)
{
	unsigned int bs = fs->blocksize, off = 0, rec_len, name_len;
	bool csum = ext2fs_has_feature_metadata_csum(fs->super);
	bool tail = false;
	uint32_t best = 0, room;
	int ret;

	while (off < bs) {
		struct ext2_dir_entry *de =
			(struct ext2_dir_entry *)(buf + off);

		if (bs - off < 8 || ext2fs_get_rec_len(fs, de, &rec_len))
			return -EUCLEAN;
		name_len = ext2fs_dirent_name_len(de);
		if (csum && off == bs - sizeof(struct ext2_dir_entry_tail) &&
		    de->inode == 0 &&
		    rec_len == sizeof(struct ext2_dir_entry_tail) &&
		    de->name_len == EXT2_DIR_NAME_LEN_CSUM) {
			tail = true;
			break;
		}
		if (rec_len < 8 || rec_len % 4 || rec_len > bs - off ||
		    name_len + 8 > rec_len)
			return -EUCLEAN;
		if (de->inode) {
			room = rec_len - EXT2_DIR_REC_LEN(name_len);
			if (fn) {
				ret = fn(arg, de, (int)off);
				if (ret)
					return ret;
			}
		} else {
			room = rec_len;
		}
		if (room > best)
			best = room;
		off += rec_len;
	}
	*avail = (csum && !tail) ? 0 : best;
	return 0;
}

struct build_ctx {
	struct dix *dix;
	struct dix_dir *d;
	uint32_t lblk;
};

static int build_entry(void *arg, struct ext2_dir_entry *de, int off)
{
	struct build_ctx *bc = arg;

	(void)off;
	return ent_add(bc->dix, bc->d, de->name, ext2fs_dirent_name_len(de),
		       de->inode, bc->d->htree ? DIX_NOWHERE : bc->lblk);
}

struct blocks_ctx {
	struct dix_dir *d;
	blk64_t *pblk; /* NULL: just count */
};

static int build_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
		       blk64_t ref_blk, int ref_offset, void *arg)
{
	struct blocks_ctx *bx = arg;

	(void)fs;
	(void)ref_blk;
	(void)ref_offset;
	if (blockcnt >= 0 && (uint64_t)blockcnt < bx->d->nblocks)
		bx->pblk[blockcnt] = *blocknr;
	return 0;
}

/* Read directory block @pblk of @dir into @buf (checksum checked). */
static int dir_block_read(struct iomapfs *fsx, ext2_ino_t dir, blk64_t pblk,
			  char *buf)
{
	errcode_t err = ext2fs_read_dir_block4(fsx->fs, pblk, buf, 0, dir);

	return err ? translate_error(fsx, err, dir) : 0;
}

static int dir_block_write(struct iomapfs *fsx, ext2_ino_t dir, blk64_t pblk,
			   char *buf)
{
	errcode_t err = ext2fs_write_dir_block4(fsx->fs, pblk, buf, 0, dir);

	return err ? translate_error(fsx, err, dir) : 0;
}

/*
 * Read directory @dir (inode @inode) in whole and index it.  Returns 0
 * with *out set (a stub when it is too big), -EAGAIN when it is not one
 * to index (a size that is no whole number of blocks, or huge: libext2fs
 * serves it, and reports what is wrong with it), or -errno.
 */
static int dir_build(struct iomapfs *fsx, ext2_ino_t dir,
		     const struct ext2_inode_large *inode, struct dix_dir **out)
{
	struct dix *dix = fsx->dix;
	uint64_t size = EXT2_I_SIZE(inode);
	struct build_ctx bc = {.dix = dix};
	struct blocks_ctx bx;
	struct dix_dir *d;
	char *buf = NULL;
	errcode_t err;
	uint32_t i;
	int ret;

	if (size % fsx->blocksize || size / fsx->blocksize > DIX_MAX_BLOCKS)
		return -EAGAIN;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ino = dir;
	d->generation = inode->i_generation;
	d->indexed = true;
	d->htree = inode->i_flags & EXT2_INDEX_FL;
	d->nblocks = (uint32_t)(size / fsx->blocksize);
	d->bytes = sizeof(*d);
	d->tab_size = DIX_MIN_TAB;
	d->tab = calloc(d->tab_size, sizeof(*d->tab));
	d->pblk = calloc(d->nblocks ? d->nblocks : 1, sizeof(*d->pblk));
	if (!d->htree)
		d->avail =
			calloc(d->nblocks ? d->nblocks : 1, sizeof(*d->avail));
	if (!d->tab || !d->pblk || (!d->htree && !d->avail)) {
		ret = -ENOMEM;
		goto out_free;
	}
	d->bytes += d->tab_size * sizeof(*d->tab) +
		    d->nblocks * (sizeof(*d->pblk) + sizeof(*d->avail));
	bx.d = d;
	bx.pblk = d->pblk;
	err = ext2fs_block_iterate3(fsx->fs, dir,
				    BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
				    NULL, build_block, &bx);
	if (err) {
		ret = translate_error(fsx, err, dir);
		goto out_free;
	}
	err = ext2fs_get_mem(fsx->blocksize, &buf);
	if (err) {
		ret = -ENOMEM;
		goto out_free;
	}
	bc.d = d;
	/* charged as it grows, so an oversized directory stops early */
	dix->st.bytes += d->bytes;
	for (i = 0; i < d->nblocks; i++) {
		uint32_t avail = 0;

		if (d->bytes > dix->max_bytes)
			break;
		if (!d->pblk[i])
			continue;
		ret = dir_block_read(fsx, dir, d->pblk[i], buf);
		if (ret)
			goto out_uncharge;
		bc.lblk = i;
		ret = block_walk(fsx->fs, buf, &avail, build_entry, &bc);
		if (ret == -EUCLEAN)
			ret = translate_error(fsx, EXT2_ET_DIR_CORRUPTED, dir);
		if (ret)
			goto out_uncharge;
		if (d->avail)
			d->avail[i] = avail;
	}
	ext2fs_free_mem(&buf);
	dix->st.builds++;
	dix->st.dirs++;
	d->hnext = dix->dirs[dir % DIX_DIR_BUCKETS];
	dix->dirs[dir % DIX_DIR_BUCKETS] = d;
	dlist_add_head(&dix->lru, &d->lru);
	if (d->htree) {
		/* locations are never used: give the memory back */
		dir_charge(dix, d, -(ptrdiff_t)(d->nblocks * sizeof(*d->pblk)));
		free(d->pblk);
		d->pblk = NULL;
	}
	dir_grew(dix, d);
	*out = d;
	return 0;

out_uncharge:
	dix->st.bytes -= d->bytes;
	dix->st.entries -= d->count;
out_free:
	if (buf)
		ext2fs_free_mem(&buf);
	dir_free(d);
	return ret;
}

/*
 * The index of directory @dir, built when needed; NULL when the directory
 * is not indexed (the caller goes to libext2fs).  Errors reading the
 * directory are returned; the fallback would meet them too.
 */
static int dir_find(struct iomapfs *fsx, ext2_ino_t dir, struct dix_dir **out)
{
	struct dix *dix = fsx->dix;
	struct ext2_inode_large inode;
	struct dix_dir *d;
	int ret;

	*out = NULL;
	if (!dix || !dix->max_bytes)
		return 0;
	ret = fs_read_inode(fsx, dir, &inode);
	if (ret)
		return ret;
	if (!LINUX_S_ISDIR(inode.i_mode))
		return -ENOTDIR;
	if (inode.i_flags &
	    (EXT4_INLINE_DATA_FL | EXT4_CASEFOLD_FL | EXT4_ENCRYPT_FL))
		return 0;
	d = *dir_slot(dix, dir);
	if (d &&
	    (d->generation != inode.i_generation ||
	     d->htree != !!(inode.i_flags & EXT2_INDEX_FL) ||
	     (d->indexed && !d->htree &&
	      (uint64_t)d->nblocks * fsx->blocksize != EXT2_I_SIZE(&inode)))) {
		/* a new directory on an old number, or changed behind us */
		dir_drop(dix, d);
		d = NULL;
	}
	if (!d) {
		ret = dir_build(fsx, dir, &inode, &d);
		if (ret == -EAGAIN)
			return 0;
		if (ret)
			return ret;
	} else {
		dlist_del(&dix->lru, &d->lru);
		dlist_add_head(&dix->lru, &d->lru);
	}
	if (!d->indexed)
		return 0;
	*out = d;
	return 0;
}

/* dir_find(), counted: an operation served by the index or left to
 * libext2fs. */
static int dix_get(struct iomapfs *fsx, ext2_ino_t dir, struct dix_dir **out)
{
	int ret = dir_find(fsx, dir, out);

	if (!ret && fsx->dix) {
		if (*out)
			fsx->dix->st.hits++;
		else
			fsx->dix->st.fallbacks++;
	}
	return ret;
}

/* Forget what is known of @dir after a failed edit: rebuilt next time. */
static void dir_reset(struct iomapfs *fsx, struct dix_dir *d)
{
	dir_drop(fsx->dix, d);
}

void dix_forget(struct iomapfs *fsx, ext2_ino_t dir)
{
	struct dix_dir *d;

	if (!fsx->dix)
		return;
	d = *dir_slot(fsx->dix, dir);
	if (d)
		dir_drop(fsx->dix, d);
}

/* -- lookup -- */

int dix_lookup(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	       ext2_ino_t *ino)
{
	size_t len = strlen(name);
	struct dix_dir *d = NULL;
	struct dix_ent *e;
	errcode_t err;
	int ret;

	if (!is_dot(name, len)) {
		ret = dix_get(fsx, dir, &d);
		if (ret)
			return ret;
	} else if (fsx->dix) {
		fsx->dix->st.fallbacks++;
	}
	if (d) {
		e = *ent_slot(fsx->dix, d, name, len, NULL);
		if (!e)
			return -ENOENT;
		*ino = e->ino;
		return 0;
	}
	err = ext2fs_lookup(fsx->fs, dir, name, (int)len, NULL, ino);
	if (err == EXT2_ET_FILE_NOT_FOUND)
		return -ENOENT;
	return translate_error(fsx, err, dir);
}

/* -- adding an entry -- */

/*
 * Put a record for @name -> @ino in block @buf where one fits (the first
 * fit, as ext2fs_link() and the kernel do).  Returns 0 or -ENOSPC.
 */
static int block_insert(ext2_filsys fs, char *buf, const char *name, size_t len,
			ext2_ino_t ino, int ftype)
{
	unsigned int bs = fs->blocksize, off = 0, rec_len, need, used;
	bool csum = ext2fs_has_feature_metadata_csum(fs->super);
	struct ext2_dir_entry *de, *nde;

	need = EXT2_DIR_REC_LEN(len);
	while (off < bs) {
		de = (struct ext2_dir_entry *)(buf + off);
		if (ext2fs_get_rec_len(fs, de, &rec_len) || rec_len < 8 ||
		    rec_len > bs - off)
			return -EUCLEAN;
		if (csum && off == bs - sizeof(struct ext2_dir_entry_tail) &&
		    de->inode == 0 && de->name_len == EXT2_DIR_NAME_LEN_CSUM)
			break; /* the checksum tail */
		used = de->inode ? EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de))
				 : 0;
		if (rec_len >= used + need) {
			if (used) {
				nde = (struct ext2_dir_entry *)(buf + off +
								used);
				if (ext2fs_set_rec_len(fs, rec_len - used,
						       nde) ||
				    ext2fs_set_rec_len(fs, used, de))
					return -EUCLEAN;
				de = nde;
			}
			de->inode = ino;
			de->name_len = 0;
			ext2fs_dirent_set_name_len(de, (int)len);
			if (ext2fs_has_feature_filetype(fs->super))
				ext2fs_dirent_set_file_type(de, ftype);
			memcpy(de->name, name, len);
			return 0;
		}
		off += rec_len;
	}
	return -ENOSPC;
}

/* Grow linear directory @d by one empty block.  Returns 0 or -errno. */
static int dir_expand(struct iomapfs *fsx, struct dix_dir *d)
{
	struct dix *dix = fsx->dix;
	struct ext2_inode_large inode;
	uint32_t n = d->nblocks;
	blk64_t *pblk;
	uint32_t *avail;
	errcode_t err;
	blk64_t blk;
	char *buf;
	int ret;

	if (n + 1 > DIX_MAX_BLOCKS)
		return -ENOSPC;
	pblk = realloc(d->pblk, (n + 1) * sizeof(*pblk));
	if (!pblk)
		return -ENOMEM;
	d->pblk = pblk;
	avail = realloc(d->avail, (n + 1) * sizeof(*avail));
	if (!avail)
		return -ENOMEM;
	d->avail = avail;
	err = ext2fs_expand_dir(fsx->fs, d->ino);
	if (err)
		return translate_error(fsx, err, d->ino);
	ret = fs_read_inode(fsx, d->ino, &inode);
	if (ret)
		return ret;
	if (EXT2_I_SIZE(&inode) != (uint64_t)(n + 1) * fsx->blocksize)
		return -EAGAIN; /* not where we expected it: re-read */
	err = ext2fs_bmap2(fsx->fs, d->ino, EXT2_INODE(&inode), NULL, 0, n,
			   NULL, &blk);
	if (err)
		return translate_error(fsx, err, d->ino);
	if (!blk)
		return -EAGAIN;
	err = ext2fs_get_mem(fsx->blocksize, &buf);
	if (err)
		return -ENOMEM;
	ret = dir_block_read(fsx, d->ino, blk, buf);
	if (!ret)
		ret = block_walk(fsx->fs, buf, &avail[n], NULL, NULL);
	ext2fs_free_mem(&buf);
	if (ret)
		return ret;
	pblk[n] = blk;
	d->nblocks = n + 1;
	dir_charge(dix, d, sizeof(*pblk) + sizeof(*avail));
	return 0;
}

/* Add @name to linear directory @d by editing the one block with room. */
static int dir_insert(struct iomapfs *fsx, struct dix_dir *d, const char *name,
		      size_t len, ext2_ino_t ino, int ftype)
{
	uint32_t need = EXT2_DIR_REC_LEN(len), i, lblk = 0;
	bool found = false;
	char *buf;
	int ret;

	for (i = 0; i < d->nblocks; i++) {
		lblk = (d->rover + i) % d->nblocks;
		if (d->avail[lblk] >= need && d->pblk[lblk]) {
			found = true;
			break;
		}
	}
	if (!found) {
		ret = dir_expand(fsx, d);
		if (ret)
			return ret;
		lblk = d->nblocks - 1;
		if (d->avail[lblk] < need)
			return -ENOSPC; /* a name longer than a block holds */
	}
	if (ext2fs_get_mem(fsx->blocksize, &buf))
		return -ENOMEM;
	ret = dir_block_read(fsx, d->ino, d->pblk[lblk], buf);
	if (ret)
		goto out_free;
	ret = block_insert(fsx->fs, buf, name, len, ino, ftype);
	if (ret == -ENOSPC)
		ret = -EAGAIN; /* the block changed behind the index */
	if (!ret)
		ret = block_walk(fsx->fs, buf, &d->avail[lblk], NULL, NULL);
	if (ret == -EUCLEAN)
		ret = translate_error(fsx, EXT2_ET_DIR_CORRUPTED, d->ino);
	if (!ret)
		ret = dir_block_write(fsx, d->ino, d->pblk[lblk], buf);
	if (!ret) {
		d->rover = lblk;
		ret = ent_add(fsx->dix, d, name, len, ino, lblk);
	}
out_free:
	ext2fs_free_mem(&buf);
	return ret;
}

/* libext2fs adds the entry (unindexed and htree directories). */
static int link_fallback(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
			 ext2_ino_t ino, int ftype)
{
	errcode_t err;

	err = ext2fs_link(fsx->fs, dir, name, ino, ftype);
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(fsx->fs, dir);
		if (err)
			return translate_error(fsx, err, dir);
		err = ext2fs_link(fsx->fs, dir, name, ino, ftype);
	}
	return translate_error(fsx, err, dir);
}

int dix_link(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	     ext2_ino_t ino, int ftype)
{
	size_t len = strlen(name);
	struct dix_dir *d;
	int ret;

	ret = dix_get(fsx, dir, &d);
	if (ret)
		return ret;
	if (!d)
		return link_fallback(fsx, dir, name, ino, ftype);
	if (d->htree) {
		ret = link_fallback(fsx, dir, name, ino, ftype);
		if (!ret)
			ret = ent_add(fsx->dix, d, name, len, ino, DIX_NOWHERE);
	} else {
		ret = dir_insert(fsx, d, name, len, ino, ftype);
	}
	if (ret == -EAGAIN) {
		/* the index and the disk disagree: trust the disk */
		dir_reset(fsx, d);
		return link_fallback(fsx, dir, name, ino, ftype);
	}
	if (ret) {
		dir_reset(fsx, d);
		return ret;
	}
	dir_grew(fsx->dix, d);
	return 0;
}

/* -- removing and repointing an entry -- */

struct find_ctx {
	const char *name;
	size_t len;
	struct ext2_dir_entry *hit, *prev, *last;
};

static int find_entry(void *arg, struct ext2_dir_entry *de, int off)
{
	struct find_ctx *fc = arg;

	(void)off;
	if ((size_t)ext2fs_dirent_name_len(de) == fc->len &&
	    !memcmp(de->name, fc->name, fc->len)) {
		fc->hit = de;
		fc->prev = fc->last;
		return 1;
	}
	fc->last = de;
	return 0;
}

/* Whether record @b follows record @a directly; *a_len is @a's length. */
static bool adjacent(ext2_filsys fs, struct ext2_dir_entry *a,
		     struct ext2_dir_entry *b, unsigned int *a_len)
{
	if (ext2fs_get_rec_len(fs, a, a_len))
		return false;
	return (char *)a + *a_len == (char *)b;
}

/*
 * Edit the entry @name of linear directory @d in its block: remove it
 * (@set false) or point it at @ino/@ftype (@set true).  The entry must
 * point at @expect (0: any).  Returns 0, -EAGAIN when the block does not
 * hold it (the index is stale), or -errno.
 */
static int dir_edit(struct iomapfs *fsx, struct dix_dir *d, struct dix_ent *e,
		    ext2_ino_t expect, bool set, ext2_ino_t ino, int ftype)
{
	struct find_ctx fc = {.name = e->name, .len = e->len};
	unsigned int rec_len, prev_len;
	uint32_t avail = 0;
	char *buf;
	int ret;

	if (e->lblk >= d->nblocks || !d->pblk[e->lblk])
		return -EAGAIN;
	if (ext2fs_get_mem(fsx->blocksize, &buf))
		return -ENOMEM;
	ret = dir_block_read(fsx, d->ino, d->pblk[e->lblk], buf);
	if (ret)
		goto out_free;
	/* find_entry() sees live entries only: the one before is live too
	 * or absent, and a record merges into its live predecessor */
	ret = block_walk(fsx->fs, buf, &avail, find_entry, &fc);
	if (ret == -EUCLEAN) {
		ret = translate_error(fsx, EXT2_ET_DIR_CORRUPTED, d->ino);
		goto out_free;
	}
	if (ret < 0)
		goto out_free;
	if (!fc.hit || (expect && fc.hit->inode != expect)) {
		ret = -EAGAIN;
		goto out_free;
	}
	if (set) {
		fc.hit->inode = ino;
		if (ext2fs_has_feature_filetype(fsx->fs->super))
			ext2fs_dirent_set_file_type(fc.hit, ftype);
	} else if (fc.prev && adjacent(fsx->fs, fc.prev, fc.hit, &prev_len)) {
		/* block_walk() checked both record lengths */
		ext2fs_get_rec_len(fsx->fs, fc.hit, &rec_len);
		if (ext2fs_set_rec_len(fsx->fs, prev_len + rec_len, fc.prev)) {
			ret = translate_error(fsx, EXT2_ET_DIR_CORRUPTED,
					      d->ino);
			goto out_free;
		}
	} else {
		fc.hit->inode = 0;
	}
	ret = block_walk(fsx->fs, buf, &avail, NULL, NULL);
	if (ret == -EUCLEAN)
		ret = translate_error(fsx, EXT2_ET_DIR_CORRUPTED, d->ino);
	if (!ret)
		ret = dir_block_write(fsx, d->ino, d->pblk[e->lblk], buf);
	if (!ret)
		d->avail[e->lblk] = avail;
out_free:
	ext2fs_free_mem(&buf);
	return ret;
}

/*
 * The index of @dir in *d (NULL when it has none) and, when it has one, the
 * slot of @name in it in *pp: -ENOENT when the index does not hold @name.
 */
static int dix_find(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
		    struct dix_dir **d, struct dix_ent ***pp)
{
	int ret;

	ret = dix_get(fsx, dir, d);
	if (ret || !*d)
		return ret;
	*pp = ent_slot(fsx->dix, *d, name, strlen(name), NULL);
	return **pp ? 0 : -ENOENT;
}

int dix_unlink(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	       ext2_ino_t ino)
{
	struct dix_ent **pp;
	struct dix_dir *d;
	errcode_t err;
	int ret;

	ret = dix_find(fsx, dir, name, &d, &pp);
	if (ret)
		return ret;
	if (d) {
		if (!d->htree && (*pp)->lblk != DIX_NOWHERE) {
			ret = dir_edit(fsx, d, *pp, ino, false, 0, 0);
			if (!ret) {
				ent_del(fsx->dix, d, pp);
				return 0;
			}
			if (ret != -EAGAIN) {
				dir_reset(fsx, d);
				return ret;
			}
		}
		/* unknown or stale location: libext2fs searches */
		err = ext2fs_unlink(fsx->fs, dir, name, ino, 0);
		if (err) {
			dir_reset(fsx, d);
			return translate_error(fsx, err, dir);
		}
		if (ret == -EAGAIN)
			dir_reset(fsx, d);
		else
			ent_del(fsx->dix, d, pp);
		return 0;
	}
	err = ext2fs_unlink(fsx->fs, dir, name, ino, 0);
	return translate_error(fsx, err, dir);
}

/* Point entry @name of @dir at @ino (type @ftype), in place, by libext2fs. */
struct dirent_set {
	const char *name;
	size_t len;
	ext2_ino_t ino;
	int ftype;
	bool filetype;
	bool done;
};

static int dirent_set_cb(ext2_ino_t dir, int entry,
			 struct ext2_dir_entry *dirent, int offset,
			 int blocksize, char *buf, void *priv)
{
	struct dirent_set *ds = priv;

	if (dirent->inode == 0 ||
	    (size_t)ext2fs_dirent_name_len(dirent) != ds->len ||
	    memcmp(dirent->name, ds->name, ds->len))
		return 0;
	dirent->inode = ds->ino;
	if (ds->filetype)
		ext2fs_dirent_set_file_type(dirent, ds->ftype);
	ds->done = true;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

static int set_fallback(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
			ext2_ino_t ino, int ftype)
{
	struct dirent_set ds = {
		.name = name,
		.len = strlen(name),
		.ino = ino,
		.ftype = ftype,
		.filetype = ext2fs_has_feature_filetype(fsx->fs->super),
	};
	errcode_t err;

	err = ext2fs_dir_iterate2(fsx->fs, dir, 0, NULL, dirent_set_cb, &ds);
	if (err)
		return translate_error(fsx, err, dir);
	return ds.done ? 0 : -ENOENT;
}

int dix_set(struct iomapfs *fsx, ext2_ino_t dir, const char *name,
	    ext2_ino_t ino, int ftype)
{
	struct dix_ent **pp, *e;
	struct dix_dir *d;
	int ret;

	ret = dix_find(fsx, dir, name, &d, &pp);
	if (ret)
		return ret;
	if (!d)
		return set_fallback(fsx, dir, name, ino, ftype);
	e = *pp;
	ret = -EAGAIN;
	if (!d->htree && e->lblk != DIX_NOWHERE)
		ret = dir_edit(fsx, d, e, 0, true, ino, ftype);
	if (ret == -EAGAIN) {
		ret = set_fallback(fsx, dir, name, ino, ftype);
		if (ret) {
			dir_reset(fsx, d);
			return ret;
		}
	} else if (ret) {
		dir_reset(fsx, d);
		return ret;
	}
	e->ino = ino;
	return 0;
}

/* -- emptiness -- */

static int dir_is_empty_cb(ext2_ino_t dir, int entry,
			   struct ext2_dir_entry *dirent, int offset,
			   int blocksize, char *buf, void *priv)
{
	int *empty = priv;

	if (dirent->inode == 0 ||
	    is_dot(dirent->name, ext2fs_dirent_name_len(dirent)))
		return 0;
	*empty = 0;
	return DIRENT_ABORT;
}

int dix_is_empty(struct iomapfs *fsx, ext2_ino_t dir)
{
	struct dix_dir *d = NULL;
	errcode_t err;
	int empty = 1;

	/* Only an index already built answers: building one for a
	 * directory about to go costs more than the scan. */
	if (fsx->dix)
		d = *dir_slot(fsx->dix, dir);
	if (d && d->indexed) {
		struct dix_dir *cur;
		int ret = dix_get(fsx, dir, &cur);

		if (ret)
			return ret;
		if (cur)
			return cur->count ? -ENOTEMPTY : 0;
	}
	err = ext2fs_dir_iterate2(fsx->fs, dir, 0, NULL, dir_is_empty_cb,
				  &empty);
	if (err)
		return translate_error(fsx, err, dir);
	return empty ? 0 : -ENOTEMPTY;
}
