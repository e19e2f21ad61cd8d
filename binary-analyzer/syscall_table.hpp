// utx's syscall table (syscall-shim/syscalls.def) as compiled into the analyzer, so
// verdicts follow whatever the kernel implements at build time.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "insn.hpp"

namespace utx::analyze {

enum class Status : uint8_t { implemented, partial, stub, missing };

struct SyscallInfo {
    int x86_64;
    int riscv64;
    std::string_view name;
    Status status;
    std::string_view note;
};

// The entry for syscall `number` on `arch`, if Linux has one.
std::optional<SyscallInfo> lookup_syscall(Arch arch, int64_t number);
std::string_view status_name(Status status);

}  // namespace utx::analyze
