// kernel/arch/x86_64/cpu.cpp: descriptor tables, syscall MSRs and FPU state for one CPU.
#include "kernel/arch/x86_64/cpu.h"

#include "kernel/lib/log.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"

extern "C" void syscall_entry();
extern "C" const uint64_t trap_stub_table[32];
extern "C" const uint64_t timer_stub, reschedule_stub, tlb_flush_stub, spurious_stub;
extern "C" [[noreturn]] void enter_user_frame(const utx::kernel::TrapFrame* frame);

namespace utx::kernel {
namespace {

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

struct IdtGate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};

alignas(16) IdtGate g_idt[256];
bool g_idt_ready;
constexpr size_t kFaultStackSize = 8192;
alignas(16) uint8_t g_boot_fault_stack[kFaultStackSize];  // the first CPU's (no heap yet)
alignas(16) uint8_t g_boot_nmi_stack[kFaultStackSize];

constexpr uint64_t kCodeKernel = 0x00af9a000000ffffULL;
constexpr uint64_t kDataKernel = 0x00cf92000000ffffULL;
constexpr uint64_t kCode32User = 0x00cffa000000ffffULL;
constexpr uint64_t kDataUser = 0x00cff2000000ffffULL;
constexpr uint64_t kCodeUser = 0x00affa000000ffffULL;
constexpr uint64_t kDataUserByteLimit = 0x0040f2000000'0000ULL;  // DPL 3, limit in bytes

void load_gdt(PerCpu& cpu, uint64_t kernel_stack_top) {
    uint64_t* gdt = cpu.gdt;
    Tss& tss = cpu.tss;
    gdt[0] = 0;
    gdt[1] = kCodeKernel;
    gdt[2] = kDataKernel;
    gdt[3] = kCode32User;
    gdt[4] = kDataUser;
    gdt[5] = kCodeUser;
    memset(&tss, 0, sizeof tss);
    tss.rsp[0] = kernel_stack_top;
    tss.ist[0] = reinterpret_cast<uint64_t>(cpu.fault_stack + kFaultStackSize);
    tss.ist[1] = reinterpret_cast<uint64_t>(cpu.nmi_stack + kFaultStackSize);
    tss.iomap_base = sizeof(Tss);
    auto base = reinterpret_cast<uint64_t>(&tss);
    uint64_t limit = sizeof(Tss) - 1;
    gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[7] = base >> 32;
    // The CPU number as a segment limit (bits 0-15 and 16-19).
    gdt[8] = kDataUserByteLimit | (cpu.index & 0xffff) | uint64_t((cpu.index >> 16) & 0xf) << 48;
    DescriptorPointer gdtr{sizeof cpu.gdt - 1, reinterpret_cast<uint64_t>(gdt)};
    asm volatile(
        "lgdt %0\n"
        "pushq %1\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1:\n"
        "movw %w2, %%ax\n"
        "movw %%ax, %%ds\n"
        "movw %%ax, %%es\n"
        "movw %%ax, %%ss\n"
        "xorl %%eax, %%eax\n"
        "movw %%ax, %%fs\n"
        "movw %%ax, %%gs\n"
        "ltr %w3\n"
        :
        : "m"(gdtr), "i"(uint64_t{kKernelCs}), "r"(uint32_t{kKernelSs}),
          "r"(uint32_t{kTssSelector})
        : "rax", "memory");
}

IdtGate gate(uint64_t handler, uint8_t ist) {
    return IdtGate{uint16_t(handler), kKernelCs, ist, 0x8e, uint16_t(handler >> 16),
                   uint32_t(handler >> 32), 0};
}

void load_idt() {
    if (!g_idt_ready) {  // one table for every CPU
        for (int v = 0; v < 32; ++v) g_idt[v] = gate(trap_stub_table[v], v == 8 ? 1 : v == 2 ? 2 : 0);
        g_idt[kTimerVector] = gate(timer_stub, 0);
        g_idt[kRescheduleVector] = gate(reschedule_stub, 0);
        g_idt[kTlbFlushVector] = gate(tlb_flush_stub, 0);
        g_idt[kSpuriousVector] = gate(spurious_stub, 0);
        g_idt_ready = true;
    }
    DescriptorPointer idtr{sizeof g_idt - 1, reinterpret_cast<uint64_t>(g_idt)};
    asm volatile("lidt %0" : : "m"(idtr));
}

}  // namespace

