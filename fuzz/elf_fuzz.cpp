// fuzz/elf_fuzz.cpp: the ELF checks on arbitrary bytes. utx-run's check_elf, the analyzer's
// validate_elf and ElfImage (our validation, then LIEF) each accept the file or give one
// line; where two accept, they agree on what the file is; an accepted ElfImage never
// points outside the file.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "elf_image.hpp"
#include "elf_validate.hpp"
#include "error.hpp"
#include "fuzz/fuzz_check.h"
#include "loader/elf_check.h"

using namespace utx;

namespace {

// The ElfImage queries the analyzer makes, at addresses that matter and at the edges.
void query(const analyze::ElfImage& image) {
    const uint64_t size = image.file().size();
    for (const analyze::CodeRegion& region : image.code()) {
        FUZZ_CHECK(region.offset <= size && region.size <= size - region.offset);
        FUZZ_CHECK(image.bytes(region).size() == region.size);
    }
    if (auto eh = image.eh_frame()) FUZZ_CHECK(eh->offset <= size && eh->size <= size - eh->offset);
    std::vector<uint64_t> addresses = {image.entry(), 0, ~0ULL, ~0ULL - 3, ~0ULL - 7};
    for (const analyze::LoadSegment& s : image.segments()) {
        addresses.push_back(s.vaddr);
        addresses.push_back(s.vaddr + s.filesz - 1);
        addresses.push_back(s.vaddr + s.filesz);
        addresses.push_back(s.vaddr + s.memsz);
        addresses.push_back(s.vaddr - 1);
    }
    for (const analyze::FunctionSymbol& f : image.functions()) addresses.push_back(f.addr);
    const uint8_t* begin = image.file().data();
    for (uint64_t addr : addresses) {
        for (unsigned width : {1u, 2u, 4u, 8u}) (void)image.read_constant(addr, width);
        std::span<const uint8_t> loaded = image.loaded_bytes(addr);
        if (!loaded.empty())
            FUZZ_CHECK(loaded.data() >= begin && loaded.data() + loaded.size() <= begin + size);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> bytes(data, size);

    loader::ElfSummary summary{};
    std::string error;
    const bool bootable = loader::check_elf(bytes, summary, error);
    if (!bootable) fuzz::check_one_line(error);

    analyze::ElfFacts facts;
    bool valid = false;
    try {
        facts = analyze::validate_elf("prog", bytes);
        valid = true;
    } catch (const analyze::InputError& e) {
        FUZZ_CHECK(e.file() == "prog");
        fuzz::check_one_line(e.what());
    }
    if (bootable && valid) {
        FUZZ_CHECK((summary.arch == loader::ElfArch::X86_64) ==
                   (facts.arch == analyze::Arch::X86_64));
        FUZZ_CHECK(summary.position_independent == facts.shared_object);
        FUZZ_CHECK(summary.entry == facts.entry);
    }
    if (!valid) return 0;

    try {
        const analyze::ElfImage image =
            analyze::ElfImage::from_bytes("prog", std::vector<uint8_t>(bytes.begin(), bytes.end()));
        FUZZ_CHECK(image.entry() == facts.entry && image.arch() == facts.arch);
        query(image);
    } catch (const analyze::InputError& e) {
        FUZZ_CHECK(e.file() == "prog");
        fuzz::check_one_line(e.what());
    }
    return 0;
}
