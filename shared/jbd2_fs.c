// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jbd2_fs.c - the journal inside an ext3/ext4 filesystem (jbd2_fs.h):
 * checks the journal inode as e2fsck does before a replay, falls back to
 * the superblock's backup of its block map (s_jnl_blocks) as e2fsck does,
 * reads the journal superblock, and maps log blocks to device blocks.
 * An extent-mapped journal's map is read once into a sorted array of runs
 * (a recovery reads the whole log, and an extent lookup through libext2fs
 * would read the tree again for every block); a block-mapped one is asked
 * of ext2fs_bmap2() block by block.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ext2map.h"
#include "jbd2_fs.h"

/* The smallest journal inode e2fsck accepts, in blocks. */
#define JBD2_FS_MIN_BLOCKS 1024u
/* Extents we read before calling a journal's extent tree corrupt. */
#define JBD2_FS_MAX_EXTENTS (1u << 20)

struct jbd2_fs_run {
	uint64_t lblk;
	uint64_t len;
	uint64_t pblk;
};

struct jbd2_fs {
	ext2_filsys fs;
	ext2_ino_t ino;
	struct ext2_inode_large inode;
	bool backup;
	bool extents;
	uint64_t blocks; /* i_size / block size */
	struct jbd2_fs_run *runs;
	size_t nruns;
	size_t last_run; /* the run the last lookup hit */
	struct jbd2_super sb;
};

const struct jbd2_super *jbd2_fs_super(const struct jbd2_fs *j)
{
	return &j->sb;
}

uint64_t jbd2_fs_blocks(const struct jbd2_fs *j)
{
	return j->blocks;
}

uint32_t jbd2_fs_ino(const struct jbd2_fs *j)
{
	return j->ino;
}

bool jbd2_fs_uses_backup(const struct jbd2_fs *j)
{
	return j->backup;
}

bool jbd2_fs_extents(const struct jbd2_fs *j)
{
	return j->extents;
}

static bool jbd2_fs_blk_ok(ext2_filsys fs, uint64_t blk, uint64_t len)
{
	uint64_t count = ext2fs_blocks_count(fs->super);

	return blk >= fs->super->s_first_data_block && blk < count &&
	       len <= count - blk;
}

/*
 * Read the extent map of the journal inode into j->runs and check that it
 * covers every block of the journal, inside the filesystem, in order.
 */
static int jbd2_fs_load_extents(struct jbd2_fs *j, char *why, size_t why_len)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	struct jbd2_fs_run *n;
	uint64_t covered = 0;
	size_t cap = 0, steps = 0;
	errcode_t err;
	int ret = 0;

	err = ext2fs_extent_open2(j->fs, j->ino, EXT2_INODE(&j->inode), &h);
	if (err) {
		snprintf(why, why_len, "journal inode %u: extent tree: %s",
			 j->ino, iomap_ext2_strerror(err));
		return -EUCLEAN;
	}
	err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &ex);
	while (!err) {
		if (++steps > JBD2_FS_MAX_EXTENTS) {
			err = EXT2_ET_EXTENT_HEADER_BAD;
			break;
		}
		if (ex.e_flags & EXT2_EXTENT_FLAGS_LEAF && ex.e_len) {
			if (ex.e_lblk != covered ||
			    !jbd2_fs_blk_ok(j->fs, ex.e_pblk, ex.e_len)) {
				snprintf(why, why_len,
					 "journal inode %u: extent at block "
					 "%llu (%u blocks at %llu) leaves a "
					 "hole or lies outside the "
					 "filesystem",
					 j->ino, (unsigned long long)ex.e_lblk,
					 ex.e_len,
					 (unsigned long long)ex.e_pblk);
				ret = -EUCLEAN;
				goto out_free;
			}
			if (j->nruns == cap) {
				cap = cap ? cap * 2 : 16;
				n = realloc(j->runs, cap * sizeof(*n));
				if (!n) {
					ret = -ENOMEM;
					goto out_free;
				}
				j->runs = n;
			}
			j->runs[j->nruns++] = (struct jbd2_fs_run){
				.lblk = ex.e_lblk,
				.len = ex.e_len,
				.pblk = ex.e_pblk,
			};
			covered += ex.e_len;
		}
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &ex);
	}
	if (err && err != EXT2_ET_EXTENT_NO_NEXT) {
		snprintf(why, why_len, "journal inode %u: extent tree: %s",
			 j->ino, iomap_ext2_strerror(err));
		ret = -EUCLEAN;
	} else if (covered < j->blocks) {
		snprintf(why, why_len,
			 "journal inode %u maps %llu of its %llu blocks",
			 j->ino, (unsigned long long)covered,
			 (unsigned long long)j->blocks);
		ret = -EUCLEAN;
	}
