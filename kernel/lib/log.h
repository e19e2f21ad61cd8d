// kernel/lib/log.h: kernel messages (to utx-run's stderr) and panic.
#pragma once
#include <stdint.h>

namespace utx::kernel {

void klog(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace utx::kernel

#define KASSERT(cond) \
    ((cond) ? (void)0 : ::utx::kernel::panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__))
