// RV64GC decoding, only as deep as control flow and integer-register data flow need:
// branches, jumps, calls (including auipc+jalr pairs), li/lui/addi(w)/mv and their
// compressed forms; every other write to an integer register is a clobber.
#include <cstring>
#include <optional>

#include "decoder.hpp"

namespace utx::analyze {

namespace {

constexpr uint8_t kZero = 0, kRa = 1, kSp = 2;

int64_t sext(uint64_t value, unsigned bits) {
    const uint64_t sign = uint64_t{1} << (bits - 1);
    return static_cast<int64_t>((value ^ sign) - sign);
}
uint32_t bits(uint32_t word, unsigned hi, unsigned lo) {
    return (word >> lo) & ((1u << (hi - lo + 1)) - 1);
}

class RiscvDecoder final : public Decoder {
  public:
    unsigned alignment() const override { return 2; }

    bool decode(std::span<const uint8_t> region, uint64_t region_addr, size_t offset,
                Insn& out) const override {
        if (region.size() - offset < 2) return false;
        uint16_t half;
        std::memcpy(&half, region.data() + offset, 2);
        out = Insn{};
        out.addr = region_addr + offset;
        if ((half & 3) != 3) {
            out.length = 2;
            return decode_compressed(half, out);
        }
        if (region.size() - offset < 4) return false;
        uint32_t word;
        std::memcpy(&word, region.data() + offset, 4);
        if ((word & 0x1f) == 0x1f) return false;  // 48-bit and longer encodings
        out.length = 4;
        return decode_full(word, region, offset, out);
    }

  private:
    static void set_imm(Insn& out, uint32_t rd, int64_t value, uint8_t origin = kImmediate) {
        if (rd != kZero)
            out.add({EffectKind::SetImm, static_cast<uint8_t>(rd), origin, Width::Full, value});
    }
    static void add_imm(Insn& out, uint32_t rd, uint32_t rs, int64_t imm, Width width) {
        if (rd == kZero) return;
        if (rs == kZero) {
            const int64_t value =
                width == Width::Sext32 ? sext(static_cast<uint64_t>(imm) & 0xffffffff, 32) : imm;
            set_imm(out, rd, value);
        } else if (imm == 0 && width == Width::Full) {
            out.add({EffectKind::Copy, static_cast<uint8_t>(rd), static_cast<uint8_t>(rs)});
        } else {
            out.add({EffectKind::AddImm, static_cast<uint8_t>(rd), static_cast<uint8_t>(rs), width,
                     imm});
        }
    }
    static void clobber(Insn& out, uint32_t rd) {
        if (rd != kZero) out.add({EffectKind::Clobber, static_cast<uint8_t>(rd)});
    }
    static void load(Insn& out, uint32_t rd) {
        if (rd != kZero) out.add({EffectKind::LoadMem, static_cast<uint8_t>(rd)});
    }
    static void jump_and_link(Insn& out, uint32_t rd, uint64_t target) {
        out.target = target;
        if (rd == kZero)
            out.flow = Flow::Jump;
        else if (rd == kRa || rd == 5)
            out.flow = Flow::Call;
        else {
            out.flow = Flow::Jump;
            clobber(out, rd);
        }
    }