out_free:
	ext2fs_extent_free(h);
	return ret;
}

/*
 * Check @j->inode as e2fsck_get_journal() does, and load its map.
 * Returns 0, -EUCLEAN with the reason, or -ENOMEM.
 */
static int jbd2_fs_check_inode(struct jbd2_fs *j, char *why, size_t why_len)
{
	struct ext2_inode *inode = EXT2_INODE(&j->inode);

	free(j->runs);
	j->runs = NULL;
	j->nruns = 0;
	j->last_run = 0;
	if (!inode->i_links_count || !LINUX_S_ISREG(inode->i_mode) ||
	    (inode->i_flags & EXT4_ENCRYPT_FL)) {
		snprintf(why, why_len,
			 "journal inode %u is no regular file in use", j->ino);
		return -EUCLEAN;
	}
	j->blocks = EXT2_I_SIZE(inode) / j->fs->blocksize;
	if (j->blocks < JBD2_FS_MIN_BLOCKS) {
		snprintf(why, why_len,
			 "journal inode %u holds %llu blocks, fewer than %u",
			 j->ino, (unsigned long long)j->blocks,
			 JBD2_FS_MIN_BLOCKS);
		return -EUCLEAN;
	}
	if (j->blocks > UINT32_MAX) {
		snprintf(why, why_len,
			 "journal inode %u is too large: %llu blocks", j->ino,
			 (unsigned long long)j->blocks);
		return -EUCLEAN;
	}
	j->extents = (inode->i_flags & EXT4_EXTENTS_FL) != 0;
	if (j->extents)
		return jbd2_fs_load_extents(j, why, why_len);
	return 0;
}

/* The inode e2fsck builds from the superblock's s_jnl_blocks. */
static void jbd2_fs_backup_inode(struct jbd2_fs *j)
{
	struct ext2_super_block *sb = j->fs->super;
	struct ext2_inode *inode = EXT2_INODE(&j->inode);

	memset(&j->inode, 0, sizeof(j->inode));
	memcpy(inode->i_block, sb->s_jnl_blocks, sizeof(inode->i_block));
	inode->i_size_high = sb->s_jnl_blocks[15];
	inode->i_size = sb->s_jnl_blocks[16];
	inode->i_links_count = 1;
	inode->i_mode = LINUX_S_IFREG | 0600;
	/* The backup keeps i_block only: an extent header in it says the
	 * journal was extent-mapped. */
	if (!ext2fs_extent_header_verify(inode->i_block,
					 sizeof(inode->i_block)))
		inode->i_flags |= EXT4_EXTENTS_FL;
}

void jbd2_fs_describe(ext2_filsys fs, char *buf, size_t len)
{
	struct ext2_super_block *sb = fs->super;
	const uint8_t *u = sb->s_journal_uuid;
	bool ext = false;
	size_t i;

	for (i = 0; i < sizeof(sb->s_journal_uuid); i++)
		ext |= u[i] != 0;
	if (!ext2fs_has_feature_journal(sb))
		snprintf(buf, len, "none");
	else if (ext)
		snprintf(
			buf, len,
			"external: device 0x%x, UUID %02x%02x%02x%02x-%02x%02x-"
			"%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			sb->s_journal_dev, u[0], u[1], u[2], u[3], u[4], u[5],
			u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
			u[14], u[15]);
	else
		snprintf(buf, len, "internal: inode %u", sb->s_journal_inum);
}

