// minifs/cpio_writer.h: building a cpio "newc" (070701) archive on the host, for utx-run's
// boot image. The reader is cpio.h (unpack); `cpio -it` and the Linux kernel read it too.
#pragma once
#include <stdint.h>

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace utx::minifs {

struct CpioMeta {
    uint32_t perm = 0644;  // permission bits, with set-uid/gid and sticky
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t mtime = 0;  // seconds since the epoch
};

class CpioWriter {
  public:
    // Paths are relative to the archive's root ("usr/bin/prog"); a leading "/" or "./" is
    // dropped and repeated slashes are folded. Each add returns false, with error() saying
    // why, for an empty path, a NUL or a ".." in it, "TRAILER!!!" (the end of the archive), a
    // path already added, a path below something added that is not a directory, or a
    // non-directory where something added lies below.
    // Parents need not be added: unpack() makes missing ones (0755, root).
    [[nodiscard]] bool add_directory(std::string_view path, CpioMeta meta = {0755});
    [[nodiscard]] bool add_file(std::string_view path, std::span<const uint8_t> data,
                                CpioMeta meta = {});
    [[nodiscard]] bool add_file(std::string_view path, std::string_view data, CpioMeta meta = {});
    [[nodiscard]] bool add_symlink(std::string_view path, std::string_view target,
                                   CpioMeta meta = {0777});
    // A character (or block) device node with Linux's major/minor numbers.
    [[nodiscard]] bool add_device(std::string_view path, bool block, uint32_t major, uint32_t minor,
                                  CpioMeta meta = {0666});
    [[nodiscard]] bool add_fifo(std::string_view path, CpioMeta meta = {0644});
    // Another name for a regular file added before (same inode after unpacking).
    [[nodiscard]] bool add_hard_link(std::string_view path, std::string_view existing);

    // Whether `path` (normalised as for add) was added already.
    bool contains(std::string_view path);

    // The archive, ending with TRAILER!!!. The writer is empty again afterwards.
    std::vector<uint8_t> finish();

    const std::string& error() const { return error_; }

  private:
    struct Entry {
        std::string path;
        uint32_t mode;
        CpioMeta meta;
        uint32_t rdev_major = 0;
        uint32_t rdev_minor = 0;
        std::vector<uint8_t> data;
        size_t inode;  // index of the entry that owns the inode (itself unless a hard link)
    };
    bool add(std::string_view path, uint32_t mode, CpioMeta meta, std::vector<uint8_t> data,
             uint32_t major = 0, uint32_t minor = 0);
    bool normalize(std::string_view path, std::string* out);

    std::vector<Entry> entries_;
    std::map<std::string, size_t> index_;  // path -> its entry, in path order
    std::string error_;
};

}  // namespace utx::minifs
