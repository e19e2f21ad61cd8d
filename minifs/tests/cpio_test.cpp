// minifs/tests/cpio_test.cpp: the newc writer and reader, round trips and hostile archives.
#include "minifs/cpio.h"

#include <map>

#include "minifs/cpio_writer.h"
#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

class CpioTest : public FsTest {
  protected:
    // Every inode below `dir` as "path mode uid:gid mtime nlink [size data | -> target | rdev]",
    // plus which paths share an inode.
    void list(Inode* dir, const std::string& prefix, std::map<std::string, std::string>* out,
              std::map<uint64_t, std::vector<std::string>>* inodes) {
        DirentInfo e;
        for (uint64_t c = 2; fs.dir_next(dir, c, &e) == 1; c = e.cookie) {
            std::string path = prefix + std::string(e.name.data, e.name.len);
            Inode* inode = *fs.lookup(dir, e.name);
            char line[200];
            snprintf(line, sizeof line, "%o %u:%u %lld %u", inode->mode, inode->uid, inode->gid,
                     (long long)(inode->mtime_ns / 1000000000), inode->nlink);
            std::string s = line;
            if (inode->is_regular()) s += " " + std::to_string(inode->size) + " " + contents(inode);
            if (inode->is_symlink()) s += " -> " + std::string(inode->link.target, inode->link.len);
            if (inode->type() == kTypeChar || inode->type() == kTypeBlock)
                s += " rdev " + std::to_string(inode->rdev);
            (*out)[path] = s;
            (*inodes)[inode->ino].push_back(path);
            if (inode->is_dir()) list(inode, path + "/", out, inodes);
        }
    }
    std::map<std::string, std::string> tree() {
        std::map<std::string, std::string> out;
        std::map<uint64_t, std::vector<std::string>> inodes;
        list(root(), "", &out, &inodes);
        return out;
    }
    int unpack_bytes(const std::vector<uint8_t>& image, UnpackError* error = nullptr) {
        return unpack(fs, root(), image.data(), image.size(), error);
    }
};

