#include "loader/hypercalls.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstring>
#include <cerrno>
#include <new>
#include "loader/strprintf.h"

#include "abi/boot_info.h"
#include "abi/hypercall.h"
#include "loader/host_events.h"

namespace utx::loader {
namespace {

using abi::HcRequest;

// One load the compiler may not repeat: guest memory changes under us.
template <typename T>
T read_once(const T& v) {
    return *static_cast<const volatile T*>(&v);
}

int64_t neg_errno() { return -static_cast<int64_t>(errno); }

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

int64_t HypercallHandler::serve_process(uint32_t vcpu, uint64_t request_gpa,
                                        const uint64_t (&a)[6], abi::HcRequest* req,
                                        bool& answered_later) {
    switch (a[0]) {
        case abi::kProcFork: {
            if (!fork_allowed_ || !family_) return -ENOSYS;
            const int32_t child = family_->add(pid_);
            if (child < 0) return child;
            fork_.pending = true;
            fork_.vcpu = vcpu;
            fork_.request_gpa = request_gpa;
            fork_.child = child;
            answered_later = true;
            return 0;
        }
        case abi::kProcWait: {
            if (a[2] & ~uint64_t(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT))
                return -EINVAL;
            if (!family_) return -ECHILD;
            int32_t pid = 0;
            int status = 0;
            bool news = false;
            Usage usage;
            const int r = family_->wait(pid_, int64_t(a[1]), int(a[2]), a[2] & WNOWAIT, pid,
                                        status, news, usage);
            if (r < 0) return r;
            if (r == 1) return 0;
            req->args[1] = uint64_t(uint32_t(status));
            req->args[2] = news;
            req->args[3] = usage.user_us;
            req->args[4] = usage.system_us;
            return pid;
        }
        case abi::kProcChildEvents: {
            if (!family_) return 0;
            int code = 0;
            const int n = family_->take_child_events(pid_, code);
            req->args[1] = uint64_t(code);
            return n;
        }
        case abi::kProcUsage: {
            // getrusage: this process is its VMM (the guest's time counts as user time).
            if (a[1] > 1) return -EINVAL;
            const Usage u = a[1] == 0 ? self_usage()
                            : family_ ? family_->children_usage(pid_) : Usage{};
            req->args[1] = u.user_us;
            req->args[2] = u.system_us;
            return 0;
        }
        case abi::kProcVfork: {
            if (!family_ || a[1] > 1) return a[1] > 1 ? -EINVAL : 1;
            if (a[1] == 1) return family_->vfork_released(pid_, int32_t(a[2])) ? 1 : 0;
            if (const int32_t parent = family_->vfork_release(pid_))
                family_->wake(pid_, &parent, 1, host_events_doorbell_signal());
            return 0;
        }
        case abi::kProcForeground:
            if (!family_) return a[1] ? (a[2] == uint64_t(pid_) ? 0 : -EPERM) : 0;
            if (a[1] == 0) return family_->foreground();
            return family_->set_foreground(pid_, int32_t(a[2]));
        case abi::kProcJob: {
            // This process stopped (a1 = the signal) or continued (a1 = 0): its parent learns
            // of it as of an end, through SIGCHLD to its VMM.
            if (a[1] > 64) return -EINVAL;
            if (!family_) return 0;
            if (const pid_t parent = family_->job_changed(pid_, int(a[1]))) ::kill(parent, SIGCHLD);
            return 0;
        }
        case abi::kProcSetPgid:
            if (!family_) return -ESRCH;
            return family_->set_pgid(pid_, int32_t(a[1]), int32_t(a[2]));
        case abi::kProcGetPgid:
            return family_ ? family_->pgid_of(pid_, int32_t(a[1])) : -ESRCH;
        case abi::kProcGetSid:
            return family_ ? family_->sid_of(pid_, int32_t(a[1])) : -ESRCH;
        case abi::kProcSetSid:
            return family_ ? family_->set_sid(pid_) : -ESRCH;
        case abi::kProcKill: {
            const int sig = int(a[2]);
            if (sig < 0 || sig > 64) return -EINVAL;
            if (!family_) {  // a process alone: its own pid or its own group (pgid = pid)
                const int64_t who = int64_t(a[1]);
                const bool self = who == pid_ || who == 0 || (who < -1 && -who == pid_);
                req->args[1] = self;
                return self ? 0 : -ESRCH;
            }
            bool self = false;
            const int r = family_->kill(pid_, int64_t(a[1]), sig, host_events_doorbell_signal(), self);
            req->args[1] = self;
            return r;
        }
        case abi::kProcParent:
            return family_ ? family_->parent_of(pid_) : 0;
        case abi::kProcLockWait:
        case abi::kProcLockWake: {
            // The family lock's word: shared by every VMM of the tree, so a host futex on
            // it (not FUTEX_PRIVATE) reaches them all.
            auto* word = mem_.object<uint32_t>(a[1]);
            if (!word) return -EINVAL;
            if (a[0] == abi::kProcLockWake) {
                syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
                return 0;
            }
            const timespec ms = {0, 1'000'000};
            syscall(SYS_futex, word, FUTEX_WAIT, uint32_t(a[2]), &ms, nullptr, 0);
            return 0;
        }
        case abi::kProcWake: {
            if (!family_) return 0;  // alone: nobody else can wait
            int32_t pids[2];
            int n = 0;
            if (int64_t(a[1]) == -1) {
                n = -1;
            } else {
                for (int i = 1; i < 3; ++i)
                    if (a[i]) pids[n++] = int32_t(a[i]);
            }
            family_->wake(pid_, pids, n, host_events_doorbell_signal());
            return 0;
        }
        default:
            return -EINVAL;
    }
}

Usage HypercallHandler::self_usage() const {
    Usage u = usage_of(RUSAGE_SELF);
    if (helper_usage_) {
        const Usage h = helper_usage_();
        u.user_us += h.user_us;
        u.system_us += h.system_us;
    }
    return u;
}

uint64_t HypercallHandler::family_signals(uint64_t bits) {
    if (bits & (1ULL << (SIGCHLD - 1))) {
        int status;
        rusage r = {};
        for (pid_t host; (host = wait4(-1, &status, WNOHANG, &r)) > 0;)
            family_->host_exited(host, status, usage_from(r));
    }
    const uint64_t doorbell = 1ULL << (host_events_doorbell_signal() - 1);
    if (bits & doorbell) {
        bits = (bits & ~doorbell) | family_->take_signals(pid_);
        if (family_->take_wake(pid_)) host_events_post_family_wake();
        if (bits & (1ULL << (SIGKILL - 1))) {
            // SIGKILL from another process of the tree: the guest's kernel ends the process
            // when it takes the signal. A guest that does not within a few seconds is ended
            // from here, as the host would (its parent's VMM records it as killed by SIGKILL).
            static std::atomic<bool> armed{false};
            if (!armed.exchange(true))
                std::thread([] {
                    std::this_thread::sleep_for(std::chrono::seconds(3));
                    ::kill(getpid(), SIGKILL);
                }).detach();
        }
    }
    return bits;
}

bool HypercallHandler::take_fork(uint32_t vcpu, uint64_t& request_gpa, int32_t& child_pid) {
    std::lock_guard lock(mutex_);
    if (!fork_.pending || fork_.vcpu != vcpu) return false;
    fork_.pending = false;
    request_gpa = fork_.request_gpa;
    child_pid = fork_.child;
    return true;
}

void HypercallHandler::answer_fork(uint64_t request_gpa, int64_t result, int32_t pid,
                                   int32_t parent) {
    auto* req = mem_.object<abi::HcRequest>(request_gpa);
    if (!req) return;
    req->args[1] = uint64_t(pid);
    req->args[2] = uint64_t(parent);
    req->result = result;
    std::atomic_thread_fence(std::memory_order_release);
    req->done = 1;
}

void HypercallHandler::reset_after_fork(int32_t pid) {
    new (&mutex_) std::recursive_mutex();
    pid_ = pid;
    fork_.pending = false;
    start_cpu_ = nullptr;
    helper_usage_ = nullptr;  // the parent's helpers are not the child's
}

void HypercallHandler::refuse_fork(uint64_t request_gpa, int32_t child, int64_t error) {
    family_->remove(child);
    answer_fork(request_gpa, error, 0, 0);
}

pid_t HypercallHandler::fork_host(uint64_t request_gpa, int32_t child) {
    std::fflush(nullptr);
    const pid_t host = ::fork();
    if (host < 0) refuse_fork(request_gpa, child, -EAGAIN);
    if (host > 0) {
        family_->set_host_pid(child, host);
        answer_fork(request_gpa, child, 0, 0);
    }
    if (host != 0) return host;
    family_->set_host_pid(child, getpid());
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    return 0;
}

void HypercallHandler::become_child(uint64_t request_gpa, int32_t child) {
    const int32_t parent = pid_;
    reset_after_fork(child);
    answer_fork(request_gpa, 0, child, parent);
    host_events_forget();
    raise(host_events_doorbell_signal());
}

void HypercallHandler::serve(uint32_t vcpu) {
    const uint64_t mailbox = abi::kHypercallPageGpa + 8ULL * vcpu;
    auto* slot = vcpu < 512 ? mem_.object<uint64_t>(mailbox) : nullptr;
    const uint64_t request_gpa = slot ? read_once(*slot) : 0;
    HcRequest* req = slot ? mem_.object<HcRequest>(request_gpa) : nullptr;
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
    // The host fd behind guest fd a[0] for the stdio requests: its stdin, stdout or stderr.
    const int host_fd = a[0] <= 2 ? stdio_[a[0]] : -1;
    int64_t result = 0;
    hypercalls_.fetch_add(1, std::memory_order_relaxed);
    switch (op) {
        case abi::kHcWrite:
            if (host_fd < 0) {
                result = -EBADF;
                break;
            }
            result = writev(host_fd, iov, int(nsegments));
            if (result < 0) result = neg_errno();
            break;
        case abi::kHcRead:
            if (host_fd < 0) {
                result = -EBADF;
                break;
            }
            if (a[1] & 1) {  // the guest waits itself: never park the vCPU here
                pollfd p{host_fd, POLLIN, 0};
                if (poll(&p, 1, 0) == 0) {
                    result = -EAGAIN;
                    break;
                }
            }
            result = readv(host_fd, iov, int(nsegments));
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
            if (host_fd < 0) {
                result = -EBADF;
                break;
            }
            pollfd p{host_fd, short(a[1]), 0};
            int n = poll(&p, 1, int(a[2]));
            result = n < 0 ? neg_errno() : p.revents;
            break;
        }
        case abi::kHcFstat: {
            struct stat st;
            if (host_fd < 0) {
                result = -EBADF;
            } else if (nsegments != 1 || iov[0].iov_len != sizeof st) {
                result = -EINVAL;
            } else {
                result = fstat(host_fd, &st) == 0 ? 0 : neg_errno();
                if (result == 0) std::memcpy(iov[0].iov_base, &st, sizeof st);
            }
            break;
        }
        case abi::kHcIoctl: {
            if (host_fd < 0) {
                result = -EBADF;
            } else if (a[1] == TCGETS && nsegments == 1 &&
                       iov[0].iov_len == abi::kKernelTermiosSize) {
                // The raw ioctl writes the kernel's 36-byte struct termios; take it through a
                // buffer big enough for any layout before copying what the guest asked for.
                unsigned char raw[128] = {};
                result = ioctl(host_fd, TCGETS, raw) == 0 ? 0 : neg_errno();
                if (result == 0) std::memcpy(iov[0].iov_base, raw, abi::kKernelTermiosSize);
            } else if (a[1] == TIOCGWINSZ && nsegments == 1 && iov[0].iov_len == sizeof(winsize)) {
                result = ioctl(host_fd, TIOCGWINSZ, iov[0].iov_base) == 0 ? 0 : neg_errno();
            } else if (a[1] == FIONREAD && nsegments == 1 && iov[0].iov_len == sizeof(int)) {
                int available = 0;
                result = ioctl(host_fd, FIONREAD, &available) == 0 ? 0 : neg_errno();
                if (result == 0) std::memcpy(iov[0].iov_base, &available, sizeof available);
            } else {
                result = -ENOTTY;
            }
            break;
        }
        case abi::kHcLseek:
            if (host_fd < 0) {
                result = -EBADF;
                break;
            }
            result = lseek(host_fd, off_t(a[1]), int(a[2]));
            if (result < 0) result = neg_errno();
            break;
        case abi::kHcFcntl:
            if (host_fd < 0 || a[1] != F_GETFL) {
                result = host_fd >= 0 ? -EINVAL : -EBADF;
                break;
            }
            result = fcntl(host_fd, F_GETFL);
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
        case abi::kHcProcess: {
            bool later = false;
            result = serve_process(vcpu, request_gpa, a, req, later);
            if (later) return;  // the fork: answered in the parent and in the child
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
