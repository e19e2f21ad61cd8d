// Broken ELF files give one InputError naming the problem, never a crash: targeted
// corruptions of the header tables, then random corruption of a valid file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "error.hpp"
#include "object_analysis.hpp"
#include "report.hpp"

namespace utx::analyze {
namespace {

std::vector<uint8_t> valid_elf() {
    std::ifstream in(UTX_X86_PATTERNS, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <typename T>
void put(std::vector<uint8_t>& bytes, size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}
template <typename T>
T get(const std::vector<uint8_t>& bytes, size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

// The message of the InputError loading `bytes` throws, or "" when it loads.
std::string load_error(std::vector<uint8_t> bytes) {
    try {
        ElfImage::from_bytes("prog", std::move(bytes));
    } catch (const InputError& e) {
        EXPECT_EQ(e.file(), "prog");
        return e.what();
    }
    return "";
}

#define EXPECT_CONTAINS(text, part) \
    EXPECT_NE(std::string(text).find(part), std::string::npos) << text

TEST(BrokenInput, ValidFileLoads) {
    EXPECT_EQ(load_error(valid_elf()), "");
}

TEST(BrokenInput, EmptyAndNonElf) {
    EXPECT_CONTAINS(load_error({}), "not an ELF file");
    EXPECT_CONTAINS(load_error({'#', '!', '/', 'b', 'i', 'n'}), "not an ELF file");
}

TEST(BrokenInput, TruncatedElfHeader) {
    auto bytes = valid_elf();
    bytes.resize(40);
    EXPECT_CONTAINS(load_error(bytes), "truncated ELF header");
    bytes.resize(10);
    EXPECT_CONTAINS(load_error(bytes), "truncated ELF identification");
}

TEST(BrokenInput, TruncatedProgramHeaderTable) {
    auto bytes = valid_elf();
    ASSERT_EQ(get<uint64_t>(bytes, 32), 0x40u);
    bytes.resize(0x40 + 20);
    EXPECT_CONTAINS(load_error(bytes), "truncated program header table at offset 0x40");
}

TEST(BrokenInput, HugeProgramHeaderCount) {
    auto bytes = valid_elf();
    put<uint16_t>(bytes, 56, 0xfff0);
    EXPECT_CONTAINS(load_error(bytes), "truncated program header table at offset 0x40");
}

TEST(BrokenInput, SectionTablePastEnd) {
    auto bytes = valid_elf();
    put<uint64_t>(bytes, 40, bytes.size() + 0x1000);
    EXPECT_CONTAINS(load_error(bytes), "truncated section header table");
}

TEST(BrokenInput, HugeExtendedSectionCount) {
    auto bytes = valid_elf();
    const auto shoff = get<uint64_t>(bytes, 40);
    put<uint16_t>(bytes, 60, 0);                          // count lives in section 0...
    put<uint64_t>(bytes, shoff + 32, 0x7fffffffffffULL);  // ...and is absurd
    EXPECT_CONTAINS(load_error(bytes), "implausible section count");
}

TEST(BrokenInput, SectionDataPastEnd) {
    auto bytes = valid_elf();
    const auto shoff = get<uint64_t>(bytes, 40);
    put<uint64_t>(bytes, shoff + 64 + 24, 0xffffffff00ULL);  // section 1's sh_offset
    EXPECT_CONTAINS(load_error(bytes), "section 1 at offset");
}

TEST(BrokenInput, OverlappingSegments) {
    auto bytes = valid_elf();
    const auto phoff = get<uint64_t>(bytes, 32);
    const auto phnum = get<uint16_t>(bytes, 56);
    std::vector<size_t> loads;
    for (size_t i = 0; i < phnum; ++i)
        if (get<uint32_t>(bytes, phoff + i * 56) == 1) loads.push_back(phoff + i * 56);
    ASSERT_GE(loads.size(), 2u);
    put<uint64_t>(bytes, loads[1] + 16, get<uint64_t>(bytes, loads[0] + 16));  // same p_vaddr
    EXPECT_CONTAINS(load_error(bytes), "overlapping PT_LOAD segments");
}

TEST(BrokenInput, ForeignMachineAndClass) {
    auto bytes = valid_elf();
    put<uint16_t>(bytes, 18, 183);
    EXPECT_CONTAINS(load_error(bytes), "unsupported machine aarch64");
    bytes = valid_elf();
    bytes[4] = 1;
    EXPECT_CONTAINS(load_error(bytes), "32-bit ELF is not supported");
    bytes = valid_elf();
    put<uint16_t>(bytes, 16, 1);
    EXPECT_CONTAINS(load_error(bytes), "relocatable");
}

// Found by fuzz/analyze_fuzz.cpp: LIEF reads the bytes of every segment and section, of any
// type, and one far past the end of the file made it take seconds and a gigabyte.
TEST(BrokenInput, AnySegmentOrSectionPastEnd) {
    auto bytes = valid_elf();
    const auto phoff = get<uint64_t>(bytes, 32);
    put<uint32_t>(bytes, phoff, 4);  // PT_NOTE
    put<uint64_t>(bytes, phoff + 8, 0x1b000224);
    EXPECT_CONTAINS(load_error(bytes), "program header 0: segment data at offset 0x1b000224");
    bytes = valid_elf();
    const auto shoff = get<uint64_t>(bytes, 40);
    put<uint32_t>(bytes, shoff + 64 + 4, 0);             // section 1 becomes SHT_NULL...
    put<uint64_t>(bytes, shoff + 64 + 32, 0x411000000);  // ...with a huge size
    EXPECT_CONTAINS(load_error(bytes), "section 1 at offset");
    bytes = valid_elf();
    put<uint64_t>(bytes, shoff + 24, 0x3b000000);  // section 0
    put<uint64_t>(bytes, shoff + 32, 0x80000);
    EXPECT_CONTAINS(load_error(bytes), "section 0 at offset 0x3b000000");
    bytes = valid_elf();
    put<uint32_t>(bytes, shoff + 2 * 64 + 4, 8);  // .data becomes SHT_NOBITS, 650 MB on
    put<uint64_t>(bytes, shoff + 2 * 64 + 24, 0x290002b0);
    EXPECT_CONTAINS(load_error(bytes), "section 2 (SHT_NOBITS) at offset 0x290002b0 lies past");
}

// Found by fuzz/elf_fuzz.cpp: an address near the top of the address space made the bounds
// check wrap around and read far outside the file.
TEST(BrokenInput, ConstantsNearTheTopOfTheAddressSpace) {
    auto bytes = valid_elf();
    const auto phoff = get<uint64_t>(bytes, 32);
    ASSERT_EQ(get<uint64_t>(bytes, phoff + 16), 0x400000u);
    put<uint64_t>(bytes, phoff + 16, 0);  // the read-only first PT_LOAD at address 0
    const ElfImage image = ElfImage::from_bytes("prog", std::move(bytes));
    for (uint64_t addr : {~0ULL, ~0ULL - 3, ~0ULL - 7}) {
        EXPECT_FALSE(image.read_constant(addr, 8));
        EXPECT_TRUE(image.loaded_bytes(addr).empty());
    }
    EXPECT_EQ(image.read_constant(0, 4), 0x464c457fu);  // "\x7fELF"
    EXPECT_FALSE(image.read_constant(0xe8 - 4, 8));     // straddles the end of its file data
}

// Found by fuzz/analyze_fuzz.cpp: names come from the file, and --json must stay UTF-8.
TEST(BrokenInput, JsonStaysUtf8WhateverTheNames) {
    ObjectReport object;
    object.path = "prog";
    object.role = "executable";
    SiteReport site;
    site.addr = 0x401000;
    site.kind = SyscallKind::Syscall;
    site.function = "bad\x90\xff name \xe2\x82\xac \xed\xa0\x80 \xc3";
    site.unresolved.push_back({0x401000, "no constant"});
    object.sites.push_back(site);
    const std::string json = format_json(build_report("prog", false, {object}, {}));
    EXPECT_CONTAINS(json, "bad\\ufffd\\ufffd name \xe2\x82\xac \\ufffd\\ufffd\\ufffd \\ufffd");
}

// Random corruption must end in a clean error or a completed analysis.
TEST(BrokenInput, RandomCorruptionNeverCrashes) {
    const auto original = valid_elf();
    std::mt19937 random(12345);
    const size_t header_bytes = std::min<size_t>(original.size(), 0x40 + 5 * 56);
    size_t errors = 0;
    for (int round = 0; round < 1500; ++round) {
        auto bytes = original;
        const int flips = 1 + static_cast<int>(random() % 4);
        for (int i = 0; i < flips; ++i) {
            const bool in_headers = random() % 4 != 0;
            const size_t at = in_headers ? random() % header_bytes : random() % bytes.size();
            bytes[at] = static_cast<uint8_t>(random());
        }
        if (random() % 8 == 0) bytes.resize(random() % bytes.size());
        try {
            const ElfImage image = ElfImage::from_bytes("prog", std::move(bytes));
            analyze_object(image, "executable");
        } catch (const InputError& e) {
            ++errors;
            EXPECT_FALSE(std::string(e.what()).empty());
        }
    }
    EXPECT_GT(errors, 0u);
}

}  // namespace
}  // namespace utx::analyze
