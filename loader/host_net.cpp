#include "loader/host_net.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "abi/host_events.h"
#include "abi/hypercall.h"

namespace utx::loader {
namespace {

int64_t neg_errno() {
    return -int64_t(errno);
}

constexpr uint32_t kReadyMask = POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDHUP;
constexpr size_t kMaxOptionBytes = 256;  // struct tcp_info and friends fit

uint64_t total_length(const iovec* v, uint32_t n) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; ++i) total += v[i].iov_len;
    return total;
}

// Copies up to `cap` bytes out of guest segments (once: the guest may change them).
size_t gather(const iovec* v, uint32_t n, void* dst, size_t cap) {
    size_t done = 0;
    for (uint32_t i = 0; i < n && done < cap; ++i) {
        const size_t chunk = std::min(v[i].iov_len, cap - done);
        std::memcpy(static_cast<uint8_t*>(dst) + done, v[i].iov_base, chunk);
        done += chunk;
    }
    return done;
}

// Copies `len` bytes into guest segments, as far as they reach.
void scatter(const iovec* v, uint32_t n, const void* src, size_t len) {
    size_t done = 0;
    for (uint32_t i = 0; i < n && done < len; ++i) {
        const size_t chunk = std::min(v[i].iov_len, len - done);
        std::memcpy(v[i].iov_base, static_cast<const uint8_t*>(src) + done, chunk);
        done += chunk;
    }
}

// The options a guest may read, and whether it may set them (the host checks the values).
// What is not here is refused with ENOPROTOOPT: nothing that binds to a device, joins a
// multicast group or changes what the host filters. SO_RCVTIMEO and SO_SNDTIMEO are the guest's own
// (its waits), never the host's.
struct OptionRule {
    int level, name;
    bool settable;
};
constexpr OptionRule kOptions[] = {
    {SOL_SOCKET, SO_REUSEADDR, true},
    {SOL_SOCKET, SO_REUSEPORT, true},
    {SOL_SOCKET, SO_KEEPALIVE, true},
    {SOL_SOCKET, SO_RCVBUF, true},
    {SOL_SOCKET, SO_SNDBUF, true},
    {SOL_SOCKET, SO_LINGER, true},
    {SOL_SOCKET, SO_BROADCAST, true},
    {SOL_SOCKET, SO_OOBINLINE, true},
    {SOL_SOCKET, SO_RCVLOWAT, true},
    {SOL_SOCKET, SO_DONTROUTE, true},
    {SOL_SOCKET, SO_PRIORITY, true},
    {SOL_SOCKET, SO_ERROR, false},
    {SOL_SOCKET, SO_TYPE, false},
    {SOL_SOCKET, SO_ACCEPTCONN, false},
    {SOL_SOCKET, SO_DOMAIN, false},
    {SOL_SOCKET, SO_PROTOCOL, false},
    {IPPROTO_TCP, TCP_NODELAY, true},
    {IPPROTO_TCP, TCP_MAXSEG, true},
    {IPPROTO_TCP, TCP_CORK, true},
    {IPPROTO_TCP, TCP_KEEPIDLE, true},
    {IPPROTO_TCP, TCP_KEEPINTVL, true},
    {IPPROTO_TCP, TCP_KEEPCNT, true},
    {IPPROTO_TCP, TCP_SYNCNT, true},
    {IPPROTO_TCP, TCP_LINGER2, true},
    {IPPROTO_TCP, TCP_DEFER_ACCEPT, true},
    {IPPROTO_TCP, TCP_QUICKACK, true},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, true},
    {IPPROTO_TCP, TCP_INFO, false},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT, true},
    {IPPROTO_IP, IP_TOS, true},
    {IPPROTO_IP, IP_TTL, true},
    {IPPROTO_IP, IP_MTU_DISCOVER, true},
    {IPPROTO_IPV6, IPV6_V6ONLY, true},
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS, true},
    {IPPROTO_IPV6, IPV6_TCLASS, true},
};

const OptionRule* find_option(uint64_t level, uint64_t name) {
    for (const auto& rule : kOptions)
        if (uint64_t(rule.level) == level && uint64_t(rule.name) == name) return &rule;
    return nullptr;
}

// MSG_* flags passed on to the host; MSG_DONTWAIT and MSG_NOSIGNAL are always added
// (nothing blocks, and SIGPIPE is the guest kernel's to raise).
constexpr uint64_t kSendFlags = MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM;
constexpr uint64_t kRecvFlags = MSG_OOB | MSG_PEEK | MSG_TRUNC;

}  // namespace

