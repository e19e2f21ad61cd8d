#include "dataflow.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>

#include "code_map.hpp"
#include "error.hpp"

namespace utx::analyze {

namespace {

constexpr size_t kMaxOps = 6;

// value = width(((value & keep) | insert) + add)
struct PendingOp {
    int64_t add = 0;
    Width width = Width::Full;
    uint64_t keep = ~uint64_t{0};
    int64_t insert = 0;
};

// One open question: the value of `reg` just before instruction `point`, to which the
// pending operations (outermost first) still have to be applied.
struct Query {
    uint32_t point = 0;
    uint8_t reg = 0;
    uint8_t depth = 0;
    uint8_t op_count = 0;
    uint32_t how = 0;
    std::array<PendingOp, kMaxOps> ops{};
};

int64_t apply_width(int64_t value, Width width) {
    switch (width) {
        case Width::Full:
            return value;
        case Width::Zext32:
            return static_cast<int64_t>(static_cast<uint64_t>(value) & 0xffffffffu);
        case Width::Sext32:
            return static_cast<int32_t>(static_cast<uint32_t>(value));
    }
    return value;
}

uint32_t how_of_origin(uint8_t origin) {
    switch (origin) {
        case kZeroIdiom:
            return kHowZeroIdiom;
        case kAddress:
            return kHowAddress;
        case kConstantLoad:
            return kHowConstantLoad;
        default:
            return kHowImmediate;
    }
}

}  // namespace

std::string describe_how(uint32_t how) {
    std::string text;
    auto add = [&](uint32_t bit, const char* word) {
        if (!(how & bit)) return;
        if (!text.empty()) text += ", ";
        text += word;
    };
    add(kHowImmediate, "immediate");
    add(kHowZeroIdiom, "xor zero");
    add(kHowAddress, "address");
    add(kHowConstantLoad, "read-only constant");
    add(kHowCopy, "register copy");
    add(kHowArithmetic, "arithmetic");
    add(kHowPredecessor, "predecessor block");
    add(kHowCallSite, "call-site argument");
    add(kHowBranchCondition, "branch condition");
    return text;
}

DataFlow::DataFlow(const CodeMap& code, const Abi& abi, NameOf name_of, DataFlowLimits limits)
    : code_(code), abi_(abi), name_of_(std::move(name_of)), limits_(limits) {}

Resolution DataFlow::value_before(uint32_t insn_index, uint8_t reg) const {
    const std::vector<Insn>& insns = code_.insns();
    Resolution result;
    std::vector<Query> work{Query{insn_index, reg}};
    std::unordered_set<uint64_t> seen;
    unsigned steps = 0;

    auto unresolved = [&](uint64_t addr, std::string reason) {
        for (const Unresolved& u : result.unresolved)
            if (u.addr == addr && u.reason == reason) return;
        result.unresolved.push_back({addr, std::move(reason)});
    };
    auto found = [&](const Query& q, int64_t value, Width width, uint32_t how) {
        value = apply_width(value, width);
        for (size_t k = q.op_count; k-- > 0;) {
            const PendingOp& op = q.ops[k];
            value = static_cast<int64_t>((static_cast<uint64_t>(value) & op.keep) |
                                         static_cast<uint64_t>(op.insert));
            value = apply_width(value + op.add, op.width);
        }
        for (ResolvedValue& v : result.values)
            if (v.value == value) {
                v.how |= q.how | how;
                return;
            }
        result.values.push_back({value, q.how | how});
    };
    auto reg_name = [&](unsigned r) { return register_name(abi_.arch, r); };

    // The register known to be 0 on the edge out of branch `source` (taken or not):
    // `test r, r` + jz/jnz on x86, beq/bne r, zero on riscv.
    auto zero_on_edge = [&](uint32_t source, bool taken) -> uint8_t {
        const Insn& branch = insns[source];
        if (branch.flow != Flow::CondJump || !branch.zero_branch ||
            taken != branch.zero_when_taken || branch.target == branch.end())
            return kNoReg;
        if (branch.zero_reg != kNoReg) return branch.zero_reg;
        if (source == 0) return kNoReg;
        const Insn& test = insns[source - 1];
        if (test.end() != branch.addr || test.flow != Flow::Next) return kNoReg;
        return test.zero_reg;
    };

    // Applies the effect of instruction `p` (on the edge into the current point) to query q.
    // Returns true when q continues before `p`.
    auto through = [&](Query& q, uint32_t p, bool call_edge) -> bool {
        const Insn& insn = insns[p];
        const uint32_t mask = 1u << q.reg;
        if (!call_edge && insn.is_call() && (abi_.caller_saved & mask)) {
            unresolved(insn.addr, reg_name(q.reg) + " is changed by the call at " + hex(insn.addr));
            return false;
        }
        if (insn.syscall != SyscallKind::None && (abi_.syscall_clobbers & mask)) {
            unresolved(insn.addr,
                       reg_name(q.reg) + " is the result of the syscall at " + hex(insn.addr));
            return false;
        }
        for (unsigned e = 0; e < insn.effect_count; ++e) {
            const Effect& effect = insn.effects[e];
            if (effect.dst != q.reg) continue;
            auto push_op = [&](int64_t add, Width width, uint64_t keep = ~uint64_t{0},
                               int64_t insert = 0) {
                if (add == 0 && width == Width::Full && keep == ~uint64_t{0}) return true;
                if (q.op_count == kMaxOps) {
                    unresolved(insn.addr, "arithmetic chain too long at " + hex(insn.addr));
                    return false;
                }
                q.ops[q.op_count++] = {add, width, keep, insert};
                if (add != 0) q.how |= kHowArithmetic;
                return true;
            };
            switch (effect.kind) {
                case EffectKind::SetImm:
                    found(q, effect.imm, effect.width, how_of_origin(effect.src));
                    return false;
                case EffectKind::Copy:
                    if (!push_op(0, effect.width)) return false;
                    q.how |= kHowCopy;
                    q.reg = effect.src;
                    return true;
                case EffectKind::AddImm:
                    if (!push_op(effect.imm, effect.width)) return false;
                    if (effect.src != q.reg) q.how |= kHowCopy;
                    q.reg = effect.src;
                    return true;
                case EffectKind::Either: {
                    if (!push_op(0, effect.width)) return false;
                    Query other = q;
                    other.reg = effect.src;
                    other.point = p;
                    other.how |= kHowCopy;
                    work.push_back(other);
                    return true;  // q keeps the old destination
                }
                case EffectKind::InsertImm:
                    if (!push_op(0, Width::Full, ~((uint64_t{1} << effect.src) - 1), effect.imm))
                        return false;
                    return true;  // the upper bits come from before
                case EffectKind::LoadMem:
                    unresolved(insn.addr, reg_name(q.reg) + " is loaded from memory at " +
                                              hex(insn.addr) + " (" + insn.mnemonic + ")");
                    return false;
                case EffectKind::Clobber:
                    break;
            }
        }
        if (insn.clobbers & mask) {
            unresolved(insn.addr, reg_name(q.reg) + " is computed by `" + insn.mnemonic + "` at " +
                                      hex(insn.addr));
            return false;
        }
        return true;
    };

    while (!work.empty()) {
        Query q = work.back();
        work.pop_back();
        while (true) {
            if (++steps > limits_.steps) {
                unresolved(insns[insn_index].addr, "search budget exhausted");
                return result;
            }
            const uint64_t key = (uint64_t{q.point} << 16) | (uint64_t{q.reg} << 8) | q.op_count;
            if (!seen.insert(key).second) break;  // a loop, or already explored

            const Insn& here = insns[q.point];
            const bool function_start = code_.is_function_start(here.addr);
            const std::span<const uint32_t> branches = code_.branch_preds(here.addr);
            std::optional<uint32_t> fall;
            if (!function_start && q.point > 0) {
                const Insn& prev = insns[q.point - 1];
                if (prev.end() == here.addr && prev.falls_through() && code_.call_returns(prev))
                    fall = q.point - 1;
            }

            if (branches.empty()) {
                if (fall) {  // straight-line code: the common case
                    if (zero_on_edge(*fall, false) == q.reg) {
                        found(q, 0, Width::Full, kHowPredecessor | kHowBranchCondition);
                        break;
                    }
                    if (!through(q, *fall, false)) break;
                    q.point = *fall;
                    continue;
                }
                if (!function_start && std::string_view(here.mnemonic) == "nop")
                    break;  // padding after a call that never returns: dead code
                if (function_start)
                    unresolved(here.addr, reg_name(q.reg) + " comes from the caller of " +
                                              name_of_(here.addr) +
                                              ", which has no direct callers");
                else
                    unresolved(here.addr, "no known predecessor of " + hex(here.addr) +
                                              " (reached by an indirect jump?)");
                break;
            }

            Query base = q;
            if (function_start) {
                if (q.depth >= limits_.call_depth) {
                    unresolved(here.addr,
                               "call-site depth limit reached at " + name_of_(here.addr));
                    break;
                }
                ++base.depth;
                base.how |= kHowCallSite;
            } else {
                base.how |= kHowPredecessor;
            }
            for (uint32_t source : branches) {
                Query next = base;
                const bool call_edge = insns[source].flow == Flow::Call;
                if (!call_edge && zero_on_edge(source, true) == q.reg) {
                    found(next, 0, Width::Full, kHowBranchCondition);
                    continue;
                }
                if (through(next, source, call_edge)) {
                    next.point = source;
                    work.push_back(next);
                }
            }
            if (fall) {
                Query next = q;
                next.how |= kHowPredecessor;
                if (zero_on_edge(*fall, false) == q.reg) {
                    found(next, 0, Width::Full, kHowBranchCondition);
                } else if (through(next, *fall, false)) {
                    next.point = *fall;
                    work.push_back(next);
                }
            }
            break;
        }
    }
    std::sort(result.values.begin(), result.values.end(),
              [](const ResolvedValue& a, const ResolvedValue& b) { return a.value < b.value; });
    return result;
}

}  // namespace utx::analyze
