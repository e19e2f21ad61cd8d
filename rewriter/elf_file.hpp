// The raw ELF64 headers of a file the rewriter reads and extends: the ELF header, the
// program and section header tables, as the bytes say (validated by
// analyze::validate_elf first). Writing works on these copies.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace utx::rewrite {

struct Elf64Ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct Elf64Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
struct Elf64Shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};
static_assert(sizeof(Elf64Ehdr) == 64 && sizeof(Elf64Phdr) == 56 && sizeof(Elf64Shdr) == 64);

inline constexpr uint32_t PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4, PT_PHDR = 6;
inline constexpr uint32_t PF_X = 1, PF_W = 2, PF_R = 4;
inline constexpr uint16_t ET_EXEC = 2, ET_DYN = 3;
inline constexpr uint32_t SHT_RELA = 4, SHT_RELR = 19;
inline constexpr uint64_t DT_NULL = 0, DT_RELA = 7, DT_RELASZ = 8, DT_TEXTREL = 22, DT_FLAGS = 30,
                          DT_RELRSZ = 35, DT_RELR = 36, DF_TEXTREL = 4;
inline constexpr uint32_t R_X86_64_RELATIVE = 8, R_X86_64_IRELATIVE = 37;

class ElfFile {
  public:
    // `bytes` must have passed analyze::validate_elf; they must outlive this object.
    explicit ElfFile(std::span<const uint8_t> bytes);

    std::span<const uint8_t> bytes() const { return bytes_; }
    const Elf64Ehdr& header() const { return header_; }
    const std::vector<Elf64Phdr>& segments() const { return phdrs_; }
    const std::vector<Elf64Shdr>& sections() const { return shdrs_; }
    bool position_independent() const { return header_.type == ET_DYN; }

    // The file offset of `vaddr` when it lies in the file data of a PT_LOAD.
    std::optional<uint64_t> offset_of(uint64_t vaddr) const;
    // The addends of R_X86_64_RELATIVE and R_X86_64_IRELATIVE relocations in SHT_RELA
    // sections and in the DT_RELA table: addresses a static-PIE (or an IFUNC table) stores
    // at run time. `complete` is false when relocations may hide addresses elsewhere
    // (DT_RELR, whose addends are the file's own words).
    std::vector<uint64_t> relocated_addresses(bool& complete) const;
    // DT_TEXTREL, or DF_TEXTREL in DT_FLAGS: the loader patches addresses into the code.
    bool text_relocations() const;
    // The descriptor of a utx-rewrite note (abi/rewrite.h) in a PT_NOTE, when present.
    std::optional<std::vector<uint8_t>> rewrite_note() const;

  private:
    std::span<const uint8_t> bytes_;
    Elf64Ehdr header_{};
    std::vector<Elf64Phdr> phdrs_;
    std::vector<Elf64Shdr> shdrs_;
};

}  // namespace utx::rewrite
