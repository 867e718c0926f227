// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * orphan.c - the orphan list (orphan.h): the superblock's s_last_orphan
 * names the first orphan inode, each orphan's i_dtime the next (0 ends the
 * list), exactly as ext4 chains them, so that the kernel's mount and
 * e2fsck process an iomapfs list and iomapfs processes theirs.
 *
 * Why it is needed with the journal: an unlinked file that is still open
 * keeps its inode and blocks until the last close, which may come many
 * transactions later, or never, if the daemon is killed; and a truncate
 * of a large file is split over several transactions.  Without the list
 * a crash in between leaves an inode with no link (or blocks past i_size)
 * that e2fsck must repair.  With it, the transaction that drops the last
 * link (or sets the smaller size) also links the inode into the list, and
 * the one that finally frees it (or cuts its last blocks) takes it out:
 * every committed state is one the next mount completes.
 *
 * The daemon remembers which inodes it put on the list (fsx->orphans) to
 * know, when it frees an inode, whether it must unlink it from the chain
 * first; the chain on disk is the truth after a crash.  What the next
 * mount does with the chain it finds is inode_free_orphans()'s
 * (inode_free.h): this file only keeps the list.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orphan.h"

static ssize_t orphan_find(struct iomapfs *fsx, ext2_ino_t ino)
{
	size_t i;

	for (i = 0; i < fsx->n_orphans; i++)
		if (fsx->orphans[i] == ino)
			return (ssize_t)i;
	return -1;
}

bool orphan_is(struct iomapfs *fsx, ext2_ino_t ino)
{
	return orphan_find(fsx, ino) >= 0;
}

/* Remember @ino as being on the chain. */
static int orphan_note(struct iomapfs *fsx, ext2_ino_t ino)
{
	if (fsx->n_orphans == fsx->cap_orphans) {
		size_t ncap = fsx->cap_orphans ? fsx->cap_orphans * 2 : 16;
		ext2_ino_t *n = realloc(fsx->orphans, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		fsx->orphans = n;
		fsx->cap_orphans = ncap;
	}
	fsx->orphans[fsx->n_orphans++] = ino;
	return 0;
}

int orphan_add(struct iomapfs *fsx, ext2_ino_t ino,
	       struct ext2_inode_large *inode)
{
	struct ext2_super_block *sb = fsx->fs->super;
	ext2_ino_t head = sb->s_last_orphan;
	int ret;

	if (!fsx->journal || orphan_is(fsx, ino))
		return 0;
	ret = orphan_note(fsx, ino);
	if (ret)
		return ret;
	/* The inode and the superblock change in one transaction. */
	inode->i_dtime = head;
	ret = fs_write_inode(fsx, ino, inode);
	if (ret) {
		fsx->n_orphans--;
		return ret;
	}
	sb->s_last_orphan = ino;
	ext2fs_mark_super_dirty(fsx->fs);
	return 0;
}

int orphan_del(struct iomapfs *fsx, ext2_ino_t ino,
	       struct ext2_inode_large *inode)
{
	struct ext2_super_block *sb = fsx->fs->super;
	struct ext2_inode_large cur, prev;
	ext2_ino_t p = 0, c, next;
	ssize_t at = orphan_find(fsx, ino);
	uint32_t steps = 0;
	int ret;

	if (at < 0)
		return 0;
	ret = fs_read_inode(fsx, ino, &cur);
	if (ret)
		return ret;
	next = cur.i_dtime;
	/* Find the predecessor: the list is short, a walk will do. */
	for (c = sb->s_last_orphan; c && c != ino;) {
		if (++steps > sb->s_inodes_count)
			return translate_error(
				fsx, EXT2_ET_FILESYSTEM_CORRUPTED, ino);
		ret = fs_read_inode(fsx, c, &prev);
		if (ret)
			return ret;
		p = c;
		c = prev.i_dtime;
	}
	if (c != ino)
		return translate_error(fsx, EXT2_ET_FILESYSTEM_CORRUPTED, ino);
	if (p) {
		prev.i_dtime = next;
		ret = fs_write_inode(fsx, p, &prev);
		if (ret)
			return ret;
	} else {
		sb->s_last_orphan = next;
		ext2fs_mark_super_dirty(fsx->fs);
	}
	if (inode) {
		inode->i_dtime = 0;
	} else {
		cur.i_dtime = 0;
		ret = fs_write_inode(fsx, ino, &cur);
		if (ret)
			return ret;
	}
	fsx->orphans[at] = fsx->orphans[--fsx->n_orphans];
	return 0;
}

void orphan_forget_all(struct iomapfs *fsx)
{
	free(fsx->orphans);
	fsx->orphans = NULL;
	fsx->n_orphans = fsx->cap_orphans = 0;
}

int orphan_load(struct iomapfs *fsx, ext2_ino_t **list, size_t *n)
{
	struct ext2_super_block *sb = fsx->fs->super;
	struct ext2_inode_large inode;
	ext2_ino_t ino;
	int ret = 0;

	*list = NULL;
	*n = 0;
	if (!fsx->journal || !sb->s_last_orphan)
		return 0;
	for (ino = sb->s_last_orphan; ino;) {
		if (ino < EXT2_FIRST_INODE(sb) || ino > sb->s_inodes_count ||
		    fsx->n_orphans >= sb->s_inodes_count ||
		    orphan_is(fsx, ino)) {
			fprintf(stderr,
				"iomapfs: %s: the orphan list is corrupt at "
				"inode %u: run e2fsck\n",
				fsx->source, ino);
			ret = -EUCLEAN;
			break;
		}
		ret = fs_read_inode(fsx, ino, &inode);
		if (ret)
			break;
		ret = orphan_note(fsx, ino);
		if (ret)
			break;
		ino = inode.i_dtime;
	}
	if (!ret && fsx->n_orphans) {
		*list = malloc(fsx->n_orphans * sizeof(**list));
		if (!*list)
			ret = -ENOMEM;
	}
	if (ret) {
		orphan_forget_all(fsx);
		return ret;
	}
	memcpy(*list, fsx->orphans, fsx->n_orphans * sizeof(**list));
	*n = fsx->n_orphans;
	return 0;
}
