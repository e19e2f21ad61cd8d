// syscall-shim/handlers.h: what every syscall handler sees, and the handler declarations
// generated from syscalls.def.
#pragma once
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/lib/errno.h"

namespace utx::kernel {

struct SyscallArgs {
    uint64_t arg[6];
    TrapFrame* frame;
};

// One declaration per handler named in the table; `none` is the -ENOSYS handler.
#define SYSCALL(x86_64_nr, riscv64_nr, name, handler, status, note) \
    int64_t handler(SyscallArgs& args);
#include "syscalls.def"
#undef SYSCALL

}  // namespace utx::kernel
