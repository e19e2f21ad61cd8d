#!/usr/bin/env python3
"""Writes a cpio "newc" archive (a Linux initramfs) of a directory tree to stdout.

usage: mkcpio.py DIR > initrd.cpio
Every entry is owned by root; modes, symlinks and contents come from DIR.
"""

import os
import stat
import sys


def header(name, mode, size, ino, nlink=1, rdev=(0, 0)):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    data = head + name.encode() + b"\0"
    return data + b"\0" * (-len(data) % 4)


def main():
    root = sys.argv[1]
    out = sys.stdout.buffer
    ino = 1
    written = 0

    def emit(chunk):
        nonlocal written
        out.write(chunk)
        written += len(chunk)

    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            ino += 1
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(path).encode()
                emit(header(rel, st.st_mode, len(target), ino))
                emit(target + b"\0" * (-len(target) % 4))
            elif stat.S_ISDIR(st.st_mode):
                emit(header(rel, st.st_mode, 0, ino, nlink=2))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    content = f.read()
                emit(header(rel, st.st_mode, len(content), ino))
                emit(content + b"\0" * (-len(content) % 4))
            else:
                sys.exit(f"mkcpio: unsupported file type: {path}")
    emit(header("TRAILER!!!", 0, 0, 0))
    emit(b"\0" * (-written % 512))


if __name__ == "__main__":
    main()
