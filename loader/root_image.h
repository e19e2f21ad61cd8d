// loader/root_image.h: the guest's root file system as a cpio newc archive: the program at
// its own path, the user's --copy files, and a small synthetic /etc, /dev, /tmp, /proc, /sys.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace utx::loader {

struct CopySpec {
    std::string host;   // a file or a directory (copied recursively)
    std::string guest;  // absolute path in the guest
};

// Where a host mount (-v) covers the guest's tree: the directory (or file) must exist.
struct MountPoint {
    std::string guest;
    bool directory;
};

struct RootImageRequest {
    std::string exec_path;  // absolute
    std::span<const uint8_t> program;
    uint32_t program_mode = 0755;
    std::vector<CopySpec> copies;
    std::vector<MountPoint> mount_points;
    uint32_t uid = 0, gid = 0;
    uint32_t vcpus = 1;
};

// On failure returns false with a one-line reason in `error`.
bool build_root_image(const RootImageRequest& req, std::vector<uint8_t>& image,
                      std::string& error);

// Parses "HOST:GUEST" for --copy; GUEST must be absolute.
bool parse_copy_spec(const std::string& text, CopySpec& spec, std::string& error);

}  // namespace utx::loader
