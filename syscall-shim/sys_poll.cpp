// syscall-shim/sys_poll.cpp: waiting for descriptors (poll, ppoll, select, pselect6, epoll)
// and the files made to be waited on (eventfd, timerfd), all inside the guest: pollers
// rescan their descriptors whenever kernel/ipc/waitfd's poll queue is woken.
#include "kernel/fs/file.h"
#include "kernel/ipc/epoll.h"
#include "kernel/ipc/waitfd.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/net/host_socket.h"
#include "kernel/platform/host_events.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/time.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000, kNsPerUsec = 1000, kNsPerMs = 1'000'000;
constexpr uint64_t kForever = UINT64_MAX;  // a deadline: no timeout
constexpr int16_t kPollIn = 0x001, kPollPri = 0x002, kPollOut = 0x004, kPollErr = 0x008,
                  kPollHup = 0x010, kPollNval = 0x020;

struct Timespec {
    int64_t sec, nsec;
};
struct Timeval {
    int64_t sec, usec;
};

// The monotonic deadline `ns` from now (timeouts too long to matter never end).
uint64_t deadline_after(uint64_t ns) {
    const uint64_t now = monotonic_ns();
    return ns >= kForever - now ? kForever : now + ns;
}

// A user timespec as a deadline: kForever when `addr` is null; -EFAULT or -EINVAL.
int64_t read_timeout(uint64_t addr, uint64_t& deadline) {
    deadline = kForever;
    if (!addr) return 0;
    Timespec ts;
    if (!UserPtr<Timespec>(addr).read(ts)) return -EFAULT;
    if (ts.sec < 0 || ts.nsec < 0 || uint64_t(ts.nsec) >= kNsPerSec) return -EINVAL;
    deadline = uint64_t(ts.sec) > (kForever - uint64_t(ts.nsec)) / kNsPerSec
                   ? kForever
                   : deadline_after(uint64_t(ts.sec) * kNsPerSec + uint64_t(ts.nsec));
    return 0;
}

uint64_t time_left(uint64_t deadline) {
    const uint64_t now = monotonic_ns();
    return deadline > now ? deadline - now : 0;
}

// Scans with `scan(hint)` until it finds something ready (its count, or -errno), the
// deadline passes (0) or a signal ends the wait (-EINTR). `scan` lowers `hint` to the
// monotonic time at which one of its descriptors may turn ready without a poll_notify.
// When the scan looked at a host socket, the VMM must wake the guest for its reports
// while this thread waits (net_wait_begin).
template <typename Scan>
int64_t wait_ready(uint64_t deadline, Scan&& scan) {
    for (;;) {
        uint64_t hint = kForever;
        g_polled_host_socket = false;
        const int64_t ready = scan(hint);
        if (ready != 0) return ready;
        if (deadline != kForever && monotonic_ns() >= deadline) return 0;
        const uint64_t until = deadline < hint ? deadline : hint;
        const bool net = g_polled_host_socket;
        if (net && net_wait_begin()) {
            net_wait_end();
            continue;  // a report came in: scan again
        }
        const int64_t r = poll_wait(until == kForever ? 0 : until);
        if (net) net_wait_end();
        if (r == -EINTR) return -EINTR;
    }
}

// The sigmask of ppoll, pselect6 and epoll_pwait: it replaces the thread's for the wait.
// When a signal ends the wait its handler runs with it and rt_sigreturn restores the old
// mask (the saved_mask of rt_sigsuspend); otherwise the old mask comes back with the call.
int64_t read_sigmask(uint64_t addr, uint64_t size, uint64_t& mask) {
    if (size != sizeof mask) return -EINVAL;
    return UserPtr<uint64_t>(addr).read(mask) ? 0 : -EFAULT;
}

void wait_mask_begin(uint64_t mask) {
    Thread& t = current_thread();
    t.saved_mask = t.signal_mask;
    t.has_saved_mask = true;
    t.signal_mask = mask & ~kUnblockable;
}

int64_t wait_mask_end(int64_t result) {
    Thread& t = current_thread();
    if (result != -EINTR && t.has_saved_mask) {
        t.signal_mask = t.saved_mask;
        t.has_saved_mask = false;
    }
    return result;
}

