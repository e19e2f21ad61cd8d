#include "loader/embedded.h"

extern "C" const uint8_t utx_kernel_start[], utx_kernel_end[], utx_rom_start[], utx_rom_end[];

namespace utx::loader {

std::span<const uint8_t> embedded_kernel() {
    return {utx_kernel_start, size_t(utx_kernel_end - utx_kernel_start)};
}
std::span<const uint8_t> embedded_boot_rom() {
    return {utx_rom_start, size_t(utx_rom_end - utx_rom_start)};
}

}  // namespace utx::loader
