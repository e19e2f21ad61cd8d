// fuzz/rewrite_fuzz.cpp: utx-rewrite's rewrite of arbitrary bytes, through its library.
// Either one InputError line, or a rewrite that is idempotent (its output, rewritten again,
// is "already rewritten" and unchanged), still a valid ELF file, and still bootable by
// utx-run when the input was.
#include <cstdint>
#include <string>
#include <vector>

#include "elf_validate.hpp"
#include "error.hpp"
#include "fuzz/fuzz_check.h"
#include "loader/elf_check.h"
#include "rewriter.hpp"

using namespace utx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> input(data, data + size);
    rewrite::Rewritten first;
    try {
        first = rewrite::rewrite_program("prog", input);
    } catch (const analyze::InputError& e) {
        FUZZ_CHECK(e.file() == "prog");
        fuzz::check_one_line(e.what());
        return 0;
    }
    const rewrite::Report& report = first.report;
    FUZZ_CHECK(report.rewritten() <= report.found());
    if (report.already_rewritten || report.rewritten() == 0) FUZZ_CHECK(first.bytes == input);
    for (const rewrite::SiteOutcome& site : report.sites)
        FUZZ_CHECK(site.rewritten ? site.start <= site.addr && site.addr < site.end
                                  : !site.reason.empty());

    // The output is a valid ELF file, bootable when the input was.
    try {
        (void)analyze::validate_elf("out", first.bytes);
    } catch (const analyze::InputError& e) {
        std::fprintf(stderr, "the rewritten file is not valid: %s\n", e.what());
        std::abort();
    }
    loader::ElfSummary before{}, after{};
    std::string error;
    if (loader::check_elf(input, before, error)) {
        if (!loader::check_elf(first.bytes, after, error)) {
            std::fprintf(stderr, "the rewritten file is not bootable: %s\n", error.c_str());
            std::abort();
        }
        FUZZ_CHECK(after.entry == before.entry);
    }

    // Idempotent: a second rewrite changes nothing.
    rewrite::Rewritten second;
    try {
        second = rewrite::rewrite_program("out", first.bytes);
    } catch (const analyze::InputError& e) {
        std::fprintf(stderr, "rewriting the output again failed: %s\n", e.what());
        std::abort();
    }
    FUZZ_CHECK(second.bytes == first.bytes);
    if (report.rewritten() > 0) FUZZ_CHECK(second.report.already_rewritten);
    return 0;
}
