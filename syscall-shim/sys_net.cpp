// syscall-shim/sys_net.cpp: the socket syscalls, over kernel/net's sockets (host sockets
// for AF_INET and AF_INET6, in-guest ones for AF_UNIX). This layer copies addresses, iovec
// arrays and options between user memory and the kernel, and applies Linux's argument
// checks; the sockets do the rest.
#include "kernel/fs/file.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/net/socket.h"
#include "kernel/net/unix_socket.h"
#include "kernel/time.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"
#include "syscall-shim/iov.h"

namespace utx::kernel {
namespace {

constexpr uint32_t kSockNonblock = 04000, kSockCloexec = 02000000, kSockTypeMask = 0xf;
constexpr int kSomaxconn = 4096;
constexpr uint32_t kMaxMmsg = 1024;  // UIO_MAXIOV: sendmmsg's and recvmmsg's vlen cap

struct MsgHdr {
    uint64_t name;
    uint32_t namelen, pad0;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control;
    uint64_t controllen;
    int32_t flags, pad1;
};
static_assert(sizeof(MsgHdr) == 56);

struct MMsgHdr {
    MsgHdr hdr;
    uint32_t len, pad;
};
static_assert(sizeof(MMsgHdr) == 64);

struct Timespec {
    int64_t sec, nsec;
};

// The socket behind `fd`: -EBADF or -ENOTSOCK otherwise.
int64_t socket_of(uint64_t fd, OpenFile*& file) {
    file = fd_lookup(fd);
    if (!file) return -EBADF;
    return file->kind == FileKind::Socket ? 0 : -ENOTSOCK;
}

bool nonblocking(const OpenFile& f, int flags) {
    return (f.flags & kONonblock) || (flags & kMsgDontwait);
}

// A new descriptor for `s` (consumed) with SOCK_NONBLOCK and SOCK_CLOEXEC from `flags`.
int64_t install_socket(Socket* s, uint32_t flags) {
    const int fd = fd_allocate(0);
    if (fd < 0) {
        s->release();
        return fd;
    }
    OpenFile* f = file_open_socket(s, flags & kSockNonblock ? kONonblock : 0);
    if (!f) return -ENFILE;
    fd_install(fd, f, flags & kSockCloexec);
    return fd;
}

// move_addr_to_kernel: a sockaddr of `len` bytes from user memory.
int64_t read_addr(uint64_t addr, uint64_t len, SockAddr& out) {
    if (int32_t(len) < 0 || uint32_t(len) > sizeof out.bytes) return -EINVAL;
    memset(out.bytes, 0, sizeof out.bytes);
    out.len = uint32_t(len);
    if (len && !copy_from_user(out.bytes, addr, len)) return -EFAULT;
    return 0;
}

// move_addr_to_user: as much of `a` as *len_addr allows, and its whole length there.
int64_t write_addr(const SockAddr& a, uint64_t addr, uint64_t len_addr) {
    if (!addr) return 0;
    int32_t len;
    if (!copy_from_user(&len, len_addr, sizeof len)) return -EFAULT;
    if (len < 0) return -EINVAL;
    const uint32_t n = uint32_t(len) < a.len ? uint32_t(len) : a.len;
    if (n && !copy_to_user(addr, a.bytes, n)) return -EFAULT;
    const int32_t full = int32_t(a.len);
    return copy_to_user(len_addr, &full, sizeof full) ? 0 : -EFAULT;
}

// sendmsg for one struct msghdr (already copied in) → bytes or -errno.
int64_t send_msg(OpenFile& f, const MsgHdr& hdr, int flags) {
    SockAddr addr;
    if (hdr.name && hdr.namelen) {
        if (int64_t r = read_addr(hdr.name, hdr.namelen, addr); r < 0) return r;
    }
    IovArray iov;
    const int64_t n = iov.load(hdr.iov, hdr.iovlen, false, true);
    if (n < 0) return n;
    // Ancillary data (SCM_RIGHTS, SCM_CREDENTIALS, IP_PKTINFO) is not passed on yet.
    Message m{iov.data(), size_t(n), hdr.name && hdr.namelen ? &addr : nullptr, flags, 0};
    Socket& s = *f.socket;
    return socket_check_epipe(s, s.send(m, nonblocking(f, flags)), flags);
}

// recvmsg for one struct msghdr at `hdr_addr` (copied in as `hdr`): writes back msg_namelen,
// msg_controllen (0: no ancillary data) and msg_flags.
int64_t recv_msg(OpenFile& f, MsgHdr& hdr, uint64_t hdr_addr, int flags) {
    IovArray iov;
    const int64_t n = iov.load(hdr.iov, hdr.iovlen, true, true);
    if (n < 0) return n;
    SockAddr addr;
    addr.len = 0;
    Message m{iov.data(), size_t(n), hdr.name ? &addr : nullptr, flags, 0};
    const int64_t r = f.socket->recv(m, nonblocking(f, flags));
    if (r < 0) return r;
    if (hdr.name) {
        const uint32_t len = hdr.namelen < addr.len ? hdr.namelen : addr.len;
        if (len && !copy_to_user(hdr.name, addr.bytes, len)) return -EFAULT;
        hdr.namelen = addr.len;
    } else {
        hdr.namelen = 0;
    }
    hdr.controllen = 0;
    hdr.flags = m.out_flags;
    if (!copy_to_user(hdr_addr + offsetof(MsgHdr, namelen), &hdr.namelen, sizeof hdr.namelen) ||
        !copy_to_user(hdr_addr + offsetof(MsgHdr, controllen), &hdr.controllen,
                      sizeof hdr.controllen) ||
        !copy_to_user(hdr_addr + offsetof(MsgHdr, flags), &hdr.flags, sizeof hdr.flags))
        return -EFAULT;
    return r;
}

}  // namespace

int64_t sys_socket(SyscallArgs& a) {
    const int domain = int(a.arg[0]);
    const uint32_t type = uint32_t(a.arg[1]);
    const uint32_t flags = type & ~kSockTypeMask;
    if (flags & ~(kSockNonblock | kSockCloexec)) return -EINVAL;
    Socket* s = nullptr;
    if (int64_t r = socket_create(domain, int(type & kSockTypeMask), int(a.arg[2]), s); r < 0)
        return r;
    return install_socket(s, flags);
}

int64_t sys_socketpair(SyscallArgs& a) {
    const int domain = int(a.arg[0]);
    const uint32_t type = uint32_t(a.arg[1]);
    const uint32_t flags = type & ~kSockTypeMask;
    if (flags & ~(kSockNonblock | kSockCloexec)) return -EINVAL;
    if (domain != kAfUnix) {
        return domain == kAfInet || domain == kAfInet6 ? -EOPNOTSUPP : -EAFNOSUPPORT;
    }
    if (!user_writable(a.arg[3], 2 * sizeof(int32_t))) return -EFAULT;
    Socket *first = nullptr, *second = nullptr;
    if (int64_t r = unix_socket_pair(int(type & kSockTypeMask), int(a.arg[2]), first, second);
        r < 0)
        return r;
    const int64_t fd0 = install_socket(first, flags);
    if (fd0 < 0) {
        second->release();
        return fd0;
    }
    const int64_t fd1 = install_socket(second, flags);
    if (fd1 < 0) {
        fd_close(int(fd0));
        return fd1;
    }
    const int32_t pair[2] = {int32_t(fd0), int32_t(fd1)};
    copy_to_user(a.arg[3], pair, sizeof pair);
    return 0;
}

int64_t sys_bind(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    SockAddr addr;
    if (int64_t r = read_addr(a.arg[1], a.arg[2], addr); r < 0) return r;
    return f->socket->bind(addr);
}

int64_t sys_connect(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    SockAddr addr;
    if (int64_t r = read_addr(a.arg[1], a.arg[2], addr); r < 0) return r;
    return f->socket->connect(addr, f->flags & kONonblock);
}

int64_t sys_listen(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    int backlog = int(a.arg[1]);
    if (uint32_t(backlog) > uint32_t(kSomaxconn)) backlog = kSomaxconn;
    return f->socket->listen(backlog);
}

int64_t sys_accept4(SyscallArgs& a) {
    const uint32_t flags = uint32_t(a.arg[3]);
    if (flags & ~(kSockNonblock | kSockCloexec)) return -EINVAL;
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    file_get(f);  // another thread may close the descriptor while this one waits
    SockAddr peer;
    peer.len = 0;
    Socket* s = nullptr;
    int64_t r = f->socket->accept(f->flags & kONonblock, s, a.arg[1] ? &peer : nullptr);
    file_put(f);
    if (r < 0) return r;
    r = install_socket(s, flags);
    if (r < 0) return r;
    if (int64_t w = write_addr(peer, a.arg[1], a.arg[2]); w < 0) {
        fd_close(int(r));
        return w;
    }
    return r;
}

int64_t sys_accept(SyscallArgs& a) {
    SyscallArgs with_flags{{a.arg[0], a.arg[1], a.arg[2], 0}, a.frame};
    return sys_accept4(with_flags);
}

int64_t sys_sendto(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    const int flags = int(a.arg[3]);
    if (!user_readable(a.arg[1], len)) return -EFAULT;
    SockAddr addr;
    const bool with_addr = a.arg[4] != 0;
    if (with_addr) {
        if (int64_t r = read_addr(a.arg[4], a.arg[5], addr); r < 0) return r;
    }
    IoBuffer b{a.arg[1], len};
    Message m{&b, 1, with_addr && addr.len ? &addr : nullptr, flags, 0};
    file_get(f);
    const int64_t r =
        socket_check_epipe(*f->socket, f->socket->send(m, nonblocking(*f, flags)), flags);
    file_put(f);
    return r;
}

int64_t sys_recvfrom(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    const int flags = int(a.arg[3]);
    if (!user_writable(a.arg[1], len)) return -EFAULT;
    SockAddr addr;
    addr.len = 0;
    IoBuffer b{a.arg[1], len};
    Message m{&b, 1, a.arg[4] ? &addr : nullptr, flags, 0};
    file_get(f);
    const int64_t r = f->socket->recv(m, nonblocking(*f, flags));
    file_put(f);
    if (r < 0) return r;
    if (int64_t w = write_addr(addr, a.arg[4], a.arg[5]); w < 0) return w;
    return r;
}

int64_t sys_sendmsg(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    MsgHdr hdr;
    if (!UserPtr<MsgHdr>(a.arg[1]).read(hdr)) return -EFAULT;
    file_get(f);
    const int64_t r = send_msg(*f, hdr, int(a.arg[2]));
    file_put(f);
    return r;
}

int64_t sys_recvmsg(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    MsgHdr hdr;
    if (!UserPtr<MsgHdr>(a.arg[1]).read(hdr)) return -EFAULT;
    file_get(f);
    const int64_t r = recv_msg(*f, hdr, a.arg[1], int(a.arg[2]));
    file_put(f);
    return r;
}

int64_t sys_sendmmsg(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    const uint32_t vlen = uint32_t(a.arg[2]) < kMaxMmsg ? uint32_t(a.arg[2]) : kMaxMmsg;
    const int flags = int(a.arg[3]);
    file_get(f);
    int64_t sent = 0, error = 0;
    for (uint32_t i = 0; i < vlen; ++i) {
        const uint64_t at = a.arg[1] + i * sizeof(MMsgHdr);
        MsgHdr hdr;
        if (!UserPtr<MsgHdr>(at).read(hdr)) {
            error = -EFAULT;
            break;
        }
        const int64_t r = send_msg(*f, hdr, flags);
        if (r < 0) {
            error = r;
            break;
        }
        const uint32_t len = uint32_t(r);
        if (!copy_to_user(at + offsetof(MMsgHdr, len), &len, sizeof len)) {
            error = -EFAULT;
            break;
        }
        ++sent;
    }
    file_put(f);
    return sent ? sent : error;
}

int64_t sys_recvmmsg(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    const uint32_t vlen = uint32_t(a.arg[2]) < kMaxMmsg ? uint32_t(a.arg[2]) : kMaxMmsg;
    int flags = int(a.arg[3]);
    uint64_t deadline = 0;
    if (a.arg[4]) {
        Timespec ts;
        if (!UserPtr<Timespec>(a.arg[4]).read(ts)) return -EFAULT;
        if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1'000'000'000) return -EINVAL;
        deadline = monotonic_ns() + uint64_t(ts.sec) * 1'000'000'000ULL + uint64_t(ts.nsec);
    }
    file_get(f);
    int64_t got = 0, error = 0;
    for (uint32_t i = 0; i < vlen; ++i) {
        const uint64_t at = a.arg[1] + i * sizeof(MMsgHdr);
        MsgHdr hdr;
        if (!UserPtr<MsgHdr>(at).read(hdr)) {
            error = -EFAULT;
            break;
        }
        const int64_t r = recv_msg(*f, hdr, at, flags & ~kMsgWaitforone);
        if (r < 0) {
            error = r;
            break;
        }
        const uint32_t len = uint32_t(r);
        if (!copy_to_user(at + offsetof(MMsgHdr, len), &len, sizeof len)) {
            error = -EFAULT;
            break;
        }
        ++got;
        if (flags & kMsgWaitforone) flags |= kMsgDontwait;
        // Linux looks at the timeout only between datagrams.
        if (deadline && monotonic_ns() >= deadline) break;
    }
    file_put(f);
    if (got) return got;
    return error;
}

int64_t sys_shutdown(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    const int how = int(a.arg[1]);
    if (how < kShutRd || how > kShutRdwr) return -EINVAL;
    return f->socket->shutdown(how);
}

namespace {

int64_t get_name(SyscallArgs& a, bool peer) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    int32_t len;
    if (!UserPtr<int32_t>(a.arg[2]).read(len)) return -EFAULT;
    if (len < 0) return -EINVAL;
    SockAddr addr;
    addr.len = 0;
    if (int64_t r = f->socket->name(peer, addr); r < 0) return r;
    return write_addr(addr, a.arg[1], a.arg[2]);
}

}  // namespace

