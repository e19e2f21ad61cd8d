// fuzz/cpio_fuzz.cpp: the cpio newc image, both ends. The first input byte picks one of:
//  - an arbitrary archive unpacked into minifs (the kernel's reader, minifs/cpio.cpp):
//    never a crash, an out-of-bounds read or a leak, a consistent tree afterwards;
//  - a round trip: entries chosen by the input written with CpioWriter (minifs/cpio_writer.cpp)
//    and unpacked: whatever the writer accepts, the reader takes, and every entry comes out
//    as it went in (type, permissions, owner, mtime, data, link target, device, hard links);
//  - utx-run's root image (loader/root_image.cpp) for a program path, program bytes, owner
//    and mount points chosen by the input: an error is one line, an image unpacks and holds
//    the program and the mount points (utx-run's fail() prints any error on one line).
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "loader/root_image.h"
#include "minifs/cpio.h"
#include "minifs/cpio_writer.h"
#include "minifs/fuzz/fuzz_support.h"
#include "minifs/path.h"

using namespace utx;
using minifs::fuzz::Heap;

namespace {

constexpr uint64_t kBudget = 64 << 20;

// An Fs for one input, checked and torn down (nothing leaked) at the end.
struct CheckedFs {
    minifs::Fs fs;
    CheckedFs() { FUZZ_CHECK(fs.init(minifs::fuzz::config(kBudget)) == 0); }
    ~CheckedFs() {
        minifs::fuzz::check_invariants(fs);
        fs.destroy();
        FUZZ_CHECK(Heap::live == 0);
    }
    minifs::Inode* find(const std::string& path) {
        minifs::PathContext ctx{fs.root(), minifs::Cred{}, false};
        minifs::Result<minifs::Inode*> r =
            minifs::resolve(fs, ctx, fs.root(), minifs::Name(path.c_str()), 0);
        return r.ok() ? *r : nullptr;
    }
    std::string contents(minifs::Inode* inode) {
        std::string out(inode->size, '\0');
        FUZZ_CHECK(fs.read(inode, 0, out.data(), out.size()) == int64_t(out.size()));
        return out;
    }
};

void unpack_arbitrary(const uint8_t* data, size_t size) {
    CheckedFs c;
    minifs::UnpackError error{};
    const int r = minifs::unpack(c.fs, c.fs.root(), data, size, &error);
    FUZZ_CHECK(r <= 0);
    if (r < 0) FUZZ_CHECK(error.offset <= size && error.reason != nullptr && *error.reason != 0);
}

// A path from a small alphabet, so that entries collide, nest and go wrong often.
std::string path_from(FuzzedDataProvider& in) {
    static const std::string kLong(255, 'n');
    static const char* const kPrefixes[] = {"", "", "/", "./", "//"};
    std::string path = kPrefixes[in.ConsumeIntegralInRange<size_t>(0, 4)];
    const int components = in.ConsumeIntegralInRange(1, 3);
    for (int i = 0; i < components; ++i) {
        if (i > 0) path += in.ConsumeBool() ? "/" : "//";
        switch (in.ConsumeIntegralInRange(0, 10)) {
            case 0:
                path += ".";
                break;
            case 1:
                path += "..";
                break;
            case 2:
                path += kLong;
                break;
            case 3:
                path += kLong + "x";
                break;
            case 4:
                path += in.ConsumeRandomLengthString(8);
                break;
            case 5:
                path += "TRAILER!!!";  // the reader's end of the archive
                break;
            default:
                path += char('a' + in.ConsumeIntegralInRange(0, 3));
                break;
        }
    }
    return path;
}

// What CpioWriter makes of a path ("" when it refuses it), as its header says.
std::string normalized(const std::string& path) {
    std::string out;
    if (path.find('\0') != std::string::npos) return "";
    size_t i = 0;
    while (i <= path.size()) {
        size_t end = std::min(path.find('/', i), path.size());
        std::string part = path.substr(i, end - i);
        i = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == ".." || part.size() > 255) return "";
        out += (out.empty() ? "" : "/") + part;
    }
    return out.size() >= 4096 ? "" : out;
}

std::vector<uint8_t> file_data(FuzzedDataProvider& in) {
    std::string head = in.ConsumeRandomLengthString(64);
    std::vector<uint8_t> data(head.begin(), head.end());
    // Whole zero pages become holes on the way in: make some.
    if (in.ConsumeBool()) data.resize(data.size() + in.ConsumeIntegralInRange<size_t>(0, 3 * 4096));
    std::string tail = in.ConsumeRandomLengthString(16);
    data.insert(data.end(), tail.begin(), tail.end());
    return data;
}

