#include "syscall_table.hpp"

#include <array>
#include <vector>

namespace utx::analyze {

namespace {

constexpr SyscallInfo kTable[] = {
#define SYSCALL(x86_64_nr, riscv64_nr, name, handler, status, note) \
    {x86_64_nr, riscv64_nr, #name, Status::status, note},
#include "syscalls.def"
#undef SYSCALL
};

constexpr int kMaxNumber = 1024;

struct Index {
    std::array<int16_t, kMaxNumber> x86, riscv;
    Index() {
        x86.fill(-1);
        riscv.fill(-1);
        for (size_t i = 0; i < std::size(kTable); ++i) {
            if (kTable[i].x86_64 >= 0 && kTable[i].x86_64 < kMaxNumber)
                x86[static_cast<size_t>(kTable[i].x86_64)] = static_cast<int16_t>(i);
            if (kTable[i].riscv64 >= 0 && kTable[i].riscv64 < kMaxNumber)
                riscv[static_cast<size_t>(kTable[i].riscv64)] = static_cast<int16_t>(i);
        }
    }
};

}  // namespace

std::optional<SyscallInfo> lookup_syscall(Arch arch, int64_t number) {
    static const Index index;
    if (number < 0 || number >= kMaxNumber) return std::nullopt;
    const int16_t at =
        (arch == Arch::X86_64 ? index.x86 : index.riscv)[static_cast<size_t>(number)];
    if (at < 0) return std::nullopt;
    return kTable[at];
}

std::string_view status_name(Status status) {
    switch (status) {
        case Status::implemented:
            return "implemented";
        case Status::partial:
            return "partial";
        case Status::stub:
            return "stub";
        case Status::missing:
            return "missing";
    }
    return "missing";
}

}  // namespace utx::analyze