int jbd2_fs_open(ext2_filsys fs, struct jbd2_fs **jp, char *why, size_t why_len)
{
	struct ext2_super_block *sb = fs->super;
	struct jbd2_fs *j;
	uint8_t *block;
	errcode_t err;
	size_t i;
	int ret;

	if (!ext2fs_has_feature_journal(sb)) {
		snprintf(why, why_len, "the filesystem has no journal");
		return -ENOENT;
	}
	for (i = 0; i < sizeof(sb->s_journal_uuid); i++) {
		if (sb->s_journal_uuid[i]) {
			jbd2_fs_describe(fs, why, why_len);
			return -EXDEV;
		}
	}
	if (!sb->s_journal_inum || sb->s_journal_inum > sb->s_inodes_count) {
		snprintf(why, why_len,
			 "journal inode number %u is out of range",
			 sb->s_journal_inum);
		return -EUCLEAN;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fs = fs;
	j->ino = sb->s_journal_inum;
	err = ext2fs_read_inode_full(fs, j->ino, EXT2_INODE(&j->inode),
				     sizeof(j->inode));
	if (err) {
		snprintf(why, why_len, "cannot read journal inode %u: %s",
			 j->ino, iomap_ext2_strerror(err));
		ret = -EUCLEAN;
	} else {
		ret = jbd2_fs_check_inode(j, why, why_len);
	}
	if (ret == -EUCLEAN &&
	    sb->s_jnl_backup_type == EXT3_JNL_BACKUP_BLOCKS) {
		/* e2fsck's try_backup_journal. */
		char why2[128];

		jbd2_fs_backup_inode(j);
		j->backup = true;
		ret = jbd2_fs_check_inode(j, why2, sizeof(why2));
		if (ret == -EUCLEAN) {
			size_t used = strlen(why);

			snprintf(why + used, why_len - used,
				 "; its backup in the superblock: %s", why2);
		}
	}
	if (ret)
		goto out_free;

	block = malloc(fs->blocksize);
	if (!block) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = jbd2_fs_read(j, 0, block);
	if (ret) {
		snprintf(why, why_len, "cannot read the journal superblock: %s",
			 strerror(-ret));
		free(block);
		goto out_free;
	}
	memcpy(&j->sb, block, sizeof(j->sb));
	free(block);
	*jp = j;
	return 0;

out_free:
	jbd2_fs_close(j);
	return ret;
}

void jbd2_fs_close(struct jbd2_fs *j)
{
	if (!j)
		return;
	free(j->runs);
	free(j);
}

int jbd2_fs_bmap(struct jbd2_fs *j, uint32_t lblk, uint64_t *pblk)
{
	const struct jbd2_fs_run *r;
	size_t lo, hi, mid;
	blk64_t p = 0;
	errcode_t err;

	if (lblk >= j->blocks)
		return -EUCLEAN;
	if (j->extents) {
		/* The log is read in order: try the last run first. */
		r = &j->runs[j->last_run];
		if (lblk < r->lblk || lblk - r->lblk >= r->len) {
			lo = 0;
			hi = j->nruns;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (j->runs[mid].lblk <= lblk)
					lo = mid;
				else
					hi = mid;
			}
			j->last_run = lo;
			r = &j->runs[lo];
		}
		/* The runs cover [0, blocks) without a gap (checked). */
		*pblk = r->pblk + (lblk - r->lblk);
		return 0;
	}
	err = ext2fs_bmap2(j->fs, j->ino, EXT2_INODE(&j->inode), NULL, 0, lblk,
			   NULL, &p);
	if (err)
		return iomap_ext2_errno(err);
	if (!p || !jbd2_fs_blk_ok(j->fs, p, 1))
		return -EUCLEAN;
	*pblk = p;
	return 0;
}

int jbd2_fs_read(void *arg, uint32_t lblk, void *buf)
{
	struct jbd2_fs *j = arg;
	uint64_t pblk;
	errcode_t err;
	int ret;

	ret = jbd2_fs_bmap(j, lblk, &pblk);
	if (ret)
		return ret;
	err = io_channel_read_blk64(j->fs->io, pblk, 1, buf);
	return err ? iomap_ext2_errno(err) : 0;
}