struct PollFd {
    int32_t fd;
    int16_t events, revents;
};

// poll and ppoll: the descriptors' revents, the count of those with any.
int64_t do_poll(uint64_t fds_addr, uint64_t nfds, uint64_t deadline) {
    if (nfds > current_process().rlimits[kRlimitNofile].cur) return -EINVAL;
    const size_t bytes = nfds * sizeof(PollFd);
    auto* fds = static_cast<PollFd*>(kmalloc(bytes ? bytes : 1));
    if (!fds) return -ENOMEM;
    int64_t r = copy_from_user(fds, fds_addr, bytes) ? 0 : -EFAULT;
    if (r == 0) {
        r = wait_ready(deadline, [&](uint64_t& hint) -> int64_t {
            int64_t ready = 0;
            for (uint64_t i = 0; i < nfds; ++i) {
                PollFd& p = fds[i];
                p.revents = 0;
                if (p.fd < 0) continue;
                OpenFile* f = fd_lookup(uint64_t(p.fd));
                if (!f) {
                    p.revents = kPollNval;
                } else {
                    const int64_t rev = file_poll(*f, p.events, 0);
                    if (rev < 0) return rev;
                    p.revents = int16_t(rev);
                    const uint64_t h = file_wake_hint(*f);
                    if (h < hint) hint = h;
                }
                if (p.revents) ++ready;
            }
            return ready;
        });
        // Only revents change: write the whole array back, as Linux does.
        if (r >= 0 && !copy_to_user(fds_addr, fds, bytes)) r = -EFAULT;
    }
    kfree(fds);
    return r;
}

constexpr int kFdSetWords = kMaxFds / 64;
struct FdSet {
    uint64_t bits[kFdSetWords];
    bool has(int fd) const { return bits[fd / 64] >> (fd % 64) & 1; }
    void add(int fd) { bits[fd / 64] |= uint64_t(1) << (fd % 64); }
};

// select and pselect6 over the first `nfds` descriptors of the three sets (null: none).
int64_t do_select(int64_t nfds, const uint64_t addr[3], uint64_t deadline) {
    if (nfds < 0) return -EINVAL;
    if (nfds > kMaxFds) nfds = kMaxFds;  // Linux looks no further than its table
    const int n = int(nfds);
    const size_t bytes = size_t((n + 63) / 64) * 8;
    FdSet in[3] = {}, out[3];
    for (int s = 0; s < 3; ++s)
        if (addr[s] && !copy_from_user(in[s].bits, addr[s], bytes)) return -EFAULT;
    // A descriptor in any set must be open.
    for (int fd = 0; fd < n; ++fd)
        if ((in[0].has(fd) || in[1].has(fd) || in[2].has(fd)) && !fd_lookup(uint64_t(fd)))
            return -EBADF;
    int64_t r = wait_ready(deadline, [&](uint64_t& hint) -> int64_t {
        int64_t ready = 0;
        for (auto& set : out) set = FdSet{};
        for (int fd = 0; fd < n; ++fd) {
            const int16_t events = int16_t((in[0].has(fd) ? kPollIn : 0) |
                                           (in[1].has(fd) ? kPollOut : 0) |
                                           (in[2].has(fd) ? kPollPri : 0));
            if (!events) continue;
            OpenFile* f = fd_lookup(uint64_t(fd));
            if (!f) return -EBADF;  // closed by another thread meanwhile
            const int64_t rev = file_poll(*f, events, 0);
            if (rev < 0) return rev;
            // Linux's POLLIN_SET, POLLOUT_SET and POLLEX_SET.
            const bool hit[3] = {(rev & (kPollIn | kPollHup | kPollErr)) != 0,
                                 (rev & (kPollOut | kPollErr)) != 0, (rev & kPollPri) != 0};
            for (int s = 0; s < 3; ++s)
                if (in[s].has(fd) && hit[s]) {
                    out[s].add(fd);
                    ++ready;
                }
            const uint64_t h = file_wake_hint(*f);
            if (h < hint) hint = h;
        }
        return ready;
    });
    if (r < 0) return r;
    for (int s = 0; s < 3; ++s)
        if (addr[s] && !copy_to_user(addr[s], out[s].bits, bytes)) return -EFAULT;
    return r;
}

