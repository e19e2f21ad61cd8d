// kernel/vdso/image/vgetcpu.cpp: getcpu from the limit of the CPUNODE segment, as Linux's
// vDSO reads it: `lsl` of kCpuNodeSelector gives (node << 12) | cpu. Where the GDT has no
// such segment, lsl fails (ZF clear) and getcpu makes the system call.
#include "kernel/vdso/image/syscall.h"
#include "kernel/vdso/vvar.h"

using namespace utx::vdso;

extern "C" {

VDSO_EXPORT long __vdso_getcpu(unsigned* cpu, unsigned* node, void* unused) {
    uint32_t limit;
    bool valid;
    asm volatile("lsl %[selector], %[limit]"
                 : [limit] "=r"(limit), "=@ccz"(valid)
                 : [selector] "r"(uint32_t(kCpuNodeSelector)));
    if (!valid) return fallback_syscall(kSysGetcpu, long(cpu), long(node), long(unused));
    if (cpu) *cpu = limit & 0xfff;
    if (node) *node = limit >> 12;
    return 0;
}

VDSO_EXPORT long getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));

}  // extern "C"
