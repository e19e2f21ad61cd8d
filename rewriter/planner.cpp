#include "planner.hpp"

#include <algorithm>
#include <limits>

#include "branch_targets.hpp"
#include "code_map.hpp"
#include "elf_file.hpp"
#include "elf_image.hpp"
#include "error.hpp"
#include "object_analysis.hpp"
#include "x86_insn.hpp"

namespace utx::rewrite {

namespace {

constexpr unsigned kJmpSize = 5;
constexpr unsigned kMaxDisplaced = 4;  // on each side of the syscall
constexpr const char* kTooShort = "too short";

constexpr int64_t kSysMunmap = 11, kSysRtSigreturn = 15, kSysClone = 56, kSysVfork = 58,
                  kSysClone3 = 435;

std::string describe_insn(const analyze::Insn& insn) {
    return std::string(insn.mnemonic) + " at " + analyze::hex(insn.addr);
}

}  // namespace

Planner::Planner(const analyze::ElfImage& image, const ElfFile& file, const analyze::CodeMap& code,
                 const BranchTargets& targets, const X86Inspector& inspector, Reach reach)
    : image_(image),
      file_(file),
      code_(code),
      targets_(targets),
      inspector_(inspector),
      reach_(reach) {
    const std::vector<analyze::Insn>& insns = code.insns();
    reached_.resize(insns.size());
    std::vector<uint32_t> work;
    for (uint32_t i = 0; i < insns.size(); ++i) reached_[i] = !insns[i].swept;
    for (uint64_t entry : targets.indirect_entries())
        if (const auto index = code.index_of(entry); index && !reached_[*index]) {
            reached_[*index] = true;
            work.push_back(*index);
        }
    // Onwards through fall-through and direct branches, as the analyzer's recursion does.
    while (!work.empty()) {
        const analyze::Insn& insn = insns[work.back()];
        work.pop_back();
        auto visit = [&](uint64_t addr) {
            const auto index = code.index_of(addr);
            if (index && !reached_[*index]) {
                reached_[*index] = true;
                work.push_back(*index);
            }
        };
        if (insn.flow == analyze::Flow::Jump || insn.flow == analyze::Flow::CondJump ||
            insn.flow == analyze::Flow::Call)
            visit(insn.target);
        if (insn.falls_through() && code.call_returns(insn)) visit(insn.end());
    }
}

std::span<const uint8_t> Planner::bytes_of(uint32_t index) const {
    const analyze::Insn& insn = code_.insns()[index];
    for (const analyze::CodeRegion& region : image_.code())
        if (insn.addr >= region.addr && insn.end() <= region.addr + region.size)
            return image_.bytes(region).subspan(insn.addr - region.addr, insn.length);
    return {};
}

bool Planner::facts(uint32_t index, InsnFacts& out) const {
    const auto bytes = bytes_of(index);
    return !bytes.empty() && inspector_.inspect(bytes, code_.insns()[index].addr, out) &&
           out.length == bytes.size();
}

bool Planner::adjacent(uint32_t a, uint32_t b) const {
    const std::vector<analyze::Insn>& insns = code_.insns();
    if (insns[a].end() != insns[b].addr) return false;
    // The same section: a range never spans two.
    for (const analyze::CodeRegion& region : image_.code())
        if (insns[a].addr >= region.addr && insns[a].addr - region.addr < region.size)
            return insns[b].end() <= region.addr + region.size;
    return false;
}

bool Planner::fits(uint64_t from_lo, uint64_t from_hi, uint64_t to_lo, uint64_t to_hi) const {
    constexpr int64_t lo = std::numeric_limits<int32_t>::min();
    constexpr int64_t hi = std::numeric_limits<int32_t>::max();
    const auto farthest_up = static_cast<int64_t>(to_hi - from_lo);
    const auto farthest_down = static_cast<int64_t>(to_lo - from_hi);
    return farthest_up <= hi && farthest_down >= lo;
}

// munmap can take the very stack the trampoline's `call` pushes its return address on
// (musl's __unmapself unmaps its own thread stack, then calls exit). The original survives
// that because it touches no stack afterwards; a rewritten munmap would fault in the
// stub's `ret`, and so would a rewritten exit after it. A munmap is safe when every path
// after it uses the stack (ret or call) before any other syscall: then the stack must
// still be mapped. `reached` gets the syscalls found on the paths before such a use.
bool Planner::tears_down_stack(uint32_t site, std::vector<uint32_t>& reached) const {
    const std::vector<analyze::Insn>& insns = code_.insns();
    std::vector<uint32_t> work{site};
    std::vector<uint32_t> seen;
    unsigned steps = 0;
    bool unsafe = false;
    while (!work.empty()) {
        uint32_t i = work.back();
        work.pop_back();
        while (true) {
            if (std::find(seen.begin(), seen.end(), i) != seen.end()) break;
            seen.push_back(i);
            const analyze::Insn& insn = insns[i];
            if (++steps > 256) return true;
            if (i != site && insn.syscall != analyze::SyscallKind::None) {
                reached.push_back(i);
                unsafe = true;  // and the syscalls after it are as stackless as this one
            }
            if (insn.flow == analyze::Flow::Return || insn.is_call()) break;
            if (insn.flow == analyze::Flow::Stop || insn.flow == analyze::Flow::IndirectJump) {
                unsafe = true;
                break;
            }
            if (insn.flow == analyze::Flow::Jump || insn.flow == analyze::Flow::CondJump) {
                const auto target = code_.index_of(insn.target);
                if (!target) {
                    unsafe = true;
                    break;
                }
                if (insn.flow == analyze::Flow::Jump) {
                    i = *target;
                    continue;
                }
                work.push_back(*target);
            }
            const auto next = code_.index_of(insn.end());
            if (!next) {
                unsafe = true;
                break;
            }
            i = *next;
        }
    }
    return unsafe;
}

void Planner::find_stack_teardowns(const std::vector<analyze::SiteReport>& sites) {
    for (const analyze::SiteReport& site : sites) {
        const bool munmap =
            std::any_of(site.values.begin(), site.values.end(),
                        [](const analyze::ResolvedValue& v) { return v.value == kSysMunmap; });
        const auto index = code_.index_of(site.addr);
        if (!munmap || !index) continue;
        std::vector<uint32_t> reached;
        if (!tears_down_stack(*index, reached)) continue;
        stackless_[*index] = "munmap with no use of the stack after it: it may unmap its own stack";
        for (uint32_t after : reached)
            stackless_.emplace(after,
                               "it runs after the munmap at " + analyze::hex(site.addr) +
                                   " with no use of the stack between: the stack may be gone");
    }
}

bool Planner::number_allows(const analyze::SiteReport& report, std::string& reason) const {
    if (!report.unresolved.empty() || report.values.empty()) {
        reason =
            "its syscall number is not known (it could be rt_sigreturn, clone or vfork, which "
            "need the stack as it is)";
        return false;
    }
    for (const analyze::ResolvedValue& value : report.values) {
        switch (value.value) {
            case kSysRtSigreturn:
                reason = "rt_sigreturn reads the signal frame at %rsp";
                return false;
            case kSysClone:
            case kSysClone3:
                reason = std::string(value.value == kSysClone ? "clone" : "clone3") +
                         ": the child returns on another stack";
                return false;
            case kSysVfork:
                reason = "vfork: the child runs on the parent's stack and overwrites it";
                return false;
            default:
                break;
        }
    }
    return true;
}

std::string Planner::obstacle(uint32_t site, unsigned before, unsigned after, Plan& out) const {
    const std::vector<analyze::Insn>& insns = code_.insns();
    // The instructions, walking outwards from the syscall.
    uint32_t first = site, last = site;
    for (unsigned k = 0; k < before; ++k) {
        if (first == 0 || !adjacent(first - 1, first))
            return "no instruction right before " + describe_insn(insns[first]);
        --first;
    }
    for (unsigned k = 0; k < after; ++k) {
        if (last + 1 >= insns.size() || !adjacent(last, last + 1))
            return "no instruction right after " + describe_insn(insns[last]);
        ++last;
    }
    const uint64_t start = insns[first].addr, end = insns[last].end();
    if (const auto target = targets_.first_inside(start, end)) {
        std::string where = analyze::hex(target->addr);
        if (const auto index = code_.index_of(target->addr)) where = describe_insn(insns[*index]);
        return where + " is " + describe(target->kind);
    }
    for (uint32_t i = first; i <= last; ++i)
        if (!reached_[i]) return describe_insn(insns[i]) + " was found only by linear sweep";
    for (uint32_t i = first; i <= last; ++i) {
        if (i == site) continue;
        InsnFacts facts;
        if (!this->facts(i, facts)) return describe_insn(insns[i]) + " does not decode";
        if (facts.not_movable) return describe_insn(insns[i]) + " is " + facts.not_movable;
        if (facts.rip_relative && !fits(reach_.lo, reach_.hi, facts.rip_target, facts.rip_target))
            return describe_insn(insns[i]) + ": its RIP-relative operand would not reach";
    }
    if (end - start < kJmpSize) return kTooShort;
    const auto offset = file_.offset_of(start);
    if (!offset || file_.offset_of(end - 1) != *offset + (end - 1 - start))
        return "the range is not in the file";
    if (start < patched_end_) return "it overlaps the range patched for the previous site";
    if (!fits(start + kJmpSize, start + kJmpSize, reach_.lo, reach_.hi) ||
        !fits(reach_.lo, reach_.hi, end, end))
        return "the trampoline segment is out of the reach of a jmp";
    out.site = site;
    out.first = first;
    out.last = last;
    out.start = start;
    out.end = end;
    out.packing = before == 0 ? Packing::Forward : after == 0 ? Packing::Backward : Packing::Both;
    return {};
}

bool Planner::plan(uint32_t site, const analyze::SiteReport& report, Plan& out,
                   std::string& reason) {
    const analyze::Insn& insn = code_.insns()[site];
    if (insn.syscall != analyze::SyscallKind::Syscall) {
        reason =
            std::string(insn.syscall == analyze::SyscallKind::Int80 ? "int 0x80" : "sysenter") +
            " uses the i386 syscall ABI, which utx does not run";
        return false;
    }
    if (!reached_[site]) {
        reason = "found only by the linear sweep of a gap: no known path reaches it";
        return false;
    }
    if (const UncertainRange* range = targets_.uncertain(insn.addr)) {
        reason = "in the function at " + analyze::hex(range->start) + ", " + range->why;
        return false;
    }
    if (!number_allows(report, reason)) return false;
    if (const auto stackless = stackless_.find(site); stackless != stackless_.end()) {
        reason = stackless->second;
        return false;
    }

    // Candidates by the number of displaced instructions; at equal size backward packing
    // first (the `mov $nr, %eax` before the syscall), then forward, then both.
    struct Candidate {
        unsigned before, after;
    };
    std::vector<Candidate> candidates;
    for (unsigned total = 1; total <= 2 * kMaxDisplaced; ++total) {
        if (total <= kMaxDisplaced) candidates.push_back({total, 0});
        if (total <= kMaxDisplaced) candidates.push_back({0, total});
        for (unsigned before = 1; before < total; ++before)
            if (before <= kMaxDisplaced && total - before <= kMaxDisplaced)
                candidates.push_back({before, total - before});
    }
    std::string backward, forward;
    for (const Candidate& candidate : candidates) {
        const std::string why = obstacle(site, candidate.before, candidate.after, out);
        if (why.empty()) {
            patched_end_ = out.end;
            return true;
        }
        if (why == kTooShort) continue;
        if (candidate.after == 0 && backward.empty()) backward = why;
        if (candidate.before == 0 && forward.empty()) forward = why;
    }
    if (backward.empty()) backward = "the instructions that could move are too short for a jmp";
    if (forward.empty()) forward = "the instructions that could move are too short for a jmp";
    reason = "backward: " + backward + "; forward: " + forward;
    return false;
}

}  // namespace utx::rewrite
