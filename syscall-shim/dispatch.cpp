// syscall-shim/dispatch.cpp: one table lookup from the syscall number to the handler.
#include "kernel/arch/x86_64/smp.h"
#include "kernel/lib/log.h"
#include "kernel/process.h"
#include "syscall-shim/handlers.h"
#include "syscall-shim/trace.h"
#include "kernel/fs/vfs.h"
#include "kernel/platform/host_events.h"
#include "kernel/signal.h"

namespace utx::kernel {
namespace {

using Handler = int64_t (*)(SyscallArgs&);
constexpr int kTableSize = 512;

struct Entry {
    Handler handler;
    const char* name;
};

constexpr auto build_table() {
    struct Table {
        Entry e[kTableSize];
    } t{};
#define SYSCALL(x86_64_nr, riscv64_nr, name, handler, status, note) \
    if (x86_64_nr >= 0) t.e[x86_64_nr] = Entry{&handler, #name};
#include "syscalls.def"
#undef SYSCALL
    return t;
}

constexpr auto kTable = build_table();
uint32_t g_counts[kTableSize];
uint32_t g_unknown_count;
bool g_trace;

}  // namespace

int64_t none(SyscallArgs&) { return -ENOSYS; }

const char* syscall_name(uint64_t nr) {
    return nr < kTableSize && kTable.e[nr].name ? kTable.e[nr].name : nullptr;
}

void syscalls_init(bool trace) { g_trace = trace; }

void syscall_report_summary() {
    uint64_t total = g_unknown_count;
    for (int i = 0; i < kTableSize; ++i) total += g_counts[i];
    klog("utx-run: %lu system calls\n", (unsigned long)total);
    bool any = false;
    for (int i = 0; i < kTableSize; ++i) {
        if (!g_counts[i] || kTable.e[i].handler != &none) continue;
        if (!any) klog("utx-run: not implemented (ENOSYS):\n");
        any = true;
        klog("utx-run:   %s (%d) x%u\n", kTable.e[i].name, i, g_counts[i]);
    }
    if (g_unknown_count) klog("utx-run:   unknown numbers x%u\n", g_unknown_count);
    if (cpu_count() > 1) {
        const SmpStats& s = smp_stats();
        klog("utx-run: %u vCPUs: %lu wake-up IPIs, %lu TLB shootdowns (%lu IPIs), %lu timer "
             "interrupts in the application\n",
             cpu_count(), (unsigned long)s.wake_ipis, (unsigned long)s.shootdowns,
             (unsigned long)s.shootdown_ipis, (unsigned long)s.user_timer_ticks);
    }
    vfs_report_missing();
}

}  // namespace utx::kernel

using namespace utx::kernel;

namespace {

// Returns true when the frame must be restored whole (iret): after rt_sigreturn, or when a
// signal handler's frame or a restart changed it.
bool syscall_run(TrapFrame* f) {
    const uint64_t nr = f->rax;
    f->error = nr;  // kept for a restart after a signal
    SyscallArgs args{{f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9}, f};
    int64_t result;
    if (nr < kTableSize && kTable.e[nr].handler) {
        ++g_counts[nr];
        if (g_trace) trace_enter(nr, args);
        result = kTable.e[nr].handler(args);
    } else {
        ++g_unknown_count;
        if (g_trace) trace_enter(nr, args);
        result = -ENOSYS;
    }
    if (g_trace) trace_exit(nr, args, result);
    f->rax = uint64_t(result);
    thread_exit_if_zapped();
    // rt_sigreturn and a successful execve replace the whole frame.
    constexpr uint64_t kRtSigreturn = 15, kExecve = 59, kExecveat = 322;
    const bool full = nr == kRtSigreturn || ((nr == kExecve || nr == kExecveat) && result == 0);
    host_events_take();
    const Thread& t = current_thread();
    if (result == -ERESTARTSYS || ((t.pending | signal_pending(t)) & ~t.signal_mask) ||
        t.has_saved_mask)
        return signal_deliver(*f, !full) || full;
    return full;
}

}  // namespace

// The syscall instruction's entry (entry.S), under the kernel lock.
extern "C" uint64_t syscall_dispatch(TrapFrame* f) {
    kernel_enter();
    const bool full = syscall_run(f);
    kernel_exit();
    return full;
}