HostNet::HostNet(const GuestMemory& mem, NetPolicy policy)
    : mem_(mem), policy_(std::move(policy)), sockets_(abi::kMaxHostSockets) {}

HostNet::~HostNet() {
    stop();
}

bool HostNet::start(std::function<void()> wake, std::string& error) {
    wake_ = std::move(wake);
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    stop_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!epoll_ || !stop_fd_) return error = std::string("epoll: ") + std::strerror(errno), false;
    epoll_event ev{EPOLLIN, {.u64 = ~0ULL}};
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_fd_.get(), &ev) != 0)
        return error = std::string("epoll_ctl: ") + std::strerror(errno), false;
    // Signals for the guest go to the vCPU thread that injects them, never here.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this] { event_loop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return true;
}

bool HostNet::restart_after_fork(std::string& error) {
    // The parent's thread does not exist here, and whatever it held stays held: start over
    // without running their destructors.
    new (&thread_) std::thread();
    new (&mutex_) std::mutex();
    epoll_.reset();  // this process's descriptors of the parent's instance and eventfd
    stop_fd_.reset();
    stopping_.store(false);
    std::function<void()> wake = wake_;
    if (!start(std::move(wake), error)) return false;
    std::lock_guard lock(mutex_);
    for (uint32_t handle = 0; handle < sockets_.size(); ++handle) {
        Socket& s = sockets_[handle];
        if (!s.fd) continue;
        epoll_event ev{EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                       {.u64 = uint64_t(s.tag) << 32 | handle}};
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s.fd.get(), &ev) != 0)
            return error = std::string("epoll_ctl: ") + std::strerror(errno), false;
        publish(handle, true);
    }
    return true;
}

void HostNet::stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    uint64_t one = 1;
    (void)!write(stop_fd_.get(), &one, sizeof one);
    thread_.join();
}

HostNet::Socket* HostNet::lookup(uint64_t handle) {
    if (handle >= sockets_.size() || !sockets_[handle].fd) return nullptr;
    return &sockets_[handle];
}

int HostNet::free_handle() const {
    for (size_t i = 0; i < sockets_.size(); ++i)
        if (!sockets_[i].fd) return int(i);
    return -1;
}

void HostNet::publish(uint32_t handle, bool edge) {
    Socket& s = sockets_[handle];
    uint32_t ready = 0;
    if (s.fd) {
        pollfd p{s.fd.get(), short(POLLIN | POLLPRI | POLLOUT | POLLRDHUP), 0};
        if (poll(&p, 1, 0) > 0) ready = uint32_t(uint16_t(p.revents)) & kReadyMask;
    }
    if (edge) ++s.generation;
    if (auto* word = mem_.object<uint64_t>(abi::kHostSocketStateGpa + 8ULL * handle))
        __atomic_store_n(word, abi::host_socket_state(ready, s.generation), __ATOMIC_RELEASE);
}

int64_t HostNet::handle(const uint64_t (&a)[6], const iovec* iov, uint32_t count,
                        uint64_t (&out)[2]) {
    const uint32_t n1 = uint32_t(a[5] & 0xff);
    if (n1 > count) return -EINVAL;
    const iovec *b1 = iov, *b2 = iov + n1;
    const uint32_t n2 = count - n1;
    bool nmi = false;
    const int64_t r = [&] {
        std::lock_guard lock(mutex_);
        const int64_t result = serve(a, b1, n1, b2, n2, out);
        // What the request did to the guest's other sockets (a send to one of them over
        // loopback) is reported before the guest goes on, as Linux's loopback delivers
        // within the send.
        if (a[0] == abi::kNetSend || a[0] == abi::kNetConnect || a[0] == abi::kNetShutdown ||
            a[0] == abi::kNetClose)
            nmi = drain();
        return result;
    }();
    if (nmi) wake();
    return r;
}

