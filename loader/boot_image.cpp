#include "loader/boot_image.h"

#include <elf.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstring>
#include "loader/strprintf.h"

#include "abi/boot_info.h"

namespace utx::loader {
namespace {

constexpr uint64_t kPresent = 1, kWritable = 2, kUser = 4, kHuge = 0x80;
constexpr uint64_t kPage = 4096;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

// Loads the kernel's PT_LOAD segments at (vaddr - direct map base) and returns its end.
bool load_kernel(const GuestMemory& mem, std::span<const uint8_t> elf, uint64_t& entry,
                 uint64_t& end_gpa, std::string& error) {
    if (elf.size() < sizeof(Elf64_Ehdr)) {
        error = "kernel image is truncated";
        return false;
    }
    Elf64_Ehdr eh;
    std::memcpy(&eh, elf.data(), sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phoff > elf.size() ||
        uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr) > elf.size() - eh.e_phoff) {
        error = "kernel image is not a valid ELF file";
        return false;
    }
    end_gpa = abi::kKernelLoadGpa;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, elf.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD) continue;
        uint64_t gpa = ph.p_vaddr - abi::kDirectMapBase;
        if (ph.p_vaddr < abi::kKernelVirtBase || ph.p_offset > elf.size() ||
            ph.p_filesz > elf.size() - ph.p_offset ||
            ph.p_filesz > ph.p_memsz) {
            error = "kernel image has a bad segment";
            return false;
        }
        auto dst = mem.slice(gpa, ph.p_memsz);
        if (!dst) {
            error = "guest memory is too small for the kernel";
            return false;
        }
        std::memcpy(dst->data(), elf.data() + ph.p_offset, ph.p_filesz);
        std::memset(dst->data() + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        end_gpa = std::max(end_gpa, gpa + ph.p_memsz);
    }
    entry = eh.e_entry;
    end_gpa = align_up(end_gpa, kPage);
    return true;
}

}  // namespace

bool build_boot_page_tables(const GuestMemory& mem, bool user_pages, std::string& error) {
    const uint64_t base = abi::kBootPageTablesGpa;
    const uint64_t gib = 1ULL << 30;
    const uint64_t ram_gib = align_up(mem.size(), gib) / gib;
    // PML4, identity PDPT, 4 identity PDs, direct-map PDPT, one PD per GiB of RAM.
    const uint64_t pages_needed = 1 + 1 + 4 + 1 + ram_gib;
    if (pages_needed * kPage > abi::kBootPageTablesSize || ram_gib > 512) {
        error = "guest memory is too large for the boot page tables";
        return false;
    }
    auto area = mem.slice(base, pages_needed * kPage);
    if (!area) {
        error = "guest memory is too small for the boot page tables";
        return false;
    }
    std::memset(area->data(), 0, area->size());
    auto entry = [&](uint64_t table, unsigned index) -> uint64_t& {
        return mem.object<uint64_t>(table)[index];
    };
    // PVM runs guest ring 0 natively only on pages its page tables mark user-accessible.
    const uint64_t present = kPresent | (user_pages ? kUser : 0);
    const uint64_t pml4 = base, id_pdpt = base + kPage, id_pd = base + 2 * kPage,
                   dm_pdpt = base + 6 * kPage, dm_pd = base + 7 * kPage;
    entry(pml4, 0) = id_pdpt | present | kWritable;
    entry(pml4, (abi::kDirectMapBase >> 39) & 511) = dm_pdpt | present | kWritable;
    for (unsigned g = 0; g < 4; ++g) {
        entry(id_pdpt, g) = (id_pd + g * kPage) | present | kWritable;
        for (unsigned i = 0; i < 512; ++i)
            entry(id_pd + g * kPage, i) = (g * gib + i * (2ULL << 20)) | present | kWritable | kHuge;
    }
    for (unsigned g = 0; g < ram_gib; ++g) {
        entry(dm_pdpt, g) = (dm_pd + g * kPage) | present | kWritable;
        for (unsigned i = 0; i < 512; ++i)
            entry(dm_pd + g * kPage, i) = (g * gib + i * (2ULL << 20)) | present | kWritable | kHuge;
    }
    return true;
}

uint64_t family_region_size(uint64_t memory) {
    constexpr uint64_t kStep = 2ULL << 20;
    const uint64_t size = (memory / 2 + kStep - 1) / kStep * kStep;
    return size < 2 * kStep ? 2 * kStep : size;
}

bool build_boot_image(const GuestMemory& mem, const BootRequest& req, BootLayout& layout,
                      std::string& error) {
    if (req.family_size % kPage || req.family_size >= mem.size()) {
        error = "the family region does not fit in guest memory";
        return false;
    }
    const uint64_t ram = mem.size() - req.family_size;  // what the kernel allocates from
    uint64_t entry = 0, kernel_end = 0;
    if (!load_kernel(mem, req.kernel_elf, entry, kernel_end, error)) return false;
    if (!build_boot_page_tables(mem, req.flags & abi::kBootFlagPvm, error)) return false;

    std::string blob;
    for (const auto& a : req.argv) blob.append(a).push_back('\0');
    for (const auto& e : req.envp) blob.append(e).push_back('\0');
    const uint64_t args_size = blob.size();
    for (const auto& m : req.mounts) blob.append(m).push_back('\0');
    const uint64_t args_gpa = kernel_end;
    const uint64_t image_gpa = align_up(args_gpa + blob.size(), kPage);
    const uint64_t used = align_up(image_gpa + req.root_image.size(), kPage);
    // Leave the kernel at least 16 MiB to work with beyond what is preloaded.
    if (used + (16ULL << 20) > ram) {
        error = format("guest memory ({} MiB) is too small for this program; raise -m",
                            ram >> 20);
        return false;
    }
    mem.write(args_gpa, std::span(reinterpret_cast<const uint8_t*>(blob.data()), blob.size()));
    mem.write(image_gpa, req.root_image);

    auto* info = mem.object<abi::BootInfo>(abi::kBootInfoGpa);
    std::memset(info, 0, sizeof *info);
    info->magic = abi::kBootInfoMagic;
    info->version = abi::kBootInfoVersion;
    info->vcpu_count = req.vcpus;
    info->kernel_entry = entry;
    info->mem_size = mem.size();
    info->flags = req.flags;
    info->tsc_khz = req.tsc_khz;
    info->kernel_end_gpa = kernel_end;
    info->args = {args_gpa, args_size};
    info->mounts = {args_gpa + args_size, blob.size() - args_size};
    info->mount_count = static_cast<uint32_t>(req.mounts.size());
    info->argc = static_cast<uint32_t>(req.argv.size());
    info->envc = static_cast<uint32_t>(req.envp.size());
    info->root_image = {image_gpa, req.root_image.size()};
    info->family = {ram, req.family_size};
    if (req.exec_path.size() >= sizeof info->exec_path) {
        error = "program path is too long";
        return false;
    }
    std::memcpy(info->exec_path, req.exec_path.c_str(), req.exec_path.size() + 1);
    if (req.cwd.size() >= sizeof info->cwd || req.cwd.empty() || req.cwd[0] != '/') {
        error = "working directory must be an absolute path shorter than 256 bytes";
        return false;
    }
    std::memcpy(info->cwd, req.cwd.c_str(), req.cwd.size() + 1);
    info->uid = getuid();
    info->gid = getgid();
    if (getrandom(info->random, sizeof info->random, 0) != sizeof info->random) {
        error = "cannot read host entropy";
        return false;
    }
    layout = {entry, abi::kBootInfoGpa, abi::kBootPageTablesGpa};
    return true;
}

}  // namespace utx::loader
