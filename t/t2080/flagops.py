# SPDX-License-Identifier: GPL-2.0-or-later
# flagops.py DIR - what the immutable, append-only, noatime and nodump
# flags allow, asked of the filesystem mounted at DIR (an empty directory
# of it): every operation ext4 checks a flag for, one line each, "name:
# OK" or the errno name.  t2080 runs it on iomapfs and compares with the
# same run on the kernel's ext4 (t2080/flagops.expect).  Run as root with
# CAP_LINUX_IMMUTABLE and without CAP_SYS_RESOURCE.
import errno
import fcntl
import os
import struct
import sys

D = sys.argv[1]
GETFLAGS, SETFLAGS = 0x80086601, 0x40086602
IMM, APPEND, NODUMP, NOATIME = 0x10, 0x20, 0x40, 0x80
FALLOC_KEEP, FALLOC_PUNCH = 1, 2


def p(name):
    return os.path.join(D, name)


def getflags(path):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return struct.unpack("I", fcntl.ioctl(fd, GETFLAGS, b"\0" * 4))[0]
    finally:
        os.close(fd)


def setflags(path, flags):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, SETFLAGS, struct.pack("I", flags))
    finally:
        os.close(fd)


def chattr(path, add=0, remove=0):
    setflags(path, (getflags(path) | add) & ~remove)


def run(name, fn):
    try:
        fn()
        print(name + ": OK")
    except OSError as e:
        print(name + ": " + errno.errorcode.get(e.errno, str(e.errno)))


def openclose(path, flags):
    os.close(os.open(path, flags, 0o644))


def write_at(fd, off):
    return lambda: os.pwrite(fd, b"x", off)


def fallocate(fd, mode, off, length):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.fallocate(fd, mode, ctypes.c_long(off), ctypes.c_long(length)):
        raise OSError(ctypes.get_errno(), "fallocate")


def touch(path, times):
    os.utime(path, times)


def flagged_file(name, flag):
    """A file of 4 KiB with an xattr and @flag set, and a descriptor
    opened before."""
    f = p(name)
    with open(f, "wb") as fh:
        fh.write(b"y" * 4096)
    os.setxattr(f, "user.kept", b"1")
    fd = os.open(f, os.O_RDWR)
    chattr(f, add=flag)
    return f, fd


def file_checks(tag, f, fd):
    run(tag + " open read", lambda: openclose(f, os.O_RDONLY))
    run(tag + " open write", lambda: openclose(f, os.O_WRONLY))
    run(tag + " open write append", lambda: openclose(f, os.O_WRONLY | os.O_APPEND))
    run(tag + " open read trunc", lambda: openclose(f, os.O_RDONLY | os.O_TRUNC))
    run(tag + " open append trunc",
        lambda: openclose(f, os.O_WRONLY | os.O_APPEND | os.O_TRUNC))
    run(tag + " truncate", lambda: os.truncate(f, 10))
    run(tag + " ftruncate old fd", lambda: os.ftruncate(fd, 10))
    run(tag + " write old fd at end", write_at(fd, os.fstat(fd).st_size))
    run(tag + " fallocate keep size", lambda: fallocate(fd, FALLOC_KEEP, 8192, 4096))
    run(tag + " fallocate punch",
        lambda: fallocate(fd, FALLOC_KEEP | FALLOC_PUNCH, 0, 4096))
    run(tag + " chmod", lambda: os.chmod(f, 0o600))
    run(tag + " chown", lambda: os.chown(f, 0, 0))
    run(tag + " utimes given", lambda: touch(f, (1000000000, 1000000000)))
    run(tag + " utimes now", lambda: touch(f, None))
    run(tag + " setxattr", lambda: os.setxattr(f, "user.x", b"1"))
    run(tag + " removexattr", lambda: os.removexattr(f, "user.kept"))
    run(tag + " link", lambda: os.link(f, f + ".link"))
    run(tag + " rename", lambda: os.rename(f, f + ".moved"))
    run(tag + " unlink", lambda: os.unlink(f))
    run(tag + " chattr +d while set", lambda: chattr(f, add=NODUMP))


# immutable file
f, fd = flagged_file("imm", IMM)
file_checks("immutable", f, fd)
run("immutable write old fd inside", write_at(fd, 0))
run("immutable clear", lambda: chattr(f, remove=IMM | NODUMP))
os.close(fd)

# append-only file
f, fd = flagged_file("app", APPEND)
file_checks("append-only", f, fd)
run("append-only write O_APPEND",
    lambda: os.write(os.open(f, os.O_WRONLY | os.O_APPEND), b"z"))
run("append-only clear", lambda: chattr(f, remove=APPEND | NODUMP))
os.close(fd)
print("append-only size: %d" % os.stat(f).st_size)

# immutable directory
d = p("imdir")
os.mkdir(d)
openclose(os.path.join(d, "in"), os.O_CREAT | os.O_WRONLY)
chattr(d, add=IMM)
run("immutable dir create", lambda: openclose(os.path.join(d, "new"), os.O_CREAT | os.O_WRONLY))
run("immutable dir mkdir", lambda: os.mkdir(os.path.join(d, "sub")))
run("immutable dir unlink", lambda: os.unlink(os.path.join(d, "in")))
run("immutable dir rename out", lambda: os.rename(os.path.join(d, "in"), p("out")))
run("immutable dir rename in", lambda: os.rename(p("app"), os.path.join(d, "app")))
run("immutable dir list", lambda: os.listdir(d))
run("immutable dir write in file", lambda: openclose(os.path.join(d, "in"), os.O_WRONLY))
run("immutable dir clear", lambda: chattr(d, remove=IMM))

# append-only directory
d = p("apdir")
os.mkdir(d)
openclose(os.path.join(d, "in"), os.O_CREAT | os.O_WRONLY)
openclose(p("over"), os.O_CREAT | os.O_WRONLY)
openclose(os.path.join(d, "over"), os.O_CREAT | os.O_WRONLY)
chattr(d, add=APPEND)
run("append-only dir create", lambda: openclose(os.path.join(d, "new"), os.O_CREAT | os.O_WRONLY))
run("append-only dir unlink", lambda: os.unlink(os.path.join(d, "in")))
run("append-only dir rename out", lambda: os.rename(os.path.join(d, "in"), p("out2")))
run("append-only dir rename in, new name", lambda: os.rename(p("app"), os.path.join(d, "app")))
run("append-only dir rename over a name", lambda: os.rename(p("over"), os.path.join(d, "over")))
run("append-only dir clear", lambda: chattr(d, remove=APPEND))

# flags that only change what is stored
f = p("dump")
openclose(f, os.O_CREAT | os.O_WRONLY)
run("nodump set", lambda: chattr(f, add=NODUMP))
print("nodump flags: 0x%08x" % getflags(f))
run("noatime set", lambda: chattr(f, add=NOATIME))
print("noatime flags: 0x%08x" % getflags(f))
run("journal data set", lambda: chattr(f, add=0x4000))
run("flag ext4 does not know", lambda: chattr(f, add=0x01000000))
run("dirsync on a file", lambda: chattr(f, add=0x10000))