std::vector<uint8_t> sample_archive() {
    CpioWriter w;
    EXPECT_TRUE(w.add_directory("etc", {0755, 0, 0, 1000}));
    EXPECT_TRUE(w.add_file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", {0644, 0, 0, 1001}));
    EXPECT_TRUE(w.add_directory("home", {0755, 0, 0, 1002}));
    EXPECT_TRUE(w.add_directory("home/user", {0700, 1000, 100, 1003}));
    EXPECT_TRUE(w.add_file("home/user/.profile", "PS1='$ '\n", {0600, 1000, 100, 1004}));
    EXPECT_TRUE(w.add_file("bin/prog", std::string(10000, '\x7f'), {04755, 0, 0, 1005}));
    EXPECT_TRUE(w.add_symlink("bin/sh", "prog", {0777, 0, 0, 1006}));
    EXPECT_TRUE(w.add_symlink("/etc/mtab", "/proc/self/mounts", {0777, 0, 0, 1007}));
    EXPECT_TRUE(w.add_device("dev/null", false, 1, 3, {0666, 0, 0, 1008}));
    EXPECT_TRUE(w.add_device("dev/sda", true, 8, 0, {0660, 0, 6, 1009}));
    EXPECT_TRUE(w.add_fifo("dev/initctl", {0600, 0, 0, 1010}));
    EXPECT_TRUE(w.add_file("empty", "", {0644, 0, 0, 1011}));
    EXPECT_TRUE(w.add_hard_link("bin/prog-again", "bin/prog"));
    EXPECT_TRUE(w.add_hard_link("./etc/passwd.link", "/etc/passwd"));
    return w.finish();
}

TEST_F(CpioTest, RoundTrip) {
    std::vector<uint8_t> image = sample_archive();
    UnpackError error{};
    ASSERT_EQ(unpack_bytes(image, &error), 0) << error.reason << " at " << error.offset;
    std::map<std::string, std::string> expected = {
        {"etc", "40755 0:0 1000 2"},
        {"etc/passwd", "100644 0:0 1001 2 26 root:x:0:0::/root:/bin/sh\n"},
        {"etc/passwd.link", "100644 0:0 1001 2 26 root:x:0:0::/root:/bin/sh\n"},
        {"etc/mtab", "120777 0:0 1007 1 -> /proc/self/mounts"},
        {"home", "40755 0:0 1002 3"},
        {"home/user", "40700 1000:100 1003 2"},
        {"home/user/.profile", "100600 1000:100 1004 1 9 PS1='$ '\n"},
        {"bin", "40755 0:0 " + std::to_string(TestHeap::now / 1000000000) + " 2"},
        {"bin/prog", "104755 0:0 1005 2 10000 " + std::string(10000, '\x7f')},
        {"bin/prog-again", "104755 0:0 1005 2 10000 " + std::string(10000, '\x7f')},
        {"bin/sh", "120777 0:0 1006 1 -> prog"},
        {"dev", "40755 0:0 " + std::to_string(TestHeap::now / 1000000000) + " 2"},
        {"dev/null", "20666 0:0 1008 1 rdev 259"},
        {"dev/sda", "60660 0:6 1009 1 rdev 2048"},
        {"dev/initctl", "10600 0:0 1010 1"},
        {"empty", "100644 0:0 1011 1 0 "},
    };
    EXPECT_EQ(tree(), expected);
    EXPECT_EQ(get("bin/prog"), get("bin/prog-again"));
    EXPECT_EQ(get("etc/mtab", 0)->link.len, 17u);
}

TEST_F(CpioTest, ZeroPagesStayHoles) {
    CpioWriter w;
    std::string sparse(5 * 4096, '\0');
    sparse[2 * 4096 + 7] = 'x';
    sparse.back() = 'y';
    ASSERT_TRUE(w.add_file("sparse", sparse));
    ASSERT_TRUE(w.add_file("zeros", std::string(3 * 4096 + 1, '\0')));
    ASSERT_EQ(unpack_bytes(w.finish()), 0);
    EXPECT_EQ(contents(get("sparse")), sparse);
    EXPECT_EQ(get("zeros")->size, 3u * 4096 + 1);
    EXPECT_EQ(fs.stats().data_pages, 2u);
}

TEST_F(CpioTest, HardLinkDataOnTheFirstEntryToo) {
    // Some writers put the data on the first link instead of the last.
    CpioWriter w;
    ASSERT_TRUE(w.add_file("a", "shared"));
    ASSERT_TRUE(w.add_hard_link("b", "a"));
    ASSERT_TRUE(w.add_hard_link("c", "a"));
    std::vector<uint8_t> image = w.finish();
    ASSERT_EQ(unpack_bytes(image), 0);
    EXPECT_EQ(get("a"), get("c"));
    EXPECT_EQ(get("a")->nlink, 3u);
    EXPECT_EQ(contents(get("b")), "shared");
}

TEST_F(CpioTest, UnpackIntoASubdirectoryAndOverExistingEntries) {
    Inode* dest = mkdir("mnt");
    file("mnt/etc");  // a file where the archive has a directory: replaced
    mkdir("mnt/bin");
    file("mnt/bin/keep", "kept");
    file("mnt/empty", "old");
    std::vector<uint8_t> image = sample_archive();
    ASSERT_EQ(unpack(fs, dest, image.data(), image.size()), 0);
    EXPECT_TRUE(get("mnt/etc")->is_dir());
    EXPECT_EQ(contents(get("mnt/bin/keep")), "kept");  // a directory over a directory merges
    EXPECT_EQ(get("mnt/empty")->size, 0u);
    EXPECT_NE(get("mnt/bin/sh", 0), nullptr);
    EXPECT_EQ(get("etc"), nullptr);
}

TEST_F(CpioTest, DotEntrySetsTheDestinationsMetadata) {
    std::vector<uint8_t> image;
    CpioWriter w;
    ASSERT_TRUE(w.add_file("f", "x"));
    image = w.finish();
    // Prepend "." as a directory, 0700 owned by 5:6, by hand.
    char header[111];
    snprintf(header, sizeof header, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1,
             040700, 5, 6, 2, 77, 0, 0, 0, 0, 0, 2, 0);
    std::vector<uint8_t> dot(header, header + 110);
    dot.insert(dot.end(), {'.', 0});
    image.insert(image.begin(), dot.begin(), dot.end());
    ASSERT_EQ(unpack_bytes(image), 0);
    EXPECT_EQ(root()->mode, kTypeDir | 0700);
    EXPECT_EQ(root()->uid, 5u);
    EXPECT_EQ(root()->mtime_ns, 77ll * 1000000000);
}

TEST_F(CpioTest, WriterRejectsBadPaths) {
    CpioWriter w;
    EXPECT_FALSE(w.add_file("", "x"));
    EXPECT_FALSE(w.add_file("/", "x"));
    EXPECT_FALSE(w.add_file("a/../b", "x"));
    EXPECT_FALSE(w.add_file(std::string(256, 'n'), "x"));
    EXPECT_TRUE(w.add_file("a", "x"));
    EXPECT_FALSE(w.add_file("./a", "y"));
    EXPECT_NE(w.error().find("twice"), std::string::npos);
    EXPECT_FALSE(w.add_symlink("l", ""));
    EXPECT_FALSE(w.add_hard_link("h", "missing"));
    EXPECT_TRUE(w.add_directory("d"));
    EXPECT_FALSE(w.add_hard_link("h", "d"));
}

// What unpack() would refuse (found by fuzz/cpio_fuzz.cpp): the writer says so instead of
// writing an archive the kernel cannot unpack at boot.
TEST_F(CpioTest, WriterRejectsWhatTheReaderWould) {
    CpioWriter w;
    EXPECT_FALSE(w.add_file(std::string("a\0b", 3), "x"));
    EXPECT_NE(w.error().find("NUL"), std::string::npos);
    ASSERT_TRUE(w.add_file("f", "x"));
    EXPECT_FALSE(w.add_file("f/below", "y"));
    EXPECT_EQ(w.error(), "f is not a directory");
    ASSERT_TRUE(w.add_symlink("l", "d"));
    EXPECT_FALSE(w.add_directory("l/d"));
    ASSERT_TRUE(w.add_file("d/e/file", "z"));
    EXPECT_FALSE(w.add_file("d", "no"));
    EXPECT_FALSE(w.add_fifo("d/e"));
    EXPECT_NE(w.error().find("d/e/file"), std::string::npos);
    EXPECT_TRUE(w.add_directory("d/e"));  // a directory can come after its contents
    EXPECT_TRUE(w.add_directory("d"));
    // The reader stops at an entry of that name: what came after would be lost.
    EXPECT_FALSE(w.add_file("./TRAILER!!!", "end"));
    EXPECT_NE(w.error().find("ends the archive"), std::string::npos);
    EXPECT_TRUE(w.add_file("d/TRAILER!!!", "not at the top"));
    ASSERT_TRUE(w.add_file("last", "after it"));
    std::vector<uint8_t> image = w.finish();
    UnpackError error{};
    ASSERT_EQ(unpack_bytes(image, &error), 0) << error.reason;
    EXPECT_TRUE(tree()["last"].ends_with(" 8 after it")) << tree()["last"];
}

TEST_F(CpioTest, WriterFormat) {
    CpioWriter w;
    ASSERT_TRUE(w.add_file("ab", "xyz", {0640, 1, 2, 0x12345678}));
    std::vector<uint8_t> image = w.finish();
    std::string s(image.begin(), image.end());
    // Header: magic, ino 1, mode, uid, gid, nlink, mtime, size 3, devs, namesize 3, check.
    EXPECT_EQ(s.substr(0, 110),
              "070701"
              "00000001000081A0000000010000000200000001123456780000000300000000"
              "00000000000000000000000000000003"
              "00000000");
    EXPECT_EQ(s.substr(110, 6), std::string("ab\0\0\0\0", 6));  // header + name padded to 4
    EXPECT_EQ(s.substr(116, 4), std::string("xyz\0", 4));       // data padded to 4
    EXPECT_EQ(s.substr(120 + 6 + 8 * 11, 8), "0000000B");       // TRAILER!!! namesize
    EXPECT_EQ(s.substr(230, 11), std::string("TRAILER!!!\0", 11));
    EXPECT_EQ(image.size() % 4, 0u);
    EXPECT_TRUE(w.finish().size() == 124u);  // empty again: only the trailer
}

// --- Hostile archives. ---

std::vector<uint8_t> header(uint32_t mode, uint32_t namesize, uint32_t filesize,
                            const std::string& name, uint32_t nlink = 1, uint32_t ino = 1) {
    char h[111];
    snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode,
             0, 0, nlink, 0, filesize, 0, 0, 0, 0, namesize, 0);
    std::vector<uint8_t> out(h, h + 110);
    out.insert(out.end(), name.begin(), name.end());
    while (out.size() % 4) out.push_back(0);
    return out;
}

