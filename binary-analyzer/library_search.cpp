#include "library_search.hpp"

#include <filesystem>
#include <set>

#include "error.hpp"

namespace utx::analyze {

namespace fs = std::filesystem;

std::vector<std::string> default_library_dirs(Arch arch) {
    if (arch == Arch::X86_64)
        return {"/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu",
                "/lib64",
                "/usr/lib64",
                "/lib",
                "/usr/lib",
                "/usr/local/lib",
                "/usr/lib/x86_64-linux-musl"};
    return {"/lib/riscv64-linux-gnu",
            "/usr/lib/riscv64-linux-gnu",
            "/lib64/lp64d",
            "/usr/lib64/lp64d",
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
            "/usr/riscv64-linux-gnu/lib"};
}

namespace {

std::string under(const std::string& sysroot, const std::string& path) {
    if (sysroot.empty()) return path;
    return (fs::path(sysroot) / fs::path(path).relative_path()).string();
}

class Loader {
  public:
    Loader(Arch arch, std::string sysroot) : arch_(arch), sysroot_(std::move(sysroot)) {}

    // Tries `candidate`; a file of another architecture is skipped like ld.so does.
    bool try_load(const std::string& candidate, const std::string& role,
                  const std::string& needed_by, DependencySet& out, std::string& why) {
        std::error_code ec;
        if (!fs::is_regular_file(candidate, ec)) return false;
        const std::string canonical = fs::weakly_canonical(candidate, ec).string();
        if (loaded_.count(canonical)) return true;
        try {
            ElfImage image = ElfImage::load(candidate);
            if (image.arch() != arch_) {
                why = candidate + ": wrong architecture";
                return false;
            }
            loaded_.insert(canonical);
            out.found.push_back({candidate, role, needed_by, std::move(image)});
            return true;
        } catch (const InputError& e) {
            why = candidate + ": " + e.what();
            return false;
        }
    }

    // `requester` and `runpath` are copies: loading appends to `out`, which may move them.
    void find_library(const std::string& name, const std::string requester,
                      const std::vector<std::string> runpath, DependencySet& out) {
        std::string why;
        if (name.find('/') != std::string::npos) {
            if (!try_load(under(sysroot_, name), "library", requester, out, why))
                out.missing.push_back({name, requester, why.empty() ? "not found" : why});
            return;
        }
        std::vector<std::string> dirs;
        const std::string origin = fs::path(requester).parent_path().string();
        for (std::string dir : runpath) {
            bool relative_to_origin = false;
            for (const std::string token : {"${ORIGIN}", "$ORIGIN"}) {
                const size_t at = dir.find(token);
                if (at == std::string::npos) continue;
                dir.replace(at, token.size(), origin);  // already a host path
                relative_to_origin = true;
                break;
            }
            dirs.push_back(relative_to_origin ? dir : under(sysroot_, dir));
        }
        for (const std::string& dir : default_library_dirs(arch_))
            dirs.push_back(under(sysroot_, dir));
        for (const std::string& dir : dirs)
            if (try_load((fs::path(dir) / name).string(), "library", requester, out, why)) return;
        out.missing.push_back(
            {name, requester, why.empty() ? "not found in the library path" : why});
    }

  private:
    Arch arch_;
    std::string sysroot_;
    std::set<std::string> loaded_;
};

}  // namespace

DependencySet load_dependencies(const ElfImage& executable, const std::string& sysroot) {
    DependencySet out;
    Loader loader(executable.arch(), sysroot);
    if (!executable.interpreter().empty()) {
        const std::string& interp = executable.interpreter();
        std::string why;
        bool found =
            loader.try_load(under(sysroot, interp), "interpreter", executable.path(), out, why);
        // Cross sysroots keep ld.so with the other libraries (e.g. /usr/riscv64-linux-gnu/lib).
        for (const std::string& dir : default_library_dirs(executable.arch())) {
            if (found) break;
            found = loader.try_load(
                (fs::path(under(sysroot, dir)) / fs::path(interp).filename()).string(),
                "interpreter", executable.path(), out, why);
        }
        if (!found)
            out.missing.push_back({interp, executable.path(), why.empty() ? "not found" : why});
    }
    // Breadth-first over DT_NEEDED, like the dynamic loader.
    for (const std::string& name : executable.needed())
        loader.find_library(name, executable.path(), executable.runpath(), out);
    for (size_t i = 0; i < out.found.size(); ++i) {
        const std::vector<std::string> needed = out.found[i].image.needed();
        const std::string path = out.found[i].path;
        const std::vector<std::string> runpath = out.found[i].image.runpath();
        for (const std::string& name : needed) loader.find_library(name, path, runpath, out);
    }
    return out;
}

}  // namespace utx::analyze
