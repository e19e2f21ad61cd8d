#include "kernel/random.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/lib/string.h"

namespace utx::kernel {
namespace {

uint32_t g_key[8];
uint64_t g_counter;

uint32_t rotl(uint32_t v, int n) { return v << n | v >> (32 - n); }

void quarter(uint32_t* s, int a, int b, int c, int d) {
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 16);
    s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 8);
    s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 7);
}

void chacha_block(uint32_t out[16]) {
    uint32_t s[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    memcpy(s + 4, g_key, sizeof g_key);
    s[12] = uint32_t(g_counter);
    s[13] = uint32_t(g_counter >> 32);
    s[14] = s[15] = 0;
    ++g_counter;
    uint32_t x[16];
    memcpy(x, s, sizeof s);
    for (int i = 0; i < 10; ++i) {
        quarter(x, 0, 4, 8, 12); quarter(x, 1, 5, 9, 13);
        quarter(x, 2, 6, 10, 14); quarter(x, 3, 7, 11, 15);
        quarter(x, 0, 5, 10, 15); quarter(x, 1, 6, 11, 12);
        quarter(x, 2, 7, 8, 13); quarter(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; ++i) out[i] = x[i] + s[i];
}

}  // namespace

void random_init(const uint8_t seed[32]) {
    memcpy(g_key, seed, sizeof g_key);
    g_key[0] ^= uint32_t(rdtsc());
    g_counter = 0;
}

void random_bytes(void* out, size_t len) {
    auto* p = static_cast<uint8_t*>(out);
    while (len) {
        uint32_t block[16];
        chacha_block(block);
        // Fast key erasure: the first 32 bytes of each block rekey the generator.
        memcpy(g_key, block, sizeof g_key);
        size_t n = len < 32 ? len : 32;
        memcpy(p, reinterpret_cast<uint8_t*>(block) + 32, n);
        p += n;
        len -= n;
    }
}

uint64_t random_u64() {
    uint64_t v;
    random_bytes(&v, sizeof v);
    return v;
}

}  // namespace utx::kernel