std::vector<uint8_t> entry(uint32_t mode, const std::string& name, const std::string& data,
                           uint32_t nlink = 1, uint32_t ino = 1) {
    std::string nul_name = name + '\0';
    std::vector<uint8_t> out =
        header(mode, uint32_t(nul_name.size()), uint32_t(data.size()), nul_name, nlink, ino);
    out.insert(out.end(), data.begin(), data.end());
    while (out.size() % 4) out.push_back(0);
    return out;
}

std::vector<uint8_t> trailer() {
    return entry(0, "TRAILER!!!", "");
}

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

TEST_F(CpioTest, EveryTruncationIsAnErrorAndNeverACrash) {
    std::vector<uint8_t> image = sample_archive();
    for (size_t len = 0; len < image.size(); ++len) {
        Fs scratch;
        ASSERT_EQ(scratch.init(test_config()), 0);
        // A copy of exactly len bytes, so that ASan sees any read past the end.
        std::vector<uint8_t> cut(image.begin(), image.begin() + len);
        UnpackError error{};
        int r = unpack(scratch, scratch.root(), cut.data(), cut.size(), &error);
        // Only the trailer's padding is optional.
        if (len + 3 >= image.size()) {
            EXPECT_EQ(r, 0) << len;
        } else {
            EXPECT_EQ(r, -kEINVAL) << "cut at " << len;
        }
        EXPECT_LE(error.offset, len);
        scratch.destroy();
    }
}