// epoll_wait, epoll_pwait and epoll_pwait2.
int64_t do_epoll_wait(uint64_t epfd, uint64_t events_addr, int64_t maxevents,
                      uint64_t deadline) {
    constexpr int64_t kMaxEvents = INT32_MAX / int64_t(sizeof(EpollEvent));  // EP_MAX_EVENTS
    if (maxevents <= 0 || maxevents > kMaxEvents) return -EINVAL;
    if (!user_writable(events_addr, size_t(maxevents) * sizeof(EpollEvent))) return -EFAULT;
    OpenFile* f = fd_lookup(epfd);
    if (!f) return -EBADF;
    if (f->kind != FileKind::Epoll) return -EINVAL;
    file_get(f);  // another thread may close the descriptor while this one waits
    Epoll& ep = *f->epoll;
    EpollEvent* buf = nullptr;
    size_t capacity = 0;
    int64_t r = wait_ready(deadline, [&](uint64_t& hint) -> int64_t {
        size_t entries = 0;
        for (EpollEntry* e = ep.head; e; e = e->next) ++entries;
        const size_t want = entries < size_t(maxevents) ? entries : size_t(maxevents);
        if (want > capacity) {
            kfree(buf);
            buf = static_cast<EpollEvent*>(kmalloc(want * sizeof(EpollEvent)));
            capacity = buf ? want : 0;
            if (!buf) return -ENOMEM;
        }
        const int n = want ? epoll_collect(ep, buf, int(want)) : 0;
        if (n == 0) hint = epoll_wake_hint(ep);
        return n;
    });
    if (r > 0 && !copy_to_user(events_addr, buf, size_t(r) * sizeof(EpollEvent))) r = -EFAULT;
    kfree(buf);
    file_put(f);
    return r;
}

// Installs a new description at the lowest free descriptor; consumes `f`.
int64_t install_new(OpenFile* f, bool cloexec) {
    if (!f) return -ENOMEM;
    const int fd = fd_allocate(0);
    if (fd < 0) {
        file_put(f);
        return fd;
    }
    fd_install(fd, f, cloexec);
    return fd;
}

// Whether epoll can watch the file: Linux's file_can_poll, which regular files,
// directories and most memory devices fail.
bool can_poll(OpenFile& f) {
    switch (f.kind) {
        case FileKind::Inode:
        case FileKind::HostFile: return false;
        case FileKind::Device: return f.device == kDevRandom;
        case FileKind::HostStream: {
            // A host stream redirected from or to a regular file is one.
            LinuxStat st;
            if (file_stat(f, st) < 0) return true;
            const uint32_t type = st.mode & 0170000;
            return type != 0100000 && type != 0040000;
        }
        default: return true;
    }
}

}  // namespace

int64_t sys_poll(SyscallArgs& a) {
    const int32_t timeout_ms = int32_t(a.arg[2]);
    const uint64_t deadline = timeout_ms < 0 ? kForever : deadline_after(uint64_t(timeout_ms) * kNsPerMs);
    return do_poll(a.arg[0], a.arg[1], deadline);
}

int64_t sys_ppoll(SyscallArgs& a) {
    uint64_t deadline;
    if (int64_t r = read_timeout(a.arg[2], deadline); r < 0) return r;
    uint64_t mask = 0;
    if (a.arg[3]) {
        if (int64_t r = read_sigmask(a.arg[3], a.arg[4], mask); r < 0) return r;
        wait_mask_begin(mask);
    }
    int64_t r = do_poll(a.arg[0], a.arg[1], deadline);
    // Linux writes the time left back (glibc passes a copy).
    if (a.arg[2]) {
        const uint64_t left = time_left(deadline);
        UserPtr<Timespec>(a.arg[2]).write({int64_t(left / kNsPerSec), int64_t(left % kNsPerSec)});
    }
    return a.arg[3] ? wait_mask_end(r) : r;
}

