// minifs/tests/space_test.cpp: the byte budget and allocator failures: -ENOSPC, and a
// consistent file system afterwards.
#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

class SpaceTest : public FsTest {
  protected:
    uint64_t budget() const override { return 64 * 1024; }
};

TEST_F(SpaceTest, WritesStopAtTheBudgetAndKeepWhatFits) {
    Inode* f = file("f");
    FsStats s = fs.stats();
    EXPECT_LE(s.used_bytes, s.budget_bytes);
    std::string big(100 * 1024, 'b');
    int64_t n = fs.write(f, 0, big.data(), big.size());
    ASSERT_GT(n, 0);
    ASSERT_LT(n, int64_t(big.size()));
    EXPECT_EQ(n % 4096, 0);
    EXPECT_EQ(f->size, uint64_t(n));
    EXPECT_LE(fs.stats().used_bytes, fs.stats().budget_bytes);
    EXPECT_EQ(fs.write(f, uint64_t(n), "x", 1), -kENOSPC);
    EXPECT_EQ(f->size, uint64_t(n));  // unchanged by the failure
    EXPECT_EQ(contents(f), big.substr(0, n));
    // Names and other files are refused too, with nothing left behind.
    uint64_t inodes = fs.stats().inodes;
    int failures = 0;
    for (int i = 0; i < 200; ++i) {
        Result<Inode*> r = fs.create(root(), ("n" + std::to_string(i)).c_str(), 0644, {});
        if (!r.ok()) {
            EXPECT_EQ(r.error(), -kENOSPC);
            ++failures;
        }
    }
    EXPECT_GT(failures, 0);
    EXPECT_EQ(fs.stats().inodes, inodes + 200 - failures);
    EXPECT_EQ(names(root()).size(), size_t(1 + 200 - failures));
    // Freeing space makes room again.
    ASSERT_EQ(fs.truncate(f, 0), 0);
    EXPECT_EQ(fs.write(f, 0, big.data(), 8192), 8192);
    EXPECT_TRUE(fs.create(root(), "after", 0644, {}).ok());
}

TEST_F(SpaceTest, SparseWriteFailsWholeWhenTheIndexDoesNotFit) {
    Inode* f = file("f");
    std::string fill(64 * 1024, 'f');
    int64_t n = fs.write(f, 0, fill.data(), fill.size());
    ASSERT_GT(n, 0);
    ASSERT_EQ(fs.truncate(f, uint64_t(n) - 4096), 0);  // one page free, no room for nodes
    Inode* g = *fs.lookup(root(), "f");
    uint64_t used = fs.stats().used_bytes;
    EXPECT_EQ(fs.write(g, 1ull << 40, "x", 1), -kENOSPC);
    EXPECT_EQ(fs.stats().used_bytes, used);  // the index nodes made on the way are gone
    EXPECT_EQ(g->file.height, 1);
    EXPECT_EQ(g->size, uint64_t(n) - 4096);
    char c = 1;
    EXPECT_EQ(fs.read(g, 0, &c, 1), 1);
    EXPECT_EQ(c, 'f');
}

TEST_F(SpaceTest, RenameAndLinkAtTheBudget) {
    Inode* a = mkdir("a");
    Inode* f = file("a/f", "x");
    file("a/victim", "y");
    std::string fill(64 * 1024, 'f');
    Inode* filler = file("filler");
    (void)fs.write(filler, 0, fill.data(), fill.size());
    // Fill the last bytes with names of one length until no more fit.
    int links = 0;
    int r;
    while ((r = fs.link(root(), ("link-" + std::to_string(1000 + links)).c_str(), f)) == 0) ++links;
    EXPECT_EQ(r, -kENOSPC);
    EXPECT_EQ(f->nlink, 1u + links);
    EXPECT_EQ(fs.rename(a, "f", root(), "link-9999", 0), -kENOSPC);
    EXPECT_EQ(get("a/f"), f);
    EXPECT_EQ(get("link-9999"), nullptr);
    // Replacing an existing name reuses its entry, so it works even now.
    EXPECT_EQ(fs.rename(a, "f", a, "victim", 0), 0);
    EXPECT_EQ(get("a/victim"), f);
    EXPECT_EQ(fs.rename(root(), "filler", a, "victim", kRenameExchange), 0);
}

// Every allocation of a mixed workload fails in turn; each run must end in a state
// that is consistent (reads back what the successful calls did) and frees everything.
TEST(SpaceFaultInjection, EveryAllocationFailureIsClean) {
    int64_t allocs = TestHeap::live_allocs, pages = TestHeap::live_pages;
    for (int64_t fail_at = 0; fail_at < 120; ++fail_at) {
        Fs fs;
        ASSERT_EQ(fs.init(test_config()), 0);
        PathContext ctx{fs.root(), Cred{}, true};
        TestHeap::fail_after = fail_at;
        auto ok_or_nospc = [&](int r) { EXPECT_TRUE(r >= 0 || r == -kENOSPC) << r; };
        Result<Inode*> d = mkdir_at(fs, ctx, fs.root(), "d", 0755);
        ok_or_nospc(d.error());
        for (int i = 0; i < 20; ++i) {
            std::string p = "d/f" + std::to_string(i);
            Result<OpenResult> f = open_at(fs, ctx, fs.root(), Name(p.c_str()), kOpenCreate, 0644);
            if (!f.ok()) {
                EXPECT_TRUE(f.error() == -kENOSPC || (!d.ok() && f.error() == -kENOENT));
                continue;
            }
            uint64_t off = uint64_t(i) << (i % 2 ? 12 : 30);
            int64_t n = fs.write((*f).inode, off, p.data(), p.size());
            ok_or_nospc(int(n));
            if (n > 0) {
                std::string back(p.size(), '\0');
                EXPECT_EQ(fs.read((*f).inode, off, back.data(), back.size()), n);
                EXPECT_EQ(back, p);
            } else {
                EXPECT_EQ((*f).inode->size, 0u);
            }
            ok_or_nospc(symlink_at(fs, ctx, Name(p.c_str()), fs.root(),
                                   Name(("l" + std::to_string(i)).c_str()))
                            .error());
            ok_or_nospc(rename_at(fs, ctx, fs.root(), Name(p.c_str()), fs.root(),
                                  Name(("m" + std::to_string(i)).c_str()), 0));
        }
        TestHeap::fail_after = -1;
        // Whatever exists can be listed and looked up.
        DirentInfo e;
        for (uint64_t c = 0; fs.dir_next(fs.root(), c, &e) == 1; c = e.cookie)
            EXPECT_TRUE(fs.lookup(fs.root(), e.name).ok());
        fs.destroy();
        EXPECT_EQ(TestHeap::live_allocs, allocs) << "fail_at " << fail_at;
        EXPECT_EQ(TestHeap::live_pages, pages) << "fail_at " << fail_at;
    }
}

TEST(SpaceInit, InitFailsCleanlyWithoutRoomForTheRoot) {
    Fs fs;
    EXPECT_EQ(fs.init(test_config(10)), -kENOSPC);
    TestHeap::fail_after = 0;
    EXPECT_EQ(fs.init(test_config()), -kENOSPC);
    TestHeap::fail_after = -1;
    fs.destroy();
}

}  // namespace
}  // namespace utx::minifs::testing
