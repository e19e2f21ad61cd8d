#include "kernel/fs/file.h"

#include "kernel/fs/hostfs.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/fs/lock.h"
#include "kernel/ipc/epoll.h"
#include "kernel/ipc/pipe.h"
#include "kernel/ipc/waitfd.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/net/socket.h"
#include "kernel/process.h"
#include "kernel/fs/vfs.h"
#include "kernel/random.h"
#include "kernel/sched/sched.h"
#include "kernel/platform/hypercall.h"
#include "kernel/signal.h"
#include "kernel/time.h"
#include "minifs/fs.h"

namespace utx::kernel {

namespace {

constexpr uint64_t kTcgets = 0x5401;
constexpr int16_t kPollIn = 1, kPollOut = 4, kPollErr = 8, kPollHup = 0x10, kPollRdnorm = 0x40,
                  kPollWrnorm = 0x100;

OpenFile* alloc_file(FileKind kind, uint32_t flags) {
    auto* f = static_cast<OpenFile*>(kzalloc(sizeof(OpenFile)));
    if (!f) return nullptr;
    f->refs = 1;
    f->kind = kind;
    f->flags = flags;
    f->host_fd = -1;
    return f;
}

// A write to a pipe without readers raises SIGPIPE in the writing thread, and fails with
// EPIPE if the thread lives on.
int64_t check_epipe(int64_t r) {
    if (r == -EPIPE)
        signal_send_thread(current_thread(), kSigPipe,
                           SignalInfo{kSiUser, current_process().pid, current_process().uid, 0, 0, 0, 0});
    return r;
}

// Writes all of the buffers to the host, in chunks one request can carry.
int64_t host_write_all(int host_fd, IoBuffer* bufs, size_t count) {
    int64_t total = 0;
    size_t i = 0;
    while (i < count) {
        int64_t n = host_io(abi::kHcWrite, host_fd, bufs + i, count - i);
        if (n < 0) return total ? total : check_epipe(n);
        if (n == 0) break;
        total += n;
        uint64_t left = uint64_t(n);
        while (i < count && left >= bufs[i].len) left -= bufs[i++].len;
        if (i < count) {
            bufs[i].addr += left;
            bufs[i].len -= left;
        }
    }
    return total;
}

int64_t pipe_read(OpenFile& f, IoBuffer* bufs, size_t count) {
    Pipe& p = *f.pipe;
    family_lock();
    while (p.count == 0) {
        int64_t r = 0;
        if (p.writers == 0) r = 0;
        else if (f.flags & kONonblock) r = -EAGAIN;
        else if (pipe_wait(p) == -EINTR) r = -ERESTARTSYS;
        else continue;
        family_unlock();
        return r;
    }
    int64_t total = 0;
    {
        UserAccessScope scope;
        for (size_t i = 0; i < count && p.count; ++i)
            total += int64_t(p.read(reinterpret_cast<uint8_t*>(bufs[i].addr), bufs[i].len));
    }
    pipe_changed(p);
    family_unlock();
    return total;
}

int64_t pipe_write(OpenFile& f, IoBuffer* bufs, size_t count) {
    Pipe& p = *f.pipe;
    uint64_t want = 0;
    for (size_t i = 0; i < count; ++i) want += bufs[i].len;
    family_lock();
    // Up to PIPE_BUF bytes go in whole or not at all.
    while (want <= Pipe::kAtomic && p.space() < want && p.readers) {
        int64_t r = f.flags & kONonblock ? -EAGAIN : pipe_wait(p) == -EINTR ? -ERESTARTSYS : 0;
        if (!r) continue;
        family_unlock();
        return r;
    }
    int64_t total = 0, r = 0;
    for (size_t i = 0; i < count && !r; ++i) {
        for (uint64_t done = 0; done < bufs[i].len;) {
            if (p.readers == 0) {
                r = -EPIPE;
                break;
            }
            size_t n;
            {
                UserAccessScope scope;
                n = p.write(reinterpret_cast<const uint8_t*>(bufs[i].addr + done),
                            bufs[i].len - done);
            }
            done += n;
            total += int64_t(n);
            if (n) pipe_changed(p);
            if (done < bufs[i].len) {
                if (f.flags & kONonblock) r = -EAGAIN;
                else if (pipe_wait(p) == -EINTR) r = -ERESTARTSYS;
                if (r) break;
            }
        }
    }
    family_unlock();
    if (total) return total;
    return r == -EPIPE ? check_epipe(r) : r;
}

constexpr uint64_t kMinifsDev = 0x2a;  // st_dev of the root file system
constexpr uint64_t kAnonInodeDev = 0xe;  // st_dev of anon_inodefs (eventfd, timerfd, epoll)

// The 8-byte values eventfd and timerfd files read and write, over user buffers (checked
// and present) that must hold at least 8 bytes.
bool buffers_hold_u64(const IoBuffer* bufs, size_t count) {
    uint64_t total = 0;
    for (size_t i = 0; i < count && total < 8; ++i) total += bufs[i].len;
    return total >= 8;
}

int64_t copy_u64(IoBuffer* bufs, size_t count, uint64_t& value, bool to_user) {
    auto* bytes = reinterpret_cast<uint8_t*>(&value);
    size_t done = 0;
    for (size_t i = 0; i < count && done < 8; ++i) {
        size_t n = bufs[i].len < 8 - done ? size_t(bufs[i].len) : 8 - done;
        bool ok = to_user ? copy_to_user(bufs[i].addr, bytes + done, n)
                          : copy_from_user(bytes + done, bufs[i].addr, n);
        if (!ok) return -EFAULT;
        done += n;
    }
    return 8;
}

int64_t counter_read(OpenFile& f, IoBuffer* bufs, size_t count) {
    if (!buffers_hold_u64(bufs, count)) return -EINVAL;
    uint64_t value;
    const bool nonblock = f.flags & kONonblock;
    int64_t r = f.kind == FileKind::EventFd ? eventfd_read(*f.eventfd, value, nonblock)
                                             : timerfd_read(*f.timer, value, nonblock);
    return r < 0 ? r : copy_u64(bufs, count, value, true);
}

// signalfd: one struct signalfd_siginfo (128 bytes) per pending signal of its mask that
// fits, taken from the reading thread's signals and the process's; waits for one.
int64_t signalfd_read(OpenFile& f, IoBuffer* bufs, size_t count) {
    struct SignalfdSiginfo {
        uint32_t signo;
        int32_t errno_, code;
        uint32_t pid, uid;
        int32_t fd;
        uint32_t tid, band, overrun, trapno;
        int32_t status, int_;
        uint64_t ptr, utime, stime, addr;
        uint16_t addr_lsb;
        uint8_t pad[46];
    };
    static_assert(sizeof(SignalfdSiginfo) == 128);
    Thread& t = current_thread();
    int64_t done = 0;
    for (size_t i = 0; i < count; ++i) {
        for (uint64_t off = 0; off + sizeof(SignalfdSiginfo) <= bufs[i].len;
             off += sizeof(SignalfdSiginfo)) {
            SignalInfo info;
            int sig = signal_dequeue(t, f.sigmask, info);
            while (!sig && done == 0) {
                if (f.flags & kONonblock) return -EAGAIN;
                t.signal_waiting = f.sigmask;  // its signals are blocked: they must wake us
                WaitQueue nobody;
                const int64_t r = thread_wait(nobody, 0);
                t.signal_waiting = 0;
                sig = signal_dequeue(t, f.sigmask, info);
                if (!sig && r == -EINTR) return -ERESTARTSYS;  // another signal, for a handler
            }
            if (!sig) return done;
            SignalfdSiginfo si{};
            si.signo = uint32_t(sig);
            si.code = info.code;
            si.pid = uint32_t(info.pid);
            si.uid = info.uid;
            si.addr = info.addr;
            if (info.code == kSiQueue) {
                si.int_ = int32_t(info.value);
                si.ptr = info.value;
            } else if (info.code == kSiTimer) {
                si.tid = uint32_t(info.timerid);
                si.overrun = uint32_t(info.overrun);
                si.int_ = int32_t(info.value);
                si.ptr = info.value;
            }
            if (!copy_to_user(bufs[i].addr + off, &si, sizeof si)) return done ? done : -EFAULT;
            done += sizeof si;
        }
    }
    return done ? done : -EINVAL;  // no room for one
}

int64_t eventfd_write_file(OpenFile& f, IoBuffer* bufs, size_t count) {
    if (!buffers_hold_u64(bufs, count)) return -EINVAL;
    uint64_t value;
    if (int64_t r = copy_u64(bufs, count, value, false); r < 0) return r;
    return eventfd_write(*f.eventfd, value, f.flags & kONonblock);
}

// Regular file data at `offset` into user buffers (present and checked).
int64_t inode_read_at(minifs::Inode* inode, IoBuffer* bufs, size_t count, uint64_t offset) {
    if (inode->is_dir()) return -EISDIR;
    int64_t total = 0;
    UserAccessScope scope;
    for (size_t i = 0; i < count; ++i) {
        int64_t n = vfs()->read(inode, offset + uint64_t(total),
                               reinterpret_cast<void*>(bufs[i].addr), bufs[i].len);
        if (n < 0) return total ? total : n;
        total += n;
        if (uint64_t(n) < bufs[i].len) break;
    }
    if (total) vfs()->touch_atime(inode);
    return total;
}

int64_t inode_write_at(minifs::Inode* inode, IoBuffer* bufs, size_t count, uint64_t offset) {
    if (inode->is_dir()) return -EISDIR;
    int64_t total = 0;
    UserAccessScope scope;
    for (size_t i = 0; i < count; ++i) {
        int64_t n = vfs()->write(inode, offset + uint64_t(total),
                                reinterpret_cast<const void*>(bufs[i].addr), bufs[i].len);
        if (n < 0) return total ? total : n;
        total += n;
        if (uint64_t(n) < bufs[i].len) break;
    }
    return total;
}

int64_t device_read(OpenFile& f, IoBuffer* bufs, size_t count) {
    if (f.device == kDevNull) return 0;
    int64_t total = 0;
    uint8_t chunk[256];
    for (size_t i = 0; i < count; ++i) {
        for (uint64_t done = 0; done < bufs[i].len;) {
            uint64_t n = bufs[i].len - done < sizeof chunk ? bufs[i].len - done : sizeof chunk;
            if (f.device == kDevRandom || f.device == kDevUrandom) random_bytes(chunk, n);
            else memset(chunk, 0, n);
            if (!copy_to_user(bufs[i].addr + done, chunk, n)) return total ? total : -EFAULT;
            done += n;
            total += int64_t(n);
        }
    }
    return total;
}

int64_t device_write(OpenFile& f, IoBuffer* bufs, size_t count) {
    if (f.device == kDevFull) return -ENOSPC;
    int64_t total = 0;
    for (size_t i = 0; i < count; ++i) total += int64_t(bufs[i].len);
    return total;  // null, zero and the random devices take anything
}

}  // namespace

namespace {

// /dev/tty: utx-run's terminal, the first of its stdin, stdout and stderr that is one;
// without a terminal there is no controlling terminal, and Linux says ENXIO.
OpenFile* open_controlling_tty(uint32_t flags, int64_t* out_error) {
    uint8_t termios[abi::kKernelTermiosSize];
    for (int fd = 0; fd < 3; ++fd) {
        if (host_request(abi::kHcIoctl, uint64_t(fd), kTcgets, 0, termios, sizeof termios) != 0)
            continue;
        OpenFile* f = alloc_file(FileKind::HostStream, flags & ~kOCloexec);
        if (f) f->host_fd = fd;
        else if (out_error) *out_error = -ENOMEM;
        return f;
    }
    if (out_error) *out_error = -ENXIO;
    return nullptr;
}

}  // namespace

OpenFile* file_open_inode(minifs::Inode* inode, uint32_t flags, int64_t* out_error) {
    const uint32_t type = inode->type();
    FileKind kind = FileKind::Inode;
    uint32_t minor = 0;
    if (type == minifs::kTypeChar) {
        const uint32_t major = uint32_t((inode->rdev >> 8) & 0xfff);
        minor = uint32_t((inode->rdev & 0xff) | ((inode->rdev >> 12) & 0xfff00));
        if (major == kTtyMajor && minor == 0) return open_controlling_tty(flags, out_error);
        if (major != kMemMajor || minor < kDevNull || minor > kDevUrandom) {
            if (out_error) *out_error = -ENXIO;  // no such device behind the node (yet)
            return nullptr;
        }
        kind = FileKind::Device;
    } else if (type != minifs::kTypeRegular && type != minifs::kTypeDir) {
        if (out_error) *out_error = -ENXIO;
        return nullptr;
    }
    OpenFile* f = alloc_file(kind, flags & ~kOCloexec);
    if (!f) {
        if (out_error) *out_error = -ENOMEM;
        return nullptr;
    }
    f->inode = inode;
    f->device = minor;
    vfs()->ref(inode);
    return f;
}

OpenFile* file_open_path(minifs::Inode* inode, uint32_t flags) {
    OpenFile* f = alloc_file(FileKind::Inode, flags & ~kOCloexec);
    if (!f) return nullptr;
    f->inode = inode;
    vfs()->ref(inode);
    return f;
}

OpenFile* file_open_host(int host_fd) {
    OpenFile* f = alloc_file(FileKind::HostStream, host_fd == 0 ? 0 : kOWrOnly);
    if (f) f->host_fd = host_fd;
    return f;
}

OpenFile* file_open_host_mount(uint32_t mount, int handle, uint32_t mode, uint32_t flags) {
    OpenFile* f = alloc_file(FileKind::HostFile, flags);
    if (!f) {
        host_request_buffers(abi::kHcFs, {abi::kFsClose, uint64_t(handle), 0, 0, 0}, {});
        return nullptr;
    }
    f->host_fd = handle;
    f->mount = mount;
    f->host_mode = mode;
    return f;
}

bool file_open_pipe(uint32_t flags, OpenFile*& read_end, OpenFile*& write_end) {
    Pipe* pipe = Pipe::create();
    if (!pipe) return false;
    read_end = alloc_file(FileKind::PipeRead, flags & kONonblock);
    write_end = alloc_file(FileKind::PipeWrite, kOWrOnly | (flags & kONonblock));
    if (!read_end || !write_end) {
        kfree(read_end);
        kfree(write_end);
        Pipe::release(pipe, false);
        Pipe::release(pipe, true);
        return false;
    }
    read_end->pipe = write_end->pipe = pipe;
    return true;
}

OpenFile* file_open_eventfd(uint64_t initial, bool semaphore, uint32_t flags) {
    OpenFile* f = alloc_file(FileKind::EventFd, kORdWr | (flags & kONonblock));
    if (!f) return nullptr;
    f->eventfd = eventfd_create(initial, semaphore);
    if (!f->eventfd) {
        kfree(f);
        return nullptr;
    }
    return f;
}

OpenFile* file_open_timerfd(uint32_t clock, uint32_t flags) {
    OpenFile* f = alloc_file(FileKind::TimerFd, flags & kONonblock);  // read-only, as Linux
    if (!f) return nullptr;
    f->timer = timerfd_create(clock);
    if (!f->timer) {
        kfree(f);
        return nullptr;
    }
    return f;
}

OpenFile* file_open_socket(Socket* socket, uint32_t flags) {
    OpenFile* f = alloc_file(FileKind::Socket, kORdWr | (flags & kONonblock));
    if (!f) {
        socket->release();
        return nullptr;
    }
    f->socket = socket;
    return f;
}

uint32_t file_edge_seq(OpenFile& f) {
    switch (f.kind) {
        case FileKind::Socket: return f.socket->edge_seq();
        case FileKind::PipeRead:
        case FileKind::PipeWrite: return f.pipe->edge_seq;
        case FileKind::EventFd: return f.eventfd->edge_seq;
        default: return 0;
    }
}

OpenFile* file_open_signalfd(uint64_t mask, uint32_t flags) {
    OpenFile* f = alloc_file(FileKind::SignalFd, flags & kONonblock);
    if (f) f->sigmask = mask;
    return f;
}

OpenFile* file_open_epoll() {
    OpenFile* f = alloc_file(FileKind::Epoll, kORdWr);
    if (!f) return nullptr;
    f->epoll = epoll_create();
    if (!f->epoll) {
        kfree(f);
        return nullptr;
    }
    return f;
}

void file_get(OpenFile* f) { ++f->refs; }

namespace {

uint32_t g_walk;  // the last walk's mark (one counter for every instance of the template)

// Calls fn once for each open description the descriptor table refers to.
template <typename Fn>
void for_each_description(Fn fn) {
    const uint32_t walk = ++g_walk;
    for (FdEntry& e : current_process().fds) {
        OpenFile* f = e.file;
        if (!f || f->walk_mark == walk) continue;
        f->walk_mark = walk;
        fn(*f);
    }
}

bool is_pipe(const OpenFile& f) {
    return f.kind == FileKind::PipeRead || f.kind == FileKind::PipeWrite;
}

// Drops this description's share of its offset cell. Under the family lock.
void offset_release(OpenFile& f) {
    SharedOffset* cell = f.offset.cell;
    if (!cell) return;
    f.offset.own = f.offset;
    f.offset.cell = nullptr;
    if (--cell->refs == 0) family_free(cell);
}

}  // namespace

void files_for_fork(bool undo) {
    VfsHold hold;
    for_each_description([undo](OpenFile& f) {
        if (f.inode) {
            if (!undo) vfs()->ref(f.inode);
            else vfs()->unref(f.inode);
        }
        if (f.kind == FileKind::Inode) {
            if (!undo && !f.offset.cell) {
                auto* cell = static_cast<SharedOffset*>(family_alloc(sizeof(SharedOffset)));
                if (cell) *cell = SharedOffset{f.offset.own, 1};
                f.offset.cell = cell;  // without one (region full) the copies part ways
            }
            if (f.offset.cell) f.offset.cell->refs += undo ? -1 : 1;
        }
        if (f.kind == FileKind::Socket) f.socket->for_fork(undo);
        if (!is_pipe(f)) return;
        f.pipe->count_end(f.kind == FileKind::PipeWrite, undo ? -1 : 1);
    });
}

void files_at_exit() {
    VfsHold hold;
    for_each_description([](OpenFile& f) {
        if (f.inode) vfs()->unref(f.inode);  // an unlinked file goes with its last holder
        offset_release(f);
        if (is_pipe(f)) Pipe::release(f.pipe, f.kind == FileKind::PipeWrite);
        if (f.kind == FileKind::Socket) f.socket->at_exit();
        // The VM ends next: nothing of this description is used again.
    });
}

void file_put(OpenFile* f) {
    if (--f->refs) return;
    lock_release_file(*f);
    epoll_forget(f);
    if (f->kind == FileKind::EventFd) eventfd_free(f->eventfd);
    if (f->kind == FileKind::TimerFd) timerfd_free(f->timer);
    if (f->kind == FileKind::Epoll) epoll_free(f->epoll);
    if (f->kind == FileKind::Socket) f->socket->release();
    if (f->kind == FileKind::PipeRead || f->kind == FileKind::PipeWrite)
        Pipe::release(f->pipe, f->kind == FileKind::PipeWrite);
    if (f->inode || f->offset.cell) {
        VfsHold hold;
        offset_release(*f);
        if (f->inode) vfs()->unref(f->inode);
    }
    if (f->kind == FileKind::HostFile) hostfs_close(*f);
    kfree(f->host_rel);
    kfree(f->path);
    kfree(f);
}

namespace {

// How often a thread blocked on utx-run's stdin asks again (as poll does for host stdio).
constexpr uint64_t kHostStreamRetryNs = 10'000'000;

// utx-run's stdin: the VMM reads only what is there, and a blocking read waits here, in the
// guest, so that the vCPU (and the kernel lock) stay free for the other threads.
int64_t host_stream_read(OpenFile& f, IoBuffer* bufs, size_t count) {
    for (;;) {
        const int64_t n = host_io_args(abi::kHcRead, {uint64_t(f.host_fd), 1, 0}, bufs, count);
        if (n != -EAGAIN || (f.flags & kONonblock)) return n;
        if (sleep_until(monotonic_ns() + kHostStreamRetryNs) == -EINTR) return -ERESTARTSYS;
    }
}

}  // namespace

int64_t file_read(OpenFile& f, IoBuffer* bufs, size_t count) {
    switch (f.kind) {
        case FileKind::HostStream: return host_stream_read(f, bufs, count);
        case FileKind::HostFile:
            return is_host_dir(f) ? -EISDIR : hostfs_io(abi::kFsRead, f, -1, bufs, count);
        case FileKind::PipeRead: return pipe_read(f, bufs, count);
        case FileKind::EventFd:
        case FileKind::TimerFd: return counter_read(f, bufs, count);
        case FileKind::SignalFd: return signalfd_read(f, bufs, count);
        case FileKind::Socket: {
            Message m{bufs, count, nullptr, 0, 0};
            return f.socket->recv(m, f.flags & kONonblock);
        }
        case FileKind::Device: return device_read(f, bufs, count);
        case FileKind::Inode: {
            VfsHold hold;  // the offset and the data move together, whatever other VMs do
            int64_t n = inode_read_at(f.inode, bufs, count, f.offset);
            if (n > 0) f.offset += uint64_t(n);
            return n;
        }
        default: return -EBADF;
    }
}

int64_t file_pread(OpenFile& f, IoBuffer* bufs, size_t count, uint64_t offset) {
    if (f.kind == FileKind::Device) return device_read(f, bufs, count);
    if (f.kind == FileKind::HostFile)
        return is_host_dir(f) ? -EISDIR : hostfs_io(abi::kFsRead, f, int64_t(offset), bufs, count);
    if (f.kind != FileKind::Inode) return -ESPIPE;
    return inode_read_at(f.inode, bufs, count, offset);
}

int64_t file_pwrite(OpenFile& f, IoBuffer* bufs, size_t count, uint64_t offset) {
    if (f.kind == FileKind::Device) return device_write(f, bufs, count);
    if (f.kind == FileKind::HostFile) return hostfs_io(abi::kFsWrite, f, int64_t(offset), bufs, count);
    if (f.kind != FileKind::Inode) return -ESPIPE;
    // Linux appends even for pwrite on an O_APPEND file.
    return inode_write_at(f.inode, bufs, count, f.flags & kOAppend ? f.inode->size : offset);
}

int64_t file_write(OpenFile& f, IoBuffer* bufs, size_t count) {
    switch (f.kind) {
        case FileKind::HostStream: return host_write_all(f.host_fd, bufs, count);
        case FileKind::HostFile: return hostfs_io(abi::kFsWrite, f, -1, bufs, count);
        case FileKind::PipeWrite: return pipe_write(f, bufs, count);
        case FileKind::EventFd: return eventfd_write_file(f, bufs, count);
        case FileKind::Socket: {
            Message m{bufs, count, nullptr, 0, 0};
            return socket_check_epipe(*f.socket, f.socket->send(m, f.flags & kONonblock), 0);
        }
        case FileKind::Device: return device_write(f, bufs, count);
        case FileKind::Inode: {
            VfsHold hold;
            if (f.flags & kOAppend) f.offset = f.inode->size;
            int64_t n = inode_write_at(f.inode, bufs, count, f.offset);
            if (n > 0) f.offset += uint64_t(n);
            return n;
        }
        default: return -EBADF;
    }
}

namespace {
uint8_t g_bounce[65536];  // file_splice's buffer: one call at a time in this kernel
}  // namespace

int64_t file_splice(minifs::Inode* in, uint64_t in_pos, OpenFile& out, const uint64_t* out_pos,
                    uint64_t len) {
    uint64_t total = 0;
    while (total < len) {
        uint64_t want = len - total < sizeof g_bounce ? len - total : sizeof g_bounce;
        // Splicing into a pipe moves what fits; only a full pipe makes the write wait.
        if (out.kind == FileKind::PipeWrite && out.pipe->space()) {
            if (want > out.pipe->space()) want = out.pipe->space();
        } else if (out.kind == FileKind::PipeWrite && total) {
            break;
        }
        int64_t n = vfs()->read(in, in_pos + total, g_bounce, want);
        if (n <= 0) break;
        IoBuffer b{reinterpret_cast<uint64_t>(g_bounce), uint64_t(n)};
        int64_t w = out_pos ? file_pwrite(out, &b, 1, *out_pos + total) : file_write(out, &b, 1);
        if (w < 0) return total ? int64_t(total) : w;
        total += uint64_t(w);
        if (w < n) break;
    }
    return int64_t(total);
}

void inode_stat(minifs::Inode* inode, LinuxStat& st) {
    minifs::Stat s;
    vfs()->stat(inode, &s);
    memset(&st, 0, sizeof st);
    st.dev = kMinifsDev;
    st.ino = s.ino;
    st.nlink = s.nlink;
    st.mode = s.mode;
    st.uid = s.uid;
    st.gid = s.gid;
    st.rdev = s.rdev;
    st.size = int64_t(s.size);
    st.blksize = int64_t(s.blksize);
    st.blocks = int64_t(s.blocks);
    st.atime = uint64_t(s.atime_ns / 1'000'000'000);
    st.atime_ns = uint64_t(s.atime_ns % 1'000'000'000);
    st.mtime = uint64_t(s.mtime_ns / 1'000'000'000);
    st.mtime_ns = uint64_t(s.mtime_ns % 1'000'000'000);
    st.ctime = uint64_t(s.ctime_ns / 1'000'000'000);
    st.ctime_ns = uint64_t(s.ctime_ns % 1'000'000'000);
}

int64_t file_stat(OpenFile& f, LinuxStat& st) {
    if (f.kind == FileKind::HostStream)
        return host_request(abi::kHcFstat, uint64_t(f.host_fd), 0, 0, &st, sizeof st);
    if (f.kind == FileKind::HostFile) return hostfs_fd_op(abi::kFsFstat, f, 0, 0, &st, sizeof st);
    if (f.inode) {
        inode_stat(f.inode, st);
        return 0;
    }
    memset(&st, 0, sizeof st);
    if (f.kind == FileKind::Socket) {  // sockfs
        st.dev = 0x8;
        st.ino = f.socket->inode;
        st.nlink = 1;
        st.mode = 0140777;
        st.uid = current_process().uid;
        st.gid = current_process().gid;
        st.blksize = 4096;
        return 0;
    }
    if (!f.pipe) {  // an anonymous inode: no file type, only the owner's read and write bits
        st.dev = kAnonInodeDev;
        st.ino = 1;
        st.nlink = 1;
        st.mode = 0600;
        st.blksize = 4096;
        return 0;
    }
    st.dev = 0xc;  // pipefs
    st.ino = f.pipe->inode;
    st.nlink = 1;
    st.mode = 010600;  // S_IFIFO | 0600
    st.uid = current_process().uid;
    st.gid = current_process().gid;
    st.blksize = 4096;
    return 0;
}

int64_t file_statfs(OpenFile& f, LinuxStatfs& out) {
    constexpr int64_t kPipefsMagic = 0x50495045, kDevptsMagic = 0x1cd1,
                      kAnonInodeMagic = 0x09041934;
    constexpr int64_t kStValid = 0x20, kStNosuid = 2, kStNoexec = 8, kStRelatime = 0x1000;
    if (f.inode) {
        vfs_statfs(out);
        return 0;
    }
    if (f.kind == FileKind::HostFile)
        return hostfs_fd_op(abi::kFsFstatfs, f, 0, 0, &out, sizeof out);
    if (f.kind == FileKind::Socket) {
        constexpr int64_t kSockfsMagic = 0x534f434b;
        memset(&out, 0, sizeof out);
        out.type = kSockfsMagic;
        out.bsize = out.frsize = int64_t(kPageSize);
        out.namelen = 255;
        out.flags = kStValid;
        return 0;
    }
    // Pipes live in pipefs; the host's streams show as terminals (/dev/pts, as /proc/self/fd
    // says) unless the host has a pipe there.
    bool pipe = f.pipe != nullptr;
    if (!pipe) {
        LinuxStat st;
        if (int64_t r = file_stat(f, st); r < 0) return r;
        pipe = (st.mode & minifs::kTypeMask) == minifs::kTypeFifo;
    }
    memset(&out, 0, sizeof out);
    const bool anon = !pipe && f.kind != FileKind::HostStream;
    out.type = pipe ? kPipefsMagic : anon ? kAnonInodeMagic : kDevptsMagic;
    out.bsize = out.frsize = int64_t(kPageSize);
    out.namelen = 255;
    out.flags = pipe || anon ? kStValid : kStValid | kStNosuid | kStNoexec | kStRelatime;
    return 0;
}

int64_t file_seek(OpenFile& f, int64_t offset, int whence) {
    enum { kSet = 0, kCur = 1, kEnd = 2, kData = 3, kHole = 4 };
    if (f.kind == FileKind::Device) return 0;
    if (f.kind == FileKind::HostFile) {
        if (whence < 0 || whence > 4) return -EINVAL;
        return hostfs_fd_op(abi::kFsSeek, f, uint64_t(offset), uint64_t(whence));
    }
    if (f.kind == FileKind::Inode) {
        if (f.inode->is_dir()) {
            // Directory offsets are minifs cookies: only rewinding and returning to a
            // position told before (SEEK_SET) make sense.
            if (whence != kSet || offset < 0) return -EINVAL;
            f.offset = uint64_t(offset);
            return offset;
        }
        const int64_t size = int64_t(f.inode->size);
        int64_t base;
        switch (whence) {
            case kSet: base = 0; break;
            case kCur: base = int64_t(f.offset); break;
            case kEnd: base = size; break;
            case kData:
            case kHole:
                if (offset < 0 || offset >= size) return -ENXIO;
                f.offset = uint64_t(whence == kData ? offset : size);
                return int64_t(f.offset);
            default: return -EINVAL;
        }
        if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) return -EINVAL;
        f.offset = uint64_t(base + offset);
        return int64_t(f.offset);
    }
    if (f.kind != FileKind::HostStream) return -ESPIPE;
    if (whence < 0 || whence > 4) return -EINVAL;
    return host_request(abi::kHcLseek, uint64_t(f.host_fd), uint64_t(offset), uint64_t(whence));
}

int64_t file_ioctl(OpenFile& f, uint64_t cmd, uint64_t arg) {
    constexpr uint64_t kTiocgwinsz = 0x5413, kFionbio = 0x5421,
                       kFionread = 0x541b;
    constexpr size_t kTermiosSize = abi::kKernelTermiosSize, kWinsizeSize = 8;
    if (cmd == kFionbio) {
        int on;
        if (!copy_from_user(&on, arg, sizeof on)) return -EFAULT;
        f.flags = on ? f.flags | kONonblock : f.flags & ~kONonblock;
        return 0;
    }
    if (cmd == kFionread && f.kind == FileKind::Inode && f.inode->is_regular()) {
        // Linux answers size - offset as an int, negative past the end.
        int n = int(f.inode->size - f.offset);
        return copy_to_user(arg, &n, sizeof n) ? 0 : -EFAULT;
    }
    if (f.kind == FileKind::Socket) {
        int n = 0;
        if (int64_t r = f.socket->ioctl(cmd, n); r < 0) return r;
        return copy_to_user(arg, &n, sizeof n) ? 0 : -EFAULT;
    }
    if (cmd == kFionread && (f.kind == FileKind::PipeRead || f.kind == FileKind::PipeWrite)) {
        int n = int(f.pipe->count);
        return copy_to_user(arg, &n, sizeof n) ? 0 : -EFAULT;
    }
    constexpr uint64_t kTiocgpgrp = 0x540f, kTiocspgrp = 0x5410;
    if (f.kind == FileKind::HostStream && (cmd == kTiocgpgrp || cmd == kTiocspgrp)) {
        // The terminal's foreground group is the process tree's, kept by the VMM (the
        // outside shell's group shows as 0, as from inside a pid namespace).
        uint8_t termios[kTermiosSize];
        if (host_request(abi::kHcIoctl, uint64_t(f.host_fd), kTcgets, 0, termios, sizeof termios))
            return -ENOTTY;
        int32_t pgrp = 0;
        if (cmd == kTiocspgrp) {
            if (!copy_from_user(&pgrp, arg, sizeof pgrp)) return -EFAULT;
            if (pgrp < 0) return -EINVAL;
            return host_process(abi::kProcForeground, 1, uint64_t(pgrp));
        }
        const int64_t r = host_process(abi::kProcForeground, 0, 0);
        if (r < 0) return r;
        pgrp = int32_t(r);
        return copy_to_user(arg, &pgrp, sizeof pgrp) ? 0 : -EFAULT;
    }
    if (f.kind != FileKind::HostStream ||
        (cmd != kTcgets && cmd != kTiocgwinsz && cmd != kFionread))
        return -ENOTTY;
    uint8_t buf[64];
    size_t size = cmd == kTcgets ? kTermiosSize : cmd == kFionread ? sizeof(int) : kWinsizeSize;
    int64_t r = host_request(abi::kHcIoctl, uint64_t(f.host_fd), cmd, 0, buf, size);
    if (r < 0) return r;
    return copy_to_user(arg, buf, size) ? 0 : -EFAULT;
}

int64_t file_getfl(OpenFile& f) {
    constexpr uint32_t kLocal = kOAppend | kONonblock;
    if (f.kind != FileKind::HostStream) return f.flags;
    int64_t host = host_request(abi::kHcFcntl, uint64_t(f.host_fd), 3 /* F_GETFL */, 0);
    if (host < 0) return host;
    return (host & ~int64_t(kLocal)) | (f.flags & kLocal);
}

int64_t file_poll(OpenFile& f, int16_t events, int64_t wait_ms) {
    if (f.kind == FileKind::Inode || f.kind == FileKind::Device || f.kind == FileKind::HostFile)
        return events & (kPollIn | kPollOut);
    if (f.kind == FileKind::HostStream)
        return host_request(abi::kHcPoll, uint64_t(f.host_fd), uint64_t(uint16_t(events)),
                            uint64_t(wait_ms));
    int16_t r = 0;
    if (f.kind == FileKind::EventFd) {
        r = eventfd_poll(*f.eventfd);
    } else if (f.kind == FileKind::TimerFd) {
        r = timerfd_poll(*f.timer);
    } else if (f.kind == FileKind::Epoll) {
        r = epoll_poll(*f.epoll);
    } else if (f.kind == FileKind::SignalFd) {
        r = (signal_pending(current_thread()) & f.sigmask) ? kPollIn : 0;
    } else if (f.kind == FileKind::Socket) {
        r = f.socket->poll();
    } else {
        // A poller that goes on to wait must hear of changes, in this VM or another.
        family_lock();
        if (f.kind == FileKind::PipeRead) {
            if (f.pipe->count) r |= kPollIn;
            if (!f.pipe->writers) r |= kPollHup;
        } else {
            if (f.pipe->space()) r |= kPollOut;
            if (!f.pipe->readers) r |= kPollErr;
        }
        // Even when ready now: an edge-triggered epoll waits for the next change.
        family_register(f.pipe->waiters);
        family_unlock();
    }
    // Linux's in-kernel files answer the *NORM bits along with POLLIN and POLLOUT.
    if (r & kPollIn) r |= kPollRdnorm;
    if (r & kPollOut) r |= kPollWrnorm;
    return r & (events | kPollErr | kPollHup);
}

}  // namespace utx::kernel
