// loader/tests/host_net_test.cpp: the VMM's host sockets as a hostile guest sees them:
// handles, buffers, addresses and options it makes up are refused without touching any host
// fd that is not one of its sockets; the --net policy holds; readiness reaches guest memory.
#include "loader/host_net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "abi/host_events.h"
#include "abi/hypercall.h"
#include "loader/tests/guarded_buffer.h"

namespace utx::loader {
namespace {

constexpr uint64_t kRam = 0x40000;

sockaddr_in v4(const char* text, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, text, &a.sin_addr);
    return a;
}

struct Net {
    testing::GuardedBuffer buf{kRam};
    GuestMemory mem = GuestMemory::wrap(buf.span());
    HostNet net;
    std::atomic<int> wakes{0};

    // recheck_ms: how soon the event thread looks again at a batch the guest has not taken
    // (long by default, so that only the handshake itself decides on NMIs).
    explicit Net(NetPolicy policy = {}, int recheck_ms = 60'000) : net(mem, std::move(policy)) {
        std::memset(buf.data(), 0, buf.size());
        net.set_recheck_ms(recheck_ms, recheck_ms);
        std::string error;
        EXPECT_TRUE(net.start([this] { wakes.fetch_add(1); }, error)) << error;
    }

    // A request; `b1` and `b2` are host buffers of the test standing in for guest segments.
    int64_t call(uint64_t op, uint64_t handle = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                 std::initializer_list<iovec> b1 = {}, std::initializer_list<iovec> b2 = {},
                 uint64_t* out0 = nullptr) {
        iovec iov[abi::kMaxIoSegments];
        uint32_t n = 0;
        for (const iovec& v : b1) iov[n++] = v;
        const uint32_t n1 = n;
        for (const iovec& v : b2) iov[n++] = v;
        const uint64_t a[6] = {op, handle, a2, a3, 0, n1};
        uint64_t out[2] = {0, 0};
        const int64_t r = net.handle(a, iov, n, out);
        if (out0) *out0 = out[0];
        return r;
    }
    int64_t socket(int domain = AF_INET, int type = SOCK_STREAM) {
        return call(abi::kNetSocket, uint64_t(domain), uint64_t(type), 0);
    }
    template <typename T>
    int64_t with_addr(uint64_t op, int64_t handle, const T& addr, socklen_t len = sizeof(T)) {
        return call(op, uint64_t(handle), 0, 0, {{const_cast<T*>(&addr), len}});
    }
    uint64_t state(int64_t handle) {
        uint64_t v;
        std::memcpy(&v, buf.data() + abi::kHostSocketStateGpa + 8 * uint64_t(handle), 8);
        return v;
    }
    abi::HostEvents& events() {
        return *reinterpret_cast<abi::HostEvents*>(buf.data() + abi::kHostEventsGpa);
    }
    // The port the guest sees.
    uint16_t port(int64_t handle) {
        sockaddr_storage ss{};
        const int64_t len = call(abi::kNetGetName, uint64_t(handle), 0, 0, {{&ss, sizeof ss}});
        EXPECT_GT(len, 0);
        return ntohs(reinterpret_cast<sockaddr_in&>(ss).sin_port);
    }
};

// A host listener the policy tests connect to.
struct HostListener {
    int fd;
    uint16_t port;
    explicit HostListener(const char* addr = "127.0.0.1") {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = v4(addr, 0);
        EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(listen(fd, 8), 0);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~HostListener() { close(fd); }
};

TEST(HostNet, HandlesThatAreNotSocketsAreRefused) {
    Net n;
    // No socket yet: every handle is bad, including ones that happen to be open host fds
    // (0, 1, 2 and the VMM's own epoll).
    for (uint64_t h : {0ull, 1ull, 2ull, 3ull, 1023ull, 1024ull, ~0ull, 1ull << 40}) {
        EXPECT_EQ(n.call(abi::kNetListen, h, 1), -EBADF) << h;
        EXPECT_EQ(n.call(abi::kNetClose, h), -EBADF) << h;
        EXPECT_EQ(n.call(abi::kNetShutdown, h, SHUT_RDWR), -EBADF) << h;
    }
    const int64_t s = n.socket();
    ASSERT_GE(s, 0);
    EXPECT_EQ(n.call(abi::kNetClose, uint64_t(s)), 0);
    EXPECT_EQ(n.call(abi::kNetClose, uint64_t(s)), -EBADF);  // closed: gone
    EXPECT_EQ(n.call(999, 0), -EBADF);
    const int64_t t = n.socket();
    EXPECT_EQ(n.call(999, uint64_t(t)), -EINVAL);  // an op that does not exist
    // The stdio of the VMM is untouched.
    EXPECT_NE(fcntl(0, F_GETFD), -1);
    EXPECT_NE(fcntl(1, F_GETFD), -1);
}

TEST(HostNet, OnlyInternetStreamAndDatagramSockets) {
    Net n;
    EXPECT_EQ(n.socket(AF_UNIX), -EAFNOSUPPORT);  // never the host's AF_UNIX namespace
    EXPECT_EQ(n.socket(AF_NETLINK, SOCK_DGRAM), -EAFNOSUPPORT);
    EXPECT_EQ(n.socket(AF_PACKET, SOCK_RAW), -EAFNOSUPPORT);
    EXPECT_EQ(n.socket(AF_INET, SOCK_RAW), -EPERM);
    EXPECT_EQ(n.socket(AF_INET, SOCK_SEQPACKET), -ESOCKTNOSUPPORT);
    EXPECT_EQ(n.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK), -ESOCKTNOSUPPORT);
    EXPECT_EQ(n.call(abi::kNetSocket, AF_INET, SOCK_STREAM, IPPROTO_UDP), -EPROTONOSUPPORT);
    EXPECT_EQ(n.call(abi::kNetSocket, AF_INET, SOCK_DGRAM, IPPROTO_SCTP), -EPROTONOSUPPORT);
    EXPECT_GE(n.socket(AF_INET6, SOCK_DGRAM), 0);
}

TEST(HostNet, NetNoneRefusesSockets) {
    Net n(NetPolicy{NetMode::None, {}});
    EXPECT_EQ(n.socket(AF_INET), -EACCES);
    EXPECT_EQ(n.socket(AF_INET6), -EACCES);
}

TEST(HostNet, HandlesRunOut) {
    Net n;
    int64_t last = 0;
    for (uint32_t i = 0; i < abi::kMaxHostSockets; ++i) {
        last = n.socket(AF_INET, SOCK_DGRAM);
        if (last < 0) break;  // the host's own fd limit may come first
    }
    if (last >= 0) {
        EXPECT_EQ(n.socket(AF_INET, SOCK_DGRAM), -EMFILE);
    }
}

TEST(HostNet, MalformedBuffersAndAddresses) {
    Net n;
    const int64_t s = n.socket();
    char big[200] = {};
    // More segments claimed for b1 than there are.
    const uint64_t a[6] = {abi::kNetBind, uint64_t(s), 0, 0, 0, 5};
    uint64_t out[2];
    iovec one{big, 16};
    EXPECT_EQ(n.net.handle(a, &one, 1, out), -EINVAL);
    // An address longer than any sockaddr.
    EXPECT_EQ(n.call(abi::kNetBind, uint64_t(s), 0, 0, {{big, sizeof big}}), -EINVAL);
    EXPECT_EQ(n.call(abi::kNetConnect, uint64_t(s), 0, 0, {{big, sizeof big}}), -EINVAL);
    EXPECT_EQ(n.call(abi::kNetSend, uint64_t(s), 0, 0, {{big, sizeof big}}, {{big, 1}}), -EINVAL);
    // Short and empty addresses: the host's EINVAL.
    sockaddr_in lo = v4("127.0.0.1", 0);
    EXPECT_EQ(n.with_addr(abi::kNetBind, s, lo, 4), -EINVAL);
    EXPECT_EQ(n.call(abi::kNetBind, uint64_t(s)), -EINVAL);
    // Options: only the listed ones, any length the host checks.
    int one_value = 1;
    EXPECT_EQ(n.call(abi::kNetSetOpt, uint64_t(s), SOL_SOCKET, SO_BINDTODEVICE, {{big, 4}}),
              -ENOPROTOOPT);
    EXPECT_EQ(n.call(abi::kNetSetOpt, uint64_t(s), SOL_SOCKET, 12345, {{&one_value, 4}}),
              -ENOPROTOOPT);
    EXPECT_EQ(n.call(abi::kNetSetOpt, uint64_t(s), IPPROTO_IP, IP_ADD_MEMBERSHIP, {{big, 8}}),
              -ENOPROTOOPT);
    EXPECT_EQ(n.call(abi::kNetSetOpt, uint64_t(s), SOL_SOCKET, SO_ERROR, {{&one_value, 4}}),
              -ENOPROTOOPT);
    EXPECT_EQ(n.call(abi::kNetSetOpt, uint64_t(s), SOL_SOCKET, SO_REUSEADDR, {{big, 300}}),
              -EINVAL);
    EXPECT_EQ(n.call(abi::kNetSetOpt, uint64_t(s), SOL_SOCKET, SO_REUSEADDR, {{&one_value, 2}}),
              -EINVAL);
    EXPECT_EQ(n.call(abi::kNetSetOpt, uint64_t(s), IPPROTO_TCP, TCP_NODELAY, {{&one_value, 4}}), 0);
    int value = 0;
    EXPECT_EQ(n.call(abi::kNetGetOpt, uint64_t(s), IPPROTO_TCP, TCP_NODELAY, {{&value, 4}}), 4);
    EXPECT_EQ(value, 1);
    EXPECT_EQ(n.call(abi::kNetIoctl, uint64_t(s), 0x5401 /* TCGETS */), -ENOTTY);
}

TEST(HostNet, LoopbackPolicy) {
    Net n;
    HostListener listener;
    const int64_t s = n.socket();
    EXPECT_EQ(n.with_addr(abi::kNetConnect, s, v4("192.0.2.77", 80)), -ENETUNREACH);
    EXPECT_EQ(n.with_addr(abi::kNetConnect, s, v4("8.8.8.8", 53)), -ENETUNREACH);
    sockaddr_in6 remote6{};
    remote6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:8.8.8.8", &remote6.sin6_addr);
    const int64_t s6 = n.socket(AF_INET6);
    EXPECT_EQ(n.with_addr(abi::kNetConnect, s6, remote6), -ENETUNREACH);
    EXPECT_EQ(n.with_addr(abi::kNetBind, s, v4("192.0.2.77", 0)), -EADDRNOTAVAIL);
    const int64_t u = n.socket(AF_INET, SOCK_DGRAM);
    sockaddr_in far = v4("10.1.2.3", 9);
    EXPECT_EQ(n.call(abi::kNetSend, uint64_t(u), 0, 0, {{&far, sizeof far}}, {{(void*)"x", 1}}),
              -ENETUNREACH);
    // Loopback is fine; the connect completes on the host.
    const int64_t r = n.with_addr(abi::kNetConnect, s, v4("127.0.0.1", listener.port));
    EXPECT_TRUE(r == 0 || r == -EINPROGRESS) << r;
}

TEST(HostNet, WildcardBindStaysOnLoopback) {
    Net n;
    const int64_t s = n.socket();
    EXPECT_EQ(n.with_addr(abi::kNetBind, s, v4("0.0.0.0", 0)), 0);
    EXPECT_EQ(n.call(abi::kNetListen, uint64_t(s), 4), 0);
    sockaddr_storage seen{};
    ASSERT_EQ(n.call(abi::kNetGetName, uint64_t(s), 0, 0, {{&seen, sizeof seen}}), 16);
    const auto& guest_view = reinterpret_cast<sockaddr_in&>(seen);
    EXPECT_EQ(guest_view.sin_addr.s_addr, htonl(INADDR_ANY));  // what the guest asked for
    const uint16_t port = ntohs(guest_view.sin_port);
    ASSERT_NE(port, 0);
    // On the host it listens on 127.0.0.1 only: binding the same port on another local
    // address works, which a wildcard listener would forbid.
    int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in other = v4("127.0.0.2", port);
    EXPECT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&other), sizeof other), 0) << strerror(errno);
    close(probe);
}

