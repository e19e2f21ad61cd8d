// loader/host_fs.h: host mounts (-v HOST:GUEST[:ro]) served to the guest (abi::kHcFs).
//
// Every path the guest sends is resolved beneath the mount's root with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): ".." stops at the root and absolute
// symlinks start there, as inside a chroot, so no path reaches outside what the user shared.
// Operations on a last component (unlink, mkdir, rename, …) act on a parent resolved that
// way and never follow that component. Open files are host descriptors behind small
// handles; only files and directories are opened (a FIFO or device would block the VMM).
#pragma once
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "loader/unique_fd.h"

namespace utx::loader {

struct MountSpec {
    std::string host;   // as given
    std::string guest;  // absolute path in the guest
    bool read_only = false;
};

// Parses "HOST:GUEST[:ro]"; GUEST must be absolute and not "/".
bool parse_mount_spec(const std::string& text, MountSpec& spec, std::string& error);

class HostFs {
public:
    // Opens each mount's root; on failure returns false with a one-line reason.
    bool add(const MountSpec& spec, std::string& error);
    size_t size() const { return mounts_.size(); }
    bool is_directory(size_t index) const { return mounts_[index].is_dir; }
    bool read_only(size_t index) const { return mounts_[index].read_only; }
    const std::string& guest_path(size_t index) const { return mounts_[index].guest; }

    // Serves one kHcFs request. `args` as in abi::HostFsOp, `iov` the request's segments
    // (already checked to lie in guest memory); `out` receives values returned in args[0].
    int64_t handle(const uint64_t args[6], const iovec* iov, uint32_t nsegments, uint64_t* out);

    // Bounded like a process's descriptor table: the guest cannot exhaust utx-run's fds.
    static constexpr size_t kMaxHandles = 4096;

private:
    struct Mount {
        UniqueFd root;        // O_PATH
        std::string real;     // realpath of the root, to express open files' paths
        std::string guest;
        bool read_only;
        bool is_dir;
    };
    struct Handle {
        UniqueFd fd;
        size_t mount;
    };
    struct Buffers;

    int64_t path_op(uint64_t op, const Mount& m, const uint64_t args[6], const Buffers& b,
                    uint64_t* out);
    int64_t fd_op(uint64_t op, Handle& h, const uint64_t args[6], const iovec* iov,
                  uint32_t nsegments, const Buffers& b);
    int64_t open(const Mount& m, size_t index, const std::string& path, uint64_t flags,
                 uint64_t mode, const Buffers& b, uint64_t* out);

    std::vector<Mount> mounts_;
    std::vector<Handle> handles_;  // index = handle; closed slots have no fd
};

}  // namespace utx::loader
