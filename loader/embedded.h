// loader/embedded.h: the guest kernel and the QEMU boot ROM, linked into utx-run.
#pragma once
#include <cstdint>
#include <span>

namespace utx::loader {

std::span<const uint8_t> embedded_kernel();
std::span<const uint8_t> embedded_boot_rom();

}  // namespace utx::loader
