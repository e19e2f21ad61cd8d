// syscall-shim/trace.h: `utx-run --trace`: every syscall strace-style on stderr.
#pragma once
#include <stdint.h>

#include "syscall-shim/handlers.h"

namespace utx::kernel {

const char* syscall_name(uint64_t nr);
void trace_enter(uint64_t nr, const SyscallArgs& args);
void trace_exit(uint64_t nr, const SyscallArgs& args, int64_t result);

}  // namespace utx::kernel
