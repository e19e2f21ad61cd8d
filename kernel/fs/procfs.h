// kernel/fs/procfs.h: /proc, kept as ordinary minifs files and symlinks that are written
// afresh whenever a path may reach them, so every reader sees current contents.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "minifs/path.h"

namespace utx::kernel {

// The argument and environment strings of the program, for /proc/self/cmdline, environ.
void procfs_init(const char* strings, size_t args_len, size_t total_len);
// Rewrites /proc when `path` may lead there (cheap test on the string first).
void procfs_refresh_for(const char* path);

// Under the family lock, before a path walk: /proc/self names the caller's directory (the
// file system is shared by the process tree, and another process may have pointed it at
// its own since).
void procfs_point_self(const char* path, size_t len);

// openat2's view of /proc (minifs::PathHooks): a mount of its own, whose links to a
// process's files (exe, cwd, root, fd/N) are magic links.
const minifs::PathHooks* procfs_path_hooks();

// /dev/stdin, /dev/fd/N, /proc/self/fd/N and the like name an open descriptor: Linux
// reopens what it refers to. Returns the descriptor number, or -1 for other paths.
int64_t procfs_fd_link(const char* path);

}  // namespace utx::kernel
