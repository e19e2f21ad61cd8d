#include "kernel/vdso/vdso.h"

#include "kernel/lib/errno.h"
#include "kernel/lib/string.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"

// The stripped vDSO shared object, embedded by vdso_blob.S.
extern "C" const uint8_t utx_vdso_image_start[], utx_vdso_image_end[];

namespace utx::kernel {
namespace {

static_assert(vdso::kPageSize == kPageSize && vdso::kVvarSize == kPageSize);

// The vvar page: a page of the kernel's own, mapped read-only into the program. Nothing else
// shares it, so the program sees only the clock data.
union alignas(kPageSize) VvarPage {
    vdso::ClockData clock;
    uint8_t bytes[kPageSize];
};
static_assert(sizeof(VvarPage) == kPageSize);
VvarPage g_vvar;

uint64_t image_size() {
    return uint64_t(utx_vdso_image_end - utx_vdso_image_start);
}

int64_t vvar_page(uint64_t index) {
    if (index != 0) return -EFAULT;
    return int64_t(virt_to_phys(reinterpret_cast<uint64_t>(&g_vvar)));
}

// Each program gets its own copy of the vDSO's pages, so that one that writes to its vDSO
// (after mprotect, as debuggers do) changes only its own, as Linux's copy-on-write does.
int64_t vdso_text_page(uint64_t index) {
    const uint64_t offset = index * kPageSize;
    if (offset >= image_size()) return -EFAULT;
    const uint64_t pa = frame_alloc();
    if (!pa) return -ENOMEM;
    const uint64_t len = image_size() - offset < kPageSize ? image_size() - offset : kPageSize;
    memcpy(phys_to_virt(pa), utx_vdso_image_start + offset, len);
    return int64_t(pa);
}

// Linux's vvar may be read only; its vDSO may be made writable.
constexpr SpecialMapping kVvarMapping{"[vvar]", vvar_page, true, kProtRead};
constexpr SpecialMapping kVdsoMapping{"[vdso]", vdso_text_page, false,
                                      kProtRead | kProtWrite | kProtExec};

}  // namespace

vdso::ClockData& vvar_clock() {
    return g_vvar.clock;
}

int64_t vdso_map(AddressSpace& as) {
    const uint64_t text = page_up(image_size());
    const uint64_t vvar = as.unmapped_area(vdso::kVvarSize + text);
    if (!vvar) return -ENOMEM;
    const uint64_t base = vvar + vdso::kVvarSize;
    if (!as.add_special(vvar, base, kProtRead, kVvarMapping) ||
        !as.add_special(base, base + text, kProtRead | kProtExec, kVdsoMapping))
        return -ENOMEM;
    // Present from the start: libc reads the ELF header before main.
    for (uint64_t va = vvar; va < base + text; va += kPageSize)
        if (!as.present_page(va, false)) return -ENOMEM;
    return int64_t(base);
}

}  // namespace utx::kernel
