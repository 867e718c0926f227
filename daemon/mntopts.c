// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mntopts.c - ext4's mount options in one table: every option ext4(5) and
 * the kernel's ext4 admin guide document, with what iomapfs does with it.
 * An fstab line written for ext4 works for fuse.iomapfs: what ext4
 * honours is honoured, what only tunes machinery iomapfs does not have is
 * accepted and has no effect (as ext4 itself accepts and ignores the
 * options it removed), and what iomapfs cannot honour is refused with
 * the reason.  The generic atime options of mount(8) are here too: the
 * kernel's FUSE module leaves access times to the daemon.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mntopts.h"

enum mntopt_id {
	MO_RELATIME,
	MO_NORELATIME,
	MO_STRICTATIME,
	MO_NOSTRICTATIME,
	MO_NOATIME,
	MO_ATIME,
	MO_NODIRATIME,
	MO_DIRATIME,
	MO_LAZYTIME,
	MO_NOLAZYTIME,
	MO_ACL,
	MO_NOACL,
	MO_USER_XATTR,
	MO_NOUSER_XATTR,
	MO_BARRIER,
	MO_NOBARRIER,
	MO_BARRIER_N,
	MO_DISCARD,
	MO_NODISCARD,
	MO_DATA,
	MO_GRPID,
	MO_NOGRPID,
	MO_BSDDF,
	MO_MINIXDF,
	MO_NOUID32,
	MO_SB,
	MO_NOLOAD,
	MO_JOURNAL_CHECKSUM,
	MO_NO_EFFECT,	     /* a flag that tunes what iomapfs lacks */
	MO_NO_EFFECT_U32,    /* the same with a number */
	MO_READAHEAD_BLKS,   /* a number: 0 or a power of 2 up to 2^30 */
	MO_JOURNAL_IOPRIO,   /* a number: 0 to 7 */
	MO_MB_OPTIMIZE_SCAN, /* 0 or 1 */
	MO_DATA_ERR,
	MO_DAX,
	MO_REMOVED, /* removed from ext4, which ignores it with a message */
	MO_REFUSED,
};

/*
 * One option.  A name ending in '=' takes a value.  @why is the reason
 * of a refusal, or what an accepted option without effect would tune.
 */
struct mntopt {
	const char *name;
	enum mntopt_id id;
	const char *why;
};

#define NO_ALLOCATOR	  "tunes the kernel's block allocator"
#define NO_JOURNAL_THREAD "tunes the kernel's journal thread"
#define NO_PAGE_CACHE	  "tunes the kernel's page cache and delayed allocation"
#define NO_ITABLE_THREAD  "tunes the kernel's lazy inode table thread"
#define NO_MBCACHE \
	"is what iomapfs does: it never shares extended attribute blocks"
#define NO_QUOTA_TOOLS \
	"is only read by the quota tools, as ext4's admin guide says"
#define NO_WARN		    "makes the kernel log a warning"
#define REFUSED_ENCRYPTION  "iomapfs does not support encrypted files"
#define REFUSED_EXT_JOURNAL "iomapfs has no external journals"
#define REFUSED_QUOTA_FILES "iomapfs keeps no quota files"
#define REFUSED_RESERVED    "iomapfs does not keep the reserved blocks from anyone"