    bool decode_full(uint32_t w, std::span<const uint8_t> region, size_t offset, Insn& out) const {
        const uint32_t opcode = w & 0x7f, rd = bits(w, 11, 7), rs1 = bits(w, 19, 15),
                       rs2 = bits(w, 24, 20), funct3 = bits(w, 14, 12), funct7 = bits(w, 31, 25);
        const int64_t imm_i = sext(w >> 20, 12);
        switch (opcode) {
            case 0x37:  // lui
                out.mnemonic = "lui";
                set_imm(out, rd, sext(w & 0xfffff000, 32));
                return true;
            case 0x17:  // auipc
                out.mnemonic = "auipc";
                set_imm(out, rd, static_cast<int64_t>(out.addr) + sext(w & 0xfffff000, 32),
                        kAddress);
                return true;
            case 0x6f: {  // jal
                const uint64_t imm = (bits(w, 31, 31) << 20) | (bits(w, 19, 12) << 12) |
                                     (bits(w, 20, 20) << 11) | (bits(w, 30, 21) << 1);
                out.mnemonic = "jal";
                jump_and_link(out, rd, out.addr + static_cast<uint64_t>(sext(imm, 21)));
                return true;
            }
            case 0x67: {  // jalr
                out.mnemonic = "jalr";
                if (funct3 != 0) return false;
                // `auipc rs1, hi` right before makes the target known (call/tail pseudos).
                std::optional<uint64_t> target;
                if (offset >= 4 && rs1 != kZero) {
                    uint32_t prev;
                    std::memcpy(&prev, region.data() + offset - 4, 4);
                    if ((prev & 0x7f) == 0x17 && bits(prev, 11, 7) == rs1)
                        target = out.addr - 4 + static_cast<uint64_t>(sext(prev & 0xfffff000, 32)) +
                                 static_cast<uint64_t>(imm_i);
                }
                if (target) {
                    jump_and_link(out, rd, *target & ~uint64_t{1});
                } else if (rd == kZero) {
                    out.flow = (rs1 == kRa && imm_i == 0) ? Flow::Return : Flow::IndirectJump;
                } else {
                    out.flow = Flow::IndirectCall;
                    if (rd != kRa) clobber(out, rd);
                }
                return true;
            }
            case 0x63: {  // branches
                out.mnemonic = "branch";
                if (funct3 == 2 || funct3 == 3) return false;
                const uint64_t imm = (bits(w, 31, 31) << 12) | (bits(w, 7, 7) << 11) |
                                     (bits(w, 30, 25) << 5) | (bits(w, 11, 8) << 1);
                out.flow = Flow::CondJump;
                out.target = out.addr + static_cast<uint64_t>(sext(imm, 13));
                if ((funct3 == 0 || funct3 == 1) && (rs1 == kZero) != (rs2 == kZero)) {
                    out.zero_branch = true;  // beq/bne r, zero
                    out.zero_reg = static_cast<uint8_t>(rs1 == kZero ? rs2 : rs1);
                    out.zero_when_taken = funct3 == 0;
                }
                return true;
            }
            case 0x03:  // loads
                out.mnemonic = "load";
                if (funct3 == 7) return false;
                load(out, rd);
                return true;
            case 0x07:
            case 0x27:
            case 0x23:
            case 0x0f:  // fp loads, stores, fence
                out.mnemonic = "memory";
                return true;
            case 0x13:  // op-imm
                out.mnemonic = funct3 == 0 ? "addi" : "op-imm";
                if (funct3 == 0)
                    add_imm(out, rd, rs1, imm_i, Width::Full);
                else
                    clobber(out, rd);
                return true;
            case 0x1b:  // op-imm-32
                out.mnemonic = funct3 == 0 ? "addiw" : "op-imm-32";
                if (funct3 == 0)
                    add_imm(out, rd, rs1, imm_i, Width::Sext32);
                else
                    clobber(out, rd);
                return true;
            case 0x33:  // op
                out.mnemonic = "op";
                if (funct7 == 0 && (funct3 == 0 || funct3 == 6) && (rs1 == kZero || rs2 == kZero))
                    add_imm(out, rd, rs1 == kZero ? rs2 : rs1, 0,
                            Width::Full);  // add/or rd, rs, zero
                else
                    clobber(out, rd);
                return true;
            case 0x3b:  // op-32
                out.mnemonic = "op-32";
                clobber(out, rd);
                return true;
            case 0x2f:  // atomics
                out.mnemonic = "amo";
                load(out, rd);
                return true;
            case 0x43:
            case 0x47:
            case 0x4b:
            case 0x4f:  // fused multiply-add
                out.mnemonic = "fma";
                return true;
            case 0x53: {  // op-fp: only compares, conversions to int, moves to int and fclass
                out.mnemonic = "op-fp";
                const uint32_t group = funct7 >> 2;
                if (group == 0x14 || group == 0x18 || group == 0x1c) clobber(out, rd);
                return true;
            }
            case 0x73:  // system
                if (w == 0x00000073) {
                    out.mnemonic = "ecall";
                    out.syscall = SyscallKind::Ecall;
                    return true;
                }
                if (w == 0x00100073) {
                    out.mnemonic = "ebreak";
                    out.flow = Flow::Stop;
                    return true;
                }
                if (w == 0x30200073 || w == 0x10200073) {
                    out.mnemonic = "xret";
                    out.flow = Flow::Return;
                    return true;
                }
                out.mnemonic = funct3 == 0 ? "system" : "csr";
                if (funct3 != 0) clobber(out, rd);
                return true;
            default:
                return false;
        }
    }

