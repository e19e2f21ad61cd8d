#include "trampoline.hpp"

#include <cstring>

namespace utx::rewrite {

namespace {

class Code {
  public:
    explicit Code(uint64_t addr) : addr_(addr) {}
    uint64_t here() const { return addr_ + bytes_.size(); }
    void put(std::initializer_list<uint8_t> bytes) { bytes_.insert(bytes_.end(), bytes); }
    void put(std::span<const uint8_t> bytes) {
        bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    }
    void put32(int64_t value) {
        const auto v = static_cast<int32_t>(value);
        uint8_t raw[4];
        std::memcpy(raw, &v, 4);
        put(std::span<const uint8_t>(raw, 4));
    }
    // `opcode` then a rel32 to `target`, measured from the end of the instruction.
    void rel32(uint8_t opcode, uint64_t target) {
        put({opcode});
        put32(static_cast<int64_t>(target - (here() + 4)));
    }
    void displaced(const Displaced& insn) {
        const uint64_t at = here();
        put(insn.bytes);
        if (!insn.rip_relative) return;
        const uint64_t end = at + insn.bytes.size();
        const auto disp = static_cast<int32_t>(static_cast<int64_t>(insn.rip_target - end));
        std::memcpy(bytes_.data() + (at - addr_) + insn.disp_offset, &disp, 4);
    }
    std::vector<uint8_t> take() { return std::move(bytes_); }

  private:
    uint64_t addr_;
    std::vector<uint8_t> bytes_;
};

constexpr uint8_t kJmpRel32 = 0xe9, kCallRel32 = 0xe8, kInt3 = 0xcc;

}  // namespace

std::vector<uint8_t> encode_gate_and_stub(uint64_t gate, uint64_t slot) {
    Code code(gate);
    // mov slot(%rip), %r11: the entry's distance from the slot
    code.put({0x4c, 0x8b, 0x1d});
    code.put32(static_cast<int64_t>(slot - (code.here() + 4)));
    // lea slot(%rip), %rcx
    code.put({0x48, 0x8d, 0x0d});
    code.put32(static_cast<int64_t>(slot - (code.here() + 4)));
    // lea (%r11,%rcx), %r11; jmp *%r11 (no flags touched: syscall preserves them too)
    code.put({0x4d, 0x8d, 0x1c, 0x0b});
    code.put({0x41, 0xff, 0xe3});
    // The stub the slot leads to in the file: the kernel clobbers %rcx and %r11 exactly as
    // the original `syscall` did, and `ret` pops the gate's caller's return address.
    code.put({0x0f, 0x05, 0xc3});
    return code.take();
}

std::vector<uint8_t> encode_trampoline(uint64_t addr, std::span<const Displaced> before,
                                       std::span<const Displaced> after, uint64_t gate,
                                       uint64_t resume) {
    Code code(addr);
    for (const Displaced& insn : before) code.displaced(insn);
    code.put({0x48, 0x8d, 0x64, 0x24, 0x80});  // lea -128(%rsp), %rsp: below the red zone
    code.rel32(kCallRel32, gate);
    code.put({0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00});  // lea 128(%rsp), %rsp
    for (const Displaced& insn : after) code.displaced(insn);
    code.rel32(kJmpRel32, resume);
    return code.take();
}

std::vector<uint8_t> encode_patch(uint64_t start, uint64_t end, uint64_t trampoline) {
    Code code(start);
    code.rel32(kJmpRel32, trampoline);
    std::vector<uint8_t> bytes = code.take();
    bytes.resize(end - start, kInt3);
    return bytes;
}

}  // namespace utx::rewrite
