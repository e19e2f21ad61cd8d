// kernel/fs/file.h: open file descriptions, shared by the descriptors that dup() makes, and
// the operations every kind of file answers: the host's stdio streams (through the VMM),
// pipes inside the guest, minifs inodes (files and directories), the memory devices, and
// the anonymous eventfd, timerfd and epoll files.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/platform/hypercall.h"

namespace utx::kernel {

struct Pipe;
struct EventFd;
struct TimerFd;
struct Epoll;
struct Socket;
}  // namespace utx::kernel
namespace utx::minifs {
struct Inode;
}
namespace utx::kernel {

// struct stat of x86-64 Linux.
struct LinuxStat {
    uint64_t dev, ino, nlink;
    uint32_t mode, uid, gid, pad0;
    uint64_t rdev;
    int64_t size, blksize, blocks;
    uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
    int64_t unused[3];
};
static_assert(sizeof(LinuxStat) == 144);

// struct statfs of x86-64 Linux.
struct LinuxStatfs {
    int64_t type, bsize, blocks, bfree, bavail, files, ffree;
    int32_t fsid[2];
    int64_t namelen, frsize, flags, spare[4];
};
static_assert(sizeof(LinuxStatfs) == 120);

// Open flags kept by a description (fcntl F_GETFL / F_SETFL). An O_PATH description only
// names a file: the fd_lookup() of syscall-shim/fd_table.h does not give it out for I/O.
inline constexpr uint32_t kOAccMode = 3, kOWrOnly = 1, kORdWr = 2, kOAppend = 02000,
                          kONonblock = 04000, kOCloexec = 02000000, kOPath = 010000000;

enum class FileKind : uint8_t {
    HostStream, PipeRead, PipeWrite, Inode, Device, HostFile, EventFd, TimerFd, Epoll, SignalFd,
    Socket
};

// Character devices of major 1 (mem): /dev/null, zero, full, random, urandom.
inline constexpr uint32_t kMemMajor = 1;
inline constexpr uint32_t kTtyMajor = 5;  // 5:0 is /dev/tty
inline constexpr uint32_t kDevNull = 3, kDevZero = 5, kDevFull = 7, kDevRandom = 8,
                          kDevUrandom = 9;

// A description's file offset. After a fork it is shared by the copies of the description
// in every VM (POSIX: `(echo a; echo b) > f` appends both), in a cell of the family region
// (kernel/ipc/family.h) that fork makes; before, it is the description's own.
struct SharedOffset {
    uint64_t value;
    uint32_t refs;  // descriptions holding it, in every VM
};
struct FileOffset {
    uint64_t own;
    SharedOffset* cell;
    operator uint64_t() const { return cell ? __atomic_load_n(&cell->value, __ATOMIC_RELAXED) : own; }
    FileOffset& operator=(uint64_t v) {
        if (cell) __atomic_store_n(&cell->value, v, __ATOMIC_RELAXED);
        else own = v;
        return *this;
    }
    FileOffset& operator+=(uint64_t n) { return *this = uint64_t(*this) + n; }
};

struct OpenFile {
    uint32_t refs;
    FileKind kind;
    uint32_t flags;   // access mode and status flags
    FileOffset offset;
    int host_fd;      // HostStream: the VMM's fd 0, 1 or 2; HostFile: the VMM's handle
    Pipe* pipe;       // PipeRead, PipeWrite
    minifs::Inode* inode;  // Inode, Device (referenced while open)
    uint32_t device;       // Device: the minor number
    char* path;            // Inode, HostFile: its absolute path (for /proc/self/fd)
    uint32_t mount;        // HostFile: the host mount (kernel/fs/hostfs.h)
    uint32_t host_mode;    // HostFile: st_mode when opened (file type)
    char* host_rel;        // HostFile: its path relative to the mount's root
    EventFd* eventfd;      // EventFd (kernel/ipc/waitfd.h)
    TimerFd* timer;        // TimerFd
    Epoll* epoll;          // Epoll (kernel/ipc/epoll.h)
    uint64_t sigmask;      // SignalFd: the signals it reads
    Socket* socket;        // Socket (kernel/net/socket.h)
    uint32_t walk_mark;    // files_for_fork / files_at_exit: seen in this walk
};

inline bool is_host_dir(const OpenFile& f) {
    return f.kind == FileKind::HostFile && (f.host_mode & 0170000) == 0040000;
}

OpenFile* file_open_host(int host_fd);
// A description for a file the VMM opened beneath host mount `mount` as `handle`.
OpenFile* file_open_host_mount(uint32_t mount, int handle, uint32_t mode, uint32_t flags);
// An O_PATH description of any inode (`flags` as F_GETFL shows them); null when memory is
// short.
OpenFile* file_open_path(minifs::Inode* inode, uint32_t flags);
// A description for a minifs inode with the open(2) flags; null when memory is short.
// Character devices 1:N become Device files; other special files are -ENXIO (out_error).
OpenFile* file_open_inode(minifs::Inode* inode, uint32_t flags, int64_t* out_error = nullptr);
// Both ends of a new pipe; false when memory is short.
bool file_open_pipe(uint32_t flags, OpenFile*& read_end, OpenFile*& write_end);
// The anonymous-inode files: an eventfd, a timerfd on `clock` and an epoll instance;
// null when memory is short.
OpenFile* file_open_eventfd(uint64_t initial, bool semaphore, uint32_t flags);
OpenFile* file_open_timerfd(uint32_t clock, uint32_t flags);
OpenFile* file_open_epoll();
// A description for a socket (O_NONBLOCK from `flags`); consumes `socket` (released when
// memory is short, and null returned).
OpenFile* file_open_socket(Socket* socket, uint32_t flags);
// A file's edge counter for edge-triggered epoll: it changes whenever new readiness arrives,
// even on a file that was ready already (0 for files that do not keep one).
uint32_t file_edge_seq(OpenFile& f);
// signalfd: reads the caller's pending signals in `mask` as struct signalfd_siginfo.
OpenFile* file_open_signalfd(uint64_t mask, uint32_t flags);
// fork: each open description of this process gets a copy in the child's VM. What is
// shared between VMs (pipe ends, minifs inodes) counts the copies before the clone
// (`undo`: the clone failed, the counts go back).
void files_for_fork(bool undo);
// The process ends: the pipe ends and inodes its descriptions hold are dropped at once
// (other VMs see the end of file or EPIPE; an unlinked file goes with its last holder),
// whatever else still refers to the descriptions.
void files_at_exit();
void file_get(OpenFile* f);
void file_put(OpenFile* f);  // drops a reference; the last one closes

// The syscalls' view of a file. Buffers are user ranges already checked and present.
int64_t file_read(OpenFile& f, IoBuffer* bufs, size_t count);
int64_t file_write(OpenFile& f, IoBuffer* bufs, size_t count);
// pread/pwrite: at `offset`, leaving the file offset alone (-ESPIPE where there is none).
int64_t file_pread(OpenFile& f, IoBuffer* bufs, size_t count, uint64_t offset);
int64_t file_pwrite(OpenFile& f, IoBuffer* bufs, size_t count, uint64_t offset);
// sendfile and copy_file_range: up to `len` bytes of the regular file `in` from `in_pos`
// to `out`, at *out_pos when given (a regular file) or as write(2) would. Stops at the end of
// `in` or when `out` takes less; a pipe gets what fits and only a full one waits. Returns
// the bytes moved, or -errno when none were.
int64_t file_splice(minifs::Inode* in, uint64_t in_pos, OpenFile& out, const uint64_t* out_pos,
                    uint64_t len);
int64_t file_stat(OpenFile& f, LinuxStat& st);
int64_t file_statfs(OpenFile& f, LinuxStatfs& out);
void inode_stat(minifs::Inode* inode, LinuxStat& st);
int64_t file_seek(OpenFile& f, int64_t offset, int whence);
int64_t file_ioctl(OpenFile& f, uint64_t cmd, uint64_t arg);
int64_t file_getfl(OpenFile& f);
// poll(2) revents for `events`; may wait on the host up to `wait_ms` for a host stream.
// Waiting inside the guest is the pollers' business (kernel/ipc/waitfd.h).
int64_t file_poll(OpenFile& f, int16_t events, int64_t wait_ms);

}  // namespace utx::kernel
