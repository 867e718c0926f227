// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * acl.c - POSIX ACLs as system.posix_acl_access and system.posix_acl_default.
 * The kernel hands us the generic xattr form (a version-2 header and 8-byte
 * entries); libext2fs's xattr calls convert it to and from the ext4 on-disk
 * form (version 1, short entries for the owner, group, mask and other
 * classes), so getfacl and the kernel ext4 driver both read what we store.
 * Here live the rules the kernel leaves to us: the mode an access ACL
 * stands for, chmod, and inheritance of default ACLs (acl.h).  Everything
 * runs under fs_lock.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "acl.h"
#include "killpriv.h"
#include "xattr.h"

#define ACL_XATTR_VERSION 2

/* Tags of ACL entries (linux/posix_acl.h). */
#define ACL_TAG_USER_OBJ  0x01
#define ACL_TAG_USER	  0x02
#define ACL_TAG_GROUP_OBJ 0x04
#define ACL_TAG_GROUP	  0x08
#define ACL_TAG_MASK	  0x10
#define ACL_TAG_OTHER	  0x20

struct acl_xattr_entry {
	uint16_t tag;
	uint16_t perm;
	uint32_t id;
};

bool acl_is_name(const char *name)
{
	return !strcmp(name, XATTR_NAME_ACL_ACCESS) ||
	       !strcmp(name, XATTR_NAME_ACL_DEFAULT);
}

/* Entries of an ACL xattr value, or -EINVAL when it is malformed. */
static int acl_entries(const void *val, size_t len,
		       struct acl_xattr_entry **ents, size_t *n)
{
	uint32_t version;

	if (len < sizeof(version) ||
	    (len - sizeof(version)) % sizeof(struct acl_xattr_entry))
		return -EINVAL;
	memcpy(&version, val, sizeof(version));
	if (le32toh(version) != ACL_XATTR_VERSION)
		return -EINVAL;
	*ents = (struct acl_xattr_entry *)((char *)val + sizeof(version));
	*n = (len - sizeof(version)) / sizeof(struct acl_xattr_entry);
	return 0;
}

/*
 * The permission bits an access ACL stands for; returns 1 when the ACL
 * says more than a mode can (named entries or a mask), 0 when the mode
 * says it all, -EINVAL when it is malformed.
 */
static int acl_to_mode(const void *val, size_t len, mode_t *mode)
{
	struct acl_xattr_entry *e;
	mode_t u = 0, g = 0, o = 0, m = 0;
	bool has_mask = false, named = false;
	size_t n, i;

	if (acl_entries(val, len, &e, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		mode_t perm = le16toh(e[i].perm) & 7;

		switch (le16toh(e[i].tag)) {
		case ACL_TAG_USER_OBJ:
			u = perm;
			break;
		case ACL_TAG_GROUP_OBJ:
			g = perm;
			break;
		case ACL_TAG_OTHER:
			o = perm;
			break;
		case ACL_TAG_MASK:
			m = perm;
			has_mask = true;
			break;
		case ACL_TAG_USER:
		case ACL_TAG_GROUP:
			named = true;
			break;
		default:
			return -EINVAL;
		}
	}
	*mode = (u << 6) | ((has_mask ? m : g) << 3) | o;
	return has_mask || named;
}

/*
 * POSIX create masking: restrict a copy of a default ACL by @mode, and
 * @mode by the ACL.  Returns 1 when the ACL says more than the mode.
 */
static int acl_create_masq(struct acl_xattr_entry *e, size_t n, mode_t *mode)
{
	struct acl_xattr_entry *group = NULL, *mask = NULL;
	mode_t m = *mode;
	int not_equiv = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint16_t perm = le16toh(e[i].perm);

		switch (le16toh(e[i].tag)) {
		case ACL_TAG_USER_OBJ:
			perm &= (m >> 6) | ~7u;
			m &= (mode_t)(perm << 6) | ~0700u;
			e[i].perm = htole16(perm);
			break;
		case ACL_TAG_USER:
		case ACL_TAG_GROUP:
			not_equiv = 1;
			break;
		case ACL_TAG_GROUP_OBJ:
			group = &e[i];
			break;
		case ACL_TAG_OTHER:
			perm &= m | ~7u;
			m &= perm | ~7u;
			e[i].perm = htole16(perm);
			break;
		case ACL_TAG_MASK:
			mask = &e[i];
			not_equiv = 1;
			break;
		default:
			return -EINVAL;
		}
	}
	if (mask) {
		uint16_t perm = le16toh(mask->perm) & ((m >> 3) | ~7u);

		mask->perm = htole16(perm);
		m &= (mode_t)(perm << 3) | ~070u;
	} else if (group) {
		uint16_t perm = le16toh(group->perm) & ((m >> 3) | ~7u);

		group->perm = htole16(perm);
		m &= (mode_t)(perm << 3) | ~070u;
	} else {
		return -EINVAL;
	}
	*mode = (*mode & ~0777u) | (m & 0777);
	return not_equiv;
}

