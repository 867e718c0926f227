// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs_remount.c - read-only and back on a mounted filesystem (see
 * fs_remount.h).  The state lives in fsx->ro_now, which every change
 * checks before it starts and which is written here under fs_lock, so
 * that no metadata change can slip between the last flush and the switch.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "fs.h"
#include "fs_remount.h"

/* Whether a file that lost its last link is still open.  itab_lock. */
static bool unlinked_open(struct iomapfs *fsx)
{
	struct fs_inode *fi;
	bool found = false;
	size_t i;

	pthread_mutex_lock(&fsx->itab_lock);
	for (i = 0; i < fsx->itab_size && !found; i++)
		for (fi = fsx->itab[i]; fi && !found; fi = fi->hash_next)
			found = fi->unlinked;
	pthread_mutex_unlock(&fsx->itab_lock);
	return found;
}

/* Write the superblock, with EXT2_VALID_FS set (@clean, unless errors
 * are recorded) or cleared, then sync the device.  fs_lock held, and
 * ro_now false (fs_flush_all() writes nothing for a read-only mount). */
static int write_state(struct iomapfs *fsx, bool clean)
{
	struct ext2_super_block *sb = fsx->fs->super;

	if (clean && !(sb->s_state & EXT2_ERROR_FS))
		sb->s_state |= EXT2_VALID_FS;
	else if (!clean)
		sb->s_state &= ~EXT2_VALID_FS;
	ext2fs_mark_super_dirty(fsx->fs);
	return fs_flush_all(fsx);
}

static int go_read_only(struct iomapfs *fsx, char *why, unsigned int size)
{
	int ret;

	if (unlinked_open(fsx)) {
		snprintf(why, size,
			 "a file that lost its last link is still "
			 "open");
		return -EBUSY;
	}
	/*
	 * Crash safety: everything is on the device (pending timestamps,
	 * libext2fs's metadata, then a sync) before a second write marks the
	 * filesystem clean, so that no crash leaves it marked clean with
	 * part of it unwritten.  With the journal: the commit first, then
	 * (fs_journal_pause()) every committed block home and durable and
	 * the log marked empty, durable too, and only then the superblock
	 * without needs_recovery, written in place; a crash before that
	 * leaves needs_recovery set and a log that replays to the same
	 * state.
	 */
	ret = fs_flush_all(fsx);
	if (!ret)
		ret = fs_journal_pause(fsx);
	if (!ret)
		ret = write_state(fsx, true);
	if (ret) {
		snprintf(why, size, "writing the filesystem out failed");
		return ret;
	}
	fsx->ro_now = true;
	return 0;
}

static int go_read_write(struct iomapfs *fsx, char *why, unsigned int size)
{
	struct ext2_super_block *sb = fsx->fs->super;
	int ret;

	if (!(fsx->fs->flags & EXT2_FLAG_RW) || fsx->dev_fd < 0) {
		snprintf(why, size,
			 "the source was opened read-only (-o ro): "
			 "unmount and mount it read-write");
		return -EROFS;
	}
	if (sb->s_state & EXT2_ERROR_FS) {
		snprintf(why, size,
			 "errors are recorded: unmount and run "
			 "e2fsck first");
		return -EUCLEAN;
	}
	/*
	 * Crash safety: the filesystem is marked in use on the device before
	 * the first metadata change can reach it; those all take fs_lock,
	 * which is held until then.  With the journal it stays marked clean,
	 * as at mount, and needs_recovery goes to the device, durable, before
	 * the journal takes changes again (fs_journal_resume()).
	 */
	sb->s_mnt_count++;
	sb->s_mtime = (uint32_t)time(NULL);
	fsx->ro_now = false;
	ret = fsx->journal ? fs_journal_resume(fsx) : write_state(fsx, false);
	if (ret) {
		fsx->ro_now = true;
		snprintf(why, size, "writing the superblock failed");
		return ret;
	}
	fsx->mounted_rw = true;
	return 0;
}

int fs_remount(struct iomapfs *fsx, bool ro, bool *was_ro, char *why,
	       unsigned int size)
{
	int ret = 0;

	if (size)
		why[0] = '\0';
	fs_lock(fsx);
	if (was_ro)
		*was_ro = fsx->ro_now;
	if (ro && !fsx->ro_now)
		ret = go_read_only(fsx, why, size);
	else if (!ro && fsx->ro_now)
		ret = go_read_write(fsx, why, size);
	fs_unlock(fsx);
	if (ret)
		fprintf(stderr, "iomapfs: %s: cannot go read-%s: %s\n",
			fsx->source ? fsx->source : "?", ro ? "only" : "write",
			why[0] ? why : "");
	return ret;
}
