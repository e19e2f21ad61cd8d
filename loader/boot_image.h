// loader/boot_image.h: lays out guest RAM before the first instruction runs: the kernel image,
// the boot page tables, BootInfo, argv/envp and the root file system image.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "loader/guest_memory.h"

namespace utx::loader {

struct BootRequest {
    std::span<const uint8_t> kernel_elf;
    std::span<const uint8_t> root_image;  // cpio newc, holding the program at exec_path
    std::string exec_path;
    std::string cwd = "/";
    std::vector<std::string> argv;
    std::vector<std::string> envp;
    std::vector<std::string> mounts;  // guest paths of the host mounts, by index
    uint64_t flags = 0;
    uint64_t tsc_khz = 0;
    uint32_t vcpus = 1;
    uint64_t family_size = 0;  // the family region: the top of RAM, page aligned
};

// The family region's size for `memory` bytes of RAM for the program: half of it (minifs
// lives there, and like tmpfs may take half of the memory), in 2 MiB steps, at least
// 4 MiB. RAM is `memory` plus that.
uint64_t family_region_size(uint64_t memory);

struct BootLayout {
    uint64_t entry;        // kernel entry (virtual)
    uint64_t boot_info_gpa;
    uint64_t pml4_gpa;
};

// Fills `mem`; on failure returns false with a one-line reason in `error`.
bool build_boot_image(const GuestMemory& mem, const BootRequest& req, BootLayout& layout,
                      std::string& error);

// Boot page tables: identity map of the first 4 GiB and the direct map of all RAM at
// abi::kDirectMapBase, with 2 MiB pages; user-accessible where `user_pages` (PVM). Exposed
// for unit tests.
bool build_boot_page_tables(const GuestMemory& mem, bool user_pages, std::string& error);

}  // namespace utx::loader
