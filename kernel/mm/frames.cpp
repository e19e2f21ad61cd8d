// kernel/mm/frames.cpp: a bitmap of guest-physical frames with a search hint.
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"

namespace utx::kernel {
namespace {

uint64_t* g_bitmap;   // 1 = in use
uint64_t g_frames;
uint64_t g_free;
uint64_t g_hint;

bool used(uint64_t f) { return g_bitmap[f / 64] >> (f % 64) & 1; }
void set_used(uint64_t f) { g_bitmap[f / 64] |= 1ULL << (f % 64); }
void set_free(uint64_t f) { g_bitmap[f / 64] &= ~(1ULL << (f % 64)); }

}  // namespace

void frames_init(uint64_t mem_size, uint64_t first_free) {
    g_frames = mem_size / kPageSize;
    uint64_t bitmap_bytes = page_up((g_frames + 63) / 64 * 8);
    // The bitmap itself takes the first free frames.
    g_bitmap = static_cast<uint64_t*>(phys_to_virt(first_free));
    memset(g_bitmap, 0xff, bitmap_bytes);
    uint64_t start = (first_free + bitmap_bytes) / kPageSize;
    for (uint64_t f = start; f < g_frames; ++f) set_free(f);
    g_free = g_frames - start;
    g_hint = start;
}

uint64_t frame_alloc() {
    if (g_free == 0) return 0;
    uint64_t words = (g_frames + 63) / 64;
    for (uint64_t i = 0; i < words; ++i) {
        uint64_t w = (g_hint / 64 + i) % words;
        if (g_bitmap[w] == ~0ULL) continue;
        uint64_t f = w * 64 + uint64_t(__builtin_ctzll(~g_bitmap[w]));
        if (f >= g_frames) continue;
        set_used(f);
        --g_free;
        g_hint = f;
        uint64_t pa = f * kPageSize;
        memset(phys_to_virt(pa), 0, kPageSize);
        return pa;
    }
    return 0;
}

uint64_t frames_alloc_contiguous(uint64_t count) {
    if (count == 0 || g_free < count) return 0;
    // First fit, from the hint round to it again; a run does not wrap past the last frame.
    uint64_t run = 0;
    for (uint64_t i = 0; i < g_frames; ++i) {
        const uint64_t f = (g_hint + i) % g_frames;
        if (f == 0) run = 0;
        if (f % 64 == 0 && g_bitmap[f / 64] == ~0ULL && f + 64 <= g_frames) {
            run = 0;
            i += 63;  // a full word: skip it whole
            continue;
        }
        if (used(f)) {
            run = 0;
            continue;
        }
        if (++run < count) continue;
        const uint64_t first = f + 1 - count;
        for (uint64_t g = first; g <= f; ++g) set_used(g);
        g_free -= count;
        g_hint = f;
        memset(phys_to_virt(first * kPageSize), 0, count * kPageSize);
        return first * kPageSize;
    }
    return 0;
}

void frame_free(uint64_t pa) {
    uint64_t f = pa / kPageSize;
    KASSERT(f < g_frames && used(f));
    set_free(f);
    ++g_free;
    // Reuse freed frames first: a frame the guest never touched costs the host a page fault
    // (and its memory) the first time, one it freed is already backed.
    if (f < g_hint) g_hint = f;
}

uint64_t frames_free_count() { return g_free; }
uint64_t frames_total_count() { return g_frames; }

}  // namespace utx::kernel
