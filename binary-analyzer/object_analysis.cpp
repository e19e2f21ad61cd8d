#include "object_analysis.hpp"

#include <algorithm>

#include "code_map.hpp"
#include "decoder.hpp"
#include "eh_frame.hpp"
#include "error.hpp"

namespace utx::analyze {

namespace {

// glibc's signal restorers have an FDE starting one byte early, inside the nop padding
// before them (for unwinders that look up pc - 1). Move such a start past the nop.
uint64_t skip_padding_before(const ElfImage& image, const Decoder& decoder, uint64_t start) {
    for (const CodeRegion& region : image.code()) {
        if (start < region.addr || start >= region.addr + region.size) continue;
        const size_t offset = start - region.addr;
        for (size_t back = 1; back <= 10 && back <= offset; ++back) {
            Insn insn;
            if (decoder.decode(image.bytes(region), region.addr, offset - back, insn) &&
                std::string_view(insn.mnemonic) == "nop" && insn.end() > start)
                return insn.end();
        }
    }
    return start;
}

}  // namespace

std::vector<uint64_t> function_seeds(const ElfImage& image, const Decoder& decoder) {
    std::vector<uint64_t> seeds;
    if (image.entry() != 0) seeds.push_back(image.entry());
    for (const FunctionSymbol& symbol : image.functions()) seeds.push_back(symbol.addr);
    if (const auto eh = image.eh_frame()) {
        for (uint64_t start : eh_frame_function_starts(image.bytes(*eh), eh->addr))
            seeds.push_back(
                image.arch() == Arch::X86_64 ? skip_padding_before(image, decoder, start) : start);
    }
    if (image.arch() == Arch::RiscV64)  // clear the ISA-mode bit some tools leave set
        for (uint64_t& seed : seeds) seed &= ~uint64_t{1};
    return seeds;
}

ObjectReport analyze_object(const ElfImage& image, std::string role, DataFlowLimits limits) {
    const std::unique_ptr<Decoder> decoder = make_decoder(image.arch(), &image);
    const CodeMap code(image, *decoder, function_seeds(image, *decoder));
    return analyze_object(image, code, std::move(role), limits);
}

ObjectReport analyze_object(const ElfImage& image, const CodeMap& code, std::string role,
                            DataFlowLimits limits) {
    const Abi& abi = abi_for(image.arch());

    const std::vector<FunctionSymbol>& symbols = image.functions();
    auto name_of = [&symbols](uint64_t start) -> std::string {
        auto it = std::lower_bound(symbols.begin(), symbols.end(), start,
                                   [](const FunctionSymbol& s, uint64_t a) { return s.addr < a; });
        if (it != symbols.end() && it->addr == start) return it->name;
        return "sub_" + hex(start).substr(2);
    };
    const DataFlow flow(code, abi, name_of, limits);

    ObjectReport report;
    report.path = image.path();
    report.role = std::move(role);
    report.arch = image.arch();
    report.instructions = code.insns().size();
    report.swept = code.swept();
    const std::vector<Insn>& insns = code.insns();
    for (uint32_t i = 0; i < insns.size(); ++i) {
        const Insn& insn = insns[i];
        if (insn.syscall == SyscallKind::None) continue;
        SiteReport site;
        site.addr = insn.addr;
        site.kind = insn.syscall;
        const uint64_t function = code.function_of(insn.addr);
        site.function = function ? name_of(function) : "?";
        Resolution resolution = flow.value_before(i, abi.syscall_number_reg);
        for (ResolvedValue& value : resolution.values) {
            // The x86-64 kernel reads the number as a 32-bit int.
            if (image.arch() == Arch::X86_64) value.value = static_cast<int32_t>(value.value);
        }
        std::sort(resolution.values.begin(), resolution.values.end(),
                  [](const ResolvedValue& a, const ResolvedValue& b) { return a.value < b.value; });
        site.values = std::move(resolution.values);
        site.unresolved = std::move(resolution.unresolved);
        if (site.kind == SyscallKind::Int80 || site.kind == SyscallKind::Sysenter) {
            std::string numbers;
            for (const ResolvedValue& v : site.values)
                numbers += (numbers.empty() ? "" : ", ") + std::to_string(v.value);
            site.unresolved.insert(
                site.unresolved.begin(),
                {insn.addr, std::string(site.kind == SyscallKind::Int80 ? "int 0x80" : "sysenter") +
                                " uses the i386 syscall ABI, which utx does not run" +
                                (numbers.empty() ? "" : " (i386 number " + numbers + ")")});
            site.values.clear();
        }
        report.sites.push_back(std::move(site));
    }
    return report;
}

}  // namespace utx::analyze
