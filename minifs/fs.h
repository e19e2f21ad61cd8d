// minifs/fs.h: the RAM file system: inodes, the path-free operations on them, accounting.
//
// minifs is a plain library: no kernel, no hosted library, no global constructors. The
// embedder gives it an allocator, a clock and a byte budget (Config) and serialises calls
// (one lock around the Fs: nothing here is thread-safe). Errors follow result.h.
//
// The operations here take inodes and single names; path walking, symlink following and
// permission checks live in path.h, on top of these. Inode pointers stay valid while the
// inode has a name (nlink > 0) or a reference (ref/unref): the VFS takes a reference for
// every open file description, current directory and mapping, so unlinked files stay
// readable until the last close.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "minifs/errno.h"
#include "minifs/result.h"

namespace utx::minifs {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr size_t kNameMax = 255;             // bytes in one name, NAME_MAX
inline constexpr size_t kPathMax = 4096;            // bytes in a path with its NUL, PATH_MAX
inline constexpr unsigned kMaxSymlinkFollows = 40;  // MAXSYMLINKS
inline constexpr uint64_t kMaxFileSize = 0x7fffffffffffffffull;  // MAX_LFS_FILESIZE
inline constexpr uint32_t kMaxLinks = 0xffffffffu - 1;

// Mode bits, Linux's S_IF* and permission bits.
inline constexpr uint32_t kTypeMask = 0170000;
inline constexpr uint32_t kTypeSocket = 0140000;
inline constexpr uint32_t kTypeSymlink = 0120000;
inline constexpr uint32_t kTypeRegular = 0100000;
inline constexpr uint32_t kTypeBlock = 0060000;
inline constexpr uint32_t kTypeDir = 0040000;
inline constexpr uint32_t kTypeChar = 0020000;
inline constexpr uint32_t kTypeFifo = 0010000;
inline constexpr uint32_t kSetUid = 04000;
inline constexpr uint32_t kSetGid = 02000;
inline constexpr uint32_t kSticky = 01000;
inline constexpr uint32_t kPermMask = 07777;

// access() masks (R_OK, W_OK, X_OK).
inline constexpr int kMayRead = 4;
inline constexpr int kMayWrite = 2;
inline constexpr int kMayExec = 1;

// rename() flags (RENAME_NOREPLACE, RENAME_EXCHANGE).
inline constexpr unsigned kRenameNoReplace = 1;
inline constexpr unsigned kRenameExchange = 2;

// utimens() special values (UTIME_NOW, UTIME_OMIT are nanosecond fields in Linux; here they
// replace the whole time).
inline constexpr int64_t kTimeNow = -0x7fffffffffffffffll;
inline constexpr int64_t kTimeOmit = -0x7ffffffffffffffell;

// getdents64 d_type values (DT_*).
enum class DirentType : uint8_t {
    kUnknown = 0,
    kFifo = 1,
    kChar = 2,
    kDir = 4,
    kBlock = 6,
    kRegular = 8,
    kSymlink = 10,
    kSocket = 12,
};

// Linux's dev_t encoding (new_encode_dev), as stat's st_rdev shows it.
constexpr uint64_t make_dev(uint32_t major, uint32_t minor) {
    return (uint64_t(minor) & 0xff) | ((uint64_t(major) & 0xfff) << 8) |
           ((uint64_t(minor) & ~0xffull) << 12) | ((uint64_t(major) & ~0xfffull) << 32);
}

// A byte string that is not NUL-terminated (a path or a name).
struct Name {
    const char* data = nullptr;
    size_t len = 0;

