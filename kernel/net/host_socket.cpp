#include "kernel/net/host_socket.h"

#include "abi/host_events.h"
#include "abi/hypercall.h"
#include "kernel/ipc/waitfd.h"
#include "kernel/lib/new.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/platform/host_events.h"

namespace utx::kernel {

bool g_polled_host_socket;

namespace {

constexpr uint32_t kPollIn = 0x1, kPollPri = 0x2, kPollOut = 0x4, kPollErr = 0x8, kPollHup = 0x10,
                   kPollRdhup = 0x2000;
constexpr int kIpprotoTcp = 6, kIpprotoUdp = 17;
constexpr uint32_t kReadable = kPollIn | kPollErr | kPollHup | kPollRdhup;
constexpr uint32_t kWritable = kPollOut | kPollErr | kPollHup;

class HostSocket;
HostSocket* g_open[abi::kMaxHostSockets];  // the open ones, in no order
uint32_t g_open_count;

uint64_t load_state(uint32_t handle) {
    auto* words = static_cast<uint64_t*>(phys_to_virt(abi::kHostSocketStateGpa));
    return __atomic_load_n(&words[handle], __ATOMIC_ACQUIRE);
}

int64_t net_request(abi::NetOp op, uint64_t handle, uint64_t a2 = 0, uint64_t a3 = 0,
                    IoBuffer head = {0, 0}, const IoBuffer* data = nullptr, size_t count = 0,
                    uint64_t* out = nullptr) {
    uint64_t results[2] = {0, 0};
    const int64_t r =
        host_request_gather(abi::kHcNet, {op, handle, a2, a3, 0}, head, data, count, results);
    if (out) {
        out[0] = results[0];
        out[1] = results[1];
    }
    return r;
}

IoBuffer addr_buffer(SockAddr* a) {
    return a ? IoBuffer{reinterpret_cast<uint64_t>(a->bytes), sizeof a->bytes} : IoBuffer{0, 0};
}

// After a wait, the buffers may have been unmapped by another thread: look again before
// the VMM is handed their pages.
bool buffers_present(const IoBuffer* bufs, size_t count, bool write) {
    for (size_t i = 0; i < count; ++i) {
        const uint64_t addr = bufs[i].addr;
        if (addr >= abi::kDirectMapBase) continue;  // kernel memory (sendfile's bounce buffer)
        if (!(write ? user_writable(addr, bufs[i].len) : user_readable(addr, bufs[i].len)))
            return false;
    }
    return true;
}

class HostSocket final : public Socket {
  public:
    HostSocket(int d, int t, int p, uint32_t handle) : Socket(d, t, p), handle_(handle) {
        seen_generation_ = abi::host_socket_generation(load_state(handle));
        // A datagram socket never needs the host to say it would block.
        known_connected_ = t == kSockDgram;
        slot_ = g_open_count;
        g_open[g_open_count++] = this;
    }

    uint32_t handle() const { return handle_; }
    uint32_t ready() const { return abi::host_socket_ready(load_state(handle_)); }
    uint32_t generation() const { return abi::host_socket_generation(load_state(handle_)); }
    void mark_connected() { known_connected_ = true; }

    // The VMM's report changed the state: the waiters look again.
    bool take_report() {
        const uint32_t g = generation();
        if (g == seen_generation_) return false;
        seen_generation_ = g;
        wake_up(wait, 1 << 30);
        return true;
    }

    int64_t bind(const SockAddr& addr) override {
        return request(abi::kNetBind, 0, 0, const_cast<SockAddr*>(&addr), addr.len);
    }

    int64_t listen(int backlog) override {
        const int64_t r = request(abi::kNetListen, uint64_t(backlog < 0 ? 0 : backlog));
        if (r == 0) listening_ = true;
        return r;
    }

    int64_t accept(bool nonblock, Socket*& out, SockAddr* peer) override {
        const uint64_t deadline = socket_deadline(rcvtimeo_ns);
        for (;;) {
            uint64_t results[2] = {0, 0};
            int64_t r = -EAGAIN;
            // A listening socket without a connection waiting: the host would say EAGAIN.
            if (!listening_ || (ready() & kReadable))
                r = request(abi::kNetAccept, 0, 0, peer, peer ? sizeof peer->bytes : 0, nullptr, 0,
                            results);
            if (r >= 0) {
                void* memory = kzalloc(sizeof(HostSocket));
                if (!memory) {
                    net_request(abi::kNetClose, uint64_t(r));
                    return -ENOMEM;
                }
                auto* s = new (memory) HostSocket(domain, type, protocol, uint32_t(r));
                s->known_connected_ = true;
                out = s;
                if (peer)
                    peer->len =
                        uint32_t(results[0] < sizeof peer->bytes ? results[0] : sizeof peer->bytes);
                return 0;
            }
            if (r != -EAGAIN) return r;
            if (nonblock) return -EAGAIN;
            const int64_t w = wait_for(kReadable, deadline);
            if (w == -ETIMEDOUT) return -EAGAIN;
            if (w < 0) return socket_intr_errno(rcvtimeo_ns);
        }
    }