int64_t HostNet::serve(const uint64_t (&a)[6], const iovec* b1, uint32_t n1, const iovec* b2,
                       uint32_t n2, uint64_t (&out)[2]) {
    if (a[0] == abi::kNetSocket) return op_socket(a[1], a[2], a[3]);
    if (a[0] == abi::kNetClose) return op_close(a[1]);
    Socket* s = lookup(a[1]);
    if (!s) return -EBADF;
    const uint32_t handle = uint32_t(a[1]);
    // The address of bind and connect, copied once.
    sockaddr_storage addr{};
    const uint64_t b1_len = total_length(b1, n1);
    const socklen_t addr_len = socklen_t(gather(b1, n1, &addr, sizeof addr));
    int64_t r;
    switch (a[0]) {
        case abi::kNetBind:
            if (b1_len > sizeof addr) return -EINVAL;
            r = op_bind(*s, addr, addr_len);
            break;
        case abi::kNetListen:
            r = op_listen(*s, a[2]);
            break;
        case abi::kNetAccept:
            r = op_accept(*s, b1, n1, out[0]);
            break;
        case abi::kNetConnect:
            if (b1_len > sizeof addr) return -EINVAL;
            r = op_connect(*s, addr, addr_len);
            break;
        case abi::kNetSend:
            r = op_send(*s, a[2], b1, n1, b2, n2);
            break;
        case abi::kNetRecv:
            r = op_recv(*s, a[2], b1, n1, b2, n2, out);
            break;
        case abi::kNetShutdown:
            r = ::shutdown(s->fd.get(), int(a[2])) == 0 ? 0 : neg_errno();
            break;
        case abi::kNetGetName:
            r = op_getname(*s, a[2] != 0, b1, n1);
            break;
        case abi::kNetSetOpt:
            r = op_setopt(*s, a[2], a[3], b1, n1);
            break;
        case abi::kNetGetOpt:
            r = op_getopt(*s, a[2], a[3], b1, n1);
            break;
        case abi::kNetIoctl:
            r = op_ioctl(*s, a[2]);
            break;
        default:
            return -EINVAL;
    }
    publish(handle, false);
    return r;
}

int64_t HostNet::op_socket(uint64_t domain, uint64_t type, uint64_t protocol) {
    if (domain != AF_INET && domain != AF_INET6) return -EAFNOSUPPORT;
    if (policy_.mode == NetMode::None) return -EACCES;
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return type == SOCK_RAW ? -EPERM : -ESOCKTNOSUPPORT;
    const uint64_t native = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    if (protocol != 0 && protocol != native) return -EPROTONOSUPPORT;
    const int h = free_handle();
    if (h < 0) return -EMFILE;
    UniqueFd fd(::socket(int(domain), int(type) | SOCK_NONBLOCK | SOCK_CLOEXEC, int(protocol)));
    if (!fd) return neg_errno();
    return install(uint32_t(h), std::move(fd), int(domain), int(type));
}

int64_t HostNet::install(uint32_t handle, UniqueFd fd, int domain, int type) {
    Socket& s = sockets_[handle];
    const uint32_t tag = next_tag_++;
    epoll_event ev{EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                   {.u64 = uint64_t(tag) << 32 | handle}};
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) return neg_errno();
    const uint32_t generation = s.generation;
    s = Socket{};
    s.fd = std::move(fd);
    s.domain = domain;
    s.type = type;
    s.tag = tag;
    s.generation = generation;
    publish(handle, true);
    return handle;
}

int64_t HostNet::op_close(uint64_t handle) {
    Socket* s = lookup(handle);
    if (!s) return -EBADF;
    // With SO_LINGER on, close waits on the host until the data is out (even for a
    // non-blocking socket): that wait is a thread's of its own, never the vCPU's.
    linger lg{};
    socklen_t len = sizeof lg;
    if (getsockopt(s->fd.get(), SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff &&
        lg.l_linger > 0) {
        epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, s->fd.get(), nullptr);
        std::thread([fd = s->fd.release()] { ::close(fd); }).detach();
    }
    const uint32_t generation = s->generation;
    *s = Socket{};  // closes the host socket, which leaves the epoll set with it
    s->generation = generation;
    publish(uint32_t(handle), true);
    return 0;
}

