/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jio.h - a stacked libext2fs io_manager for the journal: every block
 * libext2fs reads or writes through its io_channel passes through a hook
 * first, the way undo_io stacks over unix_io.
 *
 *   libext2fs  --read/write-->  jio channel  --hook-->  newer copies in memory
 *                                    |                   (replayed blocks of a
 *                                    |                    read-only mount; the
 *                                    |                    running, committing
 *                                    v                    and checkpoint lists)
 *                               unix_io channel (cache=off) --> the device
 *
 * Reads: for every filesystem block of a read, the read hook may answer
 * with a newer copy than the device's; blocks it does not answer are read
 * from the device (runs of them in one I/O).  Writes: every write is cut
 * into whole filesystem blocks (a partial-block write, such as the primary
 * superblock written with a 1024-byte block size, is merged into the
 * block's newest copy first) and offered to the write hook, which either
 * takes the block (it is then not written to the device) or lets it
 * through.  Without hooks the channel behaves exactly as the unix_io
 * channel below it.
 *
 * Locking: jio has no lock of its own.  libext2fs calls it under fs_lock;
 * the hooks run under fs_lock too.  jio_raw_*() are for the journal's own
 * I/O (log blocks, checkpoints), also under fs_lock.
 */
#ifndef IOMAPFS_JIO_H
#define IOMAPFS_JIO_H

#include <stdint.h>

#include <ext2fs/ext2fs.h>

struct jio;

struct jio_hooks {
	/*
	 * A newer copy of filesystem block @blk: copy it into @buf (one
	 * filesystem block) and return 1, or return 0 to have the device's
	 * copy read.  A negative errno fails the read.
	 */
	int (*read_block)(void *arg, uint64_t blk, void *buf);
	/*
	 * libext2fs writes filesystem block @blk (one whole block in @buf):
	 * return 0 when the hook took it (nothing goes to the device), 1 to
	 * write it through to the device, or a negative errno to fail the
	 * write.
	 */
	int (*write_block)(void *arg, uint64_t blk, const void *buf);
	void *arg;
};

/*
 * The io_manager to pass to ext2fs_open2(): its channels stack over a
 * unix_io channel (opened on the same name, with its cache off from the
 * start) and call the hooks set by jio_set_next_hooks() before the open,
 * so that even the superblock and group descriptors libext2fs reads at
 * open come through the hooks (a read-only mount of a filesystem whose
 * journal holds a newer superblock must see the newer one).
 * jio_set_next_hooks() is not thread-safe: call it at mount, then open.
 * The next open takes the hooks and forgets them (NULL: none), so that a
 * later open never calls hooks whose argument is gone.  Hooks count in
 * filesystem blocks, learnt from the primary superblock at open: with
 * hooks set, an open of something with no valid superblock fails
 * (EXT2_ET_BAD_MAGIC).
 */
extern io_manager jio_io_manager;
void jio_set_next_hooks(const struct jio_hooks *hooks);

/* The jio state of a channel jio_io_manager opened (fs->io), or NULL. */
struct jio *jio_of(io_channel io);

/*
 * Replace the hooks (NULL: none).  Ignored (no hooks) on a channel whose
 * filesystem block size is unknown (jio_block_size() is 0).
 */
void jio_set_hooks(struct jio *j, const struct jio_hooks *hooks);

/* The filesystem block size the hooks count in, or 0 when unknown. */
uint32_t jio_block_size(const struct jio *j);

/*
 * Read or write @count whole filesystem blocks at device block @blk
 * directly on the device below, bypassing the hooks: the journal's own
 * log writes, its checkpoints and the reads of the log.  Returns 0 or
 * -errno.
 */
int jio_raw_read(struct jio *j, uint64_t blk, unsigned int count, void *buf);
int jio_raw_write(struct jio *j, uint64_t blk, unsigned int count,
		  const void *buf);
/* Make everything written to the device durable (fdatasync). 0 or -errno. */
int jio_raw_flush(struct jio *j);

/* Counters, for tests and statistics. */
struct jio_stats {
	uint64_t reads_hooked;	 /* blocks the read hook answered */
	uint64_t reads_device;	 /* blocks read from the device */
	uint64_t writes_hooked;	 /* blocks the write hook took */
	uint64_t writes_device;	 /* blocks written through */
	uint64_t partial_writes; /* sub-block writes merged into a block */
};
void jio_get_stats(const struct jio *j, struct jio_stats *out);

#endif /* IOMAPFS_JIO_H */
