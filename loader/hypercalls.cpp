#include "loader/hypercalls.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <cerrno>
#include "loader/strprintf.h"

#include "abi/boot_info.h"
#include "abi/hypercall.h"

namespace utx::loader {
namespace {

using abi::HcRequest;

// One load the compiler may not repeat: guest memory changes under us.
template <typename T>
T read_once(const T& v) {
    return *static_cast<const volatile T*>(&v);
}

int64_t neg_errno() { return -static_cast<int64_t>(errno); }

// Host fds the guest may reach through hypercalls: its stdin, stdout and stderr.
bool is_stdio(uint64_t fd) { return fd <= 2; }

uint64_t now_ns(clockid_t clock) {
    timespec ts;
    clock_gettime(clock, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000ULL + uint64_t(ts.tv_nsec);
}

// One line of --trace's summary: a path the guest did not find, and whether the host has
// it (then the -v that would share it). Nothing goes back to the guest.
void report_missing(const std::string& path) {
    if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) return;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
        std::fprintf(stderr, "utx-run:   %s (the host has it: add -v %s:%s)\n", path.c_str(),
                     path.c_str(), path.c_str());
    else
        std::fprintf(stderr, "utx-run:   %s\n", path.c_str());
}

}  // namespace

void HypercallHandler::handle(uint32_t vcpu) {
    std::lock_guard lock(mutex_);
    if (!finished()) serve(vcpu);
}

void HypercallHandler::serve(uint32_t vcpu) {
    const uint64_t mailbox = abi::kHypercallPageGpa + 8ULL * vcpu;
    auto* slot = vcpu < 512 ? mem_.object<uint64_t>(mailbox) : nullptr;
    HcRequest* req = slot ? mem_.object<HcRequest>(*slot) : nullptr;
    if (!req) {
        fail(format("bad hypercall mailbox for vCPU {}", vcpu));
        return;
    }
    // The guest may change its request while we serve it (another vCPU, or the vCPU itself
    // under the QEMU backend, keeps running): read every field exactly once.
    const uint32_t op = read_once(req->op);
    const uint32_t nsegments = read_once(req->nsegments);
    uint64_t a[6];
    for (int i = 0; i < 6; ++i) a[i] = read_once(req->args[i]);
    if (nsegments > abi::kMaxIoSegments) {
        fail(format("hypercall with {} segments", nsegments));
        return;
    }
    iovec iov[abi::kMaxIoSegments];
    for (uint32_t i = 0; i < nsegments; ++i) {
        const uint64_t gpa = read_once(req->segments[i].gpa), len = read_once(req->segments[i].len);
        auto s = mem_.slice(gpa, len);
        if (!s) {
            fail(format("hypercall segment {:#x}+{:#x} outside guest memory", gpa, len));
            return;
        }
        iov[i] = {s->data(), s->size()};
    }
    int64_t result = 0;
    hypercalls_.fetch_add(1, std::memory_order_relaxed);
    switch (op) {
        case abi::kHcWrite:
            if (!is_stdio(a[0])) {
                result = -EBADF;
                break;
            }
            result = writev(int(a[0]), iov, int(nsegments));
            if (result < 0) result = neg_errno();
            break;
        case abi::kHcRead:
            if (!is_stdio(a[0])) {
                result = -EBADF;
                break;
            }
            if (a[1] & 1) {  // the guest waits itself: never park the vCPU here
                pollfd p{int(a[0]), POLLIN, 0};
                if (poll(&p, 1, 0) == 0) {
                    result = -EAGAIN;
                    break;
                }
            }
            result = readv(int(a[0]), iov, int(nsegments));
            if (result < 0) result = neg_errno();
            break;
        case abi::kHcExit:
            exit_.kind = a[1] ? GuestExit::Kind::Killed : GuestExit::Kind::Exited;
            exit_.status = a[1] ? int(a[1]) : int(a[0] & 0xff);
            exit_.fault_address = a[2];
            exit_.rip = a[3];
            finished_.store(true, std::memory_order_release);
            break;
        case abi::kHcStartCpu:
            result = start_cpu_ ? start_cpu_(uint32_t(a[0]), a[1], a[2], a[3]) : -EINVAL;
            break;
        case abi::kHcClock:
            req->args[0] = now_ns(CLOCK_REALTIME);
            req->args[1] = now_ns(CLOCK_MONOTONIC);
            break;
        case abi::kHcPanic: {
            std::string msg;
            for (uint32_t i = 0; i < nsegments; ++i)
                msg.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
            fail("guest kernel panic: " + msg);
            break;
        }
        case abi::kHcPoll: {
            if (!is_stdio(a[0])) {
                result = -EBADF;
                break;
            }
            pollfd p{int(a[0]), short(a[1]), 0};
            int n = poll(&p, 1, int(a[2]));
            result = n < 0 ? neg_errno() : p.revents;
            break;
        }
        case abi::kHcFstat: {
            struct stat st;
            if (!is_stdio(a[0])) {
                result = -EBADF;
            } else if (nsegments != 1 || iov[0].iov_len != sizeof st) {
                result = -EINVAL;
            } else {
                result = fstat(int(a[0]), &st) == 0 ? 0 : neg_errno();
                if (result == 0) std::memcpy(iov[0].iov_base, &st, sizeof st);
            }
            break;
        }
        case abi::kHcIoctl: {
            if (!is_stdio(a[0])) {
                result = -EBADF;
            } else if (a[1] == TCGETS && nsegments == 1 &&
                       iov[0].iov_len == abi::kKernelTermiosSize) {
                // The raw ioctl writes the kernel's 36-byte struct termios; take it through a
                // buffer big enough for any layout before copying what the guest asked for.
                unsigned char raw[128] = {};
                result = ioctl(int(a[0]), TCGETS, raw) == 0 ? 0 : neg_errno();
                if (result == 0) std::memcpy(iov[0].iov_base, raw, abi::kKernelTermiosSize);
            } else if (a[1] == TIOCGWINSZ && nsegments == 1 &&
                       iov[0].iov_len == sizeof(winsize)) {
                result = ioctl(int(a[0]), TIOCGWINSZ, iov[0].iov_base) == 0 ? 0 : neg_errno();
            } else if (a[1] == FIONREAD && nsegments == 1 && iov[0].iov_len == sizeof(int)) {
                int available = 0;
                result = ioctl(int(a[0]), FIONREAD, &available) == 0 ? 0 : neg_errno();
                if (result == 0) std::memcpy(iov[0].iov_base, &available, sizeof available);
            } else {
                result = -ENOTTY;
            }
            break;
        }
        case abi::kHcLseek:
            if (!is_stdio(a[0])) {
                result = -EBADF;
                break;
            }
            result = lseek(int(a[0]), off_t(a[1]), int(a[2]));
            if (result < 0) result = neg_errno();
            break;
        case abi::kHcFcntl:
            if (!is_stdio(a[0]) || a[1] != F_GETFL) {
                result = is_stdio(a[0]) ? -EINVAL : -EBADF;
                break;
            }
            result = fcntl(int(a[0]), F_GETFL);
            if (result < 0) result = neg_errno();
            break;
        case abi::kHcFs: {
            if (!host_fs_) {
                result = -ENODEV;
                break;
            }
            uint64_t out[1] = {0};
            result = host_fs_->handle(a, iov, nsegments, out);
            req->args[0] = out[0];
            break;
        }
        case abi::kHcNet: {
            if (!host_net_) {
                result = a[0] == abi::kNetSocket ? -EACCES : -EBADF;
                break;
            }
            uint64_t out[2] = {0, 0};
            result = host_net_->handle(a, iov, nsegments, out);
            req->args[0] = out[0];
            req->args[1] = out[1];
            break;
        }
        case abi::kHcTraceMissing: {
            if (!trace_ || nsegments != 1 || iov[0].iov_len == 0 || iov[0].iov_len > 4096) {
                result = -EINVAL;
                break;
            }
            report_missing(std::string(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len));
            break;
        }
        default:
            fail(format("unknown hypercall {}", op));
            return;
    }
    req->result = result;
    std::atomic_thread_fence(std::memory_order_release);
    req->done = 1;
}

}  // namespace utx::loader