int64_t sys_select(SyscallArgs& a) {
    uint64_t deadline = kForever;
    if (a.arg[4]) {
        Timeval tv;
        if (!UserPtr<Timeval>(a.arg[4]).read(tv)) return -EFAULT;
        // Linux carries whole seconds of tv_usec over; only negative values are invalid.
        if (tv.sec < 0 || tv.usec < 0) return -EINVAL;
        const uint64_t sec = uint64_t(tv.sec) + uint64_t(tv.usec) / 1'000'000;
        deadline = sec > kForever / kNsPerSec / 2
                       ? kForever
                       : deadline_after(sec * kNsPerSec + uint64_t(tv.usec) % 1'000'000 * kNsPerUsec);
    }
    const uint64_t sets[3] = {a.arg[1], a.arg[2], a.arg[3]};
    const int64_t r = do_select(int64_t(int32_t(a.arg[0])), sets, deadline);
    // Linux tells how much of the timeout is left; a read-only timeval is not an error.
    if (a.arg[4]) {
        const uint64_t left = time_left(deadline);
        UserPtr<Timeval>(a.arg[4]).write(
            {int64_t(left / kNsPerSec), int64_t(left % kNsPerSec / kNsPerUsec)});
    }
    return r;
}

int64_t sys_pselect6(SyscallArgs& a) {
    struct SigmaskArg {
        uint64_t set, size;
    };
    uint64_t deadline;
    if (int64_t r = read_timeout(a.arg[4], deadline); r < 0) return r;
    SigmaskArg sm{0, 0};
    if (a.arg[5] && !UserPtr<SigmaskArg>(a.arg[5]).read(sm)) return -EFAULT;
    if (sm.set) {
        uint64_t mask;
        if (int64_t r = read_sigmask(sm.set, sm.size, mask); r < 0) return r;
        wait_mask_begin(mask);
    }
    const uint64_t sets[3] = {a.arg[1], a.arg[2], a.arg[3]};
    const int64_t r = do_select(int64_t(int32_t(a.arg[0])), sets, deadline);
    if (a.arg[4]) {
        const uint64_t left = time_left(deadline);
        UserPtr<Timespec>(a.arg[4]).write({int64_t(left / kNsPerSec), int64_t(left % kNsPerSec)});
    }
    return sm.set ? wait_mask_end(r) : r;
}

int64_t sys_epoll_create1(SyscallArgs& a) {
    if (a.arg[0] & ~uint64_t(kOCloexec)) return -EINVAL;
    return install_new(file_open_epoll(), a.arg[0] & kOCloexec);
}

namespace {

// signalfd and signalfd4: a new signalfd for fd -1, or a new mask for an existing one.
int64_t do_signalfd(int64_t fd, uint64_t mask_addr, uint64_t size, uint64_t flags) {
    constexpr uint64_t kSfdNonblock = kONonblock, kSfdCloexec = kOCloexec;
    if (flags & ~(kSfdNonblock | kSfdCloexec)) return -EINVAL;
    if (size != 8) return -EINVAL;
    uint64_t mask;
    if (!copy_from_user(&mask, mask_addr, sizeof mask)) return -EFAULT;
    mask &= ~kUnblockable;
    if (int32_t(fd) != -1) {
        OpenFile* f = fd_lookup(uint64_t(fd));
        if (!f) return -EBADF;
        if (f->kind != FileKind::SignalFd) return -EINVAL;
        f->sigmask = mask;
        return fd;
    }
    return install_new(file_open_signalfd(mask, uint32_t(flags)), flags & kSfdCloexec);
}

}  // namespace

int64_t sys_signalfd4(SyscallArgs& a) {
    return do_signalfd(int64_t(a.arg[0]), a.arg[1], a.arg[2], a.arg[3]);
}
int64_t sys_signalfd(SyscallArgs& a) { return do_signalfd(int64_t(a.arg[0]), a.arg[1], a.arg[2], 0); }

int64_t sys_epoll_create(SyscallArgs& a) {
    if (int32_t(a.arg[0]) <= 0) return -EINVAL;
    return install_new(file_open_epoll(), false);
}