void cpu_init(PerCpu& cpu, uint64_t kernel_stack_top) {
    cpu.self = &cpu;
    cpu.kernel_rsp = kernel_stack_top;
    if (!cpu.fault_stack) {
        cpu.fault_stack = cpu.index == 0 ? g_boot_fault_stack
                                         : static_cast<uint8_t*>(kmalloc(kFaultStackSize));
        cpu.nmi_stack = cpu.index == 0 ? g_boot_nmi_stack
                                       : static_cast<uint8_t*>(kmalloc(kFaultStackSize));
        if (!cpu.fault_stack || !cpu.nmi_stack) panic("out of memory for CPU %u", cpu.index);
    }
    load_gdt(cpu, kernel_stack_top);
    load_idt();
    wrmsr(kMsrGsBase, reinterpret_cast<uint64_t>(&cpu));
    wrmsr(kMsrKernelGsBase, 0);
    wrmsr(kMsrStar, uint64_t(kUserBase) << 48 | uint64_t(kKernelCs) << 32);
    wrmsr(kMsrLstar, reinterpret_cast<uint64_t>(&syscall_entry));
    // Mask IF, TF, DF, AC and NT on entry.
    wrmsr(kMsrFmask, 0x200 | 0x100 | 0x400 | 0x40000 | 0x4000);
    wrmsr(kMsrEfer, rdmsr(kMsrEfer) | 1 /* SCE */ | 0x800 /* NXE */);
}

void cpu_set_kernel_stack(uint64_t top) {
    PerCpu& cpu = this_cpu();
    cpu.tss.rsp[0] = top;
    cpu.kernel_rsp = top;
}

bool g_smap_enabled = false;
bool g_pvm = false;

void pvm_set_interrupt_flag(bool on) {
    auto* vif = static_cast<volatile uint8_t*>(
        phys_to_virt(abi::kPvmVifGpa + uint64_t(this_cpu().index) * kPageSize));
    vif[0] = on;
}

void protection_init() {
    if (g_pvm) return;
    uint32_t r[4];
    cpuid(0, 0, r);
    if (r[0] < 7) return;
    cpuid(7, 0, r);
    const bool smep = r[1] & (1u << 7), smap = r[1] & (1u << 20);
    uint64_t cr4;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    if (smep) cr4 |= 1ULL << 20;
    if (smap) cr4 |= 1ULL << 21;
    asm volatile("mov %0, %%cr4" : : "r"(cr4));
    g_smap_enabled = smap;
}

namespace {
uint64_t g_xfeatures;
}  // namespace

uint64_t fpu_xfeatures() { return g_xfeatures; }

void fpu_init() {
    uint32_t r[4];
    cpuid(1, 0, r);
    const bool has_xsave = r[2] & (1u << 26);
    uint64_t cr0, cr4;
    asm volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = (cr0 & ~(1ULL << 2 /* EM */ | 1ULL << 3 /* TS */)) | 1ULL << 1 /* MP */ | 1ULL << 5;
    asm volatile("mov %0, %%cr0" : : "r"(cr0));
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= 1ULL << 9 | 1ULL << 10;  // OSFXSR, OSXMMEXCPT
    if (has_xsave) cr4 |= 1ULL << 18;  // OSXSAVE
    asm volatile("mov %0, %%cr4" : : "r"(cr4));
    if (has_xsave) {
        cpuid(0xd, 0, r);
        uint64_t supported = r[0] | uint64_t(r[3]) << 32;
        uint64_t xcr0 = 0x3;                        // x87, SSE
        if (supported & 0x4) xcr0 |= 0x4;           // AVX
        if ((supported & 0xe0) == 0xe0 && (xcr0 & 0x4)) xcr0 |= 0xe0;  // AVX-512
        asm volatile("xsetbv" : : "c"(0), "a"(uint32_t(xcr0)), "d"(uint32_t(xcr0 >> 32)));
        g_xfeatures = xcr0;
    }
    asm volatile("fninit");
    uint32_t mxcsr = 0x1f80;
    asm volatile("ldmxcsr %0" : : "m"(mxcsr));
}

void enter_user(const TrapFrame& frame) {
    kernel_exit();
    enter_user_frame(&frame);
}

}  // namespace utx::kernel
