// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * devio.c - the daemon's reads and writes of /dev/fuse.  libfuse lets a
 * server bring its own (fuse_session_custom_io()); ours make the very
 * system calls libfuse makes (read, writev, splice), and add two flags to
 * the INIT reply, which libfuse 3.14 cannot send: FUSE_HANDLE_KILLPRIV_V2
 * and FUSE_DIRECT_IO_ALLOW_MMAP.  It also says how large a WRITE to ask
 * for, so that libfuse still splices it (devio_write_max(), at the end).
 *
 * Why FUSE_HANDLE_KILLPRIV_V2
 * ---------------------------
 * Without it the kernel cannot know that a file has no set-user-ID or
 * set-group-ID bit nor security.capability to clear, and before every
 * write(2) it asks: a GETXATTR of security.capability, a round trip per
 * write, whatever the size (file_remove_privs()).  With the write-back
 * cache that round trip was all a small write cost: 50,000 4-byte appends
 * sent 5 WRITEs and 50,000 GETXATTRs.  With FUSE_HANDLE_KILLPRIV_V2 the
 * kernel marks the superblock SB_NOSEC: once a file was seen to have none
 * of the three, it stops asking until its mode or a security attribute
 * changes.  The price is that the server clears the bits itself on write,
 * truncate, fallocate, chown and open(O_TRUNC), which killpriv.c does
 * anyway; security.capability the kernel still removes itself (t2015).
 *
 * Why FUSE_DIRECT_IO_ALLOW_MMAP
 * -----------------------------
 * With the write-back cache, the newest data of a file may sit in dirty
 * pages of the kernel.  A descriptor in direct-I/O mode (O_DIRECT,
 * ops_open.c) must see it, as on ext4, and its writes must not be
 * overwritten later by older dirty pages.  The kernel writes the pages of
 * the range back before a direct-I/O request only on connections with
 * this flag (before Linux 6.19's "fuse: Always flush the page cache before
 * FOPEN_DIRECT_IO write", and then for writes only): without it a direct
 * read of data still in dirty pages returned older data or end of file.
 * (Dirty pages past the range are not written back: io_read.c says what
 * that leaves.)  The flag also lets such a descriptor be mapped shared,
 * as on ext4.
 *
 * libfuse 3.14 knows the flags (fuse_kernel.h) but has no capability bits
 * for them and never puts them in its reply, so they are added here, to
 * the first reply the daemon writes, which is the one to INIT (the kernel
 * sends nothing else before INIT is answered), and each only when the
 * kernel offered it in its INIT request (read here too: before INIT
 * libfuse reads with read(2), never with splice).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devio.h"

/* From the kernel's <linux/fuse.h>. */
#define DEVIO_FUSE_INIT		     26
#define DEVIO_HANDLE_KILLPRIV_V2     (1u << 28)
#define DEVIO_INIT_EXT		     (1u << 30)
#define DEVIO_DIRECT_IO_ALLOW_MMAP   (1u << (36 - 32)) /* in flags2 */
#define DEVIO_IN_HEADER_SIZE	     40 /* struct fuse_in_header */
#define DEVIO_OUT_HEADER_SIZE	     16 /* struct fuse_out_header */
#define DEVIO_INIT_FLAGS_OFFSET	     12 /* flags in fuse_init_in/_out */
#define DEVIO_INIT_IN_FLAGS2_OFFSET  16 /* flags2 in fuse_init_in */
#define DEVIO_INIT_OUT_FLAGS2_OFFSET 32 /* flags2 in fuse_init_out */
#define DEVIO_IN_OPCODE_OFFSET	     4
#define DEVIO_OUT_ERROR_OFFSET	     4

/* The INIT request's flags once read; then whether the reply added V2. */
static atomic_uint devio_kernel_flags;
static atomic_uint devio_kernel_flags2;
static atomic_bool devio_init_seen;
static atomic_bool devio_replied;
static atomic_bool devio_v2;

static uint32_t devio_u32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static ssize_t devio_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);

	(void)userdata;
	if (n >= DEVIO_IN_HEADER_SIZE + DEVIO_INIT_IN_FLAGS2_OFFSET + 4 &&
	    !atomic_load(&devio_init_seen) &&
	    devio_u32((char *)buf + DEVIO_IN_OPCODE_OFFSET) ==
		    DEVIO_FUSE_INIT) {
		atomic_store(&devio_kernel_flags,
			     devio_u32((char *)buf + DEVIO_IN_HEADER_SIZE +
				       DEVIO_INIT_FLAGS_OFFSET));
		atomic_store(&devio_kernel_flags2,
			     devio_u32((char *)buf + DEVIO_IN_HEADER_SIZE +
				       DEVIO_INIT_IN_FLAGS2_OFFSET));
		atomic_store(&devio_init_seen, true);
	}
	return n;
}

