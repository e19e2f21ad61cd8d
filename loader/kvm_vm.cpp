// loader/kvm_vm.cpp: the KVM backend: one VM over guest RAM, vCPUs entered in long mode.
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include "loader/strprintf.h"
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <chrono>
#include <thread>
#include <vector>

#include "abi/boot_info.h"
#include "abi/hypercall.h"
#include "loader/backend.h"
#include "loader/host_events.h"
#include "loader/unique_fd.h"

namespace utx::loader {
namespace {

// The first vCPU's run area, for the signal handler (immediate_exit); null before it runs
// and once it is gone (signals still come: SIGCHLD while utx-run reaps the others at the
// end, or in a forked child before its own VM exists).
std::atomic<kvm_run*> g_run;
pthread_t g_first_thread;  // and its thread, which injects the NMIs

// Ends a KVM_RUN in another vCPU thread (with immediate_exit set first): its handler does
// nothing, but the signal interrupts the ioctl.
const int kKickSignal = SIGRTMIN;

constexpr uint64_t kCr0Pe = 1, kCr0Mp = 2, kCr0Et = 0x10, kCr0Ne = 0x20, kCr0Wp = 0x10000,
                   kCr0Pg = 0x80000000;
constexpr uint64_t kCr4Pae = 0x20, kCr4Osfxsr = 0x200, kCr4Osxmmexcpt = 0x400;
constexpr uint64_t kEferSce = 1, kEferLme = 0x100, kEferLma = 0x400, kEferNxe = 0x800;

std::string errno_text() { return std::strerror(errno); }

// struct kvm_cpuid2 as the kernel lays it out. linux-libc-dev 6.1 (Debian 12) declares its
// `entries` with __DECLARE_FLEX_ARRAY, which in C++ wraps the array in a struct beside an
// empty struct member (1 byte in C++): entries lands at offset 12 instead of 8, and
// sizeof(kvm_cpuid2), which is part of KVM_GET_SUPPORTED_CPUID and KVM_SET_CPUID2, becomes
// 12, so the kernel rejects both ioctls with EINVAL. Spell out the layout and the numbers.
constexpr uint32_t kMaxCpuidEntries = 256;
struct CpuidHeader {
    uint32_t nent;
    uint32_t padding;
};
struct Cpuid2 {
    CpuidHeader header;
    kvm_cpuid_entry2 entries[kMaxCpuidEntries];
};
static_assert(sizeof(CpuidHeader) == 8 && sizeof(kvm_cpuid_entry2) == 40);
static_assert(offsetof(Cpuid2, entries) == 8);
constexpr unsigned long kKvmGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long kKvmSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
static_assert(kKvmGetSupportedCpuid == 0xc008ae05 && kKvmSetCpuid2 == 0x4008ae90);

// The same trouble with struct kvm_msrs (entries[]) and struct kvm_xsave (extra[]).
struct MsrsHeader {
    uint32_t nmsrs;
    uint32_t pad;
};
struct Xsave {
    uint32_t region[1024];
};
constexpr unsigned long kKvmGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long kKvmSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
constexpr unsigned long kKvmGetXsave = _IOR(KVMIO, 0xa4, Xsave);
constexpr unsigned long kKvmSetXsave = _IOW(KVMIO, 0xa5, Xsave);
static_assert(kKvmGetMsrs == 0xc008ae88 && kKvmGetXsave == 0x9000aea4);

// The MSRs the kernel sets, which a forked VM must see again. The TSC goes first so that a
// TSC deadline (last, after the LAPIC) is read against it.
constexpr uint32_t kMsrTsc = 0x10, kMsrTscDeadline = 0x6e0;
constexpr uint32_t kForkMsrs[] = {kMsrTsc,    0x277 /* PAT */, 0xc0000081 /* STAR */,
                                  0xc0000082, 0xc0000083,      0xc0000084,
                                  0xc0000100, 0xc0000101,      0xc0000102,
                                  0xc0000103 /* TSC_AUX */,    kMsrTscDeadline};
constexpr size_t kForkMsrCount = sizeof kForkMsrs / sizeof kForkMsrs[0];
struct Msrs {
    MsrsHeader header;
    kvm_msr_entry entries[kForkMsrCount];
};

}  // namespace

// What a fork carries into the child's VM: the calling vCPU as it made the request.
struct VcpuState {
    kvm_regs regs;
    kvm_sregs sregs;
    Xsave xsave;
    bool has_xsave;
    kvm_fpu fpu;
    kvm_xcrs xcrs;
    bool has_xcrs;
    kvm_lapic_state lapic;
    kvm_vcpu_events events;
    Msrs msrs;
    uint64_t host_tsc;  // the host's TSC when the guest's was read
};

namespace {

void set_segment(kvm_segment& s, uint16_t selector, uint8_t type, bool code64) {
    s = {};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.dpl = 0;
    s.db = code64 ? 0 : 1;
    s.s = 1;
    s.l = code64 ? 1 : 0;
    s.g = 1;
}

// PVM (kvm_pvm, ../shared/DESIGN.md "Platforms") runs guest ring 0 natively once the vCPU
// has a virtual-interrupt-flag page: KVM_SET_MSRS of this MSR with the page's
// guest-physical address and kPvmVifEnable. Without it every ring-0 instruction is
// emulated. (What the kvm_pvm of these hosts does; DEVELOPERS.md, "PVM".)
constexpr uint32_t kMsrPvmVif = 0x4b564d10;
constexpr uint64_t kPvmVifEnable = 0x400;
// kvm_pvm swaps the GS bases itself on entry from user mode (events 2, syscalls 4), as its
// emulation of sysretq and iretq to user mode does on the way back: the kernel's swapgs
// would be one more exit (about 15 us each here) on every system call.
constexpr uint64_t kPvmVifSwapGs = 0x6;

class Vcpu {
public:
    bool create(int vm_fd, int kvm_fd, uint32_t index, std::string& error) {
        index_ = index;
        fd_.reset(ioctl(vm_fd, KVM_CREATE_VCPU, index));
        if (!fd_) return error = "KVM_CREATE_VCPU: " + errno_text(), false;
        int size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (size <= 0) return error = "KVM_GET_VCPU_MMAP_SIZE: " + errno_text(), false;
        void* p = mmap(nullptr, size_t(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
        if (p == MAP_FAILED) return error = "mmap kvm_run: " + errno_text(), false;
        run_ = static_cast<kvm_run*>(p);
        run_size_ = size_t(size);
        return true;
    }
    ~Vcpu() { release(); }

    // KVM_GET_SUPPORTED_CPUID costs about a millisecond on PVM: asked once per utx-run and
    // kept for every vCPU, of this VM and of the VMs forked from it.
    bool setup_cpuid(int kvm_fd, std::string& error) {
        static std::unique_ptr<Cpuid2> cpuid;
        if (!cpuid) {
            auto asked = std::make_unique<Cpuid2>();
            asked->header.nent = kMaxCpuidEntries;
            if (ioctl(kvm_fd, kKvmGetSupportedCpuid, asked.get()) < 0)
                return error = "KVM_GET_SUPPORTED_CPUID: " + errno_text(), false;
            cpuid = std::move(asked);
        }
        if (ioctl(fd_.get(), kKvmSetCpuid2, cpuid.get()) < 0)
            return error = "KVM_SET_CPUID2: " + errno_text(), false;
        return true;
    }

    bool enter_pvm(std::string& error) {
        struct {
            MsrsHeader header;
            kvm_msr_entry entry;
        } m = {{1, 0},
               {kMsrPvmVif, 0,
                (abi::kPvmVifGpa + index_ * 4096ULL) | kPvmVifEnable | kPvmVifSwapGs}};
        if (ioctl(fd_.get(), kKvmSetMsrs, &m) != 1)
            return error = "PVM: KVM_SET_MSRS of the VIF page refused: " + errno_text(), false;
        return true;
    }

    // Long mode on the boot page tables at rip with rsp and rdi.
    bool enter_long_mode(const BootLayout& layout, uint64_t rip, uint64_t rsp, uint64_t rdi,
                         std::string& error) {
        kvm_sregs sregs;
        if (ioctl(fd_.get(), KVM_GET_SREGS, &sregs) < 0)
            return error = "KVM_GET_SREGS: " + errno_text(), false;
        sregs.cr3 = layout.pml4_gpa;
        sregs.cr4 = kCr4Pae | kCr4Osfxsr | kCr4Osxmmexcpt;
        sregs.cr0 = kCr0Pe | kCr0Mp | kCr0Et | kCr0Ne | kCr0Wp | kCr0Pg;
        sregs.efer = kEferSce | kEferLme | kEferLma | kEferNxe;
        set_segment(sregs.cs, 0x08, 0xb, true);
        set_segment(sregs.ds, 0x10, 0x3, false);
        sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
        if (ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0)
            return error = "KVM_SET_SREGS: " + errno_text(), false;
        kvm_regs regs = {};
        regs.rip = rip;
        regs.rsp = rsp;
        regs.rdi = rdi;
        regs.rflags = 2;
        if (ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0)
            return error = "KVM_SET_REGS: " + errno_text(), false;
        // Other vCPUs wait for INIT and STARTUP under the in-kernel APIC: this one runs now.
        kvm_mp_state state = {KVM_MP_STATE_RUNNABLE};
        if (index_ != 0 && ioctl(fd_.get(), KVM_SET_MP_STATE, &state) < 0)
            return error = "KVM_SET_MP_STATE: " + errno_text(), false;
        return true;
    }

    // The state a fork carries over, taken while the vCPU is stopped in the request: the
    // port I/O is completed first (KVM_RUN with immediate_exit does that without running
    // the guest), so that rip is past the `out`.
    bool capture(int kvm_fd, VcpuState& st, std::string& error) {
        run_->immediate_exit = 1;
        if (ioctl(fd_.get(), KVM_RUN, 0) == 0 || errno != EINTR) {
            run_->immediate_exit = 0;
            return error = "KVM_RUN to complete the fork request: " + errno_text(), false;
        }
        run_->immediate_exit = 0;
        if (ioctl(fd_.get(), KVM_GET_REGS, &st.regs) < 0 ||
            ioctl(fd_.get(), KVM_GET_SREGS, &st.sregs) < 0 ||
            ioctl(fd_.get(), KVM_GET_LAPIC, &st.lapic) < 0 ||
            ioctl(fd_.get(), KVM_GET_VCPU_EVENTS, &st.events) < 0)
            return error = "reading the vCPU for a fork: " + errno_text(), false;
        st.has_xsave = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
        if (st.has_xsave ? ioctl(fd_.get(), kKvmGetXsave, &st.xsave) < 0
                         : ioctl(fd_.get(), KVM_GET_FPU, &st.fpu) < 0)
            return error = "reading the FPU state for a fork: " + errno_text(), false;
        st.has_xcrs = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
                      ioctl(fd_.get(), KVM_GET_XCRS, &st.xcrs) == 0;
        st.msrs.header = {uint32_t(kForkMsrCount), 0};
        for (size_t i = 0; i < kForkMsrCount; ++i) st.msrs.entries[i] = {kForkMsrs[i], 0, 0};
        int got = ioctl(fd_.get(), kKvmGetMsrs, &st.msrs);
        st.host_tsc = __rdtsc();
        if (got < 0) return error = "KVM_GET_MSRS: " + errno_text(), false;
        st.msrs.header.nmsrs = uint32_t(got);  // those before the first one KVM lacks
        return true;
    }

    // The forked vCPU, in the child's new VM: it goes on from the request as the first
    // vCPU (APIC ID 0), with the guest's TSC running on from where the parent's was.
    bool restore(const VcpuState& saved, std::string& error) {
        VcpuState st = saved;
        st.lapic.regs[0x23] = 0;  // xAPIC ID register, bits 24..31
        for (uint32_t i = 0; i < st.msrs.header.nmsrs; ++i)
            if (st.msrs.entries[i].index == kMsrTsc)
                st.msrs.entries[i].data += __rdtsc() - st.host_tsc;
        st.events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
        if (ioctl(fd_.get(), KVM_SET_SREGS, &st.sregs) < 0 ||
            ioctl(fd_.get(), KVM_SET_REGS, &st.regs) < 0 ||
            (st.has_xcrs && ioctl(fd_.get(), KVM_SET_XCRS, &st.xcrs) < 0) ||
            (st.has_xsave ? ioctl(fd_.get(), kKvmSetXsave, &st.xsave) < 0
                          : ioctl(fd_.get(), KVM_SET_FPU, &st.fpu) < 0) ||
            ioctl(fd_.get(), KVM_SET_LAPIC, &st.lapic) < 0 ||
            ioctl(fd_.get(), KVM_SET_VCPU_EVENTS, &st.events) < 0)
            return error = "setting up the forked vCPU: " + errno_text(), false;
        if (ioctl(fd_.get(), kKvmSetMsrs, &st.msrs) != int(st.msrs.header.nmsrs))
            return error = "KVM_SET_MSRS for the forked vCPU: " + errno_text(), false;
        return true;
    }

    // In a forked child: lets go of the parent's vCPU (its run area and descriptor).
    void release() {
        kvm_run* mine = run_;
        g_run.compare_exchange_strong(mine, nullptr);  // before the signal handler loses it
        if (run_) munmap(run_, run_size_);
        run_ = nullptr;
        fd_.reset();
    }

    // Makes a KVM_RUN of this vCPU's thread return soon (the guest ended elsewhere).
    void kick(pthread_t thread) {
        run_->immediate_exit = 1;
        pthread_kill(thread, kKickSignal);
    }

    // Runs until the guest exits or fails; the outcome is left in `handler`. On the first
    // vCPU, signals sent to utx-run and NMI requests of other threads end KVM_RUN
    // (immediate_exit, set by the kick, closes the race with entering it; the kick signal
    // interrupts a KVM_RUN under way) and reach the guest with an NMI; the other vCPU
    // threads block the signals.
    using ForkHook = std::function<void(Vcpu&, uint64_t request_gpa, int32_t child)>;
    void run(HypercallHandler& handler, const GuestMemory& mem, const ForkHook& fork) {
        if (index_ == 0) {
            g_first_thread = pthread_self();
            g_run = run_;
            host_events_install(-1, [] {
                if (kvm_run* run = g_run.load()) {
                    run->immediate_exit = 1;
                    pthread_kill(g_first_thread, kKickSignal);
                }
            });
            if (handler.family()) host_events_install_family();
        }
        std::function<uint64_t(uint64_t)> family;
        if (index_ == 0 && handler.family()) {
            family = [&handler](uint64_t bits) { return handler.family_signals(bits); };
        }
        for (;;) {
            run_->immediate_exit = 0;  // a signal from here on makes KVM_RUN return at once
            if (handler.finished()) break;  // after the reset: a kick is never lost
            if (index_ == 0 && host_events_service(mem, family)) {
                if (ioctl(fd_.get(), KVM_NMI, 0) < 0) {
                    handler.fail("KVM_NMI: " + errno_text());
                    return;
                }
                host_events_count_nmi();
            }
            if (ioctl(fd_.get(), KVM_RUN, 0) < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    handler.count_exit();
                    continue;
                }
                handler.fail("KVM_RUN: " + errno_text());
                return;
            }
            handler.count_exit();
            switch (run_->exit_reason) {
                case KVM_EXIT_IO:
                    if (run_->io.port == abi::kHypercallPort &&
                        run_->io.direction == KVM_EXIT_IO_OUT && run_->io.size == 1) {
                        auto* data = reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset;
                        handler.handle(*data);
                        uint64_t request_gpa;
                        int32_t child;
                        if (fork && handler.take_fork(*data, request_gpa, child))
                            fork(*this, request_gpa, child);
                    } else {
                        handler.fail(format("guest accessed I/O port {:#x}", run_->io.port));
                    }
                    break;
                case KVM_EXIT_HLT:
                    handler.fail("guest halted without exiting");
                    break;
                case KVM_EXIT_SHUTDOWN: {
                    // Where it was, when KVM still says: the place to start looking.
                    kvm_regs r = {};
                    kvm_sregs s = {};
                    if (ioctl(fd_.get(), KVM_GET_REGS, &r) == 0 &&
                        ioctl(fd_.get(), KVM_GET_SREGS, &s) == 0)
                        handler.fail(format("guest crashed (triple fault) at rip {:#x}, rsp {:#x}, "
                                            "cr2 {:#x}", r.rip, r.rsp, s.cr2));
                    else
                        handler.fail("guest crashed (triple fault)");
                    break;
                }
                case KVM_EXIT_MMIO:
                    handler.fail(format("guest accessed unmapped memory at {:#x}",
                                             run_->mmio.phys_addr));
                    break;
                case KVM_EXIT_FAIL_ENTRY:
                    handler.fail(format("KVM entry failed (reason {:#x})",
                                             run_->fail_entry.hardware_entry_failure_reason));
                    break;
                case KVM_EXIT_INTERNAL_ERROR:
                    handler.fail(format("KVM internal error (suberror {})",
                                             run_->internal.suberror));
                    break;
                default:
                    handler.fail(format("unexpected KVM exit {}", run_->exit_reason));
                    break;
            }
        }
    }

    uint32_t index() const { return index_; }

private:
    UniqueFd fd_;
    kvm_run* run_ = nullptr;
    size_t run_size_ = 0;
    uint32_t index_ = 0;
};

}  // namespace

bool kvm_is_pvm() {
    struct stat st;
    return stat("/sys/module/kvm_pvm", &st) == 0;
}

bool kvm_available(std::string& why) {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        why = errno == ENOENT ? "/dev/kvm does not exist (no KVM on this host)"
                              : "cannot open /dev/kvm: " + errno_text();
        return false;
    }
    close(fd);
    return true;
}

bool kvm_by_default(std::string& why) {
    if (!kvm_available(why)) return false;
    if (kvm_is_pvm()) {
        why = "/dev/kvm is PVM (kvm_pvm), where utx's PVM platform is not complete yet "
              "(--backend kvm uses it)";
        return false;
    }
    return true;
}

namespace {

bool run_vm(GuestMemory& mem, const BootLayout& layout, const RunConfig& config,
            HypercallHandler& handler, const VcpuState* restore, std::string& error) {
    UniqueFd kvm(open("/dev/kvm", O_RDWR | O_CLOEXEC));
    if (!kvm) {
        kvm_available(error);
        return false;
    }
    if (ioctl(kvm.get(), KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        return error = "unsupported KVM API version", false;
    UniqueFd vm(ioctl(kvm.get(), KVM_CREATE_VM, 0));
    if (!vm) return error = "KVM_CREATE_VM: " + errno_text(), false;
    kvm_userspace_memory_region region = {};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = mem.size();
    region.userspace_addr = reinterpret_cast<uint64_t>(mem.host_base());
    if (ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return error = "KVM_SET_USER_MEMORY_REGION: " + errno_text(), false;
    // Intel needs a TSS area below 4 GiB outside RAM before the irqchip exists.
    ioctl(vm.get(), KVM_SET_TSS_ADDR, 0xfffbd000UL);
    if (ioctl(vm.get(), KVM_CREATE_IRQCHIP, 0) < 0)
        return error = "KVM_CREATE_IRQCHIP: " + errno_text(), false;

    // A forked VM runs on one vCPU: its kernel goes on as a single CPU.
    const uint32_t count = restore ? 1 : config.vcpus ? config.vcpus : 1;
    std::vector<std::unique_ptr<Vcpu>> vcpus;
    for (uint32_t i = 0; i < count; ++i) {
        vcpus.push_back(std::make_unique<Vcpu>());
        if (!vcpus.back()->create(vm.get(), kvm.get(), i, error) ||
            !vcpus.back()->setup_cpuid(kvm.get(), error))
            return false;
    }
    if (kvm_is_pvm())
        for (auto& v : vcpus)
            if (!v->enter_pvm(error)) return false;
    if (restore ? !vcpus[0]->restore(*restore, error)
                : !vcpus[0]->enter_long_mode(layout, layout.entry, 0, layout.boot_info_gpa, error))
        return false;

    // The other vCPUs get a thread each when the kernel asks for them (kHcStartCpu). The
    // request is served under the handler's lock, so `threads` needs no other.
    struct sigaction kick = {};
    kick.sa_handler = [](int) {};
    sigaction(kKickSignal, &kick, nullptr);
    // state: 0 not started, 1 starting, 2 running with its thread in `handles`.
    std::vector<std::thread> threads(count);
    std::vector<pthread_t> handles(count);
    auto state = std::make_unique<std::atomic<int>[]>(count);
    handles[0] = pthread_self();
    state[0] = 2;
    auto stop_all = [&] {
        for (uint32_t i = 0; i < count; ++i) {
            while (state[i].load(std::memory_order_acquire) == 1) std::this_thread::yield();
            if (state[i].load(std::memory_order_acquire) == 2) vcpus[i]->kick(handles[i]);
        }
    };

    // fork(): the host process forks (guest RAM is MAP_PRIVATE: the child's is a
    // copy-on-write copy), and the child makes a VM of its own over it, with the calling
    // vCPU as it was. The guest's kernel lock is held by the caller, so no other vCPU is in
    // the VMM meanwhile.
    Vcpu::ForkHook fork = [&](Vcpu& caller, uint64_t request_gpa, int32_t child) {
        VcpuState st;
        std::string why;
        if (!caller.capture(kvm.get(), st, why)) {
            handler.refuse_fork(request_gpa, child, -EIO);
            handler.fail(why);
            return;
        }
        if (handler.fork_host(request_gpa, child) != 0) return;
        // The child: only this thread is left of the parent's, its signals held until the
        // VM runs (run_vm unblocks them). Drop the parent's VM, answer the request as the
        // child, and run the new VM on this thread until its guest ends.
        for (auto& v : vcpus) v->release();
        vm.reset();
        handler.become_child(request_gpa, child);
        std::string child_error;
        const bool started = (!config.child_start || config.child_start(child_error)) &&
                             run_vm(mem, layout, config, handler, &st, child_error);
        config.child_done(started, child_error);
    };
    if (!config.child_done || !handler.family()) fork = nullptr;
    handler.allow_fork(fork != nullptr);

    handler.set_start_cpu([&](uint32_t index, uint64_t rip, uint64_t rsp, uint64_t rdi) -> int64_t {
        if (index == 0 || index >= count || state[index].load() != 0) return -EINVAL;
        std::string why;
        if (!vcpus[index]->enter_long_mode(layout, rip, rsp, rdi, why)) {
            handler.fail(why);
            return -EIO;
        }
        state[index].store(1, std::memory_order_release);
        threads[index] = std::thread([&, index] {
            sigset_t forwarded;
            sigemptyset(&forwarded);
            for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD,
                            host_events_doorbell_signal()})
                sigaddset(&forwarded, sig);
            pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);
            vcpus[index]->run(handler, mem, fork);
            stop_all();  // the guest ended here: the others stop too
        });
        handles[index] = threads[index].native_handle();
        state[index].store(2, std::memory_order_release);
        return 0;
    });
    if (restore) {  // a forked VM's thread held its signals back until now
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    }
    vcpus[0]->run(handler, mem, fork);
    stop_all();
    for (auto& t : threads)
        if (t.joinable()) t.join();
    handler.set_start_cpu(nullptr);
    handler.allow_fork(false);
    // A forked child ends here, with its VM still open: destroying a VM takes several
    // milliseconds on PVM, which the parent need not wait for (child_done tells it first).
    if (restore) config.child_done(true, std::string());
    return true;
}

}  // namespace

bool run_kvm(GuestMemory& mem, const BootLayout& layout, const RunConfig& config,
             HypercallHandler& handler, std::string& error) {
    return run_vm(mem, layout, config, handler, nullptr, error);
}

}  // namespace utx::loader
