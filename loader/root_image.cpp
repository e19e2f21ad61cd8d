#include "loader/root_image.h"

#include <pwd.h>
#include <grp.h>
#include <sys/stat.h>

#include <ctime>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <utility>

#include "minifs/cpio_writer.h"

namespace utx::loader {
namespace {

namespace fs = std::filesystem;
using minifs::CpioMeta;
using minifs::CpioWriter;

std::string account_lines(uint32_t uid, uint32_t gid, std::string& group_lines) {
    std::string passwd = "root:x:0:0:root:/root:/bin/sh\n";
    group_lines = "root:x:0:\n";
    if (uid != 0) {
        std::string name = "user", home = "/home/user";
        if (const struct passwd* pw = getpwuid(uid)) {
            name = pw->pw_name;
            home = pw->pw_dir;
        }
        passwd += name + ":x:" + std::to_string(uid) + ":" + std::to_string(gid) + ":" + name +
                  ":" + home + ":/bin/sh\n";
    }
    if (gid != 0) {
        std::string name = "users";
        if (const struct group* gr = getgrgid(gid)) name = gr->gr_name;
        group_lines += name + ":x:" + std::to_string(gid) + ":\n";
    }
    passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    group_lines += "nogroup:x:65534:\n";
    return passwd;
}

std::string read_host_text(const char* path, const std::string& fallback) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fallback;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool add_synthetic(CpioWriter& w, const RootImageRequest& req) {
    std::string groups;
    const std::string passwd = account_lines(req.uid, req.gid, groups);
    std::string cpus = req.vcpus > 1 ? "0-" + std::to_string(req.vcpus - 1) + "\n" : "0\n";
    // Made now, as a freshly booted system's files are.
    const uint32_t now = uint32_t(time(nullptr));
    const CpioMeta sticky{01777, 0, 0, now}, dir{0755, 0, 0, now}, private_dir{0700, 0, 0, now},
        proc{0555, 0, 0, now}, file{0644, 0, 0, now}, device{0666, 0, 0, now},
        link{0777, 0, 0, now}, readonly{0444, 0, 0, now};
    return w.add_directory("etc", dir) && w.add_file("etc/passwd", passwd, file) &&
           w.add_file("etc/group", groups, file) &&
           w.add_file("etc/hosts",
                      "127.0.0.1\tlocalhost\n127.0.1.1\tutx\n::1\tlocalhost ip6-localhost "
                      "ip6-loopback\n",
                      file) &&
           w.add_file("etc/hostname", "utx\n", file) &&
           w.add_file("etc/resolv.conf",
                      read_host_text("/etc/resolv.conf", "nameserver 127.0.0.1\n"), file) &&
           w.add_file("etc/nsswitch.conf",
                      "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n", file) &&
           w.add_directory("dev", dir) && w.add_device("dev/null", false, 1, 3, device) &&
           w.add_device("dev/zero", false, 1, 5, device) &&
           w.add_device("dev/full", false, 1, 7, device) &&
           w.add_device("dev/random", false, 1, 8, device) &&
           w.add_device("dev/urandom", false, 1, 9, device) &&
           w.add_device("dev/tty", false, 5, 0, device) &&
           w.add_symlink("dev/stdin", "/proc/self/fd/0", link) &&
           w.add_symlink("dev/stdout", "/proc/self/fd/1", link) &&
           w.add_symlink("dev/stderr", "/proc/self/fd/2", link) &&
           w.add_symlink("dev/fd", "/proc/self/fd", link) && w.add_directory("dev/shm", sticky) &&
           w.add_directory("tmp", sticky) && w.add_directory("root", private_dir) &&
           w.add_directory("proc", proc) &&
           w.add_file("sys/devices/system/cpu/online", cpus, readonly) &&
           w.add_file("sys/devices/system/cpu/possible", cpus, readonly);
}

// Host files with more than one name, by (st_dev, st_ino): the guest path of the first
// name copied, so that the others become hard links to it there too (st_nlink, du, cp -a
// and tar see the same inode as on the host).
using HardLinks = std::map<std::pair<dev_t, ino_t>, std::string>;

bool add_host_path(CpioWriter& w, const fs::path& host, const std::string& guest,
                   const RootImageRequest& req, HardLinks& links, std::string& error) {
    std::error_code ec;
    auto status = fs::symlink_status(host, ec);
    if (ec) {
        error = "--copy: " + host.string() + ": " + ec.message();
        return false;
    }
    struct stat st;
    if (lstat(host.c_str(), &st) != 0) {
        error = "--copy: " + host.string() + ": cannot stat";
        return false;
    }
    // Copies belong to the user running the program, as the files it shares did on the host.
    const CpioMeta meta{uint32_t(st.st_mode & 07777), req.uid, req.gid, uint32_t(st.st_mtime)};
    bool ok = true;
    if (fs::is_symlink(status)) {
        ok = w.add_symlink(guest, fs::read_symlink(host, ec).string(), meta);
    } else if (fs::is_directory(status)) {
        ok = w.add_directory(guest, meta);
        for (const auto& entry : fs::directory_iterator(host, ec)) {
            if (!ok) break;
            ok = add_host_path(w, entry.path(), guest + "/" + entry.path().filename().string(),
                               req, links, error);
            if (!ok && !error.empty()) return false;
        }
        if (ec) {
            error = "--copy: " + host.string() + ": " + ec.message();
            return false;
        }
    } else if (fs::is_regular_file(status) && st.st_nlink > 1 &&
               links.contains({st.st_dev, st.st_ino})) {
        ok = w.add_hard_link(guest, links[{st.st_dev, st.st_ino}]);
    } else if (fs::is_regular_file(status)) {
        if (st.st_nlink > 1) links[{st.st_dev, st.st_ino}] = guest;
        std::ifstream in(host, std::ios::binary);
        if (!in) {
            error = "--copy: " + host.string() + ": cannot read";
            return false;
        }
        std::string data(std::istreambuf_iterator<char>(in), {});
        ok = w.add_file(guest, data, meta);
    } else {
        error = "--copy: " + host.string() + ": not a regular file, directory or symlink";
        return false;
    }
    if (!ok) error = "--copy: " + guest + ": " + w.error();
    return ok;
}

}  // namespace

bool parse_copy_spec(const std::string& text, CopySpec& spec, std::string& error) {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size() ||
        text[colon + 1] != '/') {
        error = "invalid --copy '" + text + "' (expected HOST:/GUEST/PATH)";
        return false;
    }
    spec.host = text.substr(0, colon);
    spec.guest = text.substr(colon + 1);
    return true;
}

bool build_root_image(const RootImageRequest& req, std::vector<uint8_t>& image,
                      std::string& error) {
    CpioWriter w;
    if (!add_synthetic(w, req)) {
        error = "root image: " + w.error();
        return false;
    }
    HardLinks links;  // across all the copies, as one cpio archive of them all would be
    for (const auto& copy : req.copies)
        if (!add_host_path(w, copy.host, copy.guest, req, links, error)) return false;
    if (!w.add_file(req.exec_path, req.program, CpioMeta{req.program_mode & 07777, req.uid, req.gid})) {
        error = "root image: " + req.exec_path + ": " + w.error();
        return false;
    }
    // Mount points last, where nothing else put an entry already (e.g. -v DIR:/tmp).
    for (const auto& mp : req.mount_points) {
        if (w.contains(mp.guest)) continue;
        const CpioMeta meta{mp.directory ? 0755u : 0644u, req.uid, req.gid};
        bool ok = mp.directory ? w.add_directory(mp.guest, meta) : w.add_file(mp.guest, "", meta);
        if (!ok) {
            error = "-v " + mp.guest + ": " + w.error();
            return false;
        }
    }
    image = w.finish();
    return true;
}

}  // namespace utx::loader
