#include "kernel/net/socket.h"

#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/net/host_socket.h"
#include "kernel/net/unix_socket.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/time.h"

extern "C" void __cxa_pure_virtual() {
    utx::kernel::panic("pure virtual call");
}

namespace utx::kernel {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000, kNsPerUsec = 1000;

struct Timeval {
    int64_t sec, usec;
};

int64_t int_option(uint8_t* value, uint32_t& len, int v) {
    if (len > sizeof v) len = sizeof v;
    memcpy(value, &v, len);
    return 0;
}

}  // namespace

Socket::Socket(int d, int t, int p) : domain(d), type(t), protocol(p) {
    rcvtimeo_ns = sndtimeo_ns = 0;
    inode = socket_next_inode();
    wait = WaitQueue{};
}

int64_t Socket::bind(const SockAddr&) {
    return -EOPNOTSUPP;
}
int64_t Socket::listen(int) {
    return -EOPNOTSUPP;
}
int64_t Socket::accept(bool, Socket*&, SockAddr*) {
    return -EOPNOTSUPP;
}
int64_t Socket::connect(const SockAddr&, bool) {
    return -EOPNOTSUPP;
}
int64_t Socket::send(Message&, bool) {
    return -EOPNOTSUPP;
}
int64_t Socket::recv(Message&, bool) {
    return -EOPNOTSUPP;
}
int64_t Socket::shutdown(int) {
    return -EOPNOTSUPP;
}
int64_t Socket::name(bool, SockAddr&) {
    return -EOPNOTSUPP;
}
int64_t Socket::setopt(int, int, const uint8_t*, uint32_t) {
    return -ENOPROTOOPT;
}
int64_t Socket::getopt(int, int, uint8_t*, uint32_t&) {
    return -ENOPROTOOPT;
}
int16_t Socket::poll() {
    return 0;
}
uint32_t Socket::edge_seq() {
    return 0;
}
int64_t Socket::ioctl(uint64_t, int&) {
    return -ENOTTY;
}

uint64_t socket_next_inode() {
    static uint64_t next = 20000;
    return next++;
}

int64_t socket_create(int domain, int type, int protocol, Socket*& out) {
    out = nullptr;
    if (domain == kAfUnix) return unix_socket_create(type, protocol, out);
    if (domain == kAfInet || domain == kAfInet6)
        return host_socket_create(domain, type, protocol, out);
    if (domain < 0 || domain >= 46) return -EAFNOSUPPORT;  // AF_MAX
    return -EAFNOSUPPORT;
}

int64_t socket_setopt(Socket& s, int level, int name, const uint8_t* value, uint32_t len) {
    if (level == kSolSocket) {
        switch (name) {
            case kSoRcvtimeo:
            case kSoSndtimeo:
            case kSoRcvtimeoNew:
            case kSoSndtimeoNew: {
                Timeval tv;
                if (len < sizeof tv) return -EINVAL;
                memcpy(&tv, value, sizeof tv);
                if (tv.usec < 0 || tv.usec >= 1'000'000) return -EDOM;
                uint64_t ns = 0;
                if (tv.sec > 0 || tv.usec > 0) {  // negative: no timeout, as Linux
                    const uint64_t sec = tv.sec > 0 ? uint64_t(tv.sec) : 0;
                    ns = sec > UINT64_MAX / 4 / kNsPerSec
                             ? 0
                             : sec * kNsPerSec + uint64_t(tv.usec) * kNsPerUsec;
                }
                (name == kSoRcvtimeo || name == kSoRcvtimeoNew ? s.rcvtimeo_ns : s.sndtimeo_ns) =
                    ns;
                return 0;
            }
            case kSoType:
            case kSoDomain:
            case kSoProtocol:
            case kSoAcceptconn:
            case kSoError:
            case kSoPeercred:
                return -ENOPROTOOPT;
            default:
                break;
        }
    }
    return s.setopt(level, name, value, len);
}

int64_t socket_getopt(Socket& s, int level, int name, uint8_t* value, uint32_t& len) {
    if (level == kSolSocket) {
        switch (name) {
            case kSoRcvtimeo:
            case kSoSndtimeo:
            case kSoRcvtimeoNew:
            case kSoSndtimeoNew: {
                const uint64_t ns =
                    name == kSoRcvtimeo || name == kSoRcvtimeoNew ? s.rcvtimeo_ns : s.sndtimeo_ns;
                const Timeval tv{int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec / kNsPerUsec)};
                if (len > sizeof tv) len = sizeof tv;
                memcpy(value, &tv, len);
                return 0;
            }
            case kSoType:
                return int_option(value, len, s.type);
            case kSoDomain:
                return int_option(value, len, s.domain);
            case kSoProtocol:
                return int_option(value, len, s.protocol);
            default:
                break;
        }
    }
    return s.getopt(level, name, value, len);
}

int64_t socket_check_epipe(Socket& s, int64_t r, int flags) {
    if (r == -EPIPE && s.type == kSockStream && !(flags & kMsgNosignal))
        signal_send_thread(
            current_thread(), kSigPipe,
            SignalInfo{kSiUser, current_process().pid, current_process().uid, 0, 0, 0, 0});
    return r;
}

uint64_t socket_deadline(uint64_t timeo_ns) {
    if (!timeo_ns) return 0;
    const uint64_t now = monotonic_ns();
    return timeo_ns > UINT64_MAX - now ? 0 : now + timeo_ns;
}

uint64_t io_length(const IoBuffer* bufs, size_t count) {
    uint64_t total = 0;
    for (size_t i = 0; i < count; ++i) total += bufs[i].len;
    return total;
}

void io_advance(IoBuffer*& bufs, size_t& count, uint64_t n) {
    while (count && n >= bufs->len) {
        n -= bufs->len;
        ++bufs;
        --count;
    }
    if (count && n) {
        bufs->addr += n;
        bufs->len -= n;
    }
}

}  // namespace utx::kernel
