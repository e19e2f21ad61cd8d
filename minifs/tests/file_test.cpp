// minifs/tests/file_test.cpp: file data: holes, sparse accounting, truncate, allocate.
#include <algorithm>

#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

using FileTest = FsTest;

TEST_F(FileTest, WriteThenReadAcrossPages) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    std::string data;
    for (int i = 0; i < 10000; ++i) data.push_back(char('a' + i % 26));
    ASSERT_EQ(fs.write(f, 100, data.data(), data.size()), int64_t(data.size()));
    EXPECT_EQ(f->size, 10100u);
    std::string back(10100, 'z');
    ASSERT_EQ(fs.read(f, 0, back.data(), back.size()), 10100);
    EXPECT_EQ(back.substr(0, 100), std::string(100, '\0'));
    EXPECT_EQ(back.substr(100), data);
    // Reads stop at the end of the file.
    char buf[64];
    EXPECT_EQ(fs.read(f, 10090, buf, sizeof buf), 10);
    EXPECT_EQ(fs.read(f, 10100, buf, sizeof buf), 0);
    EXPECT_EQ(fs.read(f, 1ull << 62, buf, sizeof buf), 0);
    EXPECT_EQ(fs.stats().data_pages, 3u);
}

TEST_F(FileTest, OverwriteInPlaceKeepsTheSize) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    ASSERT_EQ(fs.write(f, 0, "hello world", 11), 11);
    ASSERT_EQ(fs.write(f, 6, "WORLD", 5), 5);
    EXPECT_EQ(contents(f), "hello WORLD");
    ASSERT_EQ(fs.write(f, 0, "", 0), 0);
    EXPECT_EQ(f->size, 11u);
}

TEST_F(FileTest, WriteAtOneGibCostsOnePage) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    FsStats before = fs.stats();
    ASSERT_EQ(fs.write(f, 1ull << 30, "x", 1), 1);
    FsStats after = fs.stats();
    EXPECT_EQ(f->size, (1ull << 30) + 1);
    EXPECT_EQ(after.data_pages - before.data_pages, 1u);
    // The index above it: a few 512-byte nodes, far less than a page per level of 4 KiB.
    EXPECT_LE(after.metadata_bytes - before.metadata_bytes, 4u * 512);
    Stat st;
    fs.stat(f, &st);
    EXPECT_EQ(st.blocks, 8u);
    // Holes read as zeros, wherever they are.
    char buf[4096];
    memset(buf, 1, sizeof buf);
    ASSERT_EQ(fs.read(f, 12345678, buf, sizeof buf), int64_t(sizeof buf));
    EXPECT_EQ(std::string(buf, sizeof buf), std::string(sizeof buf, '\0'));
    char tail[2] = {1, 1};
    ASSERT_EQ(fs.read(f, (1ull << 30) - 1, tail, 2), 2);
    EXPECT_EQ(tail[0], 0);
    EXPECT_EQ(tail[1], 'x');
    ASSERT_EQ(fs.truncate(f, 0), 0);
    EXPECT_EQ(fs.stats().used_bytes, before.used_bytes);
}

TEST_F(FileTest, HugeOffsetsAndEfbig) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    uint64_t last = kMaxFileSize - 1;
    ASSERT_EQ(fs.write(f, last, "y", 1), 1);
    EXPECT_EQ(f->size, kMaxFileSize);
    EXPECT_EQ(fs.write(f, kMaxFileSize, "y", 1), -kEFBIG);
    EXPECT_EQ(fs.write(f, last, "yz", 2), 1);  // clipped at the limit
    char c = 0;
    ASSERT_EQ(fs.read(f, last, &c, 1), 1);
    EXPECT_EQ(c, 'y');
    EXPECT_EQ(fs.stats().data_pages, 1u);
    EXPECT_EQ(fs.truncate(f, kMaxFileSize + 1), -kEFBIG);
    ASSERT_EQ(fs.write(f, 0, "a", 1), 1);
    EXPECT_EQ(fs.stats().data_pages, 2u);
    ASSERT_EQ(fs.truncate(f, 1), 0);
    EXPECT_EQ(fs.stats().data_pages, 1u);
    EXPECT_EQ(contents(f), "a");
}

TEST_F(FileTest, TruncateShrinksFreesAndZeroesTheTail) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    std::string data(3 * 4096, 'q');
    ASSERT_EQ(fs.write(f, 0, data.data(), data.size()), int64_t(data.size()));
    EXPECT_EQ(fs.stats().data_pages, 3u);
    ASSERT_EQ(fs.truncate(f, 5000), 0);
    EXPECT_EQ(fs.stats().data_pages, 2u);
    EXPECT_EQ(f->size, 5000u);
    // Growing again shows zeros past the old end, not the old bytes.
    ASSERT_EQ(fs.truncate(f, 9000), 0);
    EXPECT_EQ(fs.stats().data_pages, 2u);
    std::string back = contents(f);
    EXPECT_EQ(back.substr(0, 5000), std::string(5000, 'q'));
    EXPECT_EQ(back.substr(5000), std::string(4000, '\0'));
    ASSERT_EQ(fs.truncate(f, 0), 0);
    EXPECT_EQ(fs.stats().data_pages, 0u);
    EXPECT_EQ(f->file.height, 0);
}

