// loader/tests/boot_image_test.cpp: the boot page tables and the guest RAM layout that the
// kernel finds at its first instruction (abi/boot_info.h).
#include "loader/boot_image.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "abi/boot_info.h"
#include "loader/guest_memory.h"
#include "loader/tests/guarded_buffer.h"

namespace utx::loader {
namespace {

constexpr uint64_t kMiB = 1ULL << 20, kGiB = 1ULL << 30;

// Walks the 4-level page tables the way the CPU would; returns the physical address or
// nullopt when the walk hits a non-present entry.
// `user`: every entry on the way must (true) or must not (false) be user-accessible.
std::optional<uint64_t> translate(const GuestMemory& mem, uint64_t va, bool user = false) {
    uint64_t table = abi::kBootPageTablesGpa;
    for (int level = 3; level >= 0; --level) {
        unsigned index = (va >> (12 + 9 * level)) & 511;
        const uint64_t* e = mem.object<uint64_t>(table + 8 * index);
        if (!e || !(*e & 1)) return std::nullopt;
        EXPECT_TRUE(*e & 2) << "not writable at level " << level;
        EXPECT_EQ(bool(*e & 4), user) << "user bit at level " << level << " for " << std::hex << va;
        if (level == 1) {
            EXPECT_TRUE(*e & 0x80) << "expected a 2 MiB page for " << std::hex << va;
            return (*e & 0x000f'ffff'ffe0'0000ULL) | (va & ((2 * kMiB) - 1));
        }
        EXPECT_FALSE(*e & 0x80) << "unexpected large page at level " << level;
        table = *e & 0x000f'ffff'ffff'f000ULL;
    }
    return std::nullopt;
}

std::optional<GuestMemory> ram(uint64_t size) {
    return GuestMemory::create(size, GuestMemory::Backing::PrivateAnonymous);
}

TEST(BootPageTables, IdentityMapOfFirst4GiB) {
    auto mem = ram(64 * kMiB);
    ASSERT_TRUE(mem);
    std::string error;
    ASSERT_TRUE(build_boot_page_tables(*mem, false, error)) << error;
    for (uint64_t va :
         std::initializer_list<uint64_t>{0ULL, 0x1000ULL, 0x123456ULL, 2 * kMiB, 64 * kMiB,
                                         kGiB + 5, 3 * kGiB + 0x1fffff, 4 * kGiB - 1})
        EXPECT_EQ(translate(*mem, va), va) << std::hex << va;
    EXPECT_EQ(translate(*mem, 4 * kGiB), std::nullopt);
    EXPECT_EQ(translate(*mem, 0x7fff'ffff'f000ULL), std::nullopt);
}

TEST(BootPageTables, DirectMapOfRam) {
    auto mem = ram(64 * kMiB);
    ASSERT_TRUE(mem);
    std::string error;
    ASSERT_TRUE(build_boot_page_tables(*mem, false, error)) << error;
    for (uint64_t pa : std::initializer_list<uint64_t>{0ULL, abi::kKernelLoadGpa,
                                                       abi::kKernelLoadGpa + 0x1234, 63 * kMiB})
        EXPECT_EQ(translate(*mem, abi::kDirectMapBase + pa), pa) << std::hex << pa;
    EXPECT_EQ(translate(*mem, abi::kKernelVirtBase), abi::kKernelLoadGpa);
    // Only the GiB that holds RAM is mapped: the next one is not.
    EXPECT_EQ(translate(*mem, abi::kDirectMapBase + kGiB), std::nullopt);
    // Nothing else in the upper half.
    EXPECT_EQ(translate(*mem, 0xffff'ffff'8000'0000ULL), std::nullopt);
}

TEST(BootPageTables, PvmMapsEverythingUserAccessible) {
    // PVM runs ring 0 natively only on user pages (DEVELOPERS.md, "PVM").
    auto mem = ram(64 * kMiB);
    ASSERT_TRUE(mem);
    std::string error;
    ASSERT_TRUE(build_boot_page_tables(*mem, true, error)) << error;
    EXPECT_EQ(translate(*mem, abi::kKernelVirtBase, true), abi::kKernelLoadGpa);
    EXPECT_EQ(translate(*mem, abi::kDirectMapBase + 63 * kMiB, true), 63 * kMiB);
    EXPECT_EQ(translate(*mem, 0x123456, true), 0x123456u);
    // Not in PML4 slot 256, where kvm_pvm never runs guest code.
    EXPECT_NE((abi::kDirectMapBase >> 39) & 511, 256u);
}

TEST(BootPageTables, DirectMapCoversEveryGiBOfLargeRam) {
    // 2.5 GiB of NORESERVE memory: only the page tables are touched.
    auto mem = ram(2 * kGiB + kGiB / 2);
    ASSERT_TRUE(mem);
    std::string error;
    ASSERT_TRUE(build_boot_page_tables(*mem, false, error)) << error;
    for (uint64_t pa : std::initializer_list<uint64_t>{kGiB - 1, kGiB, 2 * kGiB + 0x12345,
                                                       2 * kGiB + kGiB / 2 - 1})
        EXPECT_EQ(translate(*mem, abi::kDirectMapBase + pa), pa) << std::hex << pa;
    EXPECT_EQ(translate(*mem, abi::kDirectMapBase + 3 * kGiB), std::nullopt);
}

TEST(BootPageTables, TablesStayInsideTheirArea) {
    // Everything outside [kBootPageTablesGpa, +kBootPageTablesSize) is left as it was.
    auto mem = ram(8 * kMiB);
    ASSERT_TRUE(mem);
    std::memset(mem->host_base(), 0xcc, 8 * kMiB);
    std::string error;
    ASSERT_TRUE(build_boot_page_tables(*mem, false, error)) << error;
    for (uint64_t gpa = 0; gpa < 8 * kMiB; gpa += 8) {
        if (gpa >= abi::kBootPageTablesGpa &&
            gpa < abi::kBootPageTablesGpa + abi::kBootPageTablesSize)
            continue;
        ASSERT_EQ(*mem->object<uint64_t>(gpa), 0xccccccccccccccccULL) << std::hex << gpa;
    }
}

TEST(BootPageTables, RamTooSmall) {
    testing::GuardedBuffer buf(abi::kBootPageTablesGpa + 0x1000);
    GuestMemory mem = GuestMemory::wrap(buf.span());
    std::string error;
    EXPECT_FALSE(build_boot_page_tables(mem, false, error));
    EXPECT_NE(error.find("too small"), std::string::npos) << error;
}

TEST(BootPageTables, RamTooLarge) {
    // 200 GiB would need more table pages than the area holds. NORESERVE: nothing touched.
    auto mem = ram(200 * kGiB);
    if (!mem) GTEST_SKIP() << "cannot reserve 200 GiB of address space here";
    std::string error;
    EXPECT_FALSE(build_boot_page_tables(*mem, false, error));
    EXPECT_NE(error.find("too large"), std::string::npos) << error;
}

// A kernel ELF like kernel/'s: one PT_LOAD at kKernelVirtBase with bss after the file part.
std::vector<uint8_t> make_kernel(uint64_t filesz = 0x300, uint64_t memsz = 0x5000) {
    std::vector<uint8_t> elf(0x1000 + filesz, 0);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_entry = abi::kKernelVirtBase + 0x40;
    eh.e_phoff = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 2;
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    note.p_vaddr = 0;  // not loaded, so it may be anywhere
    Elf64_Phdr load{};
    load.p_type = PT_LOAD;
    load.p_flags = PF_R | PF_W | PF_X;
    load.p_offset = 0x1000;
    load.p_vaddr = abi::kKernelVirtBase;
    load.p_filesz = filesz;
    load.p_memsz = memsz;
    std::memcpy(elf.data(), &eh, sizeof eh);
    std::memcpy(elf.data() + sizeof eh, &note, sizeof note);
    std::memcpy(elf.data() + sizeof eh + sizeof note, &load, sizeof load);
    for (uint64_t i = 0; i < filesz; ++i) elf[0x1000 + i] = uint8_t(i * 7 + 1);
    return elf;
}

Elf64_Phdr& kernel_load_phdr(std::vector<uint8_t>& elf) {
    return *reinterpret_cast<Elf64_Phdr*>(elf.data() + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr));
}

struct Fixture {
    std::vector<uint8_t> kernel = make_kernel();
    std::vector<uint8_t> program = std::vector<uint8_t>(0x2345);
    BootRequest req;

    Fixture() {
        for (size_t i = 0; i < program.size(); ++i) program[i] = uint8_t(i ^ (i >> 8));
        req.kernel_elf = kernel;
        req.root_image = program;
        req.exec_path = "/usr/bin/prog";
        req.argv = {"prog", "", "two words"};
        req.envp = {"A=1", "EMPTY="};
        req.flags = abi::kBootFlagQemu | abi::kBootFlagTrace;
        req.tsc_khz = 2'500'000;
        req.vcpus = 1;
    }
};

TEST(BootImage, LayoutAndBootInfo) {
    auto mem = ram(64 * kMiB);
    ASSERT_TRUE(mem);
    std::memset(mem->host_base(), 0xaa, 64 * kMiB);  // bss and BootInfo must be cleared
    Fixture f;
    BootLayout layout{};
    std::string error;
    ASSERT_TRUE(build_boot_image(*mem, f.req, layout, error)) << error;

    EXPECT_EQ(layout.entry, abi::kKernelVirtBase + 0x40);
    EXPECT_EQ(layout.boot_info_gpa, abi::kBootInfoGpa);
    EXPECT_EQ(layout.pml4_gpa, abi::kBootPageTablesGpa);
    EXPECT_EQ(translate(*mem, layout.entry), abi::kKernelLoadGpa + 0x40);

    // The kernel: file bytes then zeroed bss.
    const uint8_t* k = mem->host_base() + abi::kKernelLoadGpa;
    EXPECT_EQ(std::memcmp(k, f.kernel.data() + 0x1000, 0x300), 0);
    for (uint64_t i = 0x300; i < 0x5000; ++i) ASSERT_EQ(k[i], 0) << std::hex << i;

    const auto* info = mem->object<abi::BootInfo>(abi::kBootInfoGpa);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->magic, abi::kBootInfoMagic);
    EXPECT_EQ(info->version, abi::kBootInfoVersion);
    EXPECT_EQ(info->vcpu_count, 1u);
    EXPECT_EQ(info->kernel_entry, abi::kKernelVirtBase + 0x40);
    EXPECT_EQ(info->mem_size, 64 * kMiB);
    EXPECT_EQ(info->flags, abi::kBootFlagQemu | abi::kBootFlagTrace);
    EXPECT_EQ(info->tsc_khz, 2'500'000u);
    EXPECT_EQ(info->kernel_end_gpa, abi::kKernelLoadGpa + 0x5000);
    EXPECT_EQ(info->uid, getuid());
    EXPECT_EQ(info->gid, getgid());
    EXPECT_EQ(info->family.gpa, 64 * kMiB);  // none asked for: empty, at the top
    EXPECT_EQ(info->family.size, 0u);
    for (uint64_t r : info->reserved) EXPECT_EQ(r, 0u);
    // The QEMU boot ROM reads the entry at a fixed offset.
    uint64_t rom_entry;
    std::memcpy(&rom_entry,
                reinterpret_cast<const uint8_t*>(info) + abi::kBootInfoKernelEntryOffset, 8);
    EXPECT_EQ(rom_entry, layout.entry);

    // argv then envp, NUL-separated, right after the kernel.
    EXPECT_EQ(info->argc, 3u);
    EXPECT_EQ(info->envc, 2u);
    EXPECT_GE(info->args.gpa, info->kernel_end_gpa);
    const std::string expected_blob("prog\0\0two words\0A=1\0EMPTY=\0", 27);
    ASSERT_EQ(info->args.size, expected_blob.size());
    auto blob = mem->slice(info->args.gpa, info->args.size);
    ASSERT_TRUE(blob);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(blob->data()), blob->size()),
              expected_blob);