static const struct mntopt mntopts[] = {
	/* the access time (mount(8)'s options, which ext4 obeys) */
	{"relatime", MO_RELATIME, NULL},
	{"norelatime", MO_NORELATIME, NULL},
	{"strictatime", MO_STRICTATIME, NULL},
	{"nostrictatime", MO_NOSTRICTATIME, NULL},
	{"noatime", MO_NOATIME, NULL},
	{"atime", MO_ATIME, NULL},
	{"nodiratime", MO_NODIRATIME, NULL},
	{"diratime", MO_DIRATIME, NULL},
	{"lazytime", MO_LAZYTIME, NULL},
	{"nolazytime", MO_NOLAZYTIME, NULL},
	/* honoured */
	{"acl", MO_ACL, NULL},
	{"noacl", MO_NOACL, NULL},
	{"user_xattr", MO_USER_XATTR, NULL},
	{"nouser_xattr", MO_NOUSER_XATTR, NULL},
	{"barrier", MO_BARRIER, NULL},
	{"barrier=", MO_BARRIER_N, NULL},
	{"nobarrier", MO_NOBARRIER, NULL},
	{"discard", MO_DISCARD, NULL},
	{"nodiscard", MO_NODISCARD, NULL},
	{"data=", MO_DATA, NULL},
	{"grpid", MO_GRPID, NULL},
	{"bsdgroups", MO_GRPID, NULL},
	{"nogrpid", MO_NOGRPID, NULL},
	{"sysvgroups", MO_NOGRPID, NULL},
	{"bsddf", MO_BSDDF, NULL},
	{"minixdf", MO_MINIXDF, NULL},
	{"nouid32", MO_NOUID32, NULL},
	{"sb=", MO_SB, NULL},
	{"norecovery", MO_NOLOAD, NULL},
	{"noload", MO_NOLOAD, NULL},
	{"journal_checksum", MO_JOURNAL_CHECKSUM, NULL},
	{"nojournal_checksum", MO_NO_EFFECT,
	 "is ignored by ext4 too on filesystems with metadata_csum, whose "
	 "journal is always checksummed"},
	{"abort", MO_NO_EFFECT,
	 "takes effect only on a remount in ext4; use the shutdown ioctl "
	 "(xfs_io -x -c shutdown) to stop a mounted filesystem"},
	{"nombcache", MO_NO_EFFECT, NO_MBCACHE},
	{"no_mbcache", MO_NO_EFFECT, NO_MBCACHE},
	{"noiversion", MO_NO_EFFECT,
	 "is what iomapfs does: it does not count inode versions"},
	{"dax=", MO_DAX, NULL},
	{"data_err=", MO_DATA_ERR, NULL},
	/* accepted, no effect: they tune what iomapfs does not have */
	{"delalloc", MO_NO_EFFECT, NO_PAGE_CACHE},
	{"nodelalloc", MO_NO_EFFECT, NO_PAGE_CACHE},
	{"auto_da_alloc", MO_NO_EFFECT, NO_PAGE_CACHE},
	{"auto_da_alloc=", MO_NO_EFFECT_U32, NO_PAGE_CACHE},
	{"noauto_da_alloc", MO_NO_EFFECT, NO_PAGE_CACHE},
	{"dioread_lock", MO_NO_EFFECT, NO_PAGE_CACHE},
	{"dioread_nolock", MO_NO_EFFECT, NO_PAGE_CACHE},
	{"nodioread_nolock", MO_NO_EFFECT, NO_PAGE_CACHE},
	{"stripe=", MO_NO_EFFECT_U32, NO_ALLOCATOR},
	{"mb_optimize_scan=", MO_MB_OPTIMIZE_SCAN, NO_ALLOCATOR},
	{"no_prefetch_block_bitmaps", MO_NO_EFFECT, NO_ALLOCATOR},
	{"block_validity", MO_NO_EFFECT, NO_ALLOCATOR},
	{"noblock_validity", MO_NO_EFFECT, NO_ALLOCATOR},
	{"inode_readahead_blks=", MO_READAHEAD_BLKS, NO_PAGE_CACHE},
	{"init_itable", MO_NO_EFFECT, NO_ITABLE_THREAD},
	{"init_itable=", MO_NO_EFFECT_U32, NO_ITABLE_THREAD},
	{"noinit_itable", MO_NO_EFFECT, NO_ITABLE_THREAD},
	{"max_batch_time=", MO_NO_EFFECT_U32, NO_JOURNAL_THREAD},
	{"min_batch_time=", MO_NO_EFFECT_U32, NO_JOURNAL_THREAD},
	{"journal_ioprio=", MO_JOURNAL_IOPRIO, NO_JOURNAL_THREAD},
	{"warn_on_error", MO_NO_EFFECT, NO_WARN},
	{"nowarn_on_error", MO_NO_EFFECT, NO_WARN},
	{"inlinecrypt", MO_NO_EFFECT,
	 "concerns encrypted files only, which iomapfs cannot read"},
	{"quota", MO_NO_EFFECT, NO_QUOTA_TOOLS},
	{"noquota", MO_NO_EFFECT, NO_QUOTA_TOOLS},
	{"usrquota", MO_NO_EFFECT, NO_QUOTA_TOOLS},
	{"grpquota", MO_NO_EFFECT, NO_QUOTA_TOOLS},
	/* removed from ext4, which ignores them */
	{"oldalloc", MO_REMOVED, NULL},
	{"orlov", MO_REMOVED, NULL},
	{"bh", MO_REMOVED, NULL},
	{"nobh", MO_REMOVED, NULL},
	{"mblk_io_submit", MO_REMOVED, NULL},
	{"nomblk_io_submit", MO_REMOVED, NULL},
	{"i_version", MO_REMOVED, NULL},
	{"prefetch_block_bitmaps", MO_REMOVED, NULL},
	{"check=", MO_REMOVED, NULL},
	{"nocheck", MO_REMOVED, NULL},
	{"reservation", MO_REMOVED, NULL},
	{"noreservation", MO_REMOVED, NULL},
	/* refused */
	{"dax", MO_REFUSED,
	 "FUSE cannot map the device's pages into processes (DAX)"},
	{"journal_async_commit", MO_REFUSED,
	 "iomapfs's journal writes a commit block only after its log blocks "
	 "are durable"},
	{"journal_dev=", MO_REFUSED, REFUSED_EXT_JOURNAL},
	{"journal_path=", MO_REFUSED, REFUSED_EXT_JOURNAL},
	{"resuid=", MO_REFUSED, REFUSED_RESERVED},
	{"resgid=", MO_REFUSED, REFUSED_RESERVED},
	{"max_dir_size_kb=", MO_REFUSED,
	 "iomapfs does not limit the size of directories"},
	{"prjquota", MO_REFUSED, "iomapfs does not enforce quotas"},
	{"usrjquota=", MO_REFUSED, REFUSED_QUOTA_FILES},
	{"grpjquota=", MO_REFUSED, REFUSED_QUOTA_FILES},
	{"jqfmt=", MO_REFUSED, REFUSED_QUOTA_FILES},
	{"test_dummy_encryption", MO_REFUSED, REFUSED_ENCRYPTION},
	{"test_dummy_encryption=", MO_REFUSED, REFUSED_ENCRYPTION},
	{"debug_want_extra_isize=", MO_REFUSED,
	 "iomapfs sizes new inodes' extra fields itself"},
	{"iversion", MO_REFUSED, "iomapfs does not count inode versions"},
};

