#include "elf_image.hpp"

#include <sys/stat.h>

#include <LIEF/ELF.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "elf_validate.hpp"
#include "error.hpp"

namespace utx::analyze {

namespace {

constexpr uint64_t SHF_EXECINSTR = 0x4;
constexpr uint64_t PF_X = 1, PF_W = 2;

std::vector<uint8_t> read_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw InputError(path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw InputError(path, "is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
    std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (static_cast<size_t>(in.gcount()) != bytes.size()) throw InputError(path, "short read");
    return bytes;
}

void split_paths(const std::string& list, std::vector<std::string>& out) {
    size_t start = 0;
    while (start <= list.size()) {
        const size_t colon = std::min(list.find(':', start), list.size());
        if (colon > start) out.push_back(list.substr(start, colon - start));
        start = colon + 1;
    }
}

}  // namespace

ElfImage ElfImage::load(const std::string& path) {
    return from_bytes(path, read_file(path));
}

ElfImage ElfImage::from_bytes(const std::string& name, std::vector<uint8_t> bytes) {
    ElfImage image;
    image.path_ = name;
    image.bytes_ = std::move(bytes);
    const ElfFacts facts = validate_elf(name, image.bytes_);
    image.arch_ = facts.arch;
    image.shared_object_ = facts.shared_object;
    image.entry_ = facts.entry;
    try {
        image.parse_with_lief();
    } catch (const InputError&) {
        throw;
    } catch (const std::exception& e) {
        throw InputError(name, std::string("malformed ELF: ") + e.what());
    }
    return image;
}

void ElfImage::parse_with_lief() {
    std::unique_ptr<LIEF::ELF::Binary> binary = LIEF::ELF::Parser::parse(bytes_, path_);
    if (!binary) throw InputError(path_, "malformed ELF: the parser rejected it");

    for (const LIEF::ELF::Segment& segment : binary->segments()) {
        if (segment.type() != LIEF::ELF::SEGMENT_TYPES::PT_LOAD) continue;
        const auto flags = static_cast<uint64_t>(segment.flags());
        segments_.push_back({segment.virtual_address(), segment.virtual_size(),
                             segment.file_offset(), segment.physical_size(), (flags & PF_W) != 0});
    }

    for (const LIEF::ELF::Section& section : binary->sections()) {
        const bool nobits = section.type() == LIEF::ELF::ELF_SECTION_TYPES::SHT_NOBITS;
        const CodeRegion region{section.name(), section.virtual_address(), section.offset(),
                                section.size()};
        if (nobits || region.size == 0 || region.offset + region.size > bytes_.size()) continue;
        if ((section.flags() & SHF_EXECINSTR) != 0 && region.addr != 0) code_.push_back(region);
        if (section.name() == ".eh_frame" && region.addr != 0) eh_frame_ = region;
    }
    if (code_.empty()) {  // no section headers (stripped with sstrip): use segments
        for (const LIEF::ELF::Segment& segment : binary->segments()) {
            if (segment.type() != LIEF::ELF::SEGMENT_TYPES::PT_LOAD) continue;
            if ((static_cast<uint64_t>(segment.flags()) & PF_X) == 0) continue;
            code_.push_back({"LOAD", segment.virtual_address(), segment.file_offset(),
                             segment.physical_size()});
        }
    }
    std::sort(code_.begin(), code_.end(),
              [](const CodeRegion& a, const CodeRegion& b) { return a.addr < b.addr; });

    auto in_code = [&](uint64_t addr) {
        return std::any_of(code_.begin(), code_.end(), [&](const CodeRegion& r) {
            return addr >= r.addr && addr - r.addr < r.size;
        });
    };
    auto add_symbol = [&](const LIEF::ELF::Symbol& symbol) {
        const auto type = symbol.type();
        const std::string& name = symbol.name();
        if (symbol.value() == 0 || name.empty()) return;
        // Untyped labels in code (hand-written assembly like _start) count too, but not
        // mapping symbols ($x, $d) or assembler locals (.L*).
        const bool label = type == LIEF::ELF::ELF_SYMBOL_TYPES::STT_NOTYPE && name[0] != '$' &&
                           !name.starts_with(".L") && in_code(symbol.value());
        if (type != LIEF::ELF::ELF_SYMBOL_TYPES::STT_FUNC &&
            type != LIEF::ELF::ELF_SYMBOL_TYPES::STT_GNU_IFUNC && !label)
            return;
        functions_.push_back({symbol.value(), symbol.name()});
    };
    for (const LIEF::ELF::Symbol& symbol : binary->static_symbols()) add_symbol(symbol);
    for (const LIEF::ELF::Symbol& symbol : binary->dynamic_symbols()) add_symbol(symbol);
    // Prefer the shortest name at an address (`read` over `__libc_read`), then sort.
    std::sort(
        functions_.begin(), functions_.end(), [](const FunctionSymbol& a, const FunctionSymbol& b) {
            if (a.addr != b.addr) return a.addr < b.addr;
            const bool a_internal = a.name.starts_with("_"), b_internal = b.name.starts_with("_");
            if (a_internal != b_internal) return !a_internal;
            return a.name.size() < b.name.size();
        });
    functions_.erase(std::unique(functions_.begin(), functions_.end(),
                                 [](const FunctionSymbol& a, const FunctionSymbol& b) {
                                     return a.addr == b.addr;
                                 }),
                     functions_.end());

    if (binary->has_interpreter()) interpreter_ = binary->interpreter();
    for (const LIEF::ELF::DynamicEntry& entry : binary->dynamic_entries()) {
        if (const auto* library = dynamic_cast<const LIEF::ELF::DynamicEntryLibrary*>(&entry))
            needed_.push_back(library->name());
        else if (const auto* runpath = dynamic_cast<const LIEF::ELF::DynamicEntryRunPath*>(&entry))
            split_paths(runpath->name(), runpath_);
        else if (const auto* rpath = dynamic_cast<const LIEF::ELF::DynamicEntryRpath*>(&entry))
            split_paths(rpath->name(), runpath_);
    }
}

std::optional<uint64_t> ElfImage::read_constant(uint64_t vaddr, unsigned size) const {
    for (const LoadSegment& segment : segments_) {
        if (segment.writable) continue;
        // Differences only: near the top of the address space a sum would wrap around.
        if (vaddr < segment.vaddr || vaddr - segment.vaddr >= segment.filesz ||
            segment.filesz - (vaddr - segment.vaddr) < size)
            continue;
        const uint64_t offset = segment.offset + (vaddr - segment.vaddr);
        if (offset > bytes_.size() || bytes_.size() - offset < size) return std::nullopt;
        uint64_t value = 0;
        std::memcpy(&value, bytes_.data() + offset, size);
        return value;
    }
    return std::nullopt;
}

std::span<const uint8_t> ElfImage::loaded_bytes(uint64_t vaddr) const {
    for (const LoadSegment& segment : segments_) {
        if (vaddr < segment.vaddr || vaddr - segment.vaddr >= segment.filesz) continue;
        const uint64_t offset = segment.offset + (vaddr - segment.vaddr);
        const uint64_t end = segment.offset + segment.filesz;
        if (end > bytes_.size() || offset >= end) return {};
        return std::span<const uint8_t>(bytes_).subspan(offset, end - offset);
    }
    return {};
}

}  // namespace utx::analyze
