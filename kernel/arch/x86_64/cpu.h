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

inline constexpr uint8_t kTimerVector = 32, kSpuriousVector = 255;

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
inline void invlpg(uint64_t va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }
inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

// Saved registers on kernel entry (syscall, exception), lowest address first.
struct TrapFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

// Reached through %gs in the kernel; offsets are used by entry.S.
struct PerCpu {
    PerCpu* self;          // 0
    uint64_t kernel_rsp;   // 8: top of the current thread's kernel stack
    uint64_t user_rsp;     // 16: scratch for the syscall entry
    uint32_t index;
};

void cpu_init(PerCpu& cpu, uint64_t kernel_stack_top);
// Where the next entry from user mode (syscall, interrupt, exception) lands: the top of the
// running thread's kernel stack.
void cpu_set_kernel_stack(uint64_t top);
// Turns on SMEP and SMAP where the CPU offers them: the kernel then never runs user code and
// touches user memory only between user_access_begin() and user_access_end().
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
// Leaves the kernel for the application (does not return).
[[noreturn]] void enter_user(const TrapFrame& frame);

}  // namespace utx::kernel