    bool decode_compressed(uint16_t h, Insn& out) const {
        if (h == 0) return false;  // defined illegal
        const uint32_t quadrant = h & 3, funct3 = bits(h, 15, 13);
        const uint32_t rd = bits(h, 11, 7), rs2 = bits(h, 6, 2);
        const uint32_t rd_p = bits(h, 4, 2) + 8, rs1_p = bits(h, 9, 7) + 8;
        const int64_t imm6 = sext((bits(h, 12, 12) << 5) | bits(h, 6, 2), 6);
        out.mnemonic = "c.op";
        if (quadrant == 0) {
            switch (funct3) {
                case 0: {  // c.addi4spn
                    const uint32_t imm = (bits(h, 10, 7) << 6) | (bits(h, 12, 11) << 4) |
                                         (bits(h, 5, 5) << 3) | (bits(h, 6, 6) << 2);
                    if (imm == 0) return false;
                    add_imm(out, rd_p, kSp, imm, Width::Full);
                    return true;
                }
                case 2:
                case 3:
                    load(out, rd_p);
                    return true;  // c.lw, c.ld
                case 1:
                case 5:
                case 6:
                case 7:
                    return true;  // c.fld, c.fsd, c.sw, c.sd
                default:
                    return false;
            }
        }
        if (quadrant == 1) {
            switch (funct3) {
                case 0:
                    out.mnemonic = "c.addi";
                    add_imm(out, rd, rd, imm6, Width::Full);
                    return true;
                case 1:
                    out.mnemonic = "c.addiw";
                    if (rd == 0) return false;
                    add_imm(out, rd, rd, imm6, Width::Sext32);
                    return true;
                case 2:
                    out.mnemonic = "c.li";
                    set_imm(out, rd, imm6);
                    return true;
                case 3:
                    if (rd == kSp) {  // c.addi16sp
                        out.mnemonic = "c.addi16sp";
                        const uint32_t imm = (bits(h, 12, 12) << 9) | (bits(h, 4, 3) << 7) |
                                             (bits(h, 5, 5) << 6) | (bits(h, 2, 2) << 5) |
                                             (bits(h, 6, 6) << 4);
                        add_imm(out, kSp, kSp, sext(imm, 10), Width::Full);
                    } else {
                        out.mnemonic = "c.lui";
                        if (imm6 == 0) return false;
                        set_imm(out, rd, imm6 << 12);
                    }
                    return true;
                case 4: {  // c.srli, c.srai, c.andi, c.sub, c.xor, c.or, c.and, c.subw, c.addw
                    out.mnemonic = "c.alu";
                    clobber(out, rs1_p);
                    return true;
                }
                case 5: {  // c.j
                    const uint32_t imm = (bits(h, 12, 12) << 11) | (bits(h, 8, 8) << 10) |
                                         (bits(h, 10, 9) << 8) | (bits(h, 6, 6) << 7) |
                                         (bits(h, 7, 7) << 6) | (bits(h, 2, 2) << 5) |
                                         (bits(h, 11, 11) << 4) | (bits(h, 5, 3) << 1);
                    out.mnemonic = "c.j";
                    out.flow = Flow::Jump;
                    out.target = out.addr + static_cast<uint64_t>(sext(imm, 12));
                    return true;
                }
                default: {  // c.beqz, c.bnez
                    const uint32_t imm = (bits(h, 12, 12) << 8) | (bits(h, 6, 5) << 6) |
                                         (bits(h, 2, 2) << 5) | (bits(h, 11, 10) << 3) |
                                         (bits(h, 4, 3) << 1);
                    out.mnemonic = "c.branch";
                    out.flow = Flow::CondJump;
                    out.target = out.addr + static_cast<uint64_t>(sext(imm, 9));
                    out.zero_branch = true;
                    out.zero_reg = static_cast<uint8_t>(8 + bits(h, 9, 7));
                    out.zero_when_taken = funct3 == 6;  // c.beqz (c.bnez is 7)
                    return true;
                }
            }
        }
        // quadrant 2
        switch (funct3) {
            case 0:
                out.mnemonic = "c.slli";
                clobber(out, rd);
                return true;
            case 2:
            case 3:
                out.mnemonic = "c.ldsp";
                if (rd == 0) return false;
                load(out, rd);
                return true;
            case 1:
            case 5:
            case 6:
            case 7:
                return true;  // c.fldsp, c.fsdsp, c.swsp, c.sdsp
            default:
                break;
        }
        const bool bit12 = bits(h, 12, 12) != 0;
        if (!bit12 && rs2 == 0) {  // c.jr
            if (rd == 0) return false;
            out.mnemonic = "c.jr";
            out.flow = rd == kRa ? Flow::Return : Flow::IndirectJump;
        } else if (!bit12) {  // c.mv
            out.mnemonic = "c.mv";
            add_imm(out, rd, rs2, 0, Width::Full);
        } else if (rd == 0 && rs2 == 0) {
            out.mnemonic = "c.ebreak";
            out.flow = Flow::Stop;
        } else if (rs2 == 0) {  // c.jalr
            out.mnemonic = "c.jalr";
            out.flow = Flow::IndirectCall;
        } else {  // c.add
            out.mnemonic = "c.add";
            if (rd == kZero) return true;
            clobber(out, rd);
        }
        return true;
    }
};

}  // namespace

std::unique_ptr<Decoder> make_riscv_decoder() {
    return std::make_unique<RiscvDecoder>();
}

}  // namespace utx::analyze
