// minifs/path.h: paths over the Fs: resolution ("." and "..", symlinks, ELOOP after 40,
// ENOTDIR, ENAMETOOLONG, ENOENT, search permission) and the *at() operations that Linux's
// path syscalls need, with their permission checks and Linux's error precedence.
//
// Resolution is iterative: a symlink's target is pushed on a small stack of unread path
// pieces (at most kMaxSymlinkFollows + 1), so it uses no recursion and no allocation.
#pragma once
#include "minifs/fs.h"

namespace utx::minifs {

// A walk that met a mounted directory (Inode::mount) hands the rest of the path over.
struct MountCrossing {
    Inode* mountpoint;
    char rest[kPathMax];  // the unread rest, NUL-terminated; "" names the mountpoint itself
    size_t rest_len;
};

// Restrictions on a walk (PathContext::resolve): openat2's RESOLVE_* flags, with their values.
inline constexpr unsigned kResolveNoXdev = 0x01;        // crossing a mount is -kEXDEV
inline constexpr unsigned kResolveNoMagicLinks = 0x02;  // following a magic link is -kELOOP
inline constexpr unsigned kResolveNoSymlinks = 0x04;    // following any symlink is -kELOOP
// Stay below ctx.root (the embedder sets it to the starting directory): an absolute path or
// symlink, or ".." out of it, is -kEXDEV; so is a magic link.
inline constexpr unsigned kResolveBeneath = 0x08;
// ctx.root is "/" for the walk (the embedder sets it to the starting directory); a magic
// link is -kEXDEV.
inline constexpr unsigned kResolveInRoot = 0x10;

// What only the embedder knows about the names of its file system; either may be null.
struct PathHooks {
    // A symlink that stands for an object rather than a path (Linux's /proc magic links):
    // `name` in directory `dir`.
    bool (*is_magic_link)(const Inode* dir, Name name);
    // A directory that shows another file system mounted there (for kResolveNoXdev).
    bool (*is_mount_root)(const Inode* dir);
};

struct PathContext {
    Inode* root;  // where absolute paths start and ".." stops (the process's root)
    Cred cred;    // the caller: permission checks, owner of new inodes
    bool check_permissions = true;
    unsigned resolve = 0;              // kResolve* restrictions
    const PathHooks* hooks = nullptr;  // for kResolveNoXdev and magic links
    // Where a walk that steps into a mounted inode records the crossing; it then fails with
    // -kECrossMount. Null: mounted inodes are walked like any other.
    MountCrossing* crossing = nullptr;
};

// resolve() flags.
inline constexpr unsigned kFollowLast = 1;  // follow a symlink in the last component
inline constexpr unsigned kMustBeDir = 2;   // O_DIRECTORY: -kENOTDIR unless a directory

// The path minus its last component, resolved, and that last component.
struct ParentLookup {
    Inode* dir;
    Name last;            // points into the path; "." when names_root
    bool trailing_slash;  // "a/b/": b must be a directory
    bool names_root;      // the path was only slashes ("/")
};

// Relative paths start at `start` (the cwd or a dirfd's directory), which must be a
// directory. An empty path is -kENOENT (AT_EMPTY_PATH is the VFS's business).
Result<Inode*> resolve(Fs& fs, const PathContext& ctx, Inode* start, Name path, unsigned flags);
Result<ParentLookup> resolve_parent(Fs& fs, const PathContext& ctx, Inode* start, Name path);

// open(2) flags that matter here.
inline constexpr unsigned kOpenCreate = 1;     // O_CREAT
inline constexpr unsigned kOpenExcl = 2;       // O_EXCL
inline constexpr unsigned kOpenNoFollow = 4;   // O_NOFOLLOW: a symlink last is -kELOOP
inline constexpr unsigned kOpenDirectory = 8;  // O_DIRECTORY
inline constexpr unsigned kOpenPath = 16;      // O_PATH: with kOpenNoFollow, a symlink itself

struct OpenResult {
    Inode* inode;
    bool created;
};

// The inode open() names, creating a regular file (perm, after the caller's umask) with
// kOpenCreate: a dangling symlink is followed and its target created, as on Linux. The
// access mode check (read/write on the inode) is left to the caller, which knows O_ACCMODE.
Result<OpenResult> open_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, unsigned flags,
                           uint32_t perm);

// O_TMPFILE: a regular file without a name (Fs::create_unnamed) in the directory `path`
// names (followed unless kOpenNoFollow); needs write and search permission on it.
Result<Inode*> tmpfile_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, unsigned flags,
                          uint32_t perm);

Result<Inode*> mkdir_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, uint32_t perm);
// mode carries the file type, as for mknod(2).
Result<Inode*> mknod_at(Fs& fs, const PathContext& ctx, Inode* start, Name path, uint32_t mode,
                        uint64_t rdev);
Result<Inode*> symlink_at(Fs& fs, const PathContext& ctx, Name target, Inode* start, Name path);
// follow: AT_SYMLINK_FOLLOW for the old path.
int link_at(Fs& fs, const PathContext& ctx, Inode* old_start, Name old_path, Inode* new_start,
            Name new_path, bool follow);
int unlink_at(Fs& fs, const PathContext& ctx, Inode* start, Name path);
int rmdir_at(Fs& fs, const PathContext& ctx, Inode* start, Name path);
int rename_at(Fs& fs, const PathContext& ctx, Inode* old_start, Name old_path, Inode* new_start,
              Name new_path, unsigned flags);

}  // namespace utx::minifs
