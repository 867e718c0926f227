#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dirchurn.py - random name operations on one directory of a mounted
# filesystem, checked against a model: create, unlink, rename (to a new
# name, over a file, into a subdirectory and back, RENAME_EXCHANGE),
# mkdir, rmdir, symlink and hard link, with names of 1 to 255 bytes.  Every
# so often the directory listing, lookups of present and absent names and
# file contents are compared with the model.  Used by t2060 to test the
# daemon's directory index (daemon/dirindex.c).
#
#   dirchurn.py run DIR OPS SEED MODEL    churn, then write the model
#   dirchurn.py verify DIR MODEL          compare DIR with a saved model
#   dirchurn.py names MODEL               the model's names, one a line
#
# Exits 0 when everything matched; else prints what was expected and what
# was found, and exits 1.
import ctypes
import errno
import json
import os
import random
import sys

RENAME_EXCHANGE = 2
libc = ctypes.CDLL(None, use_errno=True)
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+="


def fail(msg):
    print("dirchurn: " + msg)
    sys.exit(1)


def exchange(a, b):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), RENAME_EXCHANGE):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), a)


class Churn:
    def __init__(self, top, seed):
        self.top = top
        self.rng = random.Random(seed)
        self.model = {}  # name -> ["f", content] | ["d"] | ["l", target]
        self.serial = 0
        self.sub = os.path.join(top, ".sub")
        os.mkdir(self.sub)
        # entries already there join the model as they are
        for name in os.listdir(top):
            p = os.path.join(top, name)
            if name == ".sub":
                continue
            if os.path.islink(p):
                self.model[name] = ["l", os.readlink(p)]
            elif os.path.isdir(p):
                self.model[name] = ["d"]
            else:
                with open(p) as f:
                    self.model[name] = ["f", f.read()]

    def new_name(self):
        rng = self.rng
        while True:
            r = rng.random()
            if r < 0.6:
                n = rng.randint(1, 12)
            elif r < 0.9:
                n = rng.randint(13, 80)
            else:
                n = rng.randint(200, 255)
            name = "".join(rng.choice(ALPHABET) for _ in range(n))
            if name not in (".", "..", ".sub") and name not in self.model:
                return name

    def path(self, name):
        return os.path.join(self.top, name)

    def pick(self, kinds):
        names = [n for n, v in self.model.items() if v[0] in kinds]
        return self.rng.choice(names) if names else None

    def step(self):
        rng, m = self.rng, self.model
        op = rng.choices(
            ["create", "unlink", "rename", "replace", "subdir", "exchange",
             "mkdir", "rmdir", "symlink", "link"],
            [30, 18, 10, 5, 5, 4, 5, 4, 5, 4])[0]
        if op == "create" or (op != "mkdir" and not m):
            name = self.new_name()
            self.serial += 1
            content = "%d %s\n" % (self.serial, name[:20])
            with open(self.path(name), "x") as f:
                f.write(content)
            m[name] = ["f", content]
        elif op == "unlink":
            name = self.pick("fl")
            if name:
                os.unlink(self.path(name))
                del m[name]
        elif op == "rename":
            name = self.pick("fdl")
            if name:
                new = self.new_name()
                os.rename(self.path(name), self.path(new))
                m[new] = m.pop(name)
        elif op == "replace":
            a, b = self.pick("f"), self.pick("f")
            if a and b and a != b:
                os.rename(self.path(a), self.path(b))
                m[b] = m.pop(a)
        elif op == "subdir":
            name = self.pick("f")
            if name:
                os.rename(self.path(name), os.path.join(self.sub, name))
                new = self.new_name()
                os.rename(os.path.join(self.sub, name), self.path(new))
                m[new] = m.pop(name)
        elif op == "exchange":
            a, b = self.pick("fdl"), self.pick("fdl")
            if a and b and a != b:
                exchange(self.path(a), self.path(b))
                m[a], m[b] = m[b], m[a]
        elif op == "mkdir":
            name = self.new_name()
            os.mkdir(self.path(name))
            m[name] = ["d"]
        elif op == "rmdir":
            name = self.pick("d")
            if name:
                os.rmdir(self.path(name))
                del m[name]
        elif op == "symlink":
            name, target = self.new_name(), "t%d" % rng.randint(0, 10**6)
            os.symlink(target, self.path(name))
            m[name] = ["l", target]
        elif op == "link":
            name = self.pick("f")
            if name:
                new = self.new_name()
                os.link(self.path(name), self.path(new))
                # one inode, two names: contents never change, so the
                # model keeps a copy under each name
                m[new] = list(m[name])


def check(top, model, full):
    found = sorted(n for n in os.listdir(top) if n != ".sub")
    want = sorted(model)
    if found != want:
        extra = sorted(set(found) - set(want))[:5]
        missing = sorted(set(want) - set(found))[:5]
        fail("listing of %s: expected %d names, found %d; unexpected %r, "
             "missing %r" % (top, len(want), len(found), extra, missing))
    names = want if full else random.sample(want, min(len(want), 50))
    for name in names:
        v = model[name]
        p = os.path.join(top, name)
        try:
            st = os.lstat(p)
        except OSError as e:
            fail("lstat %s: expected a %s, got %s" % (name, v[0], e))
        kind = {0o100000: "f", 0o040000: "d", 0o120000: "l"}.get(
            st.st_mode & 0o170000, "?")
        if kind != v[0]:
            fail("%s: expected kind %s, found %s" % (name, v[0], kind))
        if kind == "f":
            with open(p) as f:
                got = f.read()
            if got != v[1]:
                fail("%s: expected content %r, found %r" % (name, v[1], got))
        elif kind == "l" and os.readlink(p) != v[1]:
            fail("%s: expected target %r, found %r" %
                 (name, v[1], os.readlink(p)))
    for i in range(20):
        name = "absent-%d-%s" % (i, "x" * (i * 11))
        try:
            os.lstat(os.path.join(top, name))
        except FileNotFoundError:
            continue
        fail("lookup of absent %s: expected ENOENT, it exists" % name)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "run" and len(sys.argv) == 6:
        top, ops, seed, out = sys.argv[2], int(sys.argv[3]), \
            int(sys.argv[4]), sys.argv[5]
        c = Churn(top, seed)
        for i in range(ops):
            try:
                c.step()
            except OSError as e:
                fail("step %d (seed %d): %s" % (i, seed, e))
            if i % 500 == 499:
                check(top, c.model, False)
        check(top, c.model, True)
        with open(out, "w") as f:
            json.dump(c.model, f)
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "verify":
        with open(sys.argv[3]) as f:
            model = json.load(f)
        check(sys.argv[2], model, True)
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "names":
        with open(sys.argv[2]) as f:
            for name in sorted(json.load(f)):
                print(name)
        return 0
    print("usage: dirchurn.py run DIR OPS SEED MODEL | verify DIR MODEL | "
          "names MODEL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
