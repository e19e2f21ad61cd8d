#include "kernel/lib/log.h"

#include <stdarg.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/platform/hypercall.h"

namespace utx::kernel {

void klog(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    host_write(2, buf, n);
}

void panic(const char* fmt, ...) {
    static abi::HcRequest req;
    static char buf[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    req.op = abi::kHcPanic;
    req.nsegments = 1;
    req.segments[0] = {virt_to_phys(reinterpret_cast<uint64_t>(buf)), n};
    hypercall(req);
    for (;;) cpu_halt();
}

}  // namespace utx::kernel