TEST(HostNet, ListenWithoutBindStaysOnLoopback) {
    Net n;
    const int64_t s = n.socket();
    EXPECT_EQ(n.call(abi::kNetListen, uint64_t(s), 4), 0);
    const uint16_t port = n.port(s);
    int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in other = v4("127.0.0.2", port);
    EXPECT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&other), sizeof other), 0) << strerror(errno);
    close(probe);
}

TEST(HostNet, PublishedPortAndReadiness) {
    NetPolicy policy;
    PortMapping m;
    std::string error;
    HostListener free_port;  // a port to borrow: closed below, then published
    const uint16_t host_port = free_port.port;
    close(free_port.fd);
    free_port.fd = -1;
    ASSERT_TRUE(parse_port_mapping(std::to_string(host_port) + ":80", m, error)) << error;
    policy.published.push_back(m);
    Net n(policy);
    const int64_t s = n.socket();
    EXPECT_EQ(n.with_addr(abi::kNetBind, s, v4("0.0.0.0", 80)), 0);
    EXPECT_EQ(n.call(abi::kNetListen, uint64_t(s), 4), 0);
    EXPECT_EQ(n.port(s), 80);  // the guest's view
    EXPECT_EQ(abi::host_socket_ready(n.state(s)) & POLLIN, 0u);

    // A guest thread waits: the connection's readiness comes with an NMI request.
    __atomic_store_n(&n.events().want_wake, 1u, __ATOMIC_SEQ_CST);
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to = v4("127.0.0.1", host_port);
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << strerror(errno);
    for (int i = 0; i < 500 && !(abi::host_socket_ready(n.state(s)) & POLLIN); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_TRUE(abi::host_socket_ready(n.state(s)) & POLLIN);
    EXPECT_GE(n.events().net_seq, 1u);
    for (int i = 0; i < 500 && n.wakes.load() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(n.wakes.load(), 1);

    sockaddr_in peer{};
    uint64_t peer_len = 0;
    const int64_t c =
        n.call(abi::kNetAccept, uint64_t(s), 0, 0, {{&peer, sizeof peer}}, {}, &peer_len);
    ASSERT_GE(c, 0);
    EXPECT_EQ(peer_len, sizeof peer);
    EXPECT_EQ(n.port(c), 80);  // an accepted connection of the published port, too
    EXPECT_EQ(abi::host_socket_ready(n.state(s)) & POLLIN, 0u);  // nothing else waiting

    // Data both ways through the handles, gathered and scattered.
    ASSERT_EQ(write(client, "hello", 5), 5);
    for (int i = 0; i < 500 && !(abi::host_socket_ready(n.state(c)) & POLLIN); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    char a[2], b[8];
    EXPECT_EQ(n.call(abi::kNetRecv, uint64_t(c), 0, 0, {}, {{a, 2}, {b, 8}}), 5);
    EXPECT_EQ(std::string(a, 2) + std::string(b, 3), "hello");
    EXPECT_EQ(abi::host_socket_ready(n.state(c)) & POLLIN, 0u);
    EXPECT_EQ(n.call(abi::kNetRecv, uint64_t(c), 0, 0, {}, {{b, 8}}), -EAGAIN);
    EXPECT_EQ(n.call(abi::kNetSend, uint64_t(c), 0, 0, {}, {{(void*)"ab", 2}, {(void*)"cd", 2}}),
              4);
    char got[8] = {};
    EXPECT_EQ(read(client, got, sizeof got), 4);
    EXPECT_STREQ(got, "abcd");
    close(client);

    // From inside, the published port is the guest port: a guest connect to 127.0.0.1:80
    // reaches the listener, and its peer is port 80.
    const int64_t inner = n.socket();
    const int64_t r = n.with_addr(abi::kNetConnect, inner, v4("127.0.0.1", 80));
    EXPECT_TRUE(r == 0 || r == -EINPROGRESS) << r;
    for (int i = 0; i < 500 && !(abi::host_socket_ready(n.state(inner)) & POLLOUT); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    sockaddr_storage peer_seen{};
    EXPECT_EQ(n.call(abi::kNetGetName, uint64_t(inner), 1, 0, {{&peer_seen, sizeof peer_seen}}),
              16);
    EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in&>(peer_seen).sin_port), 80);
    const int64_t accepted = n.call(abi::kNetAccept, uint64_t(s));
    EXPECT_GE(accepted, 0);
    EXPECT_EQ(n.call(abi::kNetClose, uint64_t(inner)), 0);
    EXPECT_EQ(n.call(abi::kNetClose, uint64_t(accepted)), 0);
    EXPECT_EQ(n.call(abi::kNetClose, uint64_t(c)), 0);
    EXPECT_EQ(n.call(abi::kNetClose, uint64_t(s)), 0);
}

TEST(HostNet, NoWakeWhileNobodyWaitsOrAVcpuPolls) {
    Net n;
    const int64_t s = n.socket(AF_INET, SOCK_DGRAM);
    sockaddr_in lo = v4("127.0.0.1", 0);
    ASSERT_EQ(n.with_addr(abi::kNetBind, s, lo), 0);
    sockaddr_in to = v4("127.0.0.1", n.port(s));
    int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto send_and_settle = [&] {
        const uint64_t before = n.events().net_seq;
        sendto(sender, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        for (int i = 0; i < 500 && __atomic_load_n(&n.events().net_seq, __ATOMIC_SEQ_CST) == before;
             ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
    send_and_settle();
    EXPECT_EQ(n.wakes.load(), 0);  // want_wake is 0
    __atomic_store_n(&n.events().want_wake, 1u, __ATOMIC_SEQ_CST);
    __atomic_store_n(&n.events().polling, 1u, __ATOMIC_SEQ_CST);
    send_and_settle();
    EXPECT_EQ(n.wakes.load(), 0);  // a vCPU polls
    __atomic_store_n(&n.events().polling, 0u, __ATOMIC_SEQ_CST);
    send_and_settle();
    EXPECT_EQ(n.wakes.load(), 1);
    send_and_settle();
    EXPECT_EQ(n.wakes.load(), 1);  // the guest has not taken the last batch: one NMI is enough
    __atomic_store_n(&n.events().net_seq_taken, n.events().net_seq, __ATOMIC_SEQ_CST);
    send_and_settle();
    EXPECT_EQ(n.wakes.load(), 2);
    close(sender);
}

// Both sides of the handshake store, then load the other's word; where the guest's barriers
// are lost (single-vCPU TCG), the event thread may read want_wake before the guest's store
// lands while the guest reads the old net_seq. The batch then stays untaken with a waiter,
// and the event thread's second look sends the NMI; once the guest takes it, no more come.
TEST(HostNet, MissedHandshakeGetsItsNmiOnASecondLook) {
    Net n({}, 20);
    const int64_t s = n.socket(AF_INET, SOCK_DGRAM);
    sockaddr_in lo = v4("127.0.0.1", 0);
    ASSERT_EQ(n.with_addr(abi::kNetBind, s, lo), 0);
    sockaddr_in to = v4("127.0.0.1", n.port(s));
    int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sendto(sender, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    for (int i = 0; i < 500 && __atomic_load_n(&n.events().net_seq, __ATOMIC_SEQ_CST) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_NE(__atomic_load_n(&n.events().net_seq, __ATOMIC_SEQ_CST), 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // every report of it is in
    EXPECT_EQ(n.wakes.load(), 0);  // nobody waited when the batches came
    __atomic_store_n(&n.events().want_wake, 1u, __ATOMIC_SEQ_CST);  // the guest's late store
    for (int i = 0; i < 500 && n.wakes.load() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_GE(n.wakes.load(), 1);
    EXPECT_EQ(n.net.rechecks(), uint64_t(n.wakes.load()));
    __atomic_store_n(&n.events().net_seq_taken, n.events().net_seq, __ATOMIC_SEQ_CST);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a look in flight ends
    const int after = n.wakes.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(n.wakes.load(), after);  // taken: no more looks, no more NMIs
    close(sender);
}

}  // namespace
}  // namespace utx::loader