TEST_F(FileTest, WritePastTheEndLeavesZerosBetween) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    ASSERT_EQ(fs.write(f, 0, "abcdef", 6), 6);
    ASSERT_EQ(fs.truncate(f, 2), 0);
    ASSERT_EQ(fs.write(f, 10, "z", 1), 1);
    EXPECT_EQ(contents(f), std::string("ab\0\0\0\0\0\0\0\0z", 11));
}

TEST_F(FileTest, BytesPastTheEndOfAMappedPageDoNotShow) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    ASSERT_EQ(fs.write(f, 0, "abc", 3), 3);
    auto* page = static_cast<char*>(fs.page_at(f, 0));
    ASSERT_NE(page, nullptr);
    page[10] = 'X';  // a shared mapping scribbling past the end of the file
    ASSERT_EQ(fs.truncate(f, 20), 0);
    EXPECT_EQ(contents(f), std::string("abc") + std::string(17, '\0'));
}

TEST_F(FileTest, GrowingTruncateIsSparse) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    ASSERT_EQ(fs.truncate(f, 1ull << 40), 0);
    EXPECT_EQ(f->size, 1ull << 40);
    EXPECT_EQ(fs.stats().data_pages, 0u);
    char buf[100];
    memset(buf, 7, sizeof buf);
    EXPECT_EQ(fs.read(f, 1ull << 39, buf, sizeof buf), 100);
    EXPECT_EQ(std::string(buf, 100), std::string(100, '\0'));
}

TEST_F(FileTest, ManyScatteredPagesThenShrinkFreesTheIndex) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    uint64_t base_meta = fs.stats().metadata_bytes;
    for (uint64_t i = 0; i < 200; ++i) {
        uint64_t off = i * 7919 * 4096 + i;
        ASSERT_EQ(fs.write(f, off, &i, sizeof i), int64_t(sizeof i));
    }
    EXPECT_EQ(fs.stats().data_pages, 200u);
    for (uint64_t i = 0; i < 200; ++i) {
        uint64_t v = ~0ull;
        ASSERT_EQ(fs.read(f, i * 7919 * 4096 + i, &v, sizeof v), int64_t(sizeof v));
        EXPECT_EQ(v, i);
    }
    ASSERT_EQ(fs.truncate(f, 100ull * 7919 * 4096), 0);
    EXPECT_EQ(fs.stats().data_pages, 100u);
    ASSERT_EQ(fs.truncate(f, 4096), 0);
    EXPECT_EQ(fs.stats().data_pages, 1u);
    EXPECT_EQ(fs.stats().metadata_bytes, base_meta);  // back to height 0: no index nodes
}

TEST_F(FileTest, ReadAndWriteNeedARegularFile) {
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    Inode* l = *fs.symlink(root(), "l", "d", {});
    Inode* c = *fs.mknod(root(), "c", kTypeChar | 0666, make_dev(1, 3), {});
    char buf[4];
    EXPECT_EQ(fs.read(d, 0, buf, 4), -kEISDIR);
    EXPECT_EQ(fs.write(d, 0, buf, 4), -kEISDIR);
    EXPECT_EQ(fs.truncate(d, 0), -kEISDIR);
    EXPECT_EQ(fs.read(l, 0, buf, 4), -kEINVAL);
    EXPECT_EQ(fs.write(c, 0, buf, 4), -kEINVAL);
    EXPECT_EQ(fs.truncate(c, 0), -kEINVAL);
    EXPECT_EQ(fs.page_at(d, 0), nullptr);
    EXPECT_EQ(fs.page_for_write(d, 0).error(), -kEISDIR);
}

TEST_F(FileTest, WritesUpdateMtimeAndReadsAtime) {
    TestHeap::now = 100;
    Inode* f = *fs.create(root(), "f", 0644, {});
    TestHeap::now = 200;
    ASSERT_EQ(fs.write(f, 0, "a", 1), 1);
    EXPECT_EQ(f->mtime_ns, 200);
    EXPECT_EQ(f->ctime_ns, 200);
    EXPECT_EQ(f->atime_ns, 100);
    TestHeap::now = 300;
    char c;
    ASSERT_EQ(fs.read(f, 0, &c, 1), 1);
    EXPECT_EQ(f->atime_ns, 300);
    TestHeap::now = 400;  // relatime: atime is newer than mtime, and not a day old
    ASSERT_EQ(fs.read(f, 0, &c, 1), 1);
    EXPECT_EQ(f->atime_ns, 300);
    TestHeap::now = 300 + 86400ull * 1000000000;
    ASSERT_EQ(fs.read(f, 0, &c, 1), 1);
    EXPECT_EQ(f->atime_ns, int64_t(TestHeap::now));
    TestHeap::now = 1'000'000'000'000'000'000ull;
}

