// loader/tests/elf_check_test.cpp: check_elf accepts static ELF64 executables and refuses
// everything else with one line that names the problem.
#include "loader/elf_check.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "loader/tests/guarded_buffer.h"

namespace utx::loader {
namespace {

// A minimal static executable: the ELF header, two program headers (text r-x at
// 0x400000, data rw- at 0x401000), then 0x2000 bytes of file.
struct Image {
    std::vector<uint8_t> bytes;

    Elf64_Ehdr& eh() { return *reinterpret_cast<Elf64_Ehdr*>(bytes.data()); }
    Elf64_Phdr& ph(unsigned i) {
        return *reinterpret_cast<Elf64_Phdr*>(bytes.data() + sizeof(Elf64_Ehdr) +
                                              i * sizeof(Elf64_Phdr));
    }
};

Image make_image(uint16_t type = ET_EXEC) {
    const uint64_t base = type == ET_EXEC ? 0x400000 : 0;
    Image img;
    img.bytes.assign(0x2000, 0);
    Elf64_Ehdr& eh = img.eh();
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = base + 0x100;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 2;
    Elf64_Phdr& text = img.ph(0);
    text.p_type = PT_LOAD;
    text.p_flags = PF_R | PF_X;
    text.p_offset = 0;
    text.p_vaddr = text.p_paddr = base;
    text.p_filesz = text.p_memsz = 0x1000;
    text.p_align = 0x1000;
    Elf64_Phdr& data = img.ph(1);
    data.p_type = PT_LOAD;
    data.p_flags = PF_R | PF_W;
    data.p_offset = 0x1000;
    data.p_vaddr = data.p_paddr = base + 0x1000;
    data.p_filesz = 0x1000;
    data.p_memsz = 0x3000;  // bss
    data.p_align = 0x1000;
    return img;
}

void expect_rejected(std::span<const uint8_t> bytes, const std::string& must_contain = "") {
    ElfSummary summary{};
    std::string error;
    EXPECT_FALSE(check_elf(bytes, summary, error));
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    if (!must_contain.empty()) {
        EXPECT_NE(error.find(must_contain), std::string::npos) << error;
    }
}

TEST(ElfCheck, AcceptsStaticExecutable) {
    Image img = make_image(ET_EXEC);
    ElfSummary summary{};
    std::string error;
    ASSERT_TRUE(check_elf(img.bytes, summary, error)) << error;
    EXPECT_EQ(summary.arch, ElfArch::X86_64);
    EXPECT_FALSE(summary.position_independent);
    EXPECT_EQ(summary.entry, 0x400100u);
}

TEST(ElfCheck, AcceptsStaticPie) {
    Image img = make_image(ET_DYN);
    ElfSummary summary{};
    std::string error;
    ASSERT_TRUE(check_elf(img.bytes, summary, error)) << error;
    EXPECT_TRUE(summary.position_independent);
    EXPECT_EQ(summary.entry, 0x100u);
}

TEST(ElfCheck, AcceptsRiscv64) {
    Image img = make_image();
    img.eh().e_machine = EM_RISCV;
    ElfSummary summary{};
    std::string error;
    ASSERT_TRUE(check_elf(img.bytes, summary, error)) << error;
    EXPECT_EQ(summary.arch, ElfArch::Riscv64);
}

TEST(ElfCheck, IgnoresNonLoadSegmentsWithWildValues) {
    // PT_NOTE / PT_GNU_STACK content is not loaded, so its numbers do not matter.
    Image img = make_image();
    img.eh().e_phnum = 3;
    Elf64_Phdr& stack = img.ph(2);
    stack = {};
    stack.p_type = PT_GNU_STACK;
    stack.p_offset = ~0ULL;
    stack.p_vaddr = 0xffff'ffff'ffff'0000ULL;
    ElfSummary summary{};
    std::string error;
    EXPECT_TRUE(check_elf(img.bytes, summary, error)) << error;
}

TEST(ElfCheck, RejectsEmptyFile) {
    expect_rejected({}, "not an ELF file");
}

TEST(ElfCheck, RejectsThreeBytes) {
    const uint8_t three[] = {0x7f, 'E', 'L'};
    expect_rejected(three, "not an ELF file");
}

TEST(ElfCheck, RejectsBadMagic) {
    Image img = make_image();
    img.bytes[1] = 'X';
    expect_rejected(img.bytes, "not an ELF file");
}

TEST(ElfCheck, RejectsText) {
    std::string text = "#!/bin/sh\necho this is a shell script, long enough to be a header\n";
    expect_rejected(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                    "not an ELF file");
}

TEST(ElfCheck, Rejects32Bit) {
    Image img = make_image();
    img.bytes[EI_CLASS] = ELFCLASS32;
    expect_rejected(img.bytes, "32-bit");
}

TEST(ElfCheck, RejectsInvalidClass) {
    Image img = make_image();
    img.bytes[EI_CLASS] = 7;
    expect_rejected(img.bytes, "class");
}

TEST(ElfCheck, RejectsBigEndian) {
    Image img = make_image();
    img.bytes[EI_DATA] = ELFDATA2MSB;
    expect_rejected(img.bytes, "big-endian");
}

TEST(ElfCheck, RejectsTruncatedHeader) {
    Image img = make_image();
    for (size_t n : {size_t{EI_NIDENT}, size_t{20}, sizeof(Elf64_Ehdr) - 1})
        expect_rejected(std::span(img.bytes.data(), n), "truncated ELF header");
}

TEST(ElfCheck, RejectsProgramHeadersPastEnd) {
    Image img = make_image();
    img.eh().e_phoff = img.bytes.size() + 0x100;
    expect_rejected(img.bytes, "truncated program header table");
    // Table starting inside the file but ending after it.
    img.eh().e_phoff = img.bytes.size() - sizeof(Elf64_Phdr);
    expect_rejected(img.bytes, "truncated program header table");
    // An offset so large that offset + size wraps around.
    img.eh().e_phoff = ~0ULL - 8;
    expect_rejected(img.bytes, "truncated program header table");
}

TEST(ElfCheck, RejectsFileEndingInsideProgramHeaders) {
    Image img = make_image();
    expect_rejected(std::span(img.bytes.data(), sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 10),
                    "truncated program header table");
}

TEST(ElfCheck, RejectsHugePhnum) {
    Image img = make_image();
    img.eh().e_phnum = 0xffff;
    expect_rejected(img.bytes, "program header table");
}

TEST(ElfCheck, RejectsZeroPhnum) {
    Image img = make_image();
    img.eh().e_phnum = 0;
    expect_rejected(img.bytes, "program header table");
}

TEST(ElfCheck, RejectsWrongPhentsize) {
    Image img = make_image();
    img.eh().e_phentsize = sizeof(Elf64_Phdr) - 8;
    expect_rejected(img.bytes, "entry size");
}

TEST(ElfCheck, RejectsNoLoadSegment) {
    Image img = make_image();
    img.ph(0).p_type = PT_NOTE;
    img.ph(1).p_type = PT_NOTE;
    expect_rejected(img.bytes, "no loadable segment");
}

TEST(ElfCheck, RejectsSegmentPastEndOfFile) {
    Image img = make_image();
    img.ph(1).p_filesz = 0x1001;
    img.ph(1).p_memsz = 0x3000;
    expect_rejected(img.bytes, "truncated");
    // The same with an offset that would make offset + size wrap.
    Image wrap = make_image();
    wrap.ph(1).p_offset = ~0ULL - 0xfff;
    wrap.ph(1).p_filesz = 0x2000;
    expect_rejected(wrap.bytes, "truncated");
}

TEST(ElfCheck, RejectsFileSizeLargerThanMemorySize) {
    Image img = make_image();
    img.ph(1).p_memsz = 0x800;
    expect_rejected(img.bytes, "larger than memory size");
}

TEST(ElfCheck, RejectsSegmentInKernelHalf) {
    Image img = make_image();
    img.ph(1).p_vaddr = 0xffff'8000'0000'1000ULL;
    expect_rejected(img.bytes, "outside the user address space");
    // Starting in user space but extending past its top.
    Image tail = make_image();
    tail.ph(1).p_vaddr = 0x7fff'ffff'e000ULL;
    tail.ph(1).p_memsz = 0x3000;
    expect_rejected(tail.bytes, "outside the user address space");
    // memsz so large that vaddr + memsz wraps.
    Image wrap = make_image();
    wrap.ph(1).p_memsz = ~0ULL - 0x100;
    expect_rejected(wrap.bytes, "outside the user address space");
}

TEST(ElfCheck, RejectsMisalignedSegment) {
    Image img = make_image();
    img.ph(1).p_vaddr = 0x401800;
    expect_rejected(img.bytes, "misaligned");
}

TEST(ElfCheck, RejectsOverlappingSegments) {
    Image img = make_image();
    img.ph(1).p_vaddr = 0x400000;  // the text's page
    img.ph(1).p_offset = 0x1000;
    expect_rejected(img.bytes, "overlaps");
}

TEST(ElfCheck, RejectsEntryOutsideExecutableSegment) {
    Image img = make_image();
    img.eh().e_entry = 0x401100;  // in the data segment (rw-)
    expect_rejected(img.bytes, "entry point");
    img.eh().e_entry = 0x900000;  // nowhere
    expect_rejected(img.bytes, "entry point");
}

TEST(ElfCheck, RejectsDynamicallyLinked) {
    Image img = make_image(ET_DYN);
    const char interp[] = "/lib64/ld-linux-x86-64.so.2";
    std::memcpy(img.bytes.data() + 0x800, interp, sizeof interp);
    img.eh().e_phnum = 3;
    Elf64_Phdr& ph = img.ph(2);
    ph = {};
    ph.p_type = PT_INTERP;
    ph.p_offset = 0x800;
    ph.p_filesz = sizeof interp;
    ElfSummary summary{};
    std::string error;
    EXPECT_FALSE(check_elf(img.bytes, summary, error));
    EXPECT_NE(error.find("dynamically linked"), std::string::npos) << error;
    EXPECT_NE(error.find("not supported"), std::string::npos) << error;
    EXPECT_NE(error.find(interp), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(ElfCheck, RejectsDynamicallyLinkedWithBrokenInterpreterPath) {
    // PT_INTERP pointing past the end of the file, and one whose bytes contain a newline:
    // still one line, still "dynamically linked".
    Image img = make_image(ET_DYN);
    img.eh().e_phnum = 3;
    Elf64_Phdr& ph = img.ph(2);
    ph = {};
    ph.p_type = PT_INTERP;
    ph.p_offset = img.bytes.size() + 0x1000;
    ph.p_filesz = 0x100;
    expect_rejected(img.bytes, "dynamically linked");
    ph.p_offset = img.bytes.size() - 4;  // runs off the end, not NUL-terminated
    expect_rejected(img.bytes, "dynamically linked");
    const char evil[] = "/lib/ld\nsecond line";
    std::memcpy(img.bytes.data() + 0x800, evil, sizeof evil);
    ph.p_offset = 0x800;
    ph.p_filesz = sizeof evil;
    expect_rejected(img.bytes, "dynamically linked");
    // A huge "path" does not make a huge message.
    std::memset(img.bytes.data() + 0x100, 'a', 0x1000);
    ph.p_offset = 0x100;
    ph.p_filesz = 0x1000;
    ElfSummary summary{};
    std::string error;
    EXPECT_FALSE(check_elf(img.bytes, summary, error));
    EXPECT_LT(error.size(), 400u) << error;
}

TEST(ElfCheck, RejectsForeignMachine) {
    Image img = make_image();
    img.eh().e_machine = EM_AARCH64;
    expect_rejected(img.bytes, "aarch64");
    img.eh().e_machine = EM_386;
    expect_rejected(img.bytes, "i386");
    img.eh().e_machine = 0x1234;
    expect_rejected(img.bytes, "4660");
}

TEST(ElfCheck, RejectsRelocatableObject) {
    Image img = make_image();
    img.eh().e_type = ET_REL;
    expect_rejected(img.bytes, "not an executable");
    img.eh().e_type = ET_CORE;
    expect_rejected(img.bytes, "not an executable");
}

TEST(ElfCheck, NeverReadsPastTheBufferOnTruncation) {
    // Every short prefix of a valid image is refused, and checking it never reads past its
    // end: the prefix ends right before a PROT_NONE page.
    Image img = make_image();
    for (size_t n = 0; n < 0x200; ++n) {
        testing::GuardedBuffer prefix(n);
        std::memcpy(prefix.data(), img.bytes.data(), n);
        ElfSummary summary{};
        std::string error;
        EXPECT_FALSE(check_elf(prefix.span(), summary, error)) << n;
        EXPECT_FALSE(error.empty()) << n;
    }
}

}  // namespace
}  // namespace utx::loader
