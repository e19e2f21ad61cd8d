#include "elf_file.hpp"

#include <algorithm>
#include <cstring>

#include "abi/rewrite.h"

namespace utx::rewrite {

namespace {

template <typename T>
T read_at(std::span<const uint8_t> bytes, uint64_t offset) {
    T value{};
    if (offset <= bytes.size() && sizeof value <= bytes.size() - offset)
        std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace

ElfFile::ElfFile(std::span<const uint8_t> bytes) : bytes_(bytes) {
    header_ = read_at<Elf64Ehdr>(bytes, 0);
    for (uint32_t i = 0; i < header_.phnum; ++i)
        phdrs_.push_back(
            read_at<Elf64Phdr>(bytes, header_.phoff + uint64_t{i} * sizeof(Elf64Phdr)));
    if (header_.shoff != 0) {
        uint64_t count = header_.shnum;
        if (count == 0) count = read_at<Elf64Shdr>(bytes, header_.shoff).size;
        for (uint64_t i = 0; i < count; ++i)
            shdrs_.push_back(read_at<Elf64Shdr>(bytes, header_.shoff + i * sizeof(Elf64Shdr)));
    }
}

std::optional<uint64_t> ElfFile::offset_of(uint64_t vaddr) const {
    for (const Elf64Phdr& ph : phdrs_) {
        if (ph.type != PT_LOAD || vaddr < ph.vaddr || vaddr - ph.vaddr >= ph.filesz) continue;
        return ph.offset + (vaddr - ph.vaddr);
    }
    return std::nullopt;
}

std::vector<uint64_t> ElfFile::relocated_addresses(bool& complete) const {
    complete = true;
    std::vector<uint64_t> addresses;
    auto read_table = [&](uint64_t offset, uint64_t size) {
        if (offset > bytes_.size() || size > bytes_.size() - offset) return;
        for (uint64_t at = offset; at + 24 <= offset + size; at += 24) {
            const auto info = read_at<uint64_t>(bytes_, at + 8);
            const auto addend = read_at<int64_t>(bytes_, at + 16);
            const auto type = static_cast<uint32_t>(info);
            if (type == R_X86_64_RELATIVE || type == R_X86_64_IRELATIVE)
                addresses.push_back(static_cast<uint64_t>(addend));
        }
    };
    for (const Elf64Shdr& section : shdrs_) {
        if (section.type == SHT_RELR) complete = false;
        if (section.type == SHT_RELA && section.entsize == 24)
            read_table(section.offset, section.size);
    }
    for (const Elf64Phdr& ph : phdrs_) {
        if (ph.type != PT_DYNAMIC) continue;
        uint64_t rela = 0, rela_size = 0;
        for (uint64_t at = ph.offset; at + 16 <= ph.offset + ph.filesz; at += 16) {
            const auto tag = read_at<uint64_t>(bytes_, at);
            const auto value = read_at<uint64_t>(bytes_, at + 8);
            if (tag == DT_NULL) break;
            if (tag == DT_RELA) rela = value;
            if (tag == DT_RELASZ) rela_size = value;
            if (tag == DT_RELR || tag == DT_RELRSZ) complete = false;
        }
        if (rela == 0) continue;
        if (const auto offset = offset_of(rela)) read_table(*offset, rela_size);
    }
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    return addresses;
}

bool ElfFile::text_relocations() const {
    for (const Elf64Phdr& ph : phdrs_) {
        if (ph.type != PT_DYNAMIC) continue;
        for (uint64_t at = ph.offset; at + 16 <= ph.offset + ph.filesz; at += 16) {
            const auto tag = read_at<uint64_t>(bytes_, at);
            if (tag == DT_NULL) break;
            if (tag == DT_TEXTREL) return true;
            if (tag == DT_FLAGS && (read_at<uint64_t>(bytes_, at + 8) & DF_TEXTREL)) return true;
        }
    }
    return false;
}

std::optional<std::vector<uint8_t>> ElfFile::rewrite_note() const {
    for (const Elf64Phdr& ph : phdrs_) {
        if (ph.type != PT_NOTE) continue;
        if (ph.offset > bytes_.size() || ph.filesz > bytes_.size() - ph.offset) continue;
        const uint64_t alignment = ph.align == 8 ? 8 : 4;
        uint64_t at = ph.offset;
        const uint64_t end = ph.offset + ph.filesz;
        while (end - at >= 12) {
            const auto namesz = read_at<uint32_t>(bytes_, at);
            const auto descsz = read_at<uint32_t>(bytes_, at + 4);
            const auto type = read_at<uint32_t>(bytes_, at + 8);
            const uint64_t name_at = at + 12;
            const uint64_t desc_at = name_at + align_up(namesz, alignment);
            const uint64_t next = desc_at + align_up(descsz, alignment);
            if (desc_at > end || next > end) break;
            if (type == abi::kRewriteNoteType && namesz == sizeof abi::kRewriteNoteName &&
                std::memcmp(bytes_.data() + name_at, abi::kRewriteNoteName, namesz) == 0)
                return std::vector<uint8_t>(
                    bytes_.begin() + static_cast<ptrdiff_t>(desc_at),
                    bytes_.begin() + static_cast<ptrdiff_t>(desc_at + descsz));
            at = next;
        }
    }
    return std::nullopt;
}

}  // namespace utx::rewrite