    int64_t connect(const SockAddr& addr, bool nonblock) override {
        const int64_t r = request(abi::kNetConnect, 0, 0, const_cast<SockAddr*>(&addr), addr.len);
        if (r == 0) {
            if (type == kSockStream) known_connected_ = true;
            return 0;
        }
        if (type != kSockStream || nonblock || (r != -EINPROGRESS && r != -EALREADY)) return r;
        // A blocking connect: wait for the outcome, at most SO_SNDTIMEO (then EINPROGRESS,
        // as Linux says).
        const int64_t w = wait_for(kWritable, socket_deadline(sndtimeo_ns));
        if (w == -ETIMEDOUT) return -EINPROGRESS;
        if (w < 0) return socket_intr_errno(sndtimeo_ns);
        int error = 0;
        uint32_t len = sizeof error;
        const int64_t g = getopt(kSolSocket, kSoError, reinterpret_cast<uint8_t*>(&error), len);
        if (g < 0) return g;
        if (error) return -error;
        known_connected_ = true;
        return 0;
    }

    int64_t send(Message& m, bool nonblock) override {
        const uint64_t deadline = socket_deadline(sndtimeo_ns);
        const uint64_t want = io_length(m.bufs, m.count);
        IoBuffer* bufs = m.bufs;
        size_t count = m.count;
        int64_t total = 0;
        for (;;) {
            int64_t r = -EAGAIN;
            if (!known_connected_ || (ready() & kWritable) || (m.flags & kMsgOob))
                r = request(abi::kNetSend, uint64_t(m.flags), 0, m.addr, m.addr ? m.addr->len : 0,
                            bufs, count);
            if (r >= 0) {
                if (type == kSockStream) known_connected_ = true;
                total += r;
                if (type != kSockStream || nonblock || uint64_t(total) >= want || r == 0)
                    return total;
                io_advance(bufs, count, uint64_t(r));
                continue;
            }
            if (r != -EAGAIN) return total ? total : r;
            if (nonblock) return total ? total : -EAGAIN;
            const int64_t w = wait_for(kWritable, deadline);
            if (w == -ETIMEDOUT) return total ? total : -EAGAIN;
            if (w < 0) return total ? total : socket_intr_errno(sndtimeo_ns);
            if (!buffers_present(bufs, count, false)) return total ? total : -EFAULT;
        }
    }

    int64_t recv(Message& m, bool nonblock) override {
        const uint64_t deadline = socket_deadline(rcvtimeo_ns);
        const uint32_t wanted = kReadable | (m.flags & kMsgOob ? kPollPri : 0);
        const bool waitall = (m.flags & kMsgWaitall) && type == kSockStream &&
                             !(m.flags & (kMsgPeek | kMsgOob)) && !nonblock;
        const uint64_t want = io_length(m.bufs, m.count);
        IoBuffer* bufs = m.bufs;
        size_t count = m.count;
        int64_t total = 0;
        for (;;) {
            int64_t r = -EAGAIN;
            uint64_t results[2] = {0, 0};
            if (!known_connected_ || (ready() & wanted) || (m.flags & kMsgOob))
                r = request(abi::kNetRecv, uint64_t(m.flags & ~kMsgWaitall), 0,
                            total ? nullptr : m.addr, total || !m.addr ? 0 : sizeof m.addr->bytes,
                            bufs, count, results);
            if (r >= 0) {
                if (type == kSockStream) known_connected_ = true;
                if (!total) {
                    m.out_flags = int(results[1]);
                    if (m.addr) m.addr->len = uint32_t(results[0] < 128 ? results[0] : 128);
                }
                total += r;
                if (!waitall || r == 0 || uint64_t(total) >= want) return total;
                io_advance(bufs, count, uint64_t(r));
                continue;
            }
            if (r != -EAGAIN) return total ? total : r;
            if (nonblock) return total ? total : -EAGAIN;
            const int64_t w = wait_for(wanted, deadline);
            if (w == -ETIMEDOUT) return total ? total : -EAGAIN;
            if (w < 0) return total ? total : socket_intr_errno(rcvtimeo_ns);
            if (!buffers_present(bufs, count, true)) return total ? total : -EFAULT;
        }
    }