int64_t sys_epoll_ctl(SyscallArgs& a) {
    enum { kAdd = 1, kDel = 2, kMod = 3 };
    // Bits EPOLLEXCLUSIVE may come with (EPOLLEXCLUSIVE_OK_BITS).
    constexpr uint32_t kExclusiveOk = kEpollIn | kEpollOut | kEpollErr | kEpollHup |
                                      kEpollWakeup | kEpollEt | kEpollExclusive | 0x40 |
                                      0x100;  // EPOLLRDNORM, EPOLLWRNORM
    const int op = int(a.arg[1]);
    const int fd = int(a.arg[2]);
    EpollEvent ev{0, 0};
    if (op != kDel && !UserPtr<EpollEvent>(a.arg[3]).read(ev)) return -EFAULT;
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    OpenFile* target = fd_lookup(uint64_t(uint32_t(fd)));
    if (!target) return -EBADF;
    if (!can_poll(*target)) return -EPERM;
    ev.events &= ~kEpollWakeup;  // without CAP_BLOCK_SUSPEND Linux drops it silently
    if (f == target || f->kind != FileKind::Epoll) return -EINVAL;
    if (op != kDel && (ev.events & kEpollExclusive)) {
        if (op == kMod) return -EINVAL;
        if (op == kAdd && (target->kind == FileKind::Epoll || (ev.events & ~kExclusiveOk)))
            return -EINVAL;
    }
    Epoll& ep = *f->epoll;
    if (op == kAdd && target->kind == FileKind::Epoll && epoll_reaches(*target->epoll, ep))
        return -ELOOP;
    EpollEntry* e = epoll_find(ep, target, fd);
    switch (op) {
        case kAdd:
            if (e) return -EEXIST;
            return epoll_add(ep, target, fd, ev.events | kEpollErr | kEpollHup, ev.data)
                       ? 0
                       : -ENOMEM;
        case kDel:
            if (!e) return -ENOENT;
            epoll_remove(ep, e);
            return 0;
        case kMod:
            if (!e) return -ENOENT;
            if (e->events & kEpollExclusive) return -EINVAL;
            e->events = ev.events | kEpollErr | kEpollHup;
            e->data = ev.data;
            e->reported = 0;
            e->disabled = false;
            poll_notify();  // a re-armed entry may be ready now
            return 0;
        default:
            return -EINVAL;
    }
}

int64_t sys_epoll_wait(SyscallArgs& a) {
    const int32_t timeout_ms = int32_t(a.arg[3]);
    const uint64_t deadline = timeout_ms < 0 ? kForever : deadline_after(uint64_t(timeout_ms) * kNsPerMs);
    return do_epoll_wait(a.arg[0], a.arg[1], int32_t(a.arg[2]), deadline);
}

int64_t sys_epoll_pwait(SyscallArgs& a) {
    if (!a.arg[4]) return sys_epoll_wait(a);
    uint64_t mask;
    if (int64_t r = read_sigmask(a.arg[4], a.arg[5], mask); r < 0) return r;
    wait_mask_begin(mask);
    return wait_mask_end(sys_epoll_wait(a));
}

int64_t sys_epoll_pwait2(SyscallArgs& a) {
    uint64_t deadline;
    if (int64_t r = read_timeout(a.arg[3], deadline); r < 0) return r;
    if (!a.arg[4]) return do_epoll_wait(a.arg[0], a.arg[1], int32_t(a.arg[2]), deadline);
    uint64_t mask;
    if (int64_t r = read_sigmask(a.arg[4], a.arg[5], mask); r < 0) return r;
    wait_mask_begin(mask);
    return wait_mask_end(do_epoll_wait(a.arg[0], a.arg[1], int32_t(a.arg[2]), deadline));
}

int64_t sys_eventfd2(SyscallArgs& a) {
    constexpr uint64_t kSemaphore = 1;
    if (a.arg[1] & ~uint64_t(kOCloexec | kONonblock | kSemaphore)) return -EINVAL;
    return install_new(file_open_eventfd(uint32_t(a.arg[0]), a.arg[1] & kSemaphore,
                                         uint32_t(a.arg[1])),
                       a.arg[1] & kOCloexec);
}

