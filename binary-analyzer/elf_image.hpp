// An ELF file loaded for analysis: validated raw bytes, then parsed with LIEF into the
// few facts the analyzer needs (code, symbols, unwind data, dynamic dependencies).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "insn.hpp"

namespace utx::analyze {

struct CodeRegion {
    std::string name;
    uint64_t addr = 0;
    uint64_t offset = 0;  // in the file
    uint64_t size = 0;
};

struct FunctionSymbol {
    uint64_t addr = 0;
    std::string name;
};

struct LoadSegment {
    uint64_t vaddr = 0, memsz = 0, offset = 0, filesz = 0;
    bool writable = false;
};

class ElfImage {
  public:
    // Throws InputError naming `path` when the file is unreadable or malformed.
    static ElfImage load(const std::string& path);
    static ElfImage from_bytes(const std::string& name, std::vector<uint8_t> bytes);

    ElfImage(ElfImage&&) = default;
    ElfImage& operator=(ElfImage&&) = default;
    ElfImage(const ElfImage&) = delete;
    ElfImage& operator=(const ElfImage&) = delete;

    const std::string& path() const { return path_; }
    Arch arch() const { return arch_; }
    bool shared_object() const { return shared_object_; }
    uint64_t entry() const { return entry_; }
    const std::vector<CodeRegion>& code() const { return code_; }
    const std::vector<FunctionSymbol>& functions() const { return functions_; }
    const std::vector<std::string>& needed() const { return needed_; }
    const std::vector<std::string>& runpath() const { return runpath_; }
    const std::string& interpreter() const { return interpreter_; }
    // The .eh_frame contents and its load address, when present.
    std::optional<CodeRegion> eh_frame() const { return eh_frame_; }

    std::span<const uint8_t> bytes(const CodeRegion& region) const {
        return std::span<const uint8_t>(bytes_).subspan(region.offset, region.size);
    }
    // Reads `size` (1, 2, 4 or 8) bytes at `vaddr` when they lie in a read-only,
    // file-backed part of a loaded segment (constants the program cannot change).
    std::optional<uint64_t> read_constant(uint64_t vaddr, unsigned size) const;
    // The PT_LOAD segments, in program header order.
    const std::vector<LoadSegment>& segments() const { return segments_; }
    // The file-backed bytes of the segment holding `vaddr`, from `vaddr` to the end of its
    // file data (empty when `vaddr` is in no segment's file data).
    std::span<const uint8_t> loaded_bytes(uint64_t vaddr) const;
    // The whole file.
    std::span<const uint8_t> file() const { return bytes_; }

  private:
    ElfImage() = default;
    void parse_with_lief();

    std::string path_;
    std::vector<uint8_t> bytes_;
    Arch arch_ = Arch::X86_64;
    bool shared_object_ = false;
    uint64_t entry_ = 0;
    std::vector<CodeRegion> code_;
    std::vector<FunctionSymbol> functions_;
    std::vector<LoadSegment> segments_;
    std::vector<std::string> needed_, runpath_;
    std::string interpreter_;
    std::optional<CodeRegion> eh_frame_;
};

}  // namespace utx::analyze