    constexpr Name() = default;
    constexpr Name(const char* d, size_t n) : data(d), len(n) {}
    // From a NUL-terminated string.
    constexpr Name(const char* s) : data(s), len(0) {
        while (s[len] != '\0') ++len;
    }
    bool equals(Name other) const {
        return len == other.len && __builtin_memcmp(data, other.data, len) == 0;
    }
    bool is_dot() const { return len == 1 && data[0] == '.'; }
    bool is_dotdot() const { return len == 2 && data[0] == '.' && data[1] == '.'; }
};

struct Inode;

// Memory for minifs, from the embedder. alloc must return memory aligned to 16 bytes;
// alloc_page 4096 bytes aligned to 4096 (contents need not be zero). Either may return null.
struct Allocator {
    void* (*alloc)(size_t size);
    void (*free)(void* p);
    void* (*alloc_page)();
    void (*free_page)(void* p);
};

struct Config {
    Allocator allocator;
    uint64_t (*now_ns)();   // wall clock, ns since the epoch
    uint64_t budget_bytes;  // data pages + metadata; past it operations fail with -kENOSPC
    uint32_t root_mode = 0755;
    uint32_t root_uid = 0;
    uint32_t root_gid = 0;
    // Called before truncate() or punch_hole() frees pages [first, end) of a file (end ~0:
    // all from first), so that an embedder mapping file pages (page_for_write) can take them
    // out of its page tables first. May be null.
    void (*releasing_pages)(Inode* inode, uint64_t first, uint64_t end) = nullptr;
};

// Who is asking: for permission checks and the owner of new inodes.
struct Cred {
    uint32_t uid = 0;
    uint32_t gid = 0;
    const uint32_t* groups = nullptr;  // supplementary groups
    size_t group_count = 0;
};

struct Stat {
    uint64_t ino;
    uint64_t nlink;
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint64_t rdev;
    uint64_t size;
    uint64_t blocks;  // 512-byte units actually allocated
    uint64_t blksize;
    int64_t atime_ns;
    int64_t mtime_ns;
    int64_t ctime_ns;
};

struct FsStats {
    uint64_t budget_bytes;
    uint64_t used_bytes;      // data pages + metadata
    uint64_t data_pages;      // file pages (4096 bytes each)
    uint64_t metadata_bytes;  // inodes, entries, indexes, symlink targets
    uint64_t inodes;          // live inodes
};

// One directory entry as dir_next() reports it. `name` points into the fs and is valid
// until the directory changes.
struct DirentInfo {
    Name name;
    uint64_t ino;
    DirentType type;
    uint64_t cookie;  // pass back to dir_next() to continue after this entry (d_off)
};

struct DirEntry;

struct FileData {
    void* root;      // height 0: the page of index 0; else a radix node
    uint64_t pages;  // data pages held
    uint8_t height;  // levels of radix nodes above the pages
};

struct DirData {
    DirEntry* first;  // entries in cookie order (creation order)
    DirEntry* last;
    DirEntry** name_buckets;
    DirEntry** cookie_buckets;
    uint32_t bucket_count;  // power of two, 0 until the first entry
    uint64_t entry_count;   // not counting . and ..
    uint64_t next_cookie;
    struct Inode* parent;  // null once removed
};

struct SymlinkData {
    char* target;
    uint32_t len;
};

// Read the fields freely; change them only through Fs.
struct Inode {
    uint64_t ino;
    uint32_t mode;
    uint32_t nlink;
    uint32_t uid;
    uint32_t gid;
    uint32_t refs;  // the embedder's references (open files, cwd, mappings)
    uint32_t mount;  // the embedder's mount covering this inode (0: none): walks hand over,
                     // and it cannot be removed or renamed (-kEBUSY)
    uint64_t rdev;
    uint64_t size;
    int64_t atime_ns;
    int64_t mtime_ns;
    int64_t ctime_ns;
    Inode* all_prev;  // every live inode, for teardown and statistics
    Inode* all_next;
    union {
        FileData file;
        DirData dir;
        SymlinkData link;
    };

    uint32_t type() const { return mode & kTypeMask; }
    bool is_dir() const { return type() == kTypeDir; }
    bool is_regular() const { return type() == kTypeRegular; }
    bool is_symlink() const { return type() == kTypeSymlink; }
};

class Fs {
  public:
    // Constant-initialised, so a global Fs needs no constructor at boot; init() before use.
    constexpr Fs() = default;
    Fs(const Fs&) = delete;
    Fs& operator=(const Fs&) = delete;

    // Creates the root directory. -kENOSPC when the budget or the allocator cannot hold it.
    int init(const Config& config);
    // Frees every inode, page and entry, referenced or not. The Fs can be init()ed again.
    void destroy();

    Inode* root() const { return root_; }
    FsStats stats() const;
    uint64_t now() const { return config_.now_ns(); }

    // --- Names in one directory. `name` is one component (no '/'). ---
    // "." is the directory, ".." its parent (the root's parent is the root).
    Result<Inode*> lookup(Inode* dir, Name name);
    // New inodes belong to owner.uid and owner.gid, or the directory's group when it is
    // set-group-ID. -kEEXIST when the name exists (O_EXCL), whatever it names.
    Result<Inode*> create(Inode* dir, Name name, uint32_t perm, const Cred& owner);
    Result<Inode*> mkdir(Inode* dir, Name name, uint32_t perm, const Cred& owner);
    // mode carries the type: regular, char, block, FIFO or socket (-kEINVAL otherwise,
    // -kEPERM for a directory).
    Result<Inode*> mknod(Inode* dir, Name name, uint32_t mode, uint64_t rdev, const Cred& owner);
    Result<Inode*> symlink(Inode* dir, Name name, Name target, const Cred& owner);
    // A regular file without a name (nlink 0), for O_TMPFILE and memfd_create. It lives
    // only by the embedder's references: ref() it at once, and the last unref() frees it.
    // `dir`, when given, is the directory it is made in (its set-group-ID bit applies;
    // -kENOENT once it is removed).
    Result<Inode*> create_unnamed(Inode* dir, uint32_t perm, const Cred& owner);
    // -kEPERM for a directory, -kENOENT for an inode without names.
    int link(Inode* dir, Name name, Inode* target);
    // -kEISDIR for a directory.
    int unlink(Inode* dir, Name name);
    // -kENOTDIR, -kENOTEMPTY; -kEINVAL for ".", -kENOTEMPTY for "..".
    int rmdir(Inode* dir, Name name);
    // Linux's renameat2 with kRenameNoReplace / kRenameExchange.
    int rename(Inode* old_dir, Name old_name, Inode* new_dir, Name new_name, unsigned flags);

