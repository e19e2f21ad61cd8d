// kernel/arch/x86_64/cpu.h: x86-64 instructions, MSRs and the per-CPU block.
#pragma once
#include <stdint.h>

namespace utx::kernel {

inline constexpr uint32_t kMsrEfer = 0xc0000080, kMsrStar = 0xc0000081, kMsrLstar = 0xc0000082,
                          kMsrFmask = 0xc0000084, kMsrFsBase = 0xc0000100,
                          kMsrGsBase = 0xc0000101, kMsrKernelGsBase = 0xc0000102;

// Selectors. SYSRET loads CS = kUserBase + 16 and SS = kUserBase + 8, both with RPL 3.
inline constexpr uint16_t kKernelCs = 0x08, kKernelSs = 0x10, kUserBase = 0x18,
                          kUserSs = 0x20 | 3, kUserCs = 0x28 | 3, kTssSelector = 0x30;

// The CPU-number segment (like Linux's CPUNODE): a DPL-3 data segment whose limit is the
// CPU's index, read with `lsl` by the vDSO's getcpu.
inline constexpr uint16_t kCpuNumberSelector = 0x40 | 3;

// Interrupt vectors: the LAPIC timer, a wake-up for an idle CPU (a thread became runnable),
// a TLB flush requested by another CPU, and the APIC's spurious vector.
inline constexpr uint8_t kTimerVector = 32, kRescheduleVector = 33, kTlbFlushVector = 34,
                         kSpuriousVector = 255;
inline constexpr uint32_t kMaxCpus = 64;

// Whether the kernel runs as a PVM guest (abi::kBootFlagPvm; ../shared/DESIGN.md,
// "Platforms"): its own pages are then user pages, as PVM runs ring 0 natively only there.
extern "C" bool g_pvm;  // C name: entry.S reads it

inline void cpu_relax() { asm volatile("pause"); }
inline void cpu_halt() { asm volatile("hlt"); }

inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return uint64_t(hi) << 32 | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
    asm volatile("wrmsr" : : "c"(msr), "a"(uint32_t(v)), "d"(uint32_t(v >> 32)));
}
inline uint64_t rdtsc() {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return uint64_t(hi) << 32 | lo;
}
inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
inline uint64_t read_cr2() {
    uint64_t v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
inline uint64_t read_cr3() {
    uint64_t v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
inline void write_cr3(uint64_t v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
inline void flush_tlb() { write_cr3(read_cr3()); }
inline void invlpg(uint64_t va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }
inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

// Saved registers on kernel entry (syscall, exception), lowest address first.
struct TrapFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

struct [[gnu::packed]] Tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct Thread;

// One per CPU, reached through %gs in the kernel; the first three offsets are used by
// entry.S. Everything else here is touched only by its own CPU, or under the kernel lock
// (kernel/arch/x86_64/smp.h), or atomically where said.
struct PerCpu {
    PerCpu* self;          // 0
    uint64_t kernel_rsp;   // 8: top of the current thread's kernel stack
    uint64_t user_rsp;     // 16: scratch for the syscall entry
    uint32_t index;        // 0 .. cpu count - 1: the vCPU, its hypercall mailbox
    uint32_t apic_id;
    Thread* current;       // the thread it runs
    Thread* idle;          // its idle thread
    uint64_t timer_armed;  // the LAPIC deadline last programmed (writing it is a VM exit)
    bool online;
    bool halted;           // idle: a thread for it sets `wake` (under the lock)
    bool polling;          // atomic: idle and still polling `wake`; halted (wants an IPI) if not
    bool wake;             // atomic: work for the idle loop (a thread, a timer)
    bool halted_in_wait;   // halt_briefly reprogrammed its timer (smp.h)
    bool in_user;          // atomic: in the application (a TLB flush needs an IPI then)
    uint64_t tlb_generation;  // atomic: the last flush generation this CPU has applied
    void* hypercall_request;  // its abi::HcRequest (kernel/platform/hypercall.cpp)
    alignas(16) uint64_t gdt[9];
    alignas(16) Tss tss;
    uint8_t* fault_stack;  // IST stack for double faults
    uint8_t* nmi_stack;    // IST stack for NMIs (entry.S, trap_stub_2)
};

inline PerCpu& this_cpu() {
    PerCpu* cpu;
    asm volatile("movq %%gs:0, %0" : "=r"(cpu));
    return *cpu;
}

// The interrupt flag. On PVM it is virtual: byte 0 of the vCPU's page at abi::kPvmVifGpa,
// which kvm_pvm reads before it injects an interrupt (sti and cli alone leave it as it
// is). sti and cli are still executed there: they trap to kvm_pvm, which then delivers an
// interrupt that waits, and keep hardware KVM's semantics (sti's one-instruction shadow).
void pvm_set_interrupt_flag(bool on);
inline void irq_enable() {
    if (g_pvm) pvm_set_interrupt_flag(true);
    asm volatile("sti" ::: "memory");
}
inline void irq_disable() {
    asm volatile("cli" ::: "memory");
    if (g_pvm) pvm_set_interrupt_flag(false);
}
// sti; hlt; cli: sleeps until an interrupt (which has been handled when this returns).
inline void irq_enable_halt_disable() {
    if (g_pvm) pvm_set_interrupt_flag(true);
    asm volatile("sti; hlt; cli" ::: "memory");
    if (g_pvm) pvm_set_interrupt_flag(false);
}

// Loads `cpu`'s descriptor tables and syscall MSRs on the CPU that runs this, with its GS
// base pointing at `cpu`. `kernel_stack_top` is where entries from user mode land first.
void cpu_init(PerCpu& cpu, uint64_t kernel_stack_top);
// Where the next entry from user mode (syscall, interrupt, exception) lands: the top of the
// running thread's kernel stack.
void cpu_set_kernel_stack(uint64_t top);
// Turns on SMEP and SMAP where the CPU offers them: the kernel then never runs user code and
// touches user memory only between user_access_begin() and user_access_end(). Not on PVM,
// where the kernel's pages are user pages too.
void protection_init();
extern bool g_smap_enabled;
inline void user_access_begin() {
    if (g_smap_enabled) asm volatile("stac" ::: "memory");
}
inline void user_access_end() {
    if (g_smap_enabled) asm volatile("clac" ::: "memory");
}
// Enables the x87/SSE/AVX state the CPU offers for the application (CR4, XCR0).
void fpu_init();
// The XSAVE components fpu_init enabled (0 without XSAVE): the mask of every XSAVE and
// XRSTOR. Not XCR0 as read back: PVM leaves the host's XCR0 in force (on a host with AMX,
// 0x600e7 where the guest asked for 0xe7), and XSAVE with an all-ones mask then writes the
// 8 KiB of tile data past an area sized for the guest's components.
uint64_t fpu_xfeatures();
// Leaves the kernel for the application (does not return).
[[noreturn]] void enter_user(const TrapFrame& frame);

}  // namespace utx::kernel