int64_t sys_getsockname(SyscallArgs& a) {
    return get_name(a, false);
}
int64_t sys_getpeername(SyscallArgs& a) {
    return get_name(a, true);
}

int64_t sys_setsockopt(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    const int32_t len = int32_t(a.arg[4]);
    if (len < 0) return -EINVAL;
    uint8_t value[128];
    if (uint32_t(len) > sizeof value) return -EINVAL;
    if (len && !copy_from_user(value, a.arg[3], uint32_t(len))) return -EFAULT;
    return socket_setopt(*f->socket, int(a.arg[1]), int(a.arg[2]), value, uint32_t(len));
}

int64_t sys_getsockopt(SyscallArgs& a) {
    OpenFile* f;
    if (int64_t r = socket_of(a.arg[0], f); r < 0) return r;
    int32_t len;
    if (!UserPtr<int32_t>(a.arg[4]).read(len)) return -EFAULT;
    if (len < 0) return -EINVAL;
    uint8_t value[128] = {};
    uint32_t n = uint32_t(len) < sizeof value ? uint32_t(len) : sizeof value;
    if (int64_t r = socket_getopt(*f->socket, int(a.arg[1]), int(a.arg[2]), value, n); r < 0)
        return r;
    if (n && !copy_to_user(a.arg[3], value, n)) return -EFAULT;
    const int32_t out = int32_t(n);
    return UserPtr<int32_t>(a.arg[4]).write(out) ? 0 : -EFAULT;
}

}  // namespace utx::kernel
