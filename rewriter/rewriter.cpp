#include "rewriter.hpp"

#include <algorithm>
#include <cstdio>

#include "branch_targets.hpp"
#include "code_map.hpp"
#include "decoder.hpp"
#include "elf_file.hpp"
#include "elf_image.hpp"
#include "error.hpp"
#include "object_analysis.hpp"
#include "planner.hpp"
#include "segment.hpp"
#include "trampoline.hpp"
#include "x86_insn.hpp"

namespace utx::rewrite {

namespace {

// An upper bound of one trampoline: 2 * 4 displaced instructions of at most 15 bytes,
// lea, call, lea, jmp, and the alignment.
constexpr uint64_t kMaxTrampolineSize = 8 * 15 + 5 + 5 + 8 + 5 + 15;
constexpr uint64_t kTrampolineAlignment = 16;

Displaced displaced(const Planner& planner, uint32_t index, uint64_t addr) {
    InsnFacts facts;
    planner.facts(index, facts);  // succeeded when the plan was made
    return {planner.bytes_of(index), addr, facts.rip_relative, facts.rip_disp_offset,
            facts.rip_target};
}

// The trampolines one after the other, the patched ranges, then the whole new file.
std::vector<uint8_t> emit(const ElfFile& file, const SegmentLayout& layout,
                          const analyze::CodeMap& code, const Planner& planner,
                          const std::vector<Plan>& plans, std::vector<uint8_t> patched,
                          Report& report) {
    const std::vector<analyze::Insn>& insns = code.insns();
    const uint64_t code_vaddr = layout.vaddr + layout.code;
    std::vector<uint8_t> trampolines;
    auto outcome = report.sites.begin();
    for (const Plan& plan : plans) {
        trampolines.resize(
            (trampolines.size() + kTrampolineAlignment - 1) & ~(kTrampolineAlignment - 1), 0xcc);
        const uint64_t at = code_vaddr + trampolines.size();
        std::vector<Displaced> before, after;
        for (uint32_t i = plan.first; i < plan.site; ++i)
            before.push_back(displaced(planner, i, insns[i].addr));
        for (uint32_t i = plan.site + 1; i <= plan.last; ++i)
            after.push_back(displaced(planner, i, insns[i].addr));
        const std::vector<uint8_t> trampoline =
            encode_trampoline(at, before, after, layout.vaddr + layout.gate, plan.end);
        trampolines.insert(trampolines.end(), trampoline.begin(), trampoline.end());

        const std::vector<uint8_t> patch = encode_patch(plan.start, plan.end, at);
        const uint64_t offset = *file.offset_of(plan.start);  // checked by the planner
        std::copy(patch.begin(), patch.end(), patched.begin() + static_cast<ptrdiff_t>(offset));
        while (outcome->addr != insns[plan.site].addr) ++outcome;
        outcome->trampoline = at;
    }
    report.segment_vaddr = layout.vaddr;
    report.segment_offset = layout.offset;
    report.segment_size = layout.code + trampolines.size();
    return assemble(file, layout, std::move(patched), trampolines,
                    static_cast<uint32_t>(plans.size()));
}

}  // namespace

size_t Report::rewritten() const {
    return static_cast<size_t>(std::count_if(sites.begin(), sites.end(),
                                             [](const SiteOutcome& s) { return s.rewritten; }));
}

size_t Report::packed(Packing packing) const {
    return static_cast<size_t>(std::count_if(sites.begin(), sites.end(), [&](const SiteOutcome& s) {
        return s.rewritten && s.packing == packing;
    }));
}

double Report::percent() const {
    return sites.empty() ? 100.0 : 100.0 * static_cast<double>(rewritten()) / sites.size();
}

std::string summary(const Report& report) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "%zu syscall sites, %zu rewritten (%zu backward, %zu forward, %zu both ways), "
                  "%zu left: %.1f%% rewritten",
                  report.found(), report.rewritten(), report.packed(Packing::Backward),
                  report.packed(Packing::Forward), report.packed(Packing::Both),
                  report.found() - report.rewritten(), report.percent());
    return line;
}

Rewritten rewrite_program(const std::string& name, std::vector<uint8_t> input) {
    const analyze::ElfImage image = analyze::ElfImage::from_bytes(name, input);
    if (image.arch() != analyze::Arch::X86_64)
        throw analyze::InputError(name, "riscv64 is not supported yet");
    if (!image.interpreter().empty() || !image.needed().empty())
        throw analyze::InputError(
            name, "dynamically linked (utx runs static programs only; link with -static)");
    const ElfFile file(image.file());
    Rewritten result;
    if (file.rewrite_note()) {
        result.report.already_rewritten = true;
        result.bytes = std::move(input);
        return result;
    }
    const auto& phdrs = file.segments();
    if (std::none_of(phdrs.begin(), phdrs.end(),
                     [](const Elf64Phdr& ph) { return ph.type == PT_LOAD; }))
        throw analyze::InputError(name, "no PT_LOAD segment: nothing to run");
    if (phdrs.size() + 2 > 0xfffe)
        throw analyze::InputError(name, "too many program headers to add two");

    const std::unique_ptr<analyze::Decoder> decoder = analyze::make_x86_decoder(&image);
    const analyze::CodeMap code(image, *decoder, analyze::function_seeds(image, *decoder));
    const analyze::ObjectReport sites = analyze::analyze_object(image, code, "executable");
    const X86Inspector inspector;
    const BranchTargets targets(image, file, code, inspector);
    const SegmentLayout layout = layout_segment(file);
    const Reach reach{layout.vaddr,
                      layout.vaddr + layout.code + (sites.sites.size() + 1) * kMaxTrampolineSize};
    Planner planner(image, file, code, targets, inspector, reach);
    planner.find_stack_teardowns(sites.sites);

    std::vector<Plan> plans;
    for (const analyze::SiteReport& site : sites.sites) {
        SiteOutcome outcome;
        outcome.addr = site.addr;
        outcome.function = site.function;
        const auto index = code.index_of(site.addr);
        Plan plan;
        if (index && planner.plan(*index, site, plan, outcome.reason)) {
            outcome.rewritten = true;
            outcome.packing = plan.packing;
            outcome.start = plan.start;
            outcome.end = plan.end;
            plans.push_back(plan);
        } else if (!index) {
            outcome.reason = "not in the code map";
        }
        result.report.sites.push_back(std::move(outcome));
    }
    if (plans.empty()) {
        result.bytes = std::move(input);
        return result;
    }
    result.bytes = emit(file, layout, code, planner, plans, std::move(input), result.report);
    return result;
}

}  // namespace utx::rewrite
