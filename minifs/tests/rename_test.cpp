// minifs/tests/rename_test.cpp: rename's matrix of sources, targets and flags.
#include "minifs/tests/test_support.h"

namespace utx::minifs::testing {
namespace {

class RenameTest : public FsTest {
  protected:
    void SetUp() override {
        FsTest::SetUp();
        a = mkdir("a");
        b = mkdir("b");
        f = file("a/f", "eff");
        g = file("b/g", "gee");
        e = mkdir("b/empty");
        full = mkdir("b/full");
        file("b/full/x");
    }
    int rn(Inode* od, const char* on, Inode* nd, const char* nn, unsigned flags = 0) {
        return fs.rename(od, on, nd, nn, flags);
    }
    Inode *a, *b, *f, *g, *e, *full;
};

TEST_F(RenameTest, FileToNewNameInSameDirectory) {
    ASSERT_EQ(rn(a, "f", a, "f2"), 0);
    EXPECT_EQ(get("a/f"), nullptr);
    EXPECT_EQ(get("a/f2"), f);
    EXPECT_EQ(f->nlink, 1u);
}

TEST_F(RenameTest, FileAcrossDirectories) {
    ASSERT_EQ(rn(a, "f", b, "f"), 0);
    EXPECT_EQ(get("b/f"), f);
    EXPECT_EQ(names(a), std::vector<std::string>{});
}

TEST_F(RenameTest, FileOverFileReplacesAndFreesTheTarget) {
    uint64_t inodes = fs.stats().inodes;
    ASSERT_EQ(rn(a, "f", b, "g"), 0);
    EXPECT_EQ(get("b/g"), f);
    EXPECT_EQ(contents(f), "eff");
    EXPECT_EQ(fs.stats().inodes, inodes - 1);
}

TEST_F(RenameTest, FileOverAnOpenFileKeepsItReadable) {
    fs.ref(g);
    ASSERT_EQ(rn(a, "f", b, "g"), 0);
    EXPECT_EQ(g->nlink, 0u);
    EXPECT_EQ(contents(g), "gee");
    fs.unref(g);
}

TEST_F(RenameTest, FileOverAHardLinkedFileKeepsTheOtherName) {
    ASSERT_EQ(fs.link(a, "g2", g), 0);
    ASSERT_EQ(rn(a, "f", b, "g"), 0);
    EXPECT_EQ(g->nlink, 1u);
    EXPECT_EQ(get("a/g2"), g);
}

TEST_F(RenameTest, TwoNamesOfOneInodeIsANoOp) {
    ASSERT_EQ(fs.link(b, "f_too", f), 0);
    ASSERT_EQ(rn(a, "f", b, "f_too"), 0);
    EXPECT_EQ(get("a/f"), f);
    EXPECT_EQ(get("b/f_too"), f);
    EXPECT_EQ(f->nlink, 2u);
    ASSERT_EQ(rn(a, "f", a, "f"), 0);
    EXPECT_EQ(get("a/f"), f);
}

TEST_F(RenameTest, DirectoryAcrossParentsMovesItsLinkCount) {
    Inode* d = mkdir("a/d");
    EXPECT_EQ(a->nlink, 3u);
    EXPECT_EQ(b->nlink, 4u);
    ASSERT_EQ(rn(a, "d", b, "d"), 0);
    EXPECT_EQ(a->nlink, 2u);
    EXPECT_EQ(b->nlink, 5u);
    EXPECT_EQ(*fs.lookup(d, ".."), b);
    EXPECT_EQ(get("b/d/.."), b);
}

TEST_F(RenameTest, DirectoryOverEmptyDirectory) {
    Inode* d = mkdir("a/d");
    file("a/d/inside");
    ASSERT_EQ(rn(a, "d", b, "empty"), 0);
    EXPECT_EQ(get("b/empty"), d);
    EXPECT_NE(get("b/empty/inside"), nullptr);
    EXPECT_EQ(a->nlink, 2u);
    EXPECT_EQ(b->nlink, 4u);  // empty went, d came
    EXPECT_EQ(*fs.lookup(d, ".."), b);
}

TEST_F(RenameTest, DirectoryOverEmptyDirectoryInTheSameParent) {
    Inode* d = mkdir("b/d");
    EXPECT_EQ(b->nlink, 5u);
    ASSERT_EQ(rn(b, "d", b, "empty"), 0);
    EXPECT_EQ(b->nlink, 4u);
    EXPECT_EQ(get("b/empty"), d);
}

TEST_F(RenameTest, MismatchesAndNonEmptyTargets) {
    EXPECT_EQ(rn(b, "empty", b, "g"), -kENOTDIR);
    EXPECT_EQ(rn(a, "f", b, "empty"), -kEISDIR);
    EXPECT_EQ(rn(b, "empty", b, "full"), -kENOTEMPTY);
    EXPECT_EQ(rn(a, "missing", b, "x"), -kENOENT);
    EXPECT_EQ(rn(f, "x", b, "x"), -kENOTDIR);
    EXPECT_EQ(rn(a, "f", g, "x"), -kENOTDIR);
    // Nothing moved.
    EXPECT_EQ(get("a/f"), f);
    EXPECT_EQ(get("b/g"), g);
    EXPECT_EQ(get("b/empty"), e);
}

TEST_F(RenameTest, DirectoryIntoItsOwnSubtreeIsEinval) {
    Inode* d = mkdir("a/d");
    mkdir("a/d/sub");
    Inode* sub = get("a/d/sub");
    EXPECT_EQ(rn(a, "d", sub, "d"), -kEINVAL);
    EXPECT_EQ(rn(a, "d", d, "d"), -kEINVAL);
    EXPECT_EQ(rn(root(), "a", sub, "x"), -kEINVAL);
    // Onto an ancestor: the ancestor is not empty.
    EXPECT_EQ(rn(sub, "..", root(), "a"), -kEBUSY);
    EXPECT_EQ(rn(d, "sub", root(), "a"), -kENOTEMPTY);
}

TEST_F(RenameTest, DotAndDotDotAreBusy) {
    EXPECT_EQ(rn(a, ".", b, "x"), -kEBUSY);
    EXPECT_EQ(rn(a, "..", b, "x"), -kEBUSY);
    EXPECT_EQ(rn(a, "f", b, "."), -kEBUSY);
    EXPECT_EQ(rn(a, "f", b, ".."), -kEBUSY);
}

TEST_F(RenameTest, BadFlags) {
    EXPECT_EQ(rn(a, "f", b, "x", kRenameNoReplace | kRenameExchange), -kEINVAL);
    EXPECT_EQ(rn(a, "f", b, "x", 4), -kEINVAL);
}

TEST_F(RenameTest, NoReplace) {
    EXPECT_EQ(rn(a, "f", b, "g", kRenameNoReplace), -kEEXIST);
    EXPECT_EQ(get("b/g"), g);
    ASSERT_EQ(rn(a, "f", b, "new", kRenameNoReplace), 0);
    EXPECT_EQ(get("b/new"), f);
}

TEST_F(RenameTest, ExchangeFiles) {
    ASSERT_EQ(rn(a, "f", b, "g", kRenameExchange), 0);
    EXPECT_EQ(get("a/f"), g);
    EXPECT_EQ(get("b/g"), f);
    EXPECT_EQ(f->nlink, 1u);
    EXPECT_EQ(g->nlink, 1u);
    EXPECT_EQ(rn(a, "f", b, "nothing", kRenameExchange), -kENOENT);
}

TEST_F(RenameTest, ExchangeFileAndDirectoryAcrossParents) {
    EXPECT_EQ(a->nlink, 2u);
    EXPECT_EQ(b->nlink, 4u);
    ASSERT_EQ(rn(a, "f", b, "full", kRenameExchange), 0);
    EXPECT_EQ(get("a/f"), full);
    EXPECT_EQ(get("b/full"), f);
    EXPECT_EQ(a->nlink, 3u);
    EXPECT_EQ(b->nlink, 3u);
    EXPECT_EQ(*fs.lookup(full, ".."), a);
    EXPECT_NE(get("a/f/x"), nullptr);
}

TEST_F(RenameTest, ExchangeWithAnAncestorIsEinval) {
    Inode* d = mkdir("a/d");
    EXPECT_EQ(rn(d, "..", root(), "b", kRenameExchange), -kEBUSY);
    EXPECT_EQ(rn(root(), "a", d, "x", kRenameExchange), -kENOENT);
    file("a/d/x");
    EXPECT_EQ(rn(root(), "a", d, "x", kRenameExchange), -kEINVAL);
    EXPECT_EQ(rn(d, "x", root(), "a", kRenameExchange), -kEINVAL);
}

TEST_F(RenameTest, ChangesTimes) {
    TestHeap::now = 42;
    ASSERT_EQ(rn(a, "f", b, "h"), 0);
    EXPECT_EQ(a->mtime_ns, 42);
    EXPECT_EQ(b->mtime_ns, 42);
    EXPECT_EQ(f->ctime_ns, 42);
    TestHeap::now = 1'000'000'000'000'000'000ull;
}

TEST_F(RenameTest, PathLevelErrors) {
    EXPECT_EQ(rename_at(fs, ctx, root(), "/", root(), "x", 0), -kEBUSY);
    EXPECT_EQ(rename_at(fs, ctx, root(), "a", root(), "/", 0), -kEBUSY);
    EXPECT_EQ(rename_at(fs, ctx, root(), "a/f/", root(), "x", 0), -kENOTDIR);
    EXPECT_EQ(rename_at(fs, ctx, root(), "a/f", root(), "x/", 0), -kENOTDIR);
    EXPECT_EQ(rename_at(fs, ctx, root(), "b/empty/", root(), "moved/", 0), 0);
    EXPECT_EQ(get("moved"), e);
    EXPECT_EQ(rename_at(fs, ctx, root(), "nope/x", root(), "y", 0), -kENOENT);
    EXPECT_EQ(rename_at(fs, ctx, root(), "a/f", root(), "nope/y", 0), -kENOENT);
    ASSERT_EQ(rename_at(fs, ctx, root(), "/a/f", b, "../a/f3", 0), 0);
    EXPECT_EQ(get("a/f3"), f);
}

TEST_F(RenameTest, PathLevelPermissions) {
    ctx.cred = Cred{1000, 1000};
    EXPECT_EQ(rename_at(fs, ctx, root(), "a/f", root(), "a/f2", 0), -kEACCES);
    ctx.cred = Cred{};
    ASSERT_EQ(fs.chown(a, 1000, 1000), 0);
    ASSERT_EQ(fs.chown(b, 1000, 1000), 0);
    ctx.cred = Cred{1000, 1000};
    EXPECT_EQ(rename_at(fs, ctx, root(), "a/f", root(), "a/f2", 0), 0);
    // Moving a directory it cannot write to another parent: its ".." would change.
    EXPECT_EQ(rename_at(fs, ctx, root(), "b/empty", root(), "a/empty", 0), -kEACCES);
    EXPECT_EQ(rename_at(fs, ctx, root(), "b/empty", root(), "b/empty2", 0), 0);
}

}  // namespace
}  // namespace utx::minifs::testing
