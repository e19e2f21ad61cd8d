// utx-analyze: which Linux syscalls can this program make, and does utx implement them?
// A thin command line over the binary-analyzer library.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "error.hpp"
#include "library_search.hpp"
#include "object_analysis.hpp"
#include "report.hpp"

namespace {

constexpr const char* kUsage =
    "usage: utx-analyze [options] PROG\n"
    "\n"
    "Lists the Linux syscalls PROG (an x86-64 or riscv64 ELF executable or shared object,\n"
    "static or dynamic) can make, whether utx implements each, and a verdict.\n"
    "\n"
    "options:\n"
    "  --json          print one JSON document (schema in binary-analyzer/README.md)\n"
    "  --sites         list every syscall site: address, function, number(s), how resolved\n"
    "  --sysroot DIR   look for the interpreter and libraries under DIR\n"
    "  --no-libs       analyze PROG only, not the libraries it loads\n"
    "  --help          show this help\n"
    "\n"
    "exit status: 0 ready, 1 a syscall PROG needs is missing in utx, 2 error\n";

struct Options {
    bool json = false, sites = false, libs = true;
    std::string sysroot, prog;
};

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "utx-analyze: %s (try --help)\n", message.c_str());
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (arg == "--json") {
            options.json = true;
        } else if (arg == "--sites") {
            options.sites = true;
        } else if (arg == "--no-libs") {
            options.libs = false;
        } else if (arg == "--sysroot") {
            if (++i == argc) usage_error("--sysroot needs a directory");
            options.sysroot = argv[i];
        } else if (arg.starts_with("--sysroot=")) {
            options.sysroot = arg.substr(std::strlen("--sysroot="));
        } else if (arg == "--") {
            if (i + 1 < argc) options.prog = argv[++i];
        } else if (arg.starts_with("-") && arg != "-") {
            usage_error("unknown option '" + arg + "'");
        } else if (!options.prog.empty()) {
            usage_error("more than one PROG given ('" + options.prog + "' and '" + arg + "')");
        } else {
            options.prog = arg;
        }
    }
    if (options.prog.empty()) usage_error("no PROG given");
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace utx::analyze;
    const Options options = parse(argc, argv);
    try {
        const ElfImage image = ElfImage::load(options.prog);
        std::vector<ObjectReport> objects;
        objects.push_back(analyze_object(
            image, image.shared_object() && image.entry() == 0 ? "library" : "executable"));
        const bool dynamic = !image.interpreter().empty() || !image.needed().empty();
        DependencySet deps;
        if (options.libs && dynamic) deps = load_dependencies(image, options.sysroot);
        for (const Dependency& dep : deps.found) {
            objects.push_back(analyze_object(dep.image, dep.role));
            objects.back().needed_by = dep.needed_by;
        }
        const Report report =
            build_report(options.prog, dynamic, std::move(objects), std::move(deps.missing));
        if (options.json) {
            std::fputs(format_json(report).c_str(), stdout);
        } else {
            if (options.sites) std::fputs(format_sites(report).c_str(), stdout);
            std::fputs(format_table(report).c_str(), stdout);
        }
        return report.verdict.exit_status;
    } catch (const InputError& e) {
        std::fprintf(stderr, "utx-analyze: %s: %s\n", e.file().c_str(), e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "utx-analyze: %s: %s\n", options.prog.c_str(), e.what());
    }
    return 2;
}
