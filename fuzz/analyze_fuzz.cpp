// fuzz/analyze_fuzz.cpp: utx-analyze's whole analysis of arbitrary bytes, through its library
// as main.cpp drives it with --no-libs (no library search: nothing but the input is read).
// Either one InputError line, or a report whose counts add up and whose --json is one valid
// JSON document, whatever names and bytes the file holds.
#include <cstdint>
#include <string>
#include <vector>

#include "elf_image.hpp"
#include "error.hpp"
#include "fuzz/fuzz_check.h"
#include "fuzz/json_check.h"
#include "object_analysis.hpp"
#include "report.hpp"

using namespace utx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const analyze::ElfImage image =
            analyze::ElfImage::from_bytes("prog", std::vector<uint8_t>(data, data + size));
        std::vector<analyze::ObjectReport> objects;
        objects.push_back(analyze::analyze_object(
            image, image.shared_object() && image.entry() == 0 ? "library" : "executable"));
        const bool dynamic = !image.interpreter().empty() || !image.needed().empty();
        const analyze::Report report =
            analyze::build_report("prog", dynamic, std::move(objects), {});

        FUZZ_CHECK(report.resolved_sites <= report.total_sites);
        size_t sites = 0;
        for (const analyze::ObjectReport& object : report.objects) sites += object.sites.size();
        FUZZ_CHECK(sites == report.total_sites);
        FUZZ_CHECK(report.verdict.exit_status == 0 || report.verdict.exit_status == 1);
        const std::string json = analyze::format_json(report);
        if (!fuzz::JsonCheck::valid(json)) {
            std::fprintf(stderr, "invalid JSON document:\n%s\n", json.c_str());
            std::abort();
        }
        FUZZ_CHECK(!analyze::format_table(report).empty());
        (void)analyze::format_sites(report);
    } catch (const analyze::InputError& e) {
        FUZZ_CHECK(e.file() == "prog");
        fuzz::check_one_line(e.what());
    }
    return 0;
}