TEST_F(CpioTest, MalformedHeaders) {
    struct Case {
        const char* what;
        std::vector<uint8_t> image;
        const char* reason;
    };
    std::vector<uint8_t> bad_magic = cat({entry(0100644, "f", "x"), trailer()});
    bad_magic[5] = '2';  // 070702: the crc format
    std::vector<uint8_t> bad_hex = cat({entry(0100644, "f", "x"), trailer()});
    bad_hex[20] = 'g';
    std::vector<uint8_t> no_nul = cat({header(0100644, 2, 0, "ab"), trailer()});
    std::vector<uint8_t> nul_inside =
        cat({header(0100644, 4, 0, std::string("a\0b\0", 4)), trailer()});
    std::vector<uint8_t> zero_name = cat({header(0100644, 0, 0, ""), trailer()});
    std::vector<uint8_t> huge_name = cat({header(0100644, 0xffffffff, 0, "f"), trailer()});
    std::vector<uint8_t> huge_data =
        cat({header(0100644, 2, 0xffffffff, std::string("f\0", 2)), trailer()});
    std::vector<uint8_t> data_past_end = cat({header(0100644, 2, 100, std::string("f\0", 2))});
    std::vector<Case> cases = {
        {"empty", {}, "no TRAILER!!!"},
        {"bad magic", bad_magic, "bad magic (not a cpio newc archive)"},
        {"not hex", bad_hex, "bad header field (not hex)"},
        {"no NUL", no_nul, "name without NUL"},
        {"NUL inside", nul_inside, "NUL inside a name"},
        {"zero namesize", zero_name, "empty name"},
        {"huge namesize", huge_name, "truncated name"},
        {"huge filesize", huge_data, "data past the end"},
        {"data past end", data_past_end, "data past the end"},
        {"no trailer", entry(0100644, "f", "x"), "no TRAILER!!!"},
        {"garbage", std::vector<uint8_t>(300, 'x'), "bad magic (not a cpio newc archive)"},
    };
    for (const Case& c : cases) {
        UnpackError error{};
        EXPECT_EQ(unpack_bytes(c.image, &error), -kEINVAL) << c.what;
        EXPECT_STREQ(error.reason, c.reason) << c.what;
    }
}

TEST_F(CpioTest, EscapesAreRejected) {
    struct Case {
        const char* name;
        int error;
    };
    for (Case c : {Case{"../evil", -kEINVAL}, Case{"a/../../evil", -kEINVAL},
                   Case{"/etc/evil", -kEINVAL}, Case{"a/..", -kEINVAL}}) {
        UnpackError error{};
        EXPECT_EQ(unpack_bytes(cat({entry(0100644, c.name, "x"), trailer()}), &error), c.error)
            << c.name;
    }
    EXPECT_EQ(get("evil"), nullptr);
    // No symlink is followed while unpacking: a link to a directory is not a parent.
    mkdir("target");
    UnpackError error{};
    EXPECT_EQ(unpack_bytes(
                  cat({entry(0120777, "link", "target"), entry(0100644, "link/f", "x"), trailer()}),
                  &error),
              -kENOTDIR);
    EXPECT_EQ(get("target/f"), nullptr);
}

