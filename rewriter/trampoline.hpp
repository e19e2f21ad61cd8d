// Machine code of the trampoline segment: the gate every trampoline calls, the native
// `syscall; ret` stub, and one trampoline per rewritten site.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace utx::rewrite {

// One instruction moved from the patched range into a trampoline.
struct Displaced {
    std::span<const uint8_t> bytes;
    uint64_t addr = 0;  // where it was
    bool rip_relative = false;
    uint8_t disp_offset = 0;  // of its 32-bit RIP displacement
    uint64_t rip_target = 0;
};

inline constexpr size_t kGateSize = 21;  // mov slot,%r11; lea slot,%rcx; lea; jmp *%r11
inline constexpr size_t kStubSize = 3;   // syscall; ret

// The gate at `gate`, which jumps to slot + *slot, followed by the stub.
std::vector<uint8_t> encode_gate_and_stub(uint64_t gate, uint64_t slot);

// The trampoline at `addr`: the instructions displaced from before the syscall, the step
// below the red zone, `call gate`, the step back, those from after it, `jmp resume`.
// The caller has checked that every displacement fits.
std::vector<uint8_t> encode_trampoline(uint64_t addr, std::span<const Displaced> before,
                                       std::span<const Displaced> after, uint64_t gate,
                                       uint64_t resume);

// The patched range: `jmp trampoline`, then int3 up to `end`.
std::vector<uint8_t> encode_patch(uint64_t start, uint64_t end, uint64_t trampoline);

}  // namespace utx::rewrite
