#include "x86_insn.hpp"

#include <Zydis/Zydis.h>

namespace utx::rewrite {

struct X86Inspector::State {
    ZydisDecoder decoder;
};

X86Inspector::X86Inspector() : state_(std::make_unique<State>()) {
    ZydisDecoderInit(&state_->decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

X86Inspector::~X86Inspector() = default;

namespace {

bool is_stack_pointer(ZydisRegister reg) {
    return ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg) == ZYDIS_REGISTER_RSP;
}

// Instructions whose effect does not depend on where they are, as long as their
// RIP-relative operand (if any) is re-encoded: arithmetic, logic, moves, conditional
// moves and sets, shifts, bit tests, conversions, nops, push and pop. Everything else
// (control flow, system, string, I/O, vector, x87...) stays where it is.
const char* refusal_for_category(const ZydisDecodedInstruction& in) {
    if (in.mnemonic == ZYDIS_MNEMONIC_LEA) return nullptr;
    switch (in.meta.category) {
        case ZYDIS_CATEGORY_BINARY:
        case ZYDIS_CATEGORY_LOGICAL:
        case ZYDIS_CATEGORY_DATAXFER:
        case ZYDIS_CATEGORY_CMOV:
        case ZYDIS_CATEGORY_SETCC:
        case ZYDIS_CATEGORY_SHIFT:
        case ZYDIS_CATEGORY_ROTATE:
        case ZYDIS_CATEGORY_BITBYTE:
        case ZYDIS_CATEGORY_CONVERT:
        case ZYDIS_CATEGORY_NOP:
        case ZYDIS_CATEGORY_WIDENOP:
        case ZYDIS_CATEGORY_PUSH:
        case ZYDIS_CATEGORY_POP:
            return nullptr;
        case ZYDIS_CATEGORY_COND_BR:
        case ZYDIS_CATEGORY_UNCOND_BR:
            return "a branch";
        case ZYDIS_CATEGORY_CALL:
            return "a call";
        case ZYDIS_CATEGORY_RET:
            return "a return";
        case ZYDIS_CATEGORY_SYSCALL:
        case ZYDIS_CATEGORY_SYSRET:
        case ZYDIS_CATEGORY_INTERRUPT:
            return "another system call or interrupt";
        default:
            return "not an instruction the rewriter moves";
    }
}

}  // namespace

bool X86Inspector::inspect(std::span<const uint8_t> bytes, uint64_t addr, InsnFacts& out) const {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(
            ZydisDecoderDecodeFull(&state_->decoder, bytes.data(), bytes.size(), &in, ops)))
        return false;
    out = InsnFacts{};
    out.length = in.length;
    out.is_lea = in.mnemonic == ZYDIS_MNEMONIC_LEA;
    out.not_movable = refusal_for_category(in);

    bool relative_immediate = false;
    for (unsigned i = 0; i < in.operand_count; ++i) {
        const ZydisDecodedOperand& op = ops[i];
        if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
            const bool writes = (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
            if (!writes) continue;
            // push and pop move %rsp by themselves; the trampoline runs them at the very
            // same %rsp. Any other write to %rsp (stack switches, leave, enter) is left
            // where it is, as are segment register loads.
            if (is_stack_pointer(op.reg.value) && in.meta.category != ZYDIS_CATEGORY_PUSH &&
                in.meta.category != ZYDIS_CATEGORY_POP && !out.not_movable)
                out.not_movable = "it changes %rsp";
            if (ZydisRegisterGetClass(op.reg.value) == ZYDIS_REGCLASS_SEGMENT && !out.not_movable)
                out.not_movable = "it loads a segment register";
        } else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
            if (op.mem.base == ZYDIS_REGISTER_RIP) {
                ZyanU64 target = 0;
                if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &op, addr, &target)) ||
                    in.raw.disp.size != 32) {
                    if (!out.not_movable) out.not_movable = "an unusual RIP-relative operand";
                    continue;
                }
                out.rip_relative = true;
                out.rip_target = target;
                out.rip_disp_offset = in.raw.disp.offset;
            } else if (op.mem.base == ZYDIS_REGISTER_NONE && op.mem.disp.has_displacement &&
                       op.mem.type == ZYDIS_MEMOP_TYPE_MEM &&
                       out.constant_count < out.constants.size()) {
                out.constants[out.constant_count++] = static_cast<uint64_t>(op.mem.disp.value);
            }
        } else if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            if (op.imm.is_relative) {
                relative_immediate = true;
                continue;
            }
            if (out.constant_count < out.constants.size())
                out.constants[out.constant_count++] = op.imm.value.u;
        }
    }
    if (relative_immediate && !out.not_movable) out.not_movable = "a relative branch";
    if ((in.attributes & ZYDIS_ATTRIB_IS_RELATIVE) && !out.rip_relative && !out.not_movable)
        out.not_movable = "relative to its own address";
    return true;
}

}  // namespace utx::rewrite
