// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ops_session.c - the FUSE operations of the whole session: init (what we
 * ask of the kernel's FUSE connection), destroy (what is left at unmount)
 * and statfs.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "devio.h"
#include "ops_dir.h"
#include "ops_session.h"

/* conn->max_write and max_readahead we ask for: 1 MiB */
#define OPS_MAX_IO (1u << 20)

void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct iomapfs *fsx = userdata;
	unsigned int want = FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			    FUSE_CAP_SPLICE_MOVE | FUSE_CAP_ASYNC_READ |
			    FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_ATOMIC_O_TRUNC |
			    FUSE_CAP_READDIRPLUS | FUSE_CAP_EXPORT_SUPPORT;

	/*
	 * The kernel enforces ACLs only with default_permissions.  It then
	 * leaves the umask to us (DONT_MASK: we get the mode unmasked and
	 * the umask apart), since a default ACL replaces the umask.  With
	 * -o noacl, as ext4's noacl, no ACL is enforced, inherited or
	 * stored: the kernel applies the umask.
	 */
	if (!fsx->opts.fakeroot && !fsx->opts.noacl)
		want |= FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
	/*
	 * EXPORT_SUPPORT: file handles (NFS, open_by_handle_at) of inodes
	 * the kernel no longer holds are found by LOOKUP of "." on the
	 * handle's node id, the ext2 inode number (ops_name.c).
	 */
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
	/*
	 * No asynchronous direct I/O: an AIO direct write then completes
	 * inside io_submit(), and the kernel drops the file's cached pages
	 * over it after it completed, so buffered readers and mappings never
	 * see older data than a finished O_DIRECT write (io_write.c, "Direct
	 * writes and cached pages").
	 */
	conn->want &= ~FUSE_CAP_ASYNC_DIO;
	/* Buffered writes gather in the kernel's pages (io_write.c). */
	if (fsx->opts.writeback_cache)
		conn->want |= FUSE_CAP_WRITEBACK_CACHE & conn->capable;
	fsx->writeback = conn->want & FUSE_CAP_WRITEBACK_CACHE;
	/* write_buf wants the data in the pipe, not copied to memory */
	conn->max_write = devio_write_max(OPS_MAX_IO);
	if (conn->max_readahead > OPS_MAX_IO)
		conn->max_readahead = OPS_MAX_IO;
	/*
	 * Inodes of 128 bytes keep whole seconds.  With the write-back cache
	 * the kernel shows its own times, which it rounds to time_gran: it
	 * must round them as the inode will.
	 */
	conn->time_gran =
		EXT2_INODE_SIZE(fsx->fs->super) > EXT2_GOOD_OLD_INODE_SIZE
			? 1
			: 1000000000;
}

void op_destroy(void *userdata)
{
	struct iomapfs *fsx = userdata;
	int ret;

	/* No request runs any more: free what RELEASEDIR did not. */
	ops_dir_free_all();
	if (!fsx->fs || fs_is_shut_down(fsx))
		return;
	fs_lock(fsx);
	ret = fs_flush_all(fsx);
	fs_unlock(fsx);
	if (ret)
		fprintf(stderr, "iomapfs: %s: flush at unmount failed: %s\n",
			fsx->source, strerror(-ret));
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
	/* like ext4: metadata overhead is not counted as capacity, unless
	 * -o minixdf asks for every block */
	overhead = sb->s_overhead_clusters;
	if (!overhead)
		overhead = (uint64_t)fsx->fs->desc_blocks +
			   (uint64_t)fsx->fs->group_desc_count *
				   (fsx->fs->inode_blocks_per_group + 2) +
			   sb->s_first_data_block;
	if (fsx->opts.minixdf)
		overhead = 0;
	else if (overhead > blocks - bfree)
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