struct Expected {
    uint32_t type;
    minifs::CpioMeta meta;
    std::vector<uint8_t> data;  // files: contents; symlinks: target
    uint64_t rdev = 0;
    std::string owner;  // hard links: the name of the file they are another name for
};

void round_trip(FuzzedDataProvider& in) {
    minifs::CpioWriter writer;
    std::map<std::string, Expected> expected;
    std::vector<std::string> files;
    const int count = in.ConsumeIntegralInRange(0, 24);
    for (int i = 0; i < count && in.remaining_bytes() > 0; ++i) {
        const std::string path = path_from(in);
        minifs::CpioMeta meta{in.ConsumeIntegral<uint32_t>(), in.ConsumeIntegral<uint32_t>(),
                              in.ConsumeIntegral<uint32_t>(), in.ConsumeIntegral<uint32_t>()};
        Expected e{0, meta, {}};
        bool ok = false;
        switch (in.ConsumeIntegralInRange(0, 5)) {
            case 0:
                e.type = minifs::kTypeDir;
                ok = writer.add_directory(path, meta);
                break;
            case 1:
                e.type = minifs::kTypeRegular;
                e.data = file_data(in);
                ok = writer.add_file(path, e.data, meta);
                break;
            case 2: {
                e.type = minifs::kTypeSymlink;
                const std::string target = in.ConsumeRandomLengthString(32);
                e.data.assign(target.begin(), target.end());
                ok = writer.add_symlink(path, target, meta);
                break;
            }
            case 3: {
                const bool block = in.ConsumeBool();
                const uint32_t major = in.ConsumeIntegral<uint32_t>(),
                               minor = in.ConsumeIntegral<uint32_t>();
                e.type = block ? minifs::kTypeBlock : minifs::kTypeChar;
                e.rdev = minifs::make_dev(major, minor);
                ok = writer.add_device(path, block, major, minor, meta);
                break;
            }
            case 4:
                e.type = minifs::kTypeFifo;
                ok = writer.add_fifo(path, meta);
                break;
            case 5: {
                const std::string existing =
                    files.empty() || in.ConsumeBool()
                        ? path_from(in)
                        : files[in.ConsumeIntegralInRange<size_t>(0, files.size() - 1)];
                e.type = minifs::kTypeRegular;
                e.owner = normalized(existing);
                ok = writer.add_hard_link(path, existing);
                if (ok) {
                    FUZZ_CHECK(expected.count(e.owner));
                    const Expected& first = expected[e.owner];
                    e.owner = first.owner.empty() ? e.owner : first.owner;
                    e.meta = first.meta;
                }
                break;
            }
        }
        if (!ok) {
            FUZZ_CHECK(!writer.error().empty());  // it names the path, newlines and all
            continue;
        }
        const std::string name = normalized(path);
        FUZZ_CHECK(!name.empty() && !expected.count(name) && writer.contains(path));
        if (e.type == minifs::kTypeRegular && e.owner.empty()) files.push_back(name);
        expected[name] = std::move(e);
    }
    const std::vector<uint8_t> image = writer.finish();

    CheckedFs c;
    minifs::UnpackError error{};
    const int r = minifs::unpack(c.fs, c.fs.root(), image.data(), image.size(), &error);
    if (r != 0) {
        std::fprintf(stderr, "the reader refused what the writer wrote: %s at offset %lu (%d)\n",
                     error.reason, (unsigned long)error.offset, r);
        std::abort();
    }
    std::map<minifs::Inode*, uint32_t> names;
    for (const auto& [name, e] : expected) {
        minifs::Inode* inode = c.find(name);
        FUZZ_CHECK(inode != nullptr);
        ++names[inode];
        FUZZ_CHECK(inode->type() == e.type);
        const minifs::CpioMeta& meta = e.meta;
        // Symlinks keep 0777 (Linux has no lchmod); uid/gid ~0 mean "unchanged" to chown,
        // which leaves the owner a new inode got (a set-group-ID parent's group).
        if (e.type != minifs::kTypeSymlink)
            FUZZ_CHECK((inode->mode & 07777) == (meta.perm & 07777));
        if (meta.uid != ~0u) FUZZ_CHECK(inode->uid == meta.uid);
        if (meta.gid != ~0u) FUZZ_CHECK(inode->gid == meta.gid);
        FUZZ_CHECK(inode->mtime_ns == int64_t(meta.mtime) * 1000000000);
        if (!e.owner.empty()) {
            FUZZ_CHECK(c.find(e.owner) == inode);
        } else if (e.type == minifs::kTypeRegular) {
            const std::string got = c.contents(inode);
            FUZZ_CHECK(got.size() == e.data.size() &&
                       (got.empty() || memcmp(got.data(), e.data.data(), got.size()) == 0));
        } else if (e.type == minifs::kTypeSymlink) {
            const minifs::Name target = c.fs.symlink_target(inode);
            FUZZ_CHECK(target.len == e.data.size() &&
                       memcmp(target.data, e.data.data(), target.len) == 0);
        } else if (e.type == minifs::kTypeChar || e.type == minifs::kTypeBlock) {
            FUZZ_CHECK(inode->rdev == e.rdev);
        }
    }
    for (const auto& [inode, n] : names)
        if (!inode->is_dir()) FUZZ_CHECK(inode->nlink == n);
}

