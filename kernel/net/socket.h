// kernel/net/socket.h: sockets as the file layer and the net syscalls see them. Two kinds
// sit behind this interface: host sockets (AF_INET, AF_INET6), which the VMM opens on the
// host (kernel/net/host_socket.h), and AF_UNIX sockets, which live in the guest like pipes
// (kernel/net/unix_socket.h).
//
// Blocking calls wait in the guest on the socket's queue (thread_wait), never in the VMM;
// SO_RCVTIMEO and SO_SNDTIMEO bound those waits. Buffers are user ranges already checked
// and present (or kernel memory), as for file_read.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/errno.h"
#include "kernel/platform/hypercall.h"
#include "kernel/sched/sched.h"

namespace utx::kernel {

inline constexpr int kAfUnspec = 0, kAfUnix = 1, kAfInet = 2, kAfInet6 = 10;
inline constexpr int kSockStream = 1, kSockDgram = 2, kSockRaw = 3, kSockSeqpacket = 5;
inline constexpr int kMsgOob = 0x1, kMsgPeek = 0x2, kMsgTrunc = 0x20, kMsgDontwait = 0x40,
                     kMsgWaitall = 0x100, kMsgNosignal = 0x4000, kMsgWaitforone = 0x10000,
                     kMsgCmsgCloexec = 0x40000000;
inline constexpr int kSolSocket = 1;
inline constexpr int kSoType = 3, kSoError = 4, kSoSndbuf = 7, kSoRcvbuf = 8, kSoPeercred = 17,
                     kSoRcvtimeo = 20, kSoSndtimeo = 21, kSoAcceptconn = 30, kSoProtocol = 38,
                     kSoDomain = 39, kSoRcvtimeoNew = 66, kSoSndtimeoNew = 67;
inline constexpr int kShutRd = 0, kShutWr = 1, kShutRdwr = 2;
inline constexpr uint64_t kFionread = 0x541b, kSiocoutq = 0x5411;

// A socket address as the application passes it (struct sockaddr_storage).
struct SockAddr {
    uint8_t bytes[128];
    uint32_t len;
    uint16_t family() const { return len >= 2 ? uint16_t(bytes[0] | bytes[1] << 8) : 0; }
};

// One send or receive.
struct Message {
    IoBuffer* bufs;
    size_t count;
    SockAddr* addr;  // send: the destination, or null; recv: the source, when not null
    int flags;       // MSG_*
    int out_flags;   // recv: what comes back in msg_flags
};

struct Socket {
    int domain, type, protocol;
    uint64_t rcvtimeo_ns, sndtimeo_ns;  // 0: wait without limit
    uint64_t inode;                     // st_ino, /proc/self/fd's socket:[N]
    WaitQueue wait;                     // threads blocked in calls on it

    virtual int64_t bind(const SockAddr& addr);
    virtual int64_t listen(int backlog);
    // A new connection (its own socket) in `out`, the peer's address in `peer` if asked.
    virtual int64_t accept(bool nonblock, Socket*& out, SockAddr* peer);
    virtual int64_t connect(const SockAddr& addr, bool nonblock);
    virtual int64_t send(Message& msg, bool nonblock);
    virtual int64_t recv(Message& msg, bool nonblock);
    virtual int64_t shutdown(int how);
    virtual int64_t name(bool peer, SockAddr& out);
    // Options beyond the ones every socket answers (socket_setopt and socket_getopt).
    virtual int64_t setopt(int level, int name, const uint8_t* value, uint32_t len);
    virtual int64_t getopt(int level, int name, uint8_t* value, uint32_t& len);
    virtual int16_t poll();
    // Changes whenever new readiness arrives (data, room, a connection, a close), even if
    // the socket was ready before: what an edge-triggered epoll entry reports again on.
    virtual uint32_t edge_seq();
    virtual int64_t ioctl(uint64_t cmd, int& value);
    // The last file reference went: closes and frees it.
    virtual void release() = 0;
    // fork: the child's copy holds what the socket shares with other VMs once more (undo:
    // the fork failed); at the end of the process (any end), this VM lets go of it.
    virtual void for_fork(bool) {}
    virtual void at_exit() {}

  protected:
    Socket(int d, int t, int p);
    ~Socket() = default;
};

// A new AF_INET/AF_INET6 or AF_UNIX socket in `out` → 0 or -errno (socket(2)'s checks).
int64_t socket_create(int domain, int type, int protocol, Socket*& out);
// setsockopt and getsockopt: the options every socket has here (SO_TYPE, SO_DOMAIN,
// SO_PROTOCOL, SO_RCVTIMEO, SO_SNDTIMEO), then the socket's own.
int64_t socket_setopt(Socket& s, int level, int name, const uint8_t* value, uint32_t len);
int64_t socket_getopt(Socket& s, int level, int name, uint8_t* value, uint32_t& len);

// The deadline of a blocking call with timeout `timeo_ns` (0: none → 0).
uint64_t socket_deadline(uint64_t timeo_ns);
// What a wait ended by a signal returns: restart it, unless a timeout was set (Linux's
// sock_intr_errno).
inline int64_t socket_intr_errno(uint64_t timeo_ns) {
    return timeo_ns ? -EINTR : -ERESTARTSYS;
}
// A send's -EPIPE on a stream socket raises SIGPIPE in the calling thread, unless `flags`
// has MSG_NOSIGNAL. Returns `r`.
int64_t socket_check_epipe(Socket& s, int64_t r, int flags);
// Total bytes of the buffers.
uint64_t io_length(const IoBuffer* bufs, size_t count);
// Drops the first `n` bytes of the buffers (after a partial transfer).
void io_advance(IoBuffer*& bufs, size_t& count, uint64_t n);
// A new socket inode number.
uint64_t socket_next_inode();

}  // namespace utx::kernel
