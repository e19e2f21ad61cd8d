// loader/tests/hypercalls_test.cpp: HypercallHandler serves well-formed requests and ends the
// guest on malformed ones, and no request makes it touch memory outside guest RAM.
#include "loader/hypercalls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "abi/boot_info.h"
#include "abi/hypercall.h"
#include "loader/guest_memory.h"
#include "loader/host_net.h"
#include "loader/tests/guarded_buffer.h"

namespace utx::loader {
namespace {

using abi::HcRequest;

constexpr uint64_t kRam = 0x40000;
constexpr uint64_t kRequestGpa = 0xa000;  // clear of HostEvents and the socket words
constexpr uint64_t kDataGpa = 0x10000;

// Puts a pipe on host fd `target` (0, 1 or 2) for the lifetime of the object, then puts
// the original back. `other` is the end the test keeps.
class StdioPipe {
  public:
    explicit StdioPipe(int target) : target_(target) {
        std::fflush(nullptr);
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
        saved_ = dup(target);
        int mine = target == 0 ? fds[0] : fds[1];
        other_ = target == 0 ? fds[1] : fds[0];
        if (saved_ < 0 || dup2(mine, target) < 0) std::abort();
        close(mine);
    }
    ~StdioPipe() {
        dup2(saved_, target_);
        close(saved_);
        if (other_ >= 0) close(other_);
    }
    int other() const { return other_; }
    void close_other() {
        close(other_);
        other_ = -1;
    }
    std::string drain() const {
        std::string out;
        fcntl(other_, F_SETFL, O_NONBLOCK);
        char buf[4096];
        ssize_t n;
        while ((n = read(other_, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
        return out;
    }

  private:
    int target_, saved_, other_;
};

struct Guest {
    testing::GuardedBuffer buf{kRam};
    GuestMemory mem = GuestMemory::wrap(buf.span());
    HypercallHandler handler{mem};

    Guest() {
        std::memset(buf.data(), 0, buf.size());
        set_mailbox(0, kRequestGpa);
    }
    void set_mailbox(uint32_t vcpu, uint64_t gpa) {
        std::memcpy(buf.data() + abi::kHypercallPageGpa + 8 * vcpu, &gpa, 8);
    }
    HcRequest& req(uint64_t gpa = kRequestGpa) {
        return *reinterpret_cast<HcRequest*>(buf.data() + gpa);
    }
    void put(uint64_t gpa, const std::string& s) {
        std::memcpy(buf.data() + gpa, s.data(), s.size());
    }
    std::string get(uint64_t gpa, size_t n) {
        return std::string(reinterpret_cast<char*>(buf.data() + gpa), n);
    }
    // One request with `op`, args and up to two segments.
    HcRequest& make(uint32_t op, std::initializer_list<uint64_t> args = {},
                    std::initializer_list<abi::IoSegment> segments = {}) {
        HcRequest& r = req();
        std::memset(&r, 0, sizeof r);
        r.op = op;
        unsigned i = 0;
        for (uint64_t a : args) r.args[i++] = a;
        i = 0;
        for (auto s : segments) r.segments[i++] = s;
        r.nsegments = uint32_t(segments.size());
        return r;
    }
    void expect_served(int64_t result) {
        EXPECT_FALSE(handler.finished()) << handler.exit().message;
        EXPECT_EQ(req().done, 1u);
        EXPECT_EQ(req().result, result);
    }
    void expect_failed(const std::string& must_contain) {
        ASSERT_TRUE(handler.finished());
        EXPECT_EQ(handler.exit().kind, GuestExit::Kind::Panicked);
        EXPECT_NE(handler.exit().message.find(must_contain), std::string::npos)
            << handler.exit().message;
        EXPECT_EQ(handler.exit().message.find('\n'), std::string::npos);
    }
};

TEST(Hypercalls, WriteGathersSegmentsToStdout) {
    Guest g;
    g.put(kDataGpa, "hello, ");
    g.put(kDataGpa + 0x1000, "world\n");
    g.make(abi::kHcWrite, {1}, {{kDataGpa, 7}, {kDataGpa + 0x1000, 6}});
    std::string out;
    {
        StdioPipe p(1);
        g.handler.handle(0);
        out = p.drain();
    }
    g.expect_served(13);
    EXPECT_EQ(out, "hello, world\n");
}

// set_stdio: the guest's fds 0-2 are the host fds given, and nothing else (the fuzzer gives
// /dev/null, so that no input reaches its own stdin and stdout).
TEST(Hypercalls, StdioFdsAreTheOnesGiven) {
    Guest g;
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    g.handler.set_stdio({-1, fds[1], -1});
    g.put(kDataGpa, "to the pipe");
    g.make(abi::kHcWrite, {1}, {{kDataGpa, 11}});
    g.handler.handle(0);
    g.expect_served(11);
    char buf[32] = {};
    EXPECT_EQ(read(fds[0], buf, sizeof buf), 11);
    EXPECT_STREQ(buf, "to the pipe");
    for (uint64_t fd : {0, 2}) {
        g.make(abi::kHcWrite, {fd}, {{kDataGpa, 11}});
        g.handler.handle(0);
        g.expect_served(-EBADF);
        g.make(abi::kHcFcntl, {fd, F_GETFL});
        g.handler.handle(0);
        g.expect_served(-EBADF);
    }
    close(fds[0]);
    close(fds[1]);
}

TEST(Hypercalls, WriteToStderrAndEmptyWrite) {
    Guest g;
    g.put(kDataGpa, "oops");
    std::string out;
    {
        StdioPipe p(2);
        g.make(abi::kHcWrite, {2}, {{kDataGpa, 4}});
        g.handler.handle(0);
        g.expect_served(4);
        g.make(abi::kHcWrite, {2}, {});
        g.handler.handle(0);
        g.expect_served(0);
        out = p.drain();
    }
    EXPECT_EQ(out, "oops");
}

TEST(Hypercalls, WriteToClosedPipeIsEpipe) {
    Guest g;
    g.put(kDataGpa, "x");
    StdioPipe p(1);
    p.close_other();  // no reader left
    signal(SIGPIPE, SIG_IGN);
    g.make(abi::kHcWrite, {1}, {{kDataGpa, 1}});
    g.handler.handle(0);
    g.expect_served(-EPIPE);
}

TEST(Hypercalls, ReadFromStdin) {
    Guest g;
    StdioPipe p(0);
    ASSERT_EQ(write(p.other(), "abcdef", 6), 6);
    std::memset(g.buf.data() + kDataGpa, '.', 16);
    g.make(abi::kHcRead, {0}, {{kDataGpa, 4}, {kDataGpa + 8, 8}});
    g.handler.handle(0);
    g.expect_served(6);
    EXPECT_EQ(g.get(kDataGpa, 16), "abcd....ef......");
}

TEST(Hypercalls, FdAbove2IsEbadf) {
    Guest g;
    g.put(kDataGpa, "x");
    for (uint64_t fd :
         std::initializer_list<uint64_t>{3ULL, 4ULL, 100ULL, (1ULL << 32) | 1, ~0ULL}) {
        for (uint32_t op : {abi::kHcWrite, abi::kHcRead, abi::kHcPoll, abi::kHcFstat, abi::kHcIoctl,
                            abi::kHcLseek, abi::kHcFcntl}) {
            g.make(op, {fd, 0, 0}, {{kDataGpa, 1}});
            g.handler.handle(0);
            SCOPED_TRACE(::testing::Message() << "op " << op << " fd " << fd);
            g.expect_served(-EBADF);
        }
    }
}

TEST(Hypercalls, Fstat) {
    Guest g;
    StdioPipe p(0);
    g.make(abi::kHcFstat, {0}, {{kDataGpa, sizeof(struct stat)}});
    g.handler.handle(0);
    g.expect_served(0);
    struct stat st;
    std::memcpy(&st, g.buf.data() + kDataGpa, sizeof st);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));

    g.make(abi::kHcFstat, {0}, {{kDataGpa, sizeof(struct stat) - 1}});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
    g.make(abi::kHcFstat, {0}, {{kDataGpa, sizeof(struct stat) + 8}});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
    g.make(abi::kHcFstat, {0}, {});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
}

TEST(Hypercalls, TcgetsOnATerminalFillsTheKernelTermios) {
    // A pseudo-terminal on fd 1 stands for utx-run running in a terminal.
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_GE(master, 0);
    ASSERT_EQ(grantpt(master), 0);
    ASSERT_EQ(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    ASSERT_GE(slave, 0);
    int saved = dup(1);
    ASSERT_EQ(dup2(slave, 1), 1);
    Guest g;
    g.make(abi::kHcIoctl, {1, TCGETS}, {{kDataGpa, abi::kKernelTermiosSize}});
    g.handler.handle(0);
    dup2(saved, 1);
    close(saved);
    close(slave);
    close(master);
    g.expect_served(0);
}

TEST(Hypercalls, FionreadCountsWhatWaitsOnStdin) {
    Guest g;
    StdioPipe p(0);
    ASSERT_EQ(write(p.other(), "12345", 5), 5);
    g.make(abi::kHcIoctl, {0, FIONREAD}, {{kDataGpa, sizeof(int)}});
    g.handler.handle(0);
    g.expect_served(0);
    int available = 0;
    std::memcpy(&available, g.get(kDataGpa, sizeof available).data(), sizeof available);
    EXPECT_EQ(available, 5);
    g.make(abi::kHcIoctl, {0, FIONREAD}, {{kDataGpa, 2}});
    g.handler.handle(0);
    g.expect_served(-ENOTTY);  // not the size of an int: not a request we serve
}

TEST(Hypercalls, IoctlLseekFcntlOnAPipe) {
    Guest g;
    StdioPipe p(1);
    g.make(abi::kHcIoctl, {1, TCGETS}, {{kDataGpa, abi::kKernelTermiosSize}});
    g.handler.handle(0);
    g.expect_served(-ENOTTY);  // the host says so: a pipe is not a terminal
    g.make(abi::kHcIoctl, {1, TCGETS}, {{kDataGpa, 3}});
    g.handler.handle(0);
    g.expect_served(-ENOTTY);
    g.make(abi::kHcIoctl, {1, 0x5401 + 0x100}, {});
    g.handler.handle(0);
    g.expect_served(-ENOTTY);
    g.make(abi::kHcLseek, {1, 0, SEEK_CUR});
    g.handler.handle(0);
    g.expect_served(-ESPIPE);
    g.make(abi::kHcFcntl, {1, F_GETFL});
    g.handler.handle(0);
    g.expect_served(O_WRONLY);
    g.make(abi::kHcFcntl, {1, F_SETFL, O_NONBLOCK});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
}

TEST(Hypercalls, PollReportsReadableStdin) {
    Guest g;
    StdioPipe p(0);
    g.make(abi::kHcPoll, {0, POLLIN, 0});
    g.handler.handle(0);
    g.expect_served(0);
    ASSERT_EQ(write(p.other(), "z", 1), 1);
    g.make(abi::kHcPoll, {0, POLLIN, 1000});
    g.handler.handle(0);
    g.expect_served(POLLIN);
}

TEST(Hypercalls, Clock) {
    Guest g;
    timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    g.make(abi::kHcClock);
    g.handler.handle(0);
    g.expect_served(0);
    const uint64_t host = uint64_t(rt.tv_sec) * 1'000'000'000ULL + uint64_t(rt.tv_nsec);
    EXPECT_GE(g.req().args[0], host);
    EXPECT_LT(g.req().args[0] - host, 10'000'000'000ULL);
    EXPECT_GT(g.req().args[1], 0u);
}

TEST(Hypercalls, ExitAndKill) {
    {
        Guest g;
        g.make(abi::kHcExit, {0x12345, 0, 0, 0});
        g.handler.handle(0);
        ASSERT_TRUE(g.handler.finished());
        EXPECT_EQ(g.handler.exit().kind, GuestExit::Kind::Exited);
        EXPECT_EQ(g.handler.exit().status, 0x45);
    }
    {
        Guest g;
        g.make(abi::kHcExit, {0, SIGSEGV, 0xdead000, 0x401234});
        g.handler.handle(0);
        ASSERT_TRUE(g.handler.finished());
        EXPECT_EQ(g.handler.exit().kind, GuestExit::Kind::Killed);
        EXPECT_EQ(g.handler.exit().status, SIGSEGV);
        EXPECT_EQ(g.handler.exit().fault_address, 0xdead000u);
        EXPECT_EQ(g.handler.exit().rip, 0x401234u);
    }
}

TEST(Hypercalls, GuestPanicMessage) {
    Guest g;
    g.put(kDataGpa, "out of memory");
    g.make(abi::kHcPanic, {}, {{kDataGpa, 13}});
    g.handler.handle(0);
    g.expect_failed("guest kernel panic: out of memory");
}

TEST(Hypercalls, SegmentOutsideRamFails) {
    for (abi::IoSegment seg : {abi::IoSegment{kRam, 1}, abi::IoSegment{kRam - 4, 5},
                               abi::IoSegment{kRam + 0x100000, 0x10},
                               abi::IoSegment{~0ULL - 0xf, 0x20},  // gpa + len wraps
                               abi::IoSegment{0x1000, ~0ULL}}) {
        Guest g;
        g.make(abi::kHcWrite, {1}, {{kDataGpa, 1}, seg});
        g.handler.handle(0);
        g.expect_failed("outside guest memory");
        EXPECT_EQ(g.req().done, 0u);
    }
    // The same bad segment in a read: nothing is read into the buffer either.
    Guest g;
    StdioPipe p(0);
    ASSERT_EQ(write(p.other(), "data", 4), 4);
    g.make(abi::kHcRead, {0}, {{kRam - 2, 4}});
    g.handler.handle(0);
    g.expect_failed("outside guest memory");
}

TEST(Hypercalls, NetWithoutHostNetIsRefused) {
    Guest g;
    g.make(abi::kHcNet, {abi::kNetSocket, AF_INET, SOCK_STREAM, 0});
    g.handler.handle(0);
    g.expect_served(-EACCES);
    g.make(abi::kHcNet, {abi::kNetClose, 0});
    g.handler.handle(0);
    g.expect_served(-EBADF);
}

TEST(Hypercalls, NetRequestsThroughGuestSegments) {
    Guest g;
    HostNet net(g.mem, NetPolicy{});
    std::string error;
    ASSERT_TRUE(net.start(nullptr, error)) << error;
    HypercallHandler handler(g.mem, nullptr, false, &net);
    // A host UDP socket the guest's datagram goes to.
    const int host = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof to;
    ASSERT_EQ(bind(host, reinterpret_cast<sockaddr*>(&to), len), 0);
    ASSERT_EQ(getsockname(host, reinterpret_cast<sockaddr*>(&to), &len), 0);

    g.make(abi::kHcNet, {abi::kNetSocket, AF_INET, SOCK_DGRAM, 0});
    handler.handle(0);
    ASSERT_FALSE(handler.finished()) << handler.exit().message;
    const int64_t s = g.req().result;
    ASSERT_GE(s, 0);
    // b1 = the address, b2 = the data (args[5] = 1 segment in b1).
    std::memcpy(g.buf.data() + kDataGpa, &to, sizeof to);
    g.put(kDataGpa + 0x100, "datagram");
    g.make(abi::kHcNet, {abi::kNetSend, uint64_t(s), 0, 0, 0, 1},
           {{kDataGpa, sizeof to}, {kDataGpa + 0x100, 8}});
    handler.handle(0);
    EXPECT_FALSE(handler.finished()) << handler.exit().message;
    EXPECT_EQ(g.req().result, 8);
    char got[16] = {};
    EXPECT_EQ(recv(host, got, sizeof got, MSG_DONTWAIT), 8);
    EXPECT_STREQ(got, "datagram");
    // A data segment outside guest memory ends the guest before the host sees anything.
    g.make(abi::kHcNet, {abi::kNetSend, uint64_t(s), 0, 0, 0, 1},
           {{kDataGpa, sizeof to}, {kRam - 4, 8}});
    handler.handle(0);
    ASSERT_TRUE(handler.finished());
    EXPECT_NE(handler.exit().message.find("outside guest memory"), std::string::npos)
        << handler.exit().message;
    EXPECT_EQ(g.req().done, 0u);
    EXPECT_EQ(recv(host, got, sizeof got, MSG_DONTWAIT), -1);
    close(host);
    net.stop();
}

TEST(Hypercalls, SegmentsOnlyUpToNsegmentsAreChecked) {
    // Garbage beyond nsegments is ignored, not refused.
    Guest g;
    g.put(kDataGpa, "ok");
    HcRequest& r = g.make(abi::kHcWrite, {1}, {{kDataGpa, 2}});
    r.segments[1] = {~0ULL, ~0ULL};
    StdioPipe p(1);
    g.handler.handle(0);
    g.expect_served(2);
    EXPECT_EQ(p.drain(), "ok");
}

TEST(Hypercalls, SegmentAtEndOfRamIsFine) {
    Guest g;
    StdioPipe p(1);
    g.put(kRam - 3, "end");
    g.make(abi::kHcWrite, {1}, {{kRam - 3, 3}, {kRam, 0}});
    g.handler.handle(0);
    g.expect_served(3);
    EXPECT_EQ(p.drain(), "end");
}

TEST(Hypercalls, TooManySegmentsFails) {
    Guest g;
    HcRequest& r = g.make(abi::kHcWrite, {1});
    r.nsegments = abi::kMaxIoSegments + 1;
    g.handler.handle(0);
    g.expect_failed("65 segments");
    Guest g2;
    g2.make(abi::kHcWrite, {1}).nsegments = 0xffffffff;
    g2.handler.handle(0);
    g2.expect_failed("segments");
}

TEST(Hypercalls, MaxSegmentsIsServed) {
    Guest g;
    HcRequest& r = g.make(abi::kHcWrite, {1});
    r.nsegments = abi::kMaxIoSegments;
    for (uint32_t i = 0; i < abi::kMaxIoSegments; ++i) {
        g.buf.data()[kDataGpa + i] = uint8_t('A' + i % 26);
        r.segments[i] = {kDataGpa + i, 1};
    }
    StdioPipe p(1);
    g.handler.handle(0);
    g.expect_served(abi::kMaxIoSegments);
    EXPECT_EQ(p.drain().size(), abi::kMaxIoSegments);
}

TEST(Hypercalls, MissingPathReportsOnlyUnderTrace) {
    Guest g;
    g.put(0x9000, "/etc/x");
    g.make(abi::kHcTraceMissing, {}, {{0x9000, 6}});
    g.handler.handle(0);
    g.expect_served(-EINVAL);  // not asked for: the guest cannot make utx-run print
    g.make(abi::kHcFs, {abi::kFsStat, 0}, {{0x9000, 6}});
    g.handler.handle(0);
    g.expect_served(-ENODEV);  // no host mounts given
}

TEST(Hypercalls, StartCpuWithoutABackendThatCanIsEinval) {
    Guest g;  // the QEMU backend: CPUs start by IPIs, never by this request
    g.make(abi::kHcStartCpu, {1, 0x100000, 0x200000, 0});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
}

TEST(Hypercalls, StartCpuGoesToTheBackend) {
    Guest g;
    uint64_t seen[4] = {};
    g.handler.set_start_cpu([&](uint32_t index, uint64_t rip, uint64_t rsp, uint64_t rdi) {
        seen[0] = index, seen[1] = rip, seen[2] = rsp, seen[3] = rdi;
        return int64_t(index == 1 ? 0 : -EINVAL);
    });
    g.make(abi::kHcStartCpu, {1, 0x100000, 0x200000, 7});
    g.handler.handle(0);
    g.expect_served(0);
    EXPECT_EQ(seen[0], 1u);
    EXPECT_EQ(seen[1], 0x100000u);
    EXPECT_EQ(seen[2], 0x200000u);
    EXPECT_EQ(seen[3], 7u);
    g.make(abi::kHcStartCpu, {5, 0, 0, 0});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
}

TEST(Hypercalls, ForkOnlyWhereTheBackendCanCloneTheVm) {
    Guest g;
    g.make(abi::kHcProcess, {abi::kProcFork});
    g.handler.handle(0);
    g.expect_served(-ENOSYS);  // the QEMU backend
    Family* family = Family::create(4);
    ASSERT_NE(family, nullptr);
    g.handler.set_family(family, 1);
    g.handler.allow_fork(true);
    g.make(abi::kHcProcess, {abi::kProcFork});
    g.handler.handle(0);
    EXPECT_EQ(g.req().done, 0u);  // left for the backend
    uint64_t gpa = 0;
    int32_t child = 0;
    EXPECT_FALSE(g.handler.take_fork(1, gpa, child));  // another vCPU's
    ASSERT_TRUE(g.handler.take_fork(0, gpa, child));
    EXPECT_EQ(gpa, kRequestGpa);
    EXPECT_EQ(child, 2);
    EXPECT_FALSE(g.handler.take_fork(0, gpa, child));  // once
    g.handler.answer_fork(gpa, 0, child, 1);
    g.expect_served(0);
    EXPECT_EQ(g.req().args[1], 2u);
    EXPECT_EQ(g.req().args[2], 1u);
}

TEST(Hypercalls, ProcessRequestsCheckTheirArguments) {
    Guest g;
    g.make(abi::kHcProcess, {abi::kProcWait, uint64_t(-1), 0});
    g.handler.handle(0);
    g.expect_served(-ECHILD);  // alone
    g.make(abi::kHcProcess, {abi::kProcWait, uint64_t(-1), 0x100});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
    g.make(abi::kHcProcess, {abi::kProcKill, 1, 65});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
    g.make(abi::kHcProcess, {abi::kProcKill, 1, SIGTERM});
    g.handler.handle(0);
    g.expect_served(0);
    EXPECT_EQ(g.req().args[1], 1u);  // itself
    g.make(abi::kHcProcess, {abi::kProcKill, 2, SIGTERM});
    g.handler.handle(0);
    g.expect_served(-ESRCH);
    g.make(abi::kHcProcess, {abi::kProcKill, uint64_t(-1), SIGTERM});
    g.handler.handle(0);
    g.expect_served(-ESRCH);  // nobody but itself
    g.make(abi::kHcProcess, {999});
    g.handler.handle(0);
    g.expect_served(-EINVAL);
}

TEST(Hypercalls, UnknownOpFails) {
    for (uint32_t op : {0u, 16u, 999u, 0xffffffffu}) {
        Guest g;
        g.make(op);
        g.handler.handle(0);
        g.expect_failed("unknown hypercall " + std::to_string(op));
        EXPECT_EQ(g.req().done, 0u);
    }
}

TEST(Hypercalls, BadMailboxFails) {
    for (uint64_t mailbox : std::initializer_list<uint64_t>{
             kRam, kRam + 0x1000, ~0ULL - 7, kRequestGpa + 4,  // misaligned
             kRam - 8,  // request would straddle the end of RAM
             kRam - sizeof(HcRequest) + 8}) {
        Guest g;
        g.set_mailbox(0, mailbox);
        g.handler.handle(0);
        g.expect_failed("bad hypercall mailbox for vCPU 0");
    }
    // The last request that fits is fine.
    Guest g;
    g.set_mailbox(3, kRam - sizeof(HcRequest));
    g.req(kRam - sizeof(HcRequest)).op = abi::kHcClock;
    g.handler.handle(3);
    EXPECT_FALSE(g.handler.finished()) << g.handler.exit().message;
    EXPECT_EQ(g.req(kRam - sizeof(HcRequest)).done, 1u);
}

TEST(Hypercalls, VcpuIndexOutOfRangeFails) {
    for (uint32_t vcpu : {512u, 513u, 0x80000000u, 0xffffffffu}) {
        Guest g;
        g.handler.handle(vcpu);
        g.expect_failed("bad hypercall mailbox for vCPU " + std::to_string(vcpu));
    }
}

TEST(Hypercalls, RamSmallerThanMailboxPage) {
    testing::GuardedBuffer buf(abi::kHypercallPageGpa + 4);
    std::memset(buf.data(), 0, buf.size());
    GuestMemory mem = GuestMemory::wrap(buf.span());
    HypercallHandler handler(mem);
    handler.handle(0);
    ASSERT_TRUE(handler.finished());
    EXPECT_NE(handler.exit().message.find("bad hypercall mailbox"), std::string::npos);
}

// Thousands of random requests at random places: never a crash, never an access outside
// guest RAM (PROT_NONE pages on both sides of it), and host stdio is /dev/null so that
// random writes and reads go nowhere and never block.
TEST(Hypercalls, RandomRequestsStayInsideRam) {
    std::fflush(nullptr);
    int saved[3];
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(devnull, 0);
    for (int fd = 0; fd < 3; ++fd) {
        saved[fd] = dup(fd);
        ASSERT_EQ(dup2(devnull, fd), fd);
    }
    std::mt19937_64 rng(20240607);
    auto pick = [&](uint64_t n) { return rng() % n; };
    // Addresses near the interesting edges more often than uniformly.
    auto address = [&]() -> uint64_t {
        switch (pick(6)) {
            case 0:
                return rng();
            case 1:
                return kRam - pick(0x400);
            case 2:
                return kRam + pick(0x400);
            case 3:
                return ~0ULL - pick(0x400);
            default:
                return pick(kRam);
        }
    };
    auto length = [&]() -> uint64_t {
        switch (pick(5)) {
            case 0:
                return rng();
            case 1:
                return ~0ULL - pick(0x100);
            default:
                return pick(0x2000);
        }
    };
    int served = 0, failed = 0;
    for (int iter = 0; iter < 5000; ++iter) {
        for (bool flush_end : {true, false}) {
            testing::GuardedBuffer buf(kRam, flush_end);
            for (size_t i = 0; i < kRam; i += 8) {
                uint64_t v = rng();
                std::memcpy(buf.data() + i, &v, 8);
            }
            const uint32_t vcpu = uint32_t(pick(8) == 0 ? rng() : pick(4));
            // Usually a request at an aligned address inside RAM, with a plausible shape.
            uint64_t req_gpa = pick(4) == 0 ? address() : (pick(kRam - sizeof(HcRequest)) & ~7ULL);
            if (vcpu < 512)
                std::memcpy(buf.data() + abi::kHypercallPageGpa + 8 * vcpu, &req_gpa, 8);
            if (req_gpa % 8 == 0 && req_gpa <= kRam - sizeof(HcRequest) && pick(4) != 0) {
                auto* r = reinterpret_cast<HcRequest*>(buf.data() + req_gpa);
                r->op = uint32_t(pick(8) == 0 ? rng() : 1 + pick(10));
                r->nsegments = uint32_t(pick(8) == 0 ? rng() : pick(abi::kMaxIoSegments + 2));
                r->args[0] = pick(4) == 0 ? rng() : pick(4);
                if (r->op == abi::kHcRead) r->args[0] = 0;  // /dev/null: never blocks
                for (auto& s : r->segments) s = {address(), length()};
                // Keep the request's own bytes out of its segments now and then, to reach
                // the serving paths rather than only the refusals.
                if (pick(2) == 0)
                    for (auto& s : r->segments) s = {pick(kRam / 2), pick(0x100)};
                if (r->op == abi::kHcPoll) r->args[2] = 0;  // no waiting on /dev/null
                if (r->op == abi::kHcIoctl && pick(2)) r->args[1] = pick(2) ? TCGETS : TIOCGWINSZ;
            }
            // (Fully random bytes decode as a poll with a long timeout about once in 2^32
            // requests; the 10,000 here make that a non-issue.)
            GuestMemory mem = GuestMemory::wrap(buf.span());
            HypercallHandler handler(mem);
            handler.handle(vcpu);
            if (handler.finished()) {
                ++failed;
                if (handler.exit().kind == GuestExit::Kind::Panicked) {
                    ASSERT_FALSE(handler.exit().message.empty());
                }
            } else {
                ++served;
            }
        }
    }
    for (int fd = 0; fd < 3; ++fd) {
        dup2(saved[fd], fd);
        close(saved[fd]);
    }
    close(devnull);
    // Both kinds of outcome were reached, so the test exercised the serving paths too.
    EXPECT_GT(served, 500);
    EXPECT_GT(failed, 500);
}

}  // namespace
}  // namespace utx::loader
