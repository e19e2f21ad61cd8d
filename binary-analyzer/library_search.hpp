// Finds the objects a dynamic executable loads: PT_INTERP and the DT_NEEDED closure,
// searched like ld.so does (DT_RUNPATH/DT_RPATH with $ORIGIN, then the default
// directories of the architecture), all below an optional sysroot.
#pragma once

#include <string>
#include <vector>

#include "elf_image.hpp"

namespace utx::analyze {

struct Dependency {
    std::string path;       // as found on disk
    std::string role;       // "interpreter" or "library"
    std::string needed_by;  // the object that asked for it
    ElfImage image;
};

struct MissingDependency {
    std::string name;
    std::string needed_by;
    std::string reason;
};

struct DependencySet {
    std::vector<Dependency> found;
    std::vector<MissingDependency> missing;
};

DependencySet load_dependencies(const ElfImage& executable, const std::string& sysroot);

// The default library directories for `arch`, without sysroot.
std::vector<std::string> default_library_dirs(Arch arch);

}  // namespace utx::analyze