    int64_t shutdown(int how) override {
        const int64_t r = request(abi::kNetShutdown, uint64_t(how));
        wake_up(wait, 1 << 30);  // blocked receivers see the end now
        return r;
    }

    int64_t name(bool peer, SockAddr& out) override {
        const int64_t r = request(abi::kNetGetName, peer ? 1 : 0, 0, &out, sizeof out.bytes);
        if (r >= 0) out.len = uint32_t(r < 128 ? r : 128);
        return r < 0 ? r : 0;
    }

    int64_t setopt(int level, int name, const uint8_t* value, uint32_t len) override {
        SockAddr buffer;  // any 128 bytes of kernel memory the VMM can read
        if (len > sizeof buffer.bytes) return -EINVAL;
        memcpy_bytes(buffer.bytes, value, len);
        return request(abi::kNetSetOpt, uint64_t(level), uint64_t(name), &buffer, len);
    }

    int64_t getopt(int level, int name, uint8_t* value, uint32_t& len) override {
        SockAddr buffer;
        const uint32_t want = len < sizeof buffer.bytes ? len : sizeof buffer.bytes;
        const int64_t r = request(abi::kNetGetOpt, uint64_t(level), uint64_t(name), &buffer, want);
        if (r < 0) return r;
        len = uint32_t(r) < want ? uint32_t(r) : want;
        memcpy_bytes(value, buffer.bytes, len);
        return 0;
    }

    int16_t poll() override {
        g_polled_host_socket = true;
        return int16_t(ready() & 0xffff);
    }

    uint32_t edge_seq() override { return generation(); }

    int64_t ioctl(uint64_t cmd, int& value) override {
        if (cmd != kFionread && cmd != kSiocoutq) return -ENOTTY;
        const int64_t r = request(abi::kNetIoctl, cmd);
        if (r < 0) return r;
        value = int(r);
        return 0;
    }

    void release() override {
        net_request(abi::kNetClose, handle_);
        g_open[slot_] = g_open[--g_open_count];
        g_open[slot_]->slot_ = slot_;
        this->~HostSocket();
        kfree(this);
    }

  private:
    static void memcpy_bytes(uint8_t* dst, const uint8_t* src, uint32_t len) {
        for (uint32_t i = 0; i < len; ++i) dst[i] = src[i];
    }

    // One request about this socket. What the VMM reports after it is the new state; when
    // the request made the socket readier (a connection completed at once, say), the other
    // waiters look again.
    int64_t request(abi::NetOp op, uint64_t a2 = 0, uint64_t a3 = 0, SockAddr* addr = nullptr,
                    uint64_t addr_len = 0, const IoBuffer* data = nullptr, size_t count = 0,
                    uint64_t* out = nullptr) {
        const uint32_t before = ready();
        IoBuffer head = addr_buffer(addr);
        head.len = addr ? addr_len : 0;
        const int64_t r = net_request(op, handle_, a2, a3, head, data, count, out);
        if (ready() & ~before) {
            wake_up(wait, 1 << 30);
            poll_notify();
        }
        return r;
    }

    // Until the state has one of `bits`, the deadline passes (-ETIMEDOUT) or a signal comes
    // (-EINTR). The VMM wakes the guest for a report only while someone waits like this.
    int64_t wait_for(uint32_t bits, uint64_t deadline) {
        for (;;) {
            if (ready() & bits) return 0;
            if (net_wait_begin()) {
                net_wait_end();
                continue;
            }
            const int64_t r = thread_wait(wait, deadline);
            net_wait_end();
            if (r < 0) return r;
        }
    }

    uint32_t handle_;
    uint32_t seen_generation_;
    uint32_t slot_;
    bool known_connected_;  // receives and sends may trust the state word to skip the host
    bool listening_ = false;
};

}  // namespace

int64_t host_socket_create(int domain, int type, int protocol, Socket*& out) {
    const int native = type == kSockStream ? kIpprotoTcp : type == kSockDgram ? kIpprotoUdp : 0;
    const int64_t handle =
        net_request(abi::kNetSocket, uint64_t(domain), uint64_t(type), uint64_t(protocol));
    if (handle < 0) return handle;
    if (uint64_t(handle) >= abi::kMaxHostSockets) return -EIO;
    void* memory = kzalloc(sizeof(HostSocket));
    if (!memory) {
        net_request(abi::kNetClose, uint64_t(handle));
        return -ENOMEM;
    }
    out = new (memory) HostSocket(domain, type, protocol ? protocol : native, uint32_t(handle));
    return 0;
}

void host_sockets_take_reports() {
    bool any = false;
    for (uint32_t i = 0; i < g_open_count; ++i) any |= g_open[i]->take_report();
    if (any) poll_notify();
}

}  // namespace utx::kernel