// A small host tree for --copy: a file, a hard link to it, a symlink and a directory.
// Made once, removed at exit (the name outlives static destructors, which run first).
const std::string& copy_source() {
    static const std::string* const dir = [] {
        const char* tmpdir = getenv("TMPDIR");
        std::string d = std::string(tmpdir ? tmpdir : "/tmp") + "/utx-fuzz-copy.XXXXXX";
        FUZZ_CHECK(mkdtemp(d.data()) != nullptr);
        FILE* f = std::fopen((d + "/file").c_str(), "w");
        FUZZ_CHECK(f != nullptr);
        std::fputs("data\n", f);
        std::fclose(f);
        FUZZ_CHECK(link((d + "/file").c_str(), (d + "/hard").c_str()) == 0);
        FUZZ_CHECK(symlink("file", (d + "/link").c_str()) == 0);
        FUZZ_CHECK(mkdir((d + "/sub").c_str(), 0700) == 0);
        std::atexit([] { (void)!std::system(("rm -rf " + copy_source()).c_str()); });
        return new std::string(d);
    }();
    return *dir;
}

void root_image(FuzzedDataProvider& in) {
    loader::RootImageRequest req;
    req.exec_path = path_from(in);
    const std::string program = in.ConsumeRandomLengthString(256);
    req.program = std::span(reinterpret_cast<const uint8_t*>(program.data()), program.size());
    req.program_mode = in.ConsumeIntegral<uint32_t>();
    req.uid = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint32_t>();
    req.gid = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint32_t>();
    req.vcpus = in.ConsumeIntegralInRange<uint32_t>(1, 300);
    if (in.ConsumeBool()) req.copies.push_back({copy_source(), path_from(in)});
    const int mounts = in.ConsumeIntegralInRange(0, 3);
    for (int i = 0; i < mounts; ++i) req.mount_points.push_back({path_from(in), in.ConsumeBool()});

    std::vector<uint8_t> image;
    std::string error;
    if (!loader::build_root_image(req, image, error)) {
        FUZZ_CHECK(!error.empty());  // utx-run prints it on one line
        return;
    }
    CheckedFs c;
    minifs::UnpackError unpack_error{};
    const int r = minifs::unpack(c.fs, c.fs.root(), image.data(), image.size(), &unpack_error);
    if (r != 0) {
        std::fprintf(stderr,
                     "the kernel would refuse utx-run's root image: %s at offset %lu (%d)\n",
                     unpack_error.reason, (unsigned long)unpack_error.offset, r);
        std::abort();
    }
    minifs::Inode* prog = c.find(normalized(req.exec_path));
    FUZZ_CHECK(prog != nullptr && prog->is_regular());
    FUZZ_CHECK((prog->mode & 07777) == (req.program_mode & 07777));
    const std::string got = c.contents(prog);
    FUZZ_CHECK(got == program);
    for (const loader::MountPoint& mp : req.mount_points) FUZZ_CHECK(c.find(normalized(mp.guest)));
    FUZZ_CHECK(c.find("etc/passwd") && c.find("dev/null") && c.find("tmp"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    FuzzedDataProvider in(data + 1, size - 1);
    switch (data[0] % 3) {
        case 0:
            unpack_arbitrary(data + 1, size - 1);
            break;
        case 1:
            round_trip(in);
            break;
        case 2:
            root_image(in);
            break;
    }
    return 0;
}