void acl_inherit_free(struct acl_inherit *ai)
{
	free(ai->access);
	free(ai->dflt);
	memset(ai, 0, sizeof(*ai));
}

int acl_inherit_prepare(struct iomapfs *fsx, ext2_ino_t parent, bool is_dir,
			mode_t umask, mode_t *mode, struct acl_inherit *ai)
{
	struct acl_xattr_entry *e;
	void *val = NULL;
	size_t len, n;
	int ret;

	memset(ai, 0, sizeof(*ai));
	if (fsx->opts.fakeroot || fsx->opts.noacl)
		goto out_umask;
	ret = xattr_get(fsx, parent, XATTR_NAME_ACL_DEFAULT, &val, &len);
	if (ret && ret != -ENODATA)
		return ret;
	/* none, empty, or broken (ignored as if absent): the umask applies */
	if (ret || len <= sizeof(uint32_t) || acl_entries(val, len, &e, &n))
		goto out_umask;
	if (is_dir) {
		ai->dflt = malloc(len);
		if (!ai->dflt) {
			free(val);
			return -ENOMEM;
		}
		memcpy(ai->dflt, val, len);
		ai->dflt_len = len;
	}
	ret = acl_create_masq(e, n, mode);
	if (ret < 0) {
		acl_inherit_free(ai);
		goto out_umask;
	}
	if (ret == 0) {
		free(val); /* the mode says it all */
		return 0;
	}
	ai->access = val;
	ai->access_len = len;
	return 0;
out_umask:
	free(val);
	*mode &= ~umask;
	return 0;
}

int acl_inherit_apply(struct iomapfs *fsx, ext2_ino_t child,
		      struct acl_inherit *ai)
{
	int ret = 0;

	if (ai->access)
		ret = xattr_set(fsx, child, XATTR_NAME_ACL_ACCESS, ai->access,
				ai->access_len, 0);
	if (!ret && ai->dflt)
		ret = xattr_set(fsx, child, XATTR_NAME_ACL_DEFAULT, ai->dflt,
				ai->dflt_len, 0);
	acl_inherit_free(ai);
	return ret;
}

int acl_chmod(struct iomapfs *fsx, ext2_ino_t ino, mode_t mode)
{
	struct acl_xattr_entry *e, *group = NULL, *mask = NULL;
	void *val = NULL;
	size_t len, n, i;
	int ret;

	if (fsx->opts.fakeroot || fsx->opts.noacl)
		return 0;
	ret = xattr_get(fsx, ino, XATTR_NAME_ACL_ACCESS, &val, &len);
	if (ret == -ENODATA)
		return 0;
	if (ret)
		return ret;
	if (acl_entries(val, len, &e, &n)) {
		free(val);
		return 0;
	}
	for (i = 0; i < n; i++) {
		switch (le16toh(e[i].tag)) {
		case ACL_TAG_USER_OBJ:
			e[i].perm = htole16((mode >> 6) & 7);
			break;
		case ACL_TAG_GROUP_OBJ:
			group = &e[i];
			break;
		case ACL_TAG_MASK:
			mask = &e[i];
			break;
		case ACL_TAG_OTHER:
			e[i].perm = htole16(mode & 7);
			break;
		}
	}
	if (mask)
		mask->perm = htole16((mode >> 3) & 7);
	else if (group)
		group->perm = htole16((mode >> 3) & 7);
	ret = xattr_set(fsx, ino, XATTR_NAME_ACL_ACCESS, val, len, 0);
	free(val);
	return ret;
}

/*
 * Whether two ACLs in xattr form say the same.  The ids of the owner,
 * group, mask and other entries mean nothing (libext2fs reads them back
 * as 0, the kernel sends ACL_UNDEFINED_ID).
 */
