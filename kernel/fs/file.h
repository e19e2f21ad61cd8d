// kernel/fs/file.h: open file descriptions, shared by the descriptors that dup() makes, and
// the operations every kind of file answers. Kinds so far: the host's stdio streams
// (through the VMM) and pipes inside the guest; minifs files join them.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/platform/hypercall.h"

namespace utx::kernel {

struct Pipe;

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

// Open flags kept by a description (fcntl F_GETFL / F_SETFL).
inline constexpr uint32_t kOAccMode = 3, kOWrOnly = 1, kORdWr = 2, kOAppend = 02000,
                          kONonblock = 04000, kOCloexec = 02000000;

enum class FileKind : uint8_t { HostStream, PipeRead, PipeWrite };

struct OpenFile {
    uint32_t refs;
    FileKind kind;
    uint32_t flags;   // access mode and status flags
    uint64_t offset;
    int host_fd;      // HostStream: the VMM's fd 0, 1 or 2
    Pipe* pipe;       // PipeRead, PipeWrite
};

OpenFile* file_open_host(int host_fd);
// Both ends of a new pipe; false when memory is short.
bool file_open_pipe(uint32_t flags, OpenFile*& read_end, OpenFile*& write_end);
void file_get(OpenFile* f);
void file_put(OpenFile* f);  // drops a reference; the last one closes

// The syscalls' view of a file. Buffers are user ranges already checked and present.
int64_t file_read(OpenFile& f, IoBuffer* bufs, size_t count);
int64_t file_write(OpenFile& f, IoBuffer* bufs, size_t count);
int64_t file_stat(OpenFile& f, LinuxStat& st);
int64_t file_seek(OpenFile& f, int64_t offset, int whence);
int64_t file_ioctl(OpenFile& f, uint64_t cmd, uint64_t arg);
int64_t file_getfl(OpenFile& f);
// poll(2) revents for `events`; may wait on the host up to `wait_ms` for a host stream.
int64_t file_poll(OpenFile& f, int16_t events, int64_t wait_ms);

}  // namespace utx::kernel