int64_t HostNet::op_bind(Socket& s, const sockaddr_storage& guest_addr, socklen_t len) {
    sockaddr_storage addr = guest_addr;
    const bool inet = addr.ss_family == AF_INET || addr.ss_family == AF_INET6;
    const uint16_t port = inet ? address_port(addr) : 0;
    const PortMapping* mapping = nullptr;
    if (port)
        for (const auto& m : policy_.published)
            if (m.guest_port == port && (!m.family || m.family == addr.ss_family)) mapping = &m;
    bool rewritten = false;
    if (mapping) {
        socklen_t mapped_len = len;
        if (mapping->family) {
            addr = mapping->host_address;
            mapped_len = mapping->family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        } else {
            addr = loopback_address(addr.ss_family, mapping->host_port, mapped_len);
        }
        len = std::max(len, mapped_len);
        rewritten = !address_is_local(guest_addr, len) || address_is_wildcard(guest_addr, len);
    } else if (policy_.mode == NetMode::Loopback && inet) {
        if (address_is_wildcard(addr, len)) {
            socklen_t loop_len;
            const bool mapped_v4 =
                addr.ss_family == AF_INET6 &&
                !IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr);
            if (mapped_v4) {
                // ::ffff:0.0.0.0 → ::ffff:127.0.0.1
                reinterpret_cast<sockaddr_in6&>(addr).sin6_addr.s6_addr[12] = 127;
                reinterpret_cast<sockaddr_in6&>(addr).sin6_addr.s6_addr[15] = 1;
            } else {
                const sockaddr_storage loop = loopback_address(addr.ss_family, port, loop_len);
                if (addr.ss_family == AF_INET)
                    reinterpret_cast<sockaddr_in&>(addr).sin_addr =
                        reinterpret_cast<const sockaddr_in&>(loop).sin_addr;
                else
                    reinterpret_cast<sockaddr_in6&>(addr).sin6_addr =
                        reinterpret_cast<const sockaddr_in6&>(loop).sin6_addr;
            }
            rewritten = true;
        } else if (!address_is_local(addr, len)) {
            // Short addresses are the host's to refuse (EINVAL); other ones are not here.
            const socklen_t need = addr.ss_family == AF_INET6 ? 24 : sizeof(sockaddr_in);
            if (len >= need) return -EADDRNOTAVAIL;
        }
    }
    if (::bind(s.fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) return neg_errno();
    s.bound = true;
    s.local_rewritten = rewritten;
    if (rewritten) {
        s.guest_local = guest_addr;
        s.guest_local_len = std::min<socklen_t>(len, sizeof guest_addr);
    }
    if (mapping) {
        s.guest_port = port;
        s.host_port = mapping->host_port;
    }
    return 0;
}

int64_t HostNet::bind_loopback_if_unbound(Socket& s) {
    if (policy_.mode != NetMode::Loopback || s.bound) return 0;
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    // A socket the host bound by itself already (a connect) keeps its address.
    if (getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        address_port(local) != 0) {
        s.bound = true;
        return 0;
    }
    const sockaddr_storage loop = loopback_address(s.domain, 0, len);
    if (::bind(s.fd.get(), reinterpret_cast<const sockaddr*>(&loop), len) != 0) return neg_errno();
    s.bound = true;
    s.local_rewritten = true;
    s.guest_local = sockaddr_storage{};
    s.guest_local.ss_family = sa_family_t(s.domain);
    s.guest_local_len = s.domain == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    return 0;
}

int64_t HostNet::op_listen(Socket& s, uint64_t backlog) {
    if (s.type == SOCK_STREAM)
        if (int64_t r = bind_loopback_if_unbound(s); r < 0) return r;
    return ::listen(s.fd.get(), int(std::min<uint64_t>(backlog, 65535))) == 0 ? 0 : neg_errno();
}

bool HostNet::published_in_use(uint16_t host_port) const {
    for (const Socket& s : sockets_)
        if (s.fd && s.host_port == host_port) return true;
    return false;
}

void HostNet::to_host_port(sockaddr_storage& addr, socklen_t len) const {
    const uint16_t port = address_port(addr);
    if (!port || policy_.published.empty() || !address_is_local(addr, len)) return;
    for (const auto& m : policy_.published)
        if (m.guest_port == port && (!m.family || m.family == addr.ss_family) &&
            published_in_use(m.host_port)) {
            set_address_port(addr, m.host_port);
            return;
        }
}

void HostNet::to_guest_port(sockaddr_storage& addr, socklen_t len) const {
    const uint16_t port = address_port(addr);
    if (!port || policy_.published.empty() || !address_is_local(addr, len)) return;
    for (const auto& m : policy_.published)
        if (m.host_port == port && (!m.family || m.family == addr.ss_family) &&
            published_in_use(m.host_port)) {
            set_address_port(addr, m.guest_port);
            return;
        }
}

