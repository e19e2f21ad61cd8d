// The analysis of a program and its libraries, aggregated per syscall, with the verdict
// against utx's syscall table, and its three renderings (table, --sites, --json).
#pragma once

#include <string>
#include <vector>

#include "library_search.hpp"
#include "object_analysis.hpp"

namespace utx::analyze {

struct SyscallUse {
    int64_t number = 0;
    std::string name;    // empty when Linux has no such syscall
    std::string status;  // implemented | partial | stub | missing | unknown
    std::string note;
    size_t sites = 0;
    std::vector<std::string> objects;
    std::string implicit;  // why it is made without a site in the file (else empty)
};

struct UnresolvedSite {
    std::string object;
    uint64_t addr = 0;
    std::string function;
    std::vector<int64_t> partial_values;  // numbers found on the paths that did resolve
    std::vector<Unresolved> reasons;
};

struct Verdict {
    std::vector<std::string> missing;  // syscalls utx lacks
    std::vector<std::string> partial;  // partial or stub in utx
    std::string text;
    int exit_status = 0;
};

struct Report {
    std::string file;
    Arch arch = Arch::X86_64;
    bool dynamic = false;
    std::vector<ObjectReport> objects;
    std::vector<MissingDependency> missing_libraries;
    std::vector<SyscallUse> syscalls;  // sorted by number
    std::vector<UnresolvedSite> unresolved;
    size_t total_sites = 0;
    size_t resolved_sites = 0;
    Verdict verdict;

    double resolution_share() const {
        return total_sites == 0
                   ? 1.0
                   : static_cast<double>(resolved_sites) / static_cast<double>(total_sites);
    }
};

Report build_report(std::string file, bool dynamic, std::vector<ObjectReport> objects,
                    std::vector<MissingDependency> missing_libraries);

std::string format_table(const Report& report);
std::string format_sites(const Report& report);
std::string format_json(const Report& report);

}  // namespace utx::analyze
