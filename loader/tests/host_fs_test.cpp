// loader/tests/host_fs_test.cpp: the VMM's side of host mounts, driven directly with the
// requests the guest kernel sends: paths stay beneath the mount, :ro refuses writes, handles
// are checked, and bad requests get errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <vector>
#include <filesystem>
#include <fstream>
#include <string>

#include "abi/hypercall.h"
#include "loader/host_fs.h"

namespace utx::loader {
namespace {

namespace fs = std::filesystem;

class HostFsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/utx-hostfs-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        base = tmpl;
        fs::create_directories(base / "root" / "sub");
        write(base / "secret", "secret");
        write(base / "root" / "file", "inside");
        fs::create_symlink("../secret", base / "root" / "rel");
        fs::create_symlink(base / "secret", base / "root" / "abs");
        fs::create_symlink("/file", base / "root" / "rooted");
        std::string error;
        ASSERT_TRUE(host.add({(base / "root").string(), "/m", false}, error)) << error;
        ASSERT_TRUE(host.add({(base / "root").string(), "/ro", true}, error)) << error;
    }
    void TearDown() override { fs::remove_all(base); }

    static void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
    static std::string read(const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    // A request: args[0..4], then up to three buffers (b1, b2, b3).
    int64_t call(uint64_t op, uint64_t target, uint64_t a2 = 0, uint64_t a3 = 0,
                 std::string p1 = {}, std::string p2 = {}, void* out = nullptr,
                 size_t out_len = 0) {
        iovec iov[3];
        uint32_t n = 0, n1 = 0, n2 = 0;
        std::string s1 = p1 + '\0', s2 = p2 + '\0';
        if (!p1.empty() || op != abi::kFsClose) iov[n++] = {s1.data(), s1.size()}, n1 = 1;
        if (!p2.empty()) iov[n++] = {s2.data(), s2.size()}, n2 = 1;
        if (out) iov[n++] = {out, out_len};
        const uint64_t args[6] = {op, target, a2, a3, 0, n1 | n2 << 8};
        uint64_t result[1] = {};
        return host.handle(args, iov, n, result);
    }
    int64_t open(uint32_t mount, const std::string& path, uint64_t flags, uint64_t mode = 0644) {
        struct stat st;
        char where[256];
        iovec iov[3];
        std::string s = path + '\0';
        iov[0] = {s.data(), s.size()};
        iov[1] = {where, sizeof where};
        iov[2] = {&st, sizeof st};
        const uint64_t args[6] = {abi::kFsOpen, mount, flags, mode, 0, 1 | 1 << 8};
        uint64_t result[1] = {};
        return host.handle(args, iov, 3, result);
    }
    int64_t stat_mode(uint32_t mount, const std::string& path, bool follow = true) {
        struct stat st;
        int64_t r = call(abi::kFsStat, mount, follow, 0, path, {}, &st, sizeof st);
        return r < 0 ? r : st.st_mode & S_IFMT;
    }

    fs::path base;
    HostFs host;
};

TEST_F(HostFsTest, ParsesMountSpecs) {
    MountSpec spec;
    std::string error;
    ASSERT_TRUE(parse_mount_spec("/srv/data:/data/", spec, error));
    EXPECT_EQ(spec.host, "/srv/data");
    EXPECT_EQ(spec.guest, "/data");
    EXPECT_FALSE(spec.read_only);
    ASSERT_TRUE(parse_mount_spec("/srv//data:/a//b/", spec, error));
    EXPECT_EQ(spec.guest, "/a/b");
    ASSERT_TRUE(parse_mount_spec("a:b:/x:ro", spec, error));
    EXPECT_EQ(spec.host, "a:b");
    EXPECT_TRUE(spec.read_only);
    EXPECT_FALSE(parse_mount_spec("/srv", spec, error));
    EXPECT_FALSE(parse_mount_spec("/srv:data", spec, error));
    EXPECT_FALSE(parse_mount_spec("/srv:/", spec, error));
    EXPECT_FALSE(parse_mount_spec("/srv:/a/../b", spec, error));
    EXPECT_FALSE(parse_mount_spec(":/x", spec, error));
}

TEST_F(HostFsTest, RefusesBadMounts) {
    HostFs other;
    std::string error;
    EXPECT_FALSE(other.add({(base / "missing").string(), "/x", false}, error));
    EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
    EXPECT_FALSE(host.add({(base / "root").string(), "/m/inner", false}, error));
    EXPECT_NE(error.find("nested"), std::string::npos) << error;
}

TEST_F(HostFsTest, PathsStayBeneathTheRoot) {
    EXPECT_EQ(stat_mode(0, "file"), S_IFREG);
    EXPECT_EQ(stat_mode(0, "../secret"), -ENOENT);
    EXPECT_EQ(stat_mode(0, "sub/../../../secret"), -ENOENT);
    EXPECT_EQ(stat_mode(0, "rel"), -ENOENT);
    EXPECT_EQ(stat_mode(0, "abs"), -ENOENT);
    EXPECT_EQ(stat_mode(0, "rooted"), S_IFREG);  // "/file" from the mount's root
    EXPECT_EQ(stat_mode(0, "abs", false), S_IFLNK);
    EXPECT_EQ(stat_mode(0, "/proc/self/root/etc/passwd"), -ENOENT);
    EXPECT_EQ(open(0, "../secret", O_RDONLY), -ENOENT);
    EXPECT_EQ(open(0, "abs", O_RDONLY), -ENOENT);
    // A dangling symlink out, followed by O_CREAT, creates inside.
    ASSERT_EQ(call(abi::kFsSymlink, 0, 0, 0, "out", "../created"), 0);
    int64_t h = open(0, "out", O_CREAT | O_WRONLY);
    ASSERT_GE(h, 0);
    EXPECT_EQ(call(abi::kFsClose, uint64_t(h)), 0);
    EXPECT_TRUE(fs::exists(base / "root" / "created"));
    EXPECT_FALSE(fs::exists(base / "created"));
    // Following a link out for link(2), chmod, truncate: nothing outside changes.
    EXPECT_EQ(call(abi::kFsLink, 0, 1, 0, "abs", "hard"), -ENOENT);
    EXPECT_EQ(call(abi::kFsChmod, 0, 0777, 0, "abs"), -ENOENT);
    EXPECT_EQ(call(abi::kFsTruncate, 0, 0, 0, "rel"), -ENOENT);
    EXPECT_EQ(read(base / "secret"), "secret");
    // Operations on "." and ".." as a last component never touch the root's parent.
    EXPECT_EQ(call(abi::kFsUnlink, 0, AT_REMOVEDIR, 0, ".."), -ENOTEMPTY);
    EXPECT_EQ(call(abi::kFsRename, 0, 0, 0, "..", "x"), -EBUSY);
    EXPECT_EQ(call(abi::kFsMkdir, 0, 0755, 0, ".."), -EEXIST);
    EXPECT_TRUE(fs::exists(base / "root"));
}

TEST_F(HostFsTest, ReadOnlyMountsRefuseWrites) {
    EXPECT_EQ(open(1, "file", O_WRONLY), -EROFS);
    EXPECT_EQ(open(1, "file", O_RDONLY | O_TRUNC), -EROFS);
    EXPECT_EQ(open(1, "new", O_CREAT | O_WRONLY), -EROFS);
    EXPECT_EQ(open(1, "missing/new", O_CREAT | O_WRONLY), -ENOENT);
    EXPECT_EQ(open(1, "file", O_CREAT | O_EXCL | O_WRONLY), -EEXIST);
    EXPECT_EQ(open(1, "sub", O_WRONLY), -EISDIR);
    int64_t h = open(1, "file", O_RDONLY | O_CREAT);
    ASSERT_GE(h, 0);
    EXPECT_EQ(call(abi::kFsFchmod, uint64_t(h), 0600), -EROFS);
    EXPECT_EQ(call(abi::kFsClose, uint64_t(h)), 0);
    EXPECT_EQ(call(abi::kFsMkdir, 1, 0755, 0, "d"), -EROFS);
    EXPECT_EQ(call(abi::kFsMkdir, 1, 0755, 0, "sub"), -EEXIST);
    EXPECT_EQ(call(abi::kFsUnlink, 1, 0, 0, "file"), -EROFS);
    EXPECT_EQ(call(abi::kFsRename, 1, 0, 0, "file", "other"), -EROFS);
    EXPECT_EQ(call(abi::kFsSymlink, 1, 0, 0, "l", "file"), -EROFS);
    EXPECT_EQ(call(abi::kFsChmod, 1, 0600, 0, "file"), -EROFS);
    EXPECT_EQ(call(abi::kFsTruncate, 1, 0, 0, "file"), -EROFS);
    EXPECT_EQ(call(abi::kFsTruncate, 1, 0, 0, "sub"), -EISDIR);
    EXPECT_EQ(call(abi::kFsAccess, 1, W_OK, 1, "file"), -EROFS);
    EXPECT_EQ(call(abi::kFsAccess, 1, R_OK, 1, "file"), 0);
    EXPECT_EQ(read(base / "root" / "file"), "inside");
}

TEST_F(HostFsTest, HandlesReadWriteAndClose) {
    int64_t h = open(0, "file", O_RDWR | O_APPEND);
    ASSERT_GE(h, 0);
    char buf[16] = {};
    iovec io = {buf, sizeof buf};
    uint64_t args[6] = {abi::kFsRead, uint64_t(h), uint64_t(-1), 0, 0, 0};
    uint64_t out[1];
    EXPECT_EQ(host.handle(args, &io, 1, out), 6);
    EXPECT_EQ(std::string(buf, 6), "inside");
    char more[] = "+more";
    io = {more, 5};
    args[0] = abi::kFsWrite;
    EXPECT_EQ(host.handle(args, &io, 1, out), 5);
    EXPECT_EQ(read(base / "root" / "file"), "inside+more");
    EXPECT_EQ(call(abi::kFsClose, uint64_t(h)), 0);
    EXPECT_EQ(call(abi::kFsClose, uint64_t(h)), -EBADF);
    EXPECT_EQ(call(abi::kFsFstat, 12345), -EBADF);
    EXPECT_EQ(call(abi::kFsStat, 7, 1, 0, "file"), -ENODEV);  // no such mount
    // FIFOs would block the VMM: not opened.
    ASSERT_EQ(mkfifo((base / "root" / "fifo").c_str(), 0600), 0);
    EXPECT_EQ(open(0, "fifo", O_RDONLY), -ENXIO);
}

TEST_F(HostFsTest, HandlesAreBounded) {
    int64_t last = 0;
    for (size_t i = 0; i <= HostFs::kMaxHandles && last >= 0; ++i) last = open(0, "file", O_RDONLY);
    EXPECT_EQ(last, -ENFILE);
}

// Random requests over random short paths (with "..", symlinks made on the way, absolute
// targets): whatever they do inside the mount, nothing outside it changes or appears.
TEST_F(HostFsTest, RandomRequestsStayInside) {
    std::mt19937_64 rng(4242);
    auto pick = [&](uint64_t n) { return rng() % n; };
    const char* parts[] = {"a", "b", "sub", "..", ".", "rel", "abs", "", "/", "secret", "root"};
    auto path = [&] {
        std::string p;
        for (uint64_t i = 0, n = pick(5); i < n; ++i) {
            if (i) p += '/';
            p += parts[pick(std::size(parts))];
        }
        return p;
    };
    std::vector<int64_t> handles;
    char out[512];
    for (int iter = 0; iter < 4000; ++iter) {
        const uint64_t op = 1 + pick(abi::kFsMknod);
        uint64_t target = pick(3);  // mounts 0, 1 and one that does not exist
        if (op >= abi::kFsClose && op <= abi::kFsFutimens)
            target = handles.empty() || pick(8) == 0 ? rng() : uint64_t(handles[pick(handles.size())]);
        const uint64_t a2 = pick(4) == 0 ? rng() : pick(0x1000), a3 = pick(4) == 0 ? rng() : pick(4);
        if (op == abi::kFsOpen) {
            int64_t h = open(uint32_t(target), path(), a2 & ~uint64_t(O_NONBLOCK), 0644);
            if (h >= 0) handles.push_back(h);
            continue;
        }
        if (op == abi::kFsRead || op == abi::kFsWrite) {
            iovec io = {out, pick(sizeof out)};
            uint64_t args[6] = {op, target, pick(2) ? uint64_t(-1) : pick(4096), 0, 0, 0};
            uint64_t result[1];
            host.handle(args, &io, 1, result);
            continue;
        }
        call(op, target, a2, a3, path(), pick(2) ? path() : (pick(2) ? "/" + path() : ""), out,
             pick(2) ? sizeof out : 0);
    }
    for (int64_t h : handles) call(abi::kFsClose, uint64_t(h));
    EXPECT_EQ(read(base / "secret"), "secret");
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(base)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"root", "secret"}));
}

}  // namespace
}  // namespace utx::loader