TEST_F(CpioTest, BadEntries) {
    EXPECT_EQ(unpack_bytes(cat({entry(0170644, "weird", ""), trailer()})), -kEINVAL);
    EXPECT_EQ(unpack_bytes(cat({entry(0120777, "l", ""), trailer()})), -kEINVAL);
    EXPECT_EQ(unpack_bytes(cat({entry(0120777, "l", std::string("a\0b", 3)), trailer()})),
              -kEINVAL);
    EXPECT_EQ(unpack_bytes(cat({entry(0120777, "l", std::string(4096, 'a')), trailer()})),
              -kEINVAL);
    EXPECT_EQ(unpack_bytes(cat({entry(0100644, std::string(256, 'n'), ""), trailer()})),
              -kENAMETOOLONG);
    EXPECT_EQ(unpack_bytes(cat({entry(0100644, ".", ""), trailer()})), -kEINVAL);
    // A non-empty directory cannot be replaced by a file.
    mkdir("full");
    file("full/x");
    EXPECT_EQ(unpack_bytes(cat({entry(0100644, "full", ""), trailer()})), -kENOTEMPTY);
    EXPECT_NE(get("full/x"), nullptr);
    // Entries before the bad one stay.
    EXPECT_EQ(
        unpack_bytes(cat({entry(0100644, "first", "1"), entry(0170000, "bad", ""), trailer()})),
        -kEINVAL);
    EXPECT_EQ(contents(get("first")), "1");
}

TEST_F(CpioTest, HardLinksToTheWrongTypeOrAReplacedInodeBecomeNewFiles) {
    std::vector<uint8_t> image = cat({
        entry(0100644, "a", "data-a", 2, 7),
        entry(0100644, "a", "replaced", 1, 8),  // a name reused: the first inode loses it
        entry(0100644, "b", "data-b", 2, 7),    // links to an inode without names: new file
        entry(0020644, "c", "", 2, 9),
        entry(0060644, "d", "", 2, 9),  // same number, other type: new node
        trailer(),
    });
    ASSERT_EQ(unpack_bytes(image), 0);
    EXPECT_EQ(contents(get("a")), "replaced");
    EXPECT_EQ(contents(get("b")), "data-b");
    EXPECT_NE(get("a"), get("b"));
    EXPECT_NE(get("c"), get("d"));
    EXPECT_EQ(get("d")->type(), kTypeBlock);
}

TEST_F(CpioTest, PaddingAfterTheTrailerIsIgnored) {
    std::vector<uint8_t> image = sample_archive();
    image.resize(image.size() + 512, 0);
    EXPECT_EQ(unpack_bytes(image), 0);
}

TEST_F(CpioTest, RunningOutOfSpaceIsEnospc) {
    fs.destroy();
    ASSERT_EQ(fs.init(test_config(16 * 1024)), 0);
    CpioWriter w;
    ASSERT_TRUE(w.add_file("big", std::string(64 * 1024, 'b')));
    std::vector<uint8_t> image = w.finish();
    EXPECT_EQ(unpack_bytes(image), -kENOSPC);
    EXPECT_LE(fs.stats().used_bytes, 16u * 1024);
}

TEST_F(CpioTest, RandomCorruptionNeverCrashes) {
    std::vector<uint8_t> image = sample_archive();
    uint64_t seed = 12345;
    auto rnd = [&] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return uint32_t(seed >> 33);
    };
    for (int round = 0; round < 300; ++round) {
        std::vector<uint8_t> copy = image;
        for (int flips = 1 + rnd() % 4; flips > 0; --flips) {
            size_t at = rnd() % copy.size();
            copy[at] = rnd() % 3 == 0 ? uint8_t("0123456789abcdef/."[rnd() % 18]) : uint8_t(rnd());
        }
        Fs scratch;
        ASSERT_EQ(scratch.init(test_config(1 << 20)), 0);
        int r = unpack(scratch, scratch.root(), copy.data(), copy.size());
        EXPECT_LE(r, 0);
        scratch.destroy();
    }
}

}  // namespace
}  // namespace utx::minifs::testing
