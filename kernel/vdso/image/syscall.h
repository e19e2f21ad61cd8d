// kernel/vdso/image/syscall.h: the system call a vDSO function makes for what it does not
// serve itself, as Linux's vDSO does: the caller gets the kernel's result, -errno included.
#pragma once

namespace utx::vdso {

inline constexpr long kSysGettimeofday = 96, kSysTime = 201, kSysClockGettime = 228,
                      kSysClockGetres = 229, kSysGetcpu = 309;

inline long fallback_syscall(long nr, long a0, long a1, long a2 = 0) {
    long ret;
    asm volatile("syscall"
                 : "=a"(ret)
                 : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
                 : "rcx", "r11", "memory");
    return ret;
}

}  // namespace utx::vdso

// What the vDSO exports: default visibility, everything else is hidden.
#define VDSO_EXPORT __attribute__((visibility("default")))