/* The entry of @opt: its name, and the value after '=' (or NULL). */
static const struct mntopt *mntopt_find(const char *opt, const char **val)
{
	const char *eq = strchr(opt, '=');
	size_t len = eq ? (size_t)(eq - opt) + 1 : strlen(opt), i;

	*val = eq ? eq + 1 : NULL;
	for (i = 0; i < sizeof(mntopts) / sizeof(mntopts[0]); i++)
		if (strlen(mntopts[i].name) == len &&
		    !strncmp(mntopts[i].name, opt, len))
			return &mntopts[i];
	return NULL;
}

/* A decimal number of 32 bits, as ext4's fsparam_u32 takes. */
static int mntopt_u32(const char *val, unsigned long *out)
{
	char *end;

	if (!val || !*val || *val == '-' || *val == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoul(val, &end, 0);
	if (errno || *end || *out > UINT32_MAX)
		return -EINVAL;
	return 0;
}

static int mntopt_bad_value(const char *opt, const char *want)
{
	fprintf(stderr, "iomapfs: bad value in '%s': want %s\n", opt, want);
	return -EINVAL;
}

static int mntopt_refuse(const char *opt, const char *why)
{
	fprintf(stderr, "iomapfs: option '%s' is refused: %s\n", opt, why);
	return -EINVAL;
}

/* The atime policy before noatime: what "atime" gives back. */
static void mntopt_atime(struct iomapfs_opts *o, enum fs_atime_mode mode)
{
	o->atime = mode;
}

int mntopt_parse(struct iomapfs_opts *o, const char *opt)
{
	const struct mntopt *m;
	const char *val;
	unsigned long n;

	m = mntopt_find(opt, &val);
	if (!m)
		return MNTOPT_NOT_OURS;
	switch (m->id) {
	case MO_RELATIME:
	case MO_NOSTRICTATIME:
		mntopt_atime(o, FS_ATIME_RELATIME);
		return MNTOPT_TAKEN;
	case MO_NORELATIME:
		/* as the kernel: relatime stays the default without
		 * strictatime or noatime */
		return MNTOPT_TAKEN;
	case MO_STRICTATIME:
		mntopt_atime(o, FS_ATIME_STRICT);
		return MNTOPT_TAKEN;
	case MO_NOATIME:
		mntopt_atime(o, FS_ATIME_NEVER);
		return MNTOPT_ALSO_FUSE;
	case MO_ATIME:
		if (o->atime == FS_ATIME_NEVER)
			mntopt_atime(o, FS_ATIME_RELATIME);
		return MNTOPT_ALSO_FUSE;
	case MO_NODIRATIME:
		o->nodiratime = true;
		return MNTOPT_TAKEN;
	case MO_DIRATIME:
		o->nodiratime = false;
		return MNTOPT_TAKEN;
	case MO_LAZYTIME:
		o->lazytime = true;
		return MNTOPT_TAKEN;
	case MO_NOLAZYTIME:
		o->lazytime = false;
		return MNTOPT_TAKEN;
	case MO_ACL:
		o->noacl = false;
		return MNTOPT_TAKEN;
	case MO_NOACL:
		o->noacl = true;
		return MNTOPT_TAKEN;
	case MO_USER_XATTR:
		o->nouser_xattr = false;
		return MNTOPT_TAKEN;
	case MO_NOUSER_XATTR:
		o->nouser_xattr = true;
		return MNTOPT_TAKEN;
	case MO_BARRIER:
		o->nobarrier = false;
		return MNTOPT_TAKEN;
	case MO_NOBARRIER:
		o->nobarrier = true;
		return MNTOPT_TAKEN;
	case MO_DISCARD:
		o->discard = true;
		return MNTOPT_TAKEN;
	case MO_NODISCARD:
		o->discard = false;
		return MNTOPT_TAKEN;
	case MO_BARRIER_N:
		if (mntopt_u32(val, &n))
			return mntopt_bad_value(opt, "a number, 0 or 1");
		o->nobarrier = n == 0;
		return MNTOPT_TAKEN;
	case MO_DATA:
		/* writeback allows less than ordered: ordered gives it */
		if (val &&
		    (!strcmp(val, "ordered") || !strcmp(val, "writeback")))
			return MNTOPT_TAKEN;
		if (val && !strcmp(val, "journal"))
			return mntopt_refuse(
				opt, "iomapfs writes file data in place, "
				     "never through the journal");
		return mntopt_bad_value(opt, "ordered, writeback or journal");
	case MO_GRPID:
		o->grpid = true;
		return MNTOPT_TAKEN;
	case MO_NOGRPID:
		o->grpid = false;
		return MNTOPT_TAKEN;
	case MO_BSDDF:
		o->minixdf = false;
		return MNTOPT_TAKEN;
	case MO_MINIXDF:
		o->minixdf = true;
		return MNTOPT_TAKEN;
	case MO_NOUID32:
		o->nouid32 = true;
		return MNTOPT_TAKEN;
	case MO_SB:
		if (mntopt_u32(val, &n) || n == 0)
			return mntopt_bad_value(
				opt,
				"the 1 KiB block of a backup superblock "
				"(e.g. sb=131072 for block 32768 of 4 KiB)");
		o->sb_block = n;
		return MNTOPT_TAKEN;
	case MO_NOLOAD:
		o->norecovery = true;
		return MNTOPT_TAKEN;
	case MO_JOURNAL_CHECKSUM:
		o->journal_checksum = true;
		return MNTOPT_TAKEN;
	case MO_DAX:
		if (val && !strcmp(val, "never"))
			return MNTOPT_TAKEN;
		if (val && (!strcmp(val, "always") || !strcmp(val, "inode")))
			return mntopt_refuse(opt,
					     "FUSE cannot map the device's "
					     "pages into processes (DAX)");
		return mntopt_bad_value(opt, "never, always or inode");
	case MO_DATA_ERR:
		if (val && !strcmp(val, "ignore"))
			return MNTOPT_TAKEN;
		if (val && !strcmp(val, "abort"))
			return mntopt_refuse(opt,
					     "iomapfs returns a failed data "
					     "write to its writer and does "
					     "not abort the journal");
		return mntopt_bad_value(opt, "ignore or abort");
	case MO_READAHEAD_BLKS:
		if (mntopt_u32(val, &n) || n > (1ul << 30) || (n & (n - 1)))
			return mntopt_bad_value(
				opt, "0 or a power of 2 smaller than 2^31");
		return MNTOPT_TAKEN;
	case MO_JOURNAL_IOPRIO:
		if (mntopt_u32(val, &n) || n > 7)
			return mntopt_bad_value(opt, "a priority from 0 to 7");
		return MNTOPT_TAKEN;
	case MO_MB_OPTIMIZE_SCAN:
		if (mntopt_u32(val, &n) || n > 1)
			return mntopt_bad_value(opt, "0 or 1");
		return MNTOPT_TAKEN;
	case MO_NO_EFFECT_U32:
		if (mntopt_u32(val, &n))
			return mntopt_bad_value(opt, "a number");
		return MNTOPT_TAKEN;
	case MO_NO_EFFECT:
		return MNTOPT_TAKEN;
	case MO_REMOVED:
		fprintf(stderr,
			"iomapfs: ignoring removed option '%s', as ext4 does\n",
			opt);
		return MNTOPT_TAKEN;
	case MO_REFUSED:
		return mntopt_refuse(opt, m->why);
	}
	return MNTOPT_NOT_OURS;
}

bool mntopt_skip_probe(const struct iomapfs_opts *o)
{
	return o->sb_block != 0;
}

int mntopt_validate(const struct iomapfs_opts *o)
{
	if (o->sb_block && !o->ro) {
		fprintf(stderr,
			"iomapfs: option 'sb=%" PRIu64 "' is refused on a "
			"read-write mount: writes would go to a filesystem "
			"whose primary superblock is the broken one; mount "
			"with -o ro,sb=%" PRIu64 ", or repair with e2fsck -b\n",
			o->sb_block, o->sb_block);
		return -EINVAL;
	}
	return 0;
}

int mntopt_check(struct iomapfs *fsx)
{
	const struct iomapfs_opts *o = &fsx->opts;
	ext2_filsys fs = fsx->fs;

	if (o->journal_checksum && ext2fs_has_feature_journal(fs->super) &&
	    !ext2fs_has_feature_metadata_csum(fs->super)) {
		fprintf(stderr,
			"iomapfs: option 'journal_checksum' is refused: "
			"%s has no metadata_csum, and iomapfs's journal "
			"checksums only the journals of filesystems that "
			"have it\n",
			fsx->source);
		return -EINVAL;
	}
	return 0;
}

/*
 * The thread of mntopt_mount_flags(): a statvfs() and a mount() of the
 * mountpoint are FUSE requests, answered once the session loop runs.
 */
static void *mntopt_flags_thread(void *arg)
{
	struct iomapfs *fsx = arg;
	const struct iomapfs_opts *o = &fsx->opts;
	unsigned long flags = MS_REMOUNT | MS_BIND;
	struct statvfs sv;

	if (statvfs(fsx->mountpoint, &sv) < 0) {
		fprintf(stderr,
			"iomapfs: %s: cannot read the mount flags: %s\n",
			fsx->mountpoint, strerror(errno));
		return NULL;
	}
	/* a bind remount sets every per-mount flag: keep the others */
	if (sv.f_flag & ST_RDONLY)
		flags |= MS_RDONLY;
	if (sv.f_flag & ST_NOSUID)
		flags |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		flags |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		flags |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		flags |= MS_NOATIME;
	else if (o->atime == FS_ATIME_STRICT)
		flags |= MS_STRICTATIME;
	else
		flags |= MS_RELATIME;
	if (o->nodiratime)
		flags |= MS_NODIRATIME;
	if (mount(NULL, fsx->mountpoint, NULL, flags, NULL) < 0)
		fprintf(stderr,
			"iomapfs: %s: cannot show the atime options in the "
			"mount table: %s\n",
			fsx->mountpoint, strerror(errno));
	return NULL;
}

void mntopt_mount_flags(struct iomapfs *fsx)
{
	const struct iomapfs_opts *o = &fsx->opts;
	pthread_attr_t attr;
	pthread_t tid;

	if (geteuid() != 0 || (o->atime != FS_ATIME_STRICT && !o->nodiratime))
		return;
	if (pthread_attr_init(&attr))
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, mntopt_flags_thread, fsx))
		fprintf(stderr, "iomapfs: cannot start a thread to set the "
				"mount's atime flags\n");
	pthread_attr_destroy(&attr);
}

