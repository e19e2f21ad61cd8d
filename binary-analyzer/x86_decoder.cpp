#include <Zydis/Zydis.h>

#include "decoder.hpp"
#include "elf_image.hpp"

namespace utx::analyze {

namespace {

int gpr_index(ZydisRegister reg) {
    const ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
    if (full >= ZYDIS_REGISTER_RAX && full <= ZYDIS_REGISTER_R15)
        return static_cast<int>(full - ZYDIS_REGISTER_RAX);
    return -1;
}

unsigned reg_width(ZydisRegister reg) {
    return ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg);
}

class X86Decoder final : public Decoder {
  public:
    explicit X86Decoder(const ElfImage* image) : image_(image) {
        ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    }
    unsigned alignment() const override { return 1; }

    bool decode(std::span<const uint8_t> region, uint64_t region_addr, size_t offset,
                Insn& out) const override {
        ZydisDecodedInstruction in;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder_, region.data() + offset,
                                                 region.size() - offset, &in, ops)))
            return false;
        out = Insn{};
        out.addr = region_addr + offset;
        out.length = in.length;
        out.mnemonic = ZydisMnemonicGetString(in.mnemonic);
        classify_flow(in, ops, out);
        if (out.flow == Flow::Next || out.flow == Flow::CondJump) model_effects(in, ops, out);
        return true;
    }

  private:
    void classify_flow(const ZydisDecodedInstruction& in, const ZydisDecodedOperand* ops,
                       Insn& out) const {
        auto direct_target = [&]() -> bool {
            if (in.operand_count_visible == 0 || ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
                return false;
            ZyanU64 target = 0;
            if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &ops[0], out.addr, &target)))
                return false;
            out.target = target;
            return true;
        };
        switch (in.mnemonic) {
            case ZYDIS_MNEMONIC_SYSCALL:
                out.syscall = SyscallKind::Syscall;
                return;
            case ZYDIS_MNEMONIC_SYSENTER:
                out.syscall = SyscallKind::Sysenter;
                return;
            case ZYDIS_MNEMONIC_INT:
                if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].imm.value.u == 0x80)
                    out.syscall = SyscallKind::Int80;
                return;
            case ZYDIS_MNEMONIC_JMP:
                out.flow = direct_target() ? Flow::Jump : Flow::IndirectJump;
                return;
            case ZYDIS_MNEMONIC_CALL:
                out.flow = direct_target() ? Flow::Call : Flow::IndirectCall;
                return;
            case ZYDIS_MNEMONIC_RET:
            case ZYDIS_MNEMONIC_IRET:
            case ZYDIS_MNEMONIC_IRETD:
            case ZYDIS_MNEMONIC_IRETQ:
            case ZYDIS_MNEMONIC_SYSRET:
            case ZYDIS_MNEMONIC_SYSEXIT:
                out.flow = Flow::Return;
                return;
            case ZYDIS_MNEMONIC_HLT:
            case ZYDIS_MNEMONIC_UD0:
            case ZYDIS_MNEMONIC_UD1:
            case ZYDIS_MNEMONIC_UD2:
            case ZYDIS_MNEMONIC_INT3:
                out.flow = Flow::Stop;
                return;
            default:
                break;
        }
        if (in.meta.category == ZYDIS_CATEGORY_COND_BR) {
            out.flow = direct_target() ? Flow::CondJump : Flow::IndirectJump;
            if (in.mnemonic == ZYDIS_MNEMONIC_JZ || in.mnemonic == ZYDIS_MNEMONIC_JNZ) {
                out.zero_branch = true;
                out.zero_when_taken = in.mnemonic == ZYDIS_MNEMONIC_JZ;
            }
        } else if (in.mnemonic == ZYDIS_MNEMONIC_TEST && in.operand_count_visible == 2 &&
                   ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                   ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                   ops[0].reg.value == ops[1].reg.value && reg_width(ops[0].reg.value) == 64) {
            const int reg = gpr_index(ops[0].reg.value);
            if (reg >= 0) out.zero_reg = static_cast<uint8_t>(reg);
        }
    }

    // Loads from read-only memory at a fixed address give constants.
    bool constant_load(const ZydisDecodedInstruction& in, const ZydisDecodedOperand& mem,
                       uint64_t addr, unsigned size, int64_t& value) const {
        if (!image_ || mem.mem.index != ZYDIS_REGISTER_NONE) return false;
        if (mem.mem.base != ZYDIS_REGISTER_RIP && mem.mem.base != ZYDIS_REGISTER_NONE) return false;
        if (mem.mem.segment != ZYDIS_REGISTER_DS && mem.mem.segment != ZYDIS_REGISTER_NONE)
            return false;
        ZyanU64 where = 0;
        if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &mem, addr, &where))) return false;
        const auto loaded = image_->read_constant(where, size);
        if (!loaded) return false;
        value = static_cast<int64_t>(*loaded);
        return true;
    }

    void model_effects(const ZydisDecodedInstruction& in, const ZydisDecodedOperand* ops,
                       Insn& out) const {
        if (model_known(in, ops, out)) return;
        for (unsigned i = 0; i < in.operand_count; ++i) {
            if (ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
            if (!(ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) continue;
            const int reg = gpr_index(ops[i].reg.value);
            if (reg >= 0) out.add({EffectKind::Clobber, static_cast<uint8_t>(reg)});
        }
    }

    // The instructions that move syscall numbers around; returns false for the rest.
    bool model_known(const ZydisDecodedInstruction& in, const ZydisDecodedOperand* ops,
                     Insn& out) const {
        if (in.operand_count_visible < 1 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER)
            return false;
        const int dst = gpr_index(ops[0].reg.value);
        const unsigned width = reg_width(ops[0].reg.value);
        if (dst < 0) return false;
        const bool high_byte =
            ops[0].reg.value >= ZYDIS_REGISTER_AH && ops[0].reg.value <= ZYDIS_REGISTER_BH;
        if ((width == 8 || width == 16) && !high_byte && in.mnemonic == ZYDIS_MNEMONIC_MOV &&
            in.operand_count_visible >= 2 && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            // mov al, imm / mov ax, imm: only the low bits change (musl's clone: xor eax,eax; mov
            // al,56)
            const int64_t mask = (int64_t{1} << width) - 1;
            out.add({EffectKind::InsertImm, static_cast<uint8_t>(dst), static_cast<uint8_t>(width),
                     Width::Full, ops[1].imm.value.s & mask});
            return true;
        }
        if (width != 32 && width != 64) return false;
        const auto d = static_cast<uint8_t>(dst);
        const Width w = width == 32 ? Width::Zext32 : Width::Full;
        const bool two = in.operand_count_visible >= 2;
        const ZydisDecodedOperand& src = ops[1];
        const int src_reg =
            two && src.type == ZYDIS_OPERAND_TYPE_REGISTER ? gpr_index(src.reg.value) : -1;

        switch (in.mnemonic) {
            case ZYDIS_MNEMONIC_MOV:
                if (!two) return false;
                if (src.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
                    out.add({EffectKind::SetImm, d, 0, w, src.imm.value.s});
                } else if (src_reg >= 0) {
                    out.add({EffectKind::Copy, d, static_cast<uint8_t>(src_reg), w});
                } else if (src.type == ZYDIS_OPERAND_TYPE_MEMORY) {
                    int64_t value = 0;
                    if (constant_load(in, src, out.addr, width / 8, value))
                        out.add({EffectKind::SetImm, d, kConstantLoad, w, value});
                    else
                        out.add({EffectKind::LoadMem, d});
                } else {
                    return false;
                }
                return true;
            case ZYDIS_MNEMONIC_XOR:
            case ZYDIS_MNEMONIC_SUB:
                if (src_reg == dst && src.reg.value == ops[0].reg.value) {
                    out.add({EffectKind::SetImm, d, kZeroIdiom, w, 0});
                    return true;
                }
                if (in.mnemonic == ZYDIS_MNEMONIC_SUB && two &&
                    src.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
                    out.add({EffectKind::AddImm, d, d, w, -src.imm.value.s});
                    return true;
                }
                return false;
            case ZYDIS_MNEMONIC_ADD:
                if (two && src.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
                    out.add({EffectKind::AddImm, d, d, w, src.imm.value.s});
                    return true;
                }
                return false;
            case ZYDIS_MNEMONIC_INC:
            case ZYDIS_MNEMONIC_DEC:
                out.add({EffectKind::AddImm, d, d, w, in.mnemonic == ZYDIS_MNEMONIC_INC ? 1 : -1});
                return true;
            case ZYDIS_MNEMONIC_LEA: {
                if (!two || src.type != ZYDIS_OPERAND_TYPE_MEMORY) return false;
                if (src.mem.index != ZYDIS_REGISTER_NONE) return false;
                if (src.mem.base == ZYDIS_REGISTER_RIP) {
                    ZyanU64 where = 0;
                    if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &src, out.addr, &where)))
                        return false;
                    out.add({EffectKind::SetImm, d, kAddress, w, static_cast<int64_t>(where)});
                    return true;
                }
                const int64_t disp = src.mem.disp.has_displacement ? src.mem.disp.value : 0;
                if (src.mem.base == ZYDIS_REGISTER_NONE) {
                    out.add({EffectKind::SetImm, d, 0, w, disp});
                    return true;
                }
                const int base = gpr_index(src.mem.base);
                if (base < 0) return false;
                out.add({EffectKind::AddImm, d, static_cast<uint8_t>(base), w, disp});
                return true;
            }
            case ZYDIS_MNEMONIC_XCHG:
                if (src_reg < 0 || reg_width(src.reg.value) != width) return false;
                out.add({EffectKind::Copy, d, static_cast<uint8_t>(src_reg), w});
                out.add({EffectKind::Copy, static_cast<uint8_t>(src_reg), d, w});
                return true;
            case ZYDIS_MNEMONIC_POP:
                out.add({EffectKind::LoadMem, d});
                return true;
            default:
                break;
        }
        if (in.meta.category == ZYDIS_CATEGORY_CMOV && src_reg >= 0) {
            out.add({EffectKind::Either, d, static_cast<uint8_t>(src_reg), w});
            return true;
        }
        return false;
    }

    ZydisDecoder decoder_;
    const ElfImage* image_;
};

}  // namespace

std::unique_ptr<Decoder> make_x86_decoder(const ElfImage* image) {
    return std::make_unique<X86Decoder>(image);
}

std::unique_ptr<Decoder> make_decoder(Arch arch, const ElfImage* image) {
    return arch == Arch::X86_64 ? make_x86_decoder(image) : make_riscv_decoder();
}

}  // namespace utx::analyze
