// minifs/cpio_writer.cpp: the host-side cpio newc writer (see cpio_writer.h).
#include "minifs/cpio_writer.h"

#include <stdio.h>

namespace utx::minifs {

namespace {

constexpr uint32_t kTypeDir = 0040000;
constexpr uint32_t kTypeRegular = 0100000;
constexpr uint32_t kTypeSymlink = 0120000;
constexpr uint32_t kTypeChar = 0020000;
constexpr uint32_t kTypeBlock = 0060000;
constexpr uint32_t kTypeFifo = 0010000;

void pad4(std::vector<uint8_t>& out) {
    while (out.size() % 4 != 0) out.push_back(0);
}

void put_header(std::vector<uint8_t>& out, std::string_view name, uint32_t ino, uint32_t mode,
                uint32_t uid, uint32_t gid, uint32_t nlink, uint32_t mtime, uint32_t file_size,
                uint32_t rdev_major, uint32_t rdev_minor) {
    char header[111];
    snprintf(header, sizeof header, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             ino, mode, uid, gid, nlink, mtime, file_size, 0u, 0u, rdev_major, rdev_minor,
             uint32_t(name.size() + 1), 0u);
    out.insert(out.end(), header, header + 110);
    out.insert(out.end(), name.begin(), name.end());
    out.push_back(0);
    pad4(out);
}

}  // namespace

bool CpioWriter::normalize(std::string_view path, std::string* out) {
    out->clear();
    if (path.find('\0') != std::string_view::npos) {  // the header's name ends at a NUL
        error_ = "NUL in path";
        return false;
    }
    size_t i = 0;
    while (i < path.size()) {
        size_t end = path.find('/', i);
        if (end == std::string_view::npos) end = path.size();
        std::string_view component = path.substr(i, end - i);
        i = end + 1;
        if (component.empty() || component == ".") continue;
        if (component == "..") {
            error_ = "'..' in path: " + std::string(path);
            return false;
        }
        if (component.size() > 255) {
            error_ = "name longer than 255 bytes in: " + std::string(path);
            return false;
        }
        if (!out->empty()) out->push_back('/');
        out->append(component);
    }
    if (out->empty()) {
        error_ = "empty path: '" + std::string(path) + "'";
        return false;
    }
    if (out->size() >= 4096) {
        error_ = "path longer than 4095 bytes";
        return false;
    }
    return true;
}

bool CpioWriter::add(std::string_view path, uint32_t mode, CpioMeta meta, std::vector<uint8_t> data,
                     uint32_t major, uint32_t minor) {
    std::string normalized;
    if (!normalize(path, &normalized)) return false;
    if (normalized == "TRAILER!!!") {  // the reader would stop there, dropping what follows
        error_ = "TRAILER!!! is the name that ends the archive";
        return false;
    }
    if (index_.contains(normalized)) {
        error_ = "path added twice: " + normalized;
        return false;
    }
    // unpack() refuses an entry below anything but a directory, and a non-directory in place
    // of a directory that has entries: refuse them here, where the error can name them.
    for (size_t slash = normalized.find('/'); slash != std::string::npos;
         slash = normalized.find('/', slash + 1)) {
        auto parent = index_.find(normalized.substr(0, slash));
        if (parent != index_.end() && (entries_[parent->second].mode & 0170000) != kTypeDir) {
            error_ = parent->first + " is not a directory";
            return false;
        }
    }
    if ((mode & 0170000) != kTypeDir) {
        // The first path after "normalized/" in order is below it if anything is.
        const std::string below = normalized + '/';
        auto next = index_.lower_bound(below);
        if (next != index_.end() && next->first.starts_with(below)) {
            error_ = "it would replace the directory that holds " + next->first;
            return false;
        }
    }
    if (data.size() > 0xffffffffu) {
        error_ = "file larger than 4 GiB (the newc limit): " + normalized;
        return false;
    }
    index_.emplace(normalized, entries_.size());
    entries_.push_back(Entry{std::move(normalized), mode | (meta.perm & 07777), meta, major, minor,
                             std::move(data), entries_.size()});
    return true;
}

bool CpioWriter::contains(std::string_view path) {
    std::string normalized;
    return normalize(path, &normalized) && index_.contains(normalized);
}

bool CpioWriter::add_directory(std::string_view path, CpioMeta meta) {
    return add(path, kTypeDir, meta, {});
}

bool CpioWriter::add_file(std::string_view path, std::span<const uint8_t> data, CpioMeta meta) {
    return add(path, kTypeRegular, meta, std::vector<uint8_t>(data.begin(), data.end()));
}

bool CpioWriter::add_file(std::string_view path, std::string_view data, CpioMeta meta) {
    return add(path, kTypeRegular, meta, std::vector<uint8_t>(data.begin(), data.end()));
}

bool CpioWriter::add_symlink(std::string_view path, std::string_view target, CpioMeta meta) {
    if (target.empty() || target.size() >= 4096 || target.find('\0') != std::string_view::npos) {
        error_ = "bad symlink target for " + std::string(path);
        return false;
    }
    return add(path, kTypeSymlink, meta, std::vector<uint8_t>(target.begin(), target.end()));
}

bool CpioWriter::add_device(std::string_view path, bool block, uint32_t major, uint32_t minor,
                            CpioMeta meta) {
    return add(path, block ? kTypeBlock : kTypeChar, meta, {}, major, minor);
}

bool CpioWriter::add_fifo(std::string_view path, CpioMeta meta) {
    return add(path, kTypeFifo, meta, {});
}

bool CpioWriter::add_hard_link(std::string_view path, std::string_view existing) {
    std::string target;
    if (!normalize(existing, &target)) return false;
    auto it = index_.find(target);
    if (it == index_.end() || (entries_[it->second].mode & 0170000) != kTypeRegular) {
        error_ = "hard link to something that is not a file added before: " + target;
        return false;
    }
    size_t owner = entries_[it->second].inode;
    if (!add(path, entries_[owner].mode & 0170000, entries_[owner].meta, {})) return false;
    entries_.back().inode = owner;
    return true;
}

std::vector<uint8_t> CpioWriter::finish() {
    // Inode numbers from 1; hard links share their owner's number, and the data goes with
    // the last of them (as GNU cpio writes it).
    std::vector<uint32_t> links(entries_.size(), 0);
    std::vector<size_t> last_link(entries_.size(), 0);
    for (size_t i = 0; i < entries_.size(); ++i) {
        ++links[entries_[i].inode];
        last_link[entries_[i].inode] = i;
    }
    std::vector<uint8_t> out;
    for (size_t i = 0; i < entries_.size(); ++i) {
        const Entry& e = entries_[i];
        const Entry& owner = entries_[e.inode];
        bool is_dir = (e.mode & 0170000) == kTypeDir;
        uint32_t nlink = is_dir ? 2 : links[e.inode];
        static const std::vector<uint8_t> kNone;
        const std::vector<uint8_t>& body = last_link[e.inode] == i ? owner.data : kNone;
        put_header(out, e.path, uint32_t(e.inode + 1), owner.mode, owner.meta.uid, owner.meta.gid,
                   nlink, owner.meta.mtime, uint32_t(body.size()), owner.rdev_major,
                   owner.rdev_minor);
        out.insert(out.end(), body.begin(), body.end());
        pad4(out);
    }
    put_header(out, "TRAILER!!!", 0, 0, 0, 0, 1, 0, 0, 0, 0);
    entries_.clear();
    index_.clear();
    return out;
}

}  // namespace utx::minifs