void mntopt_help(FILE *out)
{
	fprintf(out,
		"ext4's options (iomapfs(8), EXT4 MOUNT OPTIONS, lists them "
		"all):\n"
		"    -o relatime|strictatime|noatime|nodiratime|lazytime\n"
		"                           when reads update the access time "
		"(default: relatime)\n"
		"    -o acl|noacl           POSIX ACLs (default: acl)\n"
		"    -o user_xattr|nouser_xattr  user.* extended attributes "
		"(default: on)\n"
		"    -o barrier|nobarrier   whether fsync flushes the device's "
		"cache (default: yes)\n"
		"    -o discard|nodiscard   whether freed blocks are discarded "
		"(default: no)\n"
		"    -o grpid|nogrpid       group of new files: the "
		"directory's, "
		"or the creator's\n"
		"    -o bsddf|minixdf       whether df counts the metadata "
		"(default: bsddf)\n"
		"    -o nouid32             16-bit owners on disk\n"
		"    -o ro,sb=N             mount from the backup superblock "
		"at "
		"1 KiB block N\n"
		"    -o norecovery|noload   do not replay the journal (with -o ro "
		"only;\n"
		"                           what the mount shows may be stale)\n"
		"    -o data=ordered        the data mode (writeback gives "
		"ordered; journal is refused)\n");
}
