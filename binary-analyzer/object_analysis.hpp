// Finds every syscall site in one ELF object and recovers each site's number.
#pragma once

#include <string>
#include <vector>

#include "dataflow.hpp"
#include "elf_image.hpp"

namespace utx::analyze {

struct SiteReport {
    uint64_t addr = 0;
    std::string function;  // symbol, or sub_ADDR for a function known only by its start
    SyscallKind kind = SyscallKind::None;
    std::vector<ResolvedValue> values;
    std::vector<Unresolved> unresolved;
    // i386-ABI sites (int 0x80, sysenter) never count as resolved: utx runs the 64-bit ABI.
    bool resolved() const {
        return !values.empty() && unresolved.empty() &&
               (kind == SyscallKind::Syscall || kind == SyscallKind::Ecall);
    }
};

struct ObjectReport {
    std::string path;
    std::string role;  // "executable", "interpreter", "library"
    std::string needed_by;
    Arch arch = Arch::X86_64;
    size_t instructions = 0;
    size_t swept = 0;
    std::vector<SiteReport> sites;
};

class CodeMap;
class Decoder;

ObjectReport analyze_object(const ElfImage& image, std::string role, DataFlowLimits limits = {});
// The same over a code map built by the caller (the rewriter needs the map too).
ObjectReport analyze_object(const ElfImage& image, const CodeMap& code, std::string role,
                            DataFlowLimits limits = {});

// Where disassembly starts: the entry point, function symbols and .eh_frame FDEs.
std::vector<uint64_t> function_seeds(const ElfImage& image, const Decoder& decoder);

}  // namespace utx::analyze
