// kernel/random.h: the kernel's random bytes: ChaCha20 keyed from host entropy.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace utx::kernel {

void random_init(const uint8_t seed[32]);
void random_bytes(void* out, size_t len);
uint64_t random_u64();

}  // namespace utx::kernel