    // Directory iteration: the entry after `cookie` (0 starts, with "." then ".."). Returns
    // 1 with *out filled, 0 at the end, or -kENOTDIR. Entries added or removed meanwhile
    // never make it skip or repeat an entry that stays; a removed cookie still resumes at
    // the right place.
    int dir_next(Inode* dir, uint64_t cookie, DirentInfo* out);
    static bool dir_is_empty(const Inode* dir) { return dir->dir.entry_count == 0; }

    // --- Regular file data. Holes read as zeros and hold no pages. ---
    // Bytes read (0 at or past the end), or -kEISDIR / -kEINVAL.
    int64_t read(Inode* inode, uint64_t offset, void* buf, size_t len);
    // Bytes written, extending the file; fewer than len when space runs out part way,
    // -kENOSPC when none fit, -kEFBIG past kMaxFileSize.
    int64_t write(Inode* inode, uint64_t offset, const void* buf, size_t len);
    // Grows sparsely, shrinks by freeing the pages past the end.
    int truncate(Inode* inode, uint64_t size);
    // fallocate(): backs [offset, offset+len) with pages; grows the size unless keep_size.
    int allocate(Inode* inode, uint64_t offset, uint64_t len, bool keep_size);
    // fallocate(FALLOC_FL_PUNCH_HOLE): [offset, offset+len) reads as zeros afterwards and the
    // pages wholly inside it are freed (also past the end, where allocate() may have put
    // some); the size stays. -kEINVAL for len 0, -kEFBIG past kMaxFileSize.
    int punch_hole(Inode* inode, uint64_t offset, uint64_t len);
    // The page holding byte index*4096, or null for a hole (for file mappings). A page
    // lives until the file is truncated below it, punched out or freed (see
    // Config::releasing_pages).
    void* page_at(Inode* inode, uint64_t index);
    // The same, filling a hole with a zero page first (does not change the size).
    Result<void*> page_for_write(Inode* inode, uint64_t index);

    // Symlink target bytes copied into buf (not NUL-terminated, truncated to len), or
    // -kEINVAL when the inode is not a symlink.
    int64_t readlink(Inode* inode, char* buf, size_t len);
    Name symlink_target(const Inode* inode) const { return {inode->link.target, inode->link.len}; }

    // --- Metadata. ---
    void stat(const Inode* inode, Stat* out) const;
    int chmod(Inode* inode, uint32_t perm);
    // uid or gid of 0xffffffff leaves it unchanged (chown(2)'s -1).
    int chown(Inode* inode, uint32_t uid, uint32_t gid);
    // Times in ns since the epoch, or kTimeNow / kTimeOmit. Sets ctime to now.
    int utimens(Inode* inode, int64_t atime_ns, int64_t mtime_ns);
    // Marks a read access (relatime: only when atime is older than mtime/ctime or a day).
    void touch_atime(Inode* inode);

    // --- References from the embedder. An inode is freed when nlink and refs are 0. ---
    void ref(Inode* inode) { ++inode->refs; }
    void unref(Inode* inode);

    // Internal accounting, used by the parts of minifs (dir.cpp, file_data.cpp, cpio.cpp).
    void* alloc_meta(size_t size);
    void free_meta(void* p, size_t size);
    void* alloc_data_page();
    void free_data_page(void* p);

  private:
    Result<Inode*> new_inode(uint32_t mode, const Cred& owner, const Inode* dir);
    void release_if_unused(Inode* inode);
    void free_inode(Inode* inode);
    Result<Inode*> add_new(Inode* dir, Name name, uint32_t mode, const Cred& owner);
    // Frees a file's pages [first, end), telling Config::releasing_pages first.
    void release_pages(Inode* inode, uint64_t first, uint64_t end);
    void touch_dir(Inode* dir);

    Config config_{};
    Inode* root_ = nullptr;
    Inode* all_ = nullptr;
    uint64_t next_ino_ = 1;
    uint64_t used_bytes_ = 0;
    uint64_t data_pages_ = 0;
    uint64_t inode_count_ = 0;
};

// Linux's permission rules: owner, then group (primary or supplementary), then others;
// uid 0 may read and write anything, and execute when some x bit is set or it is a
// directory. 0 or -kEACCES.
int access(const Inode* inode, const Cred& cred, int mask);

// May `cred` remove or rename `victim` out of `dir`? Write and search on the directory, and
// the sticky-bit rule. 0, -kEACCES or -kEPERM.
int may_delete(const Inode* dir, const Inode* victim, const Cred& cred);

DirentType dirent_type(uint32_t mode);

}  // namespace utx::minifs
