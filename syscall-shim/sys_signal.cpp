// syscall-shim/sys_signal.cpp: signal dispositions and masks. Dispositions are recorded;
// delivery to handlers comes with [threads]. Default actions that terminate are carried out.
#include "kernel/process.h"
#include "kernel/sched/sched.h"
#include "syscall-shim/handlers.h"
#include "kernel/mm/user_access.h"

namespace utx::kernel {
namespace {

constexpr int kSigKill = 9, kSigStop = 19;
constexpr uint64_t kUnblockable = (1ULL << (kSigKill - 1)) | (1ULL << (kSigStop - 1));
constexpr uint64_t kSigDfl = 0, kSigIgn = 1;

// Signals whose default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH).
bool default_ignored(int sig) { return sig == 17 || sig == 18 || sig == 23 || sig == 28; }

}  // namespace

int64_t sys_rt_sigaction(SyscallArgs& a) {
    const int sig = int(a.arg[0]);
    if (a.arg[3] != 8) return -EINVAL;
    if (sig < 1 || sig > kSignals) return -EINVAL;
    Process& p = current_process();
    SigAction next;
    if (a.arg[1]) {
        if (sig == kSigKill || sig == kSigStop) return -EINVAL;
        if (!UserPtr<SigAction>(a.arg[1]).read(next)) return -EFAULT;
    }
    if (a.arg[2] && !UserPtr<SigAction>(a.arg[2]).write(p.actions[sig])) return -EFAULT;
    if (a.arg[1]) {
        next.mask &= ~kUnblockable;
        p.actions[sig] = next;
    }
    return 0;
}

int64_t sys_rt_sigprocmask(SyscallArgs& a) {
    enum { kBlock = 0, kUnblock = 1, kSetMask = 2 };
    if (a.arg[3] != 8) return -EINVAL;
    Process& p = current_process();
    uint64_t set = 0;
    if (a.arg[1]) {
        if (a.arg[0] > kSetMask) return -EINVAL;
        if (!UserPtr<uint64_t>(a.arg[1]).read(set)) return -EFAULT;
    }
    if (a.arg[2] && !UserPtr<uint64_t>(a.arg[2]).write(p.signal_mask)) return -EFAULT;
    if (a.arg[1]) {
        switch (a.arg[0]) {
            case kBlock: p.signal_mask |= set; break;
            case kUnblock: p.signal_mask &= ~set; break;
            case kSetMask: p.signal_mask = set; break;
        }
        p.signal_mask &= ~kUnblockable;
    }
    return 0;
}

int64_t sys_sigaltstack(SyscallArgs& a) {
    struct StackT {
        uint64_t sp;
        int32_t flags;
        int32_t pad;
        uint64_t size;
    };
    constexpr int32_t kSsDisable = 2, kSsAutodisarm = int32_t(1u << 31);
    constexpr uint64_t kMinSigStkSz = 2048;
    Process& p = current_process();
    StackT old{p.altstack_sp, int32_t(p.altstack_flags), 0, p.altstack_size};
    if (a.arg[0]) {
        StackT ss;
        if (!UserPtr<StackT>(a.arg[0]).read(ss)) return -EFAULT;
        int32_t mode = ss.flags & ~kSsAutodisarm;
        if (mode != 0 && mode != kSsDisable) return -EINVAL;
        if (mode == 0 && ss.size < kMinSigStkSz) return -ENOMEM;
        p.altstack_sp = mode == kSsDisable ? 0 : ss.sp;
        p.altstack_size = mode == kSsDisable ? 0 : ss.size;
        p.altstack_flags = uint32_t(ss.flags);
    }
    if (a.arg[1] && !UserPtr<StackT>(a.arg[1]).write(old)) return -EFAULT;
    return 0;
}

namespace {

// A signal sent to ourselves: carry out the default action, or report that handler
// delivery is not there yet.
int64_t send_to_self(int sig) {
    if (sig < 0 || sig > kSignals) return -EINVAL;
    if (sig == 0) return 0;
    Process& p = current_process();
    uint64_t handler = p.actions[sig].handler;
    if (handler == kSigIgn || (handler == kSigDfl && default_ignored(sig))) return 0;
    if (handler == kSigDfl && (sig == kSigKill || !(p.signal_mask & (1ULL << (sig - 1)))))
        process_kill(sig, 0, 0);
    return -ENOSYS;  // a handler or a blocked signal needs delivery ([threads])
}

}  // namespace

int64_t sys_kill(SyscallArgs& a) {
    const int64_t pid = int64_t(a.arg[0]);
    const Process& p = current_process();
    if (pid != p.pid && pid != 0 && pid != -1 && pid != -p.pgid) return -ESRCH;
    return send_to_self(int(a.arg[1]));
}

int64_t sys_tgkill(SyscallArgs& a) {
    if (int64_t(a.arg[0]) <= 0 || int64_t(a.arg[1]) <= 0) return -EINVAL;
    if (a.arg[0] != uint64_t(current_process().pid) || !thread_find(int(a.arg[1]))) return -ESRCH;
    return send_to_self(int(a.arg[2]));
}

int64_t sys_tkill(SyscallArgs& a) {
    if (int64_t(a.arg[0]) <= 0) return -EINVAL;
    if (!thread_find(int(a.arg[0]))) return -ESRCH;
    return send_to_self(int(a.arg[1]));
}

}  // namespace utx::kernel

namespace utx::kernel {

// Nothing is ever left pending: a signal is acted on when sent, or refused (ENOSYS) until
// delivery to handlers lands.
int64_t sys_rt_sigpending(SyscallArgs& a) {
    if (a.arg[1] > 8) return -EINVAL;
    const uint64_t none_pending = 0;
    return copy_to_user(a.arg[0], &none_pending, a.arg[1]) ? 0 : -EFAULT;
}

}  // namespace utx::kernel