TEST_F(FileTest, AllocateBacksPagesAndMaybeTheSize) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    ASSERT_EQ(fs.allocate(f, 4096, 3 * 4096, true), 0);
    EXPECT_EQ(fs.stats().data_pages, 3u);
    EXPECT_EQ(f->size, 0u);
    ASSERT_EQ(fs.allocate(f, 100, 10, false), 0);
    EXPECT_EQ(fs.stats().data_pages, 4u);
    EXPECT_EQ(f->size, 110u);
    EXPECT_EQ(contents(f), std::string(110, '\0'));
    EXPECT_EQ(fs.allocate(f, 0, 0, false), -kEINVAL);
    EXPECT_EQ(fs.allocate(f, kMaxFileSize, 1, false), -kEFBIG);
}

TEST_F(FileTest, PunchHoleZeroesTheEdgesAndFreesWholePages) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    std::string data(5 * 4096, 'x');
    ASSERT_EQ(fs.write(f, 0, data.data(), data.size()), int64_t(data.size()));
    ASSERT_EQ(fs.stats().data_pages, 5u);
    // [100, 3*4096+10): the head of page 0 and the tail of page 3 stay, pages 1 and 2 go.
    ASSERT_EQ(fs.punch_hole(f, 100, 3 * 4096 - 90), 0);
    EXPECT_EQ(fs.stats().data_pages, 3u);
    EXPECT_EQ(f->size, data.size());
    std::string expect = data;
    std::fill(expect.begin() + 100, expect.begin() + 3 * 4096 + 10, '\0');
    EXPECT_EQ(contents(f), expect);
    // Within one page: only the bytes, the page stays.
    ASSERT_EQ(fs.punch_hole(f, 4 * 4096 + 1, 2), 0);
    EXPECT_EQ(fs.stats().data_pages, 3u);
    expect[4 * 4096 + 1] = expect[4 * 4096 + 2] = '\0';
    EXPECT_EQ(contents(f), expect);
    // Pages past the end that allocate() made, and holes, are no trouble.
    ASSERT_EQ(fs.allocate(f, 8 * 4096, 2 * 4096, true), 0);
    EXPECT_EQ(fs.stats().data_pages, 5u);
    ASSERT_EQ(fs.punch_hole(f, 6 * 4096, 10 * 4096), 0);
    EXPECT_EQ(fs.stats().data_pages, 3u);
    EXPECT_EQ(f->size, data.size());
    EXPECT_EQ(fs.punch_hole(f, 0, 0), -kEINVAL);
    EXPECT_EQ(fs.punch_hole(f, kMaxFileSize, 1), -kEFBIG);
    Inode* d = *fs.mkdir(root(), "d", 0755, {});
    EXPECT_EQ(fs.punch_hole(d, 0, 1), -kEISDIR);
}

TEST_F(FileTest, TheEmbedderHearsOfPagesBeforeTheyGo) {
    struct Call {
        Inode* inode;
        uint64_t first, end;
    };
    static std::vector<Call> calls;
    calls.clear();
    fs.destroy();
    Config config = test_config();
    config.releasing_pages = [](Inode* inode, uint64_t first, uint64_t end) {
        calls.push_back({inode, first, end});
    };
    ASSERT_EQ(fs.init(config), 0);
    Inode* f = *fs.create(root(), "f", 0644, {});
    std::string data(4 * 4096, 'x');
    ASSERT_EQ(fs.write(f, 0, data.data(), data.size()), int64_t(data.size()));
    ASSERT_EQ(fs.punch_hole(f, 100, 4096 + 4000), 0);  // page 1 only is whole
    ASSERT_EQ(fs.punch_hole(f, 0, 10), 0);              // no whole page: nothing goes
    ASSERT_EQ(fs.truncate(f, 5000), 0);                 // pages 2 and up
    ASSERT_EQ(fs.truncate(f, 9000), 0);                 // growing frees nothing
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].inode, f);
    EXPECT_EQ(calls[0].first, 1u);
    EXPECT_EQ(calls[0].end, 2u);
    EXPECT_EQ(calls[1].first, 2u);
    EXPECT_EQ(calls[1].end, ~0ull);
}

TEST_F(FileTest, PagesForMappings) {
    Inode* f = *fs.create(root(), "f", 0644, {});
    EXPECT_EQ(fs.page_at(f, 5), nullptr);
    Result<void*> p = fs.page_for_write(f, 5);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(fs.page_at(f, 5), *p);
    EXPECT_EQ(f->size, 0u);  // a mapping does not change the size
    memcpy(*p, "mapped", 6);
    ASSERT_EQ(fs.truncate(f, 5 * 4096 + 6), 0);
    char buf[6];
    ASSERT_EQ(fs.read(f, 5 * 4096, buf, 6), 6);
    EXPECT_EQ(std::string(buf, 6), "mapped");
    EXPECT_EQ(fs.page_for_write(f, kMaxFileSize / 4096 + 1).error(), -kEFBIG);
}

}  // namespace
}  // namespace utx::minifs::testing
