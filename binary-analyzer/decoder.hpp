// Instruction decoders: Zydis for x86-64, our own for riscv64 (RV64GC).
#pragma once

#include <memory>
#include <span>

#include "insn.hpp"

namespace utx::analyze {

class ElfImage;

class Decoder {
  public:
    virtual ~Decoder() = default;
    // Decodes the instruction at `region[offset]`, loaded at `region_addr + offset`.
    // Returns false for bytes that are not a valid instruction.
    virtual bool decode(std::span<const uint8_t> region, uint64_t region_addr, size_t offset,
                        Insn& out) const = 0;
    // The smallest instruction alignment (1 on x86, 2 on riscv with compressed).
    virtual unsigned alignment() const = 0;
};

// `image` may be null; when given, loads from read-only data become constants.
std::unique_ptr<Decoder> make_x86_decoder(const ElfImage* image);
std::unique_ptr<Decoder> make_riscv_decoder();
std::unique_ptr<Decoder> make_decoder(Arch arch, const ElfImage* image);

}  // namespace utx::analyze