int64_t sys_eventfd(SyscallArgs& a) {
    SyscallArgs with_flags{{a.arg[0], 0}, a.frame};
    return sys_eventfd2(with_flags);
}

namespace {

constexpr uint32_t kClockRealtimeAlarm = 8, kClockBoottimeAlarm = 9;
constexpr uint64_t kTfdTimerAbstime = 1, kTfdTimerCancelOnSet = 2;

struct Itimerspec {
    Timespec interval, value;
};

OpenFile* timerfd_lookup(uint64_t fd, int64_t& error) {
    OpenFile* f = fd_lookup(fd);
    error = !f ? -EBADF : f->kind != FileKind::TimerFd ? -EINVAL : 0;
    return error ? nullptr : f;
}

Timespec to_timespec(uint64_t ns) { return {int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec)}; }

Itimerspec timer_setting(TimerFd& t) {
    timerfd_update(t);
    const uint64_t now = timer_clock_now(t.clock);
    return {to_timespec(t.interval), to_timespec(t.next > now ? t.next - now : 0)};
}

bool valid(const Timespec& ts) {
    return ts.sec >= 0 && ts.nsec >= 0 && uint64_t(ts.nsec) < kNsPerSec;
}

uint64_t to_ns(const Timespec& ts) {
    return uint64_t(ts.sec) > (kForever - uint64_t(ts.nsec)) / kNsPerSec / 2
               ? kForever / 2
               : uint64_t(ts.sec) * kNsPerSec + uint64_t(ts.nsec);
}

}  // namespace

int64_t sys_timerfd_create(SyscallArgs& a) {
    const uint32_t clock = uint32_t(a.arg[0]);
    if (a.arg[1] & ~uint64_t(kOCloexec | kONonblock)) return -EINVAL;
    if (clock != kClockRealtime && clock != kClockMonotonic && clock != kClockBoottime &&
        clock != kClockRealtimeAlarm && clock != kClockBoottimeAlarm)
        return -EINVAL;
    const bool alarm = clock == kClockRealtimeAlarm || clock == kClockBoottimeAlarm;
    if (alarm && current_process().uid != 0) return -EPERM;  // CAP_WAKE_ALARM
    // The alarm clocks only add waking a suspended machine, which a VM never is.
    const uint32_t base = clock == kClockRealtimeAlarm ? kClockRealtime
                          : clock == kClockBoottimeAlarm ? kClockBoottime
                                                          : clock;
    return install_new(file_open_timerfd(base, uint32_t(a.arg[1])), a.arg[1] & kOCloexec);
}

int64_t sys_timerfd_settime(SyscallArgs& a) {
    Itimerspec its;
    if (!UserPtr<Itimerspec>(a.arg[2]).read(its)) return -EFAULT;
    const uint64_t flags = a.arg[1];
    if (flags & ~(kTfdTimerAbstime | kTfdTimerCancelOnSet)) return -EINVAL;
    if (!valid(its.value) || !valid(its.interval)) return -EINVAL;
    int64_t error;
    OpenFile* f = timerfd_lookup(a.arg[0], error);
    if (!f) return error;
    TimerFd& t = *f->timer;
    // TFD_TIMER_CANCEL_ON_SET: the guest's realtime clock is never set, so nothing cancels.
    if ((flags & kTfdTimerCancelOnSet) &&
        (t.clock != kClockRealtime || !(flags & kTfdTimerAbstime)))
        return -EINVAL;
    const Itimerspec old = timer_setting(t);
    uint64_t value = to_ns(its.value);
    if (value && !(flags & kTfdTimerAbstime)) value += timer_clock_now(t.clock);
    timerfd_arm(t, value, to_ns(its.interval));
    if (a.arg[3] && !UserPtr<Itimerspec>(a.arg[3]).write(old)) return -EFAULT;
    return 0;
}

int64_t sys_timerfd_gettime(SyscallArgs& a) {
    int64_t error;
    OpenFile* f = timerfd_lookup(a.arg[0], error);
    if (!f) return error;
    return UserPtr<Itimerspec>(a.arg[1]).write(timer_setting(*f->timer)) ? 0 : -EFAULT;
}

}  // namespace utx::kernel