static bool acl_same(const void *a, size_t alen, const void *b, size_t blen)
{
	struct acl_xattr_entry *ea, *eb;
	size_t na, nb, i;
	uint16_t tag;

	if (acl_entries(a, alen, &ea, &na) || acl_entries(b, blen, &eb, &nb) ||
	    na != nb)
		return false;
	for (i = 0; i < na; i++) {
		tag = le16toh(ea[i].tag);
		if (ea[i].tag != eb[i].tag || ea[i].perm != eb[i].perm ||
		    ((tag == ACL_TAG_USER || tag == ACL_TAG_GROUP) &&
		     ea[i].id != eb[i].id))
			return false;
	}
	return true;
}

/*
 * Store ACL @val as @name, unless that very ACL is stored already: ext4
 * then changes nothing, not even ctime.
 */
static int acl_store(struct iomapfs *fsx, ext2_ino_t ino, const char *name,
		     const void *val, size_t len, int flags)
{
	void *old = NULL;
	size_t old_len;
	bool same;
	int ret;

	ret = xattr_get(fsx, ino, name, &old, &old_len);
	if (ret && ret != -ENODATA)
		return ret;
	same = !ret && acl_same(old, old_len, val, len);
	free(old);
	if (same)
		return (flags & XATTR_CREATE) ? -EEXIST : 0;
	return xattr_set(fsx, ino, name, val, len, flags);
}

/*
 * A new access ACL: the mode follows it; an ACL equal to a mode is not
 * stored, and a caller outside the file's group without CAP_FSETID clears
 * its set-group-ID bit (as the kernel's posix_acl_update_mode()).  As
 * ext4_set_acl(), a mode that changes moves ctime, as does a stored ACL
 * that changes (xattr.c), and nothing moves when neither changes.
 */
static int acl_set_access(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t ino,
			  const void *val, size_t len, int flags)
{
	struct ext2_inode_large inode;
	struct timespec now;
	mode_t mode;
	int ret, equiv;

	equiv = acl_to_mode(val, len, &mode);
	if (equiv < 0)
		return -EINVAL;
	if (equiv == 0) {
		ret = xattr_remove(fsx, ino, XATTR_NAME_ACL_ACCESS);
		if (ret == -ENODATA)
			ret = (flags & XATTR_REPLACE) ? -ENODATA : 0;
	} else {
		ret = acl_store(fsx, ino, XATTR_NAME_ACL_ACCESS, val, len,
				flags);
	}
	if (ret)
		return ret;
	ret = fs_load_inode(fsx, ino, &inode);
	if (ret)
		return ret;
	mode = killpriv_chmod(fsx, req, (inode.i_mode & ~0777u) | mode,
			      fs_inode_gid(&inode));
	if (mode == inode.i_mode)
		return 0;
	inode.i_mode = (__u16)mode;
	fs_now(fsx, &now);
	fs_set_time(&inode, FS_CTIME, &now);
	ret = fs_write_inode(fsx, ino, &inode);
	if (!ret)
		killpriv_note(fsx, ino, inode.i_mode);
	return ret;
}

/*
 * No ACL @name on @ino any more.  As ext4 (whose set_acl(NULL) is what
 * removexattr(2) of an ACL calls), removing one that is not there
 * succeeds.
 */
static int acl_remove(struct iomapfs *fsx, ext2_ino_t ino, const char *name,
		      int flags)
{
	int ret = xattr_remove(fsx, ino, name);

	return ret == -ENODATA && !(flags & XATTR_REPLACE) ? 0 : ret;
}

int acl_set(struct iomapfs *fsx, fuse_req_t req, ext2_ino_t ino,
	    const char *name, const void *val, size_t len, int flags)
{
	struct acl_xattr_entry *e;
	void *acl;
	size_t n;
	int ret;

	if (!val)
		return acl_remove(fsx, ino, name, flags);
	/*
	 * The value follows the name in the kernel's message, at any
	 * address: its entries are read from an aligned copy.
	 */
	acl = malloc(len ? len : 1);
	if (!acl)
		return -ENOMEM;
	memcpy(acl, val, len);
	if (acl_entries(acl, len, &e, &n))
		ret = -EINVAL;
	else if (n == 0)
		ret = acl_remove(fsx, ino, name, flags); /* empty: none */
	else if (!strcmp(name, XATTR_NAME_ACL_ACCESS))
		ret = acl_set_access(fsx, req, ino, acl, len, flags);
	else
		ret = acl_store(fsx, ino, name, acl, len, flags);
	free(acl);
	return ret;
}