/* OR @bits into the 32-bit field at @p. */
static void devio_or(char *p, uint32_t bits)
{
	uint32_t v = devio_u32(p) | bits;

	memcpy(p, &v, sizeof(v));
}

/* Add our flags to the INIT reply in @iov, when it is one. */
static void devio_patch_init(struct iovec *iov, int count)
{
	uint32_t kflags = atomic_load(&devio_kernel_flags);
	uint32_t kflags2 = atomic_load(&devio_kernel_flags2);
	char *out;

	if (count < 2 || iov[0].iov_len != DEVIO_OUT_HEADER_SIZE ||
	    iov[1].iov_len < DEVIO_INIT_OUT_FLAGS2_OFFSET + 4 ||
	    devio_u32((char *)iov[0].iov_base + DEVIO_OUT_ERROR_OFFSET) != 0 ||
	    !atomic_load(&devio_init_seen))
		return;
	out = (char *)iov[1].iov_base;
	if (kflags & DEVIO_HANDLE_KILLPRIV_V2) {
		devio_or(out + DEVIO_INIT_FLAGS_OFFSET,
			 DEVIO_HANDLE_KILLPRIV_V2);
		atomic_store(&devio_v2, true);
	}
	/* flags2 counts only with FUSE_INIT_EXT, which libfuse sends back
	 * when the kernel offered it */
	if ((kflags & DEVIO_INIT_EXT) &&
	    (devio_u32(out + DEVIO_INIT_FLAGS_OFFSET) & DEVIO_INIT_EXT) &&
	    (kflags2 & DEVIO_DIRECT_IO_ALLOW_MMAP))
		devio_or(out + DEVIO_INIT_OUT_FLAGS2_OFFSET,
			 DEVIO_DIRECT_IO_ALLOW_MMAP);
}

static ssize_t devio_writev(int fd, struct iovec *iov, int count,
			    void *userdata)
{
	(void)userdata;
	if (!atomic_exchange(&devio_replied, true))
		devio_patch_init(iov, count);
	return writev(fd, iov, count);
}

static ssize_t devio_splice(int fdin, off_t *offin, int fdout, off_t *offout,
			    size_t len, unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

int devio_setup(struct iomapfs *fsx)
{
	static const struct fuse_custom_io io = {
		.read = devio_read,
		.writev = devio_writev,
		.splice_receive = devio_splice,
		.splice_send = devio_splice,
	};
	int fd = fuse_session_fd(fsx->se);

	if (fd < 0)
		return -EBADF;
	return fuse_session_custom_io(fsx->se, &io, fd);
}

bool devio_killpriv_v2(void)
{
	return atomic_load(&devio_v2);
}

/*
 * libfuse splices a request from /dev/fuse into a pipe, and its data from
 * there to the device without a copy through our memory, only when the
 * pipe holds the whole request and a page for its header: otherwise it
 * read()s the request, and every byte written is copied once more.  A
 * pipe grows to pipe-max-size (1 MiB by default) for anyone, and beyond
 * it only with CAP_SYS_RESOURCE, which root in a container may lack (the
 * machine this was measured on: every 1 MiB WRITE was read(), and 512 MiB
 * written cost the daemon 0.47 s of CPU against 0.31 s spliced, with the
 * write-back cache).  So the largest WRITE is one that still splices: 1
 * MiB when a pipe of 1 MiB and a page can be had, else a page less than
 * the largest pipe.
 */
unsigned int devio_write_max(unsigned int want)
{
	const int page = getpagesize();
	int fds[2], got;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return want;
	got = fcntl(fds[0], F_SETPIPE_SZ, (int)want + page);
	if (got < 0)
		got = fcntl(fds[0], F_SETPIPE_SZ, (int)want);
	close(fds[0]);
	close(fds[1]);
	if (got >= (int)want + page || got < 16 * page)
		return want; /* spliced, or nothing to gain */
	return (unsigned int)(got - page);
}
