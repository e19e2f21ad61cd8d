// minifs/cpio.h: unpacking a cpio "newc" (070701) archive into the Fs, for the kernel at
// boot. Freestanding: it reads only inside [image, image + len), whatever the bytes say.
//
// What it creates: directories, regular files (all-zero pages stay holes), symlinks,
// character/block devices, FIFOs and sockets, with the archive's permission bits, uid, gid
// and mtime (atime = mtime; directories get theirs after their contents are in). Entries
// sharing an inode number (and device) with nlink > 1 become hard links; the data may sit on
// any of them (GNU cpio puts it on the last). Missing parent directories are made (0755,
// root); an existing entry of the same name is replaced (a directory only by a directory,
// which keeps its contents). Names may start with "./"; an absolute name, a ".." component,
// or a parent that is not a directory (no symlink is followed) is an error.
//
// A malformed archive (bad magic, a non-hex field, a truncated header, name or data, a size
// past the end, a name without its NUL, a missing TRAILER!!!) is -kEINVAL; running out of
// space is -kENOSPC. On error the entries unpacked so far stay, and the fs is consistent.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "minifs/fs.h"

namespace utx::minifs {

struct UnpackError {
    uint64_t offset;     // of the entry's header
    const char* reason;  // a static string: "truncated name", "'..' in a name", …
};

int unpack(Fs& fs, Inode* dest, const uint8_t* image, size_t len, UnpackError* error = nullptr);

}  // namespace utx::minifs