int64_t HostNet::op_accept(Socket& s, const iovec* b1, uint32_t n1, uint64_t& addr_len) {
    const int h = free_handle();
    if (h < 0) return -EMFILE;  // the connection waits in the queue, as on Linux
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    UniqueFd fd(accept4(s.fd.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                        SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return neg_errno();
    if (int64_t r = install(uint32_t(h), std::move(fd), s.domain, s.type); r < 0) return r;
    Socket& c = sockets_[size_t(h)];
    c.bound = true;
    c.guest_port = s.guest_port;
    c.host_port = s.host_port;
    to_guest_port(peer, len);
    scatter(b1, n1, &peer, std::min<size_t>(len, sizeof peer));
    addr_len = len;
    return h;
}

int64_t HostNet::op_connect(Socket& s, const sockaddr_storage& guest_addr, socklen_t len) {
    // A connect to a published port the guest listens on reaches that listener.
    sockaddr_storage addr = guest_addr;
    to_host_port(addr, len);
    if (addr.ss_family != AF_UNSPEC && policy_.mode == NetMode::Loopback) {
        if (!address_is_local(addr, len)) {
            const socklen_t need = addr.ss_family == AF_INET6 ? 24 : sizeof(sockaddr_in);
            return len >= need ? -ENETUNREACH : -EINVAL;
        }
        if (s.type == SOCK_DGRAM)
            if (int64_t r = bind_loopback_if_unbound(s); r < 0) return r;
    }
    if (::connect(s.fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0)
        return neg_errno();
    return 0;
}

int64_t HostNet::op_send(Socket& s, uint64_t flags, const iovec* b1, uint32_t n1, const iovec* b2,
                         uint32_t n2) {
    sockaddr_storage dest{};
    const uint64_t dest_total = total_length(b1, n1);
    if (dest_total > sizeof dest) return -EINVAL;
    const socklen_t dest_len = socklen_t(gather(b1, n1, &dest, sizeof dest));
    if (dest_len) to_host_port(dest, dest_len);
    if (dest_len && policy_.mode == NetMode::Loopback) {
        if (!address_is_local(dest, dest_len)) {
            const socklen_t need = dest.ss_family == AF_INET6 ? 24 : sizeof(sockaddr_in);
            return dest_len >= need ? -ENETUNREACH : -EINVAL;
        }
    }
    if (policy_.mode == NetMode::Loopback && s.type == SOCK_DGRAM)
        if (int64_t r = bind_loopback_if_unbound(s); r < 0) return r;
    msghdr msg{};
    msg.msg_name = dest_len ? &dest : nullptr;
    msg.msg_namelen = dest_len;
    msg.msg_iov = const_cast<iovec*>(b2);
    msg.msg_iovlen = n2;
    const ssize_t n =
        sendmsg(s.fd.get(), &msg, int((flags & kSendFlags) | MSG_DONTWAIT | MSG_NOSIGNAL));
    return n < 0 ? neg_errno() : n;
}

int64_t HostNet::op_recv(Socket& s, uint64_t flags, const iovec* b1, uint32_t n1, const iovec* b2,
                         uint32_t n2, uint64_t (&out)[2]) {
    sockaddr_storage source{};
    msghdr msg{};
    msg.msg_name = n1 ? &source : nullptr;
    msg.msg_namelen = n1 ? sizeof source : 0;
    msg.msg_iov = const_cast<iovec*>(b2);
    msg.msg_iovlen = n2;
    const ssize_t n = recvmsg(s.fd.get(), &msg, int((flags & kRecvFlags) | MSG_DONTWAIT));
    if (n < 0) return neg_errno();
    if (n1) {
        to_guest_port(source, msg.msg_namelen);
        scatter(b1, n1, &source, std::min<size_t>(msg.msg_namelen, sizeof source));
        out[0] = msg.msg_namelen;
    }
    out[1] = uint64_t(uint32_t(msg.msg_flags));
    return n;
}

int64_t HostNet::op_getname(Socket& s, bool peer, const iovec* b1, uint32_t n1) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int r = peer ? getpeername(s.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len)
                       : getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    if (r != 0) return neg_errno();
    if (!peer) {
        const uint16_t port = address_port(addr);
        if (s.local_rewritten) {
            // Not connected: the address as the guest bound it.
            sockaddr_storage remote;
            socklen_t remote_len = sizeof remote;
            if (getpeername(s.fd.get(), reinterpret_cast<sockaddr*>(&remote), &remote_len) != 0) {
                addr = s.guest_local;
                len = s.guest_local_len;
                set_address_port(addr, port);
            }
        }
        if (s.host_port && address_port(addr) == s.host_port) set_address_port(addr, s.guest_port);
    } else {
        to_guest_port(addr, len);
    }
    scatter(b1, n1, &addr, std::min<size_t>(len, sizeof addr));
    return len;
}

int64_t HostNet::op_setopt(Socket& s, uint64_t level, uint64_t name, const iovec* b1, uint32_t n1) {
    const OptionRule* rule = find_option(level, name);
    if (!rule) return -ENOPROTOOPT;
    if (!rule->settable) return -ENOPROTOOPT;
    uint8_t value[kMaxOptionBytes];
    const uint64_t total = total_length(b1, n1);
    if (total > sizeof value) return -EINVAL;
    const size_t len = gather(b1, n1, value, sizeof value);
    return setsockopt(s.fd.get(), int(level), int(name), value, socklen_t(len)) == 0 ? 0
                                                                                     : neg_errno();
}

int64_t HostNet::op_getopt(Socket& s, uint64_t level, uint64_t name, const iovec* b1, uint32_t n1) {
    if (!find_option(level, name)) return -ENOPROTOOPT;
    uint8_t value[kMaxOptionBytes] = {};
    socklen_t len = socklen_t(std::min<uint64_t>(total_length(b1, n1), sizeof value));
    if (getsockopt(s.fd.get(), int(level), int(name), value, &len) != 0) return neg_errno();
    scatter(b1, n1, value, len);
    return len;
}

int64_t HostNet::op_ioctl(Socket& s, uint64_t request) {
    if (request != FIONREAD && request != SIOCOUTQ) return -ENOTTY;
    int value = 0;
    if (ioctl(s.fd.get(), request == FIONREAD ? FIONREAD : SIOCOUTQ, &value) != 0)
        return neg_errno();
    return value;
}

namespace {

// A thread waits for a socket and no vCPU polls: news needs an NMI to be seen.
bool nmi_wanted(const abi::HostEvents& ev) {
    return __atomic_load_n(&ev.want_wake, __ATOMIC_SEQ_CST) != 0 &&
           __atomic_load_n(&ev.polling, __ATOMIC_SEQ_CST) == 0;
}

}  // namespace

bool HostNet::process(const epoll_event* events, int n) {
    bool changed = false;
    for (int i = 0; i < n; ++i) {
        const uint64_t data = events[i].data.u64;
        if (data == ~0ULL) continue;  // stop()
        const uint32_t handle = uint32_t(data);
        Socket* s = lookup(handle);
        if (!s || s->tag != uint32_t(data >> 32)) continue;  // closed meanwhile
        publish(handle, true);
        changed = true;
    }
    auto* ev = mem_.object<abi::HostEvents>(abi::kHostEventsGpa);
    if (!changed || !ev) return false;
    __atomic_store_n(&ev->net_seq, ++seq_, __ATOMIC_SEQ_CST);
    batches_.fetch_add(1, std::memory_order_relaxed);
    // One NMI until the guest has taken the batch it announced; none while a vCPU polls
    // or nobody waits (each side stores, then loads what the other stores).
    const bool wanted = nmi_wanted(*ev);
    const uint64_t taken = __atomic_load_n(&ev->net_seq_taken, __ATOMIC_SEQ_CST);
    if (!wanted || taken < last_nmi_seq_) return false;
    last_nmi_seq_ = seq_;
    return true;
}

bool HostNet::drain() {
    epoll_event events[64];
    const int n = epoll_wait(epoll_.get(), events, 64, 0);
    return n > 0 && process(events, n);
}

void HostNet::wake() {
    if (!wake_) return;
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    wake_();
}

bool HostNet::untaken_batch() {
    auto* ev = mem_.object<abi::HostEvents>(abi::kHostEventsGpa);
    return ev && __atomic_load_n(&ev->net_seq_taken, __ATOMIC_SEQ_CST) < seq_;
}

bool HostNet::recheck() {
    auto* ev = mem_.object<abi::HostEvents>(abi::kHostEventsGpa);
    if (!ev || !untaken_batch() || !nmi_wanted(*ev)) return false;
    last_nmi_seq_ = seq_;
    rechecks_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void HostNet::event_loop() {
    // A batch the guest has not taken yet is looked at again after recheck_first_ms_, then
    // at doubling intervals up to recheck_max_ms_, until it is taken (see recheck()).
    epoll_event events[256];
    int timeout = -1;
    while (!stopping_.load()) {
        const int n = epoll_wait(epoll_.get(), events, 256, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        bool nmi, pending;
        {
            std::lock_guard lock(mutex_);
            nmi = n > 0 ? process(events, n) : recheck();
            pending = untaken_batch();
        }
        if (!pending)
            timeout = -1;
        else if (n == 0 || timeout < 0)
            timeout = timeout < 0 ? recheck_first_ms_ : std::min(timeout * 2, recheck_max_ms_);
        if (nmi) wake();
    }
}

}  // namespace utx::loader
