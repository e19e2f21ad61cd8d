// loader/kvm_vm.cpp: the KVM backend: one VM over guest RAM, vCPUs entered in long mode.
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include "loader/strprintf.h"
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "abi/boot_info.h"
#include "abi/hypercall.h"
#include "loader/backend.h"
#include "loader/host_events.h"
#include "loader/unique_fd.h"

namespace utx::loader {
namespace {

kvm_run* g_run;  // the first vCPU's run area, for the signal handler (immediate_exit)
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
    ~Vcpu() {
        if (run_) munmap(run_, run_size_);
    }

    bool setup_cpuid(int kvm_fd, std::string& error) {
        auto cpuid = std::make_unique<Cpuid2>();
        cpuid->header.nent = kMaxCpuidEntries;
        if (ioctl(kvm_fd, kKvmGetSupportedCpuid, cpuid.get()) < 0)
            return error = "KVM_GET_SUPPORTED_CPUID: " + errno_text(), false;
        if (ioctl(fd_.get(), kKvmSetCpuid2, cpuid.get()) < 0)
            return error = "KVM_SET_CPUID2: " + errno_text(), false;
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
    void run(HypercallHandler& handler, const GuestMemory& mem) {
        if (index_ == 0) {
            g_run = run_;
            g_first_thread = pthread_self();
            host_events_install(-1, [] {
                g_run->immediate_exit = 1;
                pthread_kill(g_first_thread, kKickSignal);
            });
        }
        for (;;) {
            run_->immediate_exit = 0;  // a signal from here on makes KVM_RUN return at once
            if (handler.finished()) break;  // after the reset: a kick is never lost
            if (index_ == 0 && host_events_service(mem)) {
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
                    } else {
                        handler.fail(format("guest accessed I/O port {:#x}", run_->io.port));
                    }
                    break;
                case KVM_EXIT_HLT:
                    handler.fail("guest halted without exiting");
                    break;
                case KVM_EXIT_SHUTDOWN:
                    handler.fail("guest crashed (triple fault)");
                    break;
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

bool run_kvm(GuestMemory& mem, const BootLayout& layout, const RunConfig& config,
             HypercallHandler& handler, std::string& error) {
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

    const uint32_t count = config.vcpus ? config.vcpus : 1;
    std::vector<std::unique_ptr<Vcpu>> vcpus;
    for (uint32_t i = 0; i < count; ++i) {
        vcpus.push_back(std::make_unique<Vcpu>());
        if (!vcpus.back()->create(vm.get(), kvm.get(), i, error) ||
            !vcpus.back()->setup_cpuid(kvm.get(), error))
            return false;
    }
    if (!vcpus[0]->enter_long_mode(layout, layout.entry, 0, layout.boot_info_gpa, error))
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
            for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
                sigaddset(&forwarded, sig);
            pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);
            vcpus[index]->run(handler, mem);
            stop_all();  // the guest ended here: the others stop too
        });
        handles[index] = threads[index].native_handle();
        state[index].store(2, std::memory_order_release);
        return 0;
    });
    vcpus[0]->run(handler, mem);
    stop_all();
    for (auto& t : threads)
        if (t.joinable()) t.join();
    handler.set_start_cpu(nullptr);
    return true;
}

}  // namespace utx::loader