    // The program file, page aligned, after the strings, not overlapping them.
    EXPECT_EQ(info->root_image.gpa % 4096, 0u);
    EXPECT_GE(info->root_image.gpa, info->args.gpa + info->args.size);
    ASSERT_EQ(info->root_image.size, f.program.size());
    auto prog = mem->slice(info->root_image.gpa, info->root_image.size);
    ASSERT_TRUE(prog);
    EXPECT_EQ(std::memcmp(prog->data(), f.program.data(), f.program.size()), 0);

    EXPECT_STREQ(reinterpret_cast<const char*>(info->exec_path), "/usr/bin/prog");

    // The boot page tables are in place and the preloaded data does not overlap them.
    EXPECT_GE(info->kernel_end_gpa, abi::kBootPageTablesGpa + abi::kBootPageTablesSize);
}

TEST(BootImage, TheFamilyRegionIsTheTopOfRam) {
    auto mem = ram(64 * kMiB);
    ASSERT_TRUE(mem);
    Fixture f;
    f.req.family_size = 16 * kMiB;
    BootLayout layout{};
    std::string error;
    ASSERT_TRUE(build_boot_image(*mem, f.req, layout, error)) << error;
    const auto* info = mem->object<abi::BootInfo>(abi::kBootInfoGpa);
    EXPECT_EQ(info->mem_size, 64 * kMiB);
    EXPECT_EQ(info->family.gpa, 48 * kMiB);
    EXPECT_EQ(info->family.size, 16 * kMiB);
    // What is left below it must still hold the program and 16 MiB for the kernel.
    f.req.family_size = 50 * kMiB;
    EXPECT_FALSE(build_boot_image(*mem, f.req, layout, error));
    EXPECT_NE(error.find("raise -m"), std::string::npos) << error;
    f.req.family_size = 64 * kMiB;
    EXPECT_FALSE(build_boot_image(*mem, f.req, layout, error));
    f.req.family_size = 4095;
    EXPECT_FALSE(build_boot_image(*mem, f.req, layout, error));
}

TEST(BootImage, FamilyRegionSize) {
    EXPECT_EQ(family_region_size(512 * kMiB), 256 * kMiB);
    EXPECT_EQ(family_region_size(6 * kMiB), 4 * kMiB);    // at least 4 MiB
    EXPECT_EQ(family_region_size(98 * kMiB), 50 * kMiB);  // 49 MiB up to 2 MiB steps
}

TEST(BootImage, RandomBytesDifferBetweenBoots) {
    auto mem1 = ram(64 * kMiB), mem2 = ram(64 * kMiB);
    ASSERT_TRUE(mem1 && mem2);
    Fixture f;
    BootLayout layout{};
    std::string error;
    ASSERT_TRUE(build_boot_image(*mem1, f.req, layout, error)) << error;
    ASSERT_TRUE(build_boot_image(*mem2, f.req, layout, error)) << error;
    const auto* a = mem1->object<abi::BootInfo>(abi::kBootInfoGpa);
    const auto* b = mem2->object<abi::BootInfo>(abi::kBootInfoGpa);
    EXPECT_NE(std::memcmp(a->random, b->random, sizeof a->random), 0);
}

TEST(BootImage, EmptyArgvAndEnvp) {
    auto mem = ram(64 * kMiB);
    ASSERT_TRUE(mem);
    Fixture f;
    f.req.argv.clear();
    f.req.envp.clear();
    BootLayout layout{};
    std::string error;
    ASSERT_TRUE(build_boot_image(*mem, f.req, layout, error)) << error;
    const auto* info = mem->object<abi::BootInfo>(abi::kBootInfoGpa);
    EXPECT_EQ(info->argc, 0u);
    EXPECT_EQ(info->envc, 0u);
    EXPECT_EQ(info->args.size, 0u);
}

TEST(BootImage, ProgramTooLargeForRam) {
    auto mem = ram(32 * kMiB);
    ASSERT_TRUE(mem);
    Fixture f;
    std::vector<uint8_t> big(20 * kMiB, 1);  // leaves less than 16 MiB for the kernel
    f.req.root_image = big;
    BootLayout layout{};
    std::string error;
    EXPECT_FALSE(build_boot_image(*mem, f.req, layout, error));
    EXPECT_NE(error.find("guest memory (32 MiB) is too small"), std::string::npos) << error;
    EXPECT_NE(error.find("-m"), std::string::npos) << error;
}

TEST(BootImage, ExecPathTooLong) {
    auto mem = ram(64 * kMiB);
    ASSERT_TRUE(mem);
    Fixture f;
    f.req.exec_path = "/" + std::string(255, 'x');  // 256 bytes: no room for the NUL
    BootLayout layout{};
    std::string error;
    EXPECT_FALSE(build_boot_image(*mem, f.req, layout, error));
    EXPECT_NE(error.find("too long"), std::string::npos) << error;
    f.req.exec_path = "/" + std::string(254, 'x');  // 255 bytes + NUL fits
    EXPECT_TRUE(build_boot_image(*mem, f.req, layout, error)) << error;
}

void expect_bad_kernel(const char* what, std::vector<uint8_t> kernel,
                       const std::string& must_contain, uint64_t ram_size = 64 * kMiB) {
    SCOPED_TRACE(what);
    // The kernel image ends right before a PROT_NONE page, then starts right after one:
    // no read past either end.
    for (bool flush_end : {true, false}) {
        auto mem = ram(ram_size);
        ASSERT_TRUE(mem);
        testing::GuardedBuffer guarded(kernel.size(), flush_end);
        if (!kernel.empty()) std::memcpy(guarded.data(), kernel.data(), kernel.size());
        Fixture f;
        f.req.kernel_elf = guarded.span();
        BootLayout layout{};
        std::string error;
        EXPECT_FALSE(build_boot_image(*mem, f.req, layout, error));
        EXPECT_NE(error.find(must_contain), std::string::npos) << error;
        EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    }
}

TEST(BootImage, BadKernelImages) {
    std::vector<uint8_t> good = make_kernel();
    expect_bad_kernel("empty", {}, "truncated");
    expect_bad_kernel("short", std::vector<uint8_t>(good.begin(), good.begin() + 40), "truncated");

    auto magic = good;
    magic[0] = 0;
    expect_bad_kernel("magic", magic, "not a valid ELF");

    auto phoff = good;
    reinterpret_cast<Elf64_Ehdr*>(phoff.data())->e_phoff = phoff.size();
    expect_bad_kernel("phoff", phoff, "not a valid ELF");

    auto phoff_wrap = good;  // e_phoff + table size wraps around 2^64
    reinterpret_cast<Elf64_Ehdr*>(phoff_wrap.data())->e_phoff = ~0ULL - 0x40;
    expect_bad_kernel("phoff_wrap", phoff_wrap, "not a valid ELF");

    auto low = good;
    kernel_load_phdr(low).p_vaddr = 0x400000;
    expect_bad_kernel("low", low, "bad segment");

    auto past_end = good;
    kernel_load_phdr(past_end).p_filesz = 0x10000;
    kernel_load_phdr(past_end).p_memsz = 0x10000;
    expect_bad_kernel("past_end", past_end, "bad segment");

    auto offset_wrap = good;  // p_offset + p_filesz wraps around 2^64
    kernel_load_phdr(offset_wrap).p_offset = ~0ULL - 0x10;
    kernel_load_phdr(offset_wrap).p_filesz = 0x100;
    expect_bad_kernel("offset_wrap", offset_wrap, "bad segment");

    auto filesz = good;
    kernel_load_phdr(filesz).p_memsz = 0x10;
    expect_bad_kernel("filesz", filesz, "bad segment");

    auto huge = good;  // bss larger than RAM
    kernel_load_phdr(huge).p_memsz = 1ULL << 40;
    expect_bad_kernel("huge", huge, "too small for the kernel");

    expect_bad_kernel("good", good, "too small", 0x80000);
}

}  // namespace
}  // namespace utx::loader
